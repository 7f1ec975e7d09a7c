"""No control sequence reaches a netcat user's terminal, whatever the event.

Property test: every event type, with every text field set to hostile text
drawn from every Unicode category (and to known escape vectors), and every
numeric with hostile parameters, rendered by the plain dialect: the bytes
hold no C0/C1 control, DEL or bidirectional control except the CR LF that
ends each line. This is what makes the guarantee hold by construction: a
rendering added later is covered without a test of its own.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ircish.core import events as ev
from ircish.core.storage import StoredEvent
from ircish.protocol import numerics as n
from tests.helpers import MemoryNetwork

#: What must never reach a terminal (CR and LF appear only as line ends).
FORBIDDEN = {
    *map(chr, range(0x20)),
    *map(chr, range(0x7F, 0xA0)),
    "\u061c",
    "\u200e",
    "\u200f",
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
    "\u2028",
    "\u2029",
    "\ufeff",
}

#: The vectors found in ircish before: screen clear plus a fake server line, OSC 52
#: (clipboard write), an 8-bit CSI, a right-to-left override, mIRC colours with arguments.
VECTORS = [
    "#\x1b[2J\x1b[H*** admin\x07",
    "\x1b]52;c;ZXZpbA==\x07",
    "\u009b2J",
    "innocent\u202eexe.txt",
    "\x034,1red\x03 \x02bold\x02",
    "a\rb\nc\0d\x7f",
]

hostile = st.one_of(
    st.sampled_from(VECTORS),
    st.text(st.characters(codec="utf-8"), max_size=40),
    st.text(st.sampled_from([*sorted(FORBIDDEN), "a", " ", "#", "\u200d", "é"]), max_size=20),
)


def _value(tp: Any, text: str) -> Any:
    """A value of field type ``tp`` made of ``text`` where it can hold text."""
    origin = typing.get_origin(tp)
    if tp is str:
        return text
    if tp is bool:
        return False
    if tp is float:
        return 1_000_000.0
    if tp is int:
        return 1
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _value(args[0], text)
    if origin is tuple:
        args = typing.get_args(tp)
        if args and args[0] is str:
            return (text, text)
        if args and args[0] is bool:
            return (False, True)
        return ()
    return None


def _events(text: str) -> list[ev.Event]:
    out: list[ev.Event] = []
    for cls in vars(ev).values():
        if not (isinstance(cls, type) and issubclass(cls, ev.Event) and cls is not ev.Event):
            continue
        if not dataclasses.is_dataclass(cls):
            continue
        hints = typing.get_type_hints(cls, {**vars(ev), "StoredEvent": StoredEvent})
        values = [_value(hints[f.name], text) for f in dataclasses.fields(cls)]
        if None in values:
            continue
        out.append(cls(*values))
    stored = StoredEvent("m" * 29, 1_000_000.0, "", "#r", ev.Privmsg(text, text, text, text))
    out.append(ev.History(text, (stored,)))
    for code in sorted({v for k, v in vars(n).items() if k.isupper() and isinstance(v, str)}):
        if code.isdigit():
            out.append(ev.Numeric(code, (text, text, text)))
    return out


NET = MemoryNetwork()
VICTIM = NET.plain("victim")


def _check(rendered: bytes) -> None:
    text = rendered.decode("utf-8")
    for line in text.split("\r\n")[:-1] if text else []:
        bad = {c for c in line if c in FORBIDDEN}
        assert not bad, f"{sorted(map(hex, map(ord, bad)))} in {line!r}"


@settings(max_examples=60, deadline=None)
@given(hostile)
def test_no_rendering_passes_a_control_character(text: str) -> None:
    client = VICTIM.client
    for event in _events(text):
        envelope = ev.Envelope(event, client=client)
        envelope.time = NET.now
        try:
            rendered = client.dialect.render(envelope, client)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError):
            # An event built from arbitrary field values may be one the server never
            # makes (a numeric with the wrong arity); only what renders is checked.
            continue
        _check(rendered)


def test_the_known_vectors_render_as_plain_text() -> None:
    client = VICTIM.client
    for vector in VECTORS:
        env = ev.Envelope(ev.Topic("m!u@h", "mallory", "#room", vector), client=client)
        line = client.dialect.render(env, client)
        _check(line)
    env = ev.Envelope(ev.Topic("m!u@h", "mallory", "#r", VECTORS[0]), client=client)
    assert client.dialect.render(env, client) == (
        b"*** mallory changed the topic of #r to: #*** admin\r\n"
    )
