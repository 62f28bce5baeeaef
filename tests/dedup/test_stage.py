"""The dedup stage end to end on the FnApiRunner: one fixture, run in-process and multi-processing."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import apache_beam as beam
import pytest

from curation.document import Document, Reject
from curation.stages.dedup import DedupStage, describe
from curation.stages.dedup.rules import DedupRules, MinHashRules
from tests.beam_helpers import fnapi_options, read_collection, write_collection

pytestmark = pytest.mark.beam

HOT = 300  # identical copies in one hot bucket


def _words(lo: int, hi: int, prefix: str) -> str:
    return " ".join(f"{prefix}{i}" for i in range(lo, hi))


def _doc(doc_id: str, text: str, kind: str = "web", **signals) -> Document:
    return Document(id=doc_id, source_kind=kind, source="fixture", text=text, token_count=len(text.split()),
                    signals=signals)


def fixture() -> list[Document]:
    base = _words(0, 200, "w")
    docs = [
        # exact copies (case / whitespace differences), across kinds; the permissive copy is kept
        _doc("ex-b", base, **{"license.category": "strong_copyleft", "quality.score": 0.9}),
        _doc("ex-c", base.upper().replace(" ", "  "), kind="book", **{"license.category": "permissive"}),
        # near copy above threshold (J = 186/206 = 0.90 with ex-*), and one below (J = 0.47)
        _doc("near-a", _words(10, 210, "w")),
        _doc("far-a", _words(70, 270, "w")),
        # chain: A~B (0.85), B~C (0.85), A~C (0.71) -> one cluster through B
        _doc("chain-2", _words(0, 100, "c")),
        _doc("chain-1", _words(8, 108, "c")),
        _doc("chain-0", _words(16, 116, "c")),
        # code near copies: identical tokens, different symbols and layout
        _doc("code-a", "def f(x):\n    return g(x, y) + " + _words(0, 40, "v"), kind="code"),
        _doc("code-b", "def f ( x ) :\n  return g[x; y] - " + _words(0, 40, "v"), kind="code"),
        # short and empty documents: exact dedup only, never a crash
        _doc("short-a", "Hi there"),
        _doc("short-b", "hi\tTHERE"),  # same length: smallest id is kept
        _doc("short-c", "hi where"),
        _doc("empty", ""),
        _doc("punct", "!!! ???"),
    ]
    docs += [_doc(f"hot-{i:04d}", _words(0, 30, "h"), kind="conversation") for i in range(HOT)]
    return docs


def run(
    docs: list[Document], multi_processing: bool, rules: DedupRules | None = None
) -> tuple[list, list, dict]:
    rules = rules or DedupRules()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with beam.Pipeline(options=fnapi_options(multi_processing=multi_processing)) as p:
            out = p | beam.Create(docs) | DedupStage(rules, describe(rules))
            write_collection(out.kept, folder, "kept")
            write_collection(out.rejected, folder, "rejected")
            write_collection(out.stats, folder, "stats")
        return (read_collection(folder, "kept"), read_collection(folder, "rejected"),
                dict(read_collection(folder, "stats")))


@pytest.fixture(scope="module")
def in_process() -> tuple[list, list, dict]:
    return run(fixture(), multi_processing=False)


def _reasons(rejected: list[Reject]) -> dict[str, str]:
    return {r.doc.id: r.reason for r in rejected}


def test_exact_near_chain_code_and_short(in_process) -> None:
    kept, rejected, _ = in_process
    reasons = _reasons(rejected)
    assert all(r.stage == "dedup" for r in rejected)
    assert reasons["ex-b"] == "duplicate_of:ex-c"  # permissive beats higher quality
    assert reasons["near-a"] == "duplicate_of:ex-c"
    assert "far-a" not in reasons  # below threshold
    assert reasons["chain-1"] == "duplicate_of:chain-0" and reasons["chain-2"] == "duplicate_of:chain-0"
    assert reasons["code-a"] == "duplicate_of:code-b"  # same code tokens; code-b is longer
    assert reasons["short-b"] == "duplicate_of:short-a" and "short-c" not in reasons
    assert {"empty", "punct", "far-a", "short-c"} <= {d.id for d in kept}
    rej = {r.doc.id: r for r in rejected}
    assert rej["ex-b"].doc.signals["dedup.cluster_id"] == "ex-b"  # cluster id = smallest member id
    assert rej["ex-b"].doc.signals["dedup.match"] == "exact"
    assert rej["near-a"].doc.signals["dedup.match"] == "near"
    by_id = {d.id: d for d in kept}
    assert by_id["ex-c"].signals["dedup.cluster_size"] == 3
    assert by_id["far-a"].signals == {"dedup.cluster_id": "far-a", "dedup.cluster_size": 1}
    assert len(kept) + len(rejected) == len(fixture())


def test_hot_bucket_is_linear_and_stats_are_reported(in_process) -> None:
    _, rejected, stats = in_process
    hot_rejects = [r for r in rejected if r.doc.id.startswith("hot-")]
    assert len(hot_rejects) == HOT - 1 and {r.reason for r in hot_rejects} == {"duplicate_of:hot-0000"}
    edges = stats["edges"]
    assert edges["exact_edges"] < HOT + 20  # star edges, not HOT^2/2 pairs
    assert edges["rejected_edges"] >= 0 and edges["near_edges"] >= 4
    assert stats["components"]["converged"] is True
    cl = stats["clusters"]
    assert cl["max_cluster_size"] == HOT and cl["size_histogram"]["101-1000"] == 1
    assert cl["removed"]["docs"] == len(rejected)
    assert cl["cross_source"]["docs"] == 2  # ex-b and near-a (web) are copies of the kept book ex-c
    assert cl["cross_source"]["by_pair"]["web<-book"]["docs"] == 2
    assert cl["removed_by_match"]["exact"]["docs"] >= HOT
    assert stats["params"]["s_curve"]["0.8"] > 0.99


def test_same_result_in_multi_processing_runner(in_process) -> None:
    kept, rejected, stats = run(fixture(), multi_processing=True)
    ref_kept, ref_rejected, ref_stats = in_process
    assert sorted((d.id, sorted(d.signals.items())) for d in kept) == sorted(
        (d.id, sorted(d.signals.items())) for d in ref_kept
    )
    assert _reasons(rejected) == _reasons(ref_rejected)
    assert stats == ref_stats


def option_fixture() -> list[Document]:
    """Pairs that only the optional rules join: same URL with different text, and a J = 0.73 pair."""
    return [
        dataclasses.replace(_doc("url-a", _words(0, 60, "u")), url="https://Example.org/page/#top"),
        dataclasses.replace(_doc("url-b", _words(0, 60, "z")), url="https://example.org/page"),
        dataclasses.replace(_doc("url-c", _words(0, 60, "y")), url="https://example.org/other"),
        _doc("loose-a", _words(0, 200, "v")),
        _doc("loose-b", _words(30, 230, "v")),  # 166 of 226 shingles shared: J = 0.73 < 0.8
    ]


def test_url_dedup_and_unverified_band_edges_only_when_switched_on() -> None:
    kept, rejected, stats = run(option_fixture(), multi_processing=False)
    assert rejected == [] and len(kept) == 5  # defaults: URL dedup off, band edges verified
    assert stats["edges"]["rejected_edges"] >= 1  # the loose pair was a candidate, cut by verification

    rules = DedupRules(exact_url=True, minhash=MinHashRules(verify=False))
    kept, rejected, stats = run(option_fixture(), multi_processing=False, rules=rules)
    rej = {r.doc.id: r for r in rejected}
    assert rej["url-b"].reason == "duplicate_of:url-a" and rej["url-b"].doc.signals["dedup.match"] == "url"
    assert "url-c" not in rej  # another URL of the same site
    loose = {"loose-a", "loose-b"} & set(rej)
    assert len(loose) == 1 and rej[loose.pop()].doc.signals["dedup.match"] == "near"
    assert stats["edges"]["rejected_edges"] == 0


def test_hot_cluster_keeps_the_shared_text_and_labels_exact_copies_exact() -> None:
    """Issue 23: exact copies plus longer near variants of them; the copy kept is the text the exact
    copies share (not the longest variant) and every exact copy is labelled `exact`."""
    shared = _words(0, 120, "s")
    docs = [_doc(f"copy-{i}", shared) for i in range(6)]
    docs += [_doc(f"var-{i}", shared + " " + _words(0, 3 + i, f"x{i}")) for i in range(3)]  # longer, J > 0.9
    kept, rejected, stats = run(docs, multi_processing=False)
    assert [d.id for d in kept] == ["copy-0"] and kept[0].text == shared
    match = {r.doc.id: r.doc.signals["dedup.match"] for r in rejected}
    assert match == {**{f"copy-{i}": "exact" for i in range(1, 6)}, **{f"var-{i}": "near" for i in range(3)}}
    assert stats["clusters"]["removed_by_match"]["exact"]["docs"] == 5
