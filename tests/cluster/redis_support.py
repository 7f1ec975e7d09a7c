"""A real ``redis-server`` for the tests, and a plain blocking client to look inside it.

``RedisServer`` starts ``redis-server`` on a port that was free a moment
ago (Redis cannot pick one itself: a clash is retried on another port), with
no persistence unless asked (``persist``: an append-only file), in a
temporary directory, and waits until it answers PING.
It can be killed (SIGKILL), paused (SIGSTOP) and started again on the same
port. A missing ``redis-server`` fails the test with how to install it: it
is never skipped (CI installs it in .ci/run).

``command`` is a small blocking client (a socket and ``hiredis``) that
checks what the server under test wrote, independently of
``ircish.net.redis``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hiredis
import pytest

from ircish.config import Config, StorageConfig, parse_redis_url
from ircish.net.redis import RedisConnection
from ircish.net.server import Server
from tests.e2e.e2e_support import ServerProcess, free_port

START_TIMEOUT = 10.0
#: ``[cluster] lease_seconds`` of the test networks (the ``node`` fixture).
LEASE = 3.0
#: ``node(redis, name, extra, db)``: a server process of the network (conftest.py).
Node = Callable[..., ServerProcess]


def redis_server_program() -> str:
    """The path of ``redis-server``; fails the test (never skips) when it is missing."""
    path = shutil.which("redis-server")
    if path is None:
        where = (
            "CI installs it in .ci/run"
            if os.environ.get("CI")
            else "install it: apt-get install redis-server"
        )
        pytest.fail(f"redis-server is not installed ({where}); the cluster tests need it")
    return path


class RedisServer:
    """One ``redis-server`` process on 127.0.0.1 (and a unix socket), stopped at teardown."""

    def __init__(
        self, *, password: str = "", users: tuple[str, ...] = (), persist: bool = False
    ) -> None:
        self.program = redis_server_program()
        self.password = password
        #: An append-only file fsynced on every write: a restart keeps the streams and keys.
        self.persist = persist
        self.users = users
        self.dir = Path(tempfile.mkdtemp(prefix="ircish-redis-"))
        self.unix_path = str(self.dir / "redis.sock")
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        for _attempt in range(5):
            self.port = free_port()
            if self._start():
                return
        raise AssertionError(f"redis-server did not start; log:\n{self.log()}")

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def _start(self) -> bool:
        args = [
            self.program,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--unixsocket",
            self.unix_path,
            "--unixsocketperm",
            "700",
            "--save",
            "",
            "--appendonly",
            "yes" if self.persist else "no",
            "--appendfsync",
            "always",
            "--dir",
            str(self.dir),
            "--logfile",
            str(self.dir / "redis.log"),
            "--daemonize",
            "no",
        ]
        if self.password:
            args += ["--requirepass", self.password]
        for user in self.users:
            # One argument per word: redis-server quotes an argument that has spaces.
            args += ["--user", *user.split()]
        self.proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False  # most likely the port was taken meanwhile
            try:
                if self.command("PING") == b"PONG":
                    return True
            except OSError:
                pass
            time.sleep(0.02)  # polling for readiness, bounded by the deadline
        self.stop()
        return False

    def log(self) -> str:
        path = self.dir / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def command(self, *args: Any, db: int = 0, timeout: float = 5.0) -> Any:
        """Send one command on a new connection (logging in, selecting ``db``); its reply."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            commands: list[tuple[Any, ...]] = []
            if self.password:
                commands.append(("AUTH", self.password))
            if db:
                commands.append(("SELECT", db))
            commands.append(args)
            sock.sendall(b"".join(hiredis.pack_command(c) for c in commands))
            reader = hiredis.Reader()
            replies: list[Any] = []
            while len(replies) < len(commands):
                data = sock.recv(65536)
                if not data:
                    raise ConnectionError("redis closed the connection")
                reader.feed(data)
                while (reply := reader.gets()) is not False:
                    replies.append(reply)
            return replies[-1]

    def kill(self) -> None:
        """SIGKILL: gone at once, connections reset, nothing saved."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def pause(self) -> None:
        """SIGSTOP: connections stay open and nothing answers (a hung or unreachable host)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def restart(self) -> None:
        """Start again on the same port (after ``kill``)."""
        self.kill()
        if not self._start():
            raise AssertionError(f"redis-server did not start again; log:\n{self.log()}")

    def stop(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGCONT)
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        shutil.rmtree(self.dir, ignore_errors=True)


class RedisProxy:
    """A TCP relay in front of a ``RedisServer`` that the test can ``cut`` and ``restore``:
    one node cut off from a Redis that stays up for the others.

    Cut, it closes every relayed connection and refuses new ones (its port stays
    reserved by nothing; ``restore`` listens on it again).
    """

    def __init__(self, redis: RedisServer) -> None:
        self.redis = redis
        self.port = free_port()
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.restore()

    @property
    def url(self) -> str:
        return self.redis.url.replace(f":{self.redis.port}/", f":{self.port}/")

    def restore(self) -> None:
        """Listen (again) and relay each connection to Redis."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                down, _ = listener.accept()
            except OSError:
                return  # cut: the listener was shut down
            try:
                up = socket.create_connection(("127.0.0.1", self.redis.port), timeout=5)
            except OSError:
                down.close()
                continue
            up.settimeout(None)
            with self._lock:
                self._socks += [down, up]
            for src, dst in ((down, up), (up, down)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Close every relayed connection and refuse new ones until ``restore``."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
            listener.close()
        with self._lock:
            socks, self._socks = self._socks, []
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


# -- driving the real loop from the test thread ------------------------------------


class LoopDriver:
    """A real ``Server`` (no listeners, no storage) whose loop the test turns by hand."""

    def __init__(self) -> None:
        self.server = Server(Config(storage=StorageConfig(path="")))
        self.links: list[RedisConnection] = []

    def link(self, url: str, **kw: Any) -> RedisConnection:
        """A started connection to ``url`` (DNS lookups on the server's workers)."""
        kw.setdefault("offload", self.server.workers.offload)
        link = RedisConnection(self.server, parse_redis_url(url), **kw)
        link.start()
        self.links.append(link)
        return link

    def run_until(self, done: Callable[[], bool], timeout: float = 5.0, what: str = "") -> None:
        """Turn the loop until ``done()``; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or done}")
            self.server.run_once(timeout=0.05)

    def run_for(self, seconds: float) -> None:
        """Turn the loop for a while (to show that something does *not* happen)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.server.run_once(timeout=0.05)

    def close(self) -> None:
        for link in self.links:
            link.close()
        self.server.shutdown()
