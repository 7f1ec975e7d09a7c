"""The embedded storage: one SQLite file (stdlib ``sqlite3``), WAL, group commit.

Theory of operation: the connection runs in autocommit mode and this class
opens one transaction at the first write of a loop pass and commits it in
``commit``, which the network layer calls once per pass before any output is
sent (see ``ircish.core.storage``). History events are collected in a list
and inserted with one ``executemany`` at commit time, or earlier when a read
needs them. WAL with ``synchronous=NORMAL`` makes a commit cost no fsync
while keeping every committed transaction across a process crash (``FULL``
also across a power loss).

A write that fails at run time (disk full, I/O error) is logged once; the
transaction is rolled back, ``available`` turns False and later writes are
dropped, so the chat keeps going without history.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

from ircish.config import StorageConfig
from ircish.core.events import decode_event, encode_event
from ircish.core.names import fold
from ircish.core.storage import Account, ListEntry, RoomRecord, ServerBan, StoredEvent
from ircish.errors import StorageError

log = logging.getLogger("ircish.storage")

#: The schema this code writes; older files are migrated at start.
SCHEMA_VERSION = 4
#: Searchable rows are indexed once this many are waiting, or after this many seconds:
#: FTS5 in every per-pass commit would make it cost four times as much, and a small
#: batch keeps each indexing pause short (about 10 us a row).
INDEX_BATCH = 64
INDEX_DELAY = 2.0


def open_storage(config: StorageConfig) -> SqliteStorage | None:
    """The configured storage, or None when ``[storage] path`` is empty. Raises StorageError."""
    if not config.path:
        return None
    return SqliteStorage(config.path, synchronous=config.synchronous)


def _check_location(path: str) -> None:
    """Fail early, naming the reason, when the file's directory cannot hold it."""
    file = Path(path).expanduser()
    parent = file.absolute().parent
    # The nearest existing ancestor says why: missing, or a file where a directory should be.
    ancestor = parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise StorageError(f"{path}: {ancestor} is not a directory")
    if ancestor != parent:
        raise StorageError(f"{path}: directory {parent} does not exist")
    if file.is_dir():
        raise StorageError(f"{path}: is a directory")


def _create_private(file: str) -> None:
    """Create a new database file readable by the server's user only.

    It holds password hashes and private messages; SQLite gives its -wal and
    -shm files the same permissions. An existing file keeps its own.
    """
    try:
        os.close(os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise StorageError(f"{file}: cannot create it: {exc.strerror}") from None


def _ms(t: float) -> int:
    return round(t * 1000)


def fts_query(text: str) -> str:
    """User text as an FTS5 query: every word must appear, nothing is syntax."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in text.split())


#: A key with a character outside printable ASCII (GLOB).
_NON_ASCII = "GLOB '*[^ -~]*'"


def _refold_keys(db: sqlite3.Connection) -> None:
    """Version 4: keys folded by NFC + ``str.casefold`` are re-folded by PRECIS (names.py).

    Accounts and registered rooms keep their names, so their new keys are exact, and
    every other column that holds one of them (read markers, private histories'
    owners, room access lists, events' targets) follows the same mapping. Any other
    non-ASCII key (a nickname with no account) is folded again, which is exact but
    for names that casefold changed beyond lowercase (``ß`` had become ``ss``). Two
    accounts or rooms that now share a key keep the first; the other is logged.
    """
    renamed: dict[str, str] = {}
    for table in ("accounts", "rooms"):
        # Every row: an ASCII key may stand for a name that is not ("strasse", "Straße").
        for old, data in db.execute(f"SELECT folded, data FROM {table}").fetchall():
            name = json.loads(data).get("name")
            new = fold(name) if isinstance(name, str) else old
            if new == old:
                continue
            if db.execute(f"SELECT 1 FROM {table} WHERE folded = ?", (new,)).fetchone():
                log.warning("storage: %s %r now shares a key; left as it was", table, name)
                continue
            db.execute(f"UPDATE {table} SET folded = ? WHERE folded = ?", (new, old))
            renamed[old] = new

    def refold(key: str) -> str:
        return renamed.get(key) or (fold(key) if not key.isascii() else key)

    for folded, data in db.execute("SELECT folded, data FROM rooms").fetchall():
        room = json.loads(data)
        access = room.get("access") or {}
        room["access"] = {refold(k): v for k, v in access.items()}
        if room["access"] != access:
            db.execute("UPDATE rooms SET data = ? WHERE folded = ?", (json.dumps(room), folded))
    for account, target, when in db.execute("SELECT * FROM read_markers").fetchall():
        keys = (refold(account), refold(target))
        if keys == (account, target):
            continue
        db.execute("DELETE FROM read_markers WHERE account = ? AND target = ?", (account, target))
        db.execute(
            "INSERT INTO read_markers (account, target, time) VALUES (?, ?, ?) ON CONFLICT"
            " (account, target) DO UPDATE SET time = MAX(time, excluded.time)",
            (*keys, when),
        )
    db.execute("CREATE TEMP TABLE refolded (old TEXT PRIMARY KEY)")
    db.executemany("INSERT INTO refolded VALUES (?)", ((old,) for old in renamed))
    events = db.execute(
        "SELECT id, owner, target FROM events"
        f" WHERE owner {_NON_ASCII} OR target {_NON_ASCII}"
        " OR target IN (SELECT old FROM refolded)"
        " OR substr(owner, 3) IN (SELECT old FROM refolded)"
    ).fetchall()
    for row_id, owner, target in events:
        kind, colon, key = owner.partition(":")
        # "a:<folded account>" is a name; "u:<uid>" and "" (a room's history) are not.
        new_owner = f"a:{refold(key)}" if kind == "a" and colon else owner
        db.execute(
            "UPDATE events SET owner = ?, target = ? WHERE id = ?",
            (new_owner, refold(target), row_id),
        )
    db.execute("DROP TABLE refolded")


_MIGRATIONS: dict[int, list[str | Callable[[sqlite3.Connection], None]]] = {
    1: [
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            msgid TEXT NOT NULL,
            time INTEGER NOT NULL,
            owner TEXT NOT NULL,
            target TEXT NOT NULL,
            kind TEXT NOT NULL,
            nick TEXT NOT NULL,
            account TEXT NOT NULL,
            text TEXT NOT NULL,
            data TEXT NOT NULL,
            tags TEXT NOT NULL
        )""",
        "CREATE INDEX events_by_target ON events (owner, target, time)",
        "CREATE INDEX events_by_msgid ON events (msgid)",
        "CREATE INDEX events_by_time ON events (time)",
        "CREATE VIRTUAL TABLE events_text USING fts5 (text, content='events', content_rowid='id')",
        """CREATE TRIGGER events_text_add AFTER INSERT ON events WHEN new.text != '' BEGIN
            INSERT INTO events_text (rowid, text) VALUES (new.id, new.text);
        END""",
        """CREATE TRIGGER events_text_del AFTER DELETE ON events WHEN old.text != '' BEGIN
            INSERT INTO events_text (events_text, rowid, text) VALUES ('delete', old.id, old.text);
        END""",
        "CREATE TABLE accounts (folded TEXT PRIMARY KEY, data TEXT NOT NULL)",
        "CREATE TABLE rooms (folded TEXT PRIMARY KEY, data TEXT NOT NULL)",
        """CREATE TABLE read_markers (
            account TEXT NOT NULL, target TEXT NOT NULL, time INTEGER NOT NULL,
            PRIMARY KEY (account, target)
        )""",
    ],
    # Full-text indexing leaves the per-pass commit (FTS5 made each commit cost about
    # 4x): rows are indexed in batches (``_index_text``), up to meta 'fts_upto'. The
    # msgid and time indexes go too: a msgid carries its time, and retention by age
    # walks the oldest rows by id.
    2: [
        "DROP TRIGGER events_text_add",
        "DROP TRIGGER events_text_del",
        "DROP INDEX events_by_msgid",
        "DROP INDEX events_by_time",
        """INSERT OR REPLACE INTO meta (key, value)
            SELECT 'fts_upto', CAST(COALESCE(MAX(id), 0) AS TEXT) FROM events""",
        # Only indexed rows may be deleted from the index (FTS5 external content).
        """CREATE TRIGGER events_text_del AFTER DELETE ON events WHEN old.text != ''
            AND old.id <= (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'fts_upto')
        BEGIN
            INSERT INTO events_text (events_text, rowid, text) VALUES ('delete', old.id, old.text);
        END""",
    ],
    # Server bans (K-lines, D-lines), keyed by kind and folded mask or network; times in ms,
    # expires 0 for never. Settings such as the generated cloak secret go in meta.
    3: [
        """CREATE TABLE server_bans (
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            mask TEXT NOT NULL,
            reason TEXT NOT NULL,
            set_by TEXT NOT NULL,
            set_at INTEGER NOT NULL,
            expires INTEGER NOT NULL,
            PRIMARY KEY (kind, key)
        )""",
    ],
    4: [_refold_keys],
}

#: Settings (``meta``/``save_meta``) live in the meta table under this prefix, apart
#: from the schema's own keys.
_SETTING = "setting:"


#: One encoder for every stored event: ``json.dumps`` with options builds one per call.
_to_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

#: Event types whose text is searchable (see ``_text_of``).
_SEARCHABLE = frozenset({"Privmsg", "Multiline"})


def _text_of(values: list[Any], kind: str) -> str:
    # Only what people wrote is searchable: messages (and multiline batches).
    if kind == "Privmsg":
        return str(values[3])
    if kind == "Multiline":
        return "\n".join(values[3])
    return ""


class SqliteStorage:
    """``ircish.core.storage.Storage`` on one SQLite database."""

    def __init__(self, path: str, *, synchronous: Literal["normal", "full"] = "normal") -> None:
        self.path = path
        self.available = True
        self._pending: list[tuple[Any, ...]] = []
        self._in_txn = False
        #: Transactions committed (the metrics endpoint reports it).
        self.commits = 0
        #: Where the per-target retention sweep goes on: the last (owner, target) it checked.
        self._sweep: tuple[str, str] = ("", "")
        #: Whether the sweep starts at ``_sweep`` itself (it was cut short by the batch size).
        self._sweep_again = False
        #: Full-text indexing: rows up to this id are indexed; searchable rows waiting; when.
        self._fts_upto = 0
        self._unindexed = 0
        self._indexed_at = 0.0
        file = path
        if path != ":memory:":
            _check_location(path)
            file = str(Path(path).expanduser())
            _create_private(file)
        #: What the start-up log names: the absolute file, or ":memory:".
        self.location = file if path == ":memory:" else str(Path(file).resolve())
        try:
            # A short busy timeout: another process holding the write lock must not
            # stall the loop for the default 5 s before storage gives up.
            self._db = sqlite3.connect(
                file, timeout=0.5, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StorageError(f"{path}: cannot open: {exc}") from exc
        try:
            db = self._db
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={synchronous.upper()}")
            # One server owns the file: no lock calls or shared-memory index per
            # transaction (a third of a small commit's cost), and a second server
            # started on the same file is refused at start instead of interleaving.
            db.execute("PRAGMA locking_mode=EXCLUSIVE")
            db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
            self._load_index_state()
            # A file we can read but not write (read-only file or mount) fails here, at
            # start, rather than at the first message.
            db.execute("BEGIN IMMEDIATE")
            db.execute("ROLLBACK")
        except sqlite3.Error as exc:
            db.close()
            if getattr(exc, "sqlite_errorname", "") == "SQLITE_BUSY":
                raise StorageError(
                    f"{path}: in use by another ircish-server (or another program): {exc}"
                ) from exc
            raise StorageError(f"{path}: {exc}") from exc
        except StorageError:
            db.close()
            raise

    # -- schema -------------------------------------------------------------------

    def _migrate(self) -> None:
        db = self._db
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        version = 0
        if "meta" in tables:
            row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None or not str(row[0]).isdigit():
                raise StorageError(f"{self.path}: not an ircish database (no schema version)")
            version = int(row[0])
        elif tables:
            raise StorageError(f"{self.path}: not an ircish database (tables: {sorted(tables)})")
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"{self.path}: schema version {version} is newer than this ircish "
                f"({SCHEMA_VERSION}); upgrade ircish"
            )
        if version == SCHEMA_VERSION:
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            if version == 0:
                db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[step]:
                    if isinstance(statement, str):
                        db.execute(statement)
                    else:
                        statement(db)
                if version:
                    log.info("storage %s: migrated to schema version %d", self.path, step)
            if not version:
                log.info("storage %s: new database (schema version %d)", self.path, SCHEMA_VERSION)
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def schema_version(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0])

    # -- durability ---------------------------------------------------------------

    def _write(self, sql: str, params: Iterable[Any] = ()) -> None:
        if not self.available:
            return
        try:
            self._begin()
            self._db.execute(sql, tuple(params))
        except sqlite3.Error as exc:
            self._failed(exc)

    def _begin(self) -> None:
        if not self._in_txn:
            self._db.execute("BEGIN")
            self._in_txn = True

    def _flush_events(self) -> None:
        if not self._pending or not self.available:
            self._pending.clear()
            return
        rows, self._pending = self._pending, []
        try:
            self._begin()
            self._db.executemany(
                "INSERT INTO events (msgid, time, owner, target, kind, nick, account, text,"
                " data, tags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        except sqlite3.Error as exc:
            self._failed(exc)

    def _load_index_state(self) -> None:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'fts_upto'").fetchone()
        self._fts_upto = int(row[0]) if row else 0
        newest = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]
        # Rows a crash left unindexed are picked up by the next batch.
        self._unindexed = int(newest > self._fts_upto)
        self._indexed_at = time.monotonic()

    def _index_text(self) -> None:
        """Add every row newer than 'fts_upto' to the full-text index, in the open transaction."""
        if not self._unindexed or not self.available:
            return
        try:
            self._begin()
            db = self._db
            db.execute(
                "INSERT INTO events_text (rowid, text)"
                " SELECT id, text FROM events WHERE id > ? AND text != ''",
                (self._fts_upto,),
            )
            newest = db.execute(
                "SELECT COALESCE(MAX(id), ?) FROM events", (self._fts_upto,)
            ).fetchone()[0]
            db.execute("UPDATE meta SET value = ? WHERE key = 'fts_upto'", (str(newest),))
        except sqlite3.Error as exc:
            self._failed(exc)
            return
        self._fts_upto = newest
        self._unindexed = 0
        self._indexed_at = time.monotonic()

    @property
    def uncommitted(self) -> bool:
        return self._in_txn or bool(self._pending)

    def commit(self) -> None:
        self._flush_events()
        if self._unindexed and (
            self._unindexed >= INDEX_BATCH or time.monotonic() - self._indexed_at >= INDEX_DELAY
        ):
            self._index_text()
        if not self._in_txn:
            return
        try:
            self._db.execute("COMMIT")
            self.commits += 1
        except sqlite3.Error as exc:
            self._failed(exc)
        finally:
            self._in_txn = False

    def _failed(self, exc: sqlite3.Error) -> None:
        if self.available:
            log.error("storage %s failed: %s; history is unavailable from now on", self.path, exc)
        self.available = False
        self._pending.clear()
        try:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass
        self._in_txn = False

    def close(self) -> None:
        self.commit()
        try:
            self._db.close()
        except sqlite3.Error as exc:
            log.warning("storage %s: %s while closing", self.path, exc)

    def _read(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        self._flush_events()
        try:
            return self._db.execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as exc:
            log.error("storage %s: read failed: %s", self.path, exc)
            return []

    # -- history ------------------------------------------------------------------

    def append(self, events: list[StoredEvent]) -> None:
        if not self.available:
            return
        for item in events:
            kind, values = encode_event(item.event)
            if kind in _SEARCHABLE:
                self._unindexed += 1
            nick = getattr(item.event, "nick", "") or ""
            self._pending.append(
                (
                    item.msgid,
                    _ms(item.time),
                    item.owner,
                    item.target,
                    kind,
                    nick.casefold(),
                    item.account,
                    _text_of(values, kind),
                    _to_json(values),
                    _to_json(item.tags) if item.tags else "",
                )
            )

    @staticmethod
    def _event(row: tuple[Any, ...]) -> StoredEvent | None:
        msgid, time, owner, target, kind, account, data, tags = row
        try:
            event = decode_event(kind, json.loads(data))
            tag_pairs = tuple((str(k), str(v)) for k, v in json.loads(tags)) if tags else ()
        except (ValueError, TypeError) as exc:
            log.warning("skipping unreadable stored event %s: %s", msgid, exc)
            return None
        return StoredEvent(msgid, time / 1000, owner, target, event, tag_pairs, account)

    def _events(self, rows: list[Any]) -> list[StoredEvent]:
        out = []
        for row in rows:
            item = self._event(row)
            if item is not None:
                out.append(item)
        return out

    _COLUMNS = "msgid, time, owner, target, kind, account, data, tags"

    def time_of(self, owner: str, target: str, msgid: str) -> float | None:
        # An ircish msgid starts with its millisecond (core.pipeline.MsgIdMinter), so the
        # conversation's (owner, target, time) index finds it without an index of its own.
        try:
            ms = int(msgid[:11], 16) if len(msgid) == 29 else None
        except ValueError:
            ms = None
        if ms is None:
            # Not an ircish msgid (none is stored): the conversation is scanned.
            rows = self._read(
                "SELECT time FROM events WHERE owner = ? AND target = ? AND msgid = ? LIMIT 1",
                (owner, target, msgid),
            )
        else:
            rows = self._read(
                "SELECT time FROM events WHERE owner = ? AND target = ?"
                " AND time BETWEEN ? AND ? AND msgid = ? LIMIT 1",
                (owner, target, ms - 1, ms + 1, msgid),
            )
        return rows[0][0] / 1000 if rows else None

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
        where = "owner = ? AND target = ?"
        params: list[Any] = [owner, target]
        if after is not None:
            where += " AND time > ?"
            params.append(_ms(after))
        if before is not None:
            where += " AND time < ?"
            params.append(_ms(before))
        order = "DESC" if latest else "ASC"
        rows = self._read(
            f"SELECT {self._COLUMNS} FROM events WHERE {where} ORDER BY time {order}, id {order}"
            " LIMIT ?",
            (*params, max(0, limit)),
        )
        if latest:
            rows.reverse()
        return self._events(rows)

    def targets(
        self, owner: str, rooms: list[str], after: float, before: float, limit: int
    ) -> list[tuple[str, float]]:
        found: list[tuple[str, float]] = []
        lo, hi = _ms(after), _ms(before)
        if owner:
            rows = self._read(
                "SELECT target, MAX(time) FROM events WHERE owner = ? AND time > ? AND time < ?"
                " GROUP BY target",
                (owner, lo, hi),
            )
            found.extend((t, ms / 1000) for t, ms in rows)
        for room in rooms:
            rows = self._read(
                "SELECT MAX(time) FROM events WHERE owner = '' AND target = ? AND time > ?"
                " AND time < ?",
                (room, lo, hi),
            )
            if rows and rows[0][0] is not None:
                found.append((room, rows[0][0] / 1000))
        found.sort(key=lambda item: item[1])
        return found[-limit:] if limit > 0 else []

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
        query = fts_query(text)
        if not query:
            return []
        self._flush_events()
        self._index_text()
        where = ["events_text MATCH ?"]
        params: list[Any] = [query]
        if target is not None:
            room = target.startswith(("#", "&"))
            where.append("e.owner = ? AND e.target = ?")
            params += ["" if room else owner, target]
        else:
            marks = ",".join("?" * len(rooms))
            scopes = [f"(e.owner = '' AND e.target IN ({marks}))"]
            params += rooms
            if owner:
                scopes.append("e.owner = ?")
                params.append(owner)
            where.append("(" + " OR ".join(scopes) + ")")
        if nick is not None:
            where.append("e.nick = ?")
            params.append(nick.casefold())
        cols = ", ".join("e." + c.strip() for c in self._COLUMNS.split(","))
        rows = self._read(
            f"SELECT {cols} FROM events_text JOIN events e ON e.id = events_text.rowid"
            f" WHERE {' AND '.join(where)} ORDER BY e.time DESC, e.id DESC LIMIT ?",
            (*params, max(0, limit)),
        )
        rows.reverse()
        return self._events(rows)

    #: Conversations the per-target sweep looks at in one ``prune`` call.
    SWEEP_TARGETS = 32

    def prune(self, now: float, max_age: float, max_per_target: int, batch: int) -> int:
        if not self.available or batch <= 0:
            return 0
        self._flush_events()
        deleted = 0
        try:
            self._begin()
            if max_age > 0:
                # The oldest rows by id (ids grow with time): at most ``batch`` are looked at.
                cur = self._db.execute(
                    "DELETE FROM events WHERE id IN (SELECT id FROM"
                    " (SELECT id, time FROM events ORDER BY id LIMIT ?) WHERE time < ?)",
                    (batch, _ms(now - max_age)),
                )
                deleted += max(0, cur.rowcount)
            if max_per_target > 0 and deleted < batch:
                deleted += self._prune_targets(max_per_target, batch - deleted)
        except sqlite3.Error as exc:
            self._failed(exc)
        return deleted

    def _prune_targets(self, keep: int, budget: int) -> int:
        """Trim a few conversations to their newest ``keep`` events, resuming a sweep.

        No query counts the whole table: each step seeks the next (owner, target)
        in the index after the last one checked, and finds its cutoff by skipping
        ``keep`` index entries. A full sweep of T conversations takes T / 32 calls.
        """
        db = self._db
        deleted = 0
        for _ in range(self.SWEEP_TARGETS):
            after = ">=" if self._sweep_again else ">"
            self._sweep_again = False
            row = db.execute(
                f"SELECT owner, target FROM events WHERE (owner, target) {after} (?, ?)"
                " ORDER BY owner, target LIMIT 1",
                self._sweep,
            ).fetchone()
            if row is None:
                self._sweep = ("", "")
                break
            owner, target = self._sweep = (row[0], row[1])
            cutoff = db.execute(
                "SELECT time, id FROM events WHERE owner = ? AND target = ?"
                " ORDER BY time DESC, id DESC LIMIT 1 OFFSET ?",
                (owner, target, keep),
            ).fetchone()
            if cutoff is None:
                continue
            cur = db.execute(
                "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE owner = ?"
                " AND target = ? AND (time, id) <= (?, ?) ORDER BY time, id LIMIT ?)",
                (owner, target, cutoff[0], cutoff[1], budget - deleted),
            )
            deleted += max(0, cur.rowcount)
            if deleted >= budget:
                # This conversation may still be over its limit: look at it again first.
                self._sweep_again = True
                break
        return deleted

    # -- accounts -----------------------------------------------------------------

    def account(self, folded: str) -> Account | None:
        rows = self._read("SELECT data FROM accounts WHERE folded = ?", (folded,))
        if not rows:
            return None
        return Account(**json.loads(rows[0][0]))

    def account_names(self) -> list[str]:
        return [json.loads(row[0])["name"] for row in self._read("SELECT data FROM accounts")]

    def save_account(self, folded: str, account: Account) -> None:
        self._write(
            "INSERT OR REPLACE INTO accounts (folded, data) VALUES (?, ?)",
            (folded, json.dumps(asdict(account))),
        )

    def delete_account(self, folded: str) -> None:
        self._write("DELETE FROM accounts WHERE folded = ?", (folded,))
        self._write("DELETE FROM read_markers WHERE account = ?", (folded,))
        self._flush_events()
        self._write("DELETE FROM events WHERE owner = ?", ("a:" + folded,))

    # -- registered rooms -----------------------------------------------------------

    @staticmethod
    def _room(data: str) -> RoomRecord:
        raw = json.loads(data)
        lists = {
            letter: [ListEntry(**entry) for entry in entries]
            for letter, entries in raw.pop("lists", {}).items()
        }
        return RoomRecord(**raw, lists=lists)

    def room(self, folded: str) -> RoomRecord | None:
        rows = self._read("SELECT data FROM rooms WHERE folded = ?", (folded,))
        return self._room(rows[0][0]) if rows else None

    def rooms(self) -> list[RoomRecord]:
        return [self._room(r[0]) for r in self._read("SELECT data FROM rooms ORDER BY folded")]

    def save_room(self, folded: str, room: RoomRecord) -> None:
        self._write(
            "INSERT OR REPLACE INTO rooms (folded, data) VALUES (?, ?)",
            (folded, json.dumps(asdict(room))),
        )

    def delete_room(self, folded: str) -> None:
        self._write("DELETE FROM rooms WHERE folded = ?", (folded,))

    # -- read markers ---------------------------------------------------------------

    def read_marker(self, account: str, target: str) -> float | None:
        rows = self._read(
            "SELECT time FROM read_markers WHERE account = ? AND target = ?", (account, target)
        )
        return rows[0][0] / 1000 if rows else None

    def read_markers(self) -> list[tuple[str, str, float]]:
        """Every read marker as (account, target, time) (``[cluster]`` compares them at start)."""
        rows = self._read("SELECT account, target, time FROM read_markers")
        return [(account, target, when / 1000) for account, target, when in rows]

    def set_read_marker(self, account: str, target: str, time: float) -> None:
        self._write(
            "INSERT OR REPLACE INTO read_markers (account, target, time) VALUES (?, ?, ?)",
            (account, target, _ms(time)),
        )

    # -- server bans ------------------------------------------------------------------

    def bans(self) -> list[ServerBan]:
        rows = self._read(
            "SELECT kind, mask, reason, set_by, set_at, expires FROM server_bans"
            " ORDER BY set_at, kind, key"
        )
        return [
            ServerBan(kind, mask, reason, set_by, set_at / 1000, expires / 1000)
            for kind, mask, reason, set_by, set_at, expires in rows
        ]

    def save_ban(self, key: str, ban: ServerBan) -> None:
        self._write(
            "INSERT OR REPLACE INTO server_bans (kind, key, mask, reason, set_by, set_at, expires)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (ban.kind, key, ban.mask, ban.reason, ban.set_by, _ms(ban.set_at), _ms(ban.expires)),
        )

    def delete_ban(self, kind: str, key: str) -> None:
        self._write("DELETE FROM server_bans WHERE kind = ? AND key = ?", (kind, key))

    # -- settings -----------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE key = ?", (_SETTING + key,))
        return str(rows[0][0]) if rows else None

    def save_meta(self, key: str, value: str) -> None:
        self._write(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (_SETTING + key, value)
        )
