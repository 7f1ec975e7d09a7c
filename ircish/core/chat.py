"""The chat core: users, rooms, and the outbox of the command being handled.

Theory of operation: the session layer creates one ``Client`` per connection
(with a provisional ``User``) and calls ``Chat.handle`` with each parsed
``Command``. Handlers validate, call the state-change functions of
``ircish.core.state``, and add to the command's outbox with ``emit`` (an
event for an audience) and ``reply``/``numeric``/``error`` (for one client).
Nothing is written while a handler runs: when the command ends,
``ircish.core.pipeline.run`` stamps, stores, publishes and delivers the
outbox. Work that is not a command (timers, a lost connection, shutdown)
opens its own outbox with ``chat.outbox(client)``; an ``emit`` or ``reply``
with no open outbox is delivered at once.

No sockets and no disk here: storage and publishing plug in as the
``store`` and ``publish`` hooks.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from ircish import __version__
from ircish.config import Config
from ircish.core import accounts, bans, history, pipeline, registered, state
from ircish.core.bans import BanList
from ircish.core.clients import Client, Sink
from ircish.core.cloaks import Cloaks, normalize_ip
from ircish.core.command import Command
from ircish.core.dialect import Dialect
from ircish.core.dispatch import dispatch
from ircish.core.events import Audience, Closing, Envelope, Event, Numeric, StandardReply
from ircish.core.order import Order
from ircish.core.pipeline import Hook, MsgIdMinter, Outbox
from ircish.core.rooms import RoomRegistry
from ircish.core.storage import Storage
from ircish.core.users import User, UserRegistry
from ircish.errors import CommandError
from ircish.metrics import Counters

log = logging.getLogger("ircish.core")

T = TypeVar("T")
#: Runs ``work()`` off the loop, then ``done(result)`` back on the loop thread.
Offloader = Callable[[Callable[[], Any], Callable[[Any], None]], None]
#: Offloaded jobs (password checks) waiting at most; past it ``offload`` refuses.
MAX_OFFLOADED = 64
#: ``scheduler(delay, callback)``: run ``callback()`` on the loop thread after ``delay`` seconds.
Scheduler = Callable[[float, Callable[[], None]], None]
#: Retention (``[history] max_age_days``, ``max_per_target``) deletes at most PRUNE_BATCH
#: events every PRUNE_EVERY seconds, so the loop never waits on one long delete; after a
#: full batch it goes on after PRUNE_AGAIN seconds, letting the chat run in between.
PRUNE_EVERY = 10.0
PRUNE_AGAIN = 0.2
PRUNE_BATCH = 500


class Network(Protocol):
    """What the core asks of other server processes (``[cluster]``; ``ircish.net.cluster``).

    Everything the network answers arrives later, through a callback on the
    loop thread: the core never waits.
    """

    def user_registered(self, user: User) -> None:
        """A local user finished registration: the other processes learn of them."""

    def claim_nick(self, user: User, nick: str, done: Callable[[bool], None]) -> None:
        """Claim ``nick`` for ``user`` across the network; ``done(True)`` once it is theirs."""

    def claim_record(
        self, table: str, key: str, value: object, done: Callable[[bool], None]
    ) -> None:
        """Claim a stored name network-wide (``table`` "account": an account, "room": a
        registered room) with its first record; ``done(False)`` if it was taken."""


class Chat:
    """All state of one server, and the operations handlers build on."""

    def __init__(self, config: Config, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.users = UserRegistry()
        self.rooms = RoomRegistry()
        self.config = config
        #: Every local client, registered or not.
        self.clients: set[Client] = set()
        self.created = clock()
        #: Registered users with mode +i / +o, kept as counts so LUSERS is O(1).
        self.invisible = 0
        self.operators = 0
        #: Most users seen at once (LUSERS 265/266).
        self.max_users = 0
        #: Registered users of other processes (``[cluster]``), and most local users at once.
        self.remote_users = 0
        self.max_local = 0
        self.version = f"ircish-{__version__}"
        self.msgids = MsgIdMinter()
        #: Folded nickname -> local clients that MONITOR it.
        self.monitors: dict[str, set[Client]] = {}
        #: Recent users who left or changed nick, newest last (WHOWAS).
        self.whowas = state.new_whowas(config.limits.max_whowas)
        #: Pipeline hooks: history (set by ``attach_storage``) and other processes (``[cluster]``).
        self.store: Hook | None = None
        self.publish: Hook | None = None
        #: Other server processes sharing this network (``[cluster]``); None: this one alone.
        self.network: Network | None = None
        #: Local output held until the network orders it (``[cluster]``); None: never held.
        self.order: Order | None = None
        #: Accounts, registered rooms and history (``ircish.core.storage``); None: all off.
        self.storage: Storage | None = None
        #: Folded names of the registered rooms (``ircish.core.registered``); empty without storage.
        self.registered_rooms: set[str] = set()
        #: Set by the network layer: run a callback after a delay, on the loop thread.
        self.scheduler: Scheduler | None = None
        #: Set by the network layer to run slow work on a worker thread (``offload``).
        self.offloader: Offloader | None = None
        #: Jobs handed to ``offloader`` whose ``done`` has not run yet (``offload``).
        self.offloaded = 0
        #: Set by the network layer: reload the configuration file (REHASH); returns a
        #: summary, raises ``ConfigError`` and keeps the old configuration when it is bad.
        self.reloader: Callable[[], str] | None = None
        #: The file ``reloader`` reads, as REHASH names it.
        self.config_file = ""
        #: Clients whose OPER password check is running (one at a time each).
        self.oper_pending: set[Client] = set()
        #: Logins, throttling and nick protection in progress (``ircish.core.accounts``).
        self.accounts = accounts.AccountState()
        #: Totals for the metrics endpoint (``ircish.metrics``): plain ints, added to in place.
        self.metrics = Counters()
        #: K-lines and D-lines (``ircish.core.bans``); stored when storage is attached.
        self.bans = BanList(clock)
        #: The host others see for an address (``ircish.core.cloaks``).
        self.cloaks = Cloaks(
            config.server.cloaks, config.server.cloak_secret, config.server.network
        )
        self._out: Outbox | None = None

    @property
    def config(self) -> Config:
        return self._config

    @config.setter
    def config(self, config: Config) -> None:
        """Use a (reloaded) configuration; the default room belongs to the server."""
        self._config = config
        self.rooms.set_server_room(config.server.default_room)

    def attach_storage(self, storage: Storage) -> None:
        """Use ``storage`` for accounts and rooms, and for history when it is enabled."""
        self.storage = storage
        registered.load(self)
        accounts.load(self)
        self.cloaks.adopt_stored_secret(storage)
        bans.load(self)
        if self.config.history.enabled:
            self.store = functools.partial(history.record, self)
        retention = self.config.history
        if retention.max_age_days or retention.max_per_target:
            self.later(PRUNE_EVERY, self._prune)

    def _prune(self) -> None:
        """Retention, one small batch; the next comes sooner while batches come back full."""
        deleted = 0
        try:
            deleted = history.prune(self, PRUNE_BATCH)
        finally:
            self.later(PRUNE_AGAIN if deleted >= PRUNE_BATCH else PRUNE_EVERY, self._prune)

    def later(self, delay: float, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the loop thread in ``delay`` seconds (never, without a loop)."""
        if self.scheduler is not None:
            self.scheduler(delay, callback)

    @property
    def server_name(self) -> str:
        return self.config.server.name

    # -- the outbox -----------------------------------------------------------

    def begin(self, client: Client | None, label: str = "") -> Outbox:
        """Open an outbox (or join the one already open, e.g. QUIT inside a command)."""
        out = self._out
        if out is not None:
            out.depth += 1
            return out
        out = self._out = Outbox(client, label)
        return out

    def end(self, out: Outbox) -> None:
        """Close an outbox; the outermost close runs the pipeline."""
        out.depth -= 1
        if out.depth == 0:
            self._out = None
            pipeline.run(self, out)

    @contextmanager
    def outbox(self, client: Client | None = None) -> Iterator[Outbox]:
        out = self.begin(client)
        try:
            yield out
        finally:
            self.end(out)

    @contextmanager
    def remote(self, envelopes: list[Envelope]) -> Iterator[Outbox]:
        """Apply what another process did: the body runs ``core.state`` functions on this
        copy of the state, and what they emit for an audience is replaced by ``envelopes``,
        stamped where it happened and delivered here to local clients only (never
        published again). Replies the changes cause here (MONITOR) are kept.
        """
        if self._out is not None:
            raise RuntimeError("remote events are applied between commands, never inside one")
        out = self.begin(None)
        out.remote = True
        if self.order is not None:
            self.order.bypass = True  # reset by the pipeline (``Order.done``)
        try:
            yield out
        finally:
            out.items = [*envelopes, *(e for e in out.items if e.audience is None)]
            self.end(out)

    def _add(self, env: Envelope) -> None:
        out = self._out
        if out is not None:
            out.items.append(env)
            return
        single = Outbox(None)
        single.items.append(env)
        pipeline.run(self, single)

    def emit(
        self,
        event: Event,
        audience: Audience,
        *,
        tags: tuple[tuple[str, str], ...] = (),
        echo: bool = False,
        account: str = "",
    ) -> None:
        """Add an event for an audience to the open outbox (``account``: the sender's)."""
        env = Envelope(event, audience, None, tags, echo, account)
        out = self._out
        if out is not None:
            out.items.append(env)
        else:
            self._add(env)

    def reply(self, client: Client, event: Event) -> None:
        """Add a reply for one client (usually the command's own)."""
        env = Envelope(event, None, client)
        out = self._out
        if out is not None:
            out.items.append(env)
        else:
            self._add(env)

    def numeric(self, client: Client, code: str, *params: str) -> None:
        """A numeric reply; ``params`` follow the recipient's nick."""
        self.reply(client, Numeric(code, params))

    def error(self, client: Client, exc: CommandError) -> None:
        """The reply a failed command stands for."""
        self.reply(client, Numeric(exc.code, (*exc.params, exc.text)))

    def fail(self, client: Client, command: str, code: str, *context: str, text: str) -> None:
        """An IRCv3 standard reply ``FAIL``."""
        self.reply(client, StandardReply("FAIL", command, code, context, text))

    def offload(self, work: Callable[[], T], done: Callable[[T], None]) -> bool:
        """Run slow, pure ``work`` (a password hash check) off the loop; then ``done(result)``.

        ``done`` runs on the loop thread in an outbox for the client of the
        command that called this, which keeps that command's IRCv3 label: the
        labeled response is what ``done`` sends. ``work`` must not touch chat
        state (it may run on another thread) and should not raise. Without an
        ``offloader`` (in-memory tests) both run at once, inline.

        Returns False, and runs nothing, while ``MAX_OFFLOADED`` jobs wait: a
        flood of logins from many connections must not queue hours of hashing
        in front of everyone else's. The caller then answers ``accounts.BUSY_TEXT``.
        """
        if self.offloader is not None and self.offloaded >= MAX_OFFLOADED:
            self.metrics.offload_refused += 1
            return False

        def counted(result: T) -> None:
            self.offloaded -= 1
            done(result)

        self.offloaded += 1
        if self.offloader is None:
            self.continuation(counted, keep_label=True)(work())
        else:
            self.offloader(work, self.continuation(counted))
        return True

    def continuation(
        self, done: Callable[[T], None], *, keep_label: bool = False
    ) -> Callable[[T], None]:
        """``done`` for an answer that arrives later (a worker thread, the network).

        It runs in an outbox for the client of the command open now, which keeps
        that command's IRCv3 label: the labeled response is what ``done`` sends.
        """
        out = self._out
        client = out.client if out is not None else None
        label = ""
        if out is not None and not keep_label:
            # The command's own outbox ends now; its label goes with the answer.
            label, out.label = out.label, ""

        def finish(result: T) -> None:
            later = self.begin(client, "" if client is not None and client.quitting else label)
            try:
                done(result)
            finally:
                self.end(later)

        return finish

    def claim_record(
        self, table: str, key: str, value: object, done: Callable[[bool], None]
    ) -> None:
        """Claim an account or room name network-wide (``Network.claim_record``), then
        ``done(ok)`` as ``continuation`` runs it; alone on the network, at once."""
        if self.network is None:
            done(True)
        else:
            self.network.claim_record(table, key, value, self.continuation(done))

    @property
    def applying_remote(self) -> bool:
        """Another process's events are being applied (``remote``): what they change in
        storage was shared where they happened."""
        return self._out is not None and self._out.remote

    def close_after(self, client: Client) -> None:
        """Close ``client`` once the open outbox has been delivered."""
        out = self._out
        if out is None:
            client.sink.close()
        else:
            out.closing.append(client)

    # -- lifecycle ------------------------------------------------------------

    def connect(
        self,
        sink: Sink,
        host: str,
        dialect: Dialect,
        now: float | None = None,
        *,
        secure: bool = False,
    ) -> Client:
        """A new connection; its user has no nickname yet."""
        when = self.clock() if now is None else now
        server = self.config.server
        # A reload may have changed the cloak settings (one comparison when it did not).
        self.cloaks.follow(server.cloaks, server.cloak_secret, server.network)
        user = User(self.cloaks.host_for(host), when, ip=normalize_ip(host) or host)
        if self.order is None:
            client = Client(user, sink, dialect, when, secure)
        else:
            held = self.order.wrap(sink)
            client = held.client = Client(user, held, dialect, when, secure)
        user.clients.append(client)
        self.clients.add(client)
        return client

    def disconnect(
        self, client: Client, reason: str, *, tell_user: bool = True, logged: str | None = None
    ) -> None:
        """Remove a client; with its user's last client, the user quits everywhere.

        ``tell_user`` sends the client a closing line first (not possible when
        the connection is already gone). ``logged`` replaces a reason that is
        the user's own text in the log. Calling it twice is harmless.
        """
        if client.quitting:
            return
        client.quitting = True
        with self.outbox(client):
            user = client.user
            state.detach(self, client)
            accounts.client_gone(self, client)
            if user.registered and not user.clients:
                state.quit(self, user, reason)
                # %r: a server's reason may still quote a peer (an oper's KILL), and a
                # log file must not carry their escapes.
                log.info("%s (%s) quit: %r", user.nick, user.ip, logged or reason)
            if tell_user:
                self.reply(client, Closing(reason))
            self.clients.discard(client)
            self.close_after(client)

    def handle(self, client: Client, command: Command) -> None:
        """Run one parsed command for ``client`` (see ``ircish.core.dispatch``)."""
        client.last_active = self.clock()
        label = ""
        if "labeled-response" in client.caps and "batch" in client.caps:
            label = command.tags.get("label", "")
        out = self._out
        if out is None:
            out = self._out = Outbox(client, label)
        else:
            out.depth += 1
        try:
            dispatch(self, client, command)
        finally:
            # end(out), inlined: this runs once per command.
            out.depth -= 1
            if out.depth == 0:
                self._out = None
                pipeline.run(self, out)

    def shutdown(self, reason: str) -> None:
        """Tell everyone the server is going away and close every connection.

        No quits are broadcast: everyone is leaving at once, and N users each
        telling their room-mates would cost O(N * room size) on the way out.
        """
        closing = Closing(reason)
        accounts.shutdown(self)
        with self.outbox():
            for client in list(self.clients):
                client.quitting = True
                self.reply(client, closing)
                self.close_after(client)
        self.clients.clear()
