"""The pipeline config: which shards to read (per source kind), which stages run, with which rules.

Loaded and fully validated before any Beam pipeline is built: unknown keys, wrong types, unknown stages,
missing rules files and globs that match nothing fail with a :class:`~curation.rules.ConfigError` naming
the file, the key and the allowed values. Paths in the config are relative to the config file's folder;
rules file names are looked up beside the config first, then in the repository's ``rules/``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from curation.document import SOURCE_KINDS
from curation.rules import ConfigError, from_mapping, load_yaml, resolve_rules_path
from curation.tokens import KNOWN_TOKENIZERS

SourceKind = Literal["web", "book", "code", "conversation"]
SourceFormat = Literal["auto", "jsonl", "parquet", "warc", "text", "tree"]


def in_range(lo: float | None = None, hi: float | None = None) -> dict[str, Any]:
    """Dataclass field metadata: the allowed closed range of a numeric option (checked by check_ranges)."""
    return {"range": (lo, hi)}


def describe_range(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"{lo} <= value <= {hi}"
    return f">= {lo}" if lo is not None else f"<= {hi}"


def check_ranges(obj: Any, *, file: str | Path | None, key: str) -> None:
    """Raise ConfigError naming ``<key>.<field>`` and the allowed range for the first numeric field of
    dataclass ``obj`` outside the range in its metadata (see :func:`in_range`)."""
    for f in dataclasses.fields(obj):
        bounds = f.metadata.get("range")
        value = getattr(obj, f.name)
        if bounds is None or not isinstance(value, int | float) or isinstance(value, bool):
            continue
        lo, hi = bounds
        if (lo is not None and value < lo) or (hi is not None and value > hi) or value != value:
            raise ConfigError(
                file, f"{key}.{f.name}", f"value {value!r} is out of range; allowed: {describe_range(lo, hi)}"
            )


@dataclass(frozen=True)
class Limits:
    """Input limits applied by the readers (a document outside them is a reject, not a crash).

    Ranges are checked at build time by :func:`validate_config` (``limits.<key>``, allowed range named).
    """

    # larger documents are rejected as `too_large`
    max_doc_bytes: int = field(default=10_000_000, metadata=in_range(1))
    # documents with fewer non-space characters are rejected as `empty` (0: keep even blank ones)
    min_doc_chars: int = field(default=1, metadata=in_range(0))
    # a JSONL line larger than this is rejected without parsing
    max_line_bytes: int = field(default=64_000_000, metadata=in_range(1))
    # books longer than this are split into chapter-sized documents
    book_max_chars: int = field(default=60_000, metadata=in_range(1))
    # how much of an unreadable record's raw bytes the rejects keep
    raw_bytes_in_rejects: int = field(default=4096, metadata=in_range(0))


@dataclass(frozen=True)
class SourceSpec:
    """One group of shards of one source kind."""

    kind: SourceKind
    paths: tuple[str, ...]
    name: str = ""
    format: SourceFormat = "auto"
    license: str | None = None  # manifest license for every document of these shards (SPDX id)
    options: dict[str, Any] = field(default_factory=dict)  # reader-specific options


@dataclass(frozen=True)
class StageSpec:
    """One stage of the pipeline: its registered name, rules file and stage-specific options."""

    name: str
    rules: str | None = None
    enabled: bool = True
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OutputSpec:
    keep_html: bool = False  # write raw HTML of web pages into the cleaned Parquet
    rejects_text: bool = True  # keep the full original text of rejected documents
    report: bool = True  # build the curation report at the end of `curate run`


@dataclass(frozen=True)
class PipelineConfig:
    sources: tuple[SourceSpec, ...]
    stages: tuple[StageSpec, ...] = ()
    tokenizer: str = "cl100k_base"
    models_dir: str = "../models"
    limits: Limits = field(default_factory=Limits)
    output: OutputSpec = field(default_factory=OutputSpec)
    name: str = "curation"
    # Filled in by load_config (not YAML keys):
    path: str = ""

    @property
    def base_dir(self) -> Path:
        return Path(self.path).resolve().parent if self.path else Path.cwd()

    def resolve(self, p: str) -> Path:
        q = Path(p)
        return q if q.is_absolute() else (self.base_dir / q)

    @property
    def models_path(self) -> Path:
        return self.resolve(self.models_dir)

    def rules_path(self, stage: StageSpec) -> Path:
        """The resolved rules file of a stage (``rules/<name>.yaml`` when the stage names none)."""
        return resolve_rules_path(stage.rules or f"{stage.name}.yaml", self.base_dir)

    @property
    def enabled_stages(self) -> tuple[StageSpec, ...]:
        return tuple(s for s in self.stages if s.enabled)


def load_config(path: str | Path, *, check_stages: bool = True) -> PipelineConfig:
    """Load and validate a pipeline config file (see module docstring)."""
    p = Path(path)
    data = load_yaml(p)
    if not isinstance(data, dict):
        raise ConfigError(p, None, "expected a mapping at the top level")
    if "path" in data:
        raise ConfigError(p, "path", "reserved key")
    cfg = from_mapping(PipelineConfig, data, file=p)
    cfg = PipelineConfig(**{**cfg.__dict__, "path": str(p.resolve())})
    validate_config(cfg, check_stages=check_stages)
    return cfg


def validate_config(cfg: PipelineConfig, *, check_stages: bool = True) -> None:
    """Cross-field checks: known tokenizer, numeric ranges, unique stage names, known stages, rules files."""
    f = cfg.path or None
    if cfg.tokenizer not in KNOWN_TOKENIZERS:
        raise ConfigError(f, "tokenizer", f"unknown tokenizer {cfg.tokenizer!r}; allowed: {KNOWN_TOKENIZERS}")
    check_ranges(cfg.limits, file=f, key="limits")
    if not cfg.sources:
        raise ConfigError(f, "sources", "at least one source is required")
    for i, src in enumerate(cfg.sources):
        if src.kind not in SOURCE_KINDS:
            raise ConfigError(f, f"sources[{i}].kind", f"allowed values: {', '.join(SOURCE_KINDS)}")
        if not src.paths:
            raise ConfigError(f, f"sources[{i}].paths", "at least one path or glob is required")
    seen: set[str] = set()
    if check_stages:
        from curation.stages.registry import STAGES

        for i, st in enumerate(cfg.stages):
            if st.name in ("read", "write"):
                raise ConfigError(f, f"stages[{i}].name", "'read' and 'write' always run; do not list them")
            if st.name not in STAGES:
                allowed = ", ".join(sorted(STAGES))
                raise ConfigError(f, f"stages[{i}].name", f"unknown stage {st.name!r}; allowed: {allowed}")
            if st.name in seen:
                raise ConfigError(f, f"stages[{i}].name", f"stage {st.name!r} is listed twice")
            seen.add(st.name)
            if st.enabled and STAGES[st.name].needs_rules:
                rp = cfg.rules_path(st)
                if not rp.is_file():
                    raise ConfigError(f, f"stages[{i}].rules", f"rules file not found: {rp}")
