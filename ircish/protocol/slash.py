"""The slash-command language: one table for netcat users and the terminal client.

Theory of operation: ``Language.parse(line, context)`` turns what a human
typed (``/join #rust``, ``/topic -delete``, ``hello``) into one of

- an ``Irc`` command, verb and parameters as IRC has them (``JOIN #rust``):
  the server's plain dialect wraps it into its ``Command``, the client
  formats it as an IRC line;
- a ``Local`` action that the caller carries out itself (``help``; the
  client's ``/switch`` and ``/close``);
- a ``SlashError`` whose text is the sentence to show (``Usage: /msg
  NICK|#room TEXT``), the same words on both sides;
- None, for a blank line.

The module is pure: it reads only the line and a small ``Context`` (the
current room, where plain text goes, registered or not, one's nickname), so
the server and the client, which know these things differently, ask it the
same question and get the same answer. ``COMMANDS`` is the shared table; a
side adds commands of its own by building a ``Language`` from more tables
(the client's ``/switch``, ``/close``, ``/raw``), and ``/help`` is made from
the same tables, filtered by the context.

A line without a leading slash is a message to ``context.target`` (before
registration on netcat: the nickname wanted). ``//text`` sends ``/text``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ircish.protocol import ctcp
from ircish.protocol import numerics as n
from ircish.protocol.words import canonical_mask, looks_like_duration
from ircish.values import value

if TYPE_CHECKING:
    from collections.abc import Iterable

#: Said when a command needs a current room and there is none (the server's words).
NOT_IN_A_ROOM = "You are not in a room: /join #room first"


@value
class Context:
    """What the parse needs to know about the user who typed the line."""

    #: The room being talked in, if any: the default of ``/part``, ``/topic``, ``/kick``...
    room: str | None = None
    #: Where a line without a slash (and ``/me``) goes: a room or a nickname.
    target: str | None = None
    #: Whether the user has a nickname; before that, netcat lines are the nickname wanted.
    registered: bool = True
    #: One's own nickname (``/mode +B`` is a user mode).
    nick: str = ""
    #: Whether the server wants a password (then ``/help`` lists ``/pass``).
    password: bool = False
    #: The characters that start a room name (ISUPPORT CHANTYPES).
    chantypes: str = "#"
    #: Lines are taken as typed: a command only when ``/`` is the first character, and
    #: messages keep their spaces (the client). Netcat lines are trimmed first.
    verbatim: bool = False
    #: What to say when a command needs a room and ``room`` is None.
    no_room: str = NOT_IN_A_ROOM
    #: What to say when text has nowhere to go (``target`` is None).
    no_target: str = NOT_IN_A_ROOM

    def is_room(self, word: str) -> bool:
        return bool(word) and word[0] in self.chantypes


@value
class Irc:
    """An IRC command to send: ``Irc("TOPIC", ("#a", ""))`` is ``TOPIC #a :``."""

    verb: str
    params: tuple[str, ...] = ()


@value
class Local:
    """An action the caller carries out itself: ``help``, or one of its own commands."""

    name: str
    args: tuple[str, ...] = ()


Outcome = Irc | Local


class SlashError(Exception):
    """The line cannot run as typed. ``text`` is the sentence for the user.

    ``code`` and ``params`` are the numeric the server answers with (a netcat
    user sees ``text``; the client shows ``text`` alone).
    """

    def __init__(self, code: str, params: tuple[str, ...], text: str) -> None:
        super().__init__(text)
        self.code = code
        self.params = params
        self.text = text


class Usage(Exception):
    """Raised by a builder: the arguments do not fit; the caller shows the usage line."""


Builder = Callable[[str, Context], Outcome]


@dataclass(frozen=True, slots=True)
class SlashCommand:
    """One slash command: how it becomes IRC (or a local action), and its help."""

    build: Builder
    usage: str
    summary: str
    #: Other names it answers to (``/j``), shown in ``/help``.
    aliases: tuple[str, ...] = ()
    #: Usable before registration (netcat users have not picked a nickname yet).
    pre_registration: bool = False
    #: Whether ``/help`` lists it for a user in this context (None: always).
    shown: Callable[[Context], bool] | None = None


# -- helpers for the builders --------------------------------------------------------


def current_room(ctx: Context) -> str:
    """The room the user is in, or the error saying there is none."""
    if ctx.room is None:
        raise SlashError(n.ERR_NOTONCHANNEL, ("*",), ctx.no_room)
    return ctx.room


def current_target(ctx: Context) -> str:
    """Where a line without a slash goes, or the error saying there is nowhere."""
    if ctx.target is None:
        raise SlashError(n.ERR_NOTONCHANNEL, ("*",), ctx.no_target)
    return ctx.target


def room_arg(word: str, ctx: Context) -> str:
    """Be forgiving: ``/join lobby`` means ``#lobby``."""
    return word if ctx.is_room(word) else "#" + word


def split_room(args: str, ctx: Context) -> tuple[str, str]:
    """``[#room] rest`` -> (the room named, or the current room; rest)."""
    first, _, rest = args.partition(" ")
    if ctx.is_room(first):
        return first, rest.strip()
    return current_room(ctx), args


def _one_word(verb: str) -> Builder:
    """A command that takes exactly one word: ``/whois NICK`` is ``WHOIS NICK``."""

    def build(args: str, ctx: Context) -> Outcome:
        words = args.split()
        if len(words) != 1:
            raise Usage
        return Irc(verb, (words[0],))

    return build


def _no_args(verb: str) -> Builder:
    def build(args: str, ctx: Context) -> Outcome:
        return Irc(verb)

    return build


def _rest(verb: str, optional: bool = False) -> Builder:
    """The rest of the line as one parameter: ``/wallops TEXT``, ``/away [TEXT]``."""

    def build(args: str, ctx: Context) -> Outcome:
        if not args:
            if optional:
                return Irc(verb)
            raise Usage
        return Irc(verb, (args,))

    return build


def _target_and_text(verb: str) -> Builder:
    """``/msg NICK|#room TEXT`` and ``/notice``."""

    def build(args: str, ctx: Context) -> Outcome:
        target, _, text = args.strip().partition(" ")
        if not target or not text.strip():
            raise Usage
        return Irc(verb, (target, text.strip()))

    return build


def _words(verb: str) -> Builder:
    """Every word a parameter: ``/ns help`` is ``NS help``."""

    def build(args: str, ctx: Context) -> Outcome:
        return Irc(verb, tuple(args.split()))

    return build


# -- the builders --------------------------------------------------------------------


def _join(args: str, ctx: Context) -> Outcome:
    """``/join #a [key=KEY] [#b ...]``: keys are spelt out, so a word is never one by accident."""
    words = args.replace(",", " ").split()
    rooms: list[str] = []
    keys: dict[int, str] = {}
    for word in words:
        if word[:4].lower() == "key=":
            if not rooms or not word[4:] or len(rooms) - 1 in keys:
                raise Usage
            keys[len(rooms) - 1] = word[4:]
            continue
        if rooms and ctx.is_room(words[0]) and not ctx.is_room(word):
            # "/join #help newbies": a key, or a second room? Ask, change nothing.
            raise SlashError(
                n.ERR_NEEDMOREPARAMS,
                ("/join",),
                f"To join {words[0]} with the key {word}, type /join {words[0]} key={word}; "
                f"to join {words[0]} and {room_arg(word, ctx)}, type /join {words[0]} "
                f"{room_arg(word, ctx)}",
            )
        rooms.append(room_arg(word, ctx))
    if not rooms:
        raise Usage
    if not keys:
        return Irc("JOIN", (",".join(rooms),))
    # IRC pairs keys with the leading rooms: those with a key go first.
    keyed = [rooms[i] for i in sorted(keys)]
    others = [room for i, room in enumerate(rooms) if i not in keys]
    return Irc("JOIN", (",".join(keyed + others), ",".join(keys[i] for i in sorted(keys))))


def _part(args: str, ctx: Context) -> Outcome:
    room, reason = split_room(args, ctx)
    return Irc("PART", (room, reason) if reason else (room,))


def _me(args: str, ctx: Context) -> Outcome:
    if not args:
        raise Usage
    return Irc("PRIVMSG", (current_target(ctx), ctcp.action(args)))


def _who(args: str, ctx: Context) -> Outcome:
    words = args.split()
    if len(words) > 1:
        raise Usage
    return Irc("WHO", (words[0] if words else ctx.room or "*",))


def _whois(args: str, ctx: Context) -> Outcome:
    words = args.split()
    if not words and ctx.target is not None and not ctx.is_room(ctx.target):
        words = [ctx.target]  # in a private conversation: the other person
    if len(words) != 1:
        raise Usage
    return Irc("WHOIS", (words[0],))


def _names(args: str, ctx: Context) -> Outcome:
    words = args.split()
    if len(words) > 1:
        raise Usage
    return Irc("NAMES", (room_arg(words[0], ctx) if words else current_room(ctx),))


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


def _list(args: str, ctx: Context) -> Outcome:
    words = args.replace(",", " ").split()
    return Irc("LIST", (",".join(_list_word(w) for w in words),) if words else ())


def _mask_list(sign: str) -> Builder:
    """``/ban`` and ``/unban``: MODE ±b with each nick or mask completed to nick!user@host."""

    def build(args: str, ctx: Context) -> Outcome:
        room, rest = split_room(args, ctx)
        words = rest.split()
        if not words:
            if sign == "+":
                return Irc("MODE", (room, "+b"))  # the ban list
            raise Usage
        if len(words) > 4:  # ISUPPORT MODES=4
            raise Usage
        return Irc("MODE", (room, sign + "b" * len(words), *map(canonical_mask, words)))

    return build


def _whowas(args: str, ctx: Context) -> Outcome:
    words = args.split()
    if not 1 <= len(words) <= 2 or (len(words) == 2 and not words[1].isdigit()):
        raise Usage
    return Irc("WHOWAS", tuple(words))


def _history(args: str, ctx: Context) -> Outcome:
    """``/history [#room|NICK] [N]``: the current room by default."""
    words = args.split()
    if len(words) > 2 or (len(words) == 2 and not words[1].isdigit()):
        raise Usage
    if words and words[0].isdigit():
        return Irc("HISTORY", (current_room(ctx), words[0]))
    target = words[0] if words else current_room(ctx)
    return Irc("HISTORY", (target, *words[1:]))


def _search(args: str, ctx: Context) -> Outcome:
    """``/search TEXT [in #room] [from NICK]`` as ``SEARCH TEXT in:#room from:NICK``."""
    words = args.split()
    filters: list[str] = []
    # The filters are the trailing "in X" / "from X" pairs, in either order.
    while len(words) >= 3 and words[-2].lower() in ("in", "from"):
        kind = words[-2].lower()
        if kind == "in" and not ctx.is_room(words[-1]):
            break
        filters.append(f"{kind}:{words[-1]}")
        del words[-2:]
    if not words:
        raise Usage
    # Words of the text that look like filters must not become filters.
    text = [w if ":" not in w else w.replace(":", " ") for w in words]
    return Irc("SEARCH", (" ".join(text), *filters))


#: How ``/topic`` spells "clear the topic" (irssi's spelling).
TOPIC_DELETE = "-delete"


def _topic(args: str, ctx: Context) -> Outcome:
    room, text = split_room(args, ctx)
    if text == TOPIC_DELETE:
        # An empty topic is what IRC's "TOPIC #room :" sends.
        return Irc("TOPIC", (room, ""))
    return Irc("TOPIC", (room, text) if text else (room,))


def _help(args: str, ctx: Context) -> Outcome:
    words = args.split()
    return Local("help", (words[0].lstrip("/"),) if words else ())


def _kick(args: str, ctx: Context) -> Outcome:
    room, rest = split_room(args, ctx)
    nick, _, reason = rest.partition(" ")
    if not nick:
        raise Usage
    reason = reason.strip()
    return Irc("KICK", (room, nick, reason) if reason else (room, nick))


#: User modes that are not also room modes (``i`` is both: "/mode +i" stays the room's).
_USER_ONLY_MODES = frozenset("Bw")


def _mode(args: str, ctx: Context) -> Outcome:
    words = args.split()
    if not words:
        return Irc("MODE", (current_room(ctx),))
    if words[0][0] in "+-":
        # "/mode +B" (bot) and "/mode -w": letters rooms do not have mean one's own modes.
        letters = set(words[0]) - {"+", "-"}
        if len(words) == 1 and letters and letters <= _USER_ONLY_MODES and ctx.nick:
            return Irc("MODE", (ctx.nick, words[0]))
        return Irc("MODE", (current_room(ctx), *words))
    return Irc("MODE", tuple(words))


def _invite(args: str, ctx: Context) -> Outcome:
    words = args.split()
    if not words or len(words) > 2:
        raise Usage
    room = room_arg(words[1], ctx) if len(words) == 2 else current_room(ctx)
    return Irc("INVITE", (words[0], room))


def _name_and_rest(verb: str) -> Builder:
    """``/oper NAME PASSWORD`` (the password may contain spaces), ``/kill NICK REASON``."""

    def build(args: str, ctx: Context) -> Outcome:
        name, _, rest = args.partition(" ")
        if not name or not rest.strip():
            raise Usage
        return Irc(verb, (name, rest.strip()))

    return build


_BAN_WORDS = frozenset({"ANDKILL", "MYSELF"})


def _ban_command(verb: str) -> Builder:
    """``[ANDKILL] [MYSELF] [DURATION] TARGET [reason...]``: the reason is one parameter."""

    def build(args: str, ctx: Context) -> Outcome:
        words = args.split()
        i = 0
        while i < len(words) and words[i].upper() in _BAN_WORDS:
            i += 1
        if i < len(words) and looks_like_duration(words[i]):
            i += 1
        if i >= len(words):
            raise Usage
        head, reason = words[: i + 1], " ".join(words[i + 1 :])
        return Irc(verb, (*head, reason) if reason else tuple(head))

    return build


def _stats(args: str, ctx: Context) -> Outcome:
    if not args.strip():
        raise Usage
    return Irc("STATS", (args.split(maxsplit=1)[0],))


def _setname(args: str, ctx: Context) -> Outcome:
    if not args.strip():
        raise Usage
    return Irc("SETNAME", (args.strip(),))


def _chghost(args: str, ctx: Context) -> Outcome:
    words = args.split()
    if len(words) not in (2, 3):
        raise Usage
    return Irc("CHGHOST", tuple(words))


def _register(args: str, ctx: Context) -> Outcome:
    words = args.split()
    if len(words) not in (1, 2):
        raise Usage
    # IRCv3 account-registration: "*" is the current nickname (and no e-mail).
    return Irc("REGISTER", ("*", words[1] if len(words) == 2 else "*", words[0]))


def _login(args: str, ctx: Context) -> Outcome:
    words = args.split()
    if len(words) not in (1, 2):
        raise Usage
    return Irc("LOGIN", tuple(words))


def _logout(args: str, ctx: Context) -> Outcome:
    if args:
        raise Usage
    return Irc("LOGOUT")


def _passwd(args: str, ctx: Context) -> Outcome:
    words = args.split()
    if len(words) != 2:
        raise Usage
    return Irc("PASSWD", tuple(words))


_MONITOR_WORDS = {"": "L", "list": "L", "status": "S", "clear": "C"}


def _monitor(args: str, ctx: Context) -> Outcome:
    """``/monitor`` lists; ``+a b`` / ``a,b`` add; ``-a`` removes; ``status``, ``clear``."""
    words = args.replace(",", " ").split()
    sub = _MONITOR_WORDS.get(" ".join(words).lower())
    if sub is not None:
        return Irc("MONITOR", (sub,))
    # IRC's own spelling ("+ a,b"), or a sign on the nicknames ("+a +b", "-a"); one sign per line.
    if words[0] in ("+", "-"):
        sign, words = words[0], words[1:]
    else:
        sign = "-" if words[0].startswith("-") else "+"
    nicks = [w[1:] if w[:1] in "+-" else w for w in words]
    if not nicks or any(w[:1] in "+-" and w[:1] != sign for w in words) or not all(nicks):
        raise Usage
    return Irc("MONITOR", (sign, ",".join(nicks)))


def _needs_password(ctx: Context) -> bool:
    return ctx.password and not ctx.registered


C = SlashCommand

#: The shared slash commands, in the order ``/help`` lists them.
COMMANDS: dict[str, SlashCommand] = {
    "nick": C(_one_word("NICK"), "/nick NAME", "change your nickname", pre_registration=True),
    "join": C(
        _join,
        "/join #room [key=KEY] [#room2 ...]",
        "join rooms, or switch to one",
        aliases=("j",),
    ),
    "part": C(
        _part, "/part [#room] [reason]", "leave a room (default: current)", aliases=("leave",)
    ),
    "msg": C(
        _target_and_text("PRIVMSG"),
        "/msg NICK|#room TEXT",
        "send a private or room message",
        aliases=("m", "query", "privmsg"),
    ),
    "me": C(_me, "/me ACTION", "describe an action in the current room", aliases=("action",)),
    "notice": C(_target_and_text("NOTICE"), "/notice NICK|#room TEXT", "send a notice"),
    "who": C(_who, "/who [#room|NICK]", "list the users of a room", aliases=("users",)),
    "whois": C(_whois, "/whois NICK", "show who someone is"),
    "whowas": C(_whowas, "/whowas NICK [COUNT]", "show who used a nickname recently"),
    "names": C(_names, "/names [#room]", "show the nicknames in a room"),
    "list": C(
        _list,
        "/list [FILTER ...]",
        "list rooms; filters: dev !dev >5 <5 (users) C<60 C>60 (created) T<60 T>60 (topic)",
    ),
    "topic": C(_topic, "/topic [#room] [TEXT|-delete]", "show, set or clear a topic"),
    "away": C(_rest("AWAY", optional=True), "/away [TEXT]", "mark yourself away (no text: back)"),
    "setname": C(_setname, "/setname REALNAME", "change your real name", aliases=("realname",)),
    "monitor": C(
        _monitor,
        "/monitor [+NICK|-NICK|status|clear]",
        "be told when someone comes online or leaves (no argument: your list)",
        aliases=("notify",),
    ),
    "chghost": C(
        _chghost, "/chghost NICK [USERNAME] HOST", "change a user's shown host (server operators)"
    ),
    "kick": C(_kick, "/kick [#room] NICK [reason]", "remove someone (operators)"),
    "ban": C(
        _mask_list("+"),
        "/ban [#room] [NICK|MASK ...]",
        "ban nick or nick!user@host (none: the ban list)",
    ),
    "unban": C(_mask_list("-"), "/unban [#room] NICK|MASK ...", "lift bans"),
    "mode": C(_mode, "/mode [#room|NICK] [+-modes [args]]", "show or change modes"),
    "invite": C(_invite, "/invite NICK [#room]", "invite someone into a room"),
    "register": C(_register, "/register PASSWORD [EMAIL]", "register your nickname as an account"),
    "login": C(_login, "/login [NAME] PASSWORD", "log in to your account", aliases=("identify",)),
    "logout": C(_logout, "/logout", "log out of your account"),
    "passwd": C(_passwd, "/passwd OLD NEW", "change your account's password"),
    "unregister": C(
        _one_word("UNREGISTER"), "/unregister PASSWORD", "delete your account (give its password)"
    ),
    "ghost": C(_one_word("GHOST"), "/ghost NICK", "disconnect a stale connection using your nick"),
    "ns": C(_words("NS"), "/ns COMMAND ...", "talk to NickServ (/ns help)", aliases=("nickserv",)),
    "cs": C(
        _words("CS"),
        "/cs COMMAND ...",
        "talk to ChanServ: register rooms (/cs help)",
        aliases=("chanserv",),
    ),
    "oper": C(_name_and_rest("OPER"), "/oper NAME PASSWORD", "become a server operator"),
    "kill": C(_name_and_rest("KILL"), "/kill NICK REASON", "disconnect a user (server operators)"),
    "wallops": C(_rest("WALLOPS"), "/wallops TEXT", "message users with mode +w (operators)"),
    "rehash": C(_no_args("REHASH"), "/rehash", "reload the configuration file (operators)"),
    "stats": C(
        _stats,
        "/stats LETTER",
        "server statistics: u uptime; k K-lines, d D-lines, o operators, z memory (operators)",
    ),
    "kline": C(
        _ban_command("KLINE"),
        "/kline [DURATION] MASK|NICK [reason]",
        "ban a user@host mask or a nick's address for DURATION (30m, 2h, 1d; none: for ever)",
    ),
    "dline": C(
        _ban_command("DLINE"),
        "/dline [DURATION] IP|CIDR [reason]",
        "ban an address or network (server operators)",
    ),
    "unkline": C(_one_word("UNKLINE"), "/unkline MASK", "lift a K-line (server operators)"),
    "undline": C(_one_word("UNDLINE"), "/undline IP|CIDR", "lift a D-line (server operators)"),
    "quit": C(
        _rest("QUIT", optional=True),
        "/quit [reason]",
        "leave the server",
        aliases=("exit", "bye"),
        pre_registration=True,
    ),
    "pass": C(
        _rest("PASS"),
        "/pass PASSWORD",
        "give the server password (before your nickname)",
        pre_registration=True,
        shown=_needs_password,
    ),
    "history": C(_history, "/history [#room|NICK] [N]", "show the last N messages (default 20)"),
    "search": C(_search, "/search TEXT [in #room] [from NICK]", "search the messages you may read"),
    "info": C(_no_args("INFO"), "/info", "what this server is"),
    "help": C(
        _help, "/help [COMMAND]", "this help", aliases=("?", "helpop"), pre_registration=True
    ),
}
del C


class Language:
    """Slash commands from one or more tables; a later table's name wins over an earlier's."""

    def __init__(self, *tables: Mapping[str, SlashCommand]) -> None:
        self.commands: dict[str, SlashCommand] = {}
        for table in tables:
            self.commands.update(table)
        #: alias -> command; a command's own name wins over another's alias (the client's
        #: ``/query`` opens a buffer, so it is no longer ``/msg``).
        self.aliases: dict[str, str] = {
            alias: name
            for name, spec in self.commands.items()
            for alias in spec.aliases
            if alias not in self.commands
        }

    def lookup(self, name: str) -> tuple[str, SlashCommand] | None:
        """The command ``name`` (lower case, alias or not) and its spec."""
        name = self.aliases.get(name, name)
        spec = self.commands.get(name)
        return None if spec is None else (name, spec)

    def parse(self, line: str, ctx: Context) -> Outcome | None:
        """What one typed line means; raises ``SlashError``. None for a blank line."""
        text = line.rstrip("\r\n") if ctx.verbatim else line.strip()
        if not text.strip():
            return None
        if not text.startswith("/") or text.startswith("//"):
            if text.startswith("//"):
                text = text[1:]
            if not ctx.registered:
                return _first_nick(text)
            return Irc("PRIVMSG", (current_target(ctx), text))
        word, _, args = text[1:].partition(" ")
        name = word.lower()
        found = self.lookup(name)
        if found is None:
            raise self.unknown(name)
        name, spec = found
        if not ctx.registered and not spec.pre_registration:
            raise SlashError(n.ERR_NOTREGISTERED, (), n.ERROR_TEXT[n.ERR_NOTREGISTERED])
        try:
            return spec.build(args.strip(), ctx)
        except Usage:
            raise SlashError(n.ERR_NEEDMOREPARAMS, ("/" + name,), f"Usage: {spec.usage}") from None

    def unknown(self, name: str) -> SlashError:
        close = difflib.get_close_matches(name, [*self.commands, *self.aliases], n=1, cutoff=0.75)
        hint = f" (did you mean /{close[0]}?)" if close else ""
        return SlashError(
            n.ERR_UNKNOWNCOMMAND,
            ("/" + name,),
            f"Unknown command /{name}{hint}. Type /help for the list of commands.",
        )

    # -- help --------------------------------------------------------------------------

    def shown_aliases(self, name: str) -> list[str]:
        """The aliases that still mean ``name`` here."""
        return [a for a in self.commands[name].aliases if self.aliases.get(a) == name]

    def summary(self, name: str) -> str:
        """What a command does, with its other names: ``join rooms ... (also /j)``."""
        aliases = self.shown_aliases(name)
        also = f" (also {', '.join('/' + a for a in aliases)})" if aliases else ""
        return self.commands[name].summary + also

    def help_rows(self, ctx: Context) -> list[tuple[str, str]]:
        """(usage, summary) of each command to list for this user, in table order.

        Before registration only what works then is listed; commands that do
        not apply (``/pass`` on a server without a password) are left out.
        """
        return [(spec.usage, self.summary(name)) for name, spec in self._listed(ctx)]

    def help_topic(self, topic: str) -> str | None:
        """``/help join``: ``usage: summary``, or None when no command is called that."""
        found = self.lookup(topic.lower().lstrip("/"))
        if found is None:
            return None
        name, spec = found
        return f"{spec.usage}: {self.summary(name)}"

    def _listed(self, ctx: Context) -> Iterable[tuple[str, SlashCommand]]:
        for name, spec in self.commands.items():
            if not ctx.registered and not spec.pre_registration:
                continue
            if spec.shown is not None and not spec.shown(ctx):
                continue
            yield name, spec


def _first_nick(text: str) -> Outcome:
    """Before registration a line is the nickname wanted (netcat): ``alice``, or ``NICK alice``."""
    if " " not in text:
        return Irc("NICK", (text,))
    verb, _, rest = text.partition(" ")
    if verb.lower() == "nick" and rest.strip() and " " not in rest.strip():
        # IRC's verb, from a human who knows it (an IRC client would have sent USER).
        return Irc("NICK", (rest.strip(),))
    raise SlashError(n.ERR_ERRONEUSNICKNAME, (text,), "A nickname is one word; type just the name")


#: The shared language itself (the server's plain dialect speaks exactly this).
SHARED = Language(COMMANDS)
#: alias -> command of the shared table.
ALIASES = SHARED.aliases
