"""Look-alike nicknames over real sockets: refused to an IRC library and to netcat users.

The IRC side is jaraco's ``irc`` library (third-party code parsing the 433);
the netcat side reads the exact line a person would. The second test restarts
``python -m ircish`` in the same directory: the look-alike index of registered
accounts is rebuilt from the database.
"""

# Look-alike letters are the point of these cases.
# ruff: noqa: RUF001, RUF003

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.e2e_support import ServerProcess, plain_sync, wait
from tests.e2e.test_irc_clients import Library
from tests.helpers import LineClient, RunningServer

CYRILLIC = "bуs_р1"  # Cyrillic у and р
FULLWIDTH = "ｂys_p1"
PW = "correct-horse-battery"


@pytest.fixture
def library(server: RunningServer) -> Iterator[Library]:
    lib = Library(server)
    yield lib
    lib.close()


def test_an_irc_library_and_a_netcat_user_are_refused_lookalikes(
    server: RunningServer, library: Library, clients: list[LineClient]
) -> None:
    bys = server.plain("bys_p1")
    clients.append(bys)

    lib = library.connect(CYRILLIC, welcome=False)
    refused = lib.wait("433")
    assert refused.arguments == [
        CYRILLIC,
        f"{CYRILLIC} looks too much like bys_p1, who is online: pick another nickname",
    ]
    lib.conn.nick("carol")
    assert lib.wait("001").target == "carol"

    human = server.client()
    clients.append(human)
    human.expect(r"Type a nickname")
    human.send(FULLWIDTH)
    assert human.expect(r"^! ") == f"! The nickname {FULLWIDTH} is taken; pick another"
    human.send(CYRILLIC)
    assert human.expect(r"^! ") == (
        f"! {CYRILLIC} looks too much like bys_p1, who is online: pick another nickname"
    )
    human.send("dave")
    human.expect(r"^\*\*\* Welcome to .*, dave!")
    # bys_p1 saw dave arrive, and nothing of the refused attempts.
    assert plain_sync(bys) == ["*** dave joined #lobby"]


def test_lookalikes_of_an_account_are_refused_after_a_restart(
    procs: list[ServerProcess], clients: list[LineClient], tmp_path: Path
) -> None:
    first = ServerProcess(cwd=tmp_path)
    procs.append(first)
    owner = first.client()
    clients.append(owner)
    owner.send("bob")
    owner.expect(r"^\*\*\* Welcome to ircish, bob! ")
    owner.send(f"/register {PW}")
    owner.expect(r"^\*\*\* Account bob registered; you are now logged in\.$")
    first.signal(signal.SIGTERM)
    assert first.wait() == 0

    second = ServerProcess(cwd=tmp_path)
    procs.append(second)
    human = second.client()
    clients.append(human)
    human.send("B0b")
    assert human.expect(r"^! ") == (
        "! B0b looks too much like the registered nickname bob: pick another nickname"
    )
    irc = second.client()
    clients.append(irc)
    irc.send("NICK b0b")
    irc.send("USER b0b 0 * :b0b")
    refused = wait(irc, "433")
    assert refused.params[1:] == (
        "b0b",
        "b0b looks too much like the registered nickname bob: pick another nickname",
    )
    irc.send("NICK robert")
    assert re.match(r"^:\S+ 001 robert ", irc.expect(r" 001 "))
