"""What a dialect parser produces from one line."""

from __future__ import annotations

from dataclasses import field

from ircish.values import value


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
class Ignore:
    """The line needs no action (an empty line, say)."""


IGNORE = Ignore()
