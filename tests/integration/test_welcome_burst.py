"""The welcome's fixed part (002-005, MOTD) is made once per config and rendered from a
template: what clients see must be what rendering each numeric on its own gives."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ircish.config import Config, LimitsConfig, ServerConfig
from ircish.core import events as ev
from ircish.core.clients import Client
from ircish.core.users import User
from ircish.dialects.irc import IrcDialect
from ircish.dialects.plain import PlainDialect
from ircish.protocol import numerics as n
from tests.helpers import MemoryClient, MemoryNetwork

NOW = 1_700_000_000.5


class _Sink:
    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


def _client(dialect: IrcDialect | PlainDialect, nick: str, caps: str = "") -> Client:
    user = User("10.0.0.1", NOW)
    user.set_nick(nick)
    user.username = "~u"
    user.update_mask()
    client = Client(user, _Sink(), dialect, NOW)
    client.set_caps(frozenset(caps.split()))
    return client


def _one_by_one(dialect: IrcDialect | PlainDialect, burst: ev.Burst, client: Client) -> bytes:
    out = b""
    for numeric in burst.numerics:
        env = ev.Envelope(numeric, client=client)
        env.time = NOW
        out += dialect.render(env, client)
    return out


def _burst_env(burst: ev.Burst, client: Client) -> ev.Envelope:
    env = ev.Envelope(burst, client=client)
    env.time = NOW
    return env


BURST = ev.Burst(
    (
        ev.Numeric(n.RPL_YOURHOST, ("Your host is ircish.local, running version x",)),
        ev.Numeric(n.RPL_MYINFO, ("ircish.local", "x", "Biow", "beiIklmnostv", "beIklov")),
        ev.Numeric(n.RPL_ISUPPORT, ("CHANTYPES=#", "PREFIX=(ov)@+", "are supported")),
        ev.Numeric(n.RPL_MOTD, ("- café: ünïcode and \x02bold\x02",)),
        ev.Numeric(n.RPL_ENDOFMOTD, ("",)),
    )
)


@pytest.mark.parametrize("nick", ["alice", "Вася", "\uff42ob" * 7])
@pytest.mark.parametrize("caps", ["", "server-time", "message-tags", "server-time message-tags"])
def test_irc_burst_is_its_numerics_rendered_one_by_one(nick: str, caps: str) -> None:
    dialect = IrcDialect(Config())
    client = _client(dialect, nick, caps)
    for _ in range(2):  # made, then from the template
        assert dialect.render(_burst_env(BURST, client), client) == _one_by_one(
            dialect, BURST, client
        )


def test_a_line_that_might_be_cut_is_rendered_one_by_one() -> None:
    dialect = IrcDialect(Config())
    long = ev.Burst((ev.Numeric(n.RPL_MOTD, ("- " + "é" * 300,)),))
    client = _client(dialect, "alice")
    line = dialect.render(_burst_env(long, client), client)
    assert line == _one_by_one(dialect, long, client)
    assert len(line) <= 512, "cut to IRC's 512 bytes, as any numeric is"


def test_plain_burst_is_its_numerics_rendered_one_by_one() -> None:
    dialect = PlainDialect(Config())
    client = _client(dialect, "alice")
    assert dialect.render(_burst_env(BURST, client), client) == _one_by_one(dialect, BURST, client)


def _register(net: MemoryNetwork, nick: str, caps: str = "") -> list[str]:
    return net.irc_welcomed(nick, caps)[1]


def _asked(client: MemoryClient, line: str) -> list[str]:
    client.send(line)
    return client.lines()


@pytest.mark.parametrize("caps", ["", "server-time"])
def test_the_welcome_shows_what_motd_and_version_show(caps: str) -> None:
    net = MemoryNetwork()
    welcome = _register(net, "alice", caps)
    client = net.irc("bob", caps)
    motd = _asked(client, "MOTD")
    isupport = [x for x in _asked(client, "VERSION") if " 005 " in x]
    bob = [x.replace(" bob ", " alice ") for x in motd + isupport]
    shown = [x for x in welcome if any(f" {c} alice " in x for c in ("005", "375", "372", "376"))]
    assert sorted(shown) == sorted(bob)


def test_labeled_registration_is_one_batch() -> None:
    net = MemoryNetwork()
    client = net.connect("irc")
    client.send("CAP REQ :labeled-response batch")
    client.send("NICK alice")
    client.send("USER alice 0 * :alice")
    client.send("@label=r1 CAP END")
    lines = client.lines()
    start = next(i for i, x in enumerate(lines) if "BATCH +" in x)
    assert lines[start].startswith("@label=r1 ")
    inside = [x for x in lines[start + 1 : -1] if x.startswith("@batch=")]
    assert any(" 376 alice " in x for x in inside) and any(" 005 alice " in x for x in inside)


def test_a_new_config_shows_its_motd_and_isupport() -> None:
    net = MemoryNetwork()
    assert any(":- Be kind; have fun." in x for x in _register(net, "alice"))
    config = replace(
        net.chat.config,
        server=replace(ServerConfig(), motd="Line one\nLine two"),
        limits=replace(LimitsConfig(), max_nick_length=20, flood_burst=0),
    )
    net.chat.config = config
    net.dialects.reconfigure(config)
    lines = _register(net, "bob")
    assert [x for x in lines if " 372 " in x] == [
        ":ircish.local 372 bob :- Line one",
        ":ircish.local 372 bob :- Line two",
    ]
    assert any(" NICKLEN=20 " in x for x in lines)
    net.chat.config = replace(config, server=replace(ServerConfig(), motd=""))
    assert [x for x in _register(net, "carol") if " 422 " in x] == [
        ":ircish.local 422 carol :MOTD File is missing"
    ]
