"""Bugs the socket fuzz test (tests/e2e/test_socket_fuzz.py) found, one test each."""

from __future__ import annotations

import logging

import pytest

from tests.helpers import MemoryNetwork

S = "ircish.local"


def test_a_line_refused_as_invalid_utf8_does_not_echo_a_long_verb(net: MemoryNetwork) -> None:
    # The FAIL reply repeated any alphabetic first word: 1,900 bytes to an IRC client.
    bob = net.irc("bob")
    bob.feed(b"@a=b " + b"X" * 1000 + b" \xff\r\n")
    assert bob.lines() == [f":{S} FAIL * INVALID_UTF8 :Message rejected: it is not valid UTF-8"]
    bob.feed(b"PRIVMSG #r :\xff\r\n")
    assert bob.lines() == [
        f":{S} FAIL PRIVMSG INVALID_UTF8 :Message rejected: it is not valid UTF-8"
    ]


@pytest.mark.parametrize(
    "line",
    [
        "PRIVMSG " + "x" * 480 + " :hi",
        "WHOIS " + "y" * 490,
        "NOSUCH" + "i" * 490,
        "CHATHISTORY LATEST #" + "j" * 470 + " * 10",
        "MARKREAD #" + "p" * 480,
        "CAP REQ :" + "r" * 490,
        "PING :" + "v" * 490,
    ],
    ids=["401", "318", "421", "FAIL CHATHISTORY", "FAIL MARKREAD", "CAP NAK", "PONG"],
)
def test_no_reply_to_an_irc_client_passes_512_bytes(net: MemoryNetwork, line: str) -> None:
    # Replies that echo a long parameter went 10 to 60 bytes over.
    bob = net.irc("bob")
    bob.send(line)
    lines = bob.lines()
    assert lines
    assert all(len(x.encode()) + 2 <= 512 for x in lines), [len(x) for x in lines]


@pytest.mark.parametrize(
    "password",
    ["abc\ufffdxyz123", "\u05e9\u05dc\u05d5\u05ddabcdef"],
    ids=["U+FFFD", "mixed direction"],
)
def test_a_password_sasl_cannot_carry_is_refused_up_front(
    password: str, caplog: pytest.LogCaptureFixture
) -> None:
    # SCRAM's SASLprep refused it while the account was being made: an ERROR with a
    # traceback in the log, and "try again" for the user. (U+FFFD is what invalid
    # UTF-8 from a netcat user becomes.)
    net = MemoryNetwork(storage=True)
    alice = net.irc("alice")
    with caplog.at_level(logging.INFO, logger="ircish"):
        alice.send(f"REGISTER * * {password}")
        lines = alice.lines()
        pat = net.plain("pat")
        pat.feed(b"/register abc\xffxyz123\r\n")
        plain = pat.lines()
    assert len(lines) == 1
    assert lines[0].startswith(f":{S} FAIL REGISTER UNACCEPTABLE_PASSWORD alice :")
    assert "RFC 4013" in lines[0]
    assert len(plain) == 1 and "RFC 4013" in plain[0]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
