"""One slash language, two speakers: netcat (the server's plain dialect) and the client.

The test walks the shared table (``protocol.slash.COMMANDS``) and every alias:
each example line is typed by alice on netcat (a real user of an in-memory
server, talking in #lobby) and by alice in the client (registered, looking at
#lobby). Both must send the same IRC command, or refuse with the same
sentence. The few places where the client deliberately does something of its
own are listed in ``CLIENT_OWN`` with the reason.
"""

from __future__ import annotations

import pytest

from ircish.client.commands import LANGUAGE as CLIENT_LANGUAGE
from ircish.client.commands import UsageError, execute
from ircish.client.irc import IrcClient
from ircish.core.clients import Client
from ircish.core.command import Command, Ignore
from ircish.core.events import Numeric
from ircish.dialects.plain import parse_plain
from ircish.errors import CommandError
from ircish.protocol.message import Message
from ircish.protocol.slash import ALIASES, COMMANDS
from tests.client.conftest import registered
from tests.helpers import MemoryNetwork

#: Example arguments for every shared command: ones that parse and ones that do not.
EXAMPLES: dict[str, tuple[str, ...]] = {
    "nick": ("bob", "", "bob smith"),
    "join": (
        "#dev",
        "dev",
        "#a,#b",
        "a b c",
        "#dev key=sesame",
        "#a #b key=k2",
        "#help newbies",
        "",
        "key=x",
    ),
    "part": ("", "#dev", "#dev see you", "see you later"),
    "msg": ("bob hi there", "#dev hello", "bob", ""),
    "me": ("waves", ""),
    "notice": ("bob heads up", "bob"),
    "who": ("", "#dev", "bob", "#a #b"),
    "whois": ("bob", "", "bob carol"),
    "whowas": ("bob", "bob 3", "", "bob many"),
    "names": ("", "dev", "#a #b"),
    "list": ("", "dev", "!dev >5", "#d*"),
    "topic": ("", "#dev", "Release on Friday", "#dev new topic", "-delete", "#dev -delete"),
    "away": ("", "gone fishing"),
    "setname": ("Pat Smith", ""),
    "monitor": ("", "+bob", "-bob", "status", "clear", "+a -b"),
    "chghost": ("bob new.host", "bob ~b new.host", "bob"),
    "kick": ("bob", "bob stop spamming", "#dev bob", ""),
    "ban": ("", "bob", "#dev *!*@bad.host", "a b c d e"),
    "unban": ("bob", ""),
    "mode": ("", "+i", "+o bob", "+B", "#dev +k secret", "alice -w"),
    "invite": ("bob", "bob dev", "", "bob #a #b"),
    "register": ("s3cretpw", "s3cretpw a@b.example", ""),
    "login": ("s3cretpw", "alice s3cretpw", ""),
    "logout": ("", "now"),
    "passwd": ("old newer", "old"),
    "unregister": ("s3cretpw", ""),
    "ghost": ("alice", ""),
    "ns": ("help", "identify pw"),
    "cs": ("register #dev", ""),
    "oper": ("admin pw", "admin two words", "admin"),
    "kill": ("bob spam", "bob"),
    "wallops": ("hi all", ""),
    "rehash": ("",),
    "stats": ("z", "k more", ""),
    "kline": ("*@203.0.113.7", "1h bob spam on sight", "andkill myself 2d *@h x", "10m"),
    "dline": ("10.0.0.0/8 bots", ""),
    "unkline": ("*@h", ""),
    "undline": ("10.0.0.0/8", "a b"),
    "quit": ("see you all",),
    "pass": ("sekrit", ""),
    "history": ("", "5", "#dev", "bob 50", "a b c"),
    "search": ("rust", "rust in #dev from bob", ""),
    "info": ("",),
    "help": ("", "join"),
}

#: Where the client does something of its own with a shared command, and why.
CLIENT_OWN: dict[str, str] = {
    "/help": "the client draws its own help table; netcat asks the server (HELP)",
    "/help join": "likewise",
    "/?": "likewise (an alias of /help)",
    "/helpop": "likewise (an alias of /help)",
}

#: Texts without a slash: a message to the current room on both sides.
PLAIN_LINES = ("hello world", "//join is text", "привет, Вася!")


def lines() -> list[str]:
    out = list(PLAIN_LINES)
    for name, examples in EXAMPLES.items():
        out += [f"/{name} {args}".rstrip() for args in examples]
    for alias, name in ALIASES.items():
        out.append(f"/{alias} {EXAMPLES[name][0]}".rstrip())
    return out


LINES = lines()


def test_every_shared_command_has_examples() -> None:
    assert set(EXAMPLES) == set(COMMANDS)


def test_the_client_speaks_every_shared_command() -> None:
    assert set(COMMANDS) <= set(CLIENT_LANGUAGE.commands)


@pytest.fixture(scope="module")
def netcat() -> Client:
    user = MemoryNetwork().plain("alice").client
    assert user.current_room is not None and user.current_room.name == "#lobby"
    return user


Sent = list[tuple[str, tuple[str, ...]]] | str


def on_netcat(user: Client, line: str) -> Sent:
    """The IRC commands netcat's alice sends, or the sentence she is told."""
    try:
        command: Command | Ignore = parse_plain(line, user)
    except CommandError as exc:
        return exc.text
    assert isinstance(command, Command)
    return [(command.verb, command.params)]


def in_the_client(line: str) -> Sent:
    """The IRC commands the client's alice sends, or the sentence she is told."""
    client: IrcClient = registered(members="bob +carol")
    client.pop_outgoing()
    try:
        execute(client, line)
    except UsageError as exc:
        return str(exc)
    sent = [Message.parse(x) for x in client.pop_outgoing()]
    return [(msg.verb, msg.params) for msg in sent]


@pytest.mark.parametrize("line", [x for x in LINES if x not in CLIENT_OWN])
def test_both_sides_send_the_same(netcat: Client, line: str) -> None:
    assert in_the_client(line) == on_netcat(netcat, line)


def test_the_exceptions_are_real(netcat: Client) -> None:
    """Each line in CLIENT_OWN is one of the walked lines and does differ."""
    for line in CLIENT_OWN:
        assert line in LINES
        assert in_the_client(line) != on_netcat(netcat, line)


def test_query_opens_a_buffer_in_the_client_and_is_msg_on_netcat(netcat: Client) -> None:
    # /query is the client's own command (it opens a private buffer); with a text it
    # sends what netcat's /query (an alias of /msg) sends.
    assert in_the_client("/query bob") == []
    assert on_netcat(netcat, "/query bob") == "Usage: /msg NICK|#room TEXT"


def test_quit_without_a_reason_says_leaving_in_the_client(netcat: Client) -> None:
    assert on_netcat(netcat, "/quit") == [("QUIT", ())]
    assert in_the_client("/quit") == [("QUIT", ("Leaving",))]


# -- one wording of numerics ----------------------------------------------------------

#: Numerics (after the recipient's nick) both sides show as a sentence.
NUMERICS = [
    ("401", ("zed", "No such nick/channel")),
    ("403", ("#a:b", "Invalid channel name: it may not contain ':'")),
    ("403", ("#gone", "No such channel")),
    ("475", ("#k", "Cannot join channel (+k)")),
    ("482", ("#lobby", "You're not channel operator")),
    ("404", ("#m", "Cannot send to channel (+m)")),
    ("461", ("/msg", "Usage: /msg NICK|#room TEXT")),
    ("730", ("bob!~b@h,carol",)),
    ("367", ("#lobby", "bob!*@*", "carol!~c@h", "1714566600")),
]


@pytest.mark.parametrize(("code", "params"), NUMERICS)
def test_numerics_read_the_same_on_both_sides(code: str, params: tuple[str, ...]) -> None:
    net = MemoryNetwork()
    user = net.plain("alice").client
    shown = net.dialects.plain.render_text(Numeric(code, params), user)
    assert shown is not None
    client = registered()
    client.line_received(Message(code, ("alice", *params), source="srv").format())
    buf = client.model.current if code[0] in "45" else client.model.server
    assert "! " + buf.lines[-1].text == shown or "*** " + buf.lines[-1].text == shown
