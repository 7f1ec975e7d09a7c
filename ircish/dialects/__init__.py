"""The wire formats a connection can speak, and how to tell them apart."""

from __future__ import annotations

from dataclasses import dataclass

from ircish.config import Config
from ircish.core.dialect import Dialect
from ircish.dialects.irc import IrcDialect
from ircish.dialects.plain import PlainDialect

#: Verbs an IRC client sends first; a human on netcat types none of these in capitals.
IRC_OPENERS = frozenset({"CAP", "PASS", "NICK", "USER", "WEBIRC", "PING", "QUIT"})


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

    def detect(self, first_line: bytes) -> Dialect:
        """IRC if the first line starts like an IRC client's; otherwise a human."""
        if first_line.startswith((b"@", b":")):
            return self.irc
        verb = first_line.split(b" ", 1)[0]
        if verb.decode("ascii", "replace") in IRC_OPENERS:
            return self.irc
        return self.plain
