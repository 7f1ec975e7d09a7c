"""The load generator: worker processes that each drive a share of the clients.

Theory of operation. The controller (``Generator``) forks a few worker
processes and hands each a list of ``ClientSpec``. A worker owns its sockets;
it speaks IRC (NICK/USER, wait for 001, JOIN, PRIVMSG) or ircish's plain
dialect (nickname line, ``/join``, ``/msg``). Commands arrive over a pipe:
``setup``, ``quiet``, ``step``, ``check``, ``churn``, ``close``.

A step is open loop: every sending client has a schedule (``t0 + phase +
k / rate``) and each message body carries its sender, sequence number and the
*scheduled* send time in microseconds (``~bQ<sender> <seq> <sched_us> ...``),
so a late send still counts its lateness as latency.

Receiving is split so that one Python core keeps up with a C server:

* *probe* receivers (one client in ten) sit in an epoll that is served at
  once, and read with ``recvmsg`` and ``SO_TIMESTAMPNS``: latency is the
  kernel's arrival time of the read (its newest segment) minus the scheduled
  send time, so the generator's own scheduling delay does not count, only the
  server's. They parse *marked* bodies (``~bM``, every ``mark_every``-th
  message) and the first body of each read (the oldest, for the maximum).
* *bulk* receivers sit in a second epoll swept every ``SWEEP_US``; each sweep
  reads what piled up in large chunks and only counts deliveries with
  ``bytes.count(b"~b")`` over the complete lines. The server sees no
  difference: the kernel buffers and acknowledges in the meantime.

Loss is the expected count (messages sent times the other senders in the
room) minus the counted deliveries after a bounded drain.
"""

from __future__ import annotations

import contextlib
import errno
import heapq
import multiprocessing as mp
import os
import re
import select
import socket
import struct
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from typing import Any

from bench import procstat

RECV = 262144
#: Connects in flight per worker: a peer that listens with a small backlog drops
#: the SYNs beyond it, and a dropped SYN costs a one-second retransmit.
CONNECTING_MAX = 2
#: How often bulk receivers are swept (microseconds).
SWEEP_US = 10_000
MARK = b"~b"
_MARKED = re.compile(rb"~bM\d+ \d+ (\d+)")
_ANY = re.compile(rb"~b[MQ]\d+ \d+ (\d+)")
_PING = re.compile(rb"^PING (.*?)\r?$", re.M)
#: Text after the numbers, so bodies are about as long as a typical chat line (~60 bytes).
PAD = b"the quick brown fox jumps over"
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
_CMSG = socket.CMSG_SPACE(16)
_TIMESPEC = struct.Struct("qq")

_EPOLLIN = select.EPOLLIN
_EPOLLOUT = select.EPOLLOUT
_EPOLLBAD = select.EPOLLHUP | select.EPOLLERR


def now_us() -> int:
    """Wall-clock microseconds: the clock kernel receive timestamps use."""
    return time.time_ns() // 1000


def irc_registration(nick: bytes) -> bytes:
    """The NICK and USER lines every IRC-speaking bench client starts with."""
    return b"NICK %s\r\nUSER %s 0 * :bench\r\n" % (nick, nick)


@dataclass(frozen=True, slots=True)
class ClientSpec:
    """One benchmark client."""

    nick: str
    #: Speaks ircish's plain (netcat) dialect instead of IRC.
    plain: bool = False
    room: str | None = None
    #: Sender number (unique in the run), or -1 for a client that only listens.
    sender: int = -1
    #: How many other senders share its room: deliveries it gets per message round.
    peers_sending: int = 0
    #: Measures latency (read at once, kernel timestamps) rather than only counting.
    probe: bool = False


class Client:
    """A worker's live connection."""

    __slots__ = (
        "carry",
        "closed",
        "ep",
        "fd",
        "inbuf",
        "marked",
        "out",
        "sock",
        "spec",
        "state",
        "token",
        "unmarked",
    )

    def __init__(self, spec: ClientSpec, sock: socket.socket, ep: select.epoll) -> None:
        self.spec = spec
        self.sock = sock
        self.ep = ep
        self.fd = sock.fileno()
        self.carry = b""
        self.inbuf = bytearray()
        self.out = bytearray()
        self.closed = False
        self.state = "connecting"
        self.token = f"RDY{spec.nick}X".encode()
        target = (spec.room or spec.nick).encode()
        verb = b"/msg " if spec.plain else b"PRIVMSG "
        sep = b" " if spec.plain else b" :"
        self.marked = verb + target + sep + b"~bM%d " % spec.sender
        self.unmarked = verb + target + sep + b"~bQ%d " % spec.sender


class _StepState:
    """Counters of one step (attributes, so the helpers can add to them)."""

    __slots__ = (
        "first_max",
        "last_rx",
        "late_max",
        "late_sum",
        "probe_lines",
        "received",
        "samples",
        "sends",
    )

    def __init__(self) -> None:
        self.samples: list[int] = []
        self.first_max = 0
        self.received = 0
        self.probe_lines = 0
        self.late_max = 0
        self.late_sum = 0
        self.sends = 0
        self.last_rx = 0


class Worker:
    """The state of one worker process."""

    def __init__(self, wid: int, host: str, port: int, specs: list[ClientSpec]) -> None:
        self.wid = wid
        self.addr = (host, port)
        self.specs = specs
        #: Probes (and everyone during setup): served as soon as data arrives.
        self.ep = select.epoll()
        #: Bulk receivers: swept every SWEEP_US during a step.
        self.bulk_ep = select.epoll()
        self.clients: dict[int, Client] = {}
        self.ready: list[Client] = []

    # -- plumbing -------------------------------------------------------------------

    def _open(self, spec: ClientSpec) -> Client | None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        err = sock.connect_ex(self.addr)
        if err not in (0, errno.EINPROGRESS):
            sock.close()
            return None
        client = Client(spec, sock, self.ep)
        self.clients[client.fd] = client
        self.ep.register(client.fd, _EPOLLIN | _EPOLLOUT)
        return client

    def _drop(self, client: Client) -> None:
        if client.fd in self.clients:
            del self.clients[client.fd]
            with contextlib.suppress(OSError, ValueError):
                client.ep.unregister(client.fd)
        client.closed = True
        client.sock.close()

    def _poll(self, timeout: float) -> list[tuple[int, int]]:
        """Events of both epolls (for the phases where speed does not matter)."""
        return self.ep.poll(timeout) + self.bulk_ep.poll(0)

    def _write(self, client: Client, data: bytes) -> None:
        """Send now; keep what the kernel did not take and watch for writability."""
        if client.closed:
            return
        if client.out:
            client.out += data
            return
        try:
            sent = client.sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            client.closed = True
            return
        if sent < len(data):
            client.out += data[sent:]
            with contextlib.suppress(OSError):
                client.ep.modify(client.fd, _EPOLLIN | _EPOLLOUT)

    def _flush(self, client: Client) -> None:
        if client.out:
            try:
                sent = client.sock.send(client.out)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                client.closed = True
                client.out.clear()
                return
            del client.out[:sent]
        if not client.out:
            with contextlib.suppress(OSError):
                client.ep.modify(client.fd, _EPOLLIN)

    def _pong(self, client: Client, data: bytes) -> None:
        """Answer server PINGs (only seen when a scenario outlives a ping interval)."""
        if client.spec.plain:
            return
        for token in _PING.findall(data):
            self._write(client, b"PONG " + token + b"\r\n")

    def _split_probes(self) -> None:
        """After setup: probes get kernel timestamps, the others go to the bulk epoll."""
        for client in self.ready:
            if client.closed:
                continue
            if client.spec.probe:
                client.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            else:
                self.ep.unregister(client.fd)
                self.bulk_ep.register(client.fd, _EPOLLIN | (_EPOLLOUT if client.out else 0))
                client.ep = self.bulk_ep

    # -- setup ----------------------------------------------------------------------

    def setup(self, concurrency: int, timeout: float) -> dict[str, Any]:
        """Connect, register and join every client; at most ``concurrency`` in flight."""
        start = time.monotonic()
        deadline = start + timeout
        pending = deque(self.specs)
        joining: dict[int, Client] = {}
        failed: list[str] = []
        ep = self.ep
        while (pending or joining) and time.monotonic() < deadline:
            while (
                pending
                and len(joining) < concurrency
                and sum(1 for c in joining.values() if c.state == "connecting") < CONNECTING_MAX
            ):
                spec = pending.popleft()
                client = self._open(spec)
                if client is None:
                    failed.append(f"{spec.nick}: connect failed")
                    continue
                joining[client.fd] = client
            for fd, ev in ep.poll(0.05):
                client = self.clients.get(fd)
                if client is None:
                    continue
                if fd not in joining:
                    self._discard(client, ev)
                    continue
                if not self._advance(client, ev):
                    del joining[fd]
                    failed.append(f"{client.spec.nick}: {client.inbuf[-160:]!r}")
                    self._drop(client)
                elif client.state == "ready":
                    del joining[fd]
                    client.inbuf = bytearray()
                    self.ready.append(client)
        for client in joining.values():
            failed.append(f"{client.spec.nick}: timed out in {client.state}")
            self._drop(client)
        failed.extend(f"{spec.nick}: not started" for spec in pending)
        self._split_probes()
        return {
            "ok": len(self.ready),
            "failed": len(failed),
            "errors": failed[:3],
            "secs": time.monotonic() - start,
        }

    def _advance(self, client: Client, ev: int) -> bool:
        """Move one connecting client along; False when it failed."""
        spec = client.spec
        if client.state == "connecting":
            if not ev & (_EPOLLOUT | _EPOLLBAD):
                return True
            if client.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                return False
            self.ep.modify(client.fd, _EPOLLIN)
            nick = spec.nick.encode()
            if spec.plain:
                # ircish takes pipelined lines: nickname, join, then a probe to ourselves.
                # Echo off: senders elsewhere get no copy of their own lines either.
                lines = [nick, b"/set echo off"]
                if spec.room:
                    lines.append(b"/join " + spec.room.encode())
                lines.append(b"/msg " + nick + b" " + client.token)
                self._write(client, b"\r\n".join(lines) + b"\r\n")
                client.state = "joining"
            else:
                self._write(client, irc_registration(nick))
                client.state = "registering"
            return True
        try:
            data = client.sock.recv(RECV)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            return False
        if not data:
            return False
        client.inbuf += data
        if b"PING" in data:
            self._pong(client, data)
        if client.state == "registering":
            if b" 001 " in client.inbuf:
                # Like a real client, wait for the welcome before joining (InspIRCd
                # does not run commands pipelined behind USER until it has sent it).
                join = b"JOIN %s\r\n" % spec.room.encode() if spec.room else b""
                self._write(client, join + b"PING :" + client.token + b"\r\n")
                client.state = "joining"
            elif b" 433 " in client.inbuf or b"ERROR" in client.inbuf:
                return False
        elif client.state == "joining" and client.token in client.inbuf:
            if spec.room and spec.room.encode() not in client.inbuf:
                return False
            client.state = "ready"
        return True

    def _discard(self, client: Client, ev: int) -> int:
        """Read and throw away what arrived (join noise during setup)."""
        if ev & _EPOLLOUT:
            self._flush(client)
        if not ev & (_EPOLLIN | _EPOLLBAD):
            return 0
        try:
            data = client.sock.recv(RECV)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError:
            data = b""
        if not data:
            self._drop(client)
            return 0
        if b"PING" in data:
            self._pong(client, data)
        return len(data)

    def quiet(self, silence: float, timeout: float) -> dict[str, Any]:
        """Read and discard until nothing arrived for ``silence`` seconds."""
        deadline = time.monotonic() + timeout
        last = time.monotonic()
        total = 0
        while time.monotonic() < deadline and time.monotonic() - last < silence:
            for fd, ev in self._poll(0.05):
                client = self.clients.get(fd)
                if client is not None:
                    got = self._discard(client, ev)
                    if got:
                        total += got
                        last = time.monotonic()
        for client in self.ready:
            client.carry = b""
        return {"bytes": total, "alive": sum(1 for c in self.ready if not c.closed)}

    # -- a measured step ------------------------------------------------------------

    def step(
        self, rate: float, count: int, t0: float, mark_every: int, drain: float
    ) -> dict[str, Any]:
        """Send ``count`` messages per sender at ``rate``/s from ``t0``; count and time them."""
        period = 1e6 / rate
        t0_us = int(t0 * 1e6)
        heap: list[tuple[int, int, int]] = []
        expected = 0
        alive = [c for c in self.ready if not c.closed]
        for i, client in enumerate(alive):
            spec = client.spec
            expected += count * spec.peers_sending
            if spec.sender >= 0:
                # Spread the senders evenly over one period (deterministic phases).
                phase = ((spec.sender * 0.618034) % 1.0) * period
                heap.append((t0_us + int(phase), i, 0))
        heapq.heapify(heap)
        st = _StepState()
        clients = self.clients
        ep = self.ep
        bulk_poll = self.bulk_ep.poll
        write = self._write
        cpu0 = time.process_time()
        deadline_us = t0_us + int((count + 1) * period) + int(drain * 1e6)
        next_sweep = 0

        def send_due(now: int) -> None:
            while heap and heap[0][0] <= now:
                due, i, k = heapq.heappop(heap)
                client = alive[i]
                if not client.closed:
                    sender = client.spec.sender
                    head = client.marked if (k + sender) % mark_every == 0 else client.unmarked
                    write(client, head + b"%d %d %s\r\n" % (k, due, PAD))
                    st.sends += 1
                    lateness = now - due
                    st.late_sum += lateness
                    st.late_max = max(st.late_max, lateness)
                if k + 1 < count:
                    heapq.heappush(heap, (due + int(period * (k + 1)) - int(period * k), i, k + 1))

        while True:
            now = now_us()
            send_due(now)
            if now >= next_sweep:
                # Bulk receivers: read what piled up, count it, nothing more.
                for n, (fd, ev) in enumerate(bulk_poll(0)):
                    client = clients.get(fd)
                    if client is not None:
                        self._bulk_read(client, ev, st)
                    if n % 64 == 63:
                        send_due(now_us())
                now = now_us()
                next_sweep = now + SWEEP_US
            if not heap and st.received >= expected:
                break
            if now >= deadline_us:
                break
            wait_us = min(heap[0][0] if heap else deadline_us, next_sweep, deadline_us) - now
            # epoll rounds its timeout up to whole milliseconds: wait whole ones there and
            # sleep the last fraction, so sends leave within ~0.1 ms of their schedule.
            events = ep.poll((wait_us // 1000) / 1000 if wait_us >= 1000 else 0)
            if not events and 0 < wait_us < 1000:
                time.sleep(wait_us / 1e6)
            for fd, ev in events:
                client = clients.get(fd)
                if client is not None:
                    self._probe_read(client, ev, st)
        return {
            "expected": expected,
            "received": st.received,
            "sends": st.sends,
            "samples": st.samples,
            "max_us": max(st.first_max, max(st.samples, default=0)),
            "last_rx": st.last_rx / 1e6,
            "late_max_us": st.late_max,
            "late_mean_us": st.late_sum / st.sends if st.sends else 0.0,
            "cpu": time.process_time() - cpu0,
            "closed": sum(1 for c in self.ready if c.closed),
            "probe_lines": st.probe_lines,
        }

    def _complete(self, client: Client, data: bytes) -> tuple[bytes, int]:
        """Prepend the previous partial line; return the data and where complete lines end."""
        if client.carry:
            data = client.carry + data
        end = data.rfind(b"\n") + 1
        client.carry = data[end:] if end < len(data) else b""
        return data, end

    def _bulk_read(self, client: Client, ev: int, st: _StepState) -> None:
        if ev & _EPOLLOUT:
            self._flush(client)
        if not ev & (_EPOLLIN | _EPOLLBAD):
            return
        try:
            data = client.sock.recv(RECV)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(client)
            return
        data, end = self._complete(client, data)
        n = data.count(MARK, 0, end)
        if n:
            st.received += n
            st.last_rx = now_us()
        if b"PING" in data:
            self._pong(client, data)

    def _probe_read(self, client: Client, ev: int, st: _StepState) -> None:
        if ev & _EPOLLOUT:
            self._flush(client)
        if not ev & (_EPOLLIN | _EPOLLBAD):
            return
        try:
            data, anc, _flags, _addr = client.sock.recvmsg(RECV, _CMSG)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data, anc = b"", []
        if not data:
            self._drop(client)
            return
        if anc:
            sec, nsec = _TIMESPEC.unpack_from(anc[0][2])
            t_us = sec * 1_000_000 + nsec // 1000
        else:
            t_us = now_us()
        data, end = self._complete(client, data)
        n = data.count(MARK, 0, end)
        if n:
            st.received += n
            st.probe_lines += n
            st.last_rx = max(st.last_rx, t_us)
            first = _ANY.search(data, 0, end)
            if first is not None:
                st.first_max = max(st.first_max, t_us - int(first.group(1)))
            if b"~bM" in data:
                st.samples.extend(t_us - int(x) for x in _MARKED.findall(data, 0, end))
        if b"PING" in data:
            self._pong(client, data)

    # -- idle and churn ---------------------------------------------------------------

    def check(self, timeout: float) -> dict[str, Any]:
        """Probe every ready client once; count the ones that still answer."""
        waiting: dict[int, Client] = {}
        for client in self.ready:
            if client.closed:
                continue
            client.inbuf = bytearray()
            nick = client.spec.nick.encode()
            if client.spec.plain:
                self._write(client, b"/msg " + nick + b" " + client.token + b"\r\n")
            else:
                self._write(client, b"PING :" + client.token + b"\r\n")
            waiting[client.fd] = client
        deadline = time.monotonic() + timeout
        answered = 0
        while waiting and time.monotonic() < deadline:
            for fd, ev in self._poll(0.05):
                client = self.clients.get(fd)
                if client is None:
                    continue
                if ev & _EPOLLOUT:
                    self._flush(client)
                try:
                    data = client.sock.recv(RECV)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    waiting.pop(fd, None)
                    self._drop(client)
                    continue
                client.inbuf += data
                if fd in waiting and client.token in client.inbuf:
                    del waiting[fd]
                    answered += 1
        return {"answered": answered, "closed": sum(1 for c in self.ready if c.closed)}

    def churn(
        self, loops: list[tuple[int, bool]], duration: float, t0: float, timeout: float
    ) -> dict[str, Any]:
        """Each loop: connect, register, quit, wait for the close; again until ``duration``."""
        while time.monotonic() < t0:
            time.sleep(min(0.01, max(0.0, t0 - time.monotonic())))
        start = time.monotonic()
        stop_at = start + duration
        hard_stop = stop_at + timeout
        done = 0
        failed = 0
        errors: list[str] = []
        active: dict[int, tuple[Client, int, bool, float]] = {}
        counters = dict.fromkeys((gid for gid, _ in loops), 0)
        cpu0 = time.process_time()
        latencies: list[float] = []

        def begin(gid: int, plain: bool) -> None:
            k = counters[gid]
            counters[gid] = k + 1
            nick = f"c{gid:02d}_{k % 10000}"
            client = self._open(ClientSpec(nick, plain=plain))
            if client is None:
                nonlocal failed
                failed += 1
                return
            active[client.fd] = (client, gid, plain, time.monotonic())

        for gid, plain in loops:
            begin(gid, plain)
        while active and time.monotonic() < hard_stop:
            for fd, ev in self.ep.poll(0.05):
                entry = active.get(fd)
                if entry is None:
                    continue
                client, gid, plain, began = entry
                ok = self._churn_advance(client, ev)
                if ok and client.state != "finished":
                    continue
                del active[fd]
                if ok:
                    done += 1
                    latencies.append(time.monotonic() - began)
                else:
                    failed += 1
                    if len(errors) < 3:
                        errors.append(f"{client.spec.nick}: {client.inbuf[-160:]!r}")
                self._drop(client)
                if time.monotonic() < stop_at:
                    begin(gid, plain)
        failed += len(active)
        for client, _, _, _ in active.values():
            self._drop(client)
        return {
            "done": done,
            "failed": failed,
            "errors": errors,
            "end": time.monotonic(),
            "start": start,
            "cpu": time.process_time() - cpu0,
            "cycle_ms": sorted(latencies)[len(latencies) // 2] * 1000 if latencies else 0.0,
        }

    def _churn_advance(self, client: Client, ev: int) -> bool:
        spec = client.spec
        nick = spec.nick.encode()
        if client.state == "connecting":
            if not ev & (_EPOLLOUT | _EPOLLBAD):
                return True
            if client.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                return False
            self.ep.modify(client.fd, _EPOLLIN)
            if spec.plain:
                self._write(client, nick + b"\r\n")
            else:
                self._write(client, irc_registration(nick))
            client.state = "registering"
            return True
        try:
            data = client.sock.recv(RECV)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            data = b""
        if not data:
            # The server closed: success only after our QUIT.
            if client.state == "quitting":
                client.state = "finished"
                return True
            return False
        client.inbuf += data
        if client.state == "registering":
            # Plain users see their nickname first in the welcome line; IRC clients get 001.
            welcomed = (nick in client.inbuf) if spec.plain else (b" 001 " in client.inbuf)
            if welcomed:
                self._write(client, b"/quit bye\r\n" if spec.plain else b"QUIT :bye\r\n")
                client.state = "quitting"
        return True

    def close(self) -> None:
        for client in list(self.clients.values()):
            self._drop(client)
        self.ep.close()
        self.bulk_ep.close()


def _worker_main(
    pipe: Pipe,
    wid: int,
    host: str,
    port: int,
    specs: list[ClientSpec],
    cpus: set[int] | None,
) -> None:
    procstat.pin(cpus)
    procstat.raise_nofile(len(specs) + 256)
    parent = os.getppid()
    worker = Worker(wid, host, port, specs)
    try:
        while True:
            # Poll so an orphaned worker (controller killed) notices and exits.
            while not pipe.poll(1.0):
                if os.getppid() != parent:
                    return
            try:
                cmd, kwargs = pipe.recv()
            except EOFError:
                return
            if cmd == "close":
                worker.close()
                pipe.send({})
                return
            pipe.send(getattr(worker, cmd)(**kwargs))
    finally:
        worker.close()


def split(specs: list[ClientSpec], workers: int) -> list[list[ClientSpec]]:
    """Deal ``specs`` round-robin to ``workers`` shares (each room spread over workers)."""
    workers = max(1, workers)
    return [specs[i::workers] for i in range(workers)]


class Generator:
    """Controller side: one worker process per share of clients."""

    def __init__(
        self,
        host: str,
        port: int,
        shares: list[list[ClientSpec]],
        cpus: set[int] | None = None,
    ) -> None:
        ctx = mp.get_context("fork")
        self.pipes: list[Pipe] = []
        self.procs: list[Any] = []
        for wid, share in enumerate(shares):
            parent_end, child_end = ctx.Pipe()
            proc = ctx.Process(
                target=_worker_main,
                args=(child_end, wid, host, port, share, cpus),
                daemon=True,
                name=f"bench-gen-{wid}",
            )
            proc.start()
            child_end.close()
            self.pipes.append(parent_end)
            self.procs.append(proc)

    def call(
        self,
        cmd: str,
        wait: float,
        per_worker: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> list[dict[str, Any]]:
        """Run ``cmd`` in every worker at once; gather the replies within ``wait`` seconds."""
        for i, pipe in enumerate(self.pipes):
            args = dict(kwargs)
            if per_worker is not None:
                args.update(per_worker[i])
            pipe.send((cmd, args))
        deadline = time.monotonic() + wait
        replies = []
        for pipe in self.pipes:
            if not pipe.poll(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"a generator worker did not answer {cmd!r} in {wait:.0f} s")
            replies.append(pipe.recv())
        return replies

    def close(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(("close", {}))
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=2)
        for pipe in self.pipes:
            pipe.close()

    def __enter__(self) -> Generator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
