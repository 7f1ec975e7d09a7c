"""A third-party IRC library (jaraco's ``irc`` from PyPI) against a real server.

The library parses what the server sends into events; if ircish's lines were
malformed or out of spec, the events would be missing or wrong. IRC-library
users share rooms with netcat-style plain users (``RunningServer.plain``).

The library is single-threaded: ``LibClient.wait`` pumps its reactor until the
expected event arrives, with a bounded timeout.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import irc.client
import irc.connection
import pytest

from ircish.config import Config, LimitsConfig, ServerConfig
from tests.helpers import LineClient, RunningServer

SERVER = "ircish.local"
LOCAL = "localhost"  # loopback shows as localhost (cloaks)
CAPS = (
    "server-time",
    "echo-message",
    "multi-prefix",
    "away-notify",
    "extended-join",
    "userhost-in-names",
)

MakeServer = Callable[..., RunningServer]
Event = irc.client.Event


class _CapFirst:
    """A connect factory that opens with ``CAP LS 302``, before the library's NICK and USER.

    This is how a client negotiates capabilities with this library: the
    server then holds registration until ``CAP END``.
    """

    def __init__(self) -> None:
        self.inner = irc.connection.Factory()

    def __call__(self, address: tuple[str, int]) -> socket.socket:
        sock = self.inner(address)
        sock.sendall(b"CAP LS 302\r\n")
        return sock


def _kind(event: Event) -> str:
    """An event's numeric code if it has one, else its name ("pubmsg", "join", ...)."""
    code = getattr(event.type, "code", None)
    return str(code) if code and str(code).isdigit() else str(event.type)


class LibClient:
    """One library connection and every event it has seen, consumed in order by ``wait``."""

    def __init__(self, reactor: irc.client.Reactor, nick: str) -> None:
        self.reactor = reactor
        self.nick = nick
        self.conn = reactor.server()
        self.events: list[Event] = []
        self.caps: list[str] = []
        self._pos = 0

    def pump(self, seconds: float = 0.02) -> None:
        self.reactor.process_once(seconds)

    def wait(self, kinds: str | tuple[str, ...], timeout: float = 5.0) -> Event:
        """The next unconsumed event of one of ``kinds`` (numerics or names like "pubmsg")."""
        wanted = (kinds,) if isinstance(kinds, str) else kinds
        deadline = time.monotonic() + timeout
        while True:
            while self._pos < len(self.events):
                event = self.events[self._pos]
                self._pos += 1
                if _kind(event) in wanted:
                    return event
            if time.monotonic() > deadline:
                seen = [(_kind(e), e.target, e.arguments) for e in self.events[-8:]]
                raise AssertionError(f"{self.nick}: no {kinds!r} event; last events: {seen}")
            self.pump()

    def settle(self, seconds: float = 0.2) -> list[Event]:
        """Pump for a while and return (and consume) what arrived."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.pump()
        new = self.events[self._pos :]
        self._pos = len(self.events)
        return new


class Library:
    """A reactor with a recorder, and the clients made with it."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.reactor = irc.client.Reactor()
        self.clients: dict[irc.client.ServerConnection, LibClient] = {}
        self.reactor.add_global_handler("all_events", self._record, -10)

    def _record(self, conn: irc.client.ServerConnection, event: Event) -> None:
        client = self.clients.get(conn)
        if client is None or event.type == "all_raw_messages":
            return
        client.events.append(event)
        if event.type == "cap":
            self._negotiate(client, event)

    @staticmethod
    def _negotiate(client: LibClient, event: Event) -> None:
        sub = event.arguments[0]
        if sub == "LS":
            offered = event.arguments[-1].split()
            wanted = [c for c in client.caps if c in offered]
            if wanted:
                client.conn.cap("REQ", *wanted)
            else:
                client.conn.cap("END")
        elif sub in ("ACK", "NAK"):
            client.conn.cap("END")

    def connect(
        self,
        nick: str,
        caps: tuple[str, ...] = (),
        realname: str | None = None,
        password: str | None = None,
        welcome: bool = True,
    ) -> LibClient:
        client = LibClient(self.reactor, nick)
        client.caps = list(caps)
        self.clients[client.conn] = client
        client.conn.connect(
            self.server.host,
            self.server.port,
            nick,
            password=password,
            username=nick,
            ircname=realname or nick,
            connect_factory=_CapFirst() if caps else irc.connection.Factory(),
        )
        if welcome:
            client.wait("001")
            client.wait("376")
        return client

    def close(self) -> None:
        for client in self.clients.values():
            if client.conn.is_connected():
                client.conn.close()


@pytest.fixture
def library(server: RunningServer) -> Iterator[Library]:
    lib = Library(server)
    yield lib
    lib.close()


def plain(server: RunningServer, nick: str, clients: list[LineClient]) -> LineClient:
    c = server.plain(nick)
    clients.append(c)
    return c


def with_config(**sections: dict[str, object]) -> Config:
    cfg = Config()
    if "server" in sections:
        cfg = replace(cfg, server=replace(ServerConfig(), **sections["server"]))  # type: ignore[arg-type]
    if "limits" in sections:
        cfg = replace(cfg, limits=replace(LimitsConfig(), **sections["limits"]))  # type: ignore[arg-type]
    return cfg


def tag(event: Event, key: str) -> str | None:
    for item in event.tags or ():
        if item["key"] == key:
            return str(item["value"])
    return None


# -- tests ----------------------------------------------------------------------------


def test_registers_with_capabilities_and_reads_isupport(library: Library) -> None:
    alice = library.connect("alice", caps=CAPS, realname="Alice Liddell")
    ls = alice.events[0]
    assert (_kind(ls), ls.source, ls.target) == ("cap", SERVER, "*")
    assert ls.arguments[0] == "LS"
    advertised = {item.split("=")[0] for item in ls.arguments[-1].split()}
    assert set(CAPS) <= advertised
    ack = alice.events[1]
    assert ack.arguments == ["ACK", " ".join(CAPS)]

    conn = alice.conn
    assert conn.get_server_name() == SERVER
    assert conn.get_nickname() == "alice"
    features = conn.features
    assert features.network == "ircish"
    assert features.prefix == {"@": "o", "+": "v"}
    assert features.chantypes == "#"
    assert features.chanmodes == ["beI", "k", "l", "imnst"]
    assert features.casemapping == "rfc8265"
    assert features.nicklen == 30
    assert features.topiclen == 390
    # (The library ignores tokens without a value, such as UTF8ONLY.)
    welcome = next(e for e in alice.events if _kind(e) == "001")
    assert welcome.arguments == [f"Welcome to the ircish IRC Network alice!~alice@{LOCAL}"]
    # server-time: every line is stamped.
    assert tag(welcome, "time") is not None
    motd = [e.arguments[0] for e in alice.events if _kind(e) == "372"]
    assert motd == ["- Be kind; have fun."]


def test_library_and_plain_users_chat(
    server: RunningServer, library: Library, clients: list[LineClient]
) -> None:
    pat = plain(server, "pat", clients)
    alice = library.connect("alice", caps=CAPS, realname="Alice Liddell")
    bob = library.connect("bob")

    alice.conn.join("#lobby")
    join = alice.wait("join")
    assert (join.source, join.target, join.arguments) == (
        f"alice!~alice@{LOCAL}",
        "#lobby",
        ["*", "Alice Liddell"],
    )
    names = alice.wait("353")
    # The server's room: pat, first in, is not its operator.
    assert names.arguments == ["=", "#lobby", f"pat!~plain@{LOCAL} alice!~alice@{LOCAL}"]
    alice.wait("366")
    pat.expect(r"^\*\*\* alice joined #lobby$")
    bob.conn.join("#lobby")
    bob.wait("366")
    pat.expect(r"^\*\*\* bob joined #lobby$")
    ext = alice.wait("join")
    assert (ext.source.nick, ext.arguments) == ("bob", ["*", "bob"])

    # plain -> library, in the room
    pat.send("hello everyone")
    for c in (alice, bob):
        msg = c.wait("pubmsg")
        assert (msg.source, msg.target, msg.arguments) == (
            f"pat!~plain@{LOCAL}",
            "#lobby",
            ["hello everyone"],
        )
    assert tag(msg, "time") is None  # bob did not ask for server-time
    # library -> plain, in the room
    alice.conn.privmsg("#lobby", "hi pat, how are you?")
    pat.expect(r"^\[#lobby\] <alice> hi pat, how are you\?$")
    seen = bob.wait("pubmsg")
    assert (seen.source.nick, seen.arguments) == ("alice", ["hi pat, how are you?"])
    echo = alice.wait("pubmsg")  # echo-message
    assert (echo.source.nick, echo.arguments) == ("alice", ["hi pat, how are you?"])
    assert tag(echo, "time") is not None

    # private messages, both ways
    pat.send("/msg alice just between us")
    msg = alice.wait("privmsg")
    assert (msg.source.nick, msg.target, msg.arguments) == ("pat", "alice", ["just between us"])
    bob.conn.privmsg("pat", "psst, pat")
    pat.expect(r"^\[private\] <bob> psst, pat$")
    bob.conn.privmsg("alice", "and you")
    msg = alice.wait("privmsg")
    assert (msg.source.nick, msg.arguments) == ("bob", ["and you"])

    # notices and actions
    bob.conn.notice("#lobby", "heads up")
    pat.expect(r"^\[#lobby\] -bob- heads up$")
    assert alice.wait("pubnotice").arguments == ["heads up"]
    bob.conn.action("#lobby", "waves")
    pat.expect(r"^\[#lobby\] \* bob waves$")
    assert alice.wait("action").arguments == ["waves"]
    pat.send("/me waves back")
    action = bob.wait("action")
    assert (action.source.nick, action.target) == ("pat", "#lobby")
    assert action.arguments == ["waves back"]


def test_nick_topic_names_who_whois_list(
    server: RunningServer, library: Library, clients: list[LineClient]
) -> None:
    pat = plain(server, "pat", clients)
    alice = library.connect("alice", caps=("multi-prefix",), realname="Alice Liddell")
    bob = library.connect("bob")
    alice.conn.join("#lib")
    alice.wait("366")
    bob.conn.join("#lib")
    bob.wait("366")
    pat.send("/join #lib")
    pat.expect(r"^\*\*\* Users in #lib: @alice bob pat$")

    # nick changes, seen by both kinds
    bob.conn.nick("robert")
    assert bob.wait("nick").target == "robert"
    nick = alice.wait("nick")
    assert (nick.source.nick, nick.target) == ("bob", "robert")
    pat.expect(r"^\*\*\* bob is now known as robert$")
    assert bob.conn.get_nickname() == "robert"
    pat.send("/nick patrick")
    nick = bob.wait("nick")
    assert (nick.source.nick, nick.target) == ("pat", "patrick")

    # topic: set, seen, queried
    alice.conn.topic("#lib", "Library talk")
    topic = bob.wait("topic")
    assert (topic.source.nick, topic.target, topic.arguments) == ("alice", "#lib", ["Library talk"])
    pat.expect(r"^\*\*\* alice changed the topic of #lib to: Library talk$")
    bob.conn.topic("#lib")
    assert bob.wait("332").arguments == ["#lib", "Library talk"]
    setter = bob.wait("333").arguments
    assert setter[0] == "#lib"
    assert setter[1].startswith("alice!")

    # names (multi-prefix after a +v on top of +o)
    alice.conn.mode("#lib", "+ov robert robert")
    alice.wait("mode")
    alice.conn.names(["#lib"])
    names = alice.wait("353")
    assert names.arguments[:2] == ["=", "#lib"]
    assert sorted(names.arguments[2].split()) == ["@+robert", "@alice", "patrick"]
    bob.conn.names(["#lib"])
    assert sorted(bob.wait("353").arguments[2].split()) == ["@alice", "@robert", "patrick"]

    # who
    bob.conn.who("#lib")
    rows = {}
    while True:
        event = bob.wait(("352", "315"))
        if _kind(event) == "315":
            assert event.arguments == ["#lib", "End of /WHO list"]
            break
        rows[event.arguments[4]] = event.arguments
    assert rows["patrick"] == ["#lib", "~plain", LOCAL, SERVER, "patrick", "H", "0 pat"]
    assert rows["alice"] == ["#lib", "~alice", LOCAL, SERVER, "alice", "H@", "0 Alice Liddell"]

    # whois, of a plain user and of a library user
    bob.conn.whois(["patrick"])
    assert bob.wait("311").arguments == ["patrick", "~plain", LOCAL, "*", "pat"]
    assert bob.wait("319").arguments == ["patrick", "#lobby #lib"]
    assert bob.wait("312").arguments == ["patrick", SERVER, "ircish"]
    assert bob.wait("318").arguments == ["patrick", "End of /WHOIS list"]
    pat.send("/whois robert")
    pat.expect(r"^\*\*\* robert is ~bob@localhost \(bob\)$")

    # list
    alice.conn.list()
    alice.wait("321")
    rooms = {}
    while True:
        event = alice.wait(("322", "323"))
        if _kind(event) == "323":
            break
        rooms[event.arguments[0]] = event.arguments[1:]
    assert rooms == {"#lib": ["3", "Library talk"], "#lobby": ["1", ""]}


def test_modes_kick_invite_away(
    server: RunningServer, library: Library, clients: list[LineClient]
) -> None:
    pat = plain(server, "pat", clients)
    alice = library.connect("alice", caps=("away-notify",))
    bob = library.connect("bob")
    carol = library.connect("carol")
    alice.conn.join("#m")
    alice.wait("366")

    alice.conn.mode("#m", "+k sekrit")
    mode = alice.wait("mode")
    assert (mode.target, mode.arguments) == ("#m", ["+k", "sekrit"])
    bob.conn.join("#m")
    assert bob.wait("475").arguments == ["#m", "Cannot join channel (+k)"]
    bob.conn.join("#m", "sekrit")
    bob.wait("366")
    pat.send("/join #m key=sekrit")
    pat.expect(r"^\*\*\* Users in #m: @alice bob pat$")

    alice.conn.mode("#m", "+o bob")
    for c in (alice, bob):
        assert c.wait("mode").arguments == ["+o", "bob"]
    pat.expect(r"^\*\*\* alice sets mode \+o bob on #m$")
    bob.conn.mode("#m", "-k+il sekrit 4")
    mode = alice.wait("mode")
    assert (mode.source.nick, mode.arguments) == ("bob", ["-k+il", "*", "4"])
    alice.conn.mode("#m", "")
    modeis = alice.wait("324")
    assert modeis.arguments == ["#m", "+intl", "4"]
    alice.conn.mode("#m", "b")
    assert alice.wait("368").arguments == ["#m", "End of channel ban list"]
    alice.conn.mode("alice", "+i")
    umode = alice.wait("umode")
    assert (umode.target, umode.arguments) == ("alice", ["+i"])
    alice.conn.mode("alice", "")
    assert alice.wait("221").arguments == ["+i"]

    # invite past +i
    carol.conn.join("#m")
    assert carol.wait("473").arguments == ["#m", "Cannot join channel (+i)"]
    bob.conn.invite("carol", "#m")
    assert bob.wait("341").arguments == ["carol", "#m"]
    invite = carol.wait("invite")
    assert (invite.source.nick, invite.target, invite.arguments) == ("bob", "carol", ["#m"])
    carol.conn.join("#m")
    carol.wait("366")
    pat.expect(r"^\*\*\* carol joined #m$")
    # +l 4 is now reached
    alice.conn.mode("#m", "-i")
    alice.wait("mode")
    dave = library.connect("dave")
    dave.conn.join("#m")
    assert dave.wait("471").arguments == ["#m", "Cannot join channel (+l)"]

    # kick: a library operator kicks a plain user, and a library user
    alice.conn.kick("#m", "pat", "out you go")
    kick = bob.wait("kick")
    assert (kick.source.nick, kick.target, kick.arguments) == ("alice", "#m", ["pat", "out you go"])
    pat.expect(r"^\*\*\* alice kicked pat from #m \(out you go\)$")
    assert carol.wait("kick").arguments == ["pat", "out you go"]
    bob.conn.kick("#m", "carol")
    kick = carol.wait("kick")
    assert (kick.source.nick, kick.arguments) == ("bob", ["carol", "bob"])
    carol.conn.privmsg("#m", "let me back")
    assert carol.wait("404").arguments == ["#m", "Cannot send to channel"]
    carol.conn.kick("#m", "alice")
    assert carol.wait("442").arguments == ["#m", "You're not on that channel"]

    # away: 306/305, 301 on a message, AWAY to away-notify clients
    bob.conn.send_raw("AWAY :at lunch")
    assert bob.wait("306").arguments == ["You have been marked as being away"]
    # The library files the AWAY command under the name of numeric 301 ("away").
    away = alice.wait("301")
    assert (away.source, away.target) == (f"bob!~bob@{LOCAL}", "at lunch")
    alice.conn.privmsg("bob", "you there?")
    rpl_away = alice.wait("301")
    assert (rpl_away.source, rpl_away.arguments) == (SERVER, ["bob", "at lunch"])
    pat.send("/msg bob are you?")
    pat.expect(r"^\*\*\* bob is away: at lunch$")
    bob.conn.send_raw("AWAY")
    assert bob.wait("305").arguments == ["You are no longer marked as being away"]
    back = alice.wait("301")
    assert (back.source.nick, back.target, back.arguments) == ("bob", None, [])


def test_queries_and_errors(
    server: RunningServer, library: Library, clients: list[LineClient]
) -> None:
    plain(server, "pat", clients)
    alice = library.connect("alice")
    bob = library.connect("bob")
    alice.conn.userhost(["pat"])
    assert alice.wait("302").arguments == [f"pat=+~plain@{LOCAL}"]
    alice.conn.ison(["pat", "nobody", "bob"])
    assert alice.wait("303").arguments == ["pat bob"]
    alice.conn.lusers()
    assert alice.wait("251").arguments == ["There are 3 users and 0 invisible on 1 servers"]
    alice.conn.motd()
    assert alice.wait("375").arguments == [f"- {SERVER} Message of the day - "]
    alice.wait("376")
    alice.conn.version()
    assert alice.wait("351").arguments[:2] == [server.chat.version, SERVER]
    alice.conn.time()
    assert alice.wait("391").arguments[0] == SERVER

    alice.conn.nick("bob")
    assert alice.wait("433").arguments == ["bob", "Nickname is already in use"]
    assert alice.conn.get_nickname() == "alice"
    alice.conn.privmsg("nobody", "hi")
    assert alice.wait("401").arguments == ["nobody", "No such nick/channel"]
    alice.conn.part(["#nope"])
    assert alice.wait("403").arguments == ["#nope", "No such channel"]
    alice.conn.send_raw("FROB")
    assert alice.wait("421").arguments == ["FROB", "Unknown command"]
    bob.conn.join("#lobby")
    bob.wait("366")
    bob.conn.topic("#lobby", "mine")
    assert bob.wait("482").arguments == ["#lobby", "You're not channel operator"]
    # The library refuses to send such a line itself, so it goes straight to the socket.
    alice.conn.socket.sendall(b"PRIVMSG #lobby :" + b"x" * 600 + b"\r\n")
    assert alice.wait("417").arguments == ["Input line was too long"]
    # The connection survived every error.
    alice.conn.privmsg("bob", "still here")
    assert bob.wait("privmsg").arguments == ["still here"]


def test_part_and_quit(server: RunningServer, library: Library, clients: list[LineClient]) -> None:
    pat = plain(server, "pat", clients)
    alice = library.connect("alice")
    bob = library.connect("bob")
    for c in (alice, bob):
        c.conn.join("#lobby")
        c.wait("366")
    # (The library sends the PART reason without a colon, so one word.)
    alice.conn.part(["#lobby"], "lunch")
    part = bob.wait("part")
    assert (part.source.nick, part.target, part.arguments) == ("alice", "#lobby", ["lunch"])
    pat.expect(r"^\*\*\* alice left #lobby \(lunch\)$")
    pat.send("/part #lobby bye all")
    part = bob.wait("part")
    assert (part.source.nick, part.arguments) == ("pat", ["bye all"])
    pat.send("/join #lobby")
    bob.wait("join")

    bob.conn.quit("see you")
    error = bob.wait("error")
    assert error.target == f"Closing Link: {LOCAL} (Quit: see you)"
    bob.wait("disconnect")
    pat.expect(r"^\*\*\* bob quit \(Quit: see you\)$")
    alice.conn.join("#lobby")
    alice.wait("366")
    pat.send("/quit gone")
    quit_ = alice.wait("quit")
    assert (quit_.source.nick, quit_.arguments) == ("pat", ["Quit: gone"])


def test_server_password(make_server: MakeServer) -> None:
    srv = make_server(with_config(server={"password": "sesame"}))
    lib = Library(srv)
    try:
        alice = lib.connect("alice", password="sesame")
        assert alice.conn.get_nickname() == "alice"
        mallory = lib.connect("mallory", password="guess", welcome=False)
        assert mallory.wait("464").arguments == ["Password incorrect"]
        assert mallory.wait("error").target == f"Closing Link: {LOCAL} (Bad password)"
        mallory.wait("disconnect")
    finally:
        lib.close()


def test_library_answers_server_pings(make_server: MakeServer, clients: list[LineClient]) -> None:
    srv = make_server(with_config(limits={"ping_interval": 1, "ping_timeout": 1}))
    pat = plain(srv, "pat", clients)
    lib = Library(srv)
    try:
        alice = lib.connect("alice")
        alice.conn.join("#lobby")
        alice.wait("366")
        # The library answers PING by itself; after several rounds it is still here.
        for _ in range(2):
            assert alice.wait("ping").target.startswith(f"{SERVER}-")
        assert alice.conn.is_connected()
        alice.conn.privmsg("#lobby", "still connected")
        pat.expect(r"^\[#lobby\] <alice> still connected$")
        assert not [e for e in alice.settle() if _kind(e) in ("error", "disconnect")]
    finally:
        lib.close()
