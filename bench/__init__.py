"""Benchmarks of accords against a raw Falcon app: ``python -m bench`` (see docs/benchmarks.md)."""
