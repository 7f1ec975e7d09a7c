"""The delivery pipeline: one command's outbox, stamped, stored, published, delivered.

Theory of operation (after ergo's per-command ResponseBuffer): while a
command runs, its handler only adds to the command's ``Outbox``: events for
audiences (``Chat.emit``) and replies for one client (``Chat.reply``). No
byte is written. When the command ends, ``run`` takes the outbox through
fixed stages:

1. **stamp**: one time from the chat's clock for the whole command, and a
   msgid for every event others see;
2. **store**: events whose type persists go to the store hook (history);
3. **publish**: every event goes to the publish hook (other processes);
4. **deliver**: each audience is resolved to local clients and each event is
   rendered once per render key; the same bytes go to every client of a key;
5. **label**: with IRCv3 labeled-response, whatever the command's own client
   got is wrapped as one response (one labeled line, one labeled batch, a
   ``labeled-response`` batch, or ``ACK``); labels over 64 bytes are ignored;
6. **close**: clients that must go are closed after their last line is queued.

Items are delivered in the order they were added, so each recipient sees a
command's output in the order the handler produced it.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Callable, Hashable, Iterator
from typing import TYPE_CHECKING

from ircish.core.caps import MAX_LABEL_BYTES
from ircish.core.events import (
    Ack,
    Envelope,
    Multiline,
    Numeric,
    Privmsg,
    StandardReply,
    ToPeers,
    ToRoom,
    ToSelf,
    ToUserMode,
    ToUsers,
)
from ircish.metrics import ERROR_NUMERICS

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client
    from ircish.core.users import User

log = logging.getLogger("ircish.core")

#: Hooks the later layers plug in: history (store) and other processes (publish).
Hook = Callable[[list[Envelope]], None]

#: What ``chat.metrics.messages`` counts: PRIVMSG and NOTICE, alone or as a multiline batch.
_MESSAGES = (Privmsg, Multiline)


class MsgIdMinter:
    """Message ids unique for all time, URL-safe and sortable by creation time.

    29 lowercase hex digits: 44 bits of milliseconds (good until the year
    2527), 40 random bits fixed per process (so two processes, or a restart
    within the same millisecond, never collide), and a 32-bit counter. Fixed
    widths keep string order equal to time order. This runs once per message,
    so the first 21 digits are formatted once per millisecond and the counter
    with ``hex`` (a third of the cost of a format spec).
    """

    __slots__ = ("_counter", "_ms", "_prefix", "_salt")

    def __init__(self) -> None:
        self._salt = os.urandom(5).hex()
        self._counter = self._counter_from(int.from_bytes(os.urandom(2), "big"))
        self._ms = -1
        self._prefix = ""

    @staticmethod
    def _counter_from(start: int) -> Iterator[int]:
        # A leading 1 digit that ``mint`` slices off keeps the hex width fixed at 8.
        return itertools.count(0x1_0000_0000 + start)

    def mint(self, now: float) -> str:
        ms = int(now * 1000)
        if ms != self._ms:
            self._ms = ms
            self._prefix = f"{ms:011x}{self._salt}"
        n = next(self._counter)
        if n > 0x1_FFFF_FFFF:
            self._counter = self._counter_from(1)
            n = 0x1_0000_0000
        return self._prefix + hex(n)[3:]


class Outbox:
    """Everything one command (or one timer, or shutdown) produced, in order."""

    __slots__ = ("client", "closing", "depth", "items", "label", "remote")

    def __init__(self, client: Client | None, label: str = "") -> None:
        #: The client whose command this is (None for server-initiated work).
        self.client = client
        #: The IRCv3 label of the command, when its client negotiated labeled-response.
        self.label = label
        self.items: list[Envelope] = []
        self.closing: list[Client] = []
        self.depth = 1
        #: Events from another process (``Chat.remote``): already stamped, never published.
        self.remote = False


def run(chat: Chat, out: Outbox) -> None:
    """Take one finished outbox through the stages (see the module docstring)."""
    items = out.items
    origin = out.client
    label = out.label
    try:
        if label and len(label.encode("utf-8", "replace")) > MAX_LABEL_BYTES:
            label = ""
        capture: list[bytes] | None = [] if label and origin is not None else None
        if not items:
            if capture is not None and origin is not None:
                _respond(origin, capture, label, chat.clock())
            return
        now = chat.clock()
        metrics = chat.metrics
        if out.remote:
            # Stamped where they happened; only the local replies they caused get a time.
            for env in items:
                if env.audience is None:
                    env.time = now
        else:
            mint = chat.msgids.mint
            for env in items:
                env.time = now
                if env.audience is not None:
                    env.msgid = mint(now)
                    if type(env.event) in _MESSAGES:
                        metrics.messages += 1
        if chat.store is not None:
            persist = [e for e in items if e.audience is not None and e.event.persist]
            if persist:
                chat.store(persist)
        if chat.publish is not None and not out.remote:
            shared = [e for e in items if e.audience is not None]
            if shared:
                chat.publish(shared)
        for env in items:
            try:
                if env.audience is not None:
                    metrics.deliveries += deliver(chat, env, origin, capture)
                    continue
                client = env.client
                if client is None:
                    continue
                event = env.event
                if type(event) is Numeric:
                    if event.code in ERROR_NUMERICS:
                        metrics.error_replies[event.code] += 1
                elif type(event) is StandardReply and event.kind == "FAIL":
                    metrics.error_replies[event.code] += 1
                data = client.dialect.render(env, client)
                if data:
                    if capture is not None and client is origin:
                        capture.append(data)
                    else:
                        client.sink.write(data)
            except Exception:
                # A rendering bug costs this item, not the rest of the command's output.
                log.exception("could not deliver %r", env)
                metrics.internal_errors["delivery"] += 1
        if capture is not None and origin is not None:
            _respond(origin, capture, label, now)
    finally:
        # Even after a failure: a client left open here would never be closed.
        if out.closing:
            for client in out.closing:
                client.sink.close()
        if chat.order is not None:
            chat.order.done()


def _respond(origin: Client, capture: list[bytes], label: str, now: float) -> None:
    """Send what a labeled command produced as its one labeled response."""
    if not capture:
        # A labeled command that normally has no answer gets ACK (IRCv3 labeled-response).
        ack = Envelope(Ack(), client=origin)
        ack.time = now
        data = origin.dialect.render(ack, origin)
        if data:
            capture.append(data)
    origin.sink.write(origin.dialect.labeled(capture, label, origin))


def deliver(
    chat: Chat, env: Envelope, origin: Client | None, capture: list[bytes] | None = None
) -> int:
    """Resolve ``env``'s audience to local clients and write each one's rendering.

    The command's own client is handled apart: it gets a message only with
    echo-message (and then even when the audience leaves it out: a room it
    is not in, a status it lacks), and under labeled-response its copy joins
    the response. A netcat user with ``/set echo on`` gets a copy rendered for
    them alone (``[to bob] <alice> hi``), after everyone else's. Returns the
    number of copies written or captured (metrics).
    """
    copies = 0
    skip: Client | None = None
    origin_wants = False
    # An echo still owed to the sender (IRCv3 echo-message: the server MUST send it back).
    echo_owed = False
    # The sender's own line, shown back to a netcat user (never twice: they are skipped).
    own: Client | None = None
    if origin is not None:
        echo_refused = env.echo and "echo-message" not in origin.caps
        if echo_refused or capture is not None:
            skip = origin
            origin_wants = capture is not None and not echo_refused
        echo_owed = env.echo and not echo_refused
        if echo_refused and origin.echo_own:
            own = origin
    audience = env.audience
    if isinstance(audience, ToRoom) and not audience.status and not audience.exclude:
        room = chat.rooms.by_key(audience.room)
        if room is not None:
            # The hot path: one rendering per render key, then appends only.
            for group in room.targets().values():
                first = group[0]
                data = first.dialect.render(env, first)
                if data:
                    for client in group:
                        if client is not skip:
                            client.sink.write(data)
                    copies += len(group)
                elif skip is not None and first.render_key == skip.render_key:
                    copies += 1  # skip's group got nothing: balances the one taken back below
            if origin is not None and origin.user in room.members:
                if skip is not None:
                    copies -= 1  # skip (the origin) is in a group but was not written to
                echo_owed = False
                if origin_wants:
                    copies += _capture(env, origin, capture)
                    origin_wants = False
        if not audience.also:
            if echo_owed and origin is not None:
                copies += _echo(env, origin, capture)
            if own is not None:
                copies += _echo(env, own, capture)
            return copies
        recipients: list[Client] = []
        for uid in audience.also:
            recipients.extend(_clients_of(chat.users.by_uid(uid)))
    elif isinstance(audience, ToSelf) and origin is not None and origin.user.uid == audience.uid:
        return _deliver_to_self(env, origin, capture)
    elif isinstance(audience, ToUsers):
        # Private messages: a target and the sender, looked up by uid.
        by_uid = chat.users.by_uid
        recipients = []
        for uid in dict.fromkeys(audience.uids):  # two users never share a client
            user = by_uid(uid)
            if user is not None:
                recipients += user.clients
    else:
        recipients = resolve(chat, env)
    cache: dict[Hashable, bytes] = {}
    for client in recipients:
        if client is origin:
            echo_owed = False
        if client is skip:
            if origin_wants:
                copies += _capture(env, client, capture)
                origin_wants = False
            continue
        key = client.render_key
        cached = cache.get(key)
        if cached is None:
            cached = cache[key] = client.dialect.render(env, client)
        if cached:
            client.sink.write(cached)
            copies += 1
    if echo_owed and origin is not None:
        copies += _echo(env, origin, capture)
    if own is not None:
        copies += _echo(env, own, capture)
    return copies


def _echo(env: Envelope, origin: Client, capture: list[bytes] | None) -> int:
    """The echo owed to a sender whom the audience left out; 1 if it was sent."""
    data = origin.dialect.render(env, origin)
    if not data:
        return 0
    if capture is not None:
        capture.append(data)
    else:
        origin.sink.write(data)
    return 1


def _deliver_to_self(env: Envelope, origin: Client, capture: list[bytes] | None) -> int:
    """A message the origin's user sent to themself; returns the copies sent.

    Every client of the user gets it as delivered mail, unlabeled; with
    echo-message the sending client gets its echo as well, and only the echo
    is the command's (labeled) response.
    """
    copies = 0
    for client in origin.user.clients:
        data = client.dialect.render(env, client)
        if data:
            client.sink.write(data)
            copies += 1
    if "echo-message" in origin.caps:
        data = origin.dialect.render(env, origin)
        if data:
            if capture is not None:
                capture.append(data)
            else:
                origin.sink.write(data)
            copies += 1
    return copies


def _capture(env: Envelope, client: Client, capture: list[bytes] | None) -> int:
    data = client.dialect.render(env, client)
    if data and capture is not None:
        capture.append(data)
        return 1
    return 0


def _clients_of(user: User | None) -> list[Client]:
    return user.clients if user is not None else []


def resolve(chat: Chat, env: Envelope) -> list[Client]:
    """The local clients an envelope's audience means, each once."""
    audience = env.audience
    users: dict[User, None] = {}
    match audience:
        case ToRoom(room=key, also=also, status=status, exclude=exclude):
            room = chat.rooms.by_key(key)
            if room is not None:
                for member in room.members:
                    if (not status or room.has_status(member, status)) and (
                        member.uid not in exclude
                    ):
                        users[member] = None
            for uid in also:
                other = chat.users.by_uid(uid)
                if other is not None:
                    users[other] = None
        case ToPeers(uid=uid, rooms=keys, include_self=include_self, watchers=watchers):
            for key in keys:
                room = chat.rooms.by_key(key)
                if room is not None:
                    users.update(dict.fromkeys(room.members))
            subject = chat.users.by_uid(uid)
            if subject is not None:
                if include_self:
                    users[subject] = None
                else:
                    users.pop(subject, None)
            out = [c for u in users for c in u.clients if u is not subject or include_self]
            if watchers and subject is not None:
                seen = set(out)
                for client in chat.monitors.get(subject.folded, ()):
                    if client not in seen and "extended-monitor" in client.caps:
                        out.append(client)
            return out
        case ToSelf(uid=uid):
            other = chat.users.by_uid(uid)
            if other is not None:
                users[other] = None
        case ToUsers(uids=uids):
            for uid in uids:
                other = chat.users.by_uid(uid)
                if other is not None:
                    users[other] = None
        case ToUserMode(mode=mode):
            for other in chat.users:
                if mode in other.modes:
                    users[other] = None
    return [c for u in users for c in u.clients]
