"""Policy (categories, rejection reasons, what-if), rules validation, stats and the Beam stage."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from curation.config import PipelineConfig, SourceSpec, StageSpec
from curation.document import Document, Reject
from curation.rules import ConfigError
from curation.stages import registry
from curation.stages.license import build_stage, decide, load_stage_rules
from curation.stages.license.policy import Categorizer, canonical, expression_category, policy_reasons
from curation.stages.license.rules import LicenseRules
from curation.stages.license.stage import (
    LicenseProcessor,
    LicenseStage,
    LicenseStatsFn,
    merge_repo_licenses,
    stats_row,
)
from tests.beam_helpers import run_stage
from tests.license.conftest import REPO, code_doc, reference_text


def test_expression_categories(rules: LicenseRules) -> None:
    cat = Categorizer(rules.categories)
    c = rules.categories
    assert expression_category("MIT OR GPL-3.0-only", cat, c) == "permissive"  # OR: most permissive
    assert expression_category("MIT AND GPL-3.0-only", cat, c) == "strong_copyleft"  # AND: most restrictive
    assert expression_category("GPL-2.0-only WITH Classpath-exception-2.0", cat, c) == "strong_copyleft"
    assert expression_category("CC-BY-NC-SA-4.0", cat, c) == "non_commercial"
    assert expression_category("CC-BY-SA-3.0", cat, c) == "weak_copyleft"
    assert expression_category("CC-BY-ND-4.0", cat, c) == "no_derivatives"
    assert expression_category("CC0-1.0", cat, c) == "public_domain"
    assert expression_category("NOASSERTION", cat, c) == "unknown"


def test_policy_rejects_noncommercial_and_respects_or_and(rules: LicenseRules) -> None:
    cat = Categorizer(rules.categories)
    p = rules.policy
    assert policy_reasons("CC-BY-NC-4.0", cat, p) == ("license:CC-BY-NC-4.0",)
    assert policy_reasons("CC-BY-NC-4.0 OR MIT", cat, p) == ()  # the permissive alternative may be chosen
    assert policy_reasons("MIT AND CC-BY-NC-SA-4.0", cat, p) == ("license:CC-BY-NC-SA-4.0",)
    assert policy_reasons("MIT", cat, p) == ()
    assert policy_reasons("NOASSERTION", cat, p) == ()
    strict = dataclasses.replace(p, deny=("GPL-3.0-only",), reject_noassertion=True)
    assert policy_reasons("GPL-3.0-only", cat, strict) == ("license:GPL-3.0-only",)
    assert policy_reasons("NOASSERTION", cat, strict) == ("license:NOASSERTION",)
    allow = dataclasses.replace(p, allow=("CC-BY-NC-4.0",))
    assert policy_reasons("CC-BY-NC-4.0", cat, allow) == ()


def test_processor_rejects_with_license_reason(proc: LicenseProcessor) -> None:
    html = '<a rel="license" href="https://creativecommons.org/licenses/by-nc/4.0/">CC BY-NC</a>'
    rej = proc.process(Document(id="w", source_kind="web", source="s", text="Article.", html=html))
    assert isinstance(rej, Reject) and rej.stage == "license" and rej.reason == "license:CC-BY-NC-4.0"
    assert rej.doc.license == "CC-BY-NC-4.0" and rej.doc.signals["license.category"] == "non_commercial"
    assert rej.doc.signals["license.category_rank"] == 5
    kept = proc.process(
        Document(id="w2", source_kind="web", source="s", text="Article.", html=html.replace("by-nc", "by"))
    )
    assert isinstance(kept, Document) and kept.license == "CC-BY-4.0"


def test_what_if_decide_from_stored_signals(rules: LicenseRules, proc: LicenseProcessor) -> None:
    out = proc.process(code_doc("# SPDX-License-Identifier: GPL-3.0-only\nx = 1\n"))
    assert isinstance(out, Document)
    assert decide(out.signals, rules, "code") == ()
    stricter = dataclasses.replace(
        rules, policy=dataclasses.replace(rules.policy, deny_categories=("strong_copyleft",))
    )
    assert decide(out.signals, stricter, "code") == ("license:GPL-3.0-only",)
    no_files = dataclasses.replace(rules, code=dataclasses.replace(rules.code, keep_license_files=False))
    lic = proc.process(code_doc(reference_text("mit.LICENSE"), path="LICENSE"))
    assert isinstance(lic, Document) and lic.signals["license.is_license_file"] is True
    assert decide(lic.signals, no_files, "code") == ("license_file",)
    assert decide(lic.signals, rules, "code") == ()


def test_rules_file_loads_and_bad_rules_fail_at_build(tmp_path: Path, license_models: Path) -> None:
    rules = load_stage_rules(REPO / "rules" / "license.yaml")
    assert rules.policy.deny_categories == ("non_commercial", "proprietary")
    bad = tmp_path / "license.yaml"
    bad.write_text("policy:\n  deny_categories: [nonsense]\n")
    cfg = PipelineConfig(
        sources=(SourceSpec(kind="code", paths=("x",)),), path=str(tmp_path / "p.yaml"),
        models_dir=str(license_models),
    )
    with pytest.raises(ConfigError, match="nonsense"):
        build_stage(StageSpec(name="license", rules=str(bad)), cfg)
    bad.write_text("precedence:\n  code: [identifier, telepathy]\n")
    with pytest.raises(ConfigError, match="telepathy"):
        build_stage(StageSpec(name="license", rules=str(bad)), cfg)
    good = build_stage(StageSpec(name="license", rules=str(REPO / "rules" / "license.yaml")), cfg)
    assert isinstance(good, LicenseStage)


def test_canonical_expressions() -> None:
    assert canonical("mit or apache-2.0") == "MIT OR Apache-2.0"
    assert canonical("LicenseRef-PublicDomain") == "LicenseRef-PublicDomain"
    assert (
        canonical("GPL-2.0+ WITH Classpath-exception-2.0") == "GPL-2.0-or-later WITH Classpath-exception-2.0"
    )
    assert canonical("MIT AND (") is None


def test_repo_license_merge_is_ordered_and_anded() -> None:
    assert merge_repo_licenses([("LICENSE", "MIT")]) == ("MIT", ("LICENSE",))
    expr, paths = merge_repo_licenses([("LICENSE-MIT", "MIT"), ("LICENSE-APACHE", "Apache-2.0")])
    assert expr == "Apache-2.0 AND MIT" and paths == ("LICENSE-APACHE", "LICENSE-MIT")


def test_stats_combine() -> None:
    fn = LicenseStatsFn()
    a = Document(
        id="a",
        source_kind="code",
        source="s",
        text="x",
        token_count=5,
        signals={"license.spdx": "MIT", "license.category": "permissive"},
    )
    b = Document(
        id="b",
        source_kind="web",
        source="s",
        text="x",
        token_count=7,
        signals={"license.spdx": "CC-BY-NC-4.0", "license.category": "non_commercial"},
    )
    acc1 = fn.add_input(fn.create_accumulator(), stats_row(a))
    acc2 = fn.add_input(
        fn.create_accumulator(), stats_row(Reject(doc=b, stage="license", reason="license:CC-BY-NC-4.0"))
    )
    out = fn.extract_output(
        fn.merge_accumulators([acc1, acc2, fn.add_input(fn.create_accumulator(), stats_row(a))])
    )
    assert out["code"]["by_license"]["MIT"] == {
        "docs_kept": 2,
        "tokens_kept": 10,
        "docs_rejected": 0,
        "tokens_rejected": 0,
    }
    assert out["web"]["by_category"]["non_commercial"]["tokens_rejected"] == 7


def test_beam_stage_repo_license_propagation(rules: LicenseRules) -> None:
    """One small FnApiRunner run: LICENSE file -> repo default; own evidence wins; policy; Gutenberg strip."""
    mit = reference_text("mit.LICENSE")
    docs = [
        code_doc(mit, path="LICENSE", repo="acme").evolve(id="lic"),
        code_doc("def f():\n    return 1\n", path="acme/a.py", repo="acme").evolve(id="a"),
        code_doc("# SPDX-License-Identifier: Apache-2.0\nx = 1\n", path="acme/b.py", repo="acme").evolve(
            id="b"
        ),
        code_doc("def g():\n    return 2\n", path="other/c.py", repo="other").evolve(id="c"),
        Document(id="w", source_kind="web", source="s", text="Article. Licensed under CC BY-NC-SA 4.0."),
        Document(
            id="bk",
            source_kind="book",
            source="s",
            token_count=999,
            text=(
                "The Project Gutenberg eBook of X\n\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\n"
                "Call me Ishmael.\n*** END OF THE PROJECT GUTENBERG EBOOK X ***\nLicense boilerplate here.\n"
            ),
        ),
    ]
    kept, rejected, counts = run_stage(LicenseStage(rules, tokenizer="whitespace", batch_size=2), docs)
    by_id = {d.id: d for d in kept}
    assert (by_id["a"].license, by_id["a"].license_evidence) == ("MIT", "repo_default")
    assert by_id["a"].signals["license.repo_license_files"] == ["LICENSE"]
    assert (by_id["b"].license, by_id["b"].license_evidence) == ("Apache-2.0", "identifier")
    assert (by_id["lic"].license, by_id["lic"].license_evidence) == ("MIT", "license_file")
    assert by_id["c"].license == "NOASSERTION"  # another repo: no propagation
    assert by_id["bk"].text == "Call me Ishmael." and by_id["bk"].token_count == 3  # stripped + recounted
    assert [(r.doc.id, r.reason) for r in rejected] == [("w", "license:CC-BY-NC-SA-4.0")]
    web = counts[("license", "web", "und")]
    assert (web.docs_in, web.docs_rejected) == (1, 1)
    assert counts[("license", "code", "und")].docs_kept == 4


@pytest.mark.parametrize("drop_html", [True, False])
def test_beam_stage_tags_from_html_then_drops_it_when_asked(rules: LicenseRules, drop_html: bool) -> None:
    """Web pages take the direct branch (no wait for the repo map): the CC link in the HTML is found; the
    HTML leaves with the kept document only if no later stage or the output needs it."""
    page = '<html><body><p>Text.</p><a rel="license" href="https://creativecommons.org/licenses/by/4.0/">CC</a>'
    docs = [
        Document(id="w", source_kind="web", source="s", text="Text.", html=page + "</body></html>"),
        code_doc("def f():\n    return 1\n", path="acme/a.py", repo="acme").evolve(id="a", html="<p>x</p>"),
    ]
    stage = LicenseStage(rules, tokenizer="whitespace", drop_html=drop_html)
    kept, rejected, _ = run_stage(stage, docs)
    by_id = {d.id: d for d in kept}
    assert rejected == [] and by_id["w"].license == "CC-BY-4.0"
    assert (by_id["w"].html is None, by_id["a"].html is None) == (drop_html, drop_html)


def test_build_stage_drops_html_only_if_nothing_after_needs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, license_models: Path
) -> None:
    spec = StageSpec(name="license", rules=str(REPO / "rules" / "license.yaml"))
    later = StageSpec(name="dedup", rules="dedup.yaml")
    base = PipelineConfig(
        sources=(SourceSpec(kind="web", paths=("x",)),), stages=(spec, later), path=str(tmp_path / "p.yaml"),
        models_dir=str(license_models),
    )
    assert build_stage(spec, base).drop_html is True
    keep = dataclasses.replace(base, output=dataclasses.replace(base.output, keep_html=True))
    assert build_stage(spec, keep).drop_html is False
    # a later stage that reads the HTML keeps it alive past the license stage
    html_dedup = dataclasses.replace(registry.STAGES["dedup"], uses_html=True)
    monkeypatch.setitem(registry.STAGES, "dedup", html_dedup)
    assert build_stage(spec, base).drop_html is False
