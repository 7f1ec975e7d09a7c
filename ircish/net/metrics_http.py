"""The metrics endpoint: Prometheus text format over HTTP, served by the loop itself.

Theory of operation: ``[metrics] listen`` opens an ``ircish.net.http``
listener next to the chat listeners. ``GET /metrics`` (or ``HEAD``) runs
``generate_latest`` on a private ``CollectorRegistry`` holding two
collectors: ``ServerCollector``, which turns the chat's plain counters
(``ircish.metrics``) into metric families and computes the gauges (open
connections, users, rooms, queued bytes) at that moment, and
prometheus_client's ``ProcessCollector`` (CPU, memory, descriptors, read
from ``/proc`` on Linux, elsewhere empty). Nothing runs between scrapes:
no thread, no timer, and no work on the chat's paths beyond the counters'
increments. A scrape costs the loop one pass over the connections (for the
queued bytes) and a few small reads of ``/proc``. Every metric is listed in
docs/metrics.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ircish import __version__
from ircish.net.http import HttpLimits, HttpServer, Request, Response

if TYPE_CHECKING:
    from ircish.net.server import Server

log = logging.getLogger("ircish.net")

PATH = "/metrics"
#: Scrapers are few and quick; these bounds keep anyone else from costing the chat.
LIMITS = HttpLimits(max_connections=8, timeout=10.0, max_header_bytes=8192, max_body_bytes=8192)


class ServerCollector(Collector):
    """The server's metrics, read from its counters and state at scrape time."""

    def __init__(self, server: Server) -> None:
        self.server = server

    def collect(self) -> Iterable[Metric]:
        server = self.server
        chat = server.chat
        m = chat.metrics

        def counter(name: str, doc: str, value: float) -> CounterMetricFamily:
            return CounterMetricFamily(f"ircish_{name}", doc, value=value)

        def gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
            return GaugeMetricFamily(f"ircish_{name}", doc, value=value)

        def by_label(name: str, doc: str, label: str, values: dict[str, int]) -> Metric:
            family = CounterMetricFamily(f"ircish_{name}", doc, labels=[label])
            for key in sorted(values):
                family.add_metric([key], values[key])
            return family

        info = GaugeMetricFamily("ircish_build_info", "The running version.", labels=["version"])
        info.add_metric([__version__], 1)
        yield info
        yield gauge("connections", "Open client connections.", len(server.connections))
        yield counter(
            "connections_accepted", "Client connections accepted.", m.connections_accepted
        )
        yield by_label(
            "connections_refused",
            "Client connections refused at once, by reason.",
            "reason",
            m.connections_refused,
        )
        yield counter("registrations", "Users who completed registration.", m.registrations)
        yield gauge("users", "Registered users online.", len(chat.users))
        yield gauge("rooms", "Rooms that exist.", len(chat.rooms))
        yield counter("messages", "PRIVMSG and NOTICE events (one per target).", m.messages)
        yield counter(
            "deliveries",
            "Copies of events (messages, joins, quits...) queued for local connections.",
            m.deliveries,
        )
        yield counter("received_bytes", "Bytes read from client connections.", m.bytes_received)
        yield counter("sent_bytes", "Bytes written to client connections.", m.bytes_sent)
        yield gauge(
            "queued_bytes",
            "Bytes waiting in client connections' send queues.",
            sum(conn.queued_bytes for conn in server.connections.values()),
        )
        yield counter(
            "flood_delays", "Times flood control held a connection's lines back.", m.flood_delays
        )
        yield counter(
            "flood_disconnects",
            'Connections closed for flooding ("Excess Flood").',
            m.flood_disconnects,
        )
        yield counter(
            "sendq_drops", "Connections closed because their send queue overflowed.", m.sendq_drops
        )
        yield counter(
            "coalesced_passes",
            "Times the loop held a pass's output to handle more input first (write_coalesce).",
            m.coalesced_passes,
        )
        yield counter(
            "offload_refused",
            "Password checks refused because too many were waiting for a worker thread.",
            m.offload_refused,
        )
        yield by_label(
            "error_replies",
            "Error replies sent: numeric code, or IRCv3 FAIL code.",
            "code",
            m.error_replies,
        )
        yield by_label(
            "internal_errors",
            "Unexpected exceptions caught (each logged with its traceback), by where.",
            "where",
            m.internal_errors,
        )
        yield by_label(
            "web_responses",
            "HTTP responses on the chat listeners (the web client's files, handshakes), by status.",
            "status",
            m.web_responses,
        )
        yield counter("websockets", "WebSocket handshakes accepted.", m.websockets)
        commands = CounterMetricFamily(
            "ircish_commands", "Commands handled, by verb.", labels=["command"]
        )
        seconds = CounterMetricFamily(
            "ircish_command_seconds",
            "Seconds spent handling commands (delivery included), by verb.",
            labels=["command"],
        )
        for verb in sorted(m.commands):
            stats = m.commands[verb]
            commands.add_metric([verb], stats.count)
            seconds.add_metric([verb], stats.seconds)
        yield commands
        yield seconds
        if server.storage is not None:
            yield counter(
                "storage_commits", "Storage transactions committed.", server.storage.commits
            )
        endpoint = server.metrics_endpoint
        if endpoint is not None:
            yield counter(
                "metrics_refused",
                "Metrics connections refused because too many were open.",
                endpoint.http.refused,
            )


class MetricsEndpoint:
    """The ``[metrics]`` listener: its HTTP server and the registry it renders."""

    def __init__(self, server: Server, http: HttpServer, registry: CollectorRegistry) -> None:
        self.server = server
        self.http = http
        self.registry = registry

    @classmethod
    def open(cls, server: Server, host: str, port: int) -> MetricsEndpoint:
        """Bind and serve; an ``OSError`` names the metrics listener and its address."""
        registry = CollectorRegistry()
        registry.register(ServerCollector(server))
        # Reads /proc when scraped; no thread, nothing when idle.
        ProcessCollector(registry=registry)

        def handle(request: Request) -> Response:
            if request.path != PATH:
                return Response.error(404)
            if request.method not in ("GET", "HEAD"):
                return Response.error(405, ("Allow", "GET, HEAD"))
            return Response(200, generate_latest(registry), CONTENT_TYPE_LATEST)

        try:
            http = HttpServer.listen(server, host, port, handle, LIMITS)
        except OSError as exc:
            raise OSError(
                exc.errno, f"metrics listener {host}:{port}: {exc.strerror or exc}"
            ) from exc
        log.info("metrics on http://%s:%d%s", _url_host(http.address[0]), http.address[1], PATH)
        return cls(server, http, registry)

    @property
    def address(self) -> tuple[str, int]:
        """The bound (host, port): the port is the real one when 0 was configured."""
        return self.http.address

    def close(self) -> None:
        self.http.close()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
