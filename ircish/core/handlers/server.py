"""Questions about the server and the recent past: WHOWAS, LINKS, INFO, HELPOP.

Also two things other modules use:

- the help texts (``help_lines``): the one source of what HELP says about a
  command or a topic. The IRC dialect shows them as 704/705/706; the plain
  dialect shows its own slash-command help and these texts for the general
  topics (``modes``, ``caps``);
- the LIST filters of ISUPPORT ``ELIST=CMNTU`` (``ListQuery``), applied by
  ``rooms.handle_list``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ircish import __version__
from ircish.core.caps import CAPABILITIES
from ircish.core.cloaks import shown_address
from ircish.core.command import Command
from ircish.core.events import Help
from ircish.core.names import fold, mask_matches
from ircish.errors import CommandError
from ircish.protocol import numerics as n

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client
    from ircish.core.dispatch import CommandSpec
    from ircish.core.rooms import Room

#: WHOWAS takes at most this many nicknames (ISUPPORT ``TARGMAX=WHOWAS:4``).
MAX_WHOWAS_TARGETS = 4
#: The server description LINKS shows.
SERVER_INFO = "ircish chat server"
#: A parameter echoed back is replaced by "*" beyond this length.
_MAX_ECHO = 64


def safe_param(text: str) -> str:
    """``text`` as a middle parameter of a reply, or "*" where it cannot be one."""
    if not text or text[0] == ":" or " " in text or len(text) > _MAX_ECHO:
        return "*"
    return text


# -- WHOWAS ---------------------------------------------------------------------


def whowas_time(when: float) -> str:
    """When a WHOWAS entry was recorded, as RPL_WHOISSERVER's text shows it."""
    return datetime.fromtimestamp(when, UTC).strftime("%a %b %d %H:%M:%S %Y UTC")


def handle_whowas(chat: Chat, client: Client, cmd: Command) -> None:
    """WHOWAS <nick>{,<nick>} [<count>]"""
    nicks = [x for x in cmd.params[0].split(",") if x]
    if not nicks:
        raise CommandError(n.ERR_NONICKNAMEGIVEN)
    count = 0
    if len(cmd.params) > 1:
        raw = cmd.params[1]
        # RFC 2812: a missing or non-positive count means every entry.
        if raw.isascii() and raw.isdigit() and len(raw) < 10:
            count = int(raw)
    for nick in nicks[:MAX_WHOWAS_TARGETS]:
        shown = safe_param(nick)
        key = fold(nick)
        found = 0
        # Newest first: the deque holds the newest entry last.
        for entry in reversed(chat.whowas):
            if entry.folded != key:
                continue
            chat.numeric(
                client,
                n.RPL_WHOWASUSER,
                entry.nick,
                entry.username,
                entry.host,
                "*",
                entry.realname,
            )
            if "o" in client.user.modes and entry.ip and entry.ip != entry.host:
                chat.numeric(
                    client,
                    n.RPL_WHOISACTUALLY,
                    entry.nick,
                    f"{entry.username}@{entry.ip}",
                    shown_address(entry.ip),
                    "Actual user@host, Actual IP",
                )
            chat.numeric(
                client, n.RPL_WHOISSERVER, entry.nick, chat.server_name, whowas_time(entry.when)
            )
            found += 1
            if found == count:
                break
        if not found:
            chat.numeric(client, n.ERR_WASNOSUCHNICK, shown, n.ERROR_TEXT[n.ERR_WASNOSUCHNICK])
        chat.numeric(client, n.RPL_ENDOFWHOWAS, shown, "End of WHOWAS")
    if len(nicks) > MAX_WHOWAS_TARGETS:
        chat.numeric(
            client,
            n.ERR_TOOMANYTARGETS,
            safe_param(nicks[MAX_WHOWAS_TARGETS]),
            n.ERROR_TEXT[n.ERR_TOOMANYTARGETS],
        )


# -- LINKS and INFO -------------------------------------------------------------------


def handle_links(chat: Chat, client: Client, cmd: Command) -> None:
    """LINKS [[<server>] <mask>]"""
    params = [p for p in cmd.params if p]
    mask = "*"
    if len(params) >= 2:
        if not mask_matches(params[0], chat.server_name):
            raise CommandError(n.ERR_NOSUCHSERVER, safe_param(params[0]))
        mask = params[1]
    elif params:
        mask = params[0]
    if mask_matches(mask, chat.server_name):
        # One server: it links to itself, at zero hops.
        name = chat.server_name
        chat.numeric(client, n.RPL_LINKS, name, name, f"0 {SERVER_INFO}")
    chat.numeric(client, n.RPL_ENDOFLINKS, safe_param(mask), "End of /LINKS list")


def info_lines(chat: Chat) -> tuple[str, ...]:
    """What INFO tells: the software, never anything about the people running it."""
    started = datetime.fromtimestamp(chat.created, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    python = ".".join(str(x) for x in sys.version_info[:3])
    return (
        f"ircish {__version__}: an IRC-like chat server.",
        "Humans on netcat, stock IRC clients and the ircish terminal client",
        "share one port and the same rooms.",
        f"One process, one thread, written in Python (running on {python}).",
        f"This server has been running since {started}.",
        "HELP INDEX lists the commands; netcat users type /help.",
    )


def handle_info(chat: Chat, client: Client, cmd: Command) -> None:
    """INFO"""
    for line in info_lines(chat):
        chat.numeric(client, n.RPL_INFO, line)
    chat.numeric(client, n.RPL_ENDOFINFO, "End of /INFO list")


# -- HELP --------------------------------------------------------------------------


def handle_helpop(chat: Chat, client: Client, cmd: Command) -> None:
    """HELPOP [<topic>]"""
    chat.reply(client, Help(help_topic_param(cmd)))


def help_topic_param(cmd: Command) -> str:
    """The topic of a HELP or HELPOP command: one word, safe to echo ("" for none)."""
    words = cmd.params[0].split() if cmd.params else []
    topic = words[0].lstrip(":") if words else ""
    return topic[:_MAX_ECHO]


#: One line on what each command does (HELP <command> shows it under the syntax).
#: A command missing here falls back to its handler docstring's second paragraph.
DESCRIPTIONS: dict[str, str] = {
    "CAP": "Negotiate IRCv3 capabilities (HELP CAPS lists them).",
    "PASS": "Give the server password, before NICK and USER.",
    "NICK": "Choose or change your nickname.",
    "USER": "Give your username and realname while registering.",
    "PING": "Check that the server is there; it answers PONG.",
    "PONG": "Answer the server's PING.",
    "QUIT": "Leave the server.",
    "HELP": "Show help on a command or topic (HELP INDEX lists them).",
    "HELPOP": "The same as HELP.",
    "JOIN": "Join rooms, creating them if they do not exist; JOIN 0 leaves them all.",
    "PART": "Leave rooms.",
    "TOPIC": "Show a room's topic, or set it (only operators when the room is +t).",
    "NAMES": "List the people in a room.",
    "LIST": (
        "List rooms. Filters: >N <N (users), C>M C<M (created more/less than M minutes"
        " ago), T>M T<M (topic set), *mask*, !*mask*; separate them with commas."
    ),
    "KICK": "Remove people from a room (room operators).",
    "INVITE": "Invite someone into a room (room operators when it is +i).",
    "PRIVMSG": "Send a message to rooms or people; @#room reaches its operators only.",
    "NOTICE": "Like PRIVMSG, but never answered automatically.",
    "TAGMSG": "Send only IRCv3 client tags (typing, reactions).",
    "AWAY": "Mark yourself away with a message; without one, back.",
    "MODE": "Show or change the modes of a room or of yourself (HELP MODES).",
    "WHO": "List the people of a room or matching a mask.",
    "WHOIS": "Show who someone is.",
    "WHOWAS": "Show who used a nickname recently (newest first).",
    "USERHOST": "Show the user@host of up to five nicknames.",
    "ISON": "Show which of the nicknames are online.",
    "MOTD": "Show the message of the day.",
    "LUSERS": "Count the people and rooms.",
    "VERSION": "Show the server version and what it supports.",
    "TIME": "Show the server's time.",
    "LINKS": "List the servers of this network (just this one).",
    "INFO": "Show what this server software is.",
    "BATCH": "Send several lines as one IRCv3 draft/multiline message.",
    "OPER": "Become an IRC operator with a configured name and password.",
    "KILL": "Disconnect someone (IRC operators).",
    "WALLOPS": "Message everyone with user mode +w (IRC operators).",
    "REHASH": "Reload the configuration file without disconnecting anyone (IRC operators).",
    "MONITOR": "Be told when nicknames come online or leave (+ add, - remove, L list, S status).",
    "SETNAME": "Change your realname (IRCv3 setname).",
    "CHGHOST": "Change how a user's username and host are shown (IRC operators).",
}

#: Topics beyond the commands, each a few lines.
MODES_HELP: tuple[str, ...] = (
    "Your modes (MODE <yournick> +i or -i):",
    "  +i invisible: WHO shows you only to people who share a room with you",
    "  +w wallops: receive WALLOPS messages",
    "  +B bot: you are marked as a bot",
    "  +o IRC operator: given by OPER, dropped with -o",
    "Room modes (MODE #room +m, MODE #room +b mask); room operators change them:",
    "  +o nick / +v nick: room operator / voice (@ and + before a nick)",
    "  +b mask: ban nick!user@host masks (* and ? are wildcards; bob means bob!*@*)",
    "  +e mask: exceptions to the bans; +I mask: may join without an invitation",
    "  MODE #room +b, +e or +I without a mask lists them",
    "  +i invite-only  +k key: needs a key  +l N: at most N people",
    "  +m moderated: only voiced people and operators speak",
    "  +n no messages from outside  +s secret: hidden from LIST, WHOIS and NAMES",
    "  +t only operators change the topic",
)

#: Topic names that are not commands (the dialects list them).
GENERAL_TOPICS = ("modes", "caps")


def _wrap(head: str, words: Iterable[str], width: int = 300) -> list[str]:
    """``head`` and ``words`` in lines of at most ``width`` characters (well inside 512 bytes)."""
    lines: list[str] = []
    line, empty = head, True
    for word in words:
        if not empty and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = " "
        line, empty = f"{line} {word}", False
    lines.append(line)
    return lines


def _caps_help() -> tuple[str, ...]:
    return (
        "IRCv3 capabilities: ask with CAP LS 302, turn one on with CAP REQ :<name>.",
        *_wrap("Offered:", CAPABILITIES),
    )


def _description(verb: str, doc: str | None) -> str:
    if verb in DESCRIPTIONS:
        return DESCRIPTIONS[verb]
    # Otherwise the first line of the docstring's second paragraph, if any.
    paragraphs = (doc or "").strip().split("\n\n")
    return paragraphs[1].strip().splitlines()[0].strip() if len(paragraphs) > 1 else ""


def general_help(topic: str) -> tuple[str, ...] | None:
    """Help on a topic that is not a command (``modes``, ``caps``), for any dialect."""
    key = topic.lower()
    if key == "modes":
        return MODES_HELP
    if key == "caps":
        return _caps_help()
    return None


def help_lines(topic: str, commands: Mapping[str, CommandSpec]) -> tuple[str, ...] | None:
    """The lines of help on ``topic`` ("" for the overview), or None when there are none.

    ``commands`` is the command table (``dispatch.COMMANDS``, which imports
    this module). A command's help is its syntax line (its handler's first
    docstring line) and one line on what it does.
    """
    key = topic.lower()
    if not key:
        return (
            "ircish speaks IRC: JOIN PART PRIVMSG NOTICE TOPIC NAMES LIST WHO WHOIS WHOWAS "
            "MODE KICK INVITE AWAY QUIT and more. HELP <command> shows its syntax; "
            "HELP INDEX lists every command; HELP MODES and HELP CAPS explain modes and "
            "capabilities. Netcat users on the same port use /slash commands.",
        )
    if key == "index":
        return (
            *_wrap("Commands:", sorted(commands)),
            *_wrap("Topics:", [t.upper() for t in (*GENERAL_TOPICS, "index")]),
        )
    general = general_help(topic)
    if general is not None:
        return general
    spec = commands.get(topic.upper())
    doc = spec.handler.__doc__ if spec is not None else None
    if not doc:
        return None
    syntax = doc.strip().splitlines()[0]
    description = _description(topic.upper(), doc)
    return (syntax, description) if description else (syntax,)


# -- LIST filters ------------------------------------------------------------------

_CONDITION = re.compile(r"([CcTt]?)([<>])(.*)", re.DOTALL)
_GLOB = frozenset("*?")


@dataclass(slots=True)
class ListQuery:
    """What a LIST asked for (ELIST=CMNTU); a room must pass every condition.

    ``names`` and ``masks`` are alternatives (a room matching any is wanted,
    all rooms when both are empty); ``negated`` masks must all fail to match.
    Times are in seconds ago; bounds are strict, as "more/less than".
    """

    names: list[str] = field(default_factory=list)
    masks: list[str] = field(default_factory=list)
    negated: list[str] = field(default_factory=list)
    more_users: int = -1
    fewer_users: int | None = None
    older: float | None = None
    newer: float | None = None
    topic_older: float | None = None
    topic_newer: float | None = None

    @classmethod
    def parse(cls, params: tuple[str, ...] | list[str], server_name: str) -> ListQuery:
        """Read LIST's parameters; a malformed condition raises ``ValueError`` naming it."""
        query = cls()
        for index, param in enumerate(params[:2]):
            if index == 1 and fold(param) == fold(server_name):
                continue  # RFC 2812's <target> server: this one.
            for item in param.split(","):
                if item:
                    query._add(item)
        return query

    def _add(self, item: str) -> None:
        match = _CONDITION.fullmatch(item)
        if match is not None:
            kind, sign, raw = match.groups()
            if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
                raise ValueError(item)
            value = int(raw)
            kind = kind.upper()
            if not kind:
                if sign == ">":
                    self.more_users = max(self.more_users, value)
                else:
                    fewer = self.fewer_users
                    self.fewer_users = value if fewer is None else min(fewer, value)
                return
            seconds = value * 60.0
            if kind == "C":
                if sign == ">":
                    self.older = seconds if self.older is None else max(self.older, seconds)
                else:
                    self.newer = seconds if self.newer is None else min(self.newer, seconds)
            elif sign == ">":
                old = self.topic_older
                self.topic_older = seconds if old is None else max(old, seconds)
            else:
                new = self.topic_newer
                self.topic_newer = seconds if new is None else min(new, seconds)
        elif item.startswith("!"):
            self.negated.append(item[1:])
        elif _GLOB.isdisjoint(item):
            self.names.append(fold(item))
        else:
            self.masks.append(item)

    @property
    def exact(self) -> bool:
        """Only named rooms are wanted: look them up instead of scanning every room."""
        return bool(self.names) and not self.masks

    def matches(self, room: Room, now: float) -> bool:
        """Whether ``room`` passes; the cheapest tests come first."""
        users = len(room.members)
        if users <= self.more_users or (self.fewer_users is not None and users >= self.fewer_users):
            return False
        if self.older is not None or self.newer is not None:
            age = now - room.created
            if (self.older is not None and age <= self.older) or (
                self.newer is not None and age >= self.newer
            ):
                return False
        if self.topic_older is not None or self.topic_newer is not None:
            if not room.topic_time:
                return False  # A topic never set has no time to compare.
            age = now - room.topic_time
            if (self.topic_older is not None and age <= self.topic_older) or (
                self.topic_newer is not None and age >= self.topic_newer
            ):
                return False
        if (self.names or self.masks) and not (
            room.folded in self.names or any(mask_matches(m, room.name) for m in self.masks)
        ):
            return False
        return not any(mask_matches(m, room.name) for m in self.negated)
