"""Several networks in one client: one buffer list, commands on the buffer's network."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ircish.client.commands import UsageError, execute, share_settings
from ircish.client.networks import Network, Networks
from tests.client.conftest import feed, registered, run, running_app, wait_until
from tests.client.test_ui import ENTER
from tests.helpers import LineClient, RunningServer


def two_networks() -> Networks:
    home = registered(rooms=("#lobby", "#dev"))
    libera = registered(rooms=("#python",))
    nets = Networks(Network("home", home))
    nets.share = share_settings
    nets.add(Network("libera", libera))
    return nets


def test_one_buffer_list_over_the_networks_with_their_names() -> None:
    nets = two_networks()
    home, libera = nets.all
    assert [nets.label(net, buf) for net, buf in nets.entries()] == [
        "home",
        "home/#lobby",
        "home/#dev",
        "libera",
        "libera/#python",
    ]
    found = nets.find("libera/#python")
    assert found == (libera, libera.model.find("#python"))
    assert nets.find("5") == found and nets.find("libera") == (libera, libera.model.server)
    assert nets.find("#python") == found  # a name only the other network has
    assert nets.find("nowhere/#x") is None and nets.find("9") is None
    nets.focus(*found)
    assert nets.current is libera and libera.model.focused and not home.model.focused
    nets.step(1)  # wraps around to the first network's server buffer
    assert nets.view() == (home, home.model.server)
    # With one network left, names are as before.
    nets.remove(libera)
    assert [nets.label(net, buf) for net, buf in nets.entries()][1] == "#lobby"


def test_what_arrives_in_a_network_out_of_view_is_unread() -> None:
    nets = two_networks()
    home, libera = nets.all
    python = libera.model.find("#python")
    assert python is not None and libera.model.current is python  # its own current buffer
    feed(libera.client, ":bob!~b@h PRIVMSG #python :home is quiet today")
    assert python.unread == 1
    assert nets.activity() == [(5, libera, python)]
    assert nets.to_activity() and nets.view() == (libera, python)
    assert python.unread == 0
    feed(home.client, ":bob!~b@h PRIVMSG #dev :alice: over here")
    dev = home.model.find("#dev")
    assert dev is not None and dev.highlights == 1


def test_commands_act_on_the_network_of_the_buffer_in_view() -> None:
    nets = two_networks()
    home, libera = nets.all
    home.client.pop_outgoing()
    libera.client.pop_outgoing()
    nets.focus(libera)
    execute(nets.current.client, "/join #rust", nets)
    assert libera.client.pop_outgoing() == ["JOIN #rust"]
    assert home.client.pop_outgoing() == []
    execute(nets.current.client, "/switch home/#dev", nets)
    assert nets.view() == (home, home.model.find("#dev"))
    execute(home.client, "/set show_joins off", nets)
    execute(home.client, "/ignore spammer", nets)
    nets.spread()
    assert libera.model.show_joins is False and libera.model.ignores == ["spammer!*@*"]
    assert libera.model.history is home.model.history  # one input history


def test_connect_and_disconnect_need_the_application() -> None:
    client = registered()
    for line, error in [
        ("/connect elsewhere", "/connect works in the full-screen client only"),
        ("/disconnect", "This is the only network open: /quit to leave"),
    ]:
        try:
            execute(client, line)
        except UsageError as exc:
            assert str(exc) == error
        else:
            raise AssertionError(line)


def test_connect_opens_a_second_real_network_and_disconnect_closes_it(
    make_server: Callable[..., RunningServer],
) -> None:
    first, second = make_server(), make_server()

    async def expect(user: LineClient, pattern: str) -> str:
        return await asyncio.to_thread(user.expect, pattern)

    async def body() -> None:
        bob = await asyncio.to_thread(second.plain, "bob")
        bob.send("/join #rust")
        await expect(bob, r"Now talking in #rust")
        try:
            async with running_app(first.port, "alice") as h:
                await wait_until(lambda: h.model.current.name == "#lobby", "in #lobby")
                h.type(f"/connect 127.0.0.1:{second.port}" + ENTER)
                other = f"127.0.0.1:{second.port}"
                await wait_until(lambda: h.app.network.name == other, "the second network")
                # Both servers announce NETWORK=ircish: neither takes it, the names stay apart.
                await wait_until(lambda: h.app.model.state == "connected", "connected")
                assert [h.app.networks.name_of(n) for n in h.app.networks.all] == [
                    "127.0.0.1",
                    other,
                ]
                h.type("/join #rust" + ENTER)
                await expect(bob, r"alice joined #rust")
                await wait_until(lambda: h.app.model.current.name == "#rust", "#rust in view")
                assert f"{other}/#rust" in h.status()
                h.type("hello from the second network" + ENTER)
                assert await expect(bob, r"<alice>") == (
                    "[#rust] <alice> hello from the second network"
                )
                # The first network's #lobby has its own name now, and no #rust.
                first_net = h.app.networks.all[0]
                assert first_net.model.find("#rust") is None
                assert h.app.networks.find("127.0.0.1/#lobby") is not None
                bob.send("/msg alice psst")
                await wait_until(lambda: "bob(1!)" in h.status(), "bob's message counted")
                h.type("/switch 2" + ENTER)  # the first network's #lobby
                await wait_until(lambda: h.app.network is first_net, "back on the first")
                h.type("/windows" + ENTER)
                await h.wait_text(f"{other}/#rust")
                h.type(f"/disconnect {other}" + ENTER)
                await expect(bob, r"alice quit")
                await wait_until(lambda: len(h.app.networks.all) == 1, "one network left")
                assert h.app.networks.label(*h.app.networks.view()) == "#lobby"
                assert "Disconnected from" in h.texts()[-1]
        finally:
            bob.close()

    run(body())


def test_a_network_opened_by_address_takes_the_name_its_server_announces() -> None:
    nets = two_networks()  # both servers announce NETWORK=testnet: neither takes it
    home, libera = nets.all
    assert [nets.name_of(net) for net in nets.all] == ["home", "libera"]
    feed(libera.client, ":srv 005 alice NETWORK=Libera.Chat :are supported")
    assert nets.label(libera, libera.model.current) == "Libera.Chat/#python"
    assert nets.find("libera.chat/#python") == (libera, libera.model.current)
    # A name chosen in the configuration file is kept.
    home.chosen = True
    feed(home.client, ":srv 005 alice NETWORK=Home.Net :are supported")
    assert nets.name_of(home) == "home"
