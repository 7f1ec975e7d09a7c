"""Accounts over real sockets: SASL PLAIN from pydle, SCRAM-SHA-256 from scramp, nick protection.

pydle (with pure-sasl) is a third-party IRC client library: it negotiates
``sasl`` itself from ``CAP LS`` and runs the PLAIN exchange. scramp plays the
client side of SCRAM-SHA-256 (RFC 7677) over a raw socket, so the server's
SCRAM messages are checked by code we did not write.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import replace

import scramp

from ircish.config import AccountsConfig, Config
from tests.e2e.test_irc_pydle import PydleLoop
from tests.helpers import LineClient, RunningServer

PW = "correct-horse-battery"


def register(server: RunningServer, nick: str, clients: list[LineClient]) -> None:
    """Register ``nick`` from netcat, then leave."""
    c = server.plain(nick)
    clients.append(c)
    c.send(f"/register {PW}")
    c.expect(rf"^\*\*\* Account {nick} registered; you are now logged in\.$")
    c.send("/quit")
    c.expect_closed()


def test_sasl_plain_from_pydle(server: RunningServer, clients: list[LineClient]) -> None:
    register(server, "alice", clients)
    loop = PydleLoop(server)
    try:
        bot = loop.connect("alice", sasl_username="alice", sasl_password=PW, sasl_mechanism="PLAIN")
        assert loop.read(lambda: bot.nickname) == "alice"
        bot.wait_raw("903")
        bob = server.irc("bob")
        clients.append(bob)
        bob.send("WHOIS alice")
        bob.expect(r"^:\S+ 330 bob alice alice :is logged in as$")
    finally:
        loop.stop()


def test_sasl_plain_wrong_password_from_pydle(
    server: RunningServer, clients: list[LineClient]
) -> None:
    register(server, "alice", clients)
    loop = PydleLoop(server)
    try:
        bot = loop.connect(
            "carol", sasl_username="alice", sasl_password="wrong-one", sasl_mechanism="PLAIN"
        )
        message = bot.wait_raw("904")
        assert message.params[-1] == "SASL authentication failed"
    finally:
        loop.stop()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _challenge(c: LineClient) -> str:
    line = c.expect(r"^AUTHENTICATE ")
    return base64.b64decode(line.split()[1]).decode()


def test_sasl_scram_sha_256_with_scramp(server: RunningServer, clients: list[LineClient]) -> None:
    register(server, "alice", clients)
    c = server.client()
    clients.append(c)
    c.send("CAP LS 302")
    c.expect(r"CAP \* LS :.*\bsasl=PLAIN,SCRAM-SHA-256\b")
    c.send("CAP REQ :sasl")
    c.expect(r"CAP \* ACK :sasl$")
    c.send("NICK alice")
    c.send("USER alice 0 * :Alice")
    scram = scramp.ScramClient(["SCRAM-SHA-256"], "alice", PW)
    c.send("AUTHENTICATE SCRAM-SHA-256")
    c.expect(r"^AUTHENTICATE \+$")
    c.send("AUTHENTICATE " + _b64(scram.get_client_first()))
    scram.set_server_first(_challenge(c))
    c.send("AUTHENTICATE " + _b64(scram.get_client_final()))
    # scramp checks the server's signature: a server without the key could not make it.
    scram.set_server_final(_challenge(c))
    c.send("AUTHENTICATE +")
    c.expect(r"^:\S+ 900 alice alice!~alice@localhost alice :You are now logged in as alice$")
    c.expect(r"^:\S+ 903 alice :SASL authentication successful$")
    c.send("CAP END")
    c.expect(r"^:\S+ 001 alice ")


def test_nick_protection_renames_after_the_grace(
    make_server: Callable[..., RunningServer], clients: list[LineClient]
) -> None:
    server = make_server(replace(Config(), accounts=AccountsConfig(nick_grace=0.3)))
    register(server, "alice", clients)
    taker = server.plain("alice")
    clients.append(taker)
    taker.expect(r"The nickname alice is registered: log in within 0\.3 seconds")
    line = taker.expect(r"^-NickServ- You did not log in in time: you are now Guest\d+\.$")
    guest = line.rsplit(" ", 1)[1].rstrip(".")
    taker.expect(rf"^\*\*\* alice is now known as {guest}$")
    # The owner logs in on a fresh connection and takes the nick back.
    owner = server.plain("alice_")
    clients.append(owner)
    owner.send(f"/login alice {PW}")
    owner.expect(r"^\*\*\* You are now logged in as alice\.$")
    owner.send("/nick alice")
    owner.expect(r"^\*\*\* alice_ is now known as alice$")
