"""JSON API and Gradio API on the fixture demos, through a real HTTP server."""

from __future__ import annotations

import base64
from typing import Iterator

import httpx
import pytest

from tests.serving import running


@pytest.fixture(scope="module")
def base_url(fixture_app: tuple[object, object]) -> Iterator[str]:
    app, _service = fixture_app
    with running(app) as url:
        yield url


def test_index_lists_every_demo_with_status(base_url: str) -> None:
    demos = {d["id"]: d for d in httpx.get(f"{base_url}/api/demos").json()}
    assert set(demos) == {"healthcare/build-error", "education/bad-manifest", "education/word-stats",
                          "finance/import-error", "transport/word-stats-b"}
    assert demos["education/word-stats"]["status"] == "ready"
    assert demos["education/word-stats"]["title"] == {"en": "Word statistics word-stats", "zh": "词语统计 word-stats"}
    assert demos["finance/import-error"]["status"] == "unavailable"
    assert "boom at import" in demos["finance/import-error"]["reason"]
    assert "build" in demos["healthcare/build-error"]["reason"]
    assert "title.zh" in demos["education/bad-manifest"]["reason"]
    word_stats, other = demos["education/word-stats"], demos["transport/word-stats-b"]
    assert (word_stats["languages"], word_stats["icon"], word_stats["featured"]) == (["en", "zh"], "📊", True)
    assert (other["languages"], other["icon"], other["featured"]) == (["en"], None, False)
    assert "languages" not in demos["education/bad-manifest"]  # no valid manifest, nothing to say


def test_index_gives_each_demos_usage_since_start(base_url: str) -> None:
    def usage() -> dict:
        return next(d for d in httpx.get(f"{base_url}/api/demos").json() if d["id"] == "transport/word-stats-b")["usage"]

    before = usage()
    assert set(before) == {"requests", "runs", "p50_ms"}
    for _ in range(3):
        assert httpx.post(f"{base_url}/api/demos/transport/word-stats-b", json={"text": "a b"}).status_code == 200
    assert httpx.post(f"{base_url}/api/demos/transport/word-stats-b", json={"text": "  "}).status_code == 422
    after = usage()
    # A refused input is a request but not a run; the median is of the runs, measured, never a guess.
    assert (after["requests"], after["runs"]) == (before["requests"] + 4, before["runs"] + 3)
    assert isinstance(after["p50_ms"], float) and 0 < after["p50_ms"] < 10_000


def test_one_demo_has_manifest_and_request_schema(base_url: str) -> None:
    data = httpx.get(f"{base_url}/api/demos/education/word-stats").json()
    assert data["manifest"]["inputs"][0]["name"] == "text"
    schema = data["request_schema"]
    assert schema["properties"]["top_n"] == {"type": "integer", "minimum": 1, "maximum": 20, "title": "Top words", "default": 3}
    assert schema["required"] == ["text"]


def test_post_runs_predict(base_url: str) -> None:
    response = httpx.post(f"{base_url}/api/demos/education/word-stats", json={"text": "a b a c a", "top_n": 1})
    assert response.status_code == 200, response.text
    assert response.json() == {"words": 5, "characters": 9, "top": [{"word": "a", "count": 3}]}
    assert float(response.headers["x-inference-ms"]) >= 0


@pytest.mark.parametrize(
    ("query", "headers", "lang", "summary"),
    [("?lang=zh", {}, "zh", "**5** 个词，**9** 个字符"),
     ("", {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}, "zh", "**5** 个词，**9** 个字符"),
     ("", {"Accept-Language": "fr-FR, en;q=0.5, zh;q=0.3"}, "en", "**5** words, **9** characters"),
     ("?lang=en", {"Accept-Language": "zh-CN"}, "en", "**5** words, **9** characters")],
)
def test_post_adds_people_text_in_the_language_asked_for(base_url: str, query: str, headers: dict[str, str],
                                                        lang: str, summary: str) -> None:
    response = httpx.post(f"{base_url}/api/demos/education/word-stats{query}", headers=headers,
                          json={"text": "a b a c a", "top_n": 1})
    assert response.status_code == 200, response.text
    data = response.json()
    # The language-neutral fields stay as they are; `display` holds what the page shows, in one language.
    assert {k: v for k, v in data.items() if k != "display"} == {
        "words": 5, "characters": 9, "top": [{"word": "a", "count": 3}]}
    assert data["display"] == {"lang": lang, "views": {"counts": {"a": 0.6}, "summary": summary}}


def test_post_without_a_language_has_no_display_and_an_old_present_still_renders(base_url: str) -> None:
    plain = httpx.post(f"{base_url}/api/demos/education/word-stats", json={"text": "a b"})
    assert "display" not in plain.json()
    # word-stats-b keeps the two-argument present(result, inputs) written before `lang`: it still renders.
    old = httpx.post(f"{base_url}/api/demos/transport/word-stats-b?lang=zh", json={"text": "a b a"}).json()
    assert old["display"]["lang"] == "zh" and old["display"]["views"]["summary"] == "**3** words, **5** characters"


def test_post_multipart_form(base_url: str) -> None:
    response = httpx.post(f"{base_url}/api/demos/education/word-stats", data={"text": "x y x", "top_n": "1"})
    assert response.status_code == 200, response.text
    assert response.json()["top"] == [{"word": "x", "count": 2}]


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"text": "   "}, 422, "text: is empty"),
        ({"text": 12}, 422, "text: must be text"),
        ({"text": "x", "top_n": 0}, 422, "top_n: must be at least 1"),
        ({"text": "x", "top_n": 2.5}, 422, "top_n: must be a whole number"),
        ({"text": "x", "top_n": True}, 422, "top_n: must be a number"),
        ({"text": "x", "extra": 1}, 422, "unknown input(s) ['extra']"),
        ({}, 422, "text: is required"),
        ({"text": "w " * 600}, 422, "text: is 1,200 characters long; the limit is 1,000"),
        ({"text": " ".join(["w"] * 301)}, 422, "text: at most 300 words"),
        ([1, 2], 422, "JSON object"),
    ],
)
def test_bad_input_is_4xx_with_reason(base_url: str, body: object, status: int, fragment: str) -> None:
    response = httpx.post(f"{base_url}/api/demos/education/word-stats", json=body)
    assert response.status_code == status, response.text
    assert fragment in response.json()["detail"]


def test_malformed_and_oversized_bodies(base_url: str) -> None:
    url = f"{base_url}/api/demos/education/word-stats"
    bad_json = httpx.post(url, content=b"{not json", headers={"content-type": "application/json"})
    assert bad_json.status_code == 400 and "not valid JSON" in bad_json.json()["detail"]
    wrong_type = httpx.post(url, content=b"text", headers={"content-type": "text/plain"})
    assert wrong_type.status_code == 415
    huge = httpx.post(url, content=b"x" * (41 * 1024 * 1024), headers={"content-type": "application/json"})
    assert huge.status_code == 413 and "limit" in huge.json()["detail"]


def test_unknown_and_unavailable_demos(base_url: str) -> None:
    assert httpx.get(f"{base_url}/api/demos/education/nope").status_code == 404
    assert httpx.post(f"{base_url}/api/demos/education/nope", json={}).status_code == 404
    unavailable = httpx.post(f"{base_url}/api/demos/finance/import-error", json={"text": "x"})
    assert unavailable.status_code == 503 and "boom at import" in unavailable.json()["detail"]


def test_file_inputs_never_read_server_paths(base_url: str) -> None:
    # Only the UI may hand over local paths; through the API a path is just an invalid data URL.
    from gallery.inputs import file_bytes
    from gallery.limits import LIMITS
    from gallery.manifest import InputSpec
    from gallery.errors import InputError

    spec = InputSpec(name="doc", type="file", label={"en": "Doc", "zh": "文档"})
    with pytest.raises(InputError, match="base64 data URL"):
        file_bytes(spec, "/etc/passwd", LIMITS)
    for url in ("https://example.com/a.txt", "file:///etc/passwd", "HTTP://10.0.0.1/x"):
        with pytest.raises(InputError, match="never fetches URLs"):
            file_bytes(spec, url, LIMITS, allow_paths=True)
    assert file_bytes(spec, "data:text/plain;base64," + base64.b64encode(b"hi").decode(), LIMITS) == b"hi"


def test_openapi_schema_documents_each_demo(base_url: str) -> None:
    schema = httpx.get(f"{base_url}/api/openapi.json").json()
    post = schema["paths"]["/api/demos/education/word-stats"]["post"]
    body = post["requestBody"]["content"]["application/json"]
    assert body["schema"]["properties"]["text"]["maxLength"] == 1000
    assert body["schema"]["required"] == ["text"] and body["schema"]["additionalProperties"] is False
    assert body["example"] == {"text": "the cat and the hat and the bat", "top_n": 2}  # the first manifest example
    form = post["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["top_n"]["type"] == "integer"
    ok = post["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["type"] == "object"
    assert "Most frequent words (label)" in ok["description"] and "X-Inference-Ms" in ok["headers"]
    for status in ("400", "413", "415", "422", "429", "500", "503"):
        error = post["responses"][status]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/ErrorDetail"}, status
    assert "Retry-After" in post["responses"]["429"]["headers"]
    assert schema["components"]["schemas"]["ErrorDetail"]["required"] == ["detail"]
    assert "/api/demos" in schema["paths"]
    assert not any(path.startswith("/mcp") for path in schema["paths"])  # MCP describes itself (tools/list)


def test_openapi_example_of_a_file_demo_names_its_example_file() -> None:
    from gallery.describe import request_example, request_schema
    from gallery.manifest import load_manifest
    from tests.conftest import ROOT

    manifest = load_manifest(ROOT / "demos/education/lecture-transcriber/demo.yaml")
    assert request_example(manifest) == {"audio": "data:audio/mpeg;base64,<the base64 of photosynthesis-en.mp3>",
                                         "task": "transcribe", "language": "auto"}
    audio = request_schema(manifest)["properties"]["audio"]
    assert "base64 data URL" in audio["description"] and "local file" not in audio["description"]
    assert "local file" in request_schema(manifest, local_paths=True)["properties"]["audio"]["description"]
    assert "(English translation)" in request_schema(manifest)["properties"]["task"]["description"]


def test_gradio_client_calls_demo_by_api_name(base_url: str) -> None:
    from gradio_client import Client

    client = Client(base_url + "/", verbose=False)
    result = client.predict(text="to be or not to be", top_n=2, api_name="/education-word-stats")
    assert result == {"words": 6, "characters": 18, "top": [{"word": "to", "count": 2}, {"word": "be", "count": 2}]}


def test_gradio_client_gets_readable_error_for_bad_input(base_url: str) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(base_url + "/", verbose=False)
    with pytest.raises(AppError, match="text: is empty"):
        client.predict(text="  ", top_n=2, api_name="/education-word-stats")


def test_pages_are_served(base_url: str) -> None:
    home = httpx.get(f"{base_url}/?demo=education/word-stats")
    assert home.status_code == 200 and "OpenModels Gallery" in home.text
    alone = httpx.get(f"{base_url}/demo/education/word-stats/", follow_redirects=True)
    assert alone.status_code == 200 and "Word statistics" in alone.text
    config = httpx.get(f"{base_url}/config").json()
    html = " ".join(str(c.get("props", {}).get("value", "")) for c in config["components"])
    assert 'data-demo="education/word-stats"' in html
    assert "boom at import" in html  # the Unavailable section shows the reason
