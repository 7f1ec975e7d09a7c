"""Storage shared by the network's processes (``[cluster]``): Redis the truth, SQLite a replica.

Theory of operation (docs/cluster.md, "Shared storage"): the core calls
``Storage`` on the loop and never waits on the network, so each process
keeps its own SQLite file as a *local read replica* and ``SharedStorage``
answers every read from it. A write of shared data (accounts, registered
rooms, read markers, server bans, the cloak secret) goes to that file and,
through ``Cluster._send``, into the same ``MULTI``/``EXEC`` path as the
chat's events: the record is written to its Redis hash (``HASHES``) and an
``"s"`` entry (``ircish.core.codec``) carries it on the stream, so every
other process applies it to its own file at once (``replica.apply_shared``),
and what waits while Redis is away goes out when it is back.

At joining, ``sync`` makes the local file match the hashes (Redis wins; what
only this file has is pushed up the first time, deleted afterwards), and
``Backfill`` copies into history what the stream holds after the last entry
this file's history has, from the rows each entry carries (``"h"``).

History itself is not in Redis: every process stores what it delivers,
and the stream's retention (``STREAM_MAXLEN``) bounds what a backfill finds.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ircish.core import bans, codec, history, replica
from ircish.core.cloaks import SECRET_KEY
from ircish.core.names import fold
from ircish.core.storage import Account, RoomRecord, ServerBan, StoredEvent
from ircish.net.redis import Arg, RedisConnection, RedisError, entry_field

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.storage.sqlite import SqliteStorage

log = logging.getLogger("ircish.cluster")

PREFIX = "ircish:"
#: Table -> the Redis hash that holds its records (field: the key below).
#: account: folded name; room: folded name; marker: "ACCOUNT TARGET" (both folded);
#: ban: "K|D KEY"; meta: the setting's name (only ``SHARED_META``).
HASHES = {
    "account": PREFIX + "accounts",
    "room": PREFIX + "regrooms",
    "marker": PREFIX + "markers",
    "ban": PREFIX + "bans",
    "meta": PREFIX + "meta",
}
#: Settings every process must share: one cloak secret, so a user's cloak is the same
#: whichever process they connect to.
SHARED_META = frozenset({SECRET_KEY})
#: Local settings: the stream ID up to which this file's history has the network's
#: events, and whether this file was ever made to match the network.
HISTORY_ID = "cluster_history_id"
SYNCED = "cluster_synced"
#: In ``ircish:meta``: a random name the network's Redis data got when it was first
#: written; a file that synced with another (or a Redis that lost its data) joins
#: as for the first time.
NETWORK_ID = "network_id"
#: Entries one backfill page reads (``XRANGE ... COUNT``).
BACKFILL_PAGE = 500

#: Sends one stream entry with the Redis commands that go with it (``Cluster._send``).
Send = Callable[[str, list[tuple[Arg, ...]]], None]


def _encode(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


class SharedStorage:
    """``ircish.core.storage.Storage``: reads from the local file, shared writes also to Redis."""

    def __init__(self, inner: SqliteStorage, chat: Chat, node: str, send: Send) -> None:
        self.inner = inner
        self.chat = chat
        self.node = node
        self._send = send
        #: Backfill done: the reader may move ``HISTORY_ID`` on (``advance``).
        self.backfilled = False

    # -- delegated as they are -------------------------------------------------------

    @property
    def available(self) -> bool:
        return self.inner.available

    @available.setter
    def available(self, value: bool) -> None:
        self.inner.available = value

    # Reads, history and durability are the local file's.

    @property
    def uncommitted(self) -> bool:
        return self.inner.uncommitted

    def commit(self) -> None:
        self.inner.commit()

    def close(self) -> None:
        self.inner.close()

    def append(self, events: list[StoredEvent]) -> None:
        self.inner.append(events)

    def time_of(self, owner: str, target: str, msgid: str) -> float | None:
        return self.inner.time_of(owner, target, msgid)

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
        return self.inner.query(
            owner, target, after=after, before=before, limit=limit, latest=latest
        )

    def targets(
        self, owner: str, rooms: list[str], after: float, before: float, limit: int
    ) -> list[tuple[str, float]]:
        return self.inner.targets(owner, rooms, after, before, limit)

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
        return self.inner.search(owner, rooms, text, target=target, nick=nick, limit=limit)

    def prune(self, now: float, max_age: float, max_per_target: int, batch: int) -> int:
        # Each process prunes its own file: history is not in Redis.
        return self.inner.prune(now, max_age, max_per_target, batch)

    def account(self, folded: str) -> Account | None:
        return self.inner.account(folded)

    def account_names(self) -> list[str]:
        return self.inner.account_names()

    def room(self, folded: str) -> RoomRecord | None:
        return self.inner.room(folded)

    def rooms(self) -> list[RoomRecord]:
        return self.inner.rooms()

    def read_marker(self, account: str, target: str) -> float | None:
        return self.inner.read_marker(account, target)

    def bans(self) -> list[ServerBan]:
        return self.inner.bans()

    def meta(self, key: str) -> str | None:
        return self.inner.meta(key)

    # -- shared writes ------------------------------------------------------------------

    def _share(
        self, table: str, key: str, value: Any, also: list[tuple[Arg, ...]] | None = None
    ) -> None:
        if self.chat.applying_remote:
            # Another process's events changed this (a registered room's topic): that
            # process shared the record; sharing it again could undo a later change.
            return
        record = None if value is None else codec.shared_record(table, value)
        update: tuple[Arg, ...] = (
            ("HDEL", HASHES[table], key)
            if record is None
            else ("HSET", HASHES[table], key, _encode(record))
        )
        self._send(codec.encode_shared(self.node, table, key, record), [update, *(also or ())])

    def save_account(self, folded: str, account: Account) -> None:
        self.inner.save_account(folded, account)
        self._share("account", folded, account)

    def delete_account(self, folded: str) -> None:
        # Its read markers go too (every process drops them with the account), so that
        # whoever registers the name later does not find them in Redis.
        markers = [f"{a} {t}" for a, t, _ in self.inner.read_markers() if a == folded]
        self.inner.delete_account(folded)
        also: list[tuple[Arg, ...]] = [("HDEL", HASHES["marker"], *markers)] if markers else []
        self._share("account", folded, None, also)

    def save_room(self, folded: str, room: RoomRecord) -> None:
        self.inner.save_room(folded, room)
        self._share("room", folded, room)

    def delete_room(self, folded: str) -> None:
        self.inner.delete_room(folded)
        self._share("room", folded, None)

    def set_read_marker(self, account: str, target: str, time: float) -> None:
        self.inner.set_read_marker(account, target, time)
        self._share("marker", f"{account} {target}", (target, time))

    def save_ban(self, key: str, ban: ServerBan) -> None:
        self.inner.save_ban(key, ban)
        self._share("ban", f"{ban.kind} {key}", ban)

    def delete_ban(self, kind: str, key: str) -> None:
        self.inner.delete_ban(kind, key)
        self._share("ban", f"{kind} {key}", None)

    def save_meta(self, key: str, value: str) -> None:
        self.inner.save_meta(key, value)
        if key in SHARED_META:
            self._share("meta", key, value)

    # -- applying what others wrote --------------------------------------------------------

    def apply(self, obj: dict[str, Any]) -> None:
        """An ``"s"`` entry of another process; ValueError if malformed."""
        table, key, record = obj.get("t"), obj.get("key"), obj.get("r")
        if table not in codec.SHARED_TABLES or not isinstance(key, str):
            raise ValueError("a shared record of an unknown table")
        value = None if record is None else codec.shared_value(table, record)
        replica.apply_shared(self.chat, self.inner, table, key, value)

    # -- joining: the local file made to match the network ----------------------------------

    def _local(self, table: str) -> dict[str, Any]:
        """This file's records of ``table``, as ``shared_record`` writes them."""
        inner = self.inner
        values: dict[str, Any] = {}
        if table == "account":
            for name in inner.account_names():
                account = inner.account(fold(name))
                if account is not None:
                    values[fold(name)] = account
        elif table == "room":
            values = {fold(r.name): r for r in inner.rooms()}
        elif table == "marker":
            values = {f"{a} {t}": (t, when) for a, t, when in inner.read_markers()}
        elif table == "ban":
            for ban in inner.bans():
                try:
                    values[f"{ban.kind} {bans.key_of(ban.kind, ban.mask)}"] = ban
                except ValueError:
                    continue
        elif table == "meta":
            secret = self.chat.cloaks.stored_secret
            if secret:
                values[SECRET_KEY] = secret
        return {k: codec.shared_record(table, v) for k, v in values.items()}

    def offers(self) -> list[tuple[Arg, ...]]:
        """``HSETNX`` of every shared record of this file: after Redis lost its data, the
        network gets them back, without replacing what another process wrote meanwhile."""
        return [
            ("HSETNX", HASHES[table], key, _encode(record))
            for table in codec.SHARED_TABLES
            for key, record in self._local(table).items()
        ]

    def sync(self, hashes: dict[str, dict[str, Any]]) -> None:
        """Make the local file match the shared hashes (read in the join's ``MULTI``).

        Redis wins. A record only this file has is pushed up if this file never
        matched the network before (data from before the cluster existed), and
        deleted otherwise (it was deleted elsewhere meanwhile).
        """
        meta = hashes.get("meta", {})
        network = meta.pop(NETWORK_ID, None)
        if not isinstance(network, str) or not network:
            network = os.urandom(8).hex()
            self._send(
                codec.encode_shared(self.node, "meta", NETWORK_ID, network),
                [("HSETNX", HASHES["meta"], NETWORK_ID, _encode(network))],
            )
        # Deleting what Redis lacks is right only for the data this file synced with
        # before: not for a Redis that restarted empty, nor for another network's.
        first = self.inner.meta(SYNCED) != network
        pulled = pushed = dropped = 0
        for table in codec.SHARED_TABLES:
            remote = hashes.get(table, {})
            local = self._local(table)
            for key, record in remote.items():
                if local.get(key) == record:
                    continue
                try:
                    value = codec.shared_value(table, record)
                except ValueError as exc:
                    log.warning("cluster: a shared %s record skipped: %s", table, exc)
                    continue
                if table == "meta":
                    self.inner.save_meta(key, value)
                    if key == SECRET_KEY:
                        self.chat.cloaks.adopt_shared_secret(value)
                    continue
                replica.apply_shared(self.chat, self.inner, table, key, value)
                pulled += 1
            for key in local.keys() - remote.keys():
                if first or table == "meta":
                    # Shared once, without replacing what another process wrote meanwhile.
                    record = local[key]
                    self._send(
                        codec.encode_shared(self.node, table, key, record),
                        [("HSETNX", HASHES[table], key, _encode(record))],
                    )
                    pushed += 1
                else:
                    replica.apply_shared(self.chat, self.inner, table, key, None)
                    dropped += 1
        self.inner.save_meta(SYNCED, network)
        self.inner.commit()
        if pulled or pushed or dropped:
            log.info(
                "cluster: shared storage: %d records taken from the network, %d shared, "
                "%d deleted here",
                pulled,
                pushed,
                dropped,
            )

    # -- history ------------------------------------------------------------------------

    def advance(self, stream_id: str) -> None:
        """The reader applied the stream up to ``stream_id``: history has it too."""
        if self.backfilled:
            self.inner.save_meta(HISTORY_ID, stream_id)


class Backfill:
    """History from the stream's retained entries this file's history does not have yet.

    Reads ``XRANGE`` pages from the entry after ``HISTORY_ID`` (all of the stream
    for a new file) up to ``upto`` (the join's stream ID, after which the reader
    takes over) and stores each entry's history rows (``"h"``), skipping rows
    already stored. State is not touched: the snapshot has it. ``done`` runs once,
    when the last page is in or a page failed (history then stays as it is, and
    the next start tries again from where this one stopped).
    """

    def __init__(
        self,
        link: RedisConnection,
        stream: str,
        storage: SharedStorage,
        upto: str,
        done: Callable[[], None],
    ) -> None:
        self.link = link
        self.stream = stream
        self.storage = storage
        self.upto = upto
        self.done = done
        self.rows = 0

    def start(self) -> None:
        storage = self.storage
        if storage.chat.store is None or self.upto == "0-0":
            self._finish()  # history off, or an empty stream
            return
        since = storage.inner.meta(HISTORY_ID)
        self._page("(" + since if since else "-")

    def _page(self, start: str) -> None:
        self.link.call(
            "XRANGE", self.stream, start, self.upto, "COUNT", BACKFILL_PAGE, callback=self._got
        )

    def _got(self, reply: Any) -> None:
        inner = self.storage.inner
        if isinstance(reply, RedisError) or not isinstance(reply, list):
            log.warning("cluster: history backfill stopped: %s", reply)
            self.done()
            return
        last = ""
        rows: list[StoredEvent] = []
        for raw_id, fields in reply:
            last = raw_id.decode()
            data = entry_field(fields, b"d")
            if data is None:
                continue
            try:
                obj = codec.decode(data)
                if obj["k"] != "e":
                    continue
                for env, extra in codec.decode_envelopes(obj):
                    for row in history.from_keys(env, extra.get("h")):
                        if inner.time_of(row.owner, row.target, row.msgid) is None:
                            rows.append(row)
            except ValueError:
                continue
        if rows:
            inner.append(rows)
            self.rows += len(rows)
        if last:
            inner.save_meta(HISTORY_ID, last)
        inner.commit()
        if len(reply) < BACKFILL_PAGE or last == self.upto:
            self._finish()
        else:
            self._page("(" + last)

    def _finish(self) -> None:
        storage = self.storage
        storage.inner.save_meta(HISTORY_ID, self.upto)
        storage.backfilled = True
        if self.rows:
            log.info("cluster: history backfilled from the stream: %d rows", self.rows)
        self.done()
