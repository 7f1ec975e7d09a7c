"""``[storage] commit_interval``: passes close together share one commit, and their output
waits for it; after a quiet spell a pass commits and writes at once.

The loop is driven by hand (``run_once``) with real sockets and a real SQLite file; the
server module's clock is the test's, so "within the interval" does not depend on how
fast the machine is.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

import ircish.net.server as server_module
from ircish.config import Config, LimitsConfig, StorageConfig
from ircish.net.server import Server
from tests.integration.test_write_coalesce import Peer, pump

INTERVAL = 0.05


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    fake = types.SimpleNamespace(monotonic=clock.monotonic, time=clock.monotonic)
    monkeypatch.setattr(server_module, "time", fake)
    return clock


def ticking(srv: Server, clock: Clock, done: Callable[[], bool]) -> None:
    """``pump``, with the clock moved past the interval before every pass."""

    def tick() -> bool:
        clock.now += INTERVAL
        return done()

    pump(srv, tick)


def serve(tmp_path: Path, clock: Clock) -> tuple[Server, Peer, Peer]:
    config = Config(
        limits=replace(LimitsConfig(), flood_burst=0),
        storage=StorageConfig(path=str(tmp_path / "h.db"), commit_interval=INTERVAL),
    )
    listener = replace(config.listeners[0], host="127.0.0.1", port=0)
    srv = Server(replace(config, listeners=(listener,)))
    (_, port), *_ = srv.bind()
    alice = Peer(srv, port, "alice")
    ticking(srv, clock, lambda: b" 366 alice " in alice.read())
    bob = Peer(srv, port, "bob")
    ticking(srv, clock, lambda: b":bob!" in alice.read() and b" 366 bob " in bob.read())
    alice.buf = bob.buf = b""
    return srv, alice, bob


def test_passes_within_the_interval_share_one_commit_and_wait_for_it(
    tmp_path: Path, clock: Clock
) -> None:
    srv, alice, bob = serve(tmp_path, clock)
    storage = srv.storage
    assert storage is not None
    try:
        clock.now += 1  # a quiet spell: the next pass commits at once
        before = storage.commits
        alice.send("PRIVMSG #t :one")
        pump(srv, lambda: b":one" in bob.read())
        assert storage.commits == before + 1

        # Within the interval: each message is handled in its own pass, but stored and
        # sent only when the interval is up, both in one transaction.
        alice.send("PRIVMSG #t :two")
        pump(srv, lambda: storage.uncommitted)
        alice.send("PRIVMSG #t :three")
        pump(srv, lambda: b"three" in storage_texts(srv))
        for _ in range(5):
            srv.run_once(timeout=0)
        assert b"two" not in bob.read() and storage.commits == before + 1
        assert srv._timeout() == pytest.approx(INTERVAL, abs=1e-9)

        clock.now += INTERVAL
        pump(srv, lambda: b":three" in bob.read())
        assert b":two" in bob.read()
        assert storage.commits == before + 2
        assert not storage.uncommitted
    finally:
        srv.shutdown()


def storage_texts(srv: Server) -> bytes:
    """The texts queued or stored so far (reads see queued writes)."""
    storage = srv.storage
    assert storage is not None
    rows = storage.query("", "#t", limit=50, latest=True)
    return b" ".join(getattr(row.event, "text", "").encode() for row in rows)


def test_shutdown_sends_what_waits_for_a_commit(tmp_path: Path, clock: Clock) -> None:
    srv, alice, bob = serve(tmp_path, clock)
    storage = srv.storage
    assert storage is not None
    alice.send("PRIVMSG #t :first")
    pump(srv, lambda: b":first" in bob.read())  # committed now: the interval starts
    alice.send("PRIVMSG #t :last words")
    pump(srv, lambda: b"last words" in storage_texts(srv))
    assert b"last words" not in bob.read()
    srv.shutdown()  # commits and writes what was held at once, then closes
    assert b":last words" in bob.read()


def test_writes_committed_elsewhere_while_held_leave_no_early_wake_up(
    tmp_path: Path, clock: Clock
) -> None:
    srv, alice, bob = serve(tmp_path, clock)
    storage = srv.storage
    assert storage is not None
    try:
        alice.send("PRIVMSG #t :first")
        pump(srv, lambda: b":first" in bob.read())
        alice.send("PRIVMSG #t :second")
        pump(srv, lambda: b"second" in storage_texts(srv))
        assert srv._timeout() is not None and srv._timeout() <= INTERVAL  # held
        storage.commit()  # as a start-up step or another writer would
        srv.run_once(timeout=0)
        assert b":second" in bob.read()
        # Nothing waits now: the loop sleeps until its next timer, not 0 s over and over.
        timeout = srv._timeout()
        assert timeout is None or timeout > INTERVAL
    finally:
        srv.shutdown()
