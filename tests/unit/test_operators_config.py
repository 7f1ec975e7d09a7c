"""The ``[[operators]]`` configuration, its example section, and ``--hash-password``.

Operators are configured with argon2 hashes only: a plaintext password in the
file is refused at startup with one line naming the key (and not showing the
value). The hashing command line is run as a real process, fed on stdin.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import argon2
import pytest

from ircish.config import (
    Config,
    ConfigError,
    OperatorConfig,
    config_from_dict,
    default_value,
    load_config,
)
from ircish.core import passwords

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config.example.toml"


def cheap_hash(password: str) -> str:
    """A real argon2id hash with tiny parameters, so tests stay fast."""
    return argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(password)


HASH = cheap_hash("s3cret")
OTHER = cheap_hash("other")


def op(**keys: Any) -> dict[str, Any]:
    return {"name": "admin", "password_hash": HASH, **keys}


def config_error(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        config_from_dict(data)
    return str(info.value)


# -- loading ----------------------------------------------------------------------


def test_no_operators_by_default() -> None:
    assert Config().operators == ()
    assert default_value(Config, "operators") == ()
    assert default_value(OperatorConfig, "host") == "*"


@pytest.mark.parametrize(
    ("operators", "expected"),
    [
        ([], ()),
        ([op()], (OperatorConfig("admin", HASH, "*"),)),
        ([op(host="~alice@127.0.0.1")], (OperatorConfig("admin", HASH, "~alice@127.0.0.1"),)),
        ([op(host="alice!*@10.0.*")], (OperatorConfig("admin", HASH, "alice!*@10.0.*"),)),
        (
            [op(), op(name="root", password_hash=OTHER, host="*@::1")],
            (OperatorConfig("admin", HASH), OperatorConfig("root", OTHER, "*@::1")),
        ),
    ],
    ids=["empty", "one", "user@host", "nick!user@host", "two"],
)
def test_good_operators(operators: list[dict[str, Any]], expected: tuple[Any, ...]) -> None:
    cfg = config_from_dict({"operators": operators})
    assert cfg.operators == expected
    # Config is hashed for caches; tuples of frozen dataclasses keep it so.
    assert hash(cfg) == hash(config_from_dict({"operators": operators}))


def test_operators_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "ircish.toml"
    path.write_text(
        f"[[operators]]\nname = 'admin'\npassword_hash = '{HASH}'\n"
        f"[[operators]]\nname = 'root'\npassword_hash = '{OTHER}'\nhost = '~root@127.0.0.1'\n",
        encoding="utf-8",
    )
    cfg = load_config(path)
    assert cfg.operators == (
        OperatorConfig("admin", HASH),
        OperatorConfig("root", OTHER, "~root@127.0.0.1"),
    )
    assert cfg.listeners == Config().listeners


@pytest.mark.parametrize(
    ("operators", "message"),
    [
        (
            [{"password_hash": HASH}],
            "operators[0].name: missing (this key has no default)",
        ),
        (
            [{"name": "admin"}],
            "operators[0].password_hash: missing (this key has no default)",
        ),
        (
            [op(), {"name": "root"}],
            "operators[1].password_hash: missing (this key has no default)",
        ),
        (
            [op(password="s3cret")],
            "operators[0].password: unknown key (known keys here: host, name, password_hash)",
        ),
        ([op(name=5)], "operators[0].name: expected a string, got 5"),
        ([op(host=["*"])], "operators[0].host: expected a string, got ['*']"),
        ([op(name="")], "operators[0].name: expected a name without spaces, got ''"),
        (
            [op(name="an admin")],
            "operators[0].name: expected a name without spaces, got 'an admin'",
        ),
        ([op(name=":admin")], "operators[0].name: expected a name without spaces, got ':admin'"),
        (
            [op(name="ad\x07min")],
            "operators[0].name: expected a name without spaces, got 'ad\\x07min'",
        ),
        (
            [op(), op(name="ADMIN", password_hash=OTHER)],
            "operators[1].name: 'ADMIN' is already the name of operators[0]",
        ),
        (
            [op(host="localhost")],
            "operators[0].host: expected '*' or a mask like user@host or nick!user@host, "
            "got 'localhost'",
        ),
        (
            [op(host="a b@c")],
            "operators[0].host: expected '*' or a mask like user@host or nick!user@host, "
            "got 'a b@c'",
        ),
        ([5], "operators[0]: expected a table, got 5"),
        ({"name": "admin"}, "operators: expected an array of tables, got {'name': 'admin'}"),
    ],
)
def test_bad_operators(operators: Any, message: str) -> None:
    assert config_error({"operators": operators}) == message


PLAINTEXT = "hunter2-do-not-show"


@pytest.mark.parametrize(
    "value",
    [
        PLAINTEXT,
        "",
        "$argon2id$" + PLAINTEXT,
        "$argon2id$v=19$m=65536,t=3,p=4$" + PLAINTEXT,
        "$2b$12$" + "a" * 53,  # bcrypt: a hash, but not one this server checks
        "pbkdf2_sha256$" + PLAINTEXT,
        HASH[len("$argon2id") :],
    ],
    ids=["plain", "empty", "prefix-only", "truncated", "bcrypt", "pbkdf2", "no-prefix"],
)
def test_a_value_that_is_not_an_argon2_hash_is_refused(value: str) -> None:
    message = config_error({"operators": [op(password_hash=value)]})
    assert message == (
        "operators[0].password_hash: expected an argon2 hash (make one with "
        "ircish-server --hash-password), not a plaintext password"
    )
    assert PLAINTEXT not in message


def test_a_plaintext_password_in_a_file_exits_2_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(f"[[operators]]\nname = 'admin'\npassword_hash = '{PLAINTEXT}'\n")
    result = subprocess.run(
        [sys.executable, "-m", "ircish", "--config", str(path), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "ircish-server: configuration error: operators[0].password_hash: expected an argon2 "
        "hash (make one with ircish-server --hash-password), not a plaintext password"
    ]
    assert PLAINTEXT not in result.stderr + result.stdout


# -- the example file ------------------------------------------------------------------


def _example_operators_section() -> str:
    """The commented-out ``[[operators]]`` table of the example, uncommented."""
    text = EXAMPLE.read_text(encoding="utf-8")
    start = text.index("# [[operators]]")
    out = []
    for line in text[start:].splitlines():
        assert line.startswith("#"), f"the operators section must stay commented out: {line!r}"
        out.append(line[2:] if line.startswith("# ") else line[1:])
    return "\n".join(out) + "\n"


def test_example_operators_section_is_commented_out() -> None:
    # Loading the example unchanged gives the defaults: no operators.
    assert "operators" not in tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert load_config(EXAMPLE).operators == ()


def test_example_operators_section_documents_every_key() -> None:
    section = _example_operators_section()
    table = tomllib.loads(section)["operators"][0]
    assert set(table) == {"name", "password_hash", "host"}
    assert table["host"] == default_value(OperatorConfig, "host")
    lines = section.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^[a-z_]+ = ", line):
            assert lines[i - 1].startswith("# "), f"{line!r} has no comment above it"


def test_example_operators_section_needs_a_real_hash() -> None:
    section = _example_operators_section()
    # As printed, the placeholder is refused: nobody runs with it by mistake.
    with pytest.raises(ConfigError, match=r"^operators\[0\]\.password_hash: expected an argon2"):
        config_from_dict(tomllib.loads(section))
    filled = re.sub(r'password_hash = ".*"', f'password_hash = "{HASH}"', section)
    cfg = config_from_dict(tomllib.loads(filled))
    assert cfg.operators == (OperatorConfig("admin", HASH, "*"),)


# -- passwords ---------------------------------------------------------------------------


def test_hash_and_verify() -> None:
    hashed = passwords.hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert passwords.is_argon2_hash(hashed)
    assert passwords.verify_password(hashed, "correct horse")
    assert not passwords.verify_password(hashed, "correct horse ")
    assert not passwords.verify_password(hashed, "")


@pytest.mark.parametrize("bad", ["", "nonsense", "$argon2id$", HASH[:-10]])
def test_verify_against_a_malformed_hash_is_a_mismatch(bad: str) -> None:
    assert not passwords.verify_password(bad, "s3cret")


def test_decoy_hash_has_the_same_parameters_and_matches_nothing_known() -> None:
    decoy = passwords.decoy_hash(HASH)
    assert decoy != HASH
    assert argon2.extract_parameters(decoy) == argon2.extract_parameters(HASH)
    assert passwords.decoy_hash(HASH) == decoy, "made once per parameter set"
    assert not passwords.verify_password(decoy, "s3cret")


# -- ircish-server --hash-password --------------------------------------------------------


def hash_cli(stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ircish", "--hash-password"],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
        check=False,
    )


@pytest.mark.parametrize(
    ("stdin", "password"),
    [
        ("s3cret\n", "s3cret"),
        ("s3cret", "s3cret"),
        ("s3cret\r\n", "s3cret"),
        ("two words \n", "two words "),
        ("пароль\nsecond line is ignored\n", "пароль"),
    ],
    ids=["line", "no-newline", "crlf", "spaces-kept", "first-line-only"],
)
def test_hash_password_reads_stdin(stdin: str, password: str) -> None:
    result = hash_cli(stdin)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout.splitlines()
    assert len(out) == 1
    hashed = out[0]
    assert passwords.is_argon2_hash(hashed)
    assert passwords.verify_password(hashed, password)
    assert password.strip() not in result.stdout
    # What it prints is accepted as is by the configuration.
    cfg = config_from_dict({"operators": [{"name": "admin", "password_hash": hashed}]})
    assert cfg.operators[0].password_hash == hashed


@pytest.mark.parametrize("stdin", ["", "\n", "\r\n"], ids=["eof", "empty-line", "empty-crlf"])
def test_hash_password_refuses_an_empty_password(stdin: str) -> None:
    result = hash_cli(stdin)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == "ircish-server: the password is empty; nothing was hashed\n"


def test_hash_password_hashes_are_salted() -> None:
    first, second = hash_cli("same\n").stdout, hash_cli("same\n").stdout
    assert first != second


def _on_a_terminal(*answers: str) -> tuple[int, str]:
    """Run ``--hash-password`` on a pseudo-terminal, answering each prompt in turn."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child becomes the server process
        os.chdir(REPO)
        os.execv(sys.executable, [sys.executable, "-m", "ircish", "--hash-password"])
    output = b""
    pending = list(answers)
    deadline = time.monotonic() + 30
    prompts = 0
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            seen = output.count(b": ")
            if pending and seen > prompts:
                prompts = seen
                os.write(fd, pending.pop(0).encode() + b"\n")
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output.decode("utf-8", "replace")


def test_hash_password_on_a_terminal_asks_twice() -> None:
    code, output = _on_a_terminal("tty pass", "tty pass")
    assert code == 0, output
    assert "Operator password: " in output
    assert "Again: " in output
    assert "tty pass" not in output, "getpass must not echo the password"
    hashed = output.strip().splitlines()[-1].strip()
    assert passwords.verify_password(hashed, "tty pass")


def test_hash_password_on_a_terminal_refuses_two_different_passwords() -> None:
    code, output = _on_a_terminal("one", "two")
    assert code == 2
    assert "the two passwords differ; nothing was hashed" in output
    assert "$argon2" not in output
