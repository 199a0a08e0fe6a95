"""Django project used by the test suite, the demo and the benchmarks."""
