"""TLS listeners: contexts from PEM files, and a connection that encrypts in memory.

Theory of operation: a ``TlsConnection`` is a ``Connection`` whose socket
bytes pass through an ``ssl.SSLObject`` over two memory BIOs, so the
handshake and every record are handled inside the loop and nothing blocks.
Received bytes go into the incoming BIO; after the handshake, everything the
SSL object can decrypt is read out at once and handed to the session, so no
plaintext is left inside the SSL object where the selector would not see it.
The session's output is queued as plaintext exactly as on a plain connection
(same send-queue limit, same one-flush-per-pass); ``flush`` encrypts what is
queued and sends the records, keeping what the kernel does not take in a
second queue of ciphertext.

Certificates are loaded into a fresh context by ``load_context``; the server
swaps a listener's context on reload, so new connections get the new
certificate and established ones keep theirs.
"""

from __future__ import annotations

import logging
import socket
import ssl
from typing import TYPE_CHECKING

from ircish.config import ConfigError, ListenerConfig, TlsConfig
from ircish.net.connection import RECV_SIZE, Connection
from ircish.net.outqueue import OutputQueue

if TYPE_CHECKING:
    from ircish.net.server import Server

log = logging.getLogger("ircish.net")

_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


def load_context(listener: ListenerConfig, tls: TlsConfig, where: str) -> ssl.SSLContext:
    """A server context for ``listener``'s certificate; ``ConfigError`` naming ``where``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = _VERSIONS[tls.min_version]
    # Session tickets would need a key shared by every process; resumption is not worth it.
    context.options |= ssl.OP_NO_TICKET
    for key in ("tls_cert", "tls_key"):
        path = getattr(listener, key)
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise ConfigError(f"{where}.{key}: cannot read {path}: {exc.strerror}") from None
    try:
        context.load_cert_chain(listener.tls_cert, listener.tls_key)
    except ssl.SSLError as exc:
        raise ConfigError(
            f"{where}: {listener.tls_cert} and {listener.tls_key} are not a PEM certificate "
            f"chain and its private key ({exc.reason or exc})"
        ) from None
    return context


class TlsConnection(Connection):
    """A client socket speaking TLS; the session sees only plaintext."""

    secure = True

    __slots__ = ("encrypted", "handshaken", "incoming", "outgoing", "tls")

    def __init__(
        self,
        server: Server,
        sock: socket.socket,
        addr: tuple[str, int],
        sendq_limit: int,
        context: ssl.SSLContext,
    ) -> None:
        super().__init__(server, sock, addr, sendq_limit)
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_side=True)
        self.handshaken = False
        #: TLS records the kernel has not taken yet (bounded like the plaintext queue).
        self.encrypted = OutputQueue(sendq_limit)

    def __repr__(self) -> str:
        return f"<TlsConnection {self.ip}:{self.addr[1]} fd={self.fd}>"

    @property
    def has_output(self) -> bool:
        return bool(self.out.chunks or self.encrypted.chunks or self.outgoing.pending)

    @property
    def queued_bytes(self) -> int:
        return self.out.size + self.encrypted.size + self.outgoing.pending

    def received(self, data: bytes) -> None:
        self.incoming.write(data)
        if not self.handshaken and not self._handshake():
            return
        plain: list[bytes] = []
        ended = ""
        while True:
            try:
                chunk = self.tls.read(RECV_SIZE)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                ended = "Connection closed"
                break
            except ssl.SSLError as exc:
                ended = f"TLS error: {exc.reason or exc}"
                break
            if not chunk:
                ended = "Connection closed"
                break
            plain.append(chunk)
        if plain:
            self.feed(b"".join(plain))
        if ended:
            self.lost(ended)
        elif self.outgoing.pending:
            # Records the SSL object wrote by itself (alerts, key updates) go out this pass.
            self.server.dirty.add(self)

    def _handshake(self) -> bool:
        """Go on with the handshake; True once it is complete."""
        try:
            self.tls.do_handshake()
        except ssl.SSLWantReadError:
            if self.outgoing.pending:
                self.server.dirty.add(self)
            return False
        except ssl.SSLError as exc:
            # Often a plaintext client on the TLS port; nothing sensible can be sent back.
            self.lost(f"TLS handshake failed: {exc.reason or exc}")
            return False
        self.handshaken = True
        log.debug("%r: %s, %s", self, self.tls.version(), (self.tls.cipher() or ("?",))[0])
        session = self.session
        if session is not None:
            # Its detection of a silent human starts now, not at the accept.
            now = self.server.chat.clock()
            session.stream_started(now)
            self.server.schedule_session(self, session.check_timeouts(now))
        # What the session queued meanwhile can go out now.
        self.server.dirty.add(self)
        return True

    def stream_ready(self) -> bool:
        return self.handshaken

    def flush(self) -> None:
        if self.closed:
            return
        out = self.out
        if self.handshaken:
            if self.gateway is not None and out.chunks:
                self.gateway.encode(out)
            if out.chunks:
                data = b"".join(out.chunks)
                out.clear()
                try:
                    self.tls.write(data)
                except ssl.SSLError as exc:
                    self.lost(f"TLS error: {exc.reason or exc}")
                    return
            if self.closing and not out.chunks:
                self._close_notify()
        encrypted = self.encrypted
        if self.outgoing.pending and not encrypted.append(self.outgoing.read()):
            # A peer that does not read: the same fate as on a plain connection.
            self.overflowed = True
            self.server.doomed.append(self)
            return
        if encrypted.chunks:
            try:
                self.server.metrics.bytes_sent += encrypted.send(self.sock)
            except OSError as exc:
                self.lost(f"Write error: {exc.strerror or exc}")
                return
        if encrypted.chunks:
            if not self.writing:
                self.server.set_interest(self, write=True)
            if self.closing:
                self.linger()
            return
        if self.writing:
            self.server.set_interest(self, write=False)
        if self.closing:
            self.server.close_connection(self)

    def _close_notify(self) -> None:
        try:
            self.tls.unwrap()
        except ssl.SSLError:
            # unwrap wants the peer's close_notify too; ours is written, which is enough.
            pass

    def lost(self, reason: str) -> None:
        self.encrypted.clear()
        super().lost(reason)
