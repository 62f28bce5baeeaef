"""Typed rules of the license stage (``rules/license.yaml``), validated at pipeline build time."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from curation.rules import load_rules
from curation.stages.license.textmatch import MatchParams

Evidence = Literal[
    "identifier",  # SPDX-License-Identifier line or package-metadata license field
    "license_file",  # the document is a LICENSE/COPYING file whose text matched
    "license_text",  # a full license text found in the document (not a LICENSE-named file)
    "header",  # a license notice/reference in the first comment block
    "repo_default",  # the license of a LICENSE/COPYING file of the same repo
    "cc_link",  # rel="license" link or Creative Commons badge/deed URL in the HTML
    "meta",  # HTML <meta> license / dc.rights / dcterms.license
    "cc_text",  # a Creative Commons license statement in the text
    "gutenberg",  # Project Gutenberg header/footer markers
    "public_domain",  # an explicit public-domain statement in a book
    "manifest",  # the license the pipeline config declares for the shard
]
Category = str

CATEGORY_ORDER_DEFAULT = (
    "public_domain",
    "permissive",
    "weak_copyleft",
    "strong_copyleft",
    "no_derivatives",
    "non_commercial",
    "proprietary",
    "unknown",
)


@dataclass(frozen=True)
class CodeRules:
    header_max_chars: int = 20_000  # cap of the first comment block that is matched
    header_fallback_chars: int = 0  # >0: prefix matched when a file has no leading comment block
    license_file_max_chars: int = 300_000  # cap of a LICENSE/COPYING file's text that is matched
    identifier_max_chars: int = 200_000  # SPDX-License-Identifier lines are searched in this prefix
    license_file_names: tuple[str, ...] = ("LICENSE", "LICENCE", "COPYING", "COPYRIGHT", "UNLICENSE")
    notice_file_names: tuple[str, ...] = ("NOTICE",)
    metadata_file_names: tuple[str, ...] = ("package.json", "Cargo.toml", "pyproject.toml")
    precheck_pattern: str = r"(?i)licen[cs]|copyright|permission|warrant|redistribut|public domain|gnu"
    keep_license_files: bool = True  # false: LICENSE/COPYING documents are rejected as `license_file`
    min_repo_confidence: float = 0.8  # a LICENSE file must match at least this well to become repo default
    # Content pre-check for whole-text matching, whatever the file is called (or with no path): the share
    # of the first `whole_text_probe_chars` characters' word 3-grams that occur in some reference text.
    whole_text_probe_chars: int = 2000
    whole_text_min_share: float = 0.5
    # ... for documents of these languages (`Document.code_language`, case-insensitive) or of none: prose
    # files. A source file in a programming language keeps the first-comment-block rule, so a license
    # quoted in a string constant is not its grant.
    whole_text_languages: tuple[str, ...] = (
        "Text", "license-text", "Markdown", "reStructuredText", "AsciiDoc",
    )

    def __post_init__(self) -> None:
        if not 0.0 < self.whole_text_min_share <= 1.0:
            raise ValueError("code.whole_text_min_share must be in (0, 1]")
        if self.whole_text_probe_chars < 100:
            raise ValueError("code.whole_text_probe_chars must be >= 100")
        try:
            re.compile(self.precheck_pattern)
        except re.error as exc:
            raise ValueError(f"code.precheck_pattern: {exc}") from exc


@dataclass(frozen=True)
class WebRules:
    scan_html_chars: int = 5_000_000  # prefix of the raw HTML searched for links and meta tags
    scan_text_chars: int = 2_000_000  # prefix of the text searched for license statements
    default_cc_version: str = "4.0"  # for CC URLs or statements without a version


@dataclass(frozen=True)
class BookRules:
    strip_gutenberg: bool = True  # remove the Project Gutenberg header and footer from the text
    marker_window_chars: int = 60_000  # START/END markers are looked for this far from each end
    public_domain_window_chars: int = 5_000  # public-domain statements: first/last this many chars


@dataclass(frozen=True)
class CategoryRules:
    order: tuple[str, ...] = CATEGORY_ORDER_DEFAULT  # most permissive first
    ids: dict[str, tuple[str, ...]] = field(default_factory=dict)  # category -> SPDX ids (case-insensitive)
    prefixes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # category -> id prefixes
    scancode: dict[str, str] = field(default_factory=dict)  # ScanCode category -> our category
    default: str = "unknown"

    def __post_init__(self) -> None:
        known = set(self.order)
        for cat in [*self.ids, *self.prefixes, *self.scancode.values(), self.default]:
            if cat not in known:
                raise ValueError(f"category {cat!r} is not in categories.order ({', '.join(self.order)})")


@dataclass(frozen=True)
class PolicyRules:
    deny_categories: tuple[str, ...] = ("non_commercial", "proprietary")
    deny: tuple[str, ...] = ()  # SPDX ids always rejected
    allow: tuple[str, ...] = ()  # SPDX ids always accepted (overrides deny_categories)
    reject_noassertion: bool = False  # reject documents with no license at all


@dataclass(frozen=True)
class IndexRules:
    """Where the prebuilt matcher index lives (curation/stages/license/index.py)."""

    dir: str = "license_index"  # under the pipeline's models_dir
    missing: Literal["error", "build"] = "error"  # build: index in memory on each worker (~6 CPU-s each)

    def __post_init__(self) -> None:
        if self.missing not in ("error", "build"):
            raise ValueError("index.missing must be one of: error, build")
        if not self.dir.strip():
            raise ValueError("index.dir must name a folder under models_dir")


@dataclass(frozen=True)
class LicenseRules:
    """rules/license.yaml."""

    precedence: dict[str, tuple[Evidence, ...]] = field(default_factory=dict)  # source kind -> evidence
    confidence: dict[str, float] = field(default_factory=dict)  # evidence -> base confidence
    code: CodeRules = field(default_factory=CodeRules)
    web: WebRules = field(default_factory=WebRules)
    book: BookRules = field(default_factory=BookRules)
    text_match: MatchParams = field(default_factory=MatchParams)
    index: IndexRules = field(default_factory=IndexRules)
    categories: CategoryRules = field(default_factory=CategoryRules)
    policy: PolicyRules = field(default_factory=PolicyRules)

    def __post_init__(self) -> None:
        bad = set(self.precedence) - {"web", "book", "code", "conversation"}
        if bad:
            raise ValueError(f"precedence: unknown source kind(s) {sorted(bad)}")
        for cat in self.policy.deny_categories:
            if cat not in self.categories.order:
                raise ValueError(f"policy.deny_categories: unknown category {cat!r}")
        for ev, c in self.confidence.items():
            if not 0.0 <= c <= 1.0:
                raise ValueError(f"confidence.{ev}: {c} out of range [0, 1]")


def load_license_rules(path: str | Path) -> LicenseRules:
    return load_rules(path, LicenseRules)
