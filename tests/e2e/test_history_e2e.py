"""History across a real restart: ``python -m ircish`` killed, started again in the same directory.

What users received before the restart comes back after it: a netcat user
sees it as history lines when joining, a raw IRC client with
draft/chathistory fetches it (no replay) with the msgids it had live.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path

from tests.e2e.e2e_support import ServerProcess, parse, sync, wait
from tests.helpers import LineClient

CH = "batch server-time message-tags draft/chathistory"


def plain(proc: ServerProcess, nick: str, opened: list[LineClient]) -> LineClient:
    c = proc.client()
    opened.append(c)
    c.send(nick)
    c.expect(rf"^\*\*\* Welcome to ircish, {re.escape(nick)}! ")
    return c


def irc(proc: ServerProcess, nick: str, caps: str, opened: list[LineClient]) -> LineClient:
    c = proc.client()
    opened.append(c)
    c.send(f"CAP REQ :{caps}")
    assert wait(c, "CAP").params[1:] == ("ACK", caps)
    c.send(f"NICK {nick}")
    c.send(f"USER {nick} 0 * :{nick}")
    c.send("CAP END")
    c.expect(rf"^\S*\s?:\S+ (376|422) {re.escape(nick)} ")
    return c


def test_history_survives_a_restart(
    procs: list[ServerProcess], clients: list[LineClient], tmp_path: Path
) -> None:
    first = ServerProcess(cwd=tmp_path)
    procs.append(first)
    alice = plain(first, "alice", clients)
    alice.expect(r"^\*\*\* Users in #lobby: ")
    bob = irc(first, "bob", "message-tags", clients)
    bob.send("JOIN #lobby")
    wait(bob, "366")
    alice.send("before the restart")
    live = parse(bob.expect(r"PRIVMSG #lobby :before the restart$"))
    assert live is not None
    msgid = live.tags["msgid"]
    bob.send("PRIVMSG #lobby :\x01ACTION waves\x01")
    alice.expect(r"^\[#lobby\] \* bob waves$")
    # Killed, not stopped: what anyone received is on disk already (group commit before output).
    first.signal(signal.SIGKILL)
    first.wait()

    second = ServerProcess(cwd=tmp_path)
    procs.append(second)
    carol = plain(second, "carol", clients)
    carol.expect(r"^\*\*\* Users in #lobby: carol$")
    assert re.fullmatch(
        r"\[#lobby (\d{4}-\d\d-\d\d )?\d\d:\d\d\] <alice> before the restart", carol.expect(r"^\[")
    )
    assert re.fullmatch(
        r"\[#lobby (\d{4}-\d\d-\d\d )?\d\d:\d\d\] \* bob waves", carol.expect(r"^\[")
    )

    dave = irc(second, "dave", CH, clients)
    dave.send("JOIN #lobby")
    joined = sync(dave)
    assert any(" 366 dave #lobby " in x for x in joined)
    assert not any("PRIVMSG" in x for x in joined), "a chathistory client fetches; no replay"
    dave.send("CHATHISTORY LATEST #lobby * 10")
    start = parse(dave.expect(r" BATCH \+"))
    assert start is not None
    assert start.params[1:] == ("chathistory", "#lobby")
    ref = start.params[0][1:]
    inside = []
    while True:
        msg = parse(dave.expect(r"."))
        assert msg is not None
        if msg.verb == "BATCH":
            assert msg.params == ("-" + ref,)
            break
        assert msg.tags["batch"] == ref
        inside.append(msg)
    assert [(m.verb, m.params) for m in inside] == [
        ("PRIVMSG", ("#lobby", "before the restart")),
        ("PRIVMSG", ("#lobby", "\x01ACTION waves\x01")),
    ]
    # The msgid bob saw live, and a server-time tag, on the stored copy.
    assert inside[0].tags["msgid"] == msgid
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", inside[0].tags["time"])
