"""End to end: the metrics endpoint scraped over real HTTP while people chat.

The server runs for real (``RunningServer``: the loop in a thread; or the
command line in a subprocess) with ``[metrics] listen`` on an ephemeral
port. Scrapes go through ``http.client`` and are parsed with
prometheus_client's own parser, so what is asserted is what Prometheus
would read. Hostile HTTP clients (garbage, huge headers, a slowloris, too
many connections) get their status or their close, and the chat next to
them carries on.
"""

from __future__ import annotations

import http.client
import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from ircish.config import Config, LimitsConfig, MetricsConfig
from ircish.net import metrics_http
from ircish.net.http import HttpLimits
from tests.e2e.e2e_support import Person, ServerProcess, free_port, person, run_cli, settle
from tests.e2e.test_tls import TlsServer, make_certs, tls_config
from tests.helpers import DEFAULT_TIMEOUT, LineClient, RunningServer

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def metrics_config(**limits: Any) -> Config:
    return Config(
        metrics=MetricsConfig(listen="127.0.0.1:0"), limits=replace(LimitsConfig(), **limits)
    )


@pytest.fixture
def server(make_server: Callable[..., RunningServer]) -> RunningServer:
    return make_server(metrics_config())


def address(server: RunningServer) -> tuple[str, int]:
    endpoint = server.server.metrics_endpoint
    assert endpoint is not None
    return endpoint.address


def get(addr: tuple[str, int], path: str = "/metrics", method: str = "GET") -> tuple[int, str, str]:
    """(status, content type, body) of one request on a new connection."""
    conn = http.client.HTTPConnection(*addr, timeout=DEFAULT_TIMEOUT)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type", ""), resp.read().decode()
    finally:
        conn.close()


def parse(text: str) -> Samples:
    """Every sample by (name, sorted labels), as prometheus_client's parser reads them."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape(addr: tuple[str, int]) -> Samples:
    status, ctype, body = get(addr)
    assert status == 200, body
    assert ctype == CONTENT_TYPE_LATEST
    return parse(body)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def expect_all(p: Person, lines: set[str]) -> None:
    """Wait until ``p`` has received every one of ``lines``, in any order."""
    missing = set(lines)
    while missing:
        missing.discard(p.conn.expect(lambda line: line in missing))


def still_chatting(a: Person, b: Person) -> None:
    """Both directions of a room message arrive (with the usual bounded wait)."""
    a.send("still here?")
    b.expect(rf"^\[#lobby\] <{a.nick}> still here\?$")
    b.send("yes")
    a.expect(rf"^\[#lobby\] <{b.nick}> yes$")


# -- what a scrape says ---------------------------------------------------------------


def test_counters_follow_a_conversation(server: RunningServer, clients: list[LineClient]) -> None:
    addr = address(server)
    people = [person(server, nick, clients) for nick in ("alice", "bob", "carol")]
    alice, bob, carol = people
    settle(alice, people)

    before = scrape(addr)
    assert value(before, "ircish_connections") == 3
    assert value(before, "ircish_users") == 3
    assert value(before, "ircish_rooms") == 1
    assert value(before, "ircish_registrations_total") == 3
    assert value(before, "ircish_connections_accepted_total") == 3

    lines = 5
    for i in range(lines):
        alice.send(f"room line {i}")
        bob.send(f"bob line {i}")
    carol.send("/msg alice psst")
    # Everyone has everything before the next scrape.
    last_alice = f"[#lobby] <alice> room line {lines - 1}"
    last_bob = f"[#lobby] <bob> bob line {lines - 1}"
    # Netcat users see their own lines too (echo): everyone has their own last one.
    expect_all(alice, {last_alice, last_bob, "[private] <carol> psst"})
    expect_all(bob, {last_alice, last_bob})
    expect_all(carol, {last_alice, last_bob, "[to alice] <carol> psst"})
    after = scrape(addr)

    # Room lines reach all three members (the sender's echo); the private one, alice and carol.
    assert delta(before, after, "ircish_messages_total") == 2 * lines + 1
    assert delta(before, after, "ircish_deliveries_total") == 2 * lines * 3 + 2
    assert delta(before, after, "ircish_commands_total", command="PRIVMSG") == 2 * lines + 1
    assert delta(before, after, "ircish_command_seconds_total", command="PRIVMSG") > 0
    # Bytes exactly: what the three sent, and what they were sent (lines plus CRLF).
    sent = [f"room line {i}" for i in range(lines)] + [f"bob line {i}" for i in range(lines)]
    received = [f"[#lobby] <alice> room line {i}" for i in range(lines)] * 3
    received += [f"[#lobby] <bob> bob line {i}" for i in range(lines)] * 3
    received += ["[private] <carol> psst", "[to alice] <carol> psst"]
    assert delta(before, after, "ircish_received_bytes_total") == sum(
        len(line) + 2 for line in [*sent, "/msg alice psst"]
    )
    assert delta(before, after, "ircish_sent_bytes_total") == sum(len(x) + 2 for x in received)
    assert value(after, "ircish_queued_bytes") == 0
    assert delta(before, after, "ircish_storage_commits_total") >= 1
    assert value(after, "ircish_build_info", version="0.1.0") == 1
    # Process metrics from /proc: no thread behind them.
    assert value(after, "process_cpu_seconds_total") > 0
    assert value(after, "process_open_fds") > 0

    bob.send("/quit bye")
    alice.expect(r"^\*\*\* bob quit \(Quit: bye\)$")
    gone = scrape(addr)
    assert value(gone, "ircish_users") == 2
    assert value(gone, "ircish_connections") in (2, 3)  # the socket closes after its last line


def test_errors_and_refusals_are_counted(
    make_server: Callable[..., RunningServer], clients: list[LineClient]
) -> None:
    server = make_server(metrics_config(max_connections_per_ip=1, limit_loopback=True))
    addr = address(server)
    irc = server.irc("dave")
    clients.append(irc)
    irc.send("FROBNICATE now")
    irc.expect(r" 421 dave FROBNICATE ")
    irc.send("WHATEVER")
    irc.expect(r" 421 dave WHATEVER ")
    irc.send("JOIN")
    irc.expect(r" 461 dave JOIN ")

    extra = server.client()
    clients.append(extra)
    assert extra.expect(r".") == "ERROR :Too many connections from your address"
    extra.expect_closed()

    after = scrape(addr)
    assert value(after, "ircish_error_replies_total", code="421") == 2
    assert value(after, "ircish_error_replies_total", code="461") == 1
    # Verbs outside the command table share one label, so no one can mint series.
    assert value(after, "ircish_commands_total", command="unknown") == 2
    assert not any(dict(labels).get("command") == "FROBNICATE" for _, labels in after)
    assert value(after, "ircish_connections_refused_total", reason="per_ip") == 1
    assert value(after, "ircish_connections_refused_total", reason="server_full") == 0
    assert value(after, "ircish_internal_errors_total", where="command") == 0


# -- HTTP -------------------------------------------------------------------------


def test_other_paths_and_methods(server: RunningServer) -> None:
    addr = address(server)
    assert get(addr, "/")[0] == 404
    assert get(addr, "/metrics/extra")[0] == 404
    assert get(addr, "/metrics", "POST")[0] == 405
    assert get(addr, "/metrics", "DELETE")[0] == 405
    status, ctype, body = get(addr, "/metrics", "HEAD")
    assert (status, ctype, body) == (200, CONTENT_TYPE_LATEST, "")
    # A query string is not part of the path.
    assert get(addr, "/metrics?name[]=ircish_users")[0] == 200


def test_keep_alive_serves_several_scrapes_on_one_connection(server: RunningServer) -> None:
    conn = http.client.HTTPConnection(*address(server), timeout=DEFAULT_TIMEOUT)
    try:
        for _ in range(3):
            conn.request("GET", "/metrics")
            resp = conn.getresponse()
            assert resp.status == 200
            assert resp.getheader("Connection") is None
            assert "ircish_connections " in resp.read().decode()
        conn.request("GET", "/nowhere")
        resp = conn.getresponse()
        assert resp.status == 404
        resp.read()
        # A request that asks to close gets its answer and then the close.
        conn.request("GET", "/metrics", headers={"Connection": "close"})
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.getheader("Connection") == "close"
        resp.read()
    finally:
        conn.close()


def raw(addr: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(addr, timeout=DEFAULT_TIMEOUT)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes (bounded by the socket's timeout)."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_pipelined_requests_are_answered_in_order(server: RunningServer) -> None:
    with raw(address(server)) as sock:
        sock.sendall(
            b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
            b"HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        statuses = re.findall(rb"^HTTP/1\.1 (\d+) ", read_all(sock), re.MULTILINE)
    assert statuses == [b"200", b"404", b"200"]


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"HELLO THERE\r\n\r\n", b"400"),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) + b"\r\n\r\n", b"400"),
        (b"GET /metrics HTTP/1.1\r\n\r\n", b"400"),  # HTTP/1.1 needs a Host header
        (b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n", b"431"),
        (b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9_000 + b"\r\n\r\n", b"431"),
        (
            b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + b"z" * 100_000,
            b"413",
        ),
    ],
    ids=["garbage", "tls-hello", "no-host", "huge-headers", "big-headers", "huge-body"],
)
def test_hostile_requests_get_an_error_and_a_close(
    server: RunningServer, clients: list[LineClient], request_bytes: bytes, status: bytes
) -> None:
    alice, bob = person(server, "alice", clients), person(server, "bob", clients)
    with raw(address(server)) as sock:
        sock.sendall(request_bytes)
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 " + status + b" "), answer[:200]
    assert b"\r\nConnection: close\r\n" in answer
    still_chatting(alice, bob)
    assert scrape(address(server))


@pytest.fixture
def http_limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., HttpLimits]]:
    """``http_limits(**bounds)``: HTTP bounds for the next server started (not the defaults)."""

    def use(**bounds: Any) -> HttpLimits:
        limits = replace(metrics_http.LIMITS, **bounds)
        monkeypatch.setattr(metrics_http, "LIMITS", limits)
        return limits

    yield use


def test_slowloris_is_closed_on_time_and_the_chat_goes_on(
    http_limits: Callable[..., HttpLimits],
    make_server: Callable[..., RunningServer],
    clients: list[LineClient],
) -> None:
    limits = http_limits(timeout=0.5)
    server = make_server(metrics_config())
    alice, bob = person(server, "alice", clients), person(server, "bob", clients)
    request = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 1000
    with raw(address(server)) as silent, raw(address(server)) as trickler:
        trickler.settimeout(0.05)
        start = time.monotonic()
        closed_after: float | None = None
        for i in range(len(request)):
            if time.monotonic() - start > limits.timeout + 5:
                break
            # A byte per 50 ms (the receive timeout paces it): never a complete request.
            try:
                trickler.send(request[i : i + 1])
                if trickler.recv(1) == b"":
                    closed_after = time.monotonic() - start
                    break
            except TimeoutError:
                continue
            except OSError:
                closed_after = time.monotonic() - start
                break
        assert closed_after is not None, "the trickling connection was not closed"
        assert limits.timeout <= closed_after < limits.timeout + 2
        # The one that never said anything is gone too.
        assert read_all(silent) == b""
        still_chatting(alice, bob)
    assert scrape(address(server))


def test_connections_beyond_the_bound_are_refused(
    http_limits: Callable[..., HttpLimits],
    make_server: Callable[..., RunningServer],
    clients: list[LineClient],
) -> None:
    limits = http_limits(max_connections=3)
    server = make_server(metrics_config())
    alice, bob = person(server, "alice", clients), person(server, "bob", clients)
    addr = address(server)
    # Silent connections, accepted in the order they connected: they fill the bound.
    held = [raw(addr) for _ in range(limits.max_connections)]
    try:
        for _ in range(3):
            with raw(addr) as extra:
                assert read_all(extra).startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
        still_chatting(alice, bob)
    finally:
        for sock in held:
            sock.close()
    # Closed (or timed out) connections make room again.
    deadline = time.monotonic() + DEFAULT_TIMEOUT
    while True:
        status, _, body = get(addr)
        if status == 200:
            break
        assert time.monotonic() < deadline, "scrapes stayed refused"
    assert value(parse(body), "ircish_metrics_refused_total") >= 3


# -- the command line -----------------------------------------------------------------


def test_the_cli_serves_metrics_and_logs_the_port(
    procs: list[ServerProcess], tmp_path: Path, clients: list[LineClient]
) -> None:
    config = tmp_path / "m.toml"
    config.write_text('[metrics]\nlisten = "127.0.0.1:0"\n', encoding="utf-8")
    proc = ServerProcess("--config", str(config))
    procs.append(proc)
    assert proc.wait_log("metrics on http://")
    found = re.search(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", proc.log())
    assert found, proc.log()
    addr = ("127.0.0.1", int(found.group(1)))
    conn = proc.client()
    clients.append(conn)
    conn.send("zoe")
    conn.expect(r"^\*\*\* Welcome to .*, zoe! ")
    samples = scrape(addr)
    assert value(samples, "ircish_users") == 1
    assert value(samples, "ircish_registrations_total") == 1


def test_metrics_are_off_by_default(
    procs: list[ServerProcess], make_server: Callable[..., RunningServer]
) -> None:
    assert make_server().server.metrics_endpoint is None
    proc = ServerProcess()
    procs.append(proc)
    assert "metrics on" not in proc.log()


def test_a_metrics_port_in_use_stops_the_server_with_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = tmp_path / "m.toml"
        config.write_text(f'[metrics]\nlisten = "127.0.0.1:{port}"\n', encoding="utf-8")
        result = run_cli("--config", str(config), "--port", str(free_port()))
    assert result.returncode == 1, result.stderr
    assert f"cannot listen: metrics listener 127.0.0.1:{port}: Address already in use" in (
        result.stderr
    )


def test_a_bad_metrics_address_is_a_configuration_error(tmp_path: Path) -> None:
    config = tmp_path / "m.toml"
    config.write_text('[metrics]\nlisten = "9667"\n', encoding="utf-8")
    result = run_cli("--config", str(config), "--port", "0")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "ircish-server: configuration error: metrics.listen: expected HOST:PORT "
        "(e.g. 127.0.0.1:9667 or [::1]:9667), got '9667'"
    )


def test_tls_connections_count_their_encrypted_bytes(tmp_path: Path) -> None:
    certs = make_certs(tmp_path)
    config = replace(tls_config(certs), metrics=MetricsConfig(listen="127.0.0.1:0"))
    server = TlsServer(config)
    try:
        addr = address(server)
        before = scrape(addr)
        conn = server.tls_client(certs.context())
        try:
            conn.send("tess")
            conn.expect(r"^\*\*\* Welcome to .*, tess! ")
            after = scrape(addr)
        finally:
            conn.close()
        # The handshake alone is more than the plaintext "tess\r\n" and the welcome.
        assert delta(before, after, "ircish_received_bytes_total") > 200
        assert delta(before, after, "ircish_sent_bytes_total") > 1000
        assert value(after, "ircish_registrations_total") == 1
    finally:
        server.stop()
