"""Status letters: rendering (R7.1, R7.2), delivery and transport (R7.3)."""
