"""What netcat users are shown of others' text: no control characters, no leftover arguments."""

from __future__ import annotations

import pytest

from ircish.dialects.plain import clean

CASES = [
    ("plain text", "plain text"),
    ("Вася пишет ✓", "Вася пишет ✓"),
    # mIRC formatting with its colour arguments (irssi's ^B, ^C4,1, ^C12).
    ("\x02bold\x02 \x034,1red on black\x03 \x0312blue", "bold red on black blue"),
    ("\x0399 code and 5 apples", " code and 5 apples"),
    ("\x04ff0000,00ff00hex\x04 colour", "hex colour"),
    # ANSI CSI: clear screen, colours, cursor moves; 8-bit CSI (U+009B).
    ("\x1b[2J\x1b[H\x1b[31mRED\x1b[0m", "RED"),
    ("x\x9b2Jy", "xy"),
    # OSC: a window title or an OSC 52 clipboard write, ended by BEL or ST.
    ("a\x1b]0;HACKED\x07b", "ab"),
    ("a\x1b]52;c;aGVsbG8=\x1b\\b", "ab"),
    ("a\x9d0;t\x9cb", "ab"),
    # Lone controls: BEL, NUL, DEL, C1, a bare ESC.
    ("bell\x07 del\x7f c1\x85 esc\x1b", "bell del c1 esc"),
    ("\x01ACTION waves\x01", "ACTION waves"),
]


@pytest.mark.parametrize(("raw", "shown"), CASES)
def test_clean(raw: str, shown: str) -> None:
    assert clean(raw) == shown


@pytest.mark.parametrize("raw", [r for r, _ in CASES])
def test_nothing_below_space_or_in_c1_survives(raw: str) -> None:
    assert all(ord(ch) >= 0x20 and not 0x7F <= ord(ch) < 0xA0 for ch in clean(raw))
