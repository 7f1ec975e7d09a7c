"""The metrics settings, and the rule that the core never imports the HTTP or Prometheus code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ircish.config import Config, ConfigError, MetricsConfig, config_from_dict
from ircish.metrics import ERROR_NUMERICS, Counters
from ircish.net.http import Request, Response
from ircish.protocol import numerics as n

PACKAGE = Path(__file__).resolve().parents[2] / "ircish"


def test_metrics_are_off_by_default() -> None:
    assert Config().metrics == MetricsConfig(listen="")


@pytest.mark.parametrize(
    ("listen", "address"),
    [
        ("127.0.0.1:9667", ("127.0.0.1", 9667)),
        ("0.0.0.0:0", ("0.0.0.0", 0)),
        ("localhost:9667", ("localhost", 9667)),
        ("[::1]:9667", ("::1", 9667)),
    ],
)
def test_listen_addresses(listen: str, address: tuple[str, int]) -> None:
    cfg = config_from_dict({"metrics": {"listen": listen}})
    assert cfg.metrics.address == address


@pytest.mark.parametrize(
    "listen",
    # The last port is a fullwidth digit: isdigit() says yes, int() would take it.
    ["9667", "127.0.0.1", "127.0.0.1:", ":9667", "::1:9667", "host:99999", "h:\uff19"],
)
def test_bad_listen_addresses_are_refused(listen: str) -> None:
    with pytest.raises(ConfigError) as info:
        config_from_dict({"metrics": {"listen": listen}})
    assert str(info.value) == (
        f"metrics.listen: expected HOST:PORT (e.g. 127.0.0.1:9667 or [::1]:9667), got {listen!r}"
    )


def test_unknown_metrics_keys_are_refused() -> None:
    with pytest.raises(
        ConfigError, match=r"metrics\.port: unknown key \(known keys here: listen\)"
    ):
        config_from_dict({"metrics": {"port": 9667}})
    with pytest.raises(ConfigError, match=r"metrics\.listen: expected a string, got 9667"):
        config_from_dict({"metrics": {"listen": 9667}})


def test_error_numerics_are_the_err_codes() -> None:
    assert {n.ERR_UNKNOWNCOMMAND, n.ERR_NICKNAMEINUSE, n.ERR_SASLFAIL} <= ERROR_NUMERICS
    assert n.RPL_WELCOME not in ERROR_NUMERICS
    assert n.RPL_LOGGEDIN not in ERROR_NUMERICS


def test_counters_start_at_zero_with_known_labels() -> None:
    m = Counters()
    assert m.connections_refused == {"dline": 0, "server_full": 0, "per_ip": 0, "connect_rate": 0}
    assert set(m.internal_errors) == {"command", "delivery", "connection", "loop", "cluster"}
    assert m.command_stats("PRIVMSG") is m.command_stats("PRIVMSG")


def test_requests_and_responses() -> None:
    assert Request("GET", "/metrics?x=1").path == "/metrics"
    assert Response.error(404).body == b"404 Not Found\n"
    assert Response.error(405, ("Allow", "GET")).headers == (("Allow", "GET"),)


#: Modules the chat core is made of, below the network layer.
BELOW_NET = ["core", "dialects", "protocol", "storage", "session.py", "metrics.py", "flood.py"]


def _third_party_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
    return names


def test_only_the_network_layer_imports_prometheus_client_and_h11() -> None:
    files = [
        f
        for part in BELOW_NET
        for f in (
            [PACKAGE / part] if part.endswith(".py") else sorted((PACKAGE / part).rglob("*.py"))
        )
    ]
    assert len(files) > 20
    bad = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in files
        for name in _third_party_imports(path) & {"prometheus_client", "h11"}
    ]
    assert not bad
