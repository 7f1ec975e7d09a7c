"""The IRC dialect: the client protocol stock IRC clients speak.

Parsing is ``protocol.message.Message.parse`` plus the protocol's length rules:
512 bytes for the part after the tags (CR LF included), and 4094 bytes of tag
data from a client (IRCv3 message-tags; 8191 is the limit for a whole tag
section, server-added tags included). Longer lines get ``417``.

Rendering writes lines with proper sources (``nick!user@host`` for users, the
server name for numerics) and the IRCv3 tags the client negotiated, all read
from the envelope: ``time`` (server-time), ``msgid`` and client-only tags
(message-tags). Labeled responses are wrapped by ``labeled``. The last
parameter of a numeric is sent as a trailing (``:``) parameter, except for
the few numerics whose last parameter is a token (``324 nick #room +nt``),
which are sent bare as ergo and ngircd do.
"""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING, Literal

from ircish.config import Config
from ircish.core import events as ev
from ircish.core.command import IGNORE, Command, Ignore
from ircish.core.dispatch import COMMANDS
from ircish.core.handlers.server import help_lines
from ircish.errors import CommandError
from ircish.protocol import numerics as n
from ircish.protocol.message import Message, MessageParseError, escape_tag_value, split_line

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client

#: Bytes allowed after the tags, CR LF included (RFC 1459 and Modern IRC).
MAX_BODY = 512
#: The whole tag section of a line, ``@`` and the space included (IRCv3 message-tags).
MAX_TAGS = 8191
#: Tag data (between ``@`` and the space) a client may send (IRCv3 message-tags).
MAX_CLIENT_TAG_DATA = 4094
#: Capabilities that change how a broadcast is rendered (see ``render_key``).
_RENDER_CAPS = frozenset(
    {
        "account-notify",
        "account-tag",
        "away-notify",
        "batch",
        "chghost",
        "draft/multiline",
        "extended-join",
        "invite-notify",
        "message-tags",
        "server-time",
        "setname",
    }
)
#: Labels longer than this are ignored (IRCv3 labeled-response: at most 64 bytes).
MAX_LABEL = 64
_batch_ids = itertools.count(1)

#: Numerics whose last parameter is a token rather than text.
_TOKEN_LAST = frozenset(
    {
        n.RPL_MYINFO,
        n.RPL_UMODEIS,
        n.RPL_CHANNELMODEIS,
        n.RPL_CREATIONTIME,
        n.RPL_TOPICWHOTIME,
        n.RPL_INVITING,
        # Mask list entries end in the time they were set, like 333.
        n.RPL_BANLIST,
        n.RPL_EXCEPTLIST,
        n.RPL_INVITELIST,
        # WHOX fields are tokens; only a realname with spaces needs the ":".
        n.RPL_WHOSPCRPL,
    }
)


def _batch_ref(env: ev.Envelope) -> str:
    """A batch reference that is the same in every copy of one event."""
    return "m" + (env.msgid[-10:] if env.msgid else str(next(_batch_ids)))


def _tag_section(line: bytes) -> bytes:
    return line[: line.find(b" ")] if line.startswith(b"@") else b""


def _add_tag(line: bytes, tag: bytes) -> bytes:
    if line.startswith(b"@"):
        return b"@" + tag + b";" + line[1:]
    return b"@" + tag + b" " + line


def _tagged(line: str, *tags: str) -> str:
    """``line`` with the non-empty ``tags``, in order."""
    section = ";".join(t for t in tags if t)
    return "@" + section + " " + line if section else line


def _has_batch_tag(line: bytes) -> bool:
    return any(t == b"batch" or t.startswith(b"batch=") for t in _tag_section(line)[1:].split(b";"))


def _batch_edge(line: bytes) -> bytes | None:
    """The ``+ref`` or ``-ref`` of a ``BATCH`` line; None for other lines."""
    rest = line
    for mark in (b"@", b":"):
        if rest.startswith(mark):
            rest = rest[rest.find(b" ") + 1 :]
    words = rest.split(b" ", 2)
    return words[1] if len(words) > 1 and words[0] == b"BATCH" else None


def _one_batch(lines: list[bytes]) -> bool:
    """Whether ``lines`` are exactly one batch: its start, its lines, its end."""
    start, end = _batch_edge(lines[0]), _batch_edge(lines[-1])
    return (
        start is not None
        and start.startswith(b"+")
        and end == b"-" + start[1:]
        and not _has_batch_tag(lines[0])
        and all(_has_batch_tag(x) for x in lines[1:-1])
    )


def _needs_trailing(param: str) -> bool:
    return not param or " " in param or param[0] == ":"


def _middle(param: str) -> str:
    """``param`` as a middle parameter; "*" where it cannot be one (an echoed ``a b``, ``:x``).

    Replies echo what users sent (``WHOIS :a b``); as ergo does, a value that
    would shift the parameters after it is replaced rather than sent.
    """
    return "*" if _needs_trailing(param) else param


#: An IRC line without its CR LF (tags are not counted: IRCv3 message-tags).
MAX_LINE = 510


def _fit(line: str) -> str:
    """A relayed message line cut at a UTF-8 boundary to fit IRC's 512 bytes.

    It was short enough coming in, but it goes out with the sender's whole mask,
    and netcat users' lines may be longer than IRC's (invalid UTF-8 from them
    even grows threefold). Netcat readers and history keep the whole text.
    """
    if len(line) <= MAX_LINE // 4:  # a character is at most 4 bytes: no need to count
        return line
    data = line.encode("utf-8")
    if len(data) <= MAX_LINE:
        return line
    return data[:MAX_LINE].decode("utf-8", "ignore")


def server_time(now: float) -> str:
    """An IRCv3 ``time`` tag value, millisecond precision, UTC."""
    # Whole milliseconds first: ``int((now - secs) * 1000)`` loses one to float error.
    secs, ms = divmod(round(now * 1000), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{ms:03d}Z"


class IrcDialect:
    """IRC clients: irssi, WeeChat, HexChat, bots."""

    name = "irc"
    keepalive: Literal["ping", "idle"] = "ping"
    password_retry = False
    utf8_only = True

    def __init__(self, config: Config) -> None:
        self.config = config
        self.server = config.server.name
        self._prefix = ":" + self.server
        #: One key object per combination of rendering caps, shared by the clients that
        #: have it (at most 2 ** len(_RENDER_CAPS) entries; most networks see a handful).
        self._keys: dict[frozenset[str], tuple[str, frozenset[str]]] = {}
        #: Rendered bursts without the nickname (``_template``), by id of the burst.
        self._templates: dict[int, tuple[ev.Burst, tuple[bytes, ...]]] = {}

    def max_line_bytes(self, chat: Chat) -> int:
        return MAX_TAGS + MAX_BODY

    def render_key(self, client: Client) -> object:
        caps = client.caps & _RENDER_CAPS
        key = self._keys.get(caps)
        if key is None:
            key = self._keys[caps] = ("irc", caps)
        return key

    def joins_default_room(self, chat: Chat) -> bool:
        return self.config.server.auto_join_irc

    def start(self, chat: Chat, client: Client) -> None:
        pass

    def parse(self, line: str, client: Client) -> Command | Ignore:
        body = line
        if line.startswith("@"):
            space = line.find(" ")
            body = line[space + 1 :] if space >= 0 else ""
            tag_data = line[1:space] if space >= 0 else line[1:]
            if len(tag_data) > MAX_CLIENT_TAG_DATA or (
                not tag_data.isascii()
                and len(tag_data.encode("utf-8", "replace")) > MAX_CLIENT_TAG_DATA
            ):
                raise CommandError(n.ERR_INPUTTOOLONG)
        # Characters never outnumber bytes, so encode only when the count is in doubt.
        if len(body) > MAX_BODY - 2 or (
            not body.isascii() and len(body.encode("utf-8", "replace")) > MAX_BODY - 2
        ):
            raise CommandError(n.ERR_INPUTTOOLONG)
        if not line.strip():
            return IGNORE
        try:
            verb, params, _, tags = split_line(line)
        except MessageParseError:
            return IGNORE
        return Command(verb, params, tags)

    # -- rendering ------------------------------------------------------------

    def render(self, env: ev.Envelope, client: Client) -> bytes:
        if type(env.event) is ev.Burst:
            return self._burst(env, env.event, client)
        if isinstance(env.event, ev.Multiline):
            # Its lines carry different tags (msgid once), so it is tagged line by line.
            return self._multiline(env.event, env, client.caps)
        if isinstance(env.event, ev.History):
            return self._history(env.event, client)
        if isinstance(env.event, ev.HistoryTargets):
            return self._history_targets(env.event, client)
        line = self.render_line(env, client)
        if line is None:
            return b""
        if len(line) > MAX_LINE // 4:
            # Whatever a reply echoes, no line may pass IRC's 512 bytes (relayed text is cut
            # already; a numeric or FAIL with a long parameter is cut here).
            line = "\r\n".join(map(_fit, line.split("\r\n")))
        caps = client.caps
        tags = ""
        if "server-time" in caps:
            tags = "time=" + server_time(env.time)
        if env.msgid and "message-tags" in caps:
            tags += (";msgid=" if tags else "msgid=") + env.msgid
        if env.account and "account-tag" in caps:
            tags += (";account=" if tags else "account=") + escape_tag_value(env.account)
        if "message-tags" in caps:
            for key, value in env.tags:
                item = f"{key}={escape_tag_value(value)}" if value else key
                tags += (";" + item) if tags else item
        if tags:
            if "\r\n" not in line:
                return ("@" + tags + " " + line + "\r\n").encode("utf-8", "replace")
            # Multi-line renderings (HELP, batches) carry the tags on every line.
            line = "\r\n".join(
                "@" + tags + ";" + x[1:] if x.startswith("@") else "@" + tags + " " + x
                for x in line.split("\r\n")
            )
        return (line + "\r\n").encode("utf-8", "replace")

    def render_line(self, env: ev.Envelope, client: Client) -> str | None:
        """One line (several joined by CR LF), without the final CR LF and without tags."""
        caps = client.caps
        match env.event:
            case ev.Privmsg(source=src, target=target, text=text, notice=notice):
                verb = "NOTICE" if notice else "PRIVMSG"
                return _fit(f":{src} {verb} {target} :{text}")
            case ev.Numeric(code=code, params=params):
                return self._numeric(client.user.nick, code, params)
            case ev.TagMsg(source=src, target=target):
                if "message-tags" not in caps:
                    return None
                return f":{src} TAGMSG {target}"
            case ev.Join(source=src, room=room, account=account, realname=realname):
                if "extended-join" in caps:
                    return f":{src} JOIN {room} {account} :{realname}"
                return f":{src} JOIN {room}"
            case ev.Part(source=src, room=room, reason=reason):
                return f":{src} PART {room}" + (f" :{reason}" if reason else "")
            case ev.Quit(source=src, reason=reason):
                return f":{src} QUIT :{reason}"
            case ev.NickChange(source=src, new=new):
                return f":{src} NICK {new}"
            case ev.Topic(source=src, room=room, text=text):
                return f":{src} TOPIC {room} :{text}"
            case ev.Kick(source=src, room=room, target=target, reason=reason):
                return f":{src} KICK {room} {target} :{reason}"
            case ev.ModeChange(source=src, target=target, modes=modes, args=args):
                return Message("MODE", (target, modes, *args), src).format()
            case ev.Invite(source=src, target=target, room=room, notify=notify):
                if notify and "invite-notify" not in caps:
                    return None
                return f":{src} INVITE {target} {room}"
            case ev.AwayChange(source=src, text=text):
                if "away-notify" not in caps:
                    return None
                return f":{src} AWAY" + (f" :{text}" if text is not None else "")
            case ev.RealnameChange(source=src, realname=realname):
                if "setname" not in caps:
                    return None
                return f":{src} SETNAME :{realname}"
            case ev.HostChange(source=src, username=username, host=host):
                if "chghost" not in caps:
                    return None
                return f":{src} CHGHOST {username} {host}"
            case ev.AccountChange(source=src, account=account):
                if "account-notify" not in caps:
                    return None
                return f":{src} ACCOUNT {account or '*'}"
            case ev.Authenticate(data=data):
                return f"AUTHENTICATE {data}"
            case ev.AccountReply(command=command, status=status, account=account, text=text):
                return f"{self._prefix} {command} {status} {_middle(account)} :{text}"
            case ev.Wallops(source=src, text=text):
                return f":{src} WALLOPS :{text}"
            case ev.Kill(source=src, target=target, reason=reason):
                return f":{src} KILL {target} :{reason}"
            case ev.StandardReply(kind=kind, command=command, code=code, context=ctx, text=text):
                middle = " ".join(map(_middle, ctx))
                return (
                    f"{self._prefix} {kind} {command} {code}"
                    + (f" {middle}" if middle else "")
                    + f" :{text}"
                )
            case ev.ServerNotice(text=text):
                return f"{self._prefix} NOTICE {client.user.nick} :{text}"
            case ev.ServiceReply(service=service, text=text):
                src = f"{service}!{service}@services.{self.server}"
                return f":{src} NOTICE {client.user.nick} :{text}"
            case ev.Closing(reason=reason):
                return f"ERROR :Closing Link: {client.user.host} ({reason})"
            case ev.Ping(token=token):
                return f"PING :{token}"
            case ev.Ack():
                return f"{self._prefix} ACK"
            case ev.ReadMarker(target=target, time=when):
                marker = "*" if when is None else "timestamp=" + server_time(when)
                return f"{self._prefix} MARKREAD {target} {marker}"
            case ev.Pong(token=token):
                return f"{self._prefix} PONG {self.server} :{token}"
            case ev.CapReply(subcommand=sub, caps=listed, more=more):
                star = " *" if more else ""
                return f"{self._prefix} CAP {client.user.nick} {sub}{star} :{listed}"
            case ev.Help(topic=topic):
                return self._help(client.user.nick, topic)
            case _:
                # Switched, Greeting: things only humans on netcat are told.
                return None

    def _multiline(self, multi: ev.Multiline, env: ev.Envelope, caps: frozenset[str]) -> bytes:
        """A draft/multiline message: one batch, or its lines one by one (IRCv3 multiline)."""
        verb = "NOTICE" if multi.notice else "PRIVMSG"
        head = f":{multi.source} {verb} {multi.target} :"
        timed = "time=" + server_time(env.time) if "server-time" in caps else ""
        msgid = extra = ""
        if "message-tags" in caps:
            msgid = "msgid=" + env.msgid if env.msgid else ""
            extra = ";".join(f"{k}={escape_tag_value(v)}" if v else k for k, v in env.tags)
        if env.account and "account-tag" in caps:
            account = "account=" + escape_tag_value(env.account)
            extra = account + ";" + extra if extra else account
        if "draft/multiline" in caps and "batch" in caps:
            ref = _batch_ref(env)
            # The message's tags go on the batch start; its lines carry only batch tags.
            start = f":{multi.source} BATCH +{ref} draft/multiline {multi.target}"
            lines = [_tagged(start, timed, msgid, extra)]
            for text, concat in zip(multi.lines, multi.concat, strict=True):
                tag = f"@batch={ref};draft/multiline-concat " if concat else f"@batch={ref} "
                lines.append(tag + head + text)
            lines.append(f":{multi.source} BATCH -{ref}")
        else:
            # The nonblank lines as the client split them; the msgid on the first only.
            lines = []
            for text in multi.lines:
                if text:
                    lines.append(_tagged(head + text, timed, msgid, extra))
                    msgid = ""
        return "".join(x + "\r\n" for x in lines).encode("utf-8", "replace")

    def _history_targets(self, found: ev.HistoryTargets, client: Client) -> bytes:
        """The ``draft/chathistory-targets`` batch (plain lines without ``batch``)."""
        batched = "batch" in client.caps
        ref = f"h{next(_batch_ids)}"
        tag = f"@batch={ref} " if batched else ""
        out = [f"{self._prefix} BATCH +{ref} draft/chathistory-targets"] if batched else []
        out += [
            f"{tag}{self._prefix} CHATHISTORY TARGETS {name} {server_time(when)}"
            for name, when in found.targets
        ]
        if batched:
            out.append(f"{self._prefix} BATCH -{ref}")
        return "".join(x + "\r\n" for x in out).encode("utf-8", "replace")

    def _history(self, hist: ev.History, client: Client) -> bytes:
        """Stored events as their original lines (msgid, time), in a batch when possible."""
        caps = client.caps
        batched = bool(hist.batch) and "batch" in caps
        ref = f"h{next(_batch_ids)}".encode()
        out: list[bytes] = []
        if batched:
            head = f"{self._prefix} BATCH +{ref.decode()} {hist.batch}"
            out.append((head + (f" {hist.target}" if hist.target else "")).encode())
        for item in hist.items:
            # The original envelope again: same msgid, same time, same client tags.
            env = ev.Envelope(item.event, tags=item.tags)
            env.account = item.account
            env.time = item.time
            env.msgid = item.msgid
            lines = [x for x in self.render(env, client).split(b"\r\n") if x]
            if batched:
                # A nested batch (multiline) keeps its own tags; its start and end join this one.
                lines = [x if _has_batch_tag(x) else _add_tag(x, b"batch=" + ref) for x in lines]
            out.extend(lines)
        if batched:
            out.append(f"{self._prefix} BATCH -{ref.decode()}".encode())
        return b"".join(x + b"\r\n" for x in out)

    def labeled(self, chunks: list[bytes], label: str, client: Client) -> bytes:
        """IRCv3 labeled-response: one labeled line or batch, or a labeled-response batch."""
        if len(label.encode("utf-8", "replace")) > MAX_LABEL:
            return b"".join(chunks)
        tag = b"label=" + escape_tag_value(label).encode("utf-8", "replace")
        prefix = self._prefix.encode()
        lines = [x for x in b"".join(chunks).split(b"\r\n") if x]
        if not lines:
            lines = [prefix + b" ACK"]
        if len(lines) == 1 or _one_batch(lines):
            # One message, or one batch that is the whole response: it carries the label.
            lines[0] = _add_tag(lines[0], tag)
            return b"".join(x + b"\r\n" for x in lines)
        ref = f"L{next(_batch_ids)}".encode()
        out = [b"@" + tag + b" " + prefix + b" BATCH +" + ref + b" labeled-response"]
        inner = b"batch=" + ref
        # A nested batch's lines keep their batch tag; its start and end join this batch.
        out.extend(x if _has_batch_tag(x) else _add_tag(x, inner) for x in lines)
        out.append(prefix + b" BATCH -" + ref)
        return b"".join(x + b"\r\n" for x in out)

    def _burst(self, env: ev.Envelope, burst: ev.Burst, client: Client) -> bytes:
        """The burst's numerics, as rendered one by one; without tags, from a template.

        The template is the burst's lines with the recipient's nickname left out
        (the only part that differs between clients); it is made only when no
        line could need cutting to 512 bytes, whatever the nickname.
        """
        if not env.msgid and not env.account and not env.tags and "server-time" not in client.caps:
            # By identity: hashing the burst would cost as much as a line's rendering.
            made = self._templates.get(id(burst))
            pieces = made[1] if made is not None and made[0] is burst else self._template(burst)
            if pieces:
                return client.user.nick.encode("utf-8", "replace").join(pieces)
        out = []
        for numeric in burst.numerics:
            one = ev.Envelope(numeric, client=env.client, tags=env.tags, account=env.account)
            one.time = env.time
            one.msgid = env.msgid
            out.append(self.render(one, client))
        return b"".join(out)

    def _template(self, burst: ev.Burst) -> tuple[bytes, ...]:
        """``nick.join(pieces)`` is the burst for ``nick``; () if a line might be cut."""
        longest_nick = 4 * self.config.limits.max_nick_length  # UTF-8 bytes, at most
        pieces: list[bytes] = []
        rest = b""
        for numeric in burst.numerics:
            line = self._numeric("", numeric.code, numeric.params).encode("utf-8", "replace")
            if len(line) + longest_nick > MAX_LINE:
                pieces = []
                break
            head = len(f"{self._prefix} {numeric.code} ".encode())
            pieces.append(rest + line[:head])
            rest = line[head:] + b"\r\n"
        else:
            pieces.append(rest)
        if len(self._templates) >= 16:
            self._templates.clear()  # bursts of configs gone by (reloads)
        template = tuple(pieces)
        # The burst is kept with its template, so its id cannot be reused meanwhile.
        self._templates[id(burst)] = (burst, template)
        return template

    def _numeric(self, nick: str, code: str, params: tuple[str, ...]) -> str:
        parts = [self._prefix, code, nick]
        if params:
            # An empty middle parameter cannot be sent; "*" keeps the others in place.
            parts.extend(map(_middle, params[:-1]))
            last = params[-1]
            if code not in _TOKEN_LAST or _needs_trailing(last):
                last = ":" + last
            parts.append(last)
        return " ".join(parts)

    def _help(self, nick: str, topic: str) -> str:
        """HELP and HELPOP: 704, a 705 per line of ``help_lines``, 706; or 524."""
        subject = topic or "*"
        lines = help_lines(topic, COMMANDS)
        if lines is None:
            return self._numeric(
                nick, n.ERR_HELPNOTFOUND, (subject, n.ERROR_TEXT[n.ERR_HELPNOTFOUND])
            )
        head = "ircish help" if not topic else f"** {topic.upper()} **"
        return "\r\n".join(
            (
                self._numeric(nick, n.RPL_HELPSTART, (subject, head)),
                *(self._numeric(nick, n.RPL_HELPTXT, (subject, line)) for line in lines),
                self._numeric(nick, n.RPL_ENDOFHELP, (subject, "End of /HELP")),
            )
        )
