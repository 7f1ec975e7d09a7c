"""The client's config file (client.toml) and the command line over it."""

from __future__ import annotations

import socket
import stat
from pathlib import Path
from typing import Any

import pytest

from ircish.client import app as app_module
from ircish.client.app import ChatApp, main
from ircish.client.settings import (
    ClientSettings,
    SettingsError,
    default_config_path,
    default_log_dir,
    load_settings,
    resolve_password,
    settings_from_dict,
)


@pytest.fixture(autouse=True)
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own XDG directories (never the user's real files)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("IRCISH_ACCOUNT", raising=False)
    monkeypatch.delenv("IRCISH_PASSWORD", raising=False)
    return tmp_path


def write_config(text: str, mode: int = 0o600) -> Path:
    path = default_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err.strip()


class Started:
    """What main() would have run: ``_run`` replaced, the app built but not started."""

    def __init__(self) -> None:
        self.host = ""
        self.port = 0
        self.tls = False
        self.app: ChatApp | None = None

    async def __call__(self, host: str, port: int, tls: Any, make_app: Any) -> int:
        self.host, self.port, self.tls = host, port, tls is not None
        self.app = make_app()
        return 0


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> Started:
    fake = Started()
    monkeypatch.setattr(app_module, "_run", fake)
    return fake


# -- where the file is -------------------------------------------------------------------


def test_paths_follow_xdg(xdg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_config_path() == xdg / "config" / "ircish" / "client.toml"
    assert default_log_dir() == xdg / "data" / "ircish" / "logs"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", "relative/is/ignored")
    assert default_config_path() == Path.home() / ".config" / "ircish" / "client.toml"
    assert default_log_dir() == Path.home() / ".local" / "share" / "ircish" / "logs"


def test_a_missing_default_file_is_fine() -> None:
    assert load_settings() == ClientSettings()


def test_a_missing_config_option_file_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(tmp_path / "nope.toml")]) == 2
    assert one_line_error(capsys) == (
        f"ircish: configuration error: cannot read {tmp_path / 'nope.toml'}: "
        "No such file or directory"
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("nick = ", "not valid TOML"),
        ("nik = 'bob'", "nik: unknown key"),
        ("log = 'yes'", "log: expected true or false, got 'yes'"),
        ("highlights = 'rust'", "highlights: expected an array of strings"),
        ("nick = 'no spaces'", "nick: 'no spaces' is not a valid nickname"),
        ("ignore = ['a b']", "ignore[0]: expected a nickname or a nick!user@host mask"),
        ("[servers.home]\nhots = 'x'", "servers.home.hots: unknown key"),
        ("[servers.home]\nport = 70000", "servers.home.port: expected a value between 0 and 65535"),
        ("[servers.home]\nrooms = ['rust']", "servers.home.rooms[0]: expected a room name"),
        (
            "[servers.home]\npassword_env = 'A'\npassword_command = 'b'",
            "servers.home: give one of password_env, password_command, not several",
        ),
        ("[colours]\nbanner = 'bold'", "colours.banner: unknown key"),
        ("[colours]\ntitle = 'bg:#zzz'", "colours.title: not a style: 'bg:#zzz'"),
        ("default_server = 'work'", "default_server: no [servers.work] entry"),
    ],
)
def test_a_bad_file_is_one_line_and_exit_2(
    text: str, error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(text)
    assert main([]) == 2
    line = one_line_error(capsys)
    assert line.startswith(f"ircish: configuration error: {path}: "), line
    assert error in line


def test_a_plain_password_only_from_a_private_file() -> None:
    text = "[servers.home]\naccount = 'alice'\npassword = 'hunter2'\n"
    write_config(text, mode=0o644)
    with pytest.raises(SettingsError) as exc:
        load_settings()
    assert "servers.home.password: the file is readable by others (chmod 600 it)" in str(exc.value)
    assert "hunter2" not in str(exc.value)
    write_config(text, mode=0o600)
    cfg = load_settings()
    assert resolve_password(cfg.servers["home"], "home") == "hunter2"


def test_password_from_the_environment_or_a_command(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = settings_from_dict(
        {
            "servers": {
                "env": {"password_env": "MY_IRC_PASSWORD"},
                "cmd": {"password_command": "printf 's3cret\\nsecond line\\n'"},
                "fails": {"password_command": "exit 3"},
            }
        }
    )
    monkeypatch.delenv("MY_IRC_PASSWORD", raising=False)
    with pytest.raises(SettingsError, match=r"servers.env.password_env: \$MY_IRC_PASSWORD is not"):
        resolve_password(cfg.servers["env"], "env")
    monkeypatch.setenv("MY_IRC_PASSWORD", "from-env")
    assert resolve_password(cfg.servers["env"], "env") == "from-env"
    assert resolve_password(cfg.servers["cmd"], "cmd") == "s3cret"
    with pytest.raises(SettingsError, match="exited with status 3"):
        resolve_password(cfg.servers["fails"], "fails")


# -- what the file and the command line choose --------------------------------------------

CONFIG = """
nick = "alice"
highlights = ["rust", "ferris"]
ignore = ["spammer", "*!*@evil.example"]
show_joins = false
fold_joins = true
mouse = false

[servers.home]
host = "irc.home.example"
port = 7000
account = "alice_acct"
password_env = "HOME_IRC_PASSWORD"
rooms = ["#rust", "#dev"]

[servers.secure]
host = "irc.secure.example"
tls = true
nick = "alicia"
"""


def test_ircish_name_connects_to_the_entry(
    started: Started, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(CONFIG)
    monkeypatch.setenv("HOME_IRC_PASSWORD", "pw")
    assert main(["home"]) == 0
    assert (started.host, started.port, started.tls) == ("irc.home.example", 7000, False)
    assert started.app is not None
    client, model = started.app.client, started.app.model
    assert model.nick == "alice"
    assert client.account == "alice_acct"
    assert client.account_password == "pw"
    assert [room for room, _ in client._joining.values()] == ["#rust", "#dev"]
    assert model.highlight_words == ("rust", "ferris")
    assert model.ignores == ["spammer!*@*", "*!*@evil.example"]
    assert model.show_joins is False
    assert model.fold_joins is True
    assert model.mouse is False and not started.app.application.mouse_support()
    assert model.logbook is not None and not model.logbook.enabled
    assert model.logbook.directory == default_log_dir() / "home"


def test_the_command_line_overrides_the_file(
    started: Started, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(CONFIG)
    monkeypatch.setenv("IRCISH_PASSWORD", "typed")
    argv = ["home", "--nick", "bob", "--join", "#other", "--account", "bobby", "--tls"]
    assert main(argv) == 0
    assert (started.host, started.port, started.tls) == ("irc.home.example", 7000, True)
    assert started.app is not None
    client = started.app.client
    assert started.app.model.nick == "bob"
    assert client.account == "bobby"
    assert client.account_password == "typed"
    assert [room for room, _ in client._joining.values()] == ["#other"]


def test_a_tls_entry_uses_6697_and_its_own_nick(started: Started) -> None:
    write_config(CONFIG)
    assert main(["secure", "--join", ""]) == 0
    assert (started.host, started.port, started.tls) == ("irc.secure.example", 6697, True)
    assert started.app is not None
    assert started.app.model.nick == "alicia"
    assert started.app.client._joining == {}


def test_an_address_is_still_an_address(started: Started) -> None:
    write_config('default_server = "home"\n' + CONFIG)
    assert main(["127.0.0.1:6668"]) == 0
    assert (started.host, started.port) == ("127.0.0.1", 6668)
    assert started.app is not None
    # Without an entry: the file's nick and the built-in room.
    assert started.app.model.nick == "alice"
    assert [room for room, _ in started.app.client._joining.values()] == ["#lobby"]


def test_default_server_is_used_without_an_address(
    started: Started, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config('default_server = "secure"\n' + CONFIG)
    assert main([]) == 0
    assert started.host == "irc.secure.example"


def test_missing_password_env_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    write_config(CONFIG)
    assert main(["home"]) == 2
    assert one_line_error(capsys) == (
        "ircish: configuration error: servers.home.password_env: $HOME_IRC_PASSWORD is not set"
    )


def test_the_entry_is_really_dialled(capsys: pytest.CaptureFixture[str]) -> None:
    """``ircish NAME`` opens a TCP connection to the entry's host and port."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        write_config(f'[servers.local]\nhost = "127.0.0.1"\nport = {port}\n')
        # Not a terminal: it connects, then says so.
        assert main(["local"]) == 2
        listener.settimeout(5)
        conn, _ = listener.accept()
        conn.close()
    assert one_line_error(capsys) == "ircish: needs a terminal (stdin and stdout must be a tty)"


def test_colours_change_the_theme(started: Started) -> None:
    write_config('[colours]\ntitle = "bg:#870000 #ffffff bold"\n')
    assert main(["127.0.0.1"]) == 0
    assert started.app is not None
    attrs = started.app.application.style.get_attrs_for_style_str("class:title")
    assert attrs.bgcolor == "870000" and attrs.bold
    # Keys not set keep the built-in look.
    status = started.app.application.style.get_attrs_for_style_str("class:status")
    assert status.bgcolor == "303030"


def test_the_config_file_is_only_read(xdg: Path) -> None:
    path = write_config(CONFIG, mode=0o600)
    before = path.stat()
    load_settings()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.stat().st_mtime_ns == before.st_mtime_ns


def test_an_entry_tls_ca_is_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing-ca.pem"
    write_config(f'[servers.corp]\nhost = "127.0.0.1"\ntls_ca = "{missing}"\n')
    assert main(["corp"]) == 2
    assert one_line_error(capsys).startswith(f"ircish: cannot use servers.corp.tls_ca {missing}: ")
