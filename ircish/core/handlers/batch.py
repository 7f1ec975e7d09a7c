"""Client-initiated batches (IRCv3 client-batch): ``draft/multiline`` messages.

A client sends ``BATCH +ref draft/multiline <target>``, then its lines as
``@batch=ref PRIVMSG <target> :line`` (``draft/multiline-concat`` joins a line
to the previous one without a line break), then ``BATCH -ref``. Nothing is
delivered until the batch closes: the whole batch becomes one ``Multiline``
event with one msgid, delivered like a PRIVMSG (or NOTICE) to the target.

The open batch lives on the ``Client`` (``client.batch``); it is bounded by
``max-bytes`` and ``max-lines`` (``ircish.core.caps``), and a batch still open
when the connection goes is dropped with it. Errors are IRCv3 standard
replies ``FAIL BATCH <code>``; once a batch has failed, the rest of its lines
and its ``BATCH -ref`` are ignored without more errors. As for NOTICE, a
NOTICE batch is never answered with an error (as in ergo).

Commands without a ``batch`` tag sent while a batch is open are handled as
usual (the client-batch spec forbids them to clients; ergo fails the batch).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ircish.core.caps import MULTILINE_MAX_BYTES, MULTILINE_MAX_LINES
from ircish.core.command import Command
from ircish.core.events import Multiline
from ircish.core.handlers import messaging
from ircish.core.names import fold
from ircish.errors import CommandError

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client

log = logging.getLogger("ircish.messages")

MULTILINE = "draft/multiline"
CONCAT = "draft/multiline-concat"
#: Reference tags: ASCII letters, digits and hyphens (IRCv3 batch); bounded like a nick.
_REF_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")
_MAX_REF = 64


@dataclass(slots=True)
class OpenBatch:
    """A ``draft/multiline`` batch a client has opened and not yet closed."""

    ref: str
    target: str
    #: Client-only tags of the ``BATCH +`` line: they go with the whole message.
    tags: tuple[tuple[str, str], ...]
    #: The labeled-response label of the ``BATCH +`` line, answered at ``BATCH -``.
    label: str
    #: PRIVMSG or NOTICE, set by the first line.
    verb: str = ""
    lines: list[str] = field(default_factory=list)
    concat: list[bool] = field(default_factory=list)
    #: Bytes counted towards max-bytes: the texts and one per line break joining them.
    size: int = 0
    #: After an error the batch only swallows its remaining lines.
    failed: bool = False


def open_batch(client: Client) -> OpenBatch | None:
    batch = client.batch
    return batch if isinstance(batch, OpenBatch) else None


def _safe(param: str) -> str:
    """``param`` as a middle parameter of a FAIL, or "*" where it cannot be one."""
    if not param or param[0] == ":" or " " in param or len(param) > _MAX_REF:
        return "*"
    return param


def _valid_ref(ref: str) -> bool:
    return 0 < len(ref) <= _MAX_REF and _REF_CHARS.issuperset(ref)


def _relabel(chat: Chat, client: Client, label: str) -> None:
    """Give the command being handled another label (a batch is answered at its end)."""
    out = chat.begin(client)  # joins the outbox of the command being handled
    out.label = label
    chat.end(out)


def handle_batch(chat: Chat, client: Client, cmd: Command) -> None:
    """BATCH +<ref> draft/multiline <target> | BATCH -<ref>"""
    word = cmd.params[0]
    sign, ref = word[:1], word[1:]
    if sign not in ("+", "-") or "batch" in cmd.tags:
        # Clients may not nest batches (IRCv3 client-batch).
        chat.fail(
            client,
            "BATCH",
            "INVALID_PARAMS",
            _safe(word),
            text="Usage: BATCH +reference-tag type [params] or BATCH -reference-tag",
        )
        return
    if not _valid_ref(ref):
        chat.fail(
            client,
            "BATCH",
            "INVALID_REFTAG",
            _safe(ref),
            text="Batch reference tags are 1 to 64 letters, digits or hyphens",
        )
        return
    if sign == "+":
        _start(chat, client, ref, cmd)
    else:
        _finish(chat, client, ref, cmd)


def _start(chat: Chat, client: Client, ref: str, cmd: Command) -> None:
    current = open_batch(client)
    if current is not None and not current.failed:
        # Clients may not open a batch inside another (IRCv3 client-batch).
        _spoil(chat, client, current, "MULTILINE_INVALID", text="A batch is already open")
        return
    if len(cmd.params) < 2:
        chat.fail(client, "BATCH", "INVALID_PARAMS", ref, text="The batch type is missing")
        return
    kind = cmd.params[1]
    if kind != MULTILINE:
        chat.fail(
            client,
            "BATCH",
            "UNKNOWN_TYPE",
            ref,
            _safe(kind),
            text=f"Unknown batch type; this server accepts {MULTILINE}",
        )
        return
    if len(cmd.params) < 3 or not cmd.params[2]:
        chat.fail(client, "BATCH", "MULTILINE_INVALID", text="A multiline batch needs a target")
        return
    label = ""
    if "labeled-response" in client.caps and "batch" in client.caps:
        label = cmd.tags.get("label", "")
        # The whole batch is one command: no ACK now, the answer comes at BATCH -ref.
        _relabel(chat, client, "")
    client.batch = OpenBatch(ref, cmd.params[2], messaging.client_tags(cmd), label)


def _finish(chat: Chat, client: Client, ref: str, cmd: Command) -> None:
    batch = open_batch(client)
    if batch is None:
        chat.fail(client, "BATCH", "MULTILINE_INVALID", text="No batch with this reference is open")
        return
    if batch.ref != ref:
        _spoil(chat, client, batch, "MULTILINE_INVALID", text="This is not the open batch")
        return
    client.batch = None
    if batch.failed:
        return
    if batch.label:
        _relabel(chat, client, batch.label)
    if not any(batch.lines):
        # An empty batch, or only blank lines: not a message (IRCv3 multiline).
        _fail(chat, client, batch.verb, "MULTILINE_INVALID", text="A multiline message needs text")
        return
    notice = batch.verb == "NOTICE"
    user = client.user
    lines = tuple(batch.lines)
    # A first line has nothing to be joined to.
    concat = (False, *batch.concat[1:])
    try:
        messaging.deliver(
            chat,
            client,
            batch.target,
            lambda name: Multiline(user.mask, user.nick, name, lines, concat, notice),
            batch.tags,
            notice=notice,
        )
    except CommandError as exc:
        if not notice:
            chat.error(client, exc)
        return
    if chat.config.logging.log_messages:
        log.info("%s -> %s: %d lines", user.nick, batch.target, len(lines))


def _fail(chat: Chat, client: Client, verb: str, code: str, *context: str, text: str) -> None:
    """Report a multiline error, unless the batch is made of NOTICEs."""
    if verb != "NOTICE":
        chat.fail(client, "BATCH", code, *context, text=text)


def _spoil(
    chat: Chat, client: Client, batch: OpenBatch, code: str, *context: str, text: str
) -> None:
    """Fail the open batch once; its remaining lines and its end are then ignored."""
    if not batch.failed:
        if batch.label:
            # The FAIL is the answer to the labeled BATCH +ref.
            _relabel(chat, client, batch.label)
            batch.label = ""
        batch.failed = True
        batch.lines.clear()
        batch.concat.clear()
        _fail(chat, client, batch.verb, code, *context, text=text)


def absorb(chat: Chat, client: Client, cmd: Command) -> None:
    """Collect one ``@batch=ref PRIVMSG|NOTICE <target> :<text>`` line into the open batch."""
    ref = cmd.tags.get("batch", "")
    batch = open_batch(client)
    if batch is None:
        _fail(
            chat, client, cmd.verb, "MULTILINE_INVALID", text="No batch with this reference is open"
        )
        return
    if batch.ref != ref:
        _spoil(chat, client, batch, "MULTILINE_INVALID", text="This line is not in the open batch")
        return
    if batch.failed:
        return
    if cmd.verb not in ("PRIVMSG", "NOTICE") or (batch.verb and cmd.verb != batch.verb):
        batch.verb = batch.verb or cmd.verb
        _spoil(
            chat,
            client,
            batch,
            "MULTILINE_INVALID",
            text="A multiline batch holds only PRIVMSG lines or only NOTICE lines",
        )
        return
    batch.verb = cmd.verb
    if len(cmd.params) < 2:
        _spoil(
            chat, client, batch, "MULTILINE_INVALID", text="A batched line needs a target and text"
        )
        return
    target, text = cmd.params[0], cmd.params[1]
    if fold(target) != fold(batch.target):
        _spoil(
            chat,
            client,
            batch,
            "MULTILINE_INVALID_TARGET",
            _safe(batch.target),
            _safe(target),
            text="Every line of a multiline batch goes to the batch's target",
        )
        return
    concat = CONCAT in cmd.tags
    if concat and not text:
        _spoil(chat, client, batch, "MULTILINE_INVALID", text="A blank line cannot be concatenated")
        return
    size = len(text.encode("utf-8"))
    if batch.lines and not concat:
        size += 1  # the line break joining it to the previous line
    batch.size += size
    batch.lines.append(text)
    batch.concat.append(concat)
    if batch.size > MULTILINE_MAX_BYTES:
        _spoil(
            chat,
            client,
            batch,
            "MULTILINE_MAX_BYTES",
            str(MULTILINE_MAX_BYTES),
            text=f"Multiline message longer than {MULTILINE_MAX_BYTES} bytes",
        )
    elif len(batch.lines) > MULTILINE_MAX_LINES:
        _spoil(
            chat,
            client,
            batch,
            "MULTILINE_MAX_LINES",
            str(MULTILINE_MAX_LINES),
            text=f"Multiline message of more than {MULTILINE_MAX_LINES} lines",
        )
