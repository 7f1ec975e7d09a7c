"""The loop's small HTTP server (``ircish.net.http``) with handlers of the tests' own.

It runs inside the real server loop (``RunningServer``), like the metrics
endpoint: a response bigger than the kernel's socket buffers is sent over
several passes with write interest, a failing handler costs one 500, and
keep-alive carries on after both.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator

import pytest

from ircish.net.http import HttpLimits, HttpServer, Request, Response
from tests.e2e.e2e_support import person
from tests.helpers import DEFAULT_TIMEOUT, LineClient, RunningServer, in_loop

BIG = bytes(range(256)) * (16 * 1024)  # 4 MiB: more than loopback sockets buffer


def handler(request: Request) -> Response:
    if request.path == "/big":
        return Response(200, BIG, "application/octet-stream")
    if request.path == "/boom":
        raise RuntimeError("a bug in a handler")
    return Response(200, f"{request.method} {request.target}\n".encode())


@pytest.fixture
def web(server: RunningServer) -> Iterator[HttpServer]:
    http_server = in_loop(
        server, lambda: HttpServer.listen(server.server, "127.0.0.1", 0, handler, HttpLimits())
    )
    yield http_server
    in_loop(server, http_server.close)


def test_a_big_response_goes_out_over_several_passes(
    server: RunningServer, web: HttpServer, clients: list[LineClient]
) -> None:
    alice, bob = person(server, "alice", clients), person(server, "bob", clients)
    conn = http.client.HTTPConnection(*web.address, timeout=DEFAULT_TIMEOUT)
    try:
        conn.request("GET", "/big")
        resp = conn.getresponse()
        # The chat goes on while the response waits in the queue.
        alice.send("during the download")
        bob.expect(r"^\[#lobby\] <alice> during the download$")
        assert resp.status == 200
        assert resp.read() == BIG
        conn.request("GET", "/after?x=1")
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (200, b"GET /after?x=1\n")
    finally:
        conn.close()


def test_a_failing_handler_costs_one_500(server: RunningServer, web: HttpServer) -> None:
    conn = http.client.HTTPConnection(*web.address, timeout=DEFAULT_TIMEOUT)
    try:
        conn.request("GET", "/boom")
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (500, b"500 Internal Server Error\n")
        conn.request("PUT", "/fine", body=b"small body")
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (200, b"PUT /fine\n")
    finally:
        conn.close()


def test_closing_the_server_closes_its_connections(server: RunningServer) -> None:
    web = in_loop(
        server, lambda: HttpServer.listen(server.server, "127.0.0.1", 0, handler, HttpLimits())
    )
    conn = http.client.HTTPConnection(*web.address, timeout=DEFAULT_TIMEOUT)
    try:
        conn.request("GET", "/x")
        conn.getresponse().read()
        in_loop(server, web.close)
        assert not web.connections
        with pytest.raises((http.client.HTTPException, OSError)):
            conn.request("GET", "/x")
            conn.getresponse()
    finally:
        conn.close()
