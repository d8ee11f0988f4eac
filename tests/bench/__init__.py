"""Benchmarks: `make bench` runs them all, `make bench NAME=<name>` one (see harness.py)."""

import os

# Before anything imports `orion` (whose Celery app would default to the production settings).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orion.settings_test")
