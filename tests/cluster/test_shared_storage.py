"""Accounts, registered rooms, read markers, server bans and history shared by the network.

Real ``redis-server`` and real ircish processes, each with its own SQLite
file: an account registered on one process logs in on another (netcat and
SASL PLAIN from pydle), a password changed or an account deleted on one is
so on the others; one account name registered from two processes at the same
moment goes to one; a room registered on one gives its founder ops on
another; a read marker, a K-line travel; CHATHISTORY answers the same on every
process, a process started later included (backfill), private history too.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.cluster.redis_support import Node, RedisServer
from tests.cluster.test_network import human, irc
from tests.e2e.e2e_support import ServerProcess, collect_until, wait
from tests.e2e.test_irc_pydle import PydleLoop
from tests.helpers import LineClient
from tests.unit.test_operators_config import cheap_hash

PW = "correct-horse-battery"
NEW_PW = "staple-battery-horse"


def stored(tmp_path: Path, name: str) -> str:
    """The SQLite file of node ``name``."""
    return str(tmp_path / f"{name}.db")


def login(proc: ServerProcess, nick: str, password: str, opened: list[LineClient]) -> LineClient:
    """A netcat user on ``proc`` who logs in to the account ``nick``."""
    conn = human(proc, nick, opened)
    conn.send(f"/login {password}")
    conn.expect(rf"^\*\*\* You are now logged in as {re.escape(nick)}\.$")
    return conn


def register(proc: ServerProcess, nick: str, opened: list[LineClient]) -> LineClient:
    conn = human(proc, nick, opened)
    conn.send(f"/register {PW}")
    conn.expect(rf"^\*\*\* Account {re.escape(nick)} registered; you are now logged in\.$")
    return conn


def leave(conn: LineClient, nick: str = "", *seen_by: LineClient) -> None:
    """``conn`` quits; ``seen_by`` (netcat users in #lobby) see ``nick`` go, so their
    processes know the nickname is free."""
    conn.send("/quit")
    conn.expect_closed()
    for watcher in seen_by:
        watcher.expect(rf"^\*\*\* {re.escape(nick)} quit")


def test_an_account_registered_on_one_process_is_one_on_every_process(
    redis_server: RedisServer, node: Node, tmp_path: Path, opened: list[LineClient]
) -> None:
    a = node(redis_server, "a", db=stored(tmp_path, "a"))
    b = node(redis_server, "b", db=stored(tmp_path, "b"))
    on_a, on_b = human(a, "ann", opened), human(b, "ben", opened)
    leave(register(a, "alice", opened), "alice", on_b)

    # SASL PLAIN from a third-party client library, on the other process.
    loop = PydleLoop(b)  # type: ignore[arg-type]
    try:
        bot = loop.connect("alice", sasl_username="alice", sasl_password=PW, sasl_mechanism="PLAIN")
        bot.wait_raw("903")
    finally:
        loop.stop()

    # netcat /login there too; /passwd there, and the new password works on a.
    alice = login(b, "alice", PW, opened)
    alice.send(f"/passwd {PW} {NEW_PW}")
    alice.expect(r"^\*\*\* Your password has been changed\.$")
    leave(alice, "alice", on_a)
    again = human(a, "alice", opened)
    again.send(f"/login {PW}")
    again.expect(r"Wrong account name or password")
    again.send(f"/login {NEW_PW}")
    again.expect(r"^\*\*\* You are now logged in as alice\.$")

    # Deleted on a: gone on b (and b's user logged in to it is logged out).
    watcher = irc(b, "watcher", opened)
    watcher.send("WHOIS alice")
    assert wait(watcher, "330").params[2] == "alice"
    again.send(f"/unregister {NEW_PW}")
    again.expect(r"The account alice has been deleted; you are logged out\.$")
    leave(again, "alice", on_b)
    late = human(b, "alice", opened)
    late.send(f"/login {NEW_PW}")
    late.expect(r"Wrong account name or password")


def test_one_account_name_registered_on_two_processes_at_once_goes_to_one(
    redis_server: RedisServer, node: Node, tmp_path: Path, opened: list[LineClient]
) -> None:
    # Ten registrations from one address within seconds: more than one person makes.
    many = "\n[accounts]\nregistrations_per_minute = 100\n"
    a = node(redis_server, "a", many, db=stored(tmp_path, "a"))
    b = node(redis_server, "b", many, db=stored(tmp_path, "b"))
    for round_ in range(5):
        name = f"racer{round_}"
        # The name's holder on a registers it and at once leaves it, while a user of
        # b takes it and registers it too: the two registrations overlap.
        first = human(a, name, opened)
        second = human(b, f"waiting{round_}", opened)
        first.send(f"/register {PW}")
        first.send(f"/nick {name}x")
        first.expect(rf"is now known as {name}x|You are now known as {name}x")
        # b's copy frees the nick once a's change arrives; take it then.
        while True:
            second.send(f"/nick {name}")
            line = second.expect(rf"now known as {name}$|already in use|is taken|433")
            if line.endswith(name):
                break
        second.send(f"/register {PW}")
        outcomes = []
        for conn in (first, second):
            line = conn.expect(r"registered; you are now logged in\.$|already registered")
            outcomes.append("won" if line.endswith("logged in.") else "lost")
        assert sorted(outcomes) == ["lost", "won"], (name, outcomes)


def test_a_room_registered_on_one_process_keeps_its_access_on_another(
    redis_server: RedisServer, node: Node, tmp_path: Path, opened: list[LineClient]
) -> None:
    a = node(redis_server, "a", db=stored(tmp_path, "a"))
    b = node(redis_server, "b", db=stored(tmp_path, "b"))
    on_a, on_b = human(a, "ann", opened), human(b, "ben", opened)
    leave(register(b, "bob", opened), "bob", on_a)
    alice = register(a, "alice", opened)
    alice.send("/join #den")
    alice.expect(r"Now talking in #den")
    alice.send("/msg ChanServ REGISTER #den")
    alice.expect(r"#den successfully registered; alice is its founder")
    leave(alice, "alice", on_b)

    # The founder joins on b: ChanServ gives her +o there.
    founder = irc(b, "alice", opened)
    founder.send(f"PRIVMSG NickServ :IDENTIFY {PW}")
    wait(founder, "900")
    founder.send("JOIN #den")
    mode = wait(founder, "MODE")
    assert mode.source.startswith("ChanServ!") and mode.params == ("#den", "+o", "alice")
    # An access change on b applies on a.
    founder.send("PRIVMSG ChanServ :AMODE #den +o bob")
    founder.expect(r"Successfully set persistent mode \+o on bob")
    bob = irc(a, "bob", opened)
    bob.send(f"PRIVMSG NickServ :IDENTIFY {PW}")
    wait(bob, "900")
    bob.send("JOIN #den")
    mode = wait(bob, "MODE")
    assert mode.source.startswith("ChanServ!") and mode.params == ("#den", "+o", "bob")


def _history(conn: LineClient, target: str) -> list[tuple[str, str, str]]:
    """(msgid, time, text) of the messages CHATHISTORY LATEST gives for ``target``."""
    if target.startswith("#"):
        conn.send(f"JOIN {target}")
        wait(conn, "366")
    conn.send(f"CHATHISTORY LATEST {target} * 50")
    lines = collect_until(conn, r"^:\S+ BATCH -")
    out = []
    for line in lines:
        m = re.match(r"^@(\S+) :\S+ PRIVMSG \S+ :(.*)$", line)
        if m:
            tags = dict(t.partition("=")[::2] for t in m.group(1).split(";"))
            out.append((tags["msgid"], tags["time"], m.group(2)))
    return out


CAPS = "batch server-time message-tags draft/chathistory"


def test_chathistory_answers_the_same_on_every_process(
    redis_server: RedisServer, node: Node, tmp_path: Path, opened: list[LineClient]
) -> None:
    a = node(redis_server, "a", db=stored(tmp_path, "a"))
    b = node(redis_server, "b", db=stored(tmp_path, "b"))
    alice = register(a, "alice", opened)
    bob = human(b, "bob", opened)
    for i in range(5):
        alice.send(f"room message {i}")
        bob.expect(rf"<alice> room message {i}$")
    bob.send("room answer from b")
    alice.expect(r"<bob> room answer from b$")
    # Private messages between a user with an account (a) and one without (b).
    alice.send("/msg bob psst from a")
    bob.expect(r"<alice> psst from a$")
    bob.send("/msg alice and back from b")
    alice.expect(r"<bob> and back from b$")

    on_a = irc(a, "reader", opened, caps=CAPS)
    on_b = irc(b, "reader2", opened, caps=CAPS)
    seen_a = _history(on_a, "#lobby")
    assert [text for _, _, text in seen_a][-6:] == [
        *(f"room message {i}" for i in range(5)),
        "room answer from b",
    ]
    assert _history(on_b, "#lobby") == seen_a

    # A process started after all this backfills its history from the stream.
    c = node(redis_server, "c", db=stored(tmp_path, "c"))
    on_c = irc(c, "reader3", opened, caps=CAPS)
    assert _history(on_c, "#lobby") == seen_a

    # The private conversation: alice reads it on c, as on a.
    alice_a = irc(a, "alice_", opened, caps=CAPS)
    alice_a.send(f"PRIVMSG NickServ :IDENTIFY alice {PW}")
    wait(alice_a, "900")
    private = _history(alice_a, "bob")
    assert [text for _, _, text in private] == ["psst from a", "and back from b"]
    alice_c = irc(c, "alice__", opened, caps=CAPS)
    alice_c.send(f"PRIVMSG NickServ :IDENTIFY alice {PW}")
    wait(alice_c, "900")
    assert _history(alice_c, "bob") == private


def test_a_read_marker_reaches_the_account_on_another_process(
    redis_server: RedisServer, node: Node, tmp_path: Path, opened: list[LineClient]
) -> None:
    a = node(redis_server, "a", db=stored(tmp_path, "a"))
    b = node(redis_server, "b", db=stored(tmp_path, "b"))
    leave(register(a, "alice", opened), "alice", human(a, "ann", opened))
    caps = "draft/read-marker"
    here = irc(a, "alice", opened, caps=caps)
    there = irc(b, "alice_phone", opened, caps=caps)
    for conn in (here, there):
        conn.send(f"PRIVMSG NickServ :IDENTIFY alice {PW}")
        wait(conn, "900")
    here.send("MARKREAD #lobby timestamp=2030-01-02T03:04:05.678Z")
    assert wait(here, "MARKREAD").params == ("#lobby", "timestamp=2030-01-02T03:04:05.678Z")
    assert wait(there, "MARKREAD").params == ("#lobby", "timestamp=2030-01-02T03:04:05.678Z")
    # And it is b's to answer now.
    there.send("MARKREAD #lobby")
    assert wait(there, "MARKREAD").params == ("#lobby", "timestamp=2030-01-02T03:04:05.678Z")


def test_a_kline_set_on_one_process_applies_on_another(
    redis_server: RedisServer, node: Node, tmp_path: Path, opened: list[LineClient]
) -> None:
    banned = "127.0.0.3"
    opers = f'\n[[operators]]\nname = "admin"\npassword_hash = "{cheap_hash("s3cret")}"\n'
    a = node(redis_server, "a", opers, db=stored(tmp_path, "a"))
    b = node(redis_server, "b", db=stored(tmp_path, "b"))
    victim = LineClient("127.0.0.1", b.port, source=banned)
    opened.append(victim)
    victim.send("NICK victim")
    victim.send("USER victim 0 * :v")
    wait(victim, "001")
    admin = irc(a, "admin", opened)
    admin.send("OPER admin s3cret")
    wait(admin, "381")
    admin.send(f"KLINE 1h *@{banned} :not here either")
    admin.expect(rf"Added K-line \*!\*@{banned} for 1 hour: not here either")
    # The one on b is disconnected, and b refuses that address from now on.
    victim.expect(r" 465 victim :You are banned from this server: not here either$")
    victim.expect_closed()
    late = LineClient("127.0.0.1", b.port, source=banned)
    opened.append(late)
    late.send("NICK late")
    late.send("USER late 0 * :l")
    late.expect(r" 465 |^ERROR :You are banned")
