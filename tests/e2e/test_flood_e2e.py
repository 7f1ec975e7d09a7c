"""Flood control over real sockets, with the default burst and backlog bound.

A flooder pipelining thousands of lines is disconnected ("Excess Flood")
without delaying the others; someone pasting a few lines more than the burst
gets every line delivered, in order, spaced out rather than dropped.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import replace

from ircish.config import Config, LimitsConfig
from tests.helpers import LineClient, RunningServer

#: A short interval keeps the test quick; the burst and backlog are the defaults.
LIMITS = replace(LimitsConfig(), flood_interval=0.05)


def irc(server: RunningServer, nick: str, clients: list[LineClient]) -> LineClient:
    c = server.irc(nick)
    clients.append(c)
    c.send("JOIN #r")
    c.expect(rf" 366 {nick} #r ")
    return c


def test_a_flooder_is_cut_off_while_others_talk(
    make_server: Callable[..., RunningServer], clients: list[LineClient]
) -> None:
    server = make_server(replace(Config(), limits=LIMITS), flood=True)
    alice, bob = irc(server, "alice", clients), irc(server, "bob", clients)
    flooder = irc(server, "flooder", clients)
    flood = b"".join(f"PRIVMSG #r :spam {i}\r\n".encode() for i in range(5000))
    sender = threading.Thread(target=flooder.send_raw, args=(flood,), daemon=True)
    sender.start()
    flooder.expect(r"^ERROR :Closing Link: .*\(Excess Flood\)$")
    alice.expect(r"^:flooder!\S+ QUIT :Excess Flood$")
    # Meanwhile and afterwards the others talk as usual.
    for i in range(3):
        alice.send(f"PRIVMSG #r :ping {i}")
        bob.expect(rf"^:alice!\S+ PRIVMSG #r :ping {i}$")
    spam = [x for x in bob.received if "spam" in x]
    assert len(spam) < 100, "the flood was delayed, not relayed"
    sender.join(timeout=10)


def test_a_paste_beyond_the_burst_is_delayed_not_dropped(
    make_server: Callable[..., RunningServer], clients: list[LineClient]
) -> None:
    server = make_server(replace(Config(), limits=LIMITS), flood=True)
    alice, bob = irc(server, "alice", clients), irc(server, "bob", clients)
    alice.send_raw(b"".join(f"PRIVMSG #r :line {i}\r\n".encode() for i in range(30)))
    got = [bob.expect(r"PRIVMSG #r :line ") for _ in range(30)]
    assert [re.sub(r"^.* :", "", x) for x in got] == [f"line {i}" for i in range(30)]
