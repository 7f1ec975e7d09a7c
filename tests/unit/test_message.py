"""Message.parse and Message.format: IRC grammar plus IRCv3 message tags."""

# Cyrillic letters that look Latin are the point of several cases here.
# ruff: noqa: RUF001

from __future__ import annotations

import pytest

from ircish.protocol.message import (
    Message,
    MessageParseError,
    escape_tag_value,
    format_tags,
    parse_tags,
    unescape_tag_value,
)

# -- tag escaping (IRCv3 message-tags, "Escaping values") ----------------------

UNESCAPE_CASES = [
    ("plain", "plain"),
    ("", ""),
    (r"a\:b", "a;b"),
    (r"a\sb", "a b"),
    (r"a\\b", "a\\b"),
    (r"a\rb", "a\rb"),
    (r"a\nb", "a\nb"),
    (r"\:\s\\\r\n", "; \\\r\n"),
    # An unknown escape stands for the character itself.
    (r"a\bc", "abc"),
    (r"\x", "x"),
    # A lone backslash at the end produces nothing.
    ("abc\\", "abc"),
    ("\\", ""),
    # "\\s" is an escaped backslash followed by "s", not a space.
    (r"\\s", "\\s"),
    ("Вася\\sи\\sПетя", "Вася и Петя"),
]


@pytest.mark.parametrize(("raw", "value"), UNESCAPE_CASES)
def test_unescape_tag_value(raw: str, value: str) -> None:
    assert unescape_tag_value(raw) == value


ESCAPE_CASES = [
    ("plain", "plain"),
    ("a;b", r"a\:b"),
    ("a b", r"a\sb"),
    ("a\\b", r"a\\b"),
    ("a\rb", r"a\rb"),
    ("a\nb", r"a\nb"),
    ("; \\\r\n", r"\:\s\\\r\n"),
]


@pytest.mark.parametrize(("value", "raw"), ESCAPE_CASES)
def test_escape_tag_value(value: str, raw: str) -> None:
    assert escape_tag_value(value) == raw
    assert unescape_tag_value(raw) == value


PARSE_TAGS_CASES = [
    ("a=1", {"a": "1"}),
    ("a=1;b=2", {"a": "1", "b": "2"}),
    ("a", {"a": ""}),
    ("a=", {"a": ""}),
    ("a;b=", {"a": "", "b": ""}),
    ("time=2024-01-01T00:00:00.000Z", {"time": "2024-01-01T00:00:00.000Z"}),
    ("+example.com/x=y", {"+example.com/x": "y"}),
    (r"msg=hi\sthere\:\\", {"msg": "hi there;\\"}),
    ("a=1=2", {"a": "1=2"}),
    # Empty items (doubled or trailing semicolons) are skipped.
    ("a=1;;b=2;", {"a": "1", "b": "2"}),
    # The last of duplicate keys wins.
    ("a=1;a=2", {"a": "2"}),
]


@pytest.mark.parametrize(("raw", "tags"), PARSE_TAGS_CASES)
def test_parse_tags(raw: str, tags: dict[str, str]) -> None:
    assert parse_tags(raw) == tags


def test_format_tags_sends_empty_values_bare() -> None:
    assert format_tags({"a": "", "b": "x y", "c": "1"}) == r"a;b=x\sy;c=1"


# -- parsing -------------------------------------------------------------------

M = Message

PARSE_CASES: list[tuple[str, Message]] = [
    ("PING", M("PING")),
    ("ping", M("PING")),
    ("PrivMsg #a hi", M("PRIVMSG", ("#a", "hi"))),
    ("PING token", M("PING", ("token",))),
    ("PRIVMSG #room :hello there", M("PRIVMSG", ("#room", "hello there"))),
    ("PRIVMSG #room hello", M("PRIVMSG", ("#room", "hello"))),
    ("USER bob 0 * :Bob Smith", M("USER", ("bob", "0", "*", "Bob Smith"))),
    # Trailing parameters: empty, with spaces, with a leading colon, colons inside.
    ("PRIVMSG #a :", M("PRIVMSG", ("#a", ""))),
    ("PRIVMSG #a :  spaced  out  ", M("PRIVMSG", ("#a", "  spaced  out  "))),
    ("PRIVMSG #a ::-)", M("PRIVMSG", ("#a", ":-)"))),
    ("PRIVMSG #a :a :b c", M("PRIVMSG", ("#a", "a :b c"))),
    ("PRIVMSG #a b:c", M("PRIVMSG", ("#a", "b:c"))),
    ("CAP REQ :", M("CAP", ("REQ", ""))),
    ("TOPIC #a :", M("TOPIC", ("#a", ""))),
    # A trailing parameter may be the only one.
    ("QUIT :Gone to lunch", M("QUIT", ("Gone to lunch",))),
    ("QUIT :", M("QUIT", ("",))),
    # Several spaces between parts are one separator.
    ("PRIVMSG   #a    b", M("PRIVMSG", ("#a", "b"))),
    ("  PING   x  ", M("PING", ("x",))),
    ("MODE #a +o  bob", M("MODE", ("#a", "+o", "bob"))),
    # Source.
    (":irc.example.com 001 bob :Welcome", M("001", ("bob", "Welcome"), "irc.example.com")),
    (
        ":nick!user@host PRIVMSG #a :hi",
        M("PRIVMSG", ("#a", "hi"), "nick!user@host"),
    ),
    (":nick   JOIN   #a", M("JOIN", ("#a",), "nick")),
    # Tags.
    ("@a=1 PING", M("PING", tags={"a": "1"})),
    (
        "@time=x :nick!u@h PRIVMSG #room :hello there",
        M("PRIVMSG", ("#room", "hello there"), "nick!u@h", {"time": "x"}),
    ),
    ("@a;b= PING", M("PING", tags={"a": "", "b": ""})),
    (r"@k=a\sb\:c\\d\re\nf PING", M("PING", tags={"k": "a b;c\\d\re\nf"})),
    (r"@k=\q PING", M("PING", tags={"k": "q"})),
    ("@k=end\\ PING", M("PING", tags={"k": "end"})),
    ("@a=1   :src   CMD   p", M("CMD", ("p",), "src", {"a": "1"})),
    # Unicode travels untouched.
    ("PRIVMSG Вася :привет, мир", M("PRIVMSG", ("Вася", "привет, мир"))),
    ("NICK Вася", M("NICK", ("Вася",))),
]


@pytest.mark.parametrize(("line", "message"), PARSE_CASES, ids=[c[0] for c in PARSE_CASES])
def test_parse(line: str, message: Message) -> None:
    assert Message.parse(line) == message


BAD_LINES = [
    "",
    " ",
    "     ",
    ":source",
    ":source ",
    ":source    ",
    "@a=1",
    "@a=1 ",
    "@a=1 :source",
    "@a=1 :source   ",
]


@pytest.mark.parametrize("line", BAD_LINES)
def test_parse_without_command_fails(line: str) -> None:
    with pytest.raises(MessageParseError):
        Message.parse(line)


def test_parse_error_is_a_value_error() -> None:
    assert issubclass(MessageParseError, ValueError)


@pytest.mark.parametrize(
    ("source", "nick"),
    [("nick!user@host", "nick"), ("nick@host", "nick"), ("irc.example.com", "irc.example.com")],
)
def test_nick_of_source(source: str, nick: str) -> None:
    assert Message("PRIVMSG", ("#a", "x"), source).nick == nick


def test_nick_without_source() -> None:
    assert Message("PING").nick is None


# -- formatting ----------------------------------------------------------------

FORMAT_CASES: list[tuple[Message, str]] = [
    (M("PING"), "PING"),
    (M("PING", ("x",)), "PING x"),
    (M("PRIVMSG", ("#room", "hi")), "PRIVMSG #room hi"),
    (M("PRIVMSG", ("#room", "hi all")), "PRIVMSG #room :hi all"),
    (M("PRIVMSG", ("#room", "")), "PRIVMSG #room :"),
    (M("PRIVMSG", ("#room", ":-)")), "PRIVMSG #room ::-)"),
    (M("PRIVMSG", ("#room", "a:b")), "PRIVMSG #room a:b"),
    (M("USER", ("bob", "0", "*", "Bob Smith")), "USER bob 0 * :Bob Smith"),
    (M("MODE", ("#a", "+o", "bob")), "MODE #a +o bob"),
    (M("QUIT", ("",)), "QUIT :"),
    (M("JOIN", ("#a",), "nick!u@h"), ":nick!u@h JOIN #a"),
    (M("001", ("bob", "Welcome home"), "srv"), ":srv 001 bob :Welcome home"),
    (M("PING", tags={"a": "1"}), "@a=1 PING"),
    (M("PING", tags={"a": ""}), "@a PING"),
    (M("PING", tags={"k": "a b;c\\d\r\n"}), r"@k=a\sb\:c\\d\r\n PING"),
    (
        M("PRIVMSG", ("#a", "hi there"), "n!u@h", {"time": "2024-01-01T00:00:00.000Z"}),
        "@time=2024-01-01T00:00:00.000Z :n!u@h PRIVMSG #a :hi there",
    ),
    (M("PRIVMSG", ("Вася", "привет мир")), "PRIVMSG Вася :привет мир"),
]


@pytest.mark.parametrize(("message", "line"), FORMAT_CASES, ids=[c[1] for c in FORMAT_CASES])
def test_format(message: Message, line: str) -> None:
    assert message.format() == line


@pytest.mark.parametrize(("message", "line"), FORMAT_CASES, ids=[c[1] for c in FORMAT_CASES])
def test_format_then_parse_round_trips(message: Message, line: str) -> None:
    assert Message.parse(message.format()) == message


@pytest.mark.parametrize(("line", "message"), PARSE_CASES, ids=[c[0] for c in PARSE_CASES])
def test_parse_then_format_round_trips(line: str, message: Message) -> None:
    # Formatting may normalise spacing and colons, but never the meaning.
    assert Message.parse(Message.parse(line).format()) == message


def test_messages_are_frozen_values() -> None:
    msg = Message.parse("PRIVMSG #a :hi")
    with pytest.raises(AttributeError):
        msg.verb = "NOTICE"  # type: ignore[misc]
    assert msg == Message("PRIVMSG", ("#a", "hi"))
    assert msg != Message("PRIVMSG", ("#a", "hi"), tags={"a": "1"})
