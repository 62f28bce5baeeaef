"""Issue 19/21: the prebuilt, checked license index; license texts found by content whatever the file is
called; manifests without a path; code records without a path tagged through the reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.config import Limits, PipelineConfig, SourceSpec, StageSpec
from curation.document import Document, Reject
from curation.io import Shard, read_shard
from curation.rules import ConfigError
from curation.stages.license import build_stage
from curation.stages.license.code import metadata_expression
from curation.stages.license.index import (
    LicenseIndexError,
    check_index,
    index_dir,
    load_index,
)
from curation.stages.license.kb import main as kb_main
from curation.stages.license.rules import LicenseRules
from curation.stages.license.stage import LicenseProcessor
from tests.license.conftest import REPO, code_doc, comment, reference_text

BODY = (
    "\n\ndef add(a, b):\n    return a + b\n\n\nclass Box:\n    def __init__(self, v):\n        self.v = v\n"
)


def tag(proc: LicenseProcessor, doc: Document) -> Document:
    out = proc.process(doc)
    return out.doc if isinstance(out, Reject) else out


def test_index_loads_to_the_same_matcher_as_an_in_memory_build(license_models: Path, proc: LicenseProcessor,
                                                                 rules: LicenseRules) -> None:
    kb, matcher = load_index(index_dir(license_models), rules.text_match)
    built = proc.detector.matcher
    assert built is not None
    for name in ("apache-2.0.LICENSE", "bsd-new.LICENSE", "gpl-2.0.LICENSE", "mit.LICENSE"):
        text = reference_text(name)
        assert matcher.match(text) == built.match(text)
    assert kb.scancode_category("MIT") == "Permissive"
    assert not matcher.keys.flags.writeable  # memory-mapped read-only, shared by the worker processes
    indexed = LicenseProcessor(rules, str(index_dir(license_models)))
    doc = code_doc(reference_text("isc.LICENSE"), path=None)
    assert tag(indexed, doc).license == tag(proc, doc).license == "ISC"


def test_missing_or_stale_index_fails_naming_the_command(tmp_path: Path, license_models: Path,
                                                          rules: LicenseRules) -> None:
    with pytest.raises(LicenseIndexError, match=r"missing.*curation\.stages\.license\.kb build --dest"):
        check_index(index_dir(tmp_path), rules.text_match)
    stale = tmp_path / "stale" / "license_index"
    stale.mkdir(parents=True)
    meta = json.loads((index_dir(license_models) / "meta.json").read_text())
    meta["fingerprint"]["licensedcode_data"] = "0.0.1"
    (stale / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(LicenseIndexError, match=r"stale.*rebuild"):
        check_index(stale, rules.text_match)
    check_index(index_dir(license_models), rules.text_match)  # the fresh one passes
    assert kb_main(["check", "--dest", str(license_models)]) == 0
    assert kb_main(["check", "--dest", str(tmp_path)]) == 1
    # at pipeline build time: a ConfigError naming file, key and the command; `missing: build` opts out
    cfg = PipelineConfig(sources=(SourceSpec(kind="code", paths=("x",)),), path=str(tmp_path / "p.yaml"),
                         models_dir=str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match=r"license\.yaml: key 'index'.*kb build --dest"):
        build_stage(StageSpec(name="license", rules=str(REPO / "rules" / "license.yaml")), cfg)
    lenient = tmp_path / "license.yaml"
    lenient.write_text("index:\n  missing: build\n")
    assert build_stage(StageSpec(name="license", rules=str(lenient)), cfg).index_path is None
    lenient.write_text("index:\n  missing: maybe\n")
    with pytest.raises(ConfigError, match="missing"):
        build_stage(StageSpec(name="license", rules=str(lenient)), cfg)


@pytest.mark.parametrize("path", [None, "licenses/7f3a.txt", "docs/terms.md", "LICENSE"])
def test_full_license_text_is_matched_whole_whatever_the_file_is_called(proc: LicenseProcessor,
                                                                          path: str | None) -> None:
    lang = {None: None, "licenses/7f3a.txt": "Text", "docs/terms.md": "Markdown", "LICENSE": "license-text"}
    doc = code_doc(reference_text("gpl-3.0.LICENSE"), path=path, code_language=lang[path])
    out = tag(proc, doc)
    assert out.license == "GPL-3.0-only"
    assert out.license_evidence == ("license_file" if path == "LICENSE" else "license_text")


def test_source_files_keep_the_first_comment_block_rule(proc: LicenseProcessor) -> None:
    # a long license header followed by code: the tail probe reads as code, so only the header counts
    text = comment(reference_text("mit.LICENSE")) + BODY * 60
    assert not proc.detector.reads_like_license(text)  # head reads as license, tail as code
    assert proc.detector.reads_like_license(reference_text("mit.LICENSE") * 4)
    assert tag(proc, code_doc(text, path=None)).license == "MIT"  # from the first comment block
    # a license quoted in a string constant of a Python file is no grant, even when it is most of the file
    quoted = "import os\n\nMIT_TEXT = '''\n" + reference_text("mit.LICENSE") + "\n'''\n"
    out = tag(proc, code_doc(quoted, path=None, code_language="Python"))
    assert out.license == "NOASSERTION"
    assert not proc.detector.reads_like_license(BODY * 20)


def test_manifests_without_path_are_read_by_shape_even_when_generated() -> None:
    cargo = (
        "# THIS FILE IS AUTOMATICALLY GENERATED BY CARGO\n#\n\n[package]\nname = \"x\"\n"
        "version = \"1.0.0\"\nlicense = \"MIT OR Apache-2.0\"\n"
    )
    pkg = '{\n  "name": "x",\n  "version": "1.0.0",\n  "license": "MIT"\n}\n'
    assert metadata_expression(cargo, None, ("Cargo.toml",)) == "MIT OR Apache-2.0"
    assert metadata_expression(pkg, None, ("package.json",)) == "MIT"
    data = '{\n  "license": "MIT",\n  "rows": [1, 2]\n}\n'  # a JSON record with a license key is no manifest
    assert metadata_expression(data, None, ("package.json",)) is None


def test_code_records_without_path_are_tagged_through_the_reader(
    tmp_path: Path, proc: LicenseProcessor
) -> None:
    rows = [
        {"id": "full", "text": reference_text("bsd-new.LICENSE")},
        {"id": "manifest", "text": '{\n  "name": "x",\n  "version": "1.0.0",\n  "license": "ISC"\n}\n',
         "language": "JSON"},
        {"id": "plain", "text": "def f():\n    return 1\n" * 5, "language": "Python"},
    ]
    shard_file = tmp_path / "code.jsonl"
    shard_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    shard = Shard(
        source="s", kind="code", path=str(shard_file), format="jsonl", license=None, rel="code.jsonl"
    )
    docs = [d for d in read_shard(shard, Limits()) if isinstance(d, Document)]
    assert len(docs) == 3 and all(d.path is None for d in docs)
    got = {(d.meta or {}).get("source_id") or (d.meta or {}).get("id"): tag(proc, d).license for d in docs}
    assert got == {"full": "BSD-3-Clause", "manifest": "ISC", "plain": "NOASSERTION"}


def test_loaded_refs_build_records_on_access_like_a_list() -> None:
    from curation.stages.license.kb import RuleText
    from curation.stages.license.textmatch import _LoadedRefs

    refs = _LoadedRefs(["a", "b", "c"], ["text", "notice", "false_positive"], [0, 80, 0])
    eager = [RuleText("a", "", "text", "", 100, 0), RuleText("b", "", "notice", "", 100, 80),
             RuleText("c", "", "false_positive", "", 100, 0)]
    assert len(refs) == 3
    assert list(refs) == eager
    assert refs[-1] == eager[-1] and refs[1:] == eager[1:]
    assert refs[1] is refs[1]  # made once
    with pytest.raises(IndexError):
        refs[3]


def test_hits_are_the_nonzero_bincount_of_the_shingle_pairs(proc: LicenseProcessor) -> None:
    """TextMatcher._hits equals the dense form it replaced (bincount over every reference, flatnonzero):
    the same references in the same order, the same counts and dtypes; reference texts, a notice, code and
    an empty query."""
    import numpy as np

    m = proc.detector.matcher
    assert m is not None

    def dense(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        left = np.searchsorted(m.keys, q, side="left")
        right = np.searchsorted(m.keys, q, side="right")
        lengths = right - left
        left, lengths = left[lengths > 0], lengths[lengths > 0]
        starts = np.repeat(left - np.cumsum(lengths) + lengths, lengths)
        idx = np.arange(int(lengths.sum()), dtype=np.int64) + starts
        counts = np.bincount(m.vals[idx], minlength=len(m.refs))
        nz = np.flatnonzero(counts)
        return nz, counts[nz]

    texts = [reference_text(n) for n in ("apache-2.0.LICENSE", "mit.LICENSE", "gpl-2.0.LICENSE")]
    texts += [comment(reference_text("isc.LICENSE")) + BODY, BODY, "", "zzqx unknown words only"]
    for text in texts:
        q = m.query_shingles(text)
        for part in (q, q[::3], q[:1]):
            nz, c = m._hits(part)
            want_nz, want_c = dense(part)
            assert nz.tolist() == want_nz.tolist() and c.tolist() == want_c.tolist()
            assert c.dtype == want_c.dtype
