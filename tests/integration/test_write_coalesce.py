"""``[limits] write_coalesce``: a busy loop writes less often; an idle one never waits.

The loop is driven by hand (``run_once`` from the test thread) with real sockets, and
its selector is wrapped so that the test decides what the first ``select`` of a pass
sees: bob's message is held back from it, as if it arrived while alice's was handled.
"""

from __future__ import annotations

import selectors
import socket
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from ircish.config import Config, LimitsConfig, StorageConfig
from ircish.net.connection import Connection
from ircish.net.server import Server

TIMEOUT = 5.0


class Peer:
    """A blocking IRC client socket whose lines the test reads without the loop's help."""

    def __init__(self, srv: Server, port: int, nick: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.sock.setblocking(False)
        self.buf = b""
        self.srv = srv
        self.send(f"NICK {nick}\r\nUSER {nick} 0 * :{nick}\r\nJOIN #t")

    def send(self, text: str) -> None:
        self.sock.sendall(text.encode() + b"\r\n")

    def read(self) -> bytes:
        """What has arrived so far (nothing blocks)."""
        try:
            while chunk := self.sock.recv(65536):
                self.buf += chunk
        except BlockingIOError:
            pass
        return self.buf


def pump(srv: Server, done: Callable[[], bool]) -> None:
    for _ in range(2000):
        if done():
            return
        srv.run_once(timeout=0.005)
    raise AssertionError("the loop did not get there")


def serve(coalesce: float) -> tuple[Server, list[Peer]]:
    limits = replace(LimitsConfig(), write_coalesce=coalesce, flood_burst=0)
    config = Config(limits=limits, storage=StorageConfig(path=""))
    listener = replace(config.listeners[0], host="127.0.0.1", port=0)
    srv = Server(replace(config, listeners=(listener,)))
    (_, port), *_ = srv.bind()
    peers = []
    for nick in ("alice", "bob", "carol"):
        peers.append(Peer(srv, port, nick))
        # In turn, so that the last to join is the last JOIN everyone sees.
        joined = f":{nick}!".encode()
        pump(srv, lambda joined=joined: all(joined in p.read() for p in peers))
    for peer in peers:
        peer.buf = b""
    return srv, peers


@pytest.fixture
def counted_flushes(monkeypatch: pytest.MonkeyPatch) -> dict[Connection, int]:
    """How many times each connection flushed with something to send."""
    counts: dict[Connection, int] = {}
    real = Connection.flush

    def flush(self: Connection) -> None:
        if self.has_output:
            counts[self] = counts.get(self, 0) + 1
        real(self)

    monkeypatch.setattr(Connection, "flush", flush)
    return counts


class SteppedSelector:
    """The server's selector, but the first select hides ``held`` connections' input."""

    def __init__(self, real: selectors.BaseSelector, held: set[int]) -> None:
        self.real = real
        self.held = held
        self.calls: list[tuple[float | None, int]] = []

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        events = self.real.select(timeout)
        if self.held and not self.calls:
            events = [(k, m) for k, m in events if k.fd not in self.held]
        self.calls.append((timeout, len(events)))
        return events

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def both_sent(srv: Server, peers: list[Peer]) -> tuple[Connection, SteppedSelector]:
    alice, bob, carol = peers
    conns = {c.addr[1]: c for c in srv.connections.values()}
    bob_fd = conns[bob.sock.getsockname()[1]].fd
    carol_conn = conns[carol.sock.getsockname()[1]]
    alice.send("PRIVMSG #t :one")
    bob.send("PRIVMSG #t :two")
    stepped = SteppedSelector(srv.selector, {bob_fd})
    srv.selector = stepped  # type: ignore[assignment]
    return carol_conn, stepped


@pytest.fixture
def close_all() -> Iterator[list[Server]]:
    servers: list[Server] = []
    yield servers
    for srv in servers:
        srv.shutdown()


def test_input_that_arrives_during_a_pass_goes_out_in_the_same_write(
    counted_flushes: dict[Connection, int], close_all: list[Server]
) -> None:
    srv, peers = serve(0.005)
    close_all.append(srv)
    carol_conn, stepped = both_sent(srv, peers)
    counted_flushes.clear()
    srv.run_once(timeout=TIMEOUT)
    got = peers[2].read()
    assert b":alice!" in got and b"PRIVMSG #t :one" in got
    assert b":bob!" in got and b"PRIVMSG #t :two" in got, "bob's came in the same pass"
    assert got.index(b":one") < got.index(b":two")
    assert counted_flushes[carol_conn] == 1, "both messages in one write"
    assert srv.metrics.coalesced_passes == 1
    # The pass looked again at once (timeout 0) and stopped when nothing more was ready.
    assert [t for t, _ in stepped.calls[1:]] == [0, 0]


def test_with_write_coalesce_0_each_pass_writes_what_it_handled(
    counted_flushes: dict[Connection, int], close_all: list[Server]
) -> None:
    srv, peers = serve(0.0)
    close_all.append(srv)
    carol_conn, stepped = both_sent(srv, peers)
    counted_flushes.clear()
    srv.run_once(timeout=TIMEOUT)
    got = peers[2].read()
    assert b"PRIVMSG #t :one" in got and b"PRIVMSG #t :two" not in got
    srv.run_once(timeout=TIMEOUT)
    assert b"PRIVMSG #t :two" in peers[2].read()
    assert counted_flushes[carol_conn] == 2
    assert srv.metrics.coalesced_passes == 0
    assert len(stepped.calls) == 2, "no extra select"


def test_an_idle_loop_sends_at_once(close_all: list[Server]) -> None:
    srv, peers = serve(0.01)
    close_all.append(srv)
    alice, _, carol = peers
    stepped = SteppedSelector(srv.selector, set())
    srv.selector = stepped  # type: ignore[assignment]
    alice.send("PRIVMSG #t :alone")
    srv.run_once(timeout=TIMEOUT)
    assert b"PRIVMSG #t :alone" in carol.read(), "sent by the pass that read it"
    # The pass looked once more (timeout 0), found nothing and wrote: no wait.
    assert stepped.calls[1:] == [(0, 0)]
    assert srv.metrics.coalesced_passes == 0
