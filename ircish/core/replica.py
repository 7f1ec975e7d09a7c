"""This process's copy of what other processes did: remote users, their rooms, their events.

Theory of operation: another process published a command's envelopes
(``ircish.core.codec``); here each one is applied with the same
``ircish.core.state`` function the other process ran (``join``, ``part``,
``quit``, ``nick``, ...), to remote ``User``s that have no local client, and
then delivered to this process's clients by the ordinary pipeline, keeping
the msgid and time it got where it happened (``Chat.remote``). Nothing is
validated again: the other process did that. The Redis side
(``ircish.net.cluster``) decides what arrives and when; this module never
sees a socket.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ircish.core import accounts, bans, codec, history, state
from ircish.core.events import (
    AccountChange,
    AwayChange,
    Envelope,
    HostChange,
    Invite,
    Join,
    Kick,
    Kill,
    ModeChange,
    NickChange,
    Part,
    Quit,
    ReadMarker,
    RealnameChange,
    ServerNotice,
    ToPeers,
    Topic,
    ToRoom,
    ToUsers,
)
from ircish.core.names import fold
from ircish.core.users import User

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.rooms import Room
    from ircish.core.storage import Storage

log = logging.getLogger("ircish.cluster")

#: Room mode letters that always take an argument in a MODE line (``l`` only when set).
_ARG_ALWAYS = "ovbeIk"
#: Events that name a user besides the actor, by the field holding their nickname.
_TARGETED: dict[type, str] = {Kick: "target", Kill: "target", Invite: "target"}


class Outgoing:
    """One command's published envelopes, with what a replica and the snapshot need."""

    __slots__ = ("items", "rooms", "users")

    def __init__(self) -> None:
        #: Each envelope with its extra (``codec.Extra``: a joiner's status).
        self.items: list[tuple[Envelope, codec.Extra]] = []
        #: Folded names of the rooms whose records changed.
        self.rooms: set[str] = set()
        #: Uids of the users whose records changed -> the user, None once they quit.
        self.users: dict[str, User | None] = {}


def outgoing(chat: Chat, envelopes: list[Envelope]) -> Outgoing:
    """What to publish for a command's stamped envelopes (``Chat.publish``)."""
    out = Outgoing()
    # History's rows go along, so a node that backfills later needs no state of now.
    keep = chat.store is not None
    for env in envelopes:
        event = env.event
        audience = env.audience
        extra: codec.Extra = {}
        actor: User | None = None
        if keep and event.persist:
            extra["h"] = history.keys_of(history.rows(chat, [env]))
        if isinstance(audience, ToRoom):
            out.rooms.add(audience.room)
        if not isinstance(audience, ToPeers):
            # The actor by uid: their nickname can be another user's elsewhere, after an
            # outage, until one of the two is renamed (``_actor``).
            nick = getattr(event, "nick", "")
            actor = chat.users.get(nick) if nick else None
            if actor is not None:
                extra["a"] = actor.uid
            target = _TARGETED.get(type(event))
            if target is not None:
                other = chat.users.get(getattr(event, target))
                if other is not None:
                    extra["t"] = other.uid
        if type(event) is Join:
            room = chat.rooms.by_key(fold(event.room))
            if actor is not None and room is not None:
                extra["s"] = room.members.get(actor, "")
        elif isinstance(audience, ToPeers):
            if type(event) is Quit:
                out.rooms.update(audience.rooms)
                out.users[audience.uid] = None
            elif audience.uid not in out.users:
                out.users[audience.uid] = chat.users.by_uid(audience.uid)
        elif type(event) is ModeChange and isinstance(audience, ToUsers):
            # One's own user modes (+i, +o from OPER): only that user hears of them.
            uid = audience.uids[0]
            out.users.setdefault(uid, chat.users.by_uid(uid))
        out.items.append((env, extra))
    return out


def add_user(chat: Chat, record: dict[str, Any]) -> User | None:
    """A user of another process, from its record; None if the record is bad or the nick taken."""
    try:
        uid = str(record["uid"])
        nick = str(record["nick"])
        existing = chat.users.by_uid(uid)
        if existing is not None:
            return existing
        if chat.users.get(nick) is not None:
            log.warning("a remote user %s has a nickname taken here; not added", uid)
            return None
        user = User(str(record["host"]), float(record["signon"]), uid=uid, ip=str(record["ip"]))
        user.username = str(record["username"])
        user.realname = str(record["realname"])
        user.modes = frozenset(str(record["modes"]))
        away = record["away"]
        user.away = None if away is None else str(away)
        user.account = str(record["account"])
        user.oper = str(record["oper"])
        user.node = str(record["node"])
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("a malformed user record: %s", exc)
        return None
    user.set_nick(nick)
    state.register(chat, user)
    chat.metrics.registrations -= 1  # counted by the process they registered with
    if "o" in user.modes:
        chat.operators += 1
    return user


def apply_shared(chat: Chat, local: Storage, table: str, key: str, value: Any) -> None:
    """A shared record another process wrote (``value``) or deleted (None): into this
    process's own storage ``local`` (not shared again), and what the core keeps of it."""
    if table == "account":
        old = local.account(key)
        if value is None:
            local.delete_account(key)
            if old is not None:
                with chat.outbox():
                    accounts.shared_deleted(chat, old.name)
        else:
            local.save_account(key, value)
            accounts.shared_saved(chat, value.name)
    elif table == "room":
        if value is None:
            local.delete_room(key)
            chat.registered_rooms.discard(key)
        else:
            local.save_room(key, value)
            chat.registered_rooms.add(key)
    elif table == "marker":
        account, _, folded = key.partition(" ")
        if value is None:
            return
        target, when = value
        stored = local.read_marker(account, folded)
        if stored is not None and stored >= when:
            return  # a marker only moves forward
        local.set_read_marker(account, folded, when)
        # Sent to every connection of the account (draft/read-marker), here too.
        with chat.outbox():
            for user in chat.accounts.online.get(account, ()):
                for each in user.clients:
                    if "draft/read-marker" in each.caps:
                        chat.reply(each, ReadMarker(target, when))
    elif table == "ban":
        kind, _, folded = key.partition(" ")
        if value is None:
            local.delete_ban(kind, folded)
            chat.bans.drop(kind, folded)
            return
        local.save_ban(folded, value)
        bans.put_shared(chat, value)
        with chat.outbox():
            bans.enforce(chat, value)
    elif table == "meta":
        if value is None:
            return
        local.save_meta(key, value)


def nick_taken_elsewhere(chat: Chat, user: User, new: str) -> None:
    """The network gave a local user's nickname to a user of another process (taken on
    both while Redis was away): ``user`` is told, and becomes ``new`` as after a NICK."""
    text = (
        f"Your nickname {user.nick} was taken on another server while the network was "
        f"degraded, and that server holds it: you are now {new}."
    )
    for client in user.clients:
        chat.reply(client, ServerNotice(text))
    state.nick(chat, user, new)


def announcement(chat: Chat, user: User) -> list[Envelope]:
    """A local user's rooms as joins, stamped now, to tell the network of them again (a
    replica that has them in the room shows nothing: ``apply``)."""
    now = chat.clock()
    joins = []
    for room in user.rooms.values():
        env = Envelope(
            Join(user.mask, user.nick, room.name, user.account or "*", user.realname),
            room.audience,
        )
        env.time = now
        env.msgid = chat.msgids.mint(now)
        joins.append(env)
    return joins


def node_lost(chat: Chat, node: str, reason: str) -> int:
    """Every user of ``node`` quits (``reason``), seen by local room-mates; returns how many."""
    gone = [u for u in chat.users if u.node == node]
    if not gone:
        return 0
    with chat.outbox():
        for user in gone:
            state.quit(chat, user, reason)
    return len(gone)


def load_snapshot(
    chat: Chat, users: dict[str, dict[str, Any]], rooms: dict[str, dict[str, Any]], own: str
) -> None:
    """Users and rooms of the network as the snapshot in Redis has them (this node's left out)."""
    for record in users.values():
        if record.get("node") != own:
            add_user(chat, record)
    for record in rooms.values():
        try:
            room, _ = chat.rooms.get_or_create(str(record["name"]), chat.clock())
            members = codec.fill_room(room, record)
        except (KeyError, ValueError) as exc:
            log.warning("a malformed room record: %s", exc)
            continue
        for uid, status in members:
            member = chat.users.by_uid(uid)
            if member is not None and member.node and member.node != own:
                room.add_member(member, status)
        chat.rooms.discard_if_empty(room)


def apply(chat: Chat, items: list[tuple[Envelope, codec.Extra]]) -> None:
    """Apply one remote command's envelopes, then deliver them to local clients.

    An envelope that changes nothing here (a join of someone already in the
    room, as a node that was cut off announces its users again) is not shown.
    """
    deliver = [env for env, _ in items]
    afterwards: list[Callable[[], None]] = []
    with chat.remote(deliver):
        for env, extra in items:
            try:
                if not _apply_one(chat, env, extra, afterwards):
                    deliver.remove(env)
            except Exception:
                # A bug applying one event costs that change, not the stream.
                log.exception("could not apply %r", env)
                chat.metrics.internal_errors["cluster"] += 1
    for action in afterwards:
        # Changes to local users, in outboxes of their own: published like any command's.
        with chat.outbox():
            action()


def _actor(chat: Chat, env: Envelope, extra: codec.Extra) -> User | None:
    """Who did it: by uid (the audience's, or the one published with it), else by nick
    (entries written before the uid went with them)."""
    audience = env.audience
    if isinstance(audience, ToPeers):
        return chat.users.by_uid(audience.uid)
    uid = extra.get("a")
    if isinstance(uid, str):
        return chat.users.by_uid(uid)
    nick = getattr(env.event, "nick", "")
    return chat.users.get(nick) if nick else None


def _target(chat: Chat, nick: str, extra: codec.Extra) -> User | None:
    """The user an event names: by the uid published with it, else by nick (as ``_actor``)."""
    uid = extra.get("t")
    if isinstance(uid, str):
        return chat.users.by_uid(uid)
    return chat.users.get(nick)


def _room(chat: Chat, name: str) -> Room | None:
    return chat.rooms.by_key(fold(name))


def _apply_one(
    chat: Chat, env: Envelope, extra: codec.Extra, afterwards: list[Callable[[], None]]
) -> bool:
    """Apply one envelope; False if it is not to be delivered as it is (a repeat that
    changes nothing, or what a local change will tell), with local changes put off
    to ``afterwards``."""
    event = env.event
    user = _actor(chat, env, extra)
    if user is None or not user.node:
        # Someone unknown here, or one of ours (our own events never come back).
        if user is None and (isinstance(env.audience, ToPeers) or type(event) in (Join, Part)):
            # Nobody here shares a room with them as far as this copy knows; a user
            # refused for a nickname taken here shows when announced again.
            return False
        if type(event) is Topic:
            room = _room(chat, event.room)
            if room is not None:
                room.topic, room.topic_by, room.topic_time = event.text, event.source, env.time
        return True
    match event:
        case Join(room=name):
            if fold(name) in user.rooms:
                return False
            room = state.join(chat, user, name)
            status = extra.get("s")
            if isinstance(status, str) and status in ("", "o", "v", "ov"):
                room.members[user] = status
        case Part(room=name, reason=reason):
            room = _room(chat, name)
            if room is not None and user in room.members:
                state.part(chat, user, room, reason)
        case Kick(room=name, target=target, reason=reason):
            room = _room(chat, name)
            victim = _target(chat, target, extra)
            if room is not None and victim is not None and victim in room.members:
                state.kick(chat, user, room, victim, reason)
        case Quit(reason=reason):
            if user.registered:
                state.quit(chat, user, reason)
        case NickChange(new=new):
            if user.registered and not chat.users.taken(new, by=user):
                state.nick(chat, user, new)
        case Topic(room=name, text=text):
            room = _room(chat, name)
            if room is not None:
                state.set_topic(chat, user, room, text)
                room.topic_time = env.time
        case ModeChange(target=target, modes=modes, args=args):
            room = _room(chat, target) if target != user.nick else None
            if room is not None:
                state.change_room_modes(chat, user, room, _room_changes(modes, args))
            elif target == user.nick:
                state.change_user_modes(chat, user, _user_changes(modes))
        case AwayChange(text=text):
            state.away(chat, user, text)
        case RealnameChange(realname=realname):
            state.setname(chat, user, realname)
        case HostChange(username=username, host=host):
            state.chghost(chat, user, username, host)
        case AccountChange(account=account):
            user.account = account
        case Kill(target=target, reason=reason):
            victim = _target(chat, target, extra)
            if victim is not None and not victim.node:
                # An operator elsewhere killed one of ours: they are told, then quit here.
                afterwards.append(functools.partial(state.kill, chat, user, victim, reason))
            return False
        case Invite(target=target, room=name, notify=False):
            invitee = _target(chat, target, extra)
            if invitee is not None:
                state.invite(chat, user, invitee, name, _room(chat, name))
        case _:
            pass
    return True


def _room_changes(modes: str, args: tuple[str, ...]) -> list[state.RoomChange]:
    """A MODE line's letters and arguments back into changes (``change_room_modes``)."""
    out: list[state.RoomChange] = []
    sign = "+"
    queue = list(args)
    for letter in modes:
        if letter in "+-":
            sign = letter
            continue
        takes = letter in _ARG_ALWAYS or (letter == "l" and sign == "+")
        arg = queue.pop(0) if takes and queue else None
        out.append((sign, letter, arg))
    return out


def _user_changes(modes: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    sign = "+"
    for letter in modes:
        if letter in "+-":
            sign = letter
        else:
            out.append((sign, letter))
    return out
