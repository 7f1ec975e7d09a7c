"""The wire formats a connection can speak, and how to tell them apart."""

from __future__ import annotations

from dataclasses import dataclass

from ircish.config import Config
from ircish.core.dialect import Dialect
from ircish.dialects.irc import IrcDialect
from ircish.dialects.plain import PlainDialect

#: Verbs that open an IRC connection; a human on netcat types none of these in capitals.
IRC_OPENERS = frozenset({"CAP", "PASS", "USER", "WEBIRC", "PING", "QUIT"})
#: ``NICK x`` alone is also what a human who knows IRC types: it means IRC only when
#: an opener (USER, as every IRC client sends next) follows it.
NICK = "NICK"


@dataclass(frozen=True, slots=True)
class Dialects:
    """One instance of each dialect, built from the config."""

    plain: PlainDialect
    irc: IrcDialect

    @classmethod
    def from_config(cls, config: Config) -> Dialects:
        return cls(PlainDialect(config), IrcDialect(config))

    def reconfigure(self, config: Config) -> None:
        """Use a reloaded configuration (the server's name never changes while running)."""
        self.plain.config = config
        self.irc.config = config

    def by_name(self, name: str) -> Dialect:
        return self.irc if name == "irc" else self.plain

    def detect(self, first_line: bytes) -> Dialect | None:
        """IRC if the first line starts like an IRC client's; a human otherwise.

        None for ``NICK x``: the line after it decides (``detect_after_nick``).
        """
        if first_line.startswith((b"@", b":")):
            return self.irc
        verb = _verb(first_line)
        if verb in IRC_OPENERS:
            return self.irc
        if verb == NICK and first_line[len(NICK) :].strip():
            return None
        return self.plain

    def detect_after_nick(self, line: bytes) -> Dialect:
        """After a first line ``NICK x``: IRC if this line opens IRC too (``USER``)."""
        if line.startswith((b"@", b":")) or _verb(line) in IRC_OPENERS:
            return self.irc
        return self.plain


def _verb(line: bytes) -> str:
    return line.split(b" ", 1)[0].decode("ascii", "replace")
