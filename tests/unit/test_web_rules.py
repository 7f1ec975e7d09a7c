"""The browser side's pure rules: who is a browser, origins, subprotocols, encodings,
Host headers, the files table, and the ``[web]`` configuration."""

from __future__ import annotations

import gzip

import pytest

from ircish.config import ConfigError, config_from_dict, parse_origin
from ircish.net.http import Request, Response
from ircish.net.web import MAX_SNIFF, choose_subprotocol, looks_like_http, origin_allowed
from ircish.net.webstatic import StaticFiles, accepts_gzip, content_security_policy, valid_host


@pytest.mark.parametrize(
    ("held", "verdict"),
    [
        (b"GET / HTTP/1.1\r\n", True),
        (b"GET /socket HTTP/1.1\n", True),
        (b"HEAD /index.html HTTP/1.0\r\n", True),
        (b"POST /x?y=1 HTTP/1.1\r\n", True),
        (b"GET http://example.org/ HTTP/1.1\r\n", True),
        (b"G", None),
        (b"GET", None),
        (b"GET /index", None),
        (b"HEA", None),
        (b"GET\r\n", False),
        (b"GET lost\r\n", False),
        (b"GET / \r\n", False),
        (b"GET / HTTP/2\r\n", False),
        (b"GET /a b HTTP/1.1\r\n", False),
        (b"get / HTTP/1.1\r\n", False),
        (b"GETTER\r\n", False),
        (b"NICK alice\r\n", False),
        (b"CAP LS 302\r\n", False),
        (b"alice\n", False),
        (b"", None),
        (b"GET /" + b"a" * MAX_SNIFF, False),
    ],
)
def test_who_is_a_browser(held: bytes, verdict: bool | None) -> None:
    assert looks_like_http(held) is verdict


def test_detection_is_the_same_whatever_the_chunks() -> None:
    line = b"GET /index.html HTTP/1.1\r\n"
    for cut in range(1, len(line)):
        assert looks_like_http(line[:cut]) is None, cut
    assert looks_like_http(line) is True


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        ("text.ircv3.net", "text.ircv3.net"),
        ("binary.ircv3.net, text.ircv3.net", "binary.ircv3.net"),
        ("text.ircv3.net,binary.ircv3.net", "text.ircv3.net"),
        ("chat, binary.ircv3.net", "binary.ircv3.net"),
        ("chat", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_subprotocols_in_the_clients_order(offered: str | None, chosen: str) -> None:
    assert choose_subprotocol(offered) == chosen


@pytest.mark.parametrize(
    ("origin", "host", "allowed", "ok"),
    [
        ("http://127.0.0.1:8080", "127.0.0.1:8080", (), True),
        ("http://LOCALHOST:8080", "localhost:8080", (), True),
        ("https://chat.example.org", "chat.example.org", (), True),
        ("http://chat.example.org", "chat.example.org", (), True),
        ("https://chat.example.org:8443", "chat.example.org", (), False),
        ("http://[::1]:8080", "[::1]:8080", (), True),
        ("http://[::1]:8081", "[::1]:8080", (), False),
        ("http://localhost:8080", "127.0.0.1:8080", (), False),
        ("https://evil.example", "127.0.0.1:8080", (), False),
        ("null", "127.0.0.1:8080", (), False),
        ("file://", "127.0.0.1:8080", (), False),
        ("https://evil.example", None, (), False),
        ("https://a.example", "127.0.0.1:8080", ("https://a.example",), True),
        ("https://a.example:443", "127.0.0.1:8080", ("https://a.example",), True),
        ("http://a.example", "127.0.0.1:8080", ("https://a.example",), False),
        ("https://b.example", "127.0.0.1:8080", ("https://a.example",), False),
        ("https://b.example", "127.0.0.1:8080", ("*",), True),
        ("null", "127.0.0.1:8080", ("*",), True),
    ],
)
def test_origins(origin: str, host: str | None, allowed: tuple[str, ...], ok: bool) -> None:
    assert origin_allowed(origin, host, allowed) is ok


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("https://Chat.Example.org", ("https", "chat.example.org", 443)),
        ("http://h:8080", ("http", "h", 8080)),
        ("https://h/", None),
        ("https://h/path", None),
        ("ftp://h", None),
        ("https://", None),
        ("https://h:99999", None),
        ("https://u:p@h", None),
        ("chat.example.org", None),
    ],
)
def test_parse_origin(value: str, parsed: tuple[str, str, int] | None) -> None:
    assert parse_origin(value) == parsed


def test_allowed_origins_are_validated() -> None:
    cfg = config_from_dict({"web": {"allowed_origins": ["https://chat.example.org", "*"]}})
    assert cfg.web.allowed_origins == ("https://chat.example.org", "*")
    with pytest.raises(ConfigError, match=r"^web\.allowed_origins\[1\]: expected an origin"):
        config_from_dict({"web": {"allowed_origins": ["https://a", "https://b/path"]}})
    with pytest.raises(ConfigError, match=r"^web\.allowed_origins: expected an array, got"):
        config_from_dict({"web": {"allowed_origins": "https://a"}})
    with pytest.raises(ConfigError, match=r"^web\.origins: unknown key"):
        config_from_dict({"web": {"origins": []}})


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("*", True),
        ("gzip;q=0", False),
        ("identity", False),
        ("", False),
        (None, False),
        ("gzip;q=nonsense", False),
    ],
)
def test_accepts_gzip(value: str | None, ok: bool) -> None:
    headers = (("accept-encoding", value),) if value is not None else ()
    assert accepts_gzip(Request("GET", "/", headers)) is ok


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        ("127.0.0.1:8080", True),
        ("chat.example.org", True),
        ("localhost", True),
        ("[::1]:8080", True),
        ("a b", False),
        ("x;script-src *", False),
        ("host:port", False),
        ("", False),
        ("h\r\nSet-Cookie: x", False),
        ("a" * 300, False),
    ],
)
def test_host_headers(host: str, ok: bool) -> None:
    assert valid_host(host) is ok


def test_the_policy_names_only_this_host() -> None:
    policy = content_security_policy("127.0.0.1:8080")
    assert "connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080;" in policy
    assert content_security_policy("").count("connect-src 'self';") == 1


def test_files_are_found_by_exact_path_only() -> None:
    files = StaticFiles({"index.html": b"<title>x</title>", "js/a.js": b"a" * 1000})

    def get(path: str, *headers: tuple[str, str]) -> Response:
        return files.respond(Request("GET", path, headers))

    assert get("/").status == 200
    assert get("/index.html").body == b"<title>x</title>"
    assert get("/js/a.js?v=2").status == 200
    for path in ("/js", "/js/", "/../index.html", "/js/../index.html", "", "*", "/JS/A.JS"):
        assert get(path).status == 404, path
    packed = get("/js/a.js", ("accept-encoding", "gzip"))
    assert gzip.decompress(packed.body) == b"a" * 1000
    assert ("Content-Encoding", "gzip") in packed.headers


def test_the_same_files_give_the_same_etags() -> None:
    """Stable across restarts (gzip's mtime is fixed), so caches stay valid."""
    data = {"app.js": b"x = 1;\n" * 100}
    one = StaticFiles(data).files["app.js"]
    two = StaticFiles(data).files["app.js"]
    assert one == two
    assert one.gzipped is not None
    assert one.plain.etag != one.gzipped.etag


def test_the_bundled_files_load() -> None:
    files = StaticFiles.load()
    assert "index.html" in files.files
    assert b"<title>ircish</title>" in files.files["index.html"].plain.body
