"""`--auth` and `--api-token` guard every route of a real server: UI pages, standalone pages, Gradio's API and
files, JSON API, MCP."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gallery.auth import COOKIE, parse_auth
from tests.robustness.conftest import make_tree, serve_app

USER, PASSWORD = "alice", "s3cret:with-colon"
API_NAME = "/education-echo"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Serve the fixture demos with --auth; yield (base URL, an example file's absolute path)."""
    from gallery.server import ServeConfig, create_app, example_files

    root = tmp_path_factory.mktemp("auth")
    app, service = create_app(ServeConfig(demos_dir=make_tree(root), cache_dir=root / "cache", data_dir=root / "data",
                                          auth=parse_auth(f"{USER}:{PASSWORD}"), rate_limit=None,
                                          select=["education/echo"]))
    [example] = example_files(service)
    with serve_app(app) as url:
        yield url, example


def _routes(example: str) -> list[tuple[str, str]]:
    # Pages, Gradio's own routes (including those Gradio leaves open even with its auth), files, the JSON API.
    gets = ["/", "/?demo=education/echo", "/demo/education/echo/", "/config", "/demo/education/echo/config",
            "/gradio_api/info", "/gradio_api/openapi.json", "/gradio_api/heartbeat/abc", "/gradio_api/startup-events",
            "/gradio_api/upload_progress?upload_id=x", "/gradio_api/deep_link?session_hash=x", "/gradio_api/app_id",
            "/gradio_api/queue/data?session_hash=x", f"/gradio_api/file={example}", f"/file={example}",
            f"/demo/education/echo/gradio_api/file={example}", "/theme.css", "/manifest.json", "/monitoring",
            "/monitoring/summary", "/static/img/logo.svg", "/favicon.ico", "/api/demos", "/api/demos/education/echo",
            "/api/openapi.json", "/api/docs", "/mcp", "/mcp/education"]
    posts = ["/api/demos/education/echo", "/api/demos/education/echo/feedback", "/mcp", "/mcp/", "/mcp/education",
             "/mcp/no-such-sector", "/gradio_api/upload",
             "/gradio_api/queue/join", f"/gradio_api/call{API_NAME}", "/gradio_api/reset", "/gradio_api/cancel",
             "/gradio_api/process_recording", "/demo/education/echo/gradio_api/queue/join"]
    return [("GET", p) for p in gets] + [("POST", p) for p in posts]


def _status(method: str, url: str, **kwargs: object) -> int:
    # Stream: some Gradio routes (heartbeat) are endless event streams once let through.
    with httpx.stream(method, url, timeout=15, **kwargs) as response:  # type: ignore[arg-type]
        return response.status_code


def _basic(user: str, password: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_every_route_needs_credentials(served: tuple[str, str]) -> None:
    url, example = served
    open_routes = [(m, p, s) for m, p in _routes(example) if (s := _status(m, url + p, json={} if m == "POST" else None)) != 401]
    assert not open_routes, f"answered without credentials: {open_routes}"


@pytest.mark.parametrize("headers", [
    _basic(USER, "wrong"), _basic("bob", PASSWORD), {"authorization": "Basic !!!notbase64"},
    {"authorization": "Bearer " + PASSWORD}, {"cookie": f"{COOKIE}=forged"}, _basic(USER, PASSWORD[:-1]),
])
def test_wrong_credentials_are_refused(served: tuple[str, str], headers: dict[str, str]) -> None:
    url, _ = served
    for path in ("/", "/config", "/api/demos", "/gradio_api/heartbeat/abc"):
        assert _status("GET", url + path, headers=headers) == 401, path


def test_401_tells_the_browser_to_ask(served: tuple[str, str]) -> None:
    response = httpx.get(served[0] + "/")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Basic realm="OpenModels Gallery"')
    assert "authentication required" in response.json()["detail"]


def test_right_credentials_open_ui_and_apis(served: tuple[str, str]) -> None:
    url, example = served
    with httpx.Client(base_url=url, auth=(USER, PASSWORD), timeout=30) as client:
        for path in ("/", "/?demo=education/echo", "/config", "/gradio_api/info", "/theme.css", "/api/demos",
                     "/api/openapi.json", f"/gradio_api/file={example}"):
            assert client.get(path).status_code == 200, path
        page = client.get("/demo/education/echo/", follow_redirects=True)
        assert page.status_code == 200 and "Echo robustness fixture" in page.text
        assert client.get(f"/gradio_api/file={example}").text.startswith("An example document")
        run = client.post("/api/demos/education/echo", json={"text": "one two three"})
        assert run.status_code == 200 and run.json() == {"summary": {"words": 3, "doc_bytes": 0}}
        assert client.post("/api/demos/education/echo/feedback", json={"rating": "up"}).status_code == 201


def test_gradio_client_logs_in_with_auth(served: tuple[str, str]) -> None:
    from gradio_client import Client

    url, _ = served
    for make in (lambda: Client(url + "/", auth=(USER, PASSWORD), verbose=False),
                 lambda: Client(url + "/", httpx_kwargs={"auth": (USER, PASSWORD)}, verbose=False),
                 lambda: Client(url + "/demo/education/echo/", auth=(USER, PASSWORD), verbose=False)):
        client = make()
        try:
            assert client.predict(text="a b", doc=None, api_name=API_NAME) == {"summary": {"words": 2, "doc_bytes": 0}}
        finally:
            client.close()


def test_gradio_client_without_or_with_wrong_auth_fails(served: tuple[str, str]) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AuthenticationError

    url, _ = served
    with pytest.raises(AuthenticationError):
        Client(url + "/", verbose=False)
    with pytest.raises(AuthenticationError):
        Client(url + "/", auth=(USER, "nope"), verbose=False)


def test_login_cookie_is_signed_and_http_only(served: tuple[str, str]) -> None:
    url, _ = served
    login = httpx.post(url + "/login", data={"username": USER, "password": PASSWORD})
    assert login.status_code == 200 and login.json() == {"success": True}
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and PASSWORD not in cookie
    assert httpx.get(url + "/api/demos", cookies=login.cookies).status_code == 200
    assert httpx.post(url + "/login", data={"username": USER, "password": "x"}).status_code == 401
    assert httpx.post(url + "/login", content=b"username=" + b"a" * 10_000,
                      headers={"content-type": "application/x-www-form-urlencoded"}).status_code == 413


@pytest.mark.parametrize("value", ["nopassword", ":pw", "user:", ""])
def test_parse_auth_rejects_incomplete_values(value: str) -> None:
    with pytest.raises(ValueError, match="user:password"):
        parse_auth(value)


def test_parse_auth_keeps_colons_in_the_password() -> None:
    assert parse_auth("u:p:q") == ("u", "p:q")


def test_no_auth_means_open(tmp_path: Path) -> None:
    from gallery.server import ServeConfig, create_app

    app, _ = create_app(ServeConfig(demos_dir=make_tree(tmp_path), cache_dir=tmp_path / "c", data_dir=tmp_path / "d",
                                    rate_limit=None, select=["education/echo"], standalone_pages=False))
    with serve_app(app) as url:
        assert httpx.get(url + "/config").status_code == 200


def test_api_token_alone_locks_every_route_behind_the_token(tmp_path: Path) -> None:
    from gallery.server import ServeConfig, create_app

    token = "tok_" + "x" * 20
    app, _ = create_app(ServeConfig(demos_dir=make_tree(tmp_path), cache_dir=tmp_path / "c", data_dir=tmp_path / "d",
                                    rate_limit=None, select=["education/echo"], api_token=token))
    good = {"authorization": f"Bearer {token}"}
    with serve_app(app) as url:
        for path in ("/", "/config", "/api/demos", "/demo/education/echo/"):
            refused = httpx.get(url + path, timeout=30)
            assert refused.status_code == 401, path
            assert refused.headers["www-authenticate"].startswith('Bearer realm="OpenModels Gallery"')
            assert "--api-token" in refused.json()["detail"] and "--auth" not in refused.json()["detail"]
            assert httpx.get(url + path, headers={"authorization": f"Bearer {token}x"}, timeout=30).status_code == 401
            assert httpx.get(url + path, headers=_basic("api-token", token), timeout=30).status_code == 401
            assert httpx.get(url + path, headers=good, timeout=30, follow_redirects=True).status_code == 200, path
        # Without --auth there is no login form to get a cookie from.
        assert httpx.post(url + "/login", data={"username": "api-token", "password": token}).status_code == 401
        run = httpx.post(url + "/api/demos/education/echo", json={"text": "a b"}, headers=good, timeout=30)
        assert run.status_code == 200 and run.json() == {"summary": {"words": 2, "doc_bytes": 0}}


@pytest.mark.parametrize("value", ["", "short", "two words here", "ünïcode-token", "token\nnewline"])
def test_parse_api_token_rejects_unusable_tokens(value: str) -> None:
    from gallery.auth import parse_api_token

    with pytest.raises(ValueError, match="at least 8 characters"):
        parse_api_token(value)


def test_api_token_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from gallery.auth import api_token_from_env, parse_api_token

    assert parse_api_token(" abc.DEF-123_~+/== ") == "abc.DEF-123_~+/=="
    monkeypatch.setenv("OPENMODELS_API_TOKEN", "from-the-env-42")
    assert api_token_from_env() == "from-the-env-42"
    monkeypatch.setenv("OPENMODELS_API_TOKEN", "")
    assert api_token_from_env() is None
