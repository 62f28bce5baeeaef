"""The one decision function of the quality stage, used by the Beam processor and by the what-if report.

It reads only stored signals (``quality.<set>.<signal>``) and the rules, so a report can override a
threshold (``quality.gopher.min_words=30``) and recompute every decision without re-running the stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from curation.document import SignalValue
from curation.stages.quality.rules import QualityRules

PREFIX = "quality"


def signal_key(set_name: str, signal: str) -> str:
    return f"{PREFIX}.{set_name}.{signal}"


def reason_key(set_name: str, rule: str) -> str:
    return f"{PREFIX}:{set_name}.{rule}"


def _fails(value: SignalValue, threshold: object, op: str) -> bool:
    if op == "flag":
        return threshold is True and value is True
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if op == "min":
        return value < threshold  # type: ignore[operator]
    if op == "max_ge":
        return value >= threshold  # type: ignore[operator]
    return value > threshold  # type: ignore[operator]


@dataclass(frozen=True)
class DecisionPlan:
    """The checks :func:`decide` runs for one source kind and language, resolved once.

    ``checks``: (reason, signal key, threshold, op) of every rule with a threshold, in :func:`decide`'s
    order (sets as applied, rules as declared); ``soft``: reason -> soft family. A processor keeps one plan
    per (source kind, language) it meets: only the signals differ from document to document.
    """

    checks: tuple[tuple[str, str, object, str], ...]
    soft: Mapping[str, str]


def decision_plan(rules: QualityRules, source_kind: str, lang: str | None) -> DecisionPlan:
    """The :class:`DecisionPlan` of ``source_kind`` documents in language ``lang`` (``None``: none known)."""
    lr = rules.languages
    checks: list[tuple[str, str, object, str]] = []
    for set_name in rules.sets_for(source_kind):
        rs = rules.rule_set(set_name)
        per_language = getattr(rs, "PER_LANGUAGE", frozenset()) if lr.enabled else frozenset()
        for key, (sig, op) in rs.CHECKS.items():
            threshold = lr.threshold(lang, set_name, key) if key in per_language else getattr(rs, key)
            if threshold is None or threshold is False:
                continue
            checks.append((reason_key(set_name, key), signal_key(set_name, sig), threshold, op))
    soft = {reason_key(*r.split(".", 1)): fam for fam, rs in rules.soft.families.items() for r in rs}
    return DecisionPlan(tuple(checks), soft)


def signal_lang(signals: Mapping[str, SignalValue]) -> str | None:
    """The language whose thresholds apply (signal ``quality.lang``; ``None`` when not a string)."""
    lang = signals.get(f"{PREFIX}.lang")
    return lang if isinstance(lang, str) else None


def decide(signals: Mapping[str, SignalValue], rules: QualityRules, source_kind: str) -> tuple[str, ...]:
    """Every rule that fails for a document of ``source_kind`` with these signals (empty = keep).

    Sets run in the order of ``rules.apply.<source_kind>`` and rules in their declaration order, so the
    primary reason is deterministic. A rule whose threshold is ``null``/``false`` or whose signal was not
    stored (e.g. no classifier model) does not fire. A language-dependent rule (``PER_LANGUAGE``) takes its
    threshold for the document's language (signal ``quality.lang``) from ``rules.languages`` and does not
    run for a language without one, unless ``languages.enabled`` is false (published behaviour).
    """
    lang = signal_lang(signals)
    return decide_planned(signals, decision_plan(rules, source_kind, lang), rules, lang)


def decide_planned(
    signals: Mapping[str, SignalValue], plan: DecisionPlan, rules: QualityRules, lang: str | None
) -> tuple[str, ...]:
    """:func:`decide` with the plan of the document's source kind and language ``lang`` made beforehand."""
    reasons = []
    get = signals.get
    for reason, sig, threshold, op in plan.checks:
        value = get(sig)
        if value is not None and _fails(value, threshold, op):
            reasons.append(reason)
    return _apply_soft(reasons, signals, rules, lang, plan.soft)


def _apply_soft(
    reasons: list[str],
    signals: Mapping[str, SignalValue],
    rules: QualityRules,
    lang: str | None,
    names: Mapping[str, str],
) -> tuple[str, ...]:
    """Drop soft reasons unless enough soft rules fail or the classifier breaks the tie (SoftRules).

    ``names``: reason -> soft family (:attr:`DecisionPlan.soft`)."""
    soft = rules.soft
    if not soft.families:
        return tuple(reasons)
    hard = [r for r in reasons if r not in names]
    weak = [r for r in reasons if r in names]
    if not weak:
        return tuple(hard)
    score = signals.get(signal_key("classifier", "score"))
    judged = soft.classifier_min_score is not None and lang in soft.classifier_languages
    if judged and isinstance(score, float) and soft.classifier_min_score is not None:
        return tuple(hard + weak) if score < soft.classifier_min_score else tuple(hard)
    if len({names[r] for r in weak}) >= soft.min_failures:
        return tuple(hard + weak)
    return tuple(hard)
