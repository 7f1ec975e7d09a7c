"""Shared storage without Redis: the records as entries carry them, and the join's sync.

``SharedStorage`` wraps a real SQLite file in memory; what it would send to
Redis is collected instead (``sent``), so the rules are checked directly:
writes are shared, writes caused by another process's events are not, and
at joining Redis wins, with this file's own records pushed up only the first
time.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ircish.core import codec
from ircish.core.storage import Account, ListEntry, RoomRecord, ServerBan
from ircish.net.cluster_storage import HASHES, NETWORK_ID, SYNCED, SharedStorage
from ircish.net.redis import Arg
from tests.helpers import MemoryNetwork


class Shared:
    def __init__(self) -> None:
        self.net = MemoryNetwork(storage=True)
        assert self.net.storage is not None
        self.sent: list[tuple[dict[str, Any], list[tuple[Arg, ...]]]] = []
        self.storage = SharedStorage(self.net.storage, self.net.chat, "n/1", self._send)
        self.net.chat.storage = self.storage

    def _send(self, entry: str, updates: list[tuple[Arg, ...]]) -> None:
        self.sent.append((codec.decode(entry), updates))


def account(name: str) -> Account:
    return Account(name, "$argon2id$x", "s:k:s:4096", created=1.0, last_seen=2.0)


@pytest.mark.parametrize(
    ("table", "value"),
    [
        ("account", account("alice")),
        (
            "room",
            RoomRecord(
                "#Den",
                "alice",
                topic="hi",
                lists={"b": [ListEntry("*!*@x", "a", 3.0)]},
                access={"bob": "o"},
            ),
        ),
        ("ban", ServerBan("K", "*!*@10.0.0.1", "no", "admin", 5.0, 0.0)),
        ("marker", ("#den", 1234.5)),
        ("meta", "secret"),
    ],
)
def test_a_shared_record_reads_back_as_it_was(table: str, value: Any) -> None:
    record = json.loads(json.dumps(codec.shared_record(table, value)))
    assert codec.shared_value(table, record) == value


def test_a_malformed_shared_record_is_refused() -> None:
    with pytest.raises(ValueError, match="malformed account"):
        codec.shared_value("account", {"name": "x"})


def test_shared_writes_go_to_redis_and_remote_ones_do_not() -> None:
    s = Shared()
    s.storage.save_account("alice", account("alice"))
    s.storage.set_read_marker("alice", "#den", 10.0)
    (entry, updates), (marker, _) = s.sent
    assert entry["k"] == "s" and entry["t"] == "account" and entry["key"] == "alice"
    assert updates[0][:3] == ("HSET", HASHES["account"], "alice")
    assert marker["key"] == "alice #den" and marker["r"] == {"target": "#den", "time": 10.0}
    # Applying another process's events (a registered room's topic) shares nothing.
    s.sent.clear()
    with s.net.chat.remote([]):
        s.storage.save_room("#den", RoomRecord("#den", "alice"))
    assert s.sent == []
    assert s.storage.room("#den") is not None
    # Deleting an account deletes its read markers in Redis too.
    s.storage.delete_account("alice")
    ((entry, updates),) = s.sent
    assert entry["r"] is None and updates == [
        ("HDEL", HASHES["account"], "alice"),
        ("HDEL", HASHES["marker"], "alice #den"),
    ]


def test_joining_takes_the_network_records_and_shares_its_own_once() -> None:
    s = Shared()
    s.net.storage.save_account("mine", account("mine"))  # type: ignore[union-attr]
    theirs = codec.shared_record("account", account("theirs"))
    ban = codec.shared_record("ban", ServerBan("K", "*!*@10.0.0.9", "no", "op", 1.0))
    s.storage.sync({"account": {"theirs": theirs}, "ban": {"K *!*@10.0.0.9": ban}})
    assert s.storage.account("theirs") == account("theirs")
    assert s.net.chat.bans.get("K", "*!*@10.0.0.9") is not None
    pushed = [u for _, updates in s.sent for u in updates if u[0] == "HSETNX"]
    assert ("HSETNX", HASHES["account"], "mine") in [u[:3] for u in pushed]
    network = s.storage.meta(SYNCED)
    assert network and ("HSETNX", HASHES["meta"], NETWORK_ID) in [u[:3] for u in pushed]
    # Synced with this network before: a record only this file has was deleted elsewhere.
    s.sent.clear()
    secret = json.dumps(s.net.chat.cloaks.stored_secret)
    s.storage.sync({"account": {"theirs": theirs}, "meta": {NETWORK_ID: network}})
    assert s.storage.account("mine") is None
    assert s.net.chat.bans.get("K", "*!*@10.0.0.9") is None
    # Only the cloak secret, missing from the network, is offered again (never replacing one).
    assert [u for _, updates in s.sent for u in updates] == [
        ("HSETNX", HASHES["meta"], "cloak_secret", secret)
    ]


def test_a_redis_that_lost_its_data_gets_this_files_records_back() -> None:
    s = Shared()
    s.storage.sync({"meta": {NETWORK_ID: "old"}})
    s.net.storage.save_account("mine", account("mine"))  # type: ignore[union-attr]
    s.sent.clear()
    s.storage.sync({})  # empty: no network id any more
    assert s.storage.account("mine") is not None
    assert ("HSETNX", HASHES["account"], "mine") in [u[:3] for _, us in s.sent for u in us]
