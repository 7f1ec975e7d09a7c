"""Session: bytes in, dialect detection, line limits, decoding, timeouts on a hand-moved clock."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ircish.config import Config, LimitsConfig
from tests.helpers import MemoryClient, MemoryNetwork

SERVER = "ircish.local"
GREETING = (
    f"*** This is {SERVER}. Type a nickname and press Enter (or /nick NAME). "
    "/help lists the commands."
)
PLAIN_TOO_LONG = "! Line too long (the limit is {} bytes); it was not sent"

CHUNKING = pytest.mark.parametrize("bytewise", [False, True], ids=["one-chunk", "byte-at-a-time"])


def limits(**kw: object) -> Config:
    return replace(Config(), limits=replace(LimitsConfig(), **kw))


def feed(client: MemoryClient, data: bytes, bytewise: bool) -> None:
    if bytewise:
        for i in range(len(data)):
            client.feed(data[i : i + 1])
    else:
        client.feed(data)


# -- dialect detection -----------------------------------------------------------


@pytest.mark.parametrize(
    "first",
    ["CAP LS 302", "PASS secret", "USER bob 0 * :Bob", ":src NICK bob", "@a=1 CAP LS"],
)
def test_irc_clients_are_detected_by_their_first_line(net: MemoryNetwork, first: str) -> None:
    client = net.connect("auto")
    assert client.lines() == [], "nothing is said while the server waits for the first line"
    client.send(first)
    assert client.client.dialect is net.dialects.irc
    assert GREETING not in client.lines()


@CHUNKING
def test_irc_client_detected_and_registered(net: MemoryNetwork, bytewise: bool) -> None:
    client = net.connect("auto")
    feed(client, b"CAP LS 302\r\nNICK bob\r\nUSER bob 0 * :Bob\r\nCAP END\r\n", bytewise)
    lines = client.lines()
    assert lines[0].startswith(f":{SERVER} CAP * LS :")
    assert f":{SERVER} 001 bob :Welcome to the ircish IRC Network bob!~bob@localhost" in lines
    assert client.user.registered


@pytest.mark.parametrize("first", ["alice", "nick alice", "hello there", "/nick alice", "Вася"])
def test_humans_are_detected_by_their_first_line(net: MemoryNetwork, first: str) -> None:
    client = net.connect("auto")
    client.send(first)
    assert client.client.dialect is net.dialects.plain
    assert client.lines()[0] == GREETING


@CHUNKING
def test_human_detected_and_registered(net: MemoryNetwork, bytewise: bool) -> None:
    client = net.connect("auto")
    feed(client, b"alice\r\n", bytewise)
    lines = client.lines()
    assert lines[:2] == [GREETING, "*** Welcome to ircish, alice! Type /help for the commands."]
    assert client.user.registered


def test_silent_connection_is_greeted_after_the_detect_timeout(net: MemoryNetwork) -> None:
    client = net.connect("auto")
    start = net.now
    deadline = client.session.check_timeouts(start)
    assert deadline == pytest.approx(start + 0.4)
    assert client.session.check_timeouts(start + 0.39) == pytest.approx(start + 0.4)
    assert client.lines() == []
    # Once the human is greeted, the next deadline is the registration timeout.
    assert client.session.check_timeouts(start + 0.4) == pytest.approx(start + 60)
    assert client.lines() == [GREETING]
    assert client.client.dialect is net.dialects.plain
    client.send("alice")
    assert client.user.registered


def test_empty_lines_do_not_decide_the_dialect(net: MemoryNetwork) -> None:
    client = net.connect("auto")
    client.feed(b"\r\n\n   \r\n")
    assert client.session.detecting
    client.send("CAP LS 302")
    assert client.client.dialect is net.dialects.irc


# -- "NICK x" first: an IRC client if USER follows, else a human who knows IRC ----------


@CHUNKING
def test_nick_then_user_is_an_irc_client(net: MemoryNetwork, bytewise: bool) -> None:
    """Bots send NICK then USER, in one packet or two: that is IRC."""
    client = net.connect("auto")
    feed(client, b"NICK bot\r\nUSER bot 0 * :A bot\r\n", bytewise)
    assert client.client.dialect is net.dialects.irc
    assert (
        client.lines()[0]
        == f":{SERVER} 001 bot :Welcome to the ircish IRC Network bot!~bot@localhost"
    )


def test_nick_then_user_a_moment_later_is_an_irc_client(net: MemoryNetwork) -> None:
    client = net.connect("auto")
    client.send("NICK bot")
    assert client.lines() == [], "NICK alone waits for the next line"
    assert client.session.check_timeouts(net.now) == pytest.approx(net.now + 0.4)
    net.now += 0.1
    client.session.check_timeouts(net.now)
    client.send("USER bot 0 * :A bot")
    assert client.client.dialect is net.dialects.irc
    assert client.user.registered and client.user.nick == "bot"


@pytest.mark.parametrize("first", ["PASS secret", "CAP LS 302"])
def test_other_irc_openers_before_nick_are_irc(net: MemoryNetwork, first: str) -> None:
    client = net.connect("auto")
    client.send(first)
    client.send("NICK bot")
    client.send("USER bot 0 * :A bot")
    client.send("CAP END")
    assert client.client.dialect is net.dialects.irc
    assert any(" 001 bot " in x for x in client.lines())


def test_bare_nick_in_capitals_is_a_human_after_a_moment(net: MemoryNetwork) -> None:
    """Issue 13: ``NICK carl`` typed on netcat once switched to IRC and answered 451."""
    client = net.connect("auto")
    client.send("NICK carl")
    assert client.lines() == []
    net.now += 0.4
    client.session.check_timeouts(net.now)
    assert client.client.dialect is net.dialects.plain
    assert client.lines()[:2] == [
        GREETING,
        "*** Welcome to ircish, carl! Type /help for the commands.",
    ]
    client.send("/join #rust")
    assert "*** carl joined #rust" in client.lines()


def test_bare_nick_then_a_human_line_is_a_human(net: MemoryNetwork) -> None:
    alice = net.plain("alice")
    client = net.connect("auto")
    client.send("NICK carl")
    client.send("hello everyone")
    assert client.client.dialect is net.dialects.plain
    assert client.user.nick == "carl"
    assert "*** Welcome to ircish, carl! Type /help for the commands." in client.lines()
    assert alice.lines()[-1] == "[#lobby] <carl> hello everyone"


def test_bare_nick_after_the_greeting_is_a_human(net: MemoryNetwork) -> None:
    """A greeted human who answers ``NICK carl`` stays a human."""
    client = net.connect("auto")
    net.now += net.config.limits.detect_timeout + 0.1
    client.session.check_timeouts(net.now)
    assert client.lines() == [GREETING]
    client.send("NICK carl")
    assert client.lines() == []
    assert client.session.check_timeouts(net.now) == pytest.approx(net.now + 0.4)
    net.now += 0.4
    client.session.check_timeouts(net.now)
    assert client.client.dialect is net.dialects.plain
    assert client.lines()[0] == "*** Welcome to ircish, carl! Type /help for the commands."
    client.send("/who")
    assert not any("451" in x or "not registered" in x for x in client.lines())


def test_bare_nick_then_quit_closes(net: MemoryNetwork) -> None:
    client = net.connect("auto")
    client.send("NICK carl")
    client.send("QUIT")
    assert client.client.dialect is net.dialects.irc
    assert client.session.closed


@CHUNKING
def test_overlong_first_line_means_a_human(net: MemoryNetwork, bytewise: bool) -> None:
    client = net.connect("auto")
    feed(client, b"y" * 10_000 + b"\r\n", bytewise)
    assert client.client.dialect is net.dialects.plain
    assert client.lines() == [GREETING, PLAIN_TOO_LONG.format(512)]
    client.send("alice")
    assert client.user.registered


@CHUNKING
def test_detected_plain_limit_applies_to_the_rest_of_the_chunk(
    net: MemoryNetwork, bytewise: bool
) -> None:
    """The plain line limit holds however the bytes after the first line were chunked."""
    alice = net.plain("alice")
    client = net.connect("auto")
    feed(client, b"bob\r\n" + b"x" * 600 + b"\r\nshort\r\n", bytewise)
    assert client.lines()[-2:] == [PLAIN_TOO_LONG.format(512), "[#lobby] <bob> short"]
    assert alice.lines() == ["*** bob joined #lobby", "[#lobby] <bob> short"]


# -- line length -----------------------------------------------------------------


@CHUNKING
def test_plain_line_too_long(net: MemoryNetwork, bytewise: bool) -> None:
    alice = net.plain("alice")
    bob = net.plain("bob")
    alice.lines()
    feed(bob, b"z" * 513 + b"\r\nafter\r\n", bytewise)
    assert bob.lines() == [PLAIN_TOO_LONG.format(512), "[#lobby] <bob> after"]
    assert alice.lines() == ["[#lobby] <bob> after"]
    assert not bob.session.closed


@CHUNKING
def test_plain_line_at_the_limit_is_sent(net: MemoryNetwork, bytewise: bool) -> None:
    alice = net.plain("alice")
    bob = net.plain("bob")
    alice.lines()
    feed(bob, b"z" * 512 + b"\r\n", bytewise)
    assert bob.lines() == alice.lines() == ["[#lobby] <bob> " + "z" * 512]


@CHUNKING
def test_plain_line_limit_is_configurable(bytewise: bool) -> None:
    net = MemoryNetwork(limits(max_line_bytes=100))
    bob = net.plain("bob")
    feed(bob, b"z" * 101 + b"\n", bytewise)
    assert bob.lines() == [PLAIN_TOO_LONG.format(100)]


@CHUNKING
def test_plain_huge_line_reported_once(net: MemoryNetwork, bytewise: bool) -> None:
    bob = net.plain("bob")
    data = b"w" * 20_000 + b"\r\n"
    if bytewise:
        for i in range(0, len(data), 7):
            bob.feed(data[i : i + 7])
    else:
        bob.feed(data)
    assert bob.lines() == [PLAIN_TOO_LONG.format(512)]
    assert len(bob.session.framing) == 0


@CHUNKING
def test_irc_line_too_long(net: MemoryNetwork, bytewise: bool) -> None:
    alice = net.plain("alice")
    bob = net.irc("bob")
    bob.send("JOIN #lobby")
    bob.lines()
    alice.lines()
    # 510 bytes of message plus CR LF is the IRC limit.
    prefix = b"PRIVMSG #lobby :"
    fits = prefix + b"a" * (510 - len(prefix))
    feed(bob, fits + b"\r\n", bytewise)
    assert bob.lines() == []
    assert alice.lines() == ["[#lobby] <bob> " + "a" * (510 - len(prefix))]
    feed(bob, fits + b"b\r\n", bytewise)
    assert bob.lines() == [f":{SERVER} 417 bob :Input line was too long"]
    assert alice.lines() == []
    # Far beyond even the tag allowance: dropped by the framing, connection kept.
    feed(bob, prefix + b"c" * 20_000 + b"\r\nPRIVMSG #lobby :still here\r\n", bytewise)
    assert bob.lines() == [f":{SERVER} 417 bob :Input line was too long"]
    assert alice.lines() == ["[#lobby] <bob> still here"]


def test_irc_length_counts_bytes_not_characters(net: MemoryNetwork) -> None:
    bob = net.irc("bob")
    bob.send("JOIN #lobby")
    bob.lines()
    # 300 Cyrillic letters are 600 bytes of UTF-8.
    bob.send("PRIVMSG #lobby :" + "ж" * 300)
    assert bob.lines() == [f":{SERVER} 417 bob :Input line was too long"]


def test_irc_tags_do_not_count_against_the_body_limit(net: MemoryNetwork) -> None:
    alice = net.plain("alice")
    bob = net.irc("bob")
    bob.send("JOIN #lobby")
    bob.lines()
    alice.lines()
    bob.send("@+example.com/pad=" + "p" * 4000 + " PRIVMSG #lobby :hi")
    assert bob.lines() == []
    assert alice.lines() == ["[#lobby] <bob> hi"]


# -- decoding --------------------------------------------------------------------


@CHUNKING
def test_invalid_utf8_is_replaced(net: MemoryNetwork, bytewise: bool) -> None:
    alice = net.plain("alice")
    irc = net.irc("ivan")
    irc.send("JOIN #lobby")
    irc.lines()
    alice.lines()
    bob = net.plain("bob")
    alice.lines()
    irc.lines()
    feed(bob, b"caf\xe9 \xff\xfe ok\r\n", bytewise)
    assert alice.lines() == ["[#lobby] <bob> caf\ufffd \ufffd\ufffd ok"]
    assert irc.lines() == [":bob!~plain@localhost PRIVMSG #lobby :caf\ufffd \ufffd\ufffd ok"]


@CHUNKING
def test_multibyte_characters_split_across_reads(net: MemoryNetwork, bytewise: bool) -> None:
    alice = net.plain("alice")
    vasya = net.plain("Вася")
    alice.lines()
    feed(vasya, "привет, мир 🌍\r\n".encode(), bytewise)
    assert alice.lines() == ["[#lobby] <Вася> привет, мир 🌍"]


def test_invalid_utf8_nickname_is_refused(net: MemoryNetwork) -> None:
    client = net.connect("plain")
    client.lines()
    client.feed(b"Jos\xe9\r\n")
    assert not client.user.registered
    assert client.lines()[0].startswith("! 'Jos\ufffd' is not a valid nickname")


@CHUNKING
def test_nul_and_bare_cr_become_spaces(net: MemoryNetwork, bytewise: bool) -> None:
    irc = net.irc("ivan")
    irc.send("JOIN #lobby")
    bob = net.plain("bob")
    irc.lines()
    feed(bob, b"one\x00two\rthree\r\n", bytewise)
    # A bare CR must never reach an IRC client: it would end the line early.
    assert irc.lines() == [":bob!~plain@localhost PRIVMSG #lobby :one two three"]


# -- registration timeout --------------------------------------------------------


@pytest.mark.parametrize(
    ("dialect", "closing"),
    [
        ("plain", "*** Closing connection: Registration timed out"),
        ("irc", "ERROR :Closing Link: localhost (Registration timed out)"),
        ("auto", "*** Closing connection: Registration timed out"),
    ],
)
def test_registration_timeout(net: MemoryNetwork, dialect: str, closing: str) -> None:
    start = net.now
    client = net.connect(dialect)
    client.lines()
    if dialect == "irc":
        client.send("NICK bob")  # half-registered: still unregistered
    net.now = start + 59.5
    assert client.session.check_timeouts(net.now) == pytest.approx(start + 60)
    assert not client.session.closed
    net.now = start + 60
    assert client.session.check_timeouts(net.now) is None
    assert client.lines()[-1] == closing
    assert client.sink.closed
    assert client.session.closed
    assert client.user not in net.chat.clients
    # Once closed, the session never asks for a timer again.
    assert client.session.check_timeouts(net.now + 1000) is None


def test_registration_timeout_is_configurable() -> None:
    net = MemoryNetwork(limits(registration_timeout=5))
    client = net.connect("plain")
    assert client.session.check_timeouts(net.now) == pytest.approx(net.now + 5)
    assert client.session.check_timeouts(net.now + 5) is None
    assert client.sink.closed


def test_cap_negotiation_does_not_stop_the_registration_clock(net: MemoryNetwork) -> None:
    client = net.connect("irc")
    client.send("CAP LS 302")
    client.send("NICK bob")
    client.send("USER bob 0 * :Bob")
    assert client.session.check_timeouts(net.now + 60) is None
    assert client.sink.closed


def test_registered_user_has_no_registration_deadline(net: MemoryNetwork) -> None:
    start = net.now
    client = net.plain("alice")
    # Plain users without an idle timeout need no timer at all.
    assert client.session.check_timeouts(start + 10_000) is None
    assert not client.session.closed


# -- idle timeout (plain users) --------------------------------------------------


def test_idle_timeout_for_plain_users() -> None:
    net = MemoryNetwork(limits(idle_timeout=300))
    start = net.now
    alice = net.plain("alice")
    bob = net.plain("bob")
    alice.lines()
    assert bob.session.check_timeouts(start + 299) == pytest.approx(start + 300)
    # Talking resets the clock.
    net.now = start + 200
    bob.send("still here")
    assert bob.session.check_timeouts(start + 300) == pytest.approx(start + 500)
    assert not bob.session.closed
    net.now = start + 500
    assert bob.session.check_timeouts(net.now) is None
    assert bob.lines()[-1] == "*** Closing connection: Idle for 300 seconds"
    assert bob.sink.closed
    assert alice.lines() == ["[#lobby] <bob> still here", "*** bob quit (Idle for 300 seconds)"]
    assert net.chat.users.get("bob") is None


def test_empty_lines_are_not_activity() -> None:
    net = MemoryNetwork(limits(idle_timeout=60))
    start = net.now
    bob = net.plain("bob")
    net.now = start + 30
    bob.send("")
    bob.send("   ")
    assert bob.session.check_timeouts(start + 60) is None
    assert bob.sink.closed


def test_idle_timeout_off_by_default(net: MemoryNetwork) -> None:
    bob = net.plain("bob")
    net.now += 7 * 86400
    assert bob.session.check_timeouts(net.now) is None
    assert not bob.session.closed


def test_idle_timeout_does_not_apply_to_irc_clients() -> None:
    net = MemoryNetwork(limits(idle_timeout=10, ping_interval=1000))
    start = net.now
    bob = net.irc("bob")
    assert bob.session.check_timeouts(start + 500) == pytest.approx(start + 1000)
    assert not bob.session.closed


# -- PING / ping timeout (IRC clients) -------------------------------------------


def _ping_token(line: str) -> str:
    assert line.startswith(f"PING :{SERVER}-"), line
    return line.removeprefix("PING :")


def test_irc_ping_answered(net: MemoryNetwork) -> None:
    start = net.now
    bob = net.irc("bob")
    session = bob.session
    assert session.check_timeouts(start + 119) == pytest.approx(start + 120)
    assert bob.lines() == []
    net.now = start + 120
    assert session.check_timeouts(net.now) == pytest.approx(start + 180)
    [ping] = bob.lines()
    token = _ping_token(ping)
    net.now = start + 130
    bob.send(f"PONG :{token}")
    assert bob.lines() == []
    # Answered: the next PING is due ping_interval after the answer.
    assert session.check_timeouts(start + 180) == pytest.approx(start + 250)
    assert not session.closed


def test_irc_any_line_answers_a_ping(net: MemoryNetwork) -> None:
    start = net.now
    bob = net.irc("bob")
    bob.session.check_timeouts(start + 120)
    bob.lines()
    net.now = start + 150
    bob.send("JOIN #busy")
    assert bob.session.check_timeouts(start + 180) == pytest.approx(start + 270)
    assert not bob.session.closed


def test_irc_ping_timeout(net: MemoryNetwork) -> None:
    start = net.now
    alice = net.plain("alice")
    carol = net.irc("carol")
    carol.send("JOIN #lobby")
    bob = net.irc("bob")
    bob.send("JOIN #lobby")
    alice.lines()
    carol.lines()
    bob.lines()
    net.now = start + 120
    assert bob.session.check_timeouts(net.now) == pytest.approx(start + 180)
    _ping_token(bob.lines()[0])
    # Not answered within ping_timeout: gone, and the room is told why.
    assert bob.session.check_timeouts(start + 179) == pytest.approx(start + 180)
    assert bob.session.check_timeouts(start + 180) is None
    assert bob.lines() == ["ERROR :Closing Link: localhost (Ping timeout: 60 seconds)"]
    assert bob.sink.closed
    assert alice.lines() == ["*** bob quit (Ping timeout: 60 seconds)"]
    assert carol.lines() == [":bob!~bob@localhost QUIT :Ping timeout: 60 seconds"]
    assert net.chat.users.get("bob") is None


def test_ping_interval_and_timeout_are_configurable() -> None:
    net = MemoryNetwork(limits(ping_interval=30, ping_timeout=10))
    start = net.now
    bob = net.irc("bob")
    assert bob.session.check_timeouts(start) == pytest.approx(start + 30)
    assert bob.session.check_timeouts(start + 30) == pytest.approx(start + 40)
    assert bob.session.check_timeouts(start + 40) is None
    assert bob.lines()[-1] == "ERROR :Closing Link: localhost (Ping timeout: 10 seconds)"


def test_plain_users_are_never_pinged(net: MemoryNetwork) -> None:
    alice = net.plain("alice")
    assert alice.session.check_timeouts(net.now + 10_000) is None
    assert alice.lines() == []


def test_client_ping_gets_a_pong(net: MemoryNetwork) -> None:
    bob = net.irc("bob")
    bob.send("PING :abc 123")
    assert bob.lines() == [f":{SERVER} PONG {SERVER} :abc 123"]


# -- closing ---------------------------------------------------------------------


def test_connection_lost_tells_the_room_not_the_user(net: MemoryNetwork) -> None:
    alice = net.plain("alice")
    bob = net.plain("bob")
    alice.lines()
    sent_before = list(bob.sink.data)
    bob.session.connection_lost("Connection reset by peer")
    assert bob.sink.data == sent_before, "nothing is written to a dead connection"
    assert bob.sink.closed
    assert alice.lines() == ["*** bob quit (Connection reset by peer)"]
    # A second notice of the same loss is harmless.
    bob.session.connection_lost("Connection closed")
    assert alice.lines() == []


def test_server_close_tells_the_user(net: MemoryNetwork) -> None:
    alice = net.plain("alice")
    bob = net.irc("bob")
    bob.session.close("Server restarting")
    assert bob.lines() == ["ERROR :Closing Link: localhost (Server restarting)"]
    alice.session.close("Server restarting")
    assert alice.lines() == ["*** Closing connection: Server restarting"]


@CHUNKING
def test_lines_after_quit_are_ignored(net: MemoryNetwork, bytewise: bool) -> None:
    alice = net.plain("alice")
    bob = net.plain("bob")
    alice.lines()
    feed(bob, b"/quit bye\r\nthis must not arrive\r\n", bytewise)
    assert alice.lines() == ["*** bob quit (Quit: bye)"]
    bob.feed(b"nor this\r\n")
    assert alice.lines() == []


def test_irc_client_slower_than_detection_still_gets_irc(net: MemoryNetwork) -> None:
    """An IRC client whose first line comes after the greeting is still served as IRC."""
    client = net.connect("auto")
    net.now += net.config.limits.detect_timeout + 0.1
    client.session.check_timeouts(net.now)
    assert client.lines()[0].startswith("*** This is ircish.local.")
    client.send("NICK slowpoke")
    assert client.lines() == []
    client.send("USER slow 0 * :Slow Client")
    lines = client.lines()
    assert (
        lines[0]
        == ":ircish.local 001 slowpoke :Welcome to the ircish IRC Network slowpoke!~slow@localhost"
    )


def test_human_after_greeting_stays_plain(net: MemoryNetwork) -> None:
    """Once a greeted human has registered, IRC-looking lines are just text."""
    bob = net.plain("bob")
    client = net.connect("auto")
    net.now += net.config.limits.detect_timeout + 0.1
    client.session.check_timeouts(net.now)
    client.lines()
    client.send("alice")
    assert client.lines()[0] == "*** Welcome to ircish, alice! Type /help for the commands."
    bob.lines()
    client.send("NICK carol")
    assert bob.lines() == ["[#lobby] <alice> NICK carol"]
    assert client.user.nick == "alice"
