"""Security headers on every response, and no redirect to another host, whatever Gradio version serves the pages.

Gradio before 6.20 answers `/gradio_api/file=https://evil.example.com/x` with a 302 to that host (an open
redirect, gradio-app/gradio#13593), under `/` and under every standalone page. This middleware wraps the
whole app, so such a redirect is refused here even when the installed Gradio still makes one.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)


EMBED_ORIGINS_ENV = "OPENMODELS_EMBED_ORIGINS"
DEFAULT_EMBED_ORIGINS = ("*",)
SELF = "'self'"
REFUSED = "redirect to another host refused"
# Headers this middleware owns: whatever the app set for them is replaced.
OWNED = (b"content-security-policy", b"x-content-type-options", b"referrer-policy")
DEFAULT_PORTS = {"http": "80", "https": "443"}

# A CSP host-source without a path: scheme://host[:port], the host optionally starting with "*.".
_ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:(?P<port>[0-9]{1,5}))?", re.IGNORECASE)
# Browsers drop these from the ends of a URL and tabs/newlines from inside it before parsing.
_URL_EDGES = "".join(map(chr, range(0x21)))
_URL_INSIDE = re.compile(r"[\t\n\r]")


def parse_embed_origins(text: str) -> tuple[str, ...]:
    """Parse a space- or comma-separated list of origins that may frame the demo pages (raises ValueError)."""
    values = [v for v in re.split(r"[\s,]+", text.strip()) if v]
    if not values:
        raise ValueError("embed origins must not be empty: give *, 'self' or origins like https://school.example.org")
    origins: list[str] = []
    for value in values:
        if value.lower() == SELF:
            value = SELF
        elif value != "*":
            match = _ORIGIN.fullmatch(value)
            if match is None or not 0 < int(match.group("port") or 80) < 65536:
                raise ValueError(f"embed origin {value!r} must be *, 'self' or scheme://host[:port] "
                                 "(e.g. https://school.example.org or https://*.example.com), without a path")
        if value not in origins:
            origins.append(value)
    return tuple(origins)


def embed_origins_from_env() -> tuple[str, ...]:
    """Return OPENMODELS_EMBED_ORIGINS, else `*` (any site may embed a demo page)."""
    text = os.environ.get(EMBED_ORIGINS_ENV, "").strip()
    if not text:
        return DEFAULT_EMBED_ORIGINS
    try:
        return parse_embed_origins(text)
    except ValueError as exc:
        raise ValueError(f"{EMBED_ORIGINS_ENV}: {exc}") from None


def _host_key(scheme: str, netloc: str) -> str:
    # http://h:80 and https://h:443 are both "h": behind a TLS-terminating proxy Gradio may write https
    # while the request came in as http, and a switch of scheme on the same host is no open redirect.
    host, sep, port = netloc.lower().rpartition(":")
    if not sep or "]" in port:  # no port, or the colon was inside an IPv6 literal
        return netloc.lower()
    return host if DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"


def is_same_host(location: str, scheme: str, host: str) -> bool:
    """Return whether a Location, resolved against the request URL, stays on the request's own host."""
    # Read the target the way a browser would: `\` is `/` in http(s) URLs, so `/\evil` and `\\evil` are `//evil`.
    cleaned = _URL_INSIDE.sub("", location.strip(_URL_EDGES)).replace("\\", "/")
    try:
        # Only the host matters, and no relative reference can change it, so the request's path is left out.
        target = urlsplit(urljoin(f"{scheme}://{host}/", cleaned))
        target.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    # `javascript:`, `data:` and the like, and `https:evil.com` (no //, which browsers read as a host).
    if target.scheme not in ("http", "https") or not target.netloc:
        return False
    return _host_key(target.scheme, target.netloc) == _host_key(scheme, host)


class SecurityHeadersMiddleware:
    """Add security headers to every HTTP response and refuse redirects to another host.

    Every response gets `X-Content-Type-Options: nosniff`, `Referrer-Policy: strict-origin-when-cross-origin`
    and `Content-Security-Policy: frame-ancestors ...`: the embed origins for the standalone demo pages
    (`/demo/...`), which schools embed in their own sites, and `'self'` for everything else. Only
    frame-ancestors: Gradio needs inline scripts and styles. A 3xx whose Location leads to another host
    than the request's Host becomes a 403.
    """

    def __init__(self, app: ASGIApp, embed_origins: Iterable[str] = DEFAULT_EMBED_ORIGINS, root_path: str = "") -> None:
        self.app = app
        self.root_path = root_path.rstrip("/")
        common = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"strict-origin-when-cross-origin")]
        self.demo_headers = [*common, (b"content-security-policy",
                                       f"frame-ancestors {' '.join(embed_origins)}".encode("latin-1"))]
        self.other_headers = [*common, (b"content-security-policy", f"frame-ancestors {SELF}".encode("latin-1"))]

    def _is_demo_page(self, path: str) -> bool:
        # The proxy strips the prefix and uvicorn puts --root-path back in front of the path.
        if self.root_path and (path == self.root_path or path.startswith(self.root_path + "/")):
            path = path[len(self.root_path):]
        return path == "/demo" or path.startswith("/demo/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ours = self.demo_headers if self._is_demo_page(scope.get("path", "")) else self.other_headers
        refused = False

        async def secured(message: Message) -> None:
            nonlocal refused
            if refused:  # the app's own body of a refused redirect: never sent
                return
            if message["type"] != "http.response.start":
                await send(message)
                return
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in OWNED]
            if 300 <= message["status"] < 400 and not self._redirect_allowed(scope, headers):
                refused = True
                logger.warning("security: refused a redirect to another host")
                body = json.dumps({"detail": REFUSED}).encode("utf-8")
                await send({"type": "http.response.start", "status": 403, "headers": [
                    (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *ours]})
                await send({"type": "http.response.body", "body": body})
                return
            await send({**message, "headers": [*headers, *ours]})

        await self.app(scope, receive, secured)

    @staticmethod
    def _redirect_allowed(scope: Scope, headers: list[tuple[bytes, bytes]]) -> bool:
        host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"host"), "")
        if not host and scope.get("server"):
            name, port = scope["server"]
            host = f"{name}:{port}" if port else str(name)
        scheme = scope.get("scheme", "http")
        return all(is_same_host(v.decode("latin-1"), scheme, host)
                   for k, v in headers if k.lower() == b"location")
