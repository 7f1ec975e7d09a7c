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
    "away-notify": "",
    "batch": "",
    "chghost": "",
    "draft/multiline": f"max-bytes={MULTILINE_MAX_BYTES},max-lines={MULTILINE_MAX_LINES}",
    "echo-message": "",
    "extended-join": "",
    "extended-monitor": "",
    "invite-notify": "",
    "labeled-response": "",
    "message-tags": "",
    "multi-prefix": "",
    "no-implicit-names": "",
    "server-time": "",
    "setname": "",
    "userhost-in-names": "",
}
