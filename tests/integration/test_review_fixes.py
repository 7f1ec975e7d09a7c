"""Regression tests for defects found in review of the delivery pipeline and its features.

Each test names what a user would have tripped over: replies that shifted
IRC parameters, echo-message echoes that never came, invitations that passed
to the next user of a nickname, one failed rendering that stopped a whole
command's output, and C1 control characters reaching a netcat terminal.
"""

from __future__ import annotations

import logging

import pytest

from ircish.core import events as ev
from ircish.protocol.message import Message
from tests.helpers import MemoryClient, MemoryNetwork, drain

CHUNKING = pytest.mark.parametrize("bytewise", [False, True], ids=["one-chunk", "byte-at-a-time"])


# -- replies never shift IRC parameters ------------------------------------------


@CHUNKING
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("WHOIS :a b", ":ircish.local 401 alice * :No such nick/channel"),
        ("WHOIS ::x", ":ircish.local 401 alice * :No such nick/channel"),
        (
            "JOIN :#a b",
            ":ircish.local 403 alice * :Invalid channel name: it may not contain spaces",
        ),
        ("MODE :#x y", ":ircish.local 403 alice * :No such channel"),
        ("TOPIC :#x y", ":ircish.local 403 alice * :No such channel"),
        ("NAMES :#a b", ":ircish.local 366 alice * :End of /NAMES list"),
        ("WHO :a b", ":ircish.local 315 alice * :End of /WHO list (nobody to show)"),
        (":src :FOO bar", ":ircish.local 421 alice * :Unknown command"),
        ("MONITOR :+ x", ":ircish.local 400 alice MONITOR * :Unknown MONITOR subcommand"),
        ("CAP :a b", ":ircish.local 410 alice * :Invalid CAP command"),
    ],
)
def test_echoed_parameters_cannot_shift_the_others(
    net: MemoryNetwork, line: str, expected: str, bytewise: bool
) -> None:
    alice = net.irc("alice")
    alice.send(line, byte_at_a_time=bytewise)
    replies = alice.lines()
    assert replies[0] == expected
    for reply in replies:
        # The text is still the last parameter: nothing the user sent became a separate one.
        assert Message.parse(reply).params[-1][0].isupper()


def test_standard_reply_context_cannot_shift_the_text(net: MemoryNetwork) -> None:
    alice = net.irc("alice")
    reply = ev.StandardReply("FAIL", "X", "CODE", ("a b", ":c", "", "ok"), "The text")
    data = net.dialects.irc.render(ev.Envelope(reply, client=alice.client), alice.client)
    assert data == b":ircish.local FAIL X CODE * * * ok :The text\r\n"


def test_plain_users_still_see_what_they_typed(net: MemoryNetwork) -> None:
    bob = net.plain("bob")
    bob.send("/whois a:b")
    assert bob.lines() == ["! No such nick or room: a:b"]


# -- echo-message: the sender always gets its message back ---------------------------


@pytest.fixture
def room(net: MemoryNetwork) -> MemoryClient:
    """``op`` in #r, which takes messages from outside (-n)."""
    op = net.irc("op")
    op.send("JOIN #r")
    op.send("MODE #r -n")
    op.lines()
    return op


@CHUNKING
def test_echo_of_a_message_to_a_room_one_is_not_in(
    net: MemoryNetwork, room: MemoryClient, bytewise: bool
) -> None:
    alice = net.irc("alice", caps="echo-message")
    alice.send("PRIVMSG #r :from outside", byte_at_a_time=bytewise)
    line = ":alice!~alice@localhost PRIVMSG #r :from outside"
    assert alice.lines() == [line]
    assert room.lines() == [line]


def test_labeled_echo_outside_the_room_is_the_response(
    net: MemoryNetwork, room: MemoryClient
) -> None:
    alice = net.irc("alice", caps="echo-message batch labeled-response")
    alice.send("@label=q1 PRIVMSG #r :hi")
    assert alice.lines() == ["@label=q1 :alice!~alice@localhost PRIVMSG #r :hi"]


def test_echo_of_a_statusmsg_one_lacks_the_status_for(
    net: MemoryNetwork, room: MemoryClient
) -> None:
    vic = net.irc("vic", caps="echo-message")
    plain = net.irc("quiet")
    for client in (vic, plain):
        client.send("JOIN #r")
    room.send("MODE #r +v vic")
    drain(vic, plain, room)
    vic.send("PRIVMSG @#r :ops only")
    line = ":vic!~vic@localhost PRIVMSG @#r :ops only"
    assert vic.lines() == [line]
    assert room.lines() == [line]
    assert plain.lines() == []


def test_no_echo_without_echo_message(net: MemoryNetwork, room: MemoryClient) -> None:
    alice = net.irc("alice")
    alice.send("PRIVMSG #r :hi")
    assert alice.lines() == []
    assert room.lines() == [":alice!~alice@localhost PRIVMSG #r :hi"]


def test_member_echo_comes_once(net: MemoryNetwork, room: MemoryClient) -> None:
    alice = net.irc("alice", caps="echo-message")
    alice.send("JOIN #r")
    drain(alice, room)
    alice.send("PRIVMSG #r :hi")
    assert alice.lines() == [":alice!~alice@localhost PRIVMSG #r :hi"]


# -- invitations belong to users, not nicknames ------------------------------------


@pytest.fixture
def locked(net: MemoryNetwork) -> MemoryClient:
    """``op`` in #sec, invite-only, banning mallory."""
    op = net.irc("op")
    op.send("JOIN #sec")
    op.send("MODE #sec +i")
    op.send("MODE #sec +b mallory!*@*")
    op.lines()
    return op


def test_an_invitation_does_not_pass_to_the_next_user_of_a_nick(
    net: MemoryNetwork, locked: MemoryClient
) -> None:
    bob = net.irc("bob")
    locked.send("INVITE bob #sec")
    bob.send("NICK bobby")
    drain(bob, locked)
    mallory = net.irc("mallory")
    mallory.send("NICK bob")
    mallory.lines()
    mallory.send("JOIN #sec")
    assert mallory.lines() == [":ircish.local 473 bob #sec :Cannot join channel (+i)"]
    # The invitation went with its user.
    bob.send("JOIN #sec")
    assert bob.lines()[0] == ":bobby!~bob@localhost JOIN #sec"


def test_an_invitation_dies_with_its_user(net: MemoryNetwork, locked: MemoryClient) -> None:
    bob = net.irc("bob")
    locked.send("INVITE bob #sec")
    bob.send("QUIT")
    locked.lines()
    again = net.irc("bob")
    again.send("JOIN #sec")
    assert again.lines() == [":ircish.local 473 bob #sec :Cannot join channel (+i)"]


# -- one failed rendering costs one item ---------------------------------------------


def test_a_failing_render_does_not_stop_the_rest(
    net: MemoryNetwork, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    carol = net.irc("carol")
    carol.send("JOIN #lobby")
    bob = net.plain("bob")
    alice = net.irc("alice")
    alice.send("JOIN #lobby")
    drain(carol, bob, alice)
    plain = net.dialects.plain
    real = plain.render

    def broken(env: ev.Envelope, client: object) -> bytes:
        if isinstance(env.event, ev.Quit):
            raise RuntimeError("render bug")
        return real(env, client)  # type: ignore[arg-type]

    monkeypatch.setattr(plain, "render", broken)
    with caplog.at_level(logging.ERROR, logger="ircish.core"):
        alice.send("QUIT :bye")
    assert "could not deliver" in caplog.text
    # The quitting client still got its closing line and was closed.
    assert alice.lines() == ["ERROR :Closing Link: localhost (Quit: bye)"]
    assert alice.sink.closed
    assert carol.lines() == [":alice!~alice@localhost QUIT :Quit: bye"]
    bob.send("still here")
    assert carol.lines() == [":bob!~plain@localhost PRIVMSG #lobby :still here"]


# -- netcat terminals never get C1 controls ------------------------------------------


@pytest.mark.parametrize("evil", ["\x9b2J", "\x9d0;title\x9c", "\x85", "\x1b[2J\x07"])
def test_c1_controls_never_reach_a_netcat_user(net: MemoryNetwork, evil: str) -> None:
    bob = net.plain("bob")
    alice = net.irc("alice")
    alice.send("JOIN #lobby")
    drain(bob, alice)
    alice.send(f"PRIVMSG #lobby :before{evil}after")
    alice.send(f"SETNAME :real{evil}name")
    alice.send(f"PART #lobby :p{evil}p")
    seen = bob.lines()
    assert len(seen) == 3
    assert seen[0].startswith("[#lobby] <alice> before") and seen[0].endswith("after")
    assert seen[1].startswith("*** alice changed their realname to: real")
    assert seen[2].startswith("*** alice left #lobby (p")
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in "".join(seen))
