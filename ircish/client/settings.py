"""The client's configuration file and its session settings.

Theory of operation: ``load_settings`` reads ``client.toml`` (by default
``$XDG_CONFIG_HOME/ircish/client.toml``, else ``~/.config/ircish/client.toml``)
with ``tomllib`` into frozen dataclasses, checked up front like the server's
``ircish/config.py``: unknown keys, wrong types and bad values raise
``SettingsError`` naming the dotted key, which the command line prints as one
line with exit status 2. A missing default file is no error (every key has a
default); a missing ``--config FILE`` is.

The server's own helpers are not reused: they live with server-only imports
(``ircish.core``), which the client never loads, and they know no arrays of
strings or tables of named entries.

Passwords are not kept in the file in plain text unless the user asks for it:
an entry names an environment variable (``password_env``) or a command that
prints the password (``password_command``, run by ``resolve_password`` only
when that server is used). A plain ``password`` is accepted only from a file
that nobody else can read.

What can change while the client runs (``/set``) is listed in ``SETTINGS``;
the values live on the ``Model`` (highlights, joins shown, ignore masks) and on
its ``LogBook``. ``/save`` writes them back with ``save_settings``, which
rewrites only those top-level keys (and ``ignore``) through ``tomlkit``, so
the file's servers, colours, other keys and comments stay as they are.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import subprocess
import tempfile
import tomllib
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import tomlkit
from prompt_toolkit.styles import Style
from tomlkit.exceptions import TOMLKitError

#: The theme keys ``[colours]`` may set, and the style classes of the screen they change.
COLOUR_CLASSES: dict[str, str] = {
    "title": "title",
    "status": "status",
    "status_nick": "status.nick",
    "status_buffer": "status.buffer",
    "activity": "status.unread",
    "highlight": "status.highlight",
    "prompt": "prompt",
}

#: Seconds a ``password_command`` may take (a pinentry prompt included).
PASSWORD_COMMAND_TIMEOUT = 120.0

_ROOM_RE = re.compile(r"^[#&][^\s,\x00-\x1f]+$")
_HEX_RE = re.compile(r"[0-9a-fA-F]{6}|default")
_NICK_RE = re.compile(r"^[^\W\d-][\w\[\]\\`^{|}-]*$")


class SettingsError(Exception):
    """The configuration is invalid; the message names the key."""


@dataclass(frozen=True, slots=True)
class ServerEntry:
    """``[servers.NAME]``: one server ``ircish NAME`` connects to."""

    host: str = "127.0.0.1"
    #: 0: 6697 with TLS, else 6667.
    port: int = field(default=0, metadata={"min": 0, "max": 65535})
    tls: bool = False
    #: A PEM file of certificates to trust instead of the system's (implies tls).
    tls_ca: str = ""
    #: "" uses the top-level ``nick``.
    nick: str = ""
    #: Log in to this account with SASL; "" for none.
    account: str = ""
    rooms: tuple[str, ...] = ()
    #: The account's password (server password without an account), from the environment.
    password_env: str = ""
    #: ... or from a command's first line of output (``pass show irc``).
    password_command: str = ""
    #: ... or in plain text, accepted only from a file only its owner can read.
    password: str = ""

    @property
    def uses_tls(self) -> bool:
        return self.tls or bool(self.tls_ca)


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """The whole, validated ``client.toml``."""

    #: "" uses your login name.
    nick: str = ""
    #: The ``[servers]`` entry ``ircish`` connects to without an address; "" for 127.0.0.1.
    default_server: str = ""
    #: Words besides your nickname that highlight a line (whole words, any case).
    highlights: tuple[str, ...] = ()
    #: Show others' joins, parts and quits.
    show_joins: bool = True
    #: Fold a run of them into one line ("--> bob, dave joined; <-- carol quit").
    fold_joins: bool = False
    #: Nicks or nick!user@host masks whose messages, notices, actions and CTCP are hidden.
    ignore: tuple[str, ...] = ()
    #: The mouse wheel scrolls and clicks switch buffers (off: the terminal selects text).
    mouse: bool = True
    #: Write each buffer to a log file.
    log: bool = False
    #: Where logs go; "" is $XDG_DATA_HOME/ircish/logs (~/.local/share/ircish/logs).
    log_dir: str = ""
    #: Theme key -> prompt_toolkit style (``"bg:#005f87 #ffffff"``); see ``COLOUR_CLASSES``.
    colours: dict[str, str] = field(default_factory=dict)
    servers: dict[str, ServerEntry] = field(default_factory=dict)


# -- paths ---------------------------------------------------------------------------


def _xdg(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable, "")
    # The XDG spec says relative values are to be ignored.
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / fallback


def default_config_path() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config") / "ircish" / "client.toml"


def default_log_dir() -> Path:
    return _xdg("XDG_DATA_HOME", ".local/share") / "ircish" / "logs"


# -- loading -------------------------------------------------------------------------


def load_settings(path: str | Path | None = None) -> ClientSettings:
    """``path``, or the default file if it exists (else the built-in defaults)."""
    if path is None:
        path = default_config_path()
        if not path.exists():
            return ClientSettings()
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
            private = not (os.fstat(fh.fileno()).st_mode & (stat.S_IRWXG | stat.S_IRWXO))
    except OSError as exc:
        raise SettingsError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    try:
        return settings_from_dict(data, private=private)
    except SettingsError as exc:
        raise SettingsError(f"{path}: {exc}") from None


def settings_from_dict(data: dict[str, Any], *, private: bool = True) -> ClientSettings:
    """Check parsed TOML; ``private``: the file is readable by its owner alone."""
    _known(data, ClientSettings, "")
    top: dict[str, Any] = {}
    for f in fields(ClientSettings):
        if f.name not in data:
            continue
        value = data[f.name]
        if f.name == "servers":
            top["servers"] = _servers(value, private)
        elif f.name == "colours":
            top["colours"] = _colours(value)
        else:
            top[f.name] = _scalar(value, _hint(ClientSettings, f.name), f.name)
    cfg = ClientSettings(**top)
    if cfg.nick:
        _check_nick(cfg.nick, "nick")
    for i, mask in enumerate(cfg.ignore):
        check_mask(mask, f"ignore[{i}]")
    for i, word in enumerate(cfg.highlights):
        if not word.strip() or not word.isprintable():
            raise SettingsError(f"highlights[{i}]: expected a word, got {word!r}")
    if cfg.default_server and cfg.default_server not in cfg.servers:
        raise SettingsError(
            f"default_server: no [servers.{cfg.default_server}] entry (entries: "
            f"{', '.join(cfg.servers) or 'none'})"
        )
    return cfg


def _hint(cls: Any, name: str) -> Any:
    return typing.get_type_hints(cls)[name]


def _known(data: dict[str, Any], cls: Any, prefix: str) -> None:
    known = sorted(f.name for f in fields(cls))
    for key in data:
        if key not in known:
            dotted = f"{prefix}.{key}" if prefix else key
            raise SettingsError(f"{dotted}: unknown key (known keys here: {', '.join(known)})")


def _type_name(tp: Any) -> str:
    names = {bool: "true or false", int: "an integer", str: "a string"}
    if tp in names:
        return names[tp]
    return "an array of strings"


def _scalar(value: Any, tp: Any, key: str) -> Any:
    if typing.get_origin(tp) is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SettingsError(f"{key}: expected {_type_name(tp)}, got {value!r}")
        return tuple(value)
    ok = (
        (tp is bool and isinstance(value, bool))
        or (tp is int and isinstance(value, int) and not isinstance(value, bool))
        or (tp is str and isinstance(value, str))
    )
    if not ok:
        raise SettingsError(f"{key}: expected {_type_name(tp)}, got {value!r}")
    return value


def _servers(value: Any, private: bool) -> dict[str, ServerEntry]:
    if not isinstance(value, dict):
        raise SettingsError(f"servers: expected tables [servers.NAME], got {value!r}")
    out: dict[str, ServerEntry] = {}
    for name, entry in value.items():
        key = f"servers.{name}"
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or name.startswith("."):
            raise SettingsError(f"{key}: a server's name is letters, digits, '.', '_' and '-'")
        if not isinstance(entry, dict):
            raise SettingsError(f"{key}: expected a table, got {entry!r}")
        _known(entry, ServerEntry, key)
        kwargs: dict[str, Any] = {}
        for f in fields(ServerEntry):
            if f.name in entry:
                converted = _scalar(entry[f.name], _hint(ServerEntry, f.name), f"{key}.{f.name}")
                lo, hi = f.metadata.get("min"), f.metadata.get("max")
                if lo is not None and not lo <= converted <= hi:
                    raise SettingsError(
                        f"{key}.{f.name}: expected a value between {lo} and {hi}, got {converted}"
                    )
                kwargs[f.name] = converted
        server = ServerEntry(**kwargs)
        _check_server(server, key, private)
        out[name] = server
    return out


def _check_server(server: ServerEntry, key: str, private: bool) -> None:
    if not server.host or any(c.isspace() for c in server.host):
        raise SettingsError(f"{key}.host: expected a host name or address, got {server.host!r}")
    if server.nick:
        _check_nick(server.nick, f"{key}.nick")
    for i, room in enumerate(server.rooms):
        if not _ROOM_RE.match(room):
            raise SettingsError(
                f"{key}.rooms[{i}]: expected a room name like '#rust', got {room!r}"
            )
    given = [k for k in ("password_env", "password_command", "password") if getattr(server, k)]
    if len(given) > 1:
        raise SettingsError(f"{key}: give one of {', '.join(given)}, not several")
    if server.password and not private:
        # The value is not shown: it is a secret.
        raise SettingsError(
            f"{key}.password: the file is readable by others (chmod 600 it), or use "
            "password_env or password_command"
        )


def _check_nick(nick: str, key: str) -> None:
    if not _NICK_RE.match(nick):
        raise SettingsError(f"{key}: {nick!r} is not a valid nickname")


def check_mask(mask: str, key: str) -> None:
    """An ignore entry: a nickname or a ``nick!user@host`` glob, one word."""
    if not mask or not mask.isprintable() or any(c.isspace() for c in mask) or "," in mask:
        raise SettingsError(f"{key}: expected a nickname or a nick!user@host mask, got {mask!r}")


def _colours(value: Any) -> dict[str, str]:
    # Checked here, so a typo is one line at start-up and not a crash in the first redraw.
    if not isinstance(value, dict):
        raise SettingsError(f"colours: expected a table, got {value!r}")
    for name, style in value.items():
        key = f"colours.{name}"
        if name not in COLOUR_CLASSES:
            raise SettingsError(
                f"{key}: unknown key (known keys here: {', '.join(sorted(COLOUR_CLASSES))})"
            )
        if not isinstance(style, str):
            raise SettingsError(f"{key}: expected a string, got {style!r}")
        try:
            attrs = Style.from_dict({"x": style}).get_attrs_for_style_str("class:x")
            # prompt_toolkit takes "#zzz" as a colour, and fails only when drawing it.
            for colour in (attrs.color, attrs.bgcolor):
                if colour and not (colour.startswith("ansi") or _HEX_RE.fullmatch(colour)):
                    raise ValueError(colour)
        except (ValueError, AssertionError):
            raise SettingsError(
                f'{key}: not a style: {style!r} (e.g. "bold #ffd75f" or "bg:#303030 #d0d0d0")'
            ) from None
    return dict(value)


def theme(colours: dict[str, str]) -> dict[str, str]:
    """``[colours]`` as a prompt_toolkit style dict over the screen's classes."""
    return {COLOUR_CLASSES[name]: style for name, style in colours.items()}


# -- passwords -----------------------------------------------------------------------


def resolve_password(server: ServerEntry, name: str) -> str | None:
    """The entry's password, read now; None if it has none. ``SettingsError`` if unreadable."""
    key = f"servers.{name}"
    if server.password:
        return server.password
    if server.password_env:
        value = os.environ.get(server.password_env)
        if value is None:
            raise SettingsError(f"{key}.password_env: ${server.password_env} is not set")
        return value
    if server.password_command:
        try:
            # Through the shell, as msmtp's passwordeval does: the file is the user's own.
            done = subprocess.run(
                server.password_command,
                shell=True,
                stdout=subprocess.PIPE,
                text=True,
                timeout=PASSWORD_COMMAND_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SettingsError(f"{key}.password_command: could not run it: {exc}") from None
        if done.returncode != 0:
            raise SettingsError(f"{key}.password_command: exited with status {done.returncode}")
        first = done.stdout.split("\n", 1)[0].rstrip("\r")
        if not first:
            raise SettingsError(f"{key}.password_command: printed no password")
        return first
    return None


# -- /set ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Setting:
    """One thing ``/set`` shows and changes."""

    meaning: str
    #: "switch" (on/off) or "words" (a list, space or comma separated).
    kind: str


#: What ``/set`` knows, in the order it lists them.
SETTINGS: dict[str, Setting] = {
    "highlights": Setting("words besides your nickname that highlight a line", "words"),
    "show_joins": Setting("show others' joins, parts and quits", "switch"),
    "fold_joins": Setting("fold a run of joins, parts and quits into one line", "switch"),
    "mouse": Setting(
        "the wheel scrolls, a click on a buffer in the status line goes there", "switch"
    ),
    "log": Setting("write each buffer to a log file", "switch"),
}
SWITCH_WORDS = {"on": True, "off": False, "true": True, "false": False, "yes": True, "no": False}


#: What ``/save`` writes: every ``/set`` setting, and the ignore list.
SAVED_KEYS = (*SETTINGS, "ignore")


def save_settings(path: Path, values: dict[str, bool | list[str]]) -> None:
    """Set ``values`` (top-level keys) in the TOML file at ``path``, keeping the rest of it.

    The file is replaced whole (a new file beside it, renamed over it), so a
    crash leaves the old one; through a symlink, the file it points to is
    replaced. A new file is private (0600): it may get a password later.
    ``SettingsError`` says why nothing was written.
    """
    target = path.expanduser().resolve()
    try:
        text = target.read_text(encoding="utf-8") if target.exists() else ""
        mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o600
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read {target}: {exc}") from None
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise SettingsError(f"{target}: not valid TOML ({exc}); nothing was written") from None
    for key, value in values.items():
        doc[key] = value
    tmp = ""
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(tomlkit.dumps(doc))
        os.replace(tmp, target)
    except OSError as exc:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise SettingsError(f"cannot write {target}: {exc.strerror or exc}") from None


def default_of(name: str) -> Any:
    """The built-in default of a ``ClientSettings`` key (used by docs and tests)."""
    return getattr(ClientSettings(), name)
