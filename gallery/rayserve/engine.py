"""`gallery run --engine ray`: start or join Ray, deploy the demos' Serve application, call it through handles."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ray
from ray import serve
from ray.exceptions import RayActorError, RayTaskError
from ray.serve.exceptions import BackPressureError, DeploymentUnavailableError
from ray.serve.handle import DeploymentHandle

import gallery
from gallery.admission import demo_concurrency
from gallery.engine import unwrap
from gallery.errors import Busy, DemoFailure
from gallery.rayserve.app import APP_NAME, LIGHT_NAME, AppArgs, build_app, is_heavy, plan, required_resources
from gallery.rayserve.deployments import heavy_name

if TYPE_CHECKING:
    from gallery.discovery import DemoIndex
    from gallery.manifest import Manifest

logger = logging.getLogger(__name__)

RETRY_AFTER_S = 5  # a full deployment queue drains in a few calls; clients are told to come back after this
CALL_TIMEOUT_S = 600.0
# What the replicas need from the gallery's environment: the cache, offline mode, the backend, the limits.
PASSED_ENV_PREFIXES = ("OPENMODELS_", "HF_", "TRANSFORMERS_", "GRADIO_TEMP_DIR")


def replica_env() -> dict[str, str]:
    """Return the environment variables replicas inherit, and the gallery's own code first on their path."""
    env = {k: v for k, v in os.environ.items() if k.startswith(PASSED_ENV_PREFIXES)}
    # The replicas import the same gallery, shared/ and demos as this process, even from a checkout that is not
    # the one installed in the environment.
    root = str(Path(gallery.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    env.pop("OPENMODELS_ORT_THREADS", None)  # each deployment sets its own
    return env


APP_WAIT_ENV = "OPENMODELS_RAY_APP_WAIT"


def app_wait_seconds() -> float:
    """Return how long a front end that joins a cluster waits for the operators' application (0: deploy it)."""
    value = os.environ.get(APP_WAIT_ENV, "").strip()
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        raise RuntimeError(f"{APP_WAIT_ENV} must be a number of seconds, got {value!r}") from None


class RayEngine:
    """Run demos on Ray Serve replicas; this process keeps the UI, the APIs, validation and admission."""

    name = "ray"

    def __init__(self, index: DemoIndex, cache_dir: Path, address: str | None = None,
                 num_cpus: int | None = None) -> None:
        self.index = index
        self.args = AppArgs(demos_dir=str(index.root), cache_dir=str(cache_dir),
                            select=[e.id for e in index.available])
        self.address = address
        self.num_cpus = num_cpus
        self.started_ray = False
        self.heavy: dict[str, DeploymentHandle] = {}
        self.light: DeploymentHandle | None = None

    def start(self) -> RayEngine:
        """Start a local Ray (or join `address`), deploy the application and get a handle per deployment."""
        runtime_env = {"env_vars": replica_env()}
        heavy, light = plan(self.args)
        if self.address:
            ray.init(address=self.address, runtime_env=runtime_env, log_to_driver=False)
        else:
            needed, memory_needed = required_resources(self.args, heavy, light)
            cpus = self.num_cpus or os.cpu_count() or 1
            if needed > cpus:
                # Ray counts CPUs as a reservation: on a small machine the minimum replicas would never start.
                logger.warning("ray: the demos' deployments ask for %.1f CPUs and this machine has %d; starting "
                               "the local Ray with %.1f logical CPUs (replicas share the cores)", needed, cpus, needed)
                cpus = max(cpus, int(needed + 0.999))
            memory = self._memory_reservation(memory_needed)
            ray.init(num_cpus=cpus, include_dashboard=False, runtime_env=runtime_env, log_to_driver=False,
                     **({"_memory": memory} if memory else {}))
            self.started_ray = True
        wanted = {heavy_name(e.id) for e in heavy} | ({LIGHT_NAME} if light else set())
        started = time.perf_counter()
        wait = app_wait_seconds()
        if self.address and wait > 0:
            # A front end of an operator's cluster (deploy/k8s/): only the operator deploys; wait for its app.
            self._wait_for(wanted, wait)
            logger.info("ray: using the running application %s on %s", APP_NAME, self.address)
        elif self.address and wanted <= self._running_deployments():
            # Operators deployed the application (serve deploy, a KubeRay RayService): use it, do not replace it.
            logger.info("ray: using the running application %s on %s", APP_NAME, self.address)
        else:
            if not self.address:
                # No Serve HTTP proxy: this process is the front end and calls the deployments through handles.
                serve.start(proxy_location="Disabled")
            serve.run(build_app(self.args), name=APP_NAME, route_prefix=None)
        self.heavy = {e.id: serve.get_deployment_handle(heavy_name(e.id), APP_NAME) for e in heavy}
        self.light = serve.get_deployment_handle(LIGHT_NAME, APP_NAME) if light else None
        logger.info("ray: deployed %d heavy demo deployment(s) and %s in %.1f s", len(heavy),
                    f"a light pool of {len(light)} demo(s)" if light else "no light pool",
                    time.perf_counter() - started)
        return self

    @staticmethod
    def _memory_reservation(needed: int) -> int | None:
        """Return the memory a local Ray must offer when the replicas reserve `needed`, more than its default."""
        import psutil

        # Ray's default: what is available, less its object store (30 %); minimum replicas that reserve more
        # would never be placed on a small machine. As with CPUs, they then share what there is.
        default = int(psutil.virtual_memory().available * 0.7)
        if needed <= default:
            return None
        logger.warning("ray: the demos' deployments reserve %.1f GB and a local Ray would offer about %.1f GB; "
                       "starting it with %.1f GB (replicas share the memory; each still keeps its own model "
                       "budget)", needed / 2**30, default / 2**30, needed / 2**30)
        return needed

    def _wait_for(self, wanted: set[str], seconds: float) -> None:
        """Wait until the running application has every wanted deployment; raise RuntimeError after `seconds`."""
        deadline = time.monotonic() + seconds
        while not wanted <= (running := self._running_deployments()):
            if time.monotonic() >= deadline:
                missing = ", ".join(sorted(wanted - running))
                raise RuntimeError(f"ray: the application {APP_NAME} on {self.address} has no running {missing} "
                                   f"after {seconds:.0f} s ({APP_WAIT_ENV} is set, so this front end does not "
                                   "deploy it: deploy deploy/ray/serve.yaml, or the RayService of deploy/k8s/)")
            time.sleep(2)

    @staticmethod
    def _running_deployments() -> set[str]:
        app = serve.status().applications.get(APP_NAME)
        if app is None or str(getattr(app.status, "value", app.status)) != "RUNNING":
            return set()
        return set(app.deployments)

    def _handle(self, demo_id: str) -> DeploymentHandle:
        if demo_id in self.heavy:
            return self.heavy[demo_id]
        if self.light is None:
            raise DemoFailure(f"demo {demo_id} is not deployed on Ray")
        return self.light.options(multiplexed_model_id=demo_id)

    def predict(self, demo_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """Run the demo on its deployment; a full deployment queue is Busy (503 + Retry-After)."""
        try:
            outcome = self._handle(demo_id).remote(inputs).result(timeout_s=CALL_TIMEOUT_S)
        except BackPressureError:
            raise Busy(demo_id, RETRY_AFTER_S, "its Ray deployment's queue is full") from None
        except (RayActorError, DeploymentUnavailableError) as exc:
            logger.error("demo %s: Ray replica unavailable: %s", demo_id, exc)
            raise DemoFailure("the demo's Ray replica is unavailable; try again") from None
        except RayTaskError as exc:
            logger.error("demo %s: Ray call failed: %s", demo_id, exc)
            raise DemoFailure("the demo failed on its Ray replica") from None
        except TimeoutError:
            raise DemoFailure(f"the demo's Ray replica did not answer within {CALL_TIMEOUT_S:.0f} s") from None
        return unwrap(outcome)

    def concurrency(self, manifest: Manifest | None) -> int:
        """Return how many calls of a demo may run at once: what its deployment can take at most."""
        entry = self.index.get(manifest.id) if manifest is not None else None
        if entry is None or entry.manifest is None:
            return demo_concurrency(manifest)
        spec = entry.manifest.serving if is_heavy(entry) else self.args.light
        return spec.max_replicas * spec.max_ongoing_requests

    def describe(self) -> dict[str, Any]:
        """Return the engine and its deployments (status, replicas by state) for /readyz."""
        try:
            app = serve.status().applications.get(APP_NAME)
        # A Ray that went away must not make the probe itself fail: it reports the engine as not ready.
        except Exception as exc:  # noqa: BLE001
            return {"engine": self.name, "deployments": {}, "missing": [f"Ray is unreachable: {exc}"]}
        if app is None:
            return {"engine": self.name, "deployments": {}, "missing": [f"the Serve application {APP_NAME} is gone"]}
        deployments = {}
        missing = []
        for name, info in app.deployments.items():
            states = {str(getattr(k, "value", k)): n for k, n in (info.replica_states or {}).items()}
            status = str(getattr(info.status, "value", info.status))
            deployments[name] = {"status": status, "replicas": states.get("RUNNING", 0), "replica_states": states}
            if status not in ("HEALTHY", "UPSCALING", "DOWNSCALING"):
                missing.append(f"deployment {name} is {status}")
        return {"engine": self.name, "address": self.address or "local", "deployments": deployments,
                "missing": missing}

    def close(self) -> None:
        """Remove the application and stop the local Ray (a joined cluster keeps running); idempotent."""
        if not ray.is_initialized():
            return
        try:
            if self.started_ray:
                serve.shutdown()
                ray.shutdown()
            else:
                ray.shutdown()  # disconnect; operators own the application on their cluster
        # Stopping must finish whatever state Ray is in (it may already be gone).
        except Exception as exc:  # noqa: BLE001
            logger.warning("ray: stopping failed: %s", exc)
