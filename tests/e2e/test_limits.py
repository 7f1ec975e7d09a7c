"""End to end over real TCP: what the server refuses, and that refusing harms no one else.

Long lines, a flood, a client that never reads, too many connections, silent
and idle connections. Each test checks both the one user the limit applies to
(the exact line they see) and that everybody else carries on.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable
from dataclasses import replace

from ircish.config import Config, LimitsConfig
from tests.e2e.e2e_support import heard, person, settle
from tests.helpers import LineClient, RunningServer

TOO_LONG = "! Line too long (the limit is 512 bytes); it was not sent"


def limits(**kw: object) -> Config:
    return Config(limits=replace(LimitsConfig(), **kw))


# -- long lines ----------------------------------------------------------------


def test_100kb_line_is_refused_and_the_connection_kept(
    server: RunningServer, clients: list[LineClient]
) -> None:
    alice, bob = person(server, "alice", clients), person(server, "bob", clients)
    settle(alice, [alice, bob])

    alice.conn.send_raw(b"y" * 100_000 + b"\r\n")
    assert heard(alice, [alice, bob]) == {"alice": [TOO_LONG], "bob": []}

    alice.send("the next line works")
    assert heard(alice, [bob])["bob"] == ["[#lobby] <alice> the next line works"]


def test_100kb_first_line_before_registering(
    server: RunningServer, clients: list[LineClient]
) -> None:
    """Even before the dialect is known, a huge line costs one error line, not the connection."""
    newcomer = server.client()
    clients.append(newcomer)
    newcomer.send_raw(b"z" * 100_000 + b"\r\n")
    newcomer.expect(r"^\*\*\* This is ircish\.local\. Type a nickname")
    assert newcomer.expect(r".") == TOO_LONG
    newcomer.send("zed")
    assert newcomer.expect(r".") == "*** Welcome to ircish, zed! Type /help for the commands."


def test_line_length_limit_boundary(server: RunningServer, clients: list[LineClient]) -> None:
    """512 bytes before the line ending are allowed; 513 are not (CRLF or bare LF)."""
    alice, bob = person(server, "alice", clients), person(server, "bob", clients)
    settle(alice, [alice, bob])

    exact = "a" * 511 + "Z"
    sent = [f"[#lobby] <alice> {exact}"]  # what bob reads, and alice's echo of it
    alice.conn.send_raw(exact.encode() + b"\r\n")
    assert heard(alice, [alice, bob]) == {"alice": sent, "bob": sent}
    alice.conn.send_raw(exact.encode() + b"\n")
    assert heard(alice, [alice, bob]) == {"alice": sent, "bob": sent}

    alice.conn.send_raw(b"b" * 513 + b"\r\n")
    assert heard(alice, [alice, bob]) == {"alice": [TOO_LONG], "bob": []}
    alice.conn.send_raw(b"b" * 513 + b"\n")
    assert heard(alice, [alice, bob]) == {"alice": [TOO_LONG], "bob": []}

    # The limit counts bytes, not characters: 256 Cyrillic letters are 512 bytes.
    cyrillic = "ж" * 256
    alice.send(cyrillic)
    sent = [f"[#lobby] <alice> {cyrillic}"]
    assert heard(alice, [alice, bob]) == {"alice": sent, "bob": sent}
    alice.send(cyrillic + "!")
    assert heard(alice, [alice, bob]) == {"alice": [TOO_LONG], "bob": []}

    # A long line arriving in pieces is refused once, and the next line is whole.
    for _ in range(4):
        alice.conn.send_raw(b"c" * 200)
    alice.conn.send_raw(b"\r\nafter the pieces\r\n")
    assert heard(alice, [alice, bob]) == {
        "alice": [TOO_LONG, "[#lobby] <alice> after the pieces"],
        "bob": ["[#lobby] <alice> after the pieces"],
    }


# -- a flood -----------------------------------------------------------------------


def test_flood_does_not_stall_other_users(server: RunningServer, clients: list[LineClient]) -> None:
    count = 10_000
    flooder = person(server, "flooder", clients)
    reader = person(server, "reader", clients)
    alice, bob = person(server, "alice", clients), person(server, "bob", clients)
    four = [flooder, reader, alice, bob]
    for p, room in zip(four, ["#flood", "#flood", "#quiet", "#quiet"], strict=True):
        p.send(f"/join {room}")
        p.send("/part #lobby")
    # Settled by each actor, nobody has unread joins or parts left.
    for p in four:
        settle(p, four)

    flood = b"".join(f"/msg #flood line {i:05d}\r\n".encode() for i in range(count))
    sender = threading.Thread(target=flooder.conn.send_raw, args=(flood,), daemon=True)
    sender.start()

    # While the flood is being handled, a conversation elsewhere goes on.
    for i in range(5):
        alice.send(f"ping {i}")
        bob.expect(rf"^\[#quiet\] <alice> ping {i}$")
        bob.send(f"pong {i}")
        alice.expect(rf"^\[#quiet\] <bob> pong {i}$")

    sender.join(timeout=30)
    assert not sender.is_alive(), "the server stopped reading the flooder"

    # The reading member gets every line, in order, and nothing else.
    got = [reader.expect(r".") for _ in range(count)]
    assert got == [f"[#flood] <flooder> line {i:05d}" for i in range(count)]
    assert heard(flooder, [reader])["reader"] == []
    # Left unread: bob's echo of his last line (the waits skipped the earlier ones).
    assert heard(alice, [alice, bob]) == {"alice": [], "bob": ["[#quiet] <bob> pong 4"]}

    # The flooder is still a normal user afterwards.
    flooder.send("/msg alice done")
    alice.expect(r"^\[private\] <flooder> done$")


# -- a client that never reads ---------------------------------------------------------


def test_client_that_never_reads_is_dropped_at_sendq_limit(
    make_server: Callable[..., RunningServer], clients: list[LineClient]
) -> None:
    server = make_server(limits(sendq_bytes=4096))
    alice, carol = person(server, "alice", clients), person(server, "carol", clients)

    slow = socket.socket()
    # A small receive buffer means the kernel holds little on its behalf.
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    slow.connect((server.host, server.port))
    try:
        slow.sendall(b"slow\r\n")
        alice.expect(r"^\*\*\* slow joined #lobby$")
        carol.expect(r"^\*\*\* slow joined #lobby$")

        # Send in small batches that carol (who reads) takes in stride, until
        # the bytes parked for slow pass 4 KiB beyond what the kernel buffers hold.
        text = "x" * 400
        quit_line = "*** slow quit (SendQ exceeded (4096 bytes))"
        for i in range(20_000):
            for j in range(4):
                alice.send(f"{i}.{j} {text}")
            line = carol.expect(lambda s, i=i: s.endswith(f"> {i}.3 {text}") or s == quit_line)
            if line == quit_line:
                break
        else:
            raise AssertionError("the never-reading client was not disconnected")
        alice.expect(rf"^{re.escape(quit_line)}$")

        # The server closed slow's socket: reading what the kernel kept ends in EOF.
        slow.settimeout(5)
        while slow.recv(65536):
            pass

        # The others' chat is unaffected.
        alice.send("are we fine?")
        carol.expect(r"^\[#lobby\] <alice> are we fine\?$")
        carol.send("we are")
        alice.expect(r"^\[#lobby\] <carol> we are$")
        alice.send("/names")
        alice.expect(r"^\*\*\* Users in #lobby: alice carol$")
    finally:
        slow.close()


# -- connection limits -------------------------------------------------------------------


def test_per_ip_limit_applies_to_loopback_when_asked(
    make_server: Callable[..., RunningServer], clients: list[LineClient]
) -> None:
    server = make_server(limits(max_connections_per_ip=2, limit_loopback=True))
    one, two = person(server, "one", clients), person(server, "two", clients)

    third = server.client()
    clients.append(third)
    assert third.expect(r".") == "ERROR :Too many connections from your address"
    third.expect_closed()

    settle(two, [one])  # one has read everything: closing sends FIN, not RST
    one.close()
    # Once the server has seen one leave, the address has room again.
    two.expect(r"^\*\*\* one quit \(Connection closed\)$")
    fourth = person(server, "four", clients)
    fourth.send("hi")
    two.expect(r"^\[#lobby\] <four> hi$")


def test_total_connection_limit(
    make_server: Callable[..., RunningServer], clients: list[LineClient]
) -> None:
    server = make_server(limits(max_connections=2))
    person(server, "one", clients)
    person(server, "two", clients)
    third = server.client()
    clients.append(third)
    assert third.expect(r".") == "ERROR :Server is full, try again later"
    third.expect_closed()


def test_loopback_is_exempt_from_per_ip_limit_by_default(
    make_server: Callable[..., RunningServer], clients: list[LineClient]
) -> None:
    server = make_server(limits(max_connections_per_ip=2))
    people = [person(server, f"user{i}", clients) for i in range(5)]
    people[4].send("five of us")
    for p in people[:4]:
        p.expect(r"^\[#lobby\] <user4> five of us$")


# -- timeouts -------------------------------------------------------------------------------


def test_registration_timeout_closes_a_silent_connection(
    make_server: Callable[..., RunningServer], clients: list[LineClient]
) -> None:
    server = make_server(limits(registration_timeout=1))
    watcher = person(server, "watcher", clients)
    silent = server.client()
    clients.append(silent)
    # An IRC client that never sends USER is just as unregistered (NICK alone, without
    # an IRC opener such as CAP first, would be a human on netcat picking a nickname).
    half = server.client()
    clients.append(half)
    half.send("CAP LS 302")
    half.send("NICK halfway")
    silent.expect(r"Type a nickname")
    assert silent.expect(r".", timeout=10) == "*** Closing connection: Registration timed out"
    silent.expect_closed()
    assert half.expect(r"^ERROR ", timeout=10) == (
        "ERROR :Closing Link: localhost (Registration timed out)"
    )
    half.expect_closed()
    # Nobody else noticed anything: it never had a nickname.
    assert heard(watcher, [watcher])["watcher"] == []


def test_idle_timeout_for_plain_users(
    make_server: Callable[..., RunningServer], clients: list[LineClient]
) -> None:
    server = make_server(limits(idle_timeout=1))
    idle = person(server, "idle", clients)
    # The witness speaks IRC: the idle timeout is for plain users (IRC ones get PINGs).
    witness = server.irc("witness")
    clients.append(witness)
    witness.send("JOIN #lobby")
    idle.expect(r"^\*\*\* witness joined #lobby$")

    assert idle.expect(r"^\*\*\* Closing", timeout=10) == (
        "*** Closing connection: Idle for 1 second"
    )
    idle.conn.expect_closed()
    witness.expect(r"^:idle!~plain@localhost QUIT :Idle for 1 second$")
