"""`make run PORT=…`: the links in emails reach the server that sent them."""

from __future__ import annotations

from orion.run import site_url


def test_the_site_url_carries_the_served_port(monkeypatch):
    monkeypatch.delenv("SITE_URL", raising=False)
    assert site_url("127.0.0.1", 8055) == "http://127.0.0.1:8055"


def test_a_configured_site_url_wins(monkeypatch):
    monkeypatch.setenv("SITE_URL", "https://orion.example")
    assert site_url("127.0.0.1", 8055) == "https://orion.example"
