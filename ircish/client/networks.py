"""Several networks at once: one ``Network`` per connection, one buffer list over all.

Theory of operation: each network is an ``IrcClient`` with its own ``Model``
(its server buffer, rooms, queries, nickname, case mapping), so the protocol
layer never knows other networks exist. ``Networks`` puts their buffers in one
list (network by network, in the order they were opened), numbers them, and
says which one is in view: the current buffer of the focused network's model.
Other networks' models are not focused (``Model.focused``), so everything that
arrives there counts as unread, as in a buffer out of view.

What the user set for the session (``/set``, ``/ignore``) holds for every
network: after a command, ``spread`` copies it from the network it was typed in
to the others. The input history is one, shared by every model.

Buffer names get their network's name in front (``libera/#python``) only while
more than one network is open; with one, nothing changes. A network's name is
its ``[servers]`` entry's; one opened by address is named by its host until
the server announces its network name (ISUPPORT ``NETWORK=Libera.Chat``), which
then names it unless another open network has that name too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ircish.client.model import Buffer, Model

if TYPE_CHECKING:
    from ircish.client.connection import Connection
    from ircish.client.irc import IrcClient


@dataclass(eq=False)
class Network:
    """One connection: its name (``libera``, ``irc.example.org``), protocol client and link.

    ``name`` is the user's (an entry) when ``chosen``, else the fallback for
    when the server's announced name cannot be used (``Networks.name_of``).
    """

    name: str
    client: IrcClient
    #: ``host:port``, as the title line shows it.
    label: str = ""
    #: None until the application runs it (and in tests of the command layer).
    connection: Connection | None = None
    #: Set by /disconnect: this network's end is not the end of the application.
    leaving: bool = False
    #: ``name`` is a [servers] entry's: the server's NETWORK name does not replace it.
    chosen: bool = False

    @property
    def model(self) -> Model:
        return self.client.model


class Networks:
    """The open networks, the buffer list over them, and which buffer is in view."""

    def __init__(self, first: Network) -> None:
        self.all: list[Network] = [first]
        self.current = first
        first.model.focused = True
        #: Opens a network for ``/connect NAME|HOST[:PORT]`` (the application sets it).
        self.opener: Callable[[str], Network] | None = None
        #: Ends a network for ``/disconnect`` (the application sets it).
        self.closer: Callable[[Network, str], None] | None = None
        #: Copies the session's settings from one model to another (``commands`` sets it).
        self.share: Callable[[Model, Model], None] | None = None

    # -- the list -----------------------------------------------------------------------

    def name_of(self, net: Network) -> str:
        """What the network is called: its entry, its announced name if unique, its host."""
        announced = net.model.server.name
        if net.chosen or announced == net.label:
            return net.name
        key = announced.casefold()
        for other in self.all:
            if other is not net and key in (
                other.name.casefold(),
                other.model.server.name.casefold(),
            ):
                return net.name
        return announced

    def named(self, name: str) -> Network | None:
        folded = name.casefold()
        return next((net for net in self.all if self.name_of(net).casefold() == folded), None)

    def taken(self, name: str) -> bool:
        """Whether a network is, or may fall back to being, called ``name``."""
        key = name.casefold()
        return any(key in (net.name.casefold(), self.name_of(net).casefold()) for net in self.all)

    def unique_name(self, wanted: str) -> str:
        name, i = wanted, 1
        while self.taken(name):
            i += 1
            name = f"{wanted}{i}"
        return name

    def add(self, net: Network) -> None:
        """A new network, after the others; it shares their input history and settings."""
        model = net.model
        model.history = self.current.model.history
        model.focused = False
        if self.share is not None:
            self.share(self.current.model, model)
        self.all.append(net)

    def remove(self, net: Network) -> None:
        """Forget a network and its buffers; the view moves to another network."""
        if len(self.all) == 1:
            raise ValueError("the last network stays")
        i = self.all.index(net)
        self.all.remove(net)
        if self.current is net:
            net.model.focused = False
            self.focus(self.all[max(0, i - 1)])

    def spread(self) -> None:
        """What was set in the current network's session holds in every network."""
        if self.share is None:
            return
        for net in self.all:
            if net is not self.current:
                self.share(self.current.model, net.model)

    def entries(self) -> list[tuple[Network, Buffer]]:
        """Every buffer with its network, in the order the buffer list numbers them."""
        return [(net, buf) for net in self.all for buf in net.model.buffers]

    def number(self, net: Network, buf: Buffer) -> int:
        return self.entries().index((net, buf)) + 1

    def label(self, net: Network, buf: Buffer) -> str:
        """A buffer's name in lists: ``libera/#python`` while several networks are open."""
        if len(self.all) == 1:
            return buf.name
        if buf is net.model.server:
            return self.name_of(net)
        return f"{self.name_of(net)}/{buf.name}"

    def view(self) -> tuple[Network, Buffer]:
        return self.current, self.current.model.current

    # -- moving around --------------------------------------------------------------------

    def focus(self, net: Network, buf: Buffer | None = None) -> None:
        """Show ``buf`` of ``net`` (default: the buffer that network was on)."""
        if net is not self.current:
            old = self.current.model
            old.current.marker = None  # read now: the marker goes when the user leaves
            old.focused = False
            self.current = net
            net.model.focused = True
        net.model.switch(buf or net.model.current)

    def find(self, text: str) -> tuple[Network, Buffer] | None:
        """A buffer by number (``3``), ``network/name``, or name (this network's first)."""
        if text.isdigit():
            entries = self.entries()
            i = int(text) - 1
            return entries[i] if 0 <= i < len(entries) else None
        head, sep, rest = text.partition("/")
        if sep and (net := self.named(head)) is not None:
            found = net.model.find(rest) if rest else net.model.server
            return (net, found) if found is not None else None
        if (net := self.named(text)) is not None and len(self.all) > 1:
            return net, net.model.server
        for net in (self.current, *self.all):
            found = net.model.find(text)
            if found is not None:
                return net, found
        return None

    def step(self, offset: int) -> None:
        """The next (or previous) buffer of the list, wrapping around."""
        entries = self.entries()
        i = entries.index(self.view())
        self.focus(*entries[(i + offset) % len(entries)])

    def activity(self) -> list[tuple[int, Network, Buffer]]:
        """Buffers with unread lines, numbered, in list order."""
        return [
            (i, net, buf)
            for i, (net, buf) in enumerate(self.entries(), 1)
            if buf.unread or buf.highlights
        ]

    def to_activity(self) -> bool:
        """Go to a buffer with highlights, else with unread lines; False if none."""
        here = self.view()
        for attr in ("highlights", "unread"):
            for net, buf in self.entries():
                if getattr(buf, attr) and (net, buf) != here:
                    self.focus(net, buf)
                    return True
        return False

    @classmethod
    def single(cls, client: IrcClient) -> Networks:
        """The one network of a client used alone (the command layer's tests, scripts)."""
        return cls(Network(client.model.server.name, client))
