"""The chat core: users, rooms, and delivery. No sockets here.

Theory of operation: the network layer creates one ``User`` per connection
with a ``Sink`` (its output buffer) and calls ``Chat.handle`` with each parsed
``Command``. Handlers change state and produce events with ``send`` (one
recipient) or ``fanout`` (many). ``fanout`` renders an event once per distinct
``render_key`` (dialect plus the capabilities rendering depends on) and appends
the same bytes object to every recipient's sink, so a message to a room of 500
costs a handful of renderings and 500 appends, never 500 ``send`` calls.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from ircish.config import Config
from ircish.core.command import Command
from ircish.core.dialect import Dialect
from ircish.core.dispatch import dispatch
from ircish.core.events import Closing, Event, Numeric, Quit
from ircish.core.rooms import RoomRegistry
from ircish.core.users import Sink, User, UserRegistry
from ircish.errors import CommandError

log = logging.getLogger("ircish.core")


class Chat:
    """All state of one server, and the operations handlers build on."""

    def __init__(self, config: Config, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.users = UserRegistry()
        self.rooms = RoomRegistry()
        #: Every local user, registered or not.
        self.local: set[User] = set()
        self.created = clock()
        #: Registered users with mode +i, kept as a count so LUSERS is O(1).
        self.invisible = 0
        self.version = _version()

    @property
    def server_name(self) -> str:
        return self.config.server.name

    # -- delivery -----------------------------------------------------------

    def send(self, user: User, event: Event) -> None:
        """Render ``event`` for one user and queue it."""
        data = user.dialect.render(event, user)
        if data:
            user.sink.write(data)

    def fanout(self, recipients: Iterable[User], event: Event, exclude: User | None = None) -> None:
        """Deliver one event to many users (but ``exclude``), rendering once per render key."""
        cache: dict[object, bytes] = {}
        for user in recipients:
            if user is exclude:
                continue
            key = user.render_key
            data = cache.get(key)
            if data is None:
                data = cache[key] = user.dialect.render(event, user)
            if data:
                user.sink.write(data)

    def numeric(self, user: User, code: str, *params: str) -> None:
        """Send a numeric reply; ``params`` follow the recipient's nick."""
        self.send(user, Numeric(code, params))

    def error(self, user: User, exc: CommandError) -> None:
        """Send the numeric a failed command stands for."""
        self.send(user, Numeric(exc.code, (*exc.params, exc.text)))

    # -- lifecycle ----------------------------------------------------------

    def connect(self, sink: Sink, host: str, dialect: Dialect) -> User:
        """A new connection; it has no nickname yet."""
        user = User(sink, host, dialect, self.clock())
        self.local.add(user)
        return user

    def disconnect(self, user: User, reason: str, *, tell_user: bool = True) -> None:
        """Remove a user everywhere; room-mates see a quit with ``reason``.

        ``tell_user`` sends the user a closing line first (not possible when
        the connection is already gone). Calling it twice is harmless.
        """
        if user.quitting:
            return
        user.quitting = True
        if user.registered:
            self.fanout(user.peers(), Quit(user.mask, user.nick, reason))
            for room in list(user.rooms.values()):
                room.members.pop(user, None)
                self.rooms.discard_if_empty(room)
            user.rooms.clear()
            user.current_room = None
            self.users.remove(user)
            if "i" in user.modes:
                self.invisible -= 1
            log.info("%s (%s) quit: %s", user.nick, user.host, reason)
        if tell_user:
            self.send(user, Closing(reason))
        self.local.discard(user)
        user.sink.close()

    def handle(self, user: User, command: Command) -> None:
        """Run one parsed command for ``user`` (see ``ircish.core.dispatch``)."""
        user.last_active = self.clock()
        dispatch(self, user, command)

    def shutdown(self, reason: str) -> None:
        """Tell everyone the server is going away and close every connection.

        No quits are broadcast: everyone is leaving at once, and N users each
        telling their room-mates would cost O(N * room size) on the way out.
        """
        closing = Closing(reason)
        for user in list(self.local):
            user.quitting = True
            self.send(user, closing)
            user.sink.close()
        self.local.clear()


def _version() -> str:
    from ircish import __version__  # noqa: PLC0415

    return f"ircish-{__version__}"
