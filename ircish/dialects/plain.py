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
from typing import TYPE_CHECKING, Literal

from ircish.config import Config
from ircish.core import events as ev
from ircish.core.command import IGNORE, Command, Ignore, Local
from ircish.core.handlers.server import GENERAL_TOPICS, general_help
from ircish.core.names import fold, is_room_name
from ircish.errors import CommandError
from ircish.protocol import ctcp, slash, wording
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

#: Replies netcat users are not shown: registration details, ends of lists, and
#: logins, whose command answers in words itself. The wording of every other
#: numeric is shared with the terminal client: ``protocol.wording``.
_HIDDEN = frozenset(
    {
        n.RPL_YOURHOST,
        n.RPL_CREATED,
        n.RPL_MYINFO,
        n.RPL_ISUPPORT,
        n.RPL_LUSERCLIENT,
        n.RPL_LUSEROP,
        n.RPL_LUSERUNKNOWN,
        n.RPL_LUSERCHANNELS,
        n.RPL_LUSERME,
        n.RPL_LOCALUSERS,
        n.RPL_MOTDSTART,
        n.RPL_ENDOFMOTD,
        n.RPL_ENDOFWHOIS,
        n.RPL_CREATIONTIME,
        n.RPL_ENDOFNAMES,
        n.RPL_LOGGEDIN,
        n.RPL_LOGGEDOUT,
        n.RPL_ENDOFLINKS,
        n.RPL_ENDOFINFO,
    }
)


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
        elif type(env.event) is ev.Burst:
            shown = [self.render_text(x, client) for x in env.event.numerics]
            text = "\r\n".join(x for x in shown if x is not None) or None
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
            case ev.ServiceReply(service=service, text=text, human=human):
                return f"-{service}- {clean(human or text)}"
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
                    f"*** This is {server}; it needs a password: type "
                    "/pass PASSWORD, then a nickname. /help lists the commands."
                )
            case ev.Greeting(server=server):
                return (
                    f"*** This is {server}. Type a nickname and press Enter "
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
        if code in _HIDDEN:
            return None
        text = wording.reply(code, cleaned)
        return "*** " + (text if text is not None else " ".join(cleaned))

    def _render_error(self, code: str, params: tuple[str, ...]) -> str | None:
        """One sentence for a refusal: ``! ...`` (the wording: ``protocol.wording.error``)."""
        usual = bool(params) and params[-1] == n.ERROR_TEXT.get(code)
        if usual and code == n.ERR_ERRONEUSNICKNAME:
            return _fmt_erroneous(params[0], self.config.limits.max_nick_length)
        if usual and code == n.ERR_INPUTTOOLONG:
            return (
                f"! Line too long (the limit is {self.config.limits.max_line_bytes} bytes); "
                "it was not sent"
            )
        text = wording.error(code, params)
        return None if text is None else "! " + text

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
