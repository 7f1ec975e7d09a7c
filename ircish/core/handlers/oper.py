"""Server operators: OPER, KILL, WALLOPS.

Theory of operation: operators are configured as ``[[operators]]`` tables
(name, argon2 password hash, host mask). ``OPER`` checks the password with
``Chat.offload``, so the slow hash check runs on a worker thread in the real
server while the loop keeps serving everyone else; the answer comes back to
the loop thread, where it is checked that the client is still there.

What a failed OPER says is chosen so that it reveals nothing to someone
without the password: a wrong name and a wrong password get the same reply
(464) after the same amount of work (an unknown name is checked against a
decoy hash), and only someone with the right name *and* password learns that
their host is not allowed (491). Every attempt is logged at warning level,
never with the password.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ircish.core import state
from ircish.core.command import Command
from ircish.core.events import ServerNotice, ToUserMode, Wallops
from ircish.core.names import canonical_mask, fold, mask_matches
from ircish.core.passwords import decoy_hash, verify_password
from ircish.errors import CommandError
from ircish.protocol import numerics as n

if TYPE_CHECKING:
    from ircish.config import OperatorConfig
    from ircish.core.chat import Chat
    from ircish.core.clients import Client

log = logging.getLogger("ircish.core")

#: What a second OPER gets while the first one's password is still being checked.
OPER_PENDING_TEXT = "An OPER attempt is already being checked; wait for its answer"


def find_operator(chat: Chat, name: str) -> OperatorConfig | None:
    """The configured operator called ``name`` (case-insensitively), if any."""
    folded = name.casefold()
    for op in chat.config.operators:
        if op.name.casefold() == folded:
            return op
    return None


def handle_oper(chat: Chat, client: Client, cmd: Command) -> None:
    """OPER <name> <password>"""
    if client in chat.oper_pending:
        raise CommandError(n.ERR_NOOPERHOST, text=OPER_PENDING_TEXT)
    name, password = cmd.params[0], cmd.params[1]
    operators = chat.config.operators
    if not operators:
        _mismatch(chat, client, name)  # Nothing to guess, so nothing to hide.
        return
    op = find_operator(chat, name)
    # An unknown name costs a check against a decoy hash with the same parameters.
    stored = op.password_hash if op is not None else None
    like = operators[0].password_hash

    def work() -> bool:
        try:
            return verify_password(stored or decoy_hash(like), password) and stored is not None
        except Exception:
            # A failure here must not leave the client's attempt pending for ever.
            log.exception("OPER password check failed")
            return False

    def done(ok: bool) -> None:
        chat.oper_pending.discard(client)
        if client.quitting or not client.user.registered:
            return  # Gone while the password was checked.
        if not ok or op is None:
            _mismatch(chat, client, name)
            return
        grant(chat, client, op)

    chat.oper_pending.add(client)
    chat.offload(work, done)


def _mismatch(chat: Chat, client: Client, name: str) -> None:
    log.warning("failed OPER as %r by %s: wrong name or password", name, client.user.mask)
    chat.error(client, CommandError(n.ERR_PASSWDMISMATCH))


def grant(chat: Chat, client: Client, op: OperatorConfig) -> None:
    """The password was right: make the user an operator if their host is allowed."""
    user = client.user
    if not mask_matches(canonical_mask(op.host), user.mask):
        log.warning("refused OPER as %r by %s: not from %s", op.name, user.mask, op.host)
        chat.error(client, CommandError(n.ERR_NOOPERHOST))
        return
    log.warning("%s is now an IRC operator (OPER as %r)", user.mask, op.name)
    chat.numeric(client, n.RPL_YOUREOPER, "You are now an IRC operator")
    state.change_user_modes(chat, user, [("+", "o")])


def handle_kill(chat: Chat, client: Client, cmd: Command) -> None:
    """KILL <nick> <reason>"""
    user = client.user
    if "o" not in user.modes:
        raise CommandError(n.ERR_NOPRIVILEGES)
    nick = cmd.params[0]
    reason = cmd.params[1].strip()[: chat.config.limits.max_topic_length]
    if not reason:
        raise CommandError(n.ERR_NEEDMOREPARAMS, "KILL")
    if fold(nick) == fold(chat.server_name):
        raise CommandError(n.ERR_CANTKILLSERVER)
    victim = chat.users.get(nick)
    if victim is None:
        raise CommandError(n.ERR_NOSUCHNICK, nick)
    log.warning("%s killed %s: %r", user.mask, victim.mask, reason)
    state.kill(chat, user, victim, reason)
    if not client.quitting:
        chat.reply(client, ServerNotice(f"Killed {victim.nick} ({reason})"))


def handle_wallops(chat: Chat, client: Client, cmd: Command) -> None:
    """WALLOPS <text>"""
    user = client.user
    if "o" not in user.modes:
        raise CommandError(n.ERR_NOPRIVILEGES)
    text = cmd.params[0]
    if not text.strip():
        raise CommandError(n.ERR_NEEDMOREPARAMS, "WALLOPS")
    event = Wallops(user.mask, user.nick, text)
    chat.emit(event, ToUserMode("w"))
    if "w" not in user.modes:
        # Modern IRC lets the sender have a copy; without one they would see nothing.
        chat.reply(client, event)
