"""PII stage: detection and replacement per entity, negatives, modes, density rule, chunks, build errors."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import pytest

from curation.config import PipelineConfig, SourceSpec, StageSpec
from curation.document import Document, Reject, render_messages
from curation.rules import RULES_DIR, ConfigError
from curation.stages.pii import build_stage, decide, load_stage_rules, scrub_snippet
from curation.stages.pii.engine import chunk_spans, precheck
from curation.stages.pii.processor import PiiProcessor
from curation.stages.pii.rules import EntityRule, PiiRules

RULES = load_stage_rules(RULES_DIR / "pii.yaml")
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAy+kaW7H3W8j0s9q0+CFcxWTY9TNfkb3jQx1\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n-----END RSA PRIVATE KEY-----"
)


@pytest.fixture(scope="module")
def proc() -> PiiProcessor:
    p = PiiProcessor(RULES)
    p.setup()
    return p


def with_rules(**changes: object) -> PiiProcessor:
    p = PiiProcessor(dataclasses.replace(RULES, **changes))
    p.setup()
    return p


def doc(text: str, kind: str = "web", **kw: object) -> Document:
    return Document(id="d", source_kind=kind, source="t", text=text, **kw)


def scrub(p: PiiProcessor, text: str, kind: str = "web") -> Document:
    out = p.process(doc(text, kind))
    assert isinstance(out, Document)
    return out


ENTITY_CASES = [
    ("EMAIL_ADDRESS", "Write to jane.roe@gmail.com for details.", "jane.roe@gmail.com"),
    ("PHONE_NUMBER", "Call me at (415) 555-2671 tomorrow.", "555-2671"),
    ("PHONE_NUMBER", "Ruf mich an: +49 30 901820 bitte.", "901820"),
    ("CREDIT_CARD", "My card is 4539 1488 0343 6467, exp 04/27.", "4539 1488 0343 6467"),
    ("US_SSN", "Her SSN is 536-22-8726.", "536-22-8726"),
    ("US_SSN", "Social Security No.: 536228726", "536228726"),
    ("IP_ADDRESS", "The server at 203.0.113.77 did not answer.", "203.0.113.77"),
    ("IP_ADDRESS", "Reachable at 2604:37f6:6a37:ba50:5c2b:6b4a:7d71:ea36 over IPv6.", "2604:37f6"),
    ("IBAN_CODE", "Pay to DE89 3704 0044 0532 0130 00 please.", "DE89 3704"),
    ("AWS_ACCESS_KEY_ID", 'key = "AKIAQSSK4QJ7WXRX5STO"', "AKIAQSSK4QJ7WXRX5STO"),
    ("AWS_SECRET_ACCESS_KEY", 'aws_secret_access_key="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"', "9gskLx5h"),
    ("GITHUB_TOKEN", "token ghp_r04ZmSdo2iW8iniEM1ZsIlcY4EggA1DaLCSS here", "ghp_r04Z"),
    ("SLACK_TOKEN", 'SLACK = "xoxb-2938475610-9182736450-AbCdEfGhIjKlMnOpQrSt"', "xoxb-"),
    ("GENERIC_SECRET", 'api_key = "Zx8f9Q2kLm4Np7Rt1Vw3Yb6Cd"', "Zx8f9Q2k"),
    ("PRIVATE_KEY", f"key:\n{PEM}\nend", "MIIEpAIBAAKCAQEA"),
    ("PASSWORD", 'connect(user="app", password="Football1986$")', "Football1986$"),
    ("PASSWORD", 'DATABASE_URL = "postgresql://app:Monkey391@db.internal:5432/prod"', "Monkey391"),
    ("PASSWORD", "const dsn = \"user=app password=Admin992# host=localhost\"", "Admin992#"),
]


@pytest.mark.parametrize(("entity", "text", "secret"), ENTITY_CASES)
def test_every_entity_detected_and_replaced(proc: PiiProcessor, entity: str, text: str, secret: str) -> None:
    out = scrub(proc, text)
    assert f"<{entity}>" in out.text
    assert secret not in out.text
    assert out.signals[f"pii.count.{entity}"] == 1


NEGATIVES = [
    "Tested with OpenSSL 3.2.3 and Python 3.11.2; build 10.0.19041.1 of version 1.2.3.4.",
    "Released on 2023-09-12 19:57:43.609108, see ISBN 978-5-324-07664-1, chapter 8.",
    "sha1sum 11f652ff2659dbf685c1ec8ff0dd761655662448 and md5 d41d8cd98f00b204e9800998ecf8427e",
    "commit 4b825dc642cb6eb9a060e54bf8d69288fbee4904, uuid 123e4567-e89b-12d3-a456-426614174000",
    "The attribute uses OID 1.3.6.1.4.1.1199.9.98 and CVE-2021-44228.",
    "Tracking number 0506 4505 4462 9987",
    "if t.token_type == 'bare-quoted-string': password = getpass.getpass()",
    "Use std::vector and dead::beef in C++; at 12:30:45 the job ran.",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_negatives_untouched(proc: PiiProcessor, text: str) -> None:
    out = scrub(proc, text)
    assert out.text == text
    assert out.signals["pii.count_total"] == 0


def test_secret_in_code_file(proc: PiiProcessor) -> None:
    code = (
        "import os\n\nAWS_ACCESS_KEY_ID = 'AKIAJEKP5OOW3IO4DE72'\n"
        "const dbPassword = process.env.DB_PASSWORD || 'Secret1388';\n\n"
        "def handler(event):\n    return event['version']  # 1.2.3\n"
    )
    out = scrub(proc, code, kind="code")
    assert "AKIAJEKP5OOW3IO4DE72" not in out.text and "Secret1388" not in out.text
    assert "<AWS_ACCESS_KEY_ID>" in out.text and "<PASSWORD>" in out.text
    assert out.text.endswith("return event['version']  # 1.2.3\n")
    assert out.signals["pii.count_total"] == 2


def test_conversation_scrubbed_per_turn(proc: PiiProcessor) -> None:
    msgs = (("user", "my email is ann.lee@yahoo.com"), ("bot", "thanks!"), ("user", "ip 54.213.26.220"))
    d = Document(id="c", source_kind="conversation", source="t", text=render_messages(msgs), messages=msgs)
    out = proc.process(d)
    assert isinstance(out, Document)
    assert out.messages == (("user", "my email is <EMAIL_ADDRESS>"), ("bot", "thanks!"),
                            ("user", "ip <IP_ADDRESS>"))
    assert out.text == render_messages(out.messages)
    assert out.signals["pii.count.EMAIL_ADDRESS"] == 1 and out.signals["pii.count.IP_ADDRESS"] == 1


def test_chunk_spans_cover_text_with_owned_regions() -> None:
    assert chunk_spans(100, 1024, 256) == chunk_spans(100, 1024, 256)[:1]
    chunks = chunk_spans(10_000, 1024, 256)
    assert chunks[0].own_start == 0 and chunks[-1].own_end == 10_000
    assert all(a.own_end == b.own_start for a, b in itertools.pairwise(chunks))
    assert all(c.start <= c.own_start and c.end >= c.own_end for c in chunks)


def test_entities_on_chunk_borders_found_once() -> None:
    p = with_rules(chunk=dataclasses.replace(RULES.chunk, size=1024, overlap=256))
    filler = "lorem ipsum dolor sit amet " * 40
    borders = 0
    text = ""
    while len(text) < 20_000:
        pad = 1024 * (borders + 1) - len(text) - 8  # the e-mail straddles the next multiple of 1024
        text += filler[:pad] + " bob.smith@example.org " + filler[:100]
        borders += 1
    out = scrub(p, text)
    assert out.signals["pii.count.EMAIL_ADDRESS"] == borders
    assert "bob.smith" not in out.text and out.text.count("<EMAIL_ADDRESS>") == borders


def test_precheck_skips_recognizers_that_cannot_match() -> None:
    assert precheck("plain prose without digits", RULES.pattern_entities) == frozenset()
    need = precheck("mail a@b.co, key AKIAJEKP5OOW3IO4DE72", RULES.pattern_entities)
    assert {"EMAIL_ADDRESS", "AWS_ACCESS_KEY_ID"} <= need and "CREDIT_CARD" not in need


@pytest.mark.parametrize(("text", "needed"), [
    ("We passed the compass on the passage.", False),  # "pass" in prose is no password key
    ("db_password = 'hunter22'", True),
    ("PASSWD=s3cret!", True),
    ("export PWD_FILE=x", True),
    ("the passphrase: 'open sesame'", True),
    ("postgres://bob:pa55@db.example.com/x", True),  # URL credentials need no key word
])
def test_precheck_password_key_words(text: str, needed: bool) -> None:
    assert ("PASSWORD" in precheck(text, RULES.pattern_entities)) is needed


def test_email_search_from_each_at_equals_the_plain_pattern() -> None:
    import random

    from curation.stages.pii.structured import _EMAIL, email_matches

    rng = random.Random(17)
    texts = ["a@b.com.x@y.com", "@property\ndef f(): mail bob@example.org", "x:@@a@b.co a@ b@c.de",
             "émile.zola@paris.fr, é@x.fr", "user:pw@host.com and (me+tag@mail.example.co.uk)."]
    texts += ["".join(rng.choice("ab.@-_1 :é+\n") for _ in range(rng.randint(1, 30))) for _ in range(3000)]
    for text in texts:
        assert [m.span() for m in email_matches(text)] == [m.span() for m in _EMAIL.finditer(text)], text


def _mode(mode: str, entity: str) -> PiiProcessor:
    ents = dict(RULES.entities)
    ents[entity] = EntityRule(mode=mode)  # type: ignore[arg-type]
    return with_rules(entities=ents)


def test_mode_mask() -> None:
    out = scrub(_mode("mask", "CREDIT_CARD"), "card 4539 1488 0343 6467 ok")
    assert out.text == "card ***************6467 ok"


def test_mode_hash_is_salted_and_stable() -> None:
    p = _mode("hash", "EMAIL_ADDRESS")
    a = scrub(p, "a: x.y@gmail.com b: x.y@gmail.com c: z.w@gmail.com").text
    tokens = a.replace("a: ", "").replace(" b: ", "|").replace(" c: ", "|").split("|")
    assert tokens[0] == tokens[1] != tokens[2] and tokens[0].startswith("<EMAIL_ADDRESS:")
    assert scrub(_mode("hash", "EMAIL_ADDRESS"), "a: x.y@gmail.com").text.split(" ")[1] == tokens[0]
    other_salt = dataclasses.replace(p.rules.hash, salt="another-salt-1234567")
    salted = PiiProcessor(dataclasses.replace(p.rules, hash=other_salt))
    salted.setup()
    assert scrub(salted, "a: x.y@gmail.com").text.split(" ")[1] != tokens[0]


def test_mode_swap_uses_reserved_examples() -> None:
    p = _mode("swap", "IP_ADDRESS")
    out = scrub(p, "public 54.213.26.220 private 192.168.1.20").text
    assert out.startswith("public 192.0.2.") and out.endswith("private 192.168.1.20")
    e = scrub(_mode("swap", "EMAIL_ADDRESS"), "mail ann.lee@yahoo.com").text
    assert e.startswith("mail user-") and e.endswith("@example.com")


def test_density_drop_fires_and_does_not_fire(proc: PiiProcessor) -> None:
    dump = "\n".join(f"SSN {n}-22-8726 card 4539 1488 0343 6467" for n in range(531, 537))
    rej = proc.process(doc(dump))
    assert isinstance(rej, Reject) and rej.reason == "pii_density" and rej.stage == "pii"
    assert rej.doc.signals["pii.count.US_SSN"] == 6
    one = proc.process(doc("Her SSN is 536-22-8726. " + "A long ordinary paragraph. " * 20))
    assert isinstance(one, Document) and "<US_SSN>" in one.text
    # The same rule from stored signals (what-if protocol).
    assert decide({"pii.count.US_SSN": 6, "pii.chars": 240}, RULES) == ("pii_density",)
    assert decide({"pii.count.US_SSN": 6, "pii.chars": 100_000}, RULES) == ()
    assert decide({"pii.count.EMAIL_ADDRESS": 60, "pii.chars": 240}, RULES) == ()  # replace-mode entity


def _cfg(tmp_path: Path, body: str) -> tuple[StageSpec, PipelineConfig]:
    rules = tmp_path / "pii.yaml"
    rules.write_text(body)
    cfg = PipelineConfig(sources=(SourceSpec(kind="web", paths=("x",)),), path=str(tmp_path / "p.yaml"))
    return StageSpec(name="pii", rules=str(rules)), cfg


def test_build_time_error_names_unsupported_entity(tmp_path: Path) -> None:
    spec, cfg = _cfg(tmp_path, "entities:\n  EMAIL_ADDRESS: {}\n  DRIVER_LICENSE: {mode: replace}\n")
    with pytest.raises(ConfigError, match=r"DRIVER_LICENSE.*allowed entities: .*EMAIL_ADDRESS"):
        build_stage(spec, cfg)
    spec, cfg = _cfg(tmp_path, "entities:\n  CREDIT_CARD: {mode: swap}\n")
    with pytest.raises(ConfigError, match="swap"):
        build_stage(spec, cfg)
    spec, cfg = _cfg(tmp_path, "entities:\n  EMAIL_ADDRESS: {}\n")
    bad = dataclasses.replace(spec, options={"nerr": True})
    with pytest.raises(ConfigError, match="unknown option"):
        build_stage(bad, cfg)
    assert build_stage(spec, cfg).processor.rules.entities == {"EMAIL_ADDRESS": EntityRule()}


def test_scrub_snippet() -> None:
    assert scrub_snippet("ping bob@corp.com from 8.8.8.8") == "ping <EMAIL_ADDRESS> from <IP_ADDRESS>"
    assert scrub_snippet("nothing here") == "nothing here"


def test_bad_document_becomes_pii_error_reject(proc: PiiProcessor, monkeypatch: pytest.MonkeyPatch) -> None:
    p = PiiProcessor(RULES)
    p._analyzer, p._anonymizer = proc._analyzer, proc._anonymizer
    real = proc._anonymizer.apply  # type: ignore[union-attr]

    def boom(text: str, results: list) -> str:
        if "boom" in text:
            raise ValueError("broken")
        return real(text, results)

    monkeypatch.setattr(p._anonymizer, "apply", boom)
    out = p.process_batch([doc("boom a@gmail.com"), doc("ok a@gmail.com")])
    assert isinstance(out[0], Reject) and out[0].reason == "pii_error" and "broken" in (out[0].error or "")
    assert isinstance(out[1], Document) and out[1].text == "ok <EMAIL_ADDRESS>"


def test_person_scrubbed_by_default_and_not_in_code_identifiers(proc: PiiProcessor) -> None:
    out = proc.process(doc("Yesterday Jeffrey Williams signed the contract in Boston.", lang="en"))
    assert isinstance(out, Document)
    assert out.text == "Yesterday <PERSON> signed the contract in Boston."
    assert out.signals["pii.names"] is True and out.signals["pii.spans"] == ["PERSON 10 26"]
    code = proc.process(doc("class Williams: pass", kind="code"))
    assert isinstance(code, Document) and code.text == "class Williams: pass"
    book = proc.process(doc("Elizabeth Bennet smiled.", kind="book"))
    assert isinstance(book, Document) and book.signals["pii.names"] is False


def test_rules_defaults_are_valid() -> None:
    assert isinstance(RULES, PiiRules) and RULES.names.enabled and RULES.names_on
    assert RULES.threshold("US_SSN") == 0.4 and RULES.threshold("EMAIL_ADDRESS") == RULES.score_threshold


def test_beam_stage_strips_cost_signals_and_accounts(tmp_path: Path) -> None:
    from tests.beam_helpers import run_stage

    spec, cfg = _cfg(tmp_path, (RULES_DIR / "pii.yaml").read_text())
    stage = build_stage(spec, dataclasses.replace(cfg, tokenizer="whitespace"))
    dump = "\n".join(f"SSN {n}-22-8726" for n in range(531, 540))
    docs = [doc("mail ann.lee@yahoo.com now"), dataclasses.replace(doc(dump), id="dump"), doc("clean text")]
    kept, rejected, counts = run_stage(stage, docs)
    assert sorted(d.text for d in kept) == ["clean text", "mail <EMAIL_ADDRESS> now"]
    assert [r.reason for r in rejected] == ["pii_density"]
    assert not any(k.startswith("pii._") for d in kept for k in d.signals)
    assert not any(k.startswith("pii._") for k in rejected[0].doc.signals)
    web = counts[("pii", "web", "und")]
    assert (web.docs_in, web.docs_kept, web.docs_rejected) == (3, 2, 1)


def test_stats_summary_has_entities_and_cost_line() -> None:
    from curation.stages.pii import summarize

    tally = {"docs": 3.0, "chars": 2e6, "entities.EMAIL_ADDRESS": 2.0, "cost.pattern_ms": 1000.0}
    stats = dict(summarize(tally))
    assert stats["entities"] == {"EMAIL_ADDRESS": 2}
    assert stats["cost"]["pattern_mchars_per_s"] == 2.0 and stats["cost"]["ner_mchars_per_s"] is None
