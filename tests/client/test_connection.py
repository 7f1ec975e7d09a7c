"""Reconnection: the backoff state machine alone, then the asyncio loop against a fake server."""

from __future__ import annotations

import asyncio

from ircish.client.commands import execute
from ircish.client.connection import Backoff, Connection, decode, describe, tcp_connector
from tests.client.conftest import fake_irc, make_client, run, wait_until


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_delays_grow_to_a_cap() -> None:
    b = Backoff((1, 2, 4), clock=Clock())
    assert [b.next_delay() for _ in range(5)] == [1, 2, 4, 4, 4]


def test_a_stable_link_resets_the_delays() -> None:
    clock = Clock()
    b = Backoff((1, 2, 4), stable_after=60, clock=clock)
    b.next_delay()
    b.next_delay()
    b.connected()
    clock.now += 61
    assert b.next_delay() == 1


def test_a_link_that_drops_at_once_keeps_growing_the_delay() -> None:
    clock = Clock()
    b = Backoff((1, 2, 4), stable_after=60, clock=clock)
    b.next_delay()
    b.connected()
    clock.now += 5
    assert b.next_delay() == 2


def test_decode_falls_back_to_latin1() -> None:
    assert decode("héllo".encode()) == "héllo"
    assert decode("héllo".encode("latin-1")) == "héllo"


def test_describe_errors() -> None:
    assert describe(ConnectionRefusedError(111, "x")) == "Connection refused"
    assert describe(TimeoutError()) == "timed out"


def test_reconnects_reregisters_rejoins_and_sends_what_was_typed() -> None:
    async def body() -> None:
        async with fake_irc() as server:
            client = make_client(rooms=("#lobby", "#dev"))
            conn = Connection(
                client, tcp_connector("127.0.0.1", server.port), backoff=Backoff((30,))
            )
            task = asyncio.ensure_future(conn.run())
            await server.expect_msg("JOIN", "#lobby,#dev")
            await wait_until(lambda: client.model.current.name == "#lobby", "joined")

            server.conn.close()  # the link drops
            await wait_until(lambda: client.model.state.startswith("reconnecting"), "waiting")
            assert not any(b.joined for b in client.model.rooms())
            assert (
                client.model.current.lines[-1].text
                == "Disconnected: the server closed the connection"
            )
            execute(client, "typed while offline")
            execute(client, "/reconnect")  # instead of waiting 30 s
            conn.flush()

            await wait_until(lambda: len(server.conns) == 2, "second connection")
            server.next_connection()
            await server.expect(r"^NICK alice$")
            await server.expect(r"^USER ")
            await server.expect_msg("JOIN", "#lobby,#dev")
            await server.expect_msg("PRIVMSG", "#lobby", "typed while offline")
            await wait_until(lambda: client.model.state == "connected", "connected")
            assert client.model.current.name == "#lobby"

            client.quit("bye")
            conn.flush()
            await server.expect_msg("QUIT", "bye")
            await asyncio.wait_for(task, 5)
            assert conn.connections == 2

    run(body())


def test_refused_connections_are_retried_with_growing_delays() -> None:
    async def body() -> None:
        async with fake_irc() as server:
            port = server.port
        # The server is gone: every attempt is refused.
        client = make_client()
        delays = Backoff((0.01, 0.02, 0.04))
        conn = Connection(client, tcp_connector("127.0.0.1", port), backoff=delays)
        task = asyncio.ensure_future(conn.run())
        await wait_until(lambda: delays.attempt >= 3, "three attempts")
        errors = [x.text for x in client.model.server.lines if "Cannot connect" in x.text]
        assert errors and errors[0] == "Cannot connect: Connection refused"
        client.quit("bye")
        conn.flush()
        await asyncio.wait_for(task, 5)

    run(body())


def test_silent_server_is_pinged_then_dropped() -> None:
    async def body() -> None:
        async with fake_irc() as server:
            client = make_client(rooms=())
            conn = Connection(
                client,
                tcp_connector("127.0.0.1", server.port),
                backoff=Backoff((30,)),
                ping_interval=0.2,
                ping_timeout=0.2,
            )
            task = asyncio.ensure_future(conn.run())
            await server.expect(r"^USER ")
            await server.expect_msg("PING", "ircish")
            await wait_until(lambda: client.model.state.startswith("reconnecting"), "dropped")
            assert any("no answer from the server" in x.text for x in client.model.server.lines)
            client.quit("bye")
            conn.flush()
            await asyncio.wait_for(task, 5)

    run(body())


def test_quit_waits_for_the_server_to_close() -> None:
    async def body() -> None:
        async with fake_irc() as server:
            client = make_client()
            conn = Connection(client, tcp_connector("127.0.0.1", server.port))
            task = asyncio.ensure_future(conn.run())
            await server.expect(r"^JOIN ")
            client.quit("see you")
            conn.flush()
            await server.expect_msg("QUIT", "see you")
            await asyncio.wait_for(task, 5)
            assert client.model.state == "disconnected"
            assert conn.connections == 1

    run(body())


def test_a_wrong_password_stops_retrying_until_the_user_asks() -> None:
    async def body() -> None:
        async with fake_irc() as server:
            server.refuse_password = True
            client = make_client(password="wrong")
            connect = tcp_connector("127.0.0.1", server.port)
            conn = Connection(client, connect, backoff=Backoff((0.01,)))
            task = asyncio.ensure_future(conn.run())
            await wait_until(lambda: client.fatal is not None, "password refused")
            await wait_until(lambda: client.model.state == "disconnected", "disconnected")
            texts = [x.text for x in client.model.server.lines]
            assert "Wrong server password (use --password)" in texts
            assert any(t.startswith("Not reconnecting (wrong server password)") for t in texts)
            assert len(server.conns) == 1 and not task.done()

            server.refuse_password = False
            execute(client, "/reconnect")
            conn.flush()
            await wait_until(lambda: client.model.state == "connected", "connected")
            assert len(server.conns) == 2
            client.quit("bye")
            conn.flush()
            await asyncio.wait_for(task, 5)

    run(body())
