"""Many demos: the app builds and serves 50 generated demo folders (timing lives in the benchmark)."""

from __future__ import annotations

from pathlib import Path

import httpx

from gallery.server import ServeConfig, create_app
from tests.serving import running

from .conftest import FIXTURES

SECTORS = ("healthcare", "education", "finance", "transport")


def generate_demos(root: Path, count: int) -> list[str]:
    """Write `count` copies of the word-stats fixture demo, spread over the sectors."""
    template = FIXTURES / "finance" / "import-error" / "demo.yaml"  # has a disclaimer, valid everywhere
    app = (FIXTURES / "education" / "word-stats" / "app.py").read_text()
    ids = []
    for i in range(count):
        sector = SECTORS[i % len(SECTORS)]
        slug = f"generated-{i:03d}"
        folder = root / sector / slug
        folder.mkdir(parents=True)
        text = template.read_text().replace("finance/import-error", f"{sector}/{slug}").replace("sector: finance", f"sector: {sector}")
        (folder / "demo.yaml").write_text(text)
        (folder / "app.py").write_text(app)
        ids.append(f"{sector}/{slug}")
    return ids


def test_fifty_generated_demos_build_and_serve(tmp_path: Path) -> None:
    ids = generate_demos(tmp_path / "demos", 50)
    app, service = create_app(ServeConfig(demos_dir=tmp_path / "demos", cache_dir=tmp_path / "cache"))
    # Standalone pages are built on first request, not at start-up: none exists yet.
    pages = next(route.app for route in app.routes if getattr(route, "path", "") == "/demo")
    assert pages.pages == {}
    assert [e.id for e in service.index.available] == sorted(ids, key=lambda i: (SECTORS.index(i.split("/")[0]), i))
    with running(app) as url:
        demos = httpx.get(f"{url}/api/demos").json()
        assert len(demos) == 50 and all(d["status"] == "ready" for d in demos)
        assert httpx.get(url + "/").status_code == 200
        last = ids[-1]
        result = httpx.post(f"{url}/api/demos/{last}", json={"text": "one two two"}).json()
        assert result["top"][0] == {"word": "two", "count": 2}
        page = httpx.get(f"{url}/demo/{last}/")
        assert page.status_code == 200 and "<html" in page.text.lower()
        assert list(pages.pages) == [last]
        assert httpx.get(f"{url}/demo/finance/no-such-demo/").status_code == 404
