"""Connection throttling: an address opening connections too fast is refused for a while."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ircish.config import Config, LimitsConfig
from ircish.net.server import _throttle_key
from tests.helpers import LineClient, RunningServer


def test_the_fourth_connection_in_the_window_is_refused(
    make_server: Callable[..., RunningServer], clients: list[LineClient]
) -> None:
    limits = replace(LimitsConfig(), limit_loopback=True, connect_rate=3, connect_window=120.0)
    server = make_server(replace(Config(), limits=limits))
    for _ in range(3):
        c = server.client()
        clients.append(c)
        c.expect(r"Type a nickname")
        c.close()  # closing does not give the slot back: it counts connects, not connections
    refused = server.client()
    clients.append(refused)
    refused.expect(r"^ERROR :Too many new connections from your address; try again in 2 minutes$")
    refused.expect_closed()


def test_ipv6_addresses_are_counted_by_their_64_network() -> None:
    assert _throttle_key("2001:db8:1:2:aaaa::1") == _throttle_key("2001:db8:1:2:bbbb::9")
    assert _throttle_key("2001:db8:1:3::1") != _throttle_key("2001:db8:1:2::1")
    assert _throttle_key("192.0.2.7") == "192.0.2.7"
