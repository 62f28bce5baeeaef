"""SPDX expressions, license categories and the keep/reject policy (pure functions over strings).

Expressions are parsed with ``license-expression`` (nexB), whose SPDX licensing object ships the SPDX
license list with aliases (``GPL-2.0+`` -> ``GPL-2.0-or-later``). Categories come from
``rules/license.yaml``: explicit ids, then id prefixes (Creative Commons variants), then ScanCode's own
category of the license (stored per id in the ``license.id_categories`` signal so the what-if report can
re-decide from stored signals without the knowledge base).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping

from license_expression import (
    AND,
    OR,
    ExpressionError,
    LicenseSymbol,
    LicenseWithExceptionSymbol,
    Licensing,
    get_spdx_licensing,
)

from curation.stages.license.rules import CategoryRules, PolicyRules

NOASSERTION = "NOASSERTION"
_LICENSEREF_RE = re.compile(r"(?:DocumentRef-[\w.-]+:)?LicenseRef-[\w.-]+")


@functools.lru_cache(maxsize=1)
def spdx_licensing() -> Licensing:
    """The (per-process cached, immutable after load) SPDX licensing object of license-expression."""
    return get_spdx_licensing()


def canonical(expression: str) -> str | None:
    """Parse an SPDX expression and render it canonically (known ids in SPDX case); None if unparsable."""
    expression = expression.strip().strip("\"'").strip()
    if not expression:
        return None
    # LicenseRef-* ids are user-defined: keep them verbatim (the SPDX licensing object would alias some
    # of them to ScanCode's LicenseRef-scancode-* names).
    refs: list[str] = []

    def protect(m: re.Match[str]) -> str:
        refs.append(m.group(0))
        return f"ZzLicRef{len(refs) - 1}"

    masked = _LICENSEREF_RE.sub(protect, expression)
    try:
        parsed = spdx_licensing().parse(masked, simple=False)
    except (ExpressionError, Exception):  # license-expression raises several error types
        return None
    if parsed is None:
        return None
    return re.sub(r"ZzLicRef(\d+)", lambda m: refs[int(m.group(1))], str(parsed))


def is_known(expression: str) -> bool:
    """True if every license id of the expression is on the SPDX list (or a ``LicenseRef-``)."""
    try:
        errors = spdx_licensing().validate(expression).errors
    except Exception:
        return False
    if not errors:
        return True
    return all(s.startswith("LicenseRef-") for s in ids_of(expression) if not _on_list(s))


def _on_list(spdx_id: str) -> bool:
    return not spdx_licensing().validate(spdx_id).errors


def ids_of(expression: str) -> list[str]:
    """License and exception ids of an expression, in order, without duplicates."""
    try:
        parsed = spdx_licensing().parse(expression, simple=False)
    except Exception:
        return [expression]
    if parsed is None:
        return []
    out: list[str] = []
    for sym in spdx_licensing().license_symbols(parsed, unique=True, decompose=True):
        if sym.key not in out:
            out.append(sym.key)
    return out


class Categorizer:
    """id -> category: explicit ids, then the longest matching prefix, then a ScanCode category lookup."""

    def __init__(
        self, rules: CategoryRules, scancode_category: Callable[[str], str | None] | None = None
    ) -> None:
        self.rules = rules
        self.table = {i.lower(): cat for cat, ids in sorted(rules.ids.items()) for i in ids}
        pairs = [(p.lower(), cat) for cat, ps in rules.prefixes.items() for p in ps]
        self.prefixes = tuple(sorted(pairs, key=lambda x: (-len(x[0]), x[0])))
        self.scancode_category = scancode_category

    def from_rules(self, spdx_id: str) -> str | None:
        """The category the rules file gives ``spdx_id`` (explicit id or prefix), or None."""
        low = spdx_id.lower()
        if low in self.table:
            return self.table[low]
        for prefix, cat in self.prefixes:
            if low.startswith(prefix):
                return cat
        return None

    def __call__(self, spdx_id: str) -> str:
        cat = self.from_rules(spdx_id)
        if cat is not None:
            return cat
        sc = self.scancode_category(spdx_id) if self.scancode_category else None
        return self.rules.scancode.get(sc, self.rules.default) if sc else self.rules.default


def expression_category(expression: str, id_category: Callable[[str], str], rules: CategoryRules) -> str:
    """Category of an expression: OR -> most permissive alternative, AND -> most restrictive part."""
    if not expression or expression == NOASSERTION:
        return id_category(NOASSERTION)
    rank = {c: i for i, c in enumerate(rules.order)}
    try:
        parsed = spdx_licensing().parse(expression, simple=False)
    except Exception:
        return rules.default

    def walk(node: object) -> str:
        if isinstance(node, LicenseWithExceptionSymbol):
            return id_category(node.license_symbol.key)
        if isinstance(node, LicenseSymbol):
            return id_category(node.key)
        cats = [walk(a) for a in node.args]  # type: ignore[attr-defined]
        pick = min if isinstance(node, OR) else max
        return pick(cats, key=lambda c: rank.get(c, len(rank)))

    return walk(parsed)


def policy_reasons(
    expression: str, id_category: Callable[[str], str], policy: PolicyRules
) -> tuple[str, ...]:
    """Reasons (``license:<id>``) the policy rejects an expression for; empty tuple = keep."""
    if not expression or expression == NOASSERTION:
        return (f"license:{NOASSERTION}",) if policy.reject_noassertion else ()
    allow = {a.lower() for a in policy.allow}
    deny = {d.lower() for d in policy.deny}

    def denied(spdx_id: str) -> bool:
        low = spdx_id.lower()
        if low in allow:
            return False
        return low in deny or id_category(spdx_id) in policy.deny_categories

    try:
        parsed = spdx_licensing().parse(expression, simple=False)
    except Exception:
        return (f"license:{expression}",) if denied(expression) else ()

    def walk(node: object) -> list[str]:
        """Offending ids under ``node`` (empty = acceptable)."""
        if isinstance(node, LicenseWithExceptionSymbol):
            key = node.license_symbol.key
            return [key] if denied(key) else []
        if isinstance(node, LicenseSymbol):
            return [node.key] if denied(node.key) else []
        results = [walk(a) for a in node.args]  # type: ignore[attr-defined]
        if isinstance(node, AND):
            return [i for r in results for i in r]
        if isinstance(node, OR) and any(not r for r in results):
            return []
        return [i for r in results for i in r]

    offending = list(dict.fromkeys(walk(parsed)))
    return tuple(f"license:{i}" for i in offending)


def stored_category_lookup(id_categories: list[str] | None, rules: CategoryRules) -> Callable[[str], str]:
    """An id -> category function from the ``license.id_categories`` signal (``ID=category`` strings).

    The rules' explicit ids and prefixes win over the stored values (so editing the rules file changes
    the what-if result); the stored value stands in for the knowledge base's ScanCode category.
    """
    stored: Mapping[str, str] = dict(s.split("=", 1) for s in (id_categories or []) if "=" in s)
    base = Categorizer(rules)

    def lookup(spdx_id: str) -> str:
        cat = base.from_rules(spdx_id)
        if cat is not None:
            return cat
        value = stored.get(spdx_id)
        return value if value in rules.order else rules.default

    return lookup
