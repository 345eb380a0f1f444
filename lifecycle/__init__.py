"""The OGP Local lifecycle domain: machines, records, use cases, persistence, audit and CLI."""
