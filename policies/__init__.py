"""The OGP Local rulebook as code: pure functions and frozen data, no I/O, no clock reads."""
