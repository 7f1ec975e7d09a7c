"""docs/protocol.md lists every command, capability, ISUPPORT token and numeric the code has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ircish.config import Config
from ircish.core.caps import CAPABILITIES
from ircish.core.dispatch import COMMANDS
from ircish.core.replies import _isupport_tokens
from ircish.protocol import numerics

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = DOC.index(f"## {title}")
    end = DOC.find("\n## ", start + 1)
    return DOC[start : end if end > 0 else None]


NUMERICS = sorted(
    {v for k, v in vars(numerics).items() if k.isupper() and isinstance(v, str) and v.isdigit()}
)
DOCUMENTED_NUMERICS = {
    code
    for row in re.findall(r"^\| ([\d /]+) \|", _section("Numerics"), re.M)
    for code in re.findall(r"\d{3}", row)
}


@pytest.mark.parametrize("code", NUMERICS)
def test_every_named_numeric_is_in_the_numerics_table(code: str) -> None:
    assert code in DOCUMENTED_NUMERICS


@pytest.mark.parametrize("cap", sorted(CAPABILITIES))
def test_every_capability_is_described(cap: str) -> None:
    assert f"| `{cap}`" in _section("Capabilities (IRCv3)")


@pytest.mark.parametrize("token", sorted(t.split("=")[0] for t in _isupport_tokens(Config())))
def test_every_isupport_token_is_described(token: str) -> None:
    assert f"| `{token}` |" in _section("ISUPPORT (005)")


@pytest.mark.parametrize("verb", sorted(COMMANDS))
def test_every_command_is_in_the_commands_table(verb: str) -> None:
    assert re.search(rf"^\| `{verb}\b", _section("Commands"), re.M)
