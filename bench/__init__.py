"""Benchmarks at clinic-network scale (DESIGN §11). Not tests: nothing here asserts a time."""
