"""Server bans and cloaks as irssi shows them (irssi in tmux, against the real server).

irssi has no /kline of its own: operators send ``/quote KLINE ...``; its
``/stats`` passes through, and it prints 216, 225 and 219 as server lines.
A 338 in WHOIS is irssi's "hostname" line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ircish.config import Config, OperatorConfig
from tests.e2e.test_irssi import StartIrssi, start_irssi  # noqa: F401  (the fixture)
from tests.helpers import LineClient, RunningServer
from tests.unit.test_operators_config import cheap_hash

MakeServer = Callable[..., RunningServer]


def test_irssi_operator_sets_lists_and_lifts_bans(
    make_server: MakeServer,
    start_irssi: StartIrssi,  # noqa: F811  (the fixture imported above)
    clients: list[LineClient],
) -> None:
    server = make_server(
        replace(Config(), operators=(OperatorConfig("admin", cheap_hash("hunter2")),))
    )
    victim = server.irc("victim", source="127.0.0.2")
    clients.append(victim)
    irssi = start_irssi(server, "irssiop")
    irssi.expect(r"End of /MOTD command")
    irssi.type("/oper admin hunter2")
    irssi.expect(r"You are now an IRC operator")

    irssi.type("/whois victim")
    irssi.expect(r"victim \[~victim@localhost\]")
    irssi.expect(r"hostname : ~victim@127\.0\.0\.2 127\.0\.0\.2")

    irssi.type("/quote KLINE 1h *@127.0.0.2 spam bots")
    irssi.expect(r"Added K-line \*!\*@127\.0\.0\.2 for 1 hour: spam bots \(1 disconnected\)")
    victim.expect(r"^ERROR :Closing Link: localhost \(K-lined: spam bots\)$")
    irssi.type("/stats k")
    irssi.expect(
        r"K 127\.0\.0\.2 \* \* spam bots \(set by irssiop at .* UTC; expires in (1 hour|59 minutes)"
    )
    irssi.expect(r"k End of /STATS report")

    irssi.type("/quote KLINE 10x *@h")
    irssi.expect(r"FAIL KLINE INVALID_DURATION 10x :Invalid duration '10x'")
    irssi.type("/quote DLINE 10.0.0.0/8 :private net")
    irssi.expect(r"Added D-line 10\.0\.0\.0/8 permanently: private net")
    irssi.type("/stats d")
    irssi.expect(r"D 10\.0\.0\.0/8 private net \(set by irssiop at .*; permanent\)")
    irssi.type("/quote UNKLINE *@127.0.0.2")
    irssi.expect(r"Removed K-line \*!\*@127\.0\.0\.2")
    assert server.chat.bans.listing("K") == []
