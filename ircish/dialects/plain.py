"""The plain dialect: humans on netcat, slash commands, one readable line per event.

Parsing turns ``/msg bob hi`` into the same ``Command`` an IRC client's
``PRIVMSG bob :hi`` becomes, so the core has one code path for both. A line
without a leading slash is a message to the user's current room (or, before
registration, the nickname the user wants). ``//text`` sends ``/text``.

Rendering never passes control characters through: a netcat user's terminal
would obey escape sequences that another user typed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from ircish.config import Config
from ircish.core import events as ev
from ircish.core.command import IGNORE, Command, Ignore
from ircish.core.names import is_room_name
from ircish.errors import CommandError
from ircish.protocol import numerics as n

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client

_CONTROLS = {c: None for c in (*range(0x20), 0x7F)}
ACTION_PREFIX = "\x01ACTION "


def clean(text: str) -> str:
    """Drop control characters (IRC colours, terminal escapes, CTCP markers)."""
    return text.translate(_CONTROLS)


# -- parsing ----------------------------------------------------------------

Builder = Callable[[str, "Client"], Command]


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


def _list(args: str, client: Client) -> Command:
    words = args.split()
    return Command("LIST", (words[0],) if words else ())


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
        return Command("MODE", (_current(client), *words))
    return Command("MODE", tuple(words))


def _invite(args: str, client: Client) -> Command:
    words = args.split()
    if not words or len(words) > 2:
        raise _usage("invite")
    room = _room_arg(words[1]) if len(words) == 2 else _current(client)
    return Command("INVITE", (words[0], room))


SLASH_COMMANDS: dict[str, SlashCommand] = {
    "nick": SlashCommand(_nick, "/nick NAME", "change your nickname", pre_registration=True),
    "join": SlashCommand(_join, "/join #room [#room2 ...]", "join rooms, or switch to one"),
    "part": SlashCommand(_part, "/part [#room] [reason]", "leave a room (default: current)"),
    "msg": SlashCommand(_msg, "/msg NICK|#room TEXT", "send a private or room message"),
    "me": SlashCommand(_me, "/me ACTION", "describe an action in the current room"),
    "notice": SlashCommand(_notice, "/notice NICK|#room TEXT", "send a notice"),
    "who": SlashCommand(_who, "/who [#room|NICK]", "list the users of a room"),
    "whois": SlashCommand(_whois, "/whois NICK", "show who someone is"),
    "names": SlashCommand(_names, "/names [#room]", "show the nicknames in a room"),
    "list": SlashCommand(_list, "/list [PATTERN]", "list rooms with user counts and topics"),
    "topic": SlashCommand(_topic, "/topic [#room] [TEXT|-delete]", "show, set or clear a topic"),
    "away": SlashCommand(_away, "/away [TEXT]", "mark yourself away (no text: back)"),
    "kick": SlashCommand(_kick, "/kick [#room] NICK [reason]", "remove someone (operators)"),
    "mode": SlashCommand(_mode, "/mode [#room|NICK] [+-modes [args]]", "show or change modes"),
    "invite": SlashCommand(_invite, "/invite NICK [#room]", "invite someone into a room"),
    "quit": SlashCommand(_quit, "/quit [reason]", "leave the server", pre_registration=True),
    "pass": SlashCommand(
        _pass,
        "/pass PASSWORD",
        "give the server password (before your nickname)",
        pre_registration=True,
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
}


def parse_plain(line: str, client: Client) -> Command | Ignore:
    """Turn one line typed by a human into a core command."""
    stripped = line.strip()
    if not stripped:
        return IGNORE
    if not stripped.startswith("/") or stripped.startswith("//"):
        text = stripped[1:] if stripped.startswith("//") else stripped
        if not client.user.registered:
            return Command("NICK", (text,)) if " " not in text else _bad_first_nick(text)
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


def _bad_first_nick(text: str) -> Command:
    raise CommandError(
        n.ERR_ERRONEUSNICKNAME, text, text="A nickname is one word; type just the name"
    )


# -- rendering --------------------------------------------------------------

NumericFormatter = Callable[[tuple[str, ...]], str | None]


def _fmt_who(p: tuple[str, ...]) -> str:
    room, username, host, _server, nick, flags = p[:6]
    prefix = flags[1:]
    away = " [away]" if flags.startswith("G") else ""
    where = f"{room}: " if room != "*" else ""
    return f"*** {where}{prefix}{nick} ({username}@{host}){away}"


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
    n.ERR_NOMOTD: lambda p: None,
    n.RPL_AWAY: lambda p: f"*** {p[0]} is away: {p[1]}",
    n.RPL_UNAWAY: lambda p: "*** You are no longer marked as away",
    n.RPL_NOWAWAY: lambda p: "*** You are now marked as away",
    n.RPL_WHOISUSER: lambda p: f"*** {p[0]} is {p[1]}@{p[2]}" + (f" ({p[4]})" if p[4] else ""),
    n.RPL_WHOISCHANNELS: lambda p: f"*** {p[0]} is in {p[1]}",
    n.RPL_WHOISSERVER: lambda p: f"*** {p[0]} is connected to {p[1]}",
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
    "368": lambda p: None,
    "349": lambda p: None,
    "347": lambda p: None,
    n.ERR_NOSUCHNICK: lambda p: f"! No such nick or room: {p[0]}",
    n.ERR_NOSUCHCHANNEL: lambda p: (
        f"! {p[1]}: {p[0]}"
        if p[1] != n.ERROR_TEXT[n.ERR_NOSUCHCHANNEL]
        else f"! No such room: {p[0]}"
    ),
    n.ERR_NOTONCHANNEL: lambda p: f"! You are not in {p[0]}" if p[0] != "*" else "! " + p[1],
    n.ERR_CANNOTSENDTOCHAN: lambda p: f"! You cannot send to {p[0]}: join it first",
    n.ERR_TOOMANYCHANNELS: lambda p: f"! You are in too many rooms to join {p[0]}",
    n.ERR_USERNOTINCHANNEL: lambda p: f"! {p[0]} is not in {p[1]}",
    n.ERR_USERONCHANNEL: lambda p: f"! {p[0]} is already in {p[1]}",
    n.ERR_CHANOPRIVSNEEDED: lambda p: f"! You need to be an operator of {p[0]} for that",
    n.ERR_NICKNAMEINUSE: lambda p: f"! The nickname {p[0]} is taken; pick another",
    n.ERR_NONICKNAMEGIVEN: lambda p: "! Type a nickname (or /nick NAME)",
    n.ERR_NOTREGISTERED: lambda p: "! Pick a nickname first: type it, or /nick NAME",
    n.ERR_NORECIPIENT: lambda p: "! Whom to? Usage: /msg NICK|#room TEXT",
    n.ERR_NOTEXTTOSEND: lambda p: "! No text to send",
    n.ERR_INVITEONLYCHAN: lambda p: f"! {p[0]} is invite-only: ask an operator for /invite",
    n.ERR_BADCHANNELKEY: lambda p: f"! {p[0]} needs a key: /join {p[0]} KEY",
    n.ERR_CHANNELISFULL: lambda p: f"! {p[0]} is full",
    n.ERR_UNKNOWNERROR: lambda p: "! Internal error; the command was not completed",
}


def _fmt_erroneous(p: tuple[str, ...], max_nick: int) -> str:
    if p[1] != n.ERROR_TEXT[n.ERR_ERRONEUSNICKNAME]:
        return "! " + p[1]
    return (
        f"! {p[0]!r} is not a valid nickname: use up to {max_nick} letters, digits or "
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
        chat.reply(client, ev.Greeting(chat.server_name, bool(self.config.server.password)))

    def parse(self, line: str, client: Client) -> Command | Ignore:
        return parse_plain(line, client)

    def render(self, env: ev.Envelope, client: Client) -> bytes:
        text = self.render_text(env.event, client)
        if text is None:
            return b""
        return (text + "\r\n").encode("utf-8", "replace")

    def labeled(self, chunks: list[bytes], label: str, client: Client) -> bytes:
        return b"".join(chunks)

    def render_text(self, event: ev.Event, client: Client) -> str | None:
        """The lines (without the final line ending) a human sees, or None."""
        match event:
            case ev.Privmsg(nick=nick, target=target, text=text, notice=notice):
                return _render_message(nick, target, text, notice)
            case ev.Multiline(nick=nick, target=target, lines=lines, notice=notice):
                return "\r\n".join(_render_message(nick, target, x, notice) for x in lines)
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
            case ev.ServerNotice(text=text):
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
        if code == n.ERR_ERRONEUSNICKNAME:
            return _fmt_erroneous(params, self.config.limits.max_nick_length)
        if code == n.ERR_INPUTTOOLONG:
            return (
                f"! Line too long (the limit is {self.config.limits.max_line_bytes} bytes); "
                "it was not sent"
            )
        fmt = NUMERIC_FORMATS.get(code)
        if fmt is not None:
            try:
                return fmt(params)
            except IndexError:
                pass
        if code[0] in "45":
            detail = " ".join(params[:-1])
            return "! " + clean(params[-1]) + (f": {clean(detail)}" if detail else "")
        return "*** " + clean(" ".join(params))

    def _render_help(self, topic: str) -> str:
        if topic:
            name = ALIASES.get(topic.lower(), topic.lower())
            spec = SLASH_COMMANDS.get(name)
            if spec is None:
                return f"! No help for {topic!r}. Type /help for the list of commands."
            return f"*** {spec.usage}: {spec.summary}"
        width = max(len(s.usage) for s in SLASH_COMMANDS.values())
        lines = ["*** Commands (a line without / goes to your current room; //text sends /text):"]
        lines += [f"***   {s.usage.ljust(width)}  {s.summary}" for s in SLASH_COMMANDS.values()]
        return "\r\n".join(lines)


def _render_message(nick: str, target: str, text: str, notice: bool) -> str:
    where = f"[{target}] " if is_room_name(target) else "[private] "
    if text.startswith(ACTION_PREFIX):
        return f"{where}* {nick} {clean(text[len(ACTION_PREFIX) :])}"
    if text.startswith("\x01"):
        verb = clean(text.strip("\x01").split(" ", 1)[0])
        return f"{where}*** {nick} sent a CTCP {verb} request"
    if notice:
        return f"{where}-{nick}- {clean(text)}"
    return f"{where}<{nick}> {clean(text)}"
