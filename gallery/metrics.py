"""Prometheus metrics of one gallery app: requests by demo, front end and outcome, latency, queues, models, memory.

Each app has its own `CollectorRegistry` (never prometheus_client's global one), so several apps in one process
(tests) keep separate counts. The gallery serves from one process, so no multiprocess mode is needed; were it
run with several workers, each would have its own figures.

Front ends report each request they pass to the service with `record_request` or the `counted` context:
`api` (the JSON API), `ui` (the Gradio UI and gradio_client) and `mcp` (MCP tool calls).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from gallery.errors import outcome
from gallery.runtime import memory

if TYPE_CHECKING:
    from gallery.service import GalleryService

logger = logging.getLogger(__name__)

FRONT_ENDS = ("api", "ui", "mcp")
STATUSES = ("ok", "invalid", "busy", "unavailable", "error")
RAN = ("ok", "error")  # outcomes whose time is the demo's: refusals would drag the latency histogram down
# From a fast text classifier (a few ms) to a long transcription (minutes).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class GalleryMetrics:
    """The app's Prometheus registry: request counters and latency, plus gauges read from the service on scrape."""

    def __init__(self, service: GalleryService) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram
        from prometheus_client.process_collector import ProcessCollector

        self.registry = CollectorRegistry()
        self.requests = Counter("openmodels_requests", "Requests that reached a demo's run path, by outcome.",
                                ["demo", "front_end", "status"], registry=self.registry)
        self.seconds = Histogram("openmodels_request_seconds",
                                 "Seconds from a request reaching the demo's run path to its result (queue wait "
                                 "included), for requests the demo ran (status ok or error).",
                                 ["demo"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.registry.register(ServiceCollector(service))
        ProcessCollector(registry=self.registry)  # process_* (CPU, memory, open files, start time)

    def record(self, demo_id: str, front_end: str, status: str, seconds: float | None = None) -> None:
        """Count one request; add its time to the latency histogram when the demo ran it."""
        self.requests.labels(demo_id, front_end, status).inc()
        if seconds is not None and status in RAN:
            self.seconds.labels(demo_id).observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        """Return the metrics in Prometheus' text format, with its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class ServiceCollector:
    """Gauges read from the service when Prometheus scrapes: queue depths, model loads, loaded models, memory."""

    def __init__(self, service: GalleryService) -> None:
        self.service = service

    def describe(self) -> list[Any]:
        """Return nothing, so registering does not call collect (which reads the registry's state)."""
        return []

    def collect(self) -> Iterator[Any]:
        """Yield the gauges as they are now."""
        from prometheus_client.core import GaugeMetricFamily

        service = self.service
        depth = GaugeMetricFamily("openmodels_queue_depth", "Requests waiting plus running, per demo.",
                                  labels=["demo"])
        load = GaugeMetricFamily("openmodels_model_load_seconds",
                                 "Seconds the last load of each loaded model took in this process (demo/model).",
                                 labels=["model", "variant"])
        for entry in service.index.available:
            if entry.id not in service.code or entry.manifest is None:
                continue
            state = service.admission.state(entry.id, service.engine.concurrency(entry.manifest))
            depth.add_metric([entry.id], state.depth)
            for name, spec in entry.manifest.models.items():
                status = service.registry.status(entry.id, name, spec, entry.path)
                if status.state == "ready" and status.load_seconds is not None:
                    load.add_metric([f"{entry.id}/{name}", status.variant or "none"], status.load_seconds)
        yield depth
        yield load
        yield GaugeMetricFamily("openmodels_models_loaded", "Distinct models loaded now.",
                                value=service.registry.loaded_count())
        yield GaugeMetricFamily("openmodels_resident_memory_bytes", "Resident memory of the gallery process.",
                                value=memory.rss_bytes())


def record_request(service: GalleryService, demo_id: str, front_end: str, status: str,
                   seconds: float | None = None) -> None:
    """Count one request of a front end (api, ui, mcp) with its outcome (STATUSES) in the service's usage log
    (Home's live facts) and, unless metrics are off, in Prometheus."""
    service.usage.record(demo_id, status, seconds)
    if service.metrics is not None:
        service.metrics.record(demo_id, front_end, status, seconds)


@contextlib.contextmanager
def counted(service: GalleryService, demo_id: str, front_end: str) -> Iterator[None]:
    """Count the request run inside, its outcome taken from the exception that leaves it (if any)."""
    started = time.perf_counter()
    try:
        yield
    except Exception as exc:
        record_request(service, demo_id, front_end, outcome(exc), time.perf_counter() - started)
        raise
    record_request(service, demo_id, front_end, "ok", time.perf_counter() - started)
