"""Test-wide settings: never touch the network or the user's real cache."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Set before any test module imports transformers or huggingface_hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# One model/export cache for the whole run, so each real model is exported once per session.
os.environ.setdefault("OPENMODELS_CACHE", str(Path(tempfile.gettempdir()) / "openmodels-test-cache"))
# Feedback goes to a throwaway folder, never the user's data dir.
os.environ.setdefault("OPENMODELS_DATA", tempfile.mkdtemp(prefix="openmodels-test-data-"))
# The test install includes the openvino extra, which would make `auto` mean OpenVINO: the suite checks the
# demos on ONNX Runtime, and tests/runtime/test_openvino.py asks for OpenVINO by name.
os.environ.setdefault("OPENMODELS_BACKEND", "onnxruntime")
# Tests send many API requests from one client; tests/robustness/test_ratelimit.py sets its own limit.
os.environ.setdefault("OPENMODELS_RATE_LIMIT", "0")

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("OPENMODELS_ARTIFACTS", ROOT / "test-artifacts"))
