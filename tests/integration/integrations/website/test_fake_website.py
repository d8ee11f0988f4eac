"""The website fake answers like WordPress where the client depends on it: credentials,
what an anonymous caller may list, drafts found by slug, a create whose answer is lost."""

from __future__ import annotations

import httpx
import pytest

from orion.core.fakes.website import APP_PASSWORD, FakeWebsite

API = "/wp-json/wp/v2/"


@pytest.fixture
def site():
    with FakeWebsite() as server:
        yield server


def test_credentials(site):
    assert httpx.get(site.url + API + "users/me").status_code == 401
    wrong = httpx.get(site.url + API + "users/me", auth=("editor", "nope"))
    assert (wrong.status_code, wrong.json()["code"]) == (401, "incorrect_password")
    spaced = APP_PASSWORD.replace(" ", "")  # WordPress ignores the spaces
    assert httpx.get(site.url + API + "users/me", auth=("editor", spaced)).status_code == 200


def test_anonymous_callers_see_only_published_items(site):
    site.wp_seed("posts", title="Out", status="publish")
    draft = site.wp_seed("posts", title="Secret plan", status="draft")
    listed = httpx.get(site.url + API + "posts").json()
    assert [p["title"]["raw"] for p in listed] == ["Out"]
    assert httpx.get(site.url + API + "posts", params={"status": "draft"}).status_code == 400
    assert httpx.get(site.url + API + f"posts/{draft['id']}").status_code == 404


def test_create_then_find_by_slug(site):
    auth = ("editor", APP_PASSWORD)
    created = httpx.post(site.url + API + "posts", json={"title": "Hi", "slug": "hi-o1"}, auth=auth)
    assert created.status_code == 201
    assert created.json()["status"] == "draft"
    found = httpx.get(
        site.url + API + "posts", params={"slug": "hi-o1", "status": "any"}, auth=auth
    )
    assert [p["id"] for p in found.json()] == [created.json()["id"]]


def test_a_lost_answer_still_creates(site):
    site.crash_after_next_create()
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(site.url + API + "posts", json={"title": "Hi"}, auth=("editor", APP_PASSWORD))
    assert [p["title"]["raw"] for p in site.wp_items("posts")] == ["Hi"]


def test_modes(site):
    assert "Welcome to Acme Plumbing." in httpx.get(site.url + "/").text
    site.down()
    assert httpx.get(site.url + "/").status_code == 503
    site.keyword_missing()
    assert "Acme" not in httpx.get(site.url + "/").text
    site.redirect("http://10.0.0.1/")
    assert httpx.get(site.url + "/any").headers["location"] == "http://10.0.0.1/"
