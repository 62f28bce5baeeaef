from __future__ import annotations

import math
import tempfile
from pathlib import Path

import apache_beam as beam
import pytest

from curation.rules import ConfigError
from curation.stages.toxicity import build_probe, build_stage
from curation.stages.toxicity.bias import (
    add_nested,
    doc_representation,
    finalize_cooccurrence,
    finalize_representation,
    load_bias_lists,
    window_cooccurrence,
)
from tests.beam_helpers import fnapi_options, read_collection, write_collection
from tests.toxicity.conftest import make_cfg
from tests.toxicity.helpers import doc

LISTS = load_bias_lists("bias")
CLEAN = "The women went to the market and bought bread, apples and cheese for the long winter evenings.\n" * 3
MATCHER = LISTS.matcher()


def test_lists_cover_the_six_groups_and_cite_sources() -> None:
    groups = {g.group for g in LISTS.groups}
    assert groups == {
        "gender",
        "religion",
        "ethnicity_nationality",
        "sexual_orientation",
        "disability",
        "age",
    }
    assert all(g.source for g in LISTS.groups) and LISTS.descriptors.source


def test_representation_counts_on_a_fixture_with_known_numbers() -> None:
    acc: dict = {}
    for text, kind in [
        ("The women and the men went to church. Muslims and Christians met there.", "web"),
        ("Nothing here about anyone.", "web"),
        ("She is a nurse. She is kind to the African American family.", "book"),
    ]:
        add_nested(acc, doc_representation(text, kind, MATCHER))
    rep = finalize_representation(acc)
    web, book = rep["web"], rep["book"]
    assert (web["docs"], web["words"], web["identity_mentions"]) == (2, 17, 4)
    assert web["groups"]["gender"] == {
        "mentions": 2,
        "docs": 1,
        "mention_share": 0.5,
        "doc_share": 0.5,
        "per_10k_words": round(2e4 / 17, 6),
    }
    assert web["subgroups"]["religion/muslim"]["mentions"] == 1
    assert web["subgroups"]["religion/christian"]["mentions"] == 1
    # "African American" is one mention (longest match), not also "American"
    assert book["groups"]["ethnicity_nationality"]["mentions"] == 1
    assert book["subgroups"]["gender/female_pronouns"]["mentions"] == 2
    assert "church" not in str(rep)


def test_cooccurrence_toxic_share_baseline_and_pmi() -> None:
    windows = [
        ("She is a nurse", False),
        ("She is a nurse", False),
        ("the gay man is a stupid fucking idiot", True),
        ("a cat", False),
    ]
    stats, toxic_ids = window_cooccurrence(windows, "web", MATCHER)
    assert toxic_ids == [(2, {"sexual_orientation/gay_lesbian": 1})]
    out = finalize_cooccurrence(stats, top_k=5, min_count=2)
    assert "PMI" in out["measure"]
    web = out["web"]
    assert web["windows"] == 4 and web["baseline"] == round(8 / 18, 6)  # 8 of 18 words are in toxic spans
    so = web["groups"]["sexual_orientation"]
    assert so["toxic_share"] == 1.0 and so["ratio_to_baseline"] == round(1.0 / round(8 / 18, 6), 4)
    female = web["groups"]["gender/female_pronouns"]
    assert female["toxic_share"] == 0.0
    # PMI(female, nurse) = log2(c(f,n) * N / (c(f) c(n))) = log2(2 * 4 / (2 * 2)) = 1
    assert female["occupations"] == [{"word": "nurse", "pmi": 1.0, "count": 2}]
    assert so["adjectives"] == []  # c(g, stupid) = 1 < min_count
    assert math.isclose(
        finalize_cooccurrence(stats, 5, 1)["web"]["groups"]["sexual_orientation"]["adjectives"][0]["pmi"], 2.0
    )


def test_cooccurrence_with_the_stages_tokens_and_stem_flags_equals_scanning_each_window() -> None:
    from curation.stages.toxicity.terms import tokenize_many

    texts = [
        "She is a nurse", "a cat", "", "the old man and the young women", "first nations and old people",
        "an African\nAmerican doctor", "gay, lesbian and trans people", "nothing at all here", "Muslims!",
    ]
    windows = [(t, i % 3 == 0) for i, t in enumerate(texts)]
    expected = window_cooccurrence(windows, "web", MATCHER, per_window=(want := []))
    got = window_cooccurrence(
        windows, "web", MATCHER, tokenize_many(texts), [False] * len(texts), per_window=(have := [])
    )
    assert got == expected and have == want
    assert any(subs for _, subs in want) and any(not subs for _, subs in want)


def test_bad_list_file_fails_at_build(tmp_path: Path) -> None:
    (tmp_path / "g.yaml").write_text("group: x\nsource: s\nsubgroups: {a: []}\n")
    (tmp_path / "descriptors.yaml").write_text("source: s\n")
    with pytest.raises(ConfigError, match="subgroup"):
        load_bias_lists(str(tmp_path))


def test_stage_and_probe_in_beam_emit_bias_stats(tmp_path: Path) -> None:
    cfg, spec = make_cfg(tmp_path)
    docs = [
        # a long text with one toxic line keeps its text minus that line; a short toxic one is dropped
        doc(f"{CLEAN * 8}Shut up you stupid fucking bitch, said the man.", i="a"),
        doc("Muslims and Christians share the city.", i="b", kind="book"),
        doc("Fuck you, you worthless cunt.", i="c"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with beam.Pipeline(options=fnapi_options()) as p:
            src = p | beam.Create(docs)
            out = src | "Stage" >> build_stage(spec, cfg)
            write_collection(out.stats, folder, "stats")
            write_collection(out.kept, folder, "kept")
            write_collection(out.rejected, folder, "rejected")
            write_collection(out.kept | "After" >> build_probe(spec, cfg), folder, "after")
            write_collection(src | "Before" >> build_probe(spec, cfg), folder, "before")
        stats = dict(read_collection(folder, "stats"))
        kept = {d.id: d for d in read_collection(folder, "kept")}
        rejected = {r.doc.id: r for r in read_collection(folder, "rejected")}
        before = dict(read_collection(folder, "before"))["representation"]
        after = dict(read_collection(folder, "after"))["representation"]
    assert set(kept) == {"a", "b"} and rejected["c"].reason == "toxicity:combined"
    assert kept["a"].text == (CLEAN * 8).rstrip("\n")  # toxic line removed, tokens recounted
    assert 0 < kept["a"].signals["toxicity.identity_toxic_fraction"] < 0.25  # "the man" in a toxic line
    assert kept["a"].token_count == len((CLEAN * 8).split())
    bias = stats["bias"]
    assert bias["web"]["toxic_windows"] == 2 and bias["web"]["groups"]["gender/male"]["toxic_share"] == 1.0
    assert bias["web"]["groups"]["gender/female"]["toxic_share"] == 0.0
    assert before["web"]["docs"] == 2 and after["web"]["docs"] == 1
    assert (
        before["all"]["groups"]["gender"]["mentions"] == 25
        and after["all"]["groups"]["gender"]["mentions"] == 24
    )
    assert after["book"]["groups"]["religion"]["mentions"] == 2


def test_probe_after_the_stage_reuses_its_counts_instead_of_rescanning() -> None:
    from curation.stages.toxicity.bias import doc_representation, load_bias_lists
    from curation.stages.toxicity.transforms import _RepresentationDoFn
    from tests.toxicity.helpers import processor

    lists = load_bias_lists("bias")
    clean = "The old woman and her Muslim neighbour walked to the market.\nThey talked about the weather.\n"
    toxic_line = "Shut up you stupid fucking bitch, said the man."
    scored = processor().scorer.score_batch([doc(clean, i="c"), doc(clean + toxic_line, i="t")])[0]
    fn = _RepresentationDoFn(lists)
    fn.setup()
    matcher = lists.matcher()
    # no span removed: the reused counts equal a full scan of the text
    reused = fn.count(scored[0])
    assert reused["web"] == doc_representation(clean, "web", matcher)["web"]
    # the toxic line ("the man") will be removed: its words and mention are not counted after curation
    after = fn.count(scored[1])
    full = doc_representation(clean + toxic_line, "web", matcher)["web"]
    assert after["web"]["words"] == full["words"] - len(toxic_line.split())
    assert after["web"]["mentions"] == full["mentions"] - 1
    # a document without the stage's signals (the probe before curation) is scanned
    assert fn.count(doc(clean, i="raw"))["web"] == reused["web"]


def test_probe_sums_per_bundle_to_the_per_document_counts(tmp_path) -> None:
    """The probe emits one partial sum per bundle; the combined result equals summing every document."""
    import json

    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from curation.stages.toxicity.bias import add_nested, finalize_representation, load_bias_lists
    from curation.stages.toxicity.transforms import RepresentationProbe, _RepresentationDoFn

    lists = load_bias_lists("bias")
    texts = ["The old woman and her Muslim neighbour walked home.", "A gay couple and a Christian priest.",
             "Nothing about anyone here."]
    docs = [doc(t, i=f"d{i}") for i, t in enumerate(texts * 5)]
    fn = _RepresentationDoFn(lists)
    fn.setup()
    expected: dict = {}
    for d in docs:
        add_nested(expected, fn.count(d))
    out = tmp_path / "rep.json"
    with beam.Pipeline(options=PipelineOptions(["--runner=FnApiRunner"])) as p:
        _ = (
            p
            | beam.Create(docs)
            | RepresentationProbe(lists)
            | beam.Map(lambda kv: out.write_text(json.dumps(kv[1], sort_keys=True)))
        )
    want = json.loads(json.dumps(finalize_representation(expected), sort_keys=True))
    assert json.loads(out.read_text()) == want
