"""History read back: replay on join and after login, CHATHISTORY, HISTORY, SEARCH, MARKREAD.

In memory, over a real SQLite store (``MemoryNetwork(storage=True)``); the
clock is the network's, so times and msgids are known.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from ircish.config import Config, HistoryConfig, OperatorConfig
from ircish.core import replay
from ircish.dialects.irc import server_time
from tests.helpers import MemoryClient, MemoryNetwork
from tests.unit.test_operators_config import cheap_hash

CH = "batch server-time message-tags draft/chathistory"


def config(**history: Any) -> Config:
    return replace(Config(), history=replace(HistoryConfig(), **history))


#: #lobby is the server's room: its topic is set by a server operator.
WITH_OPERATOR = replace(Config(), operators=(OperatorConfig("admin", cheap_hash("pw")),))


def hhmm(net: MemoryNetwork, offset: float = 0.0) -> str:
    """The server's local time of ``net.now + offset``, as replay lines show it."""
    return time.strftime("%H:%M", time.localtime(net.now + offset))


def ts(when: float) -> str:
    return "timestamp=" + server_time(when)


def talk(net: MemoryNetwork) -> tuple[MemoryClient, list[str]]:
    """bob says three things in #lobby (10 s apart); their msgids as an IRC watcher saw them."""
    bob = net.plain("bob")
    watcher = net.irc("watcher", caps="message-tags")
    watcher.send("JOIN #lobby")
    watcher.lines()
    bob.lines()
    ids = []
    for text in ("hi all", "/me waves", "/notice #lobby note \x1b[31mred"):
        bob.send(text)
        line = watcher.lines()[0]
        ids.append(line.split(" ", 1)[0].removeprefix("@msgid="))
        net.now += 10
    return bob, ids


def batch_body(lines: list[str]) -> list[str]:
    """The lines inside the one chathistory batch of ``lines``, batch tag and time removed."""
    start = next(i for i, x in enumerate(lines) if " BATCH +" in x)
    ref = lines[start].split(" BATCH +", 1)[1].split()[0]
    assert lines[start].endswith(("chathistory #lobby", "chathistory bob", "chathistory alice"))
    end = lines.index(f":ircish.local BATCH -{ref}")
    body = lines[start + 1 : end]
    assert all(x.startswith(f"@batch={ref};") for x in body)
    return [x.replace(f"batch={ref};", "", 1) for x in body]


# -- replay on join --------------------------------------------------------------


def test_netcat_user_sees_recent_messages_after_topic_and_names() -> None:
    net = MemoryNetwork(WITH_OPERATOR, storage=True)
    bob, _ = talk(net)
    bob.send("/oper admin pw")
    bob.send("/topic #lobby Rust and more")
    when = [hhmm(net, -30), hhmm(net, -20), hhmm(net, -10)]
    carol = net.connect("plain")
    carol.send("carol")
    lines = carol.lines()
    names = lines.index("*** Users in #lobby: bob watcher carol")
    assert lines[names - 3 : names] == [
        "*** carol joined #lobby",
        "*** Topic of #lobby: Rust and more",
        lines[names - 1],  # who set the topic, and when
    ]
    assert lines[names + 1 :] == [
        f"[#lobby {when[0]}] <bob> hi all",
        f"[#lobby {when[1]}] * bob waves",
        # Cleaned like any other text a user sent: no escape sequence reaches the terminal.
        f"[#lobby {when[2]}] -bob- note red",
        # Last, where the next line goes.
        "*** Now talking in #lobby",
    ]


def test_replay_has_no_joins_parts_or_the_join_itself_and_is_bounded() -> None:
    net = MemoryNetwork(config(replay_lines=2), storage=True)
    talk(net)
    dave = net.plain("dave")
    dave.send("/part")
    carol = net.connect("plain")
    carol.send("carol")
    lines = carol.lines()
    replayed = [x for x in lines if x.startswith("[#lobby ")]
    assert [x.split("] ", 1)[1] for x in replayed] == ["* bob waves", "-bob- note red"]
    assert lines[-3:] == [*replayed, "*** Now talking in #lobby"]


def test_irc_client_gets_original_lines_in_a_chathistory_batch() -> None:
    net = MemoryNetwork(storage=True)
    _, ids = talk(net)
    start = net.now - 30
    alice = net.irc("alice", caps="batch server-time message-tags")
    alice.send("JOIN #lobby")
    lines = alice.lines()
    assert " 366 alice #lobby " in lines[-6]
    assert batch_body(lines) == [
        f"@time={server_time(start)};msgid={ids[0]} :bob!~plain@localhost PRIVMSG #lobby :hi all",
        f"@time={server_time(start + 10)};msgid={ids[1]} "
        ":bob!~plain@localhost PRIVMSG #lobby :\x01ACTION waves\x01",
        f"@time={server_time(start + 20)};msgid={ids[2]} "
        ":bob!~plain@localhost NOTICE #lobby :note \x1b[31mred",
    ]


def test_irc_client_without_batch_gets_plain_lines_and_none_when_replay_irc_is_off() -> None:
    net = MemoryNetwork(storage=True)
    talk(net)
    dave = net.irc("dave")
    dave.send("JOIN #lobby")
    assert dave.lines()[-3:] == [
        ":bob!~plain@localhost PRIVMSG #lobby :hi all",
        ":bob!~plain@localhost PRIVMSG #lobby :\x01ACTION waves\x01",
        ":bob!~plain@localhost NOTICE #lobby :note \x1b[31mred",
    ]
    off = MemoryNetwork(config(replay_irc=False), storage=True)
    talk(off)
    erin = off.irc("erin", caps="batch")
    erin.send("JOIN #lobby")
    assert " 366 erin #lobby " in erin.lines()[-1]


def test_chathistory_clients_fetch_themselves_and_get_no_replay() -> None:
    net = MemoryNetwork(storage=True)
    talk(net)
    alice = net.irc("alice", caps=CH)
    alice.send("JOIN #lobby")
    assert " 366 alice #lobby " in alice.lines()[-1]


def test_no_storage_or_history_disabled_means_no_replay_no_caps_and_clear_answers() -> None:
    for net in (MemoryNetwork(), MemoryNetwork(config(enabled=False), storage=True)):
        bob = net.plain("bob")
        bob.send("hello")
        carol = net.connect("plain")
        carol.send("carol")
        assert not any(x.startswith("[#lobby") for x in carol.lines())
        carol.send("/history")
        assert carol.lines() == ["! History is not available on this server"]
        carol.send("/search hello")
        assert carol.lines() == ["! History is not available on this server"]
        irc = net.connect("irc")
        irc.send("CAP LS 302")
        offered = " ".join(irc.lines())
        assert "draft/chathistory" not in offered
        assert "draft/event-playback" not in offered
        irc.send("CAP REQ :draft/chathistory")
        assert irc.lines() == [":ircish.local CAP * NAK :draft/chathistory"]
        irc.send("NICK dave")
        irc.send("USER dave 0 * :Dave")
        irc.send("CAP END")
        welcome = " ".join(irc.lines())
        assert "CHATHISTORY=" not in welcome
        assert "MSGREFTYPES" not in welcome
        irc.send("CHATHISTORY LATEST #lobby * 10")
        assert irc.lines() == [
            ":ircish.local FAIL CHATHISTORY MESSAGE_ERROR LATEST #lobby "
            ":History is not available on this server"
        ]


# -- draft/chathistory -----------------------------------------------------------------


def test_caps_and_isupport_are_advertised_with_history() -> None:
    net = MemoryNetwork(storage=True)
    irc = net.connect("irc")
    irc.send("CAP LS 302")
    offered = " ".join(irc.lines())
    assert "draft/chathistory" in offered
    assert "draft/event-playback" in offered
    irc.send("NICK dave")
    irc.send("USER dave 0 * :Dave")
    irc.send("CAP END")
    welcome = " ".join(irc.lines())
    assert "CHATHISTORY=100" in welcome
    assert "MSGREFTYPES=msgid,timestamp" in welcome


def untimed(lines: list[str]) -> list[str]:
    """Lines without their ``time`` tag (replies to server-time clients carry one)."""
    return [
        x.split(" ", 1)[1] if x.startswith("@time=") and ";" not in x.split(" ")[0] else x
        for x in lines
    ]


def _history_client(net: MemoryNetwork, caps: str = CH) -> MemoryClient:
    alice = net.irc("alice", caps=caps)
    alice.send("JOIN #lobby")
    alice.lines()
    return alice


def _texts(lines: list[str]) -> list[str]:
    return [x.rsplit(" :", 1)[1] for x in batch_body(lines)]


def test_chathistory_selectors() -> None:
    net = MemoryNetwork(storage=True)
    bob = net.plain("bob")
    watcher = net.irc("watcher", caps="message-tags")
    watcher.send("JOIN #lobby")
    watcher.lines()
    ids = []
    first = net.now
    for i in range(6):
        bob.send(f"m{i}")
        ids.append(watcher.lines()[0].split(" ", 1)[0].removeprefix("@msgid="))
        net.now += 1
    alice = _history_client(net)

    alice.send("CHATHISTORY LATEST #lobby * 2")
    assert _texts(alice.lines()) == ["m4", "m5"]
    alice.send(f"CHATHISTORY LATEST #lobby msgid={ids[3]} 10")
    assert _texts(alice.lines()) == ["m4", "m5"]
    alice.send(f"CHATHISTORY BEFORE #lobby msgid={ids[3]} 2")
    assert _texts(alice.lines()) == ["m1", "m2"]
    alice.send(f"CHATHISTORY AFTER #lobby msgid={ids[1]} 2")
    assert _texts(alice.lines()) == ["m2", "m3"]
    alice.send(f"CHATHISTORY AFTER #lobby {ts(first + 3.5)} 10")
    assert _texts(alice.lines()) == ["m4", "m5"]
    alice.send(f"CHATHISTORY AROUND #lobby msgid={ids[3]} 3")
    assert _texts(alice.lines()) == ["m2", "m3", "m4"]
    alice.send(f"CHATHISTORY BETWEEN #lobby msgid={ids[0]} msgid={ids[4]} 10")
    assert _texts(alice.lines()) == ["m1", "m2", "m3"]
    # Backwards: the newest ones next to the first reference.
    alice.send(f"CHATHISTORY BETWEEN #lobby msgid={ids[5]} msgid={ids[0]} 2")
    assert _texts(alice.lines()) == ["m3", "m4"]
    alice.send(f"CHATHISTORY BETWEEN #lobby {ts(first - 1)} {ts(first + 1.5)} 0")
    assert _texts(alice.lines()) == ["m0", "m1"]
    # The original msgid and time on every line.
    alice.send("CHATHISTORY LATEST #lobby * 1")
    body = batch_body(alice.lines())
    assert body == [
        f"@time={server_time(first + 5)};msgid={ids[5]} :bob!~plain@localhost PRIVMSG #lobby :m5"
    ]


def test_chathistory_empty_batch_and_labeled_response() -> None:
    net = MemoryNetwork(storage=True)
    alice = _history_client(net, CH + " labeled-response")
    alice.send("@label=q1 CHATHISTORY LATEST #lobby * 10")
    lines = alice.lines()
    assert len(lines) == 2
    assert lines[0].startswith("@label=q1 :ircish.local BATCH +")
    assert lines[0].endswith(" chathistory #lobby")
    assert lines[1].startswith(":ircish.local BATCH -")


def test_event_playback_includes_room_events() -> None:
    net = MemoryNetwork(WITH_OPERATOR, storage=True)
    bob = net.plain("bob")
    bob.send("/oper admin pw")
    bob.send("hi")
    bob.send("/topic #lobby new topic")
    plain = _history_client(net)
    plain.send("CHATHISTORY LATEST #lobby * 10")
    assert [x.split(" ", 2)[1:] for x in batch_body(plain.lines())] == [
        [":bob!~plain@localhost", "PRIVMSG #lobby :hi"]
    ]
    full = net.irc("erin", caps=CH + " draft/event-playback")
    full.send("JOIN #lobby")
    full.lines()
    full.send("CHATHISTORY LATEST #lobby * 10")
    verbs = [x.split(" ")[2] for x in batch_body(full.lines())]
    assert verbs == ["JOIN", "PRIVMSG", "TOPIC", "JOIN", "JOIN"]


def test_chathistory_failures() -> None:
    net = MemoryNetwork(storage=True)
    alice = _history_client(net)
    cases = {
        "CHATHISTORY": "NEED_MORE_PARAMS * :Missing parameters",
        "CHATHISTORY LATEST #lobby *": "NEED_MORE_PARAMS LATEST :Missing parameters",
        "CHATHISTORY BETWEEN #lobby * 10": "NEED_MORE_PARAMS BETWEEN :Missing parameters",
        "CHATHISTORY EVERYTHING #lobby * 10": "UNKNOWN_COMMAND EVERYTHING :Unknown command",
        "CHATHISTORY LATEST #lobby * ten": "INVALID_PARAMS LATEST ten :The limit must be a number",
        "CHATHISTORY BEFORE #lobby timestamp=yesterday 10": (
            "INVALID_PARAMS BEFORE timestamp=yesterday :Invalid timestamp"
        ),
        "CHATHISTORY AFTER #lobby * 10": (
            "INVALID_PARAMS AFTER * :A selector is *, msgid=... or timestamp=..."
        ),
        "CHATHISTORY AFTER #lobby msgid=nope 10": (
            "MESSAGE_ERROR AFTER #lobby nope :No such message in that history"
        ),
        "CHATHISTORY LATEST #nowhere * 10": (
            "INVALID_TARGET LATEST #nowhere :Messages could not be retrieved"
        ),
        "CHATHISTORY LATEST bad,nick * 10": (
            "INVALID_TARGET LATEST bad,nick :Messages could not be retrieved"
        ),
        "CHATHISTORY TARGETS * * 10": "INVALID_PARAMS TARGETS * :TARGETS takes two timestamps",
    }
    for line, expected in cases.items():
        alice.send(line)
        assert untimed(alice.lines()) == [":ircish.local FAIL CHATHISTORY " + expected], line


def test_only_members_read_a_room_unless_readers_is_public() -> None:
    for readers, secret, allowed in (
        ("members", False, False),
        ("public", False, True),
        ("public", True, False),
    ):
        net = MemoryNetwork(config(readers=readers), storage=True)
        bob = net.plain("bob")
        bob.send("/join #dev")
        bob.send("in dev")
        if secret:
            bob.send("/mode #dev +s")
        alice = net.irc("alice", caps=CH)
        alice.send("CHATHISTORY LATEST #dev * 10")
        lines = untimed(alice.lines())
        if allowed:
            assert lines[1].endswith("PRIVMSG #dev :in dev")
        else:
            assert lines == [
                ":ircish.local FAIL CHATHISTORY INVALID_TARGET LATEST #dev "
                ":Messages could not be retrieved"
            ]


def test_private_history_is_read_by_its_parties_only() -> None:
    net = MemoryNetwork(config(private="always"), storage=True)
    alice = net.irc("alice", caps=CH)
    bob = net.plain("bob")
    bob.send("/msg alice psst")
    alice.send("PRIVMSG bob :hello back")
    alice.lines()
    alice.send("CHATHISTORY LATEST bob * 10")
    assert [x.split(" ", 2)[2] for x in batch_body(alice.lines())] == [
        "PRIVMSG alice :psst",
        "PRIVMSG bob :hello back",
    ]
    eve = net.irc("eve", caps=CH)
    eve.send("CHATHISTORY LATEST bob * 10")
    lines = eve.lines()
    assert lines[0].endswith(" chathistory bob") and len(lines) == 2  # eve's own: empty
    bob.lines()
    bob.send("/history alice")
    assert bob.lines() == [
        "*** History of alice, 2 messages:",
        f"[to alice {hhmm(net)}] <bob> psst",
        f"[private {hhmm(net)}] <alice> hello back",
        "*** End of history",
    ]


def test_chathistory_targets() -> None:
    net = MemoryNetwork(config(private="always"), storage=True)
    alice = _history_client(net)
    start = net.now
    bob = net.plain("bob")
    bob.send("room line")
    net.now += 5
    bob.send("/msg alice psst")
    alice.lines()
    alice.send(f"CHATHISTORY TARGETS {ts(start - 1)} {ts(net.now + 1)} 10")
    lines = alice.lines()
    assert lines[0].endswith(" draft/chathistory-targets")
    ref = lines[0].split("+", 1)[1].split()[0]
    assert lines[1:] == [
        f"@batch={ref} :ircish.local CHATHISTORY TARGETS #lobby {server_time(start)}",
        f"@batch={ref} :ircish.local CHATHISTORY TARGETS bob {server_time(net.now)}",
        f":ircish.local BATCH -{ref}",
    ]


# -- HISTORY and SEARCH -----------------------------------------------------------------


def test_plain_history_command() -> None:
    net = MemoryNetwork(storage=True)
    bob, _ = talk(net)
    bob.lines()
    bob.send("/history 2")
    assert bob.lines() == [
        "*** History of #lobby, 2 messages:",
        f"[#lobby {hhmm(net, -20)}] * bob waves",
        f"[#lobby {hhmm(net, -10)}] -bob- note red",
        "*** End of history",
    ]
    bob.send("/history #nowhere")
    assert bob.lines() == ["! No history of #nowhere you may read (join the room first)"]
    bob.send("/history #lobby x")
    assert bob.lines() == ["! Usage: /history [#room|NICK] [N]"]
    bob.send("/join #empty")
    bob.lines()
    bob.send("/history")
    assert bob.lines() == ["*** No messages in #empty yet"]


def test_search_plain_and_irc() -> None:
    net = MemoryNetwork(storage=True)
    bob = net.plain("bob")
    carol = net.plain("carol")
    bob.send("the rust compiler is fast")
    net.now += 1
    carol.send("rust is fun")
    net.now += 1
    bob.send("/join #dev")
    bob.send("rust in dev")
    when = hhmm(net)
    carol.lines()
    carol.send("/search rust")
    assert carol.lines() == [
        "*** Found 2 messages for 'rust':",
        f"[#lobby {hhmm(net, -2)}] <bob> the rust compiler is fast",
        f"[#lobby {hhmm(net, -1)}] <carol> rust is fun",
        "*** End of search results",
    ]
    carol.send("/search rust from bob")
    assert carol.lines()[1:-1] == [f"[#lobby {hhmm(net, -2)}] <bob> the rust compiler is fast"]
    carol.send("/search rust in #dev")
    assert carol.lines() == ["! No history of #dev you may read (join the room first)"]
    bob.lines()
    bob.send("/search rust in #dev")
    assert bob.lines()[1:-1] == [f"[#dev {when}] <bob> rust in dev"]
    # FTS5 syntax is text, not a query: no error, no injection.
    carol.send('/search rust" OR "fun')
    assert carol.lines() == ["*** Nothing found for 'rust\" OR \"fun'"]
    carol.send("/search NEAR(rust fun) *")
    assert carol.lines()[0].startswith("***")
    irc = net.irc("dave", caps="batch")
    irc.send("JOIN #lobby")
    irc.lines()
    irc.send("SEARCH compiler from:bob")
    lines = irc.lines()
    assert lines[0].endswith(" ircish/search")
    assert lines[1].endswith(":bob!~plain@localhost PRIVMSG #lobby :the rust compiler is fast")
    assert len(lines) == 3


# -- after login, and read markers -----------------------------------------------------


def test_after_login_replays_private_messages_that_arrived() -> None:
    net = MemoryNetwork(storage=True)
    bob = net.plain("bob")
    bob.user.account = "bob"
    alice = net.plain("alice")
    alice.user.account = "alice"
    since = net.now
    net.now += 5
    bob.send("/msg alice are you there?")
    alice.send("/msg bob yes")
    net.now += 5
    carol = net.plain("carol")
    carol.send("/msg alice hi from carol")
    later = net.plain("alice2")
    later.user.account = "alice"
    with net.chat.outbox(later.client):
        replay.after_login(net.chat, later.client, since)
    assert later.lines() == [
        f"[private {hhmm(net, -5)}] <bob> are you there?",
        f"[private {hhmm(net)}] <carol> hi from carol",
    ]
    irc = net.irc("alice3", caps="batch server-time")
    irc.user.account = "alice"
    with net.chat.outbox(irc.client):
        replay.after_login(net.chat, irc.client, since)
    lines = irc.lines()
    assert lines[0].endswith(" BATCH +" + lines[0].split("+")[1].split()[0] + " chathistory bob")
    assert lines[1].endswith(":bob!~plain@localhost PRIVMSG alice :are you there?")
    fetcher = net.irc("alice4", caps=CH)
    fetcher.user.account = "alice"
    with net.chat.outbox(fetcher.client):
        replay.after_login(net.chat, fetcher.client, since)
    assert fetcher.lines() == []


def test_markread() -> None:
    net = MemoryNetwork(storage=True)
    one = net.irc("alice", caps="draft/read-marker")
    two = net.irc("alice_", caps="draft/read-marker")
    other = net.irc("bob", caps="draft/read-marker")
    one.send("MARKREAD #lobby")
    assert one.lines() == [
        ":ircish.local FAIL MARKREAD ACCOUNT_REQUIRED #lobby :You must be logged in for that"
    ]
    for c in (one, two):
        # Logged in as the account's two devices (what complete_login records).
        c.user.account = "alice"
        net.chat.accounts.online.setdefault("alice", set()).add(c.user)
    one.send("MARKREAD #lobby")
    assert one.lines() == [":ircish.local MARKREAD #lobby *"]
    stamp = server_time(net.now - 60)
    one.send(f"MARKREAD #lobby timestamp={stamp}")
    expected = [f":ircish.local MARKREAD #lobby timestamp={stamp}"]
    assert one.lines() == expected
    assert two.lines() == expected
    assert other.lines() == []
    # Never backwards.
    one.send(f"MARKREAD #lobby timestamp={server_time(net.now - 120)}")
    assert one.lines() == expected
    one.send("MARKREAD #lobby yesterday")
    assert one.lines() == [
        ":ircish.local FAIL MARKREAD INVALID_PARAMS yesterday :Invalid timestamp"
    ]
    one.send("MARKREAD")
    assert one.lines() == [":ircish.local FAIL MARKREAD NEED_MORE_PARAMS :Missing parameters"]
    # On join, before RPL_ENDOFNAMES.
    two.send("JOIN #lobby")
    lines = two.lines()
    marker = lines.index(f":ircish.local MARKREAD #lobby timestamp={stamp}")
    assert marker < next(i for i, x in enumerate(lines) if " 366 " in x)


def test_events_of_one_millisecond_page_exactly_by_msgid() -> None:
    """Sixty lines pasted at once share their millisecond; paging by msgid loses none."""
    net = MemoryNetwork(storage=True)
    bob = net.plain("bob")
    watcher = net.irc("watcher", caps="message-tags")
    watcher.send("JOIN #lobby")
    watcher.lines()
    ids = []
    for i in range(60):
        bob.send(f"old {i}")
        ids.append(watcher.lines()[0].split(" ", 1)[0].removeprefix("@msgid="))
    alice = _history_client(net)
    alice.send("CHATHISTORY LATEST #lobby * 50")
    assert _texts(alice.lines()) == [f"old {i}" for i in range(10, 60)]
    alice.send(f"CHATHISTORY BEFORE #lobby msgid={ids[10]} 50")
    assert _texts(alice.lines()) == [f"old {i}" for i in range(10)]
    alice.send(f"CHATHISTORY AFTER #lobby msgid={ids[49]} 5")
    assert _texts(alice.lines()) == [f"old {i}" for i in range(50, 55)]
    alice.send(f"CHATHISTORY AROUND #lobby msgid={ids[30]} 4")
    assert _texts(alice.lines()) == ["old 28", "old 29", "old 30", "old 31"]
    alice.send(f"CHATHISTORY BETWEEN #lobby msgid={ids[40]} msgid={ids[20]} 3")
    assert _texts(alice.lines()) == ["old 37", "old 38", "old 39"]
    alice.send(f"CHATHISTORY LATEST #lobby msgid={ids[57]} 10")
    assert _texts(alice.lines()) == ["old 58", "old 59"]
