"""Build deploy/docker/Dockerfile with podman, run it, call a text and an audio demo, run one in Chromium, scrape
/metrics, stop it with SIGTERM.

Runs under `make test-deploy` (tests/deploy/conftest.py skips it otherwise). Timings of each phase are written to
$OPENMODELS_ARTIFACTS/deploy-timings.json.
"""

from __future__ import annotations

import base64
import json
import logging
import shutil
import socket
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from tests.conftest import ARTIFACTS
from tests.deploy import podman as pm
from tests.robustness.test_operations import metrics, requests_total

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
TAG = "localhost/openmodels-gallery:test"
DICTATION = ROOT / "demos" / "healthcare" / "clinical-dictation" / "examples" / "sore-throat-note.mp3"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TIMINGS: dict[str, float] = {}


def _record(**timings: float) -> None:
    TIMINGS.update(timings)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "deploy-timings.json").write_text(json.dumps(TIMINGS, indent=2), encoding="utf-8")
    logger.info("deploy timings: %s", TIMINGS)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def podman() -> pm.Podman:
    """Return podman with the test's storage; under `make test-deploy` a missing tool fails the run."""
    missing = [tool for tool in ("podman", "runc", "debootstrap")
               if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: `make test-deploy` installs the Debian packages podman, runc "
                    "and debootstrap")
    return pm.Podman()


@pytest.fixture(scope="module")
def image(podman: pm.Podman) -> str:
    """Build the image offline from a Debian base image and the host's wheelhouse; return its tag."""
    base, base_timings = pm.base_image(podman)
    wheels, wheel_seconds = pm.wheelhouse()
    _record(**base_timings, wheelhouse_s=wheel_seconds)
    _record(build_s=pm.build(podman, TAG, base, wheels, ARTIFACTS / "deploy-build.log"))
    return TAG


class Container:
    """One running container of the image, with its published port."""

    def __init__(self, podman: pm.Podman, image: str) -> None:
        self.podman = podman
        self.name = f"openmodels-test-{uuid.uuid4().hex[:8]}"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        started = time.monotonic()
        podman.run("run", "-d", "--name", self.name, *pm.RUN_FLAGS, "-p", f"127.0.0.1:{self.port}:7860", image)
        self.wait_healthy(timeout=240)
        _record(start_to_healthz_s=round(time.monotonic() - started, 1))

    def logs(self) -> str:
        """Return the container's output so far (its end)."""
        result = self.podman.run("logs", self.name, check=False)
        return (result.stdout + result.stderr)[-6000:]

    def state(self) -> dict[str, Any]:
        """Return podman's view of the container's state."""
        data = json.loads(self.podman.run("inspect", self.name).stdout)
        return dict(data[0]["State"])

    def wait_healthy(self, timeout: float) -> None:
        """Wait until /healthz answers 200; fail with the logs if the container dies or never answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if not self.state().get("Running"):
                pytest.fail(f"the container stopped before serving:\n{self.logs()}")
            time.sleep(1)
        pytest.fail(f"/healthz did not answer within {timeout:.0f} s:\n{self.logs()}")

    def exec(self, *args: str) -> str:
        """Run a command in the container; return its output."""
        return self.podman.run("exec", self.name, *args, timeout=300).stdout

    def remove(self) -> None:
        """Remove the container and its anonymous /data volume, whatever state it is in."""
        self.podman.run("rm", "-f", "-v", "-t", "0", self.name, check=False, timeout=60)


@pytest.fixture(scope="module")
def container(podman: pm.Podman, image: str) -> Iterator[Container]:
    """Run the image; always remove the container afterwards."""
    box: list[Container] = []
    try:
        box.append(Container(podman, image))
        yield box[0]
    finally:
        if box:
            box[0].remove()
        else:  # a start that failed half-way leaves a container of ours behind
            leftovers = podman.run("ps", "-a", "--filter", "name=openmodels-test-", "--format", "{{.Names}}",
                                   check=False).stdout.split()
            for name in leftovers:
                podman.run("rm", "-f", "-v", "-t", "0", name, check=False)


def test_the_text_demo_answers_through_the_json_api(container: Container) -> None:
    started = time.monotonic()
    response = httpx.post(f"{container.url}/api/demos/finance/banking-intent",
                          json={"message": "Someone stole my debit card"}, timeout=300)
    assert response.status_code == 200, response.text
    assert response.json()["intent"] == "card_lost_or_stolen"
    _record(first_text_call_s=round(time.monotonic() - started, 1))


def test_the_audio_demo_transcribes_a_clip_through_the_json_api(container: Container) -> None:
    clip = "data:audio/mpeg;base64," + base64.b64encode(DICTATION.read_bytes()).decode("ascii")
    started = time.monotonic()
    response = httpx.post(f"{container.url}/api/demos/healthcare/clinical-dictation", json={"audio": clip},
                          timeout=600)
    assert response.status_code == 200, response.text
    note = response.json()["deidentified"]
    assert "sore throat" in note.lower() and "[PHONE]" in note and "John Carter" not in note, note
    _record(first_audio_call_s=round(time.monotonic() - started, 1))


def test_a_visitor_runs_a_demo_in_chromium_in_chinese(container: Container) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
            page.set_default_timeout(60_000)
            # The form opens with the first example (a card left in a cab): one click on Run shows its intent.
            page.goto(f"{container.url}/demo/finance/banking-intent/?lang=zh")
            page.locator(".om-run").first.click()
            expect(page.locator(".om-ran").first).to_contain_text("本次运行", timeout=120_000)
            expect(page.locator(".om-output").first).to_contain_text("银行卡丢失或被盗")
            shots = ARTIFACTS / "screenshots"
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / "deploy-container-banking-intent-zh.png"))
        finally:
            browser.close()


def test_metrics_count_the_calls_by_demo_and_front_end(container: Container) -> None:
    samples = metrics(container.url)
    assert requests_total(samples, "finance/banking-intent", "api", "ok") >= 1
    assert requests_total(samples, "finance/banking-intent", "ui", "ok") >= 1
    assert requests_total(samples, "healthcare/clinical-dictation", "api", "ok") >= 1
    assert samples[("openmodels_models_loaded", ())] >= 2


def test_models_were_warm_and_the_exporter_is_absent(container: Container) -> None:
    # Neither call exported, converted or checked anything: the build did, and the serving stage cannot.
    logs = container.logs()
    assert "exporting" not in logs and "converting" not in logs and "checking int8" not in logs, logs
    doctor = container.exec("gallery", "doctor")
    assert "exporter environment" in doctor and "the exporter environment is not installed" in doctor, doctor
    assert "exporter (recorded)" in doctor and "served from the cache" in doctor and "Traceback" not in doctor
    assert container.exec("sh", "-c", "test ! -e /app/.venv-export && echo absent").strip() == "absent"
    recorded = json.loads(container.exec("cat", "/opt/openmodels/cache/exporter-versions.json"))
    assert recorded["versions"]["optimum-onnx"]


def test_the_server_runs_as_uid_1000(container: Container) -> None:
    status = container.exec("cat", "/proc/1/status")
    uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
    assert uids == ["1000"] * 4, status
    assert "gallery" in container.exec("cat", "/proc/1/cmdline").replace("\0", " ")
    assert container.exec("id", "-u").strip() == "1000"


def test_the_healthcheck_passes_inside_the_container(container: Container) -> None:
    # The Dockerfile's HEALTHCHECK (python's urllib, no curl) as podman runs it.
    result = container.podman.run("healthcheck", "run", container.name, check=False, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_sigterm_stops_the_server_within_10_seconds_with_status_0(container: Container) -> None:
    started = time.monotonic()
    container.podman.run("kill", "--signal", "TERM", container.name)
    deadline = started + 10
    while time.monotonic() < deadline and container.state().get("Running"):
        time.sleep(0.2)
    elapsed = round(time.monotonic() - started, 1)
    state = container.state()
    _record(sigterm_to_exit_s=elapsed)
    assert not state.get("Running"), f"still running {elapsed} s after SIGTERM:\n{container.logs()}"
    assert state["ExitCode"] == 0, f"exit status {state['ExitCode']}:\n{container.logs()}"
