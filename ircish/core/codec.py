"""What server processes tell each other through Redis, as versioned JSON (sans-IO).

Theory of operation: every stream entry is one JSON object with ``v``
(the format version, ``VERSION``), ``n`` (the node that wrote it) and ``k``
(its kind):

- ``"e"``: one command's published envelopes, in order, each a list
  ``[event type, event fields, audience type, audience fields, msgid, time,
  tags, echo, account, extra]``; ``extra`` carries what the event does not
  say and a replica needs (``{"s": "o"}``: the status a joiner got; ``"a"``:
  the acting user's uid, for events whose audience does not name them, since
  after an outage a nickname can briefly be two users'; ``"t"``: the uid of
  the user a kick, kill or invite names; ``"h"``: the history
  rows it makes, as ``[owner, target, account]``, so a node that backfills its
  history later needs no state of that time); entries without ``"a"`` or
  ``"t"`` (older ones) are resolved by the event's nicknames;
- ``"u"``: a user record (a user registered on ``n``);
- ``"s"``: a shared stored record changed on ``n`` (``t``: its table, one of
  ``SHARED_TABLES``; ``key``; ``r``: the record, None when it was deleted), the
  same JSON as in that table's hash (``ircish.net.cluster_storage``);
- ``"lost"``: node ``node`` lost its lease; written by the reaping script
  in Redis (``ircish.net.cluster``), hence the fixed field names.

Records of users and rooms are the same JSON objects in the snapshot
hashes. Decoding refuses (``ValueError``) anything of another version or
shape; events are rebuilt only from the known types (``events.EVENT_TYPES``).
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from ircish.core.events import AUDIENCE_TYPES, EVENT_TYPES, Envelope, decode_event, encode_event
from ircish.core.names import fold
from ircish.core.rooms import ListEntry
from ircish.core.storage import Account, RoomRecord, ServerBan
from ircish.core.storage import ListEntry as StoredListEntry

if TYPE_CHECKING:
    from ircish.core.rooms import Room
    from ircish.core.users import User

VERSION = 1

#: What ``"s"`` entries carry: accounts, registered rooms, read markers, server bans and
#: the network-wide settings (the cloak secret).
SHARED_TABLES = ("account", "room", "marker", "ban", "meta")

#: One envelope from elsewhere, and what its replica needs besides the event.
Extra = dict[str, Any]


def dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def encode_batch(node: str, envelopes: list[tuple[Envelope, Extra]]) -> str:
    """One command's envelopes (stamped) as a stream entry."""
    items = []
    for env, extra in envelopes:
        assert env.audience is not None
        kind, values = encode_event(env.event)
        akind, avalues = encode_event(env.audience)
        items.append(
            [
                kind,
                values,
                akind,
                avalues,
                env.msgid,
                env.time,
                [list(t) for t in env.tags],
                env.echo,
                env.account,
                extra,
            ]
        )
    return dumps({"v": VERSION, "n": node, "k": "e", "e": items})


def encode_user_entry(node: str, user: User) -> str:
    """A user of ``node`` registered: their record as a stream entry."""
    return dumps({"v": VERSION, "n": node, "k": "u", "u": user_record(user, node)})


def encode_shared(node: str, table: str, key: str, record: Any) -> str:
    """A shared record of ``table`` written (``record``) or deleted (None) on ``node``."""
    return dumps({"v": VERSION, "n": node, "k": "s", "t": table, "key": key, "r": record})


def decode(data: bytes | str) -> dict[str, Any]:
    """A stream entry's JSON object; ValueError if it is not one of this version."""
    try:
        obj = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(obj, dict) or obj.get("v") != VERSION:
        raise ValueError(f"not an entry of format version {VERSION}")
    if not isinstance(obj.get("n"), str) or obj.get("k") not in ("e", "u", "s", "lost"):
        raise ValueError("an entry without a node or of an unknown kind")
    return obj


def decode_envelopes(obj: dict[str, Any]) -> list[tuple[Envelope, Extra]]:
    """The envelopes of an ``"e"`` entry, stamped as they were; ValueError if malformed."""
    out: list[tuple[Envelope, Extra]] = []
    try:
        for kind, values, akind, avalues, msgid, when, tags, echo, account, extra in obj["e"]:
            env = Envelope(
                decode_event(kind, values, EVENT_TYPES),
                decode_event(akind, avalues, AUDIENCE_TYPES),
                None,
                tuple((str(k), str(v)) for k, v in tags),
                bool(echo),
                str(account),
            )
            env.msgid = str(msgid)
            env.time = float(when)
            out.append((env, extra if isinstance(extra, dict) else {}))
    except (KeyError, TypeError) as exc:
        raise ValueError(f"malformed envelopes: {exc}") from None
    return out


# -- records: users and rooms, in entries and in the snapshot ---------------------


def user_record(user: User, node: str = "") -> dict[str, Any]:
    """What others need to know of a user; ``node``: theirs (default ``user.node``)."""
    return {
        "uid": user.uid,
        "nick": user.nick,
        "username": user.username,
        "host": user.host,
        "ip": user.ip,
        "realname": user.realname,
        "modes": "".join(sorted(user.modes)),
        "away": user.away,
        "account": user.account,
        "oper": user.oper,
        "node": node or user.node,
        "signon": user.signon,
    }


def room_record(room: Room) -> dict[str, Any]:
    return {
        "name": room.name,
        "created": room.created,
        "topic": room.topic,
        "topic_by": room.topic_by,
        "topic_time": room.topic_time,
        "modes": "".join(sorted(room.modes)),
        "key": room.key,
        "limit": room.limit,
        "members": [[member.uid, status] for member, status in room.members.items()],
        "lists": {
            letter: [[e.mask, e.set_by, e.set_at] for e in entries.values()]
            for letter, entries in room.lists.items()
        },
    }


def fill_room(room: Room, record: dict[str, Any]) -> list[tuple[str, str]]:
    """Set ``room``'s topic, modes and lists from a record; returns its (uid, status) members."""
    try:
        room.created = float(record["created"])
        room.topic = str(record["topic"])
        room.topic_by = str(record["topic_by"])
        room.topic_time = float(record["topic_time"])
        room.modes = set(str(record["modes"]))
        room.key = str(record["key"])
        room.limit = int(record["limit"])
        for letter, entries in record["lists"].items():
            if letter in room.lists:
                room.lists[letter] = {
                    fold(str(mask)): ListEntry(str(mask), str(by), float(at))
                    for mask, by, at in entries
                }
        return [(str(uid), str(status)) for uid, status in record["members"]]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"malformed room record: {exc}") from None


# -- shared stored records ("s" entries and the shared hashes) ----------------------


def shared_record(table: str, value: Any) -> Any:
    """A stored value of ``table`` as JSON-ready data (``shared_value`` reads it back)."""
    if table == "meta":
        return str(value)
    if table == "marker":
        target, when = value
        return {"target": str(target), "time": float(when)}
    return dataclasses.asdict(value)


def shared_value(table: str, record: Any) -> Any:
    """``shared_record``'s data as the storage's value again; ValueError if malformed.

    account: ``Account``; room: ``RoomRecord``; ban: ``ServerBan``; marker:
    (target as written, time); meta: the string.
    """
    try:
        if table == "account":
            return Account(**record)
        if table == "room":
            raw = dict(record)
            lists = {
                str(letter): [StoredListEntry(**entry) for entry in entries]
                for letter, entries in raw.pop("lists", {}).items()
            }
            return RoomRecord(**raw, lists=lists)
        if table == "ban":
            return ServerBan(**record)
        if table == "marker":
            return (str(record["target"]), float(record["time"]))
        if table == "meta" and isinstance(record, str):
            return record
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"malformed {table} record: {exc}") from None
    raise ValueError(f"a record of an unknown table {table!r}")
