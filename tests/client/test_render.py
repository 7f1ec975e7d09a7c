"""Rendering: rich -> ANSI -> prompt_toolkit rows; wrapping, colours, safety."""

from __future__ import annotations

import pytest

from ircish.client.model import Line, LineKind, Table
from ircish.client.render import (
    NICK_COLORS_16,
    NICK_COLORS_256,
    Renderer,
    formatted,
    nick_color,
    plain_rows,
)
from tests.client.conftest import T0


@pytest.fixture
def r() -> Renderer:
    return Renderer()


def rows(r: Renderer, line: Line, width: int = 60) -> list[str]:
    return plain_rows(r, line, width)


def styles(r: Renderer, line: Line, width: int = 60) -> dict[str, str]:
    """Text of each fragment -> its prompt_toolkit style."""
    return {text: style for row in r.rows(line, width) for style, text, *_ in row}


def msg(text: str, nick: str = "bob", **kw: object) -> Line:
    return Line(T0, LineKind.MESSAGE, text, nick, **kw)  # type: ignore[arg-type]


def test_message_layout(r: Renderer) -> None:
    assert rows(r, msg("hello")) == ["12:30 <bob> hello"]
    assert rows(r, Line(T0, LineKind.ACTION, "waves", "bob")) == ["12:30  * bob waves"]
    assert rows(r, Line(T0, LineKind.NOTICE, "psst", "bob")) == ["12:30 -bob- psst"]
    assert rows(r, Line(T0, LineKind.ERROR, "oops")) == ["12:30 !!! oops"]
    assert rows(r, Line(T0, LineKind.JOIN, "bob joined #a", "bob")) == ["12:30 --> bob joined #a"]


def test_a_message_sent_elsewhere_reads_like_irssi(r: Renderer) -> None:
    sent = Line(T0, LineKind.SENT, "see you", "bob", own=True)
    assert rows(r, sent) == ["12:30 [msg(bob)] see you"]
    assert styles(r, sent)["bob"] == styles(r, msg("x"))["bob"]  # the nick's own colour
    notice = Line(T0, LineKind.SENT_NOTICE, "heads up", "carol", own=True)
    assert rows(r, notice) == ["12:30 [notice(carol)] heads up"]


def test_grey_away_users_in_a_names_line(r: Renderer) -> None:
    line = Line(T0, LineKind.INFO, "Users in #a (2): @alice \x0314bob\x03")
    assert rows(r, line) == ["12:30 --- Users in #a (2): @alice bob"]
    assert styles(r, line)["bob"] != styles(r, line)["Users in #a (2): @alice "]


def test_long_lines_wrap_under_the_text(r: Renderer) -> None:
    out = rows(r, msg("lorem ipsum dolor sit amet " * 4), 40)
    assert out[0].startswith("12:30 <bob> lorem ipsum")
    assert all(row.startswith(" " * 12) for row in out[1:])
    assert all(len(row) <= 40 for row in out)
    assert " ".join(x.strip() for x in out).endswith("dolor sit amet")


def test_urls_that_fit_are_never_split(r: Renderer) -> None:
    url = "https://example.org/a-path/with-dashes?and=query"
    out = rows(r, msg("look at this page " + url + " now"), 70)
    assert any(url in row for row in out)


def test_urls_longer_than_the_column_lose_the_indent_to_stay_contiguous(r: Renderer) -> None:
    url = "https://example.org/" + "x" * 50
    out = rows(r, msg("see " + url), 60)
    assert "".join(out).replace("12:30 <bob> see ", "") == url


def test_urls_are_underlined(r: Renderer) -> None:
    style = styles(r, msg("go to https://example.org now"))["https://example.org"]
    assert "underline" in style


def test_nick_colours_are_stable_and_spread() -> None:
    assert nick_color("bob") == nick_color("bob") == nick_color("BOB")
    assert len({nick_color(n) for n in ("alice", "bob", "carol", "dave", "erin", "frank")}) > 3


NICKS = tuple(
    [
        "alice",
        "bob",
        "carol",
        "dave",
        "erin",
        "frank",
        "grace",
        "heidi",
        "ivan",
        "judy",
        "mallory",
        "niaj",
        "olivia",
        "peggy",
        "rupert",
        "sybil",
        "trent",
        "victor",
        "walter",
        "xavier",
    ]
)


def test_nick_colours_rarely_collide_on_a_256_colour_terminal() -> None:
    assert len(NICK_COLORS_256) >= 64
    assert len({nick_color(n, NICK_COLORS_256) for n in NICKS}) >= 17  # of 20


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def test_palettes_leave_out_unreadable_colours_and_the_own_nicks() -> None:
    for colour in NICK_COLORS_256 + NICK_COLORS_16:
        r, g, b = _rgb(colour)
        assert not r == g == b, f"{colour} is grey, like one's own nick"
    assert not {"#000000", "#ffffff", "#0000cd", "#7f7f7f", "#e5e5e5"} & set(NICK_COLORS_16)
    assert len(NICK_COLORS_16) == 11


def test_a_16_colour_renderer_draws_nicks_from_the_16_colour_palette() -> None:
    r16 = Renderer(colors=16)
    for nick in NICKS[:6]:
        colour = nick_color(nick, NICK_COLORS_16)
        assert colour in styles(r16, msg("hi", nick=nick))[nick]
    own = styles(r16, msg("mine", nick="alice", own=True))["alice"]
    assert "#" not in own  # one's own nick: bold, in the terminal's colour


def test_nick_is_coloured(r: Renderer) -> None:
    assert nick_color("bob") in styles(r, msg("hi"))["bob"]


def test_mentions_and_own_lines_stand_out(r: Renderer) -> None:
    mention = styles(r, msg("alice: hi", mention=True))
    assert "bg:" in mention["bob"] and "bold" in mention["alice: hi"]
    own = styles(r, msg("mine", nick="alice", own=True))
    assert "bold" in own["alice"]


def test_joins_and_parts_are_dimmed(r: Renderer) -> None:
    st = styles(r, Line(T0, LineKind.PART, "bob left #a", "bob"))
    assert "dim" in st["bob left #a"]


def test_irc_formatting_codes_become_styles() -> None:
    text = formatted("\x02bold\x02 \x0304red\x03 \x1funder\x0f plain")
    assert text.plain == "bold red under plain"
    spans = {text.plain[s.start : s.end]: str(s.style) for s in text.spans}
    assert "bold" in spans["bold"]
    assert "#ff0000" in spans["red"]
    assert "underline" in spans["under"]


@pytest.mark.parametrize("evil", ["\x1b[2J", "\x9b2J", "\x1b]0;title\x07", "\x00\x7f"])
def test_control_characters_never_reach_the_terminal(r: Renderer, evil: str) -> None:
    line = msg(f"before{evil}after")
    text = "".join(t for row in r.rows(line, 60) for _, t, *_ in row)
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in text)
    assert "before" in text and "after" in text


def test_cyrillic_and_wide_text(r: Renderer) -> None:
    assert rows(r, msg("Привет, мир", nick="вася")) == ["12:30 <вася> Привет, мир"]
    out = rows(r, msg("漢字" * 30), 40)
    assert all(len(row) <= 40 for row in out) and len(out) > 1


def test_tables(r: Renderer) -> None:
    table = Table("/list: 2 rooms", ("room", "users", "topic"), (("#big", "9", "busy"),))
    out = rows(r, Line(T0, LineKind.TABLE, "/list", table=table))
    assert out[0] == "12:30 --- /list: 2 rooms"
    assert out[1].split() == ["room", "users", "topic"]
    assert out[-1].split() == ["#big", "9", "busy"]


def test_rows_are_cached_per_width(r: Renderer) -> None:
    line = msg("hello")
    first = r.rows(line, 50)
    assert r.rows(line, 50) is first
    assert r.rows(line, 51) is not first
