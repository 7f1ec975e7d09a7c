"""Host cloaking: what others see instead of a user's address.

Theory of operation: a user's ``host`` (in their ``nick!user@host`` mask,
WHO, WHOIS, WHOWAS, JOIN lines, channel bans) is computed once, when they
connect, by ``Cloaks.host_for``; their real address stays in ``User.ip``,
for operators (WHOIS 338), server bans and logs.

The cloak, as Ergo's: the address is cut to its network (IPv4 /32, IPv6
/64, so one home's IPv6 addresses share a cloak and a ban on it covers them
all), an HMAC-SHA256 keyed by the secret is taken of its bytes, and the
first 64 bits of the digest, in lowercase base32, are followed by the
network's name: ``ktbq4b2xzskqq.ircish``. The same address gets the same
cloak for as long as the secret stays, so room bans by cloak keep working;
without the secret the cloak cannot be turned back into an address except
by trying all 2^32 IPv4 addresses, which is why the secret must stay secret.

Loopback addresses show as ``localhost``: everyone connecting from one is on
the server's own machine (or behind a local proxy), so it says nothing
about them, and local testing stays readable.

The secret: ``[server] cloak_secret`` when set; otherwise one made at the
first start and kept in the storage (``adopt_stored_secret``), so cloaks
survive restarts; with no storage, a random one per process, and a warning
that cloaks change when the server restarts.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import ipaddress
import logging
import re
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ircish.core.storage import Storage

log = logging.getLogger("ircish.core")

#: Where the generated secret is kept in the storage (``Storage.meta``).
SECRET_KEY = "cloak_secret"
#: What loopback addresses show as.
LOOPBACK_HOST = "localhost"
#: Bits of the digest a cloak shows (13 base32 letters).
CLOAK_BITS = 64
_NOT_HOSTNAME = re.compile(r"[^a-z0-9-]+")


def new_secret() -> str:
    """A fresh random secret (256 bits, hex)."""
    return secrets.token_hex(32)


@functools.lru_cache(maxsize=4096)
def normalize_ip(ip: str) -> str:
    """An address in its canonical text form (IPv4-mapped IPv6 as IPv4); "" if not one."""
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return ""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return str(addr.ipv4_mapped)
    return str(addr)


def shown_address(ip: str) -> str:
    """An address as a host when cloaks are off: IRC cannot have a parameter start with ':'."""
    return "0" + ip if ip.startswith(":") else ip


class Cloaks:
    """Computes the host others see for an address (see the module docstring)."""

    __slots__ = (
        "_hosts",
        "_key",
        "_settings",
        "_stored",
        "_warned",
        "enabled",
        "persistent",
        "suffix",
    )

    #: Hosts kept by address (reconnecting users, a connection storm from a few addresses).
    MAX_KEPT = 1024

    def __init__(self, enabled: bool, secret: str, network: str) -> None:
        self.enabled = enabled
        #: Whether the secret outlives this process (configured or stored).
        self.persistent = bool(secret)
        self._key = (secret or new_secret()).encode()
        self._warned = False
        #: The secret kept in the storage, once adopted.
        self._stored = ""
        self._settings = (enabled, secret, network)
        self.suffix = _NOT_HOSTNAME.sub("", network.lower()) or "ircish"
        #: ``host_for`` by address, for the current key and settings.
        self._hosts: dict[str, str] = {}

    def follow(self, enabled: bool, secret: str, network: str) -> None:
        """Take settings a reload changed (``[server] cloaks``, ``cloak_secret``, ``network``).

        Cheap when nothing changed (one comparison per connection). New
        connections get the new cloaks; users already here keep theirs.
        """
        if (enabled, secret, network) == self._settings:
            return
        old_secret = self._settings[1]
        self._settings = (enabled, secret, network)
        self._hosts.clear()
        self.enabled = enabled
        self.suffix = _NOT_HOSTNAME.sub("", network.lower()) or "ircish"
        if secret != old_secret:
            if secret or self._stored:
                self._key = (secret or self._stored).encode()
                self.persistent = True
            elif old_secret:
                # A configured secret was removed and none is stored: a random one.
                self._key = new_secret().encode()
                self.persistent = False
        log.warning("cloak settings changed: new connections get the new cloaks")

    def adopt_stored_secret(self, storage: Storage) -> None:
        """Without a configured secret, use the stored one (made and stored the first time)."""
        if self.persistent:
            return
        secret = storage.meta(SECRET_KEY)
        if not secret:
            secret = new_secret()
            storage.save_meta(SECRET_KEY, secret)
            storage.commit()  # at start, before any cloak is shown
            log.info("made a cloak secret and kept it in the storage")
        self._stored = secret
        self._key = secret.encode()
        self._hosts.clear()
        self.persistent = True

    def adopt_shared_secret(self, secret: str) -> None:
        """The network's stored secret (``[cluster]``: every process cloaks alike), unless
        one is configured."""
        if self._settings[1] or not secret or secret == self._stored:
            return
        self._stored = secret
        self._key = secret.encode()
        self._hosts.clear()
        self.persistent = True

    @property
    def stored_secret(self) -> str:
        """The secret kept in storage ("" when one is configured or none is kept)."""
        return "" if self._settings[1] else self._stored

    def host_for(self, ip: str) -> str:
        """The host others see for a connection from ``ip``."""
        host = self._hosts.get(ip)
        if host is None:
            if len(self._hosts) >= self.MAX_KEPT:
                self._hosts.clear()
            host = self._hosts[ip] = self._host_for(ip)
        return host

    def _host_for(self, ip: str) -> str:
        canonical = normalize_ip(ip)
        if not self.enabled:
            return shown_address(canonical or ip)
        if not canonical:
            # Not an address (a test's made-up host): hidden all the same.
            return self._compose(b"host:" + ip.encode())
        addr = ipaddress.ip_address(canonical)
        if addr.is_loopback:
            return LOOPBACK_HOST
        if isinstance(addr, ipaddress.IPv6Address):
            network = ipaddress.IPv6Network((addr, 64), strict=False)
            return self._compose(network.network_address.packed)
        return self._compose(addr.packed)

    def _compose(self, data: bytes) -> str:
        if not self.persistent and not self._warned:
            self._warned = True
            log.warning(
                "no [server] cloak_secret and no storage to keep one: cloaks will change "
                "when the server restarts"
            )
        digest = hmac.new(self._key, data, hashlib.sha256).digest()[: CLOAK_BITS // 8]
        token = base64.b32encode(digest).decode().rstrip("=").lower()
        return f"{token}.{self.suffix}"
