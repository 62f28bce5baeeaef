"""The license knowledge base: SPDX license texts and notice rules from the ``licensedcode-data`` package.

``licensedcode-data`` (PyPI, by nexB/AboutCode, the data of ScanCode Toolkit) ships ~2,300 license texts
(``licenses/<key>.LICENSE``: YAML front matter with ``spdx_license_key``, ``category``, ``is_exception``
then the text) and ~17,000 rules (``rules/<name>.RULE``: front matter with ``license_expression`` and a
rule kind: ``is_license_text`` / ``is_license_notice`` / ``is_license_reference`` / ``is_license_tag`` /
``is_false_positive``; then the text). Nothing is hand-typed here: every reference text comes from that
package. This module only reads it (a tiny line parser for the flat front matter: reading 37k files with a
full YAML parser would dominate worker start-up) and converts ScanCode keys to SPDX ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

PACKAGE = "licensedcode"

_FRONT_KEY_RE = re.compile(r"^([a-z_]+):\s*(.*?)\s*$")
_EXPR_KEY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+_-]*")


@dataclass(frozen=True, slots=True)
class LicenseInfo:
    """One ScanCode license: key, SPDX id, ScanCode category, whether it is an exception."""

    key: str
    spdx: str
    category: str
    is_exception: bool
    is_deprecated: bool


@dataclass(frozen=True, slots=True)
class RuleText:
    """One reference text: a license's full text or a rule (notice, reference, tag, false positive)."""

    name: str
    expression: str  # ScanCode-key expression (converted to SPDX by :meth:`KnowledgeBase.to_spdx`)
    kind: str  # text | notice | reference | tag | false_positive
    text: str
    relevance: int
    minimum_coverage: int  # percent, 0 = not set


def data_dir() -> Path:
    """Folder of the installed ``licensedcode-data`` package (raises ImportError when it is missing)."""
    root = resources.files(PACKAGE) / "data"
    return Path(str(root))


def split_front_matter(raw: str) -> tuple[dict[str, str], str]:
    """Split a ``---``-delimited front matter block (top-level ``key: value`` lines only) from the text."""
    if not raw.startswith("---"):
        return {}, raw
    end = raw.find("\n---", 3)
    if end < 0:
        return {}, raw
    meta: dict[str, str] = {}
    for line in raw[3:end].splitlines():
        m = _FRONT_KEY_RE.match(line)
        if m:
            meta[m.group(1)] = m.group(2).strip("'\"")
    body = raw[end + 4 :]
    return meta, body.lstrip("-\n")


def _yes(meta: dict[str, str], key: str) -> bool:
    return meta.get(key, "").lower() in ("yes", "true")


def _int(meta: dict[str, str], key: str, default: int) -> int:
    try:
        return int(float(meta.get(key, default)))
    except ValueError:
        return default


class KnowledgeBase:
    """Licenses (key -> SPDX id, category) and the reference texts to match documents against."""

    def __init__(self, licenses: dict[str, LicenseInfo], texts: list[RuleText]) -> None:
        self.licenses = licenses
        self.texts = texts
        self.by_spdx: dict[str, LicenseInfo] = {}
        for info in sorted(licenses.values(), key=lambda i: (i.is_deprecated, i.key)):
            self.by_spdx.setdefault(info.spdx.lower(), info)

    @classmethod
    def load(cls, root: Path | None = None) -> KnowledgeBase:
        """Read every license and rule of the package (deterministic order: sorted file names)."""
        root = root or data_dir()
        licenses: dict[str, LicenseInfo] = {}
        texts: list[RuleText] = []
        for f in sorted((root / "licenses").glob("*.LICENSE")):
            meta, body = split_front_matter(f.read_text(encoding="utf-8", errors="replace"))
            key = meta.get("key") or f.stem
            info = LicenseInfo(
                key=key,
                spdx=meta.get("spdx_license_key") or f"LicenseRef-scancode-{key}",
                category=meta.get("category", "Unstated License"),
                is_exception=_yes(meta, "is_exception"),
                is_deprecated=_yes(meta, "is_deprecated"),
            )
            licenses[key] = info
            if body.strip() and not info.is_deprecated and not _yes(meta, "is_unknown"):
                texts.append(RuleText(f.name, key, "text", body, 100, _int(meta, "minimum_coverage", 0)))
        for f in sorted((root / "rules").glob("*.RULE")):
            meta, body = split_front_matter(f.read_text(encoding="utf-8", errors="replace"))
            if _yes(meta, "is_deprecated") or not body.strip():
                continue
            kind = _rule_kind(meta)
            if kind is None:
                continue
            expr = meta.get("license_expression", "")
            if not expr and kind != "false_positive":
                continue
            texts.append(
                RuleText(
                    f.name,
                    expr,
                    kind,
                    body,
                    _int(meta, "relevance", 100),
                    _int(meta, "minimum_coverage", 0),
                )
            )
        return cls(licenses, texts)

    def keys(self, expression: str) -> Iterator[str]:
        """The license keys of a ScanCode expression (operators excluded)."""
        for m in _EXPR_KEY_RE.finditer(expression):
            if m.group(0).lower() not in ("and", "or", "with"):
                yield m.group(0)

    def to_spdx(self, expression: str) -> str:
        """Convert a ScanCode-key expression (``gpl-2.0-plus WITH autoconf-exception-2.0``) to SPDX."""

        def repl(m: re.Match[str]) -> str:
            word = m.group(0)
            low = word.lower()
            if low in ("and", "or", "with"):
                return low.upper()
            info = self.licenses.get(low)
            return info.spdx if info else f"LicenseRef-scancode-{low}"

        return _EXPR_KEY_RE.sub(repl, expression)

    def scancode_category(self, spdx_id: str) -> str | None:
        """ScanCode's category of an SPDX id (``Permissive``, ``Copyleft Limited``, ...) or None."""
        info = self.by_spdx.get(spdx_id.lower())
        return info.category if info else None

    def is_exception(self, spdx_id: str) -> bool:
        info = self.by_spdx.get(spdx_id.lower())
        return bool(info and info.is_exception)


def _rule_kind(meta: dict[str, str]) -> str | None:
    if _yes(meta, "is_false_positive"):
        return "false_positive"
    for key, kind in (
        ("is_license_text", "text"),
        ("is_license_notice", "notice"),
        ("is_license_reference", "reference"),
        ("is_license_tag", "tag"),
    ):
        if _yes(meta, key):
            return kind
    return None  # intros and clues are not licenses by themselves


def build_index_file(models_dir: str | Path, rules_file: str | Path | None = None) -> Path:
    """Build the prebuilt license index into ``<models_dir>/license_index`` and return that folder.

    ``rules_file`` (a ``rules/license.yaml``) supplies the ``text_match`` indexing parameters; default:
    the built-in defaults, which ``rules/license.yaml`` ships with. What install steps call.
    """
    from curation.stages.license.index import build_index
    from curation.stages.license.rules import LicenseRules, load_license_rules

    rules = load_license_rules(rules_file) if rules_file else LicenseRules()
    return build_index(models_dir, rules.text_match)


def main(argv: list[str] | None = None) -> int:
    """``python -m curation.stages.license.kb build|check --dest models [--rules rules/license.yaml]``."""
    import argparse

    from curation.stages.license.index import LicenseIndexError, check_index, index_dir
    from curation.stages.license.rules import LicenseRules, load_license_rules

    ap = argparse.ArgumentParser(prog="python -m curation.stages.license.kb", description=main.__doc__)
    ap.add_argument("command", choices=("build", "check"))
    ap.add_argument("--dest", default="models", help="the pipeline's models_dir")
    ap.add_argument("--rules", default=None, help="rules/license.yaml whose text_match to index with")
    args = ap.parse_args(argv)
    if args.command == "build":
        print(f"license index written to {build_index_file(args.dest, args.rules)}")
        return 0
    rules = load_license_rules(args.rules) if args.rules else LicenseRules()
    try:
        check_index(index_dir(args.dest), rules.text_match)
    except LicenseIndexError as exc:
        print(exc)
        return 1
    print(f"license index {index_dir(args.dest)} is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
