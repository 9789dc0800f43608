"""torch-module (own export to ONNX), custom factories and package-shipped ONNX files through the registry."""

from __future__ import annotations

import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from gallery.runtime.models import CustomModel, OnnxModel
from gallery.runtime.registry import ModelRegistry
from tests.runtime.conftest import make_spec

MODULE_CODE = textwrap.dedent('''
    import threading, time
    import torch

    class TinyNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
            self.head = torch.nn.Linear(4, 5)

        def forward(self, x):
            return self.head(torch.relu(self.conv(x)).mean(dim=(2, 3)))

    def build(model_path):
        net = TinyNet()
        net.load_state_dict(torch.load(model_path / "weights.pt"))
        return net.eval()

    class Counter:
        """A custom model that records how many calls run inside it at once."""

        backend = "numpy"

        def __init__(self, path, options):
            self.path, self.options = path, options
            self.inside = 0
            self.peak = 0
            self._lock = threading.Lock()

        def predict(self, x):
            with self._lock:
                self.inside += 1
                self.peak = max(self.peak, self.inside)
            time.sleep(0.02)
            with self._lock:
                self.inside -= 1
            return x * self.options.get("factor", 1)

    def make_counter(path, options):
        return Counter(path, options)
''')


@pytest.fixture()
def module_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Write a demo-like folder with a factory module and weights, importable as `tinynet_<n>`."""
    import torch

    code_dir = tmp_path / "code"
    code_dir.mkdir()
    (code_dir / "tinynet_rt.py").write_text(MODULE_CODE)
    monkeypatch.syspath_prepend(str(code_dir))
    demo = tmp_path / "demo"
    (demo / "weights").mkdir(parents=True)
    torch.manual_seed(0)
    exec(compile(MODULE_CODE, "tinynet", "exec"), namespace := {})
    torch.save(namespace["TinyNet"]().state_dict(), demo / "weights" / "weights.pt")
    return demo


MODULE_SPEC = make_spec("torch-module", {"path": "weights"}, factory="tinynet_rt:build",
                        options={"input_shape": [1, 3, 16, 16], "dynamic_batch": True})


def test_torch_module_exports_verifies_and_caches(module_demo: Path, tmp_path: Path) -> None:
    import torch

    registry = ModelRegistry(tmp_path / "cache")
    model = registry.get("transport/cnn", "net", MODULE_SPEC, module_demo)
    assert isinstance(model, OnnxModel) and model.backend == "onnxruntime-cpu"
    assert model.input_names == ["input"] and model.output_names == ["output"]
    x = np.random.default_rng(0).standard_normal((3, 3, 16, 16)).astype(np.float32)  # batch 3: dynamic axis
    (out,) = model.run({"input": x})
    import tinynet_rt

    net = tinynet_rt.build(module_demo / "weights")
    with torch.no_grad():
        expected = net(torch.from_numpy(x)).numpy()
    assert out.shape == (3, 5)
    np.testing.assert_allclose(out, expected, atol=1e-4)
    assert registry.counters["exports"] == 1

    warm = ModelRegistry(tmp_path / "cache")
    warm.get("transport/cnn", "net", MODULE_SPEC, module_demo)
    assert warm.counters["exports"] == 0

    baseline = ModelRegistry(tmp_path / "cache", force_backend="torch").get("transport/cnn", "net", MODULE_SPEC,
                                                                            module_demo)
    assert baseline.backend == "torch-cpu"
    np.testing.assert_allclose(baseline.run({"input": x})[0], expected, atol=1e-6)


def test_custom_factory_is_shared_and_bounded(tmp_path: Path, module_demo: Path) -> None:
    spec = make_spec("custom", {"path": "weights"}, factory="tinynet_rt:make_counter", options={"factor": 3},
                     max_concurrency=2)
    registry = ModelRegistry(tmp_path / "cache")
    model = registry.get("finance/a", "m", spec, module_demo)
    assert isinstance(model, CustomModel) and model.backend == "numpy"
    assert registry.get("finance/b", "m", spec, module_demo) is model
    assert model.target.path == module_demo / "weights"
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(model.predict(2))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [6] * 8
    assert model.target.peak <= 2 and model.peak_in_flight <= 2
    assert model.target.peak == 2, "two calls should have overlapped inside the object"
    assert registry.status("finance/a", "m", spec, module_demo).backend == "numpy"


def test_package_shipped_onnx_file_runs(tmp_path: Path) -> None:
    spec = make_spec("onnx", {"package": "rapidocr-onnxruntime", "path": "models/ch_ppocr_mobile_v2.0_cls_infer.onnx"})
    registry = ModelRegistry(tmp_path / "cache")
    ok, reason = registry.availability(spec, Path("."))
    assert ok and "rapidocr" in reason
    model = registry.get("education/ocr", "cls", spec, Path("."))
    assert isinstance(model, OnnxModel) and model.backend == "onnxruntime-cpu"
    batch = np.zeros((1, 3, 48, 192), dtype=np.float32)
    (probs,) = model.run({model.input_names[0]: batch})
    assert probs.shape == (1, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-4)


def test_slow_factory_loads_once_under_concurrent_requests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "slowfactory_rt.py").write_text(textwrap.dedent('''
        import time
        CALLS = []
        def make(path, options):
            CALLS.append(path)
            time.sleep(0.3)
            return object()
    '''))
    monkeypatch.syspath_prepend(str(code))
    (tmp_path / "d").mkdir()
    spec = make_spec("custom", {"path": "."}, factory="slowfactory_rt:make")
    registry = ModelRegistry(tmp_path / "cache")
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(registry.get("x/y", "m", spec, tmp_path / "d")))
               for _ in range(6)]
    for t in threads:
        t.start()
    time.sleep(0.1)
    assert registry.status("x/y", "m", spec, tmp_path / "d").state == "loading"
    for t in threads:
        t.join()
    import slowfactory_rt

    assert len(slowfactory_rt.CALLS) == 1 and len(got) == 6 and all(g is got[0] for g in got)
