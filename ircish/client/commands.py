"""Slash commands: what the user types, turned into IRC lines and local actions.

The commands are those of the server's plain (netcat) dialect, translated to
IRC, plus client-side ones (``/switch``, ``/close``, ``/clear``, ``/help``,
``/raw``, ``/reconnect``). A line without a slash is a message to the current
buffer; ``//text`` sends ``/text``. Each command is declared once in
``COMMANDS`` with its usage line, which ``/help`` and the error messages show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ircish.client.irc import IrcClient
from ircish.client.model import BufferKind, LineKind, Table


class UsageError(Exception):
    """The command cannot run as typed; the message says why (shown to the user)."""


Run = Callable[[IrcClient, str], None]


@dataclass(frozen=True, slots=True)
class ClientCommand:
    run: Run
    usage: str
    summary: str


def _usage(name: str) -> UsageError:
    return UsageError(f"Usage: {COMMANDS[name].usage}")


def _room_arg(client: IrcClient, word: str) -> str:
    """Be forgiving, like the server: ``/join lobby`` means ``#lobby``."""
    return word if client.model.is_room_name(word) else "#" + word


def _current_room(client: IrcClient) -> str:
    buf = client.model.current
    if not buf.is_room:
        raise UsageError("This is not a room: name one (#room) or /switch to one")
    return buf.name


def _current_target(client: IrcClient) -> str:
    buf = client.model.current
    if buf.kind is BufferKind.SERVER:
        raise UsageError("Nobody to talk to here: /join #room or /query NICK first")
    if buf.is_room and not buf.joined and client.registered:
        raise UsageError(f"You are not in {buf.name}: /join {buf.name}")
    return buf.name


def _split_room(client: IrcClient, args: str) -> tuple[str, str]:
    """``[#room] rest`` -> (the room, or the current one; rest)."""
    first, _, rest = args.partition(" ")
    if client.model.is_room_name(first):
        return first, rest.strip()
    return _current_room(client), args


def say(client: IrcClient, text: str) -> None:
    client.say(_current_target(client), text)


def _join(client: IrcClient, args: str) -> None:
    words = args.replace(",", " ").split()
    if not words:
        raise _usage("join")
    keys: list[str] = []
    is_room = client.model.is_room_name
    if len(words) == 2 and is_room(words[0]) and not is_room(words[1]):
        keys = [words.pop()]
    rooms = [_room_arg(client, w) for w in words]
    model = client.model
    fresh = [r for r in rooms if not ((buf := model.find(r)) and buf.is_room and buf.joined)]
    if not fresh:
        target = model.find(rooms[0])
        assert target is not None
        model.switch(target)
        return
    client.join(fresh, keys)


def _part(client: IrcClient, args: str) -> None:
    buf = client.model.current
    first = args.split(" ", 1)[0]
    if buf.kind is BufferKind.QUERY and not client.model.is_room_name(first):
        client.model.close(buf)  # parting a conversation closes it, as in WeeChat
        return
    room, reason = _split_room(client, args)
    target = client.model.find(room)
    if target is not None and target.is_room and not target.joined:
        client.channels.pop(client.model.fold(room), None)
        client.model.close(target)
        return
    client.part(room, reason)


def _msg(client: IrcClient, args: str) -> None:
    target, _, text = args.strip().partition(" ")
    if not target or not text.strip():
        raise _usage("msg")
    client.say(target, text.strip())


def _query(client: IrcClient, args: str) -> None:
    nick, _, text = args.strip().partition(" ")
    if not nick:
        raise _usage("query")
    model = client.model
    kind = BufferKind.ROOM if model.is_room_name(nick) else BufferKind.QUERY
    model.switch(model.open(nick, kind))
    if text.strip():
        client.say(nick, text.strip())


def _me(client: IrcClient, args: str) -> None:
    if not args:
        raise _usage("me")
    client.say(_current_target(client), args, action=True)


def _notice(client: IrcClient, args: str) -> None:
    target, _, text = args.strip().partition(" ")
    if not target or not text.strip():
        raise _usage("notice")
    client.say(target, text.strip(), notice=True)


def _nick(client: IrcClient, args: str) -> None:
    words = args.split()
    if len(words) != 1:
        raise _usage("nick")
    if not client.registered:
        # Takes effect at the next registration (and is sent then if still wanted).
        client.model.set_nick(words[0])
    client.send("NICK", words[0])


def _topic(client: IrcClient, args: str) -> None:
    room, text = _split_room(client, args)
    client.send("TOPIC", room, text) if text else client.send("TOPIC", room)


def _who(client: IrcClient, args: str) -> None:
    words = args.split()
    if len(words) > 1:
        raise _usage("who")
    buf = client.model.current
    client.send("WHO", words[0] if words else buf.name if buf.is_room else "*")


def _whois(client: IrcClient, args: str) -> None:
    words = args.split()
    buf = client.model.current
    if not words and buf.kind is BufferKind.QUERY:
        words = [buf.name]
    if len(words) != 1:
        raise _usage("whois")
    client.send("WHOIS", words[0])


def _names(client: IrcClient, args: str) -> None:
    words = args.split()
    if len(words) > 1:
        raise _usage("names")
    client.send("NAMES", _room_arg(client, words[0]) if words else _current_room(client))


def _list(client: IrcClient, args: str) -> None:
    words = args.split()
    client.send("LIST", *words[:1])


def _away(client: IrcClient, args: str) -> None:
    client.model.away = args or None
    client.send("AWAY", args) if args else client.send("AWAY")


def _kick(client: IrcClient, args: str) -> None:
    room, rest = _split_room(client, args)
    nick, _, reason = rest.partition(" ")
    if not nick:
        raise _usage("kick")
    reason = reason.strip()
    client.send("KICK", room, nick, reason) if reason else client.send("KICK", room, nick)


def _mode(client: IrcClient, args: str) -> None:
    words = args.split()
    if not words:
        client.send("MODE", _current_room(client))
    elif words[0][0] in "+-":
        client.send("MODE", _current_room(client), *words)
    else:
        client.send("MODE", *words)


def _invite(client: IrcClient, args: str) -> None:
    words = args.split()
    if not words or len(words) > 2:
        raise _usage("invite")
    room = _room_arg(client, words[1]) if len(words) == 2 else _current_room(client)
    client.send("INVITE", words[0], room)


def _quit(client: IrcClient, args: str) -> None:
    client.quit(args or "Leaving")


def _switch(client: IrcClient, args: str) -> None:
    name = args.strip()
    if not name:
        raise _usage("switch")
    model = client.model
    buf = model.find(name) or (model.find("#" + name) if not name.isdigit() else None)
    if buf is None:
        raise UsageError(f"No buffer called {name}; /join it or /query it first")
    model.switch(buf)


def _close(client: IrcClient, args: str) -> None:
    model = client.model
    buf = model.find(args.strip()) if args.strip() else model.current
    if buf is None:
        raise UsageError(f"No buffer called {args.strip()}")
    if buf is model.server:
        raise UsageError("The server buffer stays open; /quit to leave")
    if buf.is_room and buf.joined:
        client.part(buf.name)  # the buffer goes when the server confirms
        return
    client.channels.pop(model.fold(buf.name), None)
    model.close(buf)


def _clear(client: IrcClient, args: str) -> None:
    client.model.clear(client.model.current)


def _help(client: IrcClient, args: str) -> None:
    model = client.model
    topic = args.strip().lstrip("/").lower()
    if topic:
        spec = COMMANDS.get(ALIASES.get(topic, topic))
        if spec is None:
            raise UsageError(f"No command /{topic}; /help lists them")
        model.info(f"{spec.usage}: {spec.summary}")
        return
    rows = tuple((spec.usage, spec.summary) for spec in COMMANDS.values())
    title = "Commands (a line without / goes to the current buffer; //text sends /text)"
    model.line(model.current, LineKind.TABLE, title, table=Table(title, ("command", ""), rows))
    model.info(KEYS_HELP)


def _raw(client: IrcClient, args: str) -> None:
    if not args.strip():
        raise _usage("raw")
    client.send_raw(args.strip())


def _reconnect(client: IrcClient, args: str) -> None:
    client.reconnect_requested = True


COMMANDS: dict[str, ClientCommand] = {
    "join": ClientCommand(_join, "/join #room [#room2 ...] [KEY]", "join rooms, or switch to one"),
    "part": ClientCommand(_part, "/part [#room] [reason]", "leave a room (default: this one)"),
    "msg": ClientCommand(_msg, "/msg NICK|#room TEXT", "send a message; opens a private buffer"),
    "query": ClientCommand(_query, "/query NICK [TEXT]", "open a private buffer and go there"),
    "me": ClientCommand(_me, "/me ACTION", "describe an action"),
    "notice": ClientCommand(_notice, "/notice NICK|#room TEXT", "send a notice"),
    "nick": ClientCommand(_nick, "/nick NAME", "change your nickname"),
    "topic": ClientCommand(_topic, "/topic [#room] [TEXT]", "show or set a room's topic"),
    "who": ClientCommand(_who, "/who [#room|NICK]", "list the users of a room"),
    "whois": ClientCommand(_whois, "/whois NICK", "show who someone is"),
    "names": ClientCommand(_names, "/names [#room]", "show the nicknames in a room"),
    "list": ClientCommand(_list, "/list [PATTERN]", "list rooms with user counts and topics"),
    "away": ClientCommand(_away, "/away [TEXT]", "mark yourself away (no text: back)"),
    "kick": ClientCommand(_kick, "/kick [#room] NICK [reason]", "remove someone (operators)"),
    "mode": ClientCommand(_mode, "/mode [#room|NICK] [+-modes [args]]", "show or change modes"),
    "invite": ClientCommand(_invite, "/invite NICK [#room]", "invite someone into a room"),
    "quit": ClientCommand(_quit, "/quit [reason]", "leave the server and exit"),
    "switch": ClientCommand(_switch, "/switch NAME|NUMBER", "go to a buffer (also Alt+1..9)"),
    "close": ClientCommand(_close, "/close [NAME]", "close a buffer (parts a room)"),
    "clear": ClientCommand(_clear, "/clear", "clear this buffer's scrollback"),
    "help": ClientCommand(_help, "/help [COMMAND]", "this help"),
    "raw": ClientCommand(_raw, "/raw LINE", "send a raw IRC line (for experts)"),
    "reconnect": ClientCommand(_reconnect, "/reconnect", "drop the connection and connect again"),
}

ALIASES: dict[str, str] = {
    "j": "join",
    "leave": "part",
    "m": "msg",
    "privmsg": "msg",
    "q": "query",
    "action": "me",
    "exit": "quit",
    "bye": "quit",
    "?": "help",
    "users": "who",
    "buffer": "switch",
    "window": "switch",
    "b": "switch",
    "w": "switch",
    "quote": "raw",
}

KEYS_HELP = (
    "Keys: Enter send · Up/Down history · Tab complete · PageUp/PageDown scroll · "
    "Alt+1..9, Ctrl+N/Ctrl+P switch buffers · Alt+A next activity · Ctrl+C quit"
)

#: What Tab completes after a slash.
COMMAND_WORDS = tuple("/" + name for name in COMMANDS)


def execute(client: IrcClient, text: str) -> None:
    """Run one line of input; raises ``UsageError`` for the user to read."""
    text = text.rstrip("\r\n")
    if not text.strip():
        return
    if not text.startswith("/") or text.startswith("//"):
        say(client, text[1:] if text.startswith("//") else text)
        return
    name, _, args = text[1:].partition(" ")
    name = name.lower()
    spec = COMMANDS.get(ALIASES.get(name, name))
    if spec is None:
        raise UsageError(f"Unknown command /{name}; /help lists the commands (/raw sends IRC)")
    spec.run(client, args.strip())
