"""The ``ircish`` terminal client: a full-screen prompt_toolkit application.

Layout, top to bottom::

    #lobby: topic of the room                                    (title line)
    12:04 <alice> hello                            │3 users      (scrollback of
    --- new messages ----------------------------- │@alice        the current buffer,
    12:05 --> bob (~bob@127.0.0.1) joined #lobby   │ bob          and the member pane
                                                   │ carol        when shown: F7)
    [paste confirmation, only while one is pending]
     alice │ 2:#lobby │ connected │ act: 3:#dev(2) 4:bob(1!)     (status line)
    [#lobby] half-typed line|                                    (input line)

The input line is its own prompt_toolkit ``Buffer``: lines arriving from the
network only change the model and ask for a redraw, so whatever the user is
typing is never touched (the user's request behind issue 4). The scrollback is
a ``UIControl`` that draws the bottom of the current buffer (or the page the
user scrolled to) from rows rendered and cached by ``render.Renderer``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import math
import os
import re
import ssl
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from prompt_toolkit.application import Application
from prompt_toolkit.buffer import Buffer as InputBuffer
from prompt_toolkit.document import Document
from prompt_toolkit.filters import Condition
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.keys import Keys
from prompt_toolkit.layout import (
    ConditionalContainer,
    FormattedTextControl,
    HSplit,
    Layout,
    UIContent,
    UIControl,
    VSplit,
    Window,
)
from prompt_toolkit.layout.controls import BufferControl
from prompt_toolkit.layout.dimension import Dimension
from prompt_toolkit.layout.mouse_handlers import MouseHandler
from prompt_toolkit.layout.processors import (
    BeforeInput,
    Processor,
    Transformation,
    TransformationInput,
)
from prompt_toolkit.mouse_events import MouseEvent, MouseEventType
from prompt_toolkit.output import ColorDepth, Output
from prompt_toolkit.styles import Style, merge_styles

from ircish import __version__
from ircish.client.commands import COMMAND_WORDS, KEYS_HELP, UsageError, execute, share_settings
from ircish.client.completion import Completer
from ircish.client.connection import Backoff, Connection, Connector, Streams, tcp_connector
from ircish.client.connection import describe as describe_error
from ircish.client.irc import IrcClient
from ircish.client.logfile import LogBook
from ircish.client.model import Buffer, BufferKind, Line, LineKind, Model
from ircish.client.networks import Network, Networks
from ircish.client.render import NICK_COLORS_16, Renderer, Rows, strip_controls
from ircish.client.settings import (
    ClientSettings,
    ServerEntry,
    SettingsError,
    default_config_path,
    default_log_dir,
    load_settings,
    resolve_password,
    theme,
)

#: A paste of more lines than this asks before sending (irssi asks above 5 too).
PASTE_CONFIRM_LINES = 5
QUIT_MESSAGE = "Leaving"
#: A second Ctrl+C within this many seconds quits; the first only asks.
CTRL_C_WINDOW = 2.0
#: Lines one notch of the mouse wheel scrolls.
WHEEL_LINES = 3
#: A folded line names at most this many nicks per verb ("and 12 more").
FOLD_NAMES = 20
#: The member list pane's width, whatever the nicknames' lengths.
MEMBERS_MIN_WIDTH = 10
MEMBERS_MAX_WIDTH = 20
#: Keys that type mIRC formatting codes into the input line, as in irssi.
FORMAT_KEYS = {"c-b": "\x02", "c-_": "\x1f", "c-k": "\x03", "c-o": "\x0f"}
#: How each formatting code is drawn in the input line: one reversed letter.
FORMAT_SHOWN = {"\x02": "B", "\x03": "C", "\x0f": "O", "\x16": "R", "\x1d": "I", "\x1f": "U"}

STYLE = Style.from_dict(
    {
        "title": "bg:#005f87 #ffffff",
        "status": "bg:#303030 #d0d0d0",
        "status.nick": "bold #ffffff",
        "status.buffer": "bold #ffd75f",
        "status.away": "#ff875f",
        "status.ok": "#5fd75f",
        "status.bad": "bold #ff5f5f",
        "status.unread": "#ffffff",
        "status.highlight": "bold #ff5f5f",
        "status.more": "reverse",
        "prompt": "bold #5fafff",
        "paste": "bg:#875f00 #ffffff bold",
        "input.format": "reverse",
        "status.ask": "bold #ffd75f",
        "members": "#d0d0d0",
        "members.head": "bold",
        "members.border": "#585858",
        "members.op": "bold #5fd75f",
        "members.voice": "#ffd75f",
        "members.away": "#6c6c6c",
    }
)


def _day(line: Line) -> date:
    return line.time.astimezone().date()


def day_changed(when: datetime) -> str:
    """``Day changed to Wednesday, 2 December 2026`` (in local time)."""
    day = when.astimezone()
    return f"Day changed to {day:%A}, {day.day} {day:%B} {day.year}"


def fold_noise(run: list[Line]) -> str:
    """``--> alice, bob joined; <-- carol quit``: a run of joins, parts and quits."""
    verbs = {LineKind.JOIN: "--> {} joined", LineKind.PART: "<-- {} left"}
    parts: list[str] = []
    group: list[str] = []
    for i, line in enumerate(run):
        group.append(strip_controls(line.nick))
        if i + 1 == len(run) or run[i + 1].kind is not line.kind:
            names = ", ".join(group[:FOLD_NAMES])
            if len(group) > FOLD_NAMES:
                names += f" and {len(group) - FOLD_NAMES} more"
            parts.append(verbs.get(line.kind, "<-- {} quit").format(names))
            group = []
    return "; ".join(parts)


class FormatCodes(Processor):
    """Draws formatting codes in the input line as reversed letters (B, C, U, O).

    One character stands for one, so cursor positions need no mapping.
    """

    def apply_transformation(self, ti: TransformationInput) -> Transformation:
        out: StyleAndTextTuples = []
        for style, text, *rest in ti.fragments:
            for ch in text:
                shown = FORMAT_SHOWN.get(ch)
                if shown is None:
                    out.append((style, ch, *rest))  # type: ignore[arg-type]
                else:
                    out.append((style + " class:input.format", shown))
        return Transformation(out)


class ScrollbackControl(UIControl):
    """Draws the current buffer bottom-aligned, scrolled back by whole lines.

    Scrolled back, the view never shows blank rows above the buffer's first
    line: once that line reaches the top, scrolling stops there and the screen
    is filled with the lines after it (as irssi does). Only a buffer shorter
    than the screen, followed at its bottom, leaves rows empty.
    """

    def __init__(
        self,
        model_of: Callable[[], Model],
        renderer: Renderer,
        on_top: Callable[[], None] | None = None,
    ) -> None:
        #: The model in view (the focused network's); read at every draw.
        self._model_of = model_of
        self.renderer = renderer
        #: Called when scrolling back reaches the buffer's first line (to fetch older history).
        self.on_top = on_top
        #: The size of the last draw; paging uses it.
        self.size = (80, 24)
        #: (id of a run's last line, run length, width) -> (that line, rows).
        self._fold_cache: dict[tuple[int, int, int], tuple[Line, Rows]] = {}

    @property
    def model(self) -> Model:
        return self._model_of()

    def is_focusable(self) -> bool:
        return False

    def line_rows(self, buf: Buffer, index: int, width: int) -> Rows:
        """The rows drawn for ``buf.lines[index]``, with what goes above it.

        Above a line: a day-change row when the line before it fell on another
        local date, and the read marker above the first line that arrived while
        the buffer was out of view. Joins, parts and quits may be hidden
        (``Model.show_joins``) or folded into the last of their run
        (``Model.fold_joins``).
        """
        model = self.model
        lines = buf.lines
        line = lines[index]
        rows: Rows = []
        if index and _day(lines[index - 1]) != _day(line):
            rows.append(self.renderer.notice_row(day_changed(line.time), width))
        if line is buf.marker:
            rows.append(self.renderer.notice_row("new messages", width, marker=True))
        if model.hidden(line):
            return rows
        if model.fold_joins and model.is_noise(line):
            if index + 1 < len(lines) and model.is_noise(lines[index + 1]):
                return rows  # the last line of the run draws the whole run
            start = index
            while start and model.is_noise(lines[start - 1]):
                start -= 1
            if start < index:
                return rows + self._folded([lines[i] for i in range(start, index + 1)], width)
        return rows + self.renderer.rows(line, width)

    def _folded(self, run: list[Line], width: int) -> Rows:
        key = (id(run[-1]), len(run), width)
        cached = self._fold_cache.get(key)
        if cached is None or cached[0] is not run[-1]:
            if len(self._fold_cache) > 500:
                self._fold_cache.clear()
            line = Line(run[-1].time, LineKind.FOLDED, fold_noise(run))
            cached = self._fold_cache[key] = (run[-1], self.renderer.rows(line, width))
        return cached[1]

    def _visible(self, end: int, width: int, height: int) -> tuple[int, Rows]:
        """The index of the topmost line shown when ``end`` is the bottom, and the rows."""
        buf = self.model.current
        rows: Rows = []
        index = end
        while index > 0 and len(rows) < height:
            index -= 1
            rows[:0] = self.line_rows(buf, index, width)
        return index, rows

    def _settle(self, width: int, height: int) -> tuple[int, Rows]:
        """Clamp the current buffer's scroll so the screen is full; (top index, rows).

        Scrolled back so far that the lines above the bottom one would not fill
        the screen, the bottom moves down until they do (or the view follows
        the end again).
        """
        buf = self.model.current
        lines = buf.lines
        buf.scroll = max(0, min(buf.scroll, len(lines) - 1))
        end = len(lines) - buf.scroll
        top, rows = self._visible(end, width, height)
        if buf.scroll and top == 0:
            while len(rows) < height and end < len(lines):
                rows += self.line_rows(buf, end, width)
                end += 1
            buf.scroll = len(lines) - end
        return top, rows

    def create_content(self, width: int, height: int) -> UIContent:
        self.size = (width, height)
        buf = self.model.current
        top, rows = self._settle(width, height)
        if not height:
            rows = []
        elif buf.scroll and top == 0:
            rows = rows[:height]  # the first line is at the top: scrolling stops there
        else:
            rows = rows[-height:]
        rows[:0] = [[] for _ in range(height - len(rows))]
        return UIContent(get_line=lambda i: rows[i], line_count=len(rows), show_cursor=False)

    def mouse_handler(self, mouse_event: MouseEvent) -> None:
        """The wheel scrolls a few lines (with ``/set mouse on``, the terminal sends it)."""
        if mouse_event.event_type is MouseEventType.SCROLL_UP:
            if self.scroll_back(WHEEL_LINES) and self.on_top is not None:
                self.on_top()
        elif mouse_event.event_type is MouseEventType.SCROLL_DOWN:
            self.scroll_back(-WHEEL_LINES)

    def scroll_back(self, lines: int) -> bool:
        """Scroll back by ``lines`` (forward if negative); True if the first line is in view."""
        buf = self.model.current
        buf.scroll = max(0, buf.scroll + lines)
        top, _ = self._settle(*self.size)
        return top == 0 and lines > 0

    def page_up(self) -> bool:
        """Scroll back a page; True if the view now shows the buffer's first line."""
        buf = self.model.current
        end = len(buf.lines) - buf.scroll
        top, _ = self._visible(end, *self.size)
        # The line at the top of the screen becomes the one at the bottom.
        new_end = min(top + 1, end - 1)
        if new_end >= 1:
            buf.scroll = len(buf.lines) - new_end
        top, _ = self._settle(*self.size)
        return top == 0

    def page_down(self) -> None:
        buf = self.model.current
        width, height = self.size
        end = len(buf.lines) - buf.scroll
        used = 0
        while end < len(buf.lines) and used < height - 1:
            used += len(self.line_rows(buf, end, width))
            end += 1
        buf.scroll = len(buf.lines) - end


class ChatApp:
    """Wires the model, the IRC client, the connection and the terminal UI."""

    def __init__(
        self,
        client: IrcClient,
        connector: Connector,
        *,
        label: str = "",
        input: Input | None = None,
        output: Output | None = None,
        backoff: Backoff | None = None,
        paste_confirm: int = PASTE_CONFIRM_LINES,
        ping_interval: float = 120.0,
        name: str = "",
        host: str = "",
    ) -> None:
        client.model.on_bell = self._bell
        first = Network(name or host or label, client, label=label, chosen=bool(name))
        self.networks = Networks(first)
        self.networks.share = share_settings
        self.networks.opener = self.open_network
        self.networks.closer = self.close_network
        #: What /connect builds a network from: the file's entries and settings, the nick.
        self.settings = ClientSettings()
        self.nick = client.model.nick
        self._backoff = backoff
        self._ping_interval = ping_interval
        #: The running connections, by network.
        self._tasks: dict[Network, asyncio.Future[None]] = {}
        #: Ends the application (set while it runs): called when no connection is left.
        self._on_all_ended: Callable[[], None] = lambda: None
        self.paste_confirm = paste_confirm
        self.pending_paste: list[str] | None = None
        self.bells = 0
        #: When (time.monotonic) Ctrl+C was pressed once, asking to press it again.
        self.ctrl_c_at: float | None = None
        #: The member list pane is shown beside rooms (F7, Alt+N, /names).
        self.show_members = False
        self.renderer = Renderer()
        self.completer = Completer(client.model, COMMAND_WORDS)
        first.connection = self._connection_for(client, connector, backoff)
        self.input = InputBuffer(multiline=False, accept_handler=self._accept)
        self.scrollback = ScrollbackControl(
            lambda: self.model, self.renderer, on_top=self._fetch_older
        )
        self.application: Application[None] = Application(
            layout=self._layout(),
            key_bindings=self._key_bindings(),
            style=STYLE,
            full_screen=True,
            input=input,
            output=output,
            # Redraws once a second keep the reconnect countdown honest; unchanged
            # screens cost nothing (prompt_toolkit writes only the difference).
            refresh_interval=1.0,
            # Read at every redraw: /set mouse off gives the terminal its selection back.
            mouse_support=Condition(lambda: self.model.mouse),
        )
        depth = self.application.output.get_default_color_depth()
        if depth in (ColorDepth.DEPTH_1_BIT, ColorDepth.DEPTH_4_BIT):
            self.renderer.palette = NICK_COLORS_16

    # -- networks --------------------------------------------------------------------------

    @property
    def network(self) -> Network:
        """The network in view."""
        return self.networks.current

    @property
    def client(self) -> IrcClient:
        return self.networks.current.client

    @property
    def model(self) -> Model:
        return self.networks.current.model

    @property
    def connection(self) -> Connection:
        conn = self.networks.current.connection
        assert conn is not None
        return conn

    @property
    def label(self) -> str:
        return self.networks.current.label

    def _connection_for(
        self, client: IrcClient, connector: Connector, backoff: Backoff | None
    ) -> Connection:
        return Connection(
            client,
            connector,
            backoff=backoff,
            on_change=self.invalidate,
            ping_interval=self._ping_interval,
        )

    def open_network(self, target: str) -> Network:
        """``/connect NAME|HOST[:PORT]``: a network of its own beside the others, in view."""
        try:
            name, host, port, tls, entry = pick_target(target, self.settings)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        password = None
        if entry is not None:
            try:
                password = resolve_password(entry, name)
            except SettingsError as exc:
                raise UsageError(str(exc)) from None
        account = entry.account if entry is not None and entry.account else None
        if account and password is None:
            # No terminal prompt under the full screen.
            raise UsageError(
                f"servers.{name}: the account {account} needs a password here: set "
                "password_env or password_command"
            )
        nick = (entry.nick if entry is not None else "") or self.settings.nick or self.nick
        rooms = entry.rooms if entry is not None else ()
        label = f"{host}:{port}"
        # An address's name is its host, or host:port beside another network on that host.
        wanted = name or (f"{host}:{port}" if self.networks.taken(host) else host)
        net_name = self.networks.unique_name(wanted)
        log_name = name or f"{host}_{port}"
        client = make_client(label, nick, rooms, password, account, self.settings, log_name)
        client.model.on_bell = self._bell
        net = Network(net_name, client, label=label, chosen=bool(name))
        net.connection = self._connection_for(client, tcp_connector(host, port, tls), self._backoff)
        self.networks.add(net)
        self.networks.focus(net)
        if self.application.is_running:
            self._start(net)
        return net

    def close_network(self, net: Network, reason: str) -> None:
        """``/disconnect`` (never of the last network): leave it; its buffers go with its link."""
        net.leaving = True
        net.client.quit(reason)
        if net.connection is not None:
            net.connection.flush()

    def _start(self, net: Network) -> None:
        assert net.connection is not None
        task = asyncio.ensure_future(net.connection.run())
        self._tasks[net] = task
        task.add_done_callback(lambda _: self._ended(net))

    def _ended(self, net: Network) -> None:
        """A network's connection is over: /disconnect removes it, a /quit ends them all."""
        self._tasks.pop(net, None)
        if net.leaving and len(self.networks.all) > 1:
            self.networks.remove(net)
            self.model.info(f"Disconnected from {self.networks.name_of(net)}")
        else:
            for other in self.networks.all:
                if other is not net and not other.client.quitting:
                    other.client.quit(QUIT_MESSAGE)
                    if other.connection is not None:
                        other.connection.flush()
        self.invalidate()
        if not self._tasks:
            self._on_all_ended()

    # -- layout ------------------------------------------------------------------------

    def _layout(self) -> Layout:
        prompt = BeforeInput(
            lambda: f"[{strip_controls(self.networks.label(*self.networks.view()))}] ",
            style="class:prompt",
        )
        input_window = self.input_window = Window(
            BufferControl(self.input, input_processors=[prompt, FormatCodes()]),
            height=Dimension(min=1, max=5),
            wrap_lines=True,
            dont_extend_height=True,
        )
        paste_bar = ConditionalContainer(
            Window(FormattedTextControl(self._paste_text), height=1, style="class:paste"),
            filter=Condition(lambda: self.pending_paste is not None),
        )
        members = ConditionalContainer(
            VSplit(
                [
                    Window(width=1, char="│", style="class:members.border"),
                    Window(
                        FormattedTextControl(self._members_text),
                        width=lambda: Dimension.exact(self._members_width()),
                        style="class:members",
                    ),
                ]
            ),
            filter=Condition(self.members_shown),
        )
        return Layout(
            HSplit(
                [
                    Window(FormattedTextControl(self._title), height=1, style="class:title"),
                    VSplit([Window(self.scrollback, wrap_lines=False), members]),
                    paste_bar,
                    Window(FormattedTextControl(self._status), height=1, style="class:status"),
                    input_window,
                ]
            ),
            focused_element=input_window,
        )

    def _title(self) -> StyleAndTextTuples:
        buf = self.model.current
        if buf.kind is BufferKind.ROOM:
            users = f" [{len(buf.members)} users]" if buf.joined else " [not joined]"
            topic = strip_controls(buf.topic) or "(no topic)"
            return [("", f" {strip_controls(buf.name)}{users}: {topic}")]
        if buf.kind is BufferKind.QUERY:
            return [("", f" Private conversation with {strip_controls(buf.name)}")]
        return [("", f" ircish {__version__}: {self.model.server.name} ({self.label})")]

    def _status(self) -> StyleAndTextTuples:
        model = self.model
        out: StyleAndTextTuples = [("", " "), ("class:status.nick", model.nick)]
        if model.away is not None:
            out.append(("class:status.away", f" (away: {model.away})"))
        nets = self.networks
        number = nets.number(*nets.view())
        shown = strip_controls(nets.label(*nets.view()))
        out += [("", " │ "), ("class:status.buffer", f"{number}:{shown}")]
        state = model.state
        if model.retry_at is not None:
            state += f" in {max(0, math.ceil(model.retry_at - time.monotonic()))}s"
        state_style = "class:status.ok" if state == "connected" else "class:status.bad"
        out += [("", " │ "), (state_style, state)]
        active = nets.activity()
        if active:
            out.append(("", " │ act:"))
            for num, net, buf in active:
                name = strip_controls(nets.label(net, buf))
                # A click on an entry goes to its buffer (with /set mouse on).
                click = self._switch_on_click(net, buf)
                out.append(("", " ", click))
                if buf.highlights:
                    out.append(("class:status.highlight", f"{num}:{name}({buf.unread}!)", click))
                else:
                    out.append(("class:status.unread", f"{num}:{name}({buf.unread})", click))
        if model.current.scroll:
            out += [("", " │ "), ("class:status.more", f"-- more ({model.current.scroll}) --")]
        if model.current.history_pending:
            out += [("", " │ "), ("class:status.more", "loading history")]
        if self.quit_asked():
            out += [("", " │ "), ("class:status.ask", "Press Ctrl+C again to quit")]
        return out

    def _switch_on_click(self, net: Network, buf: Buffer) -> MouseHandler:
        def handler(mouse_event: MouseEvent) -> None:
            if mouse_event.event_type is MouseEventType.MOUSE_UP and (
                net in self.networks.all and buf in net.model.buffers
            ):
                self.networks.focus(net, buf)
                self.invalidate()

        return handler

    def members_shown(self) -> bool:
        return self.show_members and self.model.current.is_room

    def _members_width(self) -> int:
        longest = max((len(n) for n in self.model.current.members), default=0)
        return max(MEMBERS_MIN_WIDTH, min(MEMBERS_MAX_WIDTH, longest + 2))

    def _members_text(self) -> StyleAndTextTuples:
        """The member list: operators, then voiced users, then the rest; away users greyed."""
        model = self.model
        buf = model.current
        width = self._members_width()
        height = self.scrollback.size[1]
        ranked = model.ranked_members(buf)
        out: StyleAndTextTuples = [("class:members.head", f"{len(ranked)} users"[:width])]
        shown = ranked if len(ranked) <= height - 1 else ranked[: max(0, height - 2)]
        for prefix, nick in shown:
            prefix_style = {"@": "class:members.op", "+": "class:members.voice"}.get(
                prefix, "class:members.op" if prefix else ""
            )
            if model.is_away(nick):
                prefix_style = nick_style = "class:members.away"
            else:
                nick_style = f"fg:{self.renderer.nick_color(nick)}"
            name = strip_controls(nick)[: width - 1]
            out += [("", "\n"), (prefix_style, prefix or " "), (nick_style, name)]
        if len(shown) < len(ranked):
            out += [("", "\n"), ("class:members.away", f"+{len(ranked) - len(shown)} more")]
        return out

    def _paste_text(self) -> StyleAndTextTuples:
        count = len(self.pending_paste or [])
        where = self.model.current.name
        return [("", f" Send {count} pasted lines to {where}? y = send them, n = cancel ")]

    # -- input ---------------------------------------------------------------------------

    def _accept(self, buff: InputBuffer) -> bool:
        """Enter: run the line, and always clear it.

        A refused line (a usage error, an unknown command) is in the input
        history like any other: Up brings it back to fix. Keeping it in the
        input line instead glued the next command onto it.
        """
        text = buff.text
        self.model.history.add(text)
        self.model.current.scroll = 0
        self.submit(text)
        return False

    def submit(self, text: str) -> bool:
        """Run one line of input; False if it was refused (the user sees why)."""
        words = text.split()
        if words and words[0].lower() == "/names":
            target = words[1] if len(words) > 1 else self.model.current.name
            if self.model.fold(target) == self.model.fold(self.model.current.name):
                self.show_members = True  # /names here opens the pane too
        net = self.network
        try:
            execute(net.client, text, self.networks)
        except UsageError as exc:
            self.model.error(str(exc))
            self.invalidate()
            return False
        finally:
            self.networks.spread()
        if net.connection is not None:
            net.connection.flush()
        self.invalidate()
        return True

    def paste(self, data: str) -> None:
        """A bracketed paste: one line goes into the input, several are sent."""
        data = data.replace("\r\n", "\n").replace("\r", "\n")
        doc = self.input.document
        if "\n" not in data.strip("\n"):
            self.input.insert_text(data.strip("\n"))
            return
        whole = doc.text_before_cursor + data + doc.text_after_cursor
        lines = [line for line in whole.split("\n") if line.strip()]
        self.input.reset()
        if len(lines) > self.paste_confirm:
            self.pending_paste = lines
        else:
            self._send_lines(lines)
        self.invalidate()

    def _send_lines(self, lines: list[str]) -> None:
        for line in lines:
            self.model.history.add(line)
            if not self.submit(line):
                break

    def confirm_paste(self, yes: bool) -> None:
        lines, self.pending_paste = self.pending_paste or [], None
        if yes:
            self._send_lines(lines)
        else:
            self.model.info(f"Paste of {len(lines)} lines cancelled")
        self.invalidate()

    def quit_asked(self) -> bool:
        """Whether a first Ctrl+C is waiting for the second."""
        return self.ctrl_c_at is not None and time.monotonic() - self.ctrl_c_at < CTRL_C_WINDOW

    def ctrl_c(self) -> None:
        """Ctrl+C quits only when pressed twice within ``CTRL_C_WINDOW`` seconds."""
        if self.quit_asked():
            self.quit(QUIT_MESSAGE)
            return
        self.ctrl_c_at = time.monotonic()
        self.invalidate()

    def page_up(self) -> None:
        """PageUp; at the top of the buffer, older lines are asked of the server's history."""
        if self.scrollback.page_up():
            self._fetch_older()

    def _fetch_older(self) -> None:
        if self.client.fetch_older(self.model.current):
            self.connection.flush()

    def _set_input(self, text: str | None) -> None:
        if text is not None:
            self.input.document = Document(text, len(text))

    def _complete(self, backwards: bool) -> None:
        self.completer.model = self.model
        doc = self.input.document
        result = self.completer.complete(doc.text, doc.cursor_position, backwards)
        if result is not None:
            self.input.document = Document(*result)

    def _key_bindings(self) -> KeyBindings:
        kb = KeyBindings()
        pasting = Condition(lambda: self.pending_paste is not None)
        typing = ~pasting

        @kb.add("up", filter=typing)
        def _up(event: KeyPressEvent) -> None:
            self._set_input(self.model.history.up(self.input.text))

        @kb.add("down", filter=typing)
        def _down(event: KeyPressEvent) -> None:
            self._set_input(self.model.history.down(self.input.text))

        @kb.add("tab", filter=typing)
        def _tab(event: KeyPressEvent) -> None:
            self._complete(backwards=False)

        @kb.add("s-tab", filter=typing)
        def _backtab(event: KeyPressEvent) -> None:
            self._complete(backwards=True)

        @kb.add("pageup")
        def _pageup(event: KeyPressEvent) -> None:
            self.page_up()

        @kb.add("pagedown")
        def _pagedown(event: KeyPressEvent) -> None:
            self.scrollback.page_down()

        nets = self.networks

        def switcher(number: int) -> Callable[[KeyPressEvent], None]:
            def switch(event: KeyPressEvent) -> None:
                found = nets.find(str(number))
                if found is not None:
                    nets.focus(*found)

            return switch

        for digit in range(10):
            kb.add("escape", str(digit), filter=typing)(switcher(digit or 10))

        @kb.add("c-n", filter=typing)
        @kb.add("escape", "right", filter=typing)
        def _next(event: KeyPressEvent) -> None:
            nets.step(1)

        @kb.add("c-p", filter=typing)
        @kb.add("escape", "left", filter=typing)
        def _prev(event: KeyPressEvent) -> None:
            nets.step(-1)

        @kb.add("f7")
        @kb.add("escape", "n", filter=typing)
        def _members(event: KeyPressEvent) -> None:
            self.show_members = not self.show_members

        @kb.add("escape", "a", filter=typing)
        def _activity(event: KeyPressEvent) -> None:
            nets.to_activity()

        @kb.add("c-c")
        def _ctrl_c(event: KeyPressEvent) -> None:
            self.ctrl_c()

        def typer(code: str) -> Callable[[KeyPressEvent], None]:
            def type_code(event: KeyPressEvent) -> None:
                self.input.insert_text(code)

            return type_code

        for key, code in FORMAT_KEYS.items():
            kb.add(key, filter=typing)(typer(code))

        @kb.add("c-d", filter=Condition(lambda: not self.input.text))
        def _ctrl_d(event: KeyPressEvent) -> None:
            self.quit(QUIT_MESSAGE)

        @kb.add(Keys.BracketedPaste, filter=typing)
        def _paste(event: KeyPressEvent) -> None:
            self.paste(event.data)

        @kb.add("y", filter=pasting)
        @kb.add("Y", filter=pasting)
        def _paste_yes(event: KeyPressEvent) -> None:
            self.confirm_paste(True)

        @kb.add("n", filter=pasting)
        @kb.add("N", filter=pasting)
        @kb.add("escape", filter=pasting)
        def _paste_no(event: KeyPressEvent) -> None:
            self.confirm_paste(False)

        @kb.add(Keys.Any, filter=pasting)
        @kb.add("enter", filter=pasting)
        def _swallow(event: KeyPressEvent) -> None:
            """While a paste waits for y/n, other keys do nothing."""

        return kb

    # -- running ------------------------------------------------------------------------

    def invalidate(self) -> None:
        self.application.invalidate()

    def _bell(self) -> None:
        self.bells += 1
        if self.application.is_running:
            self.application.output.bell()

    def quit(self, reason: str) -> None:
        """Say goodbye politely to every network; the application ends when all have closed."""
        for net in self.networks.all:
            net.client.quit(reason)
            if net.connection is not None:
                net.connection.flush()

    async def run(self, first: Streams | None = None) -> None:
        """Run the UI and the connections until the user quits."""
        net = self.networks.current
        assert net.connection is not None
        task = asyncio.ensure_future(net.connection.run(first))
        self._tasks[net] = task
        task.add_done_callback(lambda _: self._ended(net))
        for other in self.networks.all:
            if other is not net:
                self._start(other)

        def stop(_: object = None) -> None:
            future = self.application.future
            if not self._tasks and future is not None and not future.done():
                self.application.exit()

        self._on_all_ended = stop
        try:
            await self.application.run_async(pre_run=stop, handle_sigint=False)
        finally:
            tasks = list(self._tasks.values())
            for pending in tasks:
                pending.cancel()
            for pending in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await pending


# -- command line ------------------------------------------------------------------------

_NICK_RE = re.compile(r"^[^\W\d-][\w\[\]\\`^{|}-]*$")


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but errors fit on one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="ircish",
        description="A terminal IRC client for ircish-server (or any IRC server).",
        epilog="Once running, /help lists the commands. " + KEYS_HELP + ".",
    )
    parser.add_argument(
        "server",
        nargs="?",
        metavar="NAME|HOST[:PORT]",
        help="a [servers.NAME] entry of the config file, or a server address (default:"
        " the file's default_server, else 127.0.0.1:6667); ircs://HOST[:PORT] for TLS",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help=f"the configuration file (default {default_config_path()}, if it exists)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="connect with TLS (default port 6697), verifying the server's certificate",
    )
    parser.add_argument(
        "--tls-ca",
        metavar="FILE",
        help="trust the certificates in this PEM file instead of the system's (implies --tls)",
    )
    parser.add_argument("--nick", help="nickname (default: the config's, else your user name)")
    parser.add_argument(
        "--join",
        metavar="#a,#b",
        help="rooms to join, comma-separated (default: the server entry's rooms, else"
        " #lobby; '' for none)",
    )
    parser.add_argument(
        "--account",
        default=os.environ.get("IRCISH_ACCOUNT"),
        metavar="NAME",
        help="log in to this account with SASL (or set IRCISH_ACCOUNT)",
    )
    parser.add_argument(
        "--password",
        default=os.environ.get("IRCISH_PASSWORD"),
        help="the account's password with --account (asked if not given), else the"
        " server password; better set IRCISH_PASSWORD, out of the shell history",
    )
    parser.add_argument("--version", action="version", version=f"ircish {__version__}")
    return parser


def parse_url(text: str) -> tuple[str, bool | None]:
    """``irc://x`` -> (x, False), ``ircs://x`` -> (x, True), ``x`` -> (x, None)."""
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text, None
    if scheme.lower() not in ("irc", "ircs"):
        raise ValueError(f"bad address {text!r}: use irc:// or ircs://")
    if rest.rstrip("/").count("/"):
        raise ValueError(f"bad address {text!r}: only a host and a port, no path")
    return rest.rstrip("/"), scheme.lower() == "ircs"


def parse_server(text: str, default_port: int = 6667) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]:port`` -> (host, port); ValueError with a reason."""
    host, port_text = text, str(default_port)
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise ValueError(f"bad address {text!r}: missing ']'")
        host, rest = text[1:close], text[close + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"bad address {text!r}")
            port_text = rest[1:]
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    if not host:
        raise ValueError(f"bad address {text!r}: no host")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"bad port {port_text!r}: use a number from 1 to 65535")
    return host, int(port_text)


def default_nick() -> str:
    """The user's login name, made into a valid nickname."""
    try:
        name = os.environ.get("USER") or os.environ.get("USERNAME") or getpass.getuser()
    except (KeyError, OSError):
        name = ""
    nick = re.sub(r"[^\w\[\]\\`^{|}-]", "", name).lstrip("-0123456789")
    return nick[:30] or "guest"


def parse_rooms(text: str) -> tuple[str, ...]:
    rooms = [w for w in text.replace(" ", ",").split(",") if w]
    return tuple(r if r[0] in "#&" else "#" + r for r in rooms)


def make_client(
    label: str,
    nick: str,
    rooms: tuple[str, ...],
    password: str | None,
    account: str | None,
    settings: ClientSettings,
    log_name: str,
) -> IrcClient:
    """The protocol client and model of one network, with the file's settings.

    With an ``account``, ``password`` is the account's (SASL), not the server's.
    """
    model = Model(nick, label)
    model.set_highlights(settings.highlights)
    model.show_joins = settings.show_joins
    model.fold_joins = settings.fold_joins
    model.mouse = settings.mouse
    for mask in settings.ignore:
        model.ignore(mask)
    log_dir = Path(settings.log_dir).expanduser() if settings.log_dir else default_log_dir()
    model.logbook = LogBook(
        log_dir,
        log_name,
        enabled=settings.log,
        # The fold is read at each line: the server's CASEMAPPING arrives after we start.
        fold=lambda name: model.fold(name),  # noqa: PLW0108
        on_error=lambda text: model.error(text, model.server),
    )
    username = re.sub(r"[^A-Za-z0-9]", "", nick)[:10] or "ircish"
    return IrcClient(
        model,
        username=username,
        realname=nick,
        password=None if account else password,
        autojoin=rooms,
        account=account or None,
        account_password=password if account else None,
    )


def build(
    host: str,
    port: int,
    nick: str,
    rooms: tuple[str, ...],
    password: str | None = None,
    account: str | None = None,
    tls: ssl.SSLContext | None = None,
    settings: ClientSettings | None = None,
    server_name: str = "",
    config_path: Path | None = None,
    **app_kw: object,
) -> ChatApp:
    """A ready ``ChatApp`` for ``host:port`` (tests pass input/output/backoff in ``app_kw``).

    With an ``account``, ``password`` is the account's (SASL), not the server's.
    ``settings`` (the config file) give highlights, ignores, logging and colours;
    logs go under ``server_name`` (the entry's name), else ``host_port``;
    ``/save`` writes to ``config_path`` (default: the default file).
    """
    settings = settings or ClientSettings()
    label = f"{host}:{port}"
    log_name = server_name or f"{host}_{port}"
    client = make_client(label, nick, rooms, password, account, settings, log_name)
    client.model.config_path = config_path
    connector = tcp_connector(host, port, tls)
    app = ChatApp(
        client,
        connector,
        label=label,
        name=server_name,
        host=host,
        **app_kw,  # type: ignore[arg-type]
    )
    app.settings = settings
    if settings.colours:
        # The file's theme keys over the built-in style (a later style wins).
        app.application.style = merge_styles([STYLE, Style.from_dict(theme(settings.colours))])
    return app


async def _run(
    host: str, port: int, tls: ssl.SSLContext | None, make_app: Callable[[], ChatApp]
) -> int:
    """Connect first, so a refused connection is one line on a normal terminal."""
    try:
        first = await asyncio.wait_for(tcp_connector(host, port, tls)(), 15)
    except (OSError, TimeoutError) as exc:
        print(f"ircish: cannot connect to {host}:{port}: {describe_error(exc)}", file=sys.stderr)
        return 1
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        first[1].close()
        print("ircish: needs a terminal (stdin and stdout must be a tty)", file=sys.stderr)
        return 2
    app = make_app()
    try:
        await app.run(first)
    finally:
        if app.model.logbook is not None:
            app.model.logbook.close()
    return 0


def pick_target(
    typed: str, settings: ClientSettings, force_tls: bool = False, tls_ca_arg: str | None = None
) -> tuple[str, str, int, ssl.SSLContext | None, ServerEntry | None]:
    """What ``ircish NAME|HOST[:PORT]`` (or ``/connect``) names.

    (entry name or "", host, port, TLS context or None, entry or None);
    ``ValueError`` with a sentence for a bad address or an unusable CA file.
    """
    entry = settings.servers.get(typed)
    name = typed if entry is not None else ""
    if entry is not None:
        use_tls = entry.uses_tls or force_tls or bool(tls_ca_arg)
        host = entry.host
        port = entry.port or (6697 if use_tls else 6667)
    else:
        address, secure = parse_url(typed)
        if secure is False and (force_tls or tls_ca_arg):
            raise ValueError(f"{typed} says irc://, which is plaintext; use ircs:// for TLS")
        use_tls = bool(secure or force_tls or tls_ca_arg)
        host, port = parse_server(address, 6697 if use_tls else 6667)
    tls_ca = tls_ca_arg or (
        str(Path(entry.tls_ca).expanduser()) if entry is not None and entry.tls_ca else None
    )
    tls: ssl.SSLContext | None = None
    if use_tls:
        try:
            tls = ssl.create_default_context(cafile=tls_ca)
        except (OSError, ssl.SSLError) as exc:
            where = "--tls-ca" if tls_ca_arg else f"servers.{name}.tls_ca"
            raise ValueError(f"cannot use {where} {tls_ca}: {describe_error(exc)}") from None
    return name, host, port, tls, entry


def main(argv: list[str] | None = None) -> int:
    """The ``ircish`` console command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except SettingsError as exc:
        print(f"ircish: configuration error: {exc}", file=sys.stderr)
        return 2
    target = args.server if args.server is not None else settings.default_server
    try:
        name, host, port, tls, entry = pick_target(
            target or "127.0.0.1:6667", settings, bool(args.tls), args.tls_ca
        )
    except ValueError as exc:
        print(f"ircish: {exc}", file=sys.stderr)
        return 2
    nick = args.nick or (entry.nick if entry is not None else "") or settings.nick or default_nick()
    if not _NICK_RE.match(nick):
        print(
            f"ircish: {nick!r} is not a valid nickname (letters, digits, []\\`^{{|}}-_)",
            file=sys.stderr,
        )
        return 2
    if args.join is not None:
        rooms = parse_rooms(args.join)
    else:
        rooms = entry.rooms if entry is not None else ("#lobby",)
    account = args.account or (entry.account if entry is not None else "") or None
    password = args.password
    if password is None and entry is not None:
        try:
            password = resolve_password(entry, name)
        except SettingsError as exc:
            print(f"ircish: configuration error: {exc}", file=sys.stderr)
            return 2
    if account and password is None:
        if not sys.stdin.isatty():
            print("ircish: --account needs a password: set IRCISH_PASSWORD", file=sys.stderr)
            return 2
        try:
            password = getpass.getpass(f"Password for {account}: ")
        except (EOFError, KeyboardInterrupt):
            return 130
    try:
        return asyncio.run(
            _run(
                host,
                port,
                tls,
                lambda: build(
                    host,
                    port,
                    nick,
                    rooms,
                    password,
                    account,
                    tls,
                    settings,
                    name,
                    Path(args.config) if args.config else None,
                ),
            )
        )
    except KeyboardInterrupt:
        return 130
