"""Rules (rules/decontamination.yaml) and stage options (the eval sets named in the pipeline config).

Rules are thresholds and normalisation choices; options say *which* evaluation sets to protect and where
they live. Both are parsed into frozen dataclasses at pipeline build time so a bad value fails with a
:class:`~curation.rules.ConfigError` naming the file and key.

Defaults follow the GPT-3 paper's overlap analysis (Brown et al. 2020, "Language Models are Few-Shot
Learners", Appendix C): 13-gram overlap on lower-cased, punctuation-stripped words; shorter items use
their whole length down to 8 words; a contaminated span is removed together with 200 characters on each
side, the document is split at the removed spans, pieces under 200 characters are discarded and a
document split into more than 10 pieces is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from curation.document import SOURCE_KINDS
from curation.rules import ConfigError, check_range, from_mapping, load_rules

Action = Literal["cut", "drop"]
EvalFormat = Literal["auto", "jsonl", "parquet"]

_SET_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True)
class NgramRules:
    """How text becomes words and n-grams (the same function runs on eval items and documents)."""

    n: int = 13  # GPT-3 Appendix C
    min_n: int = 8  # items (fields) with min_n..n-1 words are indexed as one whole-item n-gram
    unicode_form: Literal["NFKC", "NFC", "none"] = "NFKC"  # NFKC folds full-width forms, ligatures
    lowercase: bool = True
    strip_punctuation: bool = True  # words = runs of letters/digits; else whitespace-separated tokens

    def __post_init__(self) -> None:
        if not 1 <= self.min_n <= self.n <= 64:
            raise ValueError("need 1 <= min_n <= n <= 64")


@dataclass(frozen=True)
class IndexRules:
    """Which eval n-grams enter the index."""

    # An n-gram shared by more than this many distinct items is boilerplate of the benchmark format
    # ("which of the following statements is true ..."), not evidence of one item (GPT-3 Appendix C
    # likewise ignored 13-grams frequent in the training set). 0 disables.
    max_items_per_ngram: int = 10
    id_field: str = "id"  # item id column; items without it get a content hash id


@dataclass(frozen=True)
class MatchRules:
    """When an item counts as found in a document."""

    min_matched_ngrams: int = 1  # distinct n-grams of the item found in the document (GPT-3: any)
    min_item_coverage: float = 0.0  # fraction of the item's distinct n-grams found in the document

    def __post_init__(self) -> None:
        check_range(None, "match.min_item_coverage", self.min_item_coverage, 0.0, 1.0)
        if self.min_matched_ngrams < 1:
            raise ValueError("match.min_matched_ngrams must be >= 1")


@dataclass(frozen=True)
class ActionRules:
    """What happens to a document in which an item was found."""

    default: Action = "cut"
    by_source_kind: dict[str, Action] = field(default_factory=dict)  # e.g. {code: drop}
    margin_chars: int = 200  # removed on each side of a matched n-gram (GPT-3)
    min_piece_chars: int = 200  # remaining pieces shorter than this are discarded (GPT-3)
    max_pieces: int = 10  # a document split into more pieces is dropped (GPT-3)
    max_removed_fraction: float = 0.5  # drop instead of cutting when more of the text would go

    def __post_init__(self) -> None:
        bad = sorted(set(self.by_source_kind) - set(SOURCE_KINDS))
        if bad:
            raise ValueError(
                f"action.by_source_kind: unknown source kind {bad[0]!r}; allowed: {SOURCE_KINDS}"
            )
        check_range(None, "action.max_removed_fraction", self.max_removed_fraction, 0.0, 1.0)
        if min(self.margin_chars, self.min_piece_chars, self.max_pieces) < 0:
            raise ValueError("action.margin_chars, min_piece_chars and max_pieces must be >= 0")

    def for_kind(self, source_kind: str) -> Action:
        return self.by_source_kind.get(source_kind, self.default)


@dataclass(frozen=True)
class DecontaminationRules:
    """rules/decontamination.yaml."""

    ngram: NgramRules = field(default_factory=NgramRules)
    index: IndexRules = field(default_factory=IndexRules)
    match: MatchRules = field(default_factory=MatchRules)
    action: ActionRules = field(default_factory=ActionRules)
    max_evidence: int = 20  # evidence strings kept on a document (most overlapping items first)


def load_decontamination_rules(path: str | Path) -> DecontaminationRules:
    return load_rules(path, DecontaminationRules)


@dataclass(frozen=True)
class EvalSetSpec:
    """One evaluation set named in the stage options (``path`` resolved against the config's folder)."""

    name: str
    path: str
    fields: tuple[str, ...] = ("question", "context", "answer")
    format: EvalFormat = "auto"

    @property
    def resolved_format(self) -> str:
        if self.format != "auto":
            return self.format
        return "parquet" if self.path.endswith((".parquet", ".pq")) else "jsonl"


@dataclass(frozen=True)
class DecontaminationOptions:
    """``options`` of the stage in the pipeline config."""

    eval_sets: tuple[EvalSetSpec, ...] = ()
    join_threshold_items: int = 200_000  # more items (all sets together) -> GroupByKey join path
    force_path: Literal["auto", "side_input", "join"] = "auto"
    batch_size: int = 256  # documents scored per vectorised lookup


def parse_options(
    options: dict[str, Any], *, file: str | None, key: str, base_dir: Path
) -> DecontaminationOptions:
    """Validate the stage options; eval set files must exist and names must be unique and simple."""
    opts = from_mapping(DecontaminationOptions, options, file=file, key=key)
    if not opts.eval_sets:
        raise ConfigError(file, f"{key}.eval_sets", "at least one evaluation set is required")
    seen: set[str] = set()
    resolved = []
    for i, es in enumerate(opts.eval_sets):
        k = f"{key}.eval_sets[{i}]"
        if not _SET_NAME_RE.match(es.name):
            raise ConfigError(file, f"{k}.name", f"invalid name {es.name!r}: use letters, digits, _ . -")
        if es.name in seen:
            raise ConfigError(file, f"{k}.name", f"eval set {es.name!r} is listed twice")
        seen.add(es.name)
        if not es.fields or any(not f for f in es.fields):
            raise ConfigError(file, f"{k}.fields", "at least one non-empty field name is required")
        p = Path(es.path)
        p = p if p.is_absolute() else base_dir / p
        if not p.is_file():
            raise ConfigError(file, f"{k}.path", f"file not found: {p}")
        resolved.append(EvalSetSpec(es.name, str(p), es.fields, es.format))
    if opts.join_threshold_items < 0:
        raise ConfigError(file, f"{key}.join_threshold_items", "must be >= 0")
    if opts.batch_size < 1:
        raise ConfigError(file, f"{key}.batch_size", "must be >= 1")
    return DecontaminationOptions(
        eval_sets=tuple(resolved),
        join_threshold_items=opts.join_threshold_items,
        force_path=opts.force_path,
        batch_size=opts.batch_size,
    )
