"""The torch-free task engines against transformers' PyTorch pipelines, on tiny random models.

The tiny models are built here (tests/runtime/tinymodels.py) and exported by the exporter environment (Optimum
with transformers 4.57) in a subprocess. Each engine then runs the export on ONNX Runtime and must give what the
pipeline gives on the PyTorch model: the same labels, words, spans and generated text, scores within 1e-4.
transformers 5 no longer has the question-answering and seq2seq pipelines; where the serving environment lacks
one, the reference is that pipeline in the exporter environment (4.57, same weights, run in a subprocess), and
the seq2seq tokens are also held to the serving environment's own greedy `generate`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from gallery.runtime.exporter import client
from gallery.runtime.image_engine import ImageClassifier, ImagePreprocessor
from gallery.runtime.seq2seq_onnx import OnnxSeq2Seq
from gallery.runtime.text_engines import QuestionAnswerer, TextClassifier, TokenClassifier
from tests.runtime.tinymodels import tiny_task_models

ROOT = Path(__file__).resolve().parents[2]
EXPORTER = Path(os.environ.get("OPENMODELS_EXPORTER_PYTHON", str(ROOT / ".venv-export" / "bin" / "python")))
pytestmark = pytest.mark.skipif(not EXPORTER.is_file(), reason=f"no exporter interpreter at {EXPORTER} (build it "
                                "with `make install-exporter` or set OPENMODELS_EXPORTER_PYTHON)")

ATOL = 1e-4
TEXTS = ["the train was late again", "great service at the bank", "", "where can i buy a ticket? 42%"]
CONTEXT = "the bus is at the station near the school"
LONG_CONTEXT = " ".join(["the student asked the teacher a question about the exam and the price of the ticket"] * 12)
SEQ2SEQ_TASKS = {"text2text-generation": "generated_text", "summarization": "summary_text",
                 "translation_en_to_de": "translation_text"}
PREFIXES = {"summarization": {"prefix": "summarize: "}, "translation_en_to_de": {"prefix": "translate to german: "}}
BART_GENERATION = {"decoder_start_token_id": 2, "bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 1,
                   "forced_bos_token_id": 0, "forced_eos_token_id": 2, "max_length": 24, "min_length": 6,
                   "no_repeat_ngram_size": 2, "repetition_penalty": 1.3, "bad_words_ids": [[5], [7, 8]],
                   "suppress_tokens": [9], "begin_suppress_tokens": [10, 11]}

# Run by the exporter interpreter: Optimum exports each model and saves its preprocessors next to it (as
# gallery.runtime.exporter does), then copies the tokenizer files transformers 4.57 could not re-save (a
# transformers 5 tokenizer_config.json fails to load there); seq2seq exports also get a merged-decoder copy.
# Run by the exporter interpreter: transformers 4.57's pipelines on the PyTorch models, outputs as JSON. The
# models were saved by transformers 5: the exporter's own readable_source shows them to 4.57.
REFERENCE_SCRIPT = r"""
import contextlib, json, sys
from pathlib import Path
from transformers import pipeline
from gallery.runtime.exporter.steps import readable_source
pipes, out = {}, {}
with contextlib.ExitStack() as views:
    for name, task, folder, args, kwargs in json.loads(sys.argv[1]):
        if (task, folder) not in pipes:
            pipes[task, folder] = pipeline(task, model=str(views.enter_context(readable_source(Path(folder)))))
        out[name] = pipes[task, folder](*args, **kwargs)
print(json.dumps(out, default=float))
"""


def run_exporter(script: str, payload: Any, timeout: int = 600) -> str:
    """Run a script with the exporter interpreter (JSON payload as argv[1]); return its stdout."""
    done = subprocess.run([str(EXPORTER), "-c", script, json.dumps(payload)], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout


def export_models(jobs: list[dict[str, str]]) -> None:
    """Export tiny models with the gallery's own exporter jobs (the steps the registry runs)."""
    for job in jobs:
        extras = [] if job["cls"] == "ORTModelForImageClassification" else ["fast_tokenizer"]
        client.run_job({"op": "export", "ort_class": job["cls"], "src": job["src"], "dst": job["dst"],
                        "merge": False, "extras": extras})
        if job.get("merged"):
            client.run_job({"op": "export", "ort_class": job["cls"], "src": job["src"], "dst": job["merged"],
                            "merge": True, "extras": extras})


def tiny_bart(folder: Path, tokenizer_from: Path, seed: int = 8) -> Path:
    """Save a 1-layer BART whose generation config turns on every logits processor the engine applies."""
    import torch
    from transformers import BartConfig, BartForConditionalGeneration, GenerationConfig

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (tokenizer_from / name).is_file():
            shutil.copy2(tokenizer_from / name, folder / name)
    vocab = json.loads((folder / "tokenizer.json").read_text())["model"]["vocab"]
    config = BartConfig(vocab_size=len(vocab), d_model=32, encoder_layers=1, decoder_layers=1,
                        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
                        decoder_ffn_dim=64, max_position_embeddings=64, init_std=0.3,
                        **{k: BART_GENERATION[k] for k in ("decoder_start_token_id", "bos_token_id", "eos_token_id",
                                                           "pad_token_id", "forced_bos_token_id",
                                                           "forced_eos_token_id")})
    torch.manual_seed(seed)
    model = BartForConditionalGeneration(config).eval()
    model.generation_config = GenerationConfig(**BART_GENERATION)
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the tiny models (and a multi-label copy of the classifier, a BART); give T5 task prefixes."""
    base = tiny_task_models(tmp_path_factory.mktemp("engines"))
    config_path = base / "t5" / "model" / "config.json"
    config = json.loads(config_path.read_text())
    config["task_specific_params"] = PREFIXES
    config_path.write_text(json.dumps(config, indent=2))
    shutil.copytree(base / "seq" / "model", base / "multi" / "model")
    config_path = base / "multi" / "model" / "config.json"
    config = json.loads(config_path.read_text())
    config["problem_type"] = "multi_label_classification"
    config_path.write_text(json.dumps(config, indent=2))
    tiny_bart(base / "bart" / "model", base / "t5" / "model")
    return base


@pytest.fixture(scope="module")
def exports(models: Path) -> Path:
    """Export every tiny model; seq2seq models both as decoder pairs and with a merged decoder."""
    classes = {"seq": "ORTModelForSequenceClassification", "multi": "ORTModelForSequenceClassification",
               "tok": "ORTModelForTokenClassification", "qa": "ORTModelForQuestionAnswering",
               "vit": "ORTModelForImageClassification", "t5": "ORTModelForSeq2SeqLM", "bart": "ORTModelForSeq2SeqLM"}
    out = models / "exports"
    jobs = [{"src": str(models / name / "model"), "dst": str(out / name), "cls": cls,
             **({"merged": str(out / f"{name}-merged")} if cls == "ORTModelForSeq2SeqLM" else {})}
            for name, cls in classes.items()]
    export_models(jobs)
    return out


def ort(path: Path) -> Any:
    """Open a graph on ONNX Runtime's CPU provider (the engines' session factory)."""
    import onnxruntime

    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def serving_has(task: str) -> bool:
    """Return whether the serving environment's transformers still has a pipeline for `task`."""
    from transformers.pipelines import SUPPORTED_TASKS

    return task.split("_")[0] in SUPPORTED_TASKS


# name -> (args, kwargs): the QA and seq2seq pipeline calls the engines are held to (the reference fixture).
QA_CALLS = {
    "qa": ((), {"question": "where is the bus", "context": CONTEXT}),
    "qa-top3": ((), {"question": "where is the bus", "context": CONTEXT, "top_k": 3}),
    "qa-impossible": ((), {"question": "who asked", "context": CONTEXT, "handle_impossible_answer": True,
                           "top_k": 2}),
    "qa-long": ((), {"question": "what did the student ask", "context": LONG_CONTEXT, "top_k": 4}),
    "qa-short-answers": ((), {"question": "what price", "context": LONG_CONTEXT, "max_answer_len": 2,
                              "align_to_words": False}),
    "qa-list": ((), {"question": ["where is the bus", "where is the school"], "context": CONTEXT}),
}
GENERATE = {"max_new_tokens": 8, "do_sample": False, "num_beams": 1}
SEQ2SEQ_CALLS = {
    **{task: (("please help me reset my online banking password",), GENERATE) for task in SEQ2SEQ_TASKS},
    "long": (("the student asked the teacher a question about the exam",),
             {"max_new_tokens": 30, "do_sample": False, "num_beams": 1}),
    "processors": (("stock prices rose after the market opened",),
                   {"max_new_tokens": 20, "do_sample": False, "num_beams": 1, "no_repeat_ngram_size": 2,
                    "repetition_penalty": 1.4, "min_new_tokens": 12}),
    "batch": ((["hello world", "the bus was delayed"],), GENERATE),
}


@pytest.fixture(scope="module")
def reference(models: Path) -> dict[str, Any]:
    """Return the pipeline output of every QA and seq2seq call, from the serving env or else the exporter's."""
    calls = [[name, "question-answering", str(models / "qa" / "model"), args, kwargs]
             for name, (args, kwargs) in QA_CALLS.items()]
    calls += [[name, name if name in SEQ2SEQ_TASKS else "text2text-generation", str(models / "t5" / "model"),
               args, kwargs] for name, (args, kwargs) in SEQ2SEQ_CALLS.items()]
    local = [c for c in calls if serving_has(c[1])]
    remote = [c for c in calls if not serving_has(c[1])]
    out: dict[str, Any] = json.loads(run_exporter(REFERENCE_SCRIPT, remote).splitlines()[-1]) if remote else {}
    pipes: dict[tuple[str, str], Any] = {}
    for name, task, folder, args, kwargs in local:
        pipe = pipes.setdefault((task, folder), torch_pipeline(task, Path(folder)))
        out[name] = json.loads(json.dumps(pipe(*args, **kwargs), default=float))
    return out


def torch_pipeline(task: str, folder: Path) -> Callable[..., Any]:
    """Return the serving environment's PyTorch pipeline (transformers 4.57 or 5)."""
    from transformers import pipeline

    return pipeline(task, model=str(folder))


def structure(value: Any) -> Any:
    """Return the nesting of a pipeline output: lists by length and content, dicts by their keys."""
    if isinstance(value, list):
        return [structure(v) for v in value]
    return sorted(value) if isinstance(value, dict) else type(value).__name__


def leaves(value: Any) -> list[dict[str, Any]]:
    """Return the result dicts of a nested pipeline output in order."""
    return [leaf for v in value for leaf in leaves(v)] if isinstance(value, list) else [value]


def assert_ranked(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    """Same labels in the same order, scores within ATOL."""
    assert [x["label"] for x in got] == [x["label"] for x in want]
    np.testing.assert_allclose([x["score"] for x in got], [x["score"] for x in want], atol=ATOL)


def test_text_classification(models: Path, exports: Path) -> None:
    clf, pipe = TextClassifier(exports / "seq", ort), torch_pipeline("text-classification", models / "seq" / "model")
    for g, w in zip(clf(TEXTS, top_k=None), pipe(TEXTS, top_k=None)):
        assert_ranked(g, w)
    assert {x["label"] for x in clf(TEXTS[0], top_k=None)} == {"negative", "neutral", "positive"}
    for args, kwargs in [((TEXTS[0],), {}), ((TEXTS,), {}), ((TEXTS[1],), {"top_k": 2}),
                         ((TEXTS[:2],), {"top_k": 1}), (({"text": TEXTS[0], "text_pair": TEXTS[1]},), {}),
                         ((TEXTS[0],), {"top_k": None, "function_to_apply": "sigmoid"})]:
        got, want = clf(*args, **kwargs), pipe(*args, **kwargs)
        assert structure(got) == structure(want), (args, kwargs)
        assert_ranked(leaves(got), leaves(want))
    logits = clf.logits(TEXTS[0])["logits"]
    assert logits.shape == (1, 3) and logits.dtype == np.float32


def test_multi_label_classification_uses_sigmoid(models: Path, exports: Path) -> None:
    clf = TextClassifier(exports / "multi", ort)
    pipe = torch_pipeline("text-classification", models / "multi" / "model")
    assert clf.labels.function == "sigmoid"
    for g, w in zip(clf(TEXTS, top_k=None), pipe(TEXTS, top_k=None)):
        assert_ranked(g, w)
    assert abs(sum(x["score"] for x in clf(TEXTS[0], top_k=None)) - 1.0) > 1e-3  # not a softmax


def test_token_classification(models: Path, exports: Path) -> None:
    tok, pipe = TokenClassifier(exports / "tok", ort), torch_pipeline("token-classification", models / "tok" / "model")
    long = " ".join(["my card was blocked at the station"] * 20)  # cut at 64 tokens by both
    sentences = ["my card was blocked at the station", "où est la gare? €5 please", "", long]
    for kwargs in ({}, {"ignore_labels": []}, {"ignore_labels": ["TAG0", "TAG1"]}):
        for got, want in zip(tok(sentences, **kwargs), pipe(sentences, **kwargs)):
            keys = ("entity", "index", "word", "start", "end")
            assert [tuple(x[k] for k in keys) for x in got] == [tuple(x[k] for k in keys) for x in want]
            np.testing.assert_allclose([x["score"] for x in got], [x["score"] for x in want], atol=ATOL)
    # An unknown token shows its own text, not "[UNK]".
    assert [x["word"] for x in tok(sentences[1], ignore_labels=[])][-2:] == ["€5", "please"]
    assert tok.logits(sentences[0])["logits"].shape[-1] == 3
    with pytest.raises(ValueError, match="aggregation_strategy"):
        tok(sentences[0], aggregation_strategy="simple")


def test_question_answering(exports: Path, reference: dict[str, Any]) -> None:
    qa = QuestionAnswerer(exports / "qa", ort)
    assert (qa.max_seq_len, qa.doc_stride) == (64, 32)  # the long context spans several windows
    for name, (args, kwargs) in QA_CALLS.items():
        got, want = qa(*args, **kwargs), reference[name]
        got_list, want_list = (got, want) if isinstance(want, list) else ([got], [want])
        assert isinstance(got, list) == isinstance(want, list), name
        assert [(a["start"], a["end"], a["answer"]) for a in got_list] == [(a["start"], a["end"], a["answer"])
                                                                         for a in want_list], name
        np.testing.assert_allclose([a["score"] for a in got_list], [a["score"] for a in want_list], atol=ATOL,
                                   err_msg=name)
    logits = qa.logits("where is the bus", CONTEXT)
    assert set(logits) == {"start_logits", "end_logits"} and logits["start_logits"].shape[0] == 1


@pytest.mark.parametrize("decoder", ["merged", "pair"])
def test_seq2seq_matches_the_pipelines(exports: Path, reference: dict[str, Any], decoder: str) -> None:
    folder = exports / ("t5-merged" if decoder == "merged" else "t5")
    for task, key in SEQ2SEQ_TASKS.items():
        gen = OnnxSeq2Seq(folder, ort, task=task)
        assert gen.merged == (decoder == "merged") and gen.cached
        args, kwargs = SEQ2SEQ_CALLS[task]
        assert gen(*args, **kwargs) == reference[task]
        assert list(gen(*args, **kwargs)[0]) == [key]
    gen = OnnxSeq2Seq(folder, ort)
    for name in ("long", "processors", "batch"):
        args, kwargs = SEQ2SEQ_CALLS[name]
        assert gen(*args, **kwargs) == reference[name], name
    # A random tiny T5 repeats one token; the n-gram ban and repetition penalty make it walk the vocabulary.
    assert len(set(reference["processors"][0]["generated_text"])) >= 5
    assert OnnxSeq2Seq(folder, ort, task="summarization").prefix == "summarize: "


def test_seq2seq_tokens_match_torch_generate(models: Path, exports: Path) -> None:
    """Greedy tokens of the serving environment's own `generate`, also with the BART's processors from its config."""
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    for name, calls in (("t5", [{"max_new_tokens": 12}, {"max_new_tokens": 16, "no_repeat_ngram_size": 3,
                                                          "repetition_penalty": 2.0, "min_length": 10}]),
                        ("bart", [{}, {"max_new_tokens": 5}, {"max_length": 12}])):
        src = models / name / "model"
        model, tokenizer = AutoModelForSeq2SeqLM.from_pretrained(str(src)).eval(), AutoTokenizer.from_pretrained(
            str(src))
        for folder in (exports / name, exports / f"{name}-merged"):
            gen = OnnxSeq2Seq(folder, ort)
            for text in ("the bus was delayed because of heavy snow", "hello"):
                for kwargs in calls:
                    with torch.inference_mode():
                        want = model.generate(**tokenizer(text, return_tensors="pt"), do_sample=False, num_beams=1,
                                              **kwargs)[0].tolist()
                    assert gen.generate_ids(text, **kwargs) == want, (name, folder.name, text, kwargs)
    bart = OnnxSeq2Seq(exports / "bart-merged", ort)
    ids = bart.generate_ids("hello")
    assert ids[:2] == [2, 0] and ids[-1] == 2 and len(ids) <= 24 and 9 not in ids  # forced BOS/EOS, suppressed 9


def test_image_classification(models: Path, exports: Path, tmp_path: Path) -> None:
    from PIL import Image

    img, pipe = ImageClassifier(exports / "vit", ort), torch_pipeline("image-classification", models / "vit" / "model")
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8))
    gray = Image.fromarray(rng.integers(0, 255, (70, 20), dtype=np.uint8))
    path = tmp_path / "photo.png"
    image.save(path)
    for args, kwargs in [((image,), {}), ((gray,), {"top_k": 2}), ((str(path),), {}),
                         ((image,), {"function_to_apply": "sigmoid"})]:
        assert_ranked(img(*args, **kwargs), pipe(*args, **kwargs))
    for g, w in zip(img([image, gray]), pipe([image, gray])):
        assert_ranked(g, w)
    assert img.image_logits(image).shape == (1, 3)
    with pytest.raises(ValueError, match="no image file"):
        img("https://example.com/cat.png")


@pytest.mark.parametrize("name", ["vit-square", "convnext-crop-pct", "convnext-large", "clip-shortest-crop"])
def test_image_preprocessor_matches_transformers(name: str) -> None:
    from PIL import Image
    from transformers import CLIPImageProcessor, ConvNextImageProcessor, ViTImageProcessor

    processor = {"vit-square": lambda: ViTImageProcessor(size={"height": 24, "width": 30}, resample=3),
                 "convnext-crop-pct": lambda: ConvNextImageProcessor(size={"shortest_edge": 32}, crop_pct=0.8),
                 "convnext-large": lambda: ConvNextImageProcessor(size={"shortest_edge": 384}),
                 "clip-shortest-crop": lambda: CLIPImageProcessor(size={"shortest_edge": 28},
                                                                  crop_size={"height": 20, "width": 36})}[name]()
    config = json.loads(processor.to_json_string())
    for shape in ((40, 50, 3), (61, 23, 3)):
        image = Image.fromarray(np.random.default_rng(1).integers(0, 255, shape, dtype=np.uint8))
        want = processor(images=image, return_tensors="np")["pixel_values"]
        got = ImagePreprocessor(config)(image)
        assert got.shape == want.shape and got.dtype == np.float32
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_engines_are_safe_under_threads(exports: Path) -> None:
    from PIL import Image

    image = Image.fromarray(np.random.default_rng(2).integers(0, 255, (40, 50, 3), dtype=np.uint8))
    calls: list[Callable[[], Any]] = [
        lambda clf=TextClassifier(exports / "seq", ort): clf(TEXTS, top_k=None),
        lambda tok=TokenClassifier(exports / "tok", ort): tok("my card was blocked at the station", ignore_labels=[]),
        lambda qa=QuestionAnswerer(exports / "qa", ort): qa(question="what did the student ask", context=LONG_CONTEXT),
        lambda gen=OnnxSeq2Seq(exports / "t5-merged", ort): gen(["hello world", "the bus"], max_new_tokens=10),
        lambda img=ImageClassifier(exports / "vit", ort): img(image),
    ]
    expected = [call() for call in calls]
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(10):
                index = (offset + i) % len(calls)
                assert calls[index]() == expected[index]
        # Collected to fail the test in the main thread.
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


def test_bad_inputs_are_refused_or_cut_not_crashing(exports: Path) -> None:
    clf, tok = TextClassifier(exports / "seq", ort), TokenClassifier(exports / "tok", ort)
    qa, gen = QuestionAnswerer(exports / "qa", ort), OnnxSeq2Seq(exports / "t5-merged", ort)
    huge = "the train was late again " * 2000  # 10,000 words: far past every limit
    assert clf(huge)[0]["label"] in {"negative", "neutral", "positive"}  # the pipeline fails here: no truncation
    assert len(clf.tokenizer.encode(huge).ids) == clf.max_length == 64
    assert all(x["end"] <= len(huge) for x in tok(huge, ignore_labels=[])) and tok("") == []
    assert clf("")[0]["label"] and gen("", max_new_tokens=4)[0]["generated_text"] is not None
    assert len(gen.encode(huge)[0]) == gen.max_input_length and gen(huge, max_new_tokens=3)
    assert qa(question="who asked", context=huge[:3000])["answer"]
    for kwargs, error in [({"question": "", "context": CONTEXT}, "cannot be empty"),
                          ({"question": "where", "context": ""}, "cannot be empty"),
                          ({"question": None, "context": CONTEXT}, "cannot be None"),
                          ({"question": huge, "context": CONTEXT}, "too long"),
                          ({"question": ["a", "b"], "context": ["c"]}, "same lengths")]:
        with pytest.raises(ValueError, match=error):
            qa(**kwargs)
    with pytest.raises(ValueError, match="do_sample"):
        gen("hello", do_sample=True)
    with pytest.raises(ValueError, match="num_beams"):
        gen("hello", num_beams=4)
    with pytest.raises(TypeError, match="unsupported generation arguments"):
        gen("hello", temperature=0.7)
    with pytest.raises(TypeError):
        clf(3)  # type: ignore[arg-type]


def test_engines_run_without_torch_transformers_or_optimum(exports: Path) -> None:
    script = (
        "import sys\nfrom pathlib import Path\nimport onnxruntime as ort\n"
        "from gallery.runtime.text_engines import TextClassifier\n"
        "from gallery.runtime.image_engine import ImageClassifier\n"
        "from gallery.runtime.seq2seq_onnx import OnnxSeq2Seq\n"
        "s = lambda p: ort.InferenceSession(str(p), providers=['CPUExecutionProvider'])\n"
        "e = Path(sys.argv[1])\n"
        "print(TextClassifier(e / 'seq', s)('hello'), OnnxSeq2Seq(e / 't5-merged', s)('hello', max_new_tokens=3))\n"
        "print(sorted(m for m in ('torch', 'transformers', 'optimum') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(exports)], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[-1] == "[]"


def test_openvino_sessions_give_the_same_outputs(exports: Path, tmp_path: Path) -> None:
    """OpenVINO IR converted from the exports, opened as gallery.runtime.openvino opens it (`<stem>.xml`)."""
    ov = pytest.importorskip("openvino")
    from PIL import Image

    from gallery.runtime.openvino import OpenVINOSession

    for name in ("seq", "qa", "vit", "t5"):
        (tmp_path / name).mkdir()
        for item in (exports / name).iterdir():
            if item.suffix == ".onnx":  # the decoder pair: OpenVINO's CPU plug-in refuses the merged decoder's If
                ov.save_model(ov.convert_model(str(item)), str(tmp_path / name / f"{item.stem}.xml"),
                              compress_to_fp16=False)
            else:
                shutil.copy2(item, tmp_path / name / item.name)

    def session(path: Path) -> Any:
        return OpenVINOSession(path.with_suffix(".xml"))

    for g, w in zip(TextClassifier(tmp_path / "seq", session)(TEXTS, top_k=None),
                    TextClassifier(exports / "seq", ort)(TEXTS, top_k=None)):
        assert_ranked(g, w)
    fast = QuestionAnswerer(tmp_path / "qa", session)(question="what did the student ask", context=LONG_CONTEXT)
    slow = QuestionAnswerer(exports / "qa", ort)(question="what did the student ask", context=LONG_CONTEXT)
    assert fast["answer"] == slow["answer"] and abs(fast["score"] - slow["score"]) < ATOL
    image = Image.fromarray(np.random.default_rng(3).integers(0, 255, (40, 50, 3), dtype=np.uint8))
    assert_ranked(ImageClassifier(tmp_path / "vit", session)(image), ImageClassifier(exports / "vit", ort)(image))
    gen = OnnxSeq2Seq(tmp_path / "t5", session)
    assert not gen.merged and gen.cached and gen.providers == ["OpenVINO:CPU"]
    for text, kwargs in (("the student asked the teacher", {}), ("stock prices rose", {"no_repeat_ngram_size": 2})):
        assert gen.generate_ids(text, 20, **kwargs) == OnnxSeq2Seq(exports / "t5", ort).generate_ids(text, 20, **kwargs)
