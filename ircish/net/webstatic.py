"""The web client's files: read once from package resources, answered with strict headers.

Theory of operation: ``StaticFiles.load`` reads every file under
``ircish/web/static/`` (``importlib.resources``, so it works from a wheel or
a zip) when the server starts and keeps, per file, its bytes, a gzipped copy
where that is clearly smaller, an ETag per copy, and the headers that never
change. ``respond`` is then a dictionary lookup: ``GET /`` is
``index.html``, any other path names a file exactly (there is nothing else
to find, so no ``..`` or directory listing can reach outside), and anything
else is 404. Every response carries the security headers: a
Content-Security-Policy allowing only this origin (and its WebSocket, named
from the validated Host header), no framing, no referrer, no sniffing.

Caching: ``index.html`` is ``no-cache`` (always revalidated, so a new
version shows at the next load); other files may be kept five minutes and
are revalidated after that. A matching ``If-None-Match`` gets 304.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable

from ircish.net.http import Request, Response

log = logging.getLogger("ircish.web")

INDEX = "index.html"

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
    ".woff2": "font/woff2",
}
#: Types that gzip shrinks; images and fonts are compressed already.
COMPRESSIBLE = frozenset({".html", ".js", ".mjs", ".css", ".svg", ".json", ".webmanifest", ".txt"})
#: A gzipped copy is kept only if it saves at least this share of the bytes.
GZIP_SAVING = 0.1
#: Files smaller than this are sent as they are (gzip's header would eat the saving).
GZIP_MIN_BYTES = 256

NO_CACHE = "no-cache"
ASSET_CACHE = "public, max-age=300, must-revalidate"

#: A Host header: a DNS name or IPv4 address, or a bracketed IPv6 address, and a port.
_HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*\.?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?"
)

#: What every response of the web side carries, besides the policy.
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
)


def valid_host(host: str) -> bool:
    """Whether ``host`` (a Host header) is a plain host[:port] that may go into a header."""
    return len(host) <= 261 and _HOST.fullmatch(host) is not None


def content_security_policy(host: str) -> str:
    """The page's policy: only this origin, and its WebSocket at ``host`` ("" : 'self' only)."""
    connect = f"'self' ws://{host} wss://{host}" if host else "'self'"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {connect}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
        "object-src 'none'"
    )


def header(request: Request, name: str) -> str | None:
    """The value of the request header ``name`` (lowercase), several joined by commas."""
    values = [v for k, v in request.headers if k == name]
    if not values:
        return None
    return ", ".join(values)


def security_headers(request: Request) -> tuple[tuple[str, str], ...]:
    """The security headers, with the policy naming the request's (valid) Host."""
    host = header(request, "host") or ""
    if not valid_host(host):
        host = ""
    return (("Content-Security-Policy", content_security_policy(host)), *SECURITY_HEADERS)


def accepts_gzip(request: Request) -> bool:
    """Whether Accept-Encoding allows gzip (``gzip`` or ``*`` without ``q=0``)."""
    value = header(request, "accept-encoding")
    if not value:
        return False
    for item in value.split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "*"):
            continue
        q = params.strip().lower()
        if q.startswith("q="):
            try:
                return float(q[2:]) > 0
            except ValueError:
                return False
        return True
    return False


@dataclass(frozen=True, slots=True)
class Variant:
    """One copy of a file as sent: its bytes, ETag and fixed headers."""

    body: bytes
    etag: str
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class StaticFile:
    content_type: str
    plain: Variant
    gzipped: Variant | None


def _prepare(name: str, data: bytes) -> StaticFile:
    suffix = name[name.rfind(".") :] if "." in name else ""
    content_type = TYPES.get(suffix, "application/octet-stream")
    cache = NO_CACHE if name == INDEX else ASSET_CACHE
    tag = hashlib.sha256(data).hexdigest()[:20]
    common = (("Cache-Control", cache), ("Vary", "Accept-Encoding"))
    plain = Variant(data, f'"{tag}"', (*common, ("ETag", f'"{tag}"')))
    gzipped = None
    if suffix in COMPRESSIBLE and len(data) >= GZIP_MIN_BYTES:
        # mtime=0: the same file gives the same bytes (and ETag) at every start.
        packed = gzip.compress(data, compresslevel=9, mtime=0)
        if len(packed) <= len(data) * (1 - GZIP_SAVING):
            etag = f'"{tag}-gz"'
            gzipped = Variant(packed, etag, (*common, ("ETag", etag), ("Content-Encoding", "gzip")))
    return StaticFile(content_type, plain, gzipped)


def _walk(folder: Traversable, prefix: str = "") -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for entry in folder.iterdir():
        name = prefix + entry.name
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            found.update(_walk(entry, name + "/"))
        elif entry.is_file():
            found[name] = entry.read_bytes()
    return found


def _matches(if_none_match: str, etag: str) -> bool:
    for item in if_none_match.split(","):
        tag = item.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


class StaticFiles:
    """The files by path (``index.html``, ``js/app.js``), ready to send."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = {name: _prepare(name, data) for name, data in files.items()}

    @classmethod
    def load(cls, package: str = "ircish.web", folder: str = "static") -> StaticFiles:
        """Every file under ``package``'s ``folder``; none (every path 404) if it is missing."""
        root = resources.files(package) / folder
        if not root.is_dir():
            log.warning("the web client's files are missing (%s/%s)", package, folder)
            return cls({})
        return cls(_walk(root))

    def respond(self, request: Request) -> Response:
        """GET or HEAD of a file; 404, 405 or 304 otherwise."""
        extra = security_headers(request)
        if request.method not in ("GET", "HEAD"):
            return Response.error(405, ("Allow", "GET, HEAD"), *extra)
        path = request.path
        name = INDEX if path == "/" else path[1:] if path.startswith("/") else ""
        found = self.files.get(name)
        if found is None:
            return Response.error(404, *extra)
        variant = found.plain
        if found.gzipped is not None and accepts_gzip(request):
            variant = found.gzipped
        condition = header(request, "if-none-match")
        if condition is not None and _matches(condition, variant.etag):
            return Response(304, b"", "", (*variant.headers, *extra))
        return Response(200, variant.body, found.content_type, (*variant.headers, *extra))
