"""Anchored scanning gives exactly the matches of a full ``finditer`` (secrets, SSN, IP recognizers)."""

from __future__ import annotations

import random
import re
import string
import sys

import pytest

from curation.stages.pii import secrets, structured
from curation.stages.pii.scan import FOLD_EXTRA, anchor_positions, anchored_finditer, lowered
from curation.stages.pii.spans import Span, dedupe

#: Pieces of the random texts, '§'-separated: key words in several cases, assignment syntax, quotes, values,
#: digit and IP shapes, and the characters whose case folding changes offsets.
TOKENS = (
    'password§PassWord§db_passwd§PWD§passphrase§pass§secret§SECRET_KEY§token§Tokens§api_key§apiKey§'
    'api.key§access-key§auth_key§private_key§credential§aws_secret_access_key§AWS_SECRET_KEY§=§ = §:§'
    ': §:=§=>§\'§"§`§?§&§://§https://§postgres://§user§@§@db.example.com§ §\n§\t§,§;§(§)§-§.§/§+§_§İ§ı§'
    'ſ§ſecret§paſſword§ToKen§K§0§1§12§123§078§45§6789§123-45-6789§123 45 6789§12345-6789§123456789§'
    '192.168.1.10§10.0.0.1/24§1.2.3§fe80::1§2001:db8::8a2e:370:7334§::§::1§a:b:c:d:e:f:0:1§abcd§ef§v§'
    'version §٣§wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY§Xy9zQ8wV7uT6sR5qP4oN3mL2§'
    '\'Xy9zQ8wV7uT6sR5qP4oN3mL2\'§"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"§aws_secret_access_key=§'
    'AWS_SECRET_KEY: \'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY§secret = §apiToken: §access_key="§'
    "s3cr3tV4lue!§$ecretPa55§${DB_PASS}§None§ || '§process.env.DB_PASSWORD"
).split("§")


def random_texts(n: int, seed: int = 21) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(TOKENS) for _ in range(rng.randint(1, 40))) for _ in range(n)]


def test_fold_extra_lists_every_case_folding_exception() -> None:
    """Every code point that ``(?i)`` matches to an ASCII letter but does not lower to it (or that lowers
    to more than one character) is in FOLD_EXTRA, so ``lowered`` refuses texts containing one."""
    every = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000)
    odd = {c for c in re.findall(r"(?i)[a-z]", every) if c.lower() not in string.ascii_lowercase}
    odd |= {c for c in every if len(c.lower()) != 1}
    assert odd <= set(FOLD_EXTRA)
    assert lowered("Straße ſecret") is None and lowered("İstanbul") is None
    assert lowered("Straße SECRET") == "straße secret"


def test_anchored_finditer_is_finditer_with_overlapping_anchors() -> None:
    rx = re.compile(r"(?i:ab|aba)c+")
    text = "xababaccc abc ABABCC abab"
    anchors = list(anchor_positions(re.compile("ab"), text.lower()))
    assert anchors == [1, 3, 10, 14, 16, 21, 23]
    assert [m.span() for m in anchored_finditer(rx, text, anchors)] == [m.span() for m in rx.finditer(text)]


def _unanchored(rec: secrets.SecretRecognizer) -> secrets.SecretRecognizer:
    plain = secrets.SecretRecognizer(rec.entity, [], min_entropy=rec.min_entropy, min_classes=rec.min_classes,
                                     check_placeholder=rec.check_placeholder)
    plain.patterns = [(rx, score, None) for rx, score, _a in rec.patterns]
    return plain


@pytest.mark.parametrize("use_hyperscan", [True, False])
@pytest.mark.parametrize("factory", [secrets.password, secrets.generic_secret, secrets.aws_secret_access_key])
def test_secret_anchors_find_what_a_full_scan_finds(factory, use_hyperscan: bool,  # type: ignore[no-untyped-def]
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from curation.stages.pii import hints

    if not use_hyperscan:  # the key words' positions from str.lower and str.find
        monkeypatch.setattr(hints, "_starts_db", lambda _words: None)
    rec = factory()
    assert any(a is not None for _rx, _s, a in rec.patterns)
    plain = _unanchored(rec)
    texts = random_texts(3000)
    found = 0
    for text in texts:
        got = [(s.start, s.end, s.score) for s in rec.find(text)]
        assert got == [(s.start, s.end, s.score) for s in plain.find(text)], text
        found += len(got)
    assert found > 20  # the texts exercise the patterns


def _full_scan(patterns: list[tuple[re.Pattern[str], float]], entity: str, text: str,
               invalid) -> list[Span]:  # type: ignore[no-untyped-def]
    return dedupe([Span(entity, m.start(), m.end(), score)
                   for rx, score in patterns for m in rx.finditer(text) if not invalid(m.group())])


def test_ssn_and_ip_anchors_find_what_a_full_scan_finds() -> None:
    ssn, ip = structured.SsnRecognizer(), structured.IpRecognizer()
    counts = [0, 0]
    for text in random_texts(3000, seed=7):
        want = _full_scan(structured._SSN, "US_SSN", text, structured.ssn_invalid)
        assert ssn.find(text) == want, text
        want_ip = [s for s in _full_scan([(rx, 0.6) for rx in structured._IP], "IP_ADDRESS", text,
                                         structured.ip_invalid)
                   if not structured._VERSION_BEFORE.search(text[max(0, s.start - 16) : s.start])]
        assert ip.find(text) == want_ip, text
        counts[0] += len(want)
        counts[1] += len(want_ip)
    assert min(counts) > 20


def test_precheck_hints_equal_their_regular_expressions() -> None:
    """The IP and IBAN pre-check hints, searched from their literal part, agree with the plain patterns."""
    from curation.stages.pii import engine

    ipv4 = re.compile(r"\d\.\d{1,3}\.\d{1,3}\.\d")
    ipv6 = re.compile(r"[0-9A-Fa-f]:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:|::[0-9A-Fa-f]")
    iban = re.compile(r"[A-Z]{2}\d{2} ?[A-Z0-9]{4}")
    rng = random.Random(3)
    alphabet = [*"0123456789abcdefABCDEFGZ:. -x\n٣", "::", "GB", "DE89", "192.168.", "fe80:"]
    hits = [0, 0, 0]
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        want = (ipv4.search(text) is not None, ipv6.search(text) is not None, iban.search(text) is not None)
        got = (engine._ipv4_hint(text), engine._ipv6_hint(text), engine._IBAN_HINT.search(text) is not None)
        assert got == want, text
        hits = [h + w for h, w in zip(hits, want, strict=True)]
    assert min(hits) > 100


def test_name_runs_with_the_look_behind_after_the_first_capital_are_the_old_runs() -> None:
    """``_RUN`` and the firm-list pattern with ``(?<![\\w'’.-])`` moved after the first capital match
    exactly what the patterns with it in front matched."""
    from curation.stages.pii import names

    w, up = names._WORD, names._UP
    old_run = re.compile(rf"(?<![\w'’.-])(?:{w})(?:(?: {names._PARTICLE})? (?:{w})){{0,3}}(?![\w-])")
    one = rf"(?:{w})(?! [{up}])"
    old_list = re.compile(rf"(?<![\w'’.-]){one}(?:, {one})*,? (?:and|&|und) {one}(?![\w-])")
    new_list = names._list_pattern(("and", "&", "und"))
    pieces = ["Anna", "Lee", "McDonald", "O'Brien", "Jean-Luc", "Émile", "van der", "de", " ", ", ", " and ",
              " & ", " und ", "x", "'", "’", ".", "-", "_", "9", "\n", "ÉDITH", "Smith's", "eLee", "Zoë"]
    rng = random.Random(5)
    found = 0
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        assert [m.span() for m in names._RUN.finditer(text)] == [m.span() for m in old_run.finditer(text)]
        assert [m.span() for m in new_list.finditer(text)] == [m.span() for m in old_list.finditer(text)]
        found += sum(1 for _ in new_list.finditer(text))
    assert found > 100


def test_phone_windows_from_their_start_characters_are_the_full_scan_windows() -> None:
    rng = random.Random(11)
    pieces = [*"0123456789 ().-/+x#", "ext.", "a", "_", "\n", "+1 ", "(0)", "٣", "12.34"]
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 40)))
        starts = (m.start() for m in structured._PHONE_START.finditer(text))
        got = [m.span() for m in anchored_finditer(structured._PHONE_WINDOW, text, starts)]
        assert got == [m.span() for m in structured._PHONE_WINDOW.finditer(text)], text


def test_phone_cache_gives_the_same_spans() -> None:
    rec = structured.PhoneRecognizer(("US", "GB", "DE"), ())
    text = "Call +1 415-555-2671 or 030 1234567; fax 415-555-2671. 0 00 00 00 79 00"
    first = rec.find(text)
    assert first and rec.find(text) == first
    small = structured.PhoneRecognizer(("US", "GB", "DE"), ())
    small.CACHE_SIZE = 1  # a full cache is emptied, never wrong
    assert small.find(text) == first and len(small._cache) == 1


def test_truncated_pem_starts_skip_only_blocks_the_pattern_cannot_match() -> None:
    rec = secrets.private_key()
    plain = _unanchored(rec)
    rng = random.Random(13)
    b64 = string.ascii_letters + string.digits + "+/="
    pieces = ["-----BEGIN RSA PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----",
              "-----END RSA PRIVATE KEY-----", "-----END PRIVATE KEY-----",
              "\n", "\r\n", "Proc-Type: 4,ENCRYPTED", " ", "x = 1.", '"""', "'"]
    kinds = [0, 0, 0]
    for _ in range(400):
        parts = []
        for _ in range(rng.randint(1, 14)):
            if rng.random() < 0.5:
                parts.append("\n" + "".join(rng.choice(b64) for _ in range(rng.choice((8, 16, 40, 64)))))
            else:
                parts.append(rng.choice(pieces))
        text = "".join(parts)
        got = [(s.start, s.end, s.score) for s in rec.find(text)]
        assert got == [(s.start, s.end, s.score) for s in plain.find(text)], text
        for _s, _e, score in got:
            kinds[score == 0.9] += 1
        kinds[2] += "BEGIN" in text and not got
    assert min(kinds) > 5  # whole blocks, truncated blocks and no block were all exercised


def test_card_starts_find_what_a_full_scan_finds() -> None:
    rec = structured.CardRecognizer()
    rng = random.Random(17)
    pieces = [*"0123456789 -", "4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005", "٣", "x"]
    found = 0
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        want = dedupe([Span("CREDIT_CARD", m.start(), m.end(), 1.0) for rx in structured._CARD
                       for m in rx.finditer(text)
                       if structured.luhn_ok("".join(c for c in m.group() if c.isdigit()))])
        assert rec.find(text) == want, text
        found += len(want)
    assert found > 200


def test_gazetteer_columns_parse_as_the_line_parser() -> None:
    """nam_dict.txt read column-wise gives the line parser's names, frequencies and order."""
    from curation.stages.pii import gazetteer as names

    text, grid = names._nam_dict()
    assert grid is not None  # the shipped file is a fixed-width table
    for countries in (("great_britain", "ireland", "usa"), ("portugal", "turkey"), names.NAM_DICT_COUNTRIES):
        for min_frequency in (1, 2, 13):
            fast = names.parse_nam_dict(text, countries, min_frequency, grid)
            slow = names.parse_nam_dict_lines(text, countries, min_frequency)
            assert list(fast.items()) == list(slow.items())
    ragged = "# comment\nM  Anna+Lena" + " " * 17 + "1\nF  Zoë" + " " * 24 + "$  5\n"
    assert names.parse_nam_dict(ragged, names.NAM_DICT_COUNTRIES[:4], 1) == names.parse_nam_dict_lines(
        ragged, names.NAM_DICT_COUNTRIES[:4], 1)


def test_address_forward_guard_matches_wherever_a_number_first_layout_does() -> None:
    """The guard (alternation of the number-first patterns' prefixes) never hides a match."""
    from curation.rules import RULES_DIR
    from curation.stages.pii import address, load_stage_rules

    rec = address.AddressRecognizer(load_stage_rules(RULES_DIR / "pii.yaml").addresses)
    plan = rec._plan(rec._languages(None))
    forward = [*plan.ahead, *plan.after, *(f for f, *_rest in plan.back if f is not None)]
    rng = random.Random(23)
    pieces = ["12", "5", "61504", "7a", " bis", ",", " ", "\n", "-3", "/1", "Baker", "Street", "John",
              "Mountain", "rue", "de la", "Paix", "Calle", "Alcalá", "Via", "Roma", "Lindenstraße",
              "Kerkstraat", "Apt.", "x", "(", ")", ".", "12 Baker Street", "61504 John Mountain Apt. 123",
              "5, rue de la Paix", "5 bis avenue Victor Hugo", "9 Glorieta de Atilio Sosa",
              "5/1 Schottinstraße", "3 Via Roma", "12-3 Kerkstraat"]
    hits = 0
    for _ in range(4000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 14)))
        for m in address._HOUSE.finditer(text):
            if any(rx.match(text, m.start()) for rx in forward):
                hits += 1
                assert plan.guard is not None and plan.guard.match(text, m.start()), text
    assert hits > 200


def test_grouped_street_type_alternation_matches_like_the_flat_one() -> None:
    from curation.rules import RULES_DIR
    from curation.stages.pii import address, load_stage_rules

    rules = load_stage_rules(RULES_DIR / "pii.yaml").addresses
    rng = random.Random(29)
    for types in rules.street_types.values():
        words = tuple({*types, *(w.lower() for w in types)})
        flat = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        for fold in (False, True):
            wrap = "(?i:{})" if fold else "(?:{})"
            # a following \b and letter force backtracking into shorter alternatives
            grouped = re.compile(wrap.format(address._alt(words, fold)) + r"(?:\b|[a-z])")
            plain = re.compile(wrap.format(flat) + r"(?:\b|[a-z])")
            pieces = [*words, *(w.upper() for w in words), " ", "x", "s", "."]
            for _ in range(500):
                text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))
                assert [m.span() for m in grouped.finditer(text)] == [m.span() for m in plain.finditer(text)]


def test_grouped_precheck_gives_the_spans_of_separate_jobs() -> None:
    """A conversation's messages pre-checked together first find what each message finds alone."""
    from curation.rules import RULES_DIR
    from curation.stages.pii import load_stage_rules
    from curation.stages.pii.engine import PiiAnalyzer, TextJob

    analyzer = PiiAnalyzer(load_stage_rules(RULES_DIR / "pii.yaml"))

    def key(jobs: list[TextJob]) -> list[list[tuple[str, int, int, float]]]:
        spans_per_job = analyzer.analyze(jobs)[0]
        return [[(s.entity_type, s.start, s.end, s.score) for s in spans] for spans in spans_per_job]

    rng = random.Random(31)
    messages = ["hi there", "mail me at ann.lee@example.org", "call +1 415-555-2671", "my ip is 10.0.0.12",
                "password = 's3cr3tV4lue!'", "SSN 123-45-6789 please", "IBAN DE89370400440532013000", "ok",
                "Anna Schmidt lives at 12 Baker Street", "fe80::1%eth0", "token: 'Xy9zQ8wV7uT6sR5qP4oN3mL2'"]
    for _ in range(200):
        texts = [rng.choice(messages) for _ in range(rng.randint(2, 6))]
        grouped = [TextJob(t, "en", "conversation", True, group=0) for t in texts]
        alone = [TextJob(t, "en", "conversation", True) for t in texts]
        found = key(grouped)
        assert found == key(alone) and any(found)


def test_ascii_digit_patterns_match_like_the_unicode_ones_on_ascii_text() -> None:
    from curation.stages.pii import address, engine

    rng = random.Random(37)
    pieces = [*"0123456789 ().-/,:_x\n", "12345", "1.2", "a1"]
    pairs = [(address._HOUSE, address._HOUSE_ASCII), (engine._DIGIT_RUN, engine._DIGIT_RUN_ASCII)]
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        assert text.isascii()
        for unicode_rx, ascii_rx in pairs:
            want = [m.span() for m in unicode_rx.finditer(text)]
            assert [m.span() for m in ascii_rx.finditer(text)] == want


def test_literal_positions_are_the_anchor_positions_of_the_alternation() -> None:
    from curation.stages.pii.scan import anchor_positions, literal_positions

    rng = random.Random(71)
    words = ("api", "secret", "token", "access", "auth", "private", "credential", "aws", "aa", "a")
    pieces = [*words, "x", " ", "apisecret", "aaa", "tokentoken", "ccess"]
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 25)))
        ws = tuple(rng.sample(words, rng.randint(1, 4)))
        rx = re.compile("|".join(re.escape(w) for w in ws))
        assert literal_positions(ws, text) == list(anchor_positions(rx, text)), (ws, text)


def test_ip_starts_from_dots_and_colons_hold_every_match_start() -> None:
    rng = random.Random(73)
    pieces = ["1", "25", "255", "1234", ".", ":", "::", "fe80", "a", "g", "x", " ", "_", "0db8", "%eth0",
              "/24", "٣", "v", "2001:db8::1", "10.0.0.1", "192.168.1.300"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        pairs = ((structured._IP[0], structured.ipv4_starts), (structured._IP[1], structured.ipv6_starts))
        for rx, starts in pairs:
            got = list(starts(text))
            assert got == sorted(set(got)), text
            # every position a match can start at (overlapping too) is among them
            assert {m.start() for p in range(len(text) + 1) if (m := rx.match(text, p))} <= set(got), text
