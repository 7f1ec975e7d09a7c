"""Every message line relayed to an IRC client fits in 512 bytes, whoever sent it."""

from __future__ import annotations

from dataclasses import replace

from ircish.config import Config, LimitsConfig
from tests.helpers import MemoryNetwork


def test_relayed_lines_are_cut_to_fit_irc_while_netcat_readers_get_everything() -> None:
    # Netcat lines may be longer than IRC's; invalid UTF-8 grows threefold.
    net = MemoryNetwork(replace(Config(), limits=replace(LimitsConfig(), max_line_bytes=4096)))
    irc = net.irc("reader")
    irc.send("JOIN #lobby")
    other = net.plain("other")
    human = net.plain("human")
    irc.lines()
    other.lines()
    human.feed(b"\xff" * 600 + b"\r\n")  # 1,800 bytes once repaired
    (line,) = irc.lines()
    assert 507 <= len(line.encode()) <= 510 and line.endswith("\ufffd")  # whole characters
    assert other.lines() == ["[#lobby] <human> " + "\ufffd" * 600]

    writer = net.irc("w" * 30)
    writer.send("JOIN #lobby")
    irc.lines()
    # 500 bytes from an IRC client: fine coming in, too long going out with the mask.
    writer.send("PRIVMSG #lobby :" + "é" * 240 + "x" * 14)
    (line,) = irc.lines()
    assert len(line.encode()) <= 510
    assert line.endswith("é") and "x" not in line  # cut at a character boundary
