"""Flood control in memory: a burst, then one command per interval; delayed, never dropped."""

from __future__ import annotations

from dataclasses import replace

from ircish.config import Config, LimitsConfig
from ircish.flood import FloodGate
from tests.helpers import MemoryClient, MemoryNetwork


def test_the_bucket_gives_a_burst_then_one_per_interval() -> None:
    gate = FloodGate(3, 0.5, now=100.0)
    for _ in range(3):
        assert gate.ready(100.0)
        gate.charge(1)
    assert not gate.ready(100.0)
    assert gate.ready_at() == 100.5
    assert not gate.ready(100.49)
    assert gate.ready(100.5)
    gate.charge(4)  # an expensive command puts the bucket in debt
    assert gate.ready_at() == 100.5 + 4 * 0.5
    assert gate.ready(1000.0) and gate.tokens == 3.0  # never more than the burst


def config(**limits: object) -> Config:
    return replace(Config(), limits=replace(LimitsConfig(), **limits))  # type: ignore[arg-type]


def said(client: MemoryClient) -> list[str]:
    return [m.params[-1] for m in client.messages() if m.verb == "PRIVMSG"]


def test_commands_beyond_the_burst_wait_for_their_turn() -> None:
    net = MemoryNetwork(config(flood_burst=5, flood_interval=0.5), flood=True)
    alice, bob = net.irc("alice"), net.irc("bob")
    for c in (alice, bob):
        c.send("JOIN #r")
    net.advance(10)  # the joins' tokens are back
    alice.session.check_timeouts(net.now)
    bob.lines()
    alice.feed(b"".join(f"PRIVMSG #r :line {i}\r\n".encode() for i in range(8)))
    assert said(bob) == [f"line {i}" for i in range(5)]
    assert len(alice.session.waiting) == 3
    net.advance(0.5)
    alice.session.check_timeouts(net.now)
    assert said(bob) == ["line 5"]
    net.advance(1.0)
    alice.session.check_timeouts(net.now)
    assert said(bob) == ["line 6", "line 7"]
    assert not alice.session.waiting


def test_lines_sent_while_waiting_keep_their_order_and_expensive_ones_cost_more() -> None:
    net = MemoryNetwork(config(flood_burst=5, flood_interval=1.0), flood=True)
    alice, bob = net.irc("alice"), net.irc("bob")
    alice.send("JOIN #r")
    bob.send("JOIN #r")
    net.advance(10)
    bob.lines()
    alice.send("LIST")  # costs 4 of the 5
    alice.send("PRIVMSG #r :first")
    alice.send("PRIVMSG #r :second")  # waits: the bucket is empty
    assert said(bob) == ["first"]
    net.advance(1.0)
    alice.session.check_timeouts(net.now)
    assert said(bob) == ["second"]


def test_a_backlog_past_the_bound_disconnects_with_excess_flood() -> None:
    net = MemoryNetwork(config(flood_burst=2, flood_backlog=10), flood=True)
    alice, bob = net.irc("alice"), net.irc("bob")
    alice.send("JOIN #r")
    bob.send("JOIN #r")
    net.advance(10)
    bob.lines()
    alice.feed(b"".join(f"PRIVMSG #r :spam {i}\r\n".encode() for i in range(50)))
    assert alice.user.nick == "alice" and alice.client.quitting
    assert any("Excess Flood" in line for line in alice.lines())
    assert "QUIT :Excess Flood" in "\n".join(bob.lines())


def test_registration_and_operators_are_not_limited() -> None:
    net = MemoryNetwork(config(flood_burst=1), flood=True)
    alice = net.connect("irc")
    # CAP, NICK, USER and more before the welcome: registration is never delayed.
    alice.feed(b"CAP LS 302\r\nNICK alice\r\nUSER a 0 * :A\r\nCAP REQ :batch\r\nCAP END\r\n")
    assert any(" 001 alice " in line for line in alice.lines())
    alice.user.modes = alice.user.modes | {"o"}
    alice.feed(b"".join(b"PING :%d\r\n" % i for i in range(20)))
    assert sum(" PONG " in line for line in alice.lines()) == 20
