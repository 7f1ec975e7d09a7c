"""The seam between the core and a wire format."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.command import Command, Ignore, ParseError
    from ircish.core.events import Event
    from ircish.core.users import User


class Dialect(Protocol):
    """A line parser plus a renderer. Implementations hold no per-user state."""

    name: str

    def parse(self, line: str, user: User) -> Command | ParseError | Ignore:
        """Turn one decoded line into a command (``user`` gives context, e.g. the current room)."""

    def render(self, event: Event, user: User) -> bytes:
        """Render ``event`` for ``user``; may return ``b""`` for events this dialect hides.

        For broadcast events the result must depend only on ``render_key(user)``.
        """

    def render_key(self, user: User) -> Hashable:
        """What a broadcast's rendering depends on for this user."""

    def start(self, chat: Chat, user: User) -> None:
        """Called once when a connection is assigned this dialect."""

    def max_line_bytes(self, chat: Chat) -> int:
        """The longest line (bytes, without the line ending) the framing must accept."""
