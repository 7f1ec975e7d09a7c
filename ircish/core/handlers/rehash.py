"""REHASH: an operator reloads the configuration without dropping anyone."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ircish.config import ConfigError
from ircish.core.command import Command
from ircish.core.events import ServerNotice
from ircish.errors import CommandError
from ircish.protocol import numerics as n

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client

log = logging.getLogger("ircish.core")


def handle_rehash(chat: Chat, client: Client, cmd: Command) -> None:
    """REHASH"""
    user = client.user
    if "o" not in user.modes:
        raise CommandError(n.ERR_NOPRIVILEGES)
    if chat.reloader is None:
        chat.reply(client, ServerNotice("REHASH: this server has no configuration file to reload"))
        return
    log.warning("%s asked for REHASH", user.mask)
    chat.numeric(client, n.RPL_REHASHING, chat.config_file, "Rehashing")
    try:
        summary = chat.reloader()
    except ConfigError as exc:
        chat.reply(client, ServerNotice(f"REHASH failed, nothing changed: {exc}"))
        return
    chat.reply(client, ServerNotice(f"REHASH: {summary}"))
