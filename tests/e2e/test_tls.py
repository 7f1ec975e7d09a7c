"""TLS listeners, against the real loop: IRC and netcat users over TLS, certificates
from ``trustme``, the handshake failures a server on the internet sees, STS and reload.

A TLS listener is a ``[[listeners]]`` table with ``tls_cert`` and ``tls_key``.
"""

from __future__ import annotations

import re
import ssl
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import trustme

from ircish.config import Config, ConfigError, ListenerConfig, TlsConfig
from tests.e2e.e2e_support import ServerProcess, free_port, run_cli
from tests.e2e.test_irssi import IRSSI_CONFIG, Irssi
from tests.helpers import LineClient, RunningServer


@dataclass
class Certs:
    ca: trustme.CA
    cert: Path
    key: Path
    ca_file: Path

    def context(self) -> ssl.SSLContext:
        """What a careful client uses: verifies the server against this CA."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        return context


def _issue(ca: trustme.CA, where: Path, name: str) -> tuple[Path, Path]:
    issued = ca.issue_cert("localhost", "127.0.0.1")
    cert, key = where / f"{name}.pem", where / f"{name}.key"
    issued.private_key_pem.write_to_path(str(key))
    # The chain file a server is given: its certificate, then the intermediates.
    cert.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    return cert, key


def make_certs(tmp_path: Path) -> Certs:
    """A test CA and a certificate for localhost and 127.0.0.1, as PEM files."""
    ca = trustme.CA()
    cert, key = _issue(ca, tmp_path, "server")
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return Certs(ca, cert, key, ca_file)


@pytest.fixture
def certs(tmp_path: Path) -> Certs:
    return make_certs(tmp_path)


def tls_config(certs: Certs, *, tls_port: int = 0, **tls: object) -> Config:
    plain = ListenerConfig()
    secure = ListenerConfig(
        host="127.0.0.1", port=tls_port, tls_cert=str(certs.cert), tls_key=str(certs.key)
    )
    return replace(Config(), listeners=(plain, secure), tls=TlsConfig(**tls))  # type: ignore[arg-type]


class TlsServer(RunningServer):
    """A RunningServer whose second listener is TLS."""

    @property
    def tls_port(self) -> int:
        return self.server.listeners[1].address[1]

    def tls_client(self, context: ssl.SSLContext) -> LineClient:
        return LineClient(self.host, self.tls_port, tls=context)


@pytest.fixture
def server(certs: Certs) -> Iterator[TlsServer]:
    s = TlsServer(tls_config(certs))
    yield s
    s.stop()


@pytest.fixture
def clients() -> Iterator[list[LineClient]]:
    opened: list[LineClient] = []
    yield opened
    for c in opened:
        c.close()


def register_irc(c: LineClient, nick: str) -> None:
    c.send(f"NICK {nick}")
    c.send(f"USER {nick} 0 * :{nick}")
    c.expect(rf"^:\S+ 001 {nick} ")
    c.expect(r"^:\S+ (376|422) ")


def test_irc_and_netcat_users_over_tls_talk_to_plaintext_users(
    server: TlsServer, certs: Certs, clients: list[LineClient]
) -> None:
    pat = server.plain("pat")  # plaintext netcat user, in #lobby
    clients.append(pat)

    alice = server.tls_client(certs.context())
    clients.append(alice)
    assert isinstance(alice.sock, ssl.SSLSocket)
    assert alice.sock.version() in ("TLSv1.2", "TLSv1.3")
    register_irc(alice, "alice")
    alice.send("JOIN #lobby")
    alice.expect(r"^:\S+ 366 alice #lobby ")
    pat.expect(r"^\*\*\* alice joined #lobby$")

    # a netcat user over TLS too (openssl s_client, socat, ncat --ssl)
    nc = server.tls_client(certs.context())
    clients.append(nc)
    nc.expect(r"Type a nickname")
    nc.send("ncat")
    nc.expect(r"Welcome to .*, ncat!")
    nc.expect(r"^\*\*\* Users in #lobby: ")

    pat.send("hello, encrypted people")
    alice.expect(r"^:pat!\S+ PRIVMSG #lobby :hello, encrypted people$")
    nc.expect(r"^\[#lobby\] <pat> hello, encrypted people$")
    alice.send("PRIVMSG #lobby :hi from TLS")
    pat.expect(r"^\[#lobby\] <alice> hi from TLS$")
    nc.expect(r"^\[#lobby\] <alice> hi from TLS$")

    # WHOIS tells who is on an encrypted connection (671), and only them
    alice.send("WHOIS ncat")
    alice.expect(r"^:\S+ 671 alice ncat :is using a secure connection$")
    alice.send("WHOIS pat")
    whois = [alice.expect(r"^:\S+ (3\d\d|671) alice pat ")]
    while " 318 " not in whois[-1]:
        whois.append(alice.expect(r"^:\S+ \d{3} alice pat "))
    assert not any(" 671 " in line for line in whois)
    pat.send("/whois alice")
    pat.expect(r"^\*\*\* alice is using a secure connection$")

    # QUIT over TLS: the closing line arrives, then a clean end of stream
    alice.send("QUIT :bye")
    alice.expect(r"^ERROR :")
    pat.expect(r"^\*\*\* alice quit \(Quit: bye\)$")


def test_much_output_through_tls_arrives_whole_and_in_order(
    server: TlsServer, certs: Certs, clients: list[LineClient]
) -> None:
    """Far more than one TLS record and one socket buffer: partial sends are resumed."""
    reader = server.tls_client(certs.context())
    clients.append(reader)
    register_irc(reader, "reader")
    reader.send("JOIN #big")
    reader.expect(r" 366 reader #big ")
    writer = server.client()
    clients.append(writer)
    register_irc(writer, "writer")
    writer.send("JOIN #big")
    writer.expect(r" 366 writer #big ")
    reader.expect(r":writer!\S+ JOIN #big")
    text = "x" * 400
    count = 1500  # ~650 KB, under the 1 MiB send queue
    writer.send_raw(b"".join(f"PRIVMSG #big :{i} {text}\r\n".encode() for i in range(count)))
    for i in range(count):
        reader.expect(rf"^:writer!\S+ PRIVMSG #big :{i} x+$", timeout=30)


def test_failed_handshakes_close_only_that_connection(
    server: TlsServer, certs: Certs, clients: list[LineClient], caplog: pytest.LogCaptureFixture
) -> None:
    bob = server.tls_client(certs.context())
    clients.append(bob)
    register_irc(bob, "bob")

    # an IRC client that forgot TLS, on the TLS port
    confused = LineClient(server.host, server.tls_port)
    clients.append(confused)
    confused.send("NICK confused")
    confused.send("USER confused 0 * :c")
    confused.expect_closed()

    # a client that does not trust the server's certificate
    stranger = ssl.create_default_context()  # the system's CAs, not the test CA
    with pytest.raises(ssl.SSLCertVerificationError):
        LineClient(server.host, server.tls_port, tls=stranger)

    # a client that offers nothing newer than TLS 1.1
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(str(certs.ca_file))
    old.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the point of the test
        old.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises(ssl.SSLError):
        LineClient(server.host, server.tls_port, tls=old)

    # random bytes instead of a ClientHello
    garbage = LineClient(server.host, server.tls_port)
    clients.append(garbage)
    garbage.send_raw(bytes(range(256)) * 4)
    garbage.expect_closed()

    # bob never noticed
    bob.send("PING :still-here")
    bob.expect(r"PONG \S+ :still-here$")
    assert not [r for r in caplog.records if r.exc_info]


def test_tls_1_3_only_when_configured(certs: Certs, clients: list[LineClient]) -> None:
    s = TlsServer(tls_config(certs, min_version="1.3"))
    try:
        context = certs.context()
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        with pytest.raises(ssl.SSLError):
            LineClient(s.host, s.tls_port, tls=context)
        c = s.tls_client(certs.context())
        clients.append(c)
        assert isinstance(c.sock, ssl.SSLSocket)
        assert c.sock.version() == "TLSv1.3"
    finally:
        s.stop()


def test_sts_tells_plaintext_clients_to_upgrade(certs: Certs, clients: list[LineClient]) -> None:
    port = free_port()
    s = TlsServer(tls_config(certs, tls_port=port, sts_port=port, sts_duration=86400))
    try:
        plain = s.client()
        clients.append(plain)
        plain.send("CAP LS 302")
        ls = plain.expect(r"CAP \* LS :")
        assert re.search(rf"\bsts=port={port}(\s|$)", ls), ls
        plain.send("CAP REQ :sts")
        plain.expect(r"CAP \* NAK :sts$")
        # without 302 there are no values, so no policy is shown
        old = s.client()
        clients.append(old)
        old.send("CAP LS")
        assert "sts" not in old.expect(r"CAP \* LS :")

        secure = s.tls_client(certs.context())
        clients.append(secure)
        secure.send("CAP LS 302")
        ls = secure.expect(r"CAP \* LS :")
        assert re.search(r"\bsts=duration=86400(\s|$)", ls), ls
    finally:
        s.stop()


def test_no_sts_by_default(server: TlsServer, clients: list[LineClient]) -> None:
    c = server.client()
    clients.append(c)
    c.send("CAP LS 302")
    assert "sts" not in c.expect(r"CAP \* LS :")


def test_reloaded_certificates_serve_new_connections(
    server: TlsServer, certs: Certs, tmp_path: Path, clients: list[LineClient]
) -> None:
    before = server.tls_client(certs.context())
    clients.append(before)
    register_irc(before, "before")

    # the operator replaces the files (a renewed certificate, from another CA here)
    other = trustme.CA()
    cert, key = _issue(other, tmp_path, "renewed")
    certs.cert.write_bytes(cert.read_bytes())
    certs.key.write_bytes(key.read_bytes())
    server.server.reload_tls(server.config)

    renewed_ca = tmp_path / "other-ca.pem"
    other.cert_pem.write_to_path(str(renewed_ca))
    after = LineClient(
        server.host, server.tls_port, tls=ssl.create_default_context(cafile=str(renewed_ca))
    )
    clients.append(after)
    register_irc(after, "after")
    with pytest.raises(ssl.SSLCertVerificationError):
        LineClient(server.host, server.tls_port, tls=certs.context())
    # the established connection kept its session
    before.send("PRIVMSG after :hello")
    after.expect(r"^:before!\S+ PRIVMSG after :hello$")


def test_reload_with_broken_files_keeps_the_old_certificate(
    server: TlsServer, certs: Certs, clients: list[LineClient]
) -> None:
    certs.key.write_text("not a key\n")
    with pytest.raises(ConfigError, match=r"listeners\[1\]"):
        server.server.reload_tls(server.config)
    c = server.tls_client(certs.context())
    clients.append(c)
    register_irc(c, "stillworks")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('tls_cert = "{dir}/missing.pem"\ntls_key = "{key}"', r"cannot read .*missing\.pem"),
        ('tls_cert = "{cert}"\ntls_key = "{cert}"', r"not a PEM certificate chain"),
        ('tls_cert = "{cert}"', r"listeners\[1\]\.tls_key: missing"),
    ],
)
def test_bad_tls_files_stop_the_start_with_a_clear_error(
    certs: Certs, tmp_path: Path, table: str, message: str
) -> None:
    body = table.format(dir=tmp_path, cert=certs.cert, key=certs.key)
    config = tmp_path / "bad.toml"
    config.write_text(
        f'[[listeners]]\nport = 0\n\n[[listeners]]\nhost = "127.0.0.1"\nport = 0\n{body}\n'
    )
    done = run_cli("--config", str(config))
    assert done.returncode == 2, done.stderr
    assert re.search(message, done.stderr), done.stderr
    assert "Traceback" not in done.stderr


def test_irssi_over_tls(certs: Certs, tmp_path: Path) -> None:
    """The real irssi, verifying the certificate, chats with a netcat user."""
    port = free_port()
    config = tmp_path / "ircish.toml"
    config.write_text(
        "[[listeners]]\nport = 0\n\n"
        f'[[listeners]]\nhost = "127.0.0.1"\nport = {port}\n'
        f'tls_cert = "{certs.cert}"\ntls_key = "{certs.key}"\n'
    )
    proc = ServerProcess("--config", str(config))
    irssi = None
    pat = None
    try:
        assert proc.wait_log(f"listening on 127.0.0.1:{port} (dialect auto, TLS)")
        pat = proc.client()
        pat.expect(r"Type a nickname")
        pat.send("pat")
        pat.expect(r"^\*\*\* Users in #lobby: ")
        irssi_config = (
            IRSSI_CONFIG
            + f"""
servers = (
  {{
    address = "localhost"; port = "{port}"; chatnet = "ircish";
    use_tls = "yes"; tls_verify = "yes"; tls_cafile = "{certs.ca_file}";
  }}
);
chatnets = {{ ircish = {{ type = "IRC"; }}; }};
"""
        )
        # irssi checks the name it connected to against the certificate's DNS names only.
        irssi = Irssi(tmp_path / "irssi", port, "secure", config=irssi_config, address="localhost")
        irssi.expect(r"Welcome to the ircish IRC Network secure!")
        irssi.type("/join #lobby")
        pat.expect(r"^\*\*\* secure joined #lobby$")
        irssi.type("typed in irssi, sent over TLS")
        pat.expect(r"^\[#lobby\] <secure> typed in irssi, sent over TLS$")
        pat.send("/whois secure")
        pat.expect(r"^\*\*\* secure is using a secure connection$")
        pat.send("and back")
        irssi.expect(r"<[@ ]?pat> and back")
    finally:
        if irssi is not None:
            irssi.close()
        if pat is not None:
            pat.close()
        proc.stop_now()
    assert "Traceback" not in proc.log()
