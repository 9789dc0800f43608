"""Feedback: the store (SQLite and a real PostgreSQL) and its migrations, the JSON endpoint, the UI control and the CSV export."""

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
from gallery.feedback import database
from gallery.feedback.database import head_revision
from gallery.feedback.store import (
    COMMENT_CHARS,
    FEEDBACK_FILE,
    IO_BYTES,
    Feedback,
    FeedbackError,
    FeedbackStore,
    FeedbackStoreError,
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


# The schema as the gallery created it before Alembic, step by step (PRAGMA user_version counted the steps).
LEGACY_STEPS = [
    ["CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, demo_id TEXT NOT NULL, created_at TEXT NOT NULL,"
     " rating TEXT NOT NULL CHECK (rating IN ('up', 'down')), comment TEXT, input_json TEXT, output_json TEXT)"],
    ["ALTER TABLE feedback ADD COLUMN source TEXT NOT NULL DEFAULT 'unknown'",
     "CREATE INDEX feedback_demo_time ON feedback (demo_id, created_at)"],
]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty feedback database of each kind: a SQLite file, and a database on a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'd' / FEEDBACK_FILE}"
    return request.getfixturevalue("postgres").database()


def _scalar(store: FeedbackStore, sql: str) -> object:
    with store._ready().connect() as conn:
        return conn.exec_driver_sql(sql).scalar()


def test_new_database_is_durable_and_at_the_newest_revision(database_url: str, tmp_path: Path) -> None:
    store = FeedbackStore(database_url).open()
    assert _scalar(store, "SELECT version_num FROM alembic_version") == head_revision() == "0002"
    if store.path is not None:
        assert _scalar(store, "PRAGMA journal_mode") == "wal"
        assert _scalar(store, "PRAGMA synchronous") == 2  # FULL
        assert (tmp_path / "d").stat().st_mode & 0o777 == 0o700
        assert (tmp_path / "d" / FEEDBACK_FILE).stat().st_mode & 0o777 == 0o600
    else:  # a commit returns once its WAL record is flushed
        assert _scalar(store, "SHOW synchronous_commit") == "on" and _scalar(store, "SHOW fsync") == "on"
    feedback_id, created = store.add(Feedback.parse("education/echo", {"rating": "down", "comment": "meh"}))
    assert feedback_id == 1 and created.endswith("+00:00")
    [row] = list(store.rows())
    assert row["rating"] == "down" and row["comment"] == "meh" and row["source"] == "api"
    store.close()
    assert [r["id"] for r in FeedbackStore(database_url).open().rows()] == [1]  # reopening migrates nothing


@pytest.mark.parametrize("steps", [1, 2])
def test_upgrades_a_sqlite_file_from_before_alembic_keeping_its_rows(tmp_path: Path, steps: int) -> None:
    path = tmp_path / FEEDBACK_FILE
    old = sqlite3.connect(path, isolation_level=None)
    for step in LEGACY_STEPS[:steps]:
        for statement in step:
            old.execute(statement)
    old.execute(f"PRAGMA user_version = {steps}")
    old.execute("INSERT INTO feedback (demo_id, created_at, rating, comment) VALUES"
                " ('education/echo', '2024-01-02T03:04:05.000+00:00', 'up', 'from v1')")
    old.close()
    store = FeedbackStore(path).open()
    assert list(store.rows()) == [{"id": 1, "demo_id": "education/echo", "created_at": "2024-01-02T03:04:05.000+00:00",
                                   "rating": "up", "comment": "from v1", "source": "unknown", "input_json": None,
                                   "output_json": None}]
    assert _scalar(store, "SELECT version_num FROM alembic_version") == head_revision()
    with store._ready().connect() as conn:
        assert "feedback_demo_time" in {r[1] for r in conn.exec_driver_sql("PRAGMA index_list(feedback)")}
    new_id, _ = store.add(Feedback.parse("education/echo", {"rating": "up"}))
    assert new_id == 2
    store.close()
    assert len(list(FeedbackStore(path).open().rows())) == 2  # opening again is a no-op


def test_refuses_a_sqlite_file_from_a_newer_gallery_before_alembic(tmp_path: Path) -> None:
    path = tmp_path / FEEDBACK_FILE
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(FeedbackStoreError, match="schema version 99, newer"):
        FeedbackStore(path).open()


def test_refuses_a_database_a_newer_gallery_migrated(database_url: str) -> None:
    FeedbackStore(database_url).open().close()
    store = FeedbackStore(database_url)
    engine = database.create_engine(store.url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()
    with pytest.raises(FeedbackStoreError, match="revision 9999, newer than this gallery knows"):
        store.open()


def test_replicas_starting_at_once_migrate_once(database_url: str) -> None:
    stores = [FeedbackStore(database_url) for _ in range(4)]
    barrier = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def open_store(store: FeedbackStore) -> None:
        barrier.wait()
        try:
            store.open()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=open_store, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    ids = [s.add(Feedback.parse("education/echo", {"rating": "up"}))[0] for s in stores]
    assert sorted(ids) == [1, 2, 3, 4]
    assert _scalar(stores[0], "SELECT COUNT(*) FROM alembic_version") == 1
    for s in stores:
        s.close()


def test_concurrent_writers_lose_nothing(database_url: str) -> None:
    store = FeedbackStore(database_url)
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
    stats = {r["demo_id"]: r for r in store.stats()}
    assert stats["education/echo"]["total"] == 200 and stats["education/echo"]["up"] == 200
    store.close()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:secret@db:5432/feedback", "postgresql+psycopg://u:***@db:5432/feedback"),
        ("postgresql://u@db/feedback", "postgresql+psycopg://u@db/feedback"),
        ("postgresql+psycopg://u@db/feedback", "postgresql+psycopg://u@db/feedback"),
        ("sqlite:////srv/feedback.sqlite3", "sqlite:////srv/feedback.sqlite3"),
    ],
)
def test_database_urls_are_normalised(given: str, expected: str, tmp_path: Path) -> None:
    assert database.shown(database.resolve_url(given, tmp_path)) == expected


@pytest.mark.parametrize("given", ["mysql://u@db/x", "sqlite://", "sqlite:///:memory:", "not a url"])
def test_unusable_database_urls_say_what_works(given: str, tmp_path: Path) -> None:
    with pytest.raises(database.DatabaseURLError, match="postgresql\\+psycopg://USER"):
        database.resolve_url(given, tmp_path)


def test_database_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(database.ENV_URL, "postgres://u@db/x")
    assert database.shown(database.resolve_url(None, tmp_path)) == "postgresql+psycopg://u@db/x"
    assert database.shown(database.resolve_url("sqlite:////a/b.db", tmp_path)) == "sqlite:////a/b.db"  # flag wins
    monkeypatch.delenv(database.ENV_URL)
    assert database.resolve_url(None, tmp_path).database == str(tmp_path / FEEDBACK_FILE)


def test_bad_database_url_stops_gallery_run_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--database-url", "mysql://u@db/x"]) == 2
    assert "unsupported database URL 'mysql://u@db/x'" in capsys.readouterr().err


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
