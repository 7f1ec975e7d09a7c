"""Classic IRC features over real sockets: an IRC client and netcat users in one room.

WHOWAS, LIST filters, STATUSMSG, bans and HELP topics as each kind of user
sees them, ending with a third-party IRC library (jaraco's ``irc``) parsing
the ban list and WHOWAS replies into its events.
"""

from __future__ import annotations

import re
import time

import irc.client

from ircish.core.handlers.server import MODES_HELP
from ircish.protocol.message import Message
from tests.e2e.e2e_support import Person, heard, person, settle, sync
from tests.helpers import LineClient, RunningServer

SERVER = "ircish.local"
LOCAL = "localhost"  # loopback shows as localhost (cloaks)


def irc_user(server: RunningServer, nick: str, opened: list[LineClient]) -> LineClient:
    conn = server.irc(nick)
    opened.append(conn)
    return conn


def saw(client: LineClient | Person, line: str) -> None:
    """Wait (bounded) until ``client`` receives exactly ``line``."""
    client.expect(f"^{re.escape(line)}$")


def test_whowas_for_irc_and_netcat(server: RunningServer, clients: list[LineClient]) -> None:
    alice = irc_user(server, "alice", clients)
    carol = person(server, "carol", clients)
    bob = person(server, "bob", clients)
    bob.send("/quit see you")
    bob.conn.expect_closed()
    alice.send("WHOWAS bob")
    lines = sync(alice)
    assert lines[0] == f":{SERVER} 314 alice bob ~plain {LOCAL} * :bob"
    assert lines[1].startswith(f":{SERVER} 312 alice bob {SERVER} :")
    assert lines[1].endswith(" UTC")
    assert lines[2:] == [f":{SERVER} 369 alice bob :End of WHOWAS"]
    carol.send("/whowas bob")
    saw(carol, f"*** bob was ~plain@{LOCAL} (bob)")
    assert carol.expect(r"last seen").startswith(f"***   last seen on {SERVER} at ")
    carol.expect(r"^\*\*\* End of /whowas bob$")
    carol.send("/whowas nobody")
    carol.expect(r"^! No one called nobody was here recently$")


def test_bans_between_irc_and_netcat(server: RunningServer, clients: list[LineClient]) -> None:
    alice = irc_user(server, "alice", clients)
    alice.send("JOIN #den")
    bob = person(server, "bob", clients)
    pat = person(server, "pat", clients)
    for p in (bob, pat):
        p.send("/join #den")
        saw(alice, f":{p.nick}!~plain@{LOCAL} JOIN #den")
    settle(pat, [bob, pat])

    # The IRC operator bans netcat bob by nick: the mask is completed.
    alice.send("MODE #den +b bob")
    assert sync(alice) == [f":alice!~alice@{LOCAL} MODE #den +b bob!*@*"]
    assert heard(pat, [bob, pat]) == {
        "bob": ["*** alice sets mode +b bob!*@* on #den"],
        "pat": ["*** alice sets mode +b bob!*@* on #den"],
    }
    bob.send("hello?")
    bob.expect(r"^! You are banned from speaking in #den$")
    assert sync(alice) == []

    # A netcat operator lists the bans, and lifts bob's with /unban.
    alice.send("MODE #den +o pat")
    sync(alice)
    pat.send("/ban")
    pat.expect(r"^\*\*\* Ban in #den: bob!\*@\* \(set by alice on \d{4}-\d\d-\d\d \d\d:\d\d UTC\)$")
    pat.expect(r"^\*\*\* End of the ban list of #den$")
    pat.send("/unban bob")
    saw(alice, f":pat!~plain@{LOCAL} MODE #den -b bob!*@*")
    bob.send("free again")
    saw(alice, f":bob!~plain@{LOCAL} PRIVMSG #den :free again")

    # A ban by host keeps netcat users out: 474, readable for them.
    pat.send("/ban *!~plain@*")
    saw(alice, f":pat!~plain@{LOCAL} MODE #den +b *!~plain@*")
    erin = person(server, "erin", clients)
    erin.send("/join #den")
    erin.expect(r"^! You are banned from #den$")
    # An IRC client banned by nick gets 474.
    dave = irc_user(server, "dave", clients)
    pat.send("/ban dave")
    saw(alice, f":pat!~plain@{LOCAL} MODE #den +b dave!*@*")
    dave.send("JOIN #den")
    assert sync(dave) == [f":{SERVER} 474 dave #den :Cannot join channel (+b)"]
    alice.send("MODE #den +b")
    lines = sync(alice)
    assert [Message.parse(x).params[:3] for x in lines] == [
        ("alice", "#den", "*!~plain@*"),
        ("alice", "#den", "dave!*@*"),
        ("alice", "#den", "End of channel ban list"),
    ]


def test_list_filters_over_the_wire(server: RunningServer, clients: list[LineClient]) -> None:
    alice = irc_user(server, "alice", clients)
    alice.send("JOIN #dev,#devops,#cafe")
    alice.send("TOPIC #cafe :coffee")
    # Its echo first: pat's join must not overtake it (LIST is compared line for line).
    saw(alice, f":alice!~alice@{LOCAL} TOPIC #cafe :coffee")
    pat = person(server, "pat", clients)  # in #lobby
    pat.send("/join #dev")
    saw(alice, f":pat!~plain@{LOCAL} JOIN #dev")
    alice.send("LIST >1")
    assert sync(alice) == [
        f":{SERVER} 321 alice Channel :Users  Name",
        f":{SERVER} 322 alice #dev 2 :",
        f":{SERVER} 323 alice :End of /LIST",
    ]
    alice.send("LIST !#dev*,T<5")
    assert sync(alice) == [
        f":{SERVER} 321 alice Channel :Users  Name",
        f":{SERVER} 322 alice #cafe 1 :coffee",
        f":{SERVER} 323 alice :End of /LIST",
    ]
    pat.send("/list dev <2")
    pat.expect(r"^\*\*\* Rooms:$")
    assert pat.expect(r"^\*\*\*   ") == "***   #devops (1 user)"
    pat.expect(r"^\*\*\* End of /list$")
    pat.send("/list >many")
    pat.expect(r"^! Invalid LIST filter '>many'")


def test_statusmsg_over_the_wire(server: RunningServer, clients: list[LineClient]) -> None:
    alice = irc_user(server, "alice", clients)
    alice.send("JOIN #ops")
    olga = person(server, "olga", clients)
    rita = person(server, "rita", clients)
    for p in (olga, rita):
        p.send("/join #ops")
        saw(alice, f":{p.nick}!~plain@{LOCAL} JOIN #ops")
    alice.send("MODE #ops +o olga")
    sync(alice)
    settle(rita, [olga, rita])
    rita.send("/msg @#ops the ops only")
    saw(alice, f":rita!~plain@{LOCAL} PRIVMSG @#ops :the ops only")
    assert heard(rita, [olga, rita]) == {
        "olga": ["[@#ops] <rita> the ops only"],
        "rita": ["[@#ops] <rita> the ops only"],  # her own line, echoed
    }
    alice.send("PRIVMSG +#ops :voiced and ops")
    sync(alice)  # delivered to olga before alice's PONG, so before rita's markers
    assert heard(rita, [olga, rita]) == {"olga": ["[+#ops] <alice> voiced and ops"], "rita": []}


def test_help_topics_read_the_same_for_both(
    server: RunningServer, clients: list[LineClient]
) -> None:
    alice = irc_user(server, "alice", clients)
    pat = person(server, "pat", clients)
    alice.send("HELPOP modes")
    lines = sync(alice)
    assert lines[0] == f":{SERVER} 704 alice modes :** MODES **"
    assert lines[-1] == f":{SERVER} 706 alice modes :End of /HELP"
    body = [Message.parse(x).params[-1] for x in lines[1:-1]]
    assert body == list(MODES_HELP)
    pat.send("/help modes")
    for line in MODES_HELP:
        assert pat.expect(r"^\*\*\* ") == "*** " + line
    alice.send("HELP nosuchtopic")
    assert sync(alice) == [f":{SERVER} 524 alice nosuchtopic :No help available on this topic"]
    alice.send("INFO")
    info = sync(alice)
    assert info[-1] == f":{SERVER} 374 alice :End of /INFO list"
    pat.send("/info")
    pat.expect(r"^\*\*\* ircish \S+: an IRC-like chat server\.$")


# -- a third-party library ----------------------------------------------------------------


def _kind(event: irc.client.Event) -> str:
    return str(event.type)


def test_irc_library_reads_ban_lists_and_whowas(
    server: RunningServer, clients: list[LineClient]
) -> None:
    reactor = irc.client.Reactor()
    events: list[irc.client.Event] = []
    reactor.add_global_handler("all_events", lambda c, e: events.append(e), -10)
    conn = reactor.server()
    conn.connect(server.host, server.port, "libby", username="libby", ircname="Lib By")

    def wait(kind: str, timeout: float = 5.0) -> irc.client.Event:
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            for event in events[seen:]:
                if _kind(event) == kind:
                    events.remove(event)
                    return event
            seen = len(events)
            reactor.process_once(0.02)
        raise AssertionError(f"no {kind} event; got {[_kind(e) for e in events[-8:]]}")

    try:
        wait("welcome")
        conn.join("#lib")
        wait("join")
        bob: Person = person(server, "bob", clients)
        bob.send("/join #lib")
        wait("join")
        conn.mode("#lib", "+b bob")
        mode = wait("mode")
        assert mode.arguments == ["+b", "bob!*@*"]
        conn.mode("#lib", "+b")
        entry = wait("banlist")
        assert entry.arguments[:3] == ["#lib", "bob!*@*", f"libby!~libby@{LOCAL}"]
        assert entry.arguments[3].isdigit()
        assert wait("endofbanlist").arguments == ["#lib", "End of channel ban list"]
        bob.send("/quit")
        wait("quit")
        conn.whowas("bob")
        user = wait("whowasuser")
        assert user.arguments == ["bob", "~plain", LOCAL, "*", "bob"]
        assert wait("endofwhowas").arguments == ["bob", "End of WHOWAS"]
        conn.send_raw("WHOWAS nobody")
        assert wait("wasnosuchnick").arguments == ["nobody", "There was no such nickname"]
    finally:
        conn.close()
