"""The web client's tests: a real server on a fixed port, real headless Chromium pages.

``WebServer`` runs the real server loop in a thread on one ``auto`` listener
(HTTP, WebSocket, IRC and netcat on the same port), with storage in an SQLite
file in a temporary directory, so history outlives a page reload and a server
restart; ``restart()`` stops it and starts a new one on the same port and
file. ``chromium()`` starts Debian's Chromium through its chromedriver,
named explicitly so that Selenium Manager downloads nothing; a missing
browser skips the tests locally and fails them under ``CI=true`` (.ci/run
installs both). ``Page`` is one browser user of the web client, with
bounded, polling waits for what the user would see.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from ircish.config import Config, ListenerConfig, StorageConfig
from ircish.net.server import Server
from tests.e2e.e2e_support import free_port
from tests.helpers import RunningServer, without_flood_control

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
#: How long a wait for something on the page may take (a browser is slower than a socket).
WAIT = 10.0

T = TypeVar("T")


def browser_programs() -> tuple[str, str]:
    """Chromium and chromedriver; skipped when missing, but a failure under ``CI=true``."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if missing:
        text = f"{' and '.join(missing)} not installed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(f"{text}; CI installs them in .ci/run, the browser tests need them")
        pytest.skip(text)
    return CHROMIUM, CHROMEDRIVER


class WebServer(RunningServer):
    """The real server on 127.0.0.1:``port``, history in ``dir/ircish.db``; restartable.

    A ``RunningServer`` (``plain()``, ``irc()``, ``stop()``) whose one listener keeps
    its port across ``restart()``, so the pages reconnect to the same address.
    """

    def __init__(self, config: Config | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="ircish-web-"))
        base = without_flood_control(config or Config())
        self.base = replace(base, storage=StorageConfig(path=str(self.dir / "ircish.db")))
        self.host = "127.0.0.1"
        # A port found free can be taken before the server binds it: try a few.
        for _attempt in range(5):
            self.port = free_port()
            try:
                self.start()
                return
            except OSError:
                continue
        raise AssertionError("no free port for the web server")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self) -> None:
        listener = ListenerConfig(host=self.host, port=self.port)
        self.config = replace(self.base, listeners=(listener,))
        self.server = Server(self.config)
        self.server.bind()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()


def chromium(user_data: Path, width: int = 1200, height: int = 800) -> webdriver.Chrome:
    """A headless Chromium with a fresh profile; nothing is downloaded."""
    binary, driver = browser_programs()
    options = Options()
    options.binary_location = binary
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        # Background tabs keep their timers (each user is its own browser anyway).
        "--disable-background-timer-throttling",
        f"--user-data-dir={user_data}",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(driver))


class Page:
    """One person using the web client in their own browser."""

    def __init__(self, driver: webdriver.Chrome, server: WebServer) -> None:
        self.driver = driver
        self.server = server

    # -- waiting ---------------------------------------------------------------------

    def wait(self, what: Callable[[], T | None], message: str, timeout: float = WAIT) -> T:
        """Poll ``what`` until it returns something truthy (bounded)."""

        def check(_: Any) -> T | None:
            try:
                return what()
            except StaleElementReferenceException:
                return None

        result = WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(
            check, message=message
        )
        assert result is not None  # until() returns only a truthy value
        return result

    # -- what the user sees ------------------------------------------------------------

    def open(self, query: str = "") -> None:
        self.driver.get(self.server.url + query)

    def lines(self) -> list[str]:
        """The text of each line of the buffer in view."""
        result = self.driver.execute_script(
            "return [...document.querySelectorAll('#messages .line')].map(e => e.textContent)"
        )
        assert isinstance(result, list)
        return [str(x) for x in result]

    def wait_line(self, text: str, timeout: float = WAIT) -> str:
        """The first line of the buffer in view that contains ``text``."""

        def found() -> str | None:
            return next((line for line in self.lines() if text in line), None)

        return self.wait(found, f"no line with {text!r} in {self.lines()!r}", timeout)

    def buffer_names(self) -> list[str]:
        result = self.driver.execute_script(
            "return [...document.querySelectorAll('#buffers .buffer')].map(e => e.dataset.name)"
        )
        return [str(x) for x in result]

    def badge(self, name: str) -> tuple[str, bool]:
        """A buffer's unread count ("" when none), and whether it counts mentions of you."""
        result = self.driver.execute_script(
            "const item = [...document.querySelectorAll('#buffers .buffer')]"
            ".find(e => e.dataset.name === arguments[0]);"
            "if (!item) return null;"
            "const badge = item.querySelector('.unread');"
            "if (!badge) return ['', false];"
            "return [badge.textContent, badge.classList.contains('highlighted')];",
            name,
        )
        assert result is not None, f"no buffer {name!r} in {self.buffer_names()!r}"
        return str(result[0]), bool(result[1])

    def unread(self, name: str) -> str:
        return self.badge(name)[0]

    def current(self) -> str:
        """The name of the buffer in view."""
        return str(self.driver.find_element(By.ID, "buffer-name").text)

    def topic(self) -> str:
        return str(self.driver.find_element(By.ID, "topic").text)

    def status(self) -> str:
        """The connection's state, under the buffer list."""
        return str(self.driver.find_element(By.ID, "status").text)

    def members(self) -> list[str]:
        result = self.driver.execute_script(
            "return [...document.querySelectorAll('#members .member .nick')]"
            ".map(e => e.textContent)"
        )
        return [str(x) for x in result]

    def wait_member(self, nick: str, timeout: float = WAIT) -> None:
        """Wait until ``nick`` is in the member list of the room in view."""
        self.wait(lambda: nick in self.members(), f"no {nick} in {self.members()!r}", timeout)

    def input(self) -> WebElement:
        return self.driver.find_element(By.ID, "input")

    # -- what the user does --------------------------------------------------------------

    def join_deep_link(self, nick: str, rooms: str = "#lobby") -> None:
        """Open ``/?nick=NICK&join=ROOMS`` and wait until the first room is in view."""
        self.open(f"?nick={nick}&join={rooms.replace('#', '%23')}")
        first = rooms.split(",", maxsplit=1)[0]
        self.wait(lambda: self.current() == first, f"{nick} is not in {first}")
        self.wait_member(nick)

    def type(self, text: str) -> None:
        """Type a line into the input and press Enter."""
        box = self.input()
        box.send_keys(text)
        box.send_keys(Keys.ENTER)

    def switch(self, name: str) -> None:
        """Click a buffer in the list (the list is redrawn as things change: retry)."""

        def click() -> bool:
            if self.current() == shown:
                return True
            for item in self.driver.find_elements(By.CSS_SELECTOR, "#buffers .buffer"):
                if item.get_attribute("data-name") == name:
                    item.find_element(By.TAG_NAME, "button").click()
                    break
            return self.current() == shown

        shown = name or str(
            self.driver.execute_script(
                "return document.querySelector('#buffers .buffer-server').textContent"
            )
        )
        self.wait(click, f"could not switch to {name!r} from {self.current()!r}")

    def console_errors(self) -> list[str]:
        """What the page logged at error level (a JavaScript exception, a refused script)."""
        return [
            str(entry["message"])
            for entry in self.driver.get_log("browser")  # type: ignore[no-untyped-call]
            if entry["level"] == "SEVERE"
        ]
