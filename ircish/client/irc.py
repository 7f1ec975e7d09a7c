"""The client side of the IRC protocol, sans I/O: lines in, model updates and lines out.

Theory of operation (h11 style): ``IrcClient`` never touches a socket. The
connection layer calls ``connection_made()``, feeds every received line to
``line_received()`` and reports ``connection_lost()``; after each call it
writes out ``pop_outgoing()``. The UI calls ``submit()`` with what the user
typed.

Registration follows the Modern IRC client protocol with IRCv3 capability
negotiation: ``CAP LS 302``, (``PASS``), ``NICK``, ``USER``; once the server
lists its capabilities we ``CAP REQ`` the ones we use (``WANTED_CAPS``) and
send ``CAP END``. A server without CAP simply registers us. A taken nickname
during registration is retried with the next free variant (``alice_``,
``alice2``, ...).

With an account (``--account``), ``sasl`` is requested too and ``CAP END``
waits for the login: ``AUTHENTICATE PLAIN``, the server's ``AUTHENTICATE +``,
then base64 of ``\0account\0password`` in 400-byte pieces (IRCv3 SASL 3.1).
903 ends it; 904-907 end it with a clear line, and the connection carries on
without an account. The password is only ever written to the server.

History (IRCv3 ``draft/chathistory``, when the server offers it with
``batch``): joining a room asks for its latest messages (``LATEST * 50``);
rejoining one we already have lines of (a reconnect, a kick) asks only for
what came after our newest msgid; scrolling to the top asks for the page
before the oldest one (``fetch_older``). One request per buffer is in flight
at a time. The ``chathistory`` batch is collected whole, then
``Model.insert_history`` puts it in time order and drops what the buffer
already has (same msgid).

Until the server welcomes us (001), user lines are held in a pending queue;
after 001 we join the rooms we want to be in and then flush that queue, so
nothing typed while disconnected is lost. The rooms we want are those we were
in (``channels``: the server's JOIN said so, and the key that worked) and those
asked for without an answer yet (``_joining``); a refused JOIN (``JOIN_ERRORS``)
drops its room from both, so a mistyped name or key is never replayed.

Answers that come as a series of numerics (``/who``, ``/whois``, ``/list``,
``NAMES``) are collected until their end numeric and shown as one table or line.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ircish import __version__
from ircish.client.model import Buffer, BufferKind, Line, LineKind, Model, Table, casefolder
from ircish.protocol import ctcp, wording
from ircish.protocol import numerics as n
from ircish.protocol.message import Message, MessageParseError

#: Capabilities the client asks for when the server offers them (``sasl`` too, with an account).
WANTED_CAPS = (
    "server-time",
    "echo-message",
    "multi-prefix",
    "batch",
    "message-tags",
    "draft/chathistory",
    "away-notify",
)
#: What chathistory needs: without batches the client could not tell history from live lines.
HISTORY_CAPS = frozenset({"draft/chathistory", "batch"})
#: Messages asked for on joining a room, per page when scrolling up, and to catch up.
#: The WHOX query token of the WHO sent on joining (its 354 replies are not shown).
WHO_TOKEN = "742"
HISTORY_ON_JOIN = 50
HISTORY_PAGE = 50
HISTORY_MISSED = 100
#: AUTHENTICATE carries at most this many bytes of base64 per line.
SASL_CHUNK = 400
#: Bytes a server may add around our text when it relays a message
#: (":nick!~user@host PRIVMSG target :" and CR LF); hosts can be 63 bytes.
RELAY_OVERHEAD = 100
#: Numerics not worth showing (machine-readable server details).
HIDDEN_NUMERICS = frozenset({n.RPL_MYINFO, n.RPL_ISUPPORT, n.RPL_CREATIONTIME})
#: Numerics whose middle parameters repeat what their text says (LUSERS counts).
TEXT_ONLY_NUMERICS = frozenset({"250", n.RPL_LOCALUSERS, n.RPL_GLOBALUSERS})
#: Numerics that refuse a JOIN (the room is the first parameter after our nick):
#: no such room, too many rooms, full, invite-only, banned, wrong key, bad mask,
#: registered users only, bad name, TLS only.
JOIN_ERRORS = frozenset({"403", "405", "471", "473", "474", "475", "476", "477", "479", "489"})
#: Numerics that say a message found nobody to go to.
UNDELIVERED = frozenset({n.ERR_NOSUCHNICK, n.ERR_NOSUCHCHANNEL, n.ERR_CANNOTSENDTOCHAN})
#: Numerics that add a row to a /whois answer (RPL_WHOISUSER, ...SERVER, ...IDLE, ...),
#: or to a /whowas one (RPL_WHOWASUSER, then RPL_WHOISSERVER: where and when).
WHOIS_CODES = ("311", "312", "313", "317", "319", "320", "330", "338", "378", "671", "276", "314")

Handler = Callable[[Message], None]


@dataclass(slots=True)
class HistoryRequest:
    """A CHATHISTORY request waiting for its batch."""

    limit: int
    #: The catch-up after a reconnect: its lines count as unread.
    missed: bool = False
    #: A request for older lines: fewer than ``limit`` means the history starts there.
    older: bool = False
    #: Asked by scrolling up: tell the user when nothing older exists.
    scrolled: bool = False
    #: The msgid the answer follows (a catch-up).
    after: str = ""


@dataclass(slots=True)
class Batch:
    """An open IRCv3 batch; only ``chathistory`` ones are collected."""

    kind: str
    params: tuple[str, ...]
    lines: list[Line] = field(default_factory=list)
    #: Messages received in it (also those not shown, such as TAGMSG).
    count: int = 0


#: Said when the server refuses the server password (``--password``) at registration.
BAD_SERVER_PASSWORD = "Wrong server password (use --password)"


def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` UTF-8 bytes, at spaces if possible."""
    pieces: list[str] = []
    while len(text.encode()) > limit:
        # The longest prefix within the limit, never cutting a character in two.
        cut = len(text.encode()[:limit].decode("utf-8", "ignore"))
        space = text.rfind(" ", 0, cut + 1)
        if space > cut // 2:
            pieces.append(text[:space])
            text = text[space + 1 :]
        else:
            pieces.append(text[:cut])
            text = text[cut:]
    if text or not pieces:
        pieces.append(text)
    return pieces


def nick_variant(nick: str, attempt: int) -> str:
    """The ``attempt``-th alternative to a taken nickname: alice_, alice2, alice3, ..."""
    if attempt == 1:
        return nick + "_"
    return f"{nick}{attempt}"


def parse_time(raw: str | None) -> datetime | None:
    """A server-time tag as a local datetime, or None if absent or malformed."""
    if not raw:
        return None
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone()


class IrcClient:
    """One user's IRC session: registration, state tracking, input handling."""

    def __init__(
        self,
        model: Model,
        *,
        username: str | None = None,
        realname: str | None = None,
        password: str | None = None,
        autojoin: tuple[str, ...] = (),
        account: str | None = None,
        account_password: str | None = None,
    ) -> None:
        self.model = model
        self.username = username or model.nick
        self.realname = realname or model.nick
        #: The server password (PASS), not the account's.
        self.password = password
        #: The account to log in to with SASL PLAIN, and its password.
        self.account = account
        self.account_password = account_password
        #: Rooms we are in, or were in when the link dropped: folded name -> (name,
        #: the key that worked). Only these are rejoined after a reconnection.
        self.channels: dict[str, tuple[str, str]] = {}
        #: Rooms asked for whose JOIN has no answer yet (the autojoin list at first):
        #: folded name -> (name, key). The server's JOIN moves one to ``channels``,
        #: a refusal drops it; sent after 001 if asked for before registration.
        self._joining: dict[str, tuple[str, str]] = {}
        for room in autojoin:
            self._joining[model.fold(room)] = (room, "")
        self.connected = False
        self.registered = False
        self.quitting = False
        #: Set by /reconnect; the connection layer drops the link and connects again.
        self.reconnect_requested = False
        #: Set when reconnecting would not help (a wrong password).
        self.fatal: str | None = None
        self.caps: set[str] = set()
        self._offered: set[str] = set()
        self._sasl_mechs: set[str] = set()
        #: SASL progress: "" (not tried), "started" (AUTHENTICATE PLAIN sent), "sent", "done".
        self._sasl = ""
        self._cap_done = False
        #: Open batches by reference (nested ones in a chathistory batch share its entry).
        self._batches: dict[str, Batch] = {}
        #: History requests in flight, by folded target.
        self._requests: dict[str, HistoryRequest] = {}
        #: The ISUPPORT CHATHISTORY limit (0: none announced).
        self.history_limit = 0
        self._nick_base = model.nick
        self._nick_attempt = 0
        self._out: list[str] = []
        self._pending: list[str] = []
        #: Rooms to switch to when our JOIN comes back (the user asked for them).
        self._switch_to: set[str] = set()
        if autojoin:
            self._switch_to.add(model.fold(autojoin[0]))
        self._names: dict[str, list[str]] = {}
        #: Targets of a buffer that /msg opened and nobody answered yet: a 401 closes it.
        self._unanswered: set[str] = set()
        #: The away text last shown for each nick (folded): RPL_AWAY shows once per text.
        self._away_shown: dict[str, str] = {}
        #: Why the server said it closes the link (its ERROR line), for the disconnect notice.
        self._closing = ""
        self._who: list[tuple[str, ...]] = []
        #: Rooms joined whose WHO (to learn who is away) is still to be sent, and the
        #: one (folded) whose answer is awaited: its replies update the model unshown.
        self._who_wanted: list[str] = []
        self._who_pending = ""
        #: Whether the server has WHOX (ISUPPORT), for a smaller WHO on join.
        self.whox = False
        self._whois: dict[str, list[tuple[str, str]]] = {}
        self._list: list[tuple[str, str, str]] | None = None
        self._handlers: dict[str, Handler] = {
            "PING": self._on_ping,
            "PONG": lambda msg: None,
            "CAP": self._on_cap,
            "ERROR": self._on_error,
            "PRIVMSG": self._on_privmsg,
            "NOTICE": self._on_privmsg,
            "JOIN": self._on_join,
            "PART": self._on_part,
            "QUIT": self._on_quit,
            "NICK": self._on_nick,
            "KICK": self._on_kick,
            "TOPIC": self._on_topic,
            "MODE": self._on_mode,
            "INVITE": self._on_invite,
            "AWAY": self._on_away,
            "AUTHENTICATE": self._on_authenticate,
            "BATCH": self._on_batch,
            "FAIL": self._on_fail,
        }
        self._numerics: dict[str, Handler] = {
            n.RPL_WELCOME: self._on_welcome,
            n.RPL_ISUPPORT: self._on_isupport,
            n.RPL_MOTDSTART: lambda msg: None,
            n.RPL_ENDOFMOTD: lambda msg: None,
            n.RPL_MOTD: self._on_motd,
            n.RPL_AWAY: self._on_rpl_away,
            n.RPL_UNAWAY: self._on_unaway,
            n.RPL_NOWAWAY: self._on_nowaway,
            n.RPL_NAMREPLY: self._on_namreply,
            n.RPL_ENDOFNAMES: self._on_endofnames,
            n.RPL_NOTOPIC: self._on_notopic,
            n.RPL_TOPIC: self._on_rpl_topic,
            n.RPL_TOPICWHOTIME: self._on_topicwhotime,
            n.RPL_CREATIONTIME: lambda msg: None,
            n.RPL_CHANNELMODEIS: self._on_channelmodeis,
            n.RPL_WHOREPLY: self._on_whoreply,
            n.RPL_ENDOFWHO: self._on_endofwho,
            n.RPL_WHOSPCRPL: self._on_whox,
            n.RPL_LISTSTART: self._on_liststart,
            n.RPL_LIST: self._on_list,
            n.RPL_LISTEND: self._on_listend,
            n.RPL_ENDOFWHOIS: self._on_endofwhois,
            n.RPL_ENDOFWHOWAS: self._on_endofwhois,
            n.RPL_INVITING: self._on_inviting,
            n.ERR_NICKNAMEINUSE: self._on_nick_error,
            n.ERR_ERRONEUSNICKNAME: self._on_nick_error,
            n.ERR_PASSWDMISMATCH: self._on_bad_password,
            n.RPL_LOGGEDIN: self._on_loggedin,
            n.RPL_LOGGEDOUT: self._on_loggedout,
            n.RPL_SASLSUCCESS: self._on_sasl_end,
            n.ERR_SASLFAIL: self._on_sasl_failed,
            n.ERR_SASLTOOLONG: self._on_sasl_failed,
            n.ERR_SASLABORTED: self._on_sasl_failed,
            n.ERR_SASLALREADY: self._on_sasl_end,
            n.RPL_SASLMECHS: self._on_saslmechs,
        }
        for code in WHOIS_CODES:
            self._numerics[code] = self._whois_row

    @property
    def server(self) -> Buffer:
        return self.model.server

    # -- the connection layer's interface ------------------------------------------

    def connection_made(self) -> None:
        """Start registration on a fresh connection."""
        self.connected = True
        self.registered = False
        self.caps = set()
        self._offered = set()
        self._sasl_mechs = set()
        self._sasl = ""
        self._cap_done = False
        self._batches.clear()
        self._requests.clear()
        self.history_limit = 0
        self._nick_base = self.model.nick
        self._nick_attempt = 0
        self._names.clear()
        self._who_wanted.clear()
        self._who_pending = ""
        self._closing = ""
        self.whox = False
        self.model.state = "registering"
        self._write("CAP", "LS", "302")
        if self.password:
            self._write("PASS", self.password)
        self._write("NICK", self.model.nick)
        self._write("USER", self.username, "0", "*", self.realname)

    def connection_lost(self, reason: str) -> None:
        """Forget what only held for that connection; remember the rooms to rejoin."""
        was_registered = self.registered
        self.connected = False
        self.registered = False
        self._out.clear()
        self._batches.clear()
        self._requests.clear()
        self.model.account = None
        for buf in self.model.buffers:
            buf.history_pending = False
        for buf in self.model.rooms():
            if buf.joined:
                buf.joined = False
                buf.members.clear()
        self.model.state = "disconnected"
        if self._closing:
            # Every room says why, not only the server buffer (a restart, a kill, a ban).
            reason, self._closing = f"closed by the server: {self._closing}", ""
        if not self.quitting:
            text = f"Disconnected: {reason}" if was_registered else f"Connection closed: {reason}"
            for buf in {self.server, self.model.current, *self.model.rooms()}:
                self.model.error(text, buf)

    def line_received(self, line: str) -> None:
        """Handle one line from the server."""
        try:
            msg = Message.parse(line)
        except MessageParseError:
            return
        ref = msg.tags.get("batch")
        batch = self._batches.get(ref) if ref is not None else None
        if batch is not None and batch.kind == "chathistory" and msg.verb != "BATCH":
            self._history_message(batch, msg)
            return
        handler = self._handlers.get(msg.verb)
        if handler is None and msg.verb.isdigit():
            handler = self._numerics.get(msg.verb, self._on_numeric)
        if handler is None:
            self.model.info(" ".join(msg.params), self.server)
            return
        try:
            handler(msg)
        except IndexError:
            # A server sent fewer parameters than the protocol promises: show it raw.
            self.model.info(line, self.server)

    def pop_outgoing(self) -> list[str]:
        """Lines to write to the server now (without line endings)."""
        out, self._out = self._out, []
        return out

    # -- sending -----------------------------------------------------------------------

    def _write(self, verb: str, *params: str) -> None:
        self._out.append(Message(verb, params).format())

    def send(self, verb: str, *params: str) -> None:
        """Send a command now, or once registered if we are not yet."""
        self.send_raw(Message(verb, params).format())

    def send_raw(self, line: str) -> None:
        if self.registered:
            self._out.append(line)
        else:
            self._pending.append(line)

    def say(self, target: str, text: str, *, action: bool = False, notice: bool = False) -> None:
        """Send a message (split to fit a line) and show it unless the server echoes it.

        Sent to another buffer than the one in view (``/msg bob hi`` from a room),
        it is also echoed here as ``[msg(bob)] hi``, as irssi does. A private
        buffer this opens is closed again if the server says the nick does not
        exist (401) before anyone answered in it.
        """
        model = self.model
        is_room = model.is_room_name(target)
        fresh = model.find(target) is None
        buf = model.open(target, BufferKind.ROOM if is_room else BufferKind.QUERY)
        here = model.current
        if fresh and buf is not here:
            self._unanswered.add(model.fold(target))
        verb = "NOTICE" if notice else "PRIVMSG"
        kind = LineKind.ACTION if action else LineKind.NOTICE if notice else LineKind.MESSAGE
        limit = 510 - RELAY_OVERHEAD - len(model.nick.encode()) - len(target.encode())
        if action:
            limit -= ctcp.ACTION_OVERHEAD
        if not self.registered:
            to = f" to {target}" if buf is not here else ""
            model.info(f"Not connected yet; this is sent{to} once connected: {text}", here)
        for piece in split_text(text, limit):
            self.send(verb, target, ctcp.action(piece) if action else piece)
            if not self.registered:
                continue
            if "echo-message" not in self.caps:
                model.message(buf, model.nick, piece, kind)
            if buf is not here:
                sent = LineKind.SENT_NOTICE if notice else LineKind.SENT
                model.line(here, sent, piece, target, own=True)

    def join(self, rooms: list[str], keys: list[str] | None = None, switch: bool = True) -> None:
        """Ask to join ``rooms`` (``keys`` pair with the first ones).

        A room is remembered for rejoining only once the server's JOIN says we
        are in, with the key that worked; a refused JOIN is never replayed.
        """
        keys = keys or []
        if switch:
            self._switch_to.update(self.model.fold(r) for r in rooms)
        for i, room in enumerate(rooms):
            self._joining[self.model.fold(room)] = (room, keys[i] if i < len(keys) else "")
        if self.registered:
            params = (",".join(rooms), ",".join(keys)) if keys else (",".join(rooms),)
            self.send("JOIN", *params)
        # Otherwise _on_welcome sends it, with the rooms to rejoin.

    def part(self, room: str, reason: str = "") -> None:
        self.channels.pop(self.model.fold(room), None)
        self._joining.pop(self.model.fold(room), None)
        self.send("PART", room, reason) if reason else self.send("PART", room)

    def ping(self, token: str) -> None:
        """A keepalive PING, sent even before registration completes."""
        self._write("PING", token)

    def quit(self, reason: str) -> None:
        """Say goodbye; the connection layer closes once the server hangs up."""
        self.quitting = True
        if self.connected:
            self._out.append(Message("QUIT", (reason,)).format())

    # -- registration -----------------------------------------------------------------

    def _on_ping(self, msg: Message) -> None:
        self._write("PONG", *msg.params)

    def _on_cap(self, msg: Message) -> None:
        sub = msg.params[1].upper()
        more = len(msg.params) > 3 and msg.params[2] == "*"
        caps = {c.split("=", 1)[0] for c in msg.params[-1].split()}
        if sub == "LS":
            self._offered |= caps
            for token in msg.params[-1].split():
                if token.startswith("sasl="):
                    self._sasl_mechs |= {m.upper() for m in token[5:].split(",") if m}
            if more:
                return
            wanted = [c for c in WANTED_CAPS if c in self._offered]
            if self.account and not self.registered and self._sasl_possible():
                wanted.append("sasl")
            if wanted and not self.registered:
                self._write("CAP", "REQ", " ".join(wanted))
            else:
                self._cap_end()
        elif sub == "ACK":
            acked = {c for c in caps if not c.startswith("-")}
            self.caps |= acked
            if "sasl" in acked and self.account and not self.registered and not self._sasl:
                self._sasl = "started"
                self._write("AUTHENTICATE", "PLAIN")
                return  # CAP END once the login is over
            self._cap_end()
        elif sub == "NAK":
            if self.account and "sasl" in caps:
                self._login_failed("the server refused the sasl capability")
            self._cap_end()

    def _sasl_possible(self) -> bool:
        """Whether the server offers SASL PLAIN; if not, say why we will not log in."""
        if "sasl" not in self._offered:
            self._login_failed("the server does not offer SASL")
            return False
        if self._sasl_mechs and "PLAIN" not in self._sasl_mechs:
            offered = ", ".join(sorted(self._sasl_mechs))
            self._login_failed(f"the server offers only {offered}, not PLAIN")
            return False
        return True

    def _login_failed(self, why: str) -> None:
        self._sasl = "done"
        text = f"Not logged in as {self.account}: {why}; connected without an account"
        self.model.error(text, self.server)

    def _on_authenticate(self, msg: Message) -> None:
        """``AUTHENTICATE +``: the server is ready for our credentials."""
        if self._sasl != "started" or msg.params[0] != "+":
            return
        self._sasl = "sent"
        raw = f"\0{self.account}\0{self.account_password or ''}".encode()
        payload = base64.b64encode(raw).decode("ascii")
        for i in range(0, len(payload), SASL_CHUNK):
            self._write("AUTHENTICATE", payload[i : i + SASL_CHUNK])
        if len(payload) % SASL_CHUNK == 0:
            self._write("AUTHENTICATE", "+")  # an exact multiple: say it is over

    def _on_loggedin(self, msg: Message) -> None:
        self.model.account = msg.params[2]
        self.model.info(msg.params[-1], self.server)

    def _on_loggedout(self, msg: Message) -> None:
        self.model.account = None
        self.model.info(msg.params[-1], self.server)

    def _on_sasl_end(self, msg: Message) -> None:
        """903 (success; 900 told the account) or 907 (already logged in)."""
        self._sasl = "done"
        self._cap_end()

    def _on_sasl_failed(self, msg: Message) -> None:
        """904 wrong credentials, 905 too long, 906 aborted."""
        if self._sasl in ("started", "sent"):
            self._login_failed(msg.params[-1])
        else:
            self._on_numeric(msg)
        self._cap_end()

    def _on_saslmechs(self, msg: Message) -> None:
        self._sasl_mechs = {m.upper() for m in msg.params[1].split(",") if m}

    def _cap_end(self) -> None:
        if not self._cap_done and not self.registered:
            self._cap_done = True
            self._write("CAP", "END")

    def _on_welcome(self, msg: Message) -> None:
        model = self.model
        self.registered = True
        model.set_nick(msg.params[0])
        model.state = "connected"
        model.info(msg.params[-1], self.server)
        # The rooms we were in, and those asked for that had no answer (a newer key wins).
        rooms = list({**self.channels, **self._joining}.values())
        # Rooms with keys go first: JOIN pairs keys with the leading rooms.
        rooms.sort(key=lambda pair: not pair[1])
        if rooms:
            keys = [key for _, key in rooms if key]
            names = ",".join(name for name, _ in rooms)
            self._write("JOIN", *((names, ",".join(keys)) if keys else (names,)))
        pending, self._pending = self._pending, []
        self._out.extend(pending)
        # Private conversations have no JOIN: catch up on them now (rooms do on their JOIN).
        for buf in model.buffers:
            if buf.kind is BufferKind.QUERY and buf.newest_msgid():
                self._fetch_recent(buf)

    def _on_isupport(self, msg: Message) -> None:
        model = self.model
        for token in msg.params[1:-1]:
            key, _, value = token.partition("=")
            if key == "CASEMAPPING":
                model.fold = casefolder(value)
            elif key == "CHANTYPES" and value:
                model.chantypes = value
            elif key == "NETWORK" and value:
                model.server.name = value
            elif key == "WHOX":
                self.whox = True
            elif key == "CHATHISTORY" and value.isdigit():
                self.history_limit = int(value)
            elif key == "PREFIX" and value.startswith("("):
                modes, _, chars = value[1:].partition(")")
                model.prefixes = chars
                model.prefix_modes = dict(zip(modes, chars, strict=False))

    def _on_nick_error(self, msg: Message) -> None:
        nick = msg.params[1] if len(msg.params) > 2 else self.model.nick
        if self.registered:
            self._on_numeric(msg)
            return
        # Still registering: pick the next variant, as irssi and WeeChat do.
        self._nick_attempt += 1
        base = self._nick_base
        if msg.verb == n.ERR_ERRONEUSNICKNAME and len(base) > 9 and self._nick_attempt == 1:
            candidate = base[:9]  # the old RFC limit: the likeliest reason
            self._nick_base = candidate
        elif msg.verb == n.ERR_ERRONEUSNICKNAME and self._nick_attempt > 1:
            self.model.error(f"The server refused the nickname {nick}; try /nick NAME", self.server)
            return
        else:
            candidate = nick_variant(base, self._nick_attempt)
        why = "is taken" if msg.verb == n.ERR_NICKNAMEINUSE else "was refused"
        self.model.error(f"The nickname {nick} {why}; trying {candidate}", self.server)
        self.model.set_nick(candidate)
        self._write("NICK", candidate)

    def _on_bad_password(self, msg: Message) -> None:
        if self.registered:
            self._on_numeric(msg)  # an /oper refused: nothing to do with the server password
            return
        self.fatal = "wrong server password"
        self.model.error(BAD_SERVER_PASSWORD, self.server)

    def _on_error(self, msg: Message) -> None:
        text = msg.params[0] if msg.params else "closing"
        # "Closing Link: host (reason)" is the usual form; the reason is the news.
        found = re.fullmatch(r"Closing Link: \S+ \((.*)\)", text)
        self._closing = found.group(1) if found else text
        if not self.quitting:
            self.model.error(f"Server: {text}", self.server)

    # -- messages -----------------------------------------------------------------------

    def _on_privmsg(self, msg: Message) -> None:
        model = self.model
        if model.is_ignored(msg.source):
            return  # /ignore: not shown, no buffer opened, no CTCP answered
        nick = msg.nick or ""
        target, text = msg.params[0], msg.params[1]
        notice = msg.verb == "NOTICE"
        when = parse_time(msg.tags.get("time"))
        msgid = msg.tags.get("msgid", "")
        kind = LineKind.NOTICE if notice else LineKind.MESSAGE
        request = ctcp.decode(text)
        if request is not None:
            verb, arg = request
            if verb != "ACTION":
                self._on_ctcp(msg, nick, verb, arg)
                return
            kind, text = LineKind.ACTION, arg
        # STATUSMSG targets such as "@#room" still belong to the room.
        room = target if model.is_room_name(target) else target.lstrip(model.prefixes)
        if model.is_room_name(room):
            buf = model.open(room, BufferKind.ROOM)
        elif msg.source is None or "!" not in msg.source or not self.registered:
            buf = self.server  # the server talking
        elif model.is_me(nick):
            buf = model.open(target, BufferKind.QUERY)  # our own message, echoed
        elif notice:
            buf = model.find(nick) or model.current
        else:
            buf = model.open(nick, BufferKind.QUERY)
            if buf.name != nick:
                model.rename(buf, nick)
        if buf is not self.server:
            self._unanswered.discard(model.fold(buf.name))
        model.message(buf, nick or (msg.source or self.server.name), text, kind, when, msgid)

    def _on_ctcp(self, msg: Message, nick: str, verb: str, arg: str) -> None:
        """A CTCP request or reply other than ACTION; it opens no buffer."""
        if self.model.is_me(nick):
            # Our own request or auto-reply, echoed back (echo-message): it is not
            # someone else's, and answering it would talk to ourselves.
            return
        if msg.verb == "NOTICE":
            self.model.info(f"CTCP {verb} reply from {nick}: {arg}", self.model.current)
            return
        self.model.info(f"{nick} sent a CTCP {verb} request", self.server)
        reply = ctcp.reply(verb, arg, f"ircish {__version__}")
        if reply is not None and self.registered and nick:
            self._write("NOTICE", nick, reply)

    # -- history ------------------------------------------------------------------------

    @property
    def has_history(self) -> bool:
        """Whether the server answers CHATHISTORY on this connection."""
        return self.registered and self.caps >= HISTORY_CAPS

    def fetch_older(self, buf: Buffer) -> bool:
        """The user reached the top of ``buf``: ask for the page before its oldest message.

        Nothing is sent while a request for the buffer is in flight, once the
        server said there is nothing older, or when the buffer is full anyway.
        """
        if (
            not self.has_history
            or buf.kind is BufferKind.SERVER
            or buf.history_pending
            or buf.history_start
            or buf.full
            or (buf.is_room and not buf.joined)
        ):
            return False
        oldest = buf.oldest_msgid()
        selector = f"msgid={oldest}" if oldest else "*"
        sub = "BEFORE" if oldest else "LATEST"
        self._request(
            buf, sub, selector, HISTORY_PAGE, HistoryRequest(0, older=True, scrolled=True)
        )
        return True

    def _fetch_recent(self, buf: Buffer) -> None:
        """After a JOIN (or, for a query, a reconnect): the latest lines, or what we missed."""
        if not self.has_history or buf.history_pending:
            return
        newest = buf.newest_msgid()
        if newest:
            req = HistoryRequest(0, missed=True, after=newest)
            self._request(buf, "LATEST", f"msgid={newest}", HISTORY_MISSED, req)
        else:
            self._request(buf, "LATEST", "*", HISTORY_ON_JOIN, HistoryRequest(0, older=True))

    def _request(
        self, buf: Buffer, sub: str, selector: str, limit: int, req: HistoryRequest
    ) -> None:
        if self.history_limit:
            limit = min(limit, self.history_limit)
        req.limit = limit
        buf.history_pending = True
        self._requests[self.model.fold(buf.name)] = req
        self._write("CHATHISTORY", sub, buf.name, selector, str(limit))

    def _on_batch(self, msg: Message) -> None:
        ref = msg.params[0]
        if ref.startswith("+") and len(msg.params) > 1:
            outer = self._batches.get(msg.tags.get("batch", ""))
            if outer is not None and outer.kind == "chathistory":
                self._batches[ref[1:]] = outer  # a batch inside history is history too
            else:
                self._batches[ref[1:]] = Batch(msg.params[1].lower(), msg.params[2:])
        elif ref.startswith("-"):
            batch = self._batches.pop(ref[1:], None)
            # Only the outer batch's end finishes it, not that of one nested in it.
            if (
                batch is not None
                and batch.kind == "chathistory"
                and not any(open_ is batch for open_ in self._batches.values())
            ):
                self._history_done(batch)

    def _history_message(self, batch: Batch, msg: Message) -> None:
        """One message of a chathistory batch: kept until the batch ends."""
        batch.count += 1
        if msg.verb not in ("PRIVMSG", "NOTICE") or len(msg.params) < 2:
            return  # TAGMSG (reactions, typing) and events we did not ask for
        if self.model.is_ignored(msg.source):
            return
        text = msg.params[1]
        kind = LineKind.NOTICE if msg.verb == "NOTICE" else LineKind.MESSAGE
        request = ctcp.decode(text)
        if request is not None:
            if request[0] != "ACTION":
                return
            kind, text = LineKind.ACTION, request[1]
        nick = msg.nick or msg.source or self.server.name
        when = parse_time(msg.tags.get("time"))
        msgid = msg.tags.get("msgid", "")
        batch.lines.append(self.model.make_message(nick, text, kind, when, msgid, history=True))

    def _history_done(self, batch: Batch) -> None:
        model = self.model
        target = batch.params[0] if batch.params else ""
        req = self._requests.pop(model.fold(target), None) if target else None
        buf = model.find(target) if target and not target.isdigit() else None
        if buf is None or buf is self.server:
            if not batch.lines:
                return
            buf = model.open(
                target, BufferKind.ROOM if model.is_room_name(target) else BufferKind.QUERY
            )
        buf.history_pending = False
        if req is None:
            model.insert_history(buf, batch.lines)
        else:
            model.insert_history(buf, batch.lines, missed=req.missed, after=req.after)
        if req is not None and req.older and batch.count < req.limit:
            buf.history_start = True
            if req.scrolled and buf.lines:
                start = Line(
                    buf.lines[0].time, LineKind.INFO, f"Start of the history of {buf.name}"
                )
                buf.lines.appendleft(start)

    def _on_fail(self, msg: Message) -> None:
        """IRCv3 standard replies: ``FAIL <command> <code> [<context>...] :<text>``."""
        if msg.params[0].upper() != "CHATHISTORY":
            self.model.error(wording.standard_reply(msg.params))
            return
        model = self.model
        # FAIL CHATHISTORY <code> <subcommand> <target> :text names the target; others may not.
        target = msg.params[3] if len(msg.params) > 4 else ""
        keys = (
            [model.fold(target)] if model.fold(target) in self._requests else list(self._requests)
        )
        for key in keys:
            self._requests.pop(key, None)
            for buf in model.buffers:
                if model.fold(buf.name) == key:
                    buf.history_pending = False
        where = f" of {target}" if target else ""
        model.info(f"No history{where}: {msg.params[-1]}", self.server)

    # -- membership ---------------------------------------------------------------------

    def _on_join(self, msg: Message) -> None:
        model = self.model
        nick, room = msg.nick or "", msg.params[0]
        if model.is_me(nick):
            buf = model.open(room, BufferKind.ROOM)
            buf.name = room
            buf.joined = True
            buf.members.clear()
            # The server sends 332 next if the room has a topic; a rejoin without one has none.
            buf.topic = ""
            model.add_member(buf, nick)
            key = model.fold(room)
            self._unanswered.discard(key)
            asked = self._joining.pop(key, None) or self.channels.get(key) or (room, "")
            self.channels[key] = (room, asked[1])
            if key in self._switch_to:
                self._switch_to.discard(key)
                model.switch(buf)
            model.line(buf, LineKind.JOIN, f"You joined {room}", nick, own=True)
            self._fetch_recent(buf)
            self._ask_who_is_away(room)
            return
        buf = model.open(room, BufferKind.ROOM)
        model.add_member(buf, nick)
        host = msg.source.split("!", 1)[1] if msg.source and "!" in msg.source else ""
        model.line(buf, LineKind.JOIN, f"{nick} ({host}) joined {room}", nick)

    def _on_part(self, msg: Message) -> None:
        model = self.model
        nick, room = msg.nick or "", msg.params[0]
        reason = msg.params[1] if len(msg.params) > 1 else ""
        buf = model.find(room)
        if buf is None or not buf.is_room:
            return
        if model.is_me(nick):
            self.channels.pop(model.fold(room), None)
            model.close(buf)
            model.info(f"You left {room}" + (f" ({reason})" if reason else ""), self.server)
            return
        model.remove_member(buf, nick)
        text = f"{nick} left {room}" + (f" ({reason})" if reason else "")
        model.line(buf, LineKind.PART, text, nick)

    def _on_quit(self, msg: Message) -> None:
        model = self.model
        nick = msg.nick or ""
        reason = msg.params[0] if msg.params else ""
        text = f"{nick} quit" + (f" ({reason})" if reason else "")
        model.set_away(nick, None)
        self._away_shown.pop(model.fold(nick), None)
        for buf in list(model.rooms_with(nick)):
            model.remove_member(buf, nick)
            model.line(buf, LineKind.QUIT, text, nick)
        query = model.find(nick)
        if query is not None and query.kind is BufferKind.QUERY:
            model.line(query, LineKind.QUIT, text, nick)

    def _on_nick(self, msg: Message) -> None:
        model = self.model
        old, new = msg.nick or "", msg.params[0]
        me = model.is_me(old)
        text = f"You are now known as {new}" if me else f"{old} is now known as {new}"
        shown: set[int] = set()
        model.rename_user(old, new)
        if (seen := self._away_shown.pop(model.fold(old), None)) is not None:
            self._away_shown[model.fold(new)] = seen
        for buf in list(model.rooms_with(old)):
            model.rename_member(buf, old, new)
            model.line(buf, LineKind.NICK, text, new, own=me)
            shown.add(id(buf))
        query = model.find(old)
        if query is not None and query.kind is BufferKind.QUERY and not me:
            model.rename(query, new)
            model.line(query, LineKind.NICK, text, new)
            shown.add(id(query))
        if me:
            model.set_nick(new)
            self._nick_base = new
            if id(model.current) not in shown:
                model.line(model.current, LineKind.NICK, text, new, own=True)

    def _on_kick(self, msg: Message) -> None:
        model = self.model
        by, room, target = msg.nick or "", msg.params[0], msg.params[1]
        reason = msg.params[2] if len(msg.params) > 2 else ""
        buf = model.find(room)
        if buf is None or not buf.is_room:
            return
        if model.is_me(target):
            buf.joined = False
            buf.members.clear()
            self.channels.pop(model.fold(room), None)
            text = f"You were kicked from {room} by {by}" + (f" ({reason})" if reason else "")
            model.line(buf, LineKind.KICK, text, by, mention=True)
            return
        model.remove_member(buf, target)
        text = f"{by} kicked {target} from {room}" + (f" ({reason})" if reason else "")
        model.line(buf, LineKind.KICK, text, by)

    def _on_topic(self, msg: Message) -> None:
        model = self.model
        room, text = msg.params[0], msg.params[1] if len(msg.params) > 1 else ""
        buf = model.open(room, BufferKind.ROOM)
        buf.topic = text
        nick = msg.nick or ""
        shown = f"{nick} changed the topic to: {text}" if text else f"{nick} cleared the topic"
        model.line(buf, LineKind.TOPIC, shown, nick, own=model.is_me(nick))

    def _on_mode(self, msg: Message) -> None:
        model = self.model
        target, changes = msg.params[0], msg.params[1:]
        by = msg.nick or msg.source or ""
        text = f"{by} sets mode {' '.join(changes)} on {target}"
        if not model.is_room_name(target):
            model.info(text, self.server)
            return
        buf = model.open(target, BufferKind.ROOM)
        args = list(changes[1:])
        on = True
        for ch in changes[0] if changes else "":
            if ch in "+-":
                on = ch == "+"
            elif ch in model.prefix_modes and args:
                model.set_prefix(buf, args.pop(0), model.prefix_modes[ch], on)
            elif ch == "k" and (args or not on):
                key = args.pop(0) if args else ""
                room = model.fold(target)
                if room in self.channels:  # rejoin with the key the room has now
                    self.channels[room] = (self.channels[room][0], key if on else "")
            elif (ch in "bkeIfjJ" or (ch == "l" and on)) and args:
                args.pop(0)  # a mode whose argument is not a nickname
        model.line(buf, LineKind.MODE, text, by)

    def _on_invite(self, msg: Message) -> None:
        if self.model.is_ignored(msg.source):
            return
        room = msg.params[1]
        text = f"{msg.nick} invites you to {room} (type /join {room})"
        self.model.line(self.model.current, LineKind.INFO, text, msg.nick or "", mention=True)

    # -- numerics -------------------------------------------------------------------

    def _on_numeric(self, msg: Message) -> None:
        """Any numeric without its own handler: errors in view, the rest in the server buffer."""
        params = msg.params[1:]
        if msg.verb in JOIN_ERRORS and params:
            self._join_refused(params[0])
        if msg.verb in UNDELIVERED and params:
            self._close_unanswered(params[0])
        if msg.verb[0] in "45":
            # The words netcat users read too (protocol.wording); other servers' texts
            # are IRC's fragments, so they get the name they are about.
            text = wording.error(msg.verb, params, name_subject=True)
            if text is None:
                return
            # Shown where the user is looking, and kept in the server buffer's log too.
            self.model.error(text)
            if self.model.current is not self.server:
                self.model.error(text, self.server)
            return
        if msg.verb in HIDDEN_NUMERICS:
            return
        shown = wording.reply(msg.verb, params)
        if shown is None:
            shown = " ".join(params[-1:] if msg.verb in TEXT_ONLY_NUMERICS else params)
        if shown:
            self.model.info(shown, self.server)

    def _join_refused(self, room: str) -> None:
        """The server refused a JOIN of ``room``: never replay it (nor its key)."""
        key = self.model.fold(room)
        self._joining.pop(key, None)
        self._switch_to.discard(key)
        buf = self.model.find(room)
        if key in self.channels and (buf is None or not buf.is_room or not buf.joined):
            # A rejoin refused (the key changed, a ban): not tried again on every reconnect.
            del self.channels[key]

    def _close_unanswered(self, target: str) -> None:
        """A /msg found nobody: close the buffer it opened if nothing else happened there."""
        model = self.model
        key = model.fold(target)
        if key not in self._unanswered:
            return
        self._unanswered.discard(key)
        buf = model.find(target)
        if buf is None or buf is model.server or buf is model.current or buf.joined:
            return
        if all(line.own or line.kind in (LineKind.INFO, LineKind.ERROR) for line in buf.lines):
            model.close(buf)

    def _on_motd(self, msg: Message) -> None:
        self.model.info(msg.params[-1].removeprefix("- "), self.server)

    def _on_rpl_away(self, msg: Message) -> None:
        """301: shown once per conversation, and again only when the away text changes."""
        nick, text = msg.params[1], msg.params[2]
        key = self.model.fold(nick)
        self.model.set_away(nick, text)
        if key in self._whois:
            self._whois[key].append(("away", text))
            return
        if self._away_shown.get(key) == text:
            return  # servers answer every message to an away user with 301
        self._away_shown[key] = text
        buf = self.model.find(nick) or self.model.current
        self.model.info(f"{nick} is away: {text}", buf)

    def _on_away(self, msg: Message) -> None:
        """IRCv3 away-notify: ``AWAY :text`` (gone) or ``AWAY`` (back) from someone we see."""
        model = self.model
        nick = msg.nick or ""
        if not nick or model.is_me(nick):
            return
        text = msg.params[0] if msg.params and msg.params[0] else None
        key = model.fold(nick)
        was = model.away_users.get(key)
        model.set_away(nick, text)
        if text is None:
            self._away_shown.pop(key, None)  # the next time away is news again
        query = model.find(nick)
        if query is None or query.kind is not BufferKind.QUERY or was == text:
            return
        # Said in the private conversation only: rooms would be flooded with it.
        if text is None:
            model.info(f"{nick} is back", query)
        else:
            self._away_shown[key] = text
            model.info(f"{nick} is away: {text}", query)

    def _on_unaway(self, msg: Message) -> None:
        self.model.away = None
        self.model.info("You are no longer marked as away")

    def _on_nowaway(self, msg: Message) -> None:
        self.model.away = self.model.away or "away"
        self.model.info("You are now marked as away")

    def _on_namreply(self, msg: Message) -> None:
        room, names = msg.params[-2], msg.params[-1]
        self._names.setdefault(self.model.fold(room), []).extend(names.split())

    def _on_endofnames(self, msg: Message) -> None:
        model = self.model
        room = msg.params[1]
        names = self._names.pop(model.fold(room), [])
        buf = model.find(room)
        if buf is not None and buf.is_room and buf.joined:
            buf.members.clear()
            for entry in names:
                bare = entry.lstrip(model.prefixes)
                prefix = entry[: len(entry) - len(bare)]
                model.add_member(buf, bare.split("!", 1)[0], prefix)
            shown = model.sorted_members(buf)
        else:
            buf = model.current
            shown = names
        # Away users in grey (mIRC colour 14), as irssi and WeeChat show them.
        shown = [
            f"\x0314{entry}\x03"
            if model.is_away(entry.lstrip(model.prefixes).split("!", 1)[0])
            else entry
            for entry in shown
        ]
        model.info(f"Users in {room} ({len(shown)}): {' '.join(shown)}", buf)

    def _room_buffer(self, room: str) -> Buffer:
        buf = self.model.find(room)
        return buf if buf is not None and buf.is_room else self.model.current

    def _on_notopic(self, msg: Message) -> None:
        room = msg.params[1]
        buf = self._room_buffer(room)
        if buf.is_room and self.model.fold(buf.name) == self.model.fold(room):
            buf.topic = ""
        self.model.info(f"{room} has no topic", buf)

    def _on_rpl_topic(self, msg: Message) -> None:
        room, text = msg.params[1], msg.params[2]
        buf = self._room_buffer(room)
        if buf.is_room and self.model.fold(buf.name) == self.model.fold(room):
            buf.topic = text
        self.model.line(buf, LineKind.TOPIC, f"Topic of {room}: {text}")

    def _on_topicwhotime(self, msg: Message) -> None:
        room, by, stamp = msg.params[1], msg.params[2], msg.params[3]
        text = f"Topic set by {by.split('!', 1)[0]} on {_date(stamp)}"
        self.model.info(text, self._room_buffer(room))

    def _on_channelmodeis(self, msg: Message) -> None:
        room = msg.params[1]
        self.model.info(f"Modes of {room}: {' '.join(msg.params[2:])}", self._room_buffer(room))

    def _on_inviting(self, msg: Message) -> None:
        self.model.info(f"Invited {msg.params[1]} to {msg.params[2]}")

    def _ask_who_is_away(self, room: str) -> None:
        """WHO the room just joined: NAMES does not say who is away, WHO's flags do.

        away-notify keeps it current afterwards. With WHOX only the nick and flags
        come back (``%tnf``, tagged with ``WHO_TOKEN``), as irssi and WeeChat ask.
        One at a time, the next when the last has answered: a rejoin of many rooms
        would otherwise queue many WHOs (each costs flood-control tokens) ahead of
        what the user types next.
        """
        self._who_wanted.append(room)
        if not self._who_pending:
            self._next_quiet_who()

    def _next_quiet_who(self) -> None:
        while self._who_wanted:
            room = self._who_wanted.pop(0)
            buf = self.model.find(room)
            if buf is None or not buf.is_room or not buf.joined:
                continue  # left before its turn
            self._who_pending = self.model.fold(room)
            if self.whox:
                self._write("WHO", room, f"%tnf,{WHO_TOKEN}")
            else:
                self._write("WHO", room)
            return
        self._who_pending = ""

    def _learn_away(self, nick: str, flags: str) -> None:
        if flags.startswith("G"):
            self.model.away_users.setdefault(self.model.fold(nick), "")
        elif flags.startswith("H"):
            self.model.set_away(nick, None)

    def _on_whox(self, msg: Message) -> None:
        # <me> <token> <nick> <flags>: only our own join's WHO asks for these fields.
        if len(msg.params) >= 4 and msg.params[1] == WHO_TOKEN:
            self._learn_away(msg.params[2], msg.params[3])
        else:
            self._on_numeric(msg)

    def _on_whoreply(self, msg: Message) -> None:
        # <me> <room> <user> <host> <server> <nick> <flags> :<hopcount> <realname>
        _, room, user, host, _server, nick, flags = msg.params[:7]
        realname = msg.params[7].split(" ", 1)[1] if " " in msg.params[7] else ""
        status = ("away" if flags.startswith("G") else "here") + (
            f" {flags[1:]}" if flags[1:] else ""
        )
        self._learn_away(nick, flags)
        if self.model.fold(room) == self._who_pending:
            return
        row = (nick, f"{user}@{host}", room if room != "*" else "", status, realname)
        self._who.append(row)

    def _on_endofwho(self, msg: Message) -> None:
        rows, self._who = self._who, []
        mask = msg.params[1]
        if self.model.fold(mask) == self._who_pending:
            self._next_quiet_who()
            return
        if not rows:
            # Nothing to tabulate: one sentence, the one netcat users read.
            self.model.info(wording.who_found_nobody(mask))
            return
        title = f"/who {mask}: {len(rows)} user{'s' if len(rows) != 1 else ''}"
        table = Table(title, ("nick", "user@host", "room", "status", "real name"), tuple(rows))
        self.model.line(self.model.current, LineKind.TABLE, title, table=table)

    def _on_liststart(self, msg: Message) -> None:
        self._list = []

    def _on_list(self, msg: Message) -> None:
        if self._list is None:
            self._list = []
        room, users = msg.params[1], msg.params[2]
        topic = msg.params[3] if len(msg.params) > 3 else ""
        self._list.append((room, users, topic))
        self.model.known_rooms.add(room)

    def _on_listend(self, msg: Message) -> None:
        rows = sorted(self._list or [], key=lambda r: (-int(r[1]) if r[1].isdigit() else 0, r[0]))
        self._list = None
        title = f"/list: {len(rows)} room{'s' if len(rows) != 1 else ''}"
        table = Table(title, ("room", "users", "topic"), tuple(rows))
        self.model.line(self.model.current, LineKind.TABLE, title, table=table)

    def _whois_row(self, msg: Message) -> None:
        nick = msg.params[1]
        rows = self._whois.setdefault(self.model.fold(nick), [])
        p = msg.params
        match msg.verb:
            case n.RPL_WHOISUSER | n.RPL_WHOWASUSER:
                rows.append(("user", f"{p[1]}!{p[2]}@{p[3]}"))
                rows.append(("real name", p[5]))
            case n.RPL_WHOISCHANNELS:
                rows.append(("rooms", p[2]))
            case n.RPL_WHOISSERVER:
                rows.append(("server", f"{p[2]} ({p[3]})" if len(p) > 3 else p[2]))
            case n.RPL_WHOISIDLE:
                rows.append(("idle", _duration(p[2])))
                if len(p) > 4 and p[3].isdigit():
                    rows.append(("online since", _date(p[3])))
            case n.RPL_WHOISACCOUNT if len(p) > 3:
                rows.append(("account", p[2]))
            case n.RPL_WHOISOPERATOR:
                rows.append(("operator", "yes"))
            case n.RPL_WHOISSECURE:
                rows.append(("connection", "TLS"))
            case _:
                rows.append((msg.verb, " ".join(p[2:])))

    def _on_endofwhois(self, msg: Message) -> None:
        nick = msg.params[1]
        rows = self._whois.pop(self.model.fold(nick), [])
        if not rows:
            return
        title = f"/whowas {nick}" if msg.verb == n.RPL_ENDOFWHOWAS else f"/whois {nick}"
        table = Table(title, ("", ""), tuple(rows))
        self.model.line(self.model.current, LineKind.TABLE, title, table=table)


def _duration(raw: str) -> str:
    try:
        secs = int(raw)
    except ValueError:
        return raw
    hours, rest = divmod(secs, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


def _date(stamp: str) -> str:
    try:
        when = datetime.fromtimestamp(int(stamp)).astimezone()
    except (ValueError, OSError, OverflowError):
        return stamp
    return when.strftime("%Y-%m-%d %H:%M")
