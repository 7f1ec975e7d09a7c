"""/set, /ignore and logging to disk: what the user sees, and what lands in the files."""

from __future__ import annotations

import stat
from datetime import datetime
from pathlib import Path

import pytest

from ircish.client.commands import UsageError, execute, saved_values
from ircish.client.irc import IrcClient
from ircish.client.logfile import LogBook, file_name
from ircish.client.model import LineKind
from ircish.client.settings import SETTINGS, ClientSettings, load_settings
from tests.client.conftest import fake_irc, feed, registered, run, running_app, wait_until

BOB = ":bob!~bob@bob.example"
EVIL = ":mallory!~m@evil.example"


@pytest.fixture(autouse=True)
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path


@pytest.fixture
def client() -> IrcClient:
    return registered(members="bob mallory")


def texts(client: IrcClient, name: str) -> list[str]:
    buf = client.model.find(name)
    assert buf is not None
    return [line.text for line in buf.lines]


def last_info(client: IrcClient) -> str:
    return client.model.current.lines[-1].text


# -- /set ---------------------------------------------------------------------------------


def test_set_lists_the_settings(client: IrcClient) -> None:
    execute(client, "/set")
    line = client.model.current.lines[-1]
    assert line.kind is LineKind.TABLE and line.table is not None
    names = [row[0] for row in line.table.rows]
    assert names == ["highlights", "show_joins", "fold_joins", "mouse", "log"]
    assert line.table.rows[1][1].startswith("on ")


def test_set_highlights_makes_words_mentions(client: IrcClient) -> None:
    feed(client, f"{BOB} PRIVMSG #lobby :rust is great")
    assert not client.model.current.lines[-1].mention
    execute(client, "/set highlights rust, Ferris")
    assert last_info(client).startswith("highlights is rust Ferris")
    feed(client, f"{BOB} PRIVMSG #lobby :I like RUST", f"{BOB} PRIVMSG #lobby :ferris!")
    feed(client, f"{BOB} PRIVMSG #lobby :rusty is not a word of ours")
    lines = list(client.model.current.lines)[-3:]
    assert [line.mention for line in lines] == [True, True, False]
    # Our own nickname still highlights.
    feed(client, f"{BOB} PRIVMSG #lobby :alice: hi")
    assert client.model.current.lines[-1].mention
    execute(client, "/set highlights -")
    assert last_info(client).startswith("highlights is (none)")


def test_set_show_joins_off_hides_others_comings_and_goings(client: IrcClient) -> None:
    execute(client, "/set show_joins off")
    assert last_info(client).startswith("show_joins is off")
    feed(
        client,
        ":carol!~c@h JOIN #lobby",
        ":carol!~c@h PART #lobby :bye",
        f"{BOB} QUIT :gone",
        ":dave!~d@h PRIVMSG #lobby :still shown",
    )
    shown = texts(client, "#lobby")
    assert not any("carol" in t or "gone" in t for t in shown)
    assert shown[-1] == "still shown"
    # Membership is still kept.
    assert "bob" not in client.model.current.members
    execute(client, "/set show_joins on")
    feed(client, ":carol!~c@h JOIN #lobby")
    assert "carol" in texts(client, "#lobby")[-1]


def test_set_fold_joins_on_folds_a_run_of_comings_and_goings(client: IrcClient) -> None:
    assert client.model.fold_joins is False
    execute(client, "/set fold_joins on")
    assert last_info(client).startswith("fold_joins is on")
    assert client.model.fold_joins is True
    execute(client, "/set fold_joins off")
    assert client.model.fold_joins is False


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        (
            "/set colour red",
            "There is no setting 'colour' "
            "(there is: highlights, show_joins, fold_joins, mouse, log)",
        ),
        ("/set log maybe", "Usage: /set log on|off"),
    ],
)
def test_set_refuses_what_it_does_not_know(client: IrcClient, typed: str, error: str) -> None:
    before = (client.model.show_joins, client.model.logbook)
    with pytest.raises(UsageError) as exc:
        execute(client, typed)
    assert str(exc.value) == error
    assert (client.model.show_joins, client.model.logbook) == before


# -- /ignore ------------------------------------------------------------------------------


def test_ignored_nick_is_not_shown_anywhere(client: IrcClient) -> None:
    execute(client, "/ignore mallory")
    assert last_info(client) == (
        "Ignoring mallory!*@*: their messages, notices and CTCP are hidden"
    )
    before = len(client.model.buffers)
    sent = feed(
        client,
        f"{EVIL} PRIVMSG #lobby :room spam",
        f"{EVIL} PRIVMSG #lobby :\x01ACTION spams\x01",
        f"{EVIL} PRIVMSG alice :private spam",
        f"{EVIL} NOTICE alice :notice spam",
        f"{EVIL} PRIVMSG alice :\x01VERSION\x01",
        f"{EVIL} INVITE alice #trap",
    )
    assert sent == []  # no CTCP reply
    assert len(client.model.buffers) == before  # no private buffer opened
    everything = [t for buf in client.model.buffers for t in (x.text for x in buf.lines)]
    assert not any("spam" in t or "VERSION" in t or "trap" in t for t in everything)
    # Others are shown; joins and parts of the ignored user still keep the member list right.
    feed(client, f"{BOB} PRIVMSG #lobby :hello")
    assert texts(client, "#lobby")[-1] == "hello"


def test_ignore_by_host_mask_and_unignore(client: IrcClient) -> None:
    execute(client, "/ignore *!*@EVIL.example")
    feed(client, f"{EVIL} PRIVMSG #lobby :hidden")
    assert "hidden" not in texts(client, "#lobby")
    execute(client, "/ignore")
    assert last_info(client) == "You ignore: *!*@EVIL.example"
    execute(client, "/unignore *!*@evil.example")
    assert last_info(client) == "No longer ignoring *!*@EVIL.example"
    feed(client, f"{EVIL} PRIVMSG #lobby :shown again")
    assert texts(client, "#lobby")[-1] == "shown again"
    with pytest.raises(UsageError, match="You do not ignore bob"):
        execute(client, "/unignore bob")
    execute(client, "/ignore")
    assert last_info(client) == "You ignore nobody (/ignore NICK to start)"


def test_nick_masks_with_brackets_match_literally(client: IrcClient) -> None:
    execute(client, "/ignore [m]allory")
    feed(client, f"{EVIL} PRIVMSG #lobby :not ignored", ":[m]allory!~x@h PRIVMSG #lobby :ignored")
    assert texts(client, "#lobby")[-1] == "not ignored"


def test_one_never_ignores_oneself(client: IrcClient) -> None:
    execute(client, "/ignore *")
    feed(client, ":alice!~alice@h PRIVMSG #lobby :my echo", f"{BOB} PRIVMSG #lobby :hidden")
    assert texts(client, "#lobby")[-1] == "my echo"


def test_ignored_history_is_hidden(client: IrcClient) -> None:
    client.model.ignore("mallory")
    batch = [
        ":srv BATCH +h chathistory #lobby",
        f"@batch=h;msgid=1;time=2024-05-01T12:00:00.000Z {EVIL} PRIVMSG #lobby :old spam",
        f"@batch=h;msgid=2;time=2024-05-01T12:00:01.000Z {BOB} PRIVMSG #lobby :old hello",
        ":srv BATCH -h",
    ]
    feed(client, *batch)
    shown = texts(client, "#lobby")
    assert "old hello" in shown and "old spam" not in shown


# -- logging ------------------------------------------------------------------------------


def test_logging_is_off_by_default_and_set_log_on_writes_private_files(
    client: IrcClient, xdg: Path
) -> None:
    feed(client, f"{BOB} PRIVMSG #lobby :before logging")
    logs = xdg / "data" / "ircish" / "logs"
    assert not logs.exists()
    execute(client, "/set log on")
    assert last_info(client).startswith(f"log is on, in {logs / 'testnet'}")
    feed(
        client,
        f"{BOB} PRIVMSG #lobby :\x02bold\x02 and \x034,1red\x03 \x1b[31mescape",
        f"{BOB} PRIVMSG #lobby :\x01ACTION waves\x01",
        f"{BOB} PRIVMSG alice :psst\r\nfake line",
        ":carol!~c@h JOIN #Lobby",
    )
    room = logs / "testnet" / "#lobby.log"
    lines = room.read_text().splitlines()
    stamp = datetime(2024, 5, 1, 12, 30).astimezone().isoformat(timespec="seconds")
    assert f"{stamp} <bob> bold and red [31mescape" in lines
    assert f"{stamp} * bob waves" in lines
    assert any(line.startswith(f"{stamp} --> carol") for line in lines)
    assert not any("before logging" in line for line in lines)
    assert all(ch.isprintable() for line in lines for ch in line)
    query = (logs / "testnet" / "bob.log").read_text().splitlines()
    assert query == [f"{stamp} <bob> psstfake line"]
    for path in (logs, logs / "testnet"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
    for path in (room, logs / "testnet" / "bob.log"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # The server buffer has one file whatever its name (the address, then the network).
    feed(client, ":srv NOTICE alice :server says")
    server_log = (logs / "testnet" / "@server.log").read_text().splitlines()
    assert server_log[-1] == f"{stamp} -srv- server says"
    execute(client, "/set log off")
    feed(client, f"{BOB} PRIVMSG #lobby :after logging")
    assert "after logging" not in room.read_text()


def test_buffer_names_cannot_leave_the_log_directory(tmp_path: Path) -> None:
    assert file_name("../../etc/passwd") == "_.._etc_passwd"
    assert file_name("..") == "_"
    assert file_name("#rust") == "#rust"
    book = LogBook(tmp_path / "logs", "../server")
    assert book.path("../x").parent == tmp_path / "logs" / "_server"


def test_a_failing_disk_turns_logging_off_with_one_line(client: IrcClient, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    errors: list[str] = []
    client.model.logbook = LogBook(blocker, "srv", enabled=True, on_error=errors.append)
    feed(client, f"{BOB} PRIVMSG #lobby :one", f"{BOB} PRIVMSG #lobby :two")
    assert len(errors) == 1 and errors[0].startswith("Logging turned off: cannot write")
    assert texts(client, "#lobby")[-2:] == ["one", "two"]
    assert not client.model.logbook.enabled


def test_config_file_settings_in_the_running_app(xdg: Path) -> None:
    """log, ignore and highlights from the file, against a real socket."""
    settings = ClientSettings(log=True, ignore=("mallory",), highlights=("rust",))

    async def body() -> None:
        async with (
            fake_irc() as server,
            running_app(server.port, settings=settings, server_name="home") as h,
        ):
            await wait_until(lambda: h.model.current.name == "#lobby", "#lobby")
            server.send(f"{EVIL} PRIVMSG #lobby :spam")
            server.send(f"{EVIL} PRIVMSG alice :private spam")
            server.send(f"{BOB} PRIVMSG #lobby :rust rocks")
            await h.wait_text("rust rocks", "#lobby")
            assert not any("spam" in t for t in h.texts("#lobby"))
            assert h.model.find("mallory") is None
            assert h.model.current.lines[-1].mention
            h.type("my own line\r")
            log = xdg / "data" / "ircish" / "logs" / "home" / "#lobby.log"
            await wait_until(lambda: log.exists() and "my own line" in log.read_text(), "log")
            text = log.read_text()
            assert "<bob> rust rocks" in text and "<alice> my own line" in text
            assert "spam" not in text

    run(body())


# -- /save ----------------------------------------------------------------------------------

KEPT = """\
# alice's client
nick = "alice"          # the usual one
default_server = "home"
show_joins = true

[colours]
title = "bold #ffffff"

[servers.home]
host = "irc.home.example"   # at home
rooms = ["#rust"]
"""


def test_save_writes_the_settings_and_keeps_the_rest_of_the_file(
    client: IrcClient, tmp_path: Path
) -> None:
    path = tmp_path / "client.toml"
    path.write_text(KEPT)
    path.chmod(0o640)
    client.model.config_path = path
    for line in (
        "/set highlights rust ferris",
        "/set show_joins off",
        "/set mouse off",
        "/ignore spammer *!*@evil.example",
    ):
        execute(client, line)
    execute(client, "/save")
    assert last_info(client) == (
        f"Saved highlights, show_joins, fold_joins, mouse, log, ignore to {path} "
        "(the rest of the file is unchanged)"
    )
    text = path.read_text()
    # The comments, servers and colours are as they were; the settings are the session's.
    for kept in ("# alice's client", '"alice"          # the usual one', "# at home"):
        assert kept in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    cfg = load_settings(path)
    assert cfg.nick == "alice" and cfg.default_server == "home"
    assert cfg.colours == {"title": "bold #ffffff"}
    assert cfg.servers["home"].host == "irc.home.example"
    assert cfg.servers["home"].rooms == ("#rust",)
    assert cfg.highlights == ("rust", "ferris")
    assert (cfg.show_joins, cfg.fold_joins, cfg.mouse, cfg.log) == (False, False, False, False)
    assert cfg.ignore == ("spammer", "*!*@evil.example")
    assert text.count("show_joins") == 1  # changed where it was, not added twice


def test_save_without_a_file_creates_the_default_one_privately(
    client: IrcClient, xdg: Path
) -> None:
    execute(client, "/set fold_joins on")
    execute(client, "/save")
    path = xdg / "config" / "ircish" / "client.toml"
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings(path).fold_joins is True
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_save_through_a_symlink_rewrites_the_file_it_points_to(
    client: IrcClient, tmp_path: Path
) -> None:
    real = tmp_path / "dotfiles" / "client.toml"
    real.parent.mkdir()
    real.write_text('nick = "alice"\n')
    link = tmp_path / "client.toml"
    link.symlink_to(real)
    client.model.config_path = link
    execute(client, "/set mouse off")
    execute(client, "/save")
    assert link.is_symlink()
    assert load_settings(real).mouse is False and load_settings(real).nick == "alice"


def test_save_refuses_a_file_that_is_no_longer_toml_and_changes_nothing(
    client: IrcClient, tmp_path: Path
) -> None:
    path = tmp_path / "client.toml"
    path.write_text("nick = [unclosed\n")
    client.model.config_path = path
    with pytest.raises(UsageError, match=r"^Not saved: .*not valid TOML.*nothing was written"):
        execute(client, "/save")
    assert path.read_text() == "nick = [unclosed\n"
    assert [p.name for p in tmp_path.iterdir()] == ["client.toml"]  # no temporary file left


def test_saved_values_cover_every_setting(client: IrcClient) -> None:
    assert set(saved_values(client)) == {*SETTINGS, "ignore"}
