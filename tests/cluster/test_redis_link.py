"""The Redis link (``ircish.net.redis``) against a real ``redis-server``, through the real loop.

Each test turns a real ``Server`` loop by hand (``LoopDriver``) or runs a
whole ``RunningServer``; Redis is a real process that the tests kill, pause
and restart. What is asserted is what the later cluster code will rely on:
replies in order, one send per pass, blocking reads that block nothing else,
clear errors for every command that will never be answered, and a link that
comes back by itself.
"""

from __future__ import annotations

import math
import queue
import random
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from ircish.config import ClusterConfig, Config, parse_redis_url
from ircish.net.redis import (
    RedisConnection,
    RedisConnectionError,
    RedisError,
    RedisReplyError,
    backoff_delay,
    blocking_timeout,
    check_redis,
)
from tests.cluster.redis_support import LoopDriver, RedisServer
from tests.e2e.e2e_support import free_port
from tests.helpers import LineClient, RunningServer


class Replies:
    """Callbacks for ``call``: ``replies.one()`` makes one, ``replies[i]`` is what it got."""

    def __init__(self) -> None:
        self.got: list[Any] = []
        self._slots: list[list[Any]] = []

    def one(self) -> Callable[[Any], None]:
        slot: list[Any] = []
        self._slots.append(slot)
        return slot.append

    def __getitem__(self, i: int) -> Any:
        (value,) = self._slots[i]
        return value

    def done(self) -> bool:
        return all(self._slots)

    def values(self) -> list[Any]:
        return [slot[0] for slot in self._slots]


def connected(loop: LoopDriver, url: str, **kw: Any) -> RedisConnection:
    link = loop.link(url, **kw)
    loop.run_until(lambda: link.connected, what=f"{link} to connect")
    return link


# -- commands and replies ----------------------------------------------------------


def test_replies_come_back_in_order_and_an_error_reply_keeps_the_link(
    loop: LoopDriver, redis_server: RedisServer
) -> None:
    link = connected(loop, redis_server.url)
    r = Replies()
    link.call("SET", "greeting", "привет", callback=r.one())
    link.call("GET", "greeting", callback=r.one())
    link.call("LPUSH", "greeting", "x", callback=r.one())  # wrong type: an error reply
    link.call("INCR", "counter", callback=r.one())
    link.call("GET", "nothing", callback=r.one())
    link.call("HSET", "h", "a", b"\x00\xff", callback=r.one())
    link.call("HGETALL", "h", callback=r.one())
    loop.run_until(r.done, what="the replies")
    assert r[0] == b"OK"
    assert r[1] == "привет".encode()
    assert isinstance(r[2], RedisReplyError)
    assert str(r[2]).startswith("WRONGTYPE")
    assert r[3] == 1
    assert r[4] is None
    assert r[5] == 1
    assert r[6] == [b"a", b"\x00\xff"]
    assert link.connected
    assert redis_server.command("GET", "counter") == b"1"


def test_a_pass_worth_of_commands_goes_out_in_one_send(
    loop: LoopDriver, redis_server: RedisServer
) -> None:
    link = connected(loop, redis_server.url)
    sends = link.sends
    r = Replies()
    # 500 commands (10 KB, less than a socket's smallest send buffer) ...
    for _ in range(500):
        link.call("INCR", "n", callback=r.one())
    loop.run_until(r.done, what="500 replies")
    assert r.values() == list(range(1, 501))
    # ... in one system call: pipelined, not one round trip each.
    assert link.sends - sends == 1


def test_a_callback_is_never_called_inside_call(
    loop: LoopDriver, redis_server: RedisServer
) -> None:
    link = loop.link(redis_server.url)
    link.close()
    r = Replies()
    link.call("PING", callback=r.one())
    assert not r.done()
    loop.run_until(r.done)
    assert isinstance(r[0], RedisConnectionError)
    assert "is closed" in str(r[0])


def test_the_link_names_itself_to_redis(loop: LoopDriver, redis_server: RedisServer) -> None:
    link = connected(loop, redis_server.url, client_name="ircish:node-a")
    r = Replies()
    link.call("CLIENT", "GETNAME", callback=r.one())
    loop.run_until(r.done)
    assert r[0] == b"ircish:node-a"


def test_a_quiet_link_pings_redis(loop: LoopDriver, redis_server: RedisServer) -> None:
    link = connected(loop, redis_server.url, idle_ping=0.1)
    before = link.commands
    loop.run_until(lambda: link.commands >= before + 2, what="two idle pings")
    assert link.connected


# -- blocking reads ------------------------------------------------------------------


def test_xread_block_on_its_own_connection_blocks_nothing_else(
    loop: LoopDriver, redis_server: RedisServer
) -> None:
    main = connected(loop, redis_server.url, client_name="ircish:n1")
    streams = main.dedicated("streams")
    loop.links.append(streams)
    loop.run_until(lambda: streams.connected, what="the second connection")
    assert b"name=ircish:n1:streams" in redis_server.command("CLIENT", "LIST")
    read = Replies()
    started = time.monotonic()
    streams.call(
        "XREAD",
        "BLOCK",
        10_000,
        "STREAMS",
        "events",
        "$",
        callback=read.one(),
        timeout=blocking_timeout(10, main.reply_timeout),
    )
    others = Replies()
    for i in range(20):
        main.call("SET", f"k{i}", i, callback=others.one())
    loop.run_until(others.done, what="the other connection's replies")
    assert not read.done()
    added = Replies()
    main.call("XADD", "events", "*", "msgid", "abc123", "text", "hi", callback=added.one())
    loop.run_until(read.done, what="the blocked XREAD's reply")
    assert time.monotonic() - started < 5  # answered by the XADD, not by the BLOCK timeout
    [[stream, [[entry_id, fields]]]] = read[0]
    assert stream == b"events"
    assert entry_id == added[0]
    assert fields == [b"msgid", b"abc123", b"text", b"hi"]


def test_chat_goes_on_while_the_server_waits_in_xread(redis_server: RedisServer) -> None:
    config = replace(Config(), cluster=ClusterConfig(redis_url=redis_server.url))
    srv = RunningServer(config)
    clients: list[LineClient] = []
    try:
        assert srv.server.redis is not None
        got: queue.Queue[Any] = queue.Queue()

        def block() -> None:
            streams = RedisConnection(srv.server, parse_redis_url(redis_server.url), name="streams")
            streams.start()
            streams.call(
                "XREAD", "BLOCK", 20_000, "STREAMS", "s", "$", callback=got.put, timeout=30.0
            )

        srv.server.call_soon(block)
        deadline = time.monotonic() + 5
        while b"cmd=xread" not in redis_server.command("CLIENT", "LIST"):
            assert time.monotonic() < deadline, "the XREAD never reached Redis"
            time.sleep(0.02)  # polling Redis, bounded by the deadline
        alice, bob = srv.plain("alice"), srv.plain("bob")
        clients += [alice, bob]
        for i in range(10):
            alice.send(f"line {i}")
            bob.expect(rf"^\[#lobby\] <alice> line {i}$")
        assert got.empty()
        redis_server.command("XADD", "s", "*", "k", "v")
        [[stream, [[_entry_id, fields]]]] = got.get(timeout=5)
        assert (stream, fields) == (b"s", [b"k", b"v"])
    finally:
        for c in clients:
            c.close()
        srv.stop()


# -- losing Redis ------------------------------------------------------------------


def test_killed_redis_fails_what_waits_and_the_link_comes_back(
    loop: LoopDriver, redis_server: RedisServer
) -> None:
    events: list[bool] = []
    main = connected(loop, redis_server.url, backoff_base=0.05, backoff_cap=0.4)
    main.add_listener(events.append)
    streams = connected(loop, redis_server.url, name="streams", backoff_cap=0.4)
    waiting = Replies()
    streams.call("XREAD", "BLOCK", 0, "STREAMS", "s", "$", callback=waiting.one(), timeout=math.inf)
    ping = Replies()
    main.call("PING", callback=ping.one())
    loop.run_until(ping.done, what="the PING")
    assert ping[0] == b"PONG"
    redis_server.kill()
    loop.run_until(lambda: not main.connected and waiting.done(), what="the failures")
    error = waiting[0]
    assert isinstance(error, RedisConnectionError)
    assert f"lost the connection to Redis at {redis_server.url} before the reply" in str(error)
    assert events == [False]

    # While it is down, a command fails at once with why.
    down = Replies()
    main.call("GET", "x", callback=down.one())
    loop.run_until(down.done)
    assert isinstance(down[0], RedisConnectionError)
    assert str(down[0]).startswith(f"not connected to Redis at {redis_server.url}: ")

    # Retries back off: each wait at least the previous one's lower bound, capped.
    loop.run_until(lambda: len(main.retry_delays) >= 5, what="five retries", timeout=10)
    delays = list(main.retry_delays)
    assert all(0 < d <= 0.4 for d in delays)
    assert delays[3] >= 0.2 and delays[4] >= 0.2  # doubled from 0.05 up to the cap
    assert "Connection refused" in main.last_error

    redis_server.restart()
    loop.run_until(lambda: main.connected and streams.connected, what="reconnection", timeout=10)
    assert events == [False, True]
    again = Replies()
    main.call("SET", "back", "yes", callback=again.one())
    loop.run_until(again.done)
    assert again[0] == b"OK"
    assert main.retry_delays == type(main.retry_delays)()


def test_a_redis_that_stops_answering_counts_as_lost(
    loop: LoopDriver, redis_server: RedisServer
) -> None:
    link = connected(loop, redis_server.url, reply_timeout=0.5, connect_timeout=0.5)
    r = Replies()
    redis_server.pause()
    try:
        link.call("PING", callback=r.one())
        loop.run_until(r.done, what="the reply timeout")
        assert isinstance(r[0], RedisConnectionError)
        assert "no reply within 0.5 s" in str(r[0])
        # The kernel still accepts connections for the paused Redis, but nothing answers.
        loop.run_until(
            lambda: "no answer within 0.5 s" in link.last_error, what="a failed handshake"
        )
    finally:
        redis_server.resume()
    loop.run_until(lambda: link.connected, what="reconnection", timeout=10)


# -- where and how to connect ------------------------------------------------------


def test_password_in_the_url(loop: LoopDriver, make_redis: Callable[..., RedisServer]) -> None:
    redis = make_redis(password="s3cret-pw")
    link = connected(loop, redis.url)
    r = Replies()
    link.call("SET", "k", "v", callback=r.one())
    loop.run_until(r.done)
    assert r[0] == b"OK"
    check_redis(parse_redis_url(redis.url))


def test_wrong_password_is_a_clear_error_that_hides_the_password(
    loop: LoopDriver, make_redis: Callable[..., RedisServer]
) -> None:
    redis = make_redis(password="s3cret-pw")
    wrong = f"redis://:not-it@127.0.0.1:{redis.port}/0"
    with pytest.raises(RedisReplyError) as info:
        check_redis(parse_redis_url(wrong))
    assert str(info.value).startswith(f"redis://:***@127.0.0.1:{redis.port}/0: AUTH refused: ")
    assert "not-it" not in str(info.value)
    with pytest.raises(RedisReplyError, match=r"PING refused: NOAUTH .*redis://:PASSWORD@"):
        check_redis(parse_redis_url(f"redis://127.0.0.1:{redis.port}/0"))
    link = loop.link(wrong)
    loop.run_until(lambda: "AUTH refused" in link.last_error, what="the refusal")
    assert not link.connected


def test_an_acl_user_in_the_url(loop: LoopDriver, make_redis: Callable[..., RedisServer]) -> None:
    redis = make_redis(users=("alice on >wonderland ~* &* +@all",))
    link = connected(loop, f"redis://alice:wonderland@127.0.0.1:{redis.port}")
    r = Replies()
    link.call("ACL", "WHOAMI", callback=r.one())
    loop.run_until(r.done)
    assert r[0] == b"alice"


def test_the_database_in_the_url(loop: LoopDriver, redis_server: RedisServer) -> None:
    link = connected(loop, f"redis://127.0.0.1:{redis_server.port}/3")
    r = Replies()
    link.call("SET", "where", "three", callback=r.one())
    loop.run_until(r.done)
    assert redis_server.command("GET", "where", db=3) == b"three"
    assert redis_server.command("GET", "where") is None


def test_a_unix_socket(loop: LoopDriver, redis_server: RedisServer) -> None:
    url = f"unix://{redis_server.unix_path}?db=2"
    check_redis(parse_redis_url(url))
    link = connected(loop, url)
    r = Replies()
    link.call("SET", "via", "unix", callback=r.one())
    loop.run_until(r.done)
    assert redis_server.command("GET", "via", db=2) == b"unix"


def test_a_host_name_is_looked_up_off_the_loop(loop: LoopDriver, redis_server: RedisServer) -> None:
    lookups: list[Any] = []

    def offload(work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        lookups.append(work)
        loop.server.workers.offload(work, done)

    # "localhost" may give ::1 first, where this Redis does not listen: the next address is tried.
    link = connected(loop, f"redis://localhost:{redis_server.port}/0", offload=offload)
    assert len(lookups) == 1
    # A literal address needs no lookup at all.
    connected(loop, redis_server.url, offload=offload)
    assert len(lookups) == 1
    assert link.connected


def test_nothing_listening(loop: LoopDriver) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    with pytest.raises(RedisConnectionError, match=rf"^{url}: Connection refused$"):
        check_redis(parse_redis_url(url))
    link = loop.link(url)
    loop.run_until(lambda: link.last_error == "Connection refused", what="the refusal")


def test_not_redis(loop: LoopDriver) -> None:
    """Something else on the port (here an ircish server) is refused, not trusted."""
    srv = RunningServer()
    try:
        url = f"redis://127.0.0.1:{srv.port}/0"
        with pytest.raises(RedisError, match=rf"^{url}: "):
            check_redis(parse_redis_url(url), timeout=2.0)
        link = loop.link(url, connect_timeout=1.0)
        loop.run_until(lambda: bool(link.last_error), what="a failure", timeout=10)
        assert not link.connected
    finally:
        srv.stop()


# -- backoff -----------------------------------------------------------------------


def test_backoff_doubles_up_to_the_cap_with_jitter() -> None:
    rng = random.Random(7)
    for attempt, step in enumerate([0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0]):
        delays = [backoff_delay(attempt, 0.2, 5.0, rng) for _ in range(200)]
        assert all(step / 2 <= d <= step for d in delays)
        assert max(delays) - min(delays) > step / 4  # spread out, not in lockstep
    assert backoff_delay(10_000, 0.2, 5.0, rng) <= 5.0
