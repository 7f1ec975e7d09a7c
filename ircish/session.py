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
user is ``quitting``).
"""

from __future__ import annotations

import itertools
import logging

from ircish.core.chat import Chat
from ircish.core.clients import Sink
from ircish.core.command import Command
from ircish.core.dialect import Dialect
from ircish.core.events import Ping
from ircish.core.users import User
from ircish.dialects import Dialects
from ircish.errors import CommandError
from ircish.protocol import numerics as n
from ircish.protocol.framing import LineBuffer, TooLong

log = logging.getLogger("ircish.session")

_ping_tokens = itertools.count(1)
_DANGEROUS = {0: " ", 0x0D: " "}


def _verb_of(line: str) -> str:
    """The command of a line that was not parsed, for a FAIL reply; "*" when it has none."""
    words = [w for w in line.split(" ") if w]
    for mark in ("@", ":"):  # tags, then a source
        if words and words[0].startswith(mark):
            words.pop(0)
    verb = words[0].upper() if words else ""
    # Only a real command name may be echoed: anything else could break the reply line.
    if verb.isascii() and (verb.isalpha() or (len(verb) == 3 and verb.isdigit())):
        return verb
    return "*"


def _seconds(value: float) -> str:
    count = int(value)
    return "1 second" if count == 1 else f"{count} seconds"


class Session:
    """Bytes in, commands to the core; timers as plain deadlines."""

    __slots__ = (
        "accepted",
        "chat",
        "client",
        "detecting",
        "dialects",
        "framing",
        "guessed",
        "ping_sent",
    )

    def __init__(
        self,
        chat: Chat,
        dialects: Dialects,
        sink: Sink,
        host: str,
        dialect: str = "auto",
        now: float = 0.0,
    ) -> None:
        self.chat = chat
        self.dialects = dialects
        self.accepted = now
        self.ping_sent = 0.0
        self.detecting = dialect == "auto"
        #: Plain was chosen because the peer stayed silent; its first line may still say IRC.
        self.guessed = False
        first: Dialect = dialects.plain if self.detecting else dialects.by_name(dialect)
        self.client = chat.connect(sink, host, first, now)
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
        client = self.client
        for frame in self.framing.feed(data):
            if client.quitting:
                return
            # Lines framed in the same chunk as the detecting one were framed with the
            # detection limit, so the chosen dialect's limit is checked here as well.
            if isinstance(frame, TooLong) or len(frame) > self.framing.max_line:
                if self.detecting:
                    self._choose(self.dialects.plain)
                with self.chat.outbox(client):
                    self.chat.numeric(client, n.ERR_INPUTTOOLONG, n.ERROR_TEXT[n.ERR_INPUTTOOLONG])
                continue
            if self.detecting or self.guessed:
                if not frame.strip():
                    continue
                self._detect(frame)
            self.receive_line(frame)

    def _detect(self, first: bytes) -> None:
        dialect = self.dialects.detect(first)
        if self.detecting:
            self._choose(dialect)
            return
        self.guessed = False
        user = self.client.user
        if dialect is not self.client.dialect and not user.registered:
            # An IRC client slower than detect_timeout: undo the human greeting's setup.
            user.username = ""
            user.update_mask()
            self._choose(dialect)

    def receive_line(self, raw: bytes) -> None:
        """Parse and run one line (without its line ending)."""
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
                return
        if "\r" in line or "\0" in line:
            # A bare CR would end the line early in some clients' parsers.
            line = line.translate(_DANGEROUS)
        try:
            command = client.dialect.parse(line, client)
        except CommandError as exc:
            with chat.outbox(client):
                chat.error(client, exc)
            return
        if isinstance(command, Command):
            chat.handle(client, command)

    def connection_lost(self, reason: str) -> None:
        """The peer went away (EOF, reset, or the server dropped it)."""
        self.chat.disconnect(self.client, reason, tell_user=False)

    def close(self, reason: str) -> None:
        """The server ends this connection, telling the user why."""
        self.chat.disconnect(self.client, reason)

    def check_timeouts(self, now: float) -> float | None:
        """Enforce deadlines; return the next time to call again, or None when closed."""
        client = self.client
        if client.quitting:
            return None
        limits = self.chat.config.limits
        if self.detecting:
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
