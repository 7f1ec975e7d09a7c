"""IRC protocol conformance over real sockets: exact numerics and parameters.

Each test drives a real server with raw IRC lines (what any client library
sends) and netcat-style plain users in the same rooms, and checks the replies
parameter by parameter against Modern IRC / RFC 2812 (and ergo/ngircd where
the documents leave room).

To know that something did *not* arrive, a client sends ``PING :sync`` and
collects what came before the ``PONG`` (the server answers in order).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import pytest

from ircish import __version__
from ircish.config import Config, LimitsConfig, ServerConfig
from ircish.core.caps import CAPABILITIES
from tests.e2e.e2e_support import parse, register, sync, wait
from tests.helpers import LineClient, RunningServer

SERVER = "ircish.local"
VERSION = f"ircish-{__version__}"
#: Every capability, by name (what CAP REQ, ACK and LIST carry).
ALL_CAPS = " ".join(CAPABILITIES)
#: What CAP LS 302 lists: names with their values.
LS_302 = [f"{k}={v}" if v else k for k, v in CAPABILITIES.items()]
TIME_TAG = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
LOCAL = "localhost"  # loopback shows as localhost (cloaks)

MakeServer = Callable[..., RunningServer]


# -- helpers --------------------------------------------------------------------


def reply(client: LineClient, code: str) -> tuple[str, ...]:
    """The parameters of the next ``code`` numeric, which must come from the server."""
    msg = wait(client, code)
    assert msg.source == SERVER, msg
    return msg.params


def irc(server: RunningServer, nick: str, clients: list[LineClient]) -> LineClient:
    c = server.irc(nick)
    clients.append(c)
    return c


def plain(server: RunningServer, nick: str, clients: list[LineClient]) -> LineClient:
    c = server.plain(nick)
    clients.append(c)
    return c


def joined(client: LineClient, nick: str, room: str, key: str = "") -> None:
    """Join ``room`` and wait for the end of the names list."""
    client.send(f"JOIN {room} {key}".rstrip())
    client.expect(rf"^(@\S+ )?:{re.escape(nick)}!\S+ JOIN {re.escape(room)}( |$)")
    client.expect(rf" 366 {re.escape(nick)} {re.escape(room)} ")


def mask(nick: str, username: str | None = None) -> str:
    return f"{nick}!{username or '~' + nick}@{LOCAL}"


def with_limits(**kw: object) -> Config:
    return replace(Config(), limits=replace(LimitsConfig(), **kw))  # type: ignore[arg-type]


def with_server(**kw: object) -> Config:
    return replace(Config(), server=replace(ServerConfig(), **kw))  # type: ignore[arg-type]


# -- registration -----------------------------------------------------------------


def test_cap_negotiation_holds_registration_until_cap_end(
    server: RunningServer, clients: list[LineClient]
) -> None:
    c = server.client()
    clients.append(c)
    c.send("CAP LS 302")
    listed: list[str] = []
    while True:
        ls = wait(c, "CAP")
        assert ls.source == SERVER
        assert ls.params[:2] == ("*", "LS")
        listed += ls.params[-1].split()
        if ls.params[2] != "*":  # "CAP * LS * :..." means more lines follow (302)
            break
    assert listed == LS_302
    c.send("NICK alice")
    c.send("USER alice 0 * :Alice Liddell")
    c.send("CAP REQ :" + ALL_CAPS)
    ack = wait(c, "CAP")
    assert ack.params == ("alice", "ACK", ALL_CAPS)
    c.send("CAP LIST")
    assert wait(c, "CAP").params == ("alice", "LIST", ALL_CAPS)
    # NICK and USER were handled before the ACK was sent, so a premature
    # welcome would already be here.
    assert not [line for line in c.received if " 001 " in line]
    c.send("CAP END")
    welcome = wait(c, "001")
    assert welcome.params == ("alice", f"Welcome to the ircish IRC Network {mask('alice')}")
    assert TIME_TAG.match(welcome.tags["time"])


def test_cap_req_is_all_or_nothing_and_can_remove(
    server: RunningServer, clients: list[LineClient]
) -> None:
    c = irc(server, "alice", clients)
    c.send("CAP REQ :server-time bogus-cap")
    assert wait(c, "CAP").params == ("alice", "NAK", "server-time bogus-cap")
    c.send("CAP LIST")
    assert wait(c, "CAP").params == ("alice", "LIST", "")
    # CAP REQ after registration is allowed too (clients do it on reconnect logic).
    c.send("CAP REQ :server-time echo-message")
    assert wait(c, "CAP").params == ("alice", "ACK", "server-time echo-message")
    c.send("CAP REQ :-server-time")
    assert wait(c, "CAP").params == ("alice", "ACK", "-server-time")
    c.send("CAP LIST")
    listed = wait(c, "CAP")
    assert listed.params == ("alice", "LIST", "echo-message")
    assert "time" not in listed.tags
    c.send("CAP FROB")
    assert reply(c, "410") == ("alice", "FROB", "Invalid CAP command")


def test_welcome_burst(server: RunningServer, clients: list[LineClient]) -> None:
    c = server.client()
    clients.append(c)
    c.send("NICK alice")
    c.send("USER alice 0 * :Alice Liddell")
    c.expect(r" 376 ")
    burst = [m for m in map(parse, c.received) if m is not None]
    assert all(m.source == SERVER for m in burst)
    assert [m.verb for m in burst] == [
        *("001", "002", "003", "004", "005", "005", "005"),
        *("251", "252", "253", "254", "255", "265", "266"),
        *("375", "372", "376"),
    ]
    by_code = {m.verb: m.params for m in burst}
    assert by_code["001"] == ("alice", f"Welcome to the ircish IRC Network {mask('alice')}")
    assert by_code["002"] == ("alice", f"Your host is {SERVER}, running version {VERSION}")
    assert re.fullmatch(
        r"This server was created \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", by_code["003"][1]
    )
    assert by_code["004"] == ("alice", SERVER, VERSION, "Biow", "beiIklmnostv", "beIklov")
    assert by_code["251"] == ("alice", "There are 1 users and 0 invisible on 1 servers")
    assert by_code["252"] == ("alice", "0", "operator(s) online")
    assert by_code["254"] == ("alice", "0", "channels formed")
    assert by_code["255"] == ("alice", "I have 1 clients and 0 servers")
    assert by_code["265"] == ("alice", "1", "1", "Current local users 1, max 1")
    assert by_code["266"] == ("alice", "1", "1", "Current global users 1, max 1")
    assert by_code["375"] == ("alice", f"- {SERVER} Message of the day - ")
    assert by_code["372"] == ("alice", "- Be kind; have fun.")
    assert by_code["376"] == ("alice", "End of /MOTD command.")

    isupport = [m.params for m in burst if m.verb == "005"]
    tokens: dict[str, str] = {}
    for params in isupport:
        assert params[0] == "alice"
        assert params[-1] == "are supported by this server"
        # Modern IRC: at most 13 tokens per RPL_ISUPPORT line.
        assert 1 <= len(params[1:-1]) <= 13
        for token in params[1:-1]:
            key, _, value = token.partition("=")
            tokens[key] = value
    assert tokens["CASEMAPPING"] == "rfc8265"
    assert tokens["CHANTYPES"] == "#"
    assert tokens["NICKLEN"] == "30"
    assert tokens["CHANNELLEN"] == "50"
    assert tokens["TOPICLEN"] == "390"
    assert tokens["PREFIX"] == "(ov)@+"
    assert tokens["CHANMODES"] == "beI,k,l,imnst"
    assert tokens["NETWORK"] == "ircish"
    assert tokens["CHANLIMIT"] == "#:50"
    assert "UTF8ONLY" in tokens


def test_no_motd_configured_gives_422(make_server: MakeServer, clients: list[LineClient]) -> None:
    srv = make_server(with_server(motd=""))
    c = srv.client()
    clients.append(c)
    c.send("NICK alice")
    c.send("USER alice 0 * :A")
    assert reply(c, "422") == ("alice", "MOTD File is missing")
    c.send("MOTD")
    assert reply(c, "422") == ("alice", "MOTD File is missing")


def test_multi_line_motd_from_config(make_server: MakeServer, clients: list[LineClient]) -> None:
    srv = make_server(with_server(motd="Line one\nLine two", network="TestNet", name="irc.test"))
    c = srv.client()
    clients.append(c)
    c.send("NICK alice")
    c.send("USER alice 0 * :A")
    assert wait(c, "001").params[1] == "Welcome to the TestNet IRC Network alice!~alice@localhost"
    assert wait(c, "375").params == ("alice", "- irc.test Message of the day - ")
    assert wait(c, "372").params == ("alice", "- Line one")
    assert wait(c, "372").params == ("alice", "- Line two")
    end = wait(c, "376")
    assert end.source == "irc.test"


def test_commands_before_registration(server: RunningServer, clients: list[LineClient]) -> None:
    c = server.client()
    clients.append(c)
    c.send("CAP LS 302")
    wait(c, "CAP")
    c.send("JOIN #room")
    assert reply(c, "451") == ("*", "You have not registered")
    c.send("FROB")
    assert reply(c, "451") == ("*", "You have not registered")
    # PING works before registration (clients use it to measure lag).
    c.send("PING :early")
    assert wait(c, "PONG").params == (SERVER, "early")
    c.send("NICK alice")
    c.send("PRIVMSG bob :hi")
    assert reply(c, "451") == ("alice", "You have not registered")
    c.send("USER alice 0 * :A")
    c.send("CAP END")
    assert wait(c, "001").params[0] == "alice"
    c.send("USER again 0 * :A")
    assert reply(c, "462") == ("alice", "You may not reregister")
    c.send("PASS late")
    assert reply(c, "462") == ("alice", "You may not reregister")


def test_nick_in_use_and_invalid_during_registration(
    server: RunningServer, clients: list[LineClient]
) -> None:
    irc(server, "alice", clients)
    c = server.client()
    clients.append(c)
    # As IRC clients do, USER right after NICK (NICK alone could be a human on netcat).
    c.send("NICK ALICE")
    c.send("USER alice 0 * :A")
    assert reply(c, "433") == ("*", "ALICE", "Nickname is already in use")
    c.send("NICK 9lives")
    assert reply(c, "432") == ("*", "9lives", "Erroneous nickname")
    c.send("NICK")
    assert reply(c, "431") == ("*", "No nickname given")
    c.send("NICK alice2")
    assert wait(c, "001").params[0] == "alice2"


def test_server_password(make_server: MakeServer, clients: list[LineClient]) -> None:
    srv = make_server(with_server(password="sesame"))
    none = srv.client()
    clients.append(none)
    none.send("NICK alice")
    none.send("USER alice 0 * :A")
    assert reply(none, "464") == ("alice", "Password incorrect")
    assert wait(none, "ERROR").params == (f"Closing Link: {LOCAL} (Bad password)",)
    none.expect_closed()

    wrong = srv.client()
    clients.append(wrong)
    wrong.send("PASS open-sesame")
    wrong.send("NICK bob")
    wrong.send("USER bob 0 * :B")
    assert reply(wrong, "464") == ("bob", "Password incorrect")
    wrong.expect_closed()

    right = srv.client()
    clients.append(right)
    right.send("CAP LS 302")
    right.send("PASS :sesame")
    right.send("NICK carol")
    right.send("USER carol 0 * :C")
    right.send("CAP END")
    assert wait(right, "001").params[0] == "carol"
    right.send("PASS sesame")
    assert reply(right, "462") == ("carol", "You may not reregister")


# -- rooms and messages -------------------------------------------------------------


def test_join_burst_topic_names_with_plain_users(
    server: RunningServer, clients: list[LineClient]
) -> None:
    pat = plain(server, "pat", clients)
    pat.send("/join #tea")  # creates #tea: its operator (#tea is the server's)
    pat.expect(r"^\*\*\* Now talking in #tea$")
    pat.send("/topic #tea Welcome all")
    pat.expect(r"^\*\*\* pat changed the topic of #tea to: Welcome all$")

    alice = register(
        server, "alice", "multi-prefix userhost-in-names extended-join", "Alice L", clients
    )
    alice.send("JOIN #tea")
    join = wait(alice, "JOIN")
    assert (join.source, join.params) == (mask("alice"), ("#tea", "*", "Alice L"))
    assert reply(alice, "332") == ("alice", "#tea", "Welcome all")
    topic_by = reply(alice, "333")
    assert topic_by[:3] == ("alice", "#tea", mask("pat", "~plain"))
    assert topic_by[3].isdigit()
    assert reply(alice, "353") == (
        "alice",
        "=",
        "#tea",
        f"@{mask('pat', '~plain')} {mask('alice')}",
    )
    assert reply(alice, "366") == ("alice", "#tea", "End of /NAMES list")
    pat.expect(r"^\*\*\* alice joined #tea$")

    bob = irc(server, "bob", clients)
    bob.send("JOIN #tea")
    assert wait(bob, "JOIN").params == ("#tea",)
    assert reply(bob, "353") == ("bob", "=", "#tea", "@pat alice bob")
    # extended-join: account ("*": none) and realname.
    ext = wait(alice, "JOIN")
    assert (ext.source, ext.params) == (mask("bob"), ("#tea", "*", "bob"))

    pat.send("/mode +ov bob bob")
    mode = wait(bob, "MODE")
    assert (mode.source, mode.params) == (mask("pat", "~plain"), ("#tea", "+ov", "bob", "bob"))
    bob.send("NAMES #tea")
    assert reply(bob, "353") == ("bob", "=", "#tea", "@pat alice @bob")
    assert reply(bob, "366") == ("bob", "#tea", "End of /NAMES list")
    alice.send("NAMES #tea")
    assert reply(alice, "353")[3].split() == [
        f"@{mask('pat', '~plain')}",
        mask("alice"),
        f"@+{mask('bob')}",
    ]
    # multi-prefix applies to WHO flags as well.
    alice.send("WHO #tea")
    flags = {p[5]: p[6] for p in (reply(alice, "352") for _ in range(3))}
    assert flags == {"pat": "H@", "alice": "H", "bob": "H@+"}
    bob.send("WHO #tea")
    flags = {p[5]: p[6] for p in (reply(bob, "352") for _ in range(3))}
    assert flags == {"pat": "H@", "alice": "H", "bob": "H@"}
    # A room that does not exist has an empty names list.
    bob.send("NAMES #nowhere")
    assert reply(bob, "366") == ("bob", "#nowhere", "End of /NAMES list")


def test_messages_between_plain_and_irc_users(
    server: RunningServer, clients: list[LineClient]
) -> None:
    pat = plain(server, "pat", clients)
    alice = register(server, "alice", "echo-message", clients=clients)
    bob = irc(server, "bob", clients)
    joined(alice, "alice", "#lobby")
    joined(bob, "bob", "#lobby")

    pat.send("hello everyone")
    for c in (alice, bob):
        msg = wait(c, "PRIVMSG")
        assert (msg.source, msg.params) == (mask("pat", "~plain"), ("#lobby", "hello everyone"))

    alice.send("PRIVMSG #lobby :hi pat: nice  spaces")
    pat.expect(r"^\[#lobby\] <alice> hi pat: nice  spaces$")
    msg = wait(bob, "PRIVMSG")
    assert (msg.source, msg.params) == (mask("alice"), ("#lobby", "hi pat: nice  spaces"))
    # echo-message: alice gets her own message back, exactly as the others see it.
    echo = wait(alice, "PRIVMSG")
    assert (echo.source, echo.params) == (mask("alice"), ("#lobby", "hi pat: nice  spaces"))

    # Without echo-message, bob's own message does not come back.
    bob.send("PRIVMSG #lobby :from bob")
    pat.expect(r"^\[#lobby\] <bob> from bob$")
    assert wait(alice, "PRIVMSG").params == ("#lobby", "from bob")
    assert not [line for line in sync(bob) if "PRIVMSG" in line]

    pat.send("/msg alice psst")
    msg = wait(alice, "PRIVMSG")
    assert (msg.source, msg.params) == (mask("pat", "~plain"), ("alice", "psst"))
    alice.send("PRIVMSG pat :secret")
    pat.expect(r"^\[private\] <alice> secret$")
    assert wait(alice, "PRIVMSG").params == ("pat", "secret")  # echo

    # Several targets at once.
    bob.send("PRIVMSG pat,alice :to you both")
    pat.expect(r"^\[private\] <bob> to you both$")
    assert wait(alice, "PRIVMSG").params == ("alice", "to you both")

    bob.send("NOTICE #lobby :a notice")
    pat.expect(r"^\[#lobby\] -bob- a notice$")
    bob.send("PRIVMSG #lobby :\x01ACTION waves\x01")
    pat.expect(r"^\[#lobby\] \* bob waves$")
    pat.send("/me waves back")
    assert wait(bob, "PRIVMSG").params == ("#lobby", "\x01ACTION waves back\x01")
    pat.send("/notice bob quietly")
    notice = wait(bob, "NOTICE")
    assert (notice.source, notice.params) == (mask("pat", "~plain"), ("bob", "quietly"))


def test_nick_changes_seen_by_both_kinds(server: RunningServer, clients: list[LineClient]) -> None:
    pat = plain(server, "pat", clients)
    alice = irc(server, "alice", clients)
    bob = irc(server, "bob", clients)
    joined(alice, "alice", "#lobby")
    joined(bob, "bob", "#lobby")

    alice.send("NICK alicia")
    for c in (alice, bob):
        msg = wait(c, "NICK")
        assert (msg.source, msg.params) == (mask("alice"), ("alicia",))
    pat.expect(r"^\*\*\* alice is now known as alicia$")

    pat.send("/nick patty")
    for c in (alice, bob):
        msg = wait(c, "NICK")
        assert (msg.source, msg.params) == (mask("pat", "~plain"), ("patty",))

    # Changing only the case of one's own nick is allowed.
    alice.send("NICK ALICIA")
    assert wait(bob, "NICK").params == ("ALICIA",)
    # The new nick is in use from now on, the old one is free.
    bob.send("PRIVMSG alicia :still you?")
    assert wait(alice, "PRIVMSG").params == ("ALICIA", "still you?")
    bob.send("PRIVMSG alice :gone?")
    assert reply(bob, "401") == ("bob", "alice", "No such nick/channel")
    bob.send("NICK patty")
    assert reply(bob, "433") == ("bob", "patty", "Nickname is already in use")


def test_topic(server: RunningServer, clients: list[LineClient]) -> None:
    pat = plain(server, "pat", clients)
    alice = irc(server, "alice", clients)
    bob = irc(server, "bob", clients)
    joined(alice, "alice", "#t")
    joined(bob, "bob", "#t")
    pat.send("/join #t")
    pat.expect(r"^\*\*\* Users in #t: ")

    alice.send("TOPIC #t")
    assert reply(alice, "331") == ("alice", "#t", "No topic is set")
    alice.send("TOPIC #t :Plans for: the weekend")
    for c in (alice, bob):
        msg = wait(c, "TOPIC")
        assert (msg.source, msg.params) == (mask("alice"), ("#t", "Plans for: the weekend"))
    pat.expect(r"^\*\*\* alice changed the topic of #t to: Plans for: the weekend$")

    bob.send("TOPIC #t")
    assert reply(bob, "332") == ("bob", "#t", "Plans for: the weekend")
    params = reply(bob, "333")
    assert params[:3] == ("bob", "#t", mask("alice"))
    assert params[3].isdigit()

    # +t is on by default: only operators may set the topic.
    bob.send("TOPIC #t :mine now")
    assert reply(bob, "482") == ("bob", "#t", "You're not channel operator")
    pat.send("/topic #t mine now")
    pat.expect(r"^! You need to be an operator of #t for that$")
    alice.send("MODE #t -t")
    wait(bob, "MODE")
    pat.send("/topic #t set by pat")
    for c in (alice, bob):
        msg = wait(c, "TOPIC")
        assert (msg.source, msg.params) == (mask("pat", "~plain"), ("#t", "set by pat"))

    # An empty topic clears it.
    bob.send("TOPIC #t :")
    assert wait(alice, "TOPIC").params == ("#t", "")
    alice.send("TOPIC #t")
    assert reply(alice, "331") == ("alice", "#t", "No topic is set")


def test_who_whois_list(server: RunningServer, clients: list[LineClient]) -> None:
    pat = plain(server, "pat", clients)
    alice = register(server, "alice", realname="Alice Liddell", clients=clients)
    bob = irc(server, "bob", clients)
    joined(alice, "alice", "#lobby")
    joined(alice, "alice", "#other")
    alice.send("TOPIC #other :Other things")
    wait(alice, "TOPIC")

    bob.send("WHO #lobby")
    assert reply(bob, "352") == (
        "bob",
        "#lobby",
        "~plain",
        LOCAL,
        SERVER,
        "pat",
        "H",  # #lobby is the server's room: first in, pat is no operator of it
        "0 pat",
    )
    assert reply(bob, "352") == (
        "bob",
        "#lobby",
        "~alice",
        LOCAL,
        SERVER,
        "alice",
        "H",
        "0 Alice Liddell",
    )
    assert reply(bob, "315") == ("bob", "#lobby", "End of /WHO list")
    bob.send("WHO pat")
    assert reply(bob, "352")[1:7] == ("#lobby", "~plain", LOCAL, SERVER, "pat", "H")
    assert reply(bob, "315") == ("bob", "pat", "End of /WHO list")
    bob.send("WHO nobody")
    assert reply(bob, "315") == ("bob", "nobody", "End of /WHO list (nobody to show)")

    bob.send("WHOIS alice")
    assert reply(bob, "311") == ("bob", "alice", "~alice", LOCAL, "*", "Alice Liddell")
    assert reply(bob, "319") == ("bob", "alice", "#lobby @#other")
    assert reply(bob, "312") == ("bob", "alice", SERVER, "ircish")
    idle = reply(bob, "317")
    assert idle[:2] == ("bob", "alice")
    assert idle[2].isdigit() and idle[3].isdigit()
    assert idle[4] == "seconds idle, signon time"
    assert reply(bob, "318") == ("bob", "alice", "End of /WHOIS list")
    bob.send("WHOIS pat")
    assert reply(bob, "311") == ("bob", "pat", "~plain", LOCAL, "*", "pat")
    assert reply(bob, "319") == ("bob", "pat", "#lobby")
    bob.send("WHOIS nobody")
    assert reply(bob, "401") == ("bob", "nobody", "No such nick/channel")
    assert reply(bob, "318") == ("bob", "nobody", "End of /WHOIS list")

    bob.send("LIST")
    assert reply(bob, "321") == ("bob", "Channel", "Users  Name")
    assert reply(bob, "322") == ("bob", "#lobby", "2", "")
    assert reply(bob, "322") == ("bob", "#other", "1", "Other things")
    assert reply(bob, "323") == ("bob", "End of /LIST")
    bob.send("LIST #other")
    assert reply(bob, "321")[0] == "bob"
    assert reply(bob, "322") == ("bob", "#other", "1", "Other things")
    assert reply(bob, "323") == ("bob", "End of /LIST")

    # The plain user sees the IRC users the same way.
    pat.send("/whois alice")
    pat.expect(r"^\*\*\* alice is ~alice@localhost \(Alice Liddell\)$")
    pat.send("/who")
    pat.expect(r"^\*\*\* #lobby: alice \(~alice@localhost\)$")


def test_away(server: RunningServer, clients: list[LineClient]) -> None:
    pat = plain(server, "pat", clients)
    alice = register(server, "alice", "away-notify", clients=clients)
    bob = irc(server, "bob", clients)
    joined(alice, "alice", "#lobby")
    joined(bob, "bob", "#lobby")

    pat.send("/away out for lunch")
    pat.expect(r"^\*\*\* You are now marked as away$")
    msg = wait(alice, "AWAY")
    assert (msg.source, msg.params) == (mask("pat", "~plain"), ("out for lunch",))
    # Without away-notify, bob is not told.
    assert not [line for line in sync(bob) if " AWAY" in line]

    bob.send("PRIVMSG pat :are you there?")
    assert reply(bob, "301") == ("bob", "pat", "out for lunch")
    bob.send("AWAY :brb")
    assert reply(bob, "306") == ("bob", "You have been marked as being away")
    msg = wait(alice, "AWAY")
    assert (msg.source, msg.params) == (mask("bob"), ("brb",))
    pat.send("/msg bob ping")
    pat.expect(r"^\*\*\* bob is away: brb$")
    alice.send("WHOIS bob")
    assert reply(alice, "301") == ("alice", "bob", "brb")
    alice.send("WHO #lobby")
    flags = {p[5]: p[6] for p in (reply(alice, "352") for _ in range(3))}
    assert flags == {"pat": "G", "alice": "H", "bob": "G"}
    alice.send("USERHOST bob alice")
    assert reply(alice, "302") == ("alice", f"bob=-~bob@{LOCAL} alice=+~alice@{LOCAL}")
    # NOTICE never triggers an automatic reply.
    alice.send("NOTICE bob :fyi")
    assert not [line for line in sync(alice) if " 301 " in line]

    bob.send("AWAY")
    assert reply(bob, "305") == ("bob", "You are no longer marked as being away")
    msg = wait(alice, "AWAY")
    assert (msg.source, msg.params) == (mask("bob"), ())


def test_away_notify_on_join_of_an_away_user(
    server: RunningServer, clients: list[LineClient]
) -> None:
    """IRCv3 away-notify: "...as well as when a user joins and has an away message set"."""
    alice = register(server, "alice", "away-notify", clients=clients)
    bob = irc(server, "bob", clients)
    joined(alice, "alice", "#room")
    bob.send("AWAY :on holiday")
    reply(bob, "306")
    bob.send("JOIN #room")
    assert wait(alice, "JOIN").source == mask("bob")
    assert [line for line in sync(alice) if " AWAY" in line] == [f":{mask('bob')} AWAY :on holiday"]


def test_kick_between_plain_and_irc(server: RunningServer, clients: list[LineClient]) -> None:
    pat = plain(server, "pat", clients)
    alice = irc(server, "alice", clients)
    bob = irc(server, "bob", clients)
    joined(alice, "alice", "#k")
    joined(bob, "bob", "#k")
    pat.send("/join #k")
    pat.expect(r"^\*\*\* Users in #k: ")

    alice.send("KICK #k pat :behave")
    for c in (alice, bob):
        msg = wait(c, "KICK")
        assert (msg.source, msg.params) == (mask("alice"), ("#k", "pat", "behave"))
    pat.expect(r"^\*\*\* alice kicked pat from #k \(behave\)$")
    pat.send("/msg #k let me in")
    pat.expect(r"^! You cannot send to #k: join it first$")

    # Without a reason, the kicker's nick is the reason (as ngircd and ergo do).
    alice.send("KICK #k bob")
    msg = wait(bob, "KICK")
    assert msg.params == ("#k", "bob", "alice")
    bob.send("PRIVMSG #k :hello?")
    assert reply(bob, "404") == ("bob", "#k", "Cannot send to channel")

    # A plain operator kicks an IRC user.
    pat.send("/join #pat")
    pat.expect(r"^\*\*\* Now talking in #pat$")
    joined(bob, "bob", "#pat")
    pat.send("/kick bob spamming")
    msg = wait(bob, "KICK")
    assert (msg.source, msg.params) == (mask("pat", "~plain"), ("#pat", "bob", "spamming"))
    bob.send("NAMES #pat")
    assert reply(bob, "353") == ("bob", "=", "#pat", "@pat")


def test_channel_modes_and_invite(server: RunningServer, clients: list[LineClient]) -> None:
    alice = irc(server, "alice", clients)
    bob = irc(server, "bob", clients)
    carol = irc(server, "carol", clients)
    pat = plain(server, "pat", clients)
    joined(alice, "alice", "#m")

    alice.send("MODE #m")
    assert reply(alice, "324") == ("alice", "#m", "+nt")
    created = reply(alice, "329")
    assert created[:2] == ("alice", "#m")
    assert created[2].isdigit()

    alice.send("MODE #m +k sekrit")
    msg = wait(alice, "MODE")
    assert (msg.source, msg.params) == (mask("alice"), ("#m", "+k", "sekrit"))
    bob.send("JOIN #m")
    assert reply(bob, "475") == ("bob", "#m", "Cannot join channel (+k)")
    bob.send("JOIN #m wrong")
    assert reply(bob, "475") == ("bob", "#m", "Cannot join channel (+k)")
    # Members see the key, others see that there is one.
    bob.send("MODE #m")
    assert reply(bob, "324") == ("bob", "#m", "+ntk", "*")
    joined(bob, "bob", "#m", "sekrit")
    bob.send("MODE #m")
    assert reply(bob, "324") == ("bob", "#m", "+ntk", "sekrit")
    pat.send("/join #m key=sekrit")
    pat.expect(r"^\*\*\* Users in #m: @alice bob pat$")

    alice.send("MODE #m +ov bob pat")
    for c in (alice, bob):
        assert wait(c, "MODE").params == ("#m", "+ov", "bob", "pat")
    pat.expect(r"^\*\*\* alice sets mode \+ov bob pat on #m$")
    bob.send("MODE #m -k sekrit")
    for c in (alice, bob):
        assert wait(c, "MODE").params == ("#m", "-k", "*")
    bob.send("MODE #m +l 3")
    for c in (alice, bob):
        assert wait(c, "MODE").params == ("#m", "+l", "3")
    carol.send("JOIN #m")
    assert reply(carol, "471") == ("carol", "#m", "Cannot join channel (+l)")

    alice.send("MODE #m -l+i")
    assert wait(bob, "MODE").params == ("#m", "-l+i")
    carol.send("JOIN #m")
    assert reply(carol, "473") == ("carol", "#m", "Cannot join channel (+i)")
    # A voiced member is no operator: no invitations on +i.
    pat.send("/invite carol")
    pat.expect(r"^! You need to be an operator of #m for that$")
    bob.send("INVITE carol #m")
    assert reply(bob, "341") == ("bob", "carol", "#m")
    invite = wait(carol, "INVITE")
    assert (invite.source, invite.params) == (mask("bob"), ("carol", "#m"))
    joined(carol, "carol", "#m")
    pat.expect(r"^\*\*\* carol joined #m$")

    alice.send("MODE #m")
    assert reply(alice, "324") == ("alice", "#m", "+int")
    alice.send("MODE #m b")
    assert reply(alice, "368") == ("alice", "#m", "End of channel ban list")
    pat.send("/mode #m +t")
    pat.expect(r"^! You need to be an operator of #m for that$")

    # +n: outsiders cannot talk into the room until it is lifted.
    dave = irc(server, "dave", clients)
    dave.send("PRIVMSG #m :from outside")
    assert reply(dave, "404") == ("dave", "#m", "Cannot send to channel")
    alice.send("MODE #m -n")
    wait(alice, "MODE")
    dave.send("PRIVMSG #m :from outside")
    assert wait(carol, "PRIVMSG").params == ("#m", "from outside")
    pat.expect(r"^\[#m\] <dave> from outside$")

    # A plain operator's /mode reaches IRC users as MODE.
    pat.send("/join #p")
    pat.expect(r"^\*\*\* Users in #p: @pat$")
    joined(dave, "dave", "#p")
    pat.send("/mode +v dave")
    msg = wait(dave, "MODE")
    assert (msg.source, msg.params) == (mask("pat", "~plain"), ("#p", "+v", "dave"))


def test_user_modes(server: RunningServer, clients: list[LineClient]) -> None:
    alice = irc(server, "alice", clients)
    irc(server, "bob", clients)
    alice.send("MODE alice")
    assert reply(alice, "221") == ("alice", "+")
    alice.send("MODE alice +i")
    msg = wait(alice, "MODE")
    assert (msg.source, msg.params) == (mask("alice"), ("alice", "+i"))
    alice.send("MODE alice")
    assert reply(alice, "221") == ("alice", "+i")
    alice.send("MODE alice +i")
    # Setting a mode one already has changes nothing and says nothing.
    assert not [line for line in sync(alice) if " MODE " in line]
    alice.send("MODE alice +z")
    assert reply(alice, "501") == ("alice", "Unknown MODE flag")
    alice.send("MODE bob +i")
    assert reply(alice, "502") == ("alice", "Cant change mode for other users")
    alice.send("MODE bob")
    assert reply(alice, "502") == ("alice", "Cant change mode for other users")
    alice.send("MODE alice -i")
    assert wait(alice, "MODE").params == ("alice", "-i")


def test_userhost_ison(server: RunningServer, clients: list[LineClient]) -> None:
    plain(server, "pat", clients)
    alice = irc(server, "alice", clients)
    irc(server, "bob", clients)
    alice.send("USERHOST pat bob nobody")
    assert reply(alice, "302") == ("alice", f"pat=+~plain@{LOCAL} bob=+~bob@{LOCAL}")
    alice.send("USERHOST nobody")
    assert reply(alice, "302") == ("alice", "")
    alice.send("ISON pat nobody BOB")
    assert reply(alice, "303") == ("alice", "pat bob")
    alice.send("ISON :pat alice")
    assert reply(alice, "303") == ("alice", "pat alice")


def test_server_queries(server: RunningServer, clients: list[LineClient]) -> None:
    plain(server, "pat", clients)
    alice = irc(server, "alice", clients)
    alice.send("LUSERS")
    assert reply(alice, "251") == ("alice", "There are 2 users and 0 invisible on 1 servers")
    assert reply(alice, "252") == ("alice", "0", "operator(s) online")
    assert reply(alice, "254") == ("alice", "1", "channels formed")
    assert reply(alice, "255") == ("alice", "I have 2 clients and 0 servers")
    assert reply(alice, "265") == ("alice", "2", "2", "Current local users 2, max 2")
    assert reply(alice, "266") == ("alice", "2", "2", "Current global users 2, max 2")

    alice.send("MOTD")
    assert reply(alice, "375") == ("alice", f"- {SERVER} Message of the day - ")
    assert reply(alice, "372") == ("alice", "- Be kind; have fun.")
    assert reply(alice, "376") == ("alice", "End of /MOTD command.")

    alice.send("VERSION")
    version = reply(alice, "351")
    assert version[:3] == ("alice", VERSION, SERVER)
    assert reply(alice, "005")[-1] == "are supported by this server"

    alice.send("TIME")
    params = reply(alice, "391")
    assert params[:2] == ("alice", SERVER)
    assert re.fullmatch(r"\w+ \w+ \d\d \d{4} -- \d\d:\d\d:\d\d UTC", params[-1])

    alice.send("HELP")
    assert reply(alice, "704") == ("alice", "*", "ircish help")
    assert reply(alice, "705")[2].startswith("ircish speaks IRC: JOIN PART PRIVMSG")
    assert reply(alice, "706") == ("alice", "*", "End of /HELP")
    alice.send("HELP kick")
    assert reply(alice, "705") == ("alice", "kick", "KICK <room> <nick>{,<nick>} [<reason>]")
    alice.send("HELP nothing")
    assert reply(alice, "524") == ("alice", "nothing", "No help available on this topic")


def test_part_quit_and_join_0(server: RunningServer, clients: list[LineClient]) -> None:
    pat = plain(server, "pat", clients)
    alice = irc(server, "alice", clients)
    bob = irc(server, "bob", clients)
    joined(alice, "alice", "#lobby")
    joined(bob, "bob", "#lobby")
    joined(bob, "bob", "#side")
    joined(alice, "alice", "#side")

    alice.send("PART #lobby :see you later")
    for c in (alice, bob):
        msg = wait(c, "PART")
        assert (msg.source, msg.params) == (mask("alice"), ("#lobby", "see you later"))
    pat.expect(r"^\*\*\* alice left #lobby \(see you later\)$")
    alice.send("PART #lobby")
    assert reply(alice, "442") == ("alice", "#lobby", "You're not on that channel")

    pat.send("/part")
    msg = wait(bob, "PART")
    assert (msg.source, msg.params) == (mask("pat", "~plain"), ("#lobby",))
    pat.send("/join #lobby")
    wait(bob, "JOIN")

    bob.send("QUIT :bye now")
    assert wait(bob, "ERROR").params == (f"Closing Link: {LOCAL} (Quit: bye now)",)
    bob.expect_closed()
    msg = wait(alice, "QUIT")
    assert (msg.source, msg.params) == (mask("bob"), ("Quit: bye now",))
    pat.expect(r"^\*\*\* bob quit \(Quit: bye now\)$")

    # A plain user's quit reaches IRC users as QUIT.
    joined(alice, "alice", "#lobby")
    pat.send("/quit gone fishing")
    msg = wait(alice, "QUIT")
    assert (msg.source, msg.params) == (mask("pat", "~plain"), ("Quit: gone fishing",))

    # JOIN 0 leaves every room.
    alice.send("JOIN 0")
    parts = {wait(alice, "PART").params[0] for _ in range(2)}
    assert parts == {"#lobby", "#side"}
    alice.send("WHOIS alice")
    assert reply(alice, "311")[1] == "alice"
    assert reply(alice, "312")[1] == "alice"  # no 319: in no room

    # QUIT without a reason.
    alice.send("QUIT")
    assert wait(alice, "ERROR").params == (f"Closing Link: {LOCAL} (Quit)",)
    alice.expect_closed()


def test_several_rooms_in_one_join(server: RunningServer, clients: list[LineClient]) -> None:
    alice = irc(server, "alice", clients)
    bob = irc(server, "bob", clients)
    joined(alice, "alice", "#a")
    alice.send("MODE #a +k key")
    wait(alice, "MODE")
    bob.send("JOIN #a,#b,bad,#c key")
    assert wait(bob, "JOIN").params == ("#a",)
    assert reply(bob, "366") == ("bob", "#a", "End of /NAMES list")
    assert wait(bob, "JOIN").params == ("#b",)
    assert reply(bob, "403") == ("bob", "bad", "Invalid channel name: it must start with '#'")
    assert wait(bob, "JOIN").params == ("#c",)
    bob.send("PART #b,#c :done")
    assert wait(bob, "PART").params == ("#b", "done")
    assert wait(bob, "PART").params == ("#c", "done")


def test_empty_target_in_a_list_is_skipped(
    server: RunningServer, clients: list[LineClient]
) -> None:
    """``PRIVMSG ,bob`` (a client's trailing comma) reaches bob; the empty target is skipped.

    ngircd does this, and ircish's own JOIN and PART skip empty names too.
    """
    alice = irc(server, "alice", clients)
    bob = irc(server, "bob", clients)
    alice.send("PRIVMSG ,bob, :hi")
    assert wait(bob, "PRIVMSG").params == ("bob", "hi")
    assert [line for line in sync(alice) if " 401 " in line] == []


# -- errors -------------------------------------------------------------------------

#: (who sends, setup lines alice sends first, the command, the numeric, its params)
ERROR_CASES: list[tuple[str, tuple[str, ...], str, str, tuple[str, ...]]] = [
    ("alice", (), "PRIVMSG nobody :hi", "401", ("alice", "nobody", "No such nick/channel")),
    ("alice", (), "INVITE nobody #room", "401", ("alice", "nobody", "No such nick/channel")),
    ("alice", (), "KICK #room nobody", "401", ("alice", "nobody", "No such nick/channel")),
    ("alice", (), "MODE nobody", "401", ("alice", "nobody", "No such nick/channel")),
    ("alice", (), "PART #nope", "403", ("alice", "#nope", "No such channel")),
    ("alice", (), "PRIVMSG #nope :hi", "403", ("alice", "#nope", "No such channel")),
    ("alice", (), "MODE #nope", "403", ("alice", "#nope", "No such channel")),
    ("alice", (), "TOPIC #nope", "403", ("alice", "#nope", "No such channel")),
    ("alice", (), "KICK #nope bob", "403", ("alice", "#nope", "No such channel")),
    (
        "alice",
        (),
        "JOIN nochan",
        "403",
        ("alice", "nochan", "Invalid channel name: it must start with '#'"),
    ),
    ("bob", (), "PRIVMSG #room :hi", "404", ("bob", "#room", "Cannot send to channel")),
    ("alice", (), "PRIVMSG", "411", ("alice", "No recipient given (PRIVMSG)")),
    ("alice", (), "PRIVMSG :", "411", ("alice", "No recipient given (PRIVMSG)")),
    ("alice", (), "PRIVMSG bob", "412", ("alice", "No text to send")),
    ("alice", (), "PRIVMSG bob :", "412", ("alice", "No text to send")),
    ("alice", (), "FROBNICATE x", "421", ("alice", "FROBNICATE", "Unknown command")),
    ("alice", (), "NICK", "431", ("alice", "No nickname given")),
    ("alice", (), "NICK :", "431", ("alice", "No nickname given")),
    ("alice", (), "NICK 9lives", "432", ("alice", "9lives", "Erroneous nickname")),
    ("alice", (), "NICK bad!nick", "432", ("alice", "bad!nick", "Erroneous nickname")),
    ("alice", (), "NICK -dash", "432", ("alice", "-dash", "Erroneous nickname")),
    ("alice", (), "NICK " + "n" * 31, "432", ("alice", "n" * 31, "Erroneous nickname")),
    ("alice", (), "NICK BOB", "433", ("alice", "BOB", "Nickname is already in use")),
    (
        "alice",
        (),
        "KICK #room bob",
        "441",
        ("alice", "bob", "#room", "They aren't on that channel"),
    ),
    (
        "alice",
        (),
        "MODE #room +v bob",
        "441",
        ("alice", "bob", "#room", "They aren't on that channel"),
    ),
    ("bob", (), "PART #room", "442", ("bob", "#room", "You're not on that channel")),
    ("bob", (), "TOPIC #room :mine", "442", ("bob", "#room", "You're not on that channel")),
    ("bob", (), "KICK #room alice", "442", ("bob", "#room", "You're not on that channel")),
    ("bob", (), "MODE #room +t", "442", ("bob", "#room", "You're not on that channel")),
    ("bob", (), "INVITE carol #room", "442", ("bob", "#room", "You're not on that channel")),
    (
        "alice",
        (),
        "INVITE carol #room",
        "443",
        ("alice", "carol", "#room", "is already on channel"),
    ),
    ("alice", (), "JOIN", "461", ("alice", "JOIN", "Not enough parameters")),
    ("alice", (), "PART", "461", ("alice", "PART", "Not enough parameters")),
    ("alice", (), "KICK #room", "461", ("alice", "KICK", "Not enough parameters")),
    ("alice", (), "MODE", "461", ("alice", "MODE", "Not enough parameters")),
    ("alice", (), "TOPIC", "461", ("alice", "TOPIC", "Not enough parameters")),
    ("alice", (), "INVITE bob", "461", ("alice", "INVITE", "Not enough parameters")),
    ("alice", (), "WHOIS", "461", ("alice", "WHOIS", "Not enough parameters")),
    ("alice", (), "USERHOST", "461", ("alice", "USERHOST", "Not enough parameters")),
    ("alice", (), "ISON", "461", ("alice", "ISON", "Not enough parameters")),
    ("alice", (), "PING", "461", ("alice", "PING", "Not enough parameters")),
    ("alice", (), "CAP", "461", ("alice", "CAP", "Not enough parameters")),
    ("alice", (), "USER a 0 * :x", "462", ("alice", "You may not reregister")),
    (
        "bob",
        ("MODE #room +l 2",),
        "JOIN #room",
        "471",
        ("bob", "#room", "Cannot join channel (+l)"),
    ),
    ("bob", ("MODE #room +i",), "JOIN #room", "473", ("bob", "#room", "Cannot join channel (+i)")),
    (
        "bob",
        ("MODE #room +k sekrit",),
        "JOIN #room",
        "475",
        ("bob", "#room", "Cannot join channel (+k)"),
    ),
    (
        "bob",
        ("MODE #room +k sekrit",),
        "JOIN #room Sekrit",
        "475",
        ("bob", "#room", "Cannot join channel (+k)"),
    ),
    ("carol", (), "KICK #room alice", "482", ("carol", "#room", "You're not channel operator")),
    ("carol", (), "TOPIC #room :mine", "482", ("carol", "#room", "You're not channel operator")),
    ("carol", (), "MODE #room +i", "482", ("carol", "#room", "You're not channel operator")),
    ("carol", (), "MODE #room +o carol", "482", ("carol", "#room", "You're not channel operator")),
    (
        "carol",
        ("MODE #room +i",),
        "INVITE bob #room",
        "482",
        ("carol", "#room", "You're not channel operator"),
    ),
    ("alice", (), "MODE #room +z", "472", ("alice", "z", "is unknown mode char to me")),
    ("alice", (), "MODE alice +z", "501", ("alice", "Unknown MODE flag")),
    ("alice", (), "MODE bob +i", "502", ("alice", "Cant change mode for other users")),
    ("alice", (), "HELP nope", "524", ("alice", "nope", "No help available on this topic")),
]


@pytest.mark.parametrize(
    ("who", "setup", "command", "code", "params"),
    ERROR_CASES,
    ids=[f"{c[3]}-{c[2][:24]}" for c in ERROR_CASES],
)
def test_error_numerics(
    server: RunningServer,
    clients: list[LineClient],
    who: str,
    setup: tuple[str, ...],
    command: str,
    code: str,
    params: tuple[str, ...],
) -> None:
    """alice is the operator of #room, carol a member, bob an outsider."""
    users = {nick: irc(server, nick, clients) for nick in ("alice", "bob", "carol")}
    joined(users["alice"], "alice", "#room")
    joined(users["carol"], "carol", "#room")
    for line in setup:
        users["alice"].send(line)
        wait(users["carol"], "MODE")
    client = users[who]
    client.send(command)
    assert reply(client, code) == params
    # An error never costs the connection.
    assert not client.eof
    sync(client)


def test_too_many_channels(make_server: MakeServer, clients: list[LineClient]) -> None:
    srv = make_server(with_limits(max_rooms_per_user=2))
    alice = irc(srv, "alice", clients)
    alice.send("JOIN #a,#b,#c")
    assert reply(alice, "405") == ("alice", "#c", "You have joined too many channels")
    alice.send("WHOIS alice")
    assert reply(alice, "319") == ("alice", "alice", "@#a @#b")


def test_input_too_long_gets_417(server: RunningServer, clients: list[LineClient]) -> None:
    pat = plain(server, "pat", clients)
    alice = irc(server, "alice", clients)
    bob = irc(server, "bob", clients)
    joined(alice, "alice", "#lobby")
    joined(bob, "bob", "#lobby")

    prefix = "PRIVMSG #lobby :"
    longest = "x" * (510 - len(prefix))  # 510 bytes + CR LF = 512
    alice.send(prefix + longest)
    # Accepted; relayed with alice's mask in front, it is cut to fit IRC's 512 bytes
    # for IRC clients, while netcat users get it whole.
    got = wait(bob, "PRIVMSG")
    assert got.params[0] == "#lobby" and longest.startswith(got.params[1])
    assert len(f":{got.source} PRIVMSG #lobby :{got.params[1]}") == 510
    pat.expect(rf"^\[#lobby\] <alice> {longest}$")

    alice.send(prefix + longest + "y")
    assert reply(alice, "417") == ("alice", "Input line was too long")
    alice.send(prefix + "ü" * 300)
    assert reply(alice, "417") == ("alice", "Input line was too long")
    alice.send("@" + "t" * 5000 + " " + prefix + "tags")
    assert reply(alice, "417") == ("alice", "Input line was too long")
    alice.send(prefix + "z" * 20000)
    assert reply(alice, "417") == ("alice", "Input line was too long")
    # Nothing of the refused lines was delivered, and the connection lives on.
    assert not [line for line in sync(bob) if "PRIVMSG" in line]
    alice.send(prefix + "still here")
    assert wait(bob, "PRIVMSG").params == ("#lobby", "still here")
    # Tags do not count towards the 512 bytes: accepted, relayed as before.
    alice.send("@label=abc " + prefix + longest)
    assert wait(bob, "PRIVMSG").params == got.params


def test_ping_pong(server: RunningServer, clients: list[LineClient]) -> None:
    alice = irc(server, "alice", clients)
    alice.send("PING :token with spaces")
    pong = wait(alice, "PONG")
    assert (pong.source, pong.params) == (SERVER, (SERVER, "token with spaces"))
    alice.send("PING 12345")
    assert wait(alice, "PONG").params == (SERVER, "12345")
    # An unsolicited PONG is harmless.
    alice.send("PONG :whatever")
    sync(alice)


def test_server_ping_and_ping_timeout(make_server: MakeServer, clients: list[LineClient]) -> None:
    srv = make_server(with_limits(ping_interval=1, ping_timeout=1))
    pat = plain(srv, "pat", clients)
    alice = irc(srv, "alice", clients)
    bob = irc(srv, "bob", clients)
    joined(alice, "alice", "#lobby")
    joined(bob, "bob", "#lobby")

    # alice answers the server's PINGs and stays.
    for _ in range(2):
        ping = wait(alice, "PING")
        assert ping.source is None
        (token,) = ping.params
        alice.send(f"PONG :{token}")
    # bob was pinged too, did not answer, and was dropped.
    assert wait(bob, "PING").params
    (error,) = wait(bob, "ERROR").params
    assert re.fullmatch(r"Closing Link: localhost \(Ping timeout: 1 seconds?\)", error)
    bob.expect_closed()
    # bob's QUIT and alice's second PING are both due about 2 s after registration, in
    # either order: look among the lines alice already read before waiting for more.
    seen = [m for m in map(parse, alice.received) if m is not None and m.verb == "QUIT"]
    msg = seen[0] if seen else wait(alice, "QUIT")
    assert msg.source == mask("bob")
    assert re.fullmatch(r"Ping timeout: 1 seconds?", msg.params[0])
    pat.expect(r"^\*\*\* bob quit \(Ping timeout: 1 seconds?\)$")
    # Plain users are not pinged: pat is still here, and alice hears him.
    pat.send("still here")
    assert wait(alice, "PRIVMSG").params == ("#lobby", "still here")


def test_mode_parameter_limit_and_keys(server: RunningServer, clients: list[LineClient]) -> None:
    """ISUPPORT says MODES=4: a fifth mode with a parameter in one command is ignored."""
    alice = irc(server, "alice", clients)
    joined(alice, "alice", "#m")
    others = ["bob", "carol", "dave", "erin", "frank"]
    for nick in others:
        joined(irc(server, nick, clients), nick, "#m")
    alice.send("MODE #m +vvvvv " + " ".join(others))
    msg = wait(alice, "MODE")
    assert msg.params == ("#m", "+vvvv", "bob", "carol", "dave", "erin")
    alice.send("NAMES #m")
    assert reply(alice, "353")[3].split() == ["@alice", "+bob", "+carol", "+dave", "+erin", "frank"]

    # A key must fit in one middle parameter: no spaces, and no leading colon.
    pat = plain(server, "pat", clients)
    pat.send("/join #k")
    pat.expect(r"^\*\*\* Users in #k: @pat$")
    pat.send("/mode #k +k :colon")
    pat.send("/mode #k")
    pat.expect(r"^\*\*\* Modes of #k: \+nt$")
    alice.send("JOIN #k")
    wait(alice, "JOIN")
    alice.send("MODE #k")
    assert reply(alice, "324") == ("alice", "#k", "+nt")


def test_invitations_between_plain_and_irc(
    server: RunningServer, clients: list[LineClient]
) -> None:
    pat = plain(server, "pat", clients)
    alice = irc(server, "alice", clients)
    joined(alice, "alice", "#inv")
    alice.send("MODE #inv +i")
    wait(alice, "MODE")
    pat.send("/join #inv")
    pat.expect(r"^! #inv is invite-only: ask an operator for /invite$")
    alice.send("INVITE pat #inv")
    assert reply(alice, "341") == ("alice", "pat", "#inv")
    pat.expect(r"^\*\*\* alice invites you to #inv \(type /join #inv\)$")
    pat.send("/join #inv")
    assert wait(alice, "JOIN").source == mask("pat", "~plain")
    # The invitation was used up: after leaving, pat needs a new one.
    pat.send("/part #inv")
    wait(alice, "PART")
    pat.send("/join #inv")
    pat.expect(r"^! #inv is invite-only: ask an operator for /invite$")
