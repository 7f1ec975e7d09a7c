"""The escape vectors found against the default server never reach a netcat user.

An IRC client (mallory) plants terminal escapes where netcat users see them:
the topic shown on join (332), /topic and /list (322), a room key in a mode
change and in /mode (324), away text (301), the realname in /whois (311), and
the room name of an INVITE to a room that does not exist; plus C1 controls
and a right-to-left override in a message. The victim is a real socket on
the plain dialect; every line it receives is checked.
"""

from __future__ import annotations

from tests.helpers import LineClient, RunningServer
from tests.unit.test_plain_terminal_safety import FORBIDDEN

CLEAR = "\x1b[2J\x1b[H*** admin\x07"
CLIPBOARD = "\x1b]52;c;ZXZpbA==\x07"


def test_no_escape_vector_reaches_a_netcat_user(
    server: RunningServer, clients: list[LineClient]
) -> None:
    mallory = server.client()
    clients.append(mallory)
    mallory.send("NICK mallory")
    mallory.send(f"USER m 0 * :real{CLIPBOARD}name")
    mallory.expect(r" 001 mallory ")
    mallory.send("JOIN #trap")
    mallory.send(f"TOPIC #trap :topic{CLEAR}")
    mallory.send(f"AWAY :gone{CLEAR}")
    mallory.expect(r" 306 mallory ")

    victim = server.plain("victim")
    clients.append(victim)
    victim.send("/join #trap")
    victim.expect(r"^\*\*\* Topic of #trap: topic\*\*\* admin$")
    victim.send("/topic")
    victim.expect(r"topic\*\*\* admin")
    victim.send("/list")
    victim.expect(r"#trap .*topic\*\*\* admin")
    mallory.send(f"MODE #trap +k key{CLEAR}")
    victim.expect(r"sets mode \+k key")
    victim.send("/mode #trap")
    victim.expect(r"\+\S*k")
    victim.send("/msg mallory hello")
    victim.expect(r"mallory is away: gone\*\*\* admin")
    victim.send("/whois mallory")
    victim.expect(r"realname")
    mallory.send(f"INVITE victim :#{CLEAR}")
    # Refused (not a valid room name) or delivered cleaned: either way nothing raw.
    mallory.expect(r" (341|403|479) mallory ")
    mallory.send("PRIVMSG #trap :\u009b2J 8-bit CSI and innocent\u202eexe.txt")
    victim.expect(r"8-bit CSI and innocentexe\.txt$")
    victim.send("/names")
    victim.expect(r"Users in #trap")

    seen = [line for line in victim.received if any(c in FORBIDDEN for c in line)]
    assert not seen, seen
    assert any("admin" in line for line in victim.received)
