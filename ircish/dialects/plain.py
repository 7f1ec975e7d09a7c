"""The plain dialect: humans on netcat, slash commands, one readable line per event.

Parsing turns ``/msg bob hi`` into the same ``Command`` an IRC client's
``PRIVMSG bob :hi`` becomes, so the core has one code path for both. A line
without a leading slash is a message to the user's current room (or, before
registration, the nickname the user wants). ``//text`` sends ``/text``.

Rendering never passes control characters through: a netcat user's terminal
would obey escape sequences that another user typed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from ircish.config import Config
from ircish.core import events as ev
from ircish.core.bans import looks_like_duration
from ircish.core.command import IGNORE, Command, Ignore, Local
from ircish.core.handlers.server import GENERAL_TOPICS, general_help
from ircish.core.names import canonical_mask, fold, is_room_name
from ircish.errors import CommandError
from ircish.protocol import numerics as n

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client
    from ircish.core.storage import StoredEvent

#: Removed from everything a netcat user is shown: C0, DEL and C1 (terminals obey C1
#: controls sent as UTF-8 too: U+009B is a CSI); the bidirectional controls, which
#: reorder what follows on the line (U+202E shows "evil.exe" as "exe.live"); the line
#: and paragraph separators and the byte-order mark. Joiners and variation selectors
#: stay: emoji sequences need them.
_CONTROLS = {
    c: None
    for c in (
        *range(0x20),
        *range(0x7F, 0xA0),
        0x061C,
        0x200E,
        0x200F,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
        0x2028,
        0x2029,
        0xFEFF,
    )
}
ACTION_PREFIX = "\x01ACTION "


#: Control sequences removed whole, so that their arguments do not show as junk:
#: mIRC colours (``^C4,1``), hex colours (``^D``), ANSI CSI (``ESC [ ... m``, 8-bit
#: CSI) and OSC (``ESC ] ... BEL``, e.g. a title or clipboard write), other ESC pairs.
_SEQUENCES = re.compile(
    r"\x03(?:\d{1,2}(?:,\d{1,2})?)?"
    r"|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?"
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -~]?"
)


def clean(text: str) -> str:
    """Drop control characters and whole control sequences (IRC colours, terminal escapes)."""
    if text.isprintable():
        return text
    return _SEQUENCES.sub("", text).translate(_CONTROLS)


def _terminal_safe(text: str) -> bytes:
    """The bytes of one rendering (lines joined by CR LF): every line ``clean``.

    Every plain rendering leaves through here, so a rendering that forgets to
    clean a user's text (a new numeric, say) still cannot reach a terminal
    with a control sequence. Renderings clean their fields as well: cleaning
    a field on its own removes an escape sequence whole without eating the
    server's text after it.
    """
    if text.isprintable():
        return (text + "\r\n").encode("utf-8", "replace")
    return "".join(clean(line) + "\r\n" for line in text.split("\r\n")).encode("utf-8", "replace")


# -- parsing ----------------------------------------------------------------

Builder = Callable[[str, "Client"], Command | Local]


@dataclass(frozen=True, slots=True)
class SlashCommand:
    """One slash command: how to build the core command, and its help."""

    build: Builder
    usage: str
    summary: str
    pre_registration: bool = False


def _usage(name: str) -> CommandError:
    spec = SLASH_COMMANDS[name]
    return CommandError(n.ERR_NEEDMOREPARAMS, "/" + name, text=f"Usage: {spec.usage}")


def _current(client: Client) -> str:
    if client.current_room is None:
        raise CommandError(n.ERR_NOTONCHANNEL, "*", text="You are not in a room: /join #room first")
    return client.current_room.name


def _room_arg(word: str) -> str:
    """Be forgiving: ``/join lobby`` means ``#lobby``."""
    return word if is_room_name(word) else "#" + word


def _split_room(args: str, client: Client) -> tuple[str, str]:
    """``[#room] rest`` -> (room or current room, rest)."""
    first, _, rest = args.partition(" ")
    if is_room_name(first):
        return first, rest.strip()
    return _current(client), args


def _nick(args: str, client: Client) -> Command:
    words = args.split()
    if len(words) != 1:
        raise _usage("nick")
    return Command("NICK", (words[0],))


def _join(args: str, client: Client) -> Command:
    words = args.replace(",", " ").split()
    if not words:
        raise _usage("join")
    if len(words) == 2 and is_room_name(words[0]) and not is_room_name(words[1]):
        return Command("JOIN", (words[0], words[1]))
    return Command("JOIN", (",".join(_room_arg(w) for w in words),))


def _part(args: str, client: Client) -> Command:
    room, reason = _split_room(args, client)
    return Command("PART", (room, reason) if reason else (room,))


def _msg(args: str, client: Client) -> Command:
    target, _, text = args.strip().partition(" ")
    if not target or not text.strip():
        raise _usage("msg")
    return Command("PRIVMSG", (target, text.strip()))


def _notice(args: str, client: Client) -> Command:
    target, _, text = args.strip().partition(" ")
    if not target or not text.strip():
        raise _usage("notice")
    return Command("NOTICE", (target, text.strip()))


def _me(args: str, client: Client) -> Command:
    if not args:
        raise _usage("me")
    return Command("PRIVMSG", (_current(client), f"{ACTION_PREFIX}{args}\x01"))


def _who(args: str, client: Client) -> Command:
    words = args.split()
    if len(words) > 1:
        raise _usage("who")
    if words:
        return Command("WHO", (words[0],))
    if client.current_room is not None:
        return Command("WHO", (client.current_room.name,))
    return Command("WHO", ("*",))


def _whois(args: str, client: Client) -> Command:
    words = args.split()
    if len(words) != 1:
        raise _usage("whois")
    return Command("WHOIS", (words[0],))


def _names(args: str, client: Client) -> Command:
    words = args.split()
    if len(words) > 1:
        raise _usage("names")
    return Command("NAMES", (_room_arg(words[0]) if words else _current(client),))


#: A LIST filter word (ELIST): ``>3``, ``<10``, ``C<60``, ``T>5``.
_LIST_CONDITION = re.compile(r"[CcTt]?[<>]")


def _list_word(word: str) -> str:
    """Be forgiving: ``/list dev`` means the rooms whose name contains "dev" (``!dev``: not)."""
    negated = word.startswith("!")
    body = word[1:] if negated else word
    if not body or body[0] == "#" or "*" in body or "?" in body:
        return word
    if not negated and _LIST_CONDITION.match(word):
        return word
    return ("!" if negated else "") + f"*{body}*"


def _list(args: str, client: Client) -> Command:
    words = args.replace(",", " ").split()
    return Command("LIST", (",".join(_list_word(w) for w in words),) if words else ())


def _mask_list(name: str, sign: str, args: str, client: Client) -> Command:
    """``/ban`` and ``/unban``: MODE ±b with each nick or mask completed to nick!user@host."""
    room, rest = _split_room(args, client)
    words = rest.split()
    if not words:
        if sign == "+":
            return Command("MODE", (room, "+b"))  # the ban list
        raise _usage(name)
    if len(words) > 4:  # ISUPPORT MODES=4
        raise _usage(name)
    return Command("MODE", (room, sign + "b" * len(words), *map(canonical_mask, words)))


def _ban(args: str, client: Client) -> Command:
    return _mask_list("ban", "+", args, client)


def _unban(args: str, client: Client) -> Command:
    return _mask_list("unban", "-", args, client)


def _whowas(args: str, client: Client) -> Command:
    words = args.split()
    if not 1 <= len(words) <= 2 or (len(words) == 2 and not words[1].isdigit()):
        raise _usage("whowas")
    return Command("WHOWAS", tuple(words))


def _history(args: str, client: Client) -> Command:
    """``/history [#room|NICK] [N]``: the current room by default."""
    words = args.split()
    if len(words) > 2 or (len(words) == 2 and not words[1].isdigit()):
        raise _usage("history")
    if words and words[0].isdigit():
        return Command("HISTORY", (_current(client), words[0]))
    target = words[0] if words else _current(client)
    return Command("HISTORY", (target, *words[1:]))


def _search(args: str, client: Client) -> Command:
    """``/search TEXT [in #room] [from NICK]`` as ``SEARCH TEXT in:#room from:NICK``."""
    words = args.split()
    filters: list[str] = []
    # The filters are the trailing "in X" / "from X" pairs, in either order.
    while len(words) >= 3 and words[-2].lower() in ("in", "from"):
        kind = words[-2].lower()
        if kind == "in" and not is_room_name(words[-1]):
            break
        filters.append(f"{kind}:{words[-1]}")
        del words[-2:]
    if not words:
        raise _usage("search")
    # Words of the text that look like filters must not become filters.
    text = [w if ":" not in w else w.replace(":", " ") for w in words]
    return Command("SEARCH", (" ".join(text), *filters))


def _info(args: str, client: Client) -> Command:
    return Command("INFO", ())


def _rehash(args: str, client: Client) -> Command:
    return Command("REHASH", ())


def _topic(args: str, client: Client) -> Command:
    room, text = _split_room(args, client)
    if text == "-delete":
        # irssi's spelling; an empty topic is what IRC's "TOPIC #room :" sends.
        return Command("TOPIC", (room, ""))
    return Command("TOPIC", (room, text) if text else (room,))


def _away(args: str, client: Client) -> Command:
    return Command("AWAY", (args,) if args else ())


def _pass(args: str, client: Client) -> Command:
    if not args:
        raise _usage("pass")
    return Command("PASS", (args,))


def _quit(args: str, client: Client) -> Command:
    return Command("QUIT", (args,) if args else ())


def _help(args: str, client: Client) -> Command:
    words = args.split()
    return Command("HELP", (words[0].lstrip("/"),) if words else ())


def _kick(args: str, client: Client) -> Command:
    room, rest = _split_room(args, client)
    nick, _, reason = rest.partition(" ")
    if not nick:
        raise _usage("kick")
    reason = reason.strip()
    return Command("KICK", (room, nick, reason) if reason else (room, nick))


def _mode(args: str, client: Client) -> Command:
    words = args.split()
    if not words:
        return Command("MODE", (_current(client),))
    if words[0][0] in "+-":
        # "/mode +B" (bot) and "/mode -w": letters rooms do not have mean one's own modes.
        letters = set(words[0]) - {"+", "-"}
        if len(words) == 1 and letters and letters <= _USER_ONLY_MODES:
            return Command("MODE", (client.user.nick, words[0]))
        return Command("MODE", (_current(client), *words))
    return Command("MODE", tuple(words))


#: User modes that are not also room modes (``i`` is both: "/mode +i" stays the room's).
_USER_ONLY_MODES = frozenset("Bw")


def _invite(args: str, client: Client) -> Command:
    words = args.split()
    if not words or len(words) > 2:
        raise _usage("invite")
    room = _room_arg(words[1]) if len(words) == 2 else _current(client)
    return Command("INVITE", (words[0], room))


def _oper(args: str, client: Client) -> Command:
    # The password is the rest of the line, so it may contain spaces.
    name, _, password = args.partition(" ")
    if not name or not password.strip():
        raise _usage("oper")
    return Command("OPER", (name, password.strip()))


def _kill(args: str, client: Client) -> Command:
    nick, _, reason = args.partition(" ")
    if not nick or not reason.strip():
        raise _usage("kill")
    return Command("KILL", (nick, reason.strip()))


_BAN_WORDS = frozenset({"ANDKILL", "MYSELF"})


def _ban_command(verb: str, name: str, args: str) -> Command:
    """``[ANDKILL] [MYSELF] [DURATION] TARGET [reason...]``: the reason is one parameter."""
    words = args.split()
    i = 0
    while i < len(words) and words[i].upper() in _BAN_WORDS:
        i += 1
    if i < len(words) and looks_like_duration(words[i]):
        i += 1
    if i >= len(words):
        raise _usage(name)
    head, reason = words[: i + 1], " ".join(words[i + 1 :])
    return Command(verb, (*head, reason) if reason else tuple(head))


def _kline(args: str, client: Client) -> Command:
    return _ban_command("KLINE", "kline", args)


def _dline(args: str, client: Client) -> Command:
    return _ban_command("DLINE", "dline", args)


def _unkline(args: str, client: Client) -> Command:
    words = args.split()
    if len(words) != 1:
        raise _usage("unkline")
    return Command("UNKLINE", (words[0],))


def _undline(args: str, client: Client) -> Command:
    words = args.split()
    if len(words) != 1:
        raise _usage("undline")
    return Command("UNDLINE", (words[0],))


def _wallops(args: str, client: Client) -> Command:
    if not args:
        raise _usage("wallops")
    return Command("WALLOPS", (args,))


def _stats(args: str, client: Client) -> Command:
    if not args.strip():
        raise _usage("stats")
    return Command("STATS", (args.split(maxsplit=1)[0],))


def _setname(args: str, client: Client) -> Command:
    if not args.strip():
        raise _usage("setname")
    return Command("SETNAME", (args.strip(),))


def _chghost(args: str, client: Client) -> Command:
    words = args.split()
    if len(words) not in (2, 3):
        raise _usage("chghost")
    return Command("CHGHOST", tuple(words))


def _register(args: str, client: Client) -> Command:
    words = args.split()
    if len(words) not in (1, 2):
        raise _usage("register")
    # IRCv3 account-registration: "*" is the current nickname (and no e-mail).
    return Command("REGISTER", ("*", words[1] if len(words) == 2 else "*", words[0]))


def _login(args: str, client: Client) -> Command:
    words = args.split()
    if len(words) not in (1, 2):
        raise _usage("login")
    return Command("LOGIN", tuple(words))


def _logout(args: str, client: Client) -> Command:
    if args:
        raise _usage("logout")
    return Command("LOGOUT", ())


def _passwd(args: str, client: Client) -> Command:
    words = args.split()
    if len(words) != 2:
        raise _usage("passwd")
    return Command("PASSWD", tuple(words))


def _unregister(args: str, client: Client) -> Command:
    words = args.split()
    if len(words) != 1:
        raise _usage("unregister")
    return Command("UNREGISTER", tuple(words))


def _ghost(args: str, client: Client) -> Command:
    words = args.split()
    if len(words) != 1:
        raise _usage("ghost")
    return Command("GHOST", tuple(words))


def _ns(args: str, client: Client) -> Command:
    return Command("NS", tuple(args.split()))


def _cs(args: str, client: Client) -> Command:
    return Command("CS", tuple(args.split()))


_MONITOR_WORDS = {"": "L", "list": "L", "status": "S", "clear": "C"}


def _monitor(args: str, client: Client) -> Command:
    """``/monitor`` lists; ``+a b`` / ``a,b`` add; ``-a`` removes; ``status``, ``clear``."""
    words = args.replace(",", " ").split()
    sub = _MONITOR_WORDS.get(" ".join(words).lower())
    if sub is not None:
        return Command("MONITOR", (sub,))
    # IRC's own spelling ("+ a,b"), or a sign on the nicknames ("+a +b", "-a"); one sign per line.
    if words[0] in ("+", "-"):
        sign, words = words[0], words[1:]
    else:
        sign = "-" if words[0].startswith("-") else "+"
    nicks = [w[1:] if w[:1] in "+-" else w for w in words]
    if not nicks or any(w[:1] in "+-" and w[:1] != sign for w in words) or not all(nicks):
        raise _usage("monitor")
    return Command("MONITOR", (sign, ",".join(nicks)))


#: The settings of one netcat connection (``/set``): name -> (Client attribute, meaning).
PLAIN_SETTINGS: dict[str, tuple[str, str]] = {
    "echo": ("echo_own", "show your own messages, as [#room] <you> text"),
}
_SWITCH = {"on": True, "off": False}


def _set(args: str, client: Client) -> Local:
    """``/set`` lists the settings, ``/set NAME`` shows one, ``/set NAME on|off`` changes it."""
    words = args.lower().split()
    if len(words) > 2 or (len(words) == 2 and words[1] not in _SWITCH):
        raise _usage("set")
    if not words:
        shown = [_setting_line(name, client) for name in PLAIN_SETTINGS]
        return Local(ev.ServerNotice("\r\n".join(shown)))
    if words[0] not in PLAIN_SETTINGS:
        known = ", ".join(PLAIN_SETTINGS)
        text = f"There is no setting {words[0]!r} (there is: {known})"
        raise CommandError(n.ERR_NEEDMOREPARAMS, "/set", text=text)
    if len(words) == 2:
        setattr(client, PLAIN_SETTINGS[words[0]][0], _SWITCH[words[1]])
    return Local(ev.ServerNotice(_setting_line(words[0], client)))


def _setting_line(name: str, client: Client) -> str:
    attribute, meaning = PLAIN_SETTINGS[name]
    return f"{name} is {'on' if getattr(client, attribute) else 'off'} ({meaning})"


SLASH_COMMANDS: dict[str, SlashCommand] = {
    "nick": SlashCommand(_nick, "/nick NAME", "change your nickname", pre_registration=True),
    "join": SlashCommand(_join, "/join #room [#room2 ...]", "join rooms, or switch to one"),
    "part": SlashCommand(_part, "/part [#room] [reason]", "leave a room (default: current)"),
    "msg": SlashCommand(_msg, "/msg NICK|#room TEXT", "send a private or room message"),
    "me": SlashCommand(_me, "/me ACTION", "describe an action in the current room"),
    "notice": SlashCommand(_notice, "/notice NICK|#room TEXT", "send a notice"),
    "who": SlashCommand(_who, "/who [#room|NICK]", "list the users of a room"),
    "whois": SlashCommand(_whois, "/whois NICK", "show who someone is"),
    "whowas": SlashCommand(_whowas, "/whowas NICK [COUNT]", "show who used a nickname recently"),
    "names": SlashCommand(_names, "/names [#room]", "show the nicknames in a room"),
    "list": SlashCommand(
        _list,
        "/list [FILTER ...]",
        "list rooms; filters: dev !dev >5 <5 (users) C<60 C>60 (created) T<60 T>60 (topic)",
    ),
    "topic": SlashCommand(_topic, "/topic [#room] [TEXT|-delete]", "show, set or clear a topic"),
    "away": SlashCommand(_away, "/away [TEXT]", "mark yourself away (no text: back)"),
    "setname": SlashCommand(_setname, "/setname REALNAME", "change your real name"),
    "monitor": SlashCommand(
        _monitor,
        "/monitor [+NICK|-NICK|status|clear]",
        "be told when someone comes online or leaves (no argument: your list)",
    ),
    "chghost": SlashCommand(
        _chghost, "/chghost NICK [USERNAME] HOST", "change a user's shown host (server operators)"
    ),
    "kick": SlashCommand(_kick, "/kick [#room] NICK [reason]", "remove someone (operators)"),
    "ban": SlashCommand(
        _ban, "/ban [#room] [NICK|MASK ...]", "ban nick or nick!user@host (none: the ban list)"
    ),
    "unban": SlashCommand(_unban, "/unban [#room] NICK|MASK ...", "lift bans"),
    "mode": SlashCommand(_mode, "/mode [#room|NICK] [+-modes [args]]", "show or change modes"),
    "invite": SlashCommand(_invite, "/invite NICK [#room]", "invite someone into a room"),
    "register": SlashCommand(
        _register, "/register PASSWORD [EMAIL]", "register your nickname as an account"
    ),
    "login": SlashCommand(_login, "/login [NAME] PASSWORD", "log in to your account"),
    "logout": SlashCommand(_logout, "/logout", "log out of your account"),
    "passwd": SlashCommand(_passwd, "/passwd OLD NEW", "change your account's password"),
    "unregister": SlashCommand(
        _unregister, "/unregister PASSWORD", "delete your account (give its password)"
    ),
    "ghost": SlashCommand(_ghost, "/ghost NICK", "disconnect a stale connection using your nick"),
    "ns": SlashCommand(_ns, "/ns COMMAND ...", "talk to NickServ (/ns help)"),
    "cs": SlashCommand(_cs, "/cs COMMAND ...", "talk to ChanServ: register rooms (/cs help)"),
    "oper": SlashCommand(_oper, "/oper NAME PASSWORD", "become a server operator"),
    "kill": SlashCommand(_kill, "/kill NICK REASON", "disconnect a user (server operators)"),
    "wallops": SlashCommand(_wallops, "/wallops TEXT", "message users with mode +w (operators)"),
    "rehash": SlashCommand(_rehash, "/rehash", "reload the configuration file (operators)"),
    "stats": SlashCommand(
        _stats,
        "/stats LETTER",
        "server statistics: u uptime; k K-lines, d D-lines, o operators, z memory (operators)",
    ),
    "kline": SlashCommand(
        _kline,
        "/kline [DURATION] MASK|NICK [reason]",
        "ban a user@host mask or a nick's address for DURATION (30m, 2h, 1d; none: for ever)",
    ),
    "dline": SlashCommand(
        _dline, "/dline [DURATION] IP|CIDR [reason]", "ban an address or network (server operators)"
    ),
    "unkline": SlashCommand(_unkline, "/unkline MASK", "lift a K-line (server operators)"),
    "undline": SlashCommand(_undline, "/undline IP|CIDR", "lift a D-line (server operators)"),
    "quit": SlashCommand(_quit, "/quit [reason]", "leave the server", pre_registration=True),
    "pass": SlashCommand(
        _pass,
        "/pass PASSWORD",
        "give the server password (before your nickname)",
        pre_registration=True,
    ),
    "history": SlashCommand(
        _history, "/history [#room|NICK] [N]", "show the last N messages (default 20)"
    ),
    "search": SlashCommand(
        _search, "/search TEXT [in #room] [from NICK]", "search the messages you may read"
    ),
    "info": SlashCommand(_info, "/info", "what this server is"),
    "set": SlashCommand(
        _set, "/set [echo [on|off]]", "show or change your settings", pre_registration=True
    ),
    "help": SlashCommand(_help, "/help [COMMAND]", "this help", pre_registration=True),
}

ALIASES: dict[str, str] = {
    "j": "join",
    "leave": "part",
    "m": "msg",
    "query": "msg",
    "privmsg": "msg",
    "action": "me",
    "exit": "quit",
    "bye": "quit",
    "?": "help",
    "users": "who",
    "helpop": "help",
    "notify": "monitor",
    "realname": "setname",
    "identify": "login",
    "nickserv": "ns",
    "chanserv": "cs",
}


def parse_plain(line: str, client: Client) -> Command | Ignore | Local:
    """Turn one line typed by a human into a core command."""
    stripped = line.strip()
    if not stripped:
        return IGNORE
    if not stripped.startswith("/") or stripped.startswith("//"):
        text = stripped[1:] if stripped.startswith("//") else stripped
        if not client.user.registered:
            return _first_nick(text)
        return Command("PRIVMSG", (_current(client), text))
    name, _, args = stripped[1:].partition(" ")
    name = name.lower()
    name = ALIASES.get(name, name)
    spec = SLASH_COMMANDS.get(name)
    if spec is None:
        raise CommandError(
            n.ERR_UNKNOWNCOMMAND,
            "/" + name,
            text=f"Unknown command /{name}. Type /help for the list of commands.",
        )
    if not client.user.registered and not spec.pre_registration:
        raise CommandError(n.ERR_NOTREGISTERED)
    return spec.build(args.strip(), client)


def _first_nick(text: str) -> Command:
    """The nickname a human types before registering: ``alice``, or ``NICK alice``."""
    if " " not in text:
        return Command("NICK", (text,))
    verb, _, rest = text.partition(" ")
    if verb.lower() == "nick" and rest.strip() and " " not in rest.strip():
        # IRC's verb, from a human who knows it (an IRC client would have sent USER).
        return Command("NICK", (rest.strip(),))
    raise CommandError(
        n.ERR_ERRONEUSNICKNAME, text, text="A nickname is one word; type just the name"
    )


# -- rendering --------------------------------------------------------------

NumericFormatter = Callable[[tuple[str, ...]], str | None]


_WHO_NOTES = (("G", "away"), ("*", "operator"), ("B", "bot"))


def _fmt_who(p: tuple[str, ...]) -> str:
    room, username, host, _server, nick, flags = p[:6]
    # Flags: H/G, then * (operator), status prefixes, B (bot).
    prefix = "".join(ch for ch in flags if ch in "@+")
    notes = "".join(f" [{word}]" for flag, word in _WHO_NOTES if flag in flags)
    where = f"{room}: " if room != "*" else ""
    return f"*** {where}{prefix}{nick} ({username}@{host}){notes}"


def _nicks_of(targets: str) -> str:
    """``a!u@h,b`` (MONITOR numerics) -> ``a, b``."""
    return ", ".join(clean(t.split("!", 1)[0]) for t in targets.split(",") if t)


def _fmt_monitor(targets: str, state: str) -> str:
    nicks = _nicks_of(targets)
    return f"*** {nicks} {'is' if ', ' not in nicks else 'are'} {state}"


#: How the WHOWAS reply's RPL_WHOISSERVER gives its time (``server.whowas_time``).
_WHOWAS_TIME = re.compile(r"[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \d{4} UTC")


def _fmt_list_entry(kind: str, p: tuple[str, ...]) -> str:
    """A ban, ban exception or invite exception entry (367/348/346)."""
    room, mask = p[0], p[1]
    by = f" (set by {p[2].split('!', 1)[0]} on {_fmt_ts(p[3])})" if len(p) > 3 else ""
    return f"*** {kind} in {room}: {mask}{by}"


def _count(raw: str, noun: str) -> str:
    return f"{raw} {noun}" if raw == "1" else f"{raw} {noun}s"


def _fmt_ts(raw: str) -> str:
    try:
        return datetime.fromtimestamp(int(raw), UTC).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return raw


NUMERIC_FORMATS: dict[str, NumericFormatter] = {
    n.RPL_YOURHOST: lambda p: None,
    n.RPL_CREATED: lambda p: None,
    n.RPL_MYINFO: lambda p: None,
    n.RPL_ISUPPORT: lambda p: None,
    n.RPL_LUSERCLIENT: lambda p: None,
    n.RPL_LUSEROP: lambda p: None,
    n.RPL_LUSERUNKNOWN: lambda p: None,
    n.RPL_LUSERCHANNELS: lambda p: None,
    n.RPL_LUSERME: lambda p: None,
    n.RPL_LOCALUSERS: lambda p: None,
    n.RPL_GLOBALUSERS: lambda p: f"*** {_count(p[0], 'user')} online",
    n.RPL_MOTDSTART: lambda p: None,
    n.RPL_MOTD: lambda p: "*** " + p[0].removeprefix("- "),
    n.RPL_ENDOFMOTD: lambda p: None,
    n.RPL_AWAY: lambda p: f"*** {p[0]} is away: {p[1]}",
    n.RPL_UNAWAY: lambda p: "*** You are no longer marked as away",
    n.RPL_NOWAWAY: lambda p: "*** You are now marked as away",
    n.RPL_WHOISUSER: lambda p: f"*** {p[0]} is {p[1]}@{p[2]}" + (f" ({p[4]})" if p[4] else ""),
    n.RPL_WHOISCHANNELS: lambda p: f"*** {p[0]} is in {p[1]}",
    n.RPL_WHOISSERVER: lambda p: (
        f"***   last seen on {p[1]} at {p[2]}"
        if _WHOWAS_TIME.fullmatch(p[2])
        else f"*** {p[0]} is connected to {p[1]}"
    ),
    n.RPL_WHOISIDLE: lambda p: f"*** {p[0]} has been idle {p[1]}s, online since {_fmt_ts(p[2])}",
    n.RPL_ENDOFWHOIS: lambda p: None,
    n.RPL_WHOREPLY: _fmt_who,
    n.RPL_ENDOFWHO: lambda p: "*** End of /who",
    n.RPL_LISTSTART: lambda p: "*** Rooms:",
    n.RPL_LIST: lambda p: f"***   {p[0]} ({_count(p[1], 'user')})" + (f": {p[2]}" if p[2] else ""),
    n.RPL_LISTEND: lambda p: "*** End of /list",
    n.RPL_CHANNELMODEIS: lambda p: f"*** Modes of {p[0]}: {' '.join(p[1:])}",
    n.RPL_CREATIONTIME: lambda p: None,
    n.RPL_UMODEIS: lambda p: f"*** Your modes: {p[0]}",
    n.RPL_NOTOPIC: lambda p: f"*** {p[0]} has no topic",
    n.RPL_TOPIC: lambda p: f"*** Topic of {p[0]}: {p[1]}",
    n.RPL_TOPICWHOTIME: lambda p: f"*** Topic set by {p[1].split('!')[0]} at {_fmt_ts(p[2])}",
    n.RPL_INVITING: lambda p: f"*** Invited {p[0]} to {p[1]}",
    n.RPL_NAMREPLY: lambda p: f"*** Users in {p[1]}: {p[2]}",
    n.RPL_ENDOFNAMES: lambda p: None,
    n.RPL_VERSION: lambda p: f"*** Server version {p[0]} on {p[1]}",
    n.RPL_TIME: lambda p: f"*** Server time: {p[1]}",
    n.RPL_USERHOST: lambda p: f"*** {p[0]}",
    n.RPL_ISON: lambda p: f"*** Online: {p[0]}",
    n.RPL_WHOISBOT: lambda p: f"*** {p[0]} is a bot",
    n.RPL_MONONLINE: lambda p: _fmt_monitor(p[0], "online"),
    n.RPL_MONOFFLINE: lambda p: _fmt_monitor(p[0], "offline"),
    n.RPL_MONLIST: lambda p: f"*** You are monitoring: {_nicks_of(p[0])}",
    n.RPL_ENDOFMONLIST: lambda p: "*** End of your monitor list",
    n.RPL_YOUREOPER: lambda p: "*** You are now an IRC operator",
    n.RPL_REHASHING: lambda p: f"*** Reloading {p[0]}",
    n.RPL_WHOISACCOUNT: lambda p: f"*** {p[0]} is logged in as {p[1]}",
    n.RPL_WHOISSECURE: lambda p: f"*** {p[0]} is using a secure connection",
    # The command's own answer says it in words (netcat users never use SASL).
    n.RPL_LOGGEDIN: lambda p: None,
    n.RPL_LOGGEDOUT: lambda p: None,
    n.RPL_WHOISOPERATOR: lambda p: f"*** {p[0]} is an IRC operator",
    n.RPL_WHOISACTUALLY: lambda p: f"*** {p[0]} is really {p[1]}",
    n.RPL_STATSKLINE: lambda p: f"*** K-line {p[3]}@{p[1]}: {p[4]}",
    n.RPL_STATSDLINE: lambda p: f"*** D-line {p[1]}: {p[2]}",
    n.RPL_STATSOLINE: lambda p: f"*** Operator {p[3]} may connect from {p[1]}",
    n.RPL_STATSUPTIME: lambda p: f"*** {p[0]}",
    n.RPL_ENDOFSTATS: lambda p: f"*** End of /stats {p[0]}",
    n.RPL_BANLIST: lambda p: _fmt_list_entry("Ban", p),
    n.RPL_ENDOFBANLIST: lambda p: f"*** End of the ban list of {p[0]}",
    n.RPL_EXCEPTLIST: lambda p: _fmt_list_entry("Ban exception", p),
    n.RPL_ENDOFEXCEPTLIST: lambda p: f"*** End of the ban exception list of {p[0]}",
    n.RPL_INVITELIST: lambda p: _fmt_list_entry("Invite exception", p),
    n.RPL_ENDOFINVITELIST: lambda p: f"*** End of the invite exception list of {p[0]}",
    n.RPL_WHOWASUSER: lambda p: f"*** {p[0]} was {p[1]}@{p[2]}" + (f" ({p[4]})" if p[4] else ""),
    n.RPL_ENDOFWHOWAS: lambda p: f"*** End of /whowas {p[0]}",
    n.RPL_STATSDEBUG: lambda p: f"*** {p[-1]}",
    n.RPL_LINKS: lambda p: f"*** Server {p[0]}: {p[2].partition(' ')[2]}",
    n.RPL_ENDOFLINKS: lambda p: None,
    n.RPL_INFO: lambda p: f"*** {p[0]}",
    n.RPL_ENDOFINFO: lambda p: None,
}


#: How the core begins the text of a refused room name (the reason follows a colon).
_INVALID_ROOM = "Invalid channel name"


def _fmt_no_such_room(p: tuple[str, ...]) -> str:
    name, text = p[0], p[-1]
    if text.startswith(_INVALID_ROOM):
        reason = text[len(_INVALID_ROOM) :].lstrip(": ")
        return f"! {name} is not a valid room name" + (f": {reason}" if reason else "")
    if text != n.ERROR_TEXT[n.ERR_NOSUCHCHANNEL]:
        return "! " + text
    return f"! No such room: {name}"


#: How a refusal reads on netcat, for the error numerics with their usual text.
#: Each gets the numeric's parameters (the text last) and returns one sentence,
#: in the words netcat users read everywhere ("room", slash commands). When the
#: server wrote a text of its own for a refusal, that text is the sentence
#: (``_render_error``), except for the codes of ``_READS_TEXT``.
ERROR_FORMATS: dict[str, NumericFormatter] = {
    n.ERR_UNKNOWNERROR: lambda p: "! Internal error; the command was not completed",
    n.ERR_NOSUCHNICK: lambda p: f"! No such nick or room: {p[0]}",
    n.ERR_NOSUCHSERVER: lambda p: f"! No such server: {p[0]}",
    n.ERR_NOSUCHCHANNEL: _fmt_no_such_room,
    n.ERR_CANNOTSENDTOCHAN: lambda p: (
        f"! {p[0]} is moderated: only voiced users and operators may speak"
        if p[1].endswith("(+m)")
        else f"! You are banned from speaking in {p[0]}"
        if p[1].endswith("(+b)")
        else f"! You cannot send to {p[0]}: join it first"
    ),
    n.ERR_TOOMANYCHANNELS: lambda p: f"! You are in too many rooms to join {p[0]}",
    n.ERR_WASNOSUCHNICK: lambda p: f"! No one called {p[0]} was here recently",
    n.ERR_TOOMANYTARGETS: lambda p: f"! Too many names: {p[0]} and the ones after it were skipped",
    n.ERR_INVALIDCAPCMD: lambda p: f"! Unknown CAP subcommand {p[0]}",
    n.ERR_NORECIPIENT: lambda p: "! Whom to? Usage: /msg NICK|#room TEXT",
    n.ERR_NOTEXTTOSEND: lambda p: "! No text to send",
    n.ERR_UNKNOWNCOMMAND: lambda p: (
        f"! Unknown command {p[0]}. Type /help for the list of commands."
    ),
    n.ERR_NOMOTD: lambda p: None,  # a server without a message of the day says nothing
    n.ERR_NONICKNAMEGIVEN: lambda p: "! Type a nickname (or /nick NAME)",
    n.ERR_NICKNAMEINUSE: lambda p: f"! The nickname {p[0]} is taken; pick another",
    n.ERR_USERNOTINCHANNEL: lambda p: f"! {p[0]} is not in {p[1]}",
    n.ERR_NOTONCHANNEL: lambda p: f"! You are not in {p[0]}",
    n.ERR_USERONCHANNEL: lambda p: f"! {p[0]} is already in {p[1]}",
    n.ERR_NOTREGISTERED: lambda p: "! Pick a nickname first: type it, or /nick NAME",
    n.ERR_NEEDMOREPARAMS: lambda p: f"! {p[0]} needs more parameters (see /help)",
    n.ERR_ALREADYREGISTERED: lambda p: "! You are already registered",
    # 464 with its usual text answers /oper (a wrong server password has its own text).
    n.ERR_PASSWDMISMATCH: lambda p: "! Wrong operator name or password",
    n.ERR_CHANNELISFULL: lambda p: f"! {p[0]} is full",
    n.ERR_UNKNOWNMODE: lambda p: f"! Unknown mode letter {p[0]} (see /help modes)",
    n.ERR_INVITEONLYCHAN: lambda p: f"! {p[0]} is invite-only: ask an operator for /invite",
    n.ERR_BANNEDFROMCHAN: lambda p: f"! You are banned from {p[0]}",
    n.ERR_BADCHANNELKEY: lambda p: f"! {p[0]} needs a key: /join {p[0]} KEY",
    n.ERR_BANLISTFULL: lambda p: f"! The +{p[1]} list of {p[0]} is full",
    n.ERR_NOPRIVILEGES: lambda p: "! Only server operators can do that (see /oper)",
    n.ERR_CHANOPRIVSNEEDED: lambda p: f"! You need to be an operator of {p[0]} for that",
    n.ERR_CANTKILLSERVER: lambda p: "! You cannot kill the server",
    n.ERR_NOOPERHOST: lambda p: "! You may not become that operator from your address",
    n.ERR_UMODEUNKNOWNFLAG: lambda p: "! Unknown user mode letter (see /help modes)",
    n.ERR_USERSDONTMATCH: lambda p: "! You can only see or change your own user modes",
    n.ERR_HELPNOTFOUND: lambda p: f"! No help for {p[0]}. Type /help for the list of commands.",
    n.ERR_INVALIDKEY: lambda p: (
        f"! That key is not valid for {p[0]}: one word of at most 23 characters, no commas"
    ),
    n.ERR_INVALIDMODEPARAM: lambda p: f"! {p[-1]} for {p[0]}: +{p[1]} {p[2]}",
    n.ERR_MONLISTFULL: lambda p: (
        f"! Your monitor list is full ({p[0]} nicknames): not added: {_nicks_of(p[1])}"
    ),
    n.ERR_NICKLOCKED: lambda p: "! You must use the nickname of your account",
    n.ERR_SASLFAIL: lambda p: "! SASL authentication failed",
    n.ERR_SASLTOOLONG: lambda p: "! The SASL message was too long",
    n.ERR_SASLABORTED: lambda p: "! SASL authentication was aborted",
    n.ERR_SASLALREADY: lambda p: "! You have already logged in with SASL",
}

#: Codes whose plain wording reads the server's text, whatever it is: the text
#: says why (``+m``, an invalid room name) in IRC's words, not in a sentence.
_READS_TEXT = frozenset(
    {n.ERR_NOSUCHCHANNEL, n.ERR_CANNOTSENDTOCHAN, n.ERR_NORECIPIENT, n.ERR_INVALIDMODEPARAM}
)


def _fmt_error_fallback(params: tuple[str, ...]) -> str:
    """An error numeric without a plain wording (a new one): still one sentence."""
    *subjects, text = params or ("Error",)
    subject = " ".join(subjects)
    if not subject:
        return "! " + text
    if text[:1].islower():
        # IRC's fragments: "x :is unknown mode char to me".
        return f"! {subject} {text}"
    return f"! {text}: {subject}"


def _fmt_erroneous(nick: str, max_nick: int) -> str:
    return (
        f"! {nick!r} is not a valid nickname: use up to {max_nick} letters, digits or "
        "[]\\`_^{|}-, not starting with a digit or '-'"
    )


class PlainDialect:
    """Humans on netcat."""

    name = "plain"
    keepalive: Literal["ping", "idle"] = "idle"
    password_retry = True
    utf8_only = False

    def __init__(self, config: Config) -> None:
        self.config = config

    def max_line_bytes(self, chat: Chat) -> int:
        return self.config.limits.max_line_bytes

    def render_key(self, client: Client) -> str:
        return "plain"

    def joins_default_room(self, chat: Chat) -> bool:
        return True

    def start(self, chat: Chat, client: Client) -> None:
        # Humans never send USER; their username marks how they connected.
        client.user.username = "~plain"
        client.user.update_mask()
        # Humans see where their lines went; IRC clients ask with echo-message.
        client.echo_own = True
        chat.reply(client, ev.Greeting(chat.server_name, bool(self.config.server.password)))

    def parse(self, line: str, client: Client) -> Command | Ignore | Local:
        return parse_plain(line, client)

    def render(self, env: ev.Envelope, client: Client) -> bytes:
        if isinstance(env.event, ev.History):
            lines = [self._history_line(item, env.time, client) for item in env.event.items]
            text: str | None = "\r\n".join(x for x in lines if x is not None) or None
        else:
            text = self.render_text(env.event, client)
        if text is None:
            return b""
        return _terminal_safe(text)

    def labeled(self, chunks: list[bytes], label: str, client: Client) -> bytes:
        return b"".join(chunks)

    def _history_line(self, item: StoredEvent, now: float, client: Client) -> str | None:
        """One event from history, marked with where and when: ``[#rust 14:02] <bob> hi``."""
        event = item.event
        when = history_time(item.time, now)
        target: str = getattr(event, "target", "") or getattr(event, "room", "")
        if item.owner:
            # A private conversation: whose side of it the line is.
            nick: str = getattr(event, "nick", "")
            where = f"[private {when}] " if fold(nick) == item.target else f"[to {target} {when}] "
        else:
            where = f"[{target or item.target} {when}] "
        match event:
            case ev.Privmsg(nick=nick, text=text, notice=notice):
                return _message_line(where, nick, text, notice)
            case ev.Multiline(nick=nick, lines=lines, notice=notice):
                return "\r\n".join(_message_line(where, nick, x, notice) for x in lines if x)
        shown = self.render_text(event, client)
        if shown is None:
            return None
        return "\r\n".join(where + x for x in shown.split("\r\n"))

    def render_text(self, event: ev.Event, client: Client) -> str | None:
        """The lines (without the final line ending) a human sees, or None."""
        match event:
            case ev.Privmsg(nick=nick, target=target, text=text, notice=notice):
                return _render_message(nick, target, text, notice, client.user.nick)
            case ev.Multiline(nick=nick, target=target, lines=lines, concat=concat, notice=notice):
                # The message as written: concatenated parts joined, blank lines kept.
                written = list(lines[:1])
                for text, joined in zip(lines[1:], concat[1:], strict=True):
                    if joined:
                        written[-1] += text
                    else:
                        written.append(text)
                return "\r\n".join(
                    _render_message(nick, target, x, notice, client.user.nick) for x in written
                )
            case ev.Numeric(code=n.RPL_WELCOME):
                return (
                    f"*** Welcome to {self.config.server.network}, {client.user.nick}! "
                    "Type /help for the commands."
                )
            case ev.Numeric(code=code, params=params):
                return self._render_numeric(code, params)
            case ev.StandardReply(text=text):
                return "! " + clean(text)
            case ev.Join(nick=nick, room=room):
                return f"*** {nick} joined {room}"
            case ev.Part(nick=nick, room=room, reason=reason):
                return f"*** {nick} left {room}" + (f" ({clean(reason)})" if reason else "")
            case ev.Quit(nick=nick, reason=reason):
                return f"*** {nick} quit" + (f" ({clean(reason)})" if reason else "")
            case ev.NickChange(old=old, new=new):
                return f"*** {old} is now known as {new}"
            case ev.Topic(nick=nick, room=room, text=text):
                if not text:
                    return f"*** {nick} cleared the topic of {room}"
                return f"*** {nick} changed the topic of {room} to: {clean(text)}"
            case ev.Kick(nick=nick, room=room, target=target, reason=reason):
                return f"*** {nick} kicked {target} from {room} ({clean(reason)})"
            case ev.ModeChange(nick=nick, target=target, modes=modes, args=args):
                shown = clean(" ".join((modes, *args)))
                return f"*** {nick} sets mode {shown} on {target}"
            case ev.Invite(notify=True):
                return None  # invite-notify is for IRC clients' member lists
            case ev.Invite(nick=nick, room=room):
                return f"*** {nick} invites you to {clean(room)} (type /join {clean(room)})"
            case ev.RealnameChange(nick=nick, realname=realname):
                return f"*** {nick} changed their realname to: {clean(realname)}"
            case ev.HostChange(nick=nick, username=username, host=host):
                return f"*** {nick} is now {nick}!{clean(username)}@{clean(host)}"
            case ev.Wallops(nick=nick, text=text):
                return f"*** Wallops from {nick}: {clean(text)}"
            case ev.Kill():
                return None  # The closing line that follows names the killer and the reason.
            case ev.ServerNotice(text=text):
                return f"*** {clean(text)}"
            case ev.ServiceReply(service=service, text=text):
                return f"-{service}- {clean(text)}"
            case ev.AccountReply(text=text):
                return f"*** {clean(text)}"
            case ev.Closing(reason=reason):
                return f"*** Closing connection: {clean(reason)}"
            case ev.Pong(token=token):
                return f"*** PONG {clean(token)}"
            case ev.Switched(room=room):
                return f"*** Now talking in {room}"
            case ev.Help(topic=topic):
                return self._render_help(topic)
            case ev.Greeting(server=server, password=True):
                return (
                    f"*** Welcome to {server}! This server needs a password: type "
                    "/pass PASSWORD, then a nickname. /help lists the commands."
                )
            case ev.Greeting(server=server):
                return (
                    f"*** Welcome to {server}! Type a nickname and press Enter "
                    "(or /nick NAME). /help lists the commands."
                )
            case _:
                # Ping, CapReply, AwayChange, TagMsg: IRC machinery humans need not see.
                return None

    def _render_numeric(self, code: str, params: tuple[str, ...]) -> str | None:
        # Topics, realnames, masks: users typed them, so no controls reach a terminal.
        cleaned = tuple(clean(p) for p in params)
        if code in n.ERROR_TEXT or code[0] in "45":
            return self._render_error(code, cleaned)
        fmt = NUMERIC_FORMATS.get(code)
        if fmt is not None:
            try:
                return fmt(cleaned)
            except IndexError:
                pass
        return "*** " + " ".join(cleaned)

    def _render_error(self, code: str, params: tuple[str, ...]) -> str | None:
        """One sentence for a refusal: ``! ...``.

        An error numeric's text is IRC's fixed wording (``is unknown mode char
        to me``) or a sentence the server wrote for this refusal (``Usage:
        /msg NICK|#room TEXT``). The first is replaced by the plain wording;
        the second is shown alone, since it already names what it is about:
        the numeric's other parameters are for IRC clients' windows.
        """
        text = params[-1] if params else ""
        usual = n.ERROR_TEXT.get(code)
        if usual is None:
            return _fmt_error_fallback(params)
        if text != usual and code not in _READS_TEXT:
            return "! " + text if text else _fmt_error_fallback(params)
        if code == n.ERR_ERRONEUSNICKNAME:
            return _fmt_erroneous(params[0], self.config.limits.max_nick_length)
        if code == n.ERR_INPUTTOOLONG:
            return (
                f"! Line too long (the limit is {self.config.limits.max_line_bytes} bytes); "
                "it was not sent"
            )
        fmt = ERROR_FORMATS.get(code)
        if fmt is not None:
            try:
                return fmt(params)
            except IndexError:
                pass
        return _fmt_error_fallback(params)

    def _render_help(self, topic: str) -> str:
        if topic and topic.lower() != "index":
            name = ALIASES.get(topic.lower(), topic.lower())
            spec = SLASH_COMMANDS.get(name)
            if spec is not None:
                return f"*** {spec.usage}: {spec.summary}"
            # The general topics share their text with IRC's HELP (handlers.server).
            text = general_help(topic)
            if text is None:
                return f"! No help for {topic!r}. Type /help for the list of commands."
            return "\r\n".join("*** " + clean(line) for line in text)
        width = max(len(s.usage) for s in SLASH_COMMANDS.values())
        lines = ["*** Commands (a line without / goes to your current room; //text sends /text):"]
        lines += [f"***   {s.usage.ljust(width)}  {s.summary}" for s in SLASH_COMMANDS.values()]
        lines.append("*** More: " + ", ".join(f"/help {t}" for t in GENERAL_TOPICS))
        return "\r\n".join(lines)


def history_time(when: float, now: float) -> str:
    """The server's local time of a past event: ``14:02``, with the date when not today."""
    then = time.localtime(when)
    if time.localtime(now)[:3] == then[:3]:
        return time.strftime("%H:%M", then)
    return time.strftime("%Y-%m-%d %H:%M", then)


def _render_message(nick: str, target: str, text: str, notice: bool, reader: str) -> str:
    """A live message as ``reader`` sees it: ``[#room] ``, ``[private] ``, or ``[to bob] ``."""
    # ``@#room``/``+#room``: a STATUSMSG to the room's operators or voiced members.
    if is_room_name(target.lstrip("@+")):
        where = f"[{target}] "
    elif nick == reader and target != reader:
        where = f"[to {target}] "  # one's own message, echoed (``/set echo``)
    else:
        where = "[private] "
    return _message_line(where, nick, text, notice)


def _message_line(where: str, nick: str, text: str, notice: bool) -> str:
    """A message as a human reads it, after ``where`` (``[#room] ``)."""
    if text.startswith(ACTION_PREFIX):
        return f"{where}* {nick} {clean(text[len(ACTION_PREFIX) :])}"
    if text.startswith("\x01"):
        verb, _, rest = text.strip("\x01").partition(" ")
        if notice:
            # A CTCP reply (VERSION, PING, TIME): worth reading.
            shown = f": {clean(rest)}" if rest.strip() else ""
            return f"{where}*** CTCP {clean(verb)} reply from {nick}{shown}"
        return f"{where}*** {nick} sent a CTCP {clean(verb)} request"
    if notice:
        return f"{where}-{nick}- {clean(text)}"
    return f"{where}<{nick}> {clean(text)}"
