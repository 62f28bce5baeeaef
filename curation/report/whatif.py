"""What-if thresholds: recompute stage decisions from stored signals, without re-running the pipeline.

Protocol (:mod:`curation.stages.registry`): a stage module exposes ``load_stage_rules(path) -> rules`` (a
frozen, possibly nested dataclass) and ``decide(signals, rules, source_kind) -> reasons`` (empty = keep).
An override ``quality.gopher.min_words=30`` names the stage (``quality``), a key path into its rules
(``gopher.min_words``; mapping keys such as a per-source-kind table are allowed on the way) and a YAML
value; it is applied with :func:`dataclasses.replace` after checking the value against the field's type
with :func:`curation.rules.coerce`. A whole rules file can replace a stage's rules as well.

Every document that reached a changed stage is re-decided: kept documents (``data/``) and rejects of that
stage or a later one all carry the stage's signals. Documents are walked through the changed stages in run
order, so several overrides form one scenario. Caveats, reported with the numbers:

* a document the stage originally rejected but now keeps never ran through the later stages, so its fate
  there is unknown: the funnel counts it as kept (an upper bound) and the final mix also gives an estimate
  that applies the later stages' observed token retention for its source kind;
* token counts are the stored ones (final counts for kept documents, counts at rejection for rejects), so a
  stage that edits text later (PII, toxicity spans) makes the figures approximate;
* a decision that is not a threshold on a stored signal (or a ``decide`` that fails on a document) keeps
  the original outcome; the baseline agreement (``decide`` with the original rules against what actually
  happened) shows how faithfully the stored signals reproduce the run.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, get_type_hints

import yaml

from curation.accounting import reason_key
from curation.report.load import Record, RunData
from curation.rules import RULES_DIR, ConfigError, coerce


class WhatIfError(ValueError):
    """A what-if request that cannot be evaluated (bad override, stage without the protocol...)."""


@dataclass(frozen=True)
class Override:
    stage: str
    path: tuple[str, ...]
    raw: Any  # parsed YAML value
    text: str  # as the user wrote it


def parse_override(text: str) -> Override:
    """Parse ``stage.key.path=value`` (value is YAML: ``30``, ``0.5``, ``true``, ``[a, b]``)."""
    if "=" not in text:
        raise WhatIfError(f"what-if {text!r}: expected stage.key=value, e.g. quality.gopher.min_words=30")
    lhs, rhs = text.split("=", 1)
    parts = tuple(p for p in lhs.strip().split(".") if p)
    if len(parts) < 2:
        raise WhatIfError(
            f"what-if {text!r}: name the stage and a rules key, e.g. quality.gopher.min_words=30"
        )
    try:
        value = yaml.safe_load(rhs) if rhs.strip() else None
    except yaml.YAMLError as exc:
        raise WhatIfError(f"what-if {text!r}: value is not valid YAML: {exc}") from exc
    return Override(stage=parts[0], path=parts[1:], raw=value, text=text)


def apply_override(rules: Any, path: Sequence[str], value: Any, *, where: str = "") -> Any:
    """Return ``rules`` with the nested key ``path`` set to ``value`` (type-checked; frozen-safe)."""
    key, rest = path[0], path[1:]
    here = f"{where}.{key}" if where else key
    if dataclasses.is_dataclass(rules) and not isinstance(rules, type):
        names = [f.name for f in dataclasses.fields(rules)]
        if key not in names:
            raise WhatIfError(f"what-if key '{here}': unknown key; allowed keys: {', '.join(names)}")
        current = getattr(rules, key)
        if rest:
            new = apply_override(current, rest, value, where=here)
        else:
            try:
                new = coerce(get_type_hints(type(rules))[key], value, file="--what-if", key=here)
            except ConfigError as exc:
                raise WhatIfError(str(exc)) from exc
        try:
            return dataclasses.replace(rules, **{key: new})
        except (TypeError, ValueError) as exc:
            raise WhatIfError(f"what-if key '{here}': {exc}") from exc
    if isinstance(rules, Mapping):
        if key not in rules:
            raise WhatIfError(
                f"what-if key '{here}': unknown key; allowed keys: {', '.join(map(str, rules))}"
            )
        if not rest:
            current = rules[key]
            if current is not None and not isinstance(value, type(current)):
                if not (
                    isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool)
                ):
                    raise WhatIfError(
                        f"what-if key '{here}': expected {type(current).__name__}, got {value!r}"
                    )
                value = float(value)
            new = value
        else:
            new = apply_override(rules[key], rest, value, where=here)
        return type(rules)({**rules, key: new}) if not isinstance(rules, dict) else {**rules, key: new}
    raise WhatIfError(f"what-if key '{here}': {where or 'rules'} is a {type(rules).__name__}, not a section")


def stage_module(stage: str) -> ModuleType:
    """Import the module registered for ``stage`` and check it implements the what-if protocol."""
    from curation.stages.registry import STAGES

    if stage not in STAGES:
        raise WhatIfError(f"what-if: unknown stage {stage!r}; stages: {', '.join(STAGES)}")
    try:
        mod = importlib.import_module(STAGES[stage].module)
    except ImportError as exc:
        raise WhatIfError(f"what-if: the {stage} stage module cannot be imported ({exc})") from exc
    missing = [n for n in ("load_stage_rules", "decide") if not callable(getattr(mod, n, None))]
    if missing:
        raise WhatIfError(
            f"what-if: the {stage} stage does not implement the what-if protocol "
            f"(missing {', '.join(missing)}); "
            "its decisions cannot be recomputed from stored signals"
        )
    return mod


def original_rules_path(run: RunData, stage: str) -> Path:
    """The rules file the run used (from ``run.json``), else ``rules/[<stage>/]<stage>.yaml``.

    The fallback only serves run directories written without ``run.json``.
    """
    p = run.rules_path(stage)
    if p is not None and p.is_file():
        return p
    for cand in (RULES_DIR / f"{stage}.yaml", RULES_DIR / stage / f"{stage}.yaml"):
        if cand.is_file():
            return cand
    raise WhatIfError(f"what-if: cannot find the rules file the {stage} stage ran with (no run.json entry)")


def parse_rules_file_arg(text: str) -> tuple[str, Path]:
    """``STAGE=FILE`` or ``FILE`` (stage = the file's stem or its folder's name, if a registered stage)."""
    from curation.stages.registry import STAGES

    if "=" in text:
        stage, path = text.split("=", 1)
        return stage.strip(), Path(path)
    p = Path(text)
    for name in (p.stem, p.parent.name):
        if name in STAGES:
            return name, p
    raise WhatIfError(f"--what-if-rules {text}: cannot tell the stage from the file name; write STAGE={text}")


@dataclass
class StageScenario:
    """The original and what-if rules of one stage, and how to decide with them."""

    stage: str
    index: int
    decide: Callable[[Mapping[str, Any], Any, str], Sequence[str]]
    original: Any
    changed: Any
    changes: list[str]


@dataclass
class WhatIfResult:
    scenario: list[str]
    stages: list[str]  # changed stages, run order
    stage_order: list[str]
    # per stage index, per kind: [docs_in, docs_rejected, tokens_in, tokens_rejected] deltas
    delta: dict[str, list[list[int]]] = field(default_factory=dict)
    newly_rejected: Counter = field(default_factory=Counter)  # kind -> docs
    newly_rejected_tokens: Counter = field(default_factory=Counter)
    newly_kept: Counter = field(default_factory=Counter)
    newly_kept_tokens: Counter = field(default_factory=Counter)
    lost_from_output_tokens: Counter = field(default_factory=Counter)  # kind -> tokens leaving the output
    reasons_before: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    reasons_after: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    baseline_checked: Counter = field(default_factory=Counter)  # stage -> docs
    baseline_agree: Counter = field(default_factory=Counter)
    undecidable: Counter = field(default_factory=Counter)  # stage -> docs where decide failed
    errors: list[str] = field(default_factory=list)


def build_scenarios(
    run: RunData, overrides: Sequence[str] = (), rules_files: Sequence[str] = ()
) -> tuple[list[StageScenario], list[str]]:
    """Resolve overrides and rules files into per-stage scenarios; problems become messages, not crashes."""
    order = run.stage_order
    by_stage: dict[str, StageScenario] = {}
    problems: list[str] = []

    def scenario(stage: str) -> StageScenario:
        if stage not in by_stage:
            if stage not in order:
                raise WhatIfError(f"what-if: stage {stage!r} did not run (run order: {', '.join(order)})")
            mod = stage_module(stage)
            path = original_rules_path(run, stage)
            try:
                rules = mod.load_stage_rules(path)
            except ConfigError as exc:
                raise WhatIfError(f"what-if: cannot load the {stage} rules: {exc}") from exc
            by_stage[stage] = StageScenario(stage, order.index(stage), mod.decide, rules, rules, [])
        return by_stage[stage]

    for text in rules_files:
        try:
            stage, path = parse_rules_file_arg(text)
            sc = scenario(stage)
            sc.changed = stage_module(stage).load_stage_rules(path)
            sc.changes.append(f"{stage} rules from {path}")
        except (WhatIfError, ConfigError, OSError) as exc:
            problems.append(f"--what-if-rules {text}: {exc}")
    for text in overrides:
        try:
            ov = parse_override(text)
            sc = scenario(ov.stage)
            sc.changed = apply_override(sc.changed, ov.path, ov.raw)
            sc.changes.append(text)
        except WhatIfError as exc:
            problems.append(f"--what-if {text}: {exc}")
    return sorted((s for s in by_stage.values() if s.changes), key=lambda s: s.index), problems


def _decide(sc: StageScenario, rules: Any, rec: Record, signals: Mapping[str, Any]) -> tuple[str, ...] | None:
    try:
        return tuple(sc.decide(signals, rules, rec.source_kind) or ())
    except Exception:
        return None


def evaluate(run: RunData, scenarios: Sequence[StageScenario], records: Iterable[Record]) -> WhatIfResult:
    """Walk every kept and rejected record through the changed stages (see module docstring)."""
    order = run.stage_order
    end = len(order)  # fate index of a document that reached the output
    pos = {s: i for i, s in enumerate(order)}
    res = WhatIfResult(
        scenario=[c for sc in scenarios for c in sc.changes],
        stages=[sc.stage for sc in scenarios],
        stage_order=order,
    )
    if not scenarios:
        return res
    first = scenarios[0].index
    deltas: dict[str, list[list[int]]] = {}
    for rec in records:
        orig = pos.get(rec.stage, end) if rec.stage is not None else end
        if orig < first:
            continue  # removed before any changed stage: unaffected
        signals = rec.signals()
        new, resurrected = orig, False
        for sc in scenarios:
            if sc.index > orig:
                break  # never reached this stage in the run: no stored signals for it
            here = sc.index == orig  # the run rejected the document at this stage
            if here:
                res.reasons_before[sc.stage][reason_key(rec.reason or "unknown")] += 1
            base = _decide(sc, sc.original, rec, signals)
            after = _decide(sc, sc.changed, rec, signals)
            res.baseline_checked[sc.stage] += 1
            faithful = base is not None and after is not None and bool(base) == here
            if base is None or after is None:
                res.undecidable[sc.stage] += 1
            elif faithful:
                res.baseline_agree[sc.stage] += 1
            if not faithful:  # stored signals do not reproduce the run here: keep the original outcome
                if here:
                    res.reasons_after[sc.stage][reason_key(rec.reason or "unknown")] += 1
                    break
                continue
            if after:
                new = sc.index
                res.reasons_after[sc.stage][reason_key(after[0])] += 1
                break
            if here:
                new, resurrected = end, True  # fate beyond this stage unknown: counted as kept
                break
        if new == orig:
            continue
        kind = rec.source_kind
        rows = deltas.setdefault(kind, [[0, 0, 0, 0] for _ in order])
        for fate, sign in ((orig, -1), (new, +1)):
            for i in range(min(fate, end - 1) + 1):
                rows[i][0] += sign
                rows[i][2] += sign * rec.tokens
            if fate < end:
                rows[fate][1] += sign
                rows[fate][3] += sign * rec.tokens
        if new < orig:
            res.newly_rejected[kind] += 1
            res.newly_rejected_tokens[kind] += rec.tokens
            if orig == end:
                res.lost_from_output_tokens[kind] += rec.tokens
        elif resurrected:
            res.newly_kept[kind] += 1
            res.newly_kept_tokens[kind] += rec.tokens
    res.delta = deltas
    return res
