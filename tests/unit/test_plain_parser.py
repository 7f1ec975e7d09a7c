"""parse_plain: every slash command and alias, table-driven.

Users come from a ``MemoryNetwork`` so that registration and the current room
are real: "room" is a registered user talking in #lobby, "noroom" is a
registered user in no room, "unreg" has not picked a nickname yet.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ircish.config import Config, ServerConfig
from ircish.core.clients import Client
from ircish.core.command import IGNORE, Command, Ignore, Local
from ircish.core.events import ServerNotice
from ircish.dialects.plain import ALIASES, SLASH_COMMANDS, parse_plain
from ircish.errors import CommandError
from ircish.protocol import numerics as n
from tests.helpers import MemoryNetwork

NOT_IN_ROOM = "You are not in a room: /join #room first"


@dataclass(frozen=True)
class Err:
    """The CommandError a line must raise."""

    code: str
    params: tuple[str, ...]
    text: str


def usage(name: str) -> Err:
    return Err(n.ERR_NEEDMOREPARAMS, ("/" + name,), "Usage: " + SLASH_COMMANDS[name].usage)


def unknown(name: str) -> Err:
    return Err(
        n.ERR_UNKNOWNCOMMAND,
        ("/" + name,),
        f"Unknown command /{name}. Type /help for the list of commands.",
    )


NO_ROOM = Err(n.ERR_NOTONCHANNEL, ("*",), NOT_IN_ROOM)
NOT_REGISTERED = Err(n.ERR_NOTREGISTERED, (), n.ERROR_TEXT[n.ERR_NOTREGISTERED])
ACTION = "\x01ACTION {}\x01"
JOIN_HINT = Err(
    n.ERR_NEEDMOREPARAMS,
    ("/join",),
    "To join #secret with the key hunter2, type /join #secret key=hunter2; "
    "to join #secret and #hunter2, type /join #secret #hunter2",
)


def C(verb: str, *params: str) -> Command:
    return Command(verb, params)


Expected = Command | Ignore | Err | Local

ECHO = "echo is {} (show your own messages, as [#room] <you> text)"


def setting(text: str) -> Local:
    return Local(ServerNotice(text))


# (state, line, expected)
CASES: list[tuple[str, str, Expected]] = [
    # -- plain text and escapes ------------------------------------------------
    ("room", "hello world", C("PRIVMSG", "#lobby", "hello world")),
    ("room", "  hello  world  ", C("PRIVMSG", "#lobby", "hello  world")),
    ("room", "привет, Вася!", C("PRIVMSG", "#lobby", "привет, Вася!")),
    ("room", "//join is a command", C("PRIVMSG", "#lobby", "/join is a command")),
    ("room", "//", C("PRIVMSG", "#lobby", "/")),
    ("room", "// spaced", C("PRIVMSG", "#lobby", "/ spaced")),
    ("room", "///", C("PRIVMSG", "#lobby", "//")),
    ("room", "  //hi", C("PRIVMSG", "#lobby", "/hi")),
    ("room", "a/b", C("PRIVMSG", "#lobby", "a/b")),
    ("room", "", IGNORE),
    ("room", "   ", IGNORE),
    ("room", "\t", IGNORE),
    ("noroom", "hello", NO_ROOM),
    ("noroom", "//hello", NO_ROOM),
    # -- before registration: the first line is the nickname -------------------
    ("unreg", "alice", C("NICK", "alice")),
    ("unreg", "  alice  ", C("NICK", "alice")),
    ("unreg", "Вася", C("NICK", "Вася")),
    (
        "unreg",
        "alice smith",
        Err(
            n.ERR_ERRONEUSNICKNAME,
            ("alice smith",),
            "A nickname is one word; type just the name",
        ),
    ),
    ("unreg", "", IGNORE),
    # A human who knows IRC's verb (an IRC client's USER would have followed).
    ("unreg", "NICK carl", C("NICK", "carl")),
    ("unreg", "nick  carl ", C("NICK", "carl")),
    (
        "unreg",
        "NICK carl smith",
        Err(
            n.ERR_ERRONEUSNICKNAME,
            ("NICK carl smith",),
            "A nickname is one word; type just the name",
        ),
    ),
    ("unreg", "/nick alice", C("NICK", "alice")),
    ("unreg", "/NICK Вася", C("NICK", "Вася")),
    ("unreg", "/nick", usage("nick")),
    ("unreg", "/help", C("HELP")),
    ("unreg", "/?", C("HELP")),
    ("unreg", "/quit", C("QUIT")),
    ("unreg", "/pass sekrit", C("PASS", "sekrit")),
    ("unreg", "/pass", usage("pass")),
    ("unreg", "/exit bye", C("QUIT", "bye")),
    ("unreg", "/join #a", NOT_REGISTERED),
    ("unreg", "/msg bob hi", NOT_REGISTERED),
    ("unreg", "/who", NOT_REGISTERED),
    ("unreg", "/bogus", unknown("bogus")),
    # -- /nick ---------------------------------------------------------------
    ("room", "/nick bob", C("NICK", "bob")),
    ("room", "/nick   bob  ", C("NICK", "bob")),
    ("room", "/nick Вася", C("NICK", "Вася")),
    ("room", "/nick", usage("nick")),
    ("room", "/nick bob smith", usage("nick")),
    # -- /join and /j --------------------------------------------------------
    ("room", "/join #a", C("JOIN", "#a")),
    ("room", "/join a", C("JOIN", "#a")),
    ("room", "/join #a,#b", C("JOIN", "#a,#b")),
    ("room", "/join #a #b", C("JOIN", "#a,#b")),
    ("room", "/join a b c", C("JOIN", "#a,#b,#c")),
    ("room", "/join #a, #b", C("JOIN", "#a,#b")),
    # Keys are spelt out: a second word that is not a room is never taken as one.
    ("room", "/join #secret key=hunter2", C("JOIN", "#secret", "hunter2")),
    ("room", "/join #secret KEY=hunter2", C("JOIN", "#secret", "hunter2")),
    ("room", "/join #a #b key=k2", C("JOIN", "#b,#a", "k2")),
    ("room", "/join #a key=k1 #b key=k2", C("JOIN", "#a,#b", "k1,k2")),
    ("room", "/join #secret hunter2", JOIN_HINT),
    (
        "room",
        "/join #a #b c",
        Err(
            n.ERR_NEEDMOREPARAMS,
            ("/join",),
            "To join #a with the key c, type /join #a key=c; to join #a and #c, type /join #a #c",
        ),
    ),
    ("room", "/join key=x", usage("join")),
    ("room", "/join #a key=", usage("join")),
    ("room", "/join #a key=x key=y", usage("join")),
    ("room", "/join #комната", C("JOIN", "#комната")),
    ("room", "/join", usage("join")),
    ("room", "/join   ", usage("join")),
    ("noroom", "/join #a", C("JOIN", "#a")),
    ("room", "/j #a", C("JOIN", "#a")),
    ("room", "/J a", C("JOIN", "#a")),
    ("room", "/JOIN #A", C("JOIN", "#A")),
    ("room", "/j", usage("join")),
    ("room", "   /join    #a   ", C("JOIN", "#a")),
    # -- /part and /leave ------------------------------------------------------
    ("room", "/part", C("PART", "#lobby")),
    ("room", "/part #a", C("PART", "#a")),
    ("room", "/part #a see you later", C("PART", "#a", "see you later")),
    ("room", "/part see you later", C("PART", "#lobby", "see you later")),
    ("room", "/part   #a    bye  ", C("PART", "#a", "bye")),
    ("noroom", "/part", NO_ROOM),
    ("noroom", "/part #a", C("PART", "#a")),
    ("room", "/leave", C("PART", "#lobby")),
    ("room", "/LEAVE #a bye", C("PART", "#a", "bye")),
    # -- /msg and its aliases ------------------------------------------------
    ("room", "/msg bob hi there", C("PRIVMSG", "bob", "hi there")),
    ("room", "/msg   bob   hi  there  ", C("PRIVMSG", "bob", "hi  there")),
    ("room", "/msg #a hello", C("PRIVMSG", "#a", "hello")),
    ("room", "/msg Вася привет", C("PRIVMSG", "Вася", "привет")),
    ("room", "/msg", usage("msg")),
    ("room", "/msg bob", usage("msg")),
    ("room", "/msg bob   ", usage("msg")),
    ("noroom", "/msg bob hi", C("PRIVMSG", "bob", "hi")),
    ("room", "/m bob hi", C("PRIVMSG", "bob", "hi")),
    ("room", "/query bob hi", C("PRIVMSG", "bob", "hi")),
    ("room", "/privmsg bob hi", C("PRIVMSG", "bob", "hi")),
    ("room", "/PRIVMSG bob hi", C("PRIVMSG", "bob", "hi")),
    ("room", "/m", usage("msg")),
    ("room", "/query bob", usage("msg")),
    # -- /notice -------------------------------------------------------------
    ("room", "/notice bob heads up", C("NOTICE", "bob", "heads up")),
    ("room", "/notice #a heads up", C("NOTICE", "#a", "heads up")),
    ("room", "/notice", usage("notice")),
    ("room", "/notice bob", usage("notice")),
    # -- /me and /action -------------------------------------------------------
    ("room", "/me waves", C("PRIVMSG", "#lobby", ACTION.format("waves"))),
    ("room", "/me waves at  everyone", C("PRIVMSG", "#lobby", ACTION.format("waves at  everyone"))),
    ("room", "/me машет", C("PRIVMSG", "#lobby", ACTION.format("машет"))),
    ("room", "/me", usage("me")),
    ("room", "/me   ", usage("me")),
    ("noroom", "/me waves", NO_ROOM),
    ("room", "/action waves", C("PRIVMSG", "#lobby", ACTION.format("waves"))),
    ("room", "/action", usage("me")),
    # -- /who and /users -------------------------------------------------------
    ("room", "/who", C("WHO", "#lobby")),
    ("room", "/who #a", C("WHO", "#a")),
    ("room", "/who bob", C("WHO", "bob")),
    ("room", "/who #a #b", usage("who")),
    ("noroom", "/who", C("WHO", "*")),
    ("room", "/users", C("WHO", "#lobby")),
    ("room", "/users #a", C("WHO", "#a")),
    # -- /whois ----------------------------------------------------------------
    ("room", "/whois bob", C("WHOIS", "bob")),
    ("room", "/whois Вася", C("WHOIS", "Вася")),
    ("room", "/whois", usage("whois")),
    ("room", "/whois bob carol", usage("whois")),
    # -- /names ----------------------------------------------------------------
    ("room", "/names", C("NAMES", "#lobby")),
    ("room", "/names #a", C("NAMES", "#a")),
    ("room", "/names a", C("NAMES", "#a")),
    ("room", "/names #a #b", usage("names")),
    ("noroom", "/names", NO_ROOM),
    ("noroom", "/names #a", C("NAMES", "#a")),
    # -- /list -----------------------------------------------------------------
    ("room", "/list", C("LIST")),
    ("room", "/list #a*", C("LIST", "#a*")),
    ("noroom", "/list", C("LIST")),
    # -- /topic ----------------------------------------------------------------
    ("room", "/topic", C("TOPIC", "#lobby")),
    ("room", "/topic #a", C("TOPIC", "#a")),
    ("room", "/topic #a Release on Friday", C("TOPIC", "#a", "Release on Friday")),
    ("room", "/topic Release on Friday", C("TOPIC", "#lobby", "Release on Friday")),
    ("room", "/topic Тема дня", C("TOPIC", "#lobby", "Тема дня")),
    ("room", "/topic -delete", C("TOPIC", "#lobby", "")),
    ("room", "/topic #a -delete", C("TOPIC", "#a", "")),
    ("noroom", "/topic", NO_ROOM),
    ("noroom", "/topic #a", C("TOPIC", "#a")),
    # -- /away -----------------------------------------------------------------
    ("room", "/away", C("AWAY")),
    ("room", "/away gone fishing", C("AWAY", "gone fishing")),
    ("room", "/away    gone   fishing  ", C("AWAY", "gone   fishing")),
    # -- /kick -----------------------------------------------------------------
    ("room", "/kick bob", C("KICK", "#lobby", "bob")),
    ("room", "/kick bob stop spamming", C("KICK", "#lobby", "bob", "stop spamming")),
    ("room", "/kick #a bob", C("KICK", "#a", "bob")),
    ("room", "/kick #a bob  stop  it ", C("KICK", "#a", "bob", "stop  it")),
    ("room", "/kick", usage("kick")),
    ("room", "/kick #a", usage("kick")),
    ("noroom", "/kick bob", NO_ROOM),
    ("noroom", "/kick #a bob", C("KICK", "#a", "bob")),
    # -- /mode -----------------------------------------------------------------
    ("room", "/mode", C("MODE", "#lobby")),
    ("room", "/mode +i", C("MODE", "#lobby", "+i")),
    ("room", "/mode +o bob", C("MODE", "#lobby", "+o", "bob")),
    ("room", "/mode -t", C("MODE", "#lobby", "-t")),
    ("room", "/mode #a", C("MODE", "#a")),
    ("room", "/mode #a +k secret", C("MODE", "#a", "+k", "secret")),
    ("room", "/mode alice +i", C("MODE", "alice", "+i")),
    ("noroom", "/mode", NO_ROOM),
    ("noroom", "/mode +i", NO_ROOM),
    ("noroom", "/mode alice", C("MODE", "alice")),
    # -- /invite ---------------------------------------------------------------
    ("room", "/invite bob", C("INVITE", "bob", "#lobby")),
    ("room", "/invite bob #a", C("INVITE", "bob", "#a")),
    ("room", "/invite bob a", C("INVITE", "bob", "#a")),
    ("room", "/invite", usage("invite")),
    ("room", "/invite bob #a #b", usage("invite")),
    ("noroom", "/invite bob", NO_ROOM),
    ("noroom", "/invite bob #a", C("INVITE", "bob", "#a")),
    # -- /quit, /exit, /bye ------------------------------------------------------
    ("room", "/quit", C("QUIT")),
    ("room", "/quit see you all", C("QUIT", "see you all")),
    ("room", "/exit", C("QUIT")),
    ("room", "/bye", C("QUIT")),
    ("room", "/BYE later", C("QUIT", "later")),
    # -- /help and /? ----------------------------------------------------------
    ("room", "/help", C("HELP")),
    ("room", "/help join", C("HELP", "join")),
    ("room", "/help /join", C("HELP", "join")),
    ("room", "/?", C("HELP")),
    ("room", "/? msg", C("HELP", "msg")),
    # -- users, MONITOR -------------------------------------------------------------
    ("room", "/setname Pat Smith", C("SETNAME", "Pat Smith")),
    ("room", "/setname", usage("setname")),
    ("room", "/realname Pat", C("SETNAME", "Pat")),
    ("room", "/chghost bob ~b new.host", C("CHGHOST", "bob", "~b", "new.host")),
    ("room", "/chghost bob", usage("chghost")),
    ("room", "/monitor", C("MONITOR", "L")),
    ("room", "/notify -bob", C("MONITOR", "-", "bob")),
    # -- operators -------------------------------------------------------------------
    ("room", "/oper admin pw", C("OPER", "admin", "pw")),
    ("room", "/oper admin two words", C("OPER", "admin", "two words")),
    ("room", "/oper admin", usage("oper")),
    ("unreg", "/oper admin pw", NOT_REGISTERED),
    ("room", "/kill bob spam", C("KILL", "bob", "spam")),
    ("room", "/kill bob", usage("kill")),
    ("room", "/wallops hi all", C("WALLOPS", "hi all")),
    ("room", "/wallops", usage("wallops")),
    ("room", "/stats z", C("STATS", "z")),
    ("room", "/stats z more", C("STATS", "z")),
    ("room", "/kline *@203.0.113.7", C("KLINE", "*@203.0.113.7")),
    ("room", "/kline 1h bob spam  on sight", C("KLINE", "1h", "bob", "spam on sight")),
    ("room", "/kline andkill myself 2d *@h x", C("KLINE", "andkill", "myself", "2d", "*@h", "x")),
    ("room", "/kline", usage("kline")),
    ("room", "/kline 10m", usage("kline")),
    ("room", "/dline 10.0.0.0/8 bots", C("DLINE", "10.0.0.0/8", "bots")),
    ("room", "/dline", usage("dline")),
    ("room", "/unkline *@h", C("UNKLINE", "*@h")),
    ("room", "/unkline", usage("unkline")),
    ("room", "/undline 10.0.0.0/8", C("UNDLINE", "10.0.0.0/8")),
    ("room", "/undline a b", usage("undline")),
    ("room", "/stats k", C("STATS", "k")),
    ("room", "/stats", usage("stats")),
    # -- bans, WHOWAS, INFO -----------------------------------------------------------
    ("room", "/ban bob", C("MODE", "#lobby", "+b", "bob!*@*")),
    ("room", "/ban #dev *!*@bad.host", C("MODE", "#dev", "+b", "*!*@bad.host")),
    ("room", "/unban bob", C("MODE", "#lobby", "-b", "bob!*@*")),
    ("room", "/whowas bob", C("WHOWAS", "bob")),
    ("room", "/whowas", usage("whowas")),
    ("room", "/info", C("INFO")),
    ("room", "/rehash", C("REHASH")),
    # -- history -------------------------------------------------------------------
    ("room", "/history", C("HISTORY", "#lobby")),
    ("room", "/history 5", C("HISTORY", "#lobby", "5")),
    ("room", "/history #dev", C("HISTORY", "#dev")),
    ("room", "/history bob 50", C("HISTORY", "bob", "50")),
    ("room", "/history #dev many", usage("history")),
    ("room", "/history a b c", usage("history")),
    (
        "noroom",
        "/history",
        Err(n.ERR_NOTONCHANNEL, ("*",), "You are not in a room: /join #room first"),
    ),
    ("room", "/search rust", C("SEARCH", "rust")),
    ("room", "/search rust in #dev", C("SEARCH", "rust", "in:#dev")),
    ("room", "/search rust lang from bob in #dev", C("SEARCH", "rust lang", "in:#dev", "from:bob")),
    ("room", "/search rust in #dev from bob", C("SEARCH", "rust", "from:bob", "in:#dev")),
    ("room", "/search in the house", C("SEARCH", "in the house")),
    ("room", "/search from:bob", C("SEARCH", "from bob")),
    ("room", "/search", usage("search")),
    ("room", "/helpop modes", C("HELP", "modes")),
    # -- accounts --------------------------------------------------------------------
    ("room", "/register s3cretpw", C("REGISTER", "*", "*", "s3cretpw")),
    ("room", "/register s3cretpw a@b.example", C("REGISTER", "*", "a@b.example", "s3cretpw")),
    ("room", "/register", usage("register")),
    ("room", "/register a b c", usage("register")),
    ("room", "/login s3cretpw", C("LOGIN", "s3cretpw")),
    ("room", "/login alice s3cretpw", C("LOGIN", "alice", "s3cretpw")),
    ("room", "/identify alice s3cretpw", C("LOGIN", "alice", "s3cretpw")),
    ("room", "/login", usage("login")),
    ("room", "/logout", C("LOGOUT")),
    ("room", "/logout now", usage("logout")),
    ("room", "/passwd old newer", C("PASSWD", "old", "newer")),
    ("room", "/passwd old", usage("passwd")),
    ("room", "/unregister s3cretpw", C("UNREGISTER", "s3cretpw")),
    ("room", "/unregister", usage("unregister")),
    ("room", "/ghost alice", C("GHOST", "alice")),
    ("room", "/ghost", usage("ghost")),
    ("room", "/ns help", C("NS", "help")),
    ("room", "/nickserv identify pw", C("NS", "identify", "pw")),
    ("room", "/cs register #dev", C("CS", "register", "#dev")),
    ("room", "/chanserv", C("CS")),
    # -- /set: this connection's settings, answered by the dialect itself -----------
    ("room", "/set", setting(ECHO.format("on"))),
    ("room", "/set echo", setting(ECHO.format("on"))),
    ("room", "/SET Echo OFF", setting(ECHO.format("off"))),
    ("unreg", "/set echo off", setting(ECHO.format("off"))),
    ("room", "/set echo maybe", usage("set")),
    ("room", "/set echo on now", usage("set")),
    (
        "room",
        "/set frob",
        Err(n.ERR_NEEDMOREPARAMS, ("/set",), "There is no setting 'frob' (there is: echo)"),
    ),
    # -- unknown commands --------------------------------------------------------
    ("room", "/frobnicate", unknown("frobnicate")),
    ("room", "/frobnicate now", unknown("frobnicate")),
    ("room", "/FROB", unknown("frob")),
    ("room", "/команда", unknown("команда")),
]

COMMANDS_AND_ALIASES = set(SLASH_COMMANDS) | set(ALIASES)


@pytest.fixture
def users() -> dict[str, Client]:
    net = MemoryNetwork()
    loner_net = MemoryNetwork(Config(server=ServerConfig(default_room="")))
    room = net.plain("alice").client
    noroom = loner_net.plain("alice").client
    unreg = net.connect("plain").client
    assert room.current_room is not None
    assert room.current_room.name == "#lobby"
    assert noroom.user.registered
    assert noroom.current_room is None
    assert not unreg.user.registered
    return {"room": room, "noroom": noroom, "unreg": unreg}


@pytest.mark.parametrize(
    ("state", "line", "expected"), CASES, ids=[f"{c[0]}:{c[1]!r}" for c in CASES]
)
def test_parse_plain(users: dict[str, Client], state: str, line: str, expected: Expected) -> None:
    user = users[state]
    if isinstance(expected, Err):
        with pytest.raises(CommandError) as info:
            parse_plain(line, user)
        assert (info.value.code, info.value.params, info.value.text) == (
            expected.code,
            expected.params,
            expected.text,
        )
    else:
        assert parse_plain(line, user) == expected


def test_every_command_and_alias_is_covered() -> None:
    used = set()
    for _state, line, _expected in CASES:
        stripped = line.strip()
        if stripped.startswith("/") and not stripped.startswith("//"):
            used.add(stripped[1:].split(" ", 1)[0].lower())
    assert COMMANDS_AND_ALIASES - used == set()


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_alias_targets_exist(alias: str) -> None:
    assert ALIASES[alias] in SLASH_COMMANDS
    assert alias not in SLASH_COMMANDS


#: Arguments that make each command parse (the others parse without any).
ARGS_THAT_PARSE = {
    "nick": " bob",
    "stats": " z",
    "join": " #a",
    "msg": " bob hi",
    "notice": " bob hi",
    "me": " waves",
    "whois": " bob",
    "kick": " bob",
    "invite": " bob",
    "pass": " sekrit",
    "setname": " Pat",
    "chghost": " bob new.host",
    "oper": " admin pw",
    "kill": " bob spam",
    "wallops": " hi",
    "unban": " bob",
    "whowas": " bob",
    "search": " rust",
    "register": " s3cretpw",
    "login": " s3cretpw",
    "passwd": " old newer",
    "unregister": " s3cretpw",
    "ghost": " bob",
    "kline": " *@h",
    "dline": " 10.0.0.1",
    "unkline": " *@h",
    "undline": " 10.0.0.1",
}


@pytest.mark.parametrize("name", sorted(COMMANDS_AND_ALIASES))
def test_commands_are_case_insensitive(users: dict[str, Client], name: str) -> None:
    rest = ARGS_THAT_PARSE.get(ALIASES.get(name, name), "")
    lower = parse_plain(f"/{name}{rest}", users["room"])
    assert parse_plain(f"/{name.upper()}{rest}", users["room"]) == lower
    assert parse_plain(f"/{name.title()}{rest}", users["room"]) == lower


@pytest.mark.parametrize("name", sorted(SLASH_COMMANDS))
def test_usage_lines_start_with_the_command(name: str) -> None:
    spec = SLASH_COMMANDS[name]
    assert spec.usage.startswith("/" + name)
    assert spec.summary


def test_pre_registration_commands() -> None:
    assert {k for k, v in SLASH_COMMANDS.items() if v.pre_registration} == {
        "nick",
        "pass",
        "quit",
        "help",
        "set",
    }
