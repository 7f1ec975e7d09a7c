"""The event loop: one thread, ``selectors``, listeners, connections and timers.

Theory of operation: each pass of ``run_once`` waits in ``select`` until a
socket is ready or the earliest timer is due, then

1. accepts new connections (bounded per pass) and reads from readable ones,
   which runs the chat core synchronously and fills output buffers;
2. runs due timers (each connection has at most one: its session's next
   deadline);
3. ends connections whose send queue overflowed;
4. flushes every connection that got output during the pass, one ``sendmsg``
   each. Only sockets with a backlog stay registered for EVENT_WRITE.

Signals (SIGINT/SIGTERM) only set a flag and wake the selector through a
socketpair; shutdown then tells every user, flushes within a short grace
period and closes.
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
import threading
import time
from collections import Counter
from collections.abc import Callable
from types import FrameType
from typing import Any

from ircish.config import Config, ListenerConfig
from ircish.core.chat import Chat
from ircish.core.session import Session
from ircish.dialects import Dialects
from ircish.net.connection import Connection

log = logging.getLogger("ircish.net")

ACCEPTS_PER_PASS = 128
_LISTENER = "listener"
_WAKEUP = "wakeup"


@functools.lru_cache(maxsize=4096)
def _is_loopback(ip: str) -> bool:
    return ipaddress.ip_address(ip).is_loopback


class Listener:
    __slots__ = ("address", "config", "sock")

    def __init__(self, sock: socket.socket, config: ListenerConfig) -> None:
        self.sock = sock
        self.config = config
        host, port = sock.getsockname()[:2]
        self.address = (host, port)


class Server:
    """Owns the sockets and the loop; the chat core owns everything else."""

    def __init__(self, config: Config, chat: Chat | None = None) -> None:
        self.config = config
        self.chat = chat or Chat(config)
        self.dialects = Dialects.from_config(config)
        self.selector = selectors.DefaultSelector()
        self.listeners: list[Listener] = []
        self.connections: dict[int, Connection] = {}
        self.per_ip: Counter[str] = Counter()
        #: Connections that got output this pass and need a flush.
        self.dirty: set[Connection] = set()
        #: Connections whose send queue overflowed this pass.
        self.doomed: list[Connection] = []
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._timer_seq = itertools.count()
        self._stop_requested = False
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self.selector.register(self._wake_r, selectors.EVENT_READ, _WAKEUP)

    # -- setup ----------------------------------------------------------------

    def bind(self) -> list[tuple[str, int]]:
        """Open every configured listener; return the bound (host, port) pairs."""
        for lc in self.config.listeners:
            infos = socket.getaddrinfo(lc.host, lc.port, type=socket.SOCK_STREAM)
            family, _, _, _, sockaddr = infos[0]
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(sockaddr)
            sock.listen(1024)
            sock.setblocking(False)
            listener = Listener(sock, lc)
            self.listeners.append(listener)
            self.selector.register(sock, selectors.EVENT_READ, (_LISTENER, listener))
            log.info(
                "listening on %s:%d (dialect %s)",
                listener.address[0],
                listener.address[1],
                lc.dialect,
            )
        return [lst.address for lst in self.listeners]

    # -- timers -----------------------------------------------------------------

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        heapq.heappush(
            self._timers, (time.monotonic() + max(0.0, delay), next(self._timer_seq), callback)
        )

    def _schedule_session(self, conn: Connection, deadline: float | None) -> None:
        if deadline is None:
            return
        self.call_later(deadline - self.chat.clock(), lambda: self._session_timer(conn))

    def _session_timer(self, conn: Connection) -> None:
        if conn.closed or conn.session is None:
            return
        self._schedule_session(conn, conn.session.check_timeouts(self.chat.clock()))

    def _run_timers(self) -> None:
        now = time.monotonic()
        timers = self._timers
        while timers and timers[0][0] <= now:
            _, _, callback = heapq.heappop(timers)
            try:
                callback()
            except Exception:
                log.exception("timer callback failed")

    # -- connections ----------------------------------------------------------

    def _accept(self, listener: Listener) -> None:
        for _ in range(ACCEPTS_PER_PASS):
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
        self.selector.register(listener.sock, selectors.EVENT_READ, (_LISTENER, listener))

    def _refuse(self, sock: socket.socket, ip: str, why: str) -> None:
        log.warning("refused connection from %s: %s", ip, why)
        try:
            sock.send(f"ERROR :{why}\r\n".encode())
        except OSError:
            pass
        sock.close()

    def _admit(self, listener: Listener, sock: socket.socket, addr: tuple[str, int]) -> None:
        limits = self.config.limits
        ip = addr[0]
        sock.setblocking(False)
        if len(self.connections) >= limits.max_connections:
            self._refuse(sock, ip, "Server is full, try again later")
            return
        counted = limits.limit_loopback or not _is_loopback(ip)
        if counted and self.per_ip[ip] >= limits.max_connections_per_ip:
            self._refuse(sock, ip, "Too many connections from your address")
            return
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            # Chat lines are small and latency matters: no Nagle delay.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # Netcat users are never PINGed; keepalive finds their dead peers.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        conn = Connection(self, sock, addr, limits.sendq_bytes)
        self.connections[conn.fd] = conn
        self.per_ip[ip] += 1
        self.selector.register(sock, selectors.EVENT_READ, conn)
        log.info("connection from %s:%d", ip, addr[1])
        now = self.chat.clock()
        conn.session = Session(self.chat, self.dialects, conn, ip, listener.config.dialect, now=now)
        self._schedule_session(conn, conn.session.check_timeouts(now))

    def want_write(self, conn: Connection, on: bool) -> None:
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if on else 0)
        self.selector.modify(conn.sock, events, conn)

    def close_connection(self, conn: Connection, reason: str = "") -> None:
        if conn.closed:
            return
        conn.closed = True
        self.dirty.discard(conn)
        try:
            self.selector.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        conn.sock.close()
        self.connections.pop(conn.fd, None)
        self.per_ip[conn.ip] -= 1
        if self.per_ip[conn.ip] <= 0:
            del self.per_ip[conn.ip]
        if reason:
            log.info("closed %s:%d: %s", conn.ip, conn.addr[1], reason)

    # -- the loop ---------------------------------------------------------------

    def _timeout(self) -> float | None:
        if not self._timers:
            return None
        return max(0.0, self._timers[0][0] - time.monotonic())

    def run_once(self, timeout: float | None = None) -> None:
        """One pass: wait, read and accept, timers, overflow kills, flushes."""
        wait = self._timeout()
        if timeout is not None:
            wait = timeout if wait is None else min(wait, timeout)
        for key, mask in self.selector.select(wait):
            data = key.data
            if isinstance(data, Connection):
                if mask & selectors.EVENT_READ and not data.closed:
                    self._guarded(data, data.on_readable)
                if mask & selectors.EVENT_WRITE and not data.closed:
                    self.dirty.add(data)
            elif data == _WAKEUP:
                try:
                    while self._wake_r.recv(4096):
                        pass
                except (BlockingIOError, InterruptedError):
                    pass
            else:
                self._accept(data[1])
        self._run_timers()
        self._reap_overflowed()
        self._flush_dirty()

    def _guarded(self, conn: Connection, action: Callable[[], None]) -> None:
        try:
            action()
        except Exception:
            # Only this connection pays for a bug triggered by its input.
            log.exception("error on %r; closing it", conn)
            conn.lost("Internal server error")

    def _reap_overflowed(self) -> None:
        while self.doomed:
            conn = self.doomed.pop()
            if not conn.closed:
                log.warning("%s:%d exceeded its send queue; disconnecting", conn.ip, conn.addr[1])
                conn.lost(f"SendQ exceeded ({self.config.limits.sendq_bytes} bytes)")

    def _flush_dirty(self) -> None:
        while self.dirty:
            batch = self.dirty
            self.dirty = set()
            for conn in batch:
                conn.flush()
            # Closing one connection can make more output (quits) for others.
            self._reap_overflowed()

    def request_stop(self) -> None:
        """Ask the loop to shut down; safe from signal handlers and other threads."""
        self._stop_requested = True
        try:
            self._wake_w.send(b"\0")
        except OSError:
            pass

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

        old: dict[signal.Signals, Any] = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            old[sig] = signal.signal(sig, on_signal)
        return old

    def shutdown(self, reason: str = "Server shutting down") -> None:
        """Tell every user, flush within the grace period, close everything."""
        for listener in self.listeners:
            try:
                self.selector.unregister(listener.sock)
            except (KeyError, ValueError):
                pass
            listener.sock.close()
        self.chat.shutdown(reason)
        deadline = time.monotonic() + self.config.limits.shutdown_grace
        self._flush_dirty()
        while any(c.out for c in self.connections.values()):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self.run_once(timeout=remaining)
        for conn in list(self.connections.values()):
            self.close_connection(conn)
        self.selector.close()
        self._wake_r.close()
        self._wake_w.close()
        log.info("stopped")
