"""Every demo as an MCP tool: the official MCP client against a real `gallery run` (streamable HTTP, real models)
and against `gallery mcp` (stdio)."""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import itertools
import os
import shutil
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client, ClientSession, MCPError, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from gallery.server import ServeConfig, create_app
from tests.conftest import ARTIFACTS, ROOT
from tests.serving import launch_gallery, stop


def run_async(fn: Any, *args: Any) -> Any:
    """Run an async function in a thread of its own: in a full run the browser tests' Playwright keeps an event
    loop running in the main thread, where `anyio.run` refuses to start another."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, fn, *args).result()


CORE_FIXTURES = ROOT / "tests" / "core" / "fixtures" / "demos"
ROBUST_FIXTURES = ROOT / "tests" / "robustness" / "fixtures" / "demos"
REAL = ["finance/banking-intent", "education/image-explorer", "healthcare/clinical-dictation",
        "education/lecture-transcriber"]
USER, PASSWORD, TOKEN = "agent", "pw:with-colon", "test-token-5f2a9c"
RATE = 12  # tool calls and API requests per client per hour (each test is its own client)
REQUEST_LIMIT = 3_000_000  # OPENMODELS_MAX_REQUEST_BYTES of the server: the example files fit, 3 MB does not
TOOLS = {"finance_banking_intent", "finance_import_error", "education_image_explorer", "education_word_stats",
         "education_echo", "education_lecture_transcriber", "healthcare_clinical_dictation"}
AVAILABLE = TOOLS - {"finance_import_error"}
_ips = (f"10.77.{n // 250}.{n % 250 + 1}" for n in itertools.count())


def bearer(ip: str | None = None) -> dict[str, str]:
    """Return headers authenticating with the API token, as client `ip` for the rate limit."""
    return {"authorization": f"Bearer {TOKEN}", "x-forwarded-for": ip or next(_ips)}


def basic(ip: str | None = None) -> dict[str, str]:
    """Return headers authenticating with HTTP Basic, as client `ip` for the rate limit."""
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    return {"authorization": f"Basic {token}", "x-forwarded-for": ip or next(_ips)}


def data_url(path: Path, mime: str) -> str:
    """Return a file as a base64 data URL."""
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode()


@dataclass
class Live:
    """The running gallery and its demos folder."""

    url: str
    demos: Path

    def api(self, demo_id: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        """POST a JSON body to a demo's JSON API."""
        return httpx.post(f"{self.url}/api/demos/{demo_id}", json=body, headers=headers or bearer(), timeout=600)


def make_tree(root: Path) -> Path:
    """Copy four real demos and the fixture demos (text, file, failing, unavailable) under root/demos."""
    demos = root / "demos"
    ignore = shutil.ignore_patterns("__pycache__")
    for demo_id in REAL:
        shutil.copytree(ROOT / "demos" / demo_id, demos / demo_id, ignore=ignore)
    for source, demo_id in ((CORE_FIXTURES, "education/word-stats"), (CORE_FIXTURES, "finance/import-error"),
                            (ROBUST_FIXTURES, "education/echo")):
        shutil.copytree(source / demo_id, demos / demo_id, ignore=ignore)
    return demos


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """Serve the tree with --auth, --api-token and a small rate limit; models from the shared test cache."""
    root = tmp_path_factory.mktemp("mcp")
    demos = make_tree(root)
    process, url = launch_gallery(
        demos, "--auth", f"{USER}:{PASSWORD}", "--api-token", TOKEN, "--rate-limit", f"{RATE}/h",
        "--data-dir", str(root / "data"), log=ARTIFACTS / f"mcp-server-{time.time_ns()}.log",
        env={"OPENMODELS_MAX_REQUEST_BYTES": str(REQUEST_LIMIT)}, ready_path="/api/demos",
        headers=bearer("10.77.255.1"), timeout=180)
    yield Live(url, demos)
    stop(process)


@contextlib.asynccontextmanager
async def mcp_session(url: str, headers: dict[str, str]) -> AsyncIterator[ClientSession]:
    """Open an initialized MCP client session over streamable HTTP."""
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=600)) as http:
        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield session


def call(url: str, name: str, arguments: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    """Call one tool over streamable HTTP and return the CallToolResult."""

    async def go() -> Any:
        async with mcp_session(url, headers or bearer()) as session:
            return await session.call_tool(name, arguments)

    return run_async(go)


def text_of(result: Any) -> str:
    """Return a tool result's text blocks, joined."""
    return "\n".join(block.text for block in result.content if block.type == "text")


def test_tools_are_the_available_demos_with_manifest_schemas(live: Live) -> None:
    async def go() -> Any:
        async with mcp_session(live.url + "/mcp", bearer()) as session:
            return (await session.list_tools()).tools

    tools = {t.name: t for t in run_async(go)}
    assert set(tools) == AVAILABLE  # finance/import-error fails at import: no tool, its reason comes on a call
    intent = tools["finance_banking_intent"]
    assert intent.title == "Banking intent router"
    assert intent.input_schema["required"] == ["message"]
    assert intent.input_schema["properties"]["message"]["maxLength"] == 1000
    assert "Never type real account numbers" in intent.description  # the finance disclaimer
    assert "The gallery shows it as: Intent (label)" in intent.description
    assert intent.output_schema["type"] == "object" and intent.annotations.read_only_hint is True
    assert "not medical advice" in tools["healthcare_clinical_dictation"].description
    lecture = tools["education_lecture_transcriber"].input_schema
    assert lecture["properties"]["task"]["enum"] == ["transcribe", "translate"]
    assert lecture["properties"]["language"]["default"] == "auto" and lecture["required"] == ["audio"]
    assert "base64 data URL" in lecture["properties"]["audio"]["description"]
    words = tools["education_word_stats"].input_schema["properties"]["top_n"]
    assert (words["minimum"], words["maximum"], words["type"]) == (1, 20, "integer")
    # One schema source: the tool's input schema is the JSON API's request schema.
    api = httpx.get(f"{live.url}/api/demos/finance/banking-intent", headers=bearer(), timeout=30).json()
    assert intent.input_schema == api["request_schema"]


def test_sector_endpoint_lists_only_that_sector(live: Live) -> None:
    async def names(path: str) -> set[str]:
        async with mcp_session(live.url + path, bearer()) as session:
            return {t.name for t in (await session.list_tools()).tools}

    assert run_async(names, "/mcp/finance") == {"finance_banking_intent"}
    assert run_async(names, "/mcp/healthcare/") == {"healthcare_clinical_dictation"}
    assert run_async(names, "/mcp/transport") == set()
    missing = httpx.post(f"{live.url}/mcp/space", json={}, headers=bearer(), timeout=30)
    assert missing.status_code == 404 and "/mcp/finance" in missing.json()["detail"]


@pytest.mark.slow
def test_text_demo_returns_the_json_api_result(live: Live) -> None:
    body = {"message": "Help! I think I left my credit card in a cab last night"}
    result = call(live.url + "/mcp", "finance_banking_intent", body)
    assert not result.is_error, text_of(result)
    expected = live.api("finance/banking-intent", body).json()
    assert result.structured_content == expected
    assert result.content[0].text.startswith(f"intent: {expected['intent']}")


@pytest.mark.slow
def test_image_demo_takes_a_data_url(live: Live) -> None:
    image = data_url(live.demos / "education/image-explorer/examples/summer-palace.jpg", "image/jpeg")
    result = call(live.url + "/mcp/education", "education_image_explorer", {"image": image})
    assert not result.is_error, text_of(result)
    expected = live.api("education/image-explorer", {"image": image}).json()
    assert result.structured_content == expected and len(expected["labels"]) == 5
    assert expected["labels"][0]["label"] in result.content[0].text


@pytest.mark.slow
def test_audio_demo_takes_a_data_url(live: Live) -> None:
    audio = data_url(live.demos / "healthcare/clinical-dictation/examples/sore-throat-note.mp3", "audio/mpeg")
    result = call(live.url + "/mcp", "healthcare_clinical_dictation", {"audio": audio})  # first use loads Whisper
    assert not result.is_error, text_of(result)
    expected = live.api("healthcare/clinical-dictation", {"audio": audio}).json()
    assert result.structured_content == expected
    assert "throat" in expected["transcript"].lower()
    assert result.content[0].text.startswith("transcript: ")


@pytest.mark.parametrize(("name", "demo_id", "arguments"), [
    ("education_word_stats", "education/word-stats", {"text": "   "}),
    ("education_word_stats", "education/word-stats", {"text": "x", "top_n": 0}),
    ("education_word_stats", "education/word-stats", {"text": "x", "top_n": 2.5}),
    ("education_word_stats", "education/word-stats", {"text": "x", "extra": 1}),
    ("education_word_stats", "education/word-stats", {}),
    ("education_word_stats", "education/word-stats", {"text": "w " * 600}),
    ("education_image_explorer", "education/image-explorer", {"image": "data:image/png;base64,aGVsbG8="}),
    ("education_image_explorer", "education/image-explorer", {"image": "not base64 at all!"}),
])
def test_bad_input_is_a_tool_error_with_the_api_reason(live: Live, name: str, demo_id: str,
                                                       arguments: dict[str, Any]) -> None:
    ip = next(_ips)
    result = call(live.url + "/mcp", name, arguments, bearer(ip))
    api = live.api(demo_id, arguments, bearer(ip))
    assert api.status_code == 422
    assert result.is_error and text_of(result) == api.json()["detail"]
    assert result.structured_content is None


@pytest.mark.parametrize("image", [
    "https://example.com/cat.jpg", "file:///etc/passwd", "/etc/passwd", "ftp://10.0.0.1/x.png",
    str(ROOT / "demos/education/image-explorer/examples/summer-palace.jpg"),  # exists on the server: still refused
])
def test_urls_and_server_paths_are_refused_over_http(live: Live, image: str) -> None:
    result = call(live.url + "/mcp", "education_image_explorer", {"image": image})
    assert result.is_error and result.structured_content is None
    assert "image: " in text_of(result) and "base64 data URL" in text_of(result)
    if "://" in image:
        assert "never fetches URLs" in text_of(result)


def test_newer_protocol_clients_get_the_same_tools(live: Live) -> None:
    ip = next(_ips)

    async def go() -> tuple[str | None, Any, Any]:
        async with httpx2.AsyncClient(headers=bearer(ip), timeout=httpx2.Timeout(30, read=600)) as http:
            async with Client(streamable_http_client(live.url + "/mcp/education", http_client=http)) as client:
                tools = (await client.list_tools()).tools
                return client.protocol_version, tools, await client.call_tool("education_word_stats", {"text": "b a b"})

    version, tools, result = run_async(go)  # the SDK's Client negotiates the newest revision both sides speak
    assert version == "2026-07-28"
    assert {t.name for t in tools} == {"education_word_stats", "education_echo", "education_image_explorer",
                                       "education_lecture_transcriber"}
    assert result.structured_content == live.api("education/word-stats", {"text": "b a b"}, bearer(ip)).json()


def test_request_and_input_limits_apply(live: Live) -> None:
    huge = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "education_echo", "arguments": {"text": "x" * REQUEST_LIMIT}}}
    response = httpx.post(live.url + "/mcp", json=huge, timeout=60,
                          headers={**bearer(), "accept": "application/json, text/event-stream"})
    assert response.status_code == 413
    long_text = call(live.url + "/mcp", "education_echo", {"text": "w" * 2001})
    assert long_text.is_error and text_of(long_text) == "text: is 2,001 characters long; the limit is 2,000"


def test_unavailable_demo_unknown_tool_and_demo_failure_are_tool_errors(live: Live) -> None:
    ip = next(_ips)
    unavailable = call(live.url + "/mcp", "finance_import_error", {"text": "x"}, bearer(ip))
    api = live.api("finance/import-error", {"text": "x"}, bearer(ip))
    assert api.status_code == 503
    assert unavailable.is_error and text_of(unavailable) == api.json()["detail"]
    assert "boom at import" in text_of(unavailable)
    unknown = call(live.url + "/mcp/finance", "education_word_stats", {"text": "x"})  # another sector's tool
    assert unknown.is_error and "no tool 'education_word_stats' here" in text_of(unknown)
    failed = call(live.url + "/mcp", "education_echo", {"text": "fail: private words"})
    assert failed.is_error and text_of(failed) == "the demo failed on this input (RuntimeError)"
    assert "Traceback" not in text_of(failed) and "private" not in text_of(failed)


def test_endpoint_needs_credentials_basic_or_bearer(live: Live) -> None:
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    accept = {"accept": "application/json, text/event-stream"}
    for path in ("/mcp", "/mcp/finance"):
        for headers in ({}, {"authorization": "Bearer wrong-token-123"}, {"authorization": f"Bearer {TOKEN}x"},
                        {"authorization": "Basic " + base64.b64encode(b"agent:nope").decode()}):
            response = httpx.post(live.url + path, json=initialize, headers={**accept, **headers}, timeout=30)
            assert response.status_code == 401, (path, headers)
            assert "authentication required" in response.json()["detail"]
        assert httpx.get(live.url + path, timeout=30).status_code == 401
    refused = httpx.post(live.url + "/mcp", json=initialize, headers=accept, timeout=30)
    assert [v.split()[0] for v in refused.headers.get_list("www-authenticate")] == ["Basic", "Bearer"]

    async def tools(headers: dict[str, str]) -> set[str]:
        async with mcp_session(live.url + "/mcp", headers) as session:
            return {t.name for t in (await session.list_tools()).tools}

    assert run_async(tools, basic()) == run_async(tools, bearer()) == AVAILABLE
    # The token opens the JSON API too; a wrong one does not.
    assert live.api("education/word-stats", {"text": "a b a"}).status_code == 200
    wrong = httpx.post(f"{live.url}/api/demos/education/word-stats", json={"text": "a"}, timeout=30,
                       headers={"authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401


def test_rate_limit_counts_tool_calls_with_api_requests(live: Live) -> None:
    ip = next(_ips)
    for i in range(RATE):  # the JSON API and MCP draw on one bucket per client
        if i % 2:
            assert live.api("education/word-stats", {"text": "a"}, bearer(ip)).status_code == 200
        else:
            assert not call(live.url + "/mcp", "education_word_stats", {"text": "a"}, bearer(ip)).is_error
    refused = call(live.url + "/mcp", "education_word_stats", {"text": "a"}, bearer(ip))
    assert refused.is_error and "rate limit exceeded" in text_of(refused) and "retry in" in text_of(refused)
    assert live.api("education/word-stats", {"text": "a"}, bearer(ip)).status_code == 429
    assert not call(live.url + "/mcp", "education_word_stats", {"text": "a"}).is_error  # another client


def test_model_cards_are_resources(live: Live) -> None:
    async def go() -> tuple[Any, Any, Any]:
        async with mcp_session(live.url + "/mcp/finance", bearer()) as session:
            listed = (await session.list_resources()).resources
            card = await session.read_resource("openmodels://demos/finance/banking-intent/card")
            with pytest.raises(MCPError) as missing:
                await session.read_resource("openmodels://demos/education/word-stats/card")  # another sector
            return listed, card, missing.value

    listed, card, missing = run_async(go)
    assert [(r.uri, r.mime_type) for r in listed] == [("openmodels://demos/finance/banking-intent/card",
                                                        "text/markdown"),
                                                       ("openmodels://demos/finance/import-error/card",
                                                        "text/markdown")]
    [content] = card.contents
    assert content.mime_type == "text/markdown"
    assert content.text == (live.demos / "finance/banking-intent/README.md").read_text(encoding="utf-8")
    assert missing.message == "Resource not found"


@pytest.mark.slow
def test_stdio_lists_tools_and_reads_local_files(live: Live, tmp_path: Path) -> None:
    example = live.demos / "education/image-explorer/examples/dahlia.jpg"
    local = tmp_path / "my photo.jpg"
    shutil.copy(example, local)
    env = {k: v for k, v in os.environ.items() if k.startswith(("OPENMODELS_", "HF_", "TRANSFORMERS_", "GRADIO_"))}
    params = StdioServerParameters(
        command=sys.executable, cwd=str(tmp_path),
        args=["-m", "gallery", "mcp", "--demos-dir", str(live.demos), "--demo", "finance/banking-intent",
              "--demo", "education/image-explorer"],
        env={**env, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path)})

    async def go() -> tuple[Any, ...]:
        with (ARTIFACTS / f"mcp-stdio-{time.time_ns()}.log").open("w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    tools = {t.name: t for t in (await session.list_tools()).tools}
                    text = await session.call_tool("finance_banking_intent", {"message": "how much have i got left"})
                    by_path = await session.call_tool("education_image_explorer", {"image": str(local)})
                    relative = await session.call_tool("education_image_explorer", {"image": "./my photo.jpg"})
                    missing = await session.call_tool("education_image_explorer", {"image": "no-such-photo.jpg"})
                    return tools, text, by_path, relative, missing

    tools, text, by_path, relative, missing = run_async(go)
    assert set(tools) == {"finance_banking_intent", "education_image_explorer"}
    assert "local file" in tools["education_image_explorer"].input_schema["properties"]["image"]["description"]
    assert text.structured_content == live.api("finance/banking-intent", {"message": "how much have i got left"}).json()
    expected = live.api("education/image-explorer", {"image": data_url(example, "image/jpeg")}).json()
    assert by_path.structured_content == relative.structured_content == expected
    assert missing.is_error and "image: no readable local file 'no-such-photo.jpg'" in text_of(missing)


def test_endpoint_runs_with_each_lifespan_and_no_mcp_turns_it_off(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    demos = tmp_path / "demos"
    shutil.copytree(CORE_FIXTURES / "education" / "word-stats", demos / "education" / "word-stats")
    config = {"demos_dir": demos, "cache_dir": tmp_path / "cache", "data_dir": tmp_path / "data", "rate_limit": None}
    app, _ = create_app(ServeConfig(**config))
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    accept = {"accept": "application/json, text/event-stream"}
    idle = TestClient(app).post("/mcp", json=initialize, headers=accept)  # no lifespan: a reason, not a crash
    assert idle.status_code == 503 and "not running" in idle.json()["detail"]
    for _ in range(2):  # the same app served twice (a session manager itself can run only once)
        with TestClient(app) as client:
            assert client.post("/mcp", json=initialize, headers=accept).json()["result"]["protocolVersion"]
    off, _ = create_app(ServeConfig(**config, mcp=False))
    assert not any(getattr(route, "path", "").startswith("/mcp") for route in off.routes)
    client = TestClient(off)
    assert client.post("/mcp", json=initialize, headers=accept).status_code in (404, 405)
    assert client.post("/api/demos/education/word-stats", json={"text": "a"}).status_code == 200
