"""Benchmarks: `python -m bench` (or `make bench`) runs them, prints a table, writes docs/benchmarks.md."""
