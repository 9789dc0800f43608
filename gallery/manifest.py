"""Typed schema of a demo folder's `demo.yaml`, and loading it with errors that name file and field."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator,
                      model_validator)
from typing_extensions import NotRequired, TypedDict

from gallery.iotypes import INPUT_TYPES, OUTPUT_TYPES
from gallery.languages import NO_LANGUAGE, check_code
from gallery.model_refs import CatalogError, resolve_model_refs
from gallery.runtime.spec import ModelSpec, ServingSpec

MANIFEST_NAME = "demo.yaml"
SECTORS: tuple[str, ...] = ("healthcare", "education", "finance", "transport")
Sector = Literal["healthcare", "education", "finance", "transport"]
# A card without an icon of its own shows its sector's (and `gallery new` starts a demo with it).
SECTOR_ICONS = {"healthcare": "🩺", "education": "🎓", "finance": "💹", "transport": "🚆"}
SECTORS_NEEDING_DISCLAIMER = frozenset({"healthcare", "finance"})
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
NAME_RE = re.compile(r"^[a-z_][a-z0-9_]*$")

# The registered type names (gallery/iotypes/): pydantic's error for another lists them, naming file and field.
InputTypeName = Literal[tuple(INPUT_TYPES)]  # type: ignore[valid-type]
OutputTypeName = Literal[tuple(OUTPUT_TYPES)]  # type: ignore[valid-type]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bilingual(_Strict):
    """A text given in English and Chinese."""

    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)

    @field_validator("en", "zh")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    def get(self, lang: str) -> str:
        """Return the text for `lang`, falling back to English."""
        return self.zh if lang.startswith("zh") else self.en


# The key of an example that is its caption, not an input value; no input may take this name.
EXAMPLE_LABEL = "label"


class Example(TypedDict):
    """One example: `{input name: value}`, plus an optional caption `label: {en, zh}`."""

    __pydantic_config__ = ConfigDict(extra="allow")  # type: ignore[misc]
    label: NotRequired[Bilingual]


def _identifier(value: str) -> str:
    if not NAME_RE.match(value):
        raise ValueError("must be a lower-case Python identifier")
    return value


# Input and output names become predict parameters and result keys.
Identifier = Annotated[str, AfterValidator(_identifier)]
LanguageCode = Annotated[str, AfterValidator(check_code)]
ICON_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".svg")
# An icon file is put inline into every Home page: keep it small.
ICON_FILE_LIMIT = 64 * 1024


def _icon(value: str) -> str:
    if value.lower().endswith(ICON_SUFFIXES):
        if Path(value).is_absolute() or ".." in Path(value).parts:
            raise ValueError(f"{value!r} must be a path inside the demo folder, e.g. icon.png")
        return value
    # An emoji is one to a few code points (skin tones, joiners, variation selectors), never letters.
    if not value.strip() or len(value) > 8 or any(c.isascii() and (c.isalnum() or c.isspace()) for c in value):
        raise ValueError(f"{value!r} must be an emoji (e.g. 🩺) or an image file in the demo folder "
                         f"({', '.join(ICON_SUFFIXES)})")
    return value


Icon = Annotated[str, AfterValidator(_icon)]


class InputSpec(_Strict):
    """One input of a demo: its type, label and limits."""

    name: Identifier
    type: InputTypeName
    label: Bilingual
    required: bool = True
    default: Any = None
    lines: int = Field(1, ge=1, le=40, description="text box height")
    max_chars: int | None = Field(None, ge=1, description="text length limit")
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    choices: list[str] | None = None
    choice_labels: dict[str, Bilingual] | None = Field(
        None, description="what each choice shows, in both languages (the value sent stays the choice)")
    max_seconds: float | None = Field(None, gt=0, description="audio duration limit")
    max_pixels: int | None = Field(None, gt=0, description="image size limit (width x height)")
    max_bytes: int | None = Field(None, gt=0, description="upload size limit")
    accept: list[str] | None = Field(None, description="file extensions, e.g. ['.csv']")
    max_items: int | None = Field(None, gt=0, description="numbers in a series given as a JSON array")

    @model_validator(mode="after")
    def _type_rules(self) -> "InputSpec":
        INPUT_TYPES[self.type].check_spec(self)
        return self


class OutputSpec(_Strict):
    """One rendered view of a demo's JSON result."""

    name: Identifier
    type: OutputTypeName
    label: Bilingual
    columns: list[str | Bilingual] | None = Field(
        None, min_length=1, description="a table's column headers before any result (text, or {en, zh})")

    def column_names(self, lang: str) -> list[str] | None:
        """Return the column headers in `lang` (a plain text header is the same in both)."""
        if self.columns is None:
            return None
        return [c if isinstance(c, str) else c.get(lang) for c in self.columns]

    @model_validator(mode="after")
    def _type_rules(self) -> OutputSpec:
        OUTPUT_TYPES[self.type].check_spec(self)
        return self


class AppSpec(_Strict):
    """A demo whose code already exists as a factory in shared code: `module:function` and its options."""

    factory: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$", description="module:function that makes the app")
    options: dict[str, Any] = Field(default_factory=dict, description="the factory's options (it checks them)")


class Manifest(_Strict):
    """Everything the gallery knows about a demo before importing its code."""

    id: str
    sector: Sector
    title: Bilingual
    summary: Bilingual
    task: str = Field(min_length=1)
    license: str = Field(min_length=1, description="SPDX id of the demo's code")
    owners: list[str] = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    languages: list[LanguageCode] = Field(min_length=1, description="input languages (ISO 639-1), or [zxx]")
    icon: Icon | None = Field(None, description="an emoji, or an image file in the folder")
    featured: bool = Field(False, description="shown first when Home is ordered by featured")
    disclaimer: Bilingual | None = None
    models: dict[str, ModelSpec] = Field(default_factory=dict)
    inputs: list[InputSpec] = Field(min_length=1)
    outputs: list[OutputSpec] = Field(min_length=1)
    # After validation each example holds input values only; its caption moves to `example_label(index)`.
    examples: list[Example] = Field(default_factory=list)
    disabled: str | None = None
    serving: ServingSpec = Field(default_factory=ServingSpec, description="Ray Serve deployment (--engine ray)")
    app: AppSpec | None = Field(None, description="the demo's code from a factory instead of an app.py")
    _example_labels: list[Bilingual | None] = PrivateAttr(default_factory=list)

    def example_values(self, index: int) -> dict[str, Any]:
        """Return a copy of example `index`'s input values."""
        return dict(self.examples[index])

    def example_label(self, index: int) -> Bilingual | None:
        """Return example `index`'s caption, if the manifest gives one."""
        return self._example_labels[index] if index < len(self._example_labels) else None

    @property
    def slug(self) -> str:
        """Return the demo's folder name."""
        return self.id.split("/", 1)[1]

    @property
    def api_name(self) -> str:
        """Return the Gradio API endpoint name (`<sector>-<slug>`)."""
        return self.id.replace("/", "-")

    @property
    def tool_name(self) -> str:
        """Return the MCP tool name (`<sector>_<slug>`, every `-` as `_`)."""
        return self.id.replace("/", "_").replace("-", "_")

    @field_validator("app", mode="before")
    @classmethod
    def _app_shorthand(cls, value: Any) -> Any:
        return {"factory": value} if isinstance(value, str) else value

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        sector, _, slug = value.partition("/")
        if sector not in SECTORS or not SLUG_RE.match(slug):
            raise ValueError("must be `<sector>/<slug>` with a known sector and a kebab-case slug")
        return value

    @model_validator(mode="after")
    def _cross_field_rules(self) -> "Manifest":
        if self.id.split("/", 1)[0] != self.sector:
            raise ValueError(f"id {self.id!r} does not start with sector {self.sector!r}")
        if self.sector in SECTORS_NEEDING_DISCLAIMER and self.disclaimer is None:
            raise ValueError(f"disclaimer: required (en and zh) for sector {self.sector!r}")
        if len(set(self.languages)) != len(self.languages):
            raise ValueError("languages: each code once")
        if NO_LANGUAGE in self.languages and len(self.languages) > 1:
            raise ValueError(f"languages: {NO_LANGUAGE} (no language) cannot be combined with languages")
        names = [spec.name for spec in self.inputs]
        if len(set(names)) != len(names):
            raise ValueError("inputs: names must be unique")
        if EXAMPLE_LABEL in names:
            raise ValueError(f"inputs: {EXAMPLE_LABEL!r} is reserved (an example's caption); rename the input")
        for index, example in enumerate(self.examples):
            unknown = set(example) - set(names) - {EXAMPLE_LABEL}
            if unknown:
                raise ValueError(f"examples[{index}]: unknown input(s) {sorted(unknown)}")
        # Every consumer of `examples` (API snippets, tests, calibration) reads input values only.
        self._example_labels = [example.pop(EXAMPLE_LABEL, None) for example in self.examples]  # type: ignore[misc]
        return self


@dataclass(frozen=True)
class ManifestProblem:
    """One error in a manifest: which file, which field, what is wrong."""

    path: Path
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.field}: {self.message}"


class ManifestError(Exception):
    """A manifest could not be read or validated; carries every problem found."""

    def __init__(self, problems: list[ManifestProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def _field_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif str(item) in ("PackageSource", "HubSource", "PathSource"):
            continue  # union branch names are noise to a contributor
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


def problems_from_validation(path: Path, error: ValidationError) -> list[ManifestProblem]:
    """Turn a pydantic error into problems naming the file and the dotted field."""
    problems = []
    for item in error.errors():
        message = str(item["msg"]).removeprefix("Value error, ")
        field = _field_path(tuple(item["loc"]))
        if field == "(top level)" and ": " in message and message.split(": ", 1)[0].isidentifier():
            field, message = message.split(": ", 1)
        problems.append(ManifestProblem(path, field, message))
    return problems


def read_manifest_data(path: Path) -> dict[str, Any]:
    """Read a manifest's YAML mapping with named models resolved, raising ManifestError on what is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError([ManifestProblem(path, "(file)", f"cannot read: {exc}")]) from exc
    except yaml.YAMLError as exc:
        raise ManifestError([ManifestProblem(path, "(file)", f"invalid YAML: {exc}")]) from exc
    if not isinstance(data, dict):
        raise ManifestError([ManifestProblem(path, "(file)", "must be a YAML mapping")])
    try:
        return resolve_model_refs(data, path)
    except CatalogError as exc:
        raise ManifestError([ManifestProblem(p.path, p.field, p.message) for p in exc.problems]) from exc


def icon_file_problem(folder: Path, icon: str | None) -> str | None:
    """Return what is wrong with an icon that names a file in `folder` (None: an emoji, or a good file)."""
    if icon is None or not icon.lower().endswith(ICON_SUFFIXES):
        return None
    path = folder / icon
    if not path.is_file():
        return f"{icon!r} does not exist in the demo folder"
    size = path.stat().st_size
    if size > ICON_FILE_LIMIT:
        return f"{icon!r} is {size:,} bytes; an icon must be at most {ICON_FILE_LIMIT:,} bytes"
    return None


def load_manifest(path: Path) -> Manifest:
    """Load and validate one `demo.yaml`, checking that id and sector match its folder."""
    data = read_manifest_data(path)
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        raise ManifestError(problems_from_validation(path, exc)) from exc
    folder_id = f"{path.parent.parent.name}/{path.parent.name}"
    problems = []
    if manifest.id != folder_id:
        problems.append(ManifestProblem(path, "id", f"is {manifest.id!r} but the folder is {folder_id!r}"))
    icon = icon_file_problem(path.parent, manifest.icon)
    if icon:
        problems.append(ManifestProblem(path, "icon", icon))
    if manifest.sector != path.parent.parent.name:
        problems.append(
            ManifestProblem(path, "sector", f"is {manifest.sector!r} but the parent folder is {path.parent.parent.name!r}")
        )
    if problems:
        raise ManifestError(problems)
    return manifest
