"""License stage: tag every document with an SPDX expression + evidence + confidence, and apply the policy.

Modules: :mod:`kb` (licensedcode-data knowledge base), :mod:`textmatch` (full-text / notice matcher),
:mod:`code` / :mod:`web` / :mod:`books` (evidence per source kind), :mod:`policy` (expressions,
categories, policy), :mod:`detect` (precedence), :mod:`stage` (Beam transforms). See docs/license.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from curation.config import PipelineConfig, StageSpec
from curation.rules import ConfigError
from curation.stages.license.policy import stored_category_lookup
from curation.stages.license.rules import LicenseRules, load_license_rules
from curation.stages.license.stage import LicenseProcessor, LicenseStage, decide_with
from curation.stages.registry import html_needed_after

STAGE = "license"
_OPTIONS = ("batch_size",)


def build_stage(spec: StageSpec, cfg: PipelineConfig) -> LicenseStage:
    """Parse ``rules/license.yaml`` now (bad rules fail at build time) and return the composite stage."""
    path = cfg.rules_path(spec)
    rules = load_license_rules(path)
    unknown = sorted(set(spec.options) - set(_OPTIONS))
    if unknown:
        raise ConfigError(
            cfg.path, f"stages.{spec.name}.options.{unknown[0]}", f"allowed: {', '.join(_OPTIONS)}"
        )
    batch = spec.options.get("batch_size", 128)
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise ConfigError(cfg.path, f"stages.{spec.name}.options.batch_size", "expected a positive integer")
    _check_knowledge_base(path)
    index = resolve_index(rules, cfg.models_path, path)
    return LicenseStage(
        rules,
        tokenizer=cfg.tokenizer,
        batch_size=batch,
        drop_html=not html_needed_after(cfg, spec.name),
        index_path=index,
    )


def resolve_index(rules: LicenseRules, models_dir: Path, rules_file: Path) -> str | None:
    """The checked prebuilt index folder under ``models_dir``; ``None`` (build in memory on each worker)
    only when the rules say ``index.missing: build`` and the index is missing or stale."""
    from curation.stages.license.index import LicenseIndexError, check_index

    folder = models_dir / rules.index.dir
    try:
        check_index(folder, rules.text_match)
    except LicenseIndexError as exc:
        if rules.index.missing == "build":
            return None
        hint = "or set index.missing: build (allowed: error, build)"
        raise ConfigError(rules_file, "index", f"{exc}; {hint}") from exc
    return str(folder)


def _check_knowledge_base(path: Path) -> None:
    try:
        from curation.stages.license.kb import data_dir

        if not (data_dir() / "licenses").is_dir():
            raise ImportError("licensedcode/data/licenses missing")
    except ImportError as exc:
        raise ConfigError(
            path, None, f"the license stage needs the 'licensedcode-data' package: {exc}"
        ) from exc


def load_stage_rules(path: str | Path) -> LicenseRules:
    """What-if protocol: the stage's rules."""
    return load_license_rules(path)


def decide(signals: Mapping[str, Any], rules: LicenseRules, source_kind: str) -> tuple[str, ...]:
    """What-if protocol: reasons to reject, from stored ``license.spdx`` and ``license.id_categories``."""
    ids = signals.get(f"{STAGE}.id_categories")
    lookup = stored_category_lookup(list(ids) if isinstance(ids, list | tuple) else None, rules.categories)
    return decide_with(signals, rules, lookup)


__all__ = ["LicenseProcessor", "LicenseRules", "LicenseStage", "build_stage", "decide", "load_stage_rules"]
