"""A bounded socket fuzz test: hostile lines in both dialects, with bystanders chatting.

Against ``python -m ircish`` in a subprocess (the real loop, flood control
on), fuzzers send ``FUZZ_LINES`` lines in total: mutations of valid commands
of both dialects (the command table and the slash commands are read from the
code, so a new command is fuzzed without being listed here), random bytes,
NUL, CR without LF, over-long lines, invalid UTF-8, tags, control characters,
ANSI/OSC escapes, bidirectional and C1 controls. Meanwhile two netcat
bystanders and one IRC bystander in #lobby exchange numbered messages.

The test fails on a traceback or an ERROR in the server's log, on the server
dying, on a bystander message lost, repeated or out of order, on any control
character reaching a netcat user (bystander or fuzzer: a refused parameter is
often echoed), and on a line to an IRC client that breaks the protocol (over
512 bytes without its tags, not UTF-8, a NUL or CR inside, an empty middle
parameter).

One thread drives every socket with ``selectors``. Each fuzzer's lines come
from a ``random.Random`` seeded from ``SEED``, so a failure prints the seed,
and ``IRCISH_FUZZ_SEED=<seed>`` replays the same lines (but for the nicknames
and msgids filled in from what the server said; the interleaving is up to the
scheduler). ``IRCISH_FUZZ_LINES`` runs longer. Every ``SYNC_EVERY`` lines a
fuzzer sends a line the server must answer, and only answered lines count:
a connection the server stops serving fails the test instead of idling.
Before the fuzzers go, an operator's ``STATS z`` must show the state they
made the server hold within its bounds.

Flood control stays on, with a burst and interval sized for machines: the
gate delays the fuzzers (reading from them pauses) rather than cutting them
off early, so the parser and the handlers see the lines. The send-queue bound
is raised too: bystanders read everything the fuzzers make them receive.
"""

from __future__ import annotations

import base64
import os
import random
import re
import secrets
import selectors
import signal
import socket
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ircish.config import LimitsConfig
from ircish.core.caps import CAPABILITIES
from ircish.core.dispatch import COMMANDS
from ircish.core.handlers.chanserv import COMMANDS as CHANSERV_COMMANDS
from ircish.dialects.plain import SLASH_COMMANDS
from tests.e2e.e2e_support import ServerProcess
from tests.unit.test_operators_config import cheap_hash
from tests.unit.test_plain_terminal_safety import FORBIDDEN

#: Lines the fuzzers send in total (about a minute on a 2-core machine).
FUZZ_LINES = int(os.environ.get("IRCISH_FUZZ_LINES", "120000"))
SEED = int(os.environ.get("IRCISH_FUZZ_SEED", str(random.randrange(1 << 32))))
#: Fuzzers of each dialect, each on its own connection (reconnecting when dropped).
IRC_FUZZERS = 3
PLAIN_FUZZERS = 3
#: Short-lived connections that never register: the detection and registration paths.
OPENER_SHARE = 0.08
#: Fuzz lines between two lines the server must answer, and how many such windows may be open.
SYNC_EVERY = 100
SYNC_AHEAD = 3
#: Seconds a fuzzer waits for that answer before the test fails (the server stopped serving it).
SYNC_LIMIT = 20.0
#: Seconds between two numbered messages of one bystander.
BYSTANDER_EVERY = 0.03
#: Bounds on the run, so a stuck server fails instead of hanging CI.
RUN_LIMIT = 180.0
SETTLE_LIMIT = 30.0

CONFIG = """\
[limits]
# Flood control on, sized so that it delays the fuzzers instead of disconnecting them.
flood_burst = 1000
flood_interval = 0.001
flood_backlog = 100000
sendq_bytes = 67108864
"""

BYSTANDERS = ("by1", "by2", "irc1")
ROOM = "#lobby"

# -- what hostile text is made of ---------------------------------------------------

HOSTILE: tuple[str, ...] = (
    "\x1b[2J\x1b[H*** admin\x07",
    "\x1b]52;c;ZXZpbA==\x07",
    "\x1b]0;title\x1b\\",
    "\x1b[31mred\x1b[0m",
    "\x1bc",
    "\u009b2J",
    "\u009d0;t\u009c",
    "\u0085",
    "innocent\u202eexe.txt",
    "\u202a\u202b\u202c\u202d",
    "\u2066\u2067\u2068\u2069",
    "\u2028\u2029",
    "\u200e\u200f\u061c\ufeff",
    "\x034,1red\x03 \x02bold\x02\x1d\x1f\x16\x0f",
    "\x04ff0000,00ff00hex",
    "\x01ACTION waves\x01",
    "\x01VERSION\x01",
    "\x01PING 123\x01",
    "\x01",
    "\x00",
    "\r",
    "\x7f",
    "\x08\x08\x08",
    "\t",
    " ",
    "  ",
    ":",
    " :",
    "::",
    "",
    ",",
    ",,,",
    "*",
    "*!*@*",
    "?",
    "#",
    "##",
    "&room",
    "+",
    "-",
    "@",
    "@+#lobby",
    "%",
    "!",
    "0",
    "-1",
    "999999999999999999999999",
    "1e309",
    "NaN",
    "\\",
    "\\s\\:\\r\\n\\\\",
    "=",
    ";",
    "é",
    "Вася",
    "\uff37\uff29\uff24\uff25",  # fullwidth WIDE
    "b\u0443s_\u04401",  # Cyrillic look-alikes
    "\U0001f3f3\ufe0f\u200d\U0001f308",
    "\u0301\u0301\u0301",
    "\ufffd",
    "msgid=00000000000000000000000000000",
    "timestamp=2020-01-01T00:00:00.000Z",
    "timestamp=9999-99-99T99:99:99.999Z",
    "no such nick",
)
#: Byte strings that are not UTF-8: lone continuation, truncated, surrogate, too large, overlong.
BAD_UTF8: tuple[bytes, ...] = (
    b"\xff",
    b"\xfe\xfe",
    b"\x80",
    b"\xc3",
    b"\xe2\x82",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xc0\xaf",
    b"\xe0\x80\xaf",
    b"\xc2\x9b2J",
)
WORDS = ("hello", "x", "lobby", "fz", "ok", "+o", "-v", "LS", "REQ", "END", "PLAIN", "*", "0")
ROOMS = (ROOM, ROOM, "#f0", "#f1", "#f2", "#f3", "#Lobby", "#LOBBY", "#")
CAP_NAMES = tuple(CAPABILITIES)
CHANSERV_VERBS = (*(v.encode() for v in CHANSERV_COMMANDS), b"DROP", b"X")
MODE_STRINGS = (
    "+i",
    "-i",
    "+m",
    "+s",
    "+t",
    "-t",
    "+n",
    "+k",
    "-k",
    "+l",
    "-l",
    "+b",
    "-b",
    "+e",
    "+I",
    "-I",
    "+o",
    "-o",
    "+v",
    "+ov",
    "+bbbb",
    "+kl",
    "+imnst",
    "+z",
    "+B",
    "-B",
    "+w",
    "+i-w",
    "+",
    "-",
    "+-+-",
    "b",
    "e",
    "I",
)


class Fuzz:
    """Hostile lines from one seeded generator: ``lines()`` yields them with their line ending."""

    def __init__(self, rng: random.Random, dialect: str, nicks: Callable[[], list[str]]) -> None:
        self.rng = rng
        self.dialect = dialect
        self.nicks = nicks
        self.msgids: list[str] = []
        #: A password good enough to register with, so accounts, SASL and ChanServ get fuzzed.
        self.password = f"pw{rng.randrange(1 << 40):x}".encode()
        self.shapes = self._shapes()

    # -- atoms ---------------------------------------------------------------------

    def hostile(self) -> bytes:
        r = self.rng
        roll = r.random()
        if roll < 0.55:
            return r.choice(HOSTILE).encode()
        if roll < 0.7:
            return r.choice(BAD_UTF8)
        if roll < 0.85:
            return bytes(r.randrange(256) for _ in range(r.randrange(1, 12)))
        return "".join(
            chr(r.choice((r.randrange(0x20), r.randrange(0x7F, 0xA0)))) for _ in range(3)
        ).encode()

    def text(self) -> bytes:
        r = self.rng
        parts: list[bytes] = []
        for _ in range(r.randrange(1, 6)):
            parts.append(self.hostile() if r.random() < 0.4 else r.choice(WORDS).encode())
        return b" ".join(parts)

    def nick(self) -> bytes:
        r = self.rng
        roll = r.random()
        if roll < 0.45:
            # The random numbers used never depend on what the server said, so that a seed
            # replays the same stream; only the names filled in do.
            pick = r.randrange(len(BYSTANDERS) + IRC_FUZZERS + PLAIN_FUZZERS)
            names = [*BYSTANDERS, *self.nicks()]
            return names[pick % len(names)].encode()
        if roll < 0.7:
            return f"fz{r.randrange(1000)}".encode()
        if roll < 0.8:
            return r.choice(
                ("*", "by1,by2,irc1", "irc1,irc1,irc1,irc1,irc1", "ircish.local")
            ).encode()
        return self.word()

    def room(self) -> bytes:
        r = self.rng
        if r.random() < 0.75:
            return r.choice(ROOMS).encode()
        return b"#" + self.word()

    def word(self) -> bytes:
        r = self.rng
        if r.random() < 0.5:
            return r.choice(WORDS).encode()
        return self.hostile()

    def number(self) -> bytes:
        r = self.rng
        return r.choice(("0", "1", "5", "50", "100", "-3", "4294967296", "1.5", "x", "")).encode()

    def msgid(self) -> bytes:
        """A msgid the server sent (as seen so far), or a malformed one."""
        r = self.rng
        seen, pick = r.random() < 0.5, r.randrange(1 << 16)
        if seen and self.msgids:
            return self.msgids[pick % len(self.msgids)].encode()
        return r.choice((b"0" * 29, b"ffff", b"", b"\xff", b"a b"))

    def selector(self) -> bytes:
        r = self.rng
        kind = r.choice(("msgid=", "timestamp=", "*", "", "msgid", "x="))
        if kind == "msgid=":
            return b"msgid=" + self.msgid()
        if kind == "timestamp=":
            return r.choice(
                (
                    b"timestamp=2020-01-01T00:00:00.000Z",
                    b"timestamp=2099-01-01T00:00:00.000Z",
                    b"timestamp=" + self.word(),
                )
            )
        return kind.encode()

    def secret(self) -> bytes:
        """Mostly this fuzzer's password (so registration and login succeed), else junk."""
        r = self.rng
        roll = r.random()
        if roll < 0.6:
            return self.password
        if roll < 0.8:
            return self.password + self.hostile()
        return self.word()

    def mask(self) -> bytes:
        r = self.rng
        return r.choice(
            (b"*!*@*", b"fz*!*@*", b"*!~plain@*", b"by1!*@*", b"*", self.word() + b"!*@*")
        )

    def b64(self) -> bytes:
        r = self.rng
        roll = r.random()
        if roll < 0.3:
            return base64.b64encode(b"\0".join((self.nick(), self.nick(), self.word())))
        if roll < 0.5:
            return b"A" * r.choice((1, 399, 400, 401, 4000))
        if roll < 0.6:
            return b"+"
        return self.word()

    # -- commands ------------------------------------------------------------------

    def _shapes(self) -> dict[str, Callable[[], list[bytes]]]:
        """Verb -> plausible parameters (made anew each time), for the verbs known here."""
        r = self.rng
        nick, room, text, num = self.nick, self.room, self.text, self.number
        return {
            "CAP": lambda: [
                r.choice((b"LS", b"REQ", b"END", b"LIST", b"ACK", b"NAK", b"XX")),
                r.choice(
                    (
                        b"302",
                        b":" + b" ".join(c.encode() for c in r.sample(CAP_NAMES, 3)),
                        b":-echo-message",
                        self.word(),
                    )
                ),
            ],
            "PASS": lambda: [self.word()],
            "NICK": lambda: [r.choice((nick(), b"", b":" + nick()))],
            "USER": lambda: [self.word(), b"0", b"*", b":" + text()],
            "PING": lambda: [b":" + text()],
            "PONG": lambda: [text()],
            "QUIT": lambda: [b":" + text()],
            "JOIN": lambda: [b",".join(room() for _ in range(r.randrange(1, 4))), self.word()],
            "PART": lambda: [room(), b":" + text()],
            "TOPIC": lambda: [room(), b":" + text()],
            "NAMES": lambda: [room()],
            "LIST": lambda: [
                r.choice((b">0", b"<9", b"C>1", b"T<5", b"*lo*", b"!*f*", room(), self.word()))
            ],
            "KICK": lambda: [
                room(),
                b",".join(nick() for _ in range(r.randrange(1, 6))),
                b":" + text(),
            ],
            "INVITE": lambda: [nick(), room()],
            "PRIVMSG": lambda: [
                r.choice((room(), nick(), b"@" + room(), b"+" + room())),
                b":" + text(),
            ],
            "NOTICE": lambda: [r.choice((room(), nick())), b":" + text()],
            "TAGMSG": lambda: [r.choice((room(), nick()))],
            "BATCH": lambda: [
                r.choice((b"+m", b"-m", b"+" + self.word(), b"-" + self.word())),
                r.choice((b"draft/multiline", b"chathistory", self.word())),
                room(),
            ],
            "AWAY": lambda: [b":" + text()] if r.random() < 0.8 else [],
            "MODE": lambda: [
                r.choice((room(), nick())),
                r.choice(MODE_STRINGS).encode(),
                *(self.word() if r.random() < 0.5 else self.mask() for _ in range(r.randrange(4))),
            ],
            "WHO": lambda: [
                r.choice((room(), nick(), self.mask())),
                r.choice((b"%tcuhnfar,123", b"o", b"%" + self.word(), b"")),
            ],
            "WHOIS": lambda: [r.choice((nick(), b"ircish.local")), nick()],
            "USERHOST": lambda: [nick() for _ in range(r.randrange(1, 7))],
            "ISON": lambda: [nick() for _ in range(r.randrange(1, 7))],
            "WHOWAS": lambda: [nick(), num()],
            "OPER": lambda: [self.word(), self.word()],
            "KILL": lambda: [nick(), b":" + text()],
            "WALLOPS": lambda: [b":" + text()],
            "MONITOR": lambda: [
                r.choice((b"+", b"-", b"C", b"L", b"S", b"X")),
                b",".join(nick() for _ in range(r.randrange(1, 8))),
            ],
            "SETNAME": lambda: [b":" + text()],
            "CHGHOST": lambda: [self.word(), self.word()],
            "AUTHENTICATE": lambda: [
                r.choice((b"PLAIN", b"SCRAM-SHA-256", b"EXTERNAL", b"*", self.b64(), self.b64()))
            ],
            "REGISTER": lambda: [
                r.choice((b"*", nick())),
                r.choice((b"*", b"a@b.c", self.word())),
                self.secret(),
            ],
            "VERIFY": lambda: [nick(), self.word()],
            "LOGIN": lambda: [nick(), self.secret()],
            "PASSWD": lambda: [self.secret(), self.secret()],
            "UNREGISTER": lambda: [self.word()],
            "GHOST": lambda: [nick()],
            "NS": lambda: [
                r.choice(
                    (
                        b"INFO",
                        b"REGISTER",
                        b"IDENTIFY",
                        b"GHOST",
                        b"SET PASSWORD",
                        b"HELP",
                        self.word(),
                    )
                ),
                r.choice((nick(), self.secret())),
                self.secret(),
            ],
            "CS": lambda: [
                r.choice(CHANSERV_VERBS),
                room(),
                r.choice((nick(), b"+o", b"-v", b"+v")),
                nick(),
            ],
            "CHATHISTORY": lambda: [
                r.choice((b"LATEST", b"BEFORE", b"AFTER", b"AROUND", b"BETWEEN", b"TARGETS", b"X")),
                r.choice((room(), nick(), b"*")),
                self.selector(),
                r.choice((self.selector(), num())),
                num(),
            ],
            "HISTORY": lambda: [r.choice((room(), nick())), num()],
            "SEARCH": lambda: [b":" + text()],
            "MARKREAD": lambda: [r.choice((room(), nick())), self.selector()],
            "HELP": lambda: [self.word()],
        }

    def irc_params(self, verb: str) -> list[bytes]:
        r = self.rng
        make = self.shapes.get(verb)
        if make is None:
            # A command this test does not know yet still gets fuzzed.
            return [self.word() for _ in range(r.randrange(4))]
        params = make()
        # Sometimes fewer (or more) parameters than the command takes.
        if r.random() < 0.15:
            params = params[: r.randrange(len(params) + 1)]
        elif r.random() < 0.05:
            params = params + [self.word() for _ in range(r.randrange(1, 20))]
        return params

    def tags(self) -> bytes:
        r = self.rng
        keys = (
            b"label",
            b"+draft/reply",
            b"+typing",
            b"batch",
            b"msgid",
            b"time",
            b"+x",
            b"a",
            b"",
            b"+draft/react",
        )
        parts = []
        for _ in range(r.randrange(1, 5)):
            key = r.choice(keys)
            value = r.choice(
                (self.word(), self.msgid(), b"m", b"\\s\\:", b"", b"x" * r.choice((10, 70, 5000)))
            )
            parts.append(key + b"=" + value if r.random() < 0.8 else key)
        return b"@" + b";".join(parts) + b" "

    def irc_line(self) -> bytes:
        r = self.rng
        verb = r.choice(IRC_VERBS)
        if verb == "QUIT" and r.random() < 0.95:
            verb = "PING"  # A quit costs a reconnection and the lines queued behind it.
        params = self.irc_params(verb)
        # A colon only on the last parameter, as a client would send it (mutations break that).
        line = b" ".join([verb.encode() if r.random() < 0.9 else verb.lower().encode(), *params])
        if r.random() < 0.2:
            line = self.tags() + line
        if r.random() < 0.05:
            line = b":" + self.nick() + b"!u@h " + line
        return line

    def multiline(self) -> list[bytes]:
        """A draft/multiline batch, well formed or not."""
        r = self.rng
        ref = r.choice((b"m", b"m2", self.word()))
        out = [b"BATCH +" + ref + b" draft/multiline " + self.room()]
        for _ in range(r.randrange(0, 8)):
            concat = b";draft/multiline-concat" if r.random() < 0.3 else b""
            out.append(b"@batch=" + ref + concat + b" PRIVMSG " + self.room() + b" :" + self.text())
        if r.random() < 0.85:
            out.append(b"BATCH -" + ref)
        return out

    def plain_line(self) -> bytes:
        r = self.rng
        roll = r.random()
        if roll < 0.3:
            return self.text()
        if roll < 0.35:
            return b"//" + self.text()
        name = r.choice(SLASH_NAMES)
        if name == "quit" and r.random() < 0.95:
            name = "help"
        known = SLASH_COMMANDS.get(name)
        usage = known.usage.split()[1:] if known is not None else ["ARG", "[ARG]"]
        args: list[bytes] = []
        for word in usage:
            if word.startswith("[") and r.random() < 0.4:
                continue
            shape = word.strip("[]. ")
            if "room" in shape:
                args.append(self.room())
            elif "NICK" in shape:
                args.append(self.nick())
            elif shape in ("TEXT", "ACTION", "REALNAME", "reason", "REASON"):
                args.append(self.text())
            elif shape in ("N", "COUNT"):
                args.append(self.number())
            elif shape.startswith("+-modes"):
                args.append(r.choice(MODE_STRINGS).encode())
            elif "MASK" in shape:
                args.append(self.mask())
            elif shape in ("PASSWORD", "OLD", "NEW"):
                args.append(self.secret())
            elif shape == "COMMAND" and name == "cs":
                args += [r.choice(CHANSERV_VERBS), self.room(), self.nick()]
            elif shape == "COMMAND":
                args += [r.choice((b"REGISTER", b"IDENTIFY", b"INFO", b"GHOST")), self.secret()]
            else:
                args.append(self.word())
        if r.random() < 0.1:
            args += [self.word() for _ in range(r.randrange(1, 10))]
        return b" ".join(
            [b"/" + (name.encode() if r.random() < 0.9 else name.upper().encode()), *args]
        )

    def scenario(self) -> list[bytes]:
        """Commands that build on each other: an own room, an account, ChanServ, invitations."""
        r = self.rng
        room = f"#own{r.randrange(40)}".encode()
        other, pw = self.nick(), self.password
        if self.dialect == "plain":
            pick = r.randrange(4)
            if pick == 0:
                return [
                    b"/join " + room,
                    b"/register " + pw,
                    b"/cs REGISTER " + room,
                    b"/cs AMODE " + room + b" +o " + other,
                    b"/cs OP " + room,
                    b"/topic " + room + b" " + self.text(),
                    b"/part " + room,
                    b"/join " + room,
                    b"/cs INFO " + room,
                ]
            if pick == 1:
                return [
                    b"/join " + room,
                    b"/mode " + room + b" +i",
                    b"/invite " + other + b" " + room,
                    b"/kick " + room + b" " + other + b" " + self.text(),
                    b"/ban " + room + b" " + self.mask(),
                ]
            if pick == 2:
                return [b"/monitor +" + self.nick() for _ in range(r.randrange(1, 30))] + [
                    b"/monitor",
                    b"/monitor status",
                    b"/monitor clear",
                ]
            return [b"/login " + pw, b"/history #lobby 50", b"/search " + self.word(), b"/logout"]
        pick = r.randrange(5)
        if pick == 0:
            return [
                b"JOIN " + room,
                b"REGISTER * * " + pw,
                b"CS REGISTER " + room,
                b"CS AMODE " + room + b" +o " + other,
                b"CS AMODE " + room,
                b"CS VOICE " + room + b" " + other,
                b"MODE " + room + b" +ntk " + self.word(),
                b"MODE " + room + b" +b " + self.mask(),
                b"MODE " + room + b" +l 5",
                b"PART " + room,
                b"JOIN " + room,
                b"CS UNREGISTER " + room if r.random() < 0.3 else b"CS INFO " + room,
            ]
        if pick == 1:
            return [
                b"JOIN " + room,
                b"MODE " + room + b" +i",
                *(b"INVITE " + self.nick() + b" " + room for _ in range(r.randrange(1, 20))),
                b"MODE " + room + b" +I " + self.mask(),
                b"KICK " + room + b" " + other,
            ]
        if pick == 2:
            nicks = b",".join(self.nick() for _ in range(r.randrange(1, 120)))
            return [b"MONITOR + " + nicks, b"MONITOR L", b"MONITOR S", b"MONITOR - " + nicks[:40]]
        if pick == 3:
            creds = base64.b64encode(b"\0" + self.nick() + b"\0" + pw)
            return [b"AUTHENTICATE PLAIN", b"AUTHENTICATE " + creds, b"AUTHENTICATE SCRAM-SHA-256"]
        target = r.choice((ROOM.encode(), self.nick()))
        return [
            b"CHATHISTORY LATEST " + target + b" * 50",
            b"CHATHISTORY BEFORE " + target + b" " + self.selector() + b" 20",
            b"CHATHISTORY TARGETS timestamp=2020-01-01T00:00:00.000Z "
            b"timestamp=2099-01-01T00:00:00.000Z 10",
            b"MARKREAD " + target + b" timestamp=2030-01-01T00:00:00.000Z",
            b"MARKREAD " + target,
        ]

    # -- mutations -----------------------------------------------------------------

    def mutate(self, line: bytes) -> bytes:
        r = self.rng
        for _ in range(r.choice((0, 0, 1, 1, 2, 3))):
            op = r.randrange(6)
            pos = r.randrange(len(line) + 1)
            if op == 0:
                line = line[:pos] + self.hostile() + line[pos:]
            elif op == 1 and line:
                i = r.randrange(len(line))
                line = line[:i] + bytes([line[i] ^ (1 << r.randrange(8))]) + line[i + 1 :]
            elif op == 2:
                line = line[:pos]
            elif op == 3:
                line = line[:pos] + b" " + line[pos:]
            elif op == 4:
                line = line[:pos] + b":" + line[pos:]
            else:
                line = line[:pos] + line[pos : pos + r.randrange(40)] * 2 + line[pos:]
        return line

    def lines(self) -> Iterator[bytes]:
        """Hostile lines for ever, each with its line ending."""
        r = self.rng
        while True:
            roll = r.random()
            batch: list[bytes]
            if roll < 0.04:
                batch = [bytes(r.randrange(256) for _ in range(r.randrange(600)))]
            elif roll < 0.06:
                # Over-long: past the IRC limit, past the framing limit, once in a while huge.
                size = r.choice((513, 600, 4097, 8191, 9000, 70000 if r.random() < 0.1 else 3000))
                batch = [
                    b"PRIVMSG #lobby :" + b"x" * size
                    if r.random() < 0.5
                    else self.text() * (size // 8)
                ]
            elif roll < 0.1 and self.dialect == "irc":
                batch = self.multiline()
            elif roll < 0.13:
                # A valid sequence first, so that state deeper than one command gets fuzzed too.
                batch = [self.mutate(x) if r.random() < 0.2 else x for x in self.scenario()]
            else:
                line = self.irc_line() if self.dialect == "irc" else self.plain_line()
                batch = [self.mutate(line)]
            for line in batch:
                end = r.random()
                # Mostly CR LF; sometimes LF; sometimes a CR alone, which runs into the next line.
                yield line + (b"\r\n" if end < 0.85 else b"\n" if end < 0.95 else b"\r")


#: Every verb of the command table (so a new command is fuzzed too) and a few unknown ones.
IRC_VERBS = (*COMMANDS, "NOSUCHVERB", "001", "ERROR")
SLASH_NAMES = (*SLASH_COMMANDS, "nosuch")


# -- what the test checks on received bytes --------------------------------------

#: A netcat line (CR LF stripped) must not hold any of these; checked on bytes, in C.
_FORBIDDEN_RX = re.compile("[" + "".join(re.escape(c) for c in sorted(FORBIDDEN)) + "]")


class Failures:
    """What went wrong, in order; the seed goes with the report."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, text: str) -> None:
        if len(self.items) < 40:
            self.items.append(text)

    def report(self, extra: str = "") -> str:
        shown = "\n  ".join(self.items)
        return f"socket fuzz failed (replay: IRCISH_FUZZ_SEED={SEED}):\n  {shown}{extra}"


# -- the sockets -------------------------------------------------------------------


class Peer:
    """One socket of the test, non-blocking; lines out of ``out``, lines into ``line``."""

    dialect = "plain"

    def __init__(self, name: str, port: int, failures: Failures) -> None:
        self.name = name
        self.port = port
        self.failures = failures
        self.out = bytearray()
        self.inbuf = b""
        self.closed = False
        #: Lines written to the socket (those the server can have read).
        self.lines_sent = 0
        #: The last lines received, for failure reports.
        self.tail: deque[str] = deque(maxlen=6)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.setblocking(False)

    def send(self, data: bytes) -> None:
        self.out += data

    def writable(self) -> None:
        try:
            sent = self.sock.send(self.out)
        except BlockingIOError:
            return
        except OSError:
            self.lost()
            return
        self.lines_sent += self.out.count(b"\n", 0, sent)
        del self.out[:sent]

    def readable(self) -> None:
        try:
            data = self.sock.recv(1 << 18)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.lost()
            return
        data = self.inbuf + data
        cut = data.rfind(b"\n") + 1
        self.inbuf = data[cut:]
        if cut:
            self.received(data[:cut])

    def received(self, data: bytes) -> None:
        """Complete lines (with their endings); the checks every connection of its dialect gets."""
        if self.dialect == "plain":
            check_plain(self.name, data, self.failures)
            lines = [raw.decode("utf-8", "replace") for raw in data.split(b"\r\n")[:-1]]
        else:
            lines = []
            for raw in data.split(b"\n")[:-1]:
                check_irc(self.name, raw, self.failures)
                lines.append(raw.rstrip(b"\r").decode("utf-8", "replace"))
        self.tail.extend(lines[-6:])
        for text in lines:
            self.line(text)

    def line(self, text: str) -> None:
        """One received line."""

    def tick(self, now: float) -> None:
        """Called every loop pass: make output."""

    def lost(self) -> None:
        """The connection ended (the ``Run`` closes the socket)."""
        self.closed = True


def check_plain(name: str, data: bytes, failures: Failures) -> None:
    """Every netcat line ends with CR LF and holds no control character."""
    text = data.decode("utf-8", "replace")
    if "\ufffd" in text and b"\xef\xbf\xbd" not in data:
        failures.add(f"{name} received bytes that are not UTF-8: {data[:200]!r}")
    body = text.replace("\r\n", "")
    if _FORBIDDEN_RX.search(body):
        bad = next(x for x in text.split("\r\n") if _FORBIDDEN_RX.search(x))
        failures.add(f"{name} (netcat) received a control character: {bad[:300]!r}")


def check_irc(name: str, raw: bytes, failures: Failures) -> None:
    """A line to an IRC client: CR LF, no NUL or CR inside, UTF-8, 512 bytes without tags,
    tags within 8191 bytes, and no empty middle parameter (two spaces before the trailing one),
    which is what a parameter with spaces sent as a middle one can look like."""
    if not raw.endswith(b"\r"):
        failures.add(f"{name} (IRC) received a line without CR LF: {raw[:200]!r}")
    body = raw[:-1]
    if b"\r" in body or b"\0" in body:
        failures.add(f"{name} (IRC) received a NUL or CR inside a line: {raw[:200]!r}")
    if body.startswith(b"@"):
        tags, _, body = body.partition(b" ")
        if len(tags) > 8191:
            failures.add(f"{name} (IRC) received {len(tags)} bytes of tags: {raw[:120]!r}...")
    if len(body) + 2 > 512:
        failures.add(f"{name} (IRC) received {len(body) + 2} bytes without tags: {raw[:120]!r}...")
    if b"  " in body.partition(b" :")[0] or body.startswith(b" "):
        failures.add(f"{name} (IRC) received an empty parameter: {raw[:200]!r}")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        failures.add(f"{name} (IRC) received bytes that are not UTF-8: {raw[:200]!r}")


class Bystander(Peer):
    """A user in #lobby who sends numbered messages and checks everyone else's arrive in order."""

    def __init__(self, name: str, dialect: str, port: int, failures: Failures, token: str) -> None:
        self.dialect = dialect
        super().__init__(name, port, failures)
        self.token = token
        self.ready = False
        self.sent = 0
        self.next_at = 0.0
        self.sending = True
        #: Set when the test closes it (a disconnection before that is a failure).
        self.done = False
        #: Sender -> the next number expected from them.
        self.expected = {b: 0 for b in BYSTANDERS if b != name}
        own = re.escape(token)
        if dialect == "plain":
            self.rx = re.compile(rf"^\[{ROOM}\] <(\w+)> \1 #(\d+) {own}$")
            self.send(f"{name}\r\n".encode())
        else:
            self.rx = re.compile(rf"^:(\w+)!\S+ PRIVMSG {ROOM} :\1 #(\d+) {own}$")
            self.send(f"NICK {name}\r\nUSER {name} 0 * :{name}\r\nJOIN {ROOM}\r\n".encode())

    def line(self, text: str) -> None:
        if not self.ready and (" 366 " in text or text.startswith(f"*** Users in {ROOM}")):
            self.ready = True
        if text.startswith("PING "):
            self.send(b"PONG " + text[5:].encode() + b"\r\n")
        if self.token not in text:
            return
        m = self.rx.match(text)
        if m is None:
            self.failures.add(f"{self.name} received a forged or mangled message: {text!r}")
            return
        sender, number = m[1], int(m[2])
        if sender == self.name and self.dialect == "plain":
            return  # its own line, as netcat's echo shows it
        want = self.expected.get(sender)
        if want is None:
            self.failures.add(f"{self.name} received a message as from {sender}: {text!r}")
        elif number != want:
            self.failures.add(f"{self.name} got {sender} #{number} when #{want} was next")
            self.expected[sender] = number + 1
        else:
            self.expected[sender] = want + 1

    def tick(self, now: float) -> None:
        if not self.ready or not self.sending or now < self.next_at:
            return
        self.next_at = now + BYSTANDER_EVERY
        text = f"{self.name} #{self.sent} {self.token}"
        if self.dialect == "plain":
            self.send(f"{text}\r\n".encode())
        else:
            self.send(f"PRIVMSG {ROOM} :{text}\r\n".encode())
        self.sent += 1

    def lost(self) -> None:
        if not self.closed and not self.done:
            self.failures.add(f"bystander {self.name} was disconnected")
        super().lost()


class Fuzzer(Peer):
    """A connection that registers, then sends hostile lines from its stream.

    Every ``SYNC_EVERY`` lines it sends a line the server answers (PING, or
    ``/help`` with a token for netcat); at most ``SYNC_AHEAD`` such windows
    are unanswered at once. Lines count as fuzzed when the answer after them
    arrived, so lines still in a socket buffer when the server closed the
    connection do not count, and a connection the server stops serving is
    seen (a wedged read, a lost wake-up) rather than waited for.
    """

    def __init__(
        self,
        name: str,
        dialect: str,
        port: int,
        failures: Failures,
        fuzz: Fuzz,
        stream: Iterator[bytes],
    ) -> None:
        self.dialect = dialect
        super().__init__(name, port, failures)
        self.fuzz = fuzz
        self.stream = stream
        self.registered = False
        #: Lines whose sync was answered, and those sent since then per sync outstanding.
        self.done_lines = 0
        self.windows: list[tuple[str, int, float]] = []
        self.syncs = 0
        rng = fuzz.rng
        if dialect == "plain":
            self.send(f"{name}\r\n".encode())
        else:
            caps = " ".join(rng.sample(CAP_NAMES, rng.randrange(len(CAP_NAMES) + 1)))
            self.send(
                f"CAP LS 302\r\nNICK {name}\r\nUSER {name} 0 * :fuzz\r\n"
                f"CAP REQ :{caps}\r\nCAP END\r\n".encode()
            )

    def line(self, text: str) -> None:
        if not self.registered:
            if f" 001 {self.name} " in text or text.startswith(
                f"*** Welcome to ircish, {self.name}!"
            ):
                self.registered = True
            elif " 433 " in text or text.startswith(f"! The nickname {self.name} is taken"):
                self.lost()  # Someone took the nickname: the run reconnects under another.
        if self.windows and self.windows[0][0] in text:
            _token, lines, _at = self.windows.pop(0)
            self.done_lines += lines
        if "msgid=" in text[:200] and len(self.fuzz.msgids) < 50:
            self.fuzz.msgids.append(text.partition("msgid=")[2].partition(";")[0].partition(" ")[0])
        if text.startswith("PING "):
            self.send(b"PONG " + text[5:].encode() + b"\r\n")

    def top_up(self, now: float) -> None:
        """Queue the next window of lines and its sync line, if few are unanswered."""
        if not self.registered or len(self.windows) >= SYNC_AHEAD:
            return
        for _ in range(SYNC_EVERY):
            self.out += next(self.stream)
        self.syncs += 1
        token = f"{self.name}-sync-{self.syncs}."  # the dot: -sync-1 is no prefix of -sync-10
        # The CR LF first ends whatever line the fuzz left open (a CR alone, say).
        sync = f"/help {token}" if self.dialect == "plain" else f"PING :{token}"
        self.out += f"\r\n{sync}\r\n".encode()
        self.windows.append((token, SYNC_EVERY, now))

    def stuck(self, now: float) -> bool:
        """Whether the oldest sync line has waited too long for its answer."""
        return bool(self.windows) and now - self.windows[0][2] > SYNC_LIMIT


class Opener(Peer):
    """A connection that never registers: a few hostile lines as the first ones, then it goes."""

    def __init__(self, name: str, port: int, failures: Failures, fuzz: Fuzz, until: float) -> None:
        super().__init__(name, port, failures)
        self.until = until
        stream = fuzz.lines()
        for _ in range(fuzz.rng.randrange(1, 30)):
            self.send(next(stream))

    def received(self, data: bytes) -> None:
        # The server chose the dialect from the first line: check what it chose.
        self.dialect = (
            "irc" if data.startswith((b":", b"@", b"ERROR ", b"PING ", b"AUTH")) else "plain"
        )
        super().received(data)


class Run:
    """Every socket of the test in one ``selectors`` loop."""

    def __init__(self, port: int, failures: Failures) -> None:
        self.port = port
        self.failures = failures
        self.sel = selectors.DefaultSelector()
        self.peers: list[Peer] = []
        self.connections = 0
        #: Lines sent by connections already closed.
        self.gone_lines = 0

    def add(self, peer: Peer) -> None:
        self.peers.append(peer)
        self.sel.register(peer.sock, selectors.EVENT_READ, peer)
        self.connections += 1

    def close(self, peer: Peer) -> None:
        if not peer.closed:
            peer.lost()
        self.forget(peer)

    def lines_sent(self) -> int:
        """Fuzz lines the server has handled (as far as the test knows)."""
        return self.gone_lines + sum(p.done_lines for p in self.peers if isinstance(p, Fuzzer))

    def pump(self, timeout: float) -> None:
        """One pass: read, write, forget closed sockets."""
        for peer in list(self.peers):
            if peer.closed:
                self.forget(peer)
                continue
            want = selectors.EVENT_READ | (selectors.EVENT_WRITE if peer.out else 0)
            if self.sel.get_key(peer.sock).events != want:
                self.sel.modify(peer.sock, want, peer)
        for key, mask in self.sel.select(timeout):
            peer = key.data
            if mask & selectors.EVENT_READ and not peer.closed:
                peer.readable()
            if mask & selectors.EVENT_WRITE and not peer.closed:
                peer.writable()

    def forget(self, peer: Peer) -> None:
        if peer not in self.peers:
            return
        self.peers.remove(peer)
        if isinstance(peer, Fuzzer):
            self.gone_lines += peer.done_lines
        elif isinstance(peer, Opener):
            self.gone_lines += peer.lines_sent
        self.sel.unregister(peer.sock)
        peer.sock.close()

    def shutdown(self) -> None:
        for peer in list(self.peers):
            self.close(peer)
        self.sel.close()


#: The test's own operator, who reads the memory report at the end (fuzzers never learn it).
ADMIN_PASSWORD = secrets.token_hex(8)


def start_server(tmp_path: Path) -> ServerProcess:
    config = tmp_path / "fuzz.toml"
    admin = f'[[operators]]\nname = "fuzzadmin"\npassword_hash = "{cheap_hash(ADMIN_PASSWORD)}"\n'
    config.write_text(CONFIG + admin)
    return ServerProcess("--config", str(config), cwd=tmp_path)


def memory_report(server: ServerProcess) -> dict[str, int]:
    """An operator's ``STATS z`` after the fuzzing: the first number of each line, by its name."""
    admin = server.client()
    try:
        admin.send("NICK fuzzadmin")
        admin.send("USER admin 0 * :admin")
        admin.expect(r" 001 fuzzadmin ")
        admin.send(f"OPER fuzzadmin {ADMIN_PASSWORD}")
        admin.expect(r" 381 fuzzadmin ")
        admin.send("STATS z")
        lines = [admin.expect(r" (249|219) fuzzadmin ")]
        while " 219 " not in lines[-1]:
            lines.append(admin.expect(r" (249|219) fuzzadmin "))
    finally:
        admin.close()
    report: dict[str, int] = {}
    for line in lines[:-1]:
        m = re.match(r"^\D*?(\d+)", line.partition(" :")[2])
        if m is not None:
            report[line.partition(" :")[2][: m.start(1)].strip()] = int(m[1])
    return report


def fuzz(server: ServerProcess, failures: Failures) -> dict[str, int]:
    """Bystanders chat while fuzzers send ``FUZZ_LINES``; then every message must have arrived."""
    token = f"t{random.Random(SEED).randrange(1 << 30):x}"
    run = Run(server.port, failures)
    # The netcat bystander by1 comes first: it creates #lobby and holds its operator status.
    bystanders: list[Bystander] = []
    for name in BYSTANDERS:
        by = Bystander(
            name, "irc" if name.startswith("irc") else "plain", server.port, failures, token
        )
        bystanders.append(by)
        run.add(by)
        deadline = time.monotonic() + 10
        while not by.ready and time.monotonic() < deadline and not by.closed:
            run.pump(0.05)
        assert by.ready, failures.report(f"\n{name} did not get into {ROOM}")

    fuzzers: list[Fuzzer] = []
    count = IRC_FUZZERS + PLAIN_FUZZERS
    makers = [
        Fuzz(
            random.Random(f"{SEED}-{i}"),
            "irc" if i < IRC_FUZZERS else "plain",
            lambda: [f.name for f in fuzzers],
        )
        for i in range(count)
    ]
    streams = [m.lines() for m in makers]
    generation = [0] * count
    since = [0.0] * count

    def connect(i: int) -> Fuzzer:
        generation[i] += 1
        since[i] = time.monotonic()
        fuzzer = Fuzzer(
            f"fz{i}g{generation[i]}",
            makers[i].dialect,
            server.port,
            failures,
            makers[i],
            streams[i],
        )
        run.add(fuzzer)
        return fuzzer

    fuzzers.extend(connect(i) for i in range(count))
    opener_rng = random.Random(f"{SEED}-openers")
    openers = 0
    started = time.monotonic()
    while run.lines_sent() < FUZZ_LINES and not failures.items:
        now = time.monotonic()
        if now - started > RUN_LIMIT:
            failures.add(f"only {run.lines_sent()} lines were handled in {RUN_LIMIT} s")
        if server.proc.poll() is not None:
            failures.add(f"the server died (status {server.proc.returncode})")
        for by in bystanders:
            by.tick(now)
        for i, fuzzer in enumerate(fuzzers):
            if fuzzer.stuck(now):
                failures.add(
                    f"{fuzzer.name} got no answer for {SYNC_LIMIT} s; it last got "
                    f"{list(fuzzer.tail)!r}"
                )
            if fuzzer.closed or (not fuzzer.registered and now - since[i] > 10):
                run.close(fuzzer)
                fuzzers[i] = connect(i)
            else:
                fuzzer.top_up(now)
        if opener_rng.random() < OPENER_SHARE / 8:
            maker = Fuzz(
                random.Random(f"{SEED}-o{openers}"), opener_rng.choice(("irc", "plain")), lambda: []
            )
            until = now + opener_rng.choice((0.0, 0.2, 1.0))
            run.add(Opener(f"op{openers}", server.port, failures, maker, until))
            openers += 1
        for peer in list(run.peers):
            if isinstance(peer, Opener) and now >= peer.until and not peer.out:
                run.close(peer)
        run.pump(0.002)

    # The bystanders stop; every number each one sent must reach the other two.
    for by in bystanders:
        by.sending = False
    sent = {by.name: by.sent for by in bystanders}
    deadline = time.monotonic() + SETTLE_LIMIT
    while not failures.items:
        pending = [
            (by.name, sender, got, sent[sender])
            for by in bystanders
            for sender, got in by.expected.items()
            if got < sent[sender]
        ]
        if not pending:
            break
        if time.monotonic() > deadline:
            failures.add(f"bystander messages lost (receiver, sender, got, sent): {pending}")
            break
        run.pump(0.02)
    for by in bystanders:
        by.done = True
    if server.proc.poll() is None:
        # What the fuzzers made the server hold stays within its bounds ([limits] defaults).
        report = memory_report(server)
        print(f"memory report while the fuzzers are connected: {report}")
        limits = LimitsConfig()
        if report["invitations"] > report["rooms"] * limits.max_invites_per_room:
            failures.add(f"more invitations than the bounds allow: {report}")
        if report["monitor entries"] > report["users"] * limits.max_monitor:
            failures.add(f"more MONITOR entries than the bounds allow: {report}")
        if report["whowas entries"] > limits.max_whowas:
            failures.add(f"more WHOWAS entries than the bound: {report}")
    stats = {
        "lines": run.lines_sent(),
        "connections": run.connections,
        "openers": openers,
        "bystander messages": sum(sent.values()),
        "seconds": int(time.monotonic() - started),
    }
    run.shutdown()
    return stats


@pytest.mark.slow
@pytest.mark.timeout(RUN_LIMIT + SETTLE_LIMIT + 60)
def test_fuzzed_lines_in_both_dialects_leave_bystanders_unharmed(
    tmp_path: Path, procs: list[ServerProcess]
) -> None:
    print(f"socket fuzz seed {SEED} (replay: IRCISH_FUZZ_SEED={SEED})")
    server = start_server(tmp_path)
    procs.append(server)
    failures = Failures()
    stats = fuzz(server, failures)
    print(f"socket fuzz: {stats}")
    alive = server.proc.poll() is None
    if alive:
        # Still serving: a newcomer registers and is welcomed.
        late = server.client()
        late.send("latecomer")
        late.expect(r"^\*\*\* Welcome to ircish, latecomer!")
        late.close()
        server.signal(signal.SIGTERM)
        code = server.wait()
        if code != 0:
            failures.add(f"the server exited with status {code} on SIGTERM")
    else:
        failures.add(f"the server died with status {server.proc.returncode}")
        server.wait()
    log = server.log()
    lines = log.splitlines()
    bad = [
        i
        for i, x in enumerate(lines)
        if x.startswith("Traceback") or re.match(r"^\S+ \S+ (ERROR|CRITICAL) ", x)
    ]
    if bad:
        failures.add("the server logged errors:\n" + "\n".join(lines[bad[0] : bad[0] + 40]))
    assert not failures.items, failures.report(
        "\nserver log tail:\n" + "\n".join(log.splitlines()[-40:])
    )
    assert stats["lines"] >= FUZZ_LINES
