"""The inputs the int8 accuracy guard runs on: the examples of every demo that declares the model.

Order of precedence (documented in docs and the final report):
1. `options.calibration` in the model spec: a list of strings (text tasks) or of file paths relative to the
   demo folder (image / audio tasks);
2. otherwise the `examples:` of every demo under the same demos root whose model has the same identity
   (a model shared by five demos is checked on all five demos' examples, whichever demo loads it first),
   taking the values of inputs of the matching type (text, image or audio);
3. text tasks always add a few built-in sentences, so a demo without text examples is still checked.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from gallery.runtime.spec import ModelSpec, PathSource

logger = logging.getLogger(__name__)

BUILTIN_SENTENCES = (
    "The train to the city centre was delayed by twenty minutes this morning.",
    "How do I reset my online banking password?",
    "Photosynthesis turns light energy into chemical energy stored in glucose.",
    "Take one tablet twice a day after meals unless your doctor says otherwise.",
    "Quarterly revenue rose 8% while operating costs stayed flat.",
    "hello",
    "Les élèves ont rendu leurs devoirs en retard.",
    "Can I bring my bicycle on the bus during rush hour?",
)

def share_key(spec: ModelSpec, demo_dir: Path) -> str:
    """Return the key under which loaded models are shared: the spec identity, local paths made absolute."""
    identity = spec.identity()
    if isinstance(spec.source, PathSource):
        path = Path(spec.source.path).expanduser()
        identity["source"] = {"path": str((path if path.is_absolute() else demo_dir / path).resolve())}
    return json.dumps(identity, sort_keys=True, default=str)


def _input_kind(task: str) -> str:
    from gallery.runtime.task_table import TASKS

    return TASKS[task].input_kind


def _demo_examples(manifest: Any, demo_dir: Path, kind: str) -> list[Any]:
    values: list[Any] = []
    names = [i.name for i in manifest.inputs if i.type == kind]
    for example in manifest.examples:
        for name in names:
            value = example.get(name)
            if isinstance(value, str) and value.strip():
                values.append(value if kind == "text" else str((demo_dir / value).resolve()))
    return values


def collect(spec: ModelSpec, demo_dir: Path) -> list[Any]:
    """Return the calibration inputs: strings for text tasks, absolute file paths for image/audio tasks."""
    kind = _input_kind(spec.task)
    given = getattr(spec.typed_options(), "calibration", None)
    if given:
        items = [str(v) if kind == "text" else str((demo_dir / str(v)).resolve()) for v in given]
    else:
        items = []
        from gallery.manifest import ManifestError, load_manifest

        key = share_key(spec, demo_dir)
        demo_dirs = sorted({p.parent for p in demo_dir.parent.parent.glob("*/*/demo.yaml")} | {demo_dir})
        for folder in demo_dirs:
            try:
                manifest = load_manifest(folder / "demo.yaml")
            except (ManifestError, OSError):
                continue  # a broken neighbour manifest is reported by discovery, not here
            if any(share_key(s, folder) == key for s in manifest.models.values()):
                items.extend(_demo_examples(manifest, folder, kind))
    if kind == "text":
        items.extend(BUILTIN_SENTENCES)
    unique = list(dict.fromkeys(items))
    return unique


def fingerprint(items: list[Any]) -> str:
    """Return a short hash of the calibration set (a new example re-runs the check, not the export)."""
    return hashlib.sha256(json.dumps(items, sort_keys=False).encode("utf-8")).hexdigest()[:16]
