"""Fixtures of the browser tests: one server and two browsers per test module."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import LineClient
from tests.web.browser_support import Page, WebServer, chromium

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every test in this directory drives a real browser (``-m 'not browser'`` leaves them out).
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def web_server() -> Iterator[WebServer]:
    server = WebServer()
    yield server
    server.stop()
    shutil.rmtree(server.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def pages() -> list[Page]:
    """The browsers the module opened (``make_page``)."""
    return []


@pytest.fixture(scope="module")
def make_page(web_server: WebServer, pages: list[Page]) -> Iterator[Callable[[], Page]]:
    """Open browsers (each its own profile), closed when the module is done."""
    profiles: list[Path] = []

    def start() -> Page:
        profile = Path(tempfile.mkdtemp(prefix="ircish-chromium-"))
        profiles.append(profile)
        page = Page(chromium(profile), web_server)
        pages.append(page)
        return page

    yield start
    for page in pages:
        page.driver.quit()
    for profile in profiles:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def sockets() -> Iterator[list[LineClient]]:
    """Netcat and IRC users of the module: append them here to close them at its end."""
    opened: list[LineClient] = []
    yield opened
    for c in opened:
        c.close()


@pytest.fixture(autouse=True)
def no_errors_in_pages(pages: list[Page]) -> Iterator[None]:
    """After each test, no page logged an error (a script exception, a CSP refusal, a 404).

    A WebSocket that cannot connect while the server is down is the one error expected.
    """
    yield
    for page in pages:
        errors = [e for e in page.console_errors() if "WebSocket connection to" not in e]
        assert errors == [], errors
