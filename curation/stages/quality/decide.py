"""The one decision function of the quality stage, used by the Beam processor and by the what-if report.

It reads only stored signals (``quality.<set>.<signal>``) and the rules, so a report can override a
threshold (``quality.gopher.min_words=30``) and recompute every decision without re-running the stage.
"""

from __future__ import annotations

from collections.abc import Mapping

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


def decide(signals: Mapping[str, SignalValue], rules: QualityRules, source_kind: str) -> tuple[str, ...]:
    """Every rule that fails for a document of ``source_kind`` with these signals (empty = keep).

    Sets run in the order of ``rules.apply.<source_kind>`` and rules in their declaration order, so the
    primary reason is deterministic. A rule whose threshold is ``null``/``false`` or whose signal was not
    stored (e.g. no classifier model) does not fire. A language-dependent rule (``PER_LANGUAGE``) takes its
    threshold for the document's language (signal ``quality.lang``) from ``rules.languages`` and does not
    run for a language without one, unless ``languages.enabled`` is false (published behaviour).
    """
    reasons: list[str] = []
    lr = rules.languages
    lang = signals.get(f"{PREFIX}.lang")
    lang = lang if isinstance(lang, str) else None
    for set_name in rules.sets_for(source_kind):
        rs = rules.rule_set(set_name)
        per_language = getattr(rs, "PER_LANGUAGE", frozenset()) if lr.enabled else frozenset()
        for key, (sig, op) in rs.CHECKS.items():
            threshold = lr.threshold(lang, set_name, key) if key in per_language else getattr(rs, key)
            if threshold is None or threshold is False:
                continue
            value = signals.get(signal_key(set_name, sig))
            if value is not None and _fails(value, threshold, op):
                reasons.append(reason_key(set_name, key))
    return _apply_soft(reasons, signals, rules, lang)


def _apply_soft(
    reasons: list[str], signals: Mapping[str, SignalValue], rules: QualityRules, lang: str | None
) -> tuple[str, ...]:
    """Drop soft reasons unless enough soft rules fail or the classifier breaks the tie (SoftRules)."""
    soft = rules.soft
    if not soft.families:
        return tuple(reasons)
    names = {reason_key(*r.split(".", 1)): fam for fam, rs in soft.families.items() for r in rs}
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
