"""One connection's protocol state, without the socket.

Theory of operation: the network layer feeds received bytes to
``receive_data``; the session frames them into lines, picks the dialect from
the first line when the listener is "auto", parses each line and hands the
command to the chat core. Everything the core sends goes to the client's sink.
The session sits above the dialects (it chooses one), so the core never
imports a concrete dialect.
``check_timeouts(now)`` runs the registration, detection, idle and ping
deadlines and returns when it next wants to be called, so the event loop
needs one timer per connection, not one per deadline.

A connection moves through: DETECTING (auto listeners only, until the first
line or the detection deadline) -> UNREGISTERED -> REGISTERED -> closed (the
user is ``quitting``). A first line ``NICK x`` leaves the dialect undecided: the
line is held until the next one (``USER``: IRC; anything else: a human who
knows IRC's verb) or for ``detect_timeout`` (a human, waiting for an answer).
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import Sequence
from time import perf_counter
from typing import Protocol

from ircish.core.chat import Chat
from ircish.core.clients import Sink
from ircish.core.command import Command, Local
from ircish.core.dialect import Dialect
from ircish.core.dispatch import COMMANDS
from ircish.core.events import Ping
from ircish.core.users import User
from ircish.dialects import Dialects
from ircish.errors import CommandError
from ircish.flood import FloodGate
from ircish.metrics import UNKNOWN_COMMAND
from ircish.protocol import numerics as n
from ircish.protocol.framing import Frame, LineBuffer, TooLong

log = logging.getLogger("ircish.session")

_ping_tokens = itertools.count(1)
_DANGEROUS = {0: " ", 0x0D: " "}
#: Longest verb a FAIL reply echoes (the longest command is shorter): longer ones become "*".
_MAX_VERB = 20


#: Lines one connection may have handled in one loop pass; the rest wait for the next.
LINES_PER_PASS = 64
#: Seconds between looks at a pending nickname claim while lines wait behind it.
CLAIM_POLL = 0.002
#: Every session's ``waiting`` while nothing waits: an empty deque costs 600 bytes, and
#: this one can hold nothing (maxlen 0), so sharing it is safe. ``_defer`` sets a deque
#: of the session's own.
_NOTHING_WAITING: deque[Frame] = deque(maxlen=0)


class Transport(Protocol):
    """What flood control needs of the connection (``net.connection.Connection``)."""

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def wake_at(self, deadline: float) -> None:
        """Call the session's ``check_timeouts`` at ``deadline`` (chat clock)."""
        ...


def _verb_of(line: str) -> str:
    """The command of a line that was not parsed, for a FAIL reply; "*" when it has none."""
    words = [w for w in line.split(" ") if w]
    for mark in ("@", ":"):  # tags, then a source
        if words and words[0].startswith(mark):
            words.pop(0)
    verb = words[0].upper() if words else ""
    # Only a real command name may be echoed: anything else could break the reply line.
    if (
        len(verb) <= _MAX_VERB
        and verb.isascii()
        and (verb.isalpha() or (len(verb) == 3 and verb.isdigit()))
    ):
        return verb
    return "*"


def _seconds(value: float) -> str:
    count = int(value)
    return "1 second" if count == 1 else f"{count} seconds"


class Session:
    """Bytes in, commands to the core; timers as plain deadlines."""

    __slots__ = (
        "accepted",
        "awaiting_stream",
        "chat",
        "client",
        "detecting",
        "dialects",
        "flood",
        "flood_on",
        "framing",
        "guessed",
        "held",
        "held_until",
        "paused",
        "ping_sent",
        "transport",
        "waiting",
    )

    def __init__(
        self,
        chat: Chat,
        dialects: Dialects,
        sink: Sink,
        host: str,
        dialect: str = "auto",
        now: float = 0.0,
        transport: Transport | None = None,
        *,
        secure: bool = False,
    ) -> None:
        self.chat = chat
        #: Reading paused and resumed, wake-ups asked for: flood control (None in tests).
        self.transport = transport
        #: The token bucket, from registration on (``ircish.flood``); None: not limited.
        self.flood: FloodGate | None = None
        self.flood_on = chat.config.limits.flood_burst > 0
        #: Lines framed but not yet handled (flood control, the per-pass bound).
        self.waiting: deque[Frame] = _NOTHING_WAITING
        self.paused = False
        self.dialects = dialects
        self.accepted = now
        #: The transport cannot carry the peer's first line yet (a TLS handshake under
        #: way): no one can have typed, so silence says nothing (``stream_started``).
        self.awaiting_stream = False
        self.ping_sent = 0.0
        self.detecting = dialect == "auto"
        #: Plain was chosen because the peer stayed silent; its first line may still say IRC.
        self.guessed = False
        #: A first line ``NICK x``, waiting for the line that says whose it is.
        self.held: bytes | None = None
        self.held_until = 0.0
        first: Dialect = dialects.plain if self.detecting else dialects.by_name(dialect)
        self.client = chat.connect(sink, host, first, now, secure=secure)
        limit = max(dialects.plain.max_line_bytes(chat), dialects.irc.max_line_bytes(chat))
        self.framing = LineBuffer(limit if self.detecting else first.max_line_bytes(chat))
        if not self.detecting:
            with chat.outbox(self.client):
                first.start(chat, self.client)

    @property
    def user(self) -> User:
        return self.client.user

    @property
    def closed(self) -> bool:
        return self.client.quitting

    def _choose(self, dialect: Dialect) -> None:
        self.detecting = False
        self.client.set_dialect(dialect)
        self.framing.max_line = dialect.max_line_bytes(self.chat)
        with self.chat.outbox(self.client):
            dialect.start(self.chat, self.client)

    def receive_data(self, data: bytes) -> None:
        """Handle bytes from the peer (any chunking)."""
        frames = self.framing.feed(data)
        if self.waiting:
            # Behind lines that wait for flood control: keep the order.
            self.waiting.extend(frames)
            self._bound_backlog()
            return
        if frames:
            self._run(frames)

    def _run(self, frames: Sequence[Frame]) -> None:
        """Handle lines until they run out, flood control says wait, or this pass's share ends."""
        client = self.client
        gate = self._gate()
        now = self.chat.clock() if gate is not None else 0.0
        # Only a line that completes registration can bring the gate in mid-run.
        registering = self.flood_on and not client.user.registered
        count = len(frames)
        i = 0
        while i < count:
            if client.quitting:
                return
            if client.claiming:
                # A nickname claim in Redis holds this user's commands (``[cluster]``):
                # the lines after NICK wait for its answer, in order.
                self._defer(deque(frames[i:]), self.chat.clock() + CLAIM_POLL)
                return
            if i >= LINES_PER_PASS:
                # One connection's pipelined lines must not hold the loop: the rest next pass.
                self._defer(deque(frames[i:]), self.chat.clock())
                return
            if gate is not None and not gate.ready(now):
                self.chat.metrics.flood_delays += 1
                self._defer(deque(frames[i:]), gate.ready_at())
                return
            verb = self._frame(frames[i])
            i += 1
            if gate is not None:
                spec = COMMANDS.get(verb)
                gate.charge(spec.cost if spec is not None else 1)
            elif registering and client.user.registered:
                # Registered by this line: the lines after it are limited.
                registering = False
                gate = self._gate()
                now = self.chat.clock()
        if self.paused and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()

    def _gate(self) -> FloodGate | None:
        if not self.flood_on:
            return None
        limits = self.chat.config.limits
        user = self.client.user
        if not user.registered:
            return None
        if limits.flood_exempt_operators and "o" in user.modes:
            return None
        if self.flood is None:
            self.flood = FloodGate(limits.flood_burst, limits.flood_interval, self.chat.clock())
        return self.flood

    def _defer(self, frames: deque[Frame], when: float) -> None:
        """Keep ``frames`` for later (``check_timeouts`` at ``when``) and stop reading meanwhile."""
        self.waiting = frames
        if self.transport is not None:
            if not self.paused:
                self.paused = True
                self.transport.pause_reading()
            self.transport.wake_at(when)
        self._bound_backlog()

    def _bound_backlog(self) -> None:
        # Without flood control the backlog is what one read brought (reading is paused).
        if self._gate() is not None and len(self.waiting) > self.chat.config.limits.flood_backlog:
            self.waiting.clear()
            self.chat.metrics.flood_disconnects += 1
            log.info("%s flooded; disconnecting", self.client.user.mask)
            self.close("Excess Flood")

    def _frame(self, frame: Frame) -> str:
        """Handle one framed line; return the verb of the command it ran ("" for none)."""
        client = self.client
        # Lines framed in the same chunk as the detecting one were framed with the
        # detection limit, so the chosen dialect's limit is checked here as well.
        if isinstance(frame, TooLong) or len(frame) > self.framing.max_line:
            if self.held is not None:
                self._release(self.dialects.plain)
            if self.detecting:
                self._choose(self.dialects.plain)
            with self.chat.outbox(client):
                self.chat.numeric(client, n.ERR_INPUTTOOLONG, n.ERROR_TEXT[n.ERR_INPUTTOOLONG])
            return ""
        if self.detecting or self.guessed:
            if not frame.strip():
                return ""
            if self.held is not None:
                verb = self._release(self.dialects.detect_after_nick(frame))
                if client.quitting:
                    return verb
                return self.receive_line(frame)
            dialect = self.dialects.detect(frame)
            if dialect is None:
                # "NICK x": an IRC client's USER comes at once; a human waits for an answer.
                self.held = frame
                self.held_until = self.chat.clock() + self.chat.config.limits.detect_timeout
                if self.transport is not None:
                    self.transport.wake_at(self.held_until)
                return ""
            self._settle(dialect)
        return self.receive_line(frame)

    def _release(self, dialect: Dialect) -> str:
        """Settle on ``dialect`` and run the held ``NICK x`` line in it."""
        held, self.held = self.held, None
        self._settle(dialect)
        return self.receive_line(held) if held is not None else ""

    def _settle(self, dialect: Dialect) -> None:
        """The first line (or the one after ``NICK x``) says ``dialect``."""
        if self.detecting:
            self._choose(dialect)
            return
        self.guessed = False
        user = self.client.user
        if dialect is not self.client.dialect and not user.registered:
            # An IRC client slower than detect_timeout: undo the human greeting's setup.
            user.username = ""
            user.update_mask()
            self.client.echo_own = False
            self._choose(dialect)

    def receive_line(self, raw: bytes) -> str:
        """Parse and run one line (without its line ending); return its verb ("*": refused)."""
        client = self.client
        chat = self.chat
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            line = raw.decode("utf-8", "replace")
            if client.dialect.utf8_only:
                # UTF8ONLY: refuse rather than relay repaired text.
                with chat.outbox(client):
                    chat.fail(
                        client,
                        _verb_of(line),
                        "INVALID_UTF8",
                        text="Message rejected: it is not valid UTF-8",
                    )
                return "*"
        if "\r" in line or "\0" in line:
            # A bare CR would end the line early in some clients' parsers.
            line = line.translate(_DANGEROUS)
        try:
            command = client.dialect.parse(line, client)
        except CommandError as exc:
            with chat.outbox(client):
                chat.error(client, exc)
            return "*"
        if isinstance(command, Command):
            verb = command.verb
            # One clock pair per command: about 2% of a PRIVMSG's handling (docs/metrics.md).
            started = perf_counter()
            chat.handle(client, command)
            stats = chat.metrics.commands.get(verb)
            if stats is None:
                # Only the command table's verbs become labels: the rest share one.
                stats = chat.metrics.command_stats(verb if verb in COMMANDS else UNKNOWN_COMMAND)
            stats.count += 1
            stats.seconds += perf_counter() - started
            return verb
        if isinstance(command, Local):
            with chat.outbox(client):
                chat.reply(client, command.answer)
            return ""
        return "*"

    def connection_lost(self, reason: str) -> None:
        """The peer went away (EOF, reset, or the server dropped it)."""
        self.chat.disconnect(self.client, reason, tell_user=False)

    def close(self, reason: str) -> None:
        """The server ends this connection, telling the user why."""
        self.chat.disconnect(self.client, reason)

    def stream_started(self, now: float) -> None:
        """The transport carries bytes from now on: a silent peer is judged from here.

        Until then a TLS peer cannot have sent its first line; taking its silence
        for a human would send a netcat greeting to a browser whose handshake was
        slower than ``detect_timeout`` (the greeting would precede its HTTP reply).
        """
        self.awaiting_stream = False
        if self.detecting:
            self.accepted = now

    def check_timeouts(self, now: float) -> float | None:
        """Enforce deadlines; return the next time to call again, or None when closed."""
        if self.waiting:
            waiting, self.waiting = list(self.waiting), _NOTHING_WAITING
            self._run(waiting)
        deadline = self._deadline(now)
        if self.waiting and self.flood is not None and deadline is not None:
            return min(deadline, self.flood.ready_at())
        return deadline

    def _deadline(self, now: float) -> float | None:
        client = self.client
        if client.quitting:
            return None
        limits = self.chat.config.limits
        if self.held is not None:
            if now < self.held_until:
                return self.held_until
            # Nothing followed "NICK x": a human, who is waiting for an answer.
            self._release(self.dialects.plain)
            if client.quitting:
                return None
        if self.detecting and not self.awaiting_stream:
            deadline = self.accepted + limits.detect_timeout
            if now < deadline:
                return deadline
            self._choose(self.dialects.plain)
            self.guessed = True
        if not client.user.registered:
            deadline = self.accepted + limits.registration_timeout
            if now >= deadline:
                self.close("Registration timed out")
                return None
            return deadline
        if client.dialect.keepalive == "ping":
            return self._check_ping(now)
        if limits.idle_timeout:
            deadline = client.last_active + limits.idle_timeout
            if now >= deadline:
                self.close(f"Idle for {_seconds(limits.idle_timeout)}")
                return None
            return deadline
        return None

    def _check_ping(self, now: float) -> float | None:
        client = self.client
        limits = self.chat.config.limits
        if self.ping_sent and client.last_active < self.ping_sent:
            deadline = self.ping_sent + limits.ping_timeout
            if now >= deadline:
                self.close(f"Ping timeout: {_seconds(limits.ping_timeout)}")
                return None
            return deadline
        self.ping_sent = 0.0
        deadline = client.last_active + limits.ping_interval
        if now < deadline:
            return deadline
        self.ping_sent = now
        self.chat.reply(client, Ping(f"{self.chat.server_name}-{next(_ping_tokens)}"))
        return now + limits.ping_timeout
