"""Benchmarks: `make bench` runs them all, `make bench NAME=<name>` one (see harness.py)."""
