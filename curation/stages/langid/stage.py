"""Language-ID stage: fastText lid.176 per document, per-paragraph language shares for long documents.

Signals: ``langid.lang``, ``langid.score`` (top probability), ``langid.basis`` (``body``, ``comments``
for code: the code body itself is never language-filtered, or ``none``), ``langid.chars`` (characters
analysed) and, for long documents, ``langid.paragraphs``, ``langid.shares`` (``["en:0.8", "fr:0.2"]``,
character-weighted) and ``langid.mixed``. ``Document.lang`` / ``lang_score`` are set for accounting.
Decisions come from :func:`~curation.stages.langid.rules.decide` on those signals only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from curation.config import PipelineConfig, StageSpec
from curation.document import Document, SignalValue
from curation.rules import ConfigError
from curation.stage import DocProcessor, MapStage, Outcome
from curation.stages.langid.detect import LangIdModel, analysed_text, lang_shares, one_line, sample_paragraphs
from curation.stages.langid.rules import STAGE, LangIdRules, decide, load_stage_rules

FETCH_COMMAND = "make install  (or: .venv/bin/python scripts/fetch_models.py --dest models)"


class LangIdProcessor(DocProcessor):
    """Identify the language of each document in one batched fastText call per batch."""

    stage = STAGE

    def __init__(self, rules: LangIdRules, model_path: Path) -> None:
        self.rules = rules
        self.model_path = model_path
        self._model: LangIdModel | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_model"] = None
        return state

    def setup(self) -> None:
        if self._model is None:
            self._model = LangIdModel(self.model_path, self.rules.label_map)

    def process_batch(self, docs: Sequence[Document]) -> list[Outcome]:
        if self._model is None:
            self.setup()
        assert self._model is not None
        lines: list[str] = []
        plans: list[tuple[str, int, int, list[int]]] = []  # basis, chars, doc line index, paragraph sizes
        para_rules = self.rules.paragraphs
        for doc in docs:
            basis = self.rules.for_kind(doc.source_kind).text
            text = analysed_text(doc, basis, self.rules.max_chars)
            chars = len(text.strip())
            doc_line = len(lines)
            lines.append(one_line(text, self.rules.max_chars))
            sizes: list[int] = []
            if basis != "comments" and chars >= para_rules.min_doc_chars:
                for para, size in sample_paragraphs(text, para_rules):
                    lines.append(para)
                    sizes.append(size)
            plans.append((basis, chars, doc_line, sizes))
        preds = self._model.predict(lines)
        out: list[Outcome] = []
        for doc, (basis, chars, doc_line, sizes) in zip(docs, plans, strict=True):
            lang, score = preds[doc_line]
            signals: dict[str, SignalValue] = {
                f"{STAGE}.lang": lang,
                f"{STAGE}.score": score,
                f"{STAGE}.basis": basis,
                f"{STAGE}.chars": chars,
            }
            if sizes:
                shares = lang_shares(preds[doc_line + 1 : doc_line + 1 + len(sizes)], sizes)
                signals[f"{STAGE}.paragraphs"] = len(sizes)
                signals[f"{STAGE}.shares"] = [f"{k}:{v:.3f}" for k, v in shares]
                signals[f"{STAGE}.mixed"] = len(shares) > 1 and shares[1][1] >= para_rules.mixed_min_share
            # too little text (e.g. a few comment characters) says nothing about the language: not recorded
            min_chars = max(1, self.rules.for_kind(doc.source_kind).min_chars)
            identified = basis != "none" and chars >= min_chars
            new = doc.with_signals(
                signals, lang=lang if identified else doc.lang, lang_score=score if identified else None
            )
            reasons = decide(new.signals, self.rules, doc.source_kind)
            out.append(self.reject(new, reasons[0], reasons) if reasons else new)
        return out

    def process(self, doc: Document) -> Outcome:
        return self.process_batch([doc])[0]


def batch_size_option(spec: StageSpec, cfg: PipelineConfig, default: int) -> int:
    """The only stage option of per-document stages: ``batch_size`` (a positive integer)."""
    unknown = sorted(set(spec.options) - {"batch_size"})
    if unknown:
        key = f"stages.{spec.name}.options.{unknown[0]}"
        raise ConfigError(cfg.path, key, "unknown option; allowed: batch_size")
    batch_size = spec.options.get("batch_size", default)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(cfg.path, f"stages.{spec.name}.options.batch_size", "expected a positive integer")
    return batch_size


def model_path(rules: LangIdRules, models_dir: Path, rules_file: Path) -> Path:
    """The language-ID model file; a missing file fails at build time with the command that fetches it."""
    p = Path(rules.model)
    path = p if p.is_absolute() else models_dir / p
    if not path.is_file():
        msg = f"language-ID model file not found: {path}; fetch it with: {FETCH_COMMAND}"
        raise ConfigError(rules_file, "model", msg)
    return path


def build_stage(spec: StageSpec, cfg: PipelineConfig) -> MapStage:
    """Parse rules/langid.yaml (bad keys or types fail now) and check the model file exists."""
    path = cfg.rules_path(spec)
    rules = load_stage_rules(path)
    batch_size = batch_size_option(spec, cfg, default=256)
    processor = LangIdProcessor(rules, model_path(rules, cfg.models_path, path))
    return MapStage(processor, batch_size=batch_size, tokenizer=cfg.tokenizer)
