"""The plain dialect: humans on netcat, slash commands, one readable line per event.

Parsing turns ``/msg bob hi`` into the same ``Command`` an IRC client's
``PRIVMSG bob :hi`` becomes, so the core has one code path for both. The
slash commands are the shared language of ``ircish.protocol.slash`` (the
terminal client speaks it too), plus netcat's own ``/set``. A line without a
leading slash is a message to the user's current room (or, before
registration, the nickname the user wants). ``//text`` sends ``/text``.

Rendering never passes control characters through: a netcat user's terminal
would obey escape sequences that another user typed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from ircish.config import Config
from ircish.core import events as ev
from ircish.core.command import IGNORE, Command, Ignore, Local
from ircish.core.handlers.server import GENERAL_TOPICS, general_help
from ircish.core.names import fold, is_room_name
from ircish.errors import CommandError
from ircish.protocol import ctcp, slash
from ircish.protocol import numerics as n
from ircish.protocol.slash import COMMANDS, Context, Language, SlashCommand, SlashError

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


#: The settings of one netcat connection (``/set``): name -> (Client attribute, meaning).
PLAIN_SETTINGS: dict[str, tuple[str, str]] = {
    "echo": ("echo_own", "show your own messages, as [#room] <you> text"),
}
_SWITCH = {"on": True, "off": False}


def _set(args: str, ctx: Context) -> slash.Outcome:
    """``/set`` lists the settings, ``/set NAME`` shows one, ``/set NAME on|off`` changes it."""
    words = args.lower().split()
    if len(words) > 2 or (len(words) == 2 and words[1] not in _SWITCH):
        raise slash.Usage
    if words and words[0] not in PLAIN_SETTINGS:
        known = ", ".join(PLAIN_SETTINGS)
        text = f"There is no setting {words[0]!r} (there is: {known})"
        raise SlashError(n.ERR_NEEDMOREPARAMS, ("/set",), text)
    return slash.Local("set", tuple(words))


def _apply_set(words: tuple[str, ...], client: Client) -> Local:
    """Carry out a checked ``/set``; the answer is a notice to the user alone."""
    if not words:
        shown = [_setting_line(name, client) for name in PLAIN_SETTINGS]
        return Local(ev.ServerNotice("\r\n".join(shown)))
    if len(words) == 2:
        setattr(client, PLAIN_SETTINGS[words[0]][0], _SWITCH[words[1]])
    return Local(ev.ServerNotice(_setting_line(words[0], client)))


def _setting_line(name: str, client: Client) -> str:
    attribute, meaning = PLAIN_SETTINGS[name]
    return f"{name} is {'on' if getattr(client, attribute) else 'off'} ({meaning})"


#: Commands only netcat has, on top of the shared language.
PLAIN_COMMANDS: dict[str, SlashCommand] = {
    "set": SlashCommand(
        _set, "/set [echo [on|off]]", "show or change your settings", pre_registration=True
    ),
}

#: What netcat users type: the shared slash language (``protocol.slash``), which the
#: terminal client speaks too, and netcat's own commands.
LANGUAGE = Language(COMMANDS, PLAIN_COMMANDS)
SLASH_COMMANDS = LANGUAGE.commands
ALIASES = LANGUAGE.aliases


def slash_context(client: Client, password: bool = False) -> Context:
    """What the slash language needs to know about a netcat user."""
    room = client.current_room.name if client.current_room is not None else None
    return Context(
        room=room,
        target=room,
        registered=client.user.registered,
        nick=client.user.nick,
        password=password,
    )


def parse_plain(line: str, client: Client) -> Command | Ignore | Local:
    """Turn one line typed by a human into a core command."""
    try:
        out = LANGUAGE.parse(line, slash_context(client))
    except SlashError as exc:
        raise CommandError(exc.code, *exc.params, text=exc.text) from None
    if out is None:
        return IGNORE
    if isinstance(out, slash.Local):
        if out.name == "set":
            return _apply_set(out.args, client)
        # HELP, which the core answers for netcat users too (rendered by ``_render_help``).
        return Command("HELP", out.args)
    return Command(out.verb, out.params)


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
                return self._render_help(topic, client)
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

    def _render_help(self, topic: str, client: Client) -> str:
        if topic and topic.lower() != "index":
            shown = LANGUAGE.help_topic(topic)
            if shown is not None:
                return f"*** {shown}"
            # The general topics share their text with IRC's HELP (handlers.server).
            text = general_help(topic)
            if text is None:
                return f"! No help for {topic!r}. Type /help for the list of commands."
            return "\r\n".join("*** " + clean(line) for line in text)
        ctx = slash_context(client, password=bool(self.config.server.password))
        rows = LANGUAGE.help_rows(ctx)
        width = max(len(usage) for usage, _ in rows)
        if client.user.registered:
            title = "Commands (a line without / goes to your current room; //text sends /text):"
        else:
            title = "Commands before you have a nickname (type one; then /help lists them all):"
        lines = [f"*** {title}"]
        lines += [f"***   {usage.ljust(width)}  {summary}" for usage, summary in rows]
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
    request = ctcp.decode(text)
    if request is not None:
        verb, rest = request
        if verb == "ACTION":
            return f"{where}* {nick} {clean(rest)}"
        if notice:
            # A CTCP reply (VERSION, PING, TIME): worth reading.
            shown = f": {clean(rest)}" if rest.strip() else ""
            return f"{where}*** CTCP {clean(verb)} reply from {nick}{shown}"
        return f"{where}*** {nick} sent a CTCP {clean(verb)} request"
    if notice:
        return f"{where}-{nick}- {clean(text)}"
    return f"{where}<{nick}> {clean(text)}"
