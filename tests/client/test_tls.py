"""The client over TLS: ``--tls``, ``--tls-ca`` and ``ircs://`` against a real TLS listener."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest

from ircish.client.app import main, parse_url
from tests.client.conftest import run, running_app, wait_until
from tests.e2e.test_tls import TlsServer, make_certs, tls_config

ENTER = "\r"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ircs://irc.example.org", ("irc.example.org", True)),
        ("IRCS://irc.example.org:7000/", ("irc.example.org:7000", True)),
        ("irc://[::1]:6667", ("[::1]:6667", False)),
        ("irc.example.org", ("irc.example.org", None)),
    ],
)
def test_parse_url(text: str, expected: tuple[str, bool | None]) -> None:
    assert parse_url(text) == expected


@pytest.mark.parametrize("text", ["http://x", "ircs://x/#room", "ircs://x/a/b"])
def test_parse_url_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_url(text)


def test_the_client_chats_over_tls(tmp_path: Path) -> None:
    certs = make_certs(tmp_path)
    server = TlsServer(tls_config(certs))
    try:
        bob = server.plain("bob")  # plaintext, in #lobby

        async def body() -> None:
            tls = ssl.create_default_context(cafile=str(certs.ca_file))
            async with running_app(server.tls_port, "alice", ("#lobby",), tls=tls) as alice:
                await wait_until(
                    lambda: (b := alice.model.find("#lobby")) is not None and b.joined,
                    "alice in #lobby",
                )
                alice.type("hello over TLS" + ENTER)
                await asyncio.to_thread(bob.expect, r"^\[#lobby\] <alice> hello over TLS$")
                await asyncio.to_thread(bob.send, "/whois alice")
                await asyncio.to_thread(bob.expect, r"^\*\*\* alice is using a secure connection$")
                await asyncio.to_thread(bob.send, "welcome, alice")
                await alice.wait_text("<bob> welcome, alice")

        run(body())
        bob.close()
    finally:
        server.stop()


def test_an_untrusted_certificate_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    certs = make_certs(tmp_path)
    server = TlsServer(tls_config(certs))
    try:
        # the system's CAs do not know the test CA
        code = main([f"ircs://localhost:{server.tls_port}", "--nick", "alice"])
        assert code == 1
        err = capsys.readouterr().err
        assert f"cannot connect to localhost:{server.tls_port}" in err
        assert "certificate is not trusted" in err
        assert "Traceback" not in err
    finally:
        server.stop()


def test_tls_options_that_cannot_work_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--tls-ca", str(tmp_path / "missing.pem"), "localhost"]) == 2
    assert "cannot use --tls-ca" in capsys.readouterr().err
    assert main(["--tls", "irc://localhost"]) == 2
    assert "use ircs://" in capsys.readouterr().err
