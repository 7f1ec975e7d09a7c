"""The server's counters: plain integers that the core, the session and the loop add to.

Theory of operation: one ``Counters`` object per ``Chat`` (``chat.metrics``)
holds totals as ints (and the seconds spent per command as floats). The
layers that see an event add to them where they already loop or branch, so
counting costs an integer increment, never a lookup per recipient. Nothing
here knows about Prometheus: ``ircish.net.metrics_http`` reads these
counters on a scrape, adds what is cheaper to compute then (open
connections, queued bytes, users, rooms) and renders them. Keeping this
module free of third-party imports lets the core depend on it.

Label values are bounded by construction: commands are counted under their
verb only when it is in the command table (``"unknown"`` otherwise), numeric
replies by a code from ``ircish.protocol.numerics``, and the other labels are
the fixed names below.
"""

from __future__ import annotations

from collections import Counter

from ircish.protocol import numerics

#: Every numeric that reports an error (``ERR_*``), whatever its range (4xx, 5xx, 7xx, 9xx).
ERROR_NUMERICS: frozenset[str] = frozenset(
    value for name, value in vars(numerics).items() if name.startswith("ERR_")
)

#: Why an accepted socket was turned away before it became a connection.
REFUSED_REASONS = ("dline", "server_full", "per_ip", "connect_rate")

#: Where an unexpected exception (a bug, logged with its traceback) was caught:
#: a command's handler, rendering or delivering an event, reading from or
#: writing to one connection, or a timer, callback or other socket of the loop.
INTERNAL_ERROR_PLACES = ("command", "delivery", "connection", "loop", "cluster")

#: The label of every verb that is not in the command table.
UNKNOWN_COMMAND = "unknown"


class CommandStats:
    """How often one verb ran, and the seconds its handling took in all."""

    __slots__ = ("count", "seconds")

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0


class Counters:
    """Totals since the server started; every field only grows."""

    __slots__ = (
        "bytes_received",
        "bytes_sent",
        "coalesced_passes",
        "commands",
        "connections_accepted",
        "connections_refused",
        "deliveries",
        "error_replies",
        "flood_delays",
        "flood_disconnects",
        "internal_errors",
        "messages",
        "offload_refused",
        "registrations",
        "sendq_drops",
        "web_responses",
        "websockets",
    )

    def __init__(self) -> None:
        #: Sockets that became connections (refused ones are not counted here).
        self.connections_accepted = 0
        #: Reason (``REFUSED_REASONS``) -> sockets closed at once after accepting.
        self.connections_refused: Counter[str] = Counter(dict.fromkeys(REFUSED_REASONS, 0))
        #: HTTP status code -> responses on the chat listeners (the web client, handshakes).
        self.web_responses: Counter[str] = Counter()
        #: WebSocket handshakes accepted (each then a connection with a session of its own).
        self.websockets = 0
        #: Users who completed registration (a nickname of their own).
        self.registrations = 0
        #: PRIVMSG and NOTICE events (one per target), multiline batches included.
        self.messages = 0
        #: Copies of events (messages, joins, quits...) queued for local connections.
        self.deliveries = 0
        self.bytes_received = 0
        self.bytes_sent = 0
        #: Times flood control held a connection's lines back (and paused its reading).
        self.flood_delays = 0
        #: Connections ended with "Excess Flood".
        self.flood_disconnects = 0
        #: Connections ended because their queued output passed ``limits.sendq_bytes``.
        self.sendq_drops = 0
        #: Times a pass held its output to handle input that was ready at once
        #: (``limits.write_coalesce``).
        self.coalesced_passes = 0
        #: Password checks refused because too many were already waiting (``Chat.offload``).
        self.offload_refused = 0
        #: Error numeric code, or IRCv3 ``FAIL`` code -> replies sent.
        self.error_replies: Counter[str] = Counter()
        #: Place (``INTERNAL_ERROR_PLACES``) -> exceptions caught there.
        self.internal_errors: Counter[str] = Counter(dict.fromkeys(INTERNAL_ERROR_PLACES, 0))
        #: Verb (or ``UNKNOWN_COMMAND``) -> count and handling time.
        self.commands: dict[str, CommandStats] = {}

    def command_stats(self, verb: str) -> CommandStats:
        """The stats of ``verb``, created on first use (callers map unknown verbs first)."""
        stats = self.commands.get(verb)
        if stats is None:
            stats = self.commands[verb] = CommandStats()
        return stats
