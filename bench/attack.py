"""``python -m bench attack``: the default server, tried as an attacker would (issue 10).

Theory of operation. One ircish server runs exactly as a user starts it from
the README (``python -m ircish``, which is what ``ircish-server`` runs): built-in
defaults, flood control on, storage in ``ircish.db`` in an empty working
directory; only the port is chosen. Bystanders chat in it the whole time while
attacks come and go, in phases of ``phase_seconds`` each:

    baseline, flood, baseline, list x1, baseline, list x10, baseline, storm, baseline

and then, on a second server whose only setting is ``[limits] limit_loopback =
true`` (so the per-address limits apply to 127.0.0.0/8 as to any address),
baseline, storm, baseline. Every phase prints one line.

Processes, so an attacker never delays the measurement (as loadgen's workers):

* the controller (this process): starts the servers, creates the rooms LIST
  has to walk (netcat users who stay in them), drives the phases;
* bystanders: one loadgen ``Worker`` (``BoundWorker``), IRC clients and a few
  netcat users in rooms, each sending one timestamped message per second;
  every delivery is timed from the kernel's receive timestamp to the
  scheduled send time (loadgen's probe path; every client is a probe here),
  and loss is what the other members should have received minus what they did;
* newcomers: one process that opens a new IRC connection every
  ``newcomer_every`` seconds and times the TCP connect and the welcome (001),
  which is what a person arriving during an attack sees;
* the attacker: one process, niced (an attacker is on another machine and
  does not compete with the bystanders' clocks), running one attack per phase.

Every client connects from a source address of its own role in 127.0.0.0/8
(Linux routes the whole block to the loopback interface): bystanders
127.1.x.y, room holders 127.2.x.y, the flooder and LIST attackers 127.3.x.y,
the connection storm 127.4.0.1 (one address), newcomers 127.5.x.y (a new one
each). All of them are loopback, so with the defaults (``limit_loopback =
false``) no per-address limit applies; with ``limit_loopback = true`` only the
storm's single address runs into them, as one attacker's address would.
"""

from __future__ import annotations

import contextlib
import errno
import math
import multiprocessing as mp
import os
import re
import select
import socket
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

from bench import procstat
from bench.loadgen import Client, ClientSpec, Worker, irc_registration
from bench.servers import NOFILE, REPO, RunningServer, ServerSpec, readme_command

HOST = "127.0.0.1"
#: The issue's bound for bystanders' p99 latency under attack.
P99_TARGET_MS = 50.0
#: Linux: choose the source port at connect() (per destination), not at bind().
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)
#: Second octet of each role's source addresses.
BYSTANDERS, HOLDERS, ATTACKERS, STORM, NEWCOMERS = 1, 2, 3, 4, 5
FLOOD_ROOM = "#b0"
LIST_MASK = b"*a*"
_PING = re.compile(rb"^PING (.*?)\r?$", re.M)
_EPOLLIN, _EPOLLOUT = select.EPOLLIN, select.EPOLLOUT
_EPOLLBAD = select.EPOLLHUP | select.EPOLLERR
#: One output line per phase; the smoke test parses them with this.
LINE = re.compile(
    r"^(?P<session>\S+)\s+(?P<phase>\S+(?: x\d+)?)\s+bystanders p50 (?P<p50>[\d.]+|nan) "
    r"p99 (?P<p99>[\d.]+|nan) max (?P<max>[\d.]+|nan) ms lost (?P<lost>-?\d+)/(?P<expected>\d+)"
)


class AttackError(Exception):
    """A phase could not be set up or a helper process failed."""


@dataclass
class AttackSettings:
    """Sizes and durations of one ``bench attack`` run."""

    #: Rounded to whole seconds: each bystander sends one message per second.
    phase_seconds: float = 10.0
    #: The most a phase waits for late deliveries (it ends as soon as all arrived).
    drain_seconds: float = 3.0
    rooms: int = 5
    irc_per_room: int = 10
    plain_per_room: int = 1
    #: Rooms with topics created before the LIST phases, so LIST has work.
    topic_rooms: int = 200
    list_commands: int = 20000
    list_clients: tuple[int, ...] = (1, 10)
    storm_held: int = 1000
    storm_cycles: int = 5000
    #: Connects the storm keeps in flight at once.
    storm_in_flight: int = 64
    newcomer_every: float = 0.2
    #: Attacks to run, in order (each followed by a baseline): flood, list, storm.
    attacks: tuple[str, ...] = ("flood", "list", "storm")
    #: Also run the storm against a server with ``limit_loopback = true``.
    limited_storm: bool = True
    server_cpus: set[int] | None = None
    gen_cpus: set[int] | None = None
    workdir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()))
    #: The tree whose ircish the server runs.
    source: Path = REPO

    @classmethod
    def quick(cls) -> AttackSettings:
        """Short phases and a smaller storm: about 45 s in all."""
        return cls(phase_seconds=2.0, storm_held=300, storm_cycles=1500)


ATTACKS = ("flood", "list", "storm")


def address(role: int, n: int) -> str:
    """The n-th source address of a role (never .0 or .255 in the last octet)."""
    return f"127.{role}.{n // 250}.{n % 250 + 1}"


def open_socket(source: str) -> socket.socket:
    """A TCP socket bound to ``source``, its port chosen at connect time."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        sock.bind((source, 0))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        sock.close()
        raise
    return sock


def wait_until(wall: float) -> None:
    """Sleep until the wall-clock time ``wall`` (the clock the phases are scheduled on)."""
    while (left := wall - time.time()) > 0:
        # Phases start at set wall-clock times in every process; nothing to wait on but the clock.
        time.sleep(min(left, 0.05))


@dataclass(frozen=True)
class DefaultServer(ServerSpec):
    """ircish as the README starts it: ``python -m ircish`` and only the port chosen.

    It runs in its own empty working directory (``RunningServer`` sets it), so
    the default storage, ``ircish.db``, is a fresh file there. ``config`` is
    TOML for a ``--config`` file ("" for none: every built-in default).
    """

    config: str = ""

    def command(self, port: int, workdir: Path, redis_port: int = 0) -> list[str]:
        if not self.config:
            return readme_command(port)
        path = workdir / "ircish.toml"
        path.write_text(self.config)
        return readme_command(port, path, own_listeners="[[listeners]]" in self.config)


# -- helper processes -----------------------------------------------------------------


def _serve(pipe: Pipe, make: Callable[[], Any], cpus: set[int] | None, nice: int) -> None:
    procstat.pin(cpus)
    procstat.raise_nofile(NOFILE)
    if nice:
        os.nice(nice)
    parent = os.getppid()
    obj = make()
    try:
        while True:
            # Poll so an orphaned helper (controller killed) notices and exits.
            while not pipe.poll(1.0):
                if os.getppid() != parent:
                    return
            try:
                cmd, kwargs = pipe.recv()
            except EOFError:
                return
            if cmd == "close":
                pipe.send({})
                return
            try:
                pipe.send(getattr(obj, cmd)(**kwargs))
            except Exception as exc:  # reported: the controller stops the session
                pipe.send({"error": f"{cmd}: {type(exc).__name__}: {exc}"})
    finally:
        obj.close()


class Child:
    """A forked helper process serving calls to the object ``make`` builds in it."""

    def __init__(
        self, name: str, make: Callable[[], Any], cpus: set[int] | None, nice: int = 0
    ) -> None:
        ctx = mp.get_context("fork")
        self.name = name
        self.pipe, child_end = ctx.Pipe()
        self.proc = ctx.Process(
            target=_serve, args=(child_end, make, cpus, nice), daemon=True, name=name
        )
        self.proc.start()
        child_end.close()

    def send(self, cmd: str, **kwargs: Any) -> None:
        self.pipe.send((cmd, kwargs))

    def recv(self, wait: float) -> dict[str, Any]:
        if not self.pipe.poll(wait):
            raise AttackError(f"{self.name} did not answer within {wait:.0f} s")
        reply: dict[str, Any] = self.pipe.recv()
        if "error" in reply:
            raise AttackError(f"{self.name}: {reply['error']}")
        return reply

    def call(self, cmd: str, wait: float, **kwargs: Any) -> dict[str, Any]:
        self.send(cmd, **kwargs)
        return self.recv(wait)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.pipe.send(("close", {}))
        self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(timeout=2)
        self.pipe.close()


class BoundWorker(Worker):
    """loadgen's worker, each client connecting from its own source address."""

    def __init__(
        self, host: str, port: int, specs: list[ClientSpec], sources: dict[str, str]
    ) -> None:
        super().__init__(0, host, port, specs)
        self.sources = sources

    def _open(self, spec: ClientSpec) -> Client | None:
        try:
            sock = open_socket(self.sources[spec.nick])
        except OSError:
            return None
        sock.setblocking(False)
        err = sock.connect_ex(self.addr)
        if err not in (0, errno.EINPROGRESS):
            sock.close()
            return None
        client = Client(spec, sock, self.ep)
        self.clients[client.fd] = client
        self.ep.register(client.fd, _EPOLLIN | _EPOLLOUT)
        return client


def bystander_specs(settings: AttackSettings) -> list[ClientSpec]:
    """IRC clients and netcat users in rooms #b0, #b1, ...; every one sends and is timed."""
    size = settings.irc_per_room + settings.plain_per_room
    return [
        ClientSpec(
            # Not "b...": an IRC line carries "~<username>", and "~b" is loadgen's mark.
            nick=f"u{r * size + j}",
            plain=j >= settings.irc_per_room,
            room=f"#b{r}",
            sender=r * size + j,
            peers_sending=size - 1,
            probe=True,
        )
        for r in range(settings.rooms)
        for j in range(size)
    ]


# -- the attacker's side --------------------------------------------------------------


class LineConn:
    """A blocking IRC connection for setting an attack up: register, join, wait for a reply."""

    def __init__(self, sock: socket.socket, nick: str) -> None:
        self.sock = sock
        self.nick = nick
        self.buf = bytearray()

    @classmethod
    def register(cls, addr: tuple[str, int], nick: str, source: str, timeout: float) -> LineConn:
        sock = open_socket(source)
        sock.settimeout(timeout)
        try:
            sock.connect(addr)
        except OSError:
            sock.close()
            raise
        conn = cls(sock, nick)
        sock.sendall(irc_registration(nick.encode()))
        conn.expect(rb" 001 ", timeout)
        return conn

    def expect(self, pattern: bytes, timeout: float) -> None:
        """Read until ``pattern`` (a regex) appears; what was read is then forgotten."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while rx.search(self.buf) is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.nick}: no {pattern!r}; got {bytes(self.buf[-200:])!r}")
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError(f"{self.nick}: closed; got {bytes(self.buf[-200:])!r}")
            self.buf += data
            for token in _PING.findall(data):
                self.sock.sendall(b"PONG " + token + b"\r\n")
        self.buf.clear()

    def close(self) -> None:
        self.sock.close()


def _error_line(data: bytes) -> str | None:
    """Why the server said it closed: ``ERROR :Closing Link: host (Excess Flood)`` gives
    "Excess Flood", ``ERROR :Too many ...; try again in N`` gives "Too many ..."."""
    start = data.find(b"ERROR :")
    if start < 0:
        return None
    end = data.find(b"\n", start)
    text = data[start + 7 : end if end >= 0 else len(data)].decode(errors="replace").strip()
    link = re.fullmatch(r"Closing Link: \S+ \((.*)\)", text)
    return link.group(1) if link else text.split(";")[0]


def _complete(carry: bytes, data: bytes) -> tuple[bytes, bytes]:
    """(complete lines, the partial last line) of ``carry + data``."""
    data = carry + data
    end = data.rfind(b"\n") + 1
    return data[:end], data[end:]


class Attacker:
    """The attacks, each in two calls: ``prepare_*`` (connect, register) and the run."""

    def __init__(self, host: str, port: int) -> None:
        self.addr = (host, port)
        self.conns: list[LineConn] = []

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
        self.conns = []

    # flood ---------------------------------------------------------------------------

    def prepare_flood(self, room: str, timeout: float) -> dict[str, Any]:
        """The flooder and a witness (a room member that counts what it relays) in ``room``."""
        self.close()
        for i, nick in enumerate(("flooder", "witness")):
            conn = LineConn.register(self.addr, nick, address(ATTACKERS, i), timeout)
            self.conns.append(conn)
            conn.sock.sendall(b"JOIN %s\r\n" % room.encode())
            conn.expect(rb" 366 " + nick.encode() + rb" " + re.escape(room.encode()), timeout)
        return {}

    def flood(self, t0: float, until: float, room: str) -> dict[str, Any]:
        """PRIVMSG to the room as fast as the socket takes it, until disconnected or ``until``."""
        flooder, witness = self.conns
        line = b"PRIVMSG %s :~f flood flood flood flood flood flood flood\r\n" % room.encode()
        # As relayed: the flooder's "~flooder" username must not count.
        mark = b"PRIVMSG %s :~f " % room.encode()
        chunk = memoryview(line * (65536 // len(line)))
        ep = select.epoll()
        ffd, wfd = flooder.sock.fileno(), witness.sock.fileno()
        for conn in self.conns:
            conn.sock.setblocking(False)
        ep.register(ffd, _EPOLLIN | _EPOLLOUT)
        ep.register(wfd, _EPOLLIN)
        wait_until(t0)
        start = time.monotonic()
        stop = start + (until - t0)
        written = pos = relayed = 0
        flooder_closed: float | None = None
        quit_at: float | None = None
        error: str | None = None
        quit_reason: str | None = None
        carry = b""
        writing = True
        try:
            while True:
                now = time.monotonic()
                if flooder_closed is not None and quit_at is not None:
                    break
                if now > stop + (2.0 if flooder_closed is not None else 0.0):
                    break
                if writing and now > stop:
                    # Never disconnected: stop flooding at the end of the phase.
                    writing = False
                    ep.modify(ffd, _EPOLLIN)
                for fd, ev in ep.poll(0.05):
                    if fd == ffd:
                        if writing and ev & _EPOLLOUT:
                            try:
                                while True:
                                    sent = flooder.sock.send(chunk[pos:])
                                    written += sent
                                    pos = (pos + sent) % len(chunk)
                            except (BlockingIOError, InterruptedError):
                                pass
                            except OSError:
                                flooder_closed = time.monotonic()
                        if ev & (_EPOLLIN | _EPOLLBAD) and flooder_closed is None:
                            try:
                                data = flooder.sock.recv(65536)
                            except (BlockingIOError, InterruptedError):
                                data = None
                            except OSError:
                                data = b""
                            if data is not None:
                                error = error or _error_line(data)
                                if not data:
                                    flooder_closed = time.monotonic()
                        if flooder_closed is not None:
                            ep.unregister(ffd)
                            writing = False
                    elif fd == wfd:
                        try:
                            data = witness.sock.recv(262144)
                        except (BlockingIOError, InterruptedError):
                            continue
                        if not data:
                            raise AttackError("the witness was disconnected")
                        lines, carry = _complete(carry, data)
                        relayed += lines.count(mark)
                        quit_line = re.search(rb":flooder!\S+ QUIT :([^\r\n]*)", lines)
                        if quit_line is not None:
                            quit_at = time.monotonic()
                            quit_reason = quit_line.group(1).decode(errors="replace")
                        for token in _PING.findall(lines):
                            witness.sock.send(b"PONG " + token + b"\r\n")
        finally:
            ep.close()
            with contextlib.suppress(OSError):
                witness.sock.send(b"QUIT :done\r\n")
            self.close()
        return {
            "lines_written": written // len(line),
            "relayed": relayed,
            "disconnected": quit_at is not None or flooder_closed is not None,
            # As the room saw it (the QUIT), else as the flooder did (its socket closed).
            "disconnect_s": (quit_at or flooder_closed or math.nan) - start,
            "flooder_closed_s": (flooder_closed or math.nan) - start,
            "quit_reason": quit_reason,
            "error_line": error,
        }

    # LIST ----------------------------------------------------------------------------

    def prepare_list(self, clients: int, timeout: float) -> dict[str, Any]:
        self.close()
        for i in range(clients):
            self.conns.append(
                LineConn.register(self.addr, f"lister{i}", address(ATTACKERS, 10 + i), timeout)
            )
        return {}

    def list_flood(self, t0: float, until: float, commands: int) -> dict[str, Any]:
        """Each client pipelines ``commands`` LISTs and reads the answers as they come."""
        line = b"LIST " + LIST_MASK + b"\r\n"
        payload = memoryview(line * commands)
        ep = select.epoll()
        state: dict[int, dict[str, Any]] = {}
        for conn in self.conns:
            conn.sock.setblocking(False)
            fd = conn.sock.fileno()
            ep.register(fd, _EPOLLIN | _EPOLLOUT)
            state[fd] = {
                "conn": conn,
                "pos": 0,
                "answered": 0,
                "entries": 0,
                "closed": None,
                "reason": None,
                "carry": b"",
            }
        wait_until(t0)
        start = time.monotonic()
        stop = start + (until - t0)
        try:
            while time.monotonic() < stop and any(s["closed"] is None for s in state.values()):
                for fd, ev in ep.poll(0.05):
                    s = state[fd]
                    sock = s["conn"].sock
                    if ev & _EPOLLOUT and s["pos"] < len(payload):
                        try:
                            s["pos"] += sock.send(payload[s["pos"] : s["pos"] + 262144])
                        except (BlockingIOError, InterruptedError):
                            pass
                        except OSError:
                            s["closed"] = time.monotonic()
                        if s["pos"] >= len(payload) and s["closed"] is None:
                            ep.modify(fd, _EPOLLIN)
                    if ev & (_EPOLLIN | _EPOLLBAD) and s["closed"] is None:
                        try:
                            data = sock.recv(262144)
                        except (BlockingIOError, InterruptedError):
                            continue
                        except OSError:
                            data = b""
                        if not data:
                            s["closed"] = time.monotonic()
                        else:
                            lines, s["carry"] = _complete(s["carry"], data)
                            s["answered"] += lines.count(b" 323 ")
                            s["entries"] += lines.count(b" 322 ")
                            s["reason"] = s["reason"] or _error_line(lines)
                    if s["closed"] is not None:
                        ep.unregister(fd)
        finally:
            ep.close()
            self.close()
        end = time.monotonic()
        closed = [s["closed"] - start for s in state.values() if s["closed"] is not None]
        reasons = Counter(s["reason"] or "connection closed" for s in state.values() if s["closed"])
        return {
            "clients": len(state),
            "sent": sum(s["pos"] for s in state.values()) // len(line),
            "answered": sum(s["answered"] for s in state.values()),
            "entries": sum(s["entries"] for s in state.values()),
            "disconnected": len(closed),
            "disconnect_s": sorted(closed),
            "reasons": dict(reasons),
            "secs": end - start,
        }

    # connection storm ----------------------------------------------------------------

    def storm(
        self,
        t0: float,
        until: float,
        held: int,
        cycles: int,
        in_flight: int,
        connect_timeout: float = 5.0,
    ) -> dict[str, Any]:
        """``held`` silent connections, then ``cycles`` connect-and-closes; held to ``until``."""
        source = address(STORM, 0)
        ep = select.epoll()
        pending: dict[int, tuple[socket.socket, float, bool]] = {}
        kept: list[socket.socket] = []
        connect_ms: list[float] = []
        failures: Counter[str] = Counter()
        to_hold, to_cycle, cycled = held, cycles, 0

        def launch(keep: bool) -> None:
            try:
                sock = open_socket(source)
            except OSError as exc:
                failures[errno.errorcode.get(exc.errno or 0, str(exc))] += 1
                return
            sock.setblocking(False)
            err = sock.connect_ex(self.addr)
            if err not in (0, errno.EINPROGRESS):
                failures[errno.errorcode.get(err, str(err))] += 1
                sock.close()
                return
            pending[sock.fileno()] = (sock, time.monotonic(), keep)
            ep.register(sock.fileno(), _EPOLLOUT)

        wait_until(t0)
        start = time.monotonic()
        stop = start + (until - t0)
        try:
            while pending or ((to_hold or to_cycle) and time.monotonic() < stop):
                launching = time.monotonic() < stop
                while launching and len(pending) < in_flight and (to_hold or to_cycle):
                    keep = to_hold > 0
                    if keep:
                        to_hold -= 1
                    else:
                        to_cycle -= 1
                    launch(keep)
                for fd, _ev in ep.poll(0.01):
                    sock, began, keep = pending.pop(fd)
                    ep.unregister(fd)
                    err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        failures[errno.errorcode.get(err, str(err))] += 1
                        sock.close()
                        continue
                    connect_ms.append((time.monotonic() - began) * 1000)
                    if keep:
                        kept.append(sock)
                    else:
                        sock.close()
                        cycled += 1
                now = time.monotonic()
                for fd, (sock, began, _keep) in list(pending.items()):
                    if now - began > connect_timeout:
                        failures["connect timeout"] += 1
                        del pending[fd]
                        ep.unregister(fd)
                        sock.close()
            storm_s = time.monotonic() - start
            wait_until(until)
            held_state = Counter(_held_state(sock) for sock in kept)
        finally:
            for sock, _, _ in pending.values():
                sock.close()
            for sock in kept:
                sock.close()
            ep.close()
        return {
            "held_connected": len(kept),
            "held_state": dict(held_state),
            "cycles": cycled,
            # Connects not even tried because the phase ended first.
            "not_started": to_hold + to_cycle,
            "failures": dict(failures),
            "storm_s": storm_s,
            "connect_ms": connect_ms,
        }


def _held_state(sock: socket.socket) -> str:
    """What became of a held connection: "open", or why the server closed it."""
    got = b""
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return _error_line(got) or "closed"
            got += data
    except (BlockingIOError, InterruptedError):
        return "open"
    except OSError as exc:
        return errno.errorcode.get(exc.errno or 0, "error")


class Newcomers:
    """People arriving during a phase: connect, register, see 001, quit; timed."""

    def __init__(self, host: str, port: int) -> None:
        self.addr = (host, port)
        self.count = 0

    def close(self) -> None:
        pass

    def run(self, t0: float, until: float, every: float, timeout: float = 5.0) -> dict[str, Any]:
        ep = select.epoll()
        # fd -> [sock, began, connected, nick, inbuf]
        active: dict[int, list[Any]] = {}
        connect_ms: list[float] = []
        welcome_ms: list[float] = []
        failed: Counter[str] = Counter()
        tried = 0
        wait_until(t0)
        start = time.monotonic()
        stop = start + (until - t0)
        next_at = start

        def finish(fd: int, why: str | None) -> None:
            sock = active.pop(fd)[0]
            ep.unregister(fd)
            sock.close()
            if why:
                failed[why] += 1

        try:
            while True:
                now = time.monotonic()
                if now >= stop and not active:
                    break
                if now > stop + timeout:
                    break
                if now >= next_at and now < stop:
                    next_at += every
                    tried += 1
                    nick = f"nc{self.count}"
                    source = address(NEWCOMERS, self.count)
                    self.count += 1
                    try:
                        sock = open_socket(source)
                    except OSError:
                        failed["bind"] += 1
                        continue
                    sock.setblocking(False)
                    err = sock.connect_ex(self.addr)
                    if err not in (0, errno.EINPROGRESS):
                        failed[errno.errorcode.get(err, str(err))] += 1
                        sock.close()
                        continue
                    active[sock.fileno()] = [sock, time.monotonic(), None, nick, b""]
                    ep.register(sock.fileno(), _EPOLLOUT)
                for fd, _ev in ep.poll(0.005):
                    entry = active[fd]
                    sock, began, connected, nick, _ = entry
                    if connected is None:
                        if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                            finish(fd, "connect failed")
                            continue
                        entry[2] = time.monotonic()
                        connect_ms.append((entry[2] - began) * 1000)
                        try:
                            sock.send(irc_registration(nick.encode()))
                        except OSError:
                            finish(fd, "reset before registering")
                            continue
                        ep.modify(fd, _EPOLLIN)
                        continue
                    try:
                        data = sock.recv(65536)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        data = b""
                    if not data:
                        finish(fd, _error_line(entry[4]) or "closed before 001")
                        continue
                    entry[4] += data
                    if b" 001 " in entry[4]:
                        welcome_ms.append((time.monotonic() - began) * 1000)
                        with contextlib.suppress(OSError):
                            sock.send(b"QUIT :bye\r\n")
                        finish(fd, None)
                now = time.monotonic()
                for fd, entry in list(active.items()):
                    if now - entry[1] > timeout:
                        finish(fd, "timeout before 001" if entry[2] else "connect timeout")
        finally:
            for entry in active.values():
                entry[0].close()
            ep.close()
        return {
            "tried": tried,
            "welcomed": len(welcome_ms),
            "failed": dict(failed),
            "connect_ms": connect_ms,
            "welcome_ms": welcome_ms,
        }


# -- the controller -------------------------------------------------------------------


def create_rooms(port: int, count: int, timeout: float = 20.0) -> list[socket.socket]:
    """``count`` rooms with topics, each held by a netcat user who stays (and never reads).

    Four rooms per user: a JOIN and four TOPICs fit the default flood burst of
    five. Netcat users are never PINGed, so they last as long as the run.
    """
    per = 4
    holders: list[tuple[socket.socket, bytes]] = []
    try:
        for h in range(math.ceil(count / per)):
            names = [f"#attack-{i}" for i in range(h * per, min(count, (h + 1) * per))]
            sock = open_socket(address(HOLDERS, h))
            holders.append((sock, f"changed the topic of {names[-1]} ".encode()))
            sock.settimeout(timeout)
            sock.connect((HOST, port))
            lines = [f"holder{h}", "/join " + " ".join(names)]
            lines += [f"/topic {name} about apples and bananas, {name}" for name in names]
            sock.sendall(("\r\n".join(lines) + "\r\n").encode())
        deadline = time.monotonic() + timeout
        for sock, done in holders:
            got = b""
            while done not in got:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                data = sock.recv(65536)
                if not data:
                    raise AttackError(f"a room holder was disconnected: {got[-200:]!r}")
                got += data
    except (OSError, AttackError) as exc:
        for sock, _ in holders:
            sock.close()
        raise AttackError(f"could not create the LIST rooms: {exc}") from exc
    return [sock for sock, _ in holders]


def _ms(values: list[float] | list[int], q: float) -> float:
    """The ``q`` quantile of ``values`` (nan for none), as bench.scenarios.percentile takes it."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


def _refusals(server: RunningServer, offset: int) -> tuple[dict[str, int], int]:
    """Refused connections the server logged since ``offset``, by reason; the new offset."""
    try:
        with open(server.log_path, "rb") as fh:
            fh.seek(offset)
            text = fh.read()
    except OSError:
        return {}, offset
    reasons: Counter[str] = Counter()
    for m in re.finditer(rb"refused connection from \S+: ([^;\r\n]*)", text):
        reasons[m.group(1).decode(errors="replace")] += 1
    return dict(reasons), offset + len(text)


def listen_drops() -> int:
    """The kernel's count of SYNs and handshakes dropped because a listen queue was full.

    Machine-wide (``TcpExt ListenDrops`` in ``/proc/net/netstat``): during a
    phase it is this server's listener unless another program overflows one.
    """
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return 0
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split(), values.split(), strict=False))
            return int(table.get("ListenDrops", 0))
    return 0


def runqueue_wait(pid: int) -> float:
    """Seconds ``pid``'s main thread has spent runnable but waiting for a CPU (schedstat).

    On a shared machine this tells a server stall (CPU spent) from a machine
    stall (the server was ready and others had the CPU).
    """
    try:
        with open(f"/proc/{pid}/schedstat", "rb") as fh:
            return int(fh.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return math.nan


class Session:
    """One server with its bystanders, newcomers and attacker, run phase after phase."""

    def __init__(
        self, name: str, config: str, settings: AttackSettings, out: Callable[[str], None]
    ) -> None:
        self.name = name
        self.settings = settings
        self.out = out
        self.workdir = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=settings.workdir))
        spec = DefaultServer(
            "ircish", "ircish with its defaults", source=settings.source, config=config
        )
        self.server = RunningServer(spec, self.workdir, settings.server_cpus)
        self.children: list[Child] = []
        self.holders: list[socket.socket] = []
        self.log_offset = 0
        self.phases: list[dict[str, Any]] = []
        try:
            port = self.server.port
            specs = bystander_specs(settings)
            sources = {s.nick: address(BYSTANDERS, i) for i, s in enumerate(specs)}
            cpus = settings.gen_cpus
            self.bystanders = self._child(
                "bystanders", lambda: BoundWorker(HOST, port, specs, sources), cpus
            )
            self.newcomers = self._child("newcomers", lambda: Newcomers(HOST, port), cpus)
            self.attacker = self._child("attacker", lambda: Attacker(HOST, port), cpus, nice=10)
            ready = self.bystanders.call("setup", wait=90, concurrency=64, timeout=60)
            if ready["ok"] < len(specs):
                raise AttackError(
                    f"only {ready['ok']} of {len(specs)} bystanders registered: "
                    f"{ready['errors']}; server log: {self.server.log_tail(3)}"
                )
            out(
                f"{name:<14} server pid {self.server.pid} port {port} in {self.workdir}"
                + (f" with {config.strip()!r}" if config else " (built-in defaults)")
                + f"; {len(specs)} bystanders in {settings.rooms} rooms ready"
                f" in {ready['secs']:.2f} s"
            )
        except BaseException:
            self.close()
            raise

    def _child(
        self, name: str, make: Callable[[], Any], cpus: set[int] | None, nice: int = 0
    ) -> Child:
        child = Child(name, make, cpus, nice)
        self.children.append(child)
        return child

    def close(self) -> None:
        for sock in self.holders:
            sock.close()
        for child in self.children:
            child.close()
        self.server.stop()

    def make_rooms(self) -> None:
        if not self.holders:
            started = time.monotonic()
            self.holders = create_rooms(self.server.port, self.settings.topic_rooms)
            self.out(
                f"{self.name:<14} {self.settings.topic_rooms} rooms with topics created by "
                f"{len(self.holders)} netcat users in {time.monotonic() - started:.1f} s"
            )

    def phase(self, label: str, attack: str | None = None, **attack_args: Any) -> dict[str, Any]:
        """Run one phase: bystanders and newcomers throughout, the attack from its start."""
        st = self.settings
        server = self.server
        self.bystanders.call("quiet", wait=10, silence=0.2, timeout=5)
        _, self.log_offset = _refusals(server, self.log_offset)
        count = max(1, round(st.phase_seconds))
        cpu0 = server.cpu()
        queued0 = runqueue_wait(server.pid)
        drops0 = listen_drops()
        wall0 = time.monotonic()
        t0 = time.time() + 0.3
        until = t0 + count
        if attack is not None:
            self.attacker.send(attack, t0=t0, until=until, **attack_args)
        self.newcomers.send("run", t0=t0, until=until, every=st.newcomer_every)
        by = self.bystanders.call(
            "step",
            wait=count + st.drain_seconds + 60,
            rate=1.0,
            count=count,
            t0=t0,
            mark_every=1,
            drain=st.drain_seconds,
        )
        attacked = self.attacker.recv(wait=60) if attack is not None else None
        came = self.newcomers.recv(wait=30)
        wall = time.monotonic() - wall0
        alive = server.alive()
        cpu = server.cpu() - cpu0 if alive else math.nan
        queued = runqueue_wait(server.pid) - queued0 if alive else math.nan
        drops = listen_drops() - drops0
        rss = server.rss() if alive else 0
        refused, self.log_offset = _refusals(server, self.log_offset)
        samples = sorted(by["samples"])
        result: dict[str, Any] = {
            "session": self.name,
            "phase": label,
            "attack": attack,
            "attack_result": attacked,
            "bystanders": {
                "expected": by["expected"],
                "received": by["received"],
                "lost": by["expected"] - by["received"],
                "p50_ms": _ms(samples, 0.50) / 1000,
                "p99_ms": _ms(samples, 0.99) / 1000,
                "max_ms": by["max_us"] / 1000,
                "samples": len(samples),
                "latency_us": samples,
                "late_max_ms": by["late_max_us"] / 1000,
                "closed": by["closed"],
            },
            "newcomers": came,
            "server": {
                "alive": alive,
                "cpu_s": cpu,
                "util": cpu / wall if wall else math.nan,
                "runqueue_wait_s": queued,
                "listen_drops": drops,
                "rss_mib": rss / 2**20,
            },
            "refused": refused,
        }
        self.phases.append(result)
        self.out(phase_line(result))
        if not alive:
            raise AttackError(f"the server died: {server.log_tail(5)}")
        return result


def _attack_text(p: dict[str, Any]) -> str:
    a = p["attack_result"]
    if a is None:
        return ""
    if p["attack"] == "flood":
        how = (
            f"disconnected after {a['disconnect_s']:.3f} s ({a['quit_reason'] or a['error_line']})"
            if a["disconnected"]
            else "NOT disconnected"
        )
        return f" | flooder: {a['relayed']:,} of {a['lines_written']:,} lines relayed, {how}"
    if p["attack"] == "list_flood":
        cut = a["disconnect_s"]
        when = f" within {cut[-1]:.3f} s" if cut else ""
        reasons = ", ".join(f"{k} x{v}" for k, v in a["reasons"].items()) or "-"
        return (
            f" | {a['clients']} LIST client(s): {a['sent']:,} LISTs written, "
            f"{a['answered']:,} answered ({a['entries']:,} rooms listed), "
            f"{a['disconnected']}/{a['clients']} disconnected{when} ({reasons})"
        )
    if p["attack"] == "storm":
        held = ", ".join(f"{k} {v}" for k, v in sorted(a["held_state"].items())) or "none"
        slowest = max(a["connect_ms"], default=math.nan)
        fails = ", ".join(f"{k} {v}" for k, v in a["failures"].items())
        refused = sum(p["refused"].values())
        return (
            f" | storm: {a['held_connected']} held (at the end: {held}), {a['cycles']:,} "
            f"connect+close in {a['storm_s']:.1f} s, connect p50 {_ms(a['connect_ms'], 0.5):.1f}"
            f" p99 {_ms(a['connect_ms'], 0.99):.1f} max {slowest:.0f}"
            f" ms, refused {refused:,}" + (f", failed: {fails}" if fails else "")
        )
    return ""


def phase_line(p: dict[str, Any]) -> str:
    """The one line printed for a phase (``LINE`` parses its beginning)."""
    b, n, s = p["bystanders"], p["newcomers"], p["server"]
    verdict = "ok" if b["p99_ms"] < P99_TARGET_MS and not b["lost"] else "OVER TARGET"
    failed = ", ".join(f"{k} {v}" for k, v in n["failed"].items())
    return (
        f"{p['session']:<14} {p['phase']:<9} bystanders p50 {b['p50_ms']:.2f} p99 "
        f"{b['p99_ms']:.2f} max {b['max_ms']:.1f} ms lost {b['lost']}/{b['expected']} "
        f"(send late <= {b['late_max_ms']:.1f} ms) {verdict}"
        + (f" ({b['closed']} BYSTANDERS DISCONNECTED)" if b["closed"] else "")
        + f" | newcomers {n['welcomed']}/{n['tried']}: connect p99 {_ms(n['connect_ms'], 0.99):.2f}"
        f" ms, welcome p50 {_ms(n['welcome_ms'], 0.5):.1f} p99 {_ms(n['welcome_ms'], 0.99):.1f} ms"
        + (f" (failed: {failed})" if failed else "")
        + _attack_text(p)
        + f" | server cpu {s['util'] * 100:.0f}%, waited {s['runqueue_wait_s'] * 1000:.0f} ms"
        f" for a CPU, rss {s['rss_mib']:.0f} MiB, listen queue drops {s['listen_drops']}"
    )


def run_session(
    name: str,
    config: str,
    attacks: tuple[str, ...],
    settings: AttackSettings,
    out: Callable[[str], None],
) -> list[dict[str, Any]]:
    """Baseline, then each attack followed by a fresh baseline, on one server."""
    session = Session(name, config, settings, out)
    try:
        session.phase("baseline")
        for attack in attacks:
            if attack == "flood":
                session.attacker.call("prepare_flood", wait=40, room=FLOOD_ROOM, timeout=20)
                session.phase("flood", "flood", room=FLOOD_ROOM)
            elif attack == "list":
                session.make_rooms()
                for clients in settings.list_clients:
                    session.attacker.call("prepare_list", wait=60, clients=clients, timeout=20)
                    session.phase(f"list x{clients}", "list_flood", commands=settings.list_commands)
                    if clients != settings.list_clients[-1]:
                        session.phase("baseline")
            elif attack == "storm":
                session.phase(
                    "storm",
                    "storm",
                    held=settings.storm_held,
                    cycles=settings.storm_cycles,
                    in_flight=settings.storm_in_flight,
                )
            else:
                raise ValueError(attack)
            session.phase("baseline")
    finally:
        session.close()
    return session.phases


def run_attack(settings: AttackSettings, out: Callable[[str], None]) -> dict[str, Any]:
    """Every session and phase; the raw figures and a summary of the issue's targets."""
    procstat.raise_nofile(NOFILE)
    phases: list[dict[str, Any]] = []
    errors: list[str] = []
    sessions: list[tuple[str, str, tuple[str, ...]]] = [("defaults", "", settings.attacks)]
    if settings.limited_storm and "storm" in settings.attacks:
        sessions.append(("limit_loopback", "[limits]\nlimit_loopback = true\n", ("storm",)))
    for name, config, attacks in sessions:
        try:
            phases += run_session(name, config, attacks, settings, out)
        except (AttackError, OSError, TimeoutError) as exc:
            errors.append(f"{name}: {exc}")
            out(f"ERROR {name}: {exc}")
    summary = summarize(phases)
    out(summary["text"])
    return {"phases": phases, "errors": errors, "summary": summary}


def summarize(phases: list[dict[str, Any]]) -> dict[str, Any]:
    """The issue's "done when", as measured: flooder disconnected, bystanders' p99 < 50 ms."""
    floods = [p["attack_result"] for p in phases if p["attack"] == "flood"]
    disconnected = bool(floods) and all(a["disconnected"] for a in floods)
    worst = max(phases, key=lambda p: p["bystanders"]["p99_ms"], default=None)
    over = [p for p in phases if not p["bystanders"]["p99_ms"] < P99_TARGET_MS]
    lost = sum(p["bystanders"]["lost"] for p in phases)
    parts = []
    if floods:
        parts.append("flooder disconnected" if disconnected else "flooder NOT disconnected")
    if worst is not None:
        parts.append(
            f"bystanders' p99 under {P99_TARGET_MS:.0f} ms in "
            f"{len(phases) - len(over)} of {len(phases)} phases (worst "
            f"{worst['bystanders']['p99_ms']:.2f} ms: {worst['session']} {worst['phase']})"
            f"; bystander messages lost {lost}"
        )
    text = "summary: " + ("; ".join(parts) or "no phase ran")
    return {
        "flooder_disconnected": disconnected,
        "p99_over_target": [f"{p['session']} {p['phase']}" for p in over],
        "worst_p99_ms": worst["bystanders"]["p99_ms"] if worst else math.nan,
        "lost": lost,
        "text": text,
    }
