"""Headless Chromium for the end-to-end tests: Debian's chromium driven by Playwright, the site served
from a local folder, and pages that record every console error and failed or remote request."""
from __future__ import annotations

import contextlib
import functools
import http.server
import os
import threading

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]



def require_chromium() -> None:
    """Skip browser tests on a machine without chromium, but never in CI, where .ci/run installs it."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve_folder(folder):
    """Serve a built site over HTTP on a free local port; yields its address."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()


@pytest.fixture(scope="session")
def server(sample_site):
    with serve_folder(sample_site) as address:
        yield address


@pytest.fixture(scope="session")
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


class Watched:
    """A page that records console errors and failed or non-local requests."""

    def __init__(self, browser, base: str, width: int, height: int):
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        # a lazy image still loading when the test moves on is cancelled (ERR_ABORTED): not a failure;
        # missing files show up as 404 responses below
        self.page.on("requestfailed", lambda r: r.failure != "net::ERR_ABORTED"
                     and self.problems.append(f"failed ({r.failure}): {r.url}"))
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(f"{r.status}: {r.url}"))
        self.page.on("request", lambda r: not r.url.startswith(base) and self.problems.append(f"remote: {r.url}"))

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, server):
    """Open a watched page at a screen size; when the test ends, no console error or failed request."""
    opened = []

    def open_page(width=360, height=640):
        watched = Watched(browser, server, width, height)
        opened.append(watched)
        return watched.page

    yield open_page
    for watched in opened:
        problems = watched.problems
        watched.close()
        assert problems == [], problems
