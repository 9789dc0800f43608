"""`--auth user:pass` and `--api-token`: one gate in front of every route (UI pages, Gradio's API and files, the JSON
API, the MCP endpoint)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from gallery.ratelimit import USER_SCOPE_KEY

logger = logging.getLogger(__name__)


COOKIE = "openmodels-auth"
LOGIN_BODY_BYTES = 4096
REALM = "OpenModels Gallery"
TOKEN_ENV = "OPENMODELS_API_TOKEN"
TOKEN_USER = "api-token"  # who a Bearer-authenticated request is, for the rate limit and the logs
# RFC 6750's b64token: what may follow "Bearer " in an Authorization header.
_TOKEN = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")


def parse_auth(value: str) -> tuple[str, str]:
    """Parse `user:pass` (raises ValueError with a clear message)."""
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ValueError("--auth must look like user:password")
    return user, password


def parse_api_token(value: str) -> str:
    """Check a `--api-token` value (raises ValueError with a clear message)."""
    token = value.strip()
    if len(token) < 8 or not _TOKEN.match(token):
        raise ValueError("--api-token must be at least 8 characters of A-Z a-z 0-9 - . _ ~ + / "
                         "(what may follow 'Bearer ' in an Authorization header)")
    return token


def api_token_from_env() -> str | None:
    """Return OPENMODELS_API_TOKEN, checked, or None when unset or empty."""
    value = os.environ.get(TOKEN_ENV, "").strip()
    return parse_api_token(value) if value else None


class BasicAuthMiddleware:
    """Let a request through only with the right HTTP Basic credentials, Bearer token, or a session cookie.

    It wraps the whole app, so no mounted route can escape it (Gradio leaves some of its own routes open,
    e.g. /gradio_api/heartbeat, /gradio_api/upload_progress, /static). Browsers get the native login prompt
    and resend the credentials on every request; `gradio_client.Client(url, auth=(user, pass))` posts them
    to `<page>/login`, which answers with a signed, HttpOnly cookie. Clients that cannot do Basic (MCP hosts,
    API gateways) send `Authorization: Bearer <--api-token>` instead.
    """

    def __init__(self, app: ASGIApp, credentials: tuple[str, str] | None = None, token: str | None = None) -> None:
        if credentials is None and token is None:
            raise ValueError("BasicAuthMiddleware needs credentials, a token, or both")
        self.app = app
        # Without --auth no user:password can match: compare against random bytes, never against nothing.
        self.user = credentials[0].encode("utf-8") if credentials else secrets.token_bytes(32)
        self.password = credentials[1].encode("utf-8") if credentials else secrets.token_bytes(32)
        self.basic = credentials is not None
        self.token = token.encode("ascii") if token else None
        self._key = secrets.token_bytes(32)  # a restart signs everyone out of cookie sessions

    def _signed(self) -> str:
        return hmac.new(self._key, b"session:" + self.user, hashlib.sha256).hexdigest()

    def _valid(self, user: bytes, password: bytes) -> bool:
        # Compare both, always, so the time taken says nothing about which part was wrong.
        return secrets.compare_digest(user, self.user) & secrets.compare_digest(password, self.password)

    def _authenticated(self, headers: dict[bytes, bytes]) -> str | None:
        """Return who the request is (the --auth user, or TOKEN_USER for the token), or None."""
        scheme, _, token = headers.get(b"authorization", b"").partition(b" ")
        if scheme.lower() == b"basic":
            try:
                user, _, password = base64.b64decode(token.strip(), validate=True).partition(b":")
            except (binascii.Error, ValueError):
                return None
            return self.user.decode("utf-8") if self.basic and self._valid(user, password) else None
        if scheme.lower() == b"bearer":
            # A wrong or unexpected token is refused outright, even with a valid cookie beside it.
            ok = self.token is not None and secrets.compare_digest(token.strip(), self.token)
            return TOKEN_USER if ok else None
        if not self.basic:
            return None  # the cookie comes from /login, which needs --auth
        for part in headers.get(b"cookie", b"").split(b";"):
            name, _, value = part.strip().partition(b"=")
            if name == COOKIE.encode() and secrets.compare_digest(value, self._signed().encode()):
                return self.user.decode("utf-8")
        return None

    def _challenge(self) -> tuple[str, list[tuple[bytes, bytes]]]:
        """Return the 401's reason and WWW-Authenticate headers for the schemes this server accepts."""
        ways, headers = [], []
        if self.basic:
            ways.append("HTTP Basic, the user:password given to --auth")
            headers.append((b"www-authenticate", f'Basic realm="{REALM}", charset="UTF-8"'.encode()))
        if self.token is not None:
            ways.append("Authorization: Bearer <the token given to --api-token>")
            headers.append((b"www-authenticate", f'Bearer realm="{REALM}"'.encode()))
        return f"authentication required ({'; or '.join(ways)})", headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, bytes] = {}
        for key, value in scope.get("headers", []):
            headers.setdefault(key.lower(), value)
        user = self._authenticated(headers)
        if user is not None:
            scope[USER_SCOPE_KEY] = user
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        if self.basic and scope.get("method") == "POST" and scope.get("path", "").rstrip("/").endswith("/login"):
            await self._login(receive, send)
            return
        reason, challenges = self._challenge()
        await _json(send, 401, {"detail": reason}, challenges)

    async def _login(self, receive: Receive, send: Send) -> None:
        """Check a login form (username, password), as gradio_client sends it; set the session cookie."""
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > LOGIN_BODY_BYTES:
                await _json(send, 413, {"detail": "login form too large"})
                return
        form = parse_qs(body.decode("utf-8", "replace"))
        user = (form.get("username") or [""])[0].strip().encode("utf-8")
        password = (form.get("password") or [""])[0].encode("utf-8")
        if not self._valid(user, password):
            logger.warning("auth: failed login attempt")
            await _json(send, 401, {"detail": "Incorrect credentials."})
            return
        cookie = f"{COOKIE}={self._signed()}; Path=/; HttpOnly; SameSite=Strict"
        await _json(send, 200, {"success": True}, [(b"set-cookie", cookie.encode())])


async def _json(send: Send, status: int, content: dict[str, Any], extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps(content).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
