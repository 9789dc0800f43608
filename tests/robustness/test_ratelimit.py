"""The JSON API's per-client token bucket: 429 with a JSON reason and Retry-After, configurable, 0 is off."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from gallery.cli import main
from gallery.ratelimit import (
    DEFAULT_RATE,
    MAX_CLIENTS,
    Rate,
    RateLimiter,
    parse_rate,
    rate_from_env,
)
from tests.robustness.conftest import RATE, Server, make_tree, serve_app, start, stop


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(("text", "rate"), [("120/min", Rate(120, 60)), ("5/s", Rate(5, 1)), ("600/h", Rate(600, 3600)),
                                            ("30", Rate(30, 60)), (" 2.5 / minute ", Rate(2.5, 60)), ("0", None),
                                            ("0/s", None)])
def test_parse_rate(text: str, rate: Rate | None) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["fast", "10/fortnight", "-1/min", "", "1/"])
def test_parse_rate_rejects_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match="120/min"):
        parse_rate(text)


def test_default_is_generous_and_env_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENMODELS_RATE_LIMIT", raising=False)
    assert rate_from_env() == parse_rate(DEFAULT_RATE) == Rate(120, 60)
    monkeypatch.setenv("OPENMODELS_RATE_LIMIT", "7/s")
    assert rate_from_env() == Rate(7, 1)
    monkeypatch.setenv("OPENMODELS_RATE_LIMIT", "0")
    assert rate_from_env() is None


def test_bucket_allows_a_burst_then_refills_evenly() -> None:
    clock = FakeClock()
    limiter = RateLimiter(Rate(60, 60), clock)  # one per second, bursts of 60
    assert all(limiter.acquire("a") == 0 for _ in range(60))
    assert limiter.acquire("a") == pytest.approx(1.0)
    assert limiter.acquire("b") == 0  # another client has its own bucket
    clock.now += 0.5
    assert limiter.acquire("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.acquire("a") == 0
    clock.now += 3600
    assert sum(limiter.acquire("a") == 0 for _ in range(100)) == 60  # never more than a full bucket


def test_many_clients_stay_bounded() -> None:
    clock = FakeClock()
    limiter = RateLimiter(Rate(60, 60), clock)
    for i in range(MAX_CLIENTS + 500):
        limiter.acquire(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}")
        clock.now += 0.001
    assert len(limiter._buckets) <= MAX_CLIENTS


def test_cli_rejects_a_bad_rate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--demos-dir", str(tmp_path), "--rate-limit", "lots"]) == 2
    assert "120/min" in capsys.readouterr().err


def test_real_server_answers_429_with_reason_and_retry_after(echo_server: Server) -> None:
    count = RATE[0]  # 20 per hour: a full bucket is 20 requests, then one every 3 minutes
    with echo_server.client("10.0.9.1") as client, echo_server.client("10.0.9.2") as other:
        codes = [client.post("/api/demos/education/echo", json={"text": "hi"}).status_code for _ in range(count)]
        assert codes == [200] * count
        limited = client.post("/api/demos/education/echo", json={"text": "hi"})
        assert limited.status_code == 429
        assert limited.headers["content-type"] == "application/json"
        assert "rate limit exceeded" in limited.json()["detail"] and "20 requests per hour" in limited.json()["detail"]
        assert 170 <= int(limited.headers["retry-after"]) <= 180
        # Every JSON API route counts: reads and feedback too.
        assert client.get("/api/demos").status_code == 429
        assert client.post("/api/demos/education/echo/feedback", json={"rating": "up"}).status_code == 429
        # Another client is not affected, and the UI is not limited by the API's limit.
        assert other.post("/api/demos/education/echo", json={"text": "hi"}).status_code == 200
        assert client.get("/config").status_code == 200


def test_zero_disables_the_limit(tmp_path: Path) -> None:
    from gallery.server import ServeConfig, create_app

    app, _ = create_app(ServeConfig(demos_dir=make_tree(tmp_path), cache_dir=tmp_path / "cache",
                                    data_dir=tmp_path / "data", rate_limit=parse_rate("0"),
                                    select=["education/echo"], standalone_pages=False))
    with serve_app(app) as url, httpx.Client(base_url=url) as client:
        assert {client.get("/api/demos").status_code for _ in range(150)} == {200}


def _own_address() -> str | None:
    """Return this machine's non-loopback IPv4 address (no packet is sent), or None without a route."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


@pytest.mark.parametrize("trusted", [False, True], ids=["untrusted-proxy", "FORWARDED_ALLOW_IPS"])
def test_forwarded_for_counts_only_from_trusted_proxies(tmp_path: Path, trusted: bool) -> None:
    """A proxy on 127.0.0.1 (the share tunnel, a local nginx) names the client; any other peer must be allowed."""
    address = _own_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address to connect from")
    server = start(tmp_path, make_tree(tmp_path), "--host", "0.0.0.0", "--rate-limit", "2/h",
                   env={"FORWARDED_ALLOW_IPS": address} if trusted else {})
    try:
        remote = server.url.replace("127.0.0.1", address)

        def status(client_ip: str) -> int:
            return httpx.get(remote + "/api/demos", headers={"x-forwarded-for": client_ip}, timeout=30).status_code
        assert [status("10.1.0.1"), status("10.1.0.1")] == [200, 200]
        # From an untrusted peer the header is ignored: every "client" is the peer, whose bucket is now empty.
        assert status("10.1.0.2") == (200 if trusted else 429)
        assert status("10.1.0.1") == 429
    finally:
        stop(server)
