"""What the core needs of persistent storage: accounts, rooms, history, server bans.

Theory of operation: the core never touches a disk. It talks to one object
with this interface, plugged in when the server starts (``Chat.storage``):
SQLite is the embedded default (``ircish.storage.sqlite``); the cluster
issue adds Redis behind the same methods. Without storage (``None``, the
in-memory tests and ``[storage] path = ""``), accounts and history are off.

Writes are buffered and made durable in groups: ``append``, ``save_*`` and
``delete_*`` only queue; the network layer calls ``commit`` once per loop
pass, or once per ``[storage] commit_interval`` for the passes in between,
*before* it writes any byte of those passes to a socket, so whatever a
client has received is on disk. Reads see the queued writes.

Everything here is called on the loop thread and must return quickly:
history reads are indexed and bounded by their ``limit``. A storage that
fails at run time (disk full) logs it, sets ``available`` to False and keeps
answering reads with what it has; the chat keeps going without history.

Keys are already case-folded by the caller. History is kept per *target
key*: a room's folded name, or, for private messages, the owner's key and
the correspondent's folded nick (see ``ircish.core.history``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ircish.core.events import Event


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One event as history keeps it and gives it back (same msgid, same time)."""

    msgid: str
    #: Server time of the event, in seconds (millisecond precision).
    time: float
    #: "" for a room's history; for private messages the owner's key ("a:account" or "u:uid").
    owner: str
    #: Folded room name, or the correspondent's folded nick.
    target: str
    event: Event
    #: Tags shown to message-tags clients (client-only tags, ``bot``).
    tags: tuple[tuple[str, str], ...] = ()
    #: The sender's account, "" for none (IRCv3 account-tag on replay).
    account: str = ""


@dataclass(slots=True)
class Account:
    """A registered account; ``name`` is the nickname it protects, as registered."""

    name: str
    #: argon2id hash (``ircish.core.passwords``); never the password.
    password_hash: str
    #: SCRAM-SHA-256 credentials as scramp makes them: "salt:stored_key:server_key:iterations"
    #: (base64 parts), so SASL SCRAM works without knowing the password.
    scram: str
    email: str = ""
    verified: bool = True
    created: float = 0.0
    #: When a client of this account last went away (private messages missed since then).
    last_seen: float = 0.0


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One ban, exception or invite-exception mask of a registered room."""

    mask: str
    set_by: str
    set_at: float


@dataclass(slots=True)
class RoomRecord:
    """A registered room: what it keeps across restarts."""

    name: str
    #: Account name of the founder.
    founder: str
    created: float = 0.0
    topic: str = ""
    topic_by: str = ""
    topic_time: float = 0.0
    #: Mode letters without arguments (e.g. "nt"), and the key and limit.
    modes: str = ""
    key: str = ""
    limit: int = 0
    #: List letter ("b", "e", "I") -> entries.
    lists: dict[str, list[ListEntry]] = field(default_factory=dict)
    #: Folded account name -> status letter applied on join ("o" or "v").
    access: dict[str, str] = field(default_factory=dict)
    #: The account the founder offered the room to (ChanServ TRANSFER), until it accepts.
    transfer_to: str = ""


@dataclass(frozen=True, slots=True)
class ServerBan:
    """A K-line (``kind`` "K": a ``nick!user@host`` glob) or a D-line ("D": an IP or CIDR)."""

    kind: str
    #: K: the canonical mask as set; D: the address or network as shown (``10.0.0.0/8``).
    mask: str
    reason: str
    #: The nickname of the operator who set it.
    set_by: str
    set_at: float
    #: When it stops applying; 0 for never.
    expires: float = 0.0


class Storage(Protocol):
    """The storage seam (see the module docstring)."""

    #: False after a write failed at run time: history is unavailable until restart.
    available: bool

    # -- durability -------------------------------------------------------------

    @property
    def uncommitted(self) -> bool:
        """Whether writes are queued that ``commit`` has not made durable yet."""
        ...

    def commit(self) -> None:
        """Make every queued write durable (one transaction); never raises."""
        ...

    def close(self) -> None:
        """Commit and release the database."""
        ...

    # -- history ----------------------------------------------------------------

    def append(self, events: list[StoredEvent]) -> None:
        """Queue events for history."""
        ...

    def time_of(self, owner: str, target: str, msgid: str) -> float | None:
        """The time of the event ``msgid`` in that history, or None if it is not there."""
        ...

    def query(
        self,
        owner: str,
        target: str,
        *,
        after: float | None = None,
        before: float | None = None,
        limit: int,
        latest: bool,
    ) -> list[StoredEvent]:
        """Events strictly between ``after`` and ``before`` (None: unbounded), oldest first.

        ``latest`` picks the ``limit`` newest of them, otherwise the oldest.
        """
        ...

    def targets(
        self, owner: str, rooms: list[str], after: float, before: float, limit: int
    ) -> list[tuple[str, float]]:
        """(target, time of its latest event) for the owner's private conversations and
        ``rooms``, with activity strictly between the times; newest activity last."""
        ...

    def search(
        self,
        owner: str,
        rooms: list[str],
        text: str,
        *,
        target: str | None = None,
        nick: str | None = None,
        limit: int,
    ) -> list[StoredEvent]:
        """Messages whose text contains every word of ``text`` (full text), newest last,
        in the owner's conversations and ``rooms`` (or just ``target``), from ``nick`` if
        given."""
        ...

    def prune(self, now: float, max_age: float, max_per_target: int, batch: int) -> int:
        """Delete at most ``batch`` events older than ``max_age`` seconds (0: no limit) or
        beyond the newest ``max_per_target`` of their history (0: no limit); return how many."""
        ...

    # -- accounts ---------------------------------------------------------------

    def account(self, folded: str) -> Account | None: ...

    def account_names(self) -> list[str]:
        """Every account's name, as registered (read once, for the look-alike index)."""
        ...

    def save_account(self, folded: str, account: Account) -> None: ...

    def delete_account(self, folded: str) -> None:
        """Forget the account, its read markers and its private history."""
        ...

    # -- registered rooms -------------------------------------------------------

    def room(self, folded: str) -> RoomRecord | None: ...

    def rooms(self) -> list[RoomRecord]: ...

    def save_room(self, folded: str, room: RoomRecord) -> None: ...

    def delete_room(self, folded: str) -> None: ...

    # -- read markers (IRCv3 draft/read-marker) -----------------------------------

    def read_marker(self, account: str, target: str) -> float | None: ...

    def set_read_marker(self, account: str, target: str, time: float) -> None: ...

    # -- server bans (K-lines and D-lines) ------------------------------------------

    def bans(self) -> list[ServerBan]:
        """Every stored ban, expired ones included (the caller drops those)."""
        ...

    def save_ban(self, key: str, ban: ServerBan) -> None:
        """Add or replace the ban of that kind under ``key`` (its folded mask or network)."""
        ...

    def delete_ban(self, kind: str, key: str) -> None: ...

    # -- small server settings (the generated cloak secret) --------------------------

    def meta(self, key: str) -> str | None: ...

    def save_meta(self, key: str, value: str) -> None: ...
