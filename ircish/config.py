"""Configuration: frozen dataclasses loaded from TOML, validated up front.

Every key has a built-in default, so the server runs without a file. A file
may set any subset. (The exception is inside an ``[[operators]]`` table: an
operator's name and password hash must be given.) Unknown keys, wrong types
and out-of-range values raise ``ConfigError`` with the dotted key and what was
expected; the command line turns that into exit status 2.
``config.example.toml`` mirrors these classes and is checked against them by
the tests.
"""

from __future__ import annotations

import functools
import ipaddress
import tomllib
import typing
import urllib.parse
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, Literal

from ircish.core.names import valid_room_name
from ircish.core.passwords import is_argon2_hash

#: Shortest ``[server] cloak_secret`` accepted.
MIN_CLOAK_SECRET = 16


class ConfigError(Exception):
    """The configuration is invalid; the message names the key."""


def _range(lo: float | None = None, hi: float | None = None) -> dict[str, float | None]:
    return {"min": lo, "max": hi}


@dataclass(frozen=True, slots=True)
class ListenerConfig:
    """One listening socket."""

    host: str = "127.0.0.1"
    port: int = field(default=6667, metadata=_range(0, 65535))
    #: "auto" tells netcat users, IRC clients and browsers (HTTP, WebSocket) apart by the
    #: first bytes; "http" is browsers only (behind a reverse proxy).
    dialect: Literal["auto", "plain", "irc", "http"] = "auto"
    #: PEM certificate chain and private key: both set makes this a TLS listener.
    tls_cert: str = ""
    tls_key: str = ""

    @property
    def tls(self) -> bool:
        return bool(self.tls_cert)


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Identity and welcome of this server."""

    name: str = "ircish.local"
    network: str = "ircish"
    motd: str = "Be kind; have fun."
    #: Empty means no server password.
    password: str = ""
    #: Room that plain (netcat) users join after picking a nickname; "" for none.
    default_room: str = "#lobby"
    #: Whether IRC clients are also put into the default room.
    auto_join_irc: bool = False
    #: Others see an HMAC cloak of a user's address instead of the address (operators see both).
    cloaks: bool = True
    #: The cloak key; "" makes one at the first start and keeps it in the storage.
    cloak_secret: str = ""


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    """Bounds on what one user or one address can make the server hold."""

    max_line_bytes: int = field(default=512, metadata=_range(64, 65536))
    max_nick_length: int = field(default=30, metadata=_range(1, 200))
    max_room_name_length: int = field(default=50, metadata=_range(2, 200))
    max_topic_length: int = field(default=390, metadata=_range(1, 4000))
    max_rooms_per_user: int = field(default=50, metadata=_range(1, 10000))
    #: Seconds an unused invitation (INVITE, which lets its target past +i) stays valid.
    invite_expiry: float = field(default=3600.0, metadata=_range(1, 86400 * 30))
    #: Pending invitations per room, and per inviter across rooms; past either the oldest goes.
    max_invites_per_room: int = field(default=100, metadata=_range(1, 100000))
    max_invites_per_user: int = field(default=50, metadata=_range(1, 100000))
    #: Entries across a room's ban, exception and invite-exception lists (ISUPPORT MAXLIST).
    max_list_entries: int = field(default=100, metadata=_range(1, 10000))
    #: Nicknames one connection may watch with MONITOR (ISUPPORT MONITOR).
    max_monitor: int = field(default=100, metadata=_range(1, 10000))
    #: Departed or renamed nicknames WHOWAS remembers; the oldest are forgotten first.
    max_whowas: int = field(default=1000, metadata=_range(1, 1000000))
    #: Rooms one account may register with ChanServ (as founder).
    max_registered_rooms: int = field(default=15, metadata=_range(1, 100000))
    max_connections: int = field(default=20000, metadata=_range(1, 1000000))
    max_connections_per_ip: int = field(default=200, metadata=_range(1, 1000000))
    limit_loopback: bool = False
    #: New connections one address (an IPv6 /64) may open per ``connect_window``; 0: no limit.
    connect_rate: int = field(default=32, metadata=_range(0, 1000000))
    connect_window: float = field(default=600.0, metadata=_range(1, 86400))
    sendq_bytes: int = field(default=1 << 20, metadata=_range(1024, 1 << 30))
    #: Seconds a busy loop may hold a pass's output to gather more into each write
    #: (``net/server.py``); an idle loop never waits. 0 (the default, until its effect is
    #: measured on a quiet machine) flushes after every pass.
    write_coalesce: float = field(default=0.0, metadata=_range(0, 0.01))
    registration_timeout: float = field(default=60.0, metadata=_range(1, 3600))
    #: 0 turns the idle timeout off (the default for plain users).
    idle_timeout: float = field(default=0.0, metadata=_range(0, 86400 * 7))
    #: Seconds of silence before the server PINGs an IRC client.
    ping_interval: float = field(default=120.0, metadata=_range(1, 86400))
    #: Seconds an IRC client has to answer that PING.
    ping_timeout: float = field(default=60.0, metadata=_range(1, 86400))
    #: How long an "auto" listener waits for an IRC client to speak first.
    detect_timeout: float = field(default=0.4, metadata=_range(0, 30))
    shutdown_grace: float = field(default=2.0, metadata=_range(0, 60))
    #: Flood control: commands a registered connection may send at once; 0 turns it off.
    flood_burst: int = field(default=5, metadata=_range(0, 10000))
    #: Seconds per command after the burst (expensive ones such as LIST count more).
    flood_interval: float = field(default=0.5, metadata=_range(0.001, 60))
    #: Lines that may wait for flood control; more disconnects with "Excess Flood".
    flood_backlog: int = field(default=400, metadata=_range(1, 100000))
    #: Whether server operators are exempt from flood control.
    flood_exempt_operators: bool = True
    #: K-lines and D-lines kept at most (together).
    max_bans: int = field(default=10000, metadata=_range(1, 1000000))


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    """What the server writes to its log."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    #: "auto": rich colours on a terminal, plain lines elsewhere; or "rich", "plain", "json".
    format: Literal["auto", "rich", "plain", "json"] = "auto"
    #: Off by default: message contents are private.
    log_messages: bool = False


@dataclass(frozen=True, slots=True)
class StorageConfig:
    """Where accounts, registered rooms and history live."""

    #: An SQLite file (relative to the working directory); ":memory:" keeps nothing
    #: after exit; "" turns storage, and with it accounts and history, off.
    path: str = "ircish.db"
    #: "normal" survives a crash of the process; "full" also a power loss (slower).
    synchronous: Literal["normal", "full"] = "normal"
    #: Seconds a commit waits after the last one, gathering the passes in between into
    #: one transaction; their output waits with it. 0 commits every loop pass.
    commit_interval: float = field(default=0.002, metadata=_range(0, 0.1))


@dataclass(frozen=True, slots=True)
class HistoryConfig:
    """What is kept, for how long, and who gets it back."""

    enabled: bool = True
    #: Lines a room replays on join to netcat users and IRC clients without chathistory.
    replay_lines: int = field(default=20, metadata=_range(0, 1000))
    #: Whether IRC clients without draft/chathistory get the replay too.
    replay_irc: bool = True
    #: Private messages: "account" keeps them when either party has an account,
    #: "always" for everyone (readable only by the same connection then), "off" never.
    private: Literal["account", "always", "off"] = "account"
    #: Who may read a room's history: "members" only, or anyone for rooms that are not +s/+p/+k.
    readers: Literal["members", "public"] = "members"
    #: Most events one CHATHISTORY request returns (ISUPPORT CHATHISTORY).
    max_request: int = field(default=100, metadata=_range(1, 10000))
    #: Days an event is kept; 0 keeps it forever.
    max_age_days: float = field(default=0.0, metadata=_range(0, 36500))
    #: Events kept per room or conversation; 0 means no limit.
    max_per_target: int = field(default=0, metadata=_range(0, 100_000_000))


@dataclass(frozen=True, slots=True)
class AccountsConfig:
    """Accounts: who may register, and how registered nicknames are protected."""

    #: Whether new accounts may be registered (/register, REGISTER, NickServ REGISTER).
    registration: bool = True
    #: Seconds someone using a registered nickname has to log in before being renamed.
    nick_grace: float = field(default=30.0, metadata=_range(0, 3600))
    #: Nicknames of renamed users: this prefix and a number.
    guest_prefix: str = "Guest"
    #: Failed logins allowed per account and per address within a minute.
    login_attempts_per_minute: int = field(default=3, metadata=_range(1, 1000))
    #: Accounts that may be registered from one address within a minute.
    registrations_per_minute: int = field(default=3, metadata=_range(1, 1000))
    #: Shortest password accepted at registration.
    min_password_length: int = field(default=8, metadata=_range(1, 200))


@dataclass(frozen=True, slots=True)
class TlsConfig:
    """Settings shared by every TLS listener."""

    #: The oldest protocol version a client may use.
    min_version: Literal["1.2", "1.3"] = "1.2"
    #: Port of a TLS listener that plaintext IRC clients are told to move to
    #: (IRCv3 ``sts``); 0 advertises nothing.
    sts_port: int = field(default=0, metadata=_range(0, 65535))
    #: How long, in seconds, a client keeps to TLS once it has seen the policy.
    sts_duration: int = field(default=2_592_000, metadata=_range(0, 1 << 31))
    #: Whether the policy may be put in clients' preload lists.
    sts_preload: bool = False


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    """The Prometheus endpoint: an HTTP listener of its own, off unless ``listen`` is set."""

    #: ``HOST:PORT`` (``[::1]:9667`` for IPv6) serving ``GET /metrics``; "" turns it off.
    listen: str = ""

    @property
    def address(self) -> tuple[str, int]:
        """``listen`` as (host, port); only meaningful when it is set."""
        return parse_listen(self.listen, "metrics.listen")


def parse_listen(value: str, key: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``[IPV6]:PORT`` as (host, port); ``ConfigError`` naming ``key``."""
    host, sep, port = value.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        host = ""  # an IPv6 address needs its brackets, or its port is ambiguous
    if not sep or not host or not port.isascii() or not port.isdigit() or int(port) > 65535:
        raise ConfigError(
            f"{key}: expected HOST:PORT (e.g. 127.0.0.1:9667 or [::1]:9667), got {value!r}"
        )
    return host, int(port)


@dataclass(frozen=True, slots=True)
class RedisAddress:
    """Where a Redis server is and how to log in: ``redis_url`` parsed (``parse_redis_url``)."""

    #: ``host``/``port`` for TCP; ``path`` (and host "") for a unix socket.
    host: str = ""
    port: int = 6379
    path: str = ""
    db: int = 0
    #: Redis 6 ACL user; "" with a password means the classic ``AUTH password``.
    username: str = ""
    password: str = ""

    @property
    def url(self) -> str:
        """The URL with any password hidden: what logs and error messages show."""
        auth = ""
        if self.password:
            auth = f"{urllib.parse.quote(self.username, safe='')}:***@"
        if self.path:
            return f"unix://{auth}{self.path}" + (f"?db={self.db}" if self.db else "")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"redis://{auth}{host}:{self.port}/{self.db}"


#: Highest database index accepted in a URL (Redis has 16 unless configured otherwise).
MAX_REDIS_DB = 1_000_000


def parse_redis_url(value: str, key: str = "cluster.redis_url") -> RedisAddress:
    """``redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`` or ``unix://[[USER]:PASSWORD@]/PATH[?db=DB]``.

    A bad URL raises ``ConfigError`` naming ``key`` and the URL, password hidden.
    """
    try:
        parts = urllib.parse.urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"{key}: {exc} in {_hide_password(value)!r}") from None
    shown = _hide_password(value)
    form = "expected redis://[:PASSWORD@]HOST[:PORT][/DB] or unix:///PATH[?db=DB]"
    if parts.scheme == "rediss":
        raise ConfigError(f"{key}: TLS to Redis (rediss://) is not supported, got {shown!r}")
    if parts.scheme not in ("redis", "unix") or parts.fragment:
        raise ConfigError(f"{key}: {form}, got {shown!r}")
    username = urllib.parse.unquote(parts.username or "")
    password = urllib.parse.unquote(parts.password or "")
    if username and not password:
        # "redis://secret@host" looks like a password but is a user name.
        raise ConfigError(
            f"{key}: a user name without a password; write the password as "
            f"redis://:PASSWORD@HOST (or USER:PASSWORD@), got {shown!r}"
        )
    query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
    if parts.scheme == "unix":
        if parts.hostname or port is not None or not parts.path.startswith("/"):
            raise ConfigError(f"{key}: expected unix:///PATH (an absolute path), got {shown!r}")
        if set(query) - {"db"}:
            raise ConfigError(f"{key}: only ?db=N may follow a unix socket's path, got {shown!r}")
        db_text = query.get("db", ["0"])[-1]
        path, host, port = parts.path, "", 6379
    else:
        if query:
            raise ConfigError(f"{key}: {form} (no ?query), got {shown!r}")
        host = parts.hostname or ""
        if not host:
            raise ConfigError(f"{key}: {form} (the host is missing), got {shown!r}")
        db_text = parts.path[1:] if parts.path.startswith("/") else parts.path
        db_text = db_text or "0"
        path, port = "", 6379 if port is None else port
        if not 0 < port <= 65535:
            raise ConfigError(f"{key}: expected a port between 1 and 65535, got {shown!r}")
    if not db_text.isascii() or not db_text.isdigit() or int(db_text) > MAX_REDIS_DB:
        raise ConfigError(f"{key}: expected a database number (/0, /1...), got {shown!r}")
    return RedisAddress(host, port, path, int(db_text), username, password)


def _hide_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    netloc, slash, tail = rest.partition("/")
    auth, at, hostport = netloc.rpartition("@")
    if at:
        # A lone user name is often a password written in the wrong place.
        auth = auth.partition(":")[0] + ":***" if ":" in auth else "***"
    return f"{scheme}://{auth}{at}{hostport}{slash}{tail}"


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    """Several server processes sharing one network through Redis; off unless ``redis_url``."""

    #: ``redis://HOST:PORT/DB`` (``redis://:PASSWORD@...``, ``unix:///PATH``); "" is one process.
    redis_url: str = ""
    #: This process's name in the cluster; "" means the host name and the first listener's port.
    node_name: str = ""
    #: Seconds a process's users and nicknames outlive it when it stops renewing its lease.
    lease_seconds: float = field(default=15.0, metadata=_range(1, 3600))

    @property
    def enabled(self) -> bool:
        return bool(self.redis_url)

    @property
    def address(self) -> RedisAddress:
        """``redis_url`` parsed; only meaningful when it is set."""
        return parse_redis_url(self.redis_url)


#: Longest ``[cluster] node_name`` accepted.
MAX_NODE_NAME = 100


#: The built-in listeners: IRC's usual port, and one that browsers accept (they refuse
#: 6665-6669), so the web client works with no file at all. Both are "auto".
DEFAULT_LISTENERS = (ListenerConfig(), ListenerConfig(port=8080))


@dataclass(frozen=True, slots=True)
class WebConfig:
    """The browser side: WebSocket origins (the page itself is served by every HTTP listener)."""

    #: Origins (``https://chat.example.org``) whose pages may open a WebSocket besides the
    #: page's own (Origin host:port equal to the Host header); "*" allows any.
    allowed_origins: tuple[str, ...] = field(default=(), metadata={"min_items": 0})
    #: Addresses or networks (``127.0.0.1``, ``10.0.0.0/8``) of reverse proxies whose
    #: ``X-Forwarded-For`` names a WebSocket user's address; none by default.
    trusted_proxies: tuple[str, ...] = field(default=(), metadata={"min_items": 0})

    @property
    def proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """``trusted_proxies`` parsed (validated when the file was loaded)."""
        return _networks(self.trusted_proxies)


@functools.lru_cache(maxsize=8)
def _networks(
    entries: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


@dataclass(frozen=True, slots=True)
class OperatorConfig:
    """One server operator: who may become one with ``OPER <name> <password>``."""

    name: str
    #: An argon2 hash (``ircish-server --hash-password``); plaintext is refused.
    password_hash: str
    #: Where the operator may connect from: ``*``, ``user@host`` or ``nick!user@host`` globs.
    host: str = "*"


@dataclass(frozen=True, slots=True)
class Config:
    """The whole, validated configuration."""

    server: ServerConfig = field(default_factory=ServerConfig)
    listeners: tuple[ListenerConfig, ...] = DEFAULT_LISTENERS
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    history: HistoryConfig = field(default_factory=HistoryConfig)
    accounts: AccountsConfig = field(default_factory=AccountsConfig)
    tls: TlsConfig = field(default_factory=TlsConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    web: WebConfig = field(default_factory=WebConfig)
    #: ``[[operators]]``: none by default, so nobody can OPER.
    operators: tuple[OperatorConfig, ...] = field(default=(), metadata={"min_items": 0})

    def for_worker(self, index: int) -> Config:
        """The configuration of worker ``index`` of ``--workers``: its own storage file
        (``ircish.db`` becomes ``ircish.2.db``) and, when one is set, node name (``a-2``)."""
        cfg = self
        path = self.storage.path
        if path and path != ":memory:":
            stem, dot, ext = path.rpartition(".")
            named = f"{stem}.{index}.{ext}" if dot and "/" not in ext else f"{path}.{index}"
            cfg = replace(cfg, storage=replace(cfg.storage, path=named))
        if self.cluster.node_name:
            name = f"{self.cluster.node_name}-{index}"
            cfg = replace(cfg, cluster=replace(cfg.cluster, node_name=name))
        return cfg

    def with_overrides(
        self,
        host: str | None = None,
        port: int | None = None,
        log_level: str | None = None,
        web_port: int | None = None,
    ) -> Config:
        """Apply command-line overrides and revalidate.

        ``host`` and ``port`` change the first listener, ``web_port`` the second
        (the built-in web listener); ``ConfigError`` if there is no second.
        With the built-in listeners, ``host`` moves the web listener as well,
        so ``--host 0.0.0.0`` opens the web client to other machines too.
        """
        cfg = self
        if host is not None and self.listeners == DEFAULT_LISTENERS:
            cfg = replace(cfg, listeners=(self.listeners[0], replace(self.listeners[1], host=host)))
        if host is not None or port is not None:
            first = cfg.listeners[0]
            first = replace(
                first,
                host=first.host if host is None else host,
                port=first.port if port is None else port,
            )
            _check_dataclass(first, "listeners[0]")
            cfg = replace(cfg, listeners=(first, *cfg.listeners[1:]))
        if web_port is not None:
            if len(cfg.listeners) < 2:
                raise ConfigError(
                    "--web-port: there is no second [[listeners]] entry to move "
                    "(the file has one listener; set its port there)"
                )
            second = replace(cfg.listeners[1], port=web_port)
            _check_dataclass(second, "listeners[1]")
            cfg = replace(cfg, listeners=(cfg.listeners[0], second, *cfg.listeners[2:]))
        if log_level is not None:
            cfg = replace(cfg, logging=replace(cfg.logging, level=log_level))  # type: ignore[arg-type]
            _check_dataclass(cfg.logging, "logging")
        return cfg


def _type_name(tp: Any) -> str:
    if tp is bool:
        return "true or false"
    if tp is int:
        return "an integer"
    if tp is float:
        return "a number"
    if tp is str:
        return "a string"
    if typing.get_origin(tp) is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    return str(tp)


def _convert(value: Any, tp: Any, key: str, min_items: int = 1) -> Any:
    origin = typing.get_origin(tp)
    if is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a table, got {value!r}")
        return _build(tp, value, key)
    if origin is tuple:
        (item_tp, _ellipsis) = typing.get_args(tp)
        if not isinstance(value, list):
            what = "an array of tables" if is_dataclass(item_tp) else "an array"
            raise ConfigError(f"{key}: expected {what}, got {value!r}")
        if len(value) < min_items:
            raise ConfigError(f"{key}: expected at least one entry")
        return tuple(_convert(v, item_tp, f"{key}[{i}]") for i, v in enumerate(value))
    if origin is Literal:
        if value not in typing.get_args(tp):
            raise ConfigError(f"{key}: expected {_type_name(tp)}, got {value!r}")
        return value
    ok = (
        (tp is bool and isinstance(value, bool))
        or (tp is int and isinstance(value, int) and not isinstance(value, bool))
        or (tp is float and isinstance(value, int | float) and not isinstance(value, bool))
        or (tp is str and isinstance(value, str))
    )
    if not ok:
        raise ConfigError(f"{key}: expected {_type_name(tp)}, got {value!r}")
    return float(value) if tp is float else value


def _check_range(value: Any, meta: Any, key: str) -> None:
    lo, hi = meta.get("min"), meta.get("max")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ConfigError(f"{key}: expected a value between {lo:g} and {hi:g}, got {value!r}")


def _check_dataclass(obj: Any, prefix: str) -> None:
    hints = typing.get_type_hints(type(obj))
    for f in fields(obj):
        value = getattr(obj, f.name)
        _convert(value, hints[f.name], f"{prefix}.{f.name}")
        _check_range(value, f.metadata, f"{prefix}.{f.name}")


def _build(cls: Any, data: dict[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if key not in known:
            allowed = ", ".join(sorted(known))
            raise ConfigError(f"{dotted}: unknown key (known keys here: {allowed})")
        meta = known[key].metadata
        converted = _convert(value, hints[key], dotted, meta.get("min_items", 1))
        _check_range(converted, meta, dotted)
        kwargs[key] = converted
    for name, f in known.items():
        # Keys without a default (an operator's name) must be given.
        if name not in kwargs and f.default is MISSING and f.default_factory is MISSING:
            dotted = f"{prefix}.{name}" if prefix else name
            raise ConfigError(f"{dotted}: missing (this key has no default)")
    return cls(**kwargs)


def _validate_semantics(cfg: Config) -> None:
    room = cfg.server.default_room
    max_len = cfg.limits.max_room_name_length
    if room and len(room) > max_len:
        raise ConfigError(
            f"server.default_room: expected at most {max_len} characters "
            f"(limits.max_room_name_length), got {room!r} ({len(room)})"
        )
    if room and not valid_room_name(room, max_len):
        raise ConfigError(
            f"server.default_room: expected a room name starting with '#', "
            f"without spaces or commas, got {room!r}"
        )
    if not cfg.server.name or " " in cfg.server.name:
        raise ConfigError(f"server.name: expected a name without spaces, got {cfg.server.name!r}")
    if cfg.metrics.listen:
        parse_listen(cfg.metrics.listen, "metrics.listen")
    _validate_cluster(cfg.cluster)
    secret = cfg.server.cloak_secret
    if secret and len(secret) < MIN_CLOAK_SECRET:
        # The value is not shown: it is a secret.
        raise ConfigError(
            f"server.cloak_secret: expected at least {MIN_CLOAK_SECRET} characters (a short "
            'key lets anyone turn cloaks back into addresses), or "" to make one'
        )
    _validate_operators(cfg.operators)
    _validate_tls(cfg)
    for i, origin in enumerate(cfg.web.allowed_origins):
        if origin != "*" and parse_origin(origin) is None:
            raise ConfigError(
                f"web.allowed_origins[{i}]: expected an origin like https://chat.example.org "
                f"or http://host:8080 (scheme, host, optional port, no path) or '*', got {origin!r}"
            )
    for i, entry in enumerate(cfg.web.trusted_proxies):
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ConfigError(
                f"web.trusted_proxies[{i}]: expected an address or network "
                f"(127.0.0.1, ::1, 10.0.0.0/8), got {entry!r}"
            ) from None


def parse_origin(origin: str) -> tuple[str, str, int] | None:
    """An origin (``scheme://host[:port]``) as (scheme, host, port), lowercased; None if not one.

    The port is the scheme's default when not given, so ``https://a`` and
    ``https://a:443`` compare equal.
    """
    try:
        parts = urllib.parse.urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        return None
    return scheme, parts.hostname.lower(), port or (443 if scheme == "https" else 80)


def _validate_cluster(cluster: ClusterConfig) -> None:
    if cluster.redis_url:
        parse_redis_url(cluster.redis_url)
    name = cluster.node_name
    if name and (
        len(name) > MAX_NODE_NAME or not name.isprintable() or any(c.isspace() for c in name)
    ):
        raise ConfigError(
            f"cluster.node_name: expected at most {MAX_NODE_NAME} characters without spaces, "
            f"got {name!r}"
        )


def _validate_tls(cfg: Config) -> None:
    for i, lc in enumerate(cfg.listeners):
        if bool(lc.tls_cert) != bool(lc.tls_key):
            given, missing = ("tls_cert", "tls_key") if lc.tls_cert else ("tls_key", "tls_cert")
            raise ConfigError(f"listeners[{i}].{missing}: missing ({given} is set; give both)")


def _validate_operators(operators: tuple[OperatorConfig, ...]) -> None:
    seen: dict[str, int] = {}
    for i, op in enumerate(operators):
        key = f"operators[{i}]"
        name = op.name
        if not name or name[0] == ":" or not name.isprintable() or any(c.isspace() for c in name):
            # OPER takes the name as one middle parameter.
            raise ConfigError(f"{key}.name: expected a name without spaces, got {name!r}")
        folded = name.casefold()
        if folded in seen:
            raise ConfigError(
                f"{key}.name: {name!r} is already the name of operators[{seen[folded]}]"
            )
        seen[folded] = i
        if not is_argon2_hash(op.password_hash):
            # The value is not shown: it may well be a plaintext password.
            raise ConfigError(
                f"{key}.password_hash: expected an argon2 hash (make one with "
                "ircish-server --hash-password), not a plaintext password"
            )
        host = op.host
        if host != "*" and (
            "@" not in host or not host.isprintable() or any(ch.isspace() for ch in host)
        ):
            raise ConfigError(
                f"{key}.host: expected '*' or a mask like user@host or nick!user@host, got {host!r}"
            )


def load_config(path: str | Path | None = None) -> Config:
    """Load and validate a TOML file; ``None`` gives the built-in defaults."""
    if path is None:
        return Config()
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return config_from_dict(data)


def config_from_dict(data: dict[str, Any]) -> Config:
    """Build a validated ``Config`` from parsed TOML."""
    cfg: Config = _build(Config, data, "")
    _validate_semantics(cfg)
    return cfg


def default_value(cls: Any, name: str) -> Any:
    """The built-in default of one field (used by docs and tests)."""
    for f in fields(cls):
        if f.name == name:
            if f.default is not MISSING:
                return f.default
            if f.default_factory is not MISSING:
                return f.default_factory()
    raise KeyError(name)
