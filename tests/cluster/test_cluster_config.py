"""``[cluster]``: its keys, their defaults, and Redis URLs parsed or refused clearly."""

from __future__ import annotations

import socket
from dataclasses import replace
from typing import Any

import pytest

from ircish.config import (
    ClusterConfig,
    Config,
    ConfigError,
    RedisAddress,
    StorageConfig,
    config_from_dict,
    parse_redis_url,
)
from ircish.net.server import Server
from tests.cluster.redis_support import RedisServer
from tests.helpers import RunningServer


def cluster_error(table: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        config_from_dict({"cluster": table})
    return str(info.value)


def test_no_cluster_table_is_one_process_as_before() -> None:
    cfg = config_from_dict({})
    assert cfg.cluster == ClusterConfig(redis_url="", node_name="", lease_seconds=15.0)
    assert not cfg.cluster.enabled
    server = RunningServer()
    try:
        assert server.server.redis is None
    finally:
        server.stop()


def test_the_three_keys() -> None:
    cfg = config_from_dict(
        {
            "cluster": {
                "redis_url": "redis://10.0.0.5:6380/2",
                "node_name": "chat-2",
                "lease_seconds": 30,
            }
        }
    )
    assert cfg.cluster.enabled
    assert cfg.cluster.address == RedisAddress(host="10.0.0.5", port=6380, db=2)
    assert cfg.cluster.node_name == "chat-2"
    assert cfg.cluster.lease_seconds == 30.0


def test_unknown_key_is_refused() -> None:
    message = cluster_error({"redis": "redis://x"})
    assert message.startswith("cluster.redis: unknown key (known keys here: lease_seconds,")


@pytest.mark.parametrize("value", [0, 0.5, 3601, -1])
def test_lease_out_of_range(value: float) -> None:
    assert "cluster.lease_seconds: expected a value between 1 and 3600" in cluster_error(
        {"lease_seconds": value}
    )


@pytest.mark.parametrize("name", ["two words", "tab\there", "x" * 101, "bell\a"])
def test_bad_node_name(name: str) -> None:
    assert cluster_error({"node_name": name}).startswith("cluster.node_name: expected at most 100")


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("redis://127.0.0.1:6379/0", RedisAddress("127.0.0.1", 6379)),
        ("redis://localhost", RedisAddress("localhost", 6379)),
        ("redis://redis.internal:7000/15", RedisAddress("redis.internal", 7000, db=15)),
        ("redis://[::1]:6379/1", RedisAddress("::1", 6379, db=1)),
        ("redis://:p%40ss@h/0", RedisAddress("h", password="p@ss")),
        ("redis://bob:pw@h:1/2", RedisAddress("h", 1, db=2, username="bob", password="pw")),
        ("unix:///run/redis/redis.sock", RedisAddress(path="/run/redis/redis.sock")),
        ("unix://:pw@/tmp/r.sock?db=3", RedisAddress(path="/tmp/r.sock", db=3, password="pw")),
    ],
)
def test_good_urls(url: str, address: RedisAddress) -> None:
    assert parse_redis_url(url) == address


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("127.0.0.1:6379", "expected redis://"),
        ("http://h", "expected redis://"),
        ("rediss://h", "TLS to Redis (rediss://) is not supported"),
        ("redis://", "the host is missing"),
        ("redis://h:0", "expected a port between 1 and 65535"),
        ("redis://h:99999", "out of range"),
        ("redis://h/1/2", "expected a database number"),
        ("redis://h/-1", "expected a database number"),
        ("redis://h?db=1", "no ?query"),
        ("unix://h/tmp/r.sock", "expected unix:///PATH"),
        ("unix:///tmp/r.sock?timeout=1", "only ?db=N"),
        ("redis://secret@h", "a user name without a password"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    text = cluster_error({"redis_url": url})
    assert text.startswith("cluster.redis_url: ")
    assert message in text
    assert "secret" not in text


def test_error_messages_and_logs_never_show_the_password() -> None:
    assert parse_redis_url("redis://:hunter2@h:1/2").url == "redis://:***@h:1/2"
    assert parse_redis_url("redis://bob:hunter2@h").url == "redis://bob:***@h:6379/0"
    assert "hunter2" not in cluster_error({"redis_url": "redis://:hunter2@h/x"})


def test_node_name_defaults_to_host_name_and_port(redis_server: RedisServer) -> None:
    config = replace(Config(), cluster=ClusterConfig(redis_url=redis_server.url))
    srv = RunningServer(config)
    try:
        assert srv.server.node_name == f"{socket.gethostname()}:{srv.port}"
    finally:
        srv.stop()


def test_reload_keeps_the_cluster_settings(redis_server: RedisServer) -> None:
    config = Config(
        storage=StorageConfig(path=""), cluster=ClusterConfig(redis_url=redis_server.url)
    )
    server = Server(config)
    try:
        changed = replace(config, cluster=replace(config.cluster, node_name="renamed"))
        server.enable_reload("test.toml", lambda: changed)
        summary = server.reload()
        assert "cluster changed but need a restart" in summary
        assert server.config.cluster == config.cluster
    finally:
        server.shutdown()
