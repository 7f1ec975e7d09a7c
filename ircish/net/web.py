"""Browsers on the chat listeners: HTTP for the web client's files, WebSocket for IRC.

Theory of operation: a connection's ``gateway`` (``ircish.net.connection``)
takes the peer's bytes before the session does. Three kinds follow each
other:

- ``Sniffer`` (an "auto" listener's new connection): the first bytes decide.
  Only a whole request line (``GET /path HTTP/1.1``, any common method)
  means HTTP, so a netcat user who types ``GET`` or ``GET lost`` as a
  nickname stays one. While the bytes could still become a request line
  (``GE``, ``GET /index`` without its end of line) they are held, at most
  ``MAX_SNIFF`` bytes and only while the session has said nothing (it is
  still detecting, or greeted a silent peer who has sent no line yet); then
  they go to the session as if they had arrived there, and the gateway is
  gone. A browser gets ``HttpSide`` instead, and the session made for the
  connection is dropped without a trace (it never registered).
- ``HttpSide`` (also every connection of a ``dialect = "http"`` listener):
  ``ircish.net.http.HttpProtocol`` parses requests; the web client's files
  answer them (``ircish.net.webstatic``), with one deadline per request as
  on the metrics endpoint. A WebSocket upgrade on any path is checked
  (version, key, Origin) and answered 101.
- ``WebSocketSide``: wsproto frames, behind which the connection is an IRC
  client like any other: a new ``Session`` with the IRC dialect, so caps,
  limits, flood control, timeouts and the send queue are the same. Each
  message is one line (a trailing CR LF is dropped, a line break inside
  becomes a space); text frames must be UTF-8 (wsproto closes with 1007
  otherwise), binary frames carry bytes as IRC does; a message longer than
  an IRC line with tags closes with 1009. The session writes its lines into
  the connection's queue as on any connection; ``encode`` turns them into
  one frame each when the connection is flushed, and a chunk that a
  broadcast queued for many WebSockets is framed once for all of them.

The subprotocols of the IRCv3 WebSocket specification are chosen in the
client's order of preference: ``text.ircv3.net`` (text frames) or
``binary.ircv3.net`` (binary frames); none offered means text frames.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import logging
import re
from typing import TYPE_CHECKING

from wsproto.connection import Connection as WsConnection
from wsproto.connection import ConnectionState, ConnectionType
from wsproto.events import (
    BytesMessage,
    CloseConnection,
    Message,
    Ping,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError, generate_accept_token

from ircish.config import parse_origin
from ircish.net.connection import CLOSED_SINK, Connection
from ircish.net.http import Closed, HttpLimits, HttpProtocol, Request, Response
from ircish.net.outqueue import Chunk, OutputQueue
from ircish.net.webstatic import StaticFiles, header, security_headers, valid_host
from ircish.session import Session

if TYPE_CHECKING:
    from ircish.net.server import Server

log = logging.getLogger("ircish.web")

#: Request lines are looked for among this many first bytes at most.
MAX_SNIFF = 8192
_METHODS = (b"GET ", b"HEAD ", b"POST ", b"PUT ", b"DELETE ", b"OPTIONS ", b"PATCH ")
_REQUEST_LINE = re.compile(
    rb"(?:GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH) [!-~]+ HTTP/1\.[01]\r?", re.ASCII
)
#: Any request line (HTTP's token characters for the method): an http listener's first test.
_ANY_REQUEST_LINE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [!-~]+ HTTP/[0-9]\.[0-9]\r?")
#: Requests of browsers are small; these bounds keep anyone else from costing the chat.
LIMITS = HttpLimits(timeout=10.0, max_header_bytes=8192, max_body_bytes=8192)
#: Pipelined requests handled per read; the rest wait for the next pass.
REQUESTS_PER_PASS = 16

TEXT = "text.ircv3.net"
BINARY = "binary.ircv3.net"
SUBPROTOCOLS = (TEXT, BINARY)

#: Close codes (RFC 6455 section 7.4.1).
CLOSE_NORMAL = 1000
CLOSE_TOO_BIG = 1009
#: What the user's quit says when wsproto refuses the peer's frames (its own texts are long).
_CLOSE_REASONS = {1002: "WebSocket protocol error", 1007: "Invalid UTF-8 in a text frame"}


def looks_like_http(held: bytes) -> bool | None:
    """True if ``held`` starts with an HTTP request line, False if it cannot, None: unknown yet."""
    if not any(method.startswith(held[: len(method)]) for method in _METHODS):
        return False
    end = held.find(b"\n")
    if end < 0:
        return None if len(held) < MAX_SNIFF else False
    return _REQUEST_LINE.fullmatch(held[:end]) is not None


class Web:
    """What every connection's web side shares: the files and the server."""

    def __init__(self, server: Server, files: StaticFiles | None = None) -> None:
        self.server = server
        self.files = files if files is not None else StaticFiles.load()

    def sniff(self, conn: Connection) -> None:
        """Give a new "auto" connection a ``Sniffer``."""
        conn.gateway = Sniffer(self, conn)

    def serve(self, conn: Connection, data: bytes = b"") -> None:
        """Make ``conn`` an HTTP connection (``data``: what it sent so far)."""
        side = HttpSide(self, conn)
        conn.gateway = side
        if data:
            side.receive(data)


class Sniffer:
    """The first bytes of an "auto" connection: HTTP, or what the session detects."""

    __slots__ = ("conn", "held", "web")

    def __init__(self, web: Web, conn: Connection) -> None:
        self.web = web
        self.conn = conn
        self.held = b""

    def receive(self, data: bytes) -> None:
        held = self.held + data if self.held else data
        conn = self.conn
        session = conn.session
        assert session is not None
        verdict = looks_like_http(held)
        if verdict is None and (session.detecting or session.guessed):
            self.held = held
            return
        if verdict:
            _drop_session(conn)
            # A greeting queued for a silent peer (TLS: waiting for the handshake) is not
            # owed to a browser.
            conn.out.clear()
            self.web.serve(conn, held)
            return
        conn.gateway = None
        session.receive_data(held)

    def encode(self, out: OutputQueue) -> None:
        pass


def _drop_session(conn: Connection) -> None:
    """Forget the session an "auto" connection got when it was accepted: it was a browser."""
    session = conn.session
    if session is None:
        return
    conn.session = None
    # Its timer entry goes stale: a WebSocket's session will get an entry of its own.
    conn.timer_at = 0.0
    session.transport = None
    session.client.sink = CLOSED_SINK
    session.connection_lost("HTTP")


class HttpSide:
    """HTTP requests on a chat connection: the web client's files, or a WebSocket upgrade."""

    __slots__ = ("conn", "deadline", "first", "proto", "web")

    def __init__(self, web: Web, conn: Connection) -> None:
        self.web = web
        self.conn = conn
        self.proto = HttpProtocol(LIMITS)
        #: The start of the first request line, until it is whole and checked (None: done).
        #: h11 waits for a whole head; an IRC client on an http-only port would wait with it.
        self.first: bytes | None = b""
        server = web.server
        self.deadline = server.chat.clock() + LIMITS.timeout
        server.call_later(LIMITS.timeout, self._check_deadline)

    def _check_deadline(self) -> None:
        conn = self.conn
        if conn.closed or conn.gateway is not self:
            return
        now = self.web.server.chat.clock()
        if now >= self.deadline:
            conn.lost("HTTP request timed out")
            return
        self.web.server.call_later(self.deadline - now, self._check_deadline)

    def receive(self, data: bytes) -> None:
        if self.proto.lingering or self.conn.closing:
            return  # the last response is queued; what follows is discarded
        if self.first is not None:
            data = self.first + data
            end = data.find(b"\n")
            if end < 0 and len(data) < MAX_SNIFF:
                self.first = data
                return
            self.first = None
            if end < 0 or not _ANY_REQUEST_LINE.fullmatch(data[:end]):
                self._send(Response.error(400), close=True)
                return
        self.proto.receive_data(data)
        self._process()

    def _process(self) -> None:
        conn = self.conn
        for _ in range(REQUESTS_PER_PASS):
            if conn.closing or conn.gateway is not self:
                return
            item = self.proto.next_request()
            if item is None:
                return
            if isinstance(item, Closed):
                conn.lost("Connection closed")
                return
            if isinstance(item, Response):
                self._send(item, close=True)
                return
            if _is_upgrade(item):
                self._upgrade(item)
                return
            self._send(self._answer(item))
        if self.proto.has_pending:
            self.web.server.call_soon(self._process)

    def _answer(self, request: Request) -> Response:
        host = header(request, "host")
        if host is not None and not valid_host(host):
            return Response.error(400, *security_headers(request))
        try:
            return self.web.files.respond(request)
        except Exception:
            log.exception("web request failed: %s", request.method)
            return Response.error(500)

    def _send(self, response: Response, *, close: bool = False) -> None:
        conn = self.conn
        conn.server.metrics.web_responses[str(response.status)] += 1
        data = self.proto.respond(response, close=close)
        if data is None:
            conn.lost("HTTP error")
            return
        conn.send_raw(data)
        if self.proto.lingering:
            conn.close()
        else:
            self.deadline = self.web.server.chat.clock() + LIMITS.timeout

    def _upgrade(self, request: Request) -> None:
        """Answer a WebSocket handshake: 101 and a ``WebSocketSide``, or an HTTP error."""
        refusal = self._refusal(request)
        if refusal is not None:
            self._send(refusal, close=True)
            return
        key = header(request, "sec-websocket-key") or ""
        chosen = choose_subprotocol(header(request, "sec-websocket-protocol"))
        headers = [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", generate_accept_token(key.encode("ascii")).decode("ascii")),
        ]
        if chosen:
            headers.append(("Sec-WebSocket-Protocol", chosen))
        forwarded = self._forwarded_for(request)
        if forwarded is not None:
            refused = self.web.server.readdress(self.conn, forwarded)
            if refused is not None:
                why, reason = refused
                status = 403 if reason == "dline" else 429
                body = f"{status} {why}\n".encode()
                self._send(Response(status, body, headers=security_headers(request)), close=True)
                return
        data, rest = self.proto.switch(headers)
        metrics = self.conn.server.metrics
        metrics.web_responses["101"] += 1
        metrics.websockets += 1
        self.conn.send_raw(data)
        start_websocket(self.web, self.conn, rest, binary=chosen == BINARY)

    def _refusal(self, request: Request) -> Response | None:
        extra = security_headers(request)
        if request.method != "GET":
            return Response.error(405, ("Allow", "GET"), *extra)
        if header(request, "sec-websocket-version") != "13":
            return Response.error(426, ("Sec-WebSocket-Version", "13"), *extra)
        if not _tokens(request, "connection") >= {"upgrade"}:
            return Response.error(400, *extra)
        if not _valid_key(header(request, "sec-websocket-key")):
            return Response.error(400, *extra)
        host = header(request, "host")
        if host is not None and not valid_host(host):
            return Response.error(400, *extra)
        origin = header(request, "origin")
        if origin is not None and not origin_allowed(
            origin, host, self.web.server.config.web.allowed_origins
        ):
            # Debug: a page probing from elsewhere could otherwise fill the log.
            log.debug("websocket from %s refused: origin not allowed", self.conn.ip)
            return Response.error(403, *extra)
        return None

    def _forwarded_for(self, request: Request) -> str | None:
        """The address a trusted proxy says the client has (``X-Forwarded-For``); None: none.

        Read from the right, past the trusted proxies themselves, so a client
        cannot put an address of its choice in front of what the proxy added.
        """
        networks = self.web.server.config.web.proxy_networks
        if not networks or not _within(self.conn.ip, networks):
            return None
        value = header(request, "x-forwarded-for")
        if not value:
            return None
        for hop in reversed(value.split(",")):
            try:
                address = ipaddress.ip_address(hop.strip())
            except ValueError:
                return None  # not what a proxy writes: keep the proxy's own address
            if not any(address in network for network in networks):
                return str(address)
        return None

    def encode(self, out: OutputQueue) -> None:
        pass


def _within(ip: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in networks)


def _tokens(request: Request, name: str) -> set[str]:
    value = header(request, name) or ""
    return {t.strip().lower() for t in value.split(",") if t.strip()}


def _is_upgrade(request: Request) -> bool:
    return "websocket" in _tokens(request, "upgrade")


def _valid_key(key: str | None) -> bool:
    if key is None:
        return False
    try:
        return len(base64.b64decode(key.strip(), validate=True)) == 16
    except (binascii.Error, ValueError):
        return False


def choose_subprotocol(offered: str | None) -> str:
    """The first of the client's subprotocols that is IRC's ("": none, so text frames)."""
    for item in (offered or "").split(","):
        name = item.strip().lower()
        if name in SUBPROTOCOLS:
            return name
    return ""


def origin_allowed(origin: str, host: str | None, allowed: tuple[str, ...]) -> bool:
    """Whether a page from ``origin`` may connect: its own server's, or one of ``allowed``."""
    if "*" in allowed:
        return True
    parsed = parse_origin(origin)
    if parsed is None:
        return False  # "null" (a file, a sandbox) and anything else that is not an origin
    scheme, name, port = parsed
    if host:
        if host.startswith("["):
            own, _, own_port = host[1:].partition("]")
            own_port = own_port.removeprefix(":")
        else:
            own, _, own_port = host.partition(":")
        default = 443 if scheme == "https" else 80
        if (
            own.lower().rstrip(".") == name.rstrip(".")
            and (int(own_port) if own_port else default) == port
        ):
            return True
    return any(parse_origin(a) == parsed for a in allowed)


def start_websocket(web: Web, conn: Connection, rest: bytes, *, binary: bool) -> None:
    """The handshake is answered: ``conn`` is an IRC client behind wsproto from now on."""
    server = web.server
    chat = server.chat
    limit = server.dialects.irc.max_line_bytes(chat) + 2  # and a trailing CR LF
    side = WebSocketSide(conn, limit, binary=binary)
    conn.gateway = side
    now = chat.clock()
    session = Session(
        chat, server.dialects, conn, conn.ip, "irc", now=now, transport=conn, secure=conn.secure
    )
    conn.session = session
    # The connection's timer entry (if any) asks whichever session it has then.
    server.schedule_session(conn, session.check_timeouts(now))
    log.debug(
        "websocket from %s:%d (%s frames)", conn.ip, conn.addr[1], "binary" if binary else "text"
    )
    if rest:
        side.receive(rest)


class WebSocketSide:
    """IRC lines in WebSocket messages, over wsproto."""

    __slots__ = ("binary", "closed", "conn", "limit", "parts", "size", "ws")

    def __init__(self, conn: Connection, limit: int, *, binary: bool) -> None:
        self.conn = conn
        self.ws = WsConnection(ConnectionType.SERVER)
        self.limit = limit
        self.binary = binary
        #: The pieces of a message that came in several frames (or reads).
        self.parts: list[bytes] = []
        self.size = 0
        #: Our close frame is queued (or the peer's answered); nothing more is sent.
        self.closed = False

    def receive(self, data: bytes) -> None:
        ws = self.ws
        if ws.state is ConnectionState.CLOSED:
            return
        try:
            ws.receive_data(data)
        except LocalProtocolError:
            return
        for event in ws.events():
            if isinstance(event, Message):
                data_part = event.data
                part = data_part.encode("utf-8") if isinstance(data_part, str) else bytes(data_part)
                if not self._collect(part, finished=event.message_finished):
                    return
            elif isinstance(event, Ping):
                self._send_control(ws.send(event.response()))
            elif isinstance(event, CloseConnection):
                if ws.state is ConnectionState.OPEN:
                    # Not the peer's close frame: wsproto could not parse what came (1007:
                    # a text frame that is not UTF-8; 1002: a protocol error).
                    self.close(event.code, _CLOSE_REASONS.get(event.code, "WebSocket error"))
                else:
                    self._peer_closed(event)
                return
            # A Pong needs nothing: any frame already counted as activity at the socket.

    def _collect(self, part: bytes, *, finished: bool) -> bool:
        """Add a piece of a message; hand a whole one to the session. False: closing."""
        self.size += len(part)
        if self.size > self.limit:
            self.parts = []
            self.close(CLOSE_TOO_BIG, "Message too big")
            return False
        if not finished:
            self.parts.append(part)
            return True
        if self.parts:
            self.parts.append(part)
            part = b"".join(self.parts)
            self.parts = []
        self.size = 0
        self._deliver(part)
        return not self.conn.closing

    def _deliver(self, line: bytes) -> None:
        if line.endswith(b"\n"):
            line = line[:-1]
        if line.endswith(b"\r"):
            line = line[:-1]
        if b"\n" in line:
            # One message is one line: a break inside cannot start another command.
            line = line.replace(b"\n", b" ")
        session = self.conn.session
        if session is not None and not session.closed:
            session.receive_data(line + b"\n")

    def _send_control(self, data: bytes) -> None:
        if not self.closed:
            self.conn.send_raw(data)

    def _peer_closed(self, event: CloseConnection) -> None:
        """The peer's close frame: answer it, then the user quits like any lost connection."""
        ws = self.ws
        if ws.state is ConnectionState.REMOTE_CLOSING:
            self.conn.send_raw(ws.send(event.response()))
        self.closed = True
        session = self.conn.session
        if session is not None:
            session.connection_lost("Connection closed")
        else:
            self.conn.close()

    def close(self, code: int, reason: str) -> None:
        """End the connection with a close frame (the session's user quits with ``reason``)."""
        if not self.closed:
            self.closed = True
            if self.ws.state is ConnectionState.OPEN:
                self.conn.send_raw(self.ws.send(CloseConnection(code=code, reason=reason)))
        session = self.conn.session
        if session is not None:
            session.connection_lost(reason)
        self.conn.close()

    def encode(self, out: OutputQueue) -> None:
        chunks = out.chunks
        framed: list[Chunk] = []
        pending: list[bytes] = []
        size = 0
        sendable = not self.closed and self.ws.state is ConnectionState.OPEN
        for chunk in chunks:
            if type(chunk) is memoryview:
                if pending:
                    framed.append(memoryview(b"".join(pending)))
                    pending = []
                framed.append(chunk)
                size += len(chunk)
            elif sendable:
                frames = self._frames(chunk)
                pending.append(frames)
                size += len(frames)
        if self.conn.closing and sendable:
            # The session ended the connection (QUIT, a kill, a timeout): say so in WebSocket too.
            self.closed = True
            frame = self.ws.send(CloseConnection(code=CLOSE_NORMAL))
            pending.append(frame)
            size += len(frame)
        if pending:
            framed.append(memoryview(b"".join(pending)))
        chunks[:] = framed
        out.size = size

    def _frames(self, chunk: bytes) -> bytes:
        """The frames of the lines in ``chunk``, one each, framed once for every WebSocket.

        A broadcast queues the same ``bytes`` object for each recipient, and a
        server's frames are not masked, so they are the same for every
        WebSocket with the same kind of frames: the first one to flush frames
        the chunk and the others find it in ``_FRAMED``.
        """
        key = (chunk, self.binary)
        found = _FRAMED.get(key)
        if found is not None:
            return found
        ws = self.ws
        if self.binary:
            found = b"".join(
                ws.send(BytesMessage(data=line)) for line in chunk.split(b"\r\n") if line
            )
        else:
            text = chunk.decode("utf-8", "replace")
            found = b"".join(ws.send(TextMessage(data=line)) for line in text.split("\r\n") if line)
        global _framed_bytes
        if _framed_bytes > MAX_FRAMED_BYTES:
            _FRAMED.clear()
            _framed_bytes = 0
        _FRAMED[key] = found
        _framed_bytes += len(found) + len(chunk)
        return found


#: Frames by (chunk, binary): see ``WebSocketSide._frames``; cleared past ``MAX_FRAMED_BYTES``.
_FRAMED: dict[tuple[bytes, bool], bytes] = {}
_framed_bytes = 0
MAX_FRAMED_BYTES = 4 << 20
