"""The IRCv3 capabilities this server implements, and what CAP LS 302 says of them.

A capability is listed only once it works completely.
"""

from __future__ import annotations

from typing import Final

#: ``draft/multiline`` limits: one batch carries at most this much.
MULTILINE_MAX_BYTES: Final = 4096
MULTILINE_MAX_LINES: Final = 100
#: Longer labels are ignored: the command is answered unlabeled (IRCv3 labeled-response).
MAX_LABEL_BYTES: Final = 64

#: Name -> value shown by ``CAP LS 302`` ("" for none), in the order CAP LS lists them.
CAPABILITIES: Final[dict[str, str]] = {
    "account-notify": "",
    "account-tag": "",
    "away-notify": "",
    "batch": "",
    "chghost": "",
    "draft/account-registration": "",
    "draft/chathistory": "",
    "draft/event-playback": "",
    "draft/multiline": f"max-bytes={MULTILINE_MAX_BYTES},max-lines={MULTILINE_MAX_LINES}",
    "draft/read-marker": "",
    "echo-message": "",
    "extended-join": "",
    "extended-monitor": "",
    "invite-notify": "",
    "labeled-response": "",
    "message-tags": "",
    "multi-prefix": "",
    "no-implicit-names": "",
    "sasl": "PLAIN,SCRAM-SHA-256",
    "server-time": "",
    "setname": "",
    "userhost-in-names": "",
}

#: Offered only while history is on: storage attached and ``[history] enabled``.
HISTORY_CAPS: Final = frozenset({"draft/chathistory", "draft/event-playback"})
#: Offered only with storage attached: accounts, and read markers kept per account.
STORAGE_CAPS: Final = frozenset(
    {
        "account-notify",
        "account-tag",
        "draft/account-registration",
        "draft/read-marker",
        "sasl",
    }
)


def offered(storage: bool, history: bool) -> dict[str, str]:
    """The capabilities ``CAP LS`` lists and ``CAP REQ`` accepts, given what is attached."""
    return {
        name: value
        for name, value in CAPABILITIES.items()
        if (history or name not in HISTORY_CAPS) and (storage or name not in STORAGE_CAPS)
    }
