"""Per-document license detection: gather every kind of evidence, then apply the precedence of the rules.

Precedence (``rules/license.yaml`` ``precedence``): for each source kind an ordered list of evidence
kinds; the first kind that found a license wins. Defaults: evidence in the document itself (SPDX
identifier, license text, header notice; CC link/meta/statement; Gutenberg marker) outranks the repo's
LICENSE file, which outranks the shard ``manifest`` license the readers set. Conversations use only the
manifest. Every evidence found is kept in the ``license.candidates`` signal, so conflicts (a file saying
GPL in a MIT repo) can be analysed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from curation.document import Document
from curation.stages.license import books, code, web
from curation.stages.license.kb import KnowledgeBase
from curation.stages.license.policy import NOASSERTION, Categorizer, canonical, expression_category, ids_of
from curation.stages.license.rules import LicenseRules
from curation.stages.license.textmatch import TextMatch, TextMatcher, combine

STAGE = "license"
REPO_LICENSE_SIGNAL = f"{STAGE}.repo_license"
REPO_LICENSE_FILES_SIGNAL = f"{STAGE}.repo_license_files"


@dataclass(frozen=True)
class Detection:
    """The chosen license of a document and every evidence found (``evidence -> expression``)."""

    license: str
    evidence: str | None
    confidence: float
    detail: str = ""
    found: dict[str, str] = field(default_factory=dict)
    text: str | None = None  # new text when the detector edits it (Gutenberg boilerplate stripped)
    is_license_file: bool = False


class LicenseDetector:
    """Holds the parsed rules; :meth:`setup` loads the knowledge base and builds the matcher (per worker)."""

    def __init__(self, rules: LicenseRules, index_path: str | None = None) -> None:
        """``index_path``: the prebuilt index folder (memory-mapped on the worker); ``None`` builds the
        matcher in memory from ``licensedcode-data`` (tests, benchmarks, ``index.missing: build``)."""
        self.rules = rules
        self.index_path = index_path
        self._precheck = re.compile(rules.code.precheck_pattern)
        self._prose_languages = frozenset(x.lower() for x in rules.code.whole_text_languages)
        self.kb: KnowledgeBase | None = None
        self.matcher: TextMatcher | None = None
        self.categorize = Categorizer(rules.categories)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["kb"] = None  # rebuilt by setup() on the worker; never pickled with the transform
        state["matcher"] = None
        state["categorize"] = Categorizer(self.rules.categories)
        return state

    def setup(self) -> None:
        if self.matcher is None:
            self.kb, self.matcher = _load_matcher(self.rules, self.index_path)
            self.categorize = Categorizer(self.rules.categories, self.kb.scancode_category)

    # -- code -------------------------------------------------------------------------------------------
    def match_region(self, region: str) -> list[TextMatch]:
        """Text matches in ``region`` if the cheap pre-check says a license may be there."""
        if not region.strip() or not self._precheck.search(region):
            return []
        if self.matcher is None:
            self.setup()
        assert self.matcher is not None
        return self.matcher.match(region)

    def reads_like_license(self, text: str) -> bool:
        """Content pre-check deciding whether the whole text is worth a full match, whatever the file name:
        the share of the probe's word 3-grams found in the reference index (one ``searchsorted``; on the
        dev set license texts score >= 0.79, source files mostly below 0.3). No keyword regex first:
        some license texts have none of its words (diffmark: "you can do what you want with it").
        A longer text is probed at its end too, so a source file that merely starts with a long license
        header (and continues as code) keeps the first-comment-block rule."""
        r = self.rules.code
        n = r.whole_text_probe_chars
        if self.matcher is None:
            self.setup()
        assert self.matcher is not None
        if self.matcher.known_share(text[:n]) < r.whole_text_min_share:
            return False
        return len(text) <= 2 * n or self.matcher.known_share(text[-n:]) >= r.whole_text_min_share

    def code_evidence(self, doc: Document) -> tuple[dict[str, tuple[str, float, str]], bool]:
        """Code evidence as ``evidence -> (expression, confidence, detail)``, and the license-file flag."""
        r = self.rules.code
        conf = self.rules.confidence
        out: dict[str, tuple[str, float, str]] = {}
        expr = code.identifier_expression(doc.text, r.identifier_max_chars)
        if expr is None:
            expr = code.metadata_expression(doc.text, doc.path, r.metadata_file_names)
        if expr:
            out["identifier"] = (expr, conf.get("identifier", 1.0), "SPDX-License-Identifier")
        is_file = code.is_license_file(doc.path, r.license_file_names)
        named = is_file or code.is_license_file(doc.path, r.notice_file_names)
        prose = doc.code_language is None or doc.code_language.lower() in self._prose_languages
        whole = named or (prose and self.reads_like_license(doc.text))
        if whole:
            region = doc.text[: r.license_file_max_chars]
        else:
            region = code.first_comment_block(doc.text, r.header_max_chars)
            if len(region.strip()) < 20:
                region = doc.text[: r.header_fallback_chars]
        matches = self.match_region(region)
        found = combine(matches)
        if found:
            found = canonical(found) or found
            has_text = any(m.kind == "text" for m in matches)
            ev = ("license_file" if is_file else "license_text") if has_text else "header"
            coverage = min(1.0, sum(m.coverage for m in matches) / len(matches))
            out[ev] = (found, round(conf.get(ev, 0.9) * coverage, 4), ",".join(m.rule for m in matches))
        repo = doc.signals.get(REPO_LICENSE_SIGNAL)
        if isinstance(repo, str) and repo:
            files = doc.signals.get(REPO_LICENSE_FILES_SIGNAL) or []
            out["repo_default"] = (repo, conf.get("repo_default", 0.8), ",".join(files))
        return out, is_file

    def repo_license(self, doc: Document) -> tuple[str, str] | None:
        """``(expression, path)`` if ``doc`` is a LICENSE/COPYING file whose text clearly matched."""
        if doc.source_kind != "code" or not doc.repo:
            return None
        if not code.is_license_file(doc.path, self.rules.code.license_file_names):
            return None
        matches = self.match_region(doc.text[: self.rules.code.license_file_max_chars])
        if not matches or min(m.coverage for m in matches) < self.rules.code.min_repo_confidence:
            return None
        expr = combine(matches)
        return (canonical(expr) or expr, doc.path or "") if expr else None

    # -- all kinds -----------------------------------------------------------------------------------------
    def detect(self, doc: Document) -> Detection:
        rules = self.rules
        conf = rules.confidence
        evidence: dict[str, tuple[str, float, str]] = {}
        new_text: str | None = None
        is_file = False
        kind = doc.source_kind
        order = rules.precedence.get(kind, ("manifest",))
        if kind == "code":
            evidence, is_file = self.code_evidence(doc)
        elif kind == "web":
            wr = rules.web
            for hit in web.html_licenses(doc.html, wr.default_cc_version, wr.scan_html_chars):
                evidence.setdefault(hit.evidence, (hit.spdx, conf.get(hit.evidence, 0.9), hit.detail))
            if "cc_text" in order and (
                t := web.text_license(doc.text, wr.default_cc_version, wr.scan_text_chars)
            ):
                evidence["cc_text"] = (t.spdx, conf.get("cc_text", 0.8), t.detail)
        elif kind == "book":
            br = rules.book
            g = books.gutenberg_license(doc.text, br.marker_window_chars)
            if g:
                evidence["gutenberg"] = (g.spdx, conf.get("gutenberg", 0.9), g.detail)
                if br.strip_gutenberg:
                    stripped = books.strip_gutenberg(doc.text, br.marker_window_chars)
                    if stripped != doc.text and stripped.strip():
                        new_text = stripped
            elif p := books.public_domain_license(doc.text, br.public_domain_window_chars):
                evidence["public_domain"] = (p.spdx, conf.get("public_domain", 0.7), p.detail)
        if doc.license and doc.license_evidence == "manifest":
            evidence["manifest"] = (
                canonical(doc.license) or doc.license,
                conf.get("manifest", 0.6),
                doc.source,
            )
        found = {ev: v[0] for ev, v in sorted(evidence.items())}
        for ev in order:
            if ev in evidence:
                expr, c, detail = evidence[ev]
                return Detection(expr, ev, c, detail, found, new_text, is_file)
        return Detection(NOASSERTION, None, 0.0, "", found, new_text, is_file)

    def categories(self, expression: str) -> tuple[str, list[str]]:
        """The expression's category and ``ID=category`` strings for each id (stored as signals)."""
        if expression == NOASSERTION:
            return self.categorize(NOASSERTION), []
        ids = ids_of(expression)
        return (
            expression_category(expression, self.categorize, self.rules.categories),
            [f"{i}={self.categorize(i)}" for i in ids],
        )


_CACHE: dict[object, tuple[KnowledgeBase, TextMatcher]] = {}


def _load_matcher(rules: LicenseRules, index_path: str | None) -> tuple[KnowledgeBase, TextMatcher]:
    """The matcher once per process, index and parameters (read-only afterwards): memory-mapped from the
    prebuilt index when there is one, else built from the knowledge base."""
    key = (rules.text_match, index_path)
    if key not in _CACHE:
        if index_path is not None:
            from curation.stages.license.index import load_index

            _CACHE[key] = load_index(index_path, rules.text_match)
        else:
            kb = KnowledgeBase.load()
            _CACHE[key] = (kb, TextMatcher(kb, rules.text_match))
    return _CACHE[key]
