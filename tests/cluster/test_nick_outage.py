"""Nicknames across a Redis outage: two users who took one nickname on two processes
while Redis was away are two users again once it is back, and only one keeps the nickname.

Redis decides (the first claim made again wins); the other user is renamed to a
nickname made of their uid, told why, and announced again, so every process shows
two distinct users: messages from each arrive under their own nickname, NAMES lists both.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from ircish.core.names import fold
from tests.cluster.redis_support import Node, RedisProxy, RedisServer
from tests.cluster.test_network import human, irc
from tests.e2e.e2e_support import ServerProcess, wait
from tests.helpers import LineClient

TAKEN = (
    r"^\*\*\* Your nickname alice was taken on another server while the network was "
    r"degraded, and that server holds it: you are now (\S+)\.$"
)
#: Time for the processes to reconnect (the backoff) and settle the claims.
SETTLE = 20.0


def holder(redis: RedisServer, nick: str) -> str:
    """The node name (without its suffix) whose claim holds ``nick``, once one does."""
    deadline = time.monotonic() + SETTLE
    while (value := redis.command("GET", f"ircish:nick:{fold(nick)}")) is None:
        assert time.monotonic() < deadline, f"nobody claimed {nick} again"
        time.sleep(0.05)  # polling Redis, bounded by the deadline
    return bytes(value).decode().split("/")[0]


def renamed(loser: LineClient) -> str:
    """The loser's notice, then their own NICK change: the nickname they now have."""
    new = re.match(TAKEN, loser.expect(TAKEN, timeout=SETTLE))
    assert new is not None
    nick = new.group(1)
    loser.expect(rf"^\*\*\* alice is now known as {re.escape(nick)}$")
    return nick


def names(conn: LineClient, room: str) -> list[str]:
    conn.send(f"NAMES {room}")
    return sorted(wait(conn, "353").params[-1].split())


def test_two_users_who_took_one_nick_during_an_outage_are_told_apart_after_it(
    make_redis: Callable[..., RedisServer], node: Node, opened: list[LineClient]
) -> None:
    redis = make_redis(persist=True)
    a = node(redis, "node-a")
    b = node(redis, "node-b")
    c = node(redis, "node-c")
    carol = human(c, "carol", opened)
    dave = irc(c, "dave", opened)
    dave.send("JOIN #lobby")
    wait(dave, "366")

    redis.kill()
    carol.expect(r"^\*\*\* The network is degraded: ")
    # Neither process can ask Redis: each lets its own alice take the nickname.
    alice = {"node-a": human(a, "alice", opened), "node-b": human(b, "alice", opened)}
    redis.restart()

    won = holder(redis, "alice")
    winner = alice[won]
    loser = alice["node-b" if won == "node-a" else "node-a"]
    new = renamed(loser)
    # The new nickname is claimed for the loser's process.
    assert holder(redis, new) != won

    # Everyone sees two users: each one's messages under their own nickname...
    loser.send("from the loser")
    winner.expect(rf"^\[#lobby\] <{re.escape(new)}> from the loser$", timeout=SETTLE)
    carol.expect(rf"^\[#lobby\] <{re.escape(new)}> from the loser$", timeout=SETTLE)
    winner.send("from the winner")
    loser.expect(r"^\[#lobby\] <alice> from the winner$", timeout=SETTLE)
    carol.expect(r"^\[#lobby\] <alice> from the winner$", timeout=SETTLE)
    # ... and both in NAMES, on a third process.
    assert names(dave, "#lobby") == sorted(["alice", new, "carol", "dave"])
    assert not any(re.search(TAKEN, x) for x in winner.received), winner.received
    _no_tracebacks(a, b, c)


def test_a_process_cut_off_from_redis_renames_its_user_when_back(
    redis_server: RedisServer,
    make_proxy: Callable[[RedisServer], RedisProxy],
    node: Node,
    opened: list[LineClient],
) -> None:
    proxy = make_proxy(redis_server)
    # A long lease: the cut-off process is not reaped meanwhile.
    a = node(redis_server, "node-a", lease=10)
    b = node(proxy, "node-b", lease=10)
    c = node(redis_server, "node-c", lease=10)
    bob = human(b, "bob", opened)
    carol = human(c, "carol", opened)
    erin = irc(b, "erin", opened)
    erin.send("JOIN #lobby")
    wait(erin, "366")
    carol.expect(r"^\*\*\* erin joined #lobby$")

    proxy.cut()  # Redis stays up for a and c
    bob.expect(r"^\*\*\* The network is degraded: ")
    alice_b = human(b, "alice", opened)  # unique on b only
    alice_a = human(a, "alice", opened)  # claimed in Redis
    carol.expect(r"^\*\*\* alice joined #lobby$")
    assert holder(redis_server, "alice") == "node-a"
    proxy.restore()

    new = renamed(alice_b)
    bob.expect(rf"^\*\*\* alice is now known as {re.escape(new)}$", timeout=SETTLE)
    # b had refused a's alice (the nickname was taken there): it learns of her now.
    bob.expect(r"^\*\*\* alice joined #lobby$", timeout=SETTLE)
    carol.expect(rf"^\*\*\* {re.escape(new)} joined #lobby$", timeout=SETTLE)
    alice_b.send("from b")
    for conn in (alice_a, carol):
        conn.expect(rf"^\[#lobby\] <{re.escape(new)}> from b$", timeout=SETTLE)
    alice_a.send("from a")
    for conn in (alice_b, bob, carol):
        conn.expect(r"^\[#lobby\] <alice> from a$", timeout=SETTLE)
    assert names(erin, "#lobby") == sorted(["alice", new, "bob", "carol", "erin"])
    assert not any(re.search(TAKEN, x) for x in alice_a.received), alice_a.received
    _no_tracebacks(a, b, c)


def _no_tracebacks(*procs: ServerProcess) -> None:
    for proc in procs:
        assert "Traceback" not in proc.log(), proc.log()
