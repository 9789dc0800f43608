"""No file outside the demo folders and the cache is ever served: traversal attempts on every file route."""

from __future__ import annotations

import http.client
import os
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from tests.robustness.conftest import SECRET, Server

CLIENT_IP = "10.0.2.1"
DEPTH = 12  # enough "../" to climb from any route or folder to /


def _get(server: Server, path: str) -> tuple[int, bytes]:
    """Send `path` byte for byte (no client-side normalisation of ../ or %2e) and return status and body."""
    netloc = urlsplit(server.url).netloc
    conn = http.client.HTTPConnection(netloc, timeout=30)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.putheader("x-forwarded-for", CLIENT_IP)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read(2_000_000)
    finally:
        conn.close()


def _targets(server: Server) -> dict[str, tuple[Path, bytes]]:
    """Files that must never be served, each with a marker of its content."""
    demo = server.root / "demos" / "education" / "echo"
    evil = demo / "examples" / "evil.txt"  # a symlink inside a demo folder that points outside it
    if not evil.is_symlink():
        evil.symlink_to(server.root / "outside-secret.txt")
    return {
        "passwd": (Path("/etc/passwd"), b"root:x:0:0"),
        "outside": (server.root / "outside-secret.txt", SECRET.encode()),
        "demo-code": (demo / "app.py", b"def predict(ctx"),  # inside a demo folder, but not an example
        "symlink": (evil, SECRET.encode()),
        "feedback-db": (server.data / "feedback.sqlite3", b"SQLite format 3"),
    }


def _attempts(target: Path, example: Path) -> list[str]:
    absolute = str(target)
    rel = absolute.lstrip("/")
    up = "../" * DEPTH
    from_example = str(example.parent) + "/" + os.path.relpath(target, example.parent)
    encodings = [up, "%2e%2e/" * DEPTH, "..%2f" * DEPTH, "%2e%2e%2f" * DEPTH, "%252e%252e%252f" * DEPTH,
                 "..%5c" * DEPTH, "....//" * DEPTH, "..;/" * DEPTH]
    paths = []
    for prefix in ("", "/demo/education/echo"):
        paths += [f"{prefix}/file={absolute}", f"{prefix}/gradio_api/file={absolute}",
                  f"{prefix}/gradio_api/file={quote(absolute, safe='')}", f"{prefix}/gradio_api/file/{rel}",
                  f"{prefix}/gradio_api/file={from_example}", f"{prefix}/gradio_api/file={quote(from_example)}",
                  f"{prefix}/gradio_api/file={example!s}/{up}{rel}",
                  f"{prefix}/gradio_api/file={example!s}%00/{up}{rel}",
                  f"{prefix}/gradio_api/file=file://{absolute}", f"{prefix}/gradio_api/proxy=file://{absolute}",
                  f"{prefix}/gradio_api/proxy={absolute}"]
        for climb in encodings:
            for route in ("static", "assets", "svelte", "gradio_api/file=", "file=", "theme.css/", "demo", ""):
                joint = "" if route.endswith("=") else "/"
                paths.append(f"{prefix}/{route}{joint}{climb}{rel}".replace("//", "/"))
        paths += [f"{prefix}/custom_component/x/client/js/{quote(up + rel, safe='')}",
                  f"{prefix}/gradio_api/custom_component/x/client/js/{quote(up + rel, safe='')}"]
    paths += [f"//{rel}", f"/api/demos/{'..%2f' * DEPTH}{rel}", f"/api/demos/{quote(absolute, safe='')}",
              f"/demo/{up}{rel}", f"/demo/education/echo/{up}{rel}", f"/demo/{'%2e%2e/' * DEPTH}{rel}"]
    return sorted(set(paths))


def test_the_example_file_is_served_so_the_routes_are_live(echo_server: Server) -> None:
    example = echo_server.root / "demos" / "education" / "echo" / "examples" / "sample.txt"
    for path in (f"/gradio_api/file={example}", f"/demo/education/echo/gradio_api/file={example}"):
        status, body = _get(echo_server, path)
        assert status == 200 and body.startswith(b"An example document"), path


@pytest.mark.parametrize("name", ["passwd", "outside", "demo-code", "symlink", "feedback-db"])
def test_traversal_never_serves_a_file_outside_allowed_dirs(echo_server: Server, name: str) -> None:
    target, marker = _targets(echo_server)[name]
    assert marker in target.read_bytes()  # the marker is really in the file: its absence below means something
    example = echo_server.root / "demos" / "education" / "echo" / "examples" / "sample.txt"
    leaks, errors = [], []
    for path in _attempts(target, example):
        status, body = _get(echo_server, path)
        if marker in body:
            leaks.append((status, path))
        if status >= 500:
            errors.append((status, path))
    assert not leaks, f"{name} served by: {leaks}"
    assert not errors, f"server errors on: {errors[:10]}"
