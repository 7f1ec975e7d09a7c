"""Errors, split by whose fault they are."""

from __future__ import annotations

from ircish.protocol.numerics import ERROR_TEXT


class IrcishError(Exception):
    """Base of every error ircish raises on purpose."""


class CommandError(IrcishError):
    """A user's command failed in an expected way; becomes one numeric reply.

    ``params`` are the numeric's parameters after the recipient's nick, not
    counting the trailing text, which defaults to the usual wording.
    """

    def __init__(self, code: str, *params: str, text: str | None = None) -> None:
        self.code = code
        self.params = params
        self.text = ERROR_TEXT.get(code, "Error") if text is None else text
        super().__init__(code, *params, self.text)


class StorageError(IrcishError):
    """The database cannot be used (at start): the message names the path and why."""
