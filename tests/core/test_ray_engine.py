"""The Ray Serve engine: deployments in Serve's local testing mode, then a real local Ray (in this process and
behind `gallery run --engine ray`), with results compared to the local engine's."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gallery.discovery import default_demos_dir, discover
from gallery.engine import LocalEngine
from gallery.errors import Busy, DemoFailure, InputError
from gallery.manifest import ManifestError, load_manifest
from gallery.rayserve.app import LIGHT_DEFAULTS, AppArgs, build_app, deployment_options, plan
from gallery.server import ServeConfig, create_app
from gallery.service import GalleryService
from tests.abuse.junk import TEXT_JUNK, bad_files, data_url, example_value
from tests.robustness.conftest import make_tree
from tests.serving import start_gallery, stop

ROOT = Path(__file__).resolve().parents[2]
OPS_FIXTURES = ROOT / "tests" / "robustness" / "fixtures" / "ops"
TEXT_DEMO, AUDIO_DEMO = "finance/banking-intent", "healthcare/clinical-dictation"
# One call at a time and one waiting: the third concurrent call meets Ray's backpressure.
SLOW_SERVING = {"heavy": True, "num_cpus": 0.5, "memory_gb": 1, "max_ongoing_requests": 1, "max_queued_requests": 1,
                "min_replicas": 1, "max_replicas": 1}


def off_loop(fn: Any, *args: Any) -> Any:
    """Run a blocking Ray call in a thread of its own.

    Serve's handles refuse blocking calls on a thread with a running event loop, and in a full run the browser
    tests' Playwright leaves one on the main thread; the gallery itself calls engines from worker threads.
    """
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


def fixture_tree(root: Path, echo_heavy: bool = False) -> Path:
    """Copy the echo, word-stats and slow fixture demos under root/demos, the slow one with SLOW_SERVING."""
    demos = make_tree(root)
    shutil.copytree(OPS_FIXTURES / "education" / "slow", demos / "education" / "slow")
    slow = demos / "education" / "slow" / "demo.yaml"
    data = yaml.safe_load(slow.read_text(encoding="utf-8"))
    slow.write_text(yaml.safe_dump({**data, "serving": SLOW_SERVING}, allow_unicode=True), encoding="utf-8")
    if echo_heavy:
        echo = demos / "education" / "echo" / "demo.yaml"
        data = yaml.safe_load(echo.read_text(encoding="utf-8"))
        echo.write_text(yaml.safe_dump({**data, "serving": {"heavy": True}}, allow_unicode=True), encoding="utf-8")
    return demos


def test_serving_block_is_checked_and_maps_to_deployment_options(tmp_path: Path) -> None:
    demos = fixture_tree(tmp_path)
    manifest = load_manifest(demos / "education" / "slow" / "demo.yaml")
    options = deployment_options(manifest.serving)
    assert options["ray_actor_options"]["num_cpus"] == 0.5
    assert options["ray_actor_options"]["memory"] == 1 << 30
    assert options["ray_actor_options"]["runtime_env"]["env_vars"] == {"OPENMODELS_ORT_THREADS": "1"}
    assert options["max_ongoing_requests"] == 1 and options["max_queued_requests"] == 1
    assert options["num_replicas"] == 1 and "autoscaling_config" not in options
    assert deployment_options(LIGHT_DEFAULTS)["autoscaling_config"] == {
        "min_replicas": 1, "max_replicas": 2, "target_ongoing_requests": 4}
    bad = demos / "education" / "slow" / "demo.yaml"
    data = yaml.safe_load(bad.read_text(encoding="utf-8"))
    bad.write_text(yaml.safe_dump({**data, "serving": {"min_replicas": 3, "max_replicas": 2}}), encoding="utf-8")
    with pytest.raises(ManifestError, match="serving.*min_replicas \\(3\\) is greater than max_replicas \\(2\\)"):
        load_manifest(bad)


# Speech, OCR and text generation by their task; the signal log by its manifest's `serving: {heavy: true}`.
HEAVY_DEMOS = {"healthcare/clinical-dictation", "education/lecture-transcriber", "finance/receipt-scanner",
               "education/next-word-explorer", "transport/signal-detector-health", "finance/report-reader-zh",
               "education/speaking-pace"}


def test_heavy_demos_get_their_own_deployment_and_light_ones_share_a_pool() -> None:
    heavy, light = plan(AppArgs(demos_dir=str(default_demos_dir())))
    assert {e.id for e in heavy} == HEAVY_DEMOS
    # Every other demo that can run shares the light pool: a new demo joins it without a line here.
    others = {e.id for e in discover(default_demos_dir()).available} - {e.id for e in heavy}
    assert {e.id for e in light} == others and TEXT_DEMO in others


def test_deployments_in_local_testing_mode_match_the_local_engine(tmp_path: Path) -> None:
    from ray import serve

    demos = fixture_tree(tmp_path, echo_heavy=True)
    handle = serve.run(build_app({"demos_dir": str(demos), "cache_dir": str(tmp_path / "cache"),
                                  "select": ["education/echo"]}), _local_testing_mode=True)
    local = GalleryService.open(demos, tmp_path / "c", ["education/echo"])
    inputs = {"text": "one two three", "doc": b"abc"}
    def run(demo_id: str, inputs: dict[str, Any]) -> Any:
        return off_loop(lambda: handle.run.remote(demo_id, inputs).result())

    assert run("education/echo", inputs) == {"ok": local.engine.predict("education/echo", inputs)}
    failed = run("education/echo", {"text": "fail: on purpose", "doc": None})
    with pytest.raises(DemoFailure) as expected:
        local.engine.predict("education/echo", {"text": "fail: on purpose", "doc": None})
    assert failed == {"error": {"kind": "failure", "message": str(expected.value)}}
    assert run("education/word-stats", {"text": "x"})["error"]["kind"] == "model"


@pytest.fixture(scope="module")
def ray_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GalleryService]:
    """A service whose engine is a real local Ray (2 CPUs, no dashboard) on the fixture demos."""
    root = tmp_path_factory.mktemp("ray-engine")
    demos = fixture_tree(root)
    from gallery.rayserve.engine import RayEngine

    service = GalleryService.open(demos, root / "cache", ["education/echo", "education/word-stats", "education/slow"])
    # Started on the main thread: Ray's processes die with the thread that started them (PR_SET_PDEATHSIG).
    service.engine = RayEngine(service.index, root / "cache", num_cpus=2).start()
    yield service
    service.engine.close()


@pytest.mark.slow
def test_ray_engine_gives_the_local_engines_results_and_errors(ray_service: GalleryService) -> None:
    local = LocalEngine(ray_service.code, ray_service.contexts)
    for demo_id, raw in [("education/echo", {"text": "one two three"}), ("education/word-stats", {"text": "a b a"})]:
        inputs = ray_service.decode(demo_id, raw)
        assert off_loop(ray_service.run, demo_id, raw) == local.predict(demo_id, inputs)
    with pytest.raises(DemoFailure, match="the demo failed on this input \\(RuntimeError\\)"):
        off_loop(ray_service.run, "education/echo", {"text": "fail: on purpose"})
    with pytest.raises(InputError):
        off_loop(ray_service.run, "education/echo", {"text": ""})
    info = off_loop(ray_service.engine.describe)
    assert info["engine"] == "ray" and not info["missing"]
    assert {"demo-education--slow", "light-demos", "router"} <= set(info["deployments"])
    assert all(d["status"] == "HEALTHY" and d["replicas"] >= 1 for d in info["deployments"].values())
    assert ray_service.engine.concurrency(ray_service.entry("education/slow").manifest) == 1
    assert ray_service.engine.concurrency(ray_service.entry("education/echo").manifest) == 16


@pytest.mark.slow
def test_a_full_ray_deployment_queue_is_busy_with_retry_after(ray_service: GalleryService) -> None:
    inputs = ray_service.decode("education/slow", {"text": "x", "seconds": 3})
    outcomes: list[Any] = []
    lock = threading.Lock()

    def call() -> None:
        try:
            result: Any = ray_service.engine.predict("education/slow", inputs)  # past the gallery's own queue
        except Busy as exc:
            result = exc
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
        time.sleep(0.3)  # in order: one runs, one waits in Ray's queue, the rest are refused
    for t in threads:
        t.join(timeout=60)
    busy = [o for o in outcomes if isinstance(o, Busy)]
    done = [o for o in outcomes if isinstance(o, dict)]
    assert len(outcomes) == 4 and len(done) == 2 and len(busy) == 2, outcomes
    assert all(b.retry_after > 0 and "Ray deployment's queue is full" in b.reason for b in busy)


@pytest.fixture(scope="module")
def ray_gallery(tmp_path_factory: pytest.TempPathFactory, ray_service: GalleryService) -> Iterator[str]:
    """`gallery run --engine ray` on a text and an audio demo (after the in-process Ray has stopped)."""
    ray_service.engine.close()  # one local Ray at a time on a 2-core machine
    root = tmp_path_factory.mktemp("ray-gallery")
    process, url = start_gallery(default_demos_dir(), "--engine", "ray", "--demo", TEXT_DEMO, "--demo", AUDIO_DEMO,
                                 "--data-dir", str(root / "data"), "--no-standalone-pages", timeout=300)
    yield url
    process.send_signal(signal.SIGTERM)
    try:
        assert process.wait(timeout=60) == 0
    finally:
        stop(process)


def body_for(demo_id: str) -> dict[str, Any]:
    """Return a demo's first example as a JSON body (media as data URLs)."""
    entry = discover(default_demos_dir(), [demo_id]).get(demo_id)
    assert entry is not None and entry.manifest is not None
    values = {spec.name: example_value(entry.manifest, entry.path, spec) for spec in entry.manifest.inputs}
    return {k: v for k, v in values.items() if v is not None}


@pytest.mark.slow
def test_gallery_run_engine_ray_answers_like_the_local_engine(ray_gallery: str, tmp_path: Path) -> None:
    _, local = create_app(ServeConfig(demos_dir=default_demos_dir(), select=[TEXT_DEMO, AUDIO_DEMO],
                                      cache_dir=Path(os.environ["OPENMODELS_CACHE"]), data_dir=tmp_path / "data",
                                      rate_limit=None, standalone_pages=False, mcp=False))
    for demo_id in (TEXT_DEMO, AUDIO_DEMO):
        body = body_for(demo_id)
        response = httpx.post(f"{ray_gallery}/api/demos/{demo_id}", json=body, timeout=600)
        assert response.status_code == 200, response.text
        assert response.json() == local.run(demo_id, body), demo_id
    ready = httpx.get(f"{ray_gallery}/readyz", timeout=30).json()
    assert ready["engine"] == "ray" and ready["demos"] == 2
    assert ready["deployments"]["demo-healthcare--clinical-dictation"]["status"] == "HEALTHY"
    assert ready["deployments"]["light-demos"]["replicas"] >= 1


@pytest.mark.slow
def test_junk_through_the_ray_engine_is_4xx_never_5xx(ray_gallery: str) -> None:
    cases: list[tuple[str, dict[str, Any]]] = [(TEXT_DEMO, {"message": text}) for text in TEXT_JUNK]
    cases += [(TEXT_DEMO, {"message": [1, 2]}), (TEXT_DEMO, {}), (AUDIO_DEMO, {"audio": None})]
    cases += [(AUDIO_DEMO, {"audio": data_url(mime, data)}) for mime, data in bad_files().values()]
    for demo_id, body in cases:
        response = httpx.post(f"{ray_gallery}/api/demos/{demo_id}", json=body, timeout=600)
        assert response.status_code in (200, 400, 413, 415, 422), f"{demo_id} {str(body)[:80]}: {response.text[:300]}"
        if response.status_code != 200:
            assert "Traceback" not in response.text and len(response.json()["detail"]) >= 5


def test_the_operators_serve_config_is_valid_and_builds_the_application() -> None:
    import importlib

    from ray.serve.schema import ServeDeploySchema

    config = ServeDeploySchema.model_validate(yaml.safe_load((ROOT / "deploy" / "ray" / "serve.yaml").read_text()))
    [app] = config.applications
    module, name = app.import_path.split(":")
    builder = getattr(importlib.import_module(module), name)
    assert builder is build_app
    args = AppArgs.model_validate(app.args)  # unknown keys are refused, so a typo in the file fails here
    heavy, light = plan(args)
    available = discover(default_demos_dir()).available
    assert {e.id for e in heavy} == HEAVY_DEMOS and len(light) == len(available) - len(HEAVY_DEMOS) >= 12
    assert type(build_app(args)).__name__ == "Application"


def test_the_router_serves_the_json_api_without_the_gallery(tmp_path: Path) -> None:
    from ray import serve
    from starlette.requests import Request

    demos = fixture_tree(tmp_path, echo_heavy=True)
    handle = serve.run(build_app({"demos_dir": str(demos), "cache_dir": str(tmp_path / "cache"),
                                  "select": ["education/echo"]}), _local_testing_mode=True)

    def post(path: str, body: bytes) -> Any:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        scope = {"type": "http", "method": "POST", "path": path, "headers": [(b"content-type", b"application/json")],
                 "query_string": b"", "root_path": ""}
        return off_loop(lambda: handle.remote(Request(scope, receive)).result())

    ok = post("/openmodels/education/echo", b'{"text": "one two three"}')
    assert ok.status_code == 200 and ok.body == b'{"summary":{"words":3,"doc_bytes":0}}'
    assert post("/openmodels/education/echo", b'{"text": ""}').status_code == 422
    assert post("/openmodels/education/echo", b'{"text": "fail: now"}').status_code == 500
    assert post("/openmodels/education/echo", b"{not json").status_code == 400
    assert post("/openmodels/education/nope", b"{}").status_code == 404
