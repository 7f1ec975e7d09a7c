"""Property tests (hypothesis): framing, both parsers and the configuration take any input.

What must hold for hostile input: the framer gives the same lines however the
bytes are chunked and never a line over its bound; the IRC message format
round-trips and its parser refuses only with ``MessageParseError``; the
netcat parser refuses only with ``CommandError`` and never passes a line
break on; the configuration loader refuses only with ``ConfigError``.
"""

from __future__ import annotations

import itertools
import string
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ircish.config import Config, ConfigError, config_from_dict
from ircish.core.chat import Chat
from ircish.core.command import Command
from ircish.dialects.plain import SLASH_COMMANDS, PlainDialect
from ircish.errors import CommandError
from ircish.protocol.framing import LINE_TOO_LONG, LineBuffer, TooLong
from ircish.protocol.message import Message, MessageParseError

# -- framing ---------------------------------------------------------------------


def _chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


@given(
    body=st.binary(max_size=600),
    cuts=st.lists(st.integers(min_value=0, max_value=700), max_size=30),
    limit=st.integers(min_value=1, max_value=120),
)
def test_framing_does_not_depend_on_chunking(body: bytes, cuts: list[int], limit: int) -> None:
    whole = LineBuffer(limit).feed(body)
    buf = LineBuffer(limit)
    pieces: list[bytes | TooLong] = []
    for chunk in _chunked(body, cuts):
        pieces.extend(buf.feed(chunk))
    assert pieces == whole


@given(body=st.binary(max_size=2000), limit=st.integers(min_value=1, max_value=200))
def test_framed_lines_are_bounded_and_have_no_line_feed(body: bytes, limit: int) -> None:
    buf = LineBuffer(limit)
    for frame in buf.feed(body):
        if frame is LINE_TOO_LONG:
            continue
        assert isinstance(frame, bytes)
        assert b"\n" not in frame
        assert len(frame) <= limit
    # what is held back for the next chunk is bounded too
    assert len(buf) <= limit + 1


@given(
    lines=st.lists(
        st.binary(max_size=50).map(lambda b: b.replace(b"\n", b"").rstrip(b"\r")), max_size=20
    ),
    crlf=st.booleans(),
)
def test_every_short_line_comes_out_once_in_order(lines: list[bytes], crlf: bool) -> None:
    end = b"\r\n" if crlf else b"\n"
    assert LineBuffer(64).feed(b"".join(line + end for line in lines)) == lines


# -- the IRC message format -------------------------------------------------------

_middle_chars = st.characters(blacklist_characters=" \r\n\0", blacklist_categories=("Cs",))
middle = st.text(_middle_chars, min_size=1, max_size=20).filter(lambda p: not p.startswith(":"))
trailing = st.text(st.characters(blacklist_characters="\r\n\0", blacklist_categories=("Cs",)))
verb = st.one_of(
    st.text(string.ascii_uppercase, min_size=1, max_size=12),
    st.text(string.digits, min_size=3, max_size=3),
)
tag_key = st.from_regex(r"\A\+?[A-Za-z][A-Za-z0-9-]{0,15}\Z")
tag_value = st.text(st.characters(blacklist_characters="\0\r\n", blacklist_categories=("Cs",)))
source = st.text(_middle_chars, min_size=1, max_size=30)


@st.composite
def messages(draw: st.DrawFn) -> Message:
    params = draw(st.lists(middle, max_size=10))
    if draw(st.booleans()):
        params.append(draw(trailing))
    return Message(
        draw(verb),
        tuple(params),
        draw(st.none() | source),
        draw(st.dictionaries(tag_key, tag_value, max_size=4)),
    )


@given(messages())
def test_irc_messages_round_trip(msg: Message) -> None:
    line = msg.format()
    assert "\r" not in line and "\n" not in line
    assert Message.parse(line) == msg


@given(st.text(max_size=300))
def test_the_irc_parser_refuses_only_with_a_parse_error(line: str) -> None:
    try:
        msg = Message.parse(line)
    except MessageParseError:
        return
    assert msg.verb and msg.verb == msg.verb.upper()
    assert all(" " not in p for p in msg.params[:-1])


# -- the netcat parser -------------------------------------------------------------

_config = Config()
_chat = Chat(_config)
_plain = PlainDialect(_config)


class _Sink:
    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


_client = _chat.connect(_Sink(), "127.0.0.1", _plain)

# The session replaces NUL and CR with spaces before a line is parsed (and LF ends it).
_line_chars = st.characters(blacklist_characters="\0\r\n")
slashy = st.one_of(
    st.text(_line_chars, max_size=200),
    st.builds(
        lambda word, rest: f"/{word} {rest}",
        st.sampled_from(sorted(SLASH_COMMANDS)),
        st.text(_line_chars, max_size=100),
    ),
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(slashy)
def test_the_netcat_parser_refuses_only_with_a_command_error(line: str) -> None:
    try:
        result = _plain.parse(line, _client)
    except CommandError:
        return
    if isinstance(result, Command):
        assert result.verb and " " not in result.verb
        for param in result.params:
            assert "\n" not in param and "\r" not in param and "\0" not in param


# -- configuration ------------------------------------------------------------------

toml_scalar = st.one_of(
    st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)
)
toml_value: st.SearchStrategy[Any] = st.recursive(
    toml_scalar,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=10,
)
sections = st.sampled_from(
    ["server", "listeners", "limits", "logging", "storage", "history", "accounts", "tls", "nope"]
)
known_keys = st.sampled_from(
    ["name", "port", "host", "dialect", "max_line_bytes", "level", "path", "enabled", "motd", "x"]
)


@given(
    st.dictionaries(
        sections,
        st.one_of(
            st.dictionaries(known_keys, toml_value, max_size=4),
            st.lists(st.dictionaries(known_keys, toml_value, max_size=4), max_size=2),
            toml_scalar,
        ),
        max_size=4,
    )
)
def test_the_configuration_refuses_only_with_a_config_error(data: dict[str, Any]) -> None:
    try:
        cfg = config_from_dict(data)
    except ConfigError as exc:
        assert str(exc)
        return
    assert isinstance(cfg, Config)
