"""Reply bursts that several commands send: welcome, ISUPPORT, LUSERS, MOTD, topic, NAMES."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from ircish.config import Config
from ircish.core import replay
from ircish.core.events import Burst, Numeric
from ircish.core.rooms import MAX_PARAM_MODES
from ircish.errors import CommandError
from ircish.protocol import numerics as n

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client
    from ircish.core.rooms import Room

#: RPL_NAMREPLY lines are split so that each stays well inside 512 bytes.
_NAMES_CHUNK = 400
#: User modes and room modes, as RPL_MYINFO lists them.
USER_MODES = "Biow"
ROOM_MODES = "beiIklmnostv"
ROOM_MODES_WITH_PARAM = "beIklov"


T = TypeVar("T")

#: What is made from a config, by (kind, id(config), more keys): (config, value).
_made: dict[Hashable, tuple[Config, Any]] = {}


def _per_config(chat: Chat, kind: str, make: Callable[[Chat], T], *keys: Hashable) -> T:
    """``make(chat)``, made once per config (and ``keys``), as long as that config is in use.

    Every registration sends what is made here, and a config never changes (a reload
    is a new one). Looked up by the config's identity: hashing a Config hashes all of it.
    """
    config = chat.config
    key = (kind, id(config), *keys)
    entry = _made.get(key)
    if entry is not None and entry[0] is config:
        value: T = entry[1]
        return value
    if len(_made) >= 32:
        _made.clear()  # configs of the past (reloads, tests): made again if ever used
    value = make(chat)
    # The config is held with its value, so its id cannot be reused while the entry lives.
    _made[key] = (config, value)
    return value


def isupport_tokens(chat: Chat) -> tuple[str, ...]:
    """The ISUPPORT (005) tokens; each one describes something implemented."""
    history = replay.history_storage(chat) is not None
    return _per_config(chat, "isupport", lambda c: _isupport_tokens(c.config, history), history)


def _isupport_tokens(config: Config, history: bool = True) -> tuple[str, ...]:
    lim = config.limits
    # draft/chathistory: the most events one request returns, and the selectors it takes.
    chathistory = (f"CHATHISTORY={config.history.max_request}",) if history else ()
    msgreftypes = ("MSGREFTYPES=msgid,timestamp",) if history else ()
    return (
        f"AWAYLEN={lim.max_topic_length}",
        "BOT=B",
        "CASEMAPPING=rfc8265",
        f"CHANLIMIT=#:{lim.max_rooms_per_user}",
        "CHANMODES=beI,k,l,imnst",
        f"CHANNELLEN={lim.max_room_name_length}",
        "CHANTYPES=#",
        *chathistory,
        "ELIST=CMNTU",
        "EXCEPTS=e",
        "INVEX=I",
        f"KICKLEN={lim.max_topic_length}",
        f"MAXLIST=beI:{lim.max_list_entries}",
        "MAXTARGETS=4",
        f"MODES={MAX_PARAM_MODES}",
        f"MONITOR={lim.max_monitor}",
        *msgreftypes,
        f"NAMELEN={MAX_REALNAME}",
        f"NETWORK={config.server.network}",
        f"NICKLEN={lim.max_nick_length}",
        "PREFIX=(ov)@+",
        "SAFELIST",
        "STATUSMSG=@+",
        "TARGMAX=JOIN:,KICK:4,MONITOR:,NAMES:1,NOTICE:4,PART:,PRIVMSG:4,TAGMSG:4,WHOIS:1,WHOWAS:4",
        f"TOPICLEN={lim.max_topic_length}",
        "UTF8ONLY",
        "WHOX",
    )


#: Longest realname (ISUPPORT ``NAMELEN``).
MAX_REALNAME = 100


def _isupport_numerics(chat: Chat) -> list[Numeric]:
    tokens = isupport_tokens(chat)
    return [
        Numeric(n.RPL_ISUPPORT, (*tokens[i : i + 12], "are supported by this server"))
        for i in range(0, len(tokens), 12)
    ]


def send_isupport(chat: Chat, client: Client) -> None:
    for numeric in _isupport_numerics(chat):
        chat.reply(client, numeric)


@functools.lru_cache(maxsize=8)
def _created_text(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _server_numerics(chat: Chat) -> Burst:
    """002-005: what registration tells of the server, the same for every user."""
    server = chat.server_name
    return Burst(
        (
            Numeric(n.RPL_YOURHOST, (f"Your host is {server}, running version {chat.version}",)),
            Numeric(n.RPL_CREATED, (f"This server was created {_created_text(chat.created)}",)),
            Numeric(
                n.RPL_MYINFO,
                (server, chat.version, USER_MODES, ROOM_MODES, ROOM_MODES_WITH_PARAM),
            ),
            *_isupport_numerics(chat),
        )
    )


def send_welcome(chat: Chat, client: Client) -> None:
    """001-005, LUSERS and MOTD, as every IRC client expects after registering.

    002-005 and the MOTD are made once per config (``Burst``), so that a dialect
    renders them once; 001 and LUSERS are made for each registration.
    """
    user = client.user
    chat.numeric(
        client,
        n.RPL_WELCOME,
        f"Welcome to the {chat.config.server.network} IRC Network {user.mask}",
    )
    history = replay.history_storage(chat) is not None
    keys = (history, chat.version, chat.created)
    chat.reply(client, _per_config(chat, "welcome", _server_numerics, *keys))
    send_lusers(chat, client)
    motd = _per_config(chat, "motd", lambda c: Burst(tuple(_motd_numerics(c))))
    if motd.numerics:
        chat.reply(client, motd)
    else:
        chat.error(client, CommandError(n.ERR_NOMOTD))
    if user.modes:
        chat.numeric(client, n.RPL_UMODEIS, "+" + "".join(sorted(user.modes)))


def _motd_numerics(chat: Chat) -> list[Numeric]:
    """375, 372s and 376; none without a MOTD."""
    motd = chat.config.server.motd
    if not motd:
        return []
    return [
        Numeric(n.RPL_MOTDSTART, (f"- {chat.server_name} Message of the day - ",)),
        *(Numeric(n.RPL_MOTD, (f"- {line}",)) for line in motd.splitlines()),
        Numeric(n.RPL_ENDOFMOTD, ("End of /MOTD command.",)),
    ]


def send_motd(chat: Chat, client: Client) -> None:
    numerics = _motd_numerics(chat)
    if not numerics:
        raise CommandError(n.ERR_NOMOTD)
    for numeric in numerics:
        chat.reply(client, numeric)


def send_lusers(chat: Chat, client: Client) -> None:
    """The whole LUSERS set (251-255, 265, 266); counts are kept, never scanned."""
    users = len(chat.users)
    local = users - chat.remote_users
    invisible = chat.invisible
    unknown = len(chat.clients) - local
    most = max(chat.max_users, users)
    most_local = max(chat.max_local, local)
    chat.numeric(
        client,
        n.RPL_LUSERCLIENT,
        f"There are {users - invisible} users and {invisible} invisible on 1 servers",
    )
    chat.numeric(client, n.RPL_LUSEROP, str(chat.operators), "operator(s) online")
    chat.numeric(client, n.RPL_LUSERUNKNOWN, str(max(0, unknown)), "unknown connection(s)")
    chat.numeric(client, n.RPL_LUSERCHANNELS, str(len(chat.rooms)), "channels formed")
    chat.numeric(client, n.RPL_LUSERME, f"I have {local} clients and 0 servers")
    chat.numeric(
        client,
        n.RPL_LOCALUSERS,
        str(local),
        str(most_local),
        f"Current local users {local}, max {most_local}",
    )
    chat.numeric(
        client,
        n.RPL_GLOBALUSERS,
        str(users),
        str(most),
        f"Current global users {users}, max {most}",
    )


def send_topic(chat: Chat, client: Client, room: Room) -> None:
    if not room.topic:
        chat.numeric(client, n.RPL_NOTOPIC, room.name, "No topic is set")
        return
    chat.numeric(client, n.RPL_TOPIC, room.name, room.topic)
    chat.numeric(client, n.RPL_TOPICWHOTIME, room.name, room.topic_by, str(int(room.topic_time)))


def send_names(chat: Chat, client: Client, room: Room) -> None:
    """RPL_NAMREPLY lines then RPL_ENDOFNAMES."""
    multi = "multi-prefix" in client.caps
    full = "userhost-in-names" in client.caps
    symbol = "@" if "s" in room.modes else "="
    entries = [room.prefix_of(m, multi) + (m.mask if full else m.nick) for m in room.members]
    line: list[str] = []
    size = 0
    for entry in entries:
        if line and size + len(entry) + 1 > _NAMES_CHUNK:
            chat.numeric(client, n.RPL_NAMREPLY, symbol, room.name, " ".join(line))
            line, size = [], 0
        line.append(entry)
        size += len(entry) + 1
    if line:
        chat.numeric(client, n.RPL_NAMREPLY, symbol, room.name, " ".join(line))
    chat.numeric(client, n.RPL_ENDOFNAMES, room.name, "End of /NAMES list")
