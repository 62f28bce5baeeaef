"""The license stage as Beam transforms: repo-level LICENSE propagation, tagging + policy, report stats.

Graph (labels as in the pipeline)::

    docs ─ ByRepo ─┬─ other documents ──────────────────────────────────────────────> Tag (MapStage) ─┐
                   └─ code with a repo ─┬─ RepoLicenses: Match LICENSE/COPYING files -> GroupByKey(repo)│
                                        └─ AttachRepoLicense (Map, AsDict side input) -> TagRepo ───────┤
                                  (DropHtml per branch) -> Flatten kept / rejected / counts; Stats <───┘

Only ``(repo, (path, expression))`` pairs of license files are shuffled (a few bytes per repo), never
whole documents; the per-repo map is then broadcast as a side input. At very large scale (millions of
repos) a ``CoGroupByKey`` on repo would scale the map out instead, at the cost of shuffling every code
document once; the side input is the right trade-off for corpora with up to a few million repos.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import apache_beam as beam
from apache_beam.pvalue import AsDict

from curation import beamfn as lean
from curation.document import Document, Reject
from curation.stage import CombineGlobal, DocProcessor, MapStage, Outcome, StageOutput, freeze_heap
from curation.stages.license.detect import (
    REPO_LICENSE_FILES_SIGNAL,
    REPO_LICENSE_SIGNAL,
    STAGE,
    LicenseDetector,
)
from curation.stages.license.policy import Categorizer, canonical, policy_reasons
from curation.stages.license.rules import LicenseRules

S = f"{STAGE}."


class LicenseProcessor(DocProcessor):
    """Tag (license, evidence, confidence, signals), strip Gutenberg boilerplate, apply the policy."""

    stage = STAGE

    def __init__(self, rules: LicenseRules, index_path: str | None = None) -> None:
        self.rules = rules
        self.detector = LicenseDetector(rules, index_path)

    def setup(self) -> None:
        self.detector.setup()

    def process(self, doc: Document) -> Outcome:
        det = self.detector.detect(doc)
        category, id_categories = self.detector.categories(det.license)
        signals: dict[str, Any] = {
            S + "spdx": det.license,
            S + "evidence": det.evidence,
            S + "confidence": det.confidence,
            S + "category": category,
            # 0 = most permissive (rank in categories.order): what the dedup keep rule can sort on
            S + "category_rank": _rank(self.rules, category),
            S + "id_categories": id_categories,
            S + "candidates": [f"{ev}={expr}" for ev, expr in det.found.items()],
            S + "detail": det.detail[:300],
            S + "is_license_file": det.is_license_file,
        }
        changes: dict[str, Any] = {
            "license": det.license,
            "license_evidence": det.evidence,
            "license_confidence": det.confidence,
        }
        if det.text is not None:
            signals[S + "gutenberg_chars_removed"] = len(doc.text) - len(det.text)
            changes["text"] = det.text
        out = doc.with_signals(signals, **changes)
        reasons = decide_with(out.signals, self.rules, self.detector.categorize)
        if reasons:
            return self.reject(out, reasons[0], reasons)
        return out


def _rank(rules: LicenseRules, category: str) -> int:
    order = rules.categories.order
    return order.index(category) if category in order else len(order)


def decide_with(signals: dict | Any, rules: LicenseRules, categorize: Any) -> tuple[str, ...]:
    """Reasons to reject given stored signals (policy on ``license.spdx``; license files if configured)."""
    reasons = list(policy_reasons(str(signals.get(S + "spdx") or "NOASSERTION"), categorize, rules.policy))
    if signals.get(S + "is_license_file") and not rules.code.keep_license_files:
        reasons.append("license_file")
    return tuple(reasons)


# -- repo-level LICENSE propagation ---------------------------------------------------------------------


class _RepoLicenseDoFn(lean.LeanDoFn):
    """Emit ``(repo, (path, expression))`` for each LICENSE/COPYING document whose text matched."""

    def __init__(self, detector: LicenseDetector) -> None:
        self.detector = detector

    def setup(self) -> None:
        self.detector.setup()
        freeze_heap()

    def process(self, doc: Document) -> Iterator[tuple[str, tuple[str, str]]]:
        found = self.detector.repo_license(doc)
        if found is not None and doc.repo:
            expr, path = found
            yield doc.repo, (path, expr)


def merge_repo_licenses(entries: Iterable[tuple[str, str]]) -> tuple[str, tuple[str, ...]]:
    """One repo's license from its license files: AND of the distinct expressions, ordered by path.

    AND is the conservative reading of several license files (LICENSE-MIT + LICENSE-APACHE is often a
    dual license, i.e. OR, but that can only be known from the package metadata, which the file-level
    SPDX/metadata evidence already captures).
    """
    ordered = sorted(set(entries))
    exprs: list[str] = []
    for _, expr in ordered:
        if expr not in exprs:
            exprs.append(expr)
    joined = exprs[0] if len(exprs) == 1 else " AND ".join(f"({e})" if " " in e else e for e in exprs)
    return canonical(joined) or joined, tuple(p for p, _ in ordered)


def attach_repo_license(doc: Document, repo_licenses: dict[str, tuple[str, tuple[str, ...]]]) -> Document:
    """Record the repo's license (if any) as signals on a code document, for the tagger's precedence."""
    if doc.source_kind != "code" or not doc.repo or doc.repo not in repo_licenses:
        return doc
    expr, paths = repo_licenses[doc.repo]
    return doc.with_signals({REPO_LICENSE_SIGNAL: expr, REPO_LICENSE_FILES_SIGNAL: list(paths)})


class RepoLicenses(beam.PTransform):
    """``PCollection[Document] -> PCollection[(repo, (expression, paths))]`` from license files."""

    def __init__(self, detector: LicenseDetector) -> None:
        super().__init__()
        self.detector = detector

    def expand(self, docs: beam.PCollection) -> beam.PCollection:
        return (
            docs
            | "MatchLicenseFiles" >> beam.ParDo(_RepoLicenseDoFn(self.detector))
            | "GroupByRepo" >> beam.GroupByKey()
            | "Merge" >> lean.MapTuple(lambda repo, entries: (repo, merge_repo_licenses(entries)))
        )


# -- report statistics ---------------------------------------------------------------------------------


# ((source kind, category, SPDX id, "kept" | "rejected"), tokens): what the stats need of one document.
StatsRow = tuple[tuple[str, str, str, str], int]


def stats_row(item: Document | Reject) -> StatsRow:
    """The stats record of a kept document or a reject (small, so that the stats do not copy documents)."""
    rejected = isinstance(item, Reject)
    doc = item.doc if rejected else item
    key = (
        doc.source_kind,
        str(doc.signals.get(S + "category", "unknown")),
        str(doc.signals.get(S + "spdx", doc.license or "NOASSERTION")),
        "rejected" if rejected else "kept",
    )
    return key, doc.token_count


class LicenseStatsFn(beam.CombineFn):
    """Docs and tokens per (source kind, category, SPDX id), kept and rejected, as one JSON dict (inputs:
    :func:`stats_row` records)."""

    def create_accumulator(self) -> dict[tuple[str, str, str, str], list[int]]:
        return {}

    def add_input(self, acc: dict, item: StatsRow) -> dict:
        key, tokens = item
        cell = acc.setdefault(key, [0, 0])
        cell[0] += 1
        cell[1] += tokens
        return acc

    def merge_accumulators(self, accs: Iterable[dict]) -> dict:
        out: dict = {}
        for acc in accs:
            for k, (d, t) in acc.items():
                cell = out.setdefault(k, [0, 0])
                cell[0] += d
                cell[1] += t
        return out

    def extract_output(self, acc: dict) -> dict:
        return stats_json(acc)


def stats_json(acc: dict[tuple[str, str, str, str], Sequence[int]]) -> dict:
    """``{source_kind: {by_category: {cat: {docs_kept, tokens_kept, docs_rejected, tokens_rejected}},
    by_license: {spdx: {...}}}}`` (sorted keys; deterministic)."""
    out: dict[str, dict[str, dict[str, dict[str, int]]]] = {}
    for (kind, cat, spdx, outcome), (docs, tokens) in sorted(acc.items()):
        k = out.setdefault(kind, {"by_category": {}, "by_license": {}})
        for table, name in (("by_category", cat), ("by_license", spdx)):
            cell = k[table].setdefault(
                name, {"docs_kept": 0, "tokens_kept": 0, "docs_rejected": 0, "tokens_rejected": 0}
            )
            cell[f"docs_{outcome}"] += docs
            cell[f"tokens_{outcome}"] += tokens
    return out


def needs_repo_license(doc: Document) -> bool:
    """Code documents with a repo: the only ones whose tag can depend on the repo's LICENSE files."""
    return doc.source_kind == "code" and bool(doc.repo)


class LicenseStage(beam.PTransform):
    """The license stage: code documents of a repo wait for RepoLicenses (a side input), every other
    document is tagged at once; both branches -> Tag (MapStage) -> merged outputs and Stats.

    Only the repo branch waits: a side input holds back every element of the ParDo that reads it until the
    map is complete, and a batch runner keeps those elements in memory (or spills them) meanwhile. Web pages,
    books and conversations, raw HTML included, therefore never wait. With ``drop_html`` (no later stage
    reads the HTML and the output does not keep it) each branch drops it *before* the branches are merged,
    since a runner may materialise the merge.
    """

    def __init__(
        self,
        rules: LicenseRules,
        tokenizer: str,
        batch_size: int = 128,
        drop_html: bool = False,
        index_path: str | None = None,
    ) -> None:
        super().__init__(label=STAGE)
        self.rules = rules
        self.index_path = index_path
        self.processor = LicenseProcessor(rules, index_path)
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.drop_html = drop_html

    def expand(self, docs: beam.PCollection) -> StageOutput:
        direct, repo_docs = docs | "ByRepo" >> beam.Partition(
            lambda doc, _: int(needs_repo_license(doc)), 2
        )
        repo_map = repo_docs | "RepoLicenses" >> RepoLicenses(LicenseDetector(self.rules, self.index_path))
        with_repo = repo_docs | "AttachRepoLicense" >> lean.Map(attach_repo_license, AsDict(repo_map))
        branches = (
            direct | "Tag" >> MapStage(self.processor, self.batch_size, self.tokenizer),
            with_repo | "TagRepo" >> MapStage(self.processor, self.batch_size, self.tokenizer),
        )
        kept = [b.kept for b in branches]
        if self.drop_html:
            kept = [pc | f"DropHtml{i}" >> lean.Map(Document.without_html) for i, pc in enumerate(kept)]
        # Project before flattening: a Flatten is materialised by some runners, and the documents
        # themselves would be copied (raw HTML included) just to be counted.
        rows = [
            pc | f"StatsRows{part}{i}" >> lean.Map(stats_row)
            for i, b in enumerate(branches)
            for part, pc in (("Kept", b.kept), ("Rejected", b.rejected))
        ]
        stats = (
            tuple(rows)
            | "Stats" >> CombineGlobal(LicenseStatsFn())
            | "NameStats" >> lean.Map(lambda s: ("licenses", s))
        )
        # rejects and counts stay in their two parts (written and summed as they are); only the kept
        # documents, which the next stage reads as one input, are merged
        return StageOutput(
            kept=kept | "Kept" >> beam.Flatten(),
            rejected=tuple(b.rejected for b in branches),
            counts=tuple(b.counts for b in branches),
            stats=stats,
        )


__all__ = [
    "Categorizer",
    "LicenseProcessor",
    "LicenseStage",
    "LicenseStatsFn",
    "RepoLicenses",
    "attach_repo_license",
    "decide_with",
    "merge_repo_licenses",
    "needs_repo_license",
    "stats_json",
]
