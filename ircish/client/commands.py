"""Slash commands in the client: the server's language, plus the client's own commands.

What the user types is parsed by ``ircish.protocol.slash``, the language the
server's plain (netcat) dialect speaks: the same commands, aliases, usage
lines and errors on both sides. The client adds only what concerns its own
screen (``CLIENT_COMMANDS``: ``/query``, ``/switch``, ``/windows``, ``/close``,
``/clear``, ``/lastlog``, ``/raw``, ``/reconnect``, ``/connect``, ``/disconnect``,
``/set``, ``/save``, ``/ignore``, ``/unignore``; ``/part`` in a private buffer
closes it) and then carries out the answer:

- an IRC command is sent, through ``SENDERS`` when it has a local side too
  (a message is split to fit and shown in its buffer, ``/join`` of a room
  already joined switches to it, ``/quit`` exits);
- a local action runs (``LOCAL_ACTIONS`` on the client's network,
  ``NETWORK_ACTIONS`` over every open network: moving between buffers, opening
  and closing networks);
- an error is raised as ``UsageError`` for the user to read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ircish.client.irc import IrcClient
from ircish.client.logfile import LogBook
from ircish.client.model import BufferKind, LineKind, Model, Table
from ircish.client.networks import Networks
from ircish.client.settings import (
    SAVED_KEYS,
    SETTINGS,
    SWITCH_WORDS,
    SettingsError,
    check_mask,
    default_config_path,
    default_log_dir,
    save_settings,
)
from ircish.protocol import ctcp
from ircish.protocol import numerics as n
from ircish.protocol.slash import (
    COMMANDS,
    Context,
    Irc,
    Language,
    Local,
    Outcome,
    SlashCommand,
    SlashError,
    Usage,
)


class UsageError(Exception):
    """The command cannot run as typed; the message says why (shown to the user)."""


#: Said when a command needs a room and the buffer in view is not one.
NO_ROOM = "This is not a room: name one (#room) or /switch to one"
#: Said when text is typed in the server buffer.
NO_TARGET = "Nobody to talk to here: /join #room or /query NICK first"
#: The QUIT reason when the user gives none.
QUIT_MESSAGE = "Leaving"


def context(client: IrcClient) -> Context:
    """What the slash language needs to know, from the buffer in view."""
    model = client.model
    buf = model.current
    target: str | None = buf.name
    no_target = NO_TARGET
    if buf.kind is BufferKind.SERVER:
        target = None
    elif buf.is_room and not buf.joined and client.registered:
        target, no_target = None, f"You are not in {buf.name}: /join {buf.name}"
    return Context(
        room=buf.name if buf.is_room else None,
        target=target,
        # The client registers by itself: what the user types is always chat or commands.
        registered=True,
        nick=model.nick,
        chantypes=model.chantypes,
        verbatim=True,
        no_room=NO_ROOM,
        no_target=no_target,
    )


# -- the client's own commands (pure: they only check the arguments) ------------------


def _local(name: str, needs_args: bool = False) -> Callable[[str, Context], Outcome]:
    def build(args: str, ctx: Context) -> Outcome:
        if needs_args and not args:
            raise Usage
        return Local(name, (args,) if args else ())

    return build


def _query(args: str, ctx: Context) -> Outcome:
    nick, _, text = args.partition(" ")
    if not nick:
        raise Usage
    return Local("query", (nick, text.strip()))


def _set(args: str, ctx: Context) -> Outcome:
    name, _, value = args.partition(" ")
    name = name.lower()
    if name and name not in SETTINGS:
        known = ", ".join(SETTINGS)
        raise SlashError(
            n.ERR_NEEDMOREPARAMS, ("/set",), f"There is no setting {name!r} (there is: {known})"
        )
    value = value.strip()
    if name and value and SETTINGS[name].kind == "switch" and value.lower() not in SWITCH_WORDS:
        raise SlashError(n.ERR_NEEDMOREPARAMS, ("/set",), f"Usage: /set {name} on|off")
    return Local("set", tuple(w for w in (name, value) if w))


def _masks(name: str, optional: bool) -> Callable[[str, Context], Outcome]:
    def build(args: str, ctx: Context) -> Outcome:
        masks = args.split()
        if not masks and not optional:
            raise Usage
        for mask in masks:
            try:
                check_mask(mask, mask)
            except SettingsError as exc:
                raise SlashError(n.ERR_NEEDMOREPARAMS, ("/" + name,), str(exc)) from None
        return Local(name, tuple(masks))

    return build


_shared_part = COMMANDS["part"].build


def _part(args: str, ctx: Context) -> Outcome:
    if ctx.room is None and ctx.target is not None and not ctx.is_room(args.split(" ", 1)[0]):
        return Local("close", ())  # parting a conversation closes it, as in WeeChat
    return _shared_part(args, ctx)


CLIENT_COMMANDS: dict[str, SlashCommand] = {
    "part": replace(
        COMMANDS["part"], build=_part, summary="leave a room (default: this one), or close a query"
    ),
    "query": SlashCommand(
        _query, "/query NICK [TEXT]", "open a private buffer and go there", aliases=("q",)
    ),
    "quit": replace(COMMANDS["quit"], summary="leave the server and exit"),
    "switch": SlashCommand(
        _local("switch", needs_args=True),
        "/switch NAME|NUMBER",
        "go to a buffer (also Alt+1..9)",
        aliases=("buffer", "window", "b", "w"),
    ),
    "close": SlashCommand(_local("close"), "/close [NAME]", "close a buffer (parts a room)"),
    "connect": SlashCommand(
        _local("connect", needs_args=True),
        "/connect NAME|HOST[:PORT]",
        "open another network beside this one (NAME: a [servers] entry of the config file)",
        aliases=("server",),
    ),
    "disconnect": SlashCommand(
        _local("disconnect"),
        "/disconnect [NETWORK]",
        "leave a network (default: this buffer's) and close its buffers",
    ),
    "windows": SlashCommand(
        _local("windows"), "/windows", "list the open buffers with their numbers and activity"
    ),
    "clear": SlashCommand(_local("clear"), "/clear", "clear this buffer's scrollback"),
    "lastlog": SlashCommand(
        _local("lastlog", needs_args=True),
        "/lastlog TEXT",
        "the latest lines of this buffer that contain TEXT (any case)",
    ),
    "raw": SlashCommand(
        _local("raw", needs_args=True),
        "/raw LINE",
        "send a raw IRC line (for experts)",
        aliases=("quote",),
    ),
    "reconnect": SlashCommand(
        _local("reconnect"), "/reconnect", "drop the connection and connect again"
    ),
    "set": SlashCommand(
        _set,
        "/set [NAME [VALUE]]",
        "show or change a setting for this session (/save keeps them): " + ", ".join(SETTINGS),
    ),
    "save": SlashCommand(
        _local("save"),
        "/save",
        "write the /set settings and the ignore list to the configuration file",
    ),
    "ignore": SlashCommand(
        _masks("ignore", optional=True),
        "/ignore [NICK|MASK ...]",
        "hide someone's messages, notices and CTCP (none: the ignore list)",
    ),
    "unignore": SlashCommand(
        _masks("unignore", optional=False), "/unignore NICK|MASK ...", "stop ignoring someone"
    ),
}

#: The language the client speaks: the shared table, then the client's own commands.
LANGUAGE = Language(COMMANDS, CLIENT_COMMANDS)

KEYS_HELP = (
    "Keys: Enter send · Up/Down history · Tab complete · PageUp/PageDown scroll · "
    "Alt+1..9, Ctrl+N/Ctrl+P switch buffers · Alt+A next activity · F7 member list · "
    "Ctrl+B/Ctrl+_/Ctrl+K/Ctrl+O bold/underline/colour/reset · Ctrl+C twice quit"
)

#: What Tab completes after a slash.
COMMAND_WORDS = tuple("/" + name for name in LANGUAGE.commands)


# -- carrying out local actions ------------------------------------------------------


def _help(client: IrcClient, topic: str = "") -> None:
    model = client.model
    if topic:
        shown = LANGUAGE.help_topic(topic)
        if shown is None:
            # Not a command: a topic the server may know (ircish-server: modes, caps).
            client.send("HELP", topic)
            return
        model.info(shown)
        return
    rows = tuple(LANGUAGE.help_rows(context(client)))
    title = "Commands (a line without / goes to the current buffer; //text sends /text)"
    model.line(model.current, LineKind.TABLE, title, table=Table(title, ("command", ""), rows))
    model.info(KEYS_HELP)


def _open_query(client: IrcClient, nick: str, text: str) -> None:
    model = client.model
    kind = BufferKind.ROOM if model.is_room_name(nick) else BufferKind.QUERY
    model.switch(model.open(nick, kind))
    if text:
        client.say(nick, text)


def _switch(nets: Networks, name: str) -> None:
    found = nets.find(name) or (nets.find("#" + name) if not name.isdigit() else None)
    if found is None:
        raise UsageError(f"No buffer called {name}; /join it or /query it first")
    nets.focus(*found)


def _connect(nets: Networks, target: str) -> None:
    if nets.opener is None:
        raise UsageError("/connect works in the full-screen client only")
    net = nets.opener(target.strip())
    net.model.info(f"Connecting to {net.label} as {nets.name_of(net)} (/disconnect to leave it)")


def _disconnect(nets: Networks, name: str = "") -> None:
    net = nets.named(name.strip()) if name else nets.current
    if net is None:
        known = ", ".join(nets.name_of(n) for n in nets.all)
        raise UsageError(f"No network called {name} (open: {known})")
    if nets.closer is None or len(nets.all) == 1:
        raise UsageError("This is the only network open: /quit to leave")
    nets.closer(net, QUIT_MESSAGE)


def _close(client: IrcClient, name: str = "") -> None:
    model = client.model
    buf = model.find(name) if name else model.current
    if buf is None:
        raise UsageError(f"No buffer called {name}")
    if buf is model.server:
        raise UsageError(
            "The server buffer stays open with its network: /disconnect or /quit to leave"
        )
    if buf.is_room and buf.joined:
        client.part(buf.name)  # the buffer goes when the server confirms
        return
    client.channels.pop(model.fold(buf.name), None)
    model.close(buf)


def _windows(nets: Networks) -> None:
    rows: list[tuple[str, ...]] = []
    here = nets.view()
    for number, (net, buf) in enumerate(nets.entries(), 1):
        if (net, buf) == here:
            activity = "(you are here)"
        elif buf.highlights:
            activity = f"{buf.unread} unread, {buf.highlights} for you"
        elif buf.unread:
            activity = f"{buf.unread} unread"
        else:
            activity = ""
        if buf.is_room and not buf.joined:
            activity = ", ".join(a for a in (activity, "not joined") if a)
        rows.append((str(number), nets.label(net, buf), activity))
    title = "Open buffers (Alt+NUMBER or /switch NUMBER goes there)"
    table = Table(title, ("#", "buffer", "activity"), tuple(rows))
    model = nets.current.model
    model.line(model.current, LineKind.TABLE, title, table=table)


#: The most lines /lastlog shows (the newest ones).
LASTLOG_LINES = 30


def _lastlog(client: IrcClient, text: str) -> None:
    model = client.model
    buf = model.current
    wanted = text.casefold()
    found = [
        line
        for line in buf.lines
        if line.kind is not LineKind.TABLE
        and (wanted in line.text.casefold() or wanted in line.nick.casefold())
    ]
    if not found:
        model.info(f"No line of {buf.name} contains {text!r}")
        return
    shown = found[-LASTLOG_LINES:]
    rows = tuple(
        (line.time.astimezone().strftime("%Y-%m-%d %H:%M"), line.nick, line.text) for line in shown
    )
    more = f" (the latest {len(shown)} of {len(found)})" if len(found) > len(shown) else ""
    title = f"/lastlog {text}: {len(found)} line{'s' if len(found) != 1 else ''}{more}"
    model.line(buf, LineKind.TABLE, title, table=Table(title, ("time", "who", "line"), rows))


def _clear(client: IrcClient) -> None:
    client.model.clear(client.model.current)


def _raw(client: IrcClient, line: str) -> None:
    client.send_raw(line)


def _reconnect(client: IrcClient) -> None:
    client.reconnect_requested = True


#: The on/off settings kept as ``Model`` attributes of the same name.
MODEL_SWITCHES = frozenset({"show_joins", "fold_joins", "mouse"})


def _setting_text(client: IrcClient, name: str) -> str:
    model = client.model
    spec = SETTINGS[name]
    if name == "highlights":
        shown = " ".join(model.highlight_words) or "(none)"
    elif name in MODEL_SWITCHES:
        shown = "on" if getattr(model, name) else "off"
    else:
        shown = "on" if model.logbook is not None and model.logbook.enabled else "off"
        if model.logbook is not None and model.logbook.enabled:
            shown += f", in {model.logbook.directory}"
    return f"{name} is {shown} ({spec.meaning})"


def _set_value(client: IrcClient, name: str, value: str = "") -> None:
    model = client.model
    if not value:
        model.info(_setting_text(client, name))
        return
    if name == "highlights":
        words = tuple(w for w in value.replace(",", " ").split() if w not in ("-", '""'))
        model.set_highlights(words)
    elif name in MODEL_SWITCHES:
        setattr(model, name, SWITCH_WORDS[value.lower()])
    else:
        on = SWITCH_WORDS[value.lower()]
        if model.logbook is None:
            model.logbook = LogBook(default_log_dir(), model.server.name, fold=model.fold)
        model.logbook.enabled = on
        if not on:
            model.logbook.close()
    model.info(_setting_text(client, name))


def _set_local(client: IrcClient, name: str = "", value: str = "") -> None:
    if name:
        _set_value(client, name, value)
        return
    rows = tuple((n, _setting_text(client, n).split(" is ", 1)[1]) for n in SETTINGS)
    title = "Settings (/set NAME VALUE changes one for this session; /save keeps them)"
    model = client.model
    model.line(model.current, LineKind.TABLE, title, table=Table(title, ("setting", ""), rows))


def _ignore(client: IrcClient, *masks: str) -> None:
    model = client.model
    if not masks:
        if not model.ignores:
            model.info("You ignore nobody (/ignore NICK to start)")
        else:
            model.info("You ignore: " + " ".join(model.ignores))
        return
    for mask in masks:
        full = model.ignore(mask)
        if full is None:
            model.info(f"You already ignore {mask}")
        else:
            model.info(f"Ignoring {full}: their messages, notices and CTCP are hidden")


def _unignore(client: IrcClient, *masks: str) -> None:
    model = client.model
    for mask in masks:
        gone = model.unignore(mask)
        if gone is None:
            raise UsageError(f"You do not ignore {mask} (/ignore lists whom you do)")
        model.info(f"No longer ignoring {gone}")


def saved_values(client: IrcClient) -> dict[str, bool | list[str]]:
    """What ``/save`` writes: each setting's value now (``SAVED_KEYS``), as the file has it."""
    return model_values(client.model)


def model_values(model: Model) -> dict[str, bool | list[str]]:
    """The session's settings on ``model``, keyed and shaped as in the file."""
    values: dict[str, bool | list[str]] = {
        "highlights": list(model.highlight_words),
        "log": model.logbook is not None and model.logbook.enabled,
        # A nick's own mask is written as the nick, as it is typed in /ignore.
        "ignore": [m.removesuffix("!*@*") if m.endswith("!*@*") else m for m in model.ignores],
    }
    for name in MODEL_SWITCHES:
        values[name] = bool(getattr(model, name))
    return {key: values[key] for key in SAVED_KEYS}


def apply_values(model: Model, values: dict[str, bool | list[str]]) -> None:
    """Give ``model`` the settings ``model_values`` read from another."""
    highlights, ignore = values["highlights"], values["ignore"]
    assert isinstance(highlights, list) and isinstance(ignore, list)
    model.set_highlights(tuple(highlights))
    model.ignores.clear()
    for mask in ignore:
        model.ignore(mask)
    for name in MODEL_SWITCHES:
        setattr(model, name, values[name])
    if model.logbook is not None:
        model.logbook.enabled = bool(values["log"])
        if not model.logbook.enabled:
            model.logbook.close()


def share_settings(src: Model, dst: Model) -> None:
    """What the user set in one network's session holds in another (``Networks.spread``)."""
    if dst is not src:
        apply_values(dst, model_values(src))


def _save(client: IrcClient) -> None:
    model = client.model
    path = model.config_path or default_config_path()
    try:
        save_settings(path, saved_values(client))
    except SettingsError as exc:
        raise UsageError(f"Not saved: {exc}") from None
    model.info(f"Saved {', '.join(SAVED_KEYS)} to {path} (the rest of the file is unchanged)")


#: Local actions over every open network (they get the ``Networks``, not one client).
NETWORK_ACTIONS: dict[str, Callable[..., None]] = {
    "switch": _switch,
    "windows": _windows,
    "connect": _connect,
    "disconnect": _disconnect,
}

LOCAL_ACTIONS: dict[str, Callable[..., None]] = {
    "set": _set_local,
    "save": _save,
    "ignore": _ignore,
    "unignore": _unignore,
    "help": _help,
    "query": _open_query,
    "close": _close,
    "clear": _clear,
    "lastlog": _lastlog,
    "raw": _raw,
    "reconnect": _reconnect,
}


# -- sending IRC commands that have a local side ------------------------------------


def _send_message(client: IrcClient, cmd: Irc) -> None:
    target, text = cmd.params
    if cmd.verb == "NOTICE":
        client.say(target, text, notice=True)
        return
    request = ctcp.decode(text)
    if request is not None and request[0] == "ACTION":
        client.say(target, request[1], action=True)  # split, then each piece re-encoded
        return
    client.say(target, text)


def _send_join(client: IrcClient, cmd: Irc) -> None:
    rooms = cmd.params[0].split(",")
    keys = cmd.params[1].split(",") if len(cmd.params) > 1 else []
    model = client.model
    # Rooms with keys lead (JOIN pairs keys with the first rooms), so filtering keeps pairs.
    wanted = [(room, keys[i] if i < len(keys) else "") for i, room in enumerate(rooms)]
    fresh = [
        (room, key)
        for room, key in wanted
        if not ((buf := model.find(room)) and buf.is_room and buf.joined)
    ]
    if not fresh:
        target = model.find(rooms[0])
        assert target is not None
        model.switch(target)
        return
    client.join([room for room, _ in fresh], [key for _, key in fresh if key])


def _send_part(client: IrcClient, cmd: Irc) -> None:
    room = cmd.params[0]
    reason = cmd.params[1] if len(cmd.params) > 1 else ""
    model = client.model
    target = model.find(room)
    if target is not None and target.is_room and not target.joined:
        client.channels.pop(model.fold(room), None)
        model.close(target)
        return
    client.part(room, reason)


def _send_nick(client: IrcClient, cmd: Irc) -> None:
    if not client.registered:
        # Takes effect at the next registration (and is sent then if still wanted).
        client.model.set_nick(cmd.params[0])
    client.send("NICK", *cmd.params)


def _send_away(client: IrcClient, cmd: Irc) -> None:
    client.model.away = cmd.params[0] if cmd.params else None
    client.send("AWAY", *cmd.params)


def _send_quit(client: IrcClient, cmd: Irc) -> None:
    client.quit(cmd.params[0] if cmd.params else QUIT_MESSAGE)


SENDERS: dict[str, Callable[[IrcClient, Irc], None]] = {
    "PRIVMSG": _send_message,
    "NOTICE": _send_message,
    "JOIN": _send_join,
    "PART": _send_part,
    "NICK": _send_nick,
    "AWAY": _send_away,
    "QUIT": _send_quit,
}


def execute(client: IrcClient, text: str, networks: Networks | None = None) -> None:
    """Run one line of input in ``client``'s network; raises ``UsageError`` for the user to read.

    ``networks``: every open network (the application's); alone, the client's own.
    """
    try:
        out = LANGUAGE.parse(text, context(client))
    except SlashError as exc:
        raise UsageError(exc.text) from None
    if out is None:
        return
    if isinstance(out, Local):
        if out.name in NETWORK_ACTIONS:
            NETWORK_ACTIONS[out.name](networks or Networks.single(client), *out.args)
        else:
            LOCAL_ACTIONS[out.name](client, *out.args)
        return
    sender = SENDERS.get(out.verb)
    if sender is not None:
        sender(client, out)
    else:
        client.send(out.verb, *out.params)
