"""SqliteStorage on real SQLite files: schema, start errors, queries, search, retention.

Every test opens a real database (a file under ``tmp_path``, or ``:memory:``)
through the public methods of ``ircish.core.storage.Storage``; a second
``sqlite3`` connection stands for a process that reads the file after a crash.
"""

# Fullwidth letters in the migration example are the point of it.
# ruff: noqa: RUF001, RUF003

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ircish.config import Config, HistoryConfig
from ircish.core import chat
from ircish.core.events import Join, Privmsg
from ircish.core.storage import Account, ListEntry, RoomRecord, ServerBan, StoredEvent
from ircish.errors import StorageError
from ircish.storage import sqlite as sqlite_module
from ircish.storage.sqlite import SCHEMA_VERSION, SqliteStorage
from tests.helpers import MemoryNetwork

T0 = 1_700_000_000.0


def msg(
    n: int,
    text: str = "",
    *,
    time: float | None = None,
    owner: str = "",
    target: str = "#rust",
    nick: str = "bob",
) -> StoredEvent:
    """Event number ``n``: msgid "m<n>", at T0 + n seconds unless ``time`` says otherwise."""
    event = Privmsg(f"{nick}!u@host", nick, target, text or f"message {n}")
    when = T0 + n if time is None else time
    return StoredEvent(f"m{n}", when, owner, target, event)


def ids(events: list[StoredEvent]) -> list[str]:
    return [e.msgid for e in events]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "ircish.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[SqliteStorage]:
    s = SqliteStorage(str(db_path))
    yield s
    s.close()


# -- schema and migrations ---------------------------------------------------------


def _indexed(store: SqliteStorage) -> set[int]:
    """Rows the full-text index knows of (all test texts here contain "words").

    Read through the store's own connection: it holds the file exclusively.
    """
    return {r[0] for r in store._db.execute("SELECT rowid FROM events_text('words')")}


def test_a_version_1_file_is_migrated_and_stays_searchable(db_path: Path) -> None:
    """Version 1 indexed text in a trigger; version 2 indexes in batches from 'fts_upto'."""
    with sqlite3.connect(db_path, isolation_level=None) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        for statement in sqlite_module._MIGRATIONS[1]:
            db.execute(statement)
        db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        db.execute(
            "INSERT INTO events (msgid, time, owner, target, kind, nick, account, text, data,"
            " tags) VALUES ('m1', 1, '', '#rust', 'Privmsg', 'bob', '', 'old words',"
            ' \'["bob!u@h", "bob", "#rust", "old words", false]\', \'\')'
        )
    db.close()
    store = SqliteStorage(str(db_path))
    assert store.schema_version() == SCHEMA_VERSION  # through version 2 to the newest
    store.append([msg(2, "new words")])
    store.commit()
    assert ids(store.search("", ["#rust"], "words", limit=10)) == ["m1", "m2"]
    assert store.prune(T0 + 100, 1, 0, 10) == 2  # deleting indexed rows keeps FTS consistent
    assert store.search("", ["#rust"], "words", limit=10) == []
    store.close()


def test_a_version_2_file_gets_the_server_bans_table(db_path: Path) -> None:
    """Version 3 adds server bans; what version 2 kept stays."""
    with sqlite3.connect(db_path, isolation_level=None) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        for step in (1, 2):
            for statement in sqlite_module._MIGRATIONS[step]:
                db.execute(statement)
        db.execute("INSERT INTO meta VALUES ('schema_version', '2')")
        db.execute("INSERT INTO accounts VALUES ('bob', '{}')")
    db.close()
    store = SqliteStorage(str(db_path))
    assert store.schema_version() == SCHEMA_VERSION
    assert store.bans() == []
    ban = ServerBan("K", "*!*@203.0.113.7", "spam", "op", T0, T0 + 600)
    store.save_ban("*!*@203.0.113.7", ban)
    store.commit()
    store.close()
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT folded FROM accounts").fetchall() == [("bob",)]
    db.close()
    again = SqliteStorage(str(db_path))
    assert again.bans() == [ban]
    again.close()


def test_a_version_3_file_is_refolded_by_precis(db_path: Path) -> None:
    """Keys folded by casefold (version 3 and before) are what PRECIS folds the names to."""
    with sqlite3.connect(db_path, isolation_level=None) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        for step in (1, 2, 3):
            for statement in sqlite_module._MIGRATIONS[step]:
                assert isinstance(statement, str)
                db.execute(statement)
        db.execute("INSERT INTO meta VALUES ('schema_version', '3')")
        # casefold made "Straße" "strasse"; PRECIS keeps the ß. Fullwidth "Ｚoe" was
        # "ｚoe" and is now "zoe". ASCII names fold the same either way.
        for old, name in (("strasse", "Straße"), ("ｚoe", "Ｚoe"), ("bob", "Bob")):
            data = json.dumps({"name": name, "password_hash": "h", "scram": "s"})
            db.execute("INSERT INTO accounts VALUES (?, ?)", (old, data))
        room = {"name": "#Café", "founder": "Straße", "access": {"strasse": "o", "bob": "v"}}
        db.execute("INSERT INTO rooms VALUES ('#café', ?)", (json.dumps(room),))
        db.execute("INSERT INTO read_markers VALUES ('strasse', '#rust', 5)")
        db.execute("INSERT INTO read_markers VALUES ('ｚoe', 'ｚoe', 7)")
        db.execute(
            "INSERT INTO events (msgid, time, owner, target, kind, nick, account, text, data,"
            " tags) VALUES ('m1', 1, 'a:strasse', 'ｂen', 'Privmsg', 'Straße', 'Straße', 'hi',"
            " '[]', '')"
        )
    db.close()
    store = SqliteStorage(str(db_path))
    assert store.schema_version() == SCHEMA_VERSION
    assert store.account("straße") is not None and store.account("straße").name == "Straße"
    assert store.account("zoe") is not None
    assert store.account("bob") is not None
    record = store.room("#café")
    assert record is not None and record.access == {"straße": "o", "bob": "v"}
    assert store.read_marker("straße", "#rust") is not None
    assert store.read_marker("zoe", "zoe") is not None
    store.close()
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT owner, target FROM events").fetchall() == [("a:straße", "ben")]
        assert db.execute("SELECT COUNT(*) FROM read_markers").fetchone() == (2,)
    db.close()


def test_server_bans_and_settings(store: SqliteStorage) -> None:
    kline = ServerBan("K", "*!*@Host.Example", "r", "op", T0)
    dline = ServerBan("D", "10.0.0.0/8", "bots", "op", T0 + 1, T0 + 3600.5)
    store.save_ban("*!*@host.example", kline)
    store.save_ban("10.0.0.0/8", dline)
    assert store.bans() == [kline, dline]  # reads see queued writes, oldest first
    replaced = ServerBan("K", "*!*@host.example", "again", "op2", T0 + 2)
    store.save_ban("*!*@host.example", replaced)
    store.commit()
    assert store.bans() == [dline, replaced]
    store.delete_ban("K", "*!*@host.example")
    store.delete_ban("D", "no.such")
    assert store.bans() == [dline]
    assert store.meta("cloak_secret") is None
    store.save_meta("cloak_secret", "s3cret")
    assert store.meta("cloak_secret") == "s3cret"
    # Settings do not touch the schema's own keys.
    store.save_meta("schema_version", "99")
    store.commit()
    assert store.schema_version() == SCHEMA_VERSION


def test_text_is_indexed_in_batches_not_in_every_commit(db_path: Path) -> None:
    store = SqliteStorage(str(db_path))
    store.append([msg(1, "first words")])
    store.commit()
    assert _indexed(store) == set(), "one message does not cost an FTS write per commit"
    store.append([msg(n, f"words {n}") for n in range(2, 2 + sqlite_module.INDEX_BATCH)])
    store.commit()
    assert len(_indexed(store)) == 1 + sqlite_module.INDEX_BATCH
    store.close()


def test_rows_a_crash_left_unindexed_are_found_after_a_restart(db_path: Path) -> None:
    store = SqliteStorage(str(db_path))
    store.append([msg(1, "before the crash")])
    store.commit()  # durable, not yet indexed; then the process dies:
    store._db.close()  # its connection goes away without SqliteStorage.close
    again = SqliteStorage(str(db_path))
    assert ids(again.search("", ["#rust"], "crash", limit=5)) == ["m1"]
    again.close()


def test_a_new_file_gets_the_schema_and_its_version(db_path: Path) -> None:
    store = SqliteStorage(str(db_path))
    assert store.schema_version() == SCHEMA_VERSION
    store.close()
    with sqlite3.connect(db_path) as db:
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {"meta", "events", "events_text", "accounts", "rooms", "read_markers"} <= names
    assert "server_bans" in names


def test_an_empty_file_is_migrated(db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db_path.write_bytes(b"")
    with caplog.at_level(logging.INFO, "ircish.storage"):
        store = SqliteStorage(str(db_path))
    assert store.schema_version() == SCHEMA_VERSION
    assert f"migrated to schema version {SCHEMA_VERSION}" in caplog.text
    store.close()


def test_reopening_keeps_the_data_and_does_not_migrate_again(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SqliteStorage(str(db_path))
    store.append([msg(1)])
    store.close()
    with caplog.at_level(logging.INFO, "ircish.storage"):
        again = SqliteStorage(str(db_path))
    assert "migrated" not in caplog.text
    assert ids(again.query("", "#rust", limit=10, latest=True)) == ["m1"]
    again.close()


def test_a_newer_schema_version_is_refused(db_path: Path) -> None:
    SqliteStorage(str(db_path)).close()
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (SCHEMA_VERSION + 1,))
    with pytest.raises(StorageError) as err:
        SqliteStorage(str(db_path))
    assert str(err.value) == (
        f"{db_path}: schema version {SCHEMA_VERSION + 1} is newer than this ircish "
        f"({SCHEMA_VERSION}); upgrade ircish"
    )


def test_another_programs_sqlite_file_is_refused_and_left_alone(db_path: Path) -> None:
    with sqlite3.connect(db_path) as db:
        db.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY)")
    with pytest.raises(StorageError) as err:
        SqliteStorage(str(db_path))
    assert str(err.value) == f"{db_path}: not an ircish database (tables: ['photos'])"
    with sqlite3.connect(db_path) as db:
        assert [r[0] for r in db.execute("SELECT name FROM sqlite_master")] == ["photos"]


def test_a_meta_table_without_a_schema_version_is_refused(db_path: Path) -> None:
    with sqlite3.connect(db_path) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    with pytest.raises(StorageError, match=r"not an ircish database \(no schema version\)"):
        SqliteStorage(str(db_path))


def test_a_corrupt_file_is_refused_with_the_reason(db_path: Path) -> None:
    db_path.write_bytes(os.urandom(8192))
    with pytest.raises(StorageError) as err:
        SqliteStorage(str(db_path))
    assert str(err.value) == f"{db_path}: file is not a database"


def test_a_missing_directory_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "deeper" / "ircish.db"
    with pytest.raises(StorageError) as err:
        SqliteStorage(str(path))
    assert str(err.value) == f"{path}: directory {path.parent} does not exist"


def test_a_file_where_the_directory_should_be_is_named(tmp_path: Path) -> None:
    # Fails for root too, unlike a chmod'ed directory.
    (tmp_path / "somefile").write_text("x")
    path = tmp_path / "somefile" / "ircish.db"
    with pytest.raises(StorageError) as err:
        SqliteStorage(str(path))
    assert str(err.value) == f"{path}: {tmp_path / 'somefile'} is not a directory"


def test_a_directory_as_the_database_is_named(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as err:
        SqliteStorage(str(tmp_path))
    assert str(err.value) == f"{tmp_path}: is a directory"


# -- history: append and query ------------------------------------------------------


def test_query_bounds_are_exclusive_and_results_oldest_first(store: SqliteStorage) -> None:
    store.append([msg(n) for n in range(1, 8)])
    assert ids(store.query("", "#rust", after=T0 + 2, before=T0 + 6, limit=10, latest=True)) == [
        "m3",
        "m4",
        "m5",
    ]
    assert ids(store.query("", "#rust", after=T0 + 5, limit=10, latest=False)) == ["m6", "m7"]
    assert ids(store.query("", "#rust", before=T0 + 3, limit=10, latest=False)) == ["m1", "m2"]


def test_latest_takes_the_newest_and_oldest_the_first(store: SqliteStorage) -> None:
    store.append([msg(n) for n in range(1, 8)])
    assert ids(store.query("", "#rust", limit=3, latest=True)) == ["m5", "m6", "m7"]
    assert ids(store.query("", "#rust", limit=3, latest=False)) == ["m1", "m2", "m3"]
    assert store.query("", "#rust", limit=0, latest=True) == []
    assert store.query("", "#rust", limit=-5, latest=True) == []


def test_events_in_the_same_millisecond_keep_their_order(store: SqliteStorage) -> None:
    store.append([msg(3, time=T0), msg(1, time=T0), msg(2, time=T0)])
    store.append([msg(9, time=T0 - 1)])
    assert ids(store.query("", "#rust", limit=10, latest=False)) == ["m9", "m3", "m1", "m2"]
    assert ids(store.query("", "#rust", limit=2, latest=True)) == ["m1", "m2"]


def test_histories_are_kept_apart_by_owner_and_target(store: SqliteStorage) -> None:
    store.append(
        [
            msg(1, target="#rust"),
            msg(2, target="#go"),
            msg(3, owner="a:alice", target="bob"),
            msg(4, owner="a:bob", target="alice"),
        ]
    )
    assert ids(store.query("", "#go", limit=10, latest=True)) == ["m2"]
    assert ids(store.query("a:alice", "bob", limit=10, latest=True)) == ["m3"]
    assert store.query("a:alice", "#rust", limit=10, latest=True) == []


def test_a_stored_event_comes_back_whole(store: SqliteStorage) -> None:
    join = Join("bob!u@host", "bob", "#rust", account="bob", realname="Bob B")
    sent = StoredEvent("j1", 1_700_000_000.123, "", "#rust", join, (("+draft/x", "1"),), "bob")
    store.append([sent])
    assert store.query("", "#rust", limit=1, latest=True) == [sent]


def test_time_of_finds_a_msgid_only_in_its_history(store: SqliteStorage) -> None:
    store.append([msg(1), msg(2, owner="a:alice", target="bob")])
    assert store.time_of("", "#rust", "m1") == T0 + 1
    assert store.time_of("", "#go", "m1") is None
    assert store.time_of("a:alice", "bob", "m2") == T0 + 2
    assert store.time_of("", "#rust", "nope") is None


def test_targets_lists_conversations_and_rooms_by_latest_activity(store: SqliteStorage) -> None:
    store.append(
        [
            msg(1, owner="a:alice", target="bob"),
            msg(5, owner="a:alice", target="carol"),
            msg(3, target="#rust"),
            msg(4, target="#go"),
            msg(6, owner="a:bob", target="alice"),
        ]
    )
    found = store.targets("a:alice", ["#rust", "#go", "#empty"], T0, T0 + 100, 10)
    assert found == [("bob", T0 + 1), ("#rust", T0 + 3), ("#go", T0 + 4), ("carol", T0 + 5)]
    assert store.targets("a:alice", ["#rust"], T0 + 1, T0 + 5, 10) == [("#rust", T0 + 3)]
    assert store.targets("a:alice", ["#rust", "#go"], T0, T0 + 100, 2) == [
        ("#go", T0 + 4),
        ("carol", T0 + 5),
    ]
    assert store.targets("", ["#rust"], T0, T0 + 100, 0) == []


# -- search -------------------------------------------------------------------------


def test_search_needs_every_word_and_filters_by_target_and_nick(store: SqliteStorage) -> None:
    store.append(
        [
            msg(1, "the borrow checker is strict"),
            msg(2, "checker games tonight", target="#go", nick="carol"),
            msg(3, "borrow a checker", nick="carol"),
            msg(4, "private checker borrow", owner="a:alice", target="bob"),
        ]
    )
    both = store.search("a:alice", ["#rust", "#go"], "checker borrow", limit=10)
    assert ids(both) == ["m1", "m3", "m4"]
    assert ids(store.search("", ["#rust", "#go"], "checker borrow", limit=10)) == ["m1", "m3"]
    assert ids(store.search("a:alice", ["#rust", "#go"], "CHECKER", target="#go", limit=10)) == [
        "m2"
    ]
    assert ids(store.search("a:alice", ["#rust"], "checker", nick="Carol", limit=10)) == ["m3"]
    assert ids(store.search("a:alice", ["#rust", "#go"], "checker", limit=2)) == ["m3", "m4"]
    assert ids(store.search("a:alice", ["#rust"], "borrow", target="bob", limit=10)) == ["m4"]
    assert store.search("a:alice", [], "   ", limit=10) == []


@pytest.mark.parametrize(
    "text",
    [
        '"',
        '""',
        '"unbalanced',
        "*",
        "rust*",
        "AND",
        "OR",
        "NOT",
        "a AND b",
        "NEAR(",
        "NEAR(a b)",
        "-",
        "-rust",
        ":",
        "text:rust",
        "^rust",
        "(",
        ")",
        "{text}",
        "+",
        "'",
        "\\",
        "rust;DROP TABLE events",
    ],
)
def test_search_takes_fts_syntax_literally(
    store: SqliteStorage, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    store.append([msg(1, "rust and near text"), msg(2, "plain words only")])
    with caplog.at_level(logging.WARNING, "ircish.storage"):
        found = store.search("", ["#rust"], text, limit=10)
    assert not caplog.records, caplog.text
    # Literal words match literally; punctuation alone matches nothing, never everything.
    assert ids(found) in ([], ["m1"])
    assert store.query("", "#rust", limit=10, latest=True) != []


def test_search_finds_operator_words_as_plain_words(store: SqliteStorage) -> None:
    store.append([msg(1, "rust and near text"), msg(2, "rust alone")])
    assert ids(store.search("", ["#rust"], "AND", limit=10)) == ["m1"]
    assert ids(store.search("", ["#rust"], "NEAR(", limit=10)) == ["m1"]
    assert ids(store.search("", ["#rust"], "text:rust", limit=10)) == []
    assert ids(store.search("", ["#rust"], "rust*", limit=10)) == ["m1", "m2"]
    assert ids(store.search("", ["#rust"], "-alone", limit=10)) == ["m2"]


def test_pruned_and_deleted_events_leave_the_search_index(store: SqliteStorage) -> None:
    store.append([msg(1, "needle one"), msg(2, "needle two", owner="a:alice", target="bob")])
    assert store.prune(T0 + 2.5, max_age=1.0, max_per_target=0, batch=10) == 1
    assert ids(store.search("a:alice", ["#rust"], "needle", limit=10)) == ["m2"]
    store.delete_account("alice")
    assert store.search("a:alice", ["#rust"], "needle", limit=10) == []


# -- retention ------------------------------------------------------------------------


def count(store: SqliteStorage, owner: str = "", target: str = "#rust") -> int:
    return len(store.query(owner, target, limit=100_000, latest=True))


def test_prune_by_age_deletes_the_oldest_in_batches(store: SqliteStorage) -> None:
    store.append([msg(n) for n in range(100)])
    now = T0 + 100
    # Older than 30 s: m0..m69.
    assert store.prune(now, max_age=30.5, max_per_target=0, batch=25) == 25
    assert ids(store.query("", "#rust", limit=1, latest=False)) == ["m25"]
    assert store.prune(now, max_age=30.5, max_per_target=0, batch=25) == 25
    assert store.prune(now, max_age=30.5, max_per_target=0, batch=25) == 20
    assert store.prune(now, max_age=30.5, max_per_target=0, batch=25) == 0
    assert ids(store.query("", "#rust", limit=1, latest=False)) == ["m70"]
    assert count(store) == 30


def test_prune_per_target_keeps_the_newest_of_each_history(store: SqliteStorage) -> None:
    store.append([msg(n) for n in range(50)])
    store.append([msg(100 + n, target="#go") for n in range(8)])
    store.append([msg(200 + n, owner="a:alice", target="bob") for n in range(30)])
    deleted = []
    while done := store.prune(T0, max_age=0, max_per_target=10, batch=15):
        deleted.append(done)
    assert all(d <= 15 for d in deleted)
    assert sum(deleted) == 40 + 20
    assert ids(store.query("", "#rust", limit=100, latest=False)) == [
        f"m{n}" for n in range(40, 50)
    ]
    assert count(store, target="#go") == 8
    assert ids(store.query("a:alice", "bob", limit=100, latest=False))[0] == "m220"
    assert count(store, "a:alice", "bob") == 10


def test_prune_per_target_sweeps_past_many_conversations(store: SqliteStorage) -> None:
    # More conversations than one call looks at: later calls go on where it stopped.
    targets = [f"n{i:03d}" for i in range(3 * SqliteStorage.SWEEP_TARGETS)]
    store.append(
        [msg(i * 10 + k, owner="a:alice", target=t) for i, t in enumerate(targets) for k in (1, 2)]
    )
    calls = 0
    while any(count(store, "a:alice", t) > 1 for t in targets):
        store.prune(T0, max_age=0, max_per_target=1, batch=1000)
        calls += 1
        assert calls <= 4
    assert calls == 3


def test_prune_does_nothing_without_limits(store: SqliteStorage) -> None:
    store.append([msg(n) for n in range(5)])
    assert store.prune(T0 + 10**6, max_age=0, max_per_target=0, batch=100) == 0
    assert store.prune(T0 + 10**6, max_age=1, max_per_target=1, batch=0) == 0
    assert count(store) == 5


# -- accounts, rooms, read markers ------------------------------------------------------


def test_accounts_round_trip(store: SqliteStorage, db_path: Path) -> None:
    alice = Account("Alice", "$argon2id$v=19$x", "salt:sk:svk:4096", "a@example.org", False, T0)
    store.save_account("alice", alice)
    assert store.account("alice") == alice
    assert store.account("bob") is None
    store.close()  # the file is the server's alone while open: reopen to read it back
    store = SqliteStorage(str(db_path))
    assert store.account("alice") == alice
    store.set_read_marker("alice", "#rust", T0)
    store.append([msg(1, owner="a:alice", target="bob"), msg(2, owner="a:bob", target="alice")])
    store.delete_account("alice")
    assert store.account("alice") is None
    assert store.read_marker("alice", "#rust") is None
    assert store.query("a:alice", "bob", limit=10, latest=True) == []
    assert ids(store.query("a:bob", "alice", limit=10, latest=True)) == ["m2"]
    store.close()


def test_registered_rooms_round_trip(store: SqliteStorage, db_path: Path) -> None:
    room = RoomRecord(
        "#Rust",
        "alice",
        T0,
        "the topic",
        "alice!a@h",
        T0 + 1,
        "nt",
        "sekrit",
        50,
        {"b": [ListEntry("*!*@spam", "alice", T0)], "I": [ListEntry("*!*@friends", "bob", T0)]},
        {"alice": "o", "bob": "v"},
    )
    store.save_room("#rust", room)
    store.save_room("#go", RoomRecord("#go", "bob"))
    assert store.room("#rust") == room
    assert [r.name for r in store.rooms()] == ["#go", "#Rust"]
    store.close()
    store = SqliteStorage(str(db_path))
    assert store.room("#rust") == room
    store.delete_room("#go")
    assert store.room("#go") is None
    assert store.rooms() == [room]
    store.close()


def test_read_markers_round_trip(store: SqliteStorage) -> None:
    assert store.read_marker("alice", "#rust") is None
    store.set_read_marker("alice", "#rust", T0 + 0.25)
    store.set_read_marker("alice", "#rust", T0 + 0.5)
    store.set_read_marker("alice", "bob", T0)
    assert store.read_marker("alice", "#rust") == T0 + 0.5
    assert store.read_marker("alice", "bob") == T0
    assert store.read_marker("bob", "#rust") is None


# -- durability -----------------------------------------------------------------------


def crash(store: SqliteStorage) -> None:
    """The process dies: its connection goes without ``close`` (which would commit)."""
    store._db.close()


def committed_msgids(db_path: Path) -> list[str]:
    with sqlite3.connect(db_path) as db:
        found = [r[0] for r in db.execute("SELECT msgid FROM events ORDER BY id")]
    db.close()
    return found


def test_reads_see_queued_writes_and_commit_makes_them_durable(db_path: Path) -> None:
    store = SqliteStorage(str(db_path))
    store.append([msg(1)])
    store.save_account("alice", Account("alice", "h", "s"))
    # The server's reads see its queued writes at once ...
    assert ids(store.query("", "#rust", limit=10, latest=True)) == ["m1"]
    assert store.account("alice") is not None
    store.commit()
    store.commit()  # nothing queued: a no-op
    store.append([msg(2)])  # ... and a crash loses only what was never committed.
    crash(store)
    assert committed_msgids(db_path) == ["m1"]
    again = SqliteStorage(str(db_path))
    assert again.account("alice") is not None
    again.close()


def test_a_second_server_on_the_same_file_is_refused(db_path: Path) -> None:
    first = SqliteStorage(str(db_path))
    with pytest.raises(StorageError, match="in use by another ircish-server"):
        SqliteStorage(str(db_path))
    first.close()


def test_full_synchronous_is_applied(db_path: Path) -> None:
    store = SqliteStorage(str(db_path), synchronous="full")
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2
    store.close()


def fill_the_disk(store: SqliteStorage) -> None:
    """Make the database unable to grow: the next page it needs fails with SQLITE_FULL."""
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")


def big(n: int) -> StoredEvent:
    return msg(n, f"word{n} " + "x" * 3000)


def test_a_full_disk_is_logged_once_and_history_turns_off(
    store: SqliteStorage, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store.append([msg(1)])
    store.commit()
    fill_the_disk(store)
    with caplog.at_level(logging.ERROR, "ircish.storage"):
        store.append([big(n) for n in range(2, 40)])
        store.commit()
        assert not store.available
        store.append([big(n) for n in range(40, 80)])
        store.save_account("alice", Account("alice", "h", "s"))
        store.set_read_marker("alice", "#rust", T0)
        store.commit()
        assert store.prune(T0 + 100, max_age=1, max_per_target=0, batch=10) == 0
    failures = [r for r in caplog.records if "failed" in r.getMessage()]
    assert len(failures) == 1, caplog.text
    assert failures[0].getMessage() == (
        f"storage {db_path} failed: database or disk is full; history is unavailable from now on"
    )
    # What was committed before is still readable.
    assert ids(store.query("", "#rust", limit=10, latest=True)) == ["m1"]
    store.close()


def test_the_chat_keeps_going_when_the_disk_fills(caplog: pytest.LogCaptureFixture) -> None:
    net = MemoryNetwork(Config(history=HistoryConfig(enabled=True)), storage=True)
    assert net.storage is not None
    # Both in the default room, #lobby.
    alice, bob = net.plain("alice"), net.plain("bob")
    net.storage.commit()
    alice.lines()
    bob.lines()
    fill_the_disk(net.storage)
    long = "y" * 400
    with caplog.at_level(logging.ERROR, "ircish.storage"):
        for n in range(30):
            alice.send(f"{n} {long}")
            # As the server does once per loop pass.
            net.storage.commit()
        assert not net.storage.available
        bob.send("still here?")
        net.storage.commit()
    assert [line for line in bob.lines() if "<alice>" in line] == [
        f"[#lobby] <alice> {n} {long}" for n in range(30)
    ]
    # Her own lines echoed (netcat's /set echo), then bob's.
    assert alice.lines() == [
        *(f"[#lobby] <alice> {n} {long}" for n in range(30)),
        "[#lobby] <bob> still here?",
    ]
    assert sum("history is unavailable" in r.getMessage() for r in caplog.records) == 1
    # What was stored before the disk filled is still there to read; the rest is not.
    kept = net.storage.query("", "#lobby", limit=100, latest=False)
    assert [(type(e.event).__name__, e.event.nick) for e in kept[:2]] == [
        ("Join", "alice"),
        ("Join", "bob"),
    ]
    assert len(kept) < 2 + 30


# -- the retention timer ------------------------------------------------------------------


def retention_net(**history: Any) -> MemoryNetwork:
    return MemoryNetwork(Config(history=HistoryConfig(**history)), storage=True)


def lobby(net: MemoryNetwork) -> int:
    assert net.storage is not None
    return len(net.storage.query("", "#lobby", limit=100_000, latest=True))


def prune_timers(net: MemoryNetwork) -> list[float]:
    """In how many seconds the retention timer runs next (a list: there must be one)."""
    prune = net.chat._prune
    return [pytest.approx(due - net.now) for due, _, call in net.timers if call == prune]


def test_retention_runs_in_small_batches_on_a_timer() -> None:
    net = retention_net(max_per_target=5)
    alice = net.plain("alice")
    for n in range(1200):
        alice.send(f"line {n}")
    total = lobby(net)
    assert total == 1201  # alice's join, then her lines
    assert prune_timers(net) == [chat.PRUNE_EVERY]
    net.advance(chat.PRUNE_EVERY - 0.01)
    assert lobby(net) == total
    net.advance(0.01)
    assert lobby(net) == total - chat.PRUNE_BATCH
    # A full batch: the next one comes soon, not in PRUNE_EVERY seconds.
    assert prune_timers(net) == [chat.PRUNE_AGAIN]
    net.advance(chat.PRUNE_AGAIN)
    assert lobby(net) == total - 2 * chat.PRUNE_BATCH
    net.advance(chat.PRUNE_AGAIN)
    assert lobby(net) == 5
    assert prune_timers(net) == [chat.PRUNE_EVERY]
    assert net.storage is not None
    assert [e.event.text for e in net.storage.query("", "#lobby", limit=10, latest=True)] == [
        f"line {n}" for n in range(1195, 1200)
    ]


def test_retention_by_age_follows_the_clock() -> None:
    net = retention_net(max_age_days=1.0)
    alice = net.plain("alice")
    alice.send("old news")
    net.advance(86400 - 30)
    alice.send("fresh")
    assert lobby(net) == 3
    net.advance(60)
    assert net.storage is not None
    assert [e.event.text for e in net.storage.query("", "#lobby", limit=10, latest=True)] == [
        "fresh"
    ]


def test_no_retention_timer_without_limits() -> None:
    net = retention_net()
    net.plain("alice").send("kept forever")
    assert prune_timers(net) == []
    net.advance(3 * 86400)
    assert lobby(net) == 2
