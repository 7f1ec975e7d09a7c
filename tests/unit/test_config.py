"""Configuration: the example file is the manual, and bad input is refused clearly."""

from __future__ import annotations

import re
import tomllib
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import pytest

from ircish import cli
from ircish.config import (
    AccountsConfig,
    ClusterConfig,
    Config,
    ConfigError,
    HistoryConfig,
    LimitsConfig,
    ListenerConfig,
    LoggingConfig,
    MetricsConfig,
    ServerConfig,
    StorageConfig,
    TlsConfig,
    WebConfig,
    config_from_dict,
    default_value,
    load_config,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"

#: Section name in the file -> the dataclass it configures.
SECTIONS: dict[str, type] = {
    "server": ServerConfig,
    "listeners": ListenerConfig,
    "limits": LimitsConfig,
    "logging": LoggingConfig,
    "storage": StorageConfig,
    "history": HistoryConfig,
    "accounts": AccountsConfig,
    "tls": TlsConfig,
    "metrics": MetricsConfig,
    "cluster": ClusterConfig,
    "web": WebConfig,
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ircish.toml"
    path.write_text(text, encoding="utf-8")
    return path


def config_error(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        config_from_dict(data)
    return str(info.value)


# -- the example file ------------------------------------------------------------


def test_example_file_loads_to_the_defaults() -> None:
    assert load_config(EXAMPLE) == Config()


def test_no_file_means_defaults() -> None:
    assert load_config(None) == Config()


#: Sections the example documents only in comments: a working value would be a secret.
COMMENTED_OUT = {"operators"}


def test_example_file_covers_every_section() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    assert set(data) == {f.name for f in fields(Config)} - COMMENTED_OUT == set(SECTIONS)
    for name in COMMENTED_OUT:
        assert f"# [[{name}]]" in text
    assert isinstance(data["listeners"], list)
    # The first documents every key; the second is the built-in web listener.
    assert len(data["listeners"]) == 2
    assert data["listeners"][1] == {"host": "127.0.0.1", "port": 8080}


@pytest.mark.parametrize(
    ("section", "name"),
    [(s, f.name) for s, cls in SECTIONS.items() for f in fields(cls)],
)
def test_example_file_sets_every_key_to_its_default(section: str, name: str) -> None:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    table = data[section][0] if section == "listeners" else data[section]
    assert name in table, f"config.example.toml lacks {section}.{name}"
    value = table[name]
    default = default_value(SECTIONS[section], name)
    if isinstance(default, tuple):
        default = list(default)  # TOML's arrays are loaded as tuples
    assert value == default
    # Write floats as floats, so readers see that fractions are allowed.
    assert type(value) is type(default)


def test_example_file_documents_every_key() -> None:
    """Every ``key = value`` line has a comment right above it."""
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    keys = 0
    for i, line in enumerate(lines):
        if re.match(r"^[a-z_]+ = ", line):
            keys += 1
            above = lines[i - 1]
            assert above.startswith("# "), f"line {i + 1} ({line!r}) has no comment above it"
    expected = sum(len(fields(cls)) for cls in SECTIONS.values())
    web_listener = tomllib.loads("\n".join(lines))["listeners"][1]
    assert keys == expected + len(web_listener)


def test_example_file_has_no_keys_the_server_does_not_know() -> None:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    for section, cls in SECTIONS.items():
        table = data[section][0] if section == "listeners" else data[section]
        assert set(table) <= {f.name for f in fields(cls)}


def test_every_config_field_is_a_known_section() -> None:
    # A new section in config.py must be added to the example file and to SECTIONS.
    for f in fields(Config):
        assert f.name in SECTIONS or f.name in COMMENTED_OUT
    for cls in SECTIONS.values():
        assert is_dataclass(cls)


# -- loading files ---------------------------------------------------------------


def test_partial_file_keeps_other_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[server]\nname = "chat.example.org"\n[limits]\nidle_timeout = 600\n',
    )
    cfg = load_config(path)
    assert cfg.server.name == "chat.example.org"
    assert cfg.server.network == "ircish"
    assert cfg.limits.idle_timeout == 600.0
    assert isinstance(cfg.limits.idle_timeout, float)
    assert cfg.limits.max_line_bytes == 512
    assert cfg.listeners == Config().listeners


def test_several_listeners(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[[listeners]]\nport = 6667\n"
        '[[listeners]]\nhost = "0.0.0.0"\nport = 7000\ndialect = "plain"\n',
    )
    cfg = load_config(path)
    assert cfg.listeners == (
        ListenerConfig(port=6667),
        ListenerConfig(host="0.0.0.0", port=7000, dialect="plain"),
    )


def test_multiline_motd(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nmotd = """\nline one\nline two"""\n')
    assert load_config(path).server.motd == "line one\nline two"


def test_empty_file_is_all_defaults(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "")) == Config()


def test_invalid_toml(tmp_path: Path) -> None:
    path = write(tmp_path, "[server\nname = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML") as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="cannot read") as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path)


# -- validation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"sever": {}}, "sever"),
        ({"server": {"nmae": "x"}}, "server.nmae"),
        ({"limits": {"max_line": 100}}, "limits.max_line"),
        ({"logging": {"file": "x.log"}}, "logging.file"),
        ({"listeners": [{"port": 1, "tls": True}]}, "listeners[0].tls"),
        ({"listeners": [{}, {"bind": "x"}]}, "listeners[1].bind"),
    ],
)
def test_unknown_key_is_named(data: dict[str, Any], key: str) -> None:
    message = config_error(data)
    assert message.startswith(f"{key}: unknown key")


def test_unknown_key_lists_the_known_ones() -> None:
    message = config_error({"logging": {"lvl": "info"}})
    assert message == "logging.lvl: unknown key (known keys here: format, level, log_messages)"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"limits": {"max_line_bytes": "512"}},
            "limits.max_line_bytes: expected an integer, got '512'",
        ),
        (
            {"limits": {"max_line_bytes": True}},
            "limits.max_line_bytes: expected an integer, got True",
        ),
        (
            {"limits": {"max_line_bytes": 512.0}},
            "limits.max_line_bytes: expected an integer, got 512.0",
        ),
        ({"server": {"name": 5}}, "server.name: expected a string, got 5"),
        ({"server": {"motd": ["a", "b"]}}, "server.motd: expected a string, got ['a', 'b']"),
        (
            {"server": {"auto_join_irc": "yes"}},
            "server.auto_join_irc: expected true or false, got 'yes'",
        ),
        (
            {"server": {"auto_join_irc": 1}},
            "server.auto_join_irc: expected true or false, got 1",
        ),
        (
            {"limits": {"idle_timeout": "60"}},
            "limits.idle_timeout: expected a number, got '60'",
        ),
        (
            {"limits": {"idle_timeout": False}},
            "limits.idle_timeout: expected a number, got False",
        ),
        ({"listeners": [{"port": "6667"}]}, "listeners[0].port: expected an integer, got '6667'"),
        ({"listeners": [{"host": 127}]}, "listeners[0].host: expected a string, got 127"),
        ({"server": "ircish"}, "server: expected a table, got 'ircish'"),
        ({"limits": 5}, "limits: expected a table, got 5"),
        ({"listeners": {"port": 1}}, "listeners: expected an array of tables, got {'port': 1}"),
        ({"listeners": [5]}, "listeners[0]: expected a table, got 5"),
    ],
)
def test_wrong_type(data: dict[str, Any], message: str) -> None:
    assert config_error(data) == message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"limits": {"max_line_bytes": 10}},
            "limits.max_line_bytes: expected a value between 64 and 65536, got 10",
        ),
        (
            {"limits": {"max_line_bytes": 65537}},
            "limits.max_line_bytes: expected a value between 64 and 65536, got 65537",
        ),
        (
            {"limits": {"max_nick_length": 0}},
            "limits.max_nick_length: expected a value between 1 and 200, got 0",
        ),
        (
            {"limits": {"idle_timeout": -1}},
            "limits.idle_timeout: expected a value between 0 and 604800, got -1.0",
        ),
        (
            {"limits": {"detect_timeout": 30.5}},
            "limits.detect_timeout: expected a value between 0 and 30, got 30.5",
        ),
        (
            {"limits": {"sendq_bytes": 100}},
            "limits.sendq_bytes: expected a value between 1024 and 1.07374e+09, got 100",
        ),
        (
            {"listeners": [{"port": 70000}]},
            "listeners[0].port: expected a value between 0 and 65535, got 70000",
        ),
        (
            {"listeners": [{"port": -1}]},
            "listeners[0].port: expected a value between 0 and 65535, got -1",
        ),
    ],
)
def test_out_of_range(data: dict[str, Any], message: str) -> None:
    assert config_error(data) == message


@pytest.mark.parametrize(
    ("section", "cls"), [("limits", LimitsConfig), ("listeners", ListenerConfig)]
)
def test_range_bounds_are_inclusive(section: str, cls: type) -> None:
    for f in fields(cls):
        lo, hi = f.metadata.get("min"), f.metadata.get("max")
        if lo is None:
            continue
        tp = type(default_value(cls, f.name))
        for value in (tp(lo), tp(hi)):
            table = {f.name: value}
            data = {section: [table] if section == "listeners" else table}
            # A 2-character room name limit would reject the default room.
            data["server"] = {"default_room": ""}
            cfg = config_from_dict(data)
            got = cfg.listeners[0] if section == "listeners" else cfg.limits
            assert getattr(got, f.name) == value


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"listeners": [{"dialect": "x"}]},
            "listeners[0].dialect: expected one of 'auto', 'plain', 'irc', 'http', got 'x'",
        ),
        (
            {"listeners": [{"dialect": "IRC"}]},
            "listeners[0].dialect: expected one of 'auto', 'plain', 'irc', 'http', got 'IRC'",
        ),
        (
            {"logging": {"level": "verbose"}},
            "logging.level: expected one of 'debug', 'info', 'warning', 'error', got 'verbose'",
        ),
        (
            {"logging": {"level": 10}},
            "logging.level: expected one of 'debug', 'info', 'warning', 'error', got 10",
        ),
    ],
)
def test_bad_choice(data: dict[str, Any], message: str) -> None:
    assert config_error(data) == message


@pytest.mark.parametrize("dialect", ["auto", "plain", "irc"])
def test_every_dialect_is_accepted(dialect: str) -> None:
    cfg = config_from_dict({"listeners": [{"dialect": dialect}]})
    assert cfg.listeners[0].dialect == dialect


@pytest.mark.parametrize("room", ["lobby", "#", "#a b", "#a,b", "#a:b", "#a\x07", "&lobby"])
def test_bad_default_room(room: str) -> None:
    message = config_error({"server": {"default_room": room}})
    assert message.startswith("server.default_room: expected a room name starting with '#'")
    assert repr(room) in message


def test_default_room_longer_than_the_limit() -> None:
    data = {"server": {"default_room": "#" + "x" * 20}, "limits": {"max_room_name_length": 10}}
    message = config_error(data)
    assert message.startswith("server.default_room:")
    # The name itself is fine; the message must say what is wrong with it: its length.
    assert "10" in message, message


@pytest.mark.parametrize("room", ["", "#general", "#комната"])
def test_good_default_room(room: str) -> None:
    assert config_from_dict({"server": {"default_room": room}}).server.default_room == room


@pytest.mark.parametrize("name", ["", "my server"])
def test_bad_server_name(name: str) -> None:
    message = config_error({"server": {"name": name}})
    assert message == f"server.name: expected a name without spaces, got {name!r}"


def test_empty_listeners_array() -> None:
    assert config_error({"listeners": []}) == "listeners: expected at least one entry"


def test_empty_listeners_array_in_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^listeners: expected at least one entry$"):
        load_config(write(tmp_path, "listeners = []\n"))


def test_errors_in_files_name_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[limits]\nmax_rooms_per_user = "many"\n')
    with pytest.raises(ConfigError, match=r"^limits\.max_rooms_per_user: expected an integer"):
        load_config(path)


# -- overrides -------------------------------------------------------------------


def test_with_overrides_changes_the_first_listener_only() -> None:
    base = config_from_dict({"listeners": [{"port": 6667}, {"port": 7000, "host": "::"}]})
    cfg = base.with_overrides(host="0.0.0.0", port=6700)
    assert cfg.listeners[0] == ListenerConfig(host="0.0.0.0", port=6700)
    assert cfg.listeners[1] == ListenerConfig(host="::", port=7000)
    assert base.listeners[0].port == 6667, "the original is frozen and unchanged"


def test_host_moves_the_built_in_web_listener_too() -> None:
    cfg = Config().with_overrides(host="0.0.0.0", port=7000)
    assert cfg.listeners == (
        ListenerConfig(host="0.0.0.0", port=7000),
        ListenerConfig(host="0.0.0.0", port=8080),
    )
    assert Config().with_overrides(web_port=0).listeners[1] == ListenerConfig(port=0)
    with pytest.raises(ConfigError, match=r"^--web-port: there is no second"):
        config_from_dict({"listeners": [{}]}).with_overrides(web_port=0)
    with pytest.raises(ConfigError, match=r"^listeners\[1\]\.port: expected a value between"):
        Config().with_overrides(web_port=70000)


def test_with_overrides_one_at_a_time() -> None:
    cfg = Config()
    assert cfg.with_overrides(port=7000).listeners[0] == ListenerConfig(port=7000)
    assert cfg.with_overrides(host="::1").listeners[0] == ListenerConfig(host="::1")
    assert cfg.with_overrides(log_level="debug").logging.level == "debug"
    assert cfg.with_overrides(log_level="debug").listeners == cfg.listeners


def test_with_no_overrides_is_unchanged() -> None:
    cfg = config_from_dict({"server": {"name": "x.example"}})
    assert cfg.with_overrides() == cfg


def test_with_overrides_validates() -> None:
    with pytest.raises(ConfigError, match=r"^listeners\[0\]\.port: expected a value between"):
        Config().with_overrides(port=70000)
    with pytest.raises(ConfigError, match=r"^logging\.level: expected one of"):
        Config().with_overrides(log_level="loud")


def test_config_is_frozen() -> None:
    cfg = Config()
    with pytest.raises(AttributeError):
        cfg.server = ServerConfig()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        cfg.limits.max_line_bytes = 1  # type: ignore[misc]


# -- the command line ------------------------------------------------------------


def test_cli_exits_2_on_a_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "[limits]\nmax_line_bytes = 1\n")
    assert cli.main(["--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "configuration error" in err
    assert "limits.max_line_bytes" in err


def test_cli_exits_2_on_a_missing_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--config", str(tmp_path / "missing.toml")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_cli_exits_2_on_a_bad_port_override(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--port", "99999"]) == 2
    assert "listeners[0].port" in capsys.readouterr().err
