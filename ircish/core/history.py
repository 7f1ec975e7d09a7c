"""Which stamped events history keeps, and under which keys.

Theory of operation: when storage is attached, ``record`` is the pipeline's
store hook. It gets the command's persistent envelopes, already stamped, and
turns each into the ``StoredEvent`` rows of every history it belongs to:

- a room event (``ToRoom``): the room's history (owner ""), unless it went to
  a status only (``PRIVMSG @#room`` is not for every member's eyes later);
- a quit or nick change (``ToPeers``): the history of every room the user was
  in when it happened;
- a private message (``ToUsers``: the target, then the sender): one row per
  party, owned by that party ("a:<account>" when logged in, otherwise
  "u:<uid>": that connection's user only, so whoever takes the nickname later
  cannot read it) with the other party's nick as target, kept as
  ``[history] private`` says;
- a message to oneself (``ToSelf``): the sender's own conversation.

The same msgid and time go into every row, so a replay carries exactly the
tags the live copy had.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ircish.core.events import Envelope, ToPeers, ToRoom, ToSelf, ToUsers
from ircish.core.names import fold
from ircish.core.storage import StoredEvent

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.users import User


def owner_key(user: User) -> str:
    """Whose private history a user reads and writes: their account, else this user only.

    A uid is never reused (it names the process and a counter), so a party
    without an account reads their side of a conversation for as long as
    they stay connected, and no later holder of their nickname ever can.
    """
    if user.account:
        return "a:" + fold(user.account)
    return "u:" + user.uid


def account_of(chat: Chat, nick: str) -> str:
    user = chat.users.get(nick) if nick else None
    return user.account if user is not None else ""


def record(chat: Chat, envelopes: list[Envelope]) -> None:
    """The store hook: queue every history row of these envelopes."""
    storage = chat.storage
    if storage is None:
        return
    found = rows(chat, envelopes)
    if found:
        storage.append(found)


def rows(chat: Chat, envelopes: list[Envelope]) -> list[StoredEvent]:
    """Every history row of these (stamped) envelopes, as the current state says."""
    out: list[StoredEvent] = []
    private = chat.config.history.private
    for env in envelopes:
        audience = env.audience
        event = env.event
        nick: str = getattr(event, "nick", "")
        if isinstance(audience, ToRoom):
            if audience.status:
                continue
            out.append(
                StoredEvent(
                    env.msgid, env.time, "", audience.room, event, env.tags, account_of(chat, nick)
                )
            )
        elif isinstance(audience, ToPeers):
            account = chat.users.by_uid(audience.uid)
            name = account.account if account is not None else ""
            out.extend(
                StoredEvent(env.msgid, env.time, "", room, event, env.tags, name)
                for room in audience.rooms
            )
        elif isinstance(audience, ToUsers) and len(audience.uids) == 2 and private != "off":
            target = chat.users.by_uid(audience.uids[0])
            sender = chat.users.by_uid(audience.uids[1])
            if target is None or sender is None:
                continue
            if private == "account" and not (target.account or sender.account):
                continue
            for owner, other in ((sender, target), (target, sender)):
                out.append(
                    StoredEvent(
                        env.msgid,
                        env.time,
                        owner_key(owner),
                        other.folded,
                        event,
                        env.tags,
                        sender.account,
                    )
                )
        elif isinstance(audience, ToSelf) and private != "off":
            user = chat.users.by_uid(audience.uid)
            if user is None or (private == "account" and not user.account):
                continue
            out.append(
                StoredEvent(
                    env.msgid, env.time, owner_key(user), user.folded, event, env.tags, user.account
                )
            )
    return out


def keys_of(found: list[StoredEvent]) -> list[list[str]]:
    """The rows' (owner, target, account), as a stream entry carries them (``from_keys``)."""
    return [[row.owner, row.target, row.account] for row in found]


def from_keys(env: Envelope, keys: object) -> list[StoredEvent]:
    """The rows ``keys_of`` described, for ``env`` (a backfill: no live state needed)."""
    out: list[StoredEvent] = []
    if not isinstance(keys, list):
        return out
    for key in keys:
        if isinstance(key, list) and len(key) == 3 and all(isinstance(k, str) for k in key):
            owner, target, account = key
            out.append(
                StoredEvent(env.msgid, env.time, owner, target, env.event, env.tags, account)
            )
    return out


def prune(chat: Chat, batch: int = 500) -> int:
    """One small batch of retention (``[history] max_age_days``, ``max_per_target``)."""
    storage = chat.storage
    config = chat.config.history
    if storage is None or not (config.max_age_days or config.max_per_target):
        return 0
    return storage.prune(chat.clock(), config.max_age_days * 86400, config.max_per_target, batch)
