"""Benchmarks that print their figures as JSON (see bench/README.md)."""
