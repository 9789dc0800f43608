"""Benchmarks of the gallery runtime (not tests): `python -m benchmarks.latency`."""
