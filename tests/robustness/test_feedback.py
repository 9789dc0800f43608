"""Feedback: the SQLite store and its migrations, the JSON endpoint, the UI control and the CSV export."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gallery.cli import main
from gallery.feedback.store import (
    COMMENT_CHARS,
    FEEDBACK_FILE,
    IO_BYTES,
    SCHEMA_VERSION,
    Feedback,
    FeedbackError,
    FeedbackStore,
    FeedbackStoreError,
    migrate,
)
from gallery.ui.i18n import STRINGS
from tests.robustness.conftest import Server, make_tree, serve_app

URL = "/api/demos/education/echo/feedback"


@pytest.fixture(scope="module")
def app_and_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, object, Path]]:
    """Build the app on the robustness fixtures with its own data dir."""
    from gallery.server import ServeConfig, create_app

    root = tmp_path_factory.mktemp("feedback")
    app, service = create_app(ServeConfig(demos_dir=make_tree(root), cache_dir=root / "cache",
                                          data_dir=root / "data", rate_limit=None))
    yield app, service, root / "data"


@pytest.fixture(scope="module")
def base_url(app_and_data: tuple[object, object, Path]) -> Iterator[str]:
    with serve_app(app_and_data[0]) as url:
        yield url


def test_new_database_is_wal_full_sync_and_current_schema(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "d" / FEEDBACK_FILE).open()
    conn = store._conn
    assert conn is not None
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "d" / FEEDBACK_FILE).stat().st_mode & 0o777 == 0o600
    feedback_id, created = store.add(Feedback.parse("education/echo", {"rating": "down", "comment": "meh"}))
    assert feedback_id == 1 and created.endswith("+00:00")
    [row] = list(store.rows())
    assert row["rating"] == "down" and row["comment"] == "meh" and row["source"] == "api"
    store.close()


def test_migrates_a_version_1_database_keeping_its_rows(tmp_path: Path) -> None:
    path = tmp_path / FEEDBACK_FILE
    old = sqlite3.connect(path, isolation_level=None)
    assert migrate(old, target=1) == 1
    old.execute("INSERT INTO feedback (demo_id, created_at, rating, comment) VALUES"
                " ('education/echo', '2024-01-02T03:04:05.000+00:00', 'up', 'from v1')")
    old.close()
    store = FeedbackStore(path).open()
    rows = list(store.rows())
    assert rows == [{"id": 1, "demo_id": "education/echo", "created_at": "2024-01-02T03:04:05.000+00:00",
                     "rating": "up", "comment": "from v1", "source": "unknown", "input_json": None,
                     "output_json": None}]
    assert store._conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION  # type: ignore[union-attr]
    indexes = {r[1] for r in store._conn.execute("PRAGMA index_list(feedback)")}  # type: ignore[union-attr]
    assert "feedback_demo_time" in indexes
    new_id, _ = store.add(Feedback.parse("education/echo", {"rating": "up"}))
    assert new_id == 2
    store.close()
    assert migrate(sqlite3.connect(path, isolation_level=None)) == SCHEMA_VERSION  # applying again is a no-op


def test_refuses_a_database_from_a_newer_gallery(tmp_path: Path) -> None:
    path = tmp_path / FEEDBACK_FILE
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(FeedbackStoreError, match="schema version 99, newer"):
        FeedbackStore(path).open()


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / FEEDBACK_FILE)
    ids: list[int] = []
    lock = threading.Lock()

    def write(worker: int) -> None:
        for i in range(25):
            feedback_id, _ = store.add(Feedback.parse("education/echo", {"rating": "up", "comment": f"{worker}-{i}"}))
            with lock:
                ids.append(feedback_id)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(ids) == list(range(1, 201))
    comments = {r["comment"] for r in store.rows()}
    assert comments == {f"{w}-{i}" for w in range(8) for i in range(25)}
    store.close()


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({}, "rating: must be 'up' or 'down'"),
        ({"rating": "great"}, "rating: must be 'up' or 'down', got 'great'"),
        ({"rating": 1}, "rating: must be 'up' or 'down'"),
        ({"rating": "up", "comment": 5}, "comment: must be text"),
        ({"rating": "up", "comment": "x" * (COMMENT_CHARS + 1)}, f"the limit is {COMMENT_CHARS:,}"),
        ({"rating": "up", "include_io": "yes"}, "include_io: must be true or false"),
        ({"rating": "up", "input": {"text": "hi"}}, "input are stored only with include_io: true"),
        ({"rating": "up", "include_io": True, "output": "y" * IO_BYTES}, f"the limit is {IO_BYTES:,} bytes"),
        ({"rating": "up", "include_io": True, "input": float("nan")}, "input: must be JSON"),
        ({"rating": "up", "who": "me"}, "unknown field(s) ['who']"),
        ([1], "must be a JSON object"),
    ],
)
def test_invalid_submissions_say_why(data: object, fragment: str) -> None:
    with pytest.raises(FeedbackError) as caught:
        Feedback.parse("education/echo", data)
    assert fragment in str(caught.value)


def test_comment_control_characters_are_dropped() -> None:
    feedback = Feedback.parse("education/echo", {"rating": "up", "comment": " a\x00b\x1bc\nd "})
    assert feedback.comment == "a b c\nd"
    assert Feedback.parse("education/echo", {"rating": "up", "comment": "   "}).comment is None


def test_api_stores_and_answers_201_with_id(base_url: str, app_and_data: tuple[object, object, Path]) -> None:
    body = {"rating": "up", "comment": "clear answer", "include_io": True,
            "input": {"text": "hello world"}, "output": {"summary": {"words": 2}}}
    response = httpx.post(base_url + URL, json=body)
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["demo_id"] == "education/echo" and isinstance(data["id"], int)
    store = FeedbackStore(app_and_data[2] / FEEDBACK_FILE)
    row = next(r for r in store.rows() if r["id"] == data["id"])
    store.close()
    assert row["comment"] == "clear answer" and row["source"] == "api" and row["created_at"] == data["created_at"]
    assert json.loads(row["input_json"]) == {"text": "hello world"}
    assert json.loads(row["output_json"]) == {"summary": {"words": 2}}


@pytest.mark.parametrize(
    ("kwargs", "status", "fragment"),
    [
        ({"json": {"rating": "sideways"}}, 422, "rating: must be 'up' or 'down'"),
        ({"json": {"rating": "up", "input": "x"}}, 422, "include_io"),
        ({"content": b"{oops", "headers": {"content-type": "application/json"}}, 400, "not valid JSON"),
        ({"content": b"rating=up", "headers": {"content-type": "text/plain"}}, 415, "application/json"),
        ({"content": b"{" + b" " * 200_000 + b"}", "headers": {"content-type": "application/json"}}, 413, "limit"),
    ],
)
def test_api_rejects_bad_feedback_with_reason(base_url: str, kwargs: dict, status: int, fragment: str) -> None:
    response = httpx.post(base_url + URL, **kwargs)
    assert response.status_code == status, response.text
    assert fragment in response.json()["detail"]


def test_api_feedback_on_unknown_demo_is_404(base_url: str) -> None:
    response = httpx.post(base_url + "/api/demos/education/nope/feedback", json={"rating": "up"})
    assert response.status_code == 404 and "no demo education/nope" in response.json()["detail"]


def test_openapi_documents_the_feedback_endpoint(base_url: str) -> None:
    schema = httpx.get(base_url + "/api/openapi.json").json()
    post = schema["paths"]["/api/demos/{sector}/{slug}/feedback"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["required"] == ["rating"]


def _feedback_fns(blocks: object, n_inputs: int) -> list:
    """Return the two feedback handlers (up, down), checking they get (comment, include, result, *inputs)."""
    found = [f for f in blocks.fns.values() if getattr(f.fn, "__name__", "") == "submit"]  # type: ignore[attr-defined]
    assert len(found) == 2 and all(len(f.inputs) == 3 + n_inputs for f in found)
    assert all(f.api_visibility == "private" for f in found)
    return [f.fn for f in found]


def test_standard_ui_has_the_control_and_stores_input_only_when_ticked(
        app_and_data: tuple[object, object, Path]) -> None:
    from gallery.ui.layout import build_single

    _app, service, data = app_and_data
    blocks, _ = build_single(service, service.index.get("education/echo"))  # type: ignore[attr-defined]
    classes = [c["props"].get("elem_classes") or [] for c in blocks.get_config_file()["components"]]
    assert sum("om-feedback" in c for c in classes) == 1
    assert sum("om-feedback-include" in c for c in classes) == 1
    up, down = _feedback_fns(blocks, 2)
    result = {"summary": {"words": 2, "doc_bytes": 45}}
    upload = next((service.index.get("education/echo").path / "examples").iterdir())  # type: ignore[attr-defined]
    # Gradio passes (comment, include, result, *inputs in manifest order).
    thanks, comment = up("  good one ", True, result, "private words", str(upload))
    assert thanks.visible is True and comment.value == ""
    down("", False, result, "not stored", None)
    store = FeedbackStore(data / FEEDBACK_FILE)
    rows = [r for r in store.rows() if r["source"] == "ui"]
    store.close()
    assert rows[-2]["rating"] == "up" and rows[-2]["comment"] == "good one"
    stored_input = json.loads(rows[-2]["input_json"])
    assert stored_input == {"text": "private words", "doc": f"<file, {upload.stat().st_size:,} bytes>"}
    assert json.loads(rows[-2]["output_json"]) == result
    assert rows[-1]["rating"] == "down" and rows[-1]["comment"] is None
    assert rows[-1]["input_json"] is None and rows[-1]["output_json"] is None


def test_custom_build_places_the_control_through_panel_context(app_and_data: tuple[object, object, Path]) -> None:
    from gallery.ui.layout import build_single

    _app, service, data = app_and_data
    blocks, _ = build_single(service, service.index.get("education/custom-ui"))  # type: ignore[attr-defined]
    assert service.status("education/custom-ui").state == "ready"  # type: ignore[attr-defined]
    classes = [c["props"].get("elem_classes") or [] for c in blocks.get_config_file()["components"]]
    assert sum("om-feedback" in c for c in classes) == 1
    up, _down = _feedback_fns(blocks, 1)
    up("custom", True, {"words": 3}, "a b c")
    store = FeedbackStore(data / FEEDBACK_FILE)
    row = list(store.rows("education/custom-ui"))[-1]
    store.close()
    assert json.loads(row["input_json"]) == {"text": "a b c"} and json.loads(row["output_json"]) == {"words": 3}


def test_ui_strings_are_bilingual() -> None:
    keys = [k for k in STRINGS if k.startswith("feedback.")]
    assert {"feedback.question", "feedback.up", "feedback.down", "feedback.comment", "feedback.include_io",
            "feedback.thanks"} <= set(keys)
    for key in keys:
        en, zh = STRINGS[key]
        assert en.strip() and any("\u4e00" <= ch <= "\u9fff" for ch in zh), key


def test_cli_export_csv_filters_and_neutralises_formulas(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = FeedbackStore(tmp_path / FEEDBACK_FILE)
    store.add(Feedback.parse("education/echo", {"rating": "up", "comment": "=HYPERLINK(\"http://x\")"}))
    store.add(Feedback.parse("education/echo", {"rating": "down", "comment": "line one\nline, two \"quoted\"",
                                                "include_io": True, "input": {"text": "héllo"}}, source="ui"))
    store.add(Feedback.parse("finance/other", {"rating": "up"}))
    store.close()
    assert main(["feedback", "export", "--csv", "--data-dir", str(tmp_path)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["comment"] == "'=HYPERLINK(\"http://x\")"
    assert rows[1]["comment"] == "line one\nline, two \"quoted\"" and rows[1]["source"] == "ui"
    assert json.loads(rows[1]["input_json"]) == {"text": "héllo"}
    out = tmp_path / "echo.csv"
    assert main(["feedback", "export", "--csv", "--demo", "education/echo", "-o", str(out), "--data-dir", str(tmp_path)]) == 0
    assert "wrote 2 feedback record(s)" in capsys.readouterr().err
    assert [r["demo_id"] for r in csv.DictReader(out.open(encoding="utf-8"))] == ["education/echo"] * 2
    assert main(["feedback", "stats", "--json", "--data-dir", str(tmp_path)]) == 0
    stats = {r["demo_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert stats["education/echo"] == {**stats["education/echo"], "total": 2, "up": 1, "down": 1, "comments": 2,
                                       "with_io": 1}


def test_cli_export_without_database_prints_header(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["feedback", "export", "--csv", "--data-dir", str(tmp_path / "none")]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "id,demo_id,created_at,rating,comment,source,input_json,output_json"
    assert "no feedback recorded yet" in captured.err
    assert not (tmp_path / "none").exists()


def test_feedback_through_the_cli_server(echo_server: Server) -> None:
    with echo_server.client("10.0.1.1") as client:
        response = client.post(URL, json={"rating": "down", "comment": "via gallery run"})
    assert response.status_code == 201, response.text
    assert (echo_server.data / FEEDBACK_FILE).exists()
    store = FeedbackStore(echo_server.data / FEEDBACK_FILE)
    assert any(r["id"] == response.json()["id"] and r["comment"] == "via gallery run" for r in store.rows())
    store.close()


def test_data_dir_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from gallery.feedback.store import default_data_dir

    monkeypatch.setenv("OPENMODELS_DATA", str(tmp_path / "mine"))
    assert default_data_dir() == tmp_path / "mine"
    monkeypatch.delenv("OPENMODELS_DATA")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "xdg" / "openmodels"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_data_dir() == Path.home() / ".local" / "share" / "openmodels"
    from gallery.cli import build_parser

    assert build_parser().parse_args(["run", "--data-dir", str(tmp_path)]).data_dir == tmp_path
