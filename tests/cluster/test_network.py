"""Several real ``ircish-server`` processes sharing one network through a real Redis.

Users of both dialects on different processes chat in one room and
privately, see each other in NAMES, WHO, WHOIS, LIST and LUSERS; a process
started later learns the network; two processes claiming one nickname at
the same moment give it to exactly one user; a process killed with SIGKILL
has its users' quits announced ("node lost") within the lease; Redis
restarted mid-chat loses nothing and duplicates nothing.
"""

from __future__ import annotations

import re
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.cluster.redis_support import LEASE, Node, RedisServer
from tests.e2e.e2e_support import ServerProcess, collect_until, parse, sync, wait
from tests.helpers import LineClient
from tests.unit.test_operators_config import cheap_hash

#: For tests that send faster than flood control lets a person.
NO_FLOOD = "\n[limits]\nflood_burst = 10000\nflood_interval = 0.001\n"


def human(proc: ServerProcess, nick: str, opened: list[LineClient]) -> LineClient:
    """A netcat user registered on ``proc`` (in #lobby, the default room)."""
    conn = proc.client()
    opened.append(conn)
    conn.send(nick)
    conn.expect(rf"^\*\*\* Welcome to .*, {re.escape(nick)}! ")
    conn.expect(r"^\*\*\* Now talking in #lobby")
    return conn


def irc(proc: ServerProcess, nick: str, opened: list[LineClient], caps: str = "") -> LineClient:
    """A raw IRC client registered on ``proc``."""
    conn = proc.client()
    opened.append(conn)
    if caps:
        conn.send("CAP LS 302")
        conn.send(f"CAP REQ :{caps}")
        conn.send("CAP END")
    conn.send(f"NICK {nick}")
    conn.send(f"USER {nick} 0 * :{nick} the tester")
    wait(conn, "001")
    return conn


def test_users_on_two_processes_chat_in_a_room_and_privately(
    redis_server: RedisServer, node: Node, opened: list[LineClient]
) -> None:
    a = node(redis_server, "node-a")
    b = node(redis_server, "node-b")
    alice = human(a, "alice", opened)
    bob = human(b, "bob", opened)
    # alice sees bob arrive in #lobby from the other process.
    alice.expect(r"^\*\*\* bob joined #lobby$")
    carol = irc(b, "carol", opened, caps="server-time message-tags")
    carol.send("JOIN #lobby")
    wait(carol, "366")
    alice.expect(r"^\*\*\* carol joined #lobby$")

    alice.send("hello from node a")
    bob.expect(r"^\[#lobby\] <alice> hello from node a$")
    line = carol.expect(r"PRIVMSG #lobby :hello from node a$")
    assert re.search(r"msgid=[0-9a-f]{29}", line) and "time=" in line, line
    carol.send("PRIVMSG #lobby :and from b, over IRC")
    alice.expect(r"^\[#lobby\] <carol> and from b, over IRC$")
    bob.expect(r"^\[#lobby\] <carol> and from b, over IRC$")

    # Private messages across processes, both ways.
    alice.send("/msg carol psst")
    carol.expect(r"^@.* :alice!\S+ PRIVMSG carol :psst$")
    carol.send("PRIVMSG alice :right back")
    alice.expect(r"^\[private\] <carol> right back$")

    # Nick changes and parts travel too.
    bob.send("/nick robert")
    alice.expect(r"^\*\*\* bob is now known as robert$")
    carol.expect(r":bob!\S+ NICK :?robert$")
    carol.send("PART #lobby :bye")
    alice.expect(r"^\*\*\* carol left #lobby \(bye\)$")


def test_a_process_started_later_learns_the_network(
    redis_server: RedisServer, node: Node, opened: list[LineClient]
) -> None:
    a = node(redis_server, "node-a")
    alice = irc(a, "alice", opened)
    alice.send("JOIN #ops")
    wait(alice, "366")
    alice.send("TOPIC #ops :the topic set on a")
    wait(alice, "TOPIC")
    alice.send("MODE #ops +k sesame")
    wait(alice, "MODE")
    alice.send("AWAY :lunch")
    wait(alice, "306")
    alice.send("MODE alice +i")
    wait(alice, "MODE")

    b = node(redis_server, "node-b")
    dave = irc(b, "dave", opened)
    dave.send("NAMES #ops")
    names = wait(dave, "353")
    assert names.params[-1] == "@alice"
    dave.send("WHOIS alice")
    whois = wait(dave, "311")
    assert whois.params[1:4] == ("alice", "~alice", whois.params[3])
    assert whois.params[-1] == "alice the tester"
    away = wait(dave, "301")
    assert away.params[-1] == "lunch"
    dave.send("LIST")
    listed = wait(dave, "322")
    assert listed.params[1:3] == ("#ops", "1") and "the topic set on a" in listed.params[-1]
    dave.send("LUSERS")
    lusers = wait(dave, "251")
    assert "There are 1 users and 1 invisible" in lusers.params[-1], lusers
    assert wait(dave, "255").params[-1] == "I have 1 clients and 0 servers"
    assert wait(dave, "265").params[1:3] == ("1", "1")
    assert wait(dave, "266").params[1:3] == ("2", "2")
    # The key travelled: a wrong one is refused, the right one lets dave in.
    dave.send("JOIN #ops")
    assert wait(dave, "475").params[1] == "#ops"
    dave.send("JOIN #ops sesame")
    topic = wait(dave, "332")
    assert topic.params[-1] == "the topic set on a"
    alice.expect(r":dave!\S+ JOIN :?#ops")
    # alice is +i: WHO shows her to dave now that they share the room, away and operator.
    dave.send("WHO #ops")
    who = [m for m in sync(dave) if (m_ := parse(m)) is not None and m_.verb == "352"]
    assert len(who) == 2
    assert any(" alice G@" in x for x in who), who


def test_two_processes_claiming_one_nick_at_once_give_it_to_one(
    redis_server: RedisServer, node: Node, opened: list[LineClient]
) -> None:
    a = node(redis_server, "node-a")
    b = node(redis_server, "node-b")
    for round_ in range(5):
        nick = f"racer{round_}"
        conns = [a.client(), b.client()]
        opened.extend(conns)
        for c in conns:
            c.send(f"USER {nick} 0 * :r")
        barrier = threading.Barrier(2)

        def go(c: LineClient, nick: str = nick, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            c.send(f"NICK {nick}")

        threads = [threading.Thread(target=go, args=(c,)) for c in conns]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        outcomes = []
        for c in conns:
            line = c.expect(lambda x: " 001 " in x or " 433 " in x)
            outcomes.append("won" if " 001 " in line else "lost")
        assert sorted(outcomes) == ["lost", "won"], (nick, outcomes)
        # The loser may pick another name, and it is then theirs.
        loser = conns[outcomes.index("lost")]
        loser.send(f"NICK {nick}x")
        wait(loser, "001")
        for c in conns:
            c.send("QUIT")
    # A nickname freed by QUIT is free on the other process once its quit is seen there.
    holder = human(a, "holder", opened)
    watcher = human(b, "watcher", opened)
    holder.expect(r"^\*\*\* watcher joined #lobby$")
    holder.send("/quit")
    watcher.expect(r"^\*\*\* holder quit")
    human(b, "holder", opened)


def test_a_killed_process_has_its_users_quit_within_the_lease(
    redis_server: RedisServer, node: Node, opened: list[LineClient]
) -> None:
    a = node(redis_server, "node-a")
    b = node(redis_server, "node-b")
    alice = human(a, "alice", opened)
    human(b, "bob", opened)
    alice.expect(r"^\*\*\* bob joined #lobby$")
    b.signal(signal.SIGKILL)
    started = time.monotonic()
    alice.expect(r"^\*\*\* bob quit \(node lost\)$", timeout=LEASE * 3)
    assert time.monotonic() - started < LEASE
    # bob's nickname is free again, on the surviving process.
    bob2 = human(a, "bob", opened)
    bob2.send("hi again")
    alice.expect(r"^\[#lobby\] <bob> hi again$")


def test_redis_restarted_mid_chat_loses_nothing_and_repeats_nothing(
    make_redis: Callable[..., RedisServer], node: Node, opened: list[LineClient]
) -> None:
    redis = make_redis(persist=True)
    a = node(redis, "node-a")
    b = node(redis, "node-b")
    alice = human(a, "alice", opened)
    bob = human(b, "bob", opened)
    alice.expect(r"^\*\*\* bob joined #lobby$")
    alice.send("before")
    bob.expect(r"^\[#lobby\] <alice> before$")

    redis.kill()
    for conn in (alice, bob):
        conn.expect(r"^\*\*\* The network is degraded: ")
    # Local chat goes on; what is said waits for the link.
    for i in range(3):
        alice.send(f"during {i}")
    bob.send("bob during")
    carol = human(a, "carol", opened)
    alice.expect(r"^\*\*\* carol joined #lobby$")
    carol.send("carol arrived meanwhile")
    alice.expect(r"^\[#lobby\] <carol> carol arrived meanwhile$")

    redis.restart()
    # Once the links are back: what bob missed, in order, once; what alice missed too.
    # (alice's lines and carol's came on two connections: their mutual order is not fixed.)
    last = {"[#lobby] <alice> during 2", "[#lobby] <carol> carol arrived meanwhile"}
    seen_by_bob: list[str] = []

    def both_seen(line: str) -> bool:
        seen_by_bob.append(line)
        return last <= set(seen_by_bob)

    bob.expect(both_seen, timeout=20)
    said = [x for x in seen_by_bob if "<alice> during" in x]
    logs = f"{seen_by_bob}\n--- a:\n{a.log()}\n--- b:\n{b.log()}"
    assert said == [f"[#lobby] <alice> during {i}" for i in range(3)], logs
    assert seen_by_bob.index("*** carol joined #lobby") < seen_by_bob.index(
        "[#lobby] <carol> carol arrived meanwhile"
    )
    collect_until(alice, r"^\[#lobby\] <bob> bob during$", timeout=20)
    alice.send("after")
    bob.expect(r"^\[#lobby\] <alice> after$")
    # Nothing twice: everything bob got after that, up to a private barrier.
    alice.send("/msg bob barrier")
    rest = collect_until(bob, r"^\[private\] <alice> barrier$")
    assert not any("during" in x or "meanwhile" in x for x in rest), rest
    # One notice when the network was degraded and one when it was whole again, each
    # (both nodes were whole again before their backlogs went out, so before the barriers).
    bob.send("/msg alice barrier")
    collect_until(alice, r"^\[private\] <bob> barrier$")
    for conn in (alice, bob):
        notices = [x for x in conn.received if x.startswith("*** The network is")]
        assert len(notices) == 2 and "degraded" in notices[0], notices


def test_a_process_stopped_cleanly_has_its_users_quit_at_once(
    redis_server: RedisServer, node: Node, opened: list[LineClient]
) -> None:
    a = node(redis_server, "node-a")
    b = node(redis_server, "node-b")
    alice = human(a, "alice", opened)
    human(b, "bob", opened)
    alice.expect(r"^\*\*\* bob joined #lobby$")
    b.signal(signal.SIGTERM)
    assert b.wait() == 0
    # Well before the lease could have run out.
    alice.expect(r"^\*\*\* bob quit \(Server shutting down\)$", timeout=LEASE / 2)
    human(a, "bob", opened)
    assert int(redis_server.command("HLEN", "ircish:users")) == 2
    assert redis_server.command("SCARD", "ircish:nodes") == 1


def test_latency_of_a_message_to_the_same_and_to_another_process(
    redis_server: RedisServer, node: Node, opened: list[LineClient]
) -> None:
    """The cost of the stream: a room message to a user on the sender's process and on another.

    Printed (``-s``) for docs/cluster.md; the bound only catches a message
    that waits for a timer instead of the stream.
    """
    a = node(redis_server, "node-a", NO_FLOOD)
    b = node(redis_server, "node-b", NO_FLOOD)
    alice = human(a, "alice", opened)
    carol = human(a, "carol", opened)
    bob = human(b, "bob", opened)
    alice.expect(r"^\*\*\* bob joined #lobby$")
    figures = {}
    for who, conn in (("same process", carol), ("other process", bob)):
        times = []
        for i in range(200):
            text = f"ping {who} {i}"
            started = time.perf_counter()
            alice.send(text)
            conn.expect(rf"<alice> {text}$")
            times.append(time.perf_counter() - started)
        times.sort()
        figures[who] = (times[len(times) // 2], times[int(len(times) * 0.99)])
    for who, (median, p99) in figures.items():
        print(f"{who}: median {median * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms")
    assert figures["other process"][0] < 0.05, figures


def test_invite_mode_kick_and_monitor_across_three_processes(
    redis_server: RedisServer, node: Node, opened: list[LineClient]
) -> None:
    a = node(redis_server, "node-a")
    b = node(redis_server, "node-b")
    c = node(redis_server, "node-c")
    carol = irc(c, "carol", opened, caps="extended-monitor")
    carol.send("MONITOR + alice,dave")
    assert wait(carol, "731").params[-1] == "alice,dave"
    alice = irc(a, "alice", opened)
    assert wait(carol, "730").params[-1].startswith("alice!")
    bob = irc(b, "bob", opened)

    alice.send("JOIN #priv")
    wait(alice, "366")
    alice.send("MODE #priv +i")
    wait(alice, "MODE")
    # One node's events arrive in order: once bob has this, b knows of the +i.
    alice.send("PRIVMSG bob :sync")
    wait(bob, "PRIVMSG")
    bob.send("JOIN #priv")
    assert wait(bob, "473").params[1] == "#priv"
    alice.send("INVITE bob #priv")
    wait(alice, "341")
    invite = wait(bob, "INVITE")
    assert invite.source.startswith("alice!") and invite.params == ("bob", "#priv")
    # The invitation is known on bob's process: +i lets him in.
    bob.send("JOIN #priv")
    wait(bob, "366")
    alice.expect(r":bob!\S+ JOIN :?#priv")
    alice.send("MODE #priv +v bob")
    mode = wait(bob, "MODE")
    assert mode.params == ("#priv", "+v", "bob")
    bob.send("NAMES #priv")
    assert set(wait(bob, "353").params[-1].split()) == {"@alice", "+bob"}
    alice.send("KICK #priv bob :enough")
    kick = wait(bob, "KICK")
    assert kick.params == ("#priv", "bob", "enough")
    bob.send("NAMES #priv")
    assert wait(bob, "353").params[-1] == "@alice"

    # MONITOR on a third process sees users of the other two come and go.
    dave = irc(b, "dave", opened)
    assert wait(carol, "730").params[-1].startswith("dave!")
    dave.send("QUIT :done")
    assert wait(carol, "731").params[-1] == "dave"


def test_an_operator_kills_a_user_of_another_process(
    redis_server: RedisServer, node: Node, opened: list[LineClient]
) -> None:
    opers = f'\n[[operators]]\nname = "admin"\npassword_hash = "{cheap_hash("s3cret")}"\n'
    a = node(redis_server, "node-a", opers)
    b = node(redis_server, "node-b", opers)
    admin = irc(a, "admin", opened)
    admin.send("OPER admin s3cret")
    wait(admin, "381")
    spammer = human(b, "spammer", opened)
    witness = human(b, "witness", opened)
    admin.send("JOIN #lobby")
    wait(admin, "366")
    admin.send("KILL spammer :flooding")
    spammer.expect(r"Killed \(admin \(flooding\)\)")
    spammer.expect_closed()
    witness.expect(r"^\*\*\* spammer quit \(Killed \(admin \(flooding\)\)\)$")
    admin.expect(r":spammer!\S+ QUIT :Killed \(admin \(flooding\)\)$")


def test_redis_restarted_without_its_data_gets_the_network_back_from_the_nodes(
    redis_server: RedisServer, node: Node, opened: list[LineClient]
) -> None:
    a = node(redis_server, "node-a")
    b = node(redis_server, "node-b")
    alice = human(a, "alice", opened)
    bob = human(b, "bob", opened)
    alice.expect(r"^\*\*\* bob joined #lobby$")
    redis_server.restart()  # no persistence: the stream, the snapshot, leases and claims are gone
    for conn in (alice, bob):
        conn.expect(r"^\*\*\* The network is whole again", timeout=20)
    # Each node wrote its users again: a node started now learns them all.
    deadline = time.monotonic() + 10
    while int(redis_server.command("HLEN", "ircish:users")) < 2:
        assert time.monotonic() < deadline, "the nodes did not write their users again"
        time.sleep(0.05)  # polling Redis, bounded by the deadline
    c = node(redis_server, "node-c")
    carol = irc(c, "carol", opened)
    carol.send("NAMES #lobby")
    assert set(wait(carol, "353").params[-1].split()) == {"alice", "bob"}
    # Their nicknames are claimed again.
    carol.send("NICK alice")
    assert wait(carol, "433").params[1] == "alice"
    # Announcing again showed nobody a second join.
    bob.send("/msg alice barrier")
    seen = collect_until(alice, r"^\[private\] <bob> barrier$")
    assert not any("joined" in x for x in seen), seen


def test_a_claim_for_a_connection_gone_before_registering_is_released(
    redis_server: RedisServer, node: Node, opened: list[LineClient]
) -> None:
    a = node(redis_server, "node-a")
    conn = a.client()
    opened.append(conn)
    conn.send("NICK ghost")
    conn.send("USER ghost 0 * :g")
    conn.close()  # at once: the claim may be granted after the connection is gone
    # Whatever the timing, the nickname is free again on another process within the lease.
    b = node(redis_server, "node-b")
    other = b.client()
    opened.append(other)
    other.send("USER ghost 0 * :g")
    deadline = time.monotonic() + LEASE * 2
    while True:
        other.send("NICK ghost")
        line = other.expect(lambda x: " 001 " in x or " 433 " in x)
        if " 001 " in line:
            break
        assert time.monotonic() < deadline, "the claim of a vanished connection stayed"
        time.sleep(0.1)  # asking again, bounded by the deadline
    assert redis_server.command("GET", "ircish:nick:ghost").startswith(b"node-b/")


def test_two_senders_on_two_processes_reach_a_third_in_the_streams_order(
    redis_server: RedisServer, node: Node, opened: list[LineClient]
) -> None:
    a = node(redis_server, "node-a", NO_FLOOD)
    b = node(redis_server, "node-b", NO_FLOOD)
    c = node(redis_server, "node-c", NO_FLOOD)
    alice = human(a, "alice", opened)
    bob = human(b, "bob", opened)
    carol = human(c, "carol", opened)
    dave = human(c, "dave", opened)
    alice.expect(r"^\*\*\* dave joined #lobby$")
    bob.expect(r"^\*\*\* dave joined #lobby$")
    count = 100
    barrier = threading.Barrier(2)

    def talk(who: LineClient, name: str) -> None:
        barrier.wait()
        for i in range(count):
            who.send(f"{name} {i}")

    threads = [
        threading.Thread(target=talk, args=(alice, "alice")),
        threading.Thread(target=talk, args=(bob, "bob")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seen = {}
    for name, conn in (("carol", carol), ("dave", dave)):
        lines: list[str] = []
        while len(lines) < 2 * count:
            line = conn.expect(r"^\[#lobby\] <(alice|bob)> ", timeout=10)
            lines.append(line.split("> ", 1)[1])
        seen[name] = lines
    # Nothing lost or repeated, each sender in their own order, the two watchers alike...
    assert seen["carol"] == seen["dave"]
    for name in ("alice", "bob"):
        assert [x for x in seen["carol"] if x.startswith(name)] == [
            f"{name} {i}" for i in range(count)
        ]
    # ... and in the order of the network's stream.
    entries = redis_server.command("XRANGE", "ircish:events", "-", "+")
    streamed = []
    for _id, fields in entries:
        text = fields[1].decode()
        for name in ("alice", "bob"):
            found = re.findall(rf'"({name} \d+)"', text)
            streamed += found
    assert streamed == seen["carol"]


def test_each_process_keeps_the_networks_history_with_the_original_msgids(
    tmp_path: Path, redis_server: RedisServer, node: Node, opened: list[LineClient]
) -> None:
    caps = "draft/chathistory batch message-tags server-time echo-message"
    a = node(redis_server, "node-a", db=str(tmp_path / "a.db"))
    b = node(redis_server, "node-b", db=str(tmp_path / "b.db"))
    alice = irc(a, "alice", opened, caps=caps)
    bob = irc(b, "bob", opened, caps=caps)
    for conn in (alice, bob):
        conn.send("JOIN #log")
        wait(conn, "366")
    alice.send("PRIVMSG #log :said on a")
    echo = wait(alice, "PRIVMSG")
    live = wait(bob, "PRIVMSG")
    assert live.tags["msgid"] == echo.tags["msgid"] and live.tags["time"] == echo.tags["time"]
    bob.send("CHATHISTORY LATEST #log * 10")
    stored = [m for m in map(parse, sync(bob)) if m is not None and m.verb == "PRIVMSG"]
    assert [(m.params, m.tags["msgid"]) for m in stored] == [
        (("#log", "said on a"), echo.tags["msgid"])
    ]


def test_commands_sent_behind_nick_wait_for_its_claim_in_order(
    redis_server: RedisServer, node: Node, opened: list[LineClient]
) -> None:
    a = node(redis_server, "node-a")
    b = node(redis_server, "node-b")
    alice = human(a, "alice", opened)
    bot = b.client()
    opened.append(bot)
    # A bot that does not wait for 001: everything in one packet.
    bot.send_raw(
        b"NICK bot\r\nUSER bot 0 * :a bot\r\nJOIN #lobby\r\nPRIVMSG #lobby :first\r\n"
        b"NICK bot2\r\nPRIVMSG #lobby :second\r\n"
    )
    alice.expect(r"^\*\*\* bot joined #lobby$")
    alice.expect(r"^\[#lobby\] <bot> first$")
    alice.expect(r"^\*\*\* bot is now known as bot2$")
    alice.expect(r"^\[#lobby\] <bot2> second$")
    assert not any(" 451 " in x or " 404 " in x for x in bot.received), bot.received


def test_events_refused_by_a_full_redis_go_out_when_it_takes_them_again(
    redis_server: RedisServer, node: Node, opened: list[LineClient]
) -> None:
    a = node(redis_server, "node-a")
    b = node(redis_server, "node-b")
    alice = human(a, "alice", opened)
    bob = human(b, "bob", opened)
    alice.expect(r"^\*\*\* bob joined #lobby$")
    redis_server.command("CONFIG", "SET", "maxmemory-policy", "noeviction")
    redis_server.command("CONFIG", "SET", "maxmemory", "1")  # every write is refused: OOM
    try:
        for i in range(3):
            alice.send(f"while full {i}")
        assert a.wait_log("Redis refused an event"), a.log()
    finally:
        redis_server.command("CONFIG", "SET", "maxmemory", "0")
    got = collect_until(bob, r"<alice> while full 2$")
    assert [x for x in got if "while full" in x] == [
        f"[#lobby] <alice> while full {i}" for i in range(3)
    ]
    alice.send("/msg bob barrier")
    rest = collect_until(bob, r"^\[private\] <alice> barrier$")
    assert not any("while full" in x for x in rest), rest
