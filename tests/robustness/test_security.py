"""Security headers on every response and no redirect to another host, on a real `gallery run --embed-origins`."""

from __future__ import annotations

import http.client
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from gallery.cli import main
from gallery.security import EMBED_ORIGINS_ENV, REFUSED, SecurityHeadersMiddleware, parse_embed_origins
from tests.robustness.conftest import Server, make_tree, start, stop

if TYPE_CHECKING:
    from gallery.server import ServeConfig

CLIENT_IP = "10.0.3.1"
EMBED = "https://school.example.org"
SELF = "'self'"
EVIL = "evil.example.com"
# Appended to each mount ("/" or "/demo/<sector>/<slug>/"), sent byte for byte: Gradio < 6.20 redirects the
# first ones to the named host (gradio-app/gradio#13593); the rest are spellings a browser reads as that host.
BAITS = [
    f"gradio_api/file=https://{EVIL}/x", f"gradio_api/file/https://{EVIL}/x", f"file=https://{EVIL}/x",
    f"gradio_api/proxy=https://{EVIL}/x", f"proxy=https://{EVIL}/x", f"/{EVIL}/x", f"\\{EVIL}", f"\\\\{EVIL}",
    f"%2F%2F{EVIL}", f"https%3A%2F%2F{EVIL}", f"gradio_api/file=%68ttps://{EVIL}", f"gradio_api/file=//{EVIL}/x",
    f"gradio_api/file=https:%2F%2F{EVIL}%2Fx", f"gradio_api/file=HTTPS://{EVIL}/x", f"gradio_api/file=https:\\\\{EVIL}",
    f"gradio_api/file=https:{EVIL}", f"gradio_api/file/%2F%2F{EVIL}", f"file=http://{EVIL}:80/x?a=1#b",
    f"gradio_api/file=https://127.0.0.1@{EVIL}/x", "gradio_api/file=javascript:alert(1)",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One `gallery run --embed-origins https://school.example.org` on the fixture demos."""
    root = tmp_path_factory.mktemp("security-server")
    served = start(root, make_tree(root), "--embed-origins", EMBED)
    yield served
    stop(served)


def _request(server: Server, path: str, method: str = "GET", body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
    """Send `path` byte for byte (httpx would normalise `\\`, `//` and %-escapes); return status, headers, body."""
    conn = http.client.HTTPConnection(urlsplit(server.url).netloc, timeout=60)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in {"x-forwarded-for": CLIENT_IP, **(headers or {})}.items():
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("content-length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        # Event streams never end (no Content-Length): for them only the headers are read.
        return response.status, response.headers, response.read() if response.length is not None else b""
    finally:
        conn.close()


def _off_host(server: Server, path: str, location: str) -> str | None:
    """Return where a Location leads when that is another host than the server's (read as a browser would)."""
    target = urlsplit(urljoin(server.url + path, location.strip().replace("\\", "/")))
    same = target.scheme in ("http", "https") and target.netloc == urlsplit(server.url).netloc
    return None if same else target.geturl()


def _mounts(server: Server) -> list[str]:
    demos = httpx.get(server.url + "/api/demos", headers={"x-forwarded-for": CLIENT_IP}, timeout=30).json()
    ids = [demo["id"] for demo in demos]
    assert "education/echo" in ids, ids
    return ["/", *(f"/demo/{demo_id}/" for demo_id in ids)]


def _assert_secured(headers: http.client.HTTPMessage | httpx.Headers, frame_ancestors: str, where: str) -> None:
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy") == "strict-origin-when-cross-origin", where
    assert headers.get("content-security-policy") == f"frame-ancestors {frame_ancestors}", where


def test_no_mount_redirects_to_another_host(server: Server) -> None:
    for mount in _mounts(server):
        for bait in BAITS:
            path = mount + bait
            status, headers, _ = _request(server, path)
            _assert_secured(headers, EMBED if mount.startswith("/demo/") else SELF, f"mount {mount}: GET {path}")
            if 300 <= status < 400 and headers.get("location") is not None:
                target = _off_host(server, path, headers["location"])
                assert target is None, f"mount {mount}: GET {path} redirects ({status}) to another host: {target}"


def test_headers_on_every_kind_of_response(server: Server) -> None:
    example = server.root / "demos" / "education" / "echo" / "examples" / "sample.txt"
    page = "/demo/education/echo/"
    _request(server, page)  # built on its first request
    home = _request(server, "/")
    asset = re.search(r'(?:src|href)="(?:\./|/)?(assets/[^"?]+\.(?:js|css))"', home[2].decode("utf-8", "replace"))
    assert home[0] == 200 and asset, "the gallery page names no Gradio asset"
    cases = [
        ("GET", "/", 200, SELF), ("GET", page, 200, EMBED), ("GET", "/api/demos", 200, SELF),
        ("GET", "/api/openapi.json", 200, SELF), ("GET", "/" + asset.group(1), 200, SELF),
        ("GET", f"{page}{asset.group(1)}", 200, EMBED), ("GET", f"/gradio_api/file={example}", 200, SELF),
        ("GET", f"{page}gradio_api/file={example}", 200, EMBED), ("GET", "/config", 200, SELF),
        ("GET", "/api/demos/education/nope", 404, SELF), ("GET", "/no/such/page", 404, SELF),
        ("GET", "/demo/education/nope/", 404, EMBED), ("POST", "/api/demos/education/echo", 422, SELF),
        ("GET", "/gradio_api/heartbeat/abc", 200, SELF), ("GET", f"{page}gradio_api/heartbeat/abc", 200, EMBED),
    ]
    for method, path, status, frame_ancestors in cases:
        body = b'{"text": 5}' if method == "POST" else None
        got, headers, _ = _request(server, path, method, body, {"content-type": "application/json"} if body else None)
        assert got == status, f"{method} {path}: {got}"
        _assert_secured(headers, frame_ancestors, f"{method} {path}")
        assert len(headers.get_all("content-security-policy") or []) == 1, f"{method} {path}: CSP set twice"


def test_same_host_trailing_slash_redirect_still_works(server: Server) -> None:
    with httpx.Client(base_url=server.url, headers={"x-forwarded-for": CLIENT_IP}, timeout=60) as client:
        bare = client.get("/demo/education/echo", follow_redirects=False)
        assert bare.is_redirect, bare.status_code  # Starlette adds the slash for the mount
        assert urlsplit(bare.headers["location"]).path == "/demo/education/echo/"
        assert _off_host(server, "/demo/education/echo", bare.headers["location"]) is None
        _assert_secured(bare.headers, EMBED, "trailing-slash redirect")
        page = client.get("/demo/education/echo", follow_redirects=True)
        assert page.status_code == 200 and "Echo robustness fixture" in page.text


# The middleware alone, on a tiny app.

# (Location, allowed?) for a request to http://testserver.
LOCATIONS = [
    ("/demo/a/b/", True), ("b/", True), ("?page=2", True), ("http://testserver/x", True),
    ("https://testserver/x", True), ("http://TESTSERVER:80/x", True), ("../../..", True),
    (f"https://{EVIL}/x", False), (f"//{EVIL}/x", False), (f"/\\{EVIL}", False), (f"\\\\{EVIL}", False),
    (f" \t//{EVIL}", False), (f"https:{EVIL}", False), (f"https:/{EVIL}", False), ("javascript:alert(1)", False),
    ("data:text/html,hi", False), (f"http://testserver@{EVIL}/", False), ("http://testserver:8080/", False),
    (f"ftp://{EVIL}/", False), ("http://testserver:99999/", False),
]


def _tiny_app(root_path: str = "") -> TestClient:
    """Return a client of a small app behind the middleware: a page, a demo page, and a redirect per LOCATIONS."""
    async def chunks() -> AsyncIterator[bytes]:
        yield b"redirecting "
        yield b"you away"

    routes = [
        Route("/page", lambda request: PlainTextResponse("hi", headers={
            "content-security-policy": "default-src *", "x-content-type-options": "sniff", "x-kept": "yes"})),
        Route("/demo/a/b/", lambda request: PlainTextResponse("demo")),
        Route("/stream-away", lambda request: StreamingResponse(chunks(), status_code=307,
                                                                headers={"location": f"https://{EVIL}/"})),
    ]
    # A plain Response: RedirectResponse would %-escape the backslashes away.
    routes += [Route(f"/to/{index}", lambda request, loc=location: Response(status_code=302, headers={"location": loc}))
               for index, (location, _) in enumerate(LOCATIONS)]
    app = SecurityHeadersMiddleware(Starlette(routes=routes), embed_origins=(EMBED, "https://*.example.com"),
                                    root_path=root_path)
    return TestClient(app, base_url="http://testserver", root_path=root_path)


@pytest.mark.parametrize(("index", "location", "allowed"), [(i, loc, ok) for i, (loc, ok) in enumerate(LOCATIONS)])
def test_middleware_refuses_only_redirects_to_another_host(index: int, location: str, allowed: bool) -> None:
    response = _tiny_app().get(f"/to/{index}", follow_redirects=False)
    if allowed:
        assert response.status_code == 302 and response.headers["location"] == location
    else:
        assert response.status_code == 403 and "location" not in response.headers
        assert response.json() == {"detail": REFUSED}
    _assert_secured(response.headers, SELF, location)


def test_middleware_sets_its_headers_once_and_keeps_the_others() -> None:
    client = _tiny_app()
    page = client.get("/page")
    assert page.text == "hi" and page.headers["x-kept"] == "yes"
    _assert_secured(page.headers, SELF, "/page")
    assert len(page.headers.get_list("content-security-policy")) == 1
    _assert_secured(client.get("/demo/a/b/").headers, f"{EMBED} https://*.example.com", "/demo/a/b/")
    _assert_secured(client.get("/nothing-here").headers, SELF, "404")
    away = client.get("/stream-away", follow_redirects=False)
    assert away.status_code == 403 and away.json() == {"detail": REFUSED}  # none of the app's own body


def test_middleware_honours_the_root_path() -> None:
    client = _tiny_app(root_path="/gallery")  # uvicorn puts the root path in front of the path, as here
    demo = client.get("/gallery/demo/a/b/")
    assert demo.text == "demo"
    _assert_secured(demo.headers, f"{EMBED} https://*.example.com", "/gallery/demo/a/b/")
    _assert_secured(client.get("/gallery/page").headers, SELF, "/gallery/page")
    _assert_secured(client.get("/gallery/page/demo/a/b/").headers, SELF, "/gallery/page/demo/a/b/")


def test_auth_401_carries_the_headers(tmp_path: Path) -> None:
    from gallery.server import ServeConfig, create_app

    app, _ = create_app(ServeConfig(demos_dir=make_tree(tmp_path), cache_dir=tmp_path / "c", data_dir=tmp_path / "d",
                                    auth=("alice", "pw"), rate_limit=None, select=["education/echo"],
                                    embed_origins=(EMBED,)))
    client = TestClient(app)  # no lifespan: nothing gets past --auth anyway
    for path, frame_ancestors in (("/", SELF), ("/api/demos", SELF), ("/demo/education/echo/", EMBED)):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 401 and "www-authenticate" in response.headers, path
        _assert_secured(response.headers, frame_ancestors, path)


# --embed-origins

@pytest.mark.parametrize(("value", "parsed"), [
    ("*", ("*",)), ("'self'", (SELF,)), ("'SELF'", (SELF,)), (EMBED, (EMBED,)),
    (f"{EMBED} https://*.example.com", (EMBED, "https://*.example.com")),
    (f" {EMBED},https://*.example.com , 'self' ", (EMBED, "https://*.example.com", SELF)),
    (f"{EMBED} {EMBED}", (EMBED,)), ("http://localhost:8080", ("http://localhost:8080",)),
])
def test_embed_origins_accepts(value: str, parsed: tuple[str, ...]) -> None:
    assert parse_embed_origins(value) == parsed


@pytest.mark.parametrize("value", [
    "", " , ", "school.example.org", f"{EMBED}/path", f"{EMBED}; script-src *", f"{EMBED};", "'none'",
    f"'{EMBED}'", f'"{EMBED}"', "'unsafe-inline'", "https://exa mple.org", "https://*", "https://a.*.org",
    "https://example.org:0", "https://example.org:123456", "javascript:alert(1)", "https://", "**",
])
def test_embed_origins_rejects(value: str) -> None:
    with pytest.raises(ValueError, match="embed origin"):
        parse_embed_origins(value)


@pytest.fixture
def served_config(monkeypatch: pytest.MonkeyPatch) -> list[ServeConfig]:
    """Capture the ServeConfig that `gallery run` would serve instead of serving it."""
    configs: list[ServeConfig] = []
    monkeypatch.setattr("gallery.server.serve", configs.append)
    monkeypatch.delenv(EMBED_ORIGINS_ENV, raising=False)
    return configs


def test_run_takes_embed_origins_from_the_option_or_the_env(tmp_path: Path, served_config: list[ServeConfig],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["run", "--demos-dir", str(tmp_path)]) == 0
    assert main(["run", "--demos-dir", str(tmp_path), "--embed-origins", f"{EMBED}, https://*.example.com"]) == 0
    monkeypatch.setenv(EMBED_ORIGINS_ENV, "https://env.example.org")
    assert main(["run", "--demos-dir", str(tmp_path)]) == 0
    assert main(["run", "--demos-dir", str(tmp_path), "--embed-origins", "'self'"]) == 0
    assert [c.embed_origins for c in served_config] == [
        ("*",), (EMBED, "https://*.example.com"), ("https://env.example.org",), (SELF,)]


def test_run_reports_bad_embed_origins(tmp_path: Path, served_config: list[ServeConfig], monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--demos-dir", str(tmp_path), "--embed-origins", f"{EMBED};script-src"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "argument --embed-origins" in err and "scheme://host[:port]" in err
    monkeypatch.setenv(EMBED_ORIGINS_ENV, "'unsafe-inline'")
    assert main(["run", "--demos-dir", str(tmp_path)]) == 2
    assert EMBED_ORIGINS_ENV in capsys.readouterr().err
    assert served_config == []
