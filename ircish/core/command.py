"""What a dialect parser produces from one line."""

from __future__ import annotations

from dataclasses import field
from typing import TYPE_CHECKING

from ircish.values import value

if TYPE_CHECKING:
    from ircish.core.events import Event


@value
class Command:
    """A parsed command: an IRC verb (upper case) and its parameters.

    Both dialects produce these: ``/msg bob hi`` from netcat and
    ``PRIVMSG bob :hi`` from an IRC client are the same ``Command``.
    """

    verb: str
    params: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)


@value
class ParseError:
    """The line could not be turned into a command; ``text`` says why, for the user."""

    text: str


@value
class Local:
    """The dialect handled the line itself (a netcat ``/set``); ``answer`` goes to the user."""

    answer: Event


@value
class Ignore:
    """The line needs no action (an empty line, say)."""


IGNORE = Ignore()
