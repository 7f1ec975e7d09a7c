"""IrcDialect: what IRC clients' lines parse to, and the exact bytes they are sent.

Table-driven: each case is one line in or one event out, checked byte for byte
against what Modern IRC, RFC 2812 and the IRCv3 specs say (and what ergo and
ngircd send).
"""

from __future__ import annotations

import pytest

from ircish.config import Config
from ircish.core import events as ev
from ircish.core.clients import Client
from ircish.core.command import IGNORE, Command
from ircish.core.users import User
from ircish.dialects.irc import IrcDialect, server_time
from ircish.errors import CommandError
from ircish.protocol import numerics as n

SOURCE = "bob!~bob@10.0.0.2"
#: 2023-11-14T22:13:20.123Z
NOW = 1_700_000_000.123


class _Sink:
    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


def stamped(event: ev.Event) -> ev.Envelope:
    """An envelope as the pipeline's stamp stage leaves it (time NOW, no msgid)."""
    env = ev.Envelope(event)
    env.time = NOW
    return env


class _Dialect(IrcDialect):
    """The IRC dialect, taking bare events for brevity (wrapped as the pipeline would)."""

    def render(self, env: ev.Envelope | ev.Event, client: Client) -> bytes:  # type: ignore[override]
        return super().render(env if isinstance(env, ev.Envelope) else stamped(env), client)


@pytest.fixture
def dialect() -> IrcDialect:
    return _Dialect(Config())


def make_user(dialect: IrcDialect, nick: str = "alice", caps: str = "") -> Client:
    user = User("10.0.0.1", NOW)
    if nick != "*":
        user.set_nick(nick)
    user.username = "~alice"
    user.update_mask()
    client = Client(user, _Sink(), dialect, NOW)
    user.clients.append(client)
    client.set_caps(frozenset(caps.split()))
    return client


# -- parsing ------------------------------------------------------------------

PARSE_CASES: list[tuple[str, Command]] = [
    ("PRIVMSG #room :hello there", Command("PRIVMSG", ("#room", "hello there"))),
    ("privmsg #room hi", Command("PRIVMSG", ("#room", "hi"))),
    ("PRIVMSG #room ::starts with a colon", Command("PRIVMSG", ("#room", ":starts with a colon"))),
    ("PRIVMSG #room :", Command("PRIVMSG", ("#room", ""))),
    ("PRIVMSG #room :  spaced  ", Command("PRIVMSG", ("#room", "  spaced  "))),
    ("PRIVMSG #room", Command("PRIVMSG", ("#room",))),
    ("PING", Command("PING", ())),
    ("NICK   alice   ", Command("NICK", ("alice",))),
    ("USER alice 0 * :Alice Liddell", Command("USER", ("alice", "0", "*", "Alice Liddell"))),
    ("MODE #room +kl key 5", Command("MODE", ("#room", "+kl", "key", "5"))),
    ("JOIN #a,#b k1,k2", Command("JOIN", ("#a,#b", "k1,k2"))),
    ("CAP LS 302", Command("CAP", ("LS", "302"))),
    ("CAP REQ :server-time echo-message", Command("CAP", ("REQ", "server-time echo-message"))),
    # A source from a client is allowed and ignored.
    (":alice!a@h PRIVMSG bob :hi", Command("PRIVMSG", ("bob", "hi"))),
    ("@label=1 PING x", Command("PING", ("x",), {"label": "1"})),
    (
        r"@+draft/reply=a\sb\:c\\d;flag;empty= TAGMSG #room",
        Command("TAGMSG", ("#room",), {"+draft/reply": "a b;c\\d", "flag": "", "empty": ""}),
    ),
    (r"@k=v\r\n\x PING t", Command("PING", ("t",), {"k": "v\r\nx"})),
    ("@a=1 :src PRIVMSG #r :x y", Command("PRIVMSG", ("#r", "x y"), {"a": "1"})),
    ("PRIVMSG #room :word\t tab", Command("PRIVMSG", ("#room", "word\t tab"))),
    ("QUIT :Gone to lunch", Command("QUIT", ("Gone to lunch",))),
]


@pytest.mark.parametrize(("line", "expected"), PARSE_CASES, ids=[c[0][:40] for c in PARSE_CASES])
def test_parse(dialect: IrcDialect, line: str, expected: Command) -> None:
    assert dialect.parse(line, make_user(dialect)) == expected


@pytest.mark.parametrize("line", ["", "   ", "@only=tags", ":source-only", "@t=1 :src"])
def test_parse_ignores_lines_without_a_command(dialect: IrcDialect, line: str) -> None:
    assert dialect.parse(line, make_user(dialect)) is IGNORE


PREFIX = "PRIVMSG #room :"


@pytest.mark.parametrize(
    ("line", "too_long"),
    [
        # 510 bytes before CR LF is the most RFC 1459 allows...
        (PREFIX + "x" * (510 - len(PREFIX)), False),
        # ...and one more byte is too long.
        (PREFIX + "x" * (511 - len(PREFIX)), True),
        # Bytes count, not characters: "é" is two bytes in UTF-8 (15 + 494 + 1 = 510).
        (PREFIX + "é" * 247 + "x", False),
        (PREFIX + "é" * 247 + "xx", True),
        (PREFIX + "ж" * 300, True),
        # Tags do not count towards the 512 bytes...
        ("@a=b " + PREFIX + "x" * (510 - len(PREFIX)), False),
        ("@a=b " + PREFIX + "x" * (511 - len(PREFIX)), True),
        # ...but a client may send at most 4094 bytes of tag data (IRCv3 message-tags).
        ("@" + "t" * 4094 + " PING x", False),
        ("@" + "t" * 4095 + " PING x", True),
        ("@k=" + "é" * 2046 + " PING x", False),
        ("@k=" + "é" * 2046 + "x PING x", True),
    ],
    ids=[
        "510-bytes",
        "511-bytes",
        "510-bytes-utf8",
        "511-bytes-utf8",
        "300-cyrillic",
        "510-after-tags",
        "511-after-tags",
        "4094-tag-bytes",
        "4095-tag-bytes",
        "4094-tag-bytes-utf8",
        "4095-tag-bytes-utf8",
    ],
)
def test_parse_length_limits(dialect: IrcDialect, line: str, too_long: bool) -> None:
    user = make_user(dialect)
    if too_long:
        with pytest.raises(CommandError) as info:
            dialect.parse(line, user)
        assert info.value.code == n.ERR_INPUTTOOLONG
        assert info.value.params == ()
        assert info.value.text == "Input line was too long"
    else:
        cmd = dialect.parse(line, user)
        assert isinstance(cmd, Command)


def test_dialect_frames_lines_long_enough_for_tags_and_body(dialect: IrcDialect) -> None:
    """The framing must hand over a whole tagged line, or 417 could not be told apart."""
    assert dialect.max_line_bytes(None) == 8191 + 512  # type: ignore[arg-type]


# -- rendering ------------------------------------------------------------------

RENDER_CASES: list[tuple[str, ev.Event, bytes]] = [
    (
        "privmsg-room",
        ev.Privmsg(SOURCE, "bob", "#room", "hi there"),
        b":bob!~bob@10.0.0.2 PRIVMSG #room :hi there\r\n",
    ),
    (
        "privmsg-user",
        ev.Privmsg(SOURCE, "bob", "alice", "psst"),
        b":bob!~bob@10.0.0.2 PRIVMSG alice :psst\r\n",
    ),
    (
        "privmsg-empty",
        ev.Privmsg(SOURCE, "bob", "#room", ""),
        b":bob!~bob@10.0.0.2 PRIVMSG #room :\r\n",
    ),
    (
        "privmsg-colon",
        ev.Privmsg(SOURCE, "bob", "#room", ":)"),
        b":bob!~bob@10.0.0.2 PRIVMSG #room ::)\r\n",
    ),
    (
        "action",
        ev.Privmsg(SOURCE, "bob", "#room", "\x01ACTION waves\x01"),
        b":bob!~bob@10.0.0.2 PRIVMSG #room :\x01ACTION waves\x01\r\n",
    ),
    (
        "notice",
        ev.Privmsg(SOURCE, "bob", "#room", "fyi", notice=True),
        b":bob!~bob@10.0.0.2 NOTICE #room :fyi\r\n",
    ),
    (
        "utf8",
        ev.Privmsg(SOURCE, "bob", "#room", "привет ☃"),
        ":bob!~bob@10.0.0.2 PRIVMSG #room :привет ☃\r\n".encode(),
    ),
    ("join", ev.Join(SOURCE, "bob", "#room", "*", "Bob B"), b":bob!~bob@10.0.0.2 JOIN #room\r\n"),
    ("part", ev.Part(SOURCE, "bob", "#room"), b":bob!~bob@10.0.0.2 PART #room\r\n"),
    (
        "part-reason",
        ev.Part(SOURCE, "bob", "#room", "see you"),
        b":bob!~bob@10.0.0.2 PART #room :see you\r\n",
    ),
    ("quit", ev.Quit(SOURCE, "bob", "Quit: bye"), b":bob!~bob@10.0.0.2 QUIT :Quit: bye\r\n"),
    ("quit-empty", ev.Quit(SOURCE, "bob", ""), b":bob!~bob@10.0.0.2 QUIT :\r\n"),
    ("nick", ev.NickChange(SOURCE, "bob", "robert"), b":bob!~bob@10.0.0.2 NICK robert\r\n"),
    (
        "topic",
        ev.Topic(SOURCE, "bob", "#room", "new topic"),
        b":bob!~bob@10.0.0.2 TOPIC #room :new topic\r\n",
    ),
    ("topic-clear", ev.Topic(SOURCE, "bob", "#room", ""), b":bob!~bob@10.0.0.2 TOPIC #room :\r\n"),
    (
        "kick",
        ev.Kick(SOURCE, "bob", "#room", "alice", "bye now"),
        b":bob!~bob@10.0.0.2 KICK #room alice :bye now\r\n",
    ),
    (
        "mode-room",
        ev.ModeChange(SOURCE, "bob", "#room", "+ov-k", ("alice", "alice", "*")),
        b":bob!~bob@10.0.0.2 MODE #room +ov-k alice alice *\r\n",
    ),
    (
        "mode-flags",
        ev.ModeChange(SOURCE, "bob", "#room", "+nt"),
        b":bob!~bob@10.0.0.2 MODE #room +nt\r\n",
    ),
    (
        "mode-user",
        ev.ModeChange("alice!~alice@10.0.0.1", "alice", "alice", "+i"),
        b":alice!~alice@10.0.0.1 MODE alice +i\r\n",
    ),
    (
        "invite",
        ev.Invite(SOURCE, "bob", "alice", "#room"),
        b":bob!~bob@10.0.0.2 INVITE alice #room\r\n",
    ),
    ("away-notify-hidden", ev.AwayChange(SOURCE, "bob", "lunch"), b""),
    (
        "server-notice",
        ev.ServerNotice("Server restarting"),
        b":ircish.local NOTICE alice :Server restarting\r\n",
    ),
    (
        "closing",
        ev.Closing("Quit: bye"),
        b"ERROR :Closing Link: 10.0.0.1 (Quit: bye)\r\n",
    ),
    ("ping", ev.Ping("ircish.local-7"), b"PING :ircish.local-7\r\n"),
    ("pong", ev.Pong("tok 1"), b":ircish.local PONG ircish.local :tok 1\r\n"),
    (
        "cap-ack",
        ev.CapReply("ACK", "server-time echo-message"),
        b":ircish.local CAP alice ACK :server-time echo-message\r\n",
    ),
    (
        "cap-ls-more",
        ev.CapReply("LS", "a b", more=True),
        b":ircish.local CAP alice LS * :a b\r\n",
    ),
    ("cap-list-empty", ev.CapReply("LIST", ""), b":ircish.local CAP alice LIST :\r\n"),
    ("switched", ev.Switched("#room"), b""),
    ("greeting", ev.Greeting("ircish.local"), b""),
]


@pytest.mark.parametrize(
    ("event", "expected"), [c[1:] for c in RENDER_CASES], ids=[c[0] for c in RENDER_CASES]
)
def test_render_event(dialect: IrcDialect, event: ev.Event, expected: bytes) -> None:
    assert dialect.render(event, make_user(dialect)) == expected


NUMERIC_CASES: list[tuple[str, tuple[str, ...], bytes]] = [
    (
        n.RPL_WELCOME,
        ("Welcome to the ircish IRC Network alice!~alice@10.0.0.1",),
        b":ircish.local 001 alice :Welcome to the ircish IRC Network alice!~alice@10.0.0.1",
    ),
    (
        n.RPL_MYINFO,
        ("ircish.local", "ircish-0.1.0", "i", "iklnot", "klov"),
        b":ircish.local 004 alice ircish.local ircish-0.1.0 i iklnot klov",
    ),
    (
        n.RPL_ISUPPORT,
        ("CHANTYPES=#", "PREFIX=(ov)@+", "are supported by this server"),
        b":ircish.local 005 alice CHANTYPES=# PREFIX=(ov)@+ :are supported by this server",
    ),
    (n.RPL_UMODEIS, ("+i",), b":ircish.local 221 alice +i"),
    # An empty token still has to be sent, so it becomes a trailing parameter.
    (n.RPL_UMODEIS, ("",), b":ircish.local 221 alice :"),
    (n.RPL_AWAY, ("bob", "lunch"), b":ircish.local 301 alice bob :lunch"),
    (n.RPL_USERHOST, ("bob=+~bob@10.0.0.2",), b":ircish.local 302 alice :bob=+~bob@10.0.0.2"),
    (n.RPL_ISON, ("",), b":ircish.local 303 alice :"),
    (
        n.RPL_WHOISUSER,
        ("bob", "~bob", "10.0.0.2", "*", "Bob B"),
        b":ircish.local 311 alice bob ~bob 10.0.0.2 * :Bob B",
    ),
    (
        n.RPL_WHOREPLY,
        ("#room", "~bob", "10.0.0.2", "ircish.local", "bob", "H@", "0 Bob B"),
        b":ircish.local 352 alice #room ~bob 10.0.0.2 ircish.local bob H@ :0 Bob B",
    ),
    (n.RPL_LIST, ("#room", "2", ""), b":ircish.local 322 alice #room 2 :"),
    (n.RPL_CHANNELMODEIS, ("#room", "+nt"), b":ircish.local 324 alice #room +nt"),
    (
        n.RPL_CHANNELMODEIS,
        ("#room", "+ntkl", "sekrit", "10"),
        b":ircish.local 324 alice #room +ntkl sekrit 10",
    ),
    (n.RPL_CREATIONTIME, ("#room", "1700000000"), b":ircish.local 329 alice #room 1700000000"),
    (n.RPL_TOPIC, ("#room", "hello"), b":ircish.local 332 alice #room :hello"),
    (
        n.RPL_TOPICWHOTIME,
        ("#room", "bob", "1700000000"),
        b":ircish.local 333 alice #room bob 1700000000",
    ),
    (n.RPL_INVITING, ("bob", "#room"), b":ircish.local 341 alice bob #room"),
    (
        n.RPL_NAMREPLY,
        ("=", "#room", "@bob +carol alice"),
        b":ircish.local 353 alice = #room :@bob +carol alice",
    ),
    (
        n.RPL_ENDOFNAMES,
        ("#room", "End of /NAMES list"),
        b":ircish.local 366 alice #room :End of /NAMES list",
    ),
    (
        n.ERR_NOSUCHNICK,
        ("nobody", "No such nick/channel"),
        b":ircish.local 401 alice nobody :No such nick/channel",
    ),
    (
        n.ERR_USERNOTINCHANNEL,
        ("bob", "#room", "They aren't on that channel"),
        b":ircish.local 441 alice bob #room :They aren't on that channel",
    ),
    (
        n.ERR_INPUTTOOLONG,
        ("Input line was too long",),
        b":ircish.local 417 alice :Input line was too long",
    ),
    # A middle parameter cannot be empty on the wire; "*" keeps the rest in place.
    (
        n.ERR_NOSUCHNICK,
        ("", "No such nick/channel"),
        b":ircish.local 401 alice * :No such nick/channel",
    ),
    # Text that happens to be one word is still sent as trailing text.
    (n.RPL_TOPIC, ("#room", "hi"), b":ircish.local 332 alice #room :hi"),
    # A token that starts with a colon must be sent as trailing, or the colon is lost.
    (n.RPL_CHANNELMODEIS, ("#room", ":x"), b":ircish.local 324 alice #room ::x"),
]


@pytest.mark.parametrize(
    ("code", "params", "expected"),
    NUMERIC_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(NUMERIC_CASES)],
)
def test_render_numeric(
    dialect: IrcDialect, code: str, params: tuple[str, ...], expected: bytes
) -> None:
    assert dialect.render(ev.Numeric(code, params), make_user(dialect)) == expected + b"\r\n"


def test_numerics_before_registration_address_star(dialect: IrcDialect) -> None:
    user = make_user(dialect, nick="*")
    assert dialect.render(ev.Numeric(n.ERR_NOTREGISTERED, ("You have not registered",)), user) == (
        b":ircish.local 451 * :You have not registered\r\n"
    )
    assert dialect.render(ev.CapReply("LS", "server-time"), user) == (
        b":ircish.local CAP * LS :server-time\r\n"
    )


def test_extended_join_adds_account_and_realname(dialect: IrcDialect) -> None:
    user = make_user(dialect, caps="extended-join")
    event = ev.Join(SOURCE, "bob", "#room", "*", "Bob B")
    assert dialect.render(event, user) == b":bob!~bob@10.0.0.2 JOIN #room * :Bob B\r\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("lunch", b":bob!~bob@10.0.0.2 AWAY :lunch\r\n"), (None, b":bob!~bob@10.0.0.2 AWAY\r\n")],
)
def test_away_notify(dialect: IrcDialect, text: str | None, expected: bytes) -> None:
    user = make_user(dialect, caps="away-notify")
    assert dialect.render(ev.AwayChange(SOURCE, "bob", text), user) == expected


def test_server_time_tags_every_line(dialect: IrcDialect) -> None:
    user = make_user(dialect, caps="server-time")
    tag = b"@time=2023-11-14T22:13:20.123Z "
    assert dialect.render(ev.Privmsg(SOURCE, "bob", "#room", "hi"), user) == (
        tag + b":bob!~bob@10.0.0.2 PRIVMSG #room :hi\r\n"
    )
    assert dialect.render(ev.Numeric(n.RPL_UMODEIS, ("+",)), user) == (
        tag + b":ircish.local 221 alice +\r\n"
    )
    lines = dialect.render(ev.Help(""), user).split(b"\r\n")
    assert lines[-1] == b""
    assert [line[: len(tag)] for line in lines[:-1]] == [tag] * 3
    assert [line.split(b" ")[2] for line in lines[:-1]] == [b"704", b"705", b"706"]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (1_700_000_000.123, "2023-11-14T22:13:20.123Z"),
        (1_700_000_000.0, "2023-11-14T22:13:20.000Z"),
        (1_700_000_000.9996, "2023-11-14T22:13:21.000Z"),
        (0.0, "1970-01-01T00:00:00.000Z"),
    ],
)
def test_server_time_format(now: float, expected: str) -> None:
    assert server_time(now) == expected


def test_help_overview_and_command_syntax(dialect: IrcDialect) -> None:
    user = make_user(dialect)
    overview = dialect.render(ev.Help(""), user).decode()
    assert overview.startswith(":ircish.local 704 alice * :")
    assert ":ircish.local 705 alice * :ircish speaks IRC: JOIN PART" in overview
    assert overview.endswith(":ircish.local 706 alice * :End of /HELP\r\n")
    join = dialect.render(ev.Help("join"), user).decode().split("\r\n")
    assert join[1] == ":ircish.local 705 alice join :JOIN <room>{,<room>} [<key>{,<key>}] | JOIN 0"
    assert dialect.render(ev.Help("nope"), user) == (
        b":ircish.local 524 alice nope :No help available on this topic\r\n"
    )


def test_render_key_depends_only_on_rendering_caps(dialect: IrcDialect) -> None:
    plain_caps = make_user(dialect, caps="echo-message multi-prefix userhost-in-names")
    none = make_user(dialect)
    timed = make_user(dialect, caps="server-time echo-message")
    assert plain_caps.render_key == none.render_key
    assert timed.render_key != none.render_key
    assert make_user(dialect, caps="away-notify").render_key != none.render_key
    assert make_user(dialect, caps="extended-join").render_key != none.render_key


def test_broadcast_rendering_is_the_same_for_users_with_the_same_key(
    dialect: IrcDialect,
) -> None:
    """Chat.fanout renders once per key, so the bytes must not depend on the recipient."""
    event = ev.Join(SOURCE, "bob", "#room", "*", "Bob B")
    first = make_user(dialect, nick="alice", caps="extended-join server-time")
    second = make_user(dialect, nick="carol", caps="server-time extended-join")
    assert first.render_key == second.render_key
    assert dialect.render(event, first) == dialect.render(event, second)
