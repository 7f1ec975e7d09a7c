"""Classic IRC information commands and room features, through in-memory sessions.

WHOWAS, LINKS, INFO, HELP/HELPOP topics, LIST filters (ELIST=CMNTU),
STATUSMSG, the +b/+e/+I mask lists, +m, +s and multi-target KICK. IRC users
and netcat (plain) users share the rooms of every scenario; IRC output is
checked byte for byte where the protocol fixes it, netcat output as the
readable line a human sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from ircish.config import Config, ServerConfig
from ircish.core import state
from ircish.core.caps import CAPABILITIES
from ircish.core.command import Command
from ircish.core.dispatch import COMMANDS
from ircish.core.handlers import server
from ircish.core.rooms import RoomRegistry
from ircish.dialects.plain import SLASH_COMMANDS, parse_plain
from ircish.protocol.words import canonical_mask
from tests.helpers import MemoryClient, MemoryNetwork, drain

SERVER = "ircish.local"
#: What 1_000_000 (the MemoryNetwork clock) looks like in the replies.
T0 = 1_000_000
T0_WHOWAS = "Mon Jan 12 13:46:40 1970 UTC"
T0_PLAIN = "1970-01-12 13:46 UTC"

CHUNKING = pytest.mark.parametrize("bytewise", [False, True], ids=["one-chunk", "byte-at-a-time"])


def irc_mask(nick: str) -> str:
    return f"{nick}!~{nick}@localhost"


def plain_mask(nick: str) -> str:
    return f"{nick}!~plain@localhost"


def codes(lines: list[str]) -> list[str]:
    return [x.split(" ")[1] for x in lines]


@pytest.fixture
def quiet() -> MemoryNetwork:
    """A network without a default room, so LIST shows only the rooms a test makes."""
    return MemoryNetwork(Config(server=ServerConfig(default_room="")))


# -- WHOWAS -----------------------------------------------------------------------


@CHUNKING
def test_whowas_after_a_quit(net: MemoryNetwork, bytewise: bool) -> None:
    alice = net.irc("alice")
    bob = net.irc("bob")
    bob.send("QUIT :bye")
    net.now += 30
    alice.send("WHOWAS bob", byte_at_a_time=bytewise)
    assert alice.lines() == [
        f":{SERVER} 314 alice bob ~bob localhost * :bob real",
        f":{SERVER} 312 alice bob {SERVER} :{T0_WHOWAS}",
        f":{SERVER} 369 alice bob :End of WHOWAS",
    ]


def test_whowas_unknown_nick(net: MemoryNetwork) -> None:
    alice = net.irc("alice")
    alice.send("WHOWAS nobody")
    assert alice.lines() == [
        f":{SERVER} 406 alice nobody :There was no such nickname",
        f":{SERVER} 369 alice nobody :End of WHOWAS",
    ]


def test_whowas_remembers_nick_changes_newest_first(net: MemoryNetwork) -> None:
    alice = net.irc("alice")
    bob = net.plain("bob")
    bob.send("/nick bobby")
    carl = net.irc("bob")  # a second "bob" comes and goes later
    net.now += 60
    carl.send("QUIT")
    alice.send("WHOWAS BOB")
    assert alice.lines() == [
        f":{SERVER} 314 alice bob ~bob localhost * :bob real",
        f":{SERVER} 312 alice bob {SERVER} :Mon Jan 12 13:47:40 1970 UTC",
        f":{SERVER} 314 alice bob ~plain localhost * :bob",
        f":{SERVER} 312 alice bob {SERVER} :{T0_WHOWAS}",
        f":{SERVER} 369 alice BOB :End of WHOWAS",
    ]


@pytest.mark.parametrize(
    ("count", "entries"),
    [("1", 1), ("2", 2), ("3", 3), ("9", 3), ("0", 3), ("-1", 3), ("many", 3)],
)
def test_whowas_count(net: MemoryNetwork, count: str, entries: int) -> None:
    alice = net.irc("alice")
    for username in ("one", "two", "three"):
        temp = net.connect("irc")
        temp.send("NICK bob")
        temp.send(f"USER {username} 0 * :Bob {username}")
        temp.send("QUIT")
    alice.lines()
    alice.send(f"WHOWAS bob {count}")
    users = [x for x in alice.lines() if " 314 " in x]
    assert (
        users
        == [f":{SERVER} 314 alice bob ~{u} localhost * :Bob {u}" for u in ("three", "two", "one")][
            :entries
        ]
    )


def test_whowas_several_nicks_and_too_many(net: MemoryNetwork) -> None:
    alice = net.irc("alice")
    net.irc("bob").send("QUIT")
    alice.send("WHOWAS bob,nobody,,a,b,c")
    assert alice.lines() == [
        f":{SERVER} 314 alice bob ~bob localhost * :bob real",
        f":{SERVER} 312 alice bob {SERVER} :{T0_WHOWAS}",
        f":{SERVER} 369 alice bob :End of WHOWAS",
        f":{SERVER} 406 alice nobody :There was no such nickname",
        f":{SERVER} 369 alice nobody :End of WHOWAS",
        f":{SERVER} 406 alice a :There was no such nickname",
        f":{SERVER} 369 alice a :End of WHOWAS",
        f":{SERVER} 406 alice b :There was no such nickname",
        f":{SERVER} 369 alice b :End of WHOWAS",
        f":{SERVER} 407 alice c :Too many targets",
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("WHOWAS", [f":{SERVER} 461 alice WHOWAS :Not enough parameters"]),
        ("WHOWAS ,", [f":{SERVER} 431 alice :No nickname given"]),
        (
            "WHOWAS :a b",
            [
                f":{SERVER} 406 alice * :There was no such nickname",
                f":{SERVER} 369 alice * :End of WHOWAS",
            ],
        ),
        (
            "WHOWAS ::x",
            [
                f":{SERVER} 406 alice * :There was no such nickname",
                f":{SERVER} 369 alice * :End of WHOWAS",
            ],
        ),
    ],
)
def test_whowas_bad_input(net: MemoryNetwork, line: str, expected: list[str]) -> None:
    alice = net.irc("alice")
    alice.send(line)
    assert alice.lines() == expected


def test_whowas_is_bounded(net: MemoryNetwork) -> None:
    assert net.chat.whowas.maxlen == net.config.limits.max_whowas
    for i in range(net.config.limits.max_whowas):
        net.chat.whowas.append(state.WhowasEntry(f"old{i}", f"old{i}", "u", "h", "r", net.now))
    alice = net.irc("alice")
    net.irc("bob").send("QUIT")
    assert len(net.chat.whowas) == net.config.limits.max_whowas
    alice.send("WHOWAS old0")
    assert codes(alice.lines()) == ["406", "369"]
    alice.send("WHOWAS bob")
    assert codes(alice.lines()) == ["314", "312", "369"]


def test_plain_whowas(net: MemoryNetwork) -> None:
    pat = net.plain("pat")
    net.irc("bob").send("QUIT :gone")
    pat.lines()
    pat.send("/whowas bob")
    assert pat.lines() == [
        "*** bob was ~bob@localhost (bob real)",
        f"***   last seen on {SERVER} at {T0_WHOWAS}",
        "*** End of /whowas bob",
    ]
    pat.send("/whowas nobody 2")
    assert pat.lines() == ["! No one called nobody was here recently", "*** End of /whowas nobody"]
    pat.send("/whowas")
    assert pat.lines() == ["! Usage: /whowas NICK [COUNT]"]
    pat.send("/whowas bob two")
    assert pat.lines() == ["! Usage: /whowas NICK [COUNT]"]


def test_whois_server_line_is_unchanged_for_plain_users(net: MemoryNetwork) -> None:
    """The WHOWAS time check must not turn WHOIS's 312 into a "last seen" line."""
    pat = net.plain("pat")
    net.irc("bob")
    pat.send("/whois bob")
    assert f"*** bob is connected to {SERVER}" in pat.lines()


# -- LINKS and INFO -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "LINKS",
            [
                f":{SERVER} 364 alice {SERVER} {SERVER} :0 ircish chat server",
                f":{SERVER} 365 alice * :End of /LINKS list",
            ],
        ),
        (
            "LINKS *.LOCAL",
            [
                f":{SERVER} 364 alice {SERVER} {SERVER} :0 ircish chat server",
                f":{SERVER} 365 alice *.LOCAL :End of /LINKS list",
            ],
        ),
        ("LINKS *.example", [f":{SERVER} 365 alice *.example :End of /LINKS list"]),
        (
            f"LINKS {SERVER} ircish.*",
            [
                f":{SERVER} 364 alice {SERVER} {SERVER} :0 ircish chat server",
                f":{SERVER} 365 alice ircish.* :End of /LINKS list",
            ],
        ),
        ("LINKS other.server *", [f":{SERVER} 402 alice other.server :No such server"]),
        ("LINKS :a b", [f":{SERVER} 365 alice * :End of /LINKS list"]),
    ],
)
def test_links(net: MemoryNetwork, line: str, expected: list[str]) -> None:
    alice = net.irc("alice")
    alice.send(line)
    assert alice.lines() == expected


def test_plain_links_output_is_readable(net: MemoryNetwork) -> None:
    # Netcat users have no /links; the numerics still read well (e.g. through a bridge).
    pat = net.plain("pat")
    net.chat.handle(pat.client, Command("LINKS", ()))
    assert pat.lines() == [f"*** Server {SERVER}: ircish chat server"]
    net.chat.handle(pat.client, Command("LINKS", ("x", "y")))
    assert pat.lines() == ["! No such server: x"]


def test_info(net: MemoryNetwork) -> None:
    alice = net.irc("alice")
    alice.send("INFO")
    lines = alice.lines()
    assert lines[0] == f":{SERVER} 371 alice :ircish 0.1.0: an IRC-like chat server."
    assert all(x.startswith(f":{SERVER} 371 alice :") for x in lines[:-1])
    assert lines[-1] == f":{SERVER} 374 alice :End of /INFO list"
    text = " ".join(x.split(" :", 1)[1] for x in lines)
    assert "running since 1970-01-12 13:46:40 UTC" in text
    # Nothing about the people or machine behind it.
    assert "127.0.0.1" not in text
    assert "@" not in text


def test_plain_info(net: MemoryNetwork) -> None:
    pat = net.plain("pat")
    pat.send("/info")
    lines = pat.lines()
    assert lines[0] == "*** ircish 0.1.0: an IRC-like chat server."
    assert all(x.startswith("*** ") for x in lines)
    assert len(lines) == len(server.info_lines(net.chat))


# -- HELP and HELPOP ----------------------------------------------------------------


def help_reply(client: MemoryClient, line: str) -> list[str]:
    client.send(line)
    return client.lines()


@pytest.mark.parametrize("verb", sorted(COMMANDS))
@pytest.mark.parametrize("command", ["HELP", "HELPOP"])
def test_help_for_every_command(net: MemoryNetwork, verb: str, command: str) -> None:
    alice = net.irc("alice")
    lines = help_reply(alice, f"{command} {verb.lower()}")
    doc = COMMANDS[verb].handler.__doc__
    assert doc is not None
    syntax = doc.strip().splitlines()[0]
    subject = verb.lower()
    assert lines[0] == f":{SERVER} 704 alice {subject} :** {verb} **"
    assert lines[1] == f":{SERVER} 705 alice {subject} :{syntax}"
    assert lines[-1] == f":{SERVER} 706 alice {subject} :End of /HELP"
    assert len(lines) == 4, f"{verb} has no one-line description: add it to DESCRIPTIONS"
    assert lines[2].startswith(f":{SERVER} 705 alice {subject} :")
    assert len(lines[2]) < 400


def test_help_overview_and_unknown_topic(net: MemoryNetwork) -> None:
    alice = net.irc("alice")
    lines = help_reply(alice, "HELP")
    assert lines[0] == f":{SERVER} 704 alice * :ircish help"
    assert lines[1].startswith(f":{SERVER} 705 alice * :ircish speaks IRC: JOIN PART")
    assert "HELP INDEX" in lines[1]
    assert lines[2] == f":{SERVER} 706 alice * :End of /HELP"
    assert help_reply(alice, "HELP frobnicate") == [
        f":{SERVER} 524 alice frobnicate :No help available on this topic"
    ]
    assert help_reply(alice, "HELPOP msg") == [
        f":{SERVER} 524 alice msg :No help available on this topic"
    ]


@pytest.mark.parametrize(
    ("line", "subject"),
    [
        ("HELP :two words", "two"),
        ("HELP ::colon", "colon"),
        ("HELP :", "*"),
        ("HELP " + "x" * 80, "x" * 64),
    ],
)
def test_help_topic_is_always_one_safe_parameter(
    net: MemoryNetwork, line: str, subject: str
) -> None:
    alice = net.irc("alice")
    first = help_reply(alice, line)[0]
    assert first.split(" ")[3] == subject


def test_help_topics(net: MemoryNetwork) -> None:
    alice = net.irc("alice")
    index = help_reply(alice, "HELP INDEX")
    assert index[0] == f":{SERVER} 704 alice INDEX :** INDEX **"
    text = " ".join(x.split(" :", 1)[1] for x in index[1:-1])
    assert all(verb in text.split() for verb in COMMANDS)
    assert "MODES" in text
    assert "CAPS" in text
    assert all(len(x.encode()) <= 512 for x in index)

    caps = help_reply(alice, "HELPOP caps")
    text = " ".join(x.split(" :", 1)[1] for x in caps[1:-1])
    assert all(cap in text.split() for cap in CAPABILITIES)

    modes = help_reply(alice, "HELP Modes")
    body = [x.split(" :", 1)[1] for x in modes[1:-1]]
    assert body == list(server.MODES_HELP)
    assert modes[-1] == f":{SERVER} 706 alice Modes :End of /HELP"
    for letter in "iwBo":
        assert any(line.startswith(f"  +{letter} ") for line in body[:5])
    for letter in "ovbeIiklmnst":
        assert f"+{letter}" in " ".join(body[5:])


def test_help_before_registration(net: MemoryNetwork) -> None:
    client = net.connect("irc")
    client.send("HELP whowas")
    assert client.lines()[1] == f":{SERVER} 705 * whowas :WHOWAS <nick>{{,<nick>}} [<count>]"
    client.send("HELPOP")
    assert codes(client.lines()) == ["704", "705", "706"]


def test_plain_help_shares_the_topic_texts(net: MemoryNetwork) -> None:
    pat = net.plain("pat")
    pat.send("/help modes")
    assert pat.lines() == ["*** " + line for line in server.MODES_HELP]
    pat.send("/helpop caps")
    caps = pat.lines()
    assert caps[0].startswith("*** IRCv3 capabilities")
    pat.send("/help nope")
    assert pat.lines() == ["! No help for 'nope'. Type /help for the list of commands."]
    pat.send("/help whowas")
    assert pat.lines() == ["*** /whowas NICK [COUNT]: show who used a nickname recently"]


def test_plain_help_lists_the_new_commands(net: MemoryNetwork) -> None:
    pat = net.plain("pat")
    pat.send("/help")
    lines = pat.lines()
    for name in ("whowas", "ban", "unban", "info"):
        assert any(x.startswith(f"***   {SLASH_COMMANDS[name].usage} ") for x in lines)
    assert lines[-1] == "*** More: /help modes, /help caps"
    pat.send("/help index")
    assert pat.lines() == lines


# -- LIST filters -------------------------------------------------------------------


@pytest.fixture
def rooms(quiet: MemoryNetwork) -> MemoryClient:
    """#old (2 users, 4 minutes old, topic 4 minutes old), #new (1 user, 1 minute, topic
    1 minute), #bare (1 user, 1 minute, no topic), #sec (secret); carol is in none."""
    net = quiet
    alice = net.irc("alice")
    bob = net.irc("bob")
    alice.send("JOIN #old")
    bob.send("JOIN #old")
    alice.send("TOPIC #old :old topic")
    net.now += 180
    alice.send("JOIN #new,#bare,#sec")
    alice.send("TOPIC #new :new topic")
    alice.send("MODE #sec +s")
    net.now += 60
    carol = net.irc("carol")
    drain(alice, bob)
    return carol


def listed(client: MemoryClient, line: str) -> list[str]:
    client.send(line)
    lines = client.lines()
    assert lines[0] == f":{SERVER} 321 {client.user.nick} Channel :Users  Name"
    assert lines[-1] == f":{SERVER} 323 {client.user.nick} :End of /LIST"
    return [x.split(" ")[3] for x in lines[1:-1]]


LIST_CASES = [
    ("", ["#bare", "#new", "#old"]),
    (">1", ["#old"]),
    ("<2", ["#bare", "#new"]),
    (">0", ["#bare", "#new", "#old"]),
    ("<1", []),
    ("<100", ["#bare", "#new", "#old"]),
    ("C>2", ["#old"]),
    ("C<2", ["#bare", "#new"]),
    ("C<0", []),
    ("C>0", ["#bare", "#new", "#old"]),
    ("c<10", ["#bare", "#new", "#old"]),
    ("T>2", ["#old"]),
    ("T<2", ["#new"]),
    ("T<0", []),
    ("T>0", ["#new", "#old"]),
    ("t<10", ["#new", "#old"]),
    ("*ew", ["#new"]),
    ("#o*", ["#old"]),
    ("*E*", ["#bare", "#new"]),
    ("!*ew", ["#bare", "#old"]),
    ("!#*", []),
    ("!*ew,!*ld", ["#bare"]),
    ("#new", ["#new"]),
    ("#NEW,#old", ["#new", "#old"]),
    ("#old,#new", ["#old", "#new"]),
    ("#new,#new", ["#new"]),
    ("#nope", []),
    ("#sec", []),
    ("*sec*", []),
    (">1,*o*", ["#old"]),
    ("#new,*ld", ["#new", "#old"]),
    ("<2,!*are", ["#new"]),
    ("C<2,T<2", ["#new"]),
    ("C>2,C<2", []),
    ("#old,#new >1", ["#old"]),
    ("* ircish.local", ["#bare", "#new", "#old"]),
    ("#b?re", ["#bare"]),
]


@pytest.mark.parametrize(
    ("params", "expected"), LIST_CASES, ids=[c[0] or "all" for c in LIST_CASES]
)
def test_list_filters(rooms: MemoryClient, params: str, expected: list[str]) -> None:
    assert listed(rooms, f"LIST {params}".strip()) == expected


def test_list_reply_bytes_and_secret_rooms_for_members(
    quiet: MemoryNetwork, rooms: MemoryClient
) -> None:
    rooms.send("LIST >1")
    assert rooms.lines() == [
        f":{SERVER} 321 carol Channel :Users  Name",
        f":{SERVER} 322 carol #old 2 :old topic",
        f":{SERVER} 323 carol :End of /LIST",
    ]
    member = quiet.irc("dave")
    member.send("JOIN #sec")
    member.lines()
    assert listed(member, "LIST *sec*") == ["#sec"]
    assert listed(member, "LIST #sec") == ["#sec"]


@pytest.mark.parametrize("bad", [">x", "<", "C<", "T>1.5", ">-1", "C>1e3", ">1,<y", "<\uff11"])
def test_list_bad_filter(rooms: MemoryClient, bad: str) -> None:
    rooms.send(f"LIST {bad}")
    lines = rooms.lines()
    assert len(lines) == 2
    assert lines[0].startswith(f":{SERVER} FAIL LIST INVALID_PARAMS ")
    assert ":Invalid LIST filter " in lines[0]
    assert lines[1] == f":{SERVER} 323 carol :End of /LIST"


def test_list_of_named_rooms_does_not_scan_every_room(
    rooms: MemoryClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def scan(self: RoomRegistry) -> Iterator[object]:
        raise AssertionError("LIST of named rooms scanned every room")

    monkeypatch.setattr(RoomRegistry, "__iter__", scan)
    assert listed(rooms, "LIST #old,#nope >1") == ["#old"]


def test_plain_list_filters(net: MemoryNetwork) -> None:
    pat = net.plain("pat")  # in #lobby
    alice = net.irc("alice")
    alice.send("JOIN #dev,#devops,#cafe")
    net.irc("bob").send("JOIN #dev")
    pat.lines()
    pat.send("/list dev")
    assert pat.lines() == [
        "*** Rooms:",
        "***   #dev (2 users)",
        "***   #devops (1 user)",
        "*** End of /list",
    ]
    pat.send("/list >1")
    assert pat.lines() == ["*** Rooms:", "***   #dev (2 users)", "*** End of /list"]
    pat.send("/list !dev <2")
    assert pat.lines() == [
        "*** Rooms:",
        "***   #cafe (1 user)",
        "***   #lobby (1 user)",
        "*** End of /list",
    ]
    pat.send("/list #c*,#lobby")
    assert pat.lines() == [
        "*** Rooms:",
        "***   #cafe (1 user)",
        "***   #lobby (1 user)",
        "*** End of /list",
    ]
    pat.send("/list C<x")
    assert pat.lines() == [
        "! Invalid LIST filter 'C<x': use >N <N C>N C<N T>N T<N or masks",
        "*** End of /list",
    ]


@pytest.mark.parametrize(
    ("line", "params"),
    [
        ("/list", ()),
        ("/list dev", ("*dev*",)),
        ("/list !dev", ("!*dev*",)),
        ("/list #a* !#ab*", ("#a*,!#ab*",)),
        ("/list >3 <10 C<5 t>2", (">3,<10,C<5,t>2",)),
        ("/list Cats", ("*Cats*",)),
        ("/list a,b", ("*a*,*b*",)),
    ],
)
def test_plain_list_words(net: MemoryNetwork, line: str, params: tuple[str, ...]) -> None:
    pat = net.plain("pat")
    command = parse_plain(line, pat.client)
    assert (command.verb, command.params) == ("LIST", params)


# -- STATUSMSG ------------------------------------------------------------------------


@pytest.fixture
def staff(net: MemoryNetwork) -> dict[str, MemoryClient]:
    """#room: alice (IRC, op), olga (plain, op), vic (IRC, voiced), pat (plain, voiced),
    ray (IRC) and rita (plain) plain members; eve (IRC) is outside."""
    alice = net.irc("alice")
    alice.send("JOIN #room")
    people = {"alice": alice}
    for nick, dialect in (("olga", "plain"), ("vic", "irc"), ("pat", "plain")):
        people[nick] = net.plain(nick) if dialect == "plain" else net.irc(nick)
    people["ray"] = net.irc("ray")
    people["rita"] = net.plain("rita")
    for nick, person in people.items():
        if nick != "alice":
            person.send("/join #room" if person.client.dialect.name == "plain" else "JOIN #room")
    alice.send("MODE #room +ovv olga vic pat")
    people["eve"] = net.irc("eve")
    drain(*people.values())
    return people


def heard(people: dict[str, MemoryClient]) -> dict[str, list[str]]:
    return {nick: p.lines() for nick, p in people.items()}


@CHUNKING
def test_statusmsg_to_operators(staff: dict[str, MemoryClient], bytewise: bool) -> None:
    staff["ray"].send("PRIVMSG @#room :ops only", byte_at_a_time=bytewise)
    assert heard(staff) == {
        "alice": [f":{irc_mask('ray')} PRIVMSG @#room :ops only"],
        "olga": ["[@#room] <ray> ops only"],
        "vic": [],
        "pat": [],
        "ray": [],
        "rita": [],
        "eve": [],
    }


def test_statusmsg_to_voiced(staff: dict[str, MemoryClient]) -> None:
    staff["rita"].send("/msg +#room voiced and up")
    assert heard(staff) == {
        "alice": [f":{plain_mask('rita')} PRIVMSG +#room :voiced and up"],
        "olga": ["[+#room] <rita> voiced and up"],
        "vic": [f":{plain_mask('rita')} PRIVMSG +#room :voiced and up"],
        "pat": ["[+#room] <rita> voiced and up"],
        "ray": [],
        "rita": ["[+#room] <rita> voiced and up"],  # her own line, echoed on netcat
        "eve": [],
    }
    staff["vic"].send("NOTICE @#room :psst")
    assert staff["olga"].lines() == ["[@#room] -vic- psst"]
    assert staff["pat"].lines() == []


def test_statusmsg_from_outside(net: MemoryNetwork, staff: dict[str, MemoryClient]) -> None:
    eve = staff["eve"]
    eve.send("PRIVMSG @#room :let me in")
    assert eve.lines() == [f":{SERVER} 404 eve #room :Cannot send to channel"]
    assert staff["alice"].lines() == []
    staff["alice"].send("MODE #room -n")
    drain(*staff.values())
    eve.send("PRIVMSG @#room :now?")
    assert staff["alice"].lines() == [f":{irc_mask('eve')} PRIVMSG @#room :now?"]
    assert staff["olga"].lines() == ["[@#room] <eve> now?"]
    assert staff["ray"].lines() == []


def test_statusmsg_needs_a_room(staff: dict[str, MemoryClient]) -> None:
    staff["ray"].send("PRIVMSG @#nowhere :x")
    assert staff["ray"].lines() == [f":{SERVER} 403 ray #nowhere :No such channel"]
    staff["ray"].send("PRIVMSG @alice :x")
    assert staff["ray"].lines() == [f":{SERVER} 401 ray @alice :No such nick/channel"]


# -- ban, exception and invite-exception lists ---------------------------------------


@pytest.fixture
def den(net: MemoryNetwork) -> dict[str, MemoryClient]:
    """#den: alice (IRC, op), pat (plain), bob (IRC); eve (IRC) and [x] (IRC) are outside."""
    alice = net.irc("alice")
    alice.send("JOIN #den")
    pat = net.plain("pat")
    pat.send("/join #den")
    bob = net.irc("bob")
    bob.send("JOIN #den")
    eve = net.irc("eve")
    odd = net.irc("[x]")
    people = {"alice": alice, "pat": pat, "bob": bob, "eve": eve, "[x]": odd}
    drain(*people.values())
    return people


@CHUNKING
def test_ban_list_bytes(net: MemoryNetwork, den: dict[str, MemoryClient], bytewise: bool) -> None:
    alice = den["alice"]
    alice.send("MODE #den +b eve", byte_at_a_time=bytewise)
    assert alice.lines() == [f":{irc_mask('alice')} MODE #den +b eve!*@*"]
    assert den["pat"].lines() == ["*** alice sets mode +b eve!*@* on #den"]
    assert den["bob"].lines() == [f":{irc_mask('alice')} MODE #den +b eve!*@*"]
    assert den["eve"].lines() == []
    net.now += 5
    alice.send("MODE #den +b *!*@10.*")
    alice.lines()
    alice.send("MODE #den +b", byte_at_a_time=bytewise)
    assert alice.lines() == [
        f":{SERVER} 367 alice #den eve!*@* {irc_mask('alice')} {T0}",
        f":{SERVER} 367 alice #den *!*@10.* {irc_mask('alice')} {T0 + 5}",
        f":{SERVER} 368 alice #den :End of channel ban list",
    ]
    # Anyone may read the ban list, even from outside.
    den["eve"].send("MODE #den b")
    assert den["eve"].lines() == [
        f":{SERVER} 367 eve #den eve!*@* {irc_mask('alice')} {T0}",
        f":{SERVER} 367 eve #den *!*@10.* {irc_mask('alice')} {T0 + 5}",
        f":{SERVER} 368 eve #den :End of channel ban list",
    ]


def test_exception_and_invite_lists_bytes(den: dict[str, MemoryClient]) -> None:
    alice = den["alice"]
    alice.send("MODE #den +eI bob eve@localhost")
    assert alice.lines() == [f":{irc_mask('alice')} MODE #den +eI bob!*@* *!eve@localhost"]
    alice.send("MODE #den +e")
    assert alice.lines() == [
        f":{SERVER} 348 alice #den bob!*@* {irc_mask('alice')} {T0}",
        f":{SERVER} 349 alice #den :End of channel exception list",
    ]
    alice.send("MODE #den I")
    assert alice.lines() == [
        f":{SERVER} 346 alice #den *!eve@localhost {irc_mask('alice')} {T0}",
        f":{SERVER} 347 alice #den :End of channel invite list",
    ]
    alice.send("MODE #den +beI")
    assert codes(alice.lines()) == ["368", "348", "349", "346", "347"]


def test_exception_lists_are_for_operators(den: dict[str, MemoryClient]) -> None:
    den["alice"].send("MODE #den +e bob")
    drain(*den.values())
    for line in ("MODE #den +e", "MODE #den I"):
        den["bob"].send(line)
        assert den["bob"].lines() == [f":{SERVER} 482 bob #den :You're not channel operator"]
    den["pat"].send("/mode +e")
    assert den["pat"].lines() == ["! You need to be an operator of #den for that"]


def test_plain_mask_lists_are_readable(den: dict[str, MemoryClient]) -> None:
    den["alice"].send("MODE #den +bbeI eve *!*@10.* bob *!*@127.*")
    pat = den["pat"]
    pat.lines()
    pat.send("/ban")
    assert pat.lines() == [
        f"*** Ban in #den: eve!*@* (set by alice on {T0_PLAIN})",
        f"*** Ban in #den: *!*@10.* (set by alice on {T0_PLAIN})",
        "*** End of the ban list of #den",
    ]
    den["alice"].send("MODE #den +o pat")
    pat.lines()
    pat.send("/mode +e")
    assert pat.lines() == [
        f"*** Ban exception in #den: bob!*@* (set by alice on {T0_PLAIN})",
        "*** End of the ban exception list of #den",
    ]
    pat.send("/mode #den +I")
    assert pat.lines() == [
        f"*** Invite exception in #den: *!*@127.* (set by alice on {T0_PLAIN})",
        "*** End of the invite exception list of #den",
    ]


@CHUNKING
def test_banned_user_cannot_join(den: dict[str, MemoryClient], bytewise: bool) -> None:
    den["alice"].send("MODE #den +b eve")
    drain(*den.values())
    den["eve"].send("JOIN #den", byte_at_a_time=bytewise)
    assert den["eve"].lines() == [f":{SERVER} 474 eve #den :Cannot join channel (+b)"]
    assert den["alice"].lines() == []
    assert den["pat"].lines() == []


def test_plain_banned_user_cannot_join(net: MemoryNetwork, den: dict[str, MemoryClient]) -> None:
    den["alice"].send("MODE #den +b *!~plain@*")
    rita = net.plain("rita")
    rita.send("/join #den")
    assert rita.lines() == ["! You are banned from #den"]
    # pat is already inside: a ban does not remove anyone, but silences them.
    pat = den["pat"]
    pat.lines()
    pat.send("still here?")
    assert pat.lines() == ["! You are banned from speaking in #den"]
    assert den["bob"].lines() == [f":{irc_mask('alice')} MODE #den +b *!~plain@*"]


def test_banned_member_cannot_speak_unless_voiced_or_excepted(den: dict[str, MemoryClient]) -> None:
    alice, bob = den["alice"], den["bob"]
    alice.send("MODE #den +b bob")
    drain(*den.values())
    bob.send("PRIVMSG #den :hello?")
    assert bob.lines() == [f":{SERVER} 404 bob #den :Cannot send to channel (+b)"]
    assert den["pat"].lines() == []
    bob.send("NOTICE #den :quiet fail")
    assert bob.lines() == []
    alice.send("MODE #den +v bob")
    drain(*den.values())
    bob.send("PRIVMSG #den :voiced")
    assert den["pat"].lines() == ["[#den] <bob> voiced"]
    alice.send("MODE #den -v+e bob bob")
    drain(*den.values())
    bob.send("PRIVMSG #den :excepted")
    assert den["pat"].lines() == ["[#den] <bob> excepted"]


def test_exception_overrides_a_ban_on_join(den: dict[str, MemoryClient]) -> None:
    alice, eve = den["alice"], den["eve"]
    alice.send("MODE #den +be *!*@localhost eve")
    eve.send("JOIN #den")
    assert eve.lines()[0] == f":{irc_mask('eve')} JOIN #den"
    den["[x]"].send("JOIN #den")
    assert den["[x]"].lines() == [f":{SERVER} 474 [x] #den :Cannot join channel (+b)"]


def test_invite_exception_lets_a_user_into_an_invite_only_room(
    den: dict[str, MemoryClient],
) -> None:
    alice, eve, odd = den["alice"], den["eve"], den["[x]"]
    alice.send("MODE #den +iI eve")
    assert alice.lines() == [f":{irc_mask('alice')} MODE #den +iI eve!*@*"]
    odd.send("JOIN #den")
    assert odd.lines() == [f":{SERVER} 473 [x] #den :Cannot join channel (+i)"]
    eve.send("JOIN #den")
    assert eve.lines()[0] == f":{irc_mask('eve')} JOIN #den"
    # An invite exception does not lift a ban.
    eve.send("PART #den")
    alice.send("MODE #den +b eve")
    eve.lines()
    eve.send("JOIN #den")
    assert eve.lines() == [f":{SERVER} 474 eve #den :Cannot join channel (+b)"]


def test_mask_lists_are_full_at_maxlist(den: dict[str, MemoryClient]) -> None:
    alice = den["alice"]
    for i in range(0, 50, 2):
        alice.send(f"MODE #den +bbee b{i} b{i + 1} e{i} e{i + 1}")
    alice.lines()
    assert sum(len(v) for v in alice.client.user.rooms["#den"].lists.values()) == 100
    alice.send("MODE #den +I late")
    assert alice.lines() == [f":{SERVER} 478 alice #den I :Channel list is full"]
    alice.send("MODE #den +b b0")  # already there, and the lists are full
    assert alice.lines() == [f":{SERVER} 478 alice #den b :Channel list is full"]
    alice.send("MODE #den -b b0")
    assert alice.lines() == [f":{irc_mask('alice')} MODE #den -b b0!*@*"]
    alice.send("MODE #den +I late")
    assert alice.lines() == [f":{irc_mask('alice')} MODE #den +I late!*@*"]
    den["pat"].lines()
    den["alice"].send("MODE #den +b more")
    assert den["alice"].lines() == [f":{SERVER} 478 alice #den b :Channel list is full"]
    den["alice"].send("MODE #den +o pat")
    den["pat"].lines()
    den["pat"].send("/ban more")
    assert den["pat"].lines() == ["! The +b list of #den is full"]


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("bob", "bob!*@*"),
        ("bob!", "bob!*@*"),
        ("bob!x", "bob!x@*"),
        ("bob!x@", "bob!x@*"),
        ("!x@y", "*!x@y"),
        ("x@y", "*!x@y"),
        ("@y", "*!*@y"),
        ("10.0.0.1", "*!*@10.0.0.1"),
        ("*.example.org", "*!*@*.example.org"),
        ("fe80::1", "*!*@fe80::1"),
        ("*", "*!*@*"),
        ("[x]", "[x]!*@*"),
    ],
)
def test_masks_are_canonicalised(den: dict[str, MemoryClient], given: str, canonical: str) -> None:
    assert canonical_mask(given) == canonical
    den["alice"].send(f"MODE #den +b {given}")
    assert den["alice"].lines() == [f":{irc_mask('alice')} MODE #den +b {canonical}"]


@pytest.mark.parametrize(
    ("ban", "nick", "banned"),
    [
        ("[x]", "[x]", True),
        ("[x]", "x", False),
        ("[x]*", "[x]y", True),
        ("?x?", "[x]", True),
        ("?x?", "axb", True),
        ("[X]", "[x]", True),
        ("EVE", "eve", True),
        ("e*", "eve", True),
        ("*!~eve@*", "eve", True),
        ("*!~EVE@localhost", "eve", True),
        ("*!*@127.0.0.2", "eve", False),
        ("x*", "eve", False),
        ("ev", "eve", False),
    ],
)
def test_ban_matching(
    net: MemoryNetwork, den: dict[str, MemoryClient], ban: str, nick: str, banned: bool
) -> None:
    den["alice"].send(f"MODE #den +b {ban}")
    who = den[nick] if nick in den else net.irc(nick)
    who.lines()
    who.send("JOIN #den")
    first = who.lines()[0]
    if banned:
        assert first == f":{SERVER} 474 {nick} #den :Cannot join channel (+b)"
    else:
        assert first == f":{irc_mask(nick)} JOIN #den"


def test_unban_by_any_spelling_of_the_canonical_mask(den: dict[str, MemoryClient]) -> None:
    alice = den["alice"]
    alice.send("MODE #den +b Eve")
    assert alice.lines() == [f":{irc_mask('alice')} MODE #den +b Eve!*@*"]
    alice.send("MODE #den -b nobody")
    assert alice.lines() == []
    alice.send("MODE #den -b EVE")
    # The broadcast names the mask as it was stored.
    assert alice.lines() == [f":{irc_mask('alice')} MODE #den -b Eve!*@*"]
    assert den["pat"].lines() == [
        "*** alice sets mode +b Eve!*@* on #den",
        "*** alice sets mode -b Eve!*@* on #den",
    ]
    den["eve"].send("JOIN #den")
    assert den["eve"].lines()[0] == f":{irc_mask('eve')} JOIN #den"


def test_only_operators_change_the_lists(den: dict[str, MemoryClient]) -> None:
    den["bob"].send("MODE #den +b eve")
    assert den["bob"].lines() == [f":{SERVER} 482 bob #den :You're not channel operator"]
    den["eve"].send("MODE #den +b bob")
    assert den["eve"].lines() == [f":{SERVER} 442 eve #den :You're not on that channel"]
    den["pat"].send("/ban eve")
    assert den["pat"].lines() == ["! You need to be an operator of #den for that"]
    assert den["alice"].lines() == []


@pytest.mark.parametrize(
    ("line", "params"),
    [
        ("/ban", ("#den", "+b")),
        ("/ban #den", ("#den", "+b")),
        ("/ban eve", ("#den", "+b", "eve!*@*")),
        ("/ban #lobby eve", ("#lobby", "+b", "eve!*@*")),
        ("/ban eve *!*@10.* x@y", ("#den", "+bbb", "eve!*@*", "*!*@10.*", "*!x@y")),
        ("/unban eve", ("#den", "-b", "eve!*@*")),
        ("/unban #den eve!*@*", ("#den", "-b", "eve!*@*")),
    ],
)
def test_plain_ban_commands(
    den: dict[str, MemoryClient], line: str, params: tuple[str, ...]
) -> None:
    command = parse_plain(line, den["pat"].client)
    assert (command.verb, command.params) == ("MODE", params)


def test_plain_ban_usage(den: dict[str, MemoryClient]) -> None:
    pat = den["pat"]
    pat.send("/unban")
    assert pat.lines() == ["! Usage: /unban [#room] NICK|MASK ..."]
    pat.send("/ban a b c d e")
    assert pat.lines() == ["! Usage: /ban [#room] [NICK|MASK ...]"]


def test_plain_ban_and_unban(den: dict[str, MemoryClient]) -> None:
    alice, pat, bob = den["alice"], den["pat"], den["bob"]
    alice.send("MODE #den +o pat")
    drain(*den.values())
    pat.send("/ban bob")
    assert pat.lines() == ["*** pat sets mode +b bob!*@* on #den"]
    assert bob.lines() == [f":{plain_mask('pat')} MODE #den +b bob!*@*"]
    bob.send("PRIVMSG #den :hi")
    assert bob.lines() == [f":{SERVER} 404 bob #den :Cannot send to channel (+b)"]
    pat.send("/unban bob")
    assert pat.lines() == ["*** pat sets mode -b bob!*@* on #den"]
    bob.lines()
    bob.send("PRIVMSG #den :back")
    assert pat.lines() == ["[#den] <bob> back"]
    pat.send("/mode +b x*")
    assert pat.lines() == ["*** pat sets mode +b x*!*@* on #den"]
    pat.send("/mode +q x")
    assert pat.lines() == ["! Unknown mode letter q (see /help modes)"]


# -- moderated and secret rooms ------------------------------------------------------------


def test_moderated_room(den: dict[str, MemoryClient]) -> None:
    alice, pat, bob = den["alice"], den["pat"], den["bob"]
    alice.send("MODE #den +m")
    drain(*den.values())
    bob.send("PRIVMSG #den :can I?")
    assert bob.lines() == [f":{SERVER} 404 bob #den :Cannot send to channel (+m)"]
    pat.send("me neither?")
    assert pat.lines() == ["! #den is moderated: only voiced users and operators may speak"]
    assert alice.lines() == []
    alice.send("PRIVMSG #den :ops may")
    assert pat.lines() == ["[#den] <alice> ops may"]
    alice.send("MODE #den +v pat")
    drain(*den.values())
    pat.send("voiced now")
    assert alice.lines() == [f":{plain_mask('pat')} PRIVMSG #den :voiced now"]
    assert bob.lines() == [f":{plain_mask('pat')} PRIVMSG #den :voiced now"]


def test_secret_room_is_hidden_from_outsiders(den: dict[str, MemoryClient]) -> None:
    alice, bob, eve = den["alice"], den["bob"], den["eve"]
    alice.send("JOIN #pub")
    alice.send("MODE #den +s")
    drain(*den.values())
    eve.send("LIST")
    assert [x.split(" ")[3] for x in eve.lines() if " 322 " in x] == ["#lobby", "#pub"]
    eve.send("WHOIS alice")
    assert f":{SERVER} 319 eve alice :@#pub" in eve.lines()
    bob.send("WHOIS alice")
    assert f":{SERVER} 319 bob alice :@#den @#pub" in bob.lines()
    eve.send("NAMES #den")
    assert eve.lines() == [f":{SERVER} 366 eve #den :End of /NAMES list"]
    bob.send("NAMES #den")
    assert bob.lines() == [
        f":{SERVER} 353 bob @ #den :@alice pat bob",
        f":{SERVER} 366 bob #den :End of /NAMES list",
    ]
    eve.send("TOPIC #den")
    assert eve.lines() == [f":{SERVER} 403 eve #den :No such channel"]
    bob.send("TOPIC #den")
    assert bob.lines() == [f":{SERVER} 331 bob #den :No topic is set"]
    bob.send("LIST #den")
    assert [x.split(" ")[3] for x in bob.lines() if " 322 " in x] == ["#den"]


# -- KICK with several nicks ----------------------------------------------------------------


@CHUNKING
def test_kick_several_nicks(
    net: MemoryNetwork, den: dict[str, MemoryClient], bytewise: bool
) -> None:
    alice = den["alice"]
    extra = [net.irc(nick) for nick in ("ann", "cat", "dan")]
    for person in extra:
        person.send("JOIN #den")
    drain(*den.values(), *extra)
    alice.send("KICK #den bob,nobody,pat,ann,cat,dan :out", byte_at_a_time=bytewise)
    assert alice.lines() == [
        f":{irc_mask('alice')} KICK #den bob :out",
        f":{SERVER} 401 alice nobody :No such nick/channel",
        f":{irc_mask('alice')} KICK #den pat :out",
        f":{irc_mask('alice')} KICK #den ann :out",
        f":{SERVER} 407 alice cat :Too many targets",
    ]
    assert den["pat"].lines() == [
        "*** alice kicked bob from #den (out)",
        "*** alice kicked pat from #den (out)",
        "*** Now talking in #lobby",
    ]
    assert extra[1].lines() == [
        f":{irc_mask('alice')} KICK #den bob :out",
        f":{irc_mask('alice')} KICK #den pat :out",
        f":{irc_mask('alice')} KICK #den ann :out",
    ]
    room = net.chat.rooms.get("#den")
    assert room is not None
    assert sorted(u.nick for u in room.members) == ["alice", "cat", "dan"]


def test_kick_the_same_nick_twice(den: dict[str, MemoryClient]) -> None:
    den["alice"].send("KICK #den bob,BOB")
    assert den["alice"].lines() == [
        f":{irc_mask('alice')} KICK #den bob :alice",
        f":{SERVER} 441 alice bob #den :They aren't on that channel",
    ]
    assert den["bob"].lines() == [f":{irc_mask('alice')} KICK #den bob :alice"]


def test_kick_needs_an_operator(den: dict[str, MemoryClient]) -> None:
    den["bob"].send("KICK #den alice,pat")
    assert den["bob"].lines() == [f":{SERVER} 482 bob #den :You're not channel operator"]
    assert den["pat"].lines() == []


# -- odd configurations -----------------------------------------------------------------------


def test_whowas_with_a_server_name_of_its_own() -> None:
    config = Config()
    net = MemoryNetwork(replace(config, server=replace(config.server, name="irc.example.org")))
    alice = net.irc("alice")
    net.irc("bob").send("QUIT")
    alice.send("WHOWAS bob")
    assert alice.lines()[1] == f":irc.example.org 312 alice bob irc.example.org :{T0_WHOWAS}"
    alice.send("LINKS")
    assert alice.lines()[0] == (
        ":irc.example.org 364 alice irc.example.org irc.example.org :0 ircish chat server"
    )
