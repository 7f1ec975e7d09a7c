"""One room's events reach every member, on every process, in one order.

Two senders on two processes talk at once; each process's users (netcat and
IRC, and the senders themselves through echo-message) must see the same
sequence of lines, joins included: what Redis's stream ordered, not what
happened to be local.
"""

from __future__ import annotations

import itertools
import re
import threading

from tests.cluster.redis_support import Node, RedisServer
from tests.cluster.test_network import NO_FLOOD, human, irc
from tests.e2e.e2e_support import ServerProcess, wait
from tests.helpers import LineClient

#: Lines each sender says.
SAID = 60
_IRC = re.compile(r"^(?:@\S+ )?:([^!\s]+)!\S+ (PRIVMSG|JOIN) (#order)(?: :(.*))?$")
_PLAIN_SAY = re.compile(r"^\[#order\] <([^>]+)> (.*)$")
_PLAIN_JOIN = re.compile(r"^\*\*\* (\S+) joined #order$")


def _event(line: str) -> str | None:
    """A room line as "nick: text" (a message) or "nick joined", whichever dialect."""
    m = _IRC.match(line)
    if m:
        nick, verb, _room, text = m.groups()
        return f"{nick} joined" if verb == "JOIN" else f"{nick}: {text}"
    m = _PLAIN_SAY.match(line)
    if m:
        return f"{m[1]}: {m[2]}"
    m = _PLAIN_JOIN.match(line)
    return f"{m[1]} joined" if m else None


def _talk(conn: LineClient, nick: str, go: threading.Event) -> None:
    go.wait()
    for i in range(SAID):
        conn.send(f"PRIVMSG #order :{nick} {i}")


def test_two_processes_talking_at_once_show_every_member_one_order(
    redis_server: RedisServer, node: Node, opened: list[LineClient]
) -> None:
    a = node(redis_server, "node-a", NO_FLOOD)
    b = node(redis_server, "node-b", NO_FLOOD)
    senders = {
        "sa": irc(a, "sa", opened, "echo-message"),
        "sb": irc(b, "sb", opened, "echo-message"),
    }
    watchers: dict[str, LineClient] = {
        "na": human(a, "na", opened),
        "nb": human(b, "nb", opened),
        "ia": irc(a, "ia", opened),
        "ib": irc(b, "ib", opened),
    }
    everyone = {**senders, **watchers}
    procs: dict[str, ServerProcess] = {"a": a, "b": b}
    # One by one, each join seen by everyone already there (so the network agrees who
    # is in the room before anyone talks).
    inside: list[LineClient] = []
    for nick, conn in everyone.items():
        conn.send("/join #order" if nick.startswith("n") else "JOIN #order")
        inside.append(conn)
        for each in inside:
            each.expect(lambda line, nick=nick: _event(line) == f"{nick} joined", timeout=15)
    for conn in everyone.values():
        conn.drain(0.05)

    go = threading.Event()
    threads = [threading.Thread(target=_talk, args=(c, n, go)) for n, c in senders.items()]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join()
    last = {f"{nick}: {nick} {SAID - 1}" for nick in senders}

    views: dict[str, list[str]] = {}
    for nick, conn in everyone.items():
        seen: list[str] = []

        def both_done(line: str, seen: list[str] = seen) -> bool:
            event = _event(line)
            if event is not None and ": " in event:
                seen.append(event)
            return last <= set(seen)

        conn.expect(both_done, timeout=20)
        views[nick] = seen

    logs = f"--- a:\n{procs['a'].log()}\n--- b:\n{procs['b'].log()}"
    first = views["na"]
    assert len(first) == 2 * SAID, (len(first), logs)
    for nick, view in views.items():
        assert view == first, (nick, _first_difference(first, view))
    # The senders were really interleaved: the order is not simply one burst, then the other.
    runs = sum(1 for x, y in itertools.pairwise(first) if x[:2] != y[:2])
    assert runs >= 1
    for conn in everyone.values():
        conn.send("QUIT" if conn in senders.values() else "/quit")
    wait(senders["sa"], "ERROR")


def _first_difference(one: list[str], other: list[str]) -> str:
    for i, (x, y) in enumerate(zip(one, other, strict=False)):
        if x != y:
            return f"at {i}: {one[max(i - 2, 0) : i + 3]} vs {other[max(i - 2, 0) : i + 3]}"
    return f"lengths {len(one)} vs {len(other)}"
