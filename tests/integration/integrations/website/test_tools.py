"""The agents' website tools against the website fake: reading pages through the guard,
WordPress reads, and drafts and updates that happen once per tool call, across crashes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection as db
from django.db import transaction
from django.utils import timezone

from agents.models import Agent, Run
from agents.tools import ToolContext, ToolError, tool_get
from agents.tools.website import NO_WORDPRESS, NOT_CONNECTED, draft_slug
from integrations.models import ActionStatus, Connection, ConnectionStatus, ExternalAction
from integrations.services.actions import action_begin, action_finish
from integrations.website.services import website_connect
from integrations.website.wordpress import WordPressClient
from orion.core.fakes.server import Reply
from orion.core.fakes.website import APP_PASSWORD, FakeWebsite
from tenants.scope import tenant_scope

# The action rows commit on their own connection: the test's rows must be committed too.
pytestmark = pytest.mark.django_db(transaction=True)
KEY = "run7:step2:0"


@pytest.fixture
def site():
    with FakeWebsite(keyword="Acme Plumbing") as server:
        yield server


@pytest.fixture
def ctx(cast):
    with tenant_scope(cast.tenant):
        agent = Agent.objects.create(name="Wes", role="website")
        run = Run.objects.create(agent=agent)
        yield ToolContext(agent=agent, run=run, task=None, call_key=KEY)


@pytest.fixture
def connected(cast, site):
    return website_connect(
        tenant_id=cast.tenant.pk, url=site.url, wp_user="editor", wp_app_password=APP_PASSWORD
    )


def call(name: str, ctx: ToolContext, **args) -> object:
    tool = tool_get(name)
    return json.loads(tool.handler(ctx, tool.check(args)))


def _posts_created(site) -> int:
    return sum(1 for r in site.requests if r.method == "POST" and r.path.endswith("/posts"))


def _action(cast, verb: str = "draft") -> ExternalAction:
    return ExternalAction.objects.unscoped().get(tenant=cast.tenant, key=f"wordpress.{verb}:{KEY}")


# -- reading ----------------------------------------------------------------------------------


def test_read_page_gives_the_text_without_scripts(ctx, site, connected):
    page = call("website_read_page", ctx, path="/")
    assert page["status"] == 200
    assert page["title"] == "Home"
    assert "Welcome to Acme Plumbing." in page["text"]
    assert "We fix leaks & boilers, 24/7." in page["text"]
    assert "tracking" not in page["text"]


def test_read_page_only_reads_the_tenants_site(ctx, connected):
    with pytest.raises(ToolError, match="Only pages of"):
        call("website_read_page", ctx, path="https://elsewhere.example/")


def test_read_page_refuses_a_redirect_into_a_private_address(ctx, site, connected):
    site.redirect("http://10.0.0.1/")
    with pytest.raises(ToolError, match="refused"):
        call("website_read_page", ctx, path="/")


def test_read_page_without_a_website(ctx):
    with pytest.raises(ToolError) as refused:
        call("website_read_page", ctx, path="/")
    assert str(refused.value) == NOT_CONNECTED


def test_read_page_with_a_malformed_address_is_a_tool_error(ctx, connected):
    with pytest.raises(ToolError, match="Only pages of"):
        call("website_read_page", ctx, path="http://[oops/")


@pytest.mark.parametrize("answer", [{"code": "not_a_list"}, ["not an object"]])
def test_an_answer_wordpress_never_gives_is_a_tool_error(ctx, site, connected, answer):
    """The tenant's site may answer anything: the agent reads an error, the run goes on."""
    site.script("GET", "/wp-json/wp/v2/posts", Reply(json=answer))
    with pytest.raises(ToolError, match="not what WordPress sends"):
        call("wordpress_list", ctx)


def test_a_plain_string_title_is_read_as_is(ctx, site, connected):
    site.script("GET", "/wp-json/wp/v2/posts", Reply(json=[{"id": 1, "title": "Plain"}]))
    assert call("wordpress_list", ctx)[0]["title"] == "Plain"


def test_a_single_item_that_is_not_an_object_is_a_tool_error(ctx, site, connected):
    site.script("GET", "/wp-json/wp/v2/posts/7", Reply(json=["odd"]))
    with pytest.raises(ToolError, match="not what WordPress sends"):
        call("wordpress_read", ctx, id=7)


def test_list_and_read_posts(ctx, site, connected):
    hello = site.wp_seed("posts", title="Hello", content="<p>Spring offers</p>")
    site.wp_seed("posts", title="Draft idea", status="draft")
    listed = call("wordpress_list", ctx)
    assert [p["title"] for p in listed] == ["Draft idea", "Hello"]
    assert call("wordpress_list", ctx, status="publish", search="hello")[0]["id"] == hello["id"]
    post = call("wordpress_read", ctx, id=hello["id"])
    assert post["content"] == "<p>Spring offers</p>"


def test_wordpress_tools_need_credentials(ctx, cast, site):
    website_connect(tenant_id=cast.tenant.pk, url=site.url)
    with pytest.raises(ToolError) as refused:
        call("wordpress_list", ctx)
    assert str(refused.value) == NO_WORDPRESS


def test_wrong_credentials_are_a_clear_error_and_ask_for_a_reconnect(ctx, cast, site, connected):
    site.app_password = "rotated by the customer"
    with pytest.raises(ToolError, match="new application password"):
        call("wordpress_draft", ctx, title="Spring sale")
    assert site.wp_items("posts") == []
    assert _action(cast).status == ActionStatus.FAILED
    connection = Connection.objects.unscoped().get(tenant=cast.tenant, kind="website")
    assert connection.status == ConnectionStatus.NEEDS_RECONNECT


def test_wrong_credentials_stay_recorded_when_the_loop_rolls_the_tool_back(
    ctx, cast, site, connected
):
    """The agent loop runs a tool in a transaction that a ToolError rolls back: the
    needs-reconnect status must be written on its own connection to survive that."""
    if db.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): an independent, durable connection")
    site.app_password = "rotated by the customer"
    with pytest.raises(ToolError, match="new application password"), transaction.atomic():
        call("wordpress_list", ctx)
    connection = Connection.objects.unscoped().get(tenant=cast.tenant, kind="website")
    assert connection.status == ConnectionStatus.NEEDS_RECONNECT
    assert "did not accept" in connection.last_error


def test_an_address_that_became_private_is_refused(ctx, cast, connected):
    Connection.objects.unscoped().filter(pk=connected.pk).update(
        config={**connected.config, "url": "http://10.0.0.1"}
    )
    with pytest.raises(ToolError, match="refused"):
        call("wordpress_list", ctx)


# -- drafting once ----------------------------------------------------------------------------


def test_draft_creates_one_draft_and_a_rerun_sends_nothing(ctx, cast, site, connected):
    first = call("wordpress_draft", ctx, title="Spring sale", content="<p>20% off</p>")
    assert first["status"] == "draft"
    assert first["slug"] == draft_slug(f"wordpress.draft:{KEY}", "Spring sale")
    again = call("wordpress_draft", ctx, title="Spring sale", content="<p>20% off</p>")
    assert again["id"] == first["id"]
    assert len(site.wp_items("posts")) == 1
    assert _posts_created(site) == 1
    assert _action(cast).status == ActionStatus.DONE


def test_rerun_after_a_crash_once_the_draft_landed_creates_nothing(ctx, cast, site, connected):
    """The crashed run committed its action row and its request reached WordPress; the
    worker died before it could record the answer."""
    key = f"wordpress.draft:{KEY}"
    action_begin(tenant_id=cast.tenant.pk, key=key, kind="wordpress.draft")
    with WordPressClient(base_url=site.url, user="editor", app_password=APP_PASSWORD) as wp:
        landed = wp.create(
            "posts",
            {"title": "Spring sale", "status": "draft", "slug": draft_slug(key, "Spring sale")},
        )
    site.clear()
    result = call("wordpress_draft", ctx, title="Spring sale")
    assert result["id"] == landed["id"]
    assert len(site.wp_items("posts")) == 1
    assert _posts_created(site) == 0
    assert _action(cast).status == ActionStatus.DONE
    assert _action(cast).result["id"] == landed["id"]


def test_rerun_after_a_crash_before_the_request_left_creates_one(ctx, cast, site, connected):
    action, _ = action_begin(
        tenant_id=cast.tenant.pk, key=f"wordpress.draft:{KEY}", kind="wordpress.draft"
    )
    ExternalAction.objects.unscoped().filter(pk=action.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    result = call("wordpress_draft", ctx, title="Spring sale")
    assert len(site.wp_items("posts")) == 1
    assert site.wp_items("posts")[0]["id"] == result["id"]
    assert _action(cast).status == ActionStatus.DONE


def test_a_fresh_started_action_is_not_drafted_again_yet(ctx, cast, site, connected):
    """A started row younger than the request deadline may still have its request in
    flight: the re-run asks WordPress, finds nothing yet, and waits instead of drafting."""
    action_begin(tenant_id=cast.tenant.pk, key=f"wordpress.draft:{KEY}", kind="wordpress.draft")
    with pytest.raises(ToolError, match="still be under way"):
        call("wordpress_draft", ctx, title="Spring sale")
    assert site.wp_items("posts") == []
    assert _posts_created(site) == 0
    assert _action(cast).status == ActionStatus.STARTED


def test_a_dropped_answer_is_resolved_by_asking_wordpress(ctx, cast, site, connected):
    site.crash_after_next_create()
    result = call("wordpress_draft", ctx, title="Spring sale")
    assert len(site.wp_items("posts")) == 1
    assert result["id"] == site.wp_items("posts")[0]["id"]
    assert _action(cast).status == ActionStatus.DONE


def test_no_answer_at_all_is_unknown_and_the_rerun_checks_first(ctx, cast, site, connected):
    site.crash_after_next_create(then_drop=1)  # the create lands; the check after it is lost
    with pytest.raises(ToolError, match="not known whether the draft was saved"):
        call("wordpress_draft", ctx, title="Spring sale")
    assert _action(cast).status == ActionStatus.UNKNOWN
    site.clear()
    result = call("wordpress_draft", ctx, title="Spring sale")
    assert len(site.wp_items("posts")) == 1
    assert result["id"] == site.wp_items("posts")[0]["id"]
    assert _posts_created(site) == 0
    assert _action(cast).status == ActionStatus.DONE


def test_an_unknown_draft_not_found_waits_then_drafts_once(ctx, cast, site, connected):
    """The last try got no answer and WordPress shows nothing: while that request could
    still land, the re-run waits; after the settle time it drafts, once."""
    action, _ = action_begin(
        tenant_id=cast.tenant.pk, key=f"wordpress.draft:{KEY}", kind="wordpress.draft"
    )
    action_finish(action_id=action.pk, status=ActionStatus.UNKNOWN, error="no answer")
    with pytest.raises(ToolError, match="still be under way"):
        call("wordpress_draft", ctx, title="Spring sale")
    ExternalAction.objects.unscoped().filter(pk=action.pk).update(
        finished_at=timezone.now() - timedelta(minutes=5)
    )
    call("wordpress_draft", ctx, title="Spring sale")
    call("wordpress_draft", ctx, title="Spring sale")
    assert len(site.wp_items("posts")) == 1
    assert _posts_created(site) == 1


# -- updating once ----------------------------------------------------------------------------


def test_update_sets_the_fields_once(ctx, cast, site, connected):
    post = site.wp_seed("posts", title="Hello", content="old")
    result = call("wordpress_update", ctx, id=post["id"], title="Hello again", content="new")
    assert result["title"] == "Hello again"
    assert site.wp_items("posts")[0]["content"]["raw"] == "new"
    site.clear()
    call("wordpress_update", ctx, id=post["id"], title="Hello again", content="new")
    assert site.requests == []
    assert _action(cast, "update").status == ActionStatus.DONE


def test_update_of_a_missing_post_is_a_clear_error(ctx, cast, connected):
    with pytest.raises(ToolError, match="Invalid post ID"):
        call("wordpress_update", ctx, id=999, title="x")
    assert _action(cast, "update").status == ActionStatus.FAILED


def test_a_write_without_a_call_key_is_not_sent(ctx, site, connected):
    from dataclasses import replace

    site.clear()
    with pytest.raises(ToolError, match="no idempotency key"):
        call("wordpress_draft", replace(ctx, call_key=""), title="Spring sale")
    assert site.requests == []
    assert ExternalAction.objects.unscoped().count() == 0
