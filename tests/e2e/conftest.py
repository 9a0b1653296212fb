"""Browser tests: Playwright for Python (sync API) driving Debian's Chromium against the live
server. No browser is downloaded; if Chromium is missing the tests fail with a clear message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django must still allow its ORM
# calls from the test (https://github.com/microsoft/playwright-pytest/issues/29).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PASSWORD = "correct-horse-battery"  # the personas' password (tests/conftest.py)


@pytest.fixture(autouse=True)
def seeded_products(transactional_db):
    """The products the seed migration adds. Transactional tests flush every table afterwards,
    so each browser test puts them back (the migration's own function, idempotent)."""
    import importlib

    from django.apps import apps

    importlib.import_module("infusions.migrations.0002_seed_products").seed(apps, None)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. Install Debian's browser with "
            "`apt-get install -y chromium chromium-driver` (CI does), or set CHROMIUM_PATH. "
            "The e2e tests never download a browser.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Watched:
    """A page plus every console error, uncaught exception and CSP violation it produced."""

    def __init__(self, page, name: str):
        self.page = page
        self.name = name
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"pageerror: {error}"))

    def _console(self, message) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            self.problems.append(f"console {message.type}: {message.text}")

    def screenshot(self, name: str, *, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
def open_page(browser, live_server):
    """open_page(name, width, height) -> Watched page in a fresh context; asserts at teardown
    that no page logged a console error or a CSP violation."""
    contexts = []
    watched: list[Watched] = []

    def open_(name: str, width: int = 1280, height: int = 900) -> Watched:
        context = browser.new_context(viewport={"width": width, "height": height}, base_url=live_server.url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = Watched(context.new_page(), name)
        watched.append(page)
        return page

    yield open_
    for context in contexts:
        context.close()
    problems = [f"{w.name}: {p}" for w in watched for p in w.problems]
    assert not problems, "console errors or CSP violations:\n" + "\n".join(problems)


def log_in(watched: Watched, username: str, password: str = PASSWORD) -> None:
    """Through the real login form."""
    page = watched.page
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")
