"""Drawing lines with rich: model ``Line`` -> rich ``Text`` -> ANSI -> prompt_toolkit rows.

The one output seam of the client (STYLE.md lesson 12): every line the user
sees is styled here with rich, turned into an SGR string, and parsed back by
``prompt_toolkit.formatted_text.ANSI`` into styled fragments, one list per
screen row. Results are cached on the line per width, so scrolling and
redrawing cost nothing after the first time.

What a line looks like::

    12:04 <alice> hello bob, see https://example.org/a-long/path
                  continuation rows are indented under the text
    12:04  * alice waves
    12:05 --> bob (~bob@127.0.0.1) joined #lobby      (dimmed)
    12:05 !!! No such nick or room: carol             (red)
    12:06 [msg(bob)] see you in private               (/msg bob ... typed here)

Text from the network is never trusted: IRC formatting codes (bold, colours,
...) become rich styles and every other control character is dropped, so a
message cannot send escape sequences to the terminal. Wrapping happens at
spaces only, so a URL that fits on a row is never split; one longer than the
text column is drawn without the hanging indent so its characters stay
contiguous.
"""

from __future__ import annotations

import re
import zlib
from datetime import datetime
from io import StringIO
from typing import cast

from prompt_toolkit.formatted_text import ANSI, StyleAndTextTuples, to_formatted_text
from rich import box
from rich.color import ColorSystem
from rich.console import Console
from rich.style import Style
from rich.table import Table as RichTable
from rich.text import Text

from ircish.client.model import Line, LineKind, Table

#: The levels of xterm's 6x6x6 colour cube (colours 16-231).
_CUBE = (0, 95, 135, 175, 215, 255)


def _readable(rgb: tuple[int, int, int]) -> bool:
    """Neither dark on black nor pale on white, and not grey (one's own nick is grey-white)."""
    r, g, b = rgb
    luma = 0.299 * r + 0.587 * g + 0.114 * b
    return 95 <= luma <= 190 and max(rgb) - min(rgb) >= 80


#: Nickname colours on a 256-colour terminal: the readable colours of the cube
#: (about a hundred, so two nicks in a room rarely share one).
NICK_COLORS_256 = tuple(
    f"#{r:02x}{g:02x}{b:02x}" for r in _CUBE for g in _CUBE for b in _CUBE if _readable((r, g, b))
)
#: On a 16-colour terminal: the ANSI colours minus black, white, the greys and
#: dark blue, in the exact RGB prompt_toolkit maps back to each ANSI colour.
NICK_COLORS_16 = (
    "#cd0000",
    "#00cd00",
    "#cdcd00",
    "#cd00cd",
    "#00cdcd",
    "#ff0000",
    "#00ff00",
    "#ffff00",
    "#0000ff",
    "#ff00ff",
    "#00ffff",
)
NICK_COLORS = NICK_COLORS_256
TIME_STYLE = Style(color="#808080")
QUIET_STYLE = Style(color="#8a8a8a", dim=True)
INFO_STYLE = Style(color="#5fafaf")
ERROR_STYLE = Style(color="#ff5f5f", bold=True)
OWN_NICK_STYLE = Style(bold=True)
MENTION_NICK_STYLE = Style(color="#000000", bgcolor="#ffd75f", bold=True)
MENTION_TEXT_STYLE = Style(color="#ffd75f", bold=True)
URL_STYLE = Style(color="#5fafff", underline=True)

#: mIRC colour numbers 0-15.
MIRC_COLORS = (
    "#ffffff",
    "#000000",
    "#00007f",
    "#009300",
    "#ff0000",
    "#7f0000",
    "#9c009c",
    "#fc7f00",
    "#ffff00",
    "#00fc00",
    "#009393",
    "#00ffff",
    "#0000fc",
    "#ff00ff",
    "#7f7f7f",
    "#d2d2d2",
)
_URL = re.compile(r"\b(?:https?|ftp)://[^\s<>\"]+|\bwww\.[^\s<>\"]+", re.IGNORECASE)
_COLOR_CODE = re.compile(r"\x03(\d{1,2})?(?:,(\d{1,2}))?")
#: C0 and C1 controls and DEL: never shown (prompt_toolkit would obey ESC and CSI).
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SGR = re.compile(r"\x1b\[[0-9;]*m")
_FORMAT_CODES = "\x02\x03\x0f\x16\x1d\x1e\x1f"

Rows = list[StyleAndTextTuples]


def nick_color(nick: str, palette: tuple[str, ...] = NICK_COLORS) -> str:
    """The same colour for the same nickname, in every buffer and every session.

    A stable hash (CRC-32 of the lowercased nick), not Python's ``hash``,
    which changes from run to run. One's own nick is drawn bold in the
    terminal's own colour, which no palette contains.
    """
    return palette[zlib.crc32(nick.lower().encode()) % len(palette)]


def strip_controls(text: str) -> str:
    return _CONTROLS.sub("", text)


def formatted(text: str, base: Style | None = None) -> Text:
    """IRC text with its formatting codes applied as rich styles; URLs underlined."""
    out = Text(style=base or "")
    bold = italic = underline = reverse = strike = False
    fg: str | None = None
    bg: str | None = None
    i = 0
    chunk_start = 0
    pieces: list[tuple[str, Style]] = []

    def style() -> Style:
        return Style(
            bold=bold or None,
            italic=italic or None,
            underline=underline or None,
            reverse=reverse or None,
            strike=strike or None,
            color=fg,
            bgcolor=bg,
        )

    while i < len(text):
        ch = text[i]
        if ch not in _FORMAT_CODES:
            i += 1
            continue
        pieces.append((text[chunk_start:i], style()))
        if ch == "\x03":
            m = _COLOR_CODE.match(text, i)
            assert m is not None
            if m.group(1) is None:
                fg = bg = None
            else:
                fg = MIRC_COLORS[int(m.group(1)) % 16]
                if m.group(2) is not None:
                    bg = MIRC_COLORS[int(m.group(2)) % 16]
            i = m.end()
        else:
            if ch == "\x02":
                bold = not bold
            elif ch == "\x1d":
                italic = not italic
            elif ch == "\x1f":
                underline = not underline
            elif ch == "\x16":
                reverse = not reverse
            elif ch == "\x1e":
                strike = not strike
            else:  # \x0f resets everything
                bold = italic = underline = reverse = strike = False
                fg = bg = None
            i += 1
        chunk_start = i
    pieces.append((text[chunk_start:], style()))
    for chunk, st in pieces:
        clean = strip_controls(chunk)
        if clean:
            out.append(clean, st)
    for m in _URL.finditer(out.plain):
        out.stylize(URL_STYLE, m.start(), m.end())
    return out


def _join(*parts: tuple[str, Style | None]) -> Text:
    out = Text()
    for text, style in parts:
        out.append(text, style)
    return out


def _prefix(line: Line, palette: tuple[str, ...] = NICK_COLORS) -> tuple[Text, Style | None]:
    """The part before the text (time, nick or arrow) and the style of the text."""
    # History from another day says which day, or "14:02" would read as today.
    when = line.time
    older = line.history and when.date() != datetime.now(when.tzinfo).date()
    stamp = (when.strftime("%b %d %H:%M" if older else "%H:%M") + " ", TIME_STYLE)
    nick = strip_controls(line.nick)
    nick_style = OWN_NICK_STYLE if line.own else Style(color=nick_color(nick, palette))
    if line.mention:
        nick_style = MENTION_NICK_STYLE
    text_style = MENTION_TEXT_STYLE if line.mention else None
    match line.kind:
        case LineKind.MESSAGE:
            return _join(stamp, ("<", None), (nick, nick_style), ("> ", None)), text_style
        case LineKind.ACTION:
            return _join(stamp, (" * ", None), (nick, nick_style), (" ", None)), text_style
        case LineKind.NOTICE:
            return _join(stamp, ("-", None), (nick, nick_style), ("- ", None)), text_style
        case LineKind.JOIN:
            return _join(stamp, ("--> ", Style(color="#5fd75f"))), QUIET_STYLE
        case LineKind.PART | LineKind.QUIT:
            return _join(stamp, ("<-- ", Style(color="#d75f5f"))), QUIET_STYLE
        case LineKind.FOLDED:
            return _join(stamp), QUIET_STYLE
        case LineKind.NICK:
            return _join(stamp, ("--- ", QUIET_STYLE)), QUIET_STYLE
        case LineKind.ERROR:
            return _join(stamp, ("!!! ", ERROR_STYLE)), ERROR_STYLE
        case LineKind.KICK:
            return _join(stamp, ("<-- ", ERROR_STYLE)), ERROR_STYLE if line.mention else None
        case LineKind.SENT | LineKind.SENT_NOTICE:
            verb = "notice" if line.kind is LineKind.SENT_NOTICE else "msg"
            target = (nick, Style(color=nick_color(nick, palette)))
            return _join(stamp, (f"[{verb}(", None), target, (")] ", None)), None
        case _:
            return _join(stamp, ("--- ", INFO_STYLE)), text_style


def _merge(fragments: StyleAndTextTuples) -> StyleAndTextTuples:
    """Join neighbouring fragments of the same style (ANSI yields one per character)."""
    out: StyleAndTextTuples = []
    for frag in fragments:
        if out and out[-1][0] == frag[0] and len(frag) == 2 and len(out[-1]) == 2:
            out[-1] = (frag[0], out[-1][1] + frag[1])
        else:
            out.append(frag)
    return out


class Renderer:
    """Renders lines for a given width, with a per-line cache."""

    def __init__(self, colors: int = 256) -> None:
        """``colors``: 256 on terminals that have them, else the 16-colour palette."""
        self._consoles: dict[int, Console] = {}
        self.palette = NICK_COLORS_256 if colors >= 256 else NICK_COLORS_16

    def notice_row(self, text: str, width: int, *, marker: bool = False) -> StyleAndTextTuples:
        """A row of the UI's own between lines: ``--- Day changed to ...``, the read marker."""
        if marker:
            label = f"--- {text} "
            return [("fg:#ff5f5f", label + "-" * max(0, width - len(label)))]
        return [("fg:#5fafaf", f"--- {text}"[:width])]

    def nick_color(self, nick: str) -> str:
        return nick_color(nick, self.palette)

    def console(self, width: int) -> Console:
        console = self._consoles.get(width)
        if console is None:
            console = Console(
                file=StringIO(),
                width=width,
                force_terminal=True,
                color_system="truecolor",
                legacy_windows=False,
                highlight=False,
                markup=False,
                emoji=False,
            )
            self._consoles[width] = console
        return console

    def rows(self, line: Line, width: int) -> Rows:
        """The screen rows of ``line`` at ``width`` columns."""
        width = max(width, 10)
        if line.cache is not None and line.cache[0] == width:
            return cast(Rows, line.cache[1])
        if line.kind is LineKind.TABLE and line.table is not None:
            rows = self._table_rows(line, width)
        else:
            rows = [self.fragments(t, width) for t in self.text_rows(line, width)]
        line.cache = (width, cast(list[object], rows))
        return rows

    def text_rows(self, line: Line, width: int) -> list[Text]:
        """``line`` wrapped at ``width``, as rich texts (one per row)."""
        prefix, text_style = _prefix(line, self.palette)
        body = formatted(line.text, text_style)
        indent = prefix.cell_len
        room = width - indent
        urls = [len(m.group()) for m in _URL.finditer(body.plain)]
        if room < 20 or (urls and max(urls) > room):
            # No hanging indent: narrow screens, and URLs that would be cut into pieces.
            return list((prefix + body).wrap(self.console(width), width, overflow="fold"))
        wrapped = body.wrap(self.console(room), room, overflow="fold")
        rows = [prefix + wrapped[0]] if wrapped else [prefix]
        pad = Text(" " * indent)
        rows += [pad + row for row in list(wrapped)[1:]]
        return rows

    def fragments(self, text: Text, width: int) -> StyleAndTextTuples:
        """One row of rich text as prompt_toolkit fragments, via an SGR string."""
        console = self.console(width)
        ansi = "".join(
            seg.style.render(seg.text, color_system=ColorSystem.TRUECOLOR)
            if seg.style
            else seg.text
            for seg in text.render(console)
            if seg.text != "\n"
        )
        return _merge(to_formatted_text(ANSI(ansi)))

    def _table_rows(self, line: Line, width: int) -> Rows:
        table = line.table
        assert table is not None
        head = Line(line.time, LineKind.INFO, table.title)
        rows = [self.fragments(t, width) for t in self.text_rows(head, width)]
        rows += [_merge(to_formatted_text(ANSI(r))) for r in self.table_ansi(table, width)]
        return rows

    def table_ansi(self, table: Table, width: int) -> list[str]:
        """A table drawn by rich, as one SGR string per row."""
        rich_table = RichTable(
            box=box.SIMPLE_HEAD,
            show_header=any(table.columns),
            header_style=Style(bold=True),
            pad_edge=False,
            padding=(0, 1),
        )
        for i, col in enumerate(table.columns):
            style = Style(bold=True) if i == 0 and not any(table.columns) else None
            rich_table.add_column(col, style=style, overflow="fold")
        for row in table.rows:
            rich_table.add_row(*(formatted(cell) for cell in row))
        buf = StringIO()
        console = Console(
            file=buf,
            width=width,
            force_terminal=True,
            color_system="truecolor",
            legacy_windows=False,
            highlight=False,
            markup=False,
            emoji=False,
        )
        console.print(rich_table, end="")
        return [r for r in buf.getvalue().split("\n") if _SGR.sub("", r).strip()]


def plain_rows(renderer: Renderer, line: Line, width: int) -> list[str]:
    """The text of each row without styles (for tests and captures)."""
    return ["".join(text for _, text, *_ in row) for row in renderer.rows(line, width)]
