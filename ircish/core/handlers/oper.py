"""Server operators: OPER, KILL, WALLOPS; server bans (KLINE, DLINE, UNKLINE, UNDLINE).

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

Server bans (``ircish.core.bans``) follow Ergo's syntax,
``KLINE [ANDKILL] [MYSELF] [<duration>] <mask> [ON <server>] [<reason>]``:
the reason is the rest of the line (so clients that send it unquoted work);
everyone the new ban matches is disconnected at once, with or without
ANDKILL; a ban that would match the operator setting it is refused unless
they say MYSELF. A refused ban (bad duration, mask or address, too broad,
too many) is answered with ``FAIL <verb> <code>`` and changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ircish.core import bans, state
from ircish.core.accounts import BUSY_TEXT
from ircish.core.bans import BanError
from ircish.core.command import Command
from ircish.core.events import ServerNotice, ToUserMode, Wallops
from ircish.core.handlers import stats
from ircish.core.handlers.server import safe_param
from ircish.core.names import fold, mask_matches
from ircish.core.passwords import decoy_hash, verify_password
from ircish.core.storage import ServerBan
from ircish.errors import CommandError
from ircish.protocol import numerics as n
from ircish.protocol.words import canonical_mask, looks_like_duration

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
    if not chat.offload(work, done):
        chat.oper_pending.discard(client)
        raise CommandError(n.ERR_NOOPERHOST, text=BUSY_TEXT)


def _mismatch(chat: Chat, client: Client, name: str) -> None:
    log.warning("failed OPER as %r by %s: wrong name or password", name, client.user.real_mask)
    chat.error(client, CommandError(n.ERR_PASSWDMISMATCH))


def grant(chat: Chat, client: Client, op: OperatorConfig) -> None:
    """The password was right: make the user an operator if their host is allowed."""
    user = client.user
    allowed = canonical_mask(op.host)
    # The host mask may name the real address or the cloak.
    if not (mask_matches(allowed, user.mask) or mask_matches(allowed, user.real_mask)):
        log.warning("refused OPER as %r by %s: not from %s", op.name, user.real_mask, op.host)
        chat.error(client, CommandError(n.ERR_NOOPERHOST))
        return
    log.warning("%s is now an IRC operator (OPER as %r)", user.real_mask, op.name)
    user.oper = op.name
    chat.numeric(client, n.RPL_YOUREOPER, "You are now an IRC operator")
    state.change_user_modes(chat, user, [("+", "o")])


def revoke_stale(chat: Chat) -> int:
    """After a reload: operators whose ``[[operators]]`` entry is gone lose +o; return how many.

    An entry that is still there keeps its operators even if its password
    changed (they proved the old one); only removal is a revocation.
    """
    names = {op.name.casefold() for op in chat.config.operators}
    stale = [u for u in chat.users if "o" in u.modes and u.oper.casefold() not in names]
    with chat.outbox():
        for user in stale:
            log.warning(
                "%s is no longer an IRC operator (%r left the configuration)",
                user.real_mask,
                user.oper,
            )
            for client in user.clients:
                chat.reply(
                    client,
                    ServerNotice("You are no longer an IRC operator: the configuration changed"),
                )
            state.change_user_modes(chat, user, [("-", "o")])
            user.oper = ""
    return len(stale)


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
    log.warning("%s killed %s: %r", user.real_mask, victim.real_mask, reason)
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


# -- server bans ---------------------------------------------------------------------------

#: What a ban says when the operator gave no reason.
NO_REASON = "No reason given"
_KIND_OF = {"KLINE": "K", "DLINE": "D", "UNKLINE": "K", "UNDLINE": "D"}


@dataclass(frozen=True, slots=True)
class _BanRequest:
    myself: bool
    seconds: int
    target: str
    reason: str


def _require_oper(client: Client) -> None:
    if "o" not in client.user.modes:
        raise CommandError(n.ERR_NOPRIVILEGES)


def _check_server(chat: Chat, server: str) -> None:
    if not mask_matches(server, chat.server_name):
        raise CommandError(n.ERR_NOSUCHSERVER, safe_param(server))


def _parse_ban(chat: Chat, verb: str, params: tuple[str, ...]) -> _BanRequest:
    """``[ANDKILL] [MYSELF] [<duration>] <target> [ON <server>] [<reason>]``; raises BanError."""
    words = [p for p in params if p]
    i = 0
    myself = False
    # ANDKILL is taken for Ergo's syntax: a new ban always disconnects whom it matches.
    while i < len(words) - 1 and words[i].upper() in ("ANDKILL", "MYSELF"):
        myself = myself or words[i].upper() == "MYSELF"
        i += 1
    seconds = 0
    if i < len(words) and looks_like_duration(words[i]):
        seconds = bans.parse_duration(words[i])
        i += 1
    if i >= len(words):
        raise CommandError(n.ERR_NEEDMOREPARAMS, verb)
    target = words[i]
    i += 1
    if i < len(words) and words[i].upper() == "ON":
        if i + 1 >= len(words):
            raise CommandError(n.ERR_NEEDMOREPARAMS, verb)
        _check_server(chat, words[i + 1])
        i += 2
    reason = " ".join(words[i:]).strip()[: chat.config.limits.max_topic_length]
    return _BanRequest(myself, seconds, target, reason or NO_REASON)


def _fail(chat: Chat, client: Client, verb: str, exc: BanError, target: str) -> None:
    chat.fail(client, verb, exc.code, safe_param(target), text=exc.text)


def handle_kline(chat: Chat, client: Client, cmd: Command) -> None:
    """KLINE [ANDKILL] [MYSELF] [<duration>] <mask|nick> [ON <server>] [<reason>] | KLINE LIST

    Ban a user@host or nick!user@host mask, or a connected nick's address (IRC operators).
    """
    _set_ban(chat, client, cmd, "KLINE")


def handle_dline(chat: Chat, client: Client, cmd: Command) -> None:
    """DLINE [ANDKILL] [MYSELF] [<duration>] <ip|cidr> [ON <server>] [<reason>] | DLINE LIST

    Ban an IP address or network: its connections are refused at once (IRC operators).
    """
    _set_ban(chat, client, cmd, "DLINE")


def _set_ban(chat: Chat, client: Client, cmd: Command, verb: str) -> None:
    _require_oper(client)
    kind = _KIND_OF[verb]
    if len(cmd.params) == 1 and cmd.params[0].upper() == "LIST":
        stats.list_bans(chat, client, kind)
        chat.numeric(client, n.RPL_ENDOFSTATS, kind.lower(), "End of /STATS report")
        return
    target = ""
    try:
        request = _parse_ban(chat, verb, cmd.params)
        target = request.target
        mask = _ban_mask(chat, kind, target)
    except BanError as exc:
        _fail(chat, client, verb, exc, exc.word or target)
        return
    now = chat.clock()
    ban = ServerBan(
        kind,
        mask,
        request.reason,
        client.user.nick,
        now,
        now + request.seconds if request.seconds else 0.0,
    )
    user = client.user
    if chat.bans.matches(ban, user) and not request.myself:
        chat.fail(
            client,
            verb,
            "MATCHES_YOU",
            safe_param(mask),
            text=f"{mask} matches you; to ban yourself too, say {verb} MYSELF ...",
        )
        return
    key = bans.key_of(kind, mask)
    # From the config each time: a reload may change it.
    if chat.bans.get(kind, key) is None and len(chat.bans) >= chat.config.limits.max_bans:
        chat.fail(
            client,
            verb,
            "TOO_MANY_BANS",
            safe_param(mask),
            text=f"There are already {len(chat.bans)} server bans ([limits] max_bans)",
        )
        return
    replaced = bans.add(chat, ban)
    how_long = (
        f"for {bans.describe_duration(request.seconds)}" if request.seconds else "permanently"
    )
    log.warning(
        "%s set a %s-line on %s %s: %r", user.real_mask, kind, mask, how_long, request.reason
    )
    victims = bans.matching(chat, ban)
    done = "Updated" if replaced is not None else "Added"
    text = f"{done} {kind}-line {mask} {how_long}: {request.reason}"
    if victims:
        text += f" ({len(victims)} disconnected)"
    # The answer first: the quits it causes follow it.
    chat.reply(client, ServerNotice(text))
    bans.disconnect(chat, ban, victims)


def _ban_mask(chat: Chat, kind: str, target: str) -> str:
    """The mask a K-line or D-line target stands for; raises BanError."""
    if kind == "D":
        return bans.network_text(bans.dline_network(target))
    if "@" not in target and "!" not in target:
        # A connected nick: ban the address they connect from.
        other = chat.users.get(target)
        if other is not None:
            return bans.kline_mask(f"*@{other.ip}")
    return bans.kline_mask(target)


def handle_unkline(chat: Chat, client: Client, cmd: Command) -> None:
    """UNKLINE <mask> [ON <server>]

    Lift a K-line (IRC operators).
    """
    _lift_ban(chat, client, cmd, "UNKLINE")


def handle_undline(chat: Chat, client: Client, cmd: Command) -> None:
    """UNDLINE <ip|cidr> [ON <server>]

    Lift a D-line (IRC operators).
    """
    _lift_ban(chat, client, cmd, "UNDLINE")


def _lift_ban(chat: Chat, client: Client, cmd: Command, verb: str) -> None:
    _require_oper(client)
    kind = _KIND_OF[verb]
    words = [p for p in cmd.params if p]
    if not words:
        raise CommandError(n.ERR_NEEDMOREPARAMS, verb)
    target = words[0]
    if len(words) >= 2 and words[1].upper() == "ON":
        if len(words) < 3:
            raise CommandError(n.ERR_NEEDMOREPARAMS, verb)
        _check_server(chat, words[2])
    try:
        if kind == "D":
            mask = bans.network_text(bans.dline_network(target))
        else:
            # Spelled as when it was set: "*@h" finds "*!*@h"; no nick lookup, no breadth check.
            mask = canonical_mask(target)
        key = bans.key_of(kind, mask)
    except BanError as exc:
        _fail(chat, client, verb, exc, target)
        return
    ban = bans.remove(chat, kind, key)
    if ban is None:
        chat.fail(
            client, verb, "NO_SUCH_BAN", safe_param(target), text=f"There is no {kind}-line {mask}"
        )
        return
    log.warning("%s lifted the %s-line on %s", client.user.real_mask, kind, ban.mask)
    chat.reply(client, ServerNotice(f"Removed {kind}-line {ban.mask}"))
