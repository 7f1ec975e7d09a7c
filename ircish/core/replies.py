"""Reply bursts that several commands send: welcome, ISUPPORT, LUSERS, MOTD, topic, NAMES."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ircish.config import Config
from ircish.core import replay
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


def isupport_tokens(chat: Chat) -> tuple[str, ...]:
    """The ISUPPORT (005) tokens; each one describes something implemented."""
    return _isupport_tokens(chat.config, replay.history_storage(chat) is not None)


@functools.lru_cache(maxsize=8)
def _isupport_tokens(config: Config, history: bool = True) -> tuple[str, ...]:
    # Cached: every registration sends these, and the config never changes under a Chat.
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


def send_isupport(chat: Chat, client: Client) -> None:
    tokens = isupport_tokens(chat)
    for i in range(0, len(tokens), 12):
        chat.numeric(client, n.RPL_ISUPPORT, *tokens[i : i + 12], "are supported by this server")


@functools.lru_cache(maxsize=8)
def _created_text(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def send_welcome(chat: Chat, client: Client) -> None:
    """001-005, LUSERS and MOTD, as every IRC client expects after registering."""
    server = chat.server_name
    user = client.user
    chat.numeric(
        client,
        n.RPL_WELCOME,
        f"Welcome to the {chat.config.server.network} IRC Network {user.mask}",
    )
    chat.numeric(client, n.RPL_YOURHOST, f"Your host is {server}, running version {chat.version}")
    chat.numeric(client, n.RPL_CREATED, f"This server was created {_created_text(chat.created)}")
    chat.numeric(
        client, n.RPL_MYINFO, server, chat.version, USER_MODES, ROOM_MODES, ROOM_MODES_WITH_PARAM
    )
    send_isupport(chat, client)
    send_lusers(chat, client)
    try:
        send_motd(chat, client)
    except CommandError as exc:
        chat.error(client, exc)
    if user.modes:
        chat.numeric(client, n.RPL_UMODEIS, "+" + "".join(sorted(user.modes)))


def send_motd(chat: Chat, client: Client) -> None:
    motd = chat.config.server.motd
    if not motd:
        raise CommandError(n.ERR_NOMOTD)
    chat.numeric(client, n.RPL_MOTDSTART, f"- {chat.server_name} Message of the day - ")
    for line in motd.splitlines():
        chat.numeric(client, n.RPL_MOTD, f"- {line}")
    chat.numeric(client, n.RPL_ENDOFMOTD, "End of /MOTD command.")


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
