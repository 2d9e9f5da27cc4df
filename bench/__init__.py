"""Benchmarks: synthetic posts, sync and start-up times, pages under wrk against a floor."""
