"""The Redis side of ``[cluster]``: several processes serving one network.

Theory of operation (docs/cluster.md has the whole design): this process
is one *node*, named ``[cluster] node_name`` plus a random suffix per start.

- **Publishing.** ``Chat.publish`` gets each command's envelopes (stamped);
  they become one entry (``ircish.core.codec``) XADDed to the network's one
  stream, in a ``MULTI``/``EXEC`` with the snapshot records the command
  changed (users by uid, rooms by folded name), so the stream and the
  snapshot never disagree. While Redis is away, entries wait in a bounded
  backlog and go out, in order, when it is back.
- **Reading.** A connection of its own blocks in ``XREAD`` from the last
  stream ID seen; entries of other nodes are applied by
  ``ircish.core.replica`` and delivered to local clients. Local clients get
  local events at once, without waiting for the stream.
- **Joining.** At the first connection, one ``MULTI`` reads the stream's
  last ID and both snapshot hashes atomically; reading starts from that ID,
  so nothing is missed or applied twice.
- **Nicknames.** A Lua script claims ``nick:<folded>`` for ``node uid``
  only if it is free (or already this user's); registration and NICK wait
  for the answer through a callback. Quits and nick changes release.
- **Leases.** ``lease:<node>`` expires after two thirds of ``lease_seconds``
  unless renewed (every sixth of it). Each node runs the reaping script on
  the same beat: atomically, a node in ``nodes`` whose lease is gone is
  removed with its nick claims and user records, and exactly one reaper
  gets it back; that reaper announces its users' quits ("node lost"),
  published like any event, within ``lease_seconds`` of the node's death.
- **Shared storage.** Accounts, registered rooms, read markers and server
  bans are written through ``ircish.net.cluster_storage`` into this same
  publishing path; account and room names are claimed with ``HSETNX``
  (``claim_record``). Joining also reads their hashes, and backfills history
  before the server accepts connections (``on_ready``).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ircish.config import ClusterConfig
from ircish.core import accounts, codec, replica
from ircish.core.events import Envelope, NickChange, Quit, ServerNotice, ToPeers
from ircish.core.names import fold
from ircish.core.order import Order
from ircish.core.users import User
from ircish.net.cluster_storage import HASHES, Backfill, SharedStorage
from ircish.net.redis import (
    Arg,
    RedisConnection,
    RedisConnectionError,
    RedisError,
    blocking_timeout,
)
from ircish.net.redis import entry_field as _field

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.net.redis import Loop
    from ircish.storage.sqlite import SqliteStorage

log = logging.getLogger("ircish.cluster")

PREFIX = "ircish:"
STREAM = PREFIX + "events"
USERS = PREFIX + "users"
ROOMS = PREFIX + "rooms"
NODES = PREFIX + "nodes"
#: Entries the stream keeps (approximately: ``MAXLEN ~``); a node away longer misses some.
STREAM_MAXLEN = 100_000
#: Entries kept while Redis is away; past it the oldest are dropped (and counted).
MAX_BACKLOG = 10_000
#: After Redis refuses an entry: seconds before trying again, and refusals before it is dropped.
REFUSED_RETRY = 0.5
MAX_REFUSALS = 20
#: Seconds one ``XREAD BLOCK`` waits, and entries it takes at most.
BLOCK_SECONDS = 5.0
READ_COUNT = 500
#: Msgids remembered to drop an entry published twice (a reply lost with the link).
SEEN_MSGIDS = 20_000
#: The lease key lives this part of ``lease_seconds`` and is renewed (and lost nodes
#: looked for) every ``BEAT`` of it: a node killed just after renewing is reaped within
#: ``LEASE_TTL + BEAT`` (5/6) of ``lease_seconds``, and a live one must miss four
#: renewals in a row to be taken for dead.
LEASE_TTL = 2 / 3
BEAT = 1 / 6
#: Nicknames tried for a user who lost theirs to another node after an outage.
RENAME_TRIES = 5
#: Other nodes' users remembered as refused for a local user's nickname.
MAX_REFUSED = 10_000
#: What a user of a lost node is seen to quit with.
NODE_LOST = "node lost"

DEGRADED = (
    "The network is degraded: this server lost its link to the other servers. "
    "Chat here goes on; others will get your messages when the link is back."
)
RESTORED = "The network is whole again: the link to the other servers is back."

_CLAIM = """
local cur = redis.call('GET', KEYS[1])
if cur == false then
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('SADD', KEYS[2], KEYS[1])
  return 1
end
if cur == ARGV[1] then return 1 end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
redis.call('SREM', KEYS[2], KEYS[1])
return 1
"""

# KEYS: nodes, users, stream. ARGV: prefix, this node, maxlen. Returns the nodes reaped.
_REAP = """
local lost = {}
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if node ~= ARGV[2] and redis.call('EXISTS', ARGV[1] .. 'lease:' .. node) == 0 then
    redis.call('SREM', KEYS[1], node)
    local nicks = ARGV[1] .. 'nicks:' .. node
    for _, key in ipairs(redis.call('SMEMBERS', nicks)) do
      local owner = redis.call('GET', key)
      if owner and string.sub(owner, 1, #node + 1) == node .. ' ' then
        redis.call('DEL', key)
      end
    end
    redis.call('DEL', nicks)
    local users = ARGV[1] .. 'node-users:' .. node
    for _, uid in ipairs(redis.call('SMEMBERS', users)) do
      redis.call('HDEL', KEYS[2], uid)
    end
    redis.call('DEL', users)
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'd',
      cjson.encode({v = 1, n = ARGV[2], k = 'lost', node = node}))
    table.insert(lost, node)
  end
end
return lost
"""


class _Pending:
    """One entry to XADD, with the snapshot records that go with it."""

    __slots__ = ("entry", "refusals", "tag", "updates")

    def __init__(self, entry: str, updates: list[tuple[Arg, ...]], tag: str) -> None:
        self.entry = entry
        self.updates = updates
        #: The entry's ``q`` field: this node and the entry's number (``Order``).
        self.tag = tag
        self.refusals = 0


def _nick_key(folded: str) -> str:
    return f"{PREFIX}nick:{folded}"


class Cluster:
    """This process as one node of the network; see the module's docstring."""

    def __init__(
        self,
        loop: Loop,
        chat: Chat,
        link: RedisConnection,
        config: ClusterConfig,
        name: str,
        storage: SqliteStorage | None = None,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        self.loop = loop
        self.chat = chat
        self.link = link
        self.lease_seconds = config.lease_seconds
        #: Unique per start: a restarted process never inherits its old self's lease.
        self.node = f"{name}/{os.urandom(3).hex()}"
        self.reader = link.dedicated("streams")
        #: The last stream ID applied; None until the snapshot is read.
        self.last_id: str | None = None
        self._reading = False
        #: Entries waiting for the link (or for a retry), and those sent but not yet
        #: confirmed, oldest first.
        self._backlog: deque[_Pending] = deque()
        self._unacked: deque[_Pending] = deque()
        #: Sending waits after a refusal (``REFUSED_RETRY``).
        self._held = False
        #: Entries dropped from a full backlog.
        self.dropped = 0
        #: Uid -> folded nicks claimed in Redis for that local user.
        self._claims: dict[str, set[str]] = {}
        #: Uids with claims but no registered user at the last beat (``_sweep_claims``).
        self._unregistered: set[str] = set()
        self._seen: OrderedDict[str, None] = OrderedDict()
        #: Uids of other nodes' users refused for a local user's nickname -> that local
        #: user's uid (``_user_entry``).
        self._refused: OrderedDict[str, str] = OrderedDict()
        self._was_up = False
        #: In the ``nodes`` set as far as this node knows (a renewal's SADD adding it
        #: again means it was reaped, or Redis lost its data: ``_rejoin``).
        self._member = False
        #: No reaping before this (monotonic): others need time to renew after an outage.
        self._reap_after = 0.0
        self._degraded = False
        self._stopped = False
        #: Stream entries of other nodes applied here.
        self.applied = 0
        #: Accounts, registered rooms, markers, bans shared through Redis; None: no storage.
        self.shared: SharedStorage | None = None
        if storage is not None:
            self.shared = SharedStorage(storage, chat, self.node, self._send)
            chat.storage = self.shared
        #: Called once the network is joined and history backfilled (the server then
        #: accepts connections).
        self._on_ready = on_ready
        #: Reading the stream on from the snapshot (``_ready``).
        self._live = False
        #: Entries sent by this node, numbered; ``q`` is "node number" (``_got``).
        self._seq = 0
        self._own_tag = self.node + " "
        self.order = chat.order = Order(loop.call_later)
        link.add_listener(self._link_changed)
        self.reader.add_listener(self._reader_changed)
        chat.publish = self._publish_command
        chat.network = self
        self._beat()

    # -- publishing -------------------------------------------------------------------

    def _publish_command(self, envelopes: list[Envelope]) -> None:
        """The pipeline's publish hook: the command's local output waits for its entry
        to come back in the stream's order (``ircish.core.order``), when the links are up."""
        self._publish(envelopes)
        if self._live and self.link.connected and self.reader.connected and not self._stopped:
            self.order.begin(self._seq)

    def _publish(self, envelopes: list[Envelope]) -> None:
        chat = self.chat
        out = replica.outgoing(chat, envelopes)
        for env in envelopes:
            event, audience = env.event, env.audience
            if isinstance(audience, ToPeers):
                if type(event) is Quit:
                    self._release(audience.uid, keep="")
                elif type(event) is NickChange:
                    self._release(audience.uid, keep=fold(event.new))
        updates: list[tuple[Arg, ...]] = []
        for uid, user in out.users.items():
            updates += self._user_update(uid, user)
        for key in out.rooms:
            room = chat.rooms.by_key(key)
            if room is None:
                updates.append(("HDEL", ROOMS, key))
            else:
                updates.append(("HSET", ROOMS, key, codec.dumps(codec.room_record(room))))
        self._send(codec.encode_batch(self.node, out.items), updates)

    def _user_update(self, uid: str, user: User | None) -> list[tuple[Arg, ...]]:
        if user is None or not user.registered:
            gone = self.chat.users.by_uid(uid)
            node = gone.node if gone is not None and gone.node else self.node
            return [("HDEL", USERS, uid), ("SREM", f"{PREFIX}node-users:{node}", uid)]
        if user.node:
            return []  # another node's user: its own node keeps its record
        record = codec.dumps(codec.user_record(user, self.node))
        return [("HSET", USERS, uid, record), ("SADD", f"{PREFIX}node-users:{self.node}", uid)]

    def user_registered(self, user: User) -> None:
        """A local user registered: an entry with their record (before their first event)."""
        self._send(codec.encode_user_entry(self.node, user), self._user_update(user.uid, user))

    def _send(self, entry: str, updates: list[tuple[Arg, ...]]) -> None:
        self._seq += 1
        item = _Pending(entry, updates, f"{self._own_tag}{self._seq}")
        if self._backlog or self._held or not self.link.connected:
            if len(self._backlog) >= MAX_BACKLOG:
                self._backlog.popleft()
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 1000 == 0:
                    log.warning("cluster: %d events dropped while Redis was away", self.dropped)
            self._backlog.append(item)
            return
        self._transact(item)

    def _transact(self, item: _Pending) -> None:
        link = self.link
        self._unacked.append(item)
        link.call("MULTI")
        link.call("XADD", STREAM, "MAXLEN", "~", STREAM_MAXLEN, "*", "d", item.entry, "q", item.tag)
        for command in item.updates:
            link.call(*command)
        link.call("EXEC", callback=functools.partial(self._committed, item))

    def _committed(self, item: _Pending, reply: Any) -> None:
        unacked = self._unacked
        at = next((i for i, x in enumerate(unacked) if x is item), None)
        if at is None:
            return  # already put back by an earlier failure
        if not isinstance(reply, RedisError):
            del unacked[at]
            return
        # It may or may not have landed: it goes again, with what was sent after it, in
        # order (readers drop a msgid they have seen).
        again = [unacked[i] for i in range(at, len(unacked))]
        for _ in range(len(unacked) - at):
            unacked.pop()
        if isinstance(reply, RedisConnectionError):
            self._backlog.extendleft(reversed(again))
            return
        # Refused (a Redis still loading its data after a restart, out of memory...):
        # try again shortly, a few times, then give up on this one.
        item.refusals += 1
        if item.refusals >= MAX_REFUSALS:
            log.error("cluster: Redis refused an event %d times, dropped: %s", item.refusals, reply)
            again.pop(0)
        elif item.refusals == 1:
            log.warning("cluster: Redis refused an event (%s); trying again", reply)
        self._backlog.extendleft(reversed(again))
        if not self._held:
            self._held = True
            self.loop.call_later(REFUSED_RETRY, self._unhold)

    def _unhold(self) -> None:
        self._held = False
        self._flush_backlog()

    def _flush_backlog(self) -> None:
        while self._backlog and self.link.connected and not self._held:
            self._transact(self._backlog.popleft())

    # -- nicknames --------------------------------------------------------------------

    def claim_nick(self, user: User, nick: str, done: Callable[[bool], None]) -> None:
        folded = fold(nick)
        if not self.link.connected:
            # Degraded: unique here only (docs/cluster.md); claimed again when Redis is back.
            log.info("cluster: %s taken without a claim while Redis is away", nick)
            self._claims.setdefault(user.uid, set()).add(folded)
            self.loop.call_soon(lambda: done(True))
            return

        def answered(reply: Any) -> None:
            if isinstance(reply, RedisError):
                log.warning("cluster: the claim of a nickname failed: %s", reply)
                ok = True
            else:
                ok = reply == 1
            if ok:
                self._claims.setdefault(user.uid, set()).add(folded)
            done(ok)

        self._nick_script(_CLAIM, folded, user.uid, answered)

    def _nick_script(
        self, script: str, folded: str, uid: str, callback: Callable[[Any], None] | None = None
    ) -> None:
        """Run the claim or release script for ``folded`` held by this node's ``uid``."""
        nicks = f"{PREFIX}nicks:{self.node}"
        holder = f"{self.node} {uid}"
        self.link.call("EVAL", script, 2, _nick_key(folded), nicks, holder, callback=callback)

    def _release(self, uid: str, keep: str) -> None:
        claims = self._claims.get(uid)
        if not claims:
            return
        for folded in [f for f in claims if f != keep]:
            claims.discard(folded)
            self._nick_script(_RELEASE, folded, uid)
        if not claims:
            del self._claims[uid]

    def _reassert(self) -> None:
        """After a reconnection: claims, user records and lease again (Redis may have restarted)."""
        for user in list(self.chat.users):
            if user.node or not user.clients:
                continue
            for folded in list(self._claims.get(user.uid, ())):
                answered = functools.partial(self._reclaimed, user.uid, folded)
                self._nick_script(_CLAIM, folded, user.uid, answered)
            for command in self._user_update(user.uid, user):
                self.link.call(*command)

    def _sweep_claims(self) -> None:
        """Release what was claimed for connections that went before registering."""
        users = self.chat.users
        for uid in [u for u in self._claims if users.by_uid(u) is None]:
            if uid in self._unregistered:
                self._unregistered.discard(uid)
                self._release(uid, keep="")
            else:
                self._unregistered.add(uid)  # given one beat to finish registering

    # -- shared names: accounts and registered rooms --------------------------------------

    def claim_record(
        self, table: str, key: str, value: object, done: Callable[[bool], None]
    ) -> None:
        """Claim an account or registered room name: ``HSETNX`` of its first record."""
        if not self.link.connected:
            # Degraded: unique here only (docs/cluster.md), like nicknames.
            log.info("cluster: a %s registered without a claim while Redis is away", table)
            self.loop.call_soon(lambda: done(True))
            return

        def answered(reply: Any) -> None:
            if isinstance(reply, RedisError):
                log.warning("cluster: the claim of a %s name failed: %s", table, reply)
                done(True)
            else:
                done(reply == 1)

        record = json.dumps(codec.shared_record(table, value), separators=(",", ":"))
        self.link.call("HSETNX", HASHES[table], key, record, callback=answered)

    def _reclaimed(self, uid: str, folded: str, reply: Any) -> None:
        """The answer to a claim made again after an outage (``_reassert``)."""
        if reply != 0:
            return  # still ours (or the link went again: claimed again when it is back)
        claims = self._claims.get(uid)
        if claims is not None:
            claims.discard(folded)  # another node's now: nothing of ours to release
        user = self.chat.users.by_uid(uid)
        if user is None or user.node or not user.registered or user.folded != folded:
            return
        log.warning("cluster: %s was taken on another node while Redis was away", user.nick)
        self._rename(user, folded, accounts.uid_nick(self.chat, user), RENAME_TRIES)

    def _rename(self, user: User, lost: str, nick: str, tries: int) -> None:
        """Claim ``nick`` for a local user who lost ``lost`` to another node; once it is
        theirs they are renamed and announced again."""

        def claimed(ok: bool) -> None:
            if not user.registered or user.folded != lost:
                # They changed nick or left meanwhile; the claim may be kept only if used.
                self._release(user.uid, keep=user.folded if user.registered else "")
                return
            if ok and self.chat.users.taken(nick, by=user):
                # Someone here took it while the claim was away.
                self._release(user.uid, keep=user.folded)
                ok = False
            if not ok:
                if tries > 1:
                    self._rename(user, lost, accounts.guest_nick(self.chat), tries - 1)
                else:
                    log.error("cluster: no free nickname found to rename %s", user.nick)
                return
            with self.chat.outbox():
                replica.nick_taken_elsewhere(self.chat, user, nick)
            # Nodes that refused this user for their old nickname learn of them now.
            self._announce(user)

        self.claim_nick(user, nick, claimed)

    # -- leases ---------------------------------------------------------------------

    def _beat(self) -> None:
        if self._stopped:
            return
        if self.link.connected:
            self._renew()
            self._sweep_claims()
        self.loop.call_later(self.lease_seconds * BEAT, self._beat)

    def _renew(self) -> None:
        link = self.link
        ttl = int(self.lease_seconds * LEASE_TTL * 1000)
        link.call("SET", f"{PREFIX}lease:{self.node}", "1", "PX", ttl)
        link.call("SADD", NODES, self.node, callback=self._added)
        if time.monotonic() >= self._reap_after:
            link.call(
                "EVAL", _REAP, 3, NODES, USERS, STREAM, PREFIX, self.node, STREAM_MAXLEN,
                callback=self._reaped,
            )  # fmt: skip

    def _added(self, reply: Any) -> None:
        if isinstance(reply, RedisError):
            return
        if reply == 1 and self._member:
            log.warning("cluster: this node was reaped or Redis lost its data; announcing again")
            self._rejoin()
        self._member = True

    def _rejoin(self) -> None:
        """Tell the network again of every local user and their rooms (as joins)."""
        chat = self.chat
        if self.shared is not None:
            for command in self.shared.offers():
                self.link.call(*command)
        for user in list(chat.users):
            if not user.node and user.clients:
                self._announce(user)

    def _announce(self, user: User) -> None:
        """A local user's record and rooms (as joins) again; nodes that know them show
        nothing."""
        self._send(codec.encode_user_entry(self.node, user), self._user_update(user.uid, user))
        joins = replica.announcement(self.chat, user)
        if joins:
            self._publish(joins)

    def _reaped(self, reply: Any) -> None:
        if isinstance(reply, RedisError) or not reply:
            return
        for raw in reply:
            node = raw.decode() if isinstance(raw, bytes) else str(raw)
            count = replica.node_lost(self.chat, node, NODE_LOST)
            log.warning("cluster: node %s lost its lease; %d of its users quit", node, count)

    # -- the link's ups and downs ----------------------------------------------------

    def _link_changed(self, up: bool) -> None:
        if up:
            if self._was_up:
                # Nodes alive through an outage need a lease's time (and a retry) to renew.
                self._reap_after = time.monotonic() + self.lease_seconds + self.link.backoff_cap
            self._renew()
            if self.last_id is None:
                self._join_network()
            else:
                self._reassert()
            self._flush_backlog()
            if self._degraded:
                self._degraded = False
                self._tell_everyone(RESTORED)
                log.info("cluster: the network is whole again")
            self._was_up = True
        elif self._was_up and not self._degraded and not self._stopped:
            self._degraded = True
            self._tell_everyone(DEGRADED)
        if not up:
            self.order.release_all()

    def _tell_everyone(self, text: str) -> None:
        chat = self.chat
        notice = ServerNotice(text)
        with chat.outbox():
            for client in list(chat.clients):
                if client.user.registered and not client.quitting:
                    chat.reply(client, notice)

    def _join_network(self) -> None:
        link = self.link
        link.call("MULTI")
        link.call("XREVRANGE", STREAM, "+", "-", "COUNT", 1)
        link.call("HGETALL", USERS)
        link.call("HGETALL", ROOMS)
        if self.shared is not None:
            for table in codec.SHARED_TABLES:
                link.call("HGETALL", HASHES[table])
        link.call("EXEC", callback=self._snapshot)

    def _join_again(self) -> None:
        if self.last_id is None and self.link.connected and not self._stopped:
            self._join_network()

    def _snapshot(self, reply: Any) -> None:
        wanted = 3 + (len(codec.SHARED_TABLES) if self.shared is not None else 0)
        if isinstance(reply, RedisError) or not isinstance(reply, list) or len(reply) != wanted:
            log.warning("cluster: could not read the network's snapshot: %s", reply)
            if not isinstance(reply, RedisConnectionError):
                self.loop.call_later(1.0, self._join_again)
            return  # after a lost link: again when it is back
        last, users, rooms, *shared = reply
        self.last_id = last[0][0].decode() if last else "0-0"
        if self.shared is not None:
            tables = zip(codec.SHARED_TABLES, shared, strict=True)
            self.shared.sync({t: _records(raw, json_only=False) for t, raw in tables})
        replica.load_snapshot(self.chat, _records(users), _records(rooms), self.node)
        log.info(
            "cluster: node %s joined the network (%d users, %d rooms known)",
            self.node,
            len(self.chat.users),
            len(self.chat.rooms),
        )
        if self.shared is None:
            self._ready()
        else:
            Backfill(self.link, STREAM, self.shared, self.last_id, self._ready).start()

    def _ready(self) -> None:
        """Joined (and history backfilled): read the stream on, and let clients in."""
        self._live = True
        self._read()
        on_ready, self._on_ready = self._on_ready, None
        if on_ready is not None:
            on_ready()

    # -- reading the stream -----------------------------------------------------------

    def _reader_changed(self, up: bool) -> None:
        if up:
            self._read()
        else:
            self.order.release_all()

    def _read(self) -> None:
        if self._reading or self.last_id is None or not self.reader.connected or self._stopped:
            return
        self._reading = True
        self.reader.call(
            "XREAD", "COUNT", READ_COUNT, "BLOCK", int(BLOCK_SECONDS * 1000),
            "STREAMS", STREAM, self.last_id,
            callback=self._got,
            timeout=blocking_timeout(BLOCK_SECONDS, self.reader.reply_timeout),
        )  # fmt: skip

    def _got(self, reply: Any) -> None:
        self._reading = False
        if isinstance(reply, RedisError):
            if self.reader.connected:
                log.warning("cluster: reading the stream failed: %s", reply)
                self.loop.call_later(1.0, self._read)
            return  # the reader's listener reads again when it is back
        own = self._own_tag
        for _stream, entries in reply or ():
            for raw_id, fields in entries:
                self.last_id = raw_id.decode()
                tag = _field(fields, b"q")
                if tag is not None:
                    node, _, seq = tag.decode(errors="replace").rpartition(" ")
                    if node + " " == own:
                        # One of ours, now in the network's order: what it held goes out.
                        if seq.isdigit():
                            self.order.release(int(seq))
                        continue
                data = _field(fields, b"d")
                if data is not None:
                    self._entry(data)
        if self.shared is not None and self.last_id is not None:
            self.shared.advance(self.last_id)
        self._read()

    def _entry(self, data: bytes) -> None:
        try:
            obj = codec.decode(data)
            if obj["n"] == self.node:
                return
            kind = obj["k"]
            if kind == "e":
                items = [
                    (env, extra)
                    for env, extra in codec.decode_envelopes(obj)
                    if self._first_time(env.msgid)
                ]
                if items:
                    replica.apply(self.chat, items)
            elif kind == "u":
                self._user_entry(obj["u"])
            elif kind == "s":
                if self.shared is not None:
                    self.shared.apply(obj)
            elif kind == "lost":
                log.info("cluster: %s reaped node %s", obj["n"], obj.get("node"))
        except ValueError as exc:
            log.warning("cluster: an unreadable stream entry skipped: %s", exc)
            return
        except Exception:
            log.exception("cluster: applying a stream entry failed")
            self.chat.metrics.internal_errors["cluster"] += 1
            return
        self.applied += 1

    def _user_entry(self, record: Any) -> None:
        """Another node's user, registered or announced again.

        One refused for a nickname a local user holds (both took it while Redis
        was away) comes again once their node renamed them: then this node
        announces its own user again, after the rename in the stream's order,
        for the nodes that had refused *them* meanwhile (a third node may have
        learnt of the other user first).
        """
        chat = self.chat
        if not isinstance(record, dict):
            raise ValueError("a user entry without a record")
        uid = str(record.get("uid", ""))
        new = chat.users.by_uid(uid) is None
        with chat.remote([]):
            user = replica.add_user(chat, record)
        if user is None:
            holder = chat.users.get(str(record.get("nick", "")))
            if holder is not None and not holder.node and holder.uid != uid:
                self._refused[uid] = holder.uid
                if len(self._refused) > MAX_REFUSED:
                    self._refused.popitem(last=False)
            return
        holder_uid = self._refused.pop(uid, None) if new else None
        holder = chat.users.by_uid(holder_uid) if holder_uid else None
        if holder is not None and not holder.node and holder.registered:
            self._announce(holder)

    def _first_time(self, msgid: str) -> bool:
        seen = self._seen
        if msgid in seen:
            return False
        seen[msgid] = None
        if len(seen) > SEEN_MSGIDS:
            seen.popitem(last=False)
        return True

    # -- stopping ---------------------------------------------------------------------

    @property
    def degraded(self) -> bool:
        return self._degraded

    def leave(self, reason: str) -> None:
        """This process is stopping: its users quit everywhere else (``reason``), its lease goes.

        Queued on the link; the server's shutdown turns the loop until Redis has
        answered (within ``limits.shutdown_grace``). Local clients are told by the
        shutdown itself, so the quits are published without being delivered here.
        """
        chat = self.chat
        now = chat.clock()
        quits = []
        for user in list(chat.users):
            if user.node or not user.clients:
                continue
            env = Envelope(Quit(user.mask, user.nick, reason), ToPeers(user.uid, user.room_keys()))
            env.time = now
            env.msgid = chat.msgids.mint(now)
            quits.append(env)
            # Published as gone: the snapshot drops them, their nicknames are released.
            for room in list(user.rooms.values()):
                room.remove_member(user)
                chat.rooms.discard_if_empty(room)
            chat.users.remove(user)
            user.registered = False
        if quits:
            self._publish(quits)
        self.order.release_all()
        if self.link.connected:
            self.link.call("DEL", f"{PREFIX}lease:{self.node}", f"{PREFIX}nicks:{self.node}")
            self.link.call("SREM", NODES, self.node)
        self._stopped = True

    def close(self) -> None:
        """Stop renewing and reading (the lease then runs out and others reap this node)."""
        self._stopped = True
        self.order.release_all()
        self.reader.close()


def _records(flat: list[bytes], *, json_only: bool = True) -> dict[str, Any]:
    """``HGETALL``'s flat reply as key -> decoded JSON record (bad ones left out);
    ``json_only``: objects only."""
    out: dict[str, Any] = {}
    for i in range(0, len(flat) - 1, 2):
        try:
            record = json.loads(flat[i + 1])
        except ValueError:
            continue
        if isinstance(record, dict) or not json_only:
            out[flat[i].decode(errors="replace")] = record
    return out
