"""STATS z over real sockets: the memory report includes the queued output of connections."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ircish.config import Config, OperatorConfig
from tests.helpers import LineClient, RunningServer
from tests.unit.test_operators_config import cheap_hash


def test_an_operator_reads_the_memory_report(
    make_server: Callable[..., RunningServer], clients: list[LineClient]
) -> None:
    config = replace(Config(), operators=(OperatorConfig("admin", cheap_hash("pw")),))
    server = make_server(config)
    admin = server.irc("admin")
    clients.append(admin)
    guest = server.plain("guest")
    clients.append(guest)
    guest.send("/join #den")
    guest.send("/mode #den +i")
    guest.send("/invite admin #den")
    guest.expect(r"^\*\*\* Invited admin to #den$")
    admin.send("OPER admin pw")
    admin.expect(r" 381 admin ")
    admin.send("STATS z")
    report = [admin.expect(r" 249 admin z :")]
    while True:
        line = admin.expect(r" (249|219) admin ")
        if " 219 " in line:
            break
        report.append(line)
    assert line.endswith(" 219 admin z :End of /STATS report")
    text = [x.partition(" :")[2] for x in report]
    assert text[0].startswith("users 2 (most 2), connections 2 (0 not registered)")
    assert "invitations 1 (at most 100 per room, 50 per inviter, for 3600 s)" in text
    assert any(x.startswith("queued output ") for x in text), text
