"""Dialect-neutral events, their audiences, and the envelope that stamps them.

Theory of operation: a handler describes what happened as an ``Event`` (a
frozen value: who did what) and says who should learn of it with an
``Audience`` (a room, the peers of a user, some users, or the holders of a
user mode). Audiences name rooms and users by key, never by object, so an
event can be stored or sent to another process and resolved there.

The command's outbox wraps each event in an ``Envelope``; when the command
ends, the pipeline (``ircish.core.pipeline``) stamps every envelope once with
the server time and a msgid. Renderers read the envelope's time, msgid and
tags, so every recipient's copy of a broadcast (and a later replay from
history) carries the same tags.

Events that go to many users must render the same for every recipient with
the same ``render_key``. Events that mention the recipient (numerics,
``Switched``) are replies: they go to one client only.

``source`` is the sender's ``nick!user@host`` mask at the time of the event.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any, ClassVar

from ircish.values import value

if TYPE_CHECKING:
    from ircish.core.clients import Client
    from ircish.core.storage import StoredEvent


@value
class Event:
    """Base class; dispatch on ``type(event)``."""

    #: Whether history should keep it (the store hook sees only these).
    persist: ClassVar[bool] = False


# -- audiences ----------------------------------------------------------------


@value
class Audience:
    """Who an event is for; resolved to local clients at delivery."""


@value
class ToRoom(Audience):
    """The members of a room (by folded name), plus users that just left it.

    ``status`` limits delivery to members holding that status or higher
    (``"v"`` or ``"o"``: IRC's STATUSMSG, ``PRIVMSG @#room``); ``exclude``
    leaves users out by uid.
    """

    room: str
    also: tuple[str, ...] = ()
    status: str = ""
    exclude: tuple[str, ...] = ()


@value
class ToPeers(Audience):
    """Everyone sharing a room with user ``uid`` (rooms snapshotted when minted).

    ``watchers`` adds MONITOR watchers that negotiated ``extended-monitor``.
    """

    uid: str
    rooms: tuple[str, ...]
    include_self: bool = False
    watchers: bool = False


@value
class ToUsers(Audience):
    """Some users by uid (a private message: the target and the sender)."""

    uids: tuple[str, ...]


@value
class ToUserMode(Audience):
    """Every user with a user mode (``"w"`` for WALLOPS, ``"o"`` for operators)."""

    mode: str


class Envelope:
    """One outgoing event: its audience, or the one client a reply is for.

    Mutable only while the pipeline runs: ``stamp`` fills ``time`` and
    ``msgid`` once; nothing changes them afterwards.
    """

    __slots__ = ("account", "audience", "client", "echo", "event", "msgid", "tags", "time")

    def __init__(
        self,
        event: Event,
        audience: Audience | None = None,
        client: Client | None = None,
        tags: tuple[tuple[str, str], ...] = (),
        echo: bool = False,
        account: str = "",
    ) -> None:
        self.event = event
        self.audience = audience
        #: For replies: the client it is for (the command's, or a timer's).
        self.client = client
        #: Tags shown to ``message-tags`` clients: client-only tags, ``bot``.
        self.tags = tags
        #: A message: the sending client gets it only with ``echo-message``.
        self.echo = echo
        #: The sender's account ("" for none): the IRCv3 ``account`` tag (account-tag).
        self.account = account
        self.time = 0.0
        self.msgid = ""

    def __repr__(self) -> str:
        return f"<Envelope {self.event!r} -> {self.audience or self.client!r} {self.msgid}>"


# -- events -------------------------------------------------------------------


@value
class Numeric(Event):
    """A numeric reply; ``params`` follow the recipient's nickname."""

    code: str
    params: tuple[str, ...]


@value
class Burst(Event):
    """Numeric replies sent one after another that are the same for every client until
    the config changes (002-005 and the MOTD of the welcome): made once, so that a
    dialect may render one once and keep it (by identity)."""

    numerics: tuple[Numeric, ...]


@value
class StandardReply(Event):
    """IRCv3 standard replies: ``FAIL``/``WARN``/``NOTE <command> <code> [context...] :text``."""

    kind: str
    command: str
    code: str
    context: tuple[str, ...]
    text: str


@value
class Privmsg(Event):
    """A message (or notice) from a user to a room or a user.

    CTCP ACTION (``/me``) travels inside ``text`` as ``\\x01ACTION ...\\x01``.
    ``target`` is what the recipient sees: ``#room``, ``@#room`` or a nick.
    """

    persist: ClassVar[bool] = True

    source: str
    nick: str
    target: str
    text: str
    notice: bool = False


@value
class TagMsg(Event):
    """IRCv3 ``TAGMSG``: only tags (typing indicators, reactions); humans never see it."""

    persist: ClassVar[bool] = True

    source: str
    nick: str
    target: str


@value
class Multiline(Event):
    """An IRCv3 ``draft/multiline`` message: several lines delivered as one.

    ``concat`` marks the lines that continue the previous one without a line
    break (``draft/multiline-concat``).
    """

    persist: ClassVar[bool] = True

    source: str
    nick: str
    target: str
    lines: tuple[str, ...]
    concat: tuple[bool, ...]
    notice: bool = False


@value
class Join(Event):
    persist: ClassVar[bool] = True

    source: str
    nick: str
    room: str
    #: Account and realname, for IRCv3 extended-join.
    account: str = "*"
    realname: str = ""


@value
class Part(Event):
    persist: ClassVar[bool] = True

    source: str
    nick: str
    room: str
    reason: str = ""


@value
class Quit(Event):
    persist: ClassVar[bool] = True

    source: str
    nick: str
    reason: str = ""


@value
class NickChange(Event):
    persist: ClassVar[bool] = True

    source: str
    old: str
    new: str


@value
class Topic(Event):
    persist: ClassVar[bool] = True

    source: str
    nick: str
    room: str
    text: str


@value
class Kick(Event):
    persist: ClassVar[bool] = True

    source: str
    nick: str
    room: str
    target: str
    reason: str = ""


@value
class ModeChange(Event):
    """A mode change on a room or a user, e.g. ``modes="+o"``, ``args=("bob",)``."""

    persist: ClassVar[bool] = True

    source: str
    nick: str
    target: str
    modes: str
    args: tuple[str, ...] = ()


@value
class Invite(Event):
    """An invitation to ``target``; with ``notify``, the copy room operators see."""

    source: str
    nick: str
    target: str
    room: str
    notify: bool = False


@value
class AwayChange(Event):
    """A room-mate went away (``text``) or came back (``None``); IRCv3 away-notify."""

    source: str
    nick: str
    text: str | None


@value
class RealnameChange(Event):
    """IRCv3 ``setname``: a user changed their realname."""

    source: str
    nick: str
    realname: str


@value
class HostChange(Event):
    """IRCv3 ``chghost``: a user's username or host changed."""

    source: str
    nick: str
    username: str
    host: str


@value
class Wallops(Event):
    """A message to every user with mode +w, from an operator or the server."""

    source: str
    nick: str
    text: str


@value
class ServerNotice(Event):
    """Text from the server itself (shutdown warnings, hints)."""

    text: str


@value
class ServiceReply(Event):
    """A reply from a built-in service (``NickServ``, ``ChanServ``) to one user."""

    service: str
    text: str
    #: The wording for people on netcat when it differs ("room" for IRC's "channel").
    human: str = ""


@value
class AccountChange(Event):
    """A user logged in to ``account``, or out (""): IRCv3 account-notify."""

    source: str
    nick: str
    account: str


@value
class Authenticate(Event):
    """One ``AUTHENTICATE`` line of a SASL exchange from the server (``+``: empty)."""

    data: str


@value
class AccountReply(Event):
    """A success line of IRCv3 account-registration: ``REGISTER SUCCESS <account> :text``."""

    command: str
    status: str
    account: str
    text: str


@value
class Closing(Event):
    """The server is closing this connection (IRC ``ERROR``)."""

    reason: str


@value
class Ping(Event):
    token: str


@value
class Pong(Event):
    token: str


@value
class CapReply(Event):
    """A ``CAP`` subcommand reply (``LS``, ``ACK``, ``NAK``, ``LIST``, ``NEW``, ``DEL``)."""

    subcommand: str
    caps: str
    more: bool = False


@value
class Switched(Event):
    """A plain user's current room changed: a join, ``/join`` of a joined room, leaving it."""

    room: str


@value
class Help(Event):
    """The user asked for help; each dialect has its own help text."""

    topic: str


@value
class Greeting(Event):
    """A new connection was recognised as a human; say how to pick a nickname."""

    server: str
    password: bool = False


@value
class Kill(Event):
    """An operator is disconnecting ``target``; told to the victim before its ``Closing``."""

    source: str
    nick: str
    target: str
    reason: str


@value
class History(Event):
    """Events given back from history to one client, each with its original msgid and time.

    IRC clients get the original lines, inside a ``batch`` of type ``batch``
    (``chathistory``) naming ``target`` when they negotiated ``batch`` (an empty
    ``batch``: never in one); netcat users get one line per event marked with
    where and when it happened (``[#rust 14:02] <bob> hi``).
    """

    target: str
    items: tuple[StoredEvent, ...]
    batch: str = "chathistory"


@value
class HistoryTargets(Event):
    """``CHATHISTORY TARGETS``: conversations with activity, and the time of the latest."""

    targets: tuple[tuple[str, float], ...]


@value
class ReadMarker(Event):
    """IRCv3 ``draft/read-marker``: how far an account has read a conversation (None: unknown)."""

    target: str
    time: float | None


@value
class ToSelf(Audience):
    """A message user ``uid`` sent to themself: every one of their clients receives it.

    The sending client gets it as delivered (never labeled), and with
    ``echo-message`` its echo as well (IRCv3 labeled-response).
    """

    uid: str


@value
class Ack(Event):
    """IRCv3 labeled-response ``ACK``: a labeled command had nothing to answer."""


# -- persistence ----------------------------------------------------------------


def _classes(base: type) -> dict[str, type[Any]]:
    # From the module, not __subclasses__(): a slots dataclass replaces its
    # class, and the replaced one would still be listed there.
    return {
        name: value
        for name, value in globals().items()
        if isinstance(value, type) and issubclass(value, base) and value is not base
    }


def persistent_types() -> dict[str, type[Event]]:
    """The event types history keeps, by class name (their name in storage)."""
    return {name: cls for name, cls in _classes(Event).items() if cls.persist}


def encode_event(event: Event | Audience) -> tuple[str, list[Any]]:
    """An event (or an audience) as (type name, field values): what storage writes (as JSON).

    Fields are read by name, not with ``dataclasses.astuple``, which deep-copies
    every value: this runs once per stored message.
    """
    cls = type(event)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return cls.__name__, [getattr(event, name) for name in names]


def decode_event(kind: str, values: list[Any], types: dict[str, type[Any]] | None = None) -> Any:
    """The value ``encode_event`` gave (from ``types``, by default the persistent events);
    lists come back as tuples. Raises ValueError."""
    cls = (_PERSISTENT if types is None else types).get(kind)
    if cls is None:
        raise ValueError(f"unknown stored event type {kind!r}")
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    if len(values) != len(names):
        raise ValueError(f"stored {kind} has {len(values)} fields, not {len(names)}")
    args = [tuple(v) if isinstance(v, list) else v for v in values]
    return cls(*args)


_PERSISTENT = persistent_types()
#: Every event type and every audience type, by class name (events between processes).
EVENT_TYPES: dict[str, type[Any]] = _classes(Event)
AUDIENCE_TYPES: dict[str, type[Any]] = _classes(Audience)
_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {}
