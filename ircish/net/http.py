"""A small HTTP/1.1 server inside the event loop, on h11 (sans-IO).

Theory of operation: ``HttpServer`` is a listening socket registered with
the loop's ``add_reader``; each accepted socket becomes an
``HttpConnection``, non-blocking and driven by its own ``h11.Connection``.
The loop calls the connection back when its socket is readable (or, while a
response is waiting to be sent, writable: ``set_reader_interest``). A
complete request (``Request``, its body read and bounded) goes to the
handler, a plain function ``Request -> Response`` that runs on the loop
thread and must be quick; the response is queued whole and sent without
blocking.

One request is handled per connection per loop pass, and the next is not
even parsed until the previous response has left, so a connection holds at
most one response and ``max_header_bytes`` of input (h11's
``max_incomplete_event_size``), and pipelined requests cannot hold the
loop. Each connection has one deadline, ``timeout`` seconds after it was
accepted or after its last response was queued: the next request and that
response must be done by then. Only a finished response moves it, so a peer
trickling a byte at a time (slowloris) is closed on time, as is one that
stops reading. At most ``max_connections`` are open; more are answered 503
and closed at once.

Malformed input gets the status h11 suggests (400, or 431 for headers over
the bound), a body over ``max_body_bytes`` gets 413, and then the
connection closes. Closing is lingering: after the last response the
server shuts down its sending side and discards what the peer still sends
until it closes too (or a short grace passes), so the peer reads the error
instead of a reset. Keep-alive follows h11 (HTTP/1.1 keeps the connection
unless a side says ``Connection: close``).
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Protocol

import h11

if TYPE_CHECKING:
    from _typeshed import FileDescriptorLike

log = logging.getLogger("ircish.http")

RECV_SIZE = 65536
#: Connections accepted per readiness of the listening socket.
ACCEPTS_PER_CALL = 32
#: Seconds a closing connection may still send (discarded) before it is cut off.
LINGER = 2.0


class Loop(Protocol):
    """What the HTTP server needs of the event loop (``net.server.Server`` has it)."""

    def add_reader(self, fileobj: FileDescriptorLike, callback: Callable[[], None]) -> None: ...

    def remove_reader(self, fileobj: FileDescriptorLike) -> bool: ...

    def set_reader_interest(
        self, fileobj: FileDescriptorLike, *, read: bool = True, write: bool = False
    ) -> None: ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> None: ...


@dataclass(frozen=True, slots=True)
class Request:
    """A complete request: method, target (path and query) and headers (names lowercased)."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]


@dataclass(frozen=True, slots=True)
class Response:
    """What a handler answers; the server adds Content-Length (and Connection: close).

    ``content_type`` "" sends none (a 304).
    """

    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def error(cls, status: int, *headers: tuple[str, str]) -> Response:
        """A short text response naming the status, e.g. ``404 Not Found``."""
        phrase = HTTPStatus(status).phrase
        return cls(status, f"{status} {phrase}\n".encode(), headers=headers)


Handler = Callable[[Request], Response]


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """Bounds on what one client can make the server hold or wait for."""

    max_connections: int = 8
    #: Seconds for a request and its response, from accept or from the previous response.
    timeout: float = 10.0
    #: Request line and headers (h11's ``max_incomplete_event_size``).
    max_header_bytes: int = 8192
    max_body_bytes: int = 8192


class HttpServer:
    """A listening socket in the loop; every accepted socket gets an ``HttpConnection``."""

    def __init__(
        self,
        loop: Loop,
        sock: socket.socket,
        handler: Handler,
        limits: HttpLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.loop = loop
        self.sock = sock
        self.handler = handler
        self.limits = limits or HttpLimits()
        #: The loop's clock (``call_later`` delays are measured on it).
        self.clock = clock
        self.connections: set[HttpConnection] = set()
        #: Connections answered 503 because ``max_connections`` were open.
        self.refused = 0
        host, port = sock.getsockname()[:2]
        self.address: tuple[str, int] = (host, port)
        sock.setblocking(False)
        loop.add_reader(sock, self._accept)

    @classmethod
    def listen(
        cls, loop: Loop, host: str, port: int, handler: Handler, limits: HttpLimits | None = None
    ) -> HttpServer:
        """Bind ``host:port`` (port 0: any free one) and serve; ``OSError`` if it cannot."""
        family, _, _, _, sockaddr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(sockaddr)
            sock.listen(64)
        except OSError:
            sock.close()
            raise
        return cls(loop, sock, handler, limits)

    def _accept(self) -> None:
        for _ in range(ACCEPTS_PER_CALL):
            try:
                sock, _addr = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                # Out of descriptors and the like: the chat matters more than a scrape.
                log.warning("http accept failed: %s", exc.strerror or exc)
                return
            sock.setblocking(False)
            if len(self.connections) >= self.limits.max_connections:
                self.refused += 1
                _refuse(sock)
                continue
            self.connections.add(HttpConnection(self, sock))

    def close(self) -> None:
        """Stop listening and close every connection."""
        self.loop.remove_reader(self.sock)
        self.sock.close()
        for conn in list(self.connections):
            conn.close()


_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 24\r\nConnection: close\r\n\r\n503 Service Unavailable\n"
)


def _refuse(sock: socket.socket) -> None:
    try:
        sock.send(_BUSY)
    except OSError:
        pass
    sock.close()


class Closed:
    """``HttpProtocol.next_request``: the peer closed its side and is owed nothing."""


CLOSED = Closed()


class HttpProtocol:
    """One HTTP/1.1 server connection without its socket: bytes in, requests out.

    ``receive_data`` takes what the peer sent (``b""``: its end of input);
    ``next_request`` gives a complete ``Request``, an error ``Response`` to
    send before closing, ``CLOSED``, or None (more data needed, or a response
    is owed first); ``respond`` frames a response into bytes and gets ready
    for the next request (or sets ``lingering``: it was the last). A request
    asking for another protocol (a WebSocket upgrade) is a ``Request`` too;
    ``switch`` answers it with 101 and gives the bytes already received
    after it. Used by ``HttpConnection`` and by the chat listeners' web side
    (``ircish.net.web``), which own the sockets.
    """

    __slots__ = ("body_bytes", "h11", "limits", "lingering", "request")

    def __init__(self, limits: HttpLimits) -> None:
        self.limits = limits
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=limits.max_header_bytes)
        self.request: Request | None = None
        self.body_bytes = 0
        #: The last response is framed: nothing more is read, the connection closes.
        self.lingering = False

    def receive_data(self, data: bytes) -> None:
        self.h11.receive_data(data)

    @property
    def has_pending(self) -> bool:
        """Whether bytes of a next (pipelined) request are already here."""
        return bool(self.h11.trailing_data[0])

    def next_request(self) -> Request | Response | Closed | None:
        """Take events from h11 until a request is complete (see the class docstring)."""
        conn = self.h11
        limits = self.limits
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                return Response.error(exc.error_status_hint)
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return None
            if isinstance(event, h11.Request):
                # h11 bounds only an incomplete head; one that came whole in one read is
                # measured here, so the bound does not depend on how the bytes arrived.
                size = len(event.target) + sum(len(k) + len(v) + 4 for k, v in event.headers)
                if size > limits.max_header_bytes:
                    return Response.error(431)
                self.request = Request(
                    event.method.decode("ascii", "replace"),
                    event.target.decode("ascii", "replace"),
                    tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers),
                )
                self.body_bytes = 0
            elif isinstance(event, h11.Data):
                self.body_bytes += len(event.data)
                if self.body_bytes > limits.max_body_bytes:
                    return Response.error(413)
            elif isinstance(event, h11.EndOfMessage):
                assert self.request is not None
                return self.request
            else:  # ConnectionClosed
                return CLOSED

    def respond(self, response: Response, *, close: bool = False) -> bytes | None:
        """``response`` framed; None if nothing can be said any more (close at once)."""
        conn = self.h11
        state = conn.our_state
        if state is not h11.IDLE and state is not h11.SEND_RESPONSE:
            # h11 has seen us fail mid-response.
            return None
        headers = [("Content-Length", str(len(response.body))), *response.headers]
        if response.content_type:
            headers.insert(0, ("Content-Type", response.content_type))
        if close:
            headers.append(("Connection", "close"))
        head = self.request is not None and self.request.method == "HEAD"
        try:
            reason = HTTPStatus(response.status).phrase.encode("ascii")
            event = h11.Response(status_code=response.status, headers=headers, reason=reason)
            data = conn.send(event)
            if response.body and not head:
                data += conn.send(h11.Data(data=response.body))
            data += conn.send(h11.EndOfMessage())
        except h11.LocalProtocolError:
            log.exception("http response could not be framed")
            return None
        self.request = None
        if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            conn.start_next_cycle()
        else:
            # MUST_CLOSE, ERROR or the peer's half-close: this was the last response.
            self.lingering = True
        return data

    def switch(self, headers: list[tuple[str, str]]) -> tuple[bytes, bytes]:
        """Answer the upgrade request with 101 and ``headers``; (those bytes, bytes after it)."""
        data = self.h11.send(h11.InformationalResponse(status_code=101, headers=headers))
        self.request = None
        return data, self.h11.trailing_data[0]


class HttpConnection:
    """One accepted socket and its ``HttpProtocol``."""

    __slots__ = ("closed", "deadline", "out", "proto", "server", "sock")

    def __init__(self, server: HttpServer, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        limits = server.limits
        self.proto = HttpProtocol(limits)
        #: Bytes of the queued response not yet taken by the kernel.
        self.out = bytearray()
        self.closed = False
        self.deadline = server.clock() + limits.timeout
        server.loop.add_reader(sock, self._ready)
        server.loop.call_later(limits.timeout, self._check_deadline)

    # -- driven by the loop --------------------------------------------------

    def _ready(self) -> None:
        """The socket is readable, or writable while a response waits."""
        try:
            self._step()
        except Exception:
            # Only this connection pays for a bug; left registered, it would fail every pass.
            log.exception("http connection failed; closing it")
            self.close()

    def _step(self) -> None:
        if self.out:
            self._send()
            if not self.out and not self.closed:
                self._drained()
            return
        if self.proto.lingering:
            self._discard()
            return
        self._receive()
        if not self.closed:
            self._process()
        if self.out and not self.closed:
            self._send()
            if self.closed:
                return
            if self.out:
                self.server.loop.set_reader_interest(self.sock, read=False, write=True)
            else:
                self._drained()

    def _check_deadline(self) -> None:
        if self.closed:
            return
        now = self.server.clock()
        if now >= self.deadline:
            log.debug("http connection timed out")
            self.close()
            return
        self.server.loop.call_later(self.deadline - now, self._check_deadline)

    # -- input ---------------------------------------------------------------

    def _receive(self) -> None:
        try:
            data = self.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close()
            return
        # b"" is the end of the peer's input, which h11 wants to know as well.
        self.proto.receive_data(data)

    def _process(self) -> None:
        """Handle the next complete request, if there is one: one response at a time."""
        item = self.proto.next_request()
        if item is None:
            return
        if isinstance(item, Closed):
            self.close()
        elif isinstance(item, Response):
            self._respond(item, close=True)
        else:
            self._respond(self._handle(item))

    def _handle(self, request: Request) -> Response:
        try:
            return self.server.handler(request)
        except Exception:
            log.exception("http handler failed on %s %s", request.method, request.path)
            return Response.error(500)

    # -- output --------------------------------------------------------------

    def _respond(self, response: Response, *, close: bool = False) -> None:
        """Queue ``response``; then the next request, or closing (``close``, or h11 says so)."""
        data = self.proto.respond(response, close=close)
        if data is None:
            self.close()
            return
        self.out += data
        if not self.proto.lingering:
            self.deadline = self.server.clock() + self.server.limits.timeout

    def _send(self) -> None:
        try:
            sent = self.sock.send(self.out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close()
            return
        del self.out[:sent]

    def _drained(self) -> None:
        """A response has left: read again, and either linger or go on to the next request."""
        self.server.loop.set_reader_interest(self.sock, read=True, write=False)
        if self.proto.lingering:
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                self.close()
                return
            # What the peer still sends is discarded for a short while only.
            self.deadline = min(self.deadline, self.server.clock() + LINGER)
            self.server.loop.call_later(LINGER, self._check_deadline)
        elif self.proto.has_pending:
            # A pipelined request is already here; the selector will not say so again.
            self.server.loop.call_later(0.0, self._ready)

    def _discard(self) -> None:
        """Lingering: read and drop input until the peer closes (or the deadline)."""
        try:
            data = self.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.server.connections.discard(self)
        self.server.loop.remove_reader(self.sock)
        self.sock.close()
