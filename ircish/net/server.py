"""The event loop: one thread, ``selectors``, listeners, connections and timers.

Theory of operation: each pass of ``run_once`` waits in ``select`` until a
socket is ready, the earliest timer is due or a callback was scheduled, then

1. accepts new connections (bounded per pass), reads from readable
   connections, which runs the chat core synchronously and fills output
   queues, and calls the callbacks of other readable sockets (``add_reader``).
   Accepting and reading stop once the pass has used ``PASS_BUDGET``
   (after at least one of each); connections left unread are read first in
   the next pass, so no one waits behind many others' expensive commands
   for more than about one budget;
2. runs due timers (each connection has at most one: its session's next
   deadline);
3. runs the callbacks scheduled with ``call_soon`` before this step (one
   scheduled meanwhile, even by one of them, waits for the next pass);
4. ends connections whose send queue overflowed;
5. flushes every connection that got output during the pass, one system call
   each. With ``[limits] write_coalesce`` (a fraction of a millisecond; off
   by default), a
   pass whose input keeps coming handles what is ready at once (steps 1-4
   again, with a zero-timeout ``select``) until nothing is or that time is
   up, and only then flushes: under load a connection gets several messages
   per system call, and an idle loop adds no delay.

Each connection is registered for the events it wants: EVENT_READ unless its
reading is paused, EVENT_WRITE only while it has a backlog, and not at all
when it wants neither (``set_interest``). A failure while reading from or
flushing one connection closes that connection only; a failing callback or
timer is logged.

``call_soon`` may be called from any thread: it appends to a deque and wakes
the selector through a socketpair. Signals (SIGINT/SIGTERM) only set a flag
and wake the selector the same way; shutdown then tells every user, flushes
within a short grace period and closes.
"""

from __future__ import annotations

import errno
import functools
import heapq
import ipaddress
import itertools
import logging
import selectors
import signal
import socket
import ssl
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import replace
from types import FrameType
from typing import TYPE_CHECKING, Any

from ircish.config import Config, ConfigError, ListenerConfig
from ircish.core.chat import Chat
from ircish.core.handlers import oper
from ircish.dialects import Dialects
from ircish.logs import flush_logs, setup_logging
from ircish.net.cluster import Cluster
from ircish.net.connection import CLOSED_SINK, Connection
from ircish.net.metrics_http import MetricsEndpoint
from ircish.net.redis import RedisConnection, check_redis
from ircish.net.tls import TlsConnection, load_context
from ircish.net.web import Web
from ircish.net.workers import WorkerPool
from ircish.session import Session
from ircish.storage.sqlite import open_storage

if TYPE_CHECKING:
    from _typeshed import FileDescriptorLike

log = logging.getLogger("ircish.net")

ACCEPTS_PER_PASS = 128
#: Seconds of accepting and reading one loop pass may take; connections still
#: readable after that are read first in the next pass. Bounds the wait of a user
#: whose line arrives behind many connections' expensive commands (LIST floods).
PASS_BUDGET = 0.015
#: Asked of listen(); the kernel caps it at net.core.somaxconn.
LISTEN_BACKLOG = 4096
#: ``[cluster]``: seconds connections wait at most for the network to be joined (and
#: history backfilled) before they are accepted anyway.
JOIN_WAIT = 10.0
#: At most one "refused connection" warning per this many seconds; the rest are counted.
REFUSAL_LOG_INTERVAL = 1.0


#: Addresses whose recent connects are remembered before old ones are swept.
MAX_THROTTLED = 100_000


@functools.lru_cache(maxsize=4096)
def _throttle_key(ip: str) -> str:
    """What per-address limits count: an IPv4 address, or an IPv6 /64 network.

    One IPv6 user commonly has a whole /64, so counting addresses would let
    them open connections without limit.
    """
    if ":" not in ip:
        return ip
    try:
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    except ValueError:
        return ip


@functools.lru_cache(maxsize=4096)
def _is_loopback(ip: str) -> bool:
    return ipaddress.ip_address(ip).is_loopback


# fmt: off
#: Ports browsers refuse to connect to (the Fetch standard's "bad ports").
BROWSER_BAD_PORTS = frozenset({
    1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101,
    102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389,
    427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636,
    989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566,
    6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
})
# fmt: on


class Listener:
    __slots__ = ("address", "config", "context", "sock")

    def __init__(
        self, sock: socket.socket, config: ListenerConfig, context: ssl.SSLContext | None
    ) -> None:
        self.sock = sock
        self.config = config
        #: The TLS context new connections get (replaced on reload); None: plaintext.
        self.context = context
        host, port = sock.getsockname()[:2]
        self.address = (host, port)


class _Reader:
    """Selector data for a socket that is not a connection: what to call when readable."""

    __slots__ = ("active", "callback", "external")

    def __init__(self, callback: Callable[[], None], *, external: bool) -> None:
        self.callback = callback
        #: Added with ``add_reader`` (not a listener or the wake-up socket).
        self.external = external
        #: False once removed: an event already collected in this pass is ignored.
        self.active = True

    def __repr__(self) -> str:
        return f"<_Reader {self.callback!r}>"


class Server:
    """Owns the sockets and the loop; the chat core owns everything else."""

    def __init__(self, config: Config, chat: Chat | None = None) -> None:
        self.config = config
        self.chat = chat or Chat(config)
        #: The chat's counters (``ircish.metrics``), added to by the loop and connections too.
        self.metrics = self.chat.metrics
        #: Browsers on the chat listeners: the web client's files, WebSockets (``net/web.py``).
        self.web = Web(self)
        #: The HTTP listener of ``[metrics] listen`` once bound (``bind``); None: off.
        self.metrics_endpoint: MetricsEndpoint | None = None
        self.dialects = Dialects.from_config(config)
        self.selector = selectors.DefaultSelector()
        self.listeners: list[Listener] = []
        self.connections: dict[int, Connection] = {}
        #: Address (IPv6: /64) -> its open connections (``[limits] max_connections_per_ip``).
        self.per_ip: Counter[str] = Counter()
        #: Address (IPv6: /64) -> times of its recent connects (``[limits] connect_rate``).
        self.connects: dict[str, deque[float]] = {}
        #: Connections that got output this pass and need a flush.
        self.dirty: set[Connection] = set()
        #: Connections whose send queue overflowed this pass.
        self.doomed: list[Connection] = []
        #: A heap of (monotonic time, sequence, what to run): a callback, or a connection
        #: whose session checks its timeouts then (``schedule_session``).
        self._timers: list[tuple[float, int, Callable[[], None] | Connection]] = []
        #: When the next storage commit may run, and whether output waits for it.
        self._commit_at = 0.0
        self._held = False
        #: Set by ``shutdown``: what is left is committed and written at once.
        self._shutting_down = False
        self._timer_seq = itertools.count()
        #: Callbacks from ``call_soon``, oldest first; appended from any thread.
        self._ready: deque[Callable[[], None]] = deque()
        #: The thread running the loop (the last to call ``run_once``).
        self._loop_thread: int | None = None
        #: True from just before ``run_once`` looks at ``_ready`` until ``select`` returns.
        self._selecting = False
        self._stop_requested = False
        #: Readable connections this pass had no time left for (``PASS_BUDGET``).
        self._postponed: list[Connection] = []
        self._pass_deadline = 0.0
        self._refusal_logged = -REFUSAL_LOG_INTERVAL
        self._refusals_unlogged = 0
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self.selector.register(
            self._wake_r, selectors.EVENT_READ, _Reader(self._drain_wakeup, external=False)
        )
        #: Slow pure work (OPER's password check) runs here, never on the loop thread.
        self.workers = WorkerPool(self.call_soon)
        self.chat.offloader = self.workers.offload
        self.chat.scheduler = self.call_later
        #: Gives the configuration again for ``reload`` (REHASH, SIGHUP); None: no file.
        self.config_loader: Callable[[], Config] | None = None
        #: TLS contexts by listener index; loaded first, so a bad certificate stops the start.
        self.tls_contexts = self._load_contexts(config)
        #: The link to ``[cluster] redis_url``, opened by ``bind``; None: one process alone.
        self.redis: RedisConnection | None = None
        #: This process as a node of the network (``ircish.net.cluster``), with ``redis``.
        self.cluster: Cluster | None = None
        if config.cluster.enabled:
            # Like a bad database file: an unusable Redis stops the start (RedisError).
            check_redis(config.cluster.address)
        #: Committed once per pass, before that pass's output is sent (group commit).
        self.storage = open_storage(config.storage)
        if self.storage is not None:
            self.chat.attach_storage(self.storage)
            log.info(
                "storage %s (history %s)",
                self.storage.location,
                "on" if config.history.enabled else "off",
            )

    # -- setup ----------------------------------------------------------------

    @staticmethod
    def _load_contexts(config: Config) -> dict[int, ssl.SSLContext]:
        return {
            i: load_context(lc, config.tls, f"listeners[{i}]")
            for i, lc in enumerate(config.listeners)
            if lc.tls
        }

    def reload_tls(self, config: Config) -> None:
        """Give new connections the certificates now in the files (raises ``ConfigError``).

        All or nothing: if one listener's files are bad, every listener keeps its
        context. Established connections keep theirs.
        """
        contexts = self._load_contexts(config)
        for i, listener in enumerate(self.listeners):
            if i in contexts:
                listener.context = contexts[i]
        self.tls_contexts = contexts

    def enable_reload(self, name: str, loader: Callable[[], Config]) -> None:
        """Let REHASH and SIGHUP reload the configuration with ``loader`` (the file ``name``)."""
        self.config_loader = loader
        self.chat.config_file = name
        self.chat.reloader = self.reload

    def reload(self) -> str:
        """Apply the configuration ``config_loader`` gives now; return what happened.

        A file that does not load or validate, or TLS files that do not load,
        change nothing (``ConfigError``). What cannot change while running
        (where to listen, storage, metrics, the cluster, the server's name, history on or off) keeps
        its old value and is named in the summary; everything else applies at
        once: MOTD, limits, operators, accounts, history retention, logging,
        TLS certificates for new connections. Settings a connection took when
        it was accepted (its flood gate, its line length) stay until it reconnects.
        """
        if self.config_loader is None:
            raise ConfigError("started without --config: there is no file to reload")
        old = self.config
        new = self.config_loader()
        kept: list[str] = []

        def same(lc_a: ListenerConfig, lc_b: ListenerConfig) -> bool:
            return (lc_a.host, lc_a.port, lc_a.dialect, lc_a.tls) == (
                lc_b.host,
                lc_b.port,
                lc_b.dialect,
                lc_b.tls,
            )

        if len(new.listeners) != len(old.listeners) or not all(
            same(a, b) for a, b in zip(new.listeners, old.listeners, strict=True)
        ):
            kept.append("listeners")
            new = replace(new, listeners=old.listeners)
        if new.storage != old.storage:
            kept.append("storage")
            new = replace(new, storage=old.storage)
        if new.metrics != old.metrics:
            kept.append("metrics")
            new = replace(new, metrics=old.metrics)
        if new.cluster != old.cluster:
            kept.append("cluster")
            new = replace(new, cluster=old.cluster)
        if new.server.name != old.server.name:
            kept.append("server.name")
            new = replace(new, server=replace(new.server, name=old.server.name))
        if new.history.enabled != old.history.enabled:
            kept.append("history.enabled")
            new = replace(new, history=replace(new.history, enabled=old.history.enabled))
        contexts = self._load_contexts(new)  # before anything changes
        self.config = new
        self.chat.config = new
        self.dialects.reconfigure(new)
        for i, listener in enumerate(self.listeners):
            listener.config = new.listeners[i]
            if i in contexts:
                listener.context = contexts[i]
        self.tls_contexts = contexts
        if new.logging != old.logging:
            setup_logging(new.logging.level, new.logging.format)
        summary = "configuration reloaded"
        revoked = oper.revoke_stale(self.chat)
        if revoked:
            summary += (
                f"; {revoked} operator{'s' if revoked != 1 else ''} removed from the file lost +o"
            )
        if kept:
            summary += f"; {', '.join(kept)} changed but need a restart (kept as they were)"
        log.warning("%s from %s", summary, self.chat.config_file)
        return summary

    def reload_or_log(self) -> None:
        """``reload``, with a failure logged rather than raised (SIGHUP)."""
        try:
            self.reload()
        except ConfigError as exc:
            log.error("reload on SIGHUP failed, nothing changed: %s", exc)

    def bind(self, *, reuse_port: bool = False) -> list[tuple[str, int]]:
        """Open every configured listener; return the bound (host, port) pairs.

        ``reuse_port``: several processes listen on the same ports and the kernel
        spreads the connections among them (``SO_REUSEPORT``; ``--workers``).
        """
        for i, lc in enumerate(self.config.listeners):
            infos = socket.getaddrinfo(lc.host, lc.port, type=socket.SOCK_STREAM)
            family, _, _, _, sockaddr = infos[0]
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(sockaddr)
            sock.listen(LISTEN_BACKLOG)
            sock.setblocking(False)
            listener = Listener(sock, lc, self.tls_contexts.get(i))
            self.listeners.append(listener)
            self._watch_listener(listener)
            log.info(
                "listening on %s:%d (dialect %s%s)",
                listener.address[0],
                listener.address[1],
                lc.dialect,
                ", TLS" if lc.tls else "",
            )
        self._announce_web_client()
        sts = self.config.tls.sts_port
        if sts and not any(lc.tls and lc.port == sts for lc in self.config.listeners):
            log.warning("tls.sts_port %d is not a TLS listener here (a proxy's, hopefully)", sts)
        if self.config.metrics.listen:
            self.metrics_endpoint = MetricsEndpoint.open(self, *self.config.metrics.address)
        if self.config.cluster.enabled:
            self._open_redis()
        return [lst.address for lst in self.listeners]

    def web_client_url(self) -> str | None:
        """The URL of the web client on the first listener browsers accept; None if none."""
        for listener in self.listeners:
            host, port = listener.address
            if listener.config.dialect not in ("auto", "http") or port in BROWSER_BAD_PORTS:
                continue
            if host in ("0.0.0.0", "::", ""):
                # Every address of this machine: this one works here, others elsewhere.
                host = "127.0.0.1" if host == "0.0.0.0" else "::1"
            if ":" in host:
                host = f"[{host}]"
            return f"{'https' if listener.context is not None else 'http'}://{host}:{port}/"
        return None

    def _announce_web_client(self) -> None:
        url = self.web_client_url()
        if url is not None:
            everywhere = any(
                lst.address[0] in ("0.0.0.0", "::") and url.endswith(f":{lst.address[1]}/")
                for lst in self.listeners
            )
            log.info(
                "web client: %s%s",
                url,
                " (from other machines: this machine's name or address instead)"
                if everywhere
                else "",
            )
        elif self.listeners:
            log.warning(
                "no listener serves browsers: they refuse IRC's ports (6665-6669, 6697); "
                "add a [[listeners]] entry on another port, e.g. 8080, for the web client"
            )

    @property
    def node_name(self) -> str:
        """``[cluster] node_name``, or this machine's host name and the first listener's port."""
        if self.config.cluster.node_name:
            return self.config.cluster.node_name
        port = self.listeners[0].address[1] if self.listeners else self.config.listeners[0].port
        return f"{socket.gethostname()}:{port}"

    def _open_redis(self) -> None:
        cluster = self.config.cluster
        log.info("cluster node %s; Redis at %s", self.node_name, cluster.address.url)
        self.redis = RedisConnection(
            self,
            cluster.address,
            name="main",
            client_name=f"ircish:{self.node_name}",
            offload=self.workers.offload,
        )
        self.redis.start()
        # Connections wait in the listen queue until the network is joined and history
        # backfilled (CHATHISTORY answers as elsewhere from the first command), or
        # JOIN_WAIT at most if Redis is slow to answer.
        for listener in self.listeners:
            self.selector.unregister(listener.sock)
        self.call_later(JOIN_WAIT, self._accept_again)
        self.cluster = Cluster(
            self,
            self.chat,
            self.redis,
            cluster,
            self.node_name,
            storage=self.storage,
            on_ready=self._accept_again,
        )

    def _accept_again(self) -> None:
        """Accept connections again (once the cluster is ready; idempotent)."""
        for listener in self.listeners:
            try:
                self.selector.get_key(listener.sock)
            except KeyError:
                self._watch_listener(listener)
            except ValueError:
                pass  # closed by a shutdown meanwhile

    def _watch_listener(self, listener: Listener) -> None:
        self.selector.register(
            listener.sock,
            selectors.EVENT_READ,
            _Reader(functools.partial(self._accept, listener), external=False),
        )

    # -- other sockets ----------------------------------------------------------

    def add_reader(self, fileobj: FileDescriptorLike, callback: Callable[[], None]) -> None:
        """Call ``callback()`` in the loop whenever ``fileobj`` (a socket or fd) is readable.

        Adding a reader again replaces its callback. The caller owns the file
        and must ``remove_reader`` before closing it. An exception in the
        callback is logged; the reader stays registered.
        """
        try:
            key = self.selector.get_key(fileobj)
        except KeyError:
            self.selector.register(fileobj, selectors.EVENT_READ, _Reader(callback, external=True))
            return
        if not (isinstance(key.data, _Reader) and key.data.external):
            raise ValueError(f"{fileobj!r} is already watched by the loop")
        key.data.callback = callback

    def remove_reader(self, fileobj: FileDescriptorLike) -> bool:
        """Stop watching ``fileobj``; return whether it was watched by ``add_reader``."""
        try:
            key = self.selector.get_key(fileobj)
        except KeyError:
            return False
        if not (isinstance(key.data, _Reader) and key.data.external):
            raise ValueError(f"{fileobj!r} was not added with add_reader")
        key.data.active = False
        self.selector.unregister(fileobj)
        return True

    def set_reader_interest(
        self, fileobj: FileDescriptorLike, *, read: bool = True, write: bool = False
    ) -> None:
        """Change when the callback of a socket added with ``add_reader`` runs.

        ``write=True`` also calls it while the socket is writable (a reply is
        waiting to be sent); ``read=False`` stops calling it for readability
        meanwhile, so unread input does not wake the loop on every pass.
        """
        key = self.selector.get_key(fileobj)
        if not (isinstance(key.data, _Reader) and key.data.external):
            raise ValueError(f"{fileobj!r} was not added with add_reader")
        events = (selectors.EVENT_READ if read else 0) | (selectors.EVENT_WRITE if write else 0)
        if not events:
            raise ValueError("a reader must wait for reading, writing or both")
        if events != key.events:
            self.selector.modify(fileobj, events, key.data)

    # -- callbacks and timers -----------------------------------------------------

    def call_soon(self, callback: Callable[[], None]) -> None:
        """Run ``callback()`` in the loop thread on its next pass; safe from any thread.

        Callbacks run in the order they were scheduled. One scheduled by a
        callback runs on the pass after. An exception is logged. Callbacks
        scheduled after shutdown never run.
        """
        self._ready.append(callback)
        # The loop looks at ``_ready`` before it waits, so its own thread only
        # needs to wake it from inside ``select`` (a signal handler).
        if self._selecting or threading.get_ident() != self._loop_thread:
            self._wake()

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except OSError:
            # A full socketpair already wakes the loop; a closed one means it stopped.
            pass

    def _drain_wakeup(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def _run_ready(self) -> None:
        ready = self._ready
        for _ in range(len(ready)):
            callback = ready.popleft()
            try:
                callback()
            except Exception:
                log.exception("callback %r failed", callback)
                self.metrics.internal_errors["loop"] += 1

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        heapq.heappush(
            self._timers, (time.monotonic() + max(0.0, delay), next(self._timer_seq), callback)
        )

    def schedule_session(self, conn: Connection, deadline: float | None) -> None:
        """Have ``conn``'s session check its timeouts at ``deadline`` (on the chat's clock).

        A connection has at most one live entry (``timer_at``): an earlier wake-up already
        due asks the session for its next deadline anyway, and the heap holds the
        connection itself rather than a closure, which every idle connection would keep.
        """
        if deadline is None:
            return
        when = time.monotonic() + max(0.0, deadline - self.chat.clock())
        if 0.0 < conn.timer_at <= when:
            return
        conn.timer_at = when
        heapq.heappush(self._timers, (when, next(self._timer_seq), conn))

    def _session_timer(self, conn: Connection, when: float) -> None:
        if when != conn.timer_at or conn.closed or conn.session is None:
            return  # superseded by an earlier wake-up, or the connection is gone
        conn.timer_at = 0.0
        self.schedule_session(conn, conn.session.check_timeouts(self.chat.clock()))

    def _run_timers(self) -> None:
        now = time.monotonic()
        timers = self._timers
        while timers and timers[0][0] <= now:
            when, _, callback = heapq.heappop(timers)
            try:
                if isinstance(callback, Connection):
                    self._session_timer(callback, when)
                else:
                    callback()
            except Exception:
                log.exception("timer callback failed")
                self.metrics.internal_errors["loop"] += 1

    # -- connections ----------------------------------------------------------

    def _accept(self, listener: Listener) -> None:
        for i in range(ACCEPTS_PER_PASS):
            if i and time.monotonic() > self._pass_deadline:
                # The listener stays readable: the rest are accepted next pass.
                return
            try:
                sock, addr = listener.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    log.error("cannot accept: %s; pausing accepts for a second", exc.strerror)
                    self.selector.unregister(listener.sock)
                    self.call_later(1.0, lambda: self._resume(listener))
                    return
                log.warning("accept failed: %s", exc)
                return
            self._admit(listener, sock, addr)

    def _resume(self, listener: Listener) -> None:
        self._watch_listener(listener)

    def _note_refusal(self, ip: str, why: str, reason: str) -> None:
        """Log (rate-limited) and count a refused connection; ``reason`` labels the metric."""
        # A storm of refusals must not become a storm of log lines.
        now = time.monotonic()
        if now >= self._refusal_logged + REFUSAL_LOG_INTERVAL:
            more = self._refusals_unlogged
            log.warning(
                "refused connection from %s: %s%s",
                ip,
                why,
                f" (and {more} more refused in the last {now - self._refusal_logged:.0f} s)"
                if more
                else "",
            )
            self._refusal_logged = now
            self._refusals_unlogged = 0
        else:
            self._refusals_unlogged += 1
        self.metrics.connections_refused[reason] += 1

    def _refuse(
        self, sock: socket.socket, ip: str, why: str, reason: str, *, http: bool = False
    ) -> None:
        """Tell the peer ``why`` (in HTTP on an http listener) and close."""
        self._note_refusal(ip, why, reason)
        message = f"ERROR :{why}\r\n".encode()
        if http:
            body = f"{why}\n".encode()
            message = (
                b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
            )
        try:
            sock.send(message)
        except OSError:
            pass
        sock.close()

    def _address_refusal(self, ip: str, *, arriving: bool = True) -> tuple[str, str] | None:
        """Why ``ip`` may not connect now and the metric's label; None: it may (and is counted).

        D-lines first, then (for a connection ``arriving`` now) the server's
        bound, then the per-address bounds. Also asked for the address a trusted
        proxy names (``readdress``).
        """
        limits = self.config.limits
        why = self.chat.bans.refuse_ip(ip)
        if why:
            return why, "dline"
        if arriving and len(self.connections) >= limits.max_connections:
            return "Server is full, try again later", "server_full"
        counted = limits.limit_loopback or not _is_loopback(ip)
        if counted and self.per_ip[_throttle_key(ip)] >= limits.max_connections_per_ip:
            return "Too many connections from your address", "per_ip"
        if counted and limits.connect_rate:
            wait = self._connect_wait(ip, limits.connect_rate, limits.connect_window)
            if wait:
                return (
                    f"Too many new connections from your address; try again in {wait}",
                    "connect_rate",
                )
        return None

    def readdress(self, conn: Connection, ip: str) -> tuple[str, str] | None:
        """Count ``conn`` as coming from ``ip`` from now on (the client of a trusted proxy).

        The same checks as for a new connection from ``ip`` (D-lines,
        per-address bounds); a refusal (why, label) changes nothing, and the
        caller tells the peer and closes.
        """
        refusal = self._address_refusal(ip, arriving=False)
        if refusal is not None:
            self._note_refusal(ip, *refusal)
            return refusal
        old = _throttle_key(conn.ip)
        self.per_ip[old] -= 1
        if self.per_ip[old] <= 0:
            del self.per_ip[old]
        self.per_ip[_throttle_key(ip)] += 1
        conn.ip = ip
        return None

    def _admit(self, listener: Listener, sock: socket.socket, addr: tuple[str, int]) -> None:
        limits = self.config.limits
        ip = addr[0]
        sock.setblocking(False)
        refusal = self._address_refusal(ip)
        if refusal is not None:
            self._refuse(sock, ip, *refusal, http=listener.config.dialect == "http")
            return
        key = _throttle_key(ip)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            # Chat lines are small and latency matters: no Nagle delay.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # Netcat users are never PINGed; keepalive finds their dead peers.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        conn: Connection
        if listener.context is None:
            conn = Connection(self, sock, addr, limits.sendq_bytes)
        else:
            conn = TlsConnection(self, sock, addr, limits.sendq_bytes, listener.context)
        self.connections[conn.fd] = conn
        self.metrics.connections_accepted += 1
        self.per_ip[key] += 1
        self.set_interest(conn)
        # Debug level: one line per connection would dominate a connection storm's
        # cost; registrations and quits are logged at info with the nickname.
        log.debug("connection from %s:%d", ip, addr[1])
        dialect = listener.config.dialect
        if dialect == "http":
            # Browsers only: a session comes with a WebSocket, if one is asked for.
            self.web.serve(conn)
            return
        now = self.chat.clock()
        conn.session = Session(
            self.chat,
            self.dialects,
            conn,
            ip,
            dialect,
            now=now,
            transport=conn,
            secure=conn.secure,
        )
        # A TLS peer's first line can only come after the handshake (``stream_started``).
        conn.session.awaiting_stream = not conn.stream_ready()
        if dialect == "auto":
            self.web.sniff(conn)
        self.schedule_session(conn, conn.session.check_timeouts(now))

    def _connect_wait(self, ip: str, rate: int, window: float) -> str:
        """ "" if ``ip`` may connect now (and count it); else how long until it may."""
        key = _throttle_key(ip)
        now = time.monotonic()
        recent = self.connects.get(key)
        if recent is None:
            if len(self.connects) >= MAX_THROTTLED:
                self._forget_old_connects(now, window)
            recent = self.connects[key] = deque()
        while recent and recent[0] <= now - window:
            recent.popleft()
        if len(recent) >= rate:
            seconds = int(recent[0] + window - now) + 1
            if seconds <= 90:
                return f"{seconds} seconds"
            return f"{-(-seconds // 60)} minutes"  # rounded up
        recent.append(now)
        return ""

    def _forget_old_connects(self, now: float, window: float) -> None:
        # Bounded memory under a spread-out attack: addresses quiet for a window go.
        for key in [k for k, times in self.connects.items() if times[-1] <= now - window]:
            del self.connects[key]

    def set_interest(
        self, conn: Connection, *, read: bool | None = None, write: bool | None = None
    ) -> None:
        """Change what the loop watches ``conn`` for; ``None`` keeps that half as it is.

        ``read=False`` pauses reading from this connection only; it is still
        flushed and watched for writability while it has a backlog
        (``Connection.flush`` sets ``write``). A connection that wants neither
        is unregistered from the selector until it wants one again.
        """
        if read is not None:
            conn.reading = read
        if write is not None:
            conn.writing = write
        if conn.closed:
            return
        events = (selectors.EVENT_READ if conn.reading else 0) | (
            selectors.EVENT_WRITE if conn.writing else 0
        )
        if events == conn.events:
            return
        if not events:
            self.selector.unregister(conn.sock)
        elif not conn.events:
            self.selector.register(conn.sock, events, conn)
        else:
            self.selector.modify(conn.sock, events, conn)
        conn.events = events

    def close_connection(self, conn: Connection, reason: str = "") -> None:
        if conn.closed:
            return
        conn.closed = True
        self.dirty.discard(conn)
        if conn.events:
            conn.events = 0
            try:
                self.selector.unregister(conn.sock)
            except (KeyError, ValueError):
                pass
        conn.sock.close()
        self.connections.pop(conn.fd, None)
        key = _throttle_key(conn.ip)
        self.per_ip[key] -= 1
        if self.per_ip[key] <= 0:
            del self.per_ip[key]
        if reason:
            log.debug("closed %s:%d: %s", conn.ip, conn.addr[1], reason)
        session = conn.session
        if session is not None:
            if not session.closed:
                session.connection_lost(reason or "Connection closed")
            # Connection, session and client refer to each other: undone here, a closed
            # connection is freed at once instead of waiting for the cyclic collector,
            # whose full passes over thousands of dead connections stalled the loop.
            conn.session = None
            session.transport = None
            session.client.sink = CLOSED_SINK
        # The gateway refers to the connection too.
        conn.gateway = None

    # -- the loop ---------------------------------------------------------------

    def _timeout(self) -> float | None:
        if self._ready or self._postponed:
            return 0.0
        timers = self._timers
        if self._held:
            # Output waits for a commit (``_flush_dirty``): wake when it is due.
            due = self._commit_at if not timers else min(self._commit_at, timers[0][0])
            return max(0.0, due - time.monotonic())
        if not timers:
            return None
        return max(0.0, timers[0][0] - time.monotonic())

    def run_once(self, timeout: float | None = None) -> None:
        """One pass: wait; read, accept and readers; timers; callbacks; overflow kills; flushes."""
        self._loop_thread = threading.get_ident()
        # What was logged since the last wait (the last pass, start-up) goes out before this one.
        flush_logs()
        self._selecting = True
        try:
            wait = self._timeout()
            if timeout is not None:
                wait = timeout if wait is None else min(wait, timeout)
            events = self.selector.select(wait)
        finally:
            self._selecting = False
        self._handle(events)
        coalesce = self.config.limits.write_coalesce
        if coalesce and self.dirty:
            # Output waits while more input is ready at once, for at most ``coalesce``:
            # each connection then gets a busy room's messages in one write rather than
            # one per message. An idle loop (nothing ready) flushes at once.
            until = time.monotonic() + coalesce
            while not self._postponed and not self._ready and time.monotonic() < until:
                more = self.selector.select(0)
                if not more:
                    break
                self.metrics.coalesced_passes += 1
                self._handle(more)
        self._flush_dirty()

    def _handle(self, events: list[tuple[selectors.SelectorKey, int]]) -> None:
        """Steps 1-4 of a pass (accept and read, timers, callbacks, overflow kills)."""
        monotonic = time.monotonic
        self._pass_deadline = deadline = monotonic() + PASS_BUDGET
        first = True

        def read(conn: Connection) -> None:
            # Every pass reads at least one connection, whatever the budget.
            nonlocal first
            if not first and monotonic() > deadline:
                self._postponed.append(conn)
            else:
                first = False
                self._guarded(conn, conn.on_readable)

        postponed = self._postponed
        seen: set[Connection] | frozenset[Connection] = frozenset()
        if postponed:
            # Left over from the last pass: they go before anyone who came in since.
            seen = set(postponed)
            self._postponed = []
            for conn in postponed:
                if conn.reading and not conn.closed:
                    read(conn)
        for key, mask in events:
            data = key.data
            if isinstance(data, Connection):
                read_now = mask & selectors.EVENT_READ and data.reading and not data.closed
                if read_now and data not in seen:
                    read(data)
                if mask & selectors.EVENT_WRITE and not data.closed:
                    self.dirty.add(data)
            elif data.active:
                try:
                    data.callback()
                except Exception:
                    log.exception("reader %r failed", data)
                    self.metrics.internal_errors["loop"] += 1
        self._run_timers()
        self._run_ready()
        self._reap_overflowed()

    def _guarded(self, conn: Connection, action: Callable[[], None]) -> None:
        try:
            action()
        except Exception:
            # Only this connection pays for a bug triggered by its input or output.
            log.exception("error on %r; closing it", conn)
            self.metrics.internal_errors["connection"] += 1
            self._lose(conn, "Internal server error")

    def _lose(self, conn: Connection, reason: str) -> None:
        """``conn.lost(reason)``, and closed anyway if that fails too."""
        try:
            conn.lost(reason)
        except Exception:
            log.exception("error while closing %r", conn)
            self.close_connection(conn, reason)

    def _reap_overflowed(self) -> None:
        while self.doomed:
            conn = self.doomed.pop()
            if not conn.closed:
                log.warning("%s:%d exceeded its send queue; disconnecting", conn.ip, conn.addr[1])
                self.metrics.sendq_drops += 1
                self._lose(conn, f"SendQ exceeded ({self.config.limits.sendq_bytes} bytes)")

    def _flush_dirty(self) -> None:
        storage = self.storage
        if storage is not None and storage.uncommitted:
            # Group commit across passes: a commit costs tens of microseconds whatever it
            # holds, so within ``commit_interval`` of the last one the writes and the output
            # of this pass wait, and go with the next passes' in one transaction. After a
            # quiet spell the first pass commits, and writes, at once.
            if time.monotonic() < self._commit_at and not self._shutting_down:
                self._held = True
                return
            self._commit_at = time.monotonic() + self.config.storage.commit_interval
        # Not held (also when another commit took the writes meanwhile): no early wake-up.
        self._held = False
        while self.dirty:
            if storage is not None:
                # What a client receives must be on disk first.
                storage.commit()
            batch = self.dirty
            self.dirty = set()
            for conn in batch:
                # _guarded inlined: this loop runs once per recipient of every broadcast.
                try:
                    conn.flush()
                except Exception:
                    log.exception("error on %r; closing it", conn)
                    self.metrics.internal_errors["connection"] += 1
                    self._lose(conn, "Internal server error")
            # Closing one connection can make more output (quits) for others.
            self._reap_overflowed()
        if storage is not None:
            # Writes of a pass with no output (a retention batch, a message no one else
            # gets) are committed too, rather than held open until some output comes.
            storage.commit()

    def request_stop(self) -> None:
        """Ask the loop to shut down; safe from signal handlers and other threads."""
        self._stop_requested = True
        self._wake()

    def serve_forever(self) -> None:
        """Run until ``request_stop``; then shut down gracefully."""
        installed = self._install_signals()
        try:
            while not self._stop_requested:
                self.run_once()
            self.shutdown()
        finally:
            if installed:
                for sig, old in installed.items():
                    signal.signal(sig, old)

    def _install_signals(self) -> dict[signal.Signals, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}

        def on_signal(signum: int, frame: FrameType | None) -> None:
            log.info("received %s; shutting down", signal.Signals(signum).name)
            self.request_stop()

        def on_hangup(signum: int, frame: FrameType | None) -> None:
            # The reload runs in the loop, between passes, like any callback.
            self.call_soon(self.reload_or_log)

        old: dict[signal.Signals, Any] = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            old[sig] = signal.signal(sig, on_signal)
        old[signal.SIGHUP] = signal.signal(signal.SIGHUP, on_hangup)
        return old

    def shutdown(self, reason: str = "Server shutting down") -> None:
        """Tell every user, flush within the grace period, close everything."""
        self._shutting_down = True
        for listener in self.listeners:
            try:
                self.selector.unregister(listener.sock)
            except (KeyError, ValueError):
                pass
            listener.sock.close()
        if self.metrics_endpoint is not None:
            self.metrics_endpoint.close()
        self.workers.shutdown()
        if self.cluster is not None:
            self.cluster.leave(reason)
        self.chat.shutdown(reason)
        deadline = time.monotonic() + self.config.limits.shutdown_grace
        self._flush_dirty()
        redis = self.redis
        while any(c.has_output for c in self.connections.values()) or (
            redis is not None and redis.connected and redis.pending
        ):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self.run_once(timeout=remaining)
        for conn in list(self.connections.values()):
            self.close_connection(conn)
        if self.cluster is not None:
            self.cluster.close()
        if self.redis is not None:
            self.redis.close()
        if self.storage is not None:
            self.storage.close()
        self.selector.close()
        self._wake_r.close()
        self._wake_w.close()
        log.info("stopped")
