"""The bundled web client in a real headless Chromium, against the real server.

Two browser users (alice, bob), a netcat user (carol) and a raw IRC client
(dave) share #lobby on one port. The tests run in order on one server and
one browser each (starting browsers is what costs time), and each asserts
what its people see on their page or their socket.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from ircish.client import commands as client_commands
from ircish.client.commands import CLIENT_COMMANDS, LANGUAGE
from ircish.protocol.slash import COMMANDS, Context, Irc, Local, SlashError
from tests.helpers import LineClient
from tests.web.browser_support import Page, WebServer


@pytest.fixture(scope="module")
def alice(make_page: Callable[[], Page]) -> Page:
    page = make_page()
    page.join_deep_link("alice", "#lobby")
    return page


@pytest.fixture(scope="module")
def bob(make_page: Callable[[], Page], alice: Page) -> Page:
    page = make_page()
    page.join_deep_link("bob", "#lobby")
    alice.wait_member("bob")
    return page


@pytest.fixture(scope="module")
def carol(web_server: WebServer, bob: Page, sockets: list[LineClient]) -> LineClient:
    """A netcat user (the server's default room is #lobby)."""
    sockets.append(c := web_server.plain("carol"))
    return c


@pytest.fixture(scope="module")
def dave(web_server: WebServer, carol: LineClient, sockets: list[LineClient]) -> LineClient:
    """An IRC client that speaks raw IRC."""
    sockets.append(c := web_server.irc("dave"))
    c.send("JOIN #lobby")
    c.expect(r" 366 dave #lobby ")
    return c


@pytest.fixture
def everyone(alice: Page, bob: Page, carol: LineClient, dave: LineClient) -> None:
    alice.wait(lambda: {"carol", "dave"} <= set(alice.members()), "alice misses carol or dave")


def test_deep_link_joins_and_focuses_the_input(alice: Page) -> None:
    assert alice.current() == "#lobby"
    focused = alice.driver.execute_script("return document.activeElement.id")
    assert focused == "input"
    assert "alice" in alice.members()
    assert alice.driver.title == "ircish"
    # Nothing failed on the way: no script error, nothing the page's CSP refused, no 404.
    assert alice.console_errors() == []


@pytest.mark.usefixtures("everyone")
def test_messages_reach_browsers_netcat_and_irc(
    alice: Page, bob: Page, carol: LineClient, dave: LineClient
) -> None:
    alice.type("good morning from the browser")
    assert "<alice> good morning from the browser" in bob.wait_line("good morning")
    carol.expect(r"<alice> good morning from the browser")
    dave.expect(r":alice!\S+ PRIVMSG #lobby :good morning from the browser$")
    # alice's own line is shown once (echo-message), as the others see it.
    alice.wait_line("<alice> good morning from the browser")
    assert sum("good morning from the browser" in line for line in alice.lines()) == 1

    carol.send("hello from netcat")
    dave.send("PRIVMSG #lobby :hello from irc")
    for page in (alice, bob):
        page.wait_line("<carol> hello from netcat")
        page.wait_line("<dave> hello from irc")

    bob.type("/me waves")
    alice.wait_line("* bob waves")
    carol.expect(r"\* bob waves")
    dave.expect(":bob!\\S+ PRIVMSG #lobby :\x01ACTION waves\x01")


@pytest.mark.usefixtures("everyone")
def test_private_messages(alice: Page, bob: Page, carol: LineClient) -> None:
    alice.type("/msg bob psst, bob")
    bob.wait(lambda: "alice" in bob.buffer_names(), "bob has no buffer for alice")
    # A private message is for you: its count is a highlighted one.
    assert bob.badge("alice") == ("1", True)
    bob.switch("alice")
    bob.wait_line("<alice> psst, bob")
    assert bob.unread("alice") == ""
    bob.type("hi alice, privately")
    alice.wait(lambda: "bob" in alice.buffer_names(), "alice has no buffer for bob")
    alice.switch("bob")
    alice.wait_line("<alice> psst, bob")
    alice.wait_line("<bob> hi alice, privately")

    carol.send("/msg alice a word from netcat")
    alice.wait(lambda: "carol" in alice.buffer_names(), "alice has no buffer for carol")
    alice.switch("carol")
    alice.wait_line("<carol> a word from netcat")
    alice.type("got it, carol")
    carol.expect(r"alice.*got it, carol")
    alice.switch("#lobby")
    bob.switch("#lobby")


@pytest.mark.usefixtures("everyone")
def test_unread_and_highlight_counts_of_a_room_not_in_view(
    alice: Page, bob: Page, dave: LineClient
) -> None:
    bob.type("/join #side")
    bob.wait(lambda: bob.current() == "#side", "bob did not switch to #side")
    bob.switch("#lobby")
    dave.send("JOIN #side")
    dave.expect(r" 366 dave #side ")
    dave.send("PRIVMSG #side :one")
    dave.send("PRIVMSG #side :two")
    bob.wait(lambda: bob.badge("#side") == ("2", False), "bob's #side does not say 2 unread")
    dave.send("PRIVMSG #side :bob: are you there?")
    bob.wait(lambda: bob.badge("#side") == ("3", True), "bob's #side does not say 3, for him")
    bob.switch("#side")
    # "New messages" above the first of the three.
    after_divider = bob.driver.execute_script(
        "return document.querySelector('#messages .divider.new').nextElementSibling.textContent"
    )
    assert str(after_divider).endswith("<dave> one")
    highlighted = bob.driver.find_elements(By.CSS_SELECTOR, "#messages .line.highlight")
    assert [e.text for e in highlighted][-1].endswith("<dave> bob: are you there?")
    assert bob.unread("#side") == ""
    bob.switch("#lobby")


def assert_no_injection(page: Page) -> None:
    """Nothing others wrote became an element, a script, a handler or a dialog."""
    made = page.driver.execute_script(
        "return document.querySelectorAll("
        "'#messages img, #messages script, #messages iframe, #messages b, #topic img, "
        "#topic b, #members img, [onerror], [onclick], [onmouseover]').length"
    )
    assert made == 0
    hrefs = page.driver.execute_script(
        "return [...document.querySelectorAll('a')].map(a => a.getAttribute('href'))"
    )
    assert all(re.match(r"https?://", str(h)) for h in hrefs), hrefs
    assert page.driver.execute_script("return window.pwned") is None
    with pytest.raises(NoAlertPresentException):
        page.driver.switch_to.alert.text  # noqa: B018
    assert not [e for e in page.console_errors() if "Content Security Policy" in e]


@pytest.mark.usefixtures("everyone")
def test_html_and_script_from_others_stay_text(
    alice: Page, bob: Page, carol: LineClient, dave: LineClient
) -> None:
    payloads = [
        '<img src=x onerror="window.pwned=1;alert(1)">',
        "<script>window.pwned=2;alert(2)</script>",
        "javascript:alert(3)",
        '<a href="javascript:window.pwned=4">click</a>',
        "<b onclick=alert(5)>bold?</b>",
        'https://example.org/x"onmouseover="window.pwned=6',
    ]
    for text in payloads:
        dave.send(f"PRIVMSG #lobby :{text}")
    carol.send("<iframe src=javascript:alert(7)></iframe>")
    for page in (alice, bob):
        for text in payloads:
            page.wait_line(text)
        page.wait_line("<iframe src=javascript:alert(7)></iframe>")
        assert_no_injection(page)
    # A topic too (dave opens #evil, so he may set it).
    dave.send("JOIN #evil")
    dave.send("TOPIC #evil :<img src=x onerror=alert(8)> topic")
    dave.expect(r" TOPIC #evil :")
    alice.type("/join #evil")
    alice.wait(
        lambda: alice.topic() == "<img src=x onerror=alert(8)> topic",
        "the topic is not shown as text",
    )
    assert_no_injection(alice)
    alice.switch("#lobby")
    # The one real URL became a link, and only up to where a URL may go.
    links = alice.driver.find_elements(By.CSS_SELECTOR, "#messages a")
    assert [a.get_attribute("href") for a in links] == ["https://example.org/x"]
    assert links[0].get_attribute("rel") == "noopener noreferrer"


@pytest.mark.usefixtures("everyone")
def test_formatting_is_rendered_or_dropped(alice: Page, dave: LineClient) -> None:
    dave.send("PRIVMSG #lobby :\x02bold\x02 \x0304,01red\x03 plain \x1b[31mansi \x16rev\x0f end")
    row = alice.wait_line("bold red plain")
    assert row.endswith("<dave> bold red plain [31mansi rev end")
    bold = alice.driver.find_elements(By.CSS_SELECTOR, "#messages .f-bold")
    assert [b.text for b in bold][-1] == "bold"
    red = alice.driver.find_elements(By.CSS_SELECTOR, "#messages .f-fg4.f-bg1")
    assert [r.text for r in red][-1] == "red"


@pytest.mark.usefixtures("everyone")
def test_slash_commands_tab_completion_and_input_history(alice: Page) -> None:
    alice.type("/jion #x")
    alice.wait_line(
        "! Unknown command /jion (did you mean /join?). Type /help for the list of commands."
    )
    alice.type("/msg")
    alice.wait_line("Usage: /msg NICK|#room TEXT")
    box = alice.input()
    box.send_keys("da", Keys.TAB)
    assert box.get_attribute("value") == "dave: "
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(Keys.ARROW_UP)
    assert box.get_attribute("value") == "/msg"
    box.send_keys(Keys.ARROW_UP)
    assert box.get_attribute("value") == "/jion #x"
    box.send_keys(Keys.ARROW_DOWN, Keys.ARROW_DOWN)
    assert box.get_attribute("value") == ""
    alice.type("/topic")
    alice.wait_line("#lobby: No topic is set")
    # The answer to a command shows where it was typed (labeled-response).
    alice.type("/whois dave")
    alice.wait_line("dave is ~dave@localhost (dave)")
    alice.wait_line("dave is in #lobby")


def away_members(page: Page) -> list[str]:
    result = page.driver.execute_script(
        "return [...document.querySelectorAll('#members .member.away .nick')]"
        ".map(e => e.textContent)"
    )
    return [str(x) for x in result]


@pytest.mark.usefixtures("everyone")
def test_away_members_are_dimmed(alice: Page, dave: LineClient) -> None:
    dave.send("AWAY :lunch")
    alice.wait(lambda: away_members(alice) == ["dave"], "dave is not shown away")
    dave.send("AWAY")
    alice.wait(lambda: away_members(alice) == [], "dave is still shown away")


def sidebar_shown(page: Page) -> bool:
    """Whether the buffer list is on screen (on a phone it slides in and out)."""
    right = page.driver.execute_script(
        "return document.getElementById('sidebar').getBoundingClientRect().right"
    )
    return float(right) > 0


@pytest.mark.usefixtures("everyone")
def test_on_a_phone_the_lists_slide_in(alice: Page) -> None:
    size = alice.driver.get_window_size()
    alice.driver.set_window_size(420, 800)
    try:
        alice.wait(lambda: not sidebar_shown(alice), "the buffer list still takes room")
        alice.driver.find_element(By.ID, "toggle-sidebar").click()
        alice.wait(lambda: sidebar_shown(alice), "the buffer list did not slide in")
        alice.switch("bob")
        alice.wait(lambda: not sidebar_shown(alice), "choosing a buffer did not close the list")
        alice.driver.find_element(By.ID, "toggle-sidebar").click()
        alice.wait(lambda: sidebar_shown(alice), "the buffer list did not slide in")
        alice.switch("#lobby")
        alice.driver.find_element(By.ID, "toggle-members").click()
        alice.wait(lambda: "dave" in alice.driver.find_element(By.ID, "members").text, "")
    finally:
        alice.driver.set_window_size(size["width"], size["height"])
    alice.wait(lambda: sidebar_shown(alice), "the desktop layout did not come back")


def test_the_slash_table_is_the_terminal_clients(alice: Page) -> None:
    """commands.js says what ircish/protocol/slash.py and client/commands.py say."""
    rows: Any = alice.driver.execute_async_script(
        "const done = arguments[0];"
        "import('/commands.js').then(m => done(Object.entries(m.COMMANDS).map("
        "([name, c]) => [name, c.usage, c.summary, c.aliases, m.summary(name)])));"
    )
    assert rows, "commands.js has no commands"
    tables = {**COMMANDS, **CLIENT_COMMANDS}
    for name, usage, summary, aliases, shown in rows:
        python = tables[name]
        assert (usage, summary, tuple(aliases)) == (python.usage, python.summary, python.aliases)
        assert shown == LANGUAGE.summary(name)
    # In the Python table's order, so /help lists them the same way.
    order = [name for name in LANGUAGE.commands if name in {r[0] for r in rows}]
    assert [r[0] for r in rows] == order


TYPED = [
    "hello there",
    "//etc/passwd is a path",
    "/join #a b",
    "/join #x key=k #y",
    "/join lobby,#rust",
    "/j",
    "/part",
    "/part #x bye now",
    "/msg bob hi there",
    "/msg bob",
    "/me waves",
    "/notice #a hey",
    "/who",
    "/whois",
    "/whois bob",
    "/whowas bob 3",
    "/whowas bob x",
    "/names",
    "/list dev !test >3 #exact",
    "/topic",
    "/topic new topic here",
    "/topic -delete",
    "/topic #other its topic",
    "/away",
    "/away lunch",
    "/setname Alice Liddell",
    "/monitor",
    "/monitor +a b",
    "/monitor +a -b",
    "/chghost bob host.example",
    "/kick bob go away",
    "/kick",
    "/ban",
    "/ban bob eve!*@* host.example",
    "/unban bob",
    "/mode",
    "/mode +B",
    "/mode +m",
    "/mode bob +i",
    "/invite bob",
    "/invite bob rust",
    "/register secret",
    "/register secret me@example.org",
    "/login secret",
    "/logout now",
    "/passwd old new",
    "/ns help",
    "/cs register #a",
    "/oper admin pass word",
    "/kill bob",
    "/stats u",
    "/kline 1h bob spam here",
    "/dline ANDKILL 10.0.0.0/8 go away",
    "/unkline *@host",
    "/quit",
    "/quit bye all",
    "/info",
    "/help",
    "/help join",
    "/query bob hello",
    "/q",
    "/switch 2",
    "/close",
    "/raw PING x",
    "/jion #a",
    "/frobnicate",
]


def python_meaning(line: str) -> list[Any]:
    """What the terminal client's language makes of a line typed in #lobby, as JSON."""
    ctx = Context(
        room="#lobby",
        target="#lobby",
        nick="alice",
        verbatim=True,
        no_room=client_commands.NO_ROOM,
        no_target=client_commands.NO_TARGET,
    )
    try:
        out = LANGUAGE.parse(line, ctx)
    except SlashError as exc:
        return ["error", exc.text]
    if isinstance(out, Irc):
        return ["irc", [out.verb, *out.params]]
    assert isinstance(out, Local)
    return ["local", [out.name, *out.args]]


def test_slash_lines_mean_what_they_mean_in_the_terminal_client(alice: Page) -> None:
    meanings: Any = alice.driver.execute_async_script(
        "const [lines, done] = arguments;"
        "import('/commands.js').then(m => done(lines.map(line => {"
        "  const ctx = {room: '#lobby', target: '#lobby', nick: 'alice', chantypes: '#',"
        "               noRoom: m.NO_ROOM, noTarget: m.NO_TARGET};"
        "  try {"
        "    const out = m.parseLine(line, ctx);"
        "    return out.irc ? ['irc', out.irc] : ['local', [out.local, ...out.args]];"
        "  } catch (err) { return ['error', err.message]; }"
        "})));",
        TYPED,
    )
    for line, meaning in zip(TYPED, meanings, strict=True):
        assert meaning == python_meaning(line), line


@pytest.mark.usefixtures("everyone")
def test_history_is_shown_after_a_reload_and_older_lines_on_scrolling_up(
    alice: Page, carol: LineClient
) -> None:
    # More lines than a room shows on joining (50), so the oldest need a scroll up.
    for n in range(60):
        carol.send(f"filler line {n}")
    alice.wait_line("<carol> filler line 59")
    alice.driver.refresh()
    alice.wait(lambda: alice.current() == "#lobby", "alice is not back in #lobby")
    alice.wait_line("<carol> filler line 59")
    alice.wait_member("carol")
    assert not [line for line in alice.lines() if "good morning from the browser" in line]
    alice.driver.execute_script("document.getElementById('messages').scrollTop = 0")
    alice.wait_line("<alice> good morning from the browser")
    # Once, and in order: the older page went above what was there.
    lines = alice.lines()
    assert sum("filler line 59" in line for line in lines) == 1
    first = next(i for i, line in enumerate(lines) if "good morning from the browser" in line)
    assert first < next(i for i, line in enumerate(lines) if "filler line 0" in line)


@pytest.mark.usefixtures("everyone")
def test_reconnect_after_a_server_restart_fetches_what_was_missed(
    web_server: WebServer, alice: Page, bob: Page
) -> None:
    web_server.stop()
    for page in (alice, bob):
        page.wait_line("Disconnected from the server; reconnecting")
    # A failed retry doubles the delay: once the page says 2 s or more, there is time
    # to say something before it is back, which it must then fetch from history.
    alice.wait(
        lambda: re.search(r"reconnecting in ([2-9]|\d\d) s", alice.status()),
        "alice did not retry",
        timeout=15,
    )
    web_server.start()
    erin = web_server.plain("erin")
    # More than one page (100) of missed lines: the page fetches them all.
    for n in range(120):
        erin.send(f"missed line {n}")
    erin.send("said while alice was away")
    erin.expect(r"<erin> said while alice was away")
    for page in (alice, bob):
        page.wait_member("erin", timeout=20)
        page.wait_line("<erin> said while alice was away")
    lines = alice.lines()
    assert sum("missed line " in line for line in lines) == 120
    assert [i for i, line in enumerate(lines) if "missed line 0" in line] < [
        i for i, line in enumerate(lines) if "missed line 119" in line
    ]
    bob.type("back again")
    erin.expect(r"<bob> back again")
    alice.wait_line("<bob> back again")
    erin.close()
