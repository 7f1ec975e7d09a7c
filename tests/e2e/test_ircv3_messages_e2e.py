"""IRCv3 message features over real sockets: raw IRC clients, pydle, the irc library, netcat.

Two raw IRC clients with different capabilities and a netcat-style user share
a room and check message tags, msgids, echo-message, labeled responses,
draft/multiline and UTF8ONLY as each of them sees them. pydle (which
negotiates message-tags) and jaraco's irc library (which parses tags) check
that what the server sends parses the way real clients expect.

To know that something did *not* arrive, the test sends a later message as a
barrier and checks that it is the next thing seen (the server keeps order).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ircish.protocol.message import Message
from tests.e2e.e2e_support import collect_until, parse, wait
from tests.e2e.test_irc_clients import Library, tag
from tests.e2e.test_irc_pydle import PydleLoop
from tests.helpers import LineClient, RunningServer

SERVER = "ircish.local"
ALL = "message-tags batch draft/multiline server-time echo-message labeled-response"
LOCAL = "localhost"  # loopback shows as localhost (cloaks)


def until_pong(client: LineClient, token: str) -> list[Message]:
    """Every message before the PONG answering ``PING :token``, which is sent now."""
    seen: list[Message] = []

    def match(line: str) -> bool:
        msg = parse(line)
        assert msg is not None, line
        if msg.verb == "PONG" and msg.params[-1] == token:
            return True
        seen.append(msg)
        return False

    client.send(f"PING :{token}")
    client.expect(match)
    return seen


def irc(server: RunningServer, nick: str, caps: str, clients: list[LineClient]) -> LineClient:
    """A raw IRC client that negotiated ``caps`` and joined #lobby."""
    c = server.client()
    clients.append(c)
    c.send("CAP LS 302")
    c.send(f"CAP REQ :{caps}")
    c.send(f"NICK {nick}")
    c.send(f"USER {nick} 0 * :{nick}")
    c.send("CAP END")
    assert wait(c, "CAP").params[1] == "LS"
    assert wait(c, "CAP").params[1:] == ("ACK", caps)
    wait(c, "376")
    c.send("JOIN #lobby")
    wait(c, "366")
    return c


def plain(server: RunningServer, nick: str, clients: list[LineClient]) -> LineClient:
    c = server.plain(nick)
    clients.append(c)
    return c


def test_tags_echo_labels_and_multiline_between_irc_and_netcat(
    server: RunningServer, clients: list[LineClient]
) -> None:
    pat = plain(server, "pat", clients)
    alice = irc(server, "alice", ALL, clients)
    bob = irc(server, "bob", "message-tags server-time", clients)
    alice_mask, bob_mask = f"alice!~alice@{LOCAL}", f"bob!~bob@{LOCAL}"
    until_pong(alice, "start")

    # A labeled message with client-only tags: the echo is the labeled response.
    alice.send("@label=m1;+draft/reply=abc;time=forged PRIVMSG #lobby :hello all")
    echo, copy = wait(alice, "PRIVMSG"), wait(bob, "PRIVMSG")
    assert echo.tags == {**copy.tags, "label": "m1"}
    assert set(copy.tags) == {"time", "msgid", "+draft/reply"}
    assert copy.tags["time"] != "forged" and copy.tags["+draft/reply"] == "abc"
    assert (copy.source, copy.params) == (alice_mask, ("#lobby", "hello all"))
    pat.expect(r"^\[#lobby\] <alice> hello all$")

    # A typing indicator reaches bob, never pat.
    alice.send("@+typing=active TAGMSG #lobby")
    typing = wait(bob, "TAGMSG")
    assert (typing.params, typing.tags["+typing"]) == (("#lobby",), "active")
    alice.send("PRIVMSG #lobby :barrier one")
    assert pat.expect(r"^\[#lobby\] ") == "[#lobby] <alice> barrier one"
    assert wait(bob, "PRIVMSG").params[1] == "barrier one"

    # A labeled PONG and a labeled NAMES.
    alice.send("@label=p PONG :x")
    ack = wait(alice, "ACK")
    assert (ack.source, ack.tags["label"]) == (SERVER, "p")
    alice.send("@label=n NAMES #lobby")
    start = wait(alice, "BATCH")
    ref = start.params[0][1:]
    assert (start.params, start.tags) == ((f"+{ref}", "labeled-response"), {"label": "n"})
    names = wait(alice, "353")
    assert names.tags["batch"] == ref and "label" not in names.tags
    assert wait(alice, "366").tags["batch"] == ref
    assert wait(alice, "BATCH").params == (f"-{ref}",)

    # A multiline message, sent in one write.
    lines = [
        "@label=ml;+draft/reply=abc BATCH +b1 draft/multiline #lobby",
        "@batch=b1 PRIVMSG #lobby :def f():",
        "@batch=b1 PRIVMSG #lobby :    return 1",
        "@batch=b1 PRIVMSG #lobby :",
        "@batch=b1 PRIVMSG #lobby :f() is ",
        "@batch=b1;draft/multiline-concat PRIVMSG #lobby :one",
        "BATCH -b1",
    ]
    alice.send_raw("".join(x + "\r\n" for x in lines).encode())
    got = until_pong(alice, "after-batch")
    start = got[0]
    ref = start.params[0][1:]
    assert start.params == (f"+{ref}", "draft/multiline", "#lobby")
    assert start.tags["label"] == "ml" and start.tags["+draft/reply"] == "abc"
    msgid = start.tags["msgid"]
    assert [(m.tags, m.params[1]) for m in got[1:-1]] == [
        ({"batch": ref}, "def f():"),
        ({"batch": ref}, "    return 1"),
        ({"batch": ref}, ""),
        ({"batch": ref}, "f() is "),
        ({"batch": ref, "draft/multiline-concat": ""}, "one"),
    ]
    assert got[-1].params == (f"-{ref}",) and len(got) == 7
    fallback = [wait(bob, "PRIVMSG") for _ in range(4)]
    assert [m.params[1] for m in fallback] == ["def f():", "    return 1", "f() is ", "one"]
    assert [m.tags.get("msgid") for m in fallback] == [msgid, None, None, None]
    assert {m.tags["time"] for m in fallback} == {start.tags["time"]}
    for text in ("def f():", "    return 1", "", "f() is one"):
        assert pat.expect(r"^\[#lobby\] ") == f"[#lobby] <alice> {text}"

    # A batch over the limit: FAIL, and nothing is delivered.
    big = ["BATCH +b2 draft/multiline #lobby"]
    big += ["@batch=b2 PRIVMSG #lobby :" + "x" * 400] * 11
    big += ["BATCH -b2"]
    alice.send_raw("".join(x + "\r\n" for x in big).encode())
    failed = wait(alice, "FAIL")
    assert failed.params[:3] == ("BATCH", "MULTILINE_MAX_BYTES", "4096")

    # UTF8ONLY: invalid UTF-8 from an IRC client is refused, not relayed.
    alice.send_raw(b"PRIVMSG #lobby :caf\xe9\r\n")
    refused = wait(alice, "FAIL")
    assert refused.params[:2] == ("PRIVMSG", "INVALID_UTF8")
    # Tag data over 4094 bytes: 417, never truncated.
    alice.send("@+t=" + "y" * 4092 + " PRIVMSG #lobby :too much")
    assert wait(alice, "417").params == ("alice", "Input line was too long")
    alice.send("PRIVMSG #lobby :barrier two")
    assert wait(bob, "PRIVMSG").params[1] == "barrier two"
    assert pat.expect(r"^\[#lobby\] ") == "[#lobby] <alice> barrier two"

    # A netcat user's invalid UTF-8 is repaired, as it always was.
    pat.send_raw(b"caf\xe9 au lait\r\n")
    repaired = wait(bob, "PRIVMSG")
    assert (repaired.source, repaired.params[1]) == (f"pat!~plain@{LOCAL}", "caf\ufffd au lait")
    # Without echo-message, bob's own message does not come back to him.
    bob.send("PRIVMSG #lobby :bye")
    assert not [m for m in until_pong(bob, "end") if m.verb == "PRIVMSG"]
    bye = parse(alice.expect(r" PRIVMSG #lobby :bye$"))
    assert bye is not None and bye.source == bob_mask


def test_unterminated_batch_is_dropped_when_the_connection_closes(
    server: RunningServer, clients: list[LineClient]
) -> None:
    pat = plain(server, "pat", clients)
    alice = irc(server, "alice", ALL, clients)
    alice.send("BATCH +gone draft/multiline #lobby")
    alice.send("@batch=gone PRIVMSG #lobby :never seen")
    until_pong(alice, "sync")
    alice.close()
    seen = collect_until(pat, r"^\*\*\* alice quit")
    assert seen[-1] == "*** alice quit (Connection closed)"
    assert not [x for x in seen if "never seen" in x]


# -- pydle ----------------------------------------------------------------------


@pytest.fixture
def pydle_loop(server: RunningServer) -> Iterator[PydleLoop]:
    loop = PydleLoop(server)
    yield loop
    loop.stop()


def test_pydle_reads_tags_msgids_and_multiline_fallback(
    server: RunningServer, pydle_loop: PydleLoop, clients: list[LineClient]
) -> None:
    pat = plain(server, "pat", clients)
    bot = pydle_loop.connect("pybot")
    assert pydle_loop.read(lambda: bot._capabilities.get("message-tags")) is True
    pydle_loop.run(bot.join("#lobby"))
    bot.wait("on_join", "#lobby")
    alice = irc(server, "alice", ALL, clients)
    bot.wait("on_join", "#lobby", "alice")

    alice.send(r"@+example=a\sb;+flag PRIVMSG #lobby :tagged hello")
    assert bot.wait("on_channel_message") == ("#lobby", "alice", "tagged hello")
    raw = bot.wait_raw("PRIVMSG")
    echo = wait(alice, "PRIVMSG")
    assert raw.tags["+example"] == "a b" and raw.tags["+flag"] is True
    assert raw.tags["msgid"] == echo.tags["msgid"]

    # pydle's own message (echo-message) carries the msgid everyone else got.
    pydle_loop.run(bot.message("#lobby", "from pydle"))
    assert bot.wait("on_channel_message") == ("#lobby", "pybot", "from pydle")
    copy = wait(alice, "PRIVMSG")
    assert bot.wait_raw("PRIVMSG").tags["msgid"] == copy.tags["msgid"]
    pat.expect(r"^\[#lobby\] <pybot> from pydle$")

    # A TAGMSG from pydle reaches alice; pat never sees one.
    pydle_loop.run(bot.rawmsg("TAGMSG", "#lobby", tags={"+typing": "active"}))
    typing = wait(alice, "TAGMSG")
    assert (typing.nick, typing.tags["+typing"]) == ("pybot", "active")

    # A multiline message reaches pydle (no draft/multiline) as its lines.
    alice.send_raw(
        b"BATCH +p draft/multiline #lobby\r\n"
        b"@batch=p PRIVMSG #lobby :line one\r\n"
        b"@batch=p PRIVMSG #lobby :\r\n"
        b"@batch=p PRIVMSG #lobby :line three\r\n"
        b"BATCH -p\r\n"
    )
    assert bot.wait("on_channel_message") == ("#lobby", "alice", "line one")
    assert bot.wait("on_channel_message") == ("#lobby", "alice", "line three")
    assert pat.expect(r"^\[#lobby\] <alice>") == "[#lobby] <alice> line one"
    assert pat.expect(r"^\[#lobby\] ") == "[#lobby] <alice> "
    assert pat.expect(r"^\[#lobby\] ") == "[#lobby] <alice> line three"


# -- the irc library --------------------------------------------------------------


@pytest.fixture
def library(server: RunningServer) -> Iterator[Library]:
    lib = Library(server)
    yield lib
    lib.close()


def test_irc_library_gets_multiline_lines_with_one_msgid(
    server: RunningServer, library: Library, clients: list[LineClient]
) -> None:
    lib = library.connect("libby", caps=("message-tags", "server-time"))
    lib.conn.join("#lobby")
    lib.wait("366")
    alice = irc(server, "alice", ALL, clients)
    lib.wait("join")
    alice.send_raw(
        b"@+draft/reply=r BATCH +q draft/multiline #lobby\r\n"
        b"@batch=q PRIVMSG #lobby :first\r\n"
        b"@batch=q PRIVMSG #lobby :second\r\n"
        b"BATCH -q\r\n"
        b"@+typing=done TAGMSG #lobby\r\n"
        b"PRIVMSG #lobby :after\r\n"
    )
    first, second, after = (lib.wait("pubmsg") for _ in range(3))
    assert [e.arguments for e in (first, second, after)] == [["first"], ["second"], ["after"]]
    assert tag(first, "msgid") is not None and tag(second, "msgid") is None
    assert tag(first, "+draft/reply") == tag(second, "+draft/reply") == "r"
    assert tag(first, "time") == tag(second, "time") is not None
    assert tag(after, "msgid") not in (None, tag(first, "msgid"))
