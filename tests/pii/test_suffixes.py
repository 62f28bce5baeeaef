"""The e-mail domain check without tldextract gives tldextract's answer (``fqdn`` non-empty)."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

from curation.stages.pii.structured import email_matches
from curation.stages.pii.suffixes import PublicSuffixes, snapshot_path

tldextract = pytest.importorskip("tldextract")

DEV = Path(__file__).resolve().parents[3] / "shared" / "data" / "eval-dev"


@pytest.fixture(scope="module")
def both() -> tuple[PublicSuffixes, object]:
    ext = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
    return PublicSuffixes.bundled(), ext


def _suffixes() -> list[str]:
    text = snapshot_path().read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("//")]


def test_generated_addresses_agree_with_tldextract(both) -> None:  # type: ignore[no-untyped-def]
    ours, ext = both
    rng = random.Random(21)
    rules = _suffixes()  # public and private, wildcards (*.ck) and exceptions (!www.ck)
    locals_ = ["a", "j.doe", "x/y", "a//b", "http://u", "mailto:x", "q?r", "h#t", "u:p", "[::1]", "a@b"]
    hosts = ["example", "www", "b", "xn--80ak6aa92e", "XN--P1AI", "", "192.168.0.1", "a..b", "EXAMPLE"]
    cases = 0
    for rule in rules:
        suffix = rule.lstrip("!").replace("*", rng.choice(["x", "www", "kawasaki"]))
        for _ in range(2):
            parts = [rng.choice(hosts) for _ in range(rng.randint(0, 2))]
            domain = ".".join([*parts, suffix.upper() if rng.random() < 0.2 else suffix])
            tail = rng.choice(["", ".", "\u3002", ":25", "/path", "]"])
            url = f"{rng.choice(locals_)}@{domain}{tail}"
            assert ours.has_registered_domain(url) == bool(ext(url).fqdn), url
            cases += 1
    for url in ["a@[::1]", "a@1.2.3.4", "a@localhost", "a@com", "a@.com", "a@b.com.", "a@xn--zz.com"]:
        assert ours.has_registered_domain(url) == bool(ext(url).fqdn), url
    assert cases > 10000


@pytest.mark.skipif(not DEV.exists(), reason="dev data not available")
def test_dev_e_mail_candidates_agree_with_tldextract(both) -> None:  # type: ignore[no-untyped-def]
    ours, ext = both
    seen = 0
    for name in ("pii/examples.jsonl.gz", "corpus/web.jsonl.gz", "corpus/code.jsonl.gz",
                 "corpus/conversation.jsonl.gz"):
        with gzip.open(DEV / name, "rt", encoding="utf-8") as fh:
            for line in fh:
                text = json.loads(line)["text"]
                for m in email_matches(text):
                    assert ours.has_registered_domain(m.group()) == bool(ext(m.group()).fqdn), m.group()
                    seen += 1
    assert seen > 100
