"""Test infrastructure shared by pytest, cargo tests, the demo and benchmarks."""
