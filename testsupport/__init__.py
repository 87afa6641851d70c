"""Helpers shared by the test suites, the benchmark and the soak run (not shipped in images)."""
