"""Account commands: AUTHENTICATE (SASL), REGISTER and VERIFY, and the plain ones.

Theory of operation: IRC clients log in with SASL (IRCv3 ``sasl``):
``AUTHENTICATE <mechanism>``, answered ``AUTHENTICATE +``, then the client's
data in base64, in chunks of 400 bytes (a chunk shorter than 400, or ``+``,
ends a message). PLAIN carries the password, checked off the loop like every
password; SCRAM-SHA-256 (RFC 7677, played by ``scramp``) proves knowledge of
it without sending it: client-first, server-first, client-final,
server-final, then the client's ``+``, and only then 900 and 903. A SCRAM
exchange for an unknown name runs against decoy credentials, so it fails
exactly like a wrong password.

IRCv3 ``draft/account-registration``: ``REGISTER`` registers the current
nickname (after connection registration), ``VERIFY`` has nothing to verify
(no e-mail is ever sent). ``LOGIN``, ``LOGOUT``, ``PASSWD``, ``UNREGISTER``
and ``GHOST`` are what the netcat slash commands send; IRC clients may use
them too. The operations themselves are in ``ircish.core.accounts``.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

import scramp

from ircish.core import accounts
from ircish.core.accounts import UNAVAILABLE, UNAVAILABLE_TEXT, SaslSession
from ircish.core.command import Command
from ircish.core.events import AccountReply, Authenticate, ServerNotice
from ircish.core.names import fold
from ircish.protocol import numerics as n

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client

#: SASL mechanisms, as ``sasl`` and 908 list them.
MECHANISMS = ("PLAIN", "SCRAM-SHA-256")
#: One AUTHENTICATE line carries at most this much base64 (IRCv3 sasl-3.1).
CHUNK = 400
#: A whole SASL message (base64) may be this long; more is 905.
MAX_SASL_BYTES = 4096


class VerbAnswer:
    """Replies to LOGIN, LOGOUT, ...: a server notice, or ``FAIL <verb> <code>``."""

    def __init__(self, chat: Chat, client: Client, verb: str) -> None:
        self.chat = chat
        self.client = client
        self.verb = verb

    def ok(self, text: str) -> None:
        self.chat.reply(self.client, ServerNotice(text))

    def fail(self, code: str, text: str) -> None:
        self.chat.fail(self.client, self.verb, code, text=text)


class RegisterAnswer:
    """IRCv3 account-registration replies: ``REGISTER SUCCESS`` or ``FAIL REGISTER``."""

    def __init__(self, chat: Chat, client: Client, account: str) -> None:
        self.chat = chat
        self.client = client
        self.account = account

    def ok(self, text: str) -> None:
        self.chat.reply(self.client, AccountReply("REGISTER", "SUCCESS", self.account, text))

    def fail(self, code: str, text: str) -> None:
        self.chat.fail(self.client, "REGISTER", code, self.account, text=text)


class SaslAnswer:
    """SASL replies: 903 on success, 904 (907 when already logged in) on failure."""

    def __init__(self, chat: Chat, client: Client) -> None:
        self.chat = chat
        self.client = client

    def ok(self, text: str) -> None:
        self.chat.accounts.sasl.pop(self.client, None)
        self.chat.numeric(self.client, n.RPL_SASLSUCCESS, "SASL authentication successful")

    def fail(self, code: str, text: str) -> None:
        self.chat.accounts.sasl.pop(self.client, None)
        if code == "ALREADY_AUTHENTICATED":
            self.chat.numeric(self.client, n.ERR_SASLALREADY, n.ERROR_TEXT[n.ERR_SASLALREADY])
        elif code == accounts.INVALID_CREDENTIALS:
            self.chat.numeric(self.client, n.ERR_SASLFAIL, n.ERROR_TEXT[n.ERR_SASLFAIL])
        else:
            self.chat.numeric(self.client, n.ERR_SASLFAIL, f"SASL authentication failed: {text}")


# -- SASL -----------------------------------------------------------------------------


def handle_authenticate(chat: Chat, client: Client, cmd: Command) -> None:
    """AUTHENTICATE <mechanism> | <base64 chunk> | + | *

    Log in with SASL (PLAIN or SCRAM-SHA-256), usually while connecting.
    """
    arg = cmd.params[0]
    sessions = chat.accounts.sasl
    answer = SaslAnswer(chat, client)
    session = sessions.get(client)
    if chat.storage is None:
        answer.fail(UNAVAILABLE, UNAVAILABLE_TEXT)
        return
    if arg == "*":
        sessions.pop(client, None)
        chat.numeric(client, n.ERR_SASLABORTED, n.ERROR_TEXT[n.ERR_SASLABORTED])
        return
    if client.user.account:
        answer.fail("ALREADY_AUTHENTICATED", "")
        return
    if session is None:
        mechanism = arg.upper()
        if mechanism not in MECHANISMS:
            chat.numeric(
                client, n.RPL_SASLMECHS, ",".join(MECHANISMS), "are available SASL mechanisms"
            )
            answer.fail("UNKNOWN_MECHANISM", f"{mechanism[:20]} is not offered")
            return
        sessions[client] = SaslSession(mechanism)
        chat.reply(client, Authenticate("+"))
        return
    if session.stage == "checking":
        return  # The password is being checked; its answer ends the exchange.
    if len(arg) > CHUNK:
        sessions.pop(client, None)
        chat.numeric(client, n.ERR_SASLTOOLONG, n.ERROR_TEXT[n.ERR_SASLTOOLONG])
        return
    if arg != "+":
        session.chunks.append(arg)
        session.size += len(arg)
        if session.size > MAX_SASL_BYTES:
            sessions.pop(client, None)
            chat.numeric(client, n.ERR_SASLTOOLONG, n.ERROR_TEXT[n.ERR_SASLTOOLONG])
            return
        if len(arg) == CHUNK:
            return  # More of the same message follows.
    data = "".join(session.chunks)
    session.chunks.clear()
    session.size = 0
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        answer.fail("BAD_ENCODING", "invalid base64")
        return
    if session.mechanism == "PLAIN":
        _plain(chat, client, session, raw, answer)
    else:
        _scram(chat, client, session, raw, answer)


def _plain(
    chat: Chat, client: Client, session: SaslSession, raw: bytes, answer: SaslAnswer
) -> None:
    """PLAIN (RFC 4616): ``[authzid] NUL authcid NUL password``."""
    parts = raw.split(b"\0")
    if len(parts) != 3:
        answer.fail("BAD_MESSAGE", "malformed PLAIN message")
        return
    try:
        authzid, authcid, password = (p.decode("utf-8") for p in parts)
    except UnicodeDecodeError:
        answer.fail("BAD_MESSAGE", "malformed PLAIN message")
        return
    if authzid and fold(authzid) != fold(authcid):
        answer.fail("BAD_MESSAGE", "the authorization name must be the account's")
        return
    session.stage = "checking"
    accounts.login(chat, client, authcid, password, answer)


def _scram(
    chat: Chat, client: Client, session: SaslSession, raw: bytes, answer: SaslAnswer
) -> None:
    """SCRAM-SHA-256 (RFC 5802, 7677), one step per client message."""
    storage = chat.storage
    if storage is None:
        answer.fail(UNAVAILABLE, UNAVAILABLE_TEXT)
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        answer.fail("BAD_MESSAGE", "malformed SCRAM message")
        return
    if session.stage == "start":
        names: list[str] = []

        def credentials(username: str) -> tuple[bytes, bytes, bytes, int]:
            names.append(username)
            account = storage.account(fold(username)) if username else None
            stored = accounts.scram_auth_info(account.scram) if account is not None else None
            return stored or accounts.decoy_scram(chat, username)

        server = accounts.scram_server(credentials)
        try:
            server.set_client_first(text)
        except scramp.ScramException:
            answer.fail("BAD_MESSAGE", "malformed SCRAM message")
            return
        session.name = names[0] if names else ""
        if accounts.throttled(chat, session.name, client.user.host):
            answer.fail(accounts.THROTTLED, accounts.THROTTLED_TEXT)
            return
        session.scram = server
        session.stage = "final"
        _challenge(chat, client, server.get_server_first().encode("utf-8"))
    elif session.stage == "final" and session.scram is not None:
        try:
            session.scram.set_client_final(text)
        except scramp.ScramException:
            accounts.fail_login(chat, client, session.name, answer)
            return
        session.stage = "done"
        _challenge(chat, client, session.scram.get_server_final().encode("utf-8"))
    else:
        # The client's "+" after server-final: the exchange is over, and it worked.
        account = storage.account(fold(session.name))
        if account is None:
            accounts.fail_login(chat, client, session.name, answer)
            return
        accounts.complete_login(chat, client, account, answer)


def _challenge(chat: Chat, client: Client, data: bytes) -> None:
    """Send ``data`` as AUTHENTICATE lines of at most 400 bytes (``+`` ends a full one)."""
    encoded = base64.b64encode(data).decode("ascii")
    for start in range(0, len(encoded), CHUNK):
        chat.reply(client, Authenticate(encoded[start : start + CHUNK]))
    if len(encoded) % CHUNK == 0:
        chat.reply(client, Authenticate("+"))


# -- account-registration --------------------------------------------------------------


def handle_register(chat: Chat, client: Client, cmd: Command) -> None:
    """REGISTER <account> {<email> | *} <password>

    Register your current nickname as an account (account: * or your nick).
    """
    name, email, password = cmd.params[0], cmd.params[1], cmd.params[2]
    user = client.user
    shown = user.nick if name == "*" else name
    answer = RegisterAnswer(chat, client, shown)
    if chat.storage is None:
        answer.fail(UNAVAILABLE, UNAVAILABLE_TEXT)
        return
    if not user.registered:
        chat.fail(
            client,
            "REGISTER",
            "COMPLETE_CONNECTION_REQUIRED",
            text="Register your account after connecting",
        )
        return
    accounts.register(chat, client, shown, "" if email == "*" else email, password, answer)


def handle_verify(chat: Chat, client: Client, cmd: Command) -> None:
    """VERIFY <account> <code>

    Complete a registration; this server never asks for one.
    """
    name = cmd.params[0]
    if chat.storage is None:
        chat.fail(client, "VERIFY", UNAVAILABLE, name, text=UNAVAILABLE_TEXT)
    elif not client.user.registered:
        chat.fail(client, "VERIFY", "COMPLETE_CONNECTION_REQUIRED", text="Verify after connecting")
    elif client.user.account:
        chat.fail(
            client,
            "VERIFY",
            "ALREADY_AUTHENTICATED",
            name,
            text=f"You are already logged in as {client.user.account}",
        )
    else:
        chat.fail(
            client,
            "VERIFY",
            "INVALID_CODE",
            name,
            text="Nothing to verify: this server sends no verification codes",
        )


# -- the plain commands ------------------------------------------------------------------


def handle_login(chat: Chat, client: Client, cmd: Command) -> None:
    """LOGIN [<account>] <password>

    Log in to an account (default: your nickname's).
    """
    answer = VerbAnswer(chat, client, "LOGIN")
    if len(cmd.params) >= 2:
        name, password = cmd.params[0], cmd.params[1]
    else:
        name, password = client.user.nick, cmd.params[0]
    accounts.login(chat, client, name, password, answer)


def handle_logout(chat: Chat, client: Client, cmd: Command) -> None:
    """LOGOUT

    Log out of your account.
    """
    accounts.logout(chat, client, VerbAnswer(chat, client, "LOGOUT"))


def handle_passwd(chat: Chat, client: Client, cmd: Command) -> None:
    """PASSWD <old password> <new password>

    Change your account's password.
    """
    answer = VerbAnswer(chat, client, "PASSWD")
    accounts.change_password(chat, client, cmd.params[0], cmd.params[1], answer)


def handle_unregister(chat: Chat, client: Client, cmd: Command) -> None:
    """UNREGISTER <password>

    Delete your account, confirmed by its password.
    """
    accounts.unregister(chat, client, cmd.params[0], VerbAnswer(chat, client, "UNREGISTER"))


def handle_ghost(chat: Chat, client: Client, cmd: Command) -> None:
    """GHOST <nick>

    Disconnect a stale connection that holds your account's nickname.
    """
    accounts.ghost(chat, client, cmd.params[0], VerbAnswer(chat, client, "GHOST"))
