"""Browsers on the chat listeners, against the real loop: the web client's files over
HTTP, and IRC over WebSocket (the IRCv3 WebSocket specification).

The WebSocket clients are ``websocket-client`` (a library we did not write) where
it does what a browser does, and a raw wsproto client with hand-made frames
where a test needs what no polite client sends (fragments, bad UTF-8, a
message over the limit).
"""

from __future__ import annotations

import gzip
import http.client
import random
import re
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import websocket
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Pong,
    RejectConnection,
    Request,
    TextMessage,
)

from ircish.config import Config, ConfigError, ListenerConfig, WebConfig, config_from_dict
from ircish.core.storage import ServerBan
from ircish.net import web
from ircish.net.http import HttpLimits
from ircish.net.server import BROWSER_BAD_PORTS
from ircish.net.webstatic import StaticFiles
from tests.e2e.e2e_support import ServerProcess, person, run_cli
from tests.e2e.test_tls import make_certs
from tests.helpers import DEFAULT_TIMEOUT, LineClient, RunningServer, in_loop

ASSETS = {
    "index.html": b"<!doctype html><title>ircish</title>" + b"<p>hello</p>" * 100,
    "js/app.js": b"export const greeting = 'hi';\n" * 200,
    "js/tiny.mjs": b"export {};\n",
    "css/site.css": b"body { color: black; }\n" * 100,
    "img/logo.svg": b'<svg xmlns="http://www.w3.org/2000/svg"></svg>',
    "img/icon.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
    "favicon.ico": b"\0\0\1\0",
    "data/strings.json": b'{"a": 1}',
    "manifest.webmanifest": b'{"name": "ircish"}',
}
TYPES = {
    "/js/app.js": "text/javascript; charset=utf-8",
    "/js/tiny.mjs": "text/javascript; charset=utf-8",
    "/css/site.css": "text/css; charset=utf-8",
    "/img/logo.svg": "image/svg+xml",
    "/img/icon.png": "image/png",
    "/favicon.ico": "image/x-icon",
    "/data/strings.json": "application/json",
    "/manifest.webmanifest": "application/manifest+json",
}


def web_port(srv: RunningServer) -> int:
    """The built-in second listener's port (8080 outside the tests)."""
    return srv.addresses[0][1]


@pytest.fixture
def srv(make_server: Callable[..., RunningServer]) -> RunningServer:
    return make_server()


@pytest.fixture
def assets(srv: RunningServer) -> RunningServer:
    """``srv`` serving the test's own files instead of the bundled client's."""

    def swap() -> None:
        srv.server.web.files = StaticFiles(ASSETS)

    in_loop(srv, swap)
    return srv


def get(
    port: int, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=DEFAULT_TIMEOUT)
    conn.request(method, path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response, body


# -- the page and its files ------------------------------------------------------------


def test_get_root_serves_the_bundled_page_with_strict_headers(srv: RunningServer) -> None:
    port = web_port(srv)
    response, body = get(port, "/")
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/html; charset=utf-8"
    assert b"<title>ircish</title>" in body
    csp = response.getheader("Content-Security-Policy") or ""
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        f"connect-src 'self' ws://127.0.0.1:{port} wss://127.0.0.1:{port}",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ):
        assert directive in csp, csp
    assert "unsafe" not in csp
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert response.getheader("Referrer-Policy") == "no-referrer"
    assert response.getheader("Cache-Control") == "no-cache"
    assert re.fullmatch(r'"[0-9a-f]+(-gz)?"', response.getheader("ETag") or "")


def test_the_irc_port_serves_the_page_too(srv: RunningServer) -> None:
    """Every auto listener speaks HTTP; 8080 exists because browsers refuse 6667."""
    response, body = get(srv.port, "/")
    assert response.status == 200
    assert b"<title>ircish</title>" in body


@pytest.mark.parametrize("path", sorted(TYPES))
def test_assets_have_their_content_type(assets: RunningServer, path: str) -> None:
    response, body = get(web_port(assets), path)
    assert response.status == 200
    assert response.getheader("Content-Type") == TYPES[path]
    assert body == ASSETS[path[1:]]
    assert response.getheader("Cache-Control") == "public, max-age=300, must-revalidate"
    assert response.getheader("X-Content-Type-Options") == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "/missing.js",
        "/js/",
        "/js",
        "/../pyproject.toml",
        "/js/../../ircish/config.py",
        "/%2e%2e/pyproject.toml",
        "//etc/passwd",
        "/index.html/",
        "/socket",
    ],
)
def test_anything_else_is_404_never_a_file_or_a_listing(assets: RunningServer, path: str) -> None:
    response, body = get(web_port(assets), path)
    assert response.status == 404
    assert body == b"404 Not Found\n"
    assert response.getheader("X-Content-Type-Options") == "nosniff"


def test_head_gives_the_headers_without_the_body(assets: RunningServer) -> None:
    port = web_port(assets)
    full, body = get(port, "/js/app.js")
    head, nothing = get(port, "/js/app.js", "HEAD")
    assert head.status == 200
    assert nothing == b""
    assert head.getheader("Content-Length") == str(len(body))
    assert head.getheader("ETag") == full.getheader("ETag")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS"])
def test_other_methods_get_405_never_irc(assets: RunningServer, method: str) -> None:
    for port in (assets.port, web_port(assets)):
        response, body = get(port, "/", method)
        assert response.status == 405
        assert response.getheader("Allow") == "GET, HEAD"
        assert body == b"405 Method Not Allowed\n"


def test_gzip_when_accepted_and_worth_it(assets: RunningServer) -> None:
    port = web_port(assets)
    packed, body = get(port, "/js/app.js", headers={"Accept-Encoding": "gzip, br"})
    assert packed.getheader("Content-Encoding") == "gzip"
    assert packed.getheader("Vary") == "Accept-Encoding"
    assert gzip.decompress(body) == ASSETS["js/app.js"]
    assert len(body) < len(ASSETS["js/app.js"]) / 5
    plain, body = get(port, "/js/app.js", headers={"Accept-Encoding": "identity"})
    assert plain.getheader("Content-Encoding") is None
    assert body == ASSETS["js/app.js"]
    assert plain.getheader("ETag") != packed.getheader("ETag")
    refused, body = get(port, "/js/app.js", headers={"Accept-Encoding": "gzip;q=0"})
    assert refused.getheader("Content-Encoding") is None
    # Too small to gain, or compressed already: sent as it is.
    for path in ("/js/tiny.mjs", "/img/icon.png"):
        response, body = get(port, path, headers={"Accept-Encoding": "gzip"})
        assert response.getheader("Content-Encoding") is None, path
        assert body == ASSETS[path[1:]]


def test_a_matching_etag_gets_304(assets: RunningServer) -> None:
    port = web_port(assets)
    for headers in ({}, {"Accept-Encoding": "gzip"}):
        first, _ = get(port, "/css/site.css", headers=headers)
        etag = first.getheader("ETag")
        assert etag
        again, body = get(port, "/css/site.css", headers={**headers, "If-None-Match": etag})
        assert again.status == 304
        assert body == b""
        assert again.getheader("ETag") == etag
        weak, _ = get(port, "/css/site.css", headers={**headers, "If-None-Match": f"W/{etag}"})
        assert weak.status == 304
    changed, body = get(port, "/css/site.css", headers={"If-None-Match": '"other"'})
    assert changed.status == 200
    assert body == ASSETS["css/site.css"]


def test_keep_alive_carries_several_requests(assets: RunningServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", web_port(assets), timeout=DEFAULT_TIMEOUT)
    try:
        for path in ("/", "/js/app.js", "/missing", "/css/site.css"):
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            assert response.status == (404 if path == "/missing" else 200)
    finally:
        conn.close()


def test_a_bad_host_header_is_400(srv: RunningServer) -> None:
    with socket.create_connection(("127.0.0.1", web_port(srv)), timeout=DEFAULT_TIMEOUT) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a b\"'<x>\r\n\r\n")
        reply = s.recv(4096)
    assert reply.startswith(b"HTTP/1.1 400 "), reply
    assert b"<x>" not in reply


def test_a_malformed_request_gets_an_http_error(srv: RunningServer) -> None:
    with socket.create_connection(("127.0.0.1", web_port(srv)), timeout=DEFAULT_TIMEOUT) as s:
        s.sendall(b"GET / HTTP/1.1\r\nno colon here\r\n\r\n")
        reply = s.recv(4096)
    assert reply.startswith(b"HTTP/1.1 400 "), reply


def test_responses_and_websockets_are_counted(assets: RunningServer) -> None:
    port = web_port(assets)
    before = in_loop(assets, lambda: dict(assets.chat.metrics.web_responses))
    get(port, "/")
    get(port, "/missing")
    ws_connect(port).close()
    after = in_loop(assets, lambda: dict(assets.chat.metrics.web_responses))
    for status in ("200", "404", "101"):
        assert after.get(status, 0) == before.get(status, 0) + 1, status
    assert in_loop(assets, lambda: assets.chat.metrics.websockets) == 1


def test_pipelined_requests_are_all_answered_in_order(assets: RunningServer) -> None:
    """More than one pass's share (16) in one packet: the rest follow on later passes."""
    paths = ["/js/app.js", "/missing", "/css/site.css"] * 10
    data = b"".join(f"GET {p} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for p in paths)
    with socket.create_connection(("127.0.0.1", web_port(assets)), timeout=DEFAULT_TIMEOUT) as s:
        s.sendall(data)
        received = b""
        deadline = time.monotonic() + DEFAULT_TIMEOUT
        while received.count(b"HTTP/1.1 ") < len(paths) and time.monotonic() < deadline:
            received += s.recv(65536)
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", received)
    assert statuses == [b"404" if p == "/missing" else b"200" for p in paths]


def test_a_request_that_never_ends_is_cut_off(
    srv: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One deadline per request: a peer trickling its head (slowloris) is closed on time."""
    monkeypatch.setattr(web, "LIMITS", HttpLimits(timeout=0.5))
    with socket.create_connection(("127.0.0.1", web_port(srv)), timeout=DEFAULT_TIMEOUT) as s:
        s.sendall(b"GET / HTTP/1.1\r\n")
        started = time.monotonic()
        for _ in range(3):
            time.sleep(0.1)  # a slow peer's pace, well inside the deadline
            s.sendall(b"X-Slow: 1\r\n")
        try:
            rest = s.recv(4096)
        except ConnectionResetError:
            rest = b""
        assert rest == b"", "closed without a response"
        assert time.monotonic() - started < 0.5 + DEFAULT_TIMEOUT / 2


# -- who is a browser --------------------------------------------------------------------


@pytest.mark.parametrize("nick", ["GET", "HEAD", "GETTER"])
def test_a_netcat_user_typing_get_stays_a_netcat_user(
    srv: RunningServer, clients: list[LineClient], nick: str
) -> None:
    c = srv.client()
    clients.append(c)
    c.send(nick)
    c.expect(rf"^\*\*\* Welcome to .*, {nick}! ")


def test_get_without_a_request_line_is_a_netcat_user(
    srv: RunningServer, clients: list[LineClient]
) -> None:
    """``GET lost`` is not ``GET /path HTTP/1.1``: a human typing, greeted as one."""
    c = srv.client()
    clients.append(c)
    c.send("GET lost")
    c.expect(r"Type a nickname|nickname", timeout=DEFAULT_TIMEOUT)
    assert not any(line.startswith("HTTP/") for line in c.received)


def test_a_request_line_in_pieces_is_still_http(srv: RunningServer) -> None:
    with socket.create_connection(("127.0.0.1", web_port(srv)), timeout=DEFAULT_TIMEOUT) as s:
        for piece in (b"G", b"ET /ind", b"ex.html HT", b"TP/1.1\r\nHost: x\r\n\r\n"):
            s.sendall(piece)
            time.sleep(0.02)  # separate TCP segments, well inside detect_timeout
        reply = s.recv(65536)
    assert reply.startswith(b"HTTP/1.1 200 "), reply


def test_an_http_only_listener_refuses_irc(make_server: Callable[..., RunningServer]) -> None:
    config = replace(Config(), listeners=(ListenerConfig(), ListenerConfig(dialect="http")))
    srv = make_server(config)
    port = web_port(srv)
    with socket.create_connection(("127.0.0.1", port), timeout=DEFAULT_TIMEOUT) as s:
        s.sendall(b"NICK alice\r\nUSER alice 0 * :Alice\r\n")
        reply = s.recv(4096)
    assert reply.startswith(b"HTTP/1.1 400 "), reply
    assert b"001" not in reply
    response, body = get(port, "/")
    assert response.status == 200
    assert b"<title>ircish</title>" in body
    ws = ws_irc(port, "wsuser")
    ws.close()


# -- WebSocket ---------------------------------------------------------------------------


def ws_connect(port: int, **options: Any) -> websocket.WebSocket:
    return websocket.create_connection(
        f"ws://127.0.0.1:{port}/socket", timeout=DEFAULT_TIMEOUT, **options
    )


def ws_expect(ws: websocket.WebSocket, pattern: str, timeout: float = DEFAULT_TIMEOUT) -> str:
    """The next message matching ``pattern``; earlier ones are skipped."""
    rx = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = ws.recv()
        line = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        assert "\r" not in line and "\n" not in line, repr(line)
        if rx.search(line):
            return line
    raise AssertionError(f"no message matched {pattern!r}")


def ws_irc(port: int, nick: str, **options: Any) -> websocket.WebSocket:
    ws = ws_connect(port, **options)
    ws.send(f"NICK {nick}")
    ws.send(f"USER {nick} 0 * :{nick}")
    ws_expect(ws, rf"^:\S+ 001 {nick} ")
    ws_expect(ws, rf"^:\S+ (376|422) {nick} ")
    return ws


@pytest.mark.parametrize(
    ("offered", "chosen", "opcode"),
    [
        (["text.ircv3.net"], "text.ircv3.net", websocket.ABNF.OPCODE_TEXT),
        (["binary.ircv3.net"], "binary.ircv3.net", websocket.ABNF.OPCODE_BINARY),
        (["binary.ircv3.net", "text.ircv3.net"], "binary.ircv3.net", websocket.ABNF.OPCODE_BINARY),
        (["text.ircv3.net", "binary.ircv3.net"], "text.ircv3.net", websocket.ABNF.OPCODE_TEXT),
        (["chat.example", "binary.ircv3.net"], "binary.ircv3.net", websocket.ABNF.OPCODE_BINARY),
        (None, None, websocket.ABNF.OPCODE_TEXT),
    ],
)
def test_subprotocols_in_the_clients_order(
    srv: RunningServer, offered: list[str] | None, chosen: str | None, opcode: int
) -> None:
    ws = ws_connect(web_port(srv), subprotocols=offered) if offered else ws_connect(web_port(srv))
    try:
        assert ws.getsubprotocol() == chosen
        ws.send("PING :hello")
        frame = ws.recv_data_frame()[1]
        assert frame.opcode == opcode
        assert frame.data == b":ircish.local PONG ircish.local :hello"
    finally:
        ws.close()


def test_an_unknown_subprotocol_only_gets_none(srv: RunningServer) -> None:
    raw = RawWs(web_port(srv), subprotocols=["chat.example"])
    try:
        assert raw.subprotocol is None
        raw.send(TextMessage("PING :x"))
        assert raw.message() == ":ircish.local PONG ircish.local :x"
    finally:
        raw.close()


def test_a_websocket_user_and_a_netcat_user_chat_in_one_room(
    srv: RunningServer, clients: list[LineClient]
) -> None:
    nc = person(srv, "netty", clients)
    ws = ws_irc(web_port(srv), "webby", subprotocols=["text.ircv3.net"])
    try:
        ws.send("JOIN #lobby")
        ws_expect(ws, r"^:\S+ 366 webby #lobby ")
        nc.expect(r"webby .*joined")
        ws.send("PRIVMSG #lobby :hello from a browser <img src=x onerror=alert(1)>")
        nc.expect(r"<webby> hello from a browser <img src=x onerror=alert\(1\)>$")
        nc.send("hi webby, ünïcode")
        ws_expect(ws, r"^:netty!\S+ PRIVMSG #lobby :hi webby, ünïcode$")
        ws.send("QUIT :bye now")
        ws_expect(ws, r"^ERROR ")
        nc.expect(r"webby .*(left|quit).*bye now")
    finally:
        ws.close()


def test_trailing_crlf_is_dropped_and_a_break_inside_is_no_second_command(
    srv: RunningServer, clients: list[LineClient]
) -> None:
    nc = person(srv, "netty", clients)
    ws = ws_irc(web_port(srv), "webby")
    try:
        ws.send("JOIN #lobby\r\n")
        ws_expect(ws, r"^:\S+ 366 webby #lobby ")
        ws.send("PRIVMSG #lobby :one\nQUIT :injected")
        nc.expect(r"<webby> one QUIT :injected$")
        ws.send("PING :still-here")
        ws_expect(ws, r"PONG \S+ :still-here$")
    finally:
        ws.close()


def test_a_batch_rendered_at_once_is_one_message_per_line(srv: RunningServer) -> None:
    """A labeled response is written as one chunk of several lines; each is a message."""
    ws = ws_connect(web_port(srv), subprotocols=["text.ircv3.net"])
    try:
        ws.send("CAP REQ :batch labeled-response")
        ws.send("NICK batchy")
        ws.send("USER b 0 * :b")
        ws.send("CAP END")
        ws_expect(ws, r" 376 batchy ")
        ws.send("JOIN #lobby")
        ws_expect(ws, r" 366 batchy #lobby ")
        ws.send("@label=l1 NAMES #lobby")
        start = ws_expect(ws, r"^@label=l1 :\S+ BATCH \+")
        ref = start.split("BATCH +", 1)[1].split(" ", 1)[0]
        names = ws_expect(ws, r" 353 batchy ")
        assert names.startswith(f"@batch={ref} ")
        assert ws_expect(ws, r" 366 batchy ").startswith(f"@batch={ref} ")
        ws_expect(ws, rf"^:\S+ BATCH -{ref}$")
    finally:
        ws.close()


def test_fragmented_messages_are_reassembled(srv: RunningServer) -> None:
    raw = RawWs(web_port(srv), subprotocols=["text.ircv3.net"])
    try:
        raw.send(TextMessage("PI", message_finished=False))
        raw.send(TextMessage("NG :frag", message_finished=False))
        raw.send(TextMessage("ments", message_finished=True))
        assert raw.message() == ":ircish.local PONG ircish.local :fragments"
        # A ping between two fragments is answered and does not break the message.
        raw.send(BytesMessage(b"PING :", message_finished=False))
        raw.send_raw(frame(0x9, b"in-between"))
        raw.send(BytesMessage(b"b\xc3\xa4", message_finished=True))
        assert raw.next_event() == Pong(payload=b"in-between")
        # Text frames back, as the subprotocol says, whatever the client's frames were.
        assert raw.message() == ":ircish.local PONG ircish.local :b\xe4"
    finally:
        raw.close()


def test_an_oversized_message_closes_with_1009(
    srv: RunningServer, clients: list[LineClient]
) -> None:
    nc = person(srv, "netty", clients)
    raw = RawWs(web_port(srv))
    raw.send(TextMessage("NICK webby"))
    raw.send(TextMessage("USER webby 0 * :webby"))
    raw.wait_for(lambda m: " 376 " in m or " 422 " in m)
    raw.send(TextMessage("JOIN #lobby"))
    nc.expect(r"webby .*joined")
    # The longest line with tags still goes through (and is answered 417 by IRC's rules)...
    raw.send(TextMessage("@" + "a" * 8190 + " PRIVMSG #lobby :" + "x" * 400))
    raw.send(TextMessage("PING :alive"))
    raw.wait_for(lambda m: m.endswith("PONG ircish.local :alive"))
    # ...one more than IRC allows is not, however it is split into frames.
    big = "PRIVMSG #lobby :" + "y" * (8191 + 512 + 10)
    raw.send(TextMessage(big[:5000], message_finished=False))
    raw.send(TextMessage(big[5000:], message_finished=True))
    closing = raw.wait_close()
    assert closing.code == 1009
    nc.expect(r"webby .*(left|quit)")
    assert not any("yyyy" in line for line in nc.conn.received)


def test_bad_utf8_in_a_text_frame_closes_with_1007(srv: RunningServer) -> None:
    raw = RawWs(web_port(srv), subprotocols=["text.ircv3.net"])
    raw.send_raw(frame(0x1, b"PRIVMSG #lobby :\xff\xfe"))
    assert raw.wait_close().code == 1007


def test_binary_frames_carry_bytes_as_irc_does(srv: RunningServer) -> None:
    """Not UTF-8 in a binary frame: refused as on any IRC connection, not a close."""
    raw = RawWs(web_port(srv), subprotocols=["binary.ircv3.net"])
    try:
        raw.send(BytesMessage(b"NICK \xe9t\xe9"))
        reply = raw.message()
        assert isinstance(reply, bytes)
        assert b"INVALID_UTF8" in reply
        raw.send(BytesMessage(b"PING :ok"))
        assert raw.message() == b":ircish.local PONG ircish.local :ok"
    finally:
        raw.close()


def test_a_websocket_has_the_timeouts_of_any_irc_client(
    make_server: Callable[..., RunningServer],
) -> None:
    """Even when the session made at accept timed out before the handshake was done."""
    limits = replace(Config().limits, detect_timeout=0.05, registration_timeout=1.0)
    srv = make_server(replace(Config(), limits=limits))
    raw = RawWs(web_port(srv), pause=0.3)
    try:
        started = time.monotonic()
        assert raw.wait_for(lambda m: m.startswith("ERROR ")) == (
            "ERROR :Closing Link: localhost (Registration timed out)"
        )
        assert raw.wait_close().code == 1000
        assert time.monotonic() - started < DEFAULT_TIMEOUT
    finally:
        raw.close()


def test_ping_gets_pong(srv: RunningServer) -> None:
    ws = ws_connect(web_port(srv))
    try:
        ws.ping(b"are you there")
        opcode, frame_ = ws.recv_data_frame(control_frame=True)
        assert opcode == websocket.ABNF.OPCODE_PONG
        assert frame_.data == b"are you there"
    finally:
        ws.close()


def test_close_is_answered_and_the_user_quits(
    srv: RunningServer, clients: list[LineClient]
) -> None:
    nc = person(srv, "netty", clients)
    ws = ws_irc(web_port(srv), "webby")
    ws.send("JOIN #lobby")
    nc.expect(r"webby .*joined")
    ws.send_close(1000, b"tab closed")
    opcode, reply = ws.recv_data_frame(control_frame=True)
    while opcode != websocket.ABNF.OPCODE_CLOSE:  # the replies to JOIN come first
        opcode, reply = ws.recv_data_frame(control_frame=True)
    assert struct.unpack("!H", reply.data[:2])[0] == 1000
    ws.shutdown()
    nc.expect(r"webby .*(left|quit)")


def test_the_server_ending_the_session_sends_a_close_frame(srv: RunningServer) -> None:
    ws = ws_irc(web_port(srv), "webby")
    ws.send("QUIT :done")
    ws_expect(ws, r"^ERROR :")
    opcode, reply = ws.recv_data_frame(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    assert struct.unpack("!H", reply.data[:2])[0] == 1000
    ws.shutdown()


# -- origins -----------------------------------------------------------------------------


def upgrade_status(port: int, headers: dict[str, str]) -> int:
    """The status a WebSocket handshake with ``headers`` gets."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=DEFAULT_TIMEOUT)
    try:
        conn.request(
            "GET",
            "/socket",
            headers={
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Version": "13",
                **headers,
            },
        )
        return conn.getresponse().status
    finally:
        conn.close()


def test_origins(srv: RunningServer) -> None:
    port = web_port(srv)
    own = f"http://127.0.0.1:{port}"
    assert upgrade_status(port, {}) == 101, "no Origin: a program, not a browser"
    assert upgrade_status(port, {"Origin": own}) == 101
    assert upgrade_status(port, {"Origin": f"http://localhost:{port}"}) == 403
    assert upgrade_status(port, {"Origin": "https://evil.example"}) == 403
    assert upgrade_status(port, {"Origin": "null"}) == 403
    assert upgrade_status(port, {"Origin": f"http://127.0.0.1:{port + 1}"}) == 403
    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        ws_connect(port, origin="https://evil.example")
    assert info.value.status_code == 403


def test_a_bad_handshake_gets_an_http_error(srv: RunningServer) -> None:
    port = web_port(srv)
    assert upgrade_status(port, {"Sec-WebSocket-Version": "8"}) == 426
    assert upgrade_status(port, {"Sec-WebSocket-Key": "short"}) == 400
    assert upgrade_status(port, {"Connection": "keep-alive"}) == 400


def test_allowed_origins_and_their_reload(make_server: Callable[..., RunningServer]) -> None:
    config = replace(Config(), web=WebConfig(allowed_origins=("https://chat.example.org",)))
    srv = make_server(config)
    port = web_port(srv)
    assert upgrade_status(port, {"Origin": "https://chat.example.org"}) == 101
    assert upgrade_status(port, {"Origin": "https://chat.example.org:443"}) == 101
    assert upgrade_status(port, {"Origin": f"http://127.0.0.1:{port}"}) == 101
    assert upgrade_status(port, {"Origin": "https://other.example.org"}) == 403
    reloaded = replace(srv.config, web=WebConfig(allowed_origins=("https://other.example.org",)))
    srv.server.enable_reload("test.toml", lambda: reloaded)
    in_loop(srv, srv.server.reload)
    assert upgrade_status(port, {"Origin": "https://other.example.org"}) == 101
    assert upgrade_status(port, {"Origin": "https://chat.example.org"}) == 403


# -- behind a reverse proxy ----------------------------------------------------------------


def users_ip(srv: RunningServer, nick: str) -> str:
    def ip() -> str:
        user = srv.chat.users.get(nick)
        assert user is not None
        return user.ip

    return in_loop(srv, ip)


def test_a_trusted_proxys_forwarded_address_is_the_users(
    make_server: Callable[..., RunningServer],
) -> None:
    trusting = replace(Config(), web=WebConfig(trusted_proxies=("127.0.0.0/8",)))
    srv = make_server(trusting)
    port = web_port(srv)
    # The proxy appends the address it saw; what the client wrote before it is not believed.
    ws = ws_irc(port, "proxied", header=["X-Forwarded-For: 6.6.6.6, 203.0.113.7"])
    try:
        assert users_ip(srv, "proxied") == "203.0.113.7"
        assert in_loop(srv, lambda: srv.server.per_ip["203.0.113.7"]) == 1
        ws.send("WHOIS proxied")
        line = ws_expect(ws, r" 311 proxied proxied ")
        assert "localhost" not in line, "the cloak is made from the forwarded address"
    finally:
        ws.close()
    # A D-line on the forwarded address refuses the WebSocket.
    ban = ServerBan("D", "203.0.113.7", "go away", "op", time.time())
    in_loop(srv, lambda: srv.chat.bans.put(ban))
    assert upgrade_status(port, {"X-Forwarded-For": "203.0.113.7"}) == 403
    assert upgrade_status(port, {"X-Forwarded-For": "203.0.113.8"}) == 101


def test_x_forwarded_for_is_ignored_unless_the_proxy_is_trusted(srv: RunningServer) -> None:
    ws = ws_irc(web_port(srv), "direct", header=["X-Forwarded-For: 203.0.113.7"])
    try:
        assert users_ip(srv, "direct") == "127.0.0.1"
    finally:
        ws.close()


def test_trusted_proxies_are_validated() -> None:
    with pytest.raises(ConfigError, match=r"^web\.trusted_proxies\[0\]: expected an address"):
        config_from_dict({"web": {"trusted_proxies": ["proxy.example"]}})
    assert config_from_dict({"web": {"trusted_proxies": ["::1", "10.0.0.0/8"]}}).web


# -- TLS ---------------------------------------------------------------------------------


def test_https_and_wss_over_a_tls_listener(
    make_server: Callable[..., RunningServer], tmp_path: Path, clients: list[LineClient]
) -> None:
    certs = make_certs(tmp_path)
    secure = ListenerConfig(port=0, tls_cert=str(certs.cert), tls_key=str(certs.key))
    srv = make_server(replace(Config(), listeners=(ListenerConfig(), secure)))
    port = web_port(srv)
    context = certs.context()
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=DEFAULT_TIMEOUT, context=context)
    conn.request("GET", "/")
    response = conn.getresponse()
    assert response.status == 200
    assert b"<title>ircish</title>" in response.read()
    assert f"wss://127.0.0.1:{port}" in (response.getheader("Content-Security-Policy") or "")
    conn.close()
    nc = person(srv, "netty", clients)
    ws = websocket.create_connection(
        f"wss://127.0.0.1:{port}/socket",
        timeout=DEFAULT_TIMEOUT,
        sslopt={"context": context},
        subprotocols=["text.ircv3.net"],
    )
    try:
        ws.send("NICK secure")
        ws.send("USER secure 0 * :secure")
        ws_expect(ws, r"^:\S+ 001 secure ")
        ws.send("JOIN #lobby")
        ws.send("PRIVMSG #lobby :over wss")
        nc.expect(r"<secure> over wss$")
        ws.send("WHOIS secure")
        ws_expect(ws, r" 671 secure secure :is using a secure connection$")
    finally:
        ws.close()


def test_a_browser_slower_than_detect_timeout_to_finish_tls_is_not_greeted_as_a_person(
    make_server: Callable[..., RunningServer], tmp_path: Path, clients: list[LineClient]
) -> None:
    """Silence counts from the end of the TLS handshake: before it, no one can have typed."""
    certs = make_certs(tmp_path)
    secure = ListenerConfig(port=0, tls_cert=str(certs.cert), tls_key=str(certs.key))
    config = replace(Config(), listeners=(ListenerConfig(), secure))
    config = replace(config, limits=replace(config.limits, detect_timeout=0.05))
    srv = make_server(config)
    port = srv.addresses[0][1]
    raw = socket.create_connection(("127.0.0.1", port), timeout=DEFAULT_TIMEOUT)
    # A slow client: its ClientHello leaves well after detect_timeout (0.05 s) has passed.
    # Pacing the client, not waiting for a result: the server must judge from the handshake.
    time.sleep(0.3)
    tls = certs.context().wrap_socket(raw, server_hostname="localhost")
    try:
        tls.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        first = tls.recv(12)
        assert first == b"HTTP/1.1 200", "the page, not a netcat greeting, comes first"
    finally:
        tls.close()
    # A person on the TLS port who stays silent after the handshake is still greeted.
    human = LineClient("127.0.0.1", port, tls=certs.context())
    clients.append(human)
    human.expect(r"Type a nickname")


# -- the command line ---------------------------------------------------------------------


def test_the_start_up_line_names_the_web_clients_url(procs: list[ServerProcess]) -> None:
    proc = ServerProcess()
    procs.append(proc)
    assert proc.wait_log("web client: http://127.0.0.1:")
    url = re.search(r"web client: (http://127\.0\.0\.1:(\d+)/)", proc.log())
    assert url is not None
    port = int(url.group(2))
    response, body = get(port, "/")
    assert response.status == 200
    assert b"<title>ircish</title>" in body


def test_web_port_needs_a_second_listener(tmp_path: Path) -> None:
    config = tmp_path / "one.toml"
    config.write_text("[[listeners]]\nport = 0\n")
    done = run_cli("--config", str(config), "--web-port", "0")
    assert done.returncode == 2
    assert "--web-port: there is no second [[listeners]] entry" in done.stderr


def test_the_url_is_for_a_listener_browsers_accept(
    make_server: Callable[..., RunningServer],
) -> None:
    irc_only = make_server(replace(Config(), listeners=(ListenerConfig(dialect="irc"),)))
    assert irc_only.server.web_client_url() is None
    both = make_server(
        replace(Config(), listeners=(ListenerConfig(dialect="irc"), ListenerConfig(dialect="http")))
    )
    assert both.server.web_client_url() == f"http://127.0.0.1:{web_port(both)}/"
    assert {6665, 6666, 6667, 6668, 6669, 6679, 6697} <= BROWSER_BAD_PORTS
    assert 8080 not in BROWSER_BAD_PORTS


def test_hostile_bytes_never_cost_more_than_their_connection(
    srv: RunningServer, clients: list[LineClient]
) -> None:
    """Random frames after a handshake, random heads after a request line: each connection
    gets an error or a close, never an internal error, and the chat goes on."""
    rng = random.Random(12)
    port = web_port(srv)
    for _ in range(60):
        raw = RawWs(port, subprotocols=[rng.choice(["text.ircv3.net", "binary.ircv3.net"])])
        try:
            for _ in range(rng.randint(1, 6)):
                payload = rng.randbytes(rng.choice([0, 1, 5, 125, 126, 300]))
                if rng.random() < 0.3:
                    raw.send_raw(payload)  # not even a frame
                else:
                    opcode = rng.choice([0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xA, 0xF])
                    raw.send_raw(frame(opcode, payload, fin=rng.random() < 0.7))
        except OSError:
            pass  # the server closed first: what a bad peer deserves
        finally:
            raw.close()
        with socket.create_connection(("127.0.0.1", port), timeout=DEFAULT_TIMEOUT) as s:
            try:
                s.sendall(b"GET / HTTP/1.1\r\n" + rng.randbytes(rng.randint(1, 400)))
            except OSError:
                pass
    nc = person(srv, "after", clients)
    ws = ws_irc(port, "survivor")
    try:
        ws.send("JOIN #lobby")
        ws.send("PRIVMSG #lobby :still fine")
        nc.expect(r"<survivor> still fine$")
    finally:
        ws.close()
    errors = in_loop(srv, lambda: dict(srv.chat.metrics.internal_errors))
    assert not any(errors.values()), errors


# -- a raw client, for what polite clients never send --------------------------------------


def frame(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    """One masked client frame (RFC 6455 section 5.2), however wrong its payload."""
    mask = b"\x01\x02\x03\x04"
    head = bytes([(0x80 if fin else 0) | opcode])
    size = len(payload)
    if size < 126:
        head += bytes([0x80 | size])
    elif size < 1 << 16:
        head += bytes([0x80 | 126]) + struct.pack("!H", size)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", size)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


class RawWs:
    """A WebSocket client on wsproto, for tests that need exact frames."""

    def __init__(
        self,
        port: int,
        *,
        subprotocols: list[str] | None = None,
        origin: str | None = None,
        pause: float = 0.0,
    ) -> None:
        """``pause``: seconds between the request line and the rest of the handshake."""
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=DEFAULT_TIMEOUT)
        self.ws = WSConnection(ConnectionType.CLIENT)
        extra = [(b"Origin", origin.encode())] if origin else []
        self.pending: list[Event] = []
        handshake = self.ws.send(
            Request(
                host=f"127.0.0.1:{port}",
                target="/socket",
                subprotocols=subprotocols or [],
                extra_headers=extra,
            )
        )
        if pause:
            line, rest = handshake.split(b"\r\n", 1)
            self.sock.sendall(line + b"\r\n")
            time.sleep(pause)  # pacing a slow client, not waiting for a result
            handshake = rest
        self.sock.sendall(handshake)
        event = self.next_event()
        if isinstance(event, RejectConnection):
            raise AssertionError(f"handshake refused: {event.status_code}")
        assert isinstance(event, AcceptConnection), event
        self.subprotocol = event.subprotocol
        self.parts: list[str | bytes | bytearray] = []

    def send(self, event: Event) -> None:
        self.sock.sendall(self.ws.send(event))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def next_event(self, timeout: float = DEFAULT_TIMEOUT) -> Event:
        deadline = time.monotonic() + timeout
        while not self.pending:
            self.pending.extend(self.ws.events())
            if self.pending:
                break
            assert time.monotonic() < deadline, "no WebSocket event came"
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            self.ws.receive_data(data or None)
        return self.pending.pop(0)

    def message(self) -> str | bytes:
        """The next whole message (an IRC line), skipping nothing else."""
        while True:
            event = self.next_event()
            assert isinstance(event, TextMessage | BytesMessage), event
            self.parts.append(event.data)
            if event.message_finished:
                parts, self.parts = self.parts, []
                if isinstance(parts[0], str):
                    return "".join(p for p in parts if isinstance(p, str))
                return b"".join(p for p in parts if not isinstance(p, str))

    def wait_for(self, match: Callable[[str], bool]) -> str:
        while True:
            data = self.message()
            line = data if isinstance(data, str) else data.decode("utf-8", "replace")
            if match(line):
                return line

    def wait_close(self) -> CloseConnection:
        while True:
            event = self.next_event()
            if isinstance(event, CloseConnection):
                return event

    def close(self) -> None:
        self.sock.close()
