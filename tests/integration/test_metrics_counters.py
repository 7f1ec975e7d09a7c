"""The counters behind the metrics endpoint, in memory: each counts what a user saw.

Deliveries are checked against the lines the clients actually received, for
every way the pipeline delivers (room broadcast by render key, echo-message,
labeled-response, private messages, messages to oneself, status messages,
parts and quits), so the count stays exact without a per-recipient
increment on the room broadcast path.
"""

from __future__ import annotations

import selectors
import socket
from collections.abc import Callable
from dataclasses import replace

import pytest

from ircish.config import Config, LimitsConfig, StorageConfig
from ircish.core.dispatch import COMMANDS, CommandSpec
from ircish.net.server import Server
from tests.helpers import MemoryClient, MemoryNetwork


def counted(net: MemoryNetwork, clients: list[MemoryClient], action: Callable[[], None]) -> int:
    """Run ``action``; check that the deliveries it counted are the lines received; return them."""
    for c in clients:
        c.lines()
    before = net.chat.metrics.deliveries
    action()
    received = sum(len(c.lines()) for c in clients)
    assert net.chat.metrics.deliveries - before == received
    return received


@pytest.fixture
def room(net: MemoryNetwork) -> list[MemoryClient]:
    """alice and bob on netcat, carol and dave on IRC (carol with echo and labels), in #dev.

    alice created #dev, so she is its operator. Their netcat echo is off but where a test
    turns it on: ``/set echo``.
    """
    alice, bob = net.plain("alice"), net.plain("bob")
    carol = net.irc("carol", "echo-message labeled-response batch")
    dave = net.irc("dave")
    for c in (alice, bob):
        c.send("/set echo off")
        c.send("/part #lobby")
        c.send("/join #dev")
    for c in (carol, dave):
        c.send("JOIN #dev")
    return [alice, bob, carol, dave]


def test_room_messages_count_one_delivery_per_recipient(
    net: MemoryNetwork, room: list[MemoryClient]
) -> None:
    alice, _bob, carol, dave = room
    # Without echo a netcat user's line reaches the three others.
    assert counted(net, room, lambda: alice.send("hello")) == 3
    # With it (netcat's default), the sender's own copy counts too.
    alice.send("/set echo on")
    assert counted(net, room, lambda: alice.send("hello")) == 4
    alice.send("/set echo off")
    # echo-message: everyone, the sender too.
    assert counted(net, room, lambda: carol.send("PRIVMSG #dev :hi")) == 4
    # labeled-response: the echo is the command's labeled response.
    assert counted(net, room, lambda: carol.send("@label=a1 PRIVMSG #dev :hi")) == 4
    assert counted(net, room, lambda: dave.send("@label=a2 NOTICE #dev :notice")) == 3
    # A message to ops only (STATUSMSG): alice created #dev.
    assert counted(net, room, lambda: dave.send("PRIVMSG @#dev :ops")) == 1
    assert net.chat.metrics.messages >= 5


def test_private_and_self_messages(net: MemoryNetwork, room: list[MemoryClient]) -> None:
    alice, bob, carol, _dave = room
    assert counted(net, room, lambda: alice.send("/msg bob psst")) == 1
    bob.send("/set echo on")
    assert counted(net, room, lambda: bob.send("/msg alice psst")) == 2  # and bob's own copy
    # A message to oneself arrives once, echo or not.
    assert counted(net, room, lambda: bob.send("/msg bob note to self")) == 1
    assert counted(net, room, lambda: carol.send("PRIVMSG dave :psst")) == 2  # and the echo
    assert counted(net, room, lambda: carol.send("@label=b1 PRIVMSG dave :psst")) == 2
    assert counted(net, room, lambda: alice.send("/msg alice note to self")) == 1
    assert counted(net, room, lambda: carol.send("PRIVMSG carol :me")) == 2


def test_parts_and_quits(net: MemoryNetwork, room: list[MemoryClient]) -> None:
    alice, bob, carol, dave = room
    assert counted(net, room, lambda: dave.send("PART #dev")) == 4  # the parter sees it too
    carol.lines()
    before = net.chat.metrics.deliveries
    bob.send("/quit bye")
    # The quit reaches alice and carol; bob's own closing line is a reply, not a delivery.
    assert net.chat.metrics.deliveries - before == 2
    assert len(alice.lines()) == 1 and len(carol.lines()) == 1


def test_messages_commands_and_registrations(net: MemoryNetwork) -> None:
    m = net.chat.metrics
    alice = net.irc("alice")
    net.plain("bob")
    assert m.registrations == 2
    alice.send("JOIN #r")
    alice.send("PRIVMSG #r,bob :two targets")
    alice.send("NOTICE bob :one")
    assert m.messages == 3
    assert m.commands["PRIVMSG"].count == 1
    assert m.commands["NOTICE"].count == 1
    assert m.commands["JOIN"].count == 1
    assert m.commands["PRIVMSG"].seconds > 0


def test_unknown_verbs_share_one_label(net: MemoryNetwork) -> None:
    m = net.chat.metrics
    alice = net.irc("alice")
    for i in range(50):
        alice.send(f"VERB{i} x")
    assert m.commands["unknown"].count == 50
    assert m.error_replies["421"] == 50
    assert not any(verb.startswith("VERB") for verb in m.commands)


def test_error_replies_by_code_and_fail_codes(net: MemoryNetwork) -> None:
    m = net.chat.metrics
    alice = net.irc("alice")
    alice.send("JOIN")
    alice.send("PRIVMSG nobody :hi")
    alice.feed(b"PRIVMSG alice :\xff\xfe\r\n")
    assert m.error_replies["461"] == 1
    assert m.error_replies["401"] == 1
    assert m.error_replies["INVALID_UTF8"] == 1
    alice.send("TIME")  # an answer, not an error
    assert sum(m.error_replies.values()) == 3


def test_a_failing_handler_is_an_internal_error(
    net: MemoryNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setitem(COMMANDS, "TIME", CommandSpec(broken))
    alice = net.irc("alice")
    alice.send("TIME")
    assert any(" 400 alice TIME " in line for line in alice.lines())
    assert net.chat.metrics.internal_errors["command"] == 1
    assert net.chat.metrics.error_replies["400"] == 1


def flood_config(**limits: object) -> Config:
    return replace(Config(), limits=replace(LimitsConfig(), **limits))  # type: ignore[arg-type]


def test_flood_delays_and_disconnects() -> None:
    net = MemoryNetwork(flood_config(flood_burst=2, flood_backlog=10), flood=True)
    m = net.chat.metrics
    alice = net.irc("alice")
    net.advance(10)
    alice.feed(b"PING :1\r\nPING :2\r\nPING :3\r\nPING :4\r\n")
    assert m.flood_delays == 1
    assert m.flood_disconnects == 0
    alice.feed(b"PING :x\r\n" * 50)
    assert m.flood_disconnects == 1
    assert alice.client.quitting


# -- the loop's seam for HTTP (writable while a response waits) ------------------------


def test_set_reader_interest_adds_and_removes_writability() -> None:
    server = Server(replace(Config(), storage=StorageConfig(path="")))
    a, b = socket.socketpair()
    calls: list[str] = []
    try:
        server.add_reader(a, lambda: calls.append("ready"))
        server.run_once(timeout=0)
        assert calls == []  # nothing to read yet
        server.set_reader_interest(a, read=False, write=True)
        assert server.selector.get_key(a).events == selectors.EVENT_WRITE
        server.run_once(timeout=0)
        assert calls == ["ready"]  # a socketpair is writable at once
        b.send(b"x")
        server.set_reader_interest(a, read=True, write=False)
        server.run_once(timeout=1)
        assert calls == ["ready", "ready"]
        with pytest.raises(ValueError, match="reading, writing or both"):
            server.set_reader_interest(a, read=False, write=False)
        with pytest.raises(ValueError, match="not added with add_reader"):
            server.set_reader_interest(server._wake_r)
        assert server.remove_reader(a)
    finally:
        a.close()
        b.close()
        server.shutdown()
