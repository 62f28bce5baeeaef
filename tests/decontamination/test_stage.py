"""Stage-level tests: options validation, eval-set reading, path selection, and both Beam paths."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curation.config import PipelineConfig, SourceSpec, StageSpec
from curation.document import Document, Reject, render_messages
from curation.rules import ConfigError
from curation.stages.decontamination import build_stage
from curation.stages.decontamination.evalsets import count_items, read_items
from curation.stages.decontamination.rules import EvalSetSpec
from tests.beam_helpers import fnapi_options, read_collection, write_collection
from tests.decontamination.conftest import CONTEXT, FILLER, QUESTION, SHORT_Q, doc, write_eval_set


def make_cfg(tmp: Path, options: dict, rules_text: str | None = None) -> tuple[StageSpec, PipelineConfig]:
    rules = None
    if rules_text is not None:
        (tmp / "decon.yaml").write_text(rules_text, encoding="utf-8")
        rules = "decon.yaml"
    cfg = PipelineConfig(
        sources=(SourceSpec(kind="web", paths=("x",)),),
        tokenizer="whitespace",
        path=str(tmp / "pipeline.yaml"),
    )
    return StageSpec(name="decontamination", rules=rules, options=options), cfg


def eval_options(**extra: object) -> dict:
    return {
        "eval_sets": [
            {"name": "qa", "path": "qa.jsonl", "fields": ["question", "answer"]},
            {"name": "reading", "path": "reading.jsonl", "fields": ["question"], "format": "jsonl"},
        ],
        **extra,
    }


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({}, "options.eval_sets"),
        ({"eval_sets": [{"name": "qa", "path": "missing.jsonl"}]}, "eval_sets[0].path"),
        ({"eval_sets": [{"name": "qa", "path": "qa.jsonl"}] * 2}, "eval_sets[1].name"),
        ({"eval_sets": [{"name": "a:b", "path": "qa.jsonl"}]}, "eval_sets[0].name"),
        ({"eval_sets": [{"name": "qa", "path": "qa.jsonl", "format": "csv"}]}, "eval_sets[0].format"),
        ({"eval_sets": [{"name": "qa", "path": "qa.jsonl", "fields": []}]}, "eval_sets[0].fields"),
        ({"eval_sets": [{"name": "qa", "path": "qa.jsonl"}], "join_threshold": 5}, "options.join_threshold"),
        (
            {"eval_sets": [{"name": "qa", "path": "qa.jsonl"}], "join_threshold_items": -1},
            "join_threshold_items",
        ),
    ],
)
def test_bad_options_fail_at_build_time_naming_the_key(tmp_path: Path, options: dict, key: str) -> None:
    write_eval_set(tmp_path)
    spec, cfg = make_cfg(tmp_path, options)
    with pytest.raises(ConfigError) as err:
        build_stage(spec, cfg)
    assert key in str(err.value)


def test_bad_rules_fail_at_build_time(tmp_path: Path) -> None:
    write_eval_set(tmp_path)
    spec, cfg = make_cfg(tmp_path, eval_options(), "ngram: {n: 5, min_n: 8}\n")
    with pytest.raises(ConfigError, match="min_n"):
        build_stage(spec, cfg)
    spec, cfg = make_cfg(tmp_path, eval_options(), "action: {default: erase}\n")
    with pytest.raises(ConfigError, match=r"action\.default.*'cut', 'drop'"):
        build_stage(spec, cfg)


def test_path_is_chosen_by_item_count_or_forced(tmp_path: Path) -> None:
    write_eval_set(tmp_path)
    assert not build_stage(*make_cfg(tmp_path, eval_options())).use_join
    assert build_stage(*make_cfg(tmp_path, eval_options(join_threshold_items=2))).use_join  # 3 items > 2
    assert build_stage(*make_cfg(tmp_path, eval_options(force_path="join"))).use_join


def test_read_items_jsonl_and_parquet(tmp_path: Path) -> None:
    p = tmp_path / "e.jsonl"
    p.write_text(
        '{"question": "q one", "answer": ["a", "b"], "context": {"text": ["ctx"]}}\n'
        "not json\n\n"
        '{"id": 7, "question": "q two", "answer": 3}\n',
        encoding="utf-8",
    )
    items = list(read_items(EvalSetSpec("e", str(p))))
    assert [(i.item_id, i.texts) for i in items] == [("0", ("q one", "ctx", "a", "b")), ("7", ("q two", "3"))]
    pq.write_table(pa.table({"id": ["x"], "question": ["pq q"], "other": [1]}), tmp_path / "e.parquet")
    spec = EvalSetSpec("e", str(tmp_path / "e.parquet"))
    assert [(i.item_id, i.texts) for i in read_items(spec)] == [("x", ("pq q",))]
    assert count_items(spec) == 1 and count_items(EvalSetSpec("e", str(p))) == 3


def run_with_stats(stage: beam.PTransform, docs: list[Document]) -> tuple[list, list, dict, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with beam.Pipeline(options=fnapi_options()) as p:
            out = p | "Create" >> beam.Create(docs) | "Stage" >> stage
            for name in ("kept", "rejected", "counts", "stats"):
                write_collection(getattr(out, name), folder, name)
        return (
            read_collection(folder, "kept"),
            read_collection(folder, "rejected"),
            dict(read_collection(folder, "counts")),
            dict(read_collection(folder, "stats")),
        )


def corpus() -> list[Document]:
    msgs = (("user", FILLER), ("bot", SHORT_Q + "?"), ("user", FILLER))
    texts = {
        "verbatim": FILLER + "\n" + QUESTION + "?\n" + FILLER,
        "mangled": FILLER + " " + QUESTION.upper().replace(" ", "\n") + " " + FILLER,
        "mostly-item": "Q: " + QUESTION + "? A: the fog horn.",
        "two-sets": QUESTION + " " + CONTEXT,
        "clean": FILLER,
        "below": FILLER + " " + " ".join(QUESTION.split()[:12]) + " " + FILLER,
    }
    docs = [doc(t, id=k, token_count=len(t.split())) for k, t in texts.items()]
    chat = render_messages(msgs)
    docs.append(doc(chat, kind="conversation", id="chat", messages=msgs, token_count=len(chat.split())))
    return docs


def test_side_input_and_join_paths_give_identical_results_and_stats(tmp_path: Path) -> None:
    write_eval_set(tmp_path)
    results = {}
    for path in ("side_input", "join"):
        stage = build_stage(*make_cfg(tmp_path, eval_options(force_path=path)))
        assert stage.use_join == (path == "join")
        results[path] = run_with_stats(stage, corpus())
    (kept, rejected, counts, stats), (kept_j, rejected_j, counts_j, stats_j) = results.values()

    def key(outs: list) -> list:
        return sorted(
            (o.doc.id, o.reasons, dict(o.doc.signals))
            if isinstance(o, Reject)
            else (o.id, o.text, o.token_count, dict(o.signals))
            for o in outs
        )

    assert key(kept) == key(kept_j) and key(rejected) == key(rejected_j)
    assert {k: v.to_json() for k, v in counts.items()} == {k: v.to_json() for k, v in counts_j.items()}
    assert stats == stats_j

    by_id = {d.id: d for d in kept}
    assert sorted(by_id) == ["below", "chat", "clean", "mangled", "verbatim"]
    assert {r.doc.id: r.reasons for r in rejected} == {
        "mostly-item": ("contaminated:qa",),
        "two-sets": ("contaminated:reading", "contaminated:qa"),
    }
    originals = {d.id: d for d in corpus()}
    # span cutting changed the text and the framework recounted tokens (whitespace tokenizer)
    for i in ("verbatim", "mangled", "chat"):
        assert by_id[i].text != originals[i].text
        assert by_id[i].token_count == len(by_id[i].text.split()) < originals[i].token_count
    assert by_id["clean"] is not None and by_id["clean"].text == FILLER and not by_id["clean"].signals
    web = counts[("decontamination", "web", "und")]
    assert (web.docs_in, web.docs_kept, web.docs_rejected) == (6, 4, 2)
    assert web.tokens_in - web.tokens_out - web.tokens_rejected == sum(
        originals[i].token_count - by_id[i].token_count for i in ("verbatim", "mangled")
    )

    report = stats["contamination"]
    qa = report["eval_sets"]["qa"]
    assert (qa["items"], qa["items_found"]) == (2, 2)
    assert qa["docs_dropped"] == {"web": 2} and qa["docs_cut"] == {"conversation": 1, "web": 2}
    assert report["eval_sets"]["reading"]["items_found"] == 1
    removed_web = sum(originals[i].token_count - by_id[i].token_count for i in ("verbatim", "mangled"))
    dropped_web = originals["mostly-item"].token_count + originals["two-sets"].token_count
    assert report["total"]["tokens_removed"]["web"] == removed_web + dropped_web
    json.dumps(report)  # JSON-serialisable for report/stats/decontamination.json
