"""Request size limits hold before the body is read (declared or chunked), and uploads leave no temp files."""

from __future__ import annotations

import http.client
import json
import os
import select
import socket
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.robustness.conftest import REQUEST_LIMIT, Server

URL = "/api/demos/education/echo"
CLIENT_IP = "10.0.3.1"
BOUNDARY = "omboundary7d1c"


def _send(server: Server, head: dict[str, str], chunks: Iterable[bytes], chunked: bool = False,
          timeout: float = 30) -> tuple[int, bytes]:
    """POST with raw sockets; stop sending as soon as the server answers; return (status, body)."""
    host, port = urlsplit(server.url).netloc.split(":")
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    try:
        lines = [f"POST {URL} HTTP/1.1", f"Host: {host}", f"X-Forwarded-For: {CLIENT_IP}",
                 *(f"{k}: {v}" for k, v in head.items())]
        if chunked:
            lines.append("Transfer-Encoding: chunked")
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        for chunk in chunks:
            if select.select([sock], [], [], 0)[0]:  # the server has answered: stop sending
                break
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        else:
            if chunked:
                try:
                    sock.sendall(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.read()
    finally:
        sock.close()


def _multipart(text: str, doc: bytes, name: str = "notes.txt") -> tuple[bytes, bytes]:
    """Return (the multipart body before the file bytes, the closing part) around `doc`."""
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n{text}\r\n"
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"{name}\"\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode()
    return head + doc, f"\r\n--{BOUNDARY}--\r\n".encode()


def _in_chunks(data: bytes, size: int = 64 * 1024) -> Iterable[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


def _temp_files(server: Server) -> list[str]:
    """Temporary files the server holds open or left in its TMPDIR (spooled uploads land there)."""
    fd_dir = Path(f"/proc/{server.process.pid}/fd")
    held = []
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(server.tmp)) or ("(deleted)" in target and "/tmp" in target):
            held.append(target)
    return held + [str(p) for p in server.tmp.iterdir()]


def test_json_body_at_the_limit_is_read_and_one_byte_over_is_413(echo_server: Server) -> None:
    prefix = b'{"text": "at the limit"'
    exact = prefix + b" " * (REQUEST_LIMIT - len(prefix) - 1) + b"}"
    assert len(exact) == REQUEST_LIMIT
    with echo_server.client(CLIENT_IP) as client:
        ok = client.post(URL, content=exact, headers={"content-type": "application/json"})
        assert ok.status_code == 200, ok.text
        over = client.post(URL, content=exact + b" ", headers={"content-type": "application/json"})
    assert over.status_code == 413
    assert f"{REQUEST_LIMIT + 1:,} bytes; the limit is {REQUEST_LIMIT:,}" in over.json()["detail"]


@pytest.mark.parametrize("content_type", ["application/json", f"multipart/form-data; boundary={BOUNDARY}"])
def test_declared_length_over_the_limit_is_refused_before_any_body(echo_server: Server, content_type: str) -> None:
    # Not one byte of the body is sent: the answer can only come from the Content-Length header.
    status, body = _send(echo_server, {"Content-Type": content_type, "Content-Length": str(REQUEST_LIMIT + 1)}, [],
                         timeout=20)
    assert status == 413 and "limit" in json.loads(body)["detail"]


def test_chunked_json_without_length_is_cut_off_at_the_limit(echo_server: Server) -> None:
    data = b'{"text": "' + b"x" * (2 * REQUEST_LIMIT) + b'"}'
    status, body = _send(echo_server, {"Content-Type": "application/json"}, _in_chunks(data), chunked=True)
    assert status == 413 and "larger than the limit" in json.loads(body)["detail"]


def test_chunked_multipart_without_length_is_cut_off_at_the_limit(echo_server: Server) -> None:
    head, tail = _multipart("big upload", b"y" * (REQUEST_LIMIT + 500_000))
    status, body = _send(echo_server, {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
                         _in_chunks(head + tail), chunked=True)
    assert status == 413 and "larger than the limit" in json.loads(body)["detail"]
    assert not _temp_files(echo_server)


def test_small_chunked_bodies_still_work(echo_server: Server) -> None:
    status, body = _send(echo_server, {"Content-Type": "application/json"}, [b'{"text": ', b'"two words"}'],
                         chunked=True)
    assert status == 200 and json.loads(body) == {"summary": {"words": 2, "doc_bytes": 0}}
    head, tail = _multipart("one", b"z" * 1000)
    status, body = _send(echo_server, {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
                         _in_chunks(head + tail, 300), chunked=True)
    assert status == 200 and json.loads(body) == {"summary": {"words": 1, "doc_bytes": 1000}}


def test_multipart_uploads_leave_no_temp_files(echo_server: Server) -> None:
    doc = b"w" * 2_000_000  # over Starlette's 1 MB in-memory threshold: the upload is spooled to TMPDIR
    with echo_server.client(CLIENT_IP) as client:
        for _ in range(3):
            response = client.post(URL, data={"text": "a b c"}, files={"doc": ("notes.txt", doc, "text/plain")})
            assert response.status_code == 200, response.text
            assert response.json() == {"summary": {"words": 3, "doc_bytes": len(doc)}}
        bad = client.post(URL, data={"text": "a", "nope": "x"}, files={"doc": ("notes.txt", doc, "text/plain")})
        assert bad.status_code == 422 and "unknown input" in bad.json()["detail"]
    assert not _temp_files(echo_server)


def test_malformed_multipart_is_400_with_reason(echo_server: Server) -> None:
    response = httpx.post(echo_server.url + URL, content=b"--nope\r\ngarbage",
                          headers={"content-type": "multipart/form-data; boundary=other",
                                   "x-forwarded-for": CLIENT_IP})
    assert response.status_code in (400, 422), response.text
    assert response.json()["detail"]
