"""Browser fixtures: the real app on a local port, and Debian's headless Chromium.

The server runs the "testing" config with CSRF turned on, against its own migrated database
(SQLite, or PostgreSQL when TEST_DATABASE_URL is set), so the browser exercises the same
forms, cookies and redirects a parent would. Chromium is Debian's (/usr/bin/chromium):
without it the tests are skipped, unless REQUIRE_BROWSER is set, in which case they fail.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.conftest import migrated_database_url
from tests.e2e.mail import OUTBOXES
from webapp import create_app

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
DESKTOP = {"width": 1280, "height": 900}


def _browser_required() -> bool:
    return os.environ.get("REQUIRE_BROWSER", "").strip().lower() in {"1", "true", "yes"}


def _unavailable(reason: str) -> None:
    if _browser_required():
        pytest.fail(f"REQUIRE_BROWSER is set but {reason}", pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True)
class LiveSite:
    base: str  # http://127.0.0.1:PORT
    database: str  # the site's own database URL (tests may write to it directly)
    secret: str  # the app's SECRET_KEY (to make signed links)


@contextmanager
def serve(root: Path) -> Iterator[LiveSite]:
    """The app on 127.0.0.1 at a free port, against a new migrated database under `root`.

    Modules that need to reach the database (staff accounts, signed links) start their own
    with this and override `live_server`; the rest share the session-wide one below.
    """
    url, drop = migrated_database_url(root)
    app = create_app("testing", DATABASE_URL=url, WTF_CSRF_ENABLED=True,
                     UPLOAD_DIR=root / "uploads", MAIL_OUTBOX_DIR=root / "outbox",
                     PASSWORD_HASH_FAST=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    OUTBOXES[f"http://127.0.0.1:{server.server_port}"] = root / "outbox"
    try:
        yield LiveSite(f"http://127.0.0.1:{server.server_port}", url, app.config["SECRET_KEY"])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        # Close pooled connections first: PostgreSQL cannot drop a database in use.
        bind = app.extensions["session_factory"].kw.get("bind")
        if bind is not None:
            bind.dispose()
        drop()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served on 127.0.0.1 at a free port; yields its base URL."""
    with serve(tmp_path_factory.mktemp("live")) as site:
        yield site.base


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole run (each test gets its own context)."""
    if not Path(CHROMIUM).exists():
        _unavailable(f"Chromium is missing at {CHROMIUM} "
                     "(apt-get install -y chromium chromium-driver)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        _unavailable(f"the playwright package is not installed: {error}")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as error:  # noqa: BLE001 - the reason is reported
        playwright.stop()
        _unavailable(f"Chromium at {CHROMIUM} did not start: {error}")
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture()
def server_errors() -> list[str]:
    """Every response with status >= 500 seen by this test's pages."""
    return []


@pytest.fixture()
def new_page(browser: Any, live_server: str, server_errors: list[str]
             ) -> Iterator[Callable[..., Any]]:
    """Open a page in a fresh context (own cookies); all are closed after the test."""
    contexts: list[Any] = []

    def open_page(width: int = DESKTOP["width"], height: int = DESKTOP["height"],
                  **options: Any) -> Any:
        context = browser.new_context(
            base_url=live_server, viewport={"width": width, "height": height},
            locale="en-US", accept_downloads=True, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("response", lambda r: server_errors.append(f"{r.status} {r.url}")
                if r.status >= 500 else None)
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture()
def page(new_page: Callable[..., Any]) -> Any:
    """A desktop-sized page (1280×900, English) in its own context."""
    return new_page()


def sign_in(page: Any, email: str, password: str) -> None:
    """Sign in through the login form of the page's live server, as a person would."""
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").last.click()
    assert not page.url.endswith("/login"), "sign-in failed"
