"""Accounts in memory: register, log in (plain, NickServ, SASL PLAIN and SCRAM), protect nicks."""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest
import scramp

from ircish.config import AccountsConfig, Config
from ircish.core.accounts import (
    BAD_LOGIN_TEXT,
    BUSY_TEXT,
    REGISTER_THROTTLED_TEXT,
    THROTTLED_TEXT,
)
from ircish.core.chat import MAX_OFFLOADED
from ircish.core.names import fold
from tests.helpers import MemoryClient, MemoryNetwork, drain

S = "ircish.local"
PW = "s3cretpw!"
NS = f":NickServ!NickServ@services.{S} NOTICE"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def net() -> MemoryNetwork:
    return MemoryNetwork(storage=True)


def registered(net: MemoryNetwork, nick: str = "alice") -> MemoryClient:
    """A plain user who registered their nick, then quit: the account exists, nobody is on."""
    client = net.plain(nick)
    client.send(f"/register {PW}")
    assert client.lines() == [f"*** Account {nick} registered; you are now logged in."]
    client.send("/quit")
    return client


def irc_pre(net: MemoryNetwork, caps: str = "sasl") -> MemoryClient:
    client = net.connect("irc")
    client.send(f"CAP REQ :{caps}")
    client.send("NICK alice")
    client.send("USER alice 0 * :Alice")
    drain(client)
    return client


# -- netcat ---------------------------------------------------------------------------


def test_register_login_logout_from_netcat(net: MemoryNetwork) -> None:
    alice = net.plain("alice")
    alice.send(f"/register {PW} alice@example.org")
    assert alice.lines() == ["*** Account alice registered; you are now logged in."]
    assert alice.user.account == "alice"
    assert net.storage is not None
    stored = net.storage.account("alice")
    assert stored is not None and stored.email == "alice@example.org"
    assert stored.password_hash.startswith("$argon2id$") and PW not in stored.scram
    alice.send("/logout")
    lines = alice.lines()
    assert lines[0] == "*** You are now logged out of alice."
    # Still holding the registered nick, now without its account: protected again.
    assert lines[1].startswith("*** The nickname alice is registered: log in within 30 seconds")
    alice.send(f"/login {PW}")
    assert alice.lines() == ["*** You are now logged in as alice."]
    net.advance(31)
    assert alice.lines() == [] and alice.user.nick == "alice"


def test_register_refusals(net: MemoryNetwork) -> None:
    registered(net)
    bob = net.plain("bob")
    bob.send("/register short")
    assert bob.lines() == ["! Passwords need at least 8 characters"]
    bob.send(f"/register {PW} not-an-address")
    assert bob.lines() == ["! not-an-address is not an e-mail address"]
    bob.send("/nick alice")
    drain(bob)
    bob.send(f"/register {PW}")
    assert bob.lines() == ["! alice is already registered: log in instead"]
    bob.send("/register")
    assert bob.lines() == ["! Usage: /register PASSWORD [EMAIL]"]


def test_failed_login_says_the_same_for_unknown_names_and_is_throttled(net: MemoryNetwork) -> None:
    registered(net)
    bob = net.plain("bob")
    bob.send("/login alice wrongpassword")
    assert bob.lines() == [f"! {BAD_LOGIN_TEXT}"]
    bob.send("/login nosuchaccount wrongpassword")
    assert bob.lines() == [f"! {BAD_LOGIN_TEXT}"]
    bob.send("/login alice wrongagain")
    assert bob.lines() == [f"! {BAD_LOGIN_TEXT}"]
    # Three failures from this address within the minute: even the right password waits.
    bob.send(f"/login alice {PW}")
    assert bob.lines() == [f"! {THROTTLED_TEXT}"]
    bob.send(f"/login alice {PW}")
    assert bob.lines() == [f"! {THROTTLED_TEXT}"]
    net.advance(61)
    bob.send(f"/login alice {PW}")
    assert bob.lines() == ["*** You are now logged in as alice."]


def test_throttle_per_account_across_addresses(net: MemoryNetwork) -> None:
    registered(net)
    for i in range(3):
        other = net.connect("plain", host=f"10.0.0.{i}")
        other.send(f"guest{i}")
        drain(other)
        other.send("/login alice nope-nope")
        assert other.lines() == [f"! {BAD_LOGIN_TEXT}"]
    fresh = net.connect("plain", host="10.0.0.9")
    fresh.send("carol")
    drain(fresh)
    fresh.send(f"/login alice {PW}")
    assert fresh.lines() == [f"! {THROTTLED_TEXT}"]


def test_registrations_are_throttled_per_address(net: MemoryNetwork) -> None:
    for nick in ("ann", "ben", "cat"):
        registered(net, nick)
    dan = net.plain("dan")
    dan.send(f"/register {PW}")
    assert dan.lines() == [f"! {REGISTER_THROTTLED_TEXT}"]
    assert net.storage is not None and net.storage.account("dan") is None
    # Another address is not held back, and the first one may register again a minute later.
    other = net.connect("plain", host="10.0.0.7")
    other.send("eve")
    drain(other)
    other.send(f"/register {PW}")
    assert other.lines() == ["*** Account eve registered; you are now logged in."]
    net.advance(61)
    drain(dan)
    dan.send(f"/register {PW}")
    assert dan.lines() == ["*** Account dan registered; you are now logged in."]


def test_password_checks_past_the_queue_limit_are_refused_at_once(net: MemoryNetwork) -> None:
    registered(net)
    held: list[object] = []
    net.chat.offloader = lambda work, done: held.append((work, done))
    waiting = []
    for i in range(MAX_OFFLOADED):
        client = net.connect("plain", host=f"10.1.{i // 200}.{i % 200}")
        client.send(f"user{i}")
        drain(client)
        client.send(f"/login alice {PW}")
        assert client.lines() == []  # being checked
        waiting.append(client)
    late = net.connect("plain", host="10.9.9.9")
    late.send("late")
    drain(late)
    late.send(f"/login alice {PW}")
    assert late.lines() == [f"! {BUSY_TEXT}"]
    # Refused, not counted as a failure, and not stuck "in progress": it may try again.
    assert net.chat.metrics.offload_refused == 1
    drain(waiting[0])
    work, done = held.pop(0)  # type: ignore[misc]
    done(work())
    assert waiting[0].lines() == ["*** You are now logged in as alice."]
    late.send(f"/login alice {PW}")
    assert late.lines() == []
    assert len(held) == MAX_OFFLOADED


def test_passwords_never_echoed_or_logged(
    net: MemoryNetwork, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    registered(net)
    bob = net.plain("bob")
    bob.send("/login alice hunter2-wrong")
    bob.send("/msg NickServ IDENTIFY alice hunter2-wrong")
    out = "\n".join(bob.lines())
    assert "hunter2" not in out and "hunter2" not in caplog.text and PW not in caplog.text
    assert "failed login as 'alice'" in caplog.text


def test_passwd_and_unregister(net: MemoryNetwork) -> None:
    alice = net.plain("alice")
    alice.send(f"/register {PW}")
    drain(alice)
    alice.send("/passwd wrong-old new-password")
    assert alice.lines() == ["! Wrong password"]
    alice.send(f"/passwd {PW} short")
    assert alice.lines() == ["! Passwords need at least 8 characters"]
    alice.send(f"/passwd {PW} new-password")
    assert alice.lines() == ["*** Your password has been changed."]
    alice.send("/logout")
    drain(alice)
    alice.send(f"/login {PW}")
    assert alice.lines() == [f"! {BAD_LOGIN_TEXT}"]
    alice.send("/login new-password")
    assert alice.lines() == ["*** You are now logged in as alice."]
    alice.send("/unregister new-password")
    assert alice.lines() == ["*** The account alice has been deleted; you are logged out."]
    assert alice.user.account == ""
    assert net.storage is not None and net.storage.account("alice") is None


def test_ghost_frees_ones_nick(net: MemoryNetwork) -> None:
    registered(net)
    stale = net.plain("alice")  # an old connection, never logged in
    drain(stale)
    me = net.plain("alice_")
    me.send("/ghost alice")
    assert me.lines() == ["! Log in to your account first, then ghost its nickname"]
    me.send(f"/login alice {PW}")
    drain(me)
    me.send("/ghost bob")
    assert me.lines() == ["! Nobody is using bob"]
    me.send("/ghost alice")
    lines = me.lines()
    assert lines[-1] == "*** alice has been disconnected."
    assert stale.sink.closed
    assert "*** Closing connection: GHOST command used by alice_" in stale.lines()
    me.send("/nick alice")
    assert me.lines() == ["*** alice_ is now known as alice"]


# -- nick protection ------------------------------------------------------------------------


def test_registered_nick_is_renamed_after_the_grace(net: MemoryNetwork) -> None:
    registered(net)
    watcher = net.plain("bob")
    taker = net.connect("plain")
    taker.send("alice")
    lines = taker.lines()
    assert (
        "*** The nickname alice is registered: log in within 30 seconds (/login PASSWORD) "
        "or you will be renamed."
    ) in lines
    drain(watcher)
    net.advance(29)
    assert taker.lines() == []
    net.advance(1)
    guest = taker.user.nick
    assert guest.startswith("Guest") and guest[5:].isdigit()
    assert taker.lines() == [
        f"-NickServ- You did not log in in time: you are now {guest}.",
        f"*** alice is now known as {guest}",
    ]
    assert watcher.lines() == [f"*** alice is now known as {guest}"]


def test_logging_in_cancels_the_rename(net: MemoryNetwork) -> None:
    registered(net)
    taker = irc_pre(net, "")
    taker.send("CAP END")
    assert any(
        line.startswith(f"{NS} alice :This nickname is registered. Log in within 30 seconds")
        for line in taker.lines()
    )
    taker.send(f"PRIVMSG NickServ :IDENTIFY {PW}")
    assert taker.lines() == [
        f":{S} 900 alice alice!~alice@localhost alice :You are now logged in as alice",
        f"{NS} alice :You are now logged in as alice.",
    ]
    net.advance(60)
    assert taker.user.nick == "alice"


def test_nick_change_to_registered_nick_and_away_again(net: MemoryNetwork) -> None:
    registered(net)
    bob = net.plain("bob")
    bob.send("/nick alice")
    assert bob.lines()[1].startswith("*** The nickname alice is registered")
    bob.send("/nick bob")
    drain(bob)
    net.advance(31)
    assert bob.lines() == [] and bob.user.nick == "bob"


def test_grace_is_not_restarted_by_a_change_of_case(net: MemoryNetwork) -> None:
    registered(net)
    bob = net.plain("alice")
    net.advance(20)
    bob.send("/nick ALICE")
    drain(bob)
    net.advance(10)
    assert bob.user.nick.startswith("Guest")


def test_service_nicks_are_reserved(net: MemoryNetwork) -> None:
    bob = net.plain("bob")
    bob.send("/nick nickserv")
    assert bob.lines() == ["! The nickname nickserv is taken; pick another"]


# -- NickServ -------------------------------------------------------------------------------


def test_nickserv_commands(net: MemoryNetwork) -> None:
    alice = net.irc("alice")
    alice.send(f"PRIVMSG NickServ :REGISTER {PW}")
    assert alice.lines() == [
        f":{S} 900 alice alice!~alice@localhost alice :You are now logged in as alice",
        f"{NS} alice :Account alice registered; you are now logged in.",
    ]
    alice.send("PRIVMSG NickServ :INFO")
    assert alice.lines() == [
        f"{NS} alice :alice is a registered account.",
        f"{NS} alice :Online now as alice.",
    ]
    alice.send("NS INFO nobody")
    assert alice.lines() == [f"{NS} alice :nobody is not registered."]
    alice.send("PRIVMSG NickServ :FROB")
    assert alice.lines() == [
        f"{NS} alice :Unknown command FROB. /msg NickServ HELP lists the commands."
    ]
    alice.send("PRIVMSG NickServ :GHOST")
    assert alice.lines() == [f"{NS} alice :Syntax: GHOST <nick>"]
    alice.send("PRIVMSG NickServ :HELP")
    assert len(alice.lines()) == 9
    alice.send("NOTICE NickServ :IDENTIFY x")
    assert alice.lines() == []
    alice.send("PRIVMSG NickServ :LOGOUT")
    lines = alice.lines()
    assert lines[:2] == [
        f":{S} 901 alice alice!~alice@localhost :You are now logged out",
        f"{NS} alice :You are now logged out of alice.",
    ]


def test_messages_to_nickserv_are_not_stored(net: MemoryNetwork) -> None:
    alice = net.plain("alice")
    alice.send(f"/msg NickServ REGISTER {PW}")
    assert alice.lines() == ["-NickServ- Account alice registered; you are now logged in."]
    assert net.storage is not None
    assert net.storage.query("a:alice", "nickserv", limit=10, latest=True) == []


def test_a_netcat_login_reads_one_welcome(net: MemoryNetwork) -> None:
    """Greeting, 001 and the MOTD used to say "Welcome" three times; now only 001 does."""
    registered(net)
    alice = net.connect("plain")
    alice.send("alice")
    alice.send(f"/login {PW}")
    lines = alice.lines()
    assert lines[0].startswith("*** This is ircish.local. Type a nickname")
    assert [x for x in lines if "welcome" in x.lower()] == [
        "*** Welcome to ircish, alice! Type /help for the commands."
    ]
    assert lines[-1] == "*** You are now logged in as alice."


def test_an_irc_sasl_login_reads_one_welcome(net: MemoryNetwork) -> None:
    registered(net)
    client = irc_pre(net)
    client.send("AUTHENTICATE PLAIN")
    client.send("AUTHENTICATE " + b64(f"\0alice\0{PW}".encode()))
    client.send("CAP END")
    welcomes = [x for x in client.lines() if "welcome" in x.lower()]
    assert welcomes == [f":{S} 001 alice :Welcome to the ircish IRC Network alice!~alice@localhost"]


# -- SASL -----------------------------------------------------------------------------------


def test_sasl_plain_before_registration(net: MemoryNetwork) -> None:
    registered(net)
    client = net.connect("irc")
    client.send("CAP LS 302")
    ls = client.lines()[0]
    assert "sasl=PLAIN,SCRAM-SHA-256" in ls.split(" :", 1)[1].split()
    assert "draft/account-registration" in ls and "account-notify" in ls and "account-tag" in ls
    client.send("CAP REQ :sasl")
    client.send("NICK alice")
    client.send("USER alice 0 * :Alice")
    drain(client)
    client.send("AUTHENTICATE PLAIN")
    assert client.lines() == ["AUTHENTICATE +"]
    client.send("AUTHENTICATE " + b64(f"\0alice\0{PW}".encode()))
    assert client.lines() == [
        f":{S} 900 alice alice!~alice@localhost alice :You are now logged in as alice",
        f":{S} 903 alice :SASL authentication successful",
    ]
    client.send("CAP END")
    lines = client.lines()
    assert lines[0].startswith(f":{S} 001 alice :Welcome")
    # Logged in to the nick's account: no protection notice.
    assert not any("NickServ" in line for line in lines)
    assert client.user.account == "alice"


def test_sasl_plain_failures(net: MemoryNetwork) -> None:
    registered(net)
    client = irc_pre(net)
    client.send("AUTHENTICATE PLAIN")
    drain(client)
    client.send("AUTHENTICATE " + b64(b"\0alice\0wrong-password"))
    assert client.lines() == [f":{S} 904 alice :SASL authentication failed"]
    client.send("AUTHENTICATE PLAIN")
    client.send("AUTHENTICATE " + b64(b"\0nobody\0wrong-password"))
    assert client.lines()[-1] == f":{S} 904 alice :SASL authentication failed"
    client.send("AUTHENTICATE PLAIN")
    client.send("AUTHENTICATE *")
    assert client.lines()[-1] == f":{S} 906 alice :SASL authentication aborted"
    client.send("AUTHENTICATE EXTERNAL")
    assert client.lines() == [
        f":{S} 908 alice PLAIN,SCRAM-SHA-256 :are available SASL mechanisms",
        f":{S} 904 alice :SASL authentication failed: EXTERNAL is not offered",
    ]
    client.send("AUTHENTICATE PLAIN")
    client.send("AUTHENTICATE " + "A" * 401)
    assert client.lines()[-1] == f":{S} 905 alice :SASL message too long"
    client.send("AUTHENTICATE PLAIN")
    client.send("AUTHENTICATE !!!!")
    assert client.lines()[-1] == f":{S} 904 alice :SASL authentication failed: invalid base64"
    client.send("AUTHENTICATE PLAIN")
    client.send("AUTHENTICATE " + b64(b"alice\0alice\0wrong-again"))
    assert client.lines()[-1] == f":{S} 904 alice :SASL authentication failed"
    # Three wrong passwords from this address: even the right one waits a minute.
    client.send("AUTHENTICATE PLAIN")
    client.send("AUTHENTICATE " + b64(f"\0alice\0{PW}".encode()))
    assert client.lines()[-1] == f":{S} 904 alice :SASL authentication failed: {THROTTLED_TEXT}"


def test_sasl_exactly_400_then_plus(net: MemoryNetwork) -> None:
    # 300 payload bytes are exactly 400 base64 characters.
    password = "q" * (300 - len("\0alice\0"))
    config = replace(Config(), accounts=AccountsConfig(min_password_length=8))
    net = MemoryNetwork(config, storage=True)
    alice = net.plain("alice")
    alice.send(f"/register {password}")
    assert alice.lines() == ["*** Account alice registered; you are now logged in."]
    alice.send("/quit")
    client = irc_pre(net)
    client.send("AUTHENTICATE PLAIN")
    drain(client)
    encoded = b64(f"\0alice\0{password}".encode())
    assert len(encoded) == 400
    client.send("AUTHENTICATE " + encoded)
    assert client.lines() == []  # waiting for the rest
    client.send("AUTHENTICATE +")
    assert client.lines()[-1] == f":{S} 903 alice :SASL authentication successful"


def _scram_login(client: MemoryClient, password: str) -> list[str]:
    scram = scramp.ScramClient(["SCRAM-SHA-256"], "alice", password)
    client.send("AUTHENTICATE SCRAM-SHA-256")
    assert client.lines() == ["AUTHENTICATE +"]
    client.send("AUTHENTICATE " + b64(scram.get_client_first().encode()))
    (line,) = client.lines()
    assert line.startswith("AUTHENTICATE ")
    scram.set_server_first(base64.b64decode(line.split()[1]).decode())
    client.send("AUTHENTICATE " + b64(scram.get_client_final().encode()))
    lines = client.lines()
    if len(lines) == 1 and lines[0].startswith("AUTHENTICATE "):
        scram.set_server_final(base64.b64decode(lines[0].split()[1]).decode())
        client.send("AUTHENTICATE +")
        return client.lines()
    return lines


def test_sasl_scram_sha_256(net: MemoryNetwork) -> None:
    registered(net)
    client = irc_pre(net)
    assert _scram_login(client, PW) == [
        f":{S} 900 alice alice!~alice@localhost alice :You are now logged in as alice",
        f":{S} 903 alice :SASL authentication successful",
    ]
    client.send("CAP END")
    assert client.lines()[0].startswith(f":{S} 001 alice ")


def test_sasl_scram_wrong_password_and_unknown_name_look_alike(net: MemoryNetwork) -> None:
    registered(net)
    client = irc_pre(net)
    assert _scram_login(client, "wrong-password") == [f":{S} 904 alice :SASL authentication failed"]
    other = net.connect("irc", host="10.1.1.1")
    other.send("CAP REQ :sasl")
    other.send("NICK zed")
    other.send("USER zed 0 * :Zed")
    drain(other)
    scram = scramp.ScramClient(["SCRAM-SHA-256"], "nobody", "whatever-pw")
    other.send("AUTHENTICATE SCRAM-SHA-256")
    other.send("AUTHENTICATE " + b64(scram.get_client_first().encode()))
    line = other.lines()[-1]
    scram.set_server_first(base64.b64decode(line.split()[1]).decode())
    other.send("AUTHENTICATE " + b64(scram.get_client_final().encode()))
    assert other.lines() == [f":{S} 904 zed :SASL authentication failed"]


def test_sasl_when_already_logged_in(net: MemoryNetwork) -> None:
    alice = net.irc("alice", caps="sasl")
    alice.send(f"REGISTER * * {PW}")
    drain(alice)
    alice.send("AUTHENTICATE PLAIN")
    assert alice.lines() == [f":{S} 907 alice :You have already authenticated using SASL"]


# -- IRCv3 account-registration, notify, tag, WHOIS, WHOX ----------------------------------


def test_register_command(net: MemoryNetwork) -> None:
    pre = net.connect("irc")
    pre.send("NICK early")
    pre.send(f"REGISTER * * {PW}")
    assert pre.lines() == [
        f":{S} FAIL REGISTER COMPLETE_CONNECTION_REQUIRED :Register your account after connecting"
    ]
    alice = net.irc("alice", caps="draft/account-registration")
    alice.send(f"REGISTER bob * {PW}")
    assert alice.lines() == [
        f":{S} FAIL REGISTER ACCOUNT_NAME_MUST_BE_NICK bob "
        ":You can only register your current nickname (alice)"
    ]
    alice.send("REGISTER * * short")
    assert alice.lines() == [
        f":{S} FAIL REGISTER WEAK_PASSWORD alice :Passwords need at least 8 characters"
    ]
    alice.send("REGISTER * * :pass word")
    assert alice.lines() == [
        f":{S} FAIL REGISTER UNACCEPTABLE_PASSWORD alice "
        ":Passwords may not contain spaces or control characters"
    ]
    alice.send(f"REGISTER * * {PW}")
    assert alice.lines() == [
        f":{S} 900 alice alice!~alice@localhost alice :You are now logged in as alice",
        f":{S} REGISTER SUCCESS alice :Account alice registered; you are now logged in.",
    ]
    alice.send(f"REGISTER * * {PW}")
    assert alice.lines() == [
        f":{S} FAIL REGISTER ALREADY_AUTHENTICATED alice :You are already logged in as alice"
    ]
    alice.send("VERIFY alice 1234")
    assert alice.lines() == [
        f":{S} FAIL VERIFY ALREADY_AUTHENTICATED alice :You are already logged in as alice"
    ]


def test_account_notify_tag_extended_join_whois_whox(net: MemoryNetwork) -> None:
    bob = net.irc("bob", caps="account-notify account-tag extended-join message-tags")
    bob.send("JOIN #dev")
    alice = net.irc("alice")
    alice.send("JOIN #dev")
    drain(bob, alice)
    alice.send(f"REGISTER * * {PW}")
    (line,) = bob.lines()
    assert line.startswith("@msgid=") and line.endswith(" :alice!~alice@localhost ACCOUNT alice")
    alice.send("PRIVMSG #dev :hi")
    (line,) = bob.lines()
    assert line.startswith("@msgid=") and ";account=alice " in line
    assert line.endswith(" :alice!~alice@localhost PRIVMSG #dev :hi")
    alice.send("PART #dev")
    alice.send("JOIN #dev")
    assert bob.lines()[-1].endswith(" :alice!~alice@localhost JOIN #dev alice :alice real")
    bob.send("WHOIS alice")
    assert f":{S} 330 bob alice alice :is logged in as" in bob.lines()
    bob.send("WHO #dev %na")
    assert f":{S} 354 bob alice alice" in bob.lines()
    alice.send("LOGOUT")
    (line,) = bob.lines()
    assert line.endswith(" :alice!~alice@localhost ACCOUNT *")
    # Without the caps nothing of it shows.
    carol = net.irc("carol")
    carol.send("JOIN #dev")
    drain(carol)
    alice.send("LOGIN " + PW)
    assert carol.lines() == []


# -- storage off ----------------------------------------------------------------------------


def test_without_storage_accounts_are_unavailable() -> None:
    net = MemoryNetwork()
    client = net.connect("irc")
    client.send("CAP LS 302")
    ls = client.lines()[0]
    for cap in ("sasl", "account-notify", "account-tag", "draft/account-registration"):
        assert cap not in ls.split(" :", 1)[1].split()
    client.send("CAP REQ :sasl")
    assert client.lines() == [f":{S} CAP * NAK :sasl"]
    client.send("NICK alice")
    client.send("USER alice 0 * :Alice")
    client.send("CAP END")
    drain(client)
    client.send("AUTHENTICATE PLAIN")
    assert client.lines() == [
        f":{S} 904 alice :SASL authentication failed: Accounts are not available on this server"
    ]
    client.send(f"REGISTER * * {PW}")
    assert client.lines() == [
        f":{S} FAIL REGISTER ACCOUNTS_UNAVAILABLE alice :Accounts are not available on this server"
    ]
    client.send(f"PRIVMSG NickServ :IDENTIFY {PW}")
    assert client.lines() == [f"{NS} alice :Accounts are not available on this server"]
    plain = net.plain("bob")
    for line in (f"/register {PW}", f"/login {PW}", "/logout", "/ghost x", "/passwd a b"):
        plain.send(line)
        assert plain.lines() == ["! Accounts are not available on this server"], line


# -- last seen, missed mail -------------------------------------------------------------------


def test_last_seen_is_kept_when_the_last_client_leaves(net: MemoryNetwork) -> None:
    alice = net.plain("alice")
    alice.send(f"/register {PW}")
    drain(alice)
    net.advance(100)
    alice.send("/quit")
    assert net.storage is not None
    account = net.storage.account(fold("alice"))
    assert account is not None and account.last_seen == net.now
