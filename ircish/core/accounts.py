"""Accounts: registration, login and logout, password changes, throttling, nick protection.

Theory of operation: an account is named after the nickname it protects and
lives in storage (``ircish.core.storage.Account``); a logged-in user has its
name in ``User.account``. Every way in (SASL, ``REGISTER``, NickServ, the
netcat slash commands) validates its own syntax and then calls the same
operations here, which answer through an ``Answer``: each front end words
success and failure its own way (903 or 904 for SASL, a NickServ notice, a
``***`` line for netcat).

Passwords are only ever handled here, and never logged or echoed. Checking
and hashing them is slow on purpose (argon2), so it runs through
``Chat.offload``; a failed login costs the same work and gets the same reply
whether the account exists or not (an unknown name is checked against a
decoy hash). Failed logins are counted per account name and per address: past
``[accounts] login_attempts_per_minute`` in the last minute, attempts are
refused without any check, with the same message whichever limit was hit.

A registered nickname is protected: whoever holds it without being logged in
to its account is told so and, after ``[accounts] nick_grace`` seconds, renamed
to ``guest_prefix`` and a number. Logging in to that account in time cancels it.

Look-alikes (``ircish.core.confusables``): ``skeletons`` indexes every
registered account name by its skeleton, read from storage once when it is
attached and kept with each registration and deletion. A nickname that looks
like an account's name, other than that name itself and the user's own
account, is refused (433); an account name that looks like another account's,
or like someone else's nickname, cannot be registered; a user left holding a
look-alike of a registered name without its account (after LOGOUT) is
protected against like the name itself.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import itertools
import logging
import os
import re
import secrets
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import scramp
from scramp.utils import saslprep

from ircish.core import registered, replay, state
from ircish.core.confusables import skeleton
from ircish.core.events import AccountChange, ServerNotice, ServiceReply, ToPeers
from ircish.core.names import fold, valid_nick
from ircish.core.passwords import decoy_hash, hash_password, verify_password
from ircish.core.storage import Account
from ircish.protocol import numerics as n

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client
    from ircish.core.storage import Storage
    from ircish.core.users import User

log = logging.getLogger("ircish.accounts")

#: The built-in services; nobody may use these nicknames.
NICKSERV = "NickServ"
CHANSERV = "ChanServ"
SERVICES: dict[str, str] = {fold(NICKSERV): NICKSERV, fold(CHANSERV): CHANSERV}
#: ... nor nicknames that look like them.
SERVICE_SKELETONS: dict[str, str] = {skeleton(name): name for name in SERVICES.values()}

UNAVAILABLE_TEXT = "Accounts are not available on this server"
#: The one answer to a throttled login, whichever limit (name or address) was hit.
THROTTLED_TEXT = "Too many failed login attempts: wait a minute and try again"
#: The answer to a registration past ``[accounts] registrations_per_minute`` from one address.
REGISTER_THROTTLED_TEXT = "Too many registrations from your address: wait a minute and try again"
#: The answer to a login or registration whose password check ``Chat.offload`` refused.
BUSY_TEXT = "The server is busy checking passwords: try again in a moment"
#: The one answer to a failed login, whether the account exists or not.
BAD_LOGIN_TEXT = "Wrong account name or password"
#: Passwords also travel in ``PRIVMSG NickServ``: keep them well inside a line.
MAX_PASSWORD_BYTES = 300
SCRAM_ITERATIONS = 4096
#: Failed logins are counted over this many seconds.
WINDOW = 60.0
#: Remembered (name or address) keys before stale ones are swept.
_MAX_THROTTLE_KEYS = 10_000
_SCRAM = scramp.ScramMechanism("SCRAM-SHA-256")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

# Answer codes (IRCv3 standard-reply codes; ACCOUNTS_UNAVAILABLE is this server's).
UNAVAILABLE = "ACCOUNTS_UNAVAILABLE"
THROTTLED = "RATE_LIMITED"
INVALID_CREDENTIALS = "INVALID_CREDENTIALS"


class Answer(Protocol):
    """How one front end words the outcome of an account operation."""

    def ok(self, text: str) -> None: ...

    def fail(self, code: str, text: str) -> None: ...


class SaslSession:
    """One client's SASL exchange in progress."""

    __slots__ = ("chunks", "mechanism", "name", "scram", "size", "stage")

    def __init__(self, mechanism: str) -> None:
        self.mechanism = mechanism
        self.chunks: list[str] = []
        self.size = 0
        #: "start", then for SCRAM "final" (client-final due) and "done" (the "+" due);
        #: "checking" while a PLAIN password is checked.
        self.stage = "start"
        self.name = ""
        self.scram: scramp.ScramServer | None = None


class AccountState:
    """What the chat keeps about accounts between commands (nothing of it persists)."""

    __slots__ = (
        "checking",
        "failures",
        "grace",
        "guests",
        "online",
        "registering",
        "sasl",
        "secret",
        "skeletons",
        "welcome_replay",
    )

    def __init__(self) -> None:
        #: Clients whose password is being checked (one check at a time each).
        self.checking: set[Client] = set()
        #: "n:<folded name>" or "h:<host>" -> times of recent failed logins;
        #: "r:<host>" -> times of recent registrations.
        self.failures: dict[str, deque[float]] = {}
        #: Users holding a registered nick without its account -> (that nick, folded; the
        #: token of their pending rename).
        self.grace: dict[User, tuple[str, object]] = {}
        self.guests = itertools.count(secrets.randbelow(9000) + 1000)
        #: Folded account name -> the users logged in to it.
        self.online: dict[str, set[User]] = {}
        #: Folded name -> name, of the accounts being registered now (the hash is being made).
        self.registering: dict[str, str] = {}
        #: A client's SASL exchange in progress (``ircish.core.handlers.accounts``).
        self.sasl: dict[Client, SaslSession] = {}
        #: Makes SCRAM decoys for unknown names stable for this process, and unguessable.
        self.secret = os.urandom(16)
        #: Skeleton -> {folded account name: the name as registered}, for every account.
        #: Usually one name each; a database from before look-alikes were refused may hold
        #: several.
        self.skeletons: dict[str, dict[str, str]] = {}
        #: Logged in before registration: the private-message replay waits for the welcome.
        self.welcome_replay: dict[Client, float] = {}


def load(chat: Chat) -> None:
    """Storage was attached: index the skeletons of every registered account name."""
    chat.accounts.skeletons.clear()
    if chat.storage is not None:
        for name in chat.storage.account_names():
            _index(chat, name)


def _index(chat: Chat, name: str) -> None:
    chat.accounts.skeletons.setdefault(skeleton(name), {})[fold(name)] = name


def _unindex(chat: Chat, name: str) -> None:
    key = skeleton(name)
    names = chat.accounts.skeletons.get(key)
    if names is not None:
        names.pop(fold(name), None)
        if not names:
            del chat.accounts.skeletons[key]


def lookalike_account(chat: Chat, nick: str, user: User | None = None) -> str | None:
    """A registered account name that ``nick`` looks like, other than ``nick`` itself
    (which nick protection handles) and ``user``'s own account; None if there is none."""
    names = chat.accounts.skeletons.get(skeleton(nick))
    if not names:
        return None
    mine = fold(user.account) if user is not None and user.account else ""
    folded = fold(nick)
    for key, name in names.items():
        if key not in (folded, mine):
            return name
    return None


def storage_of(chat: Chat, answer: Answer) -> Storage | None:
    """The storage, or None after telling the user accounts are off."""
    if chat.storage is None:
        answer.fail(UNAVAILABLE, UNAVAILABLE_TEXT)
    return chat.storage


# -- throttling -------------------------------------------------------------------


def _recent(chat: Chat, key: str) -> deque[float] | None:
    times = chat.accounts.failures.get(key)
    if times is None:
        return None
    cutoff = chat.clock() - WINDOW
    while times and times[0] <= cutoff:
        times.popleft()
    if not times:
        del chat.accounts.failures[key]
        return None
    return times


def throttled(chat: Chat, name: str, host: str) -> bool:
    """Whether the name or the address used up its failed logins for this minute."""
    limit = chat.config.accounts.login_attempts_per_minute
    for key in ("n:" + fold(name), "h:" + host):
        times = _recent(chat, key)
        if times is not None and len(times) >= limit:
            return True
    return False


def record_failure(chat: Chat, name: str, host: str) -> None:
    _count(chat, "n:" + fold(name), "h:" + host)


def _count(chat: Chat, *keys: str) -> None:
    """One more attempt now under each key (swept of stale keys when there are many)."""
    failures = chat.accounts.failures
    if len(failures) > _MAX_THROTTLE_KEYS:
        for key in list(failures):
            _recent(chat, key)
    now = chat.clock()
    for key in keys:
        failures.setdefault(key, deque()).append(now)


# -- credentials (pure: these run on the worker thread) ------------------------------


def make_credentials(password: str) -> tuple[str, str]:
    """(argon2id hash, SCRAM-SHA-256 credentials) for a new password."""
    salt, stored_key, server_key, iterations = _SCRAM.make_auth_info(
        password, iteration_count=SCRAM_ITERATIONS
    )
    parts = (base64.b64encode(x).decode("ascii") for x in (salt, stored_key, server_key))
    return hash_password(password), ":".join((*parts, str(iterations)))


def scram_auth_info(scram: str) -> tuple[bytes, bytes, bytes, int] | None:
    """What scramp needs of stored credentials, or None if they are malformed."""
    try:
        salt, stored_key, server_key, iterations = scram.split(":")
        return (
            base64.b64decode(salt, validate=True),
            base64.b64decode(stored_key, validate=True),
            base64.b64decode(server_key, validate=True),
            int(iterations),
        )
    except ValueError:
        return None


def decoy_scram(chat: Chat, name: str) -> tuple[bytes, bytes, bytes, int]:
    """Credentials no password matches, the same each time for a name: an unknown name
    looks like a known one with a wrong password."""
    digest = hmac.new(chat.accounts.secret, fold(name).encode(), hashlib.sha256).digest()
    keys = hashlib.sha512(digest).digest()
    return digest[:16], keys[:32], keys[32:], SCRAM_ITERATIONS


def scram_server(
    credentials: Callable[[str], tuple[bytes, bytes, bytes, int]],
) -> scramp.ScramServer:
    """A SCRAM-SHA-256 server side; ``credentials(name)`` gives a name's stored keys."""
    return _SCRAM.make_server(credentials)


@functools.cache
def _like() -> str:
    """A hash with this server's argon2 parameters, for decoys."""
    return hash_password(secrets.token_hex(16))


def check_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; None (no such account) costs the same."""
    try:
        return verify_password(stored or decoy_hash(_like()), password) and stored is not None
    except Exception:
        log.exception("password check failed")
        return False


def password_problem(chat: Chat, password: str) -> tuple[str, str] | None:
    """Why a new password is refused, as (code, text); None if it is fine."""
    least = chat.config.accounts.min_password_length
    if len(password) < least:
        return "WEAK_PASSWORD", f"Passwords need at least {least} characters"
    if len(password.encode("utf-8", "replace")) > MAX_PASSWORD_BYTES:
        return "UNACCEPTABLE_PASSWORD", f"Passwords may have at most {MAX_PASSWORD_BYTES} bytes"
    if password == "*" or any(ch.isspace() or not ch.isprintable() for ch in password):
        return "UNACCEPTABLE_PASSWORD", "Passwords may not contain spaces or control characters"
    try:
        # SCRAM credentials are made from the SASLprep form (RFC 4013), which refuses some
        # printable text: U+FFFD (what invalid UTF-8 from netcat becomes), mixed-direction text.
        saslprep(password)
    except scramp.ScramException:
        return "UNACCEPTABLE_PASSWORD", (
            "Passwords may not contain U+FFFD, mixed left-to-right and right-to-left text "
            "or other characters SASL cannot carry (RFC 4013)"
        )
    return None


# -- logging in and out -------------------------------------------------------------


def login(chat: Chat, client: Client, name: str, password: str, answer: Answer) -> None:
    """Check ``password`` for account ``name`` (off the loop); log in if it matches."""
    storage = storage_of(chat, answer)
    if storage is None:
        return
    user = client.user
    if user.account:
        answer.fail("ALREADY_AUTHENTICATED", f"You are already logged in as {user.account}")
        return
    if client in chat.accounts.checking:
        answer.fail("IN_PROGRESS", "A login is already being checked; wait for its answer")
        return
    if throttled(chat, name, user.host):
        answer.fail(THROTTLED, THROTTLED_TEXT)
        return
    account = storage.account(fold(name)) if valid_nick(name, 200) else None
    stored = account.password_hash if account is not None else None

    def done(ok: bool) -> None:
        chat.accounts.checking.discard(client)
        if client.quitting:
            return
        if not ok or account is None:
            fail_login(chat, client, name, answer)
            return
        if client.user.account:
            return  # Logged in some other way meanwhile.
        complete_login(chat, client, account, answer)

    chat.accounts.checking.add(client)
    if not chat.offload(lambda: check_password(stored, password), done):
        chat.accounts.checking.discard(client)
        answer.fail("TEMPORARILY_UNAVAILABLE", BUSY_TEXT)


def fail_login(chat: Chat, client: Client, name: str, answer: Answer) -> None:
    """A wrong name or password: count it, log it (without the password), say so."""
    record_failure(chat, name, client.user.host)
    log.warning("failed login as %r by %s", name, client.user.mask)
    answer.fail(INVALID_CREDENTIALS, BAD_LOGIN_TEXT)


def complete_login(chat: Chat, client: Client, account: Account, answer: Answer) -> None:
    """The password was right (or the SCRAM proof): the user is now logged in."""
    user = client.user
    name = account.name
    user.account = name
    chat.accounts.online.setdefault(fold(name), set()).add(user)
    if fold(name) == user.folded:
        chat.accounts.grace.pop(user, None)
    log.info("%s logged in as %s", user.mask, name)
    chat.numeric(client, n.RPL_LOGGEDIN, user.mask, name, f"You are now logged in as {name}")
    answer.ok(f"You are now logged in as {name}.")
    if user.registered:
        chat.emit(
            AccountChange(user.mask, user.nick, name),
            ToPeers(user.uid, user.room_keys(), watchers=True),
            tags=state.bot_tags(user),
        )
        for room in list(user.rooms.values()):
            # Logging in inside a registered room gives the status its access list grants.
            registered.apply_access(chat, room, user)
        replay.after_login(chat, client, account.last_seen)
    else:
        chat.accounts.welcome_replay[client] = account.last_seen


def logout(chat: Chat, client: Client, answer: Answer) -> None:
    """LOGOUT: the user keeps their nickname, which may then need protecting."""
    if storage_of(chat, answer) is None:
        return
    user = client.user
    if not user.account:
        answer.fail("NOT_LOGGED_IN", "You are not logged in")
        return
    name = user.account
    _forget_login(chat, user, seen=True)
    log.info("%s logged out of %s", user.mask, name)
    for each in user.clients:
        chat.numeric(each, n.RPL_LOGGEDOUT, user.mask, "You are now logged out")
    answer.ok(f"You are now logged out of {name}.")
    check_nick(chat, user)


def _forget_login(chat: Chat, user: User, *, seen: bool) -> None:
    """``user`` is no longer logged in; peers with account-notify see it."""
    folded = fold(user.account)
    users = chat.accounts.online.get(folded)
    if users is not None:
        users.discard(user)
        if not users:
            del chat.accounts.online[folded]
            if seen:
                _mark_seen(chat, folded)
    user.account = ""
    if user.registered:
        chat.emit(
            AccountChange(user.mask, user.nick, ""),
            ToPeers(user.uid, user.room_keys(), watchers=True),
            tags=state.bot_tags(user),
        )


def _mark_seen(chat: Chat, folded: str) -> None:
    """The account's last client went away: what arrives from now on is missed mail."""
    storage = chat.storage
    if storage is None:
        return
    account = storage.account(folded)
    if account is not None:
        account.last_seen = chat.clock()
        storage.save_account(folded, account)


# -- registering, changing, deleting ----------------------------------------------------


def register(
    chat: Chat, client: Client, name: str, email: str, password: str, answer: Answer
) -> None:
    """Register the nickname ``name`` (the user's own) as an account, and log in to it."""
    storage = storage_of(chat, answer)
    if storage is None:
        return
    user = client.user
    if not chat.config.accounts.registration:
        answer.fail("TEMPORARILY_UNAVAILABLE", "Registration is turned off on this server")
        return
    if user.account:
        answer.fail("ALREADY_AUTHENTICATED", f"You are already logged in as {user.account}")
        return
    if fold(name) != user.folded:
        answer.fail(
            "ACCOUNT_NAME_MUST_BE_NICK",
            f"You can only register your current nickname ({user.nick})",
        )
        return
    folded = fold(name)
    if storage.account(folded) is not None or folded in chat.accounts.registering:
        answer.fail("ACCOUNT_EXISTS", f"{user.nick} is already registered: log in instead")
        return
    similar = _registration_lookalike(chat, user, name)
    if similar is not None:
        answer.fail("ACCOUNT_EXISTS", similar)
        return
    problem = password_problem(chat, password)
    if problem is not None:
        answer.fail(*problem)
        return
    if email and not _EMAIL.fullmatch(email):
        answer.fail("INVALID_EMAIL", f"{email} is not an e-mail address")
        return
    key = "r:" + user.host
    made = _recent(chat, key)
    if made is not None and len(made) >= chat.config.accounts.registrations_per_minute:
        answer.fail("TEMPORARILY_UNAVAILABLE", REGISTER_THROTTLED_TEXT)
        return
    nick = user.nick

    def done(credentials: tuple[str, str] | None) -> None:
        if credentials is None:
            chat.accounts.registering.pop(folded, None)
            answer.fail("TEMPORARILY_UNAVAILABLE", "The account could not be made; try again")
            return
        now = chat.clock()
        account = Account(nick, *credentials, email=email, created=now, last_seen=now)
        # Unique network-wide: other processes may register the name at the same moment.
        chat.claim_record("account", folded, account, lambda ok: claimed(account, ok))

    def claimed(account: Account, ok: bool) -> None:
        chat.accounts.registering.pop(folded, None)
        if not ok or storage.account(folded) is not None:
            answer.fail("ACCOUNT_EXISTS", f"{nick} is already registered: log in instead")
            return
        storage.save_account(folded, account)
        _index(chat, nick)
        log.info("account %s registered by %s", nick, user.mask)
        if client.quitting or client.user.account:
            return
        complete_login(chat, client, account, _Registered(answer, nick))

    chat.accounts.registering[folded] = nick
    if not chat.offload(lambda: _credentials_or_none(password), done):
        chat.accounts.registering.pop(folded, None)
        answer.fail("TEMPORARILY_UNAVAILABLE", BUSY_TEXT)
        return
    # Counted when the hashing starts: each costs a worker tens of milliseconds.
    _count(chat, key)


def shared_saved(chat: Chat, name: str) -> None:
    """An account registered or changed on another process (``replica.apply_shared``)."""
    _index(chat, name)


def shared_deleted(chat: Chat, name: str) -> None:
    """An account was deleted on another process: its users here are logged out."""
    folded = fold(name)
    for other in list(chat.accounts.online.get(folded, ())):
        _forget_login(chat, other, seen=False)
        for each in other.clients:
            chat.numeric(each, n.RPL_LOGGEDOUT, other.mask, "You are now logged out")
    _unindex(chat, name)


def _registration_lookalike(chat: Chat, user: User, name: str) -> str | None:
    """Why ``name`` cannot be registered because it looks like another name; None if not."""
    account = lookalike_account(chat, name)
    if account is None:
        key = skeleton(name)
        pending = (n for n in chat.accounts.registering.values() if skeleton(n) == key)
        account = next(pending, None)
    if account is not None:
        return (
            f"{name} looks too much like the registered nickname {account}: "
            "register another nickname"
        )
    other = chat.users.lookalike(name, by=user)
    if other is not None:
        return f"{name} looks too much like {other.nick}, who is online: register another nickname"
    return None


class _Registered:
    """Registration logs in: its success says both."""

    def __init__(self, answer: Answer, name: str) -> None:
        self.answer = answer
        self.name = name

    def ok(self, text: str) -> None:
        self.answer.ok(f"Account {self.name} registered; you are now logged in.")

    def fail(self, code: str, text: str) -> None:
        self.answer.fail(code, text)


def _credentials_or_none(password: str) -> tuple[str, str] | None:
    try:
        return make_credentials(password)
    except Exception:
        log.exception("could not hash a new password")
        return None


def _with_own_password(
    chat: Chat,
    client: Client,
    password: str,
    answer: Answer,
    then: Callable[[Storage, Account], None],
    work: Callable[[], tuple[str, str] | None] | None = None,
) -> None:
    """Check the logged-in user's own password (throttled like a login), then ``then``."""
    storage = storage_of(chat, answer)
    if storage is None:
        return
    user = client.user
    if not user.account:
        answer.fail("NOT_LOGGED_IN", "You are not logged in: log in first")
        return
    if client in chat.accounts.checking:
        answer.fail("IN_PROGRESS", "A password is already being checked; wait for its answer")
        return
    name = user.account
    if throttled(chat, name, user.host):
        answer.fail(THROTTLED, THROTTLED_TEXT)
        return
    account = storage.account(fold(name))
    stored = account.password_hash if account is not None else None
    made: list[tuple[str, str] | None] = []

    def check() -> bool:
        ok = check_password(stored, password)
        if ok and work is not None:
            made.append(work())
        return ok

    def done(ok: bool) -> None:
        chat.accounts.checking.discard(client)
        if client.quitting:
            return
        if not ok or account is None or fold(client.user.account) != fold(name):
            record_failure(chat, name, client.user.host)
            log.warning("wrong password for %r from %s", name, client.user.mask)
            answer.fail(INVALID_CREDENTIALS, "Wrong password")
            return
        if work is not None:
            credentials = made[0] if made else None
            if credentials is None:
                answer.fail("TEMPORARILY_UNAVAILABLE", "The password could not be changed")
                return
            account.password_hash, account.scram = credentials
        then(storage, account)

    chat.accounts.checking.add(client)
    if not chat.offload(check, done):
        chat.accounts.checking.discard(client)
        answer.fail("TEMPORARILY_UNAVAILABLE", BUSY_TEXT)


def change_password(chat: Chat, client: Client, old: str, new: str, answer: Answer) -> None:
    """PASSWD: a new password, after the current one."""
    if storage_of(chat, answer) is None:
        return
    if not client.user.account:
        answer.fail("NOT_LOGGED_IN", "You are not logged in: log in first")
        return
    problem = password_problem(chat, new)
    if problem is not None:
        answer.fail(*problem)
        return

    def then(storage: Storage, account: Account) -> None:
        storage.save_account(fold(account.name), account)
        log.info("%s changed the password of %s", client.user.mask, account.name)
        answer.ok("Your password has been changed.")

    _with_own_password(chat, client, old, answer, then, lambda: _credentials_or_none(new))


def unregister(chat: Chat, client: Client, password: str, answer: Answer) -> None:
    """UNREGISTER: delete one's account (confirmed by its password); everyone is logged out."""

    def then(storage: Storage, account: Account) -> None:
        folded = fold(account.name)
        for other in list(chat.accounts.online.get(folded, ())):
            _forget_login(chat, other, seen=False)
            for each in other.clients:
                chat.numeric(each, n.RPL_LOGGEDOUT, other.mask, "You are now logged out")
        storage.delete_account(folded)
        _unindex(chat, account.name)
        # Whoever registers the name next must not inherit its rooms or access.
        registered.forget_account(chat, account.name)
        log.info("%s deleted the account %s", client.user.mask, account.name)
        answer.ok(f"The account {account.name} has been deleted; you are logged out.")

    _with_own_password(chat, client, password, answer, then)


def ghost(chat: Chat, client: Client, nick: str, answer: Answer) -> None:
    """GHOST: disconnect a stale connection holding one's own nickname."""
    if storage_of(chat, answer) is None:
        return
    user = client.user
    if not user.account:
        answer.fail("NOT_LOGGED_IN", "Log in to your account first, then ghost its nickname")
        return
    other = chat.users.get(nick)
    if other is None:
        answer.fail("NO_SUCH_NICK", f"Nobody is using {nick}")
        return
    if other is user:
        answer.fail("NOT_A_GHOST", f"{other.nick} is you")
        return
    mine = fold(user.account)
    if other.folded != mine and fold(other.account) != mine:
        answer.fail("NOT_YOURS", f"{other.nick} is not a nickname of your account")
        return
    gone = other.nick
    log.info("%s ghosted %s", user.mask, other.mask)
    for each in list(other.clients):
        chat.disconnect(each, f"GHOST command used by {user.nick}")
    answer.ok(f"{gone} has been disconnected.")


def describe(chat: Chat, client: Client, nick: str) -> list[str] | None:
    """What NickServ INFO tells of a registered nickname (None: not registered)."""
    storage = chat.storage
    if storage is None:
        return None
    account = storage.account(fold(nick))
    if account is None:
        return None
    lines = [f"{account.name} is a registered account."]
    users = chat.accounts.online.get(fold(account.name), set())
    if users:
        lines.append("Online now as " + ", ".join(sorted(u.nick for u in users)) + ".")
    if fold(client.user.account) == fold(account.name) and account.email:
        lines.append(f"E-mail: {account.email}")
    return lines


# -- nickname protection ------------------------------------------------------------------


def protector(chat: Chat, user: User) -> str | None:
    """The registered name that protects ``user``'s nick from them: the nick itself or
    one it looks like, unless they are logged in to that account; None if none does."""
    storage = chat.storage
    if storage is None:
        return None
    if user.folded != fold(user.account) and storage.account(user.folded) is not None:
        return user.nick
    return lookalike_account(chat, user.nick, user)


def check_nick(chat: Chat, user: User) -> None:
    """After registration or a nick change: protect a registered nickname from ``user``."""
    if chat.storage is None or not user.registered:
        return
    name = protector(chat, user)
    if name is None:
        chat.accounts.grace.pop(user, None)
        return
    folded = user.folded
    pending = chat.accounts.grace.get(user)
    if pending is not None and pending[0] == folded:
        return  # Already counting down (a change of case does not restart it).
    token = object()
    chat.accounts.grace[user] = (folded, token)
    seconds = chat.config.accounts.nick_grace
    shown = f"{seconds:g}"
    own = fold(name) == folded
    for client in user.clients:
        if client.dialect.name == "plain":
            what = (
                f"The nickname {user.nick} is registered"
                if own
                else f"The nickname {user.nick} looks like the registered nickname {name}"
            )
            login = "/login PASSWORD" if own else f"/login {name} PASSWORD"
            text = f"{what}: log in within {shown} seconds ({login}) or you will be renamed."
            chat.reply(client, ServerNotice(text))
        else:
            what = "This nickname is registered" if own else f"This nickname looks like {name}"
            login = "" if own else f"{name} "
            chat.reply(
                client,
                ServiceReply(
                    NICKSERV,
                    f"{what}. Log in within {shown} seconds "
                    f"(/msg {NICKSERV} IDENTIFY {login}<password>) or you will be renamed.",
                ),
            )
    chat.later(seconds, lambda: _grace_over(chat, user, folded, token))


def _grace_over(chat: Chat, user: User, folded: str, token: object) -> None:
    pending = chat.accounts.grace.get(user)
    if pending is None or pending[1] is not token:
        return
    del chat.accounts.grace[user]
    if not user.registered or user.folded != folded or protector(chat, user) is None:
        return
    guest = guest_nick(chat)
    client = user.clients[0] if user.clients else None
    with chat.outbox(client):
        log.info("%s did not log in to the registered %s: renamed %s", user.mask, user.nick, guest)
        for each in user.clients:
            chat.reply(
                each,
                ServiceReply(NICKSERV, f"You did not log in in time: you are now {guest}."),
            )
        state.nick(chat, user, guest)


def guest_nick(chat: Chat) -> str:
    """A free guest nickname that is not registered, nor like a name in use or registered."""
    prefix = chat.config.accounts.guest_prefix
    while True:
        nick = f"{prefix}{next(chat.accounts.guests)}"
        if _free_guest(chat, nick):
            return nick


def uid_nick(chat: Chat, user: User) -> str:
    """A nickname made of the guest prefix and ``user``'s uid, which no other user on the
    network has (the uid's first part is random per process); a guest nickname when that
    one is too long, or taken anyway."""
    nick = chat.config.accounts.guest_prefix + user.uid.replace("-", "")
    if valid_nick(nick, chat.config.limits.max_nick_length) and _free_guest(chat, nick):
        return nick
    return guest_nick(chat)


def _free_guest(chat: Chat, nick: str) -> bool:
    storage = chat.storage
    return (
        chat.users.get(nick) is None
        and chat.users.lookalike(nick) is None
        and skeleton(nick) not in chat.accounts.skeletons
        and (storage is None or storage.account(fold(nick)) is None)
    )


# -- lifecycle ------------------------------------------------------------------------------


def after_welcome(chat: Chat, client: Client) -> None:
    """Registration finished: replay missed mail of a SASL login, protect the nickname."""
    since = chat.accounts.welcome_replay.pop(client, None)
    if since is not None and client.user.account:
        replay.after_login(chat, client, since)
    check_nick(chat, client.user)


def client_gone(chat: Chat, client: Client) -> None:
    """A connection closed; with the last one of a logged-in user, the account was seen."""
    state_ = chat.accounts
    state_.sasl.pop(client, None)
    state_.checking.discard(client)
    state_.welcome_replay.pop(client, None)
    user = client.user
    if user.clients:
        return
    state_.grace.pop(user, None)
    if user.account:
        folded = fold(user.account)
        users = state_.online.get(folded)
        if users is not None:
            users.discard(user)
            if not users:
                del state_.online[folded]
                _mark_seen(chat, folded)


def shutdown(chat: Chat) -> None:
    """The server stops: every account still online was seen now."""
    for folded in list(chat.accounts.online):
        _mark_seen(chat, folded)
    chat.accounts.online.clear()
