"""Tiny models with random weights, built by the tests themselves (no download): one per task family."""

from __future__ import annotations

from pathlib import Path
from typing import Any

WORDS = ("the a an is was to of and in on for with my card bank train bus late delayed refund money "
         "account pin reset password help please where when how what why can i you we it this that "
         "hello world good bad great terrible service station city ticket fare doctor pain fever "
         "school lesson student teacher exam question answer price stock market rose fell").split()


def write_wordpiece_vocab(folder: Path) -> Path:
    """Write a small WordPiece vocab (special tokens, words, sub-word pieces, characters)."""
    folder.mkdir(parents=True, exist_ok=True)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = sorted(set("".join(WORDS)) | set("0123456789.,?!'-%"))
    vocab = specials + WORDS + chars + [f"##{c}" for c in chars]
    path = folder / "vocab.txt"
    path.write_text("\n".join(dict.fromkeys(vocab)) + "\n", encoding="utf-8")
    return path


def tiny_bert(folder: Path, head: str = "base", seed: int = 0, num_labels: int = 3) -> Path:
    """Save a 2-layer, 32-wide BERT with random weights and its WordPiece tokenizer into `folder`."""
    import torch
    from transformers import (BertConfig, BertForQuestionAnswering, BertForSequenceClassification,
                              BertForTokenClassification, BertModel, BertTokenizerFast)

    vocab = write_wordpiece_vocab(folder)
    num_labels = 2 if head == "qa" else num_labels  # start and end logits
    tokenizer = BertTokenizerFast(vocab_file=str(vocab), do_lower_case=True, model_max_length=64)
    labels = {0: "negative", 1: "neutral", 2: "positive"} if head == "seq" else {
        i: f"TAG{i}" for i in range(num_labels)}
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=64,
                        initializer_range=0.3, num_labels=num_labels, id2label=labels, label2id={v: k for k, v in labels.items()})
    torch.manual_seed(seed)
    cls = {"base": BertModel, "seq": BertForSequenceClassification, "tok": BertForTokenClassification,
           "qa": BertForQuestionAnswering}[head]
    model = cls(config).eval()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def add_outliers(folder: Path, scale: float = 1000.0) -> Path:
    """Re-save a tiny BERT whose inner hidden states carry two huge channels, which int8 activations cannot hold.

    Dynamic int8 quantizes each activation tensor with one scale; two channels 1000x larger than the rest push
    every other channel to zero, so the layers that follow compute from noise (the LLM.int8 outlier problem).
    The last layer's norm is left alone, so the output itself has no outlier that would dominate the cosine.
    """
    import torch
    from transformers import BertModel

    model = BertModel.from_pretrained(folder).eval()
    with torch.no_grad():
        model.embeddings.LayerNorm.weight[:2] *= scale
        for layer in model.encoder.layer[:-1]:
            layer.output.LayerNorm.weight[:2] *= scale
    model.save_pretrained(folder)
    return folder



def add_weight_outliers(folder: Path, columns: int = 2, scale: float = 1e4) -> Path:
    """Re-save a tiny BERT that no int8 weight format can hold, on any CPU and with any kernel.

    Each query/key/value and intermediate projection gets a weight of `scale` in input columns whose activation is
    exactly zero in fp32 (the norm before it has weight and bias 0 there), so fp32 outputs do not change. Per-channel
    int8 weights then need a step of about scale/255 in every output channel, which rounds all the real weights to
    the same level: the int8 projections keep only their bias, whatever the kernels compute with them.
    """
    import torch
    from transformers import BertModel

    model = BertModel.from_pretrained(folder).eval()
    cut = slice(0, columns)
    with torch.no_grad():
        before = model.embeddings.LayerNorm
        for layer in model.encoder.layer:
            before.weight[cut] = 0.0
            before.bias[cut] = 0.0
            for linear in (layer.attention.self.query, layer.attention.self.key, layer.attention.self.value):
                linear.weight[:, cut] = scale
            layer.attention.output.LayerNorm.weight[cut] = 0.0
            layer.attention.output.LayerNorm.bias[cut] = 0.0
            layer.intermediate.dense.weight[:, cut] = scale
            before = layer.output.LayerNorm
    model.save_pretrained(folder)
    return folder


SENTENCES = [
    "the train to the city was late again this morning",
    "my bank card was blocked and i need a new pin",
    "the student asked the teacher a question about the exam",
    "the doctor said the fever should go down in two days",
    "stock prices rose after the market opened",
    "translate english to german: the house is small",
    "summarize: the bus was delayed because of heavy snow in the city",
    "where can i buy a ticket for the night bus",
    "please help me reset my online banking password",
    "the lesson today is about fractions and decimals",
] * 3


def train_sentencepiece(folder: Path, vocab_size: int = 120) -> Path:
    """Train a unigram SentencePiece model on a few sentences and return the `.model` path."""
    import sentencepiece as spm

    folder.mkdir(parents=True, exist_ok=True)
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(SENTENCES) + "\n", encoding="utf-8")
    prefix = folder / "spiece"
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(prefix), vocab_size=vocab_size, model_type="unigram", hard_vocab_limit=False,
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1, character_coverage=1.0, minloglevel=2,
    )
    corpus.unlink()
    return prefix.with_suffix(".model")


def tiny_t5(folder: Path, seed: int = 0) -> Path:
    """Save a 2-layer T5 with random weights and a SentencePiece tokenizer trained here."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration, T5TokenizerFast

    sp_model = train_sentencepiece(folder.parent / "_sentencepiece")
    # From the folder: transformers 5 ignores a `vocab_file` passed to the constructor (4 tokens were left).
    tokenizer = T5TokenizerFast.from_pretrained(str(sp_model.parent), extra_ids=0, legacy=False)
    config = T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2,
                      num_heads=4, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1,
                      initializer_factor=1.0)
    torch.manual_seed(seed)
    T5ForConditionalGeneration(config).eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def tiny_vit(folder: Path, seed: int = 0) -> Path:
    """Save a tiny ViT image classifier (32x32 input, 3 classes) with its image processor."""
    import torch
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    labels = {0: "bus", 1: "train", 2: "bicycle"}
    config = ViTConfig(image_size=32, patch_size=8, num_channels=3, hidden_size=32, num_hidden_layers=2,
                       num_attention_heads=2, intermediate_size=64, num_labels=3, id2label=labels,
                       label2id={v: k for k, v in labels.items()})
    torch.manual_seed(seed)
    ViTForImageClassification(config).eval().save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


WHISPER_SPECIALS = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|translate|>", "<|transcribe|>",
                    "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>", "<|notimestamps|>"]
WHISPER_LANGUAGES = ["<|en|>", "<|es|>", "<|zh|>"]  # the multilingual variant's languages
WHISPER_TIMESTAMPS = 60  # timestamp tokens <|0.00|> ... <|1.18|> of the variant with timestamps


def tiny_whisper(folder: Path, seed: int = 0, multilingual: bool = False, timestamps: bool = False) -> Path:
    """Save a 1-layer, 32-wide Whisper with random weights and a byte-level BPE vocab written here.

    English-only by default; `multilingual` adds <|es|> and <|zh|> and language detection, `timestamps` adds
    timestamp tokens right after <|notimestamps|>, as real Whisper vocabularies have them.
    """
    import json

    import torch
    from transformers import (GenerationConfig, WhisperConfig, WhisperFeatureExtractor,
                              WhisperForConditionalGeneration, WhisperProcessor, WhisperTokenizer)
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    folder.mkdir(parents=True, exist_ok=True)
    byte_tokens = list(bytes_to_unicode().values())
    merges = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("a", "n"), ("i", "n")]
    vocab = {tok: i for i, tok in enumerate(byte_tokens + ["".join(m) for m in merges])}
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n",
                                       encoding="utf-8")
    tokenizer = WhisperTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))
    languages = WHISPER_LANGUAGES if multilingual else ["<|en|>"]
    specials = WHISPER_SPECIALS[:2] + languages + WHISPER_SPECIALS[3:]
    tokenizer.add_special_tokens({"additional_special_tokens": specials[1:]})
    if timestamps:
        tokenizer.add_tokens([f"<|{i * 0.02:.2f}|>" for i in range(WHISPER_TIMESTAMPS)])
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in specials}
    eot = ids["<|endoftext|>"]
    # Random weights would keep emitting special tokens; suppressing them makes the transcript real text.
    suppress = [ids[t] for t in specials[1:]]
    config = WhisperConfig(
        vocab_size=len(tokenizer), num_mel_bins=80, d_model=32, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
        max_source_positions=1500, max_target_positions=64, pad_token_id=eot, bos_token_id=eot, eos_token_id=eot,
        decoder_start_token_id=ids["<|startoftranscript|>"], suppress_tokens=suppress, begin_suppress_tokens=[eot],
        init_std=0.2,
    )
    torch.manual_seed(seed)
    model = WhisperForConditionalGeneration(config).eval()
    extra: dict = {"is_multilingual": multilingual}
    if multilingual:
        extra = {"is_multilingual": True, "lang_to_id": {t: ids[t] for t in languages},
                 "task_to_id": {"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]}}
    if timestamps:
        extra["max_initial_timestamp_index"] = 50
    model.generation_config = GenerationConfig(
        decoder_start_token_id=ids["<|startoftranscript|>"], eos_token_id=eot, pad_token_id=eot,
        bos_token_id=eot, no_timestamps_token_id=ids["<|notimestamps|>"],
        forced_decoder_ids=[[1, ids["<|notimestamps|>"]]], suppress_tokens=suppress, begin_suppress_tokens=[eot],
        max_length=64, **extra,
    )
    model.save_pretrained(folder)
    WhisperProcessor(WhisperFeatureExtractor(feature_size=80), tokenizer).save_pretrained(folder)
    return folder


def write_tone(path: Path, seconds: float = 1.5, rate: int = 22050, freq: float = 440.0) -> Path:
    """Write a short stereo tone at a non-16k rate (exercises mono-down-mix and resampling)."""
    import numpy as np
    import soundfile as sf

    t = np.arange(int(seconds * rate)) / rate
    wave = 0.3 * np.sin(2 * np.pi * freq * t) * np.hanning(t.size)
    sf.write(path, np.stack([wave, wave * 0.5], axis=1).astype(np.float32), rate)
    return path


def tiny_task_models(base: Path) -> Path:
    """Build one tiny model per pipeline task under `base/<folder>/model`: seq, tok, qa, t5, vit."""
    tiny_bert(base / "seq" / "model", head="seq", seed=3)
    tiny_bert(base / "tok" / "model", head="tok", seed=4)
    tiny_bert(base / "qa" / "model", head="qa", seed=5)
    tiny_t5(base / "t5" / "model", seed=6)
    tiny_vit(base / "vit" / "model", seed=7)
    return base


def train_byte_bpe(folder: Path, vocab_size: int = 300) -> Any:
    """Train a byte-level BPE tokenizer (as GPT-2 and Llama-3 style models use) on a few sentences."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(SENTENCES, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="<|endoftext|>", bos_token="<|endoftext|>")


def tiny_llama(folder: Path, seed: int = 0) -> Path:
    """Save a 2-layer, 32-wide Llama causal LM (grouped key/value heads) with random weights and its tokenizer."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    tokenizer = train_byte_bpe(folder)
    eos = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                         bos_token_id=eos, eos_token_id=eos, tie_word_embeddings=True)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():  # larger weights than the default init, so the random model's choices are not near-ties
        for param in model.parameters():
            param.mul_(4.0)
    model.save_pretrained(folder)
    GenerationConfig(bos_token_id=eos, eos_token_id=eos).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
