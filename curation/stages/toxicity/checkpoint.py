"""detoxify checkpoints for offline use: which files are needed, preparing them, loading them.

A detoxify checkpoint (``*.ckpt``, a torch pickle) holds ``config.arch.args`` = ``{model_type,
model_name, tokenizer_name, num_classes}``, ``config.dataset.args.classes`` and ``state_dict``.
``detoxify.detoxify.get_model_and_tokenizer`` builds the model with
``<config_class>.from_pretrained(model_type)`` *even when* ``huggingface_config_path`` is given (see
unitaryai/detoxify#126), so a checkpoint whose ``model_type`` is a hub name (``bert-base-uncased``)
contacts the Hugging Face hub. :func:`prepare` rewrites ``model_type`` to a local directory holding the
config and tokenizer files (with ``num_labels`` set to the checkpoint's class count) so loading is
fully offline; :func:`load_detoxify` runs detoxify's own loading code on such a checkpoint.

Checkpoints are pickles: only load files you trust (the official ones from the detoxify releases).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PREPARED_MARKER = "detoxify_prepared.json"
PREPARE_COMMAND = (
    "curate toxicity prepare-detoxify --checkpoint <downloaded.ckpt> --hf-dir <hf files> --out <dir>"
)

# detoxify standardises class names across its checkpoints (detoxify.detoxify.load_checkpoint).
CLASS_RENAMES = {"toxic": "toxicity", "identity_hate": "identity_attack", "severe_toxic": "severe_toxicity"}


@dataclass(frozen=True)
class VariantInfo:
    """What one official detoxify checkpoint needs (from detoxify.detoxify.MODEL_URLS and its configs)."""

    hub_model: str
    tokenizer_name: str
    tokenizer_files: tuple[str, ...]  # slow-tokenizer files; a tokenizer.json can replace them
    url: str


_BASE = "https://github.com/unitaryai/detoxify/releases/download/"
VARIANTS: dict[str, VariantInfo] = {
    "original": VariantInfo(
        "bert-base-uncased",
        "BertTokenizer",
        ("vocab.txt",),
        _BASE + "v0.1-alpha/toxic_original-c1212f89.ckpt",
    ),
    "unbiased": VariantInfo(
        "roberta-base",
        "RobertaTokenizer",
        ("vocab.json", "merges.txt"),
        _BASE + "v0.3-alpha/toxic_debiased-c7548aa0.ckpt",
    ),
    "multilingual": VariantInfo(
        "xlm-roberta-base",
        "XLMRobertaTokenizer",
        ("sentencepiece.bpe.model",),
        _BASE + "v0.4-alpha/multilingual_debiased-0b549669.ckpt",
    ),
}
_TOKENIZER_FILES = {v.tokenizer_name: v.tokenizer_files for v in VARIANTS.values()}


class DetoxifyFilesError(FileNotFoundError):
    """The detoxify backend is configured but its local files are missing or not prepared."""


def hf_files_needed(tokenizer_name: str) -> tuple[str, ...]:
    """Files a Hugging Face directory needs for ``tokenizer_name`` (config.json + tokenizer files)."""
    return ("config.json", *_TOKENIZER_FILES.get(tokenizer_name, ("tokenizer.json",)))


def _has_tokenizer(hf_dir: Path, tokenizer_name: str) -> list[str]:
    if (hf_dir / "tokenizer.json").is_file():
        return []
    return [
        f for f in _TOKENIZER_FILES.get(tokenizer_name, ("tokenizer.json",)) if not (hf_dir / f).is_file()
    ]


def how_to_get(variant: str) -> str:
    """Human instructions: where to download the checkpoint and the HF files, and the prepare command."""
    v = VARIANTS[variant]
    files = " ".join(hf_files_needed(v.tokenizer_name))
    return (
        f"detoxify '{variant}' needs (1) the checkpoint {v.url} and (2) the Hugging Face files of "
        f"'{v.hub_model}': {files} (e.g. on a machine with network: `huggingface-cli download "
        f"{v.hub_model} {files} --local-dir <hf files>`); then run `{PREPARE_COMMAND}` and point "
        "rules/toxicity.yaml detoxify.checkpoint / detoxify.hf_dir at <dir>/model.ckpt and <dir>/hf."
    )


def check_prepared(checkpoint: Path, hf_dir: Path, variant: str) -> None:
    """Raise :class:`DetoxifyFilesError` naming every missing file and the prepare command."""
    v = VARIANTS[variant]
    missing = [] if checkpoint.is_file() else [str(checkpoint)]
    if not (hf_dir / "config.json").is_file():
        missing.append(str(hf_dir / "config.json"))
    missing += [str(hf_dir / f) for f in _has_tokenizer(hf_dir, v.tokenizer_name)]
    if not (hf_dir / PREPARED_MARKER).is_file():
        missing.append(f"{hf_dir / PREPARED_MARKER} (written by the prepare command)")
    if missing:
        raise DetoxifyFilesError(
            "toxicity backend 'detoxify' is configured but these files are missing: "
            + ", ".join(missing)
            + ". "
            + how_to_get(variant)
        )


def read_checkpoint(path: Path, device: str = "cpu") -> dict[str, Any]:
    """torch.load a detoxify checkpoint and check its format (``config`` + ``state_dict``)."""
    import torch

    loaded = torch.load(str(path), map_location=device, weights_only=False)
    try:
        args = loaded["config"]["arch"]["args"]
        _ = loaded["config"]["dataset"]["args"]["classes"], loaded["state_dict"]
        _ = args["model_type"], args["model_name"], args["tokenizer_name"], args["num_classes"]
    except (KeyError, TypeError) as exc:
        raise ValueError(
            f"{path}: not a detoxify checkpoint (needs config.arch.args.{{model_type, model_name, "
            f"tokenizer_name, num_classes}}, config.dataset.args.classes and state_dict): missing {exc}"
        ) from exc
    return loaded


def point_to_local(loaded: dict[str, Any], hf_dir: Path) -> dict[str, Any]:
    """Rewrite the checkpoint's ``model_type`` (a hub name) to the local HF directory (in place)."""
    loaded["config"]["arch"]["args"]["model_type"] = str(hf_dir.resolve())
    return loaded


def class_names(loaded: dict[str, Any]) -> list[str]:
    """The checkpoint's output names, standardised the way detoxify does."""
    return [CLASS_RENAMES.get(c, c) for c in loaded["config"]["dataset"]["args"]["classes"]]


def xlmr_tokenizer_json(spm_model: Path, out: Path) -> None:
    """Write an XLM-R ``tokenizer.json`` from ``sentencepiece.bpe.model`` without protobuf.

    transformers converts the SentencePiece file through protobuf; with a protobuf runtime older than
    its generated code (as in this project's environment) that fails and it falls back to a TikToken
    parser that cannot read the file. Here the pieces and scores come from the sentencepiece library
    itself, laid out like transformers' XLM-R converter (fairseq order: ``<s> <pad> </s> <unk>``, the
    model's pieces from id 3, ``<mask>`` last). Departure: NFKC replaces the model's precompiled
    normalisation map (rare characters may tokenise differently).
    """
    import sentencepiece as spm
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    sp = spm.SentencePieceProcessor(model_file=str(spm_model))
    vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    vocab += [(sp.id_to_piece(i), float(sp.get_score(i))) for i in range(3, sp.get_piece_size())]
    vocab.append(("<mask>", 0.0))
    tk = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=False))
    tk.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace("  ", " ")])
    tk.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tk.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tk.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    tk.save(str(out))


def prepare(checkpoint: Path, hf_dir: Path, out: Path) -> dict[str, str]:
    """Make ``out/model.ckpt`` + ``out/hf/`` loadable offline; return what was written.

    ``out/hf`` gets copies of the needed HF files with ``config.json``'s ``num_labels``/``id2label`` set
    to the checkpoint's classes, and a marker file; the checkpoint's ``model_type`` points at ``out/hf``.
    """
    import torch

    loaded = read_checkpoint(checkpoint)
    args = loaded["config"]["arch"]["args"]
    tok = str(args["tokenizer_name"])
    original_model_type = str(args["model_type"])
    missing = [f for f in ("config.json",) if not (hf_dir / f).is_file()] + _has_tokenizer(hf_dir, tok)
    if missing:
        raise DetoxifyFilesError(
            f"{hf_dir} lacks {', '.join(missing)} (needed for {args['model_name']}/{tok}: "
            f"{', '.join(hf_files_needed(tok))}; a tokenizer.json can replace the tokenizer files)"
        )
    out_hf = out / "hf"
    out_hf.mkdir(parents=True, exist_ok=True)
    copied = []
    for f in sorted(p for p in hf_dir.iterdir() if p.is_file()):
        if f.suffix in (".bin", ".safetensors", ".h5", ".msgpack", ".ckpt") or f.name == PREPARED_MARKER:
            continue  # weights come from the detoxify checkpoint, not from the base model
        shutil.copyfile(f, out_hf / f.name)
        copied.append(f.name)
    if tok == "XLMRobertaTokenizer" and not (out_hf / "tokenizer.json").is_file():
        spm_model = out_hf / "sentencepiece.bpe.model"
        if spm_model.is_file():
            xlmr_tokenizer_json(spm_model, out_hf / "tokenizer.json")
            copied.append("tokenizer.json (converted)")
    names = class_names(loaded)
    cfg = json.loads((out_hf / "config.json").read_text(encoding="utf-8"))
    cfg["num_labels"] = int(args["num_classes"])
    cfg["id2label"] = {str(i): n for i, n in enumerate(names)}
    cfg["label2id"] = {n: i for i, n in enumerate(names)}
    cfg["problem_type"] = "multi_label_classification"
    (out_hf / "config.json").write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    point_to_local(loaded, out_hf)
    torch.save(loaded, str(out / "model.ckpt"))
    marker = {
        "source_checkpoint": str(checkpoint),
        "original_model_type": original_model_type,
        "model_name": args["model_name"],
        "tokenizer_name": tok,
        "classes": names,
    }
    (out_hf / PREPARED_MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    return {"checkpoint": str(out / "model.ckpt"), "hf_dir": str(out_hf), "copied": ", ".join(copied)}


def load_detoxify(checkpoint: Path, hf_dir: Path, device: str = "cpu") -> tuple[Any, Any, list[str]]:
    """Load a prepared checkpoint with detoxify's own model/tokenizer builder, fully offline.

    ``model_type`` is re-pointed at ``hf_dir`` in memory, so a prepared checkpoint that was moved to
    another machine (different absolute path) still loads.
    """
    from detoxify.detoxify import get_model_and_tokenizer

    loaded = point_to_local(read_checkpoint(checkpoint, device), hf_dir)
    model, tokenizer = get_model_and_tokenizer(
        **loaded["config"]["arch"]["args"],
        state_dict=loaded["state_dict"],
        huggingface_config_path=str(hf_dir),
    )
    model.to(device)
    model.eval()
    return model, tokenizer, class_names(loaded)
