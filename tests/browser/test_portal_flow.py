"""The customer's first minutes, in a real browser (Debian's chromium driven by Playwright)
against a live server started by the test, with the sandbox model server behind it and the
dispatcher and heartbeats running in a thread like a worker: sign up → confirm the email →
starter team → "run now" → the progress says finished → the run page shows the answer and
its attempts. Screenshots of the main pages (desktop and phone width) go to var/screenshots/.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from agents.management.commands.orion_demo_team import sandbox_chain_ensure
from orion.core.rows import independent_close
from orion.sandbox import SandboxServer
from tests.integration.control_plane.conftest import Runner

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
PASSWORD = "Brea-d-Crumbs-2026"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def browser(monkeypatch) -> Iterator[object]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("chromium not found on PATH (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls
    # are synchronous and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def sandbox(db) -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        chain = sandbox_chain_ensure(base_url=server.base_url)
        chain.is_default = True
        chain.save()
        yield server


@pytest.fixture
def worker(sandbox) -> Iterator[None]:
    """The dispatcher tick and the heartbeats, in a thread, as a worker and beat would."""
    if connection.vendor == "sqlite":
        pytest.skip(
            "needs PostgreSQL (DATABASE_URL): on the in-memory shared-cache SQLite test "
            "database the worker thread, the live server and the model-call ledger collide "
            "on table locks ('database table is locked')"
        )
    stop = threading.Event()

    errors: list[str] = []

    def loop() -> None:
        runner = Runner()
        try:
            while not stop.wait(0.3):
                try:
                    runner.tick()
                except Exception as exc:  # a worker carries on; the test fails at the end
                    errors.append(repr(exc))
        finally:
            independent_close()  # the model-call ledger's own connection
            connection.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=60)  # a heartbeat in flight finishes (its backoffs included)
    assert not thread.is_alive(), "the worker thread did not stop"
    assert errors == [], f"the worker's ticks failed: {errors}"


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_sign_up_starter_team_run_now_and_see_the_run(
    live_server, browser, worker, mailoutbox, monkeypatch
):
    from orion.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)  # the Delivery path's send task
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20_000)
    base = live_server.url

    page.goto(f"{base}/accounts/signup/")
    page.fill("input[name=email]", "founder@bakery.test")
    page.fill("input[name=company_name]", "Crumb Bakery")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    (mail,) = mailoutbox
    confirm = re.search(r"/accounts/confirm-email/[^/\s]+/", mail.body).group(0)
    page.goto(base + confirm)
    page.click("form button[type=submit]")
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", "founder@bakery.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{base}/")
    _shot(page, "dashboard-empty")

    page.click("a:has-text('Pick a starter team')")
    page.fill("textarea[name=mission]", "Bread people cross town for.")
    page.click("button:has-text('Create my team')")
    page.wait_for_selector("text=Your team is ready")
    _shot(page, "agents")

    page.click("ul.tree >> text=Cora")
    page.click("button:has-text('Run now')")
    page.wait_for_selector("#progress")
    page.wait_for_selector("#progress:has-text('Finished')", timeout=60_000)
    _shot(page, "agent")
    page.click("#progress >> text=See the run")
    page.wait_for_selector("h2:has-text('Model calls and their attempts')")
    run_page = page.content()
    assert "Answer" in run_page
    assert "sandbox-key-1" in run_page or "sandbox-key-2" in run_page
    assert "sandbox/sandbox-" in run_page
    _shot(page, "run")

    for path, name in (("/", "dashboard"), ("/tasks/", "board"), ("/goals/", "goals")):
        page.goto(base + path)
        _shot(page, name)
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.context.add_cookies(page.context.cookies())
    for path, name in (("/", "dashboard-phone"), ("/tasks/", "board-phone")):
        phone.goto(base + path)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"{path} scrolls sideways at phone width ({width}px)"
        _shot(phone, name)
