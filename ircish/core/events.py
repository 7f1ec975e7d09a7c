"""Dialect-neutral events: what the core says happened, not how it looks.

Handlers create one event and hand it to ``Chat.send``/``Chat.fanout``; each
recipient's dialect renders it to bytes. Events that go to many users must
render the same for every recipient with the same ``render_key`` (that is what
lets a broadcast be rendered once per dialect). Events that mention the
recipient (numerics, ``Switched``) are only ever sent to one user.

``source`` is the sender's ``nick!user@host`` mask at the time of the event.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Event:
    """Base class; dispatch on ``type(event)``."""


@dataclass(frozen=True, slots=True)
class Numeric(Event):
    """A numeric reply; ``params`` follow the recipient's nickname."""

    code: str
    params: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Privmsg(Event):
    """A message (or notice) from a user to a room or a user.

    CTCP ACTION (``/me``) travels inside ``text`` as ``\\x01ACTION ...\\x01``.
    """

    source: str
    nick: str
    target: str
    text: str
    notice: bool = False


@dataclass(frozen=True, slots=True)
class Join(Event):
    source: str
    nick: str
    room: str
    #: Username and realname, for IRCv3 extended-join.
    account: str = "*"
    realname: str = ""


@dataclass(frozen=True, slots=True)
class Part(Event):
    source: str
    nick: str
    room: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Quit(Event):
    source: str
    nick: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class NickChange(Event):
    source: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class Topic(Event):
    source: str
    nick: str
    room: str
    text: str


@dataclass(frozen=True, slots=True)
class Kick(Event):
    source: str
    nick: str
    room: str
    target: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ModeChange(Event):
    """A mode change on a room or a user, e.g. ``modes="+o"``, ``args=("bob",)``."""

    source: str
    nick: str
    target: str
    modes: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Invite(Event):
    source: str
    nick: str
    target: str
    room: str


@dataclass(frozen=True, slots=True)
class AwayChange(Event):
    """A room-mate went away (``text``) or came back (``None``); IRCv3 away-notify."""

    source: str
    nick: str
    text: str | None


@dataclass(frozen=True, slots=True)
class ServerNotice(Event):
    """Text from the server itself (shutdown warnings, hints)."""

    text: str


@dataclass(frozen=True, slots=True)
class Closing(Event):
    """The server is closing this connection (IRC ``ERROR``)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Ping(Event):
    token: str


@dataclass(frozen=True, slots=True)
class Pong(Event):
    token: str


@dataclass(frozen=True, slots=True)
class CapReply(Event):
    """A ``CAP`` subcommand reply (``LS``, ``ACK``, ``NAK``, ``LIST``)."""

    subcommand: str
    caps: str
    more: bool = False


@dataclass(frozen=True, slots=True)
class Switched(Event):
    """A plain user's current room changed without a join (``/join`` of a joined room)."""

    room: str


@dataclass(frozen=True, slots=True)
class Help(Event):
    """The user asked for help; each dialect has its own help text."""

    topic: str


@dataclass(frozen=True, slots=True)
class Greeting(Event):
    """A new connection was recognised as a human; say how to pick a nickname."""

    server: str
    password: bool = False
