"""Benchmarks at clinic-network scale (bench/README.md). Not tests: nothing here asserts a time."""
