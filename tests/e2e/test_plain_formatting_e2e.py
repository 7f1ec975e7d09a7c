"""IRC users' formatted text reaches netcat users as plain words (issue 13, bug 2).

irssi sent ``^Bbold^B and ^C4red^C`` and a netcat user saw ``bold and 4red``:
the colour's number stayed behind when only the control character went. Here
a raw IRC client puts mIRC formatting (colours with their arguments, hex
colours, bold, italics, underline, strike-through, monospace, reverse, reset)
everywhere a netcat user reads another user's text, over real sockets.
"""

from __future__ import annotations

from tests.helpers import LineClient, RunningServer
from tests.unit.test_plain_terminal_safety import FORBIDDEN

#: What irssi sends for ``^Bbold^B and ^C4red^C`` and more: every mIRC code.
FORMATTED = (
    "\x02bold\x02 and \x034red\x03, \x0304,01on black\x03 \x0312,1blue\x03 "
    "\x04ff0000hex\x04 \x04ff0000,00ff00both\x04 \x1ditalic\x1d \x1funder\x1f "
    "\x1estrike\x1e \x11mono\x11 \x16reverse\x16 \x0freset \x0399 apples"
)
PLAIN = "bold and red, on black blue hex both italic under strike mono reverse reset  apples"


def test_mirc_formatting_with_its_arguments_never_reaches_a_netcat_user(
    server: RunningServer, clients: list[LineClient]
) -> None:
    irc = server.client()
    clients.append(irc)
    irc.send("NICK fmt")
    irc.send("USER fmt 0 * :real \x02bold\x02 and \x034red\x03")
    irc.expect(r" 001 fmt ")
    irc.send("JOIN #fmt")
    irc.send(f"TOPIC #fmt :{FORMATTED}")
    irc.send(f"PRIVMSG #fmt :{FORMATTED}")  # replayed to the netcat user on join
    irc.expect(r"^:fmt!\S+ TOPIC #fmt ")

    nc = server.plain("reader")
    clients.append(nc)
    nc.send("/join #fmt")
    assert nc.expect(r"^\*\*\* Topic of #fmt: ") == f"*** Topic of #fmt: {PLAIN}"
    assert nc.expect(r"<fmt>").endswith(f"<fmt> {PLAIN}")  # history on join

    irc.send(f"PRIVMSG #fmt :{FORMATTED}")
    assert nc.expect(r"^\[#fmt\] <fmt> ") == f"[#fmt] <fmt> {PLAIN}"
    irc.send(f"NOTICE #fmt :{FORMATTED}")
    assert nc.expect(r"^\[#fmt\] -fmt- ") == f"[#fmt] -fmt- {PLAIN}"
    irc.send(f"PRIVMSG #fmt :\x01ACTION {FORMATTED}\x01")
    assert nc.expect(r"^\[#fmt\] \* fmt ") == f"[#fmt] * fmt {PLAIN}"
    irc.send(f"PRIVMSG reader :{FORMATTED}")
    assert nc.expect(r"^\[private\] <fmt> ") == f"[private] <fmt> {PLAIN}"
    irc.send(f"TOPIC #fmt :{FORMATTED}!")
    assert nc.expect(r"changed the topic") == f"*** fmt changed the topic of #fmt to: {PLAIN}!"
    irc.send(f"AWAY :{FORMATTED}")
    irc.expect(r" 306 fmt ")
    nc.send("/msg fmt hello")
    assert nc.expect(r"^\*\*\* fmt is away: ") == f"*** fmt is away: {PLAIN}"
    nc.send("/whois fmt")
    assert nc.expect(r"^\*\*\* fmt is ~fmt@").endswith("(real bold and red)")
    irc.send(f"PART #fmt :{FORMATTED}")
    assert nc.expect(r"^\*\*\* fmt left #fmt") == f"*** fmt left #fmt ({PLAIN})"
    irc.send("JOIN #fmt")
    nc.expect(r"^\*\*\* fmt joined #fmt")
    irc.send(f"QUIT :{FORMATTED}")
    assert nc.expect(r"^\*\*\* fmt quit") == f"*** fmt quit (Quit: {PLAIN})"

    seen = [line for line in nc.received if any(c in FORBIDDEN for c in line)]
    assert not seen, seen
    # No colour number, bare or with its background, survived anywhere.
    assert not [line for line in nc.received if "4red" in line or ",01" in line], nc.received
