"""docs/client.md documents every key binding, configuration key and /set setting.

The lists come from the code (the application's real key bindings, the settings
dataclasses, ``SETTINGS``), so a new key or setting without its documentation fails.
"""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.keys import Keys
from prompt_toolkit.output import DummyOutput

from ircish.client.app import build
from ircish.client.commands import CLIENT_COMMANDS
from ircish.client.settings import COLOUR_CLASSES, SETTINGS, ClientSettings, ServerEntry

DOC = (Path(__file__).parents[2] / "docs" / "client.md").read_text()
#: How the docs name prompt_toolkit's keys.
NAMES = {
    Keys.ControlI: "Tab",
    Keys.BackTab: "Shift+Tab",
    Keys.ControlM: "Enter",
    Keys.PageUp: "PageUp",
    Keys.PageDown: "PageDown",
    Keys.Escape: "Esc",
}


def key_name(keys: tuple[Keys | str, ...]) -> str:
    *mods, last = keys
    if isinstance(last, Keys):
        name = NAMES.get(last) or last.value
        if name.startswith("c-"):
            name = "Ctrl+" + name[2:].upper()
        name = name[0].upper() + name[1:]
    else:
        name = last.upper() if mods else last
    return "Alt+" + name if mods == [Keys.Escape] else name


def section(title: str) -> str:
    return DOC.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_every_key_binding_is_in_the_keys_table() -> None:
    keys = section("Keys")
    with create_pipe_input() as inp:
        app = build("127.0.0.1", 1, "alice", (), input=inp, output=DummyOutput())
        bindings = app.application.key_bindings.bindings
    names = {key_name(b.keys) for b in bindings if b.keys[0] not in (Keys.Any, Keys.BracketedPaste)}
    # Alt+1 .. Alt+9, Alt+0 is one row.
    digits = {f"Alt+{d}" for d in "0123456789"}
    assert digits <= names and "Alt+1 .. Alt+9, Alt+0" in keys
    missing = [
        n for n in sorted(names - digits) if not re.search(rf"(?<![\w+]){re.escape(n)}(?!\w)", keys)
    ]
    assert not missing, f"keys not in docs/client.md's Keys table: {missing}"
    assert "wheel" in keys and "click" in keys.lower()


def test_every_configuration_key_is_documented() -> None:
    config = section("The configuration file")
    for f in fields(ClientSettings):
        shown = f"`[{f.name}]`" if f.name == "colours" else f"`{f.name}`"
        if f.name == "servers":
            shown = "`[servers.NAME]`"
        assert f"| {shown} |" in config, f.name
    for f in fields(ServerEntry):
        assert f"| `{f.name}` |" in config, f"servers.NAME.{f.name}"
    for key in COLOUR_CLASSES:
        assert f"`{key}`" in config, f"colours.{key}"


def test_every_set_setting_is_documented() -> None:
    for name in SETTINGS:
        assert f"/set {name} " in DOC, name
        assert f"| `{name}` |" in section("The configuration file"), name


def test_every_client_command_is_documented() -> None:
    commands = section("Commands")
    for name in CLIENT_COMMANDS:
        assert f"| `/{name}" in commands, f"/{name}"
