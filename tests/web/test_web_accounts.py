"""The web client with an account: register from the connect form, log in from a second
browser with SASL, read markers and typing shared between the two.

Both pages belong to the account ``ann`` (the second one's nickname is taken
by the first, so it becomes ``ann_`` while registering and logs in to ``ann``
all the same). A netcat user, finn, talks in the rooms.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from selenium.webdriver.common.by import By

from tests.helpers import LineClient
from tests.web.browser_support import Page, WebServer

PASSWORD = "correct-horse-battery-staple"


def connect_with_form(page: Page, nick: str, mode: str) -> None:
    """Fill in the connect form as a person would, and press Connect."""
    page.open()
    page.driver.find_element(By.ID, "f-nick").send_keys(nick)
    page.driver.find_element(By.ID, "f-join").clear()
    page.driver.find_element(By.ID, "f-join").send_keys("#lobby,#side")
    page.driver.find_element(By.ID, "f-password").send_keys(PASSWORD)
    page.driver.find_element(By.CSS_SELECTOR, f"input[name=mode][value={mode}]").click()
    page.driver.find_element(By.ID, "f-connect").click()
    page.wait(lambda: page.current() == "#lobby", f"{nick} is not in #lobby")


@pytest.fixture(scope="module")
def first(make_page: Callable[[], Page]) -> Page:
    page = make_page()
    connect_with_form(page, "ann", "register")
    return page


@pytest.fixture(scope="module")
def second(make_page: Callable[[], Page], first: Page) -> Page:
    first.switch("")
    first.wait_line("You are now logged in as ann")
    first.switch("#lobby")
    page = make_page()
    connect_with_form(page, "ann", "login")
    return page


@pytest.fixture(scope="module")
def finn(web_server: WebServer, second: Page, sockets: list[LineClient]) -> LineClient:
    sockets.append(c := web_server.plain("finn"))
    c.send("/join #side")
    c.expect(r"Now talking in #side")
    return c


def test_registered_then_logged_in_elsewhere_with_sasl(
    first: Page, second: Page, web_server: WebServer
) -> None:
    second.switch("")
    second.wait_line("You are now logged in as ann")
    # The nickname the first page holds was taken: the second is ann_, in the same account.
    assert "connected as ann_" in second.status()
    whois = web_server.irc("watcher")
    whois.send("WHOIS ann_")
    whois.expect(r" 330 watcher ann_ ann :is logged in as")
    whois.close()
    second.switch("#lobby")


def test_read_markers_clear_unread_counts_on_the_other_device(
    first: Page, second: Page, finn: LineClient
) -> None:
    finn.send("news in the side room")
    for page in (first, second):
        page.wait(lambda p=page: p.unread("#side") == "1", "no unread count on #side")  # type: ignore[misc]
    first.switch("#side")
    first.wait_line("<finn> news in the side room")
    # The first page read it; the server tells the second (MARKREAD), which forgets the count.
    second.wait(lambda: second.unread("#side") == "", "the read marker did not reach it")
    first.switch("#lobby")


def test_typing_is_shown_to_the_others(first: Page, second: Page) -> None:
    first.input().send_keys("I am writing someth")
    second.wait(lambda: second.driver.find_element(By.ID, "typing").text == "ann is typing…", "")
    first.input().send_keys("ing\n")
    second.wait_line("<ann> I am writing something")
    second.wait(lambda: second.driver.find_element(By.ID, "typing").text == "", "still typing")


def test_a_reload_stays_logged_in_and_brings_back_private_conversations(
    first: Page, finn: LineClient
) -> None:
    finn.send("/msg ann a private word")
    first.wait(lambda: "finn" in first.buffer_names(), "no buffer for finn")
    first.driver.refresh()
    first.wait(lambda: first.current() == "#lobby", "ann is not back in #lobby")
    first.switch("")
    first.wait_line("You are now logged in as ann")
    # The conversation comes back from the account's history (CHATHISTORY TARGETS).
    first.wait(lambda: "finn" in first.buffer_names(), "the conversation with finn is gone")
    first.switch("finn")
    first.wait_line("<finn> a private word")


def test_a_nickname_that_cannot_be_goes_back_to_the_form(first: Page) -> None:
    first.open("?nick=9lives&join=%23lobby")
    error = first.wait(
        lambda: first.driver.find_element(By.ID, "connect-error").text, "no error on the form"
    )
    assert "9lives" in error or "nickname" in error.lower()
    assert first.driver.find_element(By.ID, "connect").is_displayed()
    assert first.driver.find_element(By.ID, "f-nick").get_attribute("value") == "9lives"
    assert first.driver.find_element(By.ID, "f-join").get_attribute("value") == "#lobby"


def test_a_wrong_password_goes_back_to_the_form(first: Page) -> None:
    first.open()
    first.driver.find_element(By.ID, "f-nick").send_keys("ann")
    first.driver.find_element(By.ID, "f-password").send_keys("not-the-password")
    first.driver.find_element(By.ID, "f-connect").click()
    error = first.wait(
        lambda: first.driver.find_element(By.ID, "connect-error").text, "no error on the form"
    )
    assert "SASL authentication failed" in error
    assert first.driver.find_element(By.ID, "connect").is_displayed()
    assert not first.driver.find_element(By.ID, "chat").is_displayed()
