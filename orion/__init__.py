"""Orion: settings, urls, the Celery app and the platform-wide floors (core, reliability)."""

from orion.celery import app as celery_app

__all__ = ["celery_app"]
