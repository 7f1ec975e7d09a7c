"""CTCP: the ``\\x01VERB arg\\x01`` messages inside PRIVMSG and NOTICE, in one place.

``/me waves`` travels as ``PRIVMSG #room :\\x01ACTION waves\\x01``; a request
(``VERSION``, ``PING``) is a PRIVMSG and its reply a NOTICE with the same
verb. The slash language encodes ``/me`` here, the netcat renderer and the
client decode what arrives here, and the client answers requests with
``reply``. The closing ``\\x01`` is optional on the way in (clients drop it).
"""

from __future__ import annotations

DELIM = "\x01"
#: What the framing adds to an ACTION's text (split long actions with this in mind).
ACTION_OVERHEAD = len(f"{DELIM}ACTION {DELIM}")


def encode(verb: str, arg: str = "") -> str:
    """A CTCP message body: ``\\x01VERB arg\\x01`` (``\\x01VERB\\x01`` without an argument)."""
    return f"{DELIM}{verb} {arg}{DELIM}" if arg else f"{DELIM}{verb}{DELIM}"


def action(text: str) -> str:
    """``/me`` as sent: ``\\x01ACTION text\\x01``."""
    return f"{DELIM}ACTION {text}{DELIM}"


def decode(text: str) -> tuple[str, str] | None:
    """``(VERB, arg)`` of a CTCP message (the verb in capitals), or None for ordinary text."""
    if not text.startswith(DELIM):
        return None
    body = text[1:-1] if text.endswith(DELIM) and len(text) > 1 else text[1:]
    verb, _, arg = body.partition(" ")
    return verb.upper(), arg


def reply(verb: str, arg: str, version: str) -> str | None:
    """The NOTICE body that answers a CTCP request, or None for requests left unanswered."""
    match verb:
        case "VERSION":
            return encode("VERSION", version)
        case "PING":
            return encode("PING", arg)
    return None
