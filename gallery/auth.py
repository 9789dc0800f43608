"""`--auth user:pass`: one gate in front of every route (UI pages, Gradio's API and files, the JSON API)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from gallery.ratelimit import USER_SCOPE_KEY

logger = logging.getLogger(__name__)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "openmodels-auth"
LOGIN_BODY_BYTES = 4096
REALM = "OpenModels Gallery"


def parse_auth(value: str) -> tuple[str, str]:
    """Parse `user:pass` (raises ValueError with a clear message)."""
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ValueError("--auth must look like user:password")
    return user, password


class BasicAuthMiddleware:
    """Let a request through only with the right HTTP Basic credentials or a session cookie from `.../login`.

    It wraps the whole app, so no mounted route can escape it (Gradio leaves some of its own routes open,
    e.g. /gradio_api/heartbeat, /gradio_api/upload_progress, /static). Browsers get the native login prompt
    and resend the credentials on every request; `gradio_client.Client(url, auth=(user, pass))` posts them
    to `<page>/login`, which answers with a signed, HttpOnly cookie.
    """

    def __init__(self, app: ASGIApp, credentials: tuple[str, str]) -> None:
        self.app = app
        self.user = credentials[0].encode("utf-8")
        self.password = credentials[1].encode("utf-8")
        self._key = secrets.token_bytes(32)  # a restart signs everyone out of cookie sessions

    def _signed(self) -> str:
        return hmac.new(self._key, b"session:" + self.user, hashlib.sha256).hexdigest()

    def _valid(self, user: bytes, password: bytes) -> bool:
        # Compare both, always, so the time taken says nothing about which part was wrong.
        return secrets.compare_digest(user, self.user) & secrets.compare_digest(password, self.password)

    def _authenticated(self, headers: dict[bytes, bytes]) -> bool:
        scheme, _, token = headers.get(b"authorization", b"").partition(b" ")
        if scheme.lower() == b"basic":
            try:
                user, _, password = base64.b64decode(token.strip(), validate=True).partition(b":")
            except (binascii.Error, ValueError):
                return False
            return self._valid(user, password)
        for part in headers.get(b"cookie", b"").split(b";"):
            name, _, value = part.strip().partition(b"=")
            if name == COOKIE.encode() and secrets.compare_digest(value, self._signed().encode()):
                return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, bytes] = {}
        for key, value in scope.get("headers", []):
            headers.setdefault(key.lower(), value)
        if self._authenticated(headers):
            scope[USER_SCOPE_KEY] = self.user.decode("utf-8")
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope.get("method") == "POST" and scope.get("path", "").rstrip("/").endswith("/login"):
            await self._login(receive, send)
            return
        await _json(send, 401, {"detail": "authentication required (HTTP Basic, the user:password given to --auth)"},
                    [(b"www-authenticate", f'Basic realm="{REALM}", charset="UTF-8"'.encode())])

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
