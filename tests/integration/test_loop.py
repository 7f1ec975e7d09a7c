"""The event loop's seams: call_soon, add_reader, per-connection interest, flush failures.

Most tests drive the real ``Server`` loop running in a thread
(``RunningServer``); code that must run in the loop thread gets there with
``call_soon`` (see ``in_loop``). The rest drive ``Server.run_once`` directly
from the test thread.
"""

from __future__ import annotations

import gc
import logging
import re
import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

import ircish.net.server as loop_module
from ircish.config import Config, LimitsConfig, ListenerConfig, StorageConfig
from ircish.net.connection import Connection
from ircish.net.server import Server
from ircish.session import Session
from tests.helpers import LineClient, RunningServer, in_loop

TIMEOUT = 5.0


def wait_until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)  # poll interval of a bounded wait


def connection_of(srv: RunningServer, client: LineClient) -> Connection:
    """The server side of ``client``'s socket."""
    local = client.sock.getsockname()[:2]

    def find() -> Connection | None:
        for conn in srv.server.connections.values():
            if conn.addr[:2] == local:
                return conn
        return None

    conn = in_loop(srv, find)
    assert conn is not None
    return conn


def registered_events(srv: RunningServer, conn: Connection) -> int:
    """The events the selector watches ``conn`` for (0: not registered), read in the loop."""

    def look() -> int:
        try:
            key = srv.server.selector.get_key(conn.sock)
        except KeyError:
            return 0
        assert key.data is conn
        assert key.events == conn.events
        return key.events

    return in_loop(srv, look)


@pytest.fixture
def room(server: RunningServer, clients: list[LineClient]) -> list[LineClient]:
    """alice, bob and carol, IRC clients in #t, each having seen all three join."""
    users = []
    for nick in ("alice", "bob", "carol"):
        c = server.irc(nick)
        clients.append(c)
        c.send("JOIN #t")
        users.append(c)
    for c in users:
        for nick in ("alice", "bob", "carol")[users.index(c) :]:
            c.expect(rf"^:{nick}!\S+ JOIN :?#t$")
    return users


def say(sender: LineClient, nick: str, text: str, *receivers: LineClient) -> None:
    sender.send(f"PRIVMSG #t :{text}")
    for r in receivers:
        r.expect(rf"^:{nick}!\S+ PRIVMSG #t :{re.escape(text)}$")


# -- call_soon ------------------------------------------------------------------


def test_call_soon_from_another_thread_runs_in_the_loop_thread_in_order(
    server: RunningServer,
) -> None:
    ran: list[tuple[int, int]] = []
    done = threading.Event()

    def schedule() -> None:
        for i in range(200):
            server.server.call_soon(lambda i=i: ran.append((i, threading.get_ident())))
        server.server.call_soon(done.set)

    worker = threading.Thread(target=schedule)
    worker.start()
    worker.join(TIMEOUT)
    assert done.wait(TIMEOUT)
    assert [i for i, _ in ran] == list(range(200))
    assert {ident for _, ident in ran} == {server.thread.ident}
    assert worker.ident != server.thread.ident


def test_call_soon_from_many_threads_keeps_each_threads_order(server: RunningServer) -> None:
    ran: list[tuple[int, int]] = []
    barrier = threading.Barrier(4)

    def schedule(t: int) -> None:
        barrier.wait(TIMEOUT)
        for i in range(100):
            server.server.call_soon(lambda i=i: ran.append((t, i)))

    workers = [threading.Thread(target=schedule, args=(t,)) for t in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(TIMEOUT)
    in_loop(server, lambda: None)  # scheduled after every worker's last callback
    assert len(ran) == 400
    for t in range(4):
        assert [i for tt, i in ran if tt == t] == list(range(100))


def test_a_failing_callback_is_logged_and_the_loop_goes_on(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    def boom() -> None:
        raise RuntimeError("callback boom")

    with caplog.at_level(logging.ERROR, logger="ircish.net"):
        server.server.call_soon(boom)
        assert in_loop(server, lambda: 42) == 42
    assert any(r.exc_info and "callback boom" in str(r.exc_info[1]) for r in caplog.records)
    c = server.irc("after")  # the loop still serves clients
    c.close()


@pytest.fixture
def loop() -> Iterator[Server]:
    """A real Server driven by hand with ``run_once`` (no listener, no thread)."""
    srv = Server(Config(storage=StorageConfig(path="")))
    yield srv
    srv.selector.close()
    srv._wake_r.close()
    srv._wake_w.close()


def test_callbacks_scheduled_by_a_callback_run_on_the_next_pass(loop: Server) -> None:
    ran: list[str] = []

    def first() -> None:
        ran.append("first")
        loop.call_soon(lambda: ran.append("nested"))

    loop.call_soon(first)
    loop.call_soon(lambda: ran.append("second"))
    loop.run_once(timeout=TIMEOUT)
    assert ran == ["first", "second"]
    loop.run_once(timeout=TIMEOUT)
    assert ran == ["first", "second", "nested"]


def test_call_soon_from_another_thread_wakes_a_waiting_loop(loop: Server) -> None:
    ran = threading.Event()

    def schedule() -> None:
        # Schedule while the loop waits (or is about to wait) in select.
        wait_until(lambda: loop._selecting, "the loop to wait")
        loop.call_soon(ran.set)

    worker = threading.Thread(target=schedule)
    start = time.monotonic()
    worker.start()
    while not ran.is_set() and time.monotonic() - start < TIMEOUT:
        loop.run_once(timeout=TIMEOUT)
    worker.join(TIMEOUT)
    assert ran.is_set()
    assert time.monotonic() - start < TIMEOUT / 2


# -- add_reader / remove_reader -----------------------------------------------------


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    a.setblocking(False)
    yield a, b
    a.close()
    b.close()


def test_add_reader_calls_back_when_readable_and_remove_reader_stops_it(
    server: RunningServer, pair: tuple[socket.socket, socket.socket]
) -> None:
    a, b = pair
    got: list[tuple[bytes, int]] = []

    def on_readable() -> None:
        got.append((a.recv(4096), threading.get_ident()))

    in_loop(server, lambda: server.server.add_reader(a, on_readable))
    b.send(b"ping")
    wait_until(lambda: len(got) == 1, "the reader callback")
    assert got == [(b"ping", server.thread.ident)]
    b.send(b"pong")
    wait_until(lambda: len(got) == 2, "the second callback")
    assert got[1][0] == b"pong"

    assert in_loop(server, lambda: server.server.remove_reader(a)) is True
    b.send(b"unheard")
    # Data and this callback wake the same pass, and readers run before
    # callbacks: had the reader stayed, it would have been called by now.
    in_loop(server, lambda: None)
    in_loop(server, lambda: None)
    assert len(got) == 2
    assert a.recv(4096) == b"unheard"
    assert in_loop(server, lambda: server.server.remove_reader(a)) is False


def test_add_reader_takes_a_file_descriptor_and_again_replaces_the_callback(
    server: RunningServer, pair: tuple[socket.socket, socket.socket]
) -> None:
    a, b = pair
    got: list[str] = []
    in_loop(server, lambda: server.server.add_reader(a.fileno(), lambda: got.append("old")))
    in_loop(
        server,
        lambda: server.server.add_reader(a, lambda: got.append(f"new {a.recv(10)!r}")),
    )
    b.send(b"x")
    wait_until(lambda: bool(got), "the callback")
    assert got == ["new b'x'"]
    assert in_loop(server, lambda: server.server.remove_reader(a.fileno())) is True


def test_add_reader_refuses_a_socket_the_loop_already_owns(server: RunningServer) -> None:
    listener = server.server.listeners[0].sock
    with pytest.raises(ValueError):
        in_loop(server, lambda: server.server.add_reader(listener, lambda: None))
    with pytest.raises(ValueError):
        in_loop(server, lambda: server.server.remove_reader(listener))
    server.irc("stillok").close()


def test_a_failing_reader_is_logged_and_the_loop_goes_on(
    server: RunningServer,
    pair: tuple[socket.socket, socket.socket],
    caplog: pytest.LogCaptureFixture,
) -> None:
    a, b = pair
    calls: list[bytes] = []

    def on_readable() -> None:
        calls.append(a.recv(4096))
        raise RuntimeError("reader boom")

    with caplog.at_level(logging.ERROR, logger="ircish.net"):
        in_loop(server, lambda: server.server.add_reader(a, on_readable))
        b.send(b"1")
        wait_until(lambda: len(calls) == 1, "the first call")
        b.send(b"2")  # still registered after failing
        wait_until(lambda: len(calls) == 2, "the second call")
    assert calls == [b"1", b"2"]
    assert any(r.exc_info and "reader boom" in str(r.exc_info[1]) for r in caplog.records)
    in_loop(server, lambda: server.server.remove_reader(a))
    server.irc("alive").close()


# -- per-connection interest ----------------------------------------------------------


def test_pausing_one_connection_leaves_the_others_chatting(
    server: RunningServer, room: list[LineClient]
) -> None:
    alice, bob, carol = room
    conn = connection_of(server, bob)
    assert registered_events(server, conn) == selectors.EVENT_READ

    in_loop(server, conn.pause_reading)
    # Paused with nothing to send: the selector must not watch it at all.
    assert registered_events(server, conn) == 0
    bob.send("PRIVMSG #t :while paused")

    # The others chat, and the paused connection still gets their lines.
    say(alice, "alice", "hi all", bob, carol)
    say(carol, "carol", "hi alice", alice, bob)
    assert not any("while paused" in line for line in alice.received + carol.received)
    assert registered_events(server, conn) == 0

    in_loop(server, conn.resume_reading)
    assert registered_events(server, conn) == selectors.EVENT_READ
    alice.expect(r"^:bob!\S+ PRIVMSG #t :while paused$")
    carol.expect(r"^:bob!\S+ PRIVMSG #t :while paused$")
    say(bob, "bob", "back", alice, carol)


def test_pause_and_resume_are_idempotent(server: RunningServer, room: list[LineClient]) -> None:
    alice, bob, _ = room
    conn = connection_of(server, bob)
    in_loop(server, conn.pause_reading)
    in_loop(server, conn.pause_reading)
    assert registered_events(server, conn) == 0
    in_loop(server, conn.resume_reading)
    in_loop(server, conn.resume_reading)
    assert registered_events(server, conn) == selectors.EVENT_READ
    say(bob, "bob", "fine", alice)


def test_a_paused_connection_with_a_backlog_is_watched_for_writing_only(
    loop: Server,
) -> None:
    ours, peer = socket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    ours.setblocking(False)
    peer.settimeout(TIMEOUT)
    conn = Connection(loop, ours, ("127.0.0.1", 1), sendq_limit=1 << 30)
    loop.connections[conn.fd] = conn

    def watched() -> int:
        try:
            key = loop.selector.get_key(ours)
        except KeyError:
            return 0
        return key.events

    try:
        loop.set_interest(conn)
        assert watched() == selectors.EVENT_READ
        conn.pause_reading()
        assert watched() == 0

        chunks = [(b"%06d;" % i) * 40 for i in range(2000)]
        for c in chunks:
            conn.write(c)
        loop.run_once(timeout=0)
        assert conn.out
        assert conn.writing
        assert watched() == selectors.EVENT_WRITE

        got = bytearray()
        total = sum(map(len, chunks))
        for _ in range(100_000):
            if len(got) == total:
                break
            got += peer.recv(1 << 16)
            loop.run_once(timeout=0)
        assert bytes(got) == b"".join(chunks)
        loop.run_once(timeout=0)
        assert not conn.out
        assert not conn.writing
        assert watched() == 0  # drained and still paused: unregistered again

        conn.resume_reading()
        assert watched() == selectors.EVENT_READ
    finally:
        loop.close_connection(conn)
        peer.close()
    assert conn.closed
    assert conn.fd not in loop.selector.get_map()


# -- failures while flushing -------------------------------------------------------------


def test_an_error_while_flushing_one_connection_closes_only_that_one(
    server: RunningServer,
    room: list[LineClient],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    alice, bob, carol = room
    doomed = connection_of(server, bob)
    real_flush = Connection.flush

    def flush(self: Connection) -> None:
        if self is doomed:
            raise RuntimeError("flush boom")
        real_flush(self)

    with caplog.at_level(logging.ERROR, logger="ircish.net"):
        monkeypatch.setattr(Connection, "flush", flush)
        say(alice, "alice", "to everyone", carol)
        bob.expect_closed()
        carol.expect(r"^:bob!\S+ QUIT :")
        alice.expect(r"^:bob!\S+ QUIT :")
    assert any(r.exc_info and "flush boom" in str(r.exc_info[1]) for r in caplog.records)

    say(carol, "carol", "still here", alice)
    say(alice, "alice", "me too", carol)
    assert len(in_loop(server, lambda: list(server.server.connections))) == 2


def test_a_reader_removed_by_another_in_the_same_pass_is_not_called(loop: Server) -> None:
    pairs = [socket.socketpair() for _ in range(2)]
    called: list[int] = []

    def make(me: int) -> Callable[[], None]:
        def on_readable() -> None:
            called.append(me)
            pairs[me][0].recv(10)
            loop.remove_reader(pairs[1 - me][0])

        return on_readable

    try:
        for i, (ours, peer) in enumerate(pairs):
            loop.add_reader(ours, make(i))
            peer.send(b"x")
        loop.run_once(timeout=TIMEOUT)  # both are readable in this one pass
        assert len(called) == 1
        loop.remove_reader(pairs[called[0]][0])
    finally:
        for a, b in pairs:
            a.close()
            b.close()


def test_connections_a_pass_has_no_time_for_are_read_first_in_the_next(
    server: RunningServer, room: list[LineClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no budget at all, each pass reads one connection: all are served, in turn."""
    alice, bob, carol = room
    monkeypatch.setattr(loop_module, "PASS_BUDGET", -1.0)
    for i in range(20):
        alice.send(f"PRIVMSG #t :a{i}")
        bob.send(f"PRIVMSG #t :b{i}")
        carol.send(f"PRIVMSG #t :c{i}")
    for i in range(20):
        carol.expect(rf"^:alice!\S+ PRIVMSG #t :a{i}$")
        alice.expect(rf"^:bob!\S+ PRIVMSG #t :b{i}$")
        bob.expect(rf"^:carol!\S+ PRIVMSG #t :c{i}$")
    # and a newcomer is still accepted (one accept per pass at most)
    late = server.irc("late")
    late.close()


def test_a_storm_of_refused_connections_logs_a_line_a_second(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = replace(Config(), limits=replace(LimitsConfig(), max_connections=1))
    srv = RunningServer(config)
    try:
        first = srv.client()
        first.send("PING :x")
        first.expect("PONG")
        with caplog.at_level(logging.WARNING, logger="ircish.net"):
            for _ in range(30):
                c = srv.client()
                c.expect(r"^ERROR :Server is full")
                c.close()
        refused = [r for r in caplog.records if "refused connection" in r.getMessage()]
        assert 1 <= len(refused) <= 3, [r.getMessage() for r in refused]
        assert srv.server.metrics.connections_refused["server_full"] == 30
    finally:
        srv.stop()


def test_ipv6_connections_are_counted_per_64_network() -> None:
    """One IPv6 user has a whole /64: it is one address for max_connections_per_ip."""
    config = replace(
        Config(storage=StorageConfig(path="")),
        # A free port: the test must not depend on 6667 or 8080 being free.
        listeners=(ListenerConfig(port=0),),
        limits=replace(LimitsConfig(), max_connections_per_ip=2, connect_rate=0),
    )
    srv = Server(config)
    try:
        srv.bind()
        listener = srv.listeners[0]
        peers = []
        for ip in ("2001:db8:1:2::10", "2001:db8:1:2:ffff::1", "2001:db8:1:2::99", "2001:db8:9::1"):
            ours, theirs = socket.socketpair()
            peers.append(theirs)
            srv._admit(listener, ours, (ip, 40000))
        assert srv.per_ip == {"2001:db8:1:2::/64": 2, "2001:db8:9::/64": 1}
        refused = peers[2]
        refused.settimeout(TIMEOUT)
        assert refused.recv(200).startswith(b"ERROR :Too many connections from your address")
        for conn in list(srv.connections.values()):
            srv.close_connection(conn)
        assert not srv.per_ip
    finally:
        for p in peers:
            p.close()
        srv.shutdown()


def test_a_closed_connection_leaves_no_reference_cycle(server: RunningServer) -> None:
    """Freed by reference counting at once: the cyclic collector's full passes over
    thousands of dead connections (a connection storm) stalled everyone for 75-234 ms."""

    def sessions() -> int:
        # gc.get_objects() also holds unreachable objects the collector has not freed yet.
        return sum(1 for o in gc.get_objects() if type(o) is Session)

    gc.collect()
    gc.disable()  # a collection on the way would free the cycles and hide them
    try:
        alive = sessions()
        for i in range(6):
            c = server.irc(f"gone{i}") if i % 2 else server.client()
            c.close()
        deadline = time.monotonic() + TIMEOUT
        while in_loop(server, lambda: len(server.server.connections)):
            assert time.monotonic() < deadline, "the server kept closed connections"
            time.sleep(0.01)  # poll interval of a bounded wait
        in_loop(server, lambda: None)
        assert sessions() == alive
    finally:
        gc.enable()


def _timer_callbacks(srv: RunningServer) -> int:
    """Timer entries other than sessions' wake-ups (the close grace is one), in the loop."""
    return in_loop(srv, lambda: sum(1 for e in srv.server._timers if callable(e[2])))


def test_a_quit_that_takes_its_last_lines_at_once_leaves_no_timer(
    server: RunningServer, clients: list[LineClient]
) -> None:
    before = _timer_callbacks(server)
    for i in range(3):
        c = server.irc(f"q{i}")
        c.send("QUIT :bye")
        c.expect_closed()
    assert _timer_callbacks(server) == before


def test_a_closing_connection_whose_peer_does_not_read_is_cut_off_after_the_grace(
    server: RunningServer, clients: list[LineClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ircish.net.connection.CLOSE_GRACE", 0.2)
    alice = server.irc("alice")
    clients.append(alice)
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    slow.connect((server.host, server.port))
    try:
        slow.sendall(b"NICK slow\r\nUSER slow 0 * :slow\r\nJOIN #t\r\n")
        alice.send("JOIN #t")
        alice.expect(r"^:slow!\S+ JOIN #t|^:alice!\S+ JOIN #t")
        conn = next(
            c
            for c in in_loop(server, lambda: list(server.server.connections.values()))
            if c.addr[:2] == slow.getsockname()[:2]
        )
        # What alice says piles up for slow, who reads nothing, until a backlog waits.
        text = "x" * 400
        deadline = time.monotonic() + TIMEOUT
        while not in_loop(server, lambda: conn.writing):
            assert time.monotonic() < deadline, "no backlog built up"
            for _ in range(20):
                alice.send(f"PRIVMSG #t :{text}")
        slow.sendall(b"QUIT :bye\r\n")
        wait_until(lambda: in_loop(server, lambda: conn.closed), "the grace to cut slow off")
    finally:
        slow.close()
