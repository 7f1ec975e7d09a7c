"""The seam between the core and a wire format.

What differs between dialects is data or a method here, never a test of
which dialect a client speaks: keepalive by PING or by idle timeout, a
second try at the server password, the greeting (``start``), strict UTF-8.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client
    from ircish.core.command import Command, Ignore, Local, ParseError
    from ircish.core.events import Envelope


class Dialect(Protocol):
    """A line parser plus a renderer. Implementations hold no per-client state."""

    name: str
    #: "ping": the server PINGs a quiet client; "idle": a quiet client is dropped
    #: after ``limits.idle_timeout`` (0 = never).
    keepalive: Literal["ping", "idle"]
    #: A wrong server password gets another try instead of a disconnect.
    password_retry: bool
    #: Invalid UTF-8 is refused (FAIL ... INVALID_UTF8) rather than repaired.
    utf8_only: bool

    def parse(self, line: str, client: Client) -> Command | ParseError | Ignore | Local:
        """Turn one decoded line into a command (``client`` gives context: the current room)."""

    def render(self, env: Envelope, client: Client) -> bytes:
        """Render an envelope for ``client``; ``b""`` for events this dialect hides.

        For broadcast events the result must depend only on ``render_key(client)``.
        """

    def render_key(self, client: Client) -> Hashable:
        """What a broadcast's rendering depends on for this client."""

    def labeled(self, chunks: list[bytes], label: str, client: Client) -> bytes:
        """Wrap everything one labeled command produced for its client (IRCv3 labeled-response)."""

    def start(self, chat: Chat, client: Client) -> None:
        """Called once when a connection is assigned this dialect."""

    def max_line_bytes(self, chat: Chat) -> int:
        """The longest line (bytes, without the line ending) the framing must accept."""

    def joins_default_room(self, chat: Chat) -> bool:
        """Whether a newly registered client is put in ``server.default_room``."""
