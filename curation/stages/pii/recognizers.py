"""Presidio recognizers for the PII stage: presidio's own where they fit, plus offline and code-secret ones.

* Presidio's predefined recognizers are used for US_SSN, IBAN_CODE (mod-97) and CREDIT_CARD (Luhn) with
  wider card patterns (Mastercard 2-series, Amex 4-6-5 grouping), IP_ADDRESS with stricter boundaries (a
  four-part version or an OID prefix is not an address), EMAIL_ADDRESS validated against tldextract's
  *bundled* public-suffix snapshot (the stock recognizer would fetch the list over the network), and
  PHONE_NUMBER via ``phonenumbers`` run only on candidate digit windows (the stock recognizer scans the
  whole text once per region, which dominates the cost of a naive set-up).
* Code secrets follow the rule sets of gitleaks (github.com/gitleaks/gitleaks, config/gitleaks.toml) and
  detect-secrets (github.com/Yelp/detect-secrets: keyword and high-entropy plugins): AWS access key ids and
  secret keys, GitHub and Slack tokens, PEM private-key blocks, passwords in assignments / config lines /
  DSNs / URLs with credentials, and generic high-entropy values assigned to secret-like names. Where a
  pattern has a group named ``v`` only that group is reported (the password, not ``password=``).

:data:`BUILDERS` maps every supported entity to a factory, so the rules load only what they use.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections import Counter
from collections.abc import Callable
from functools import lru_cache

import phonenumbers
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    SpacyRecognizer,
    UsSsnRecognizer,
)

from curation.stages.pii.rules import PiiRules

_FLAGS = re.DOTALL | re.MULTILINE

# ----------------------------------------------------------------------------------------------------
# Structured identifiers


class OfflineEmailRecognizer(EmailRecognizer):
    """E-mail addresses; the domain must end in a known public suffix (bundled snapshot, no network).

    ``user:secret@host`` inside a URL is a credential, not an e-mail address, so a match right after
    ``:`` is skipped (the password recognizer reports it).
    """

    def validate_result(self, pattern_text: str) -> bool:
        return _tld_extract()(pattern_text).fqdn != ""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
                regex_flags: int | None = None) -> list[RecognizerResult]:
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return [r for r in results if r.start == 0 or text[r.start - 1] != ":"]


@lru_cache(maxsize=1)
def _tld_extract() -> Callable:
    import tldextract

    # suffix_list_urls=() -> never fetch; cache_dir=None -> never write; uses the snapshot in the wheel.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


# A run of 7+ digits with single separators (optionally a leading + or "(" and an extension): the only
# places a phone number can be. phonenumbers then parses each window in every configured region.
_PHONE_WINDOW = re.compile(
    r"(?<![\w.+-])(?:\+|\(\+?)?\d(?:[ ().\-/]{0,2}\d){6,16}(?:\s?(?:x|ext\.?|#)\s?\d{1,6})?"
)


class WindowedPhoneRecognizer(PhoneRecognizer):
    """Phone numbers with python-phonenumbers, run on candidate digit windows only.

    presidio's ``PhoneRecognizer`` scans the whole text once per region with leniency VALID, which is slow
    and misses numbers with unassigned area codes or an ``001-`` prefix. Here each candidate window is
    matched with leniency POSSIBLE and scored: a number valid in some region, or written in a phone
    layout (``+``, ``(area)``, ``ddd-ddd-dddd``, an extension), scores ``SCORE`` (0.4); a bare digit run
    scores ``WEAK_SCORE`` and needs a context word (``phone``, ``call``, ...) to pass. Dates, times,
    dotted versions and runs of more than 15 digits (E.164 maximum) are never phone numbers.
    """

    WEAK_SCORE = 0.1

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
                ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        for m in _PHONE_WINDOW.finditer(text):
            lo = max(0, m.start() - 2)
            window = text[lo : m.end()]
            seen: set[tuple[int, int]] = set()
            for region in self.supported_regions:
                for pm in phonenumbers.PhoneNumberMatcher(window, region, leniency=0):
                    span = (pm.start + lo, pm.end + lo)
                    cc = _COUNTRY_CODE_BEFORE.search(text, max(0, span[0] - 5), span[0])
                    if cc:  # "+1 001-278-914-8035": keep the written country code with the number
                        span = (cc.start(), span[1])
                    if span in seen or _glued(text, *span):
                        continue
                    seen.add(span)
                    score = self._score(pm.raw_string, pm.number)
                    if score:
                        res = self._get_recognizer_result(pm, window, region, None)
                        res.start, res.end, res.score = span[0], span[1], score
                        results.append(res)
        return EntityRecognizer.remove_duplicates(results)

    def _score(self, raw: str, number: phonenumbers.PhoneNumber) -> float:
        digits = sum(ch.isdigit() for ch in _EXTENSION.sub("", raw))
        if digits < 7 or digits > 15 or _NOT_PHONE.search(raw):
            return 0.0
        if phonenumbers.is_valid_number(number) or _PHONE_LAYOUT.search(raw):
            return self.SCORE
        return self.WEAK_SCORE


_COUNTRY_CODE_BEFORE = re.compile(r"(?<![\w+])\+\d{1,3}[ .-]?$")


def _glued(text: str, start: int, end: int) -> bool:
    """True when the match is only part of a longer digit run (e.g. the tail of a tracking number)."""
    before = text[max(0, start - 2) : start]
    after = text[end : end + 2]
    return bool(re.search(r"\d[ .-]?$", before) or re.match(r"[ .-]?\d", after))


_EXTENSION = re.compile(r"(?i)\s?(?:x|ext\.?|#)\s?\d{1,6}$")
# Dates (2023-09-12, 12/09/2023), times, dotted versions/OIDs with short groups.
_NOT_PHONE = re.compile(
    r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$|\d:\d|(?:^|\.)\d{1,2}\.\d{1,2}(?:\.|$)"
)
_PHONE_LAYOUT = re.compile(
    r"^\+|^00\d|^\(\+?\d{2,5}\)|^\d{2,5}[-. ]\d{3,4}[-. ]\d{3,4}$|^\d{3}[-.]\d{3}[-.]\d{4}"
    r"|(?i:x|ext\.?)\s?\d{1,6}$"
)


_CARD_PATTERNS = [
    # Visa 4, Mastercard 51-55 and 2221-2720, Discover 6011/65/644-649, JCB 35: 16 digits as 4x4.
    Pattern("card 16 (grouped or plain)",
            r"(?<![\d-])(?:4\d{3}|5[1-5]\d{2}|2[2-7]\d{2}|6(?:011|5\d{2}|4[4-9]\d)|35\d{2})"
            r"([- ]?)\d{4}\1\d{4}\1\d{4}(?:\1?\d{3})?(?![\d-])", 0.3),
    # Amex 34/37: 15 digits, grouped 4-6-5 or plain.
    Pattern("amex 15", r"(?<![\d-])3[47]\d{2}([- ]?)\d{6}\1\d{5}(?![\d-])", 0.3),
]

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_H = r"[0-9A-Fa-f]{1,4}"
_IP_PATTERNS = [
    # Not inside a longer dotted run (OIDs, four-part versions such as 1.2.3.4.5).
    Pattern("IPv4", rf"(?<![\w.])(?:{_OCTET}\.){{3}}{_OCTET}(?:/(?:3[0-2]|[12]?\d))?(?![\w-]|\.\d)", 0.6),
    Pattern(
        "IPv6",
        rf"(?<![\w:.])(?:(?:{_H}:){{7}}{_H}|(?:{_H}:){{1,6}}(?::{_H}){{1,6}}|(?:{_H}:){{2,7}}:|::(?:{_H}:){{0,5}}{_H}"
        rf"|(?:{_H}:){{6}}(?:{_OCTET}\.){{3}}{_OCTET})(?:%[0-9A-Za-z]+)?(?:/(?:12[0-8]|1[01]\d|[1-9]?\d))?"
        rf"(?![\w:]|\.\d)",
        0.6,
    ),
]


class StrictIpRecognizer(IpRecognizer):
    """IPv4/IPv6 validated with :mod:`ipaddress`; not right after ``version``/``build``/``v`` (four-part
    version numbers); IPv6 needs 3+ groups so ``dead::beef`` in code is not an address."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
                regex_flags: int | None = None) -> list[RecognizerResult]:
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return [r for r in results if not _VERSION_BEFORE.search(text[max(0, r.start - 16) : r.start])]

    def invalidate_result(self, pattern_text: str) -> bool:
        v6 = ":" in pattern_text
        if v6 and pattern_text.count(":") < 3 and not pattern_text.lower().startswith("fe80"):
            return True
        try:
            ipaddress.ip_address(pattern_text.split("/")[0].split("%")[0])
        except ValueError:
            return True
        return False


_VERSION_BEFORE = re.compile(r"(?i)(?:version|release|build|ver\.?|\bv)\s*$")


# ----------------------------------------------------------------------------------------------------
# Code secrets

# An assignment in any common syntax: `KEY = "v"`, `KEY: &str = "v"`, `"key": "v"`, `key := "v"`,
# `key => 'v'`, `--key v` is not covered (argument lists are too ambiguous).
_ASSIGN = r"""["']?\s*(?::\s*&?'?\w+(?:<[^>\n]*>)?\s*)?(?::=|=>|=(?!=)|:)\s*"""
_PASSWORD_KEY = r"(?i:[\w.-]*(?:passw(?:or)?d|passwd|pwd|passphrase)[\w.-]*)"
_SECRET_KEY = (r"(?i:[\w.-]*(?:api[_.-]?key|apikey|secret|token|access[_.-]?key|auth[_.-]?key|"
               r"client[_.-]?secret|private[_.-]?key|credential)s?[\w.-]*)")
# Values that are placeholders or code, not secrets.
_PLACEHOLDER = re.compile(
    r"(?i)^(?:none|null|nil|true|false|undefined|password|passwd|secret|changeme|example|test|xxx+|\*+|\.+"
    r"|<[^>]*>|\$\{?.*|\{\{?.*|%\(?.*|os\.\w+.*|env\b.*|process\.env.*|self\.\w+|getpass.*|\w+\(.*)$"
)


def shannon_entropy(value: str) -> float:
    """Bits per character of ``value`` (detect-secrets' high-entropy plugins use the same measure)."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def char_classes(value: str) -> int:
    """How many of lower-case letters, upper-case letters and digits ``value`` contains."""
    return (any(c.islower() for c in value) + any(c.isupper() for c in value)
            + any(c.isdigit() for c in value))


class SecretRecognizer(PatternRecognizer):
    """A pattern recognizer that reports group ``v`` when present and applies a per-recognizer validator.

    ``min_entropy`` (bits/char) filters low-entropy values; placeholders (``None``, ``${VAR}``,
    ``os.environ[...]``, ``<password>``) are never secrets.
    """

    def __init__(self, entity: str, patterns: list[Pattern], *, min_entropy: float = 0.0,
                 min_classes: int = 0, check_placeholder: bool = False, name: str | None = None) -> None:
        super().__init__(supported_entity=entity, patterns=patterns, name=name or f"{entity}Recognizer",
                         global_regex_flags=_FLAGS)
        self.min_entropy = min_entropy
        self.min_classes = min_classes
        self.check_placeholder = check_placeholder

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
                regex_flags: int | None = None) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        for pattern in self.patterns:
            if pattern.compiled_regex is None or pattern.compiled_with_flags != _FLAGS:
                pattern.compiled_regex = re.compile(pattern.regex, flags=_FLAGS)
                pattern.compiled_with_flags = _FLAGS
            for m in pattern.compiled_regex.finditer(text):
                start, end = m.span("v") if "v" in m.groupdict() and m.group("v") is not None else m.span()
                if end <= start or not self._valid(text[start:end]):
                    continue
                results.append(RecognizerResult(
                    entity_type=self.supported_entities[0], start=start, end=end, score=pattern.score,
                    analysis_explanation=None,
                    recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                          RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id},
                ))
        return EntityRecognizer.remove_duplicates(results)

    def _valid(self, value: str) -> bool:
        if self.check_placeholder and _PLACEHOLDER.match(value.strip()):
            return False
        if self.min_classes and char_classes(value) < self.min_classes:
            return False
        return shannon_entropy(value) >= self.min_entropy


def _aws_access_key_id() -> list[EntityRecognizer]:
    return [SecretRecognizer("AWS_ACCESS_KEY_ID", [
        Pattern("aws key id",
                r"(?<![A-Za-z0-9])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])", 0.95)])]


def _aws_secret_access_key() -> list[EntityRecognizer]:
    key = r"(?i:aws[_.-]?secret(?:[_.-]?access)?[_.-]?key|secret[_.-]?access[_.-]?key)\w*"
    return [SecretRecognizer("AWS_SECRET_ACCESS_KEY", [
        Pattern("aws secret", rf"{key}{_ASSIGN}[\"'`]?(?P<v>[A-Za-z0-9/+]{{40}})(?![A-Za-z0-9/+=])", 0.95),
    ], min_entropy=3.0)]


def _github_token() -> list[EntityRecognizer]:
    return [SecretRecognizer("GITHUB_TOKEN", [
        Pattern("github classic", r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,255}(?![A-Za-z0-9_])", 0.95),
        Pattern("github fine-grained",
                r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,255}(?![A-Za-z0-9_])", 0.95),
    ])]


def _slack_token() -> list[EntityRecognizer]:
    return [SecretRecognizer("SLACK_TOKEN", [
        Pattern("slack token", r"(?<![A-Za-z0-9])xox[baprse]-(?:[0-9A-Za-z]{2,}-){1,4}[0-9A-Za-z]{6,}", 0.95),
        Pattern("slack webhook",
                r"https://hooks\.slack\.com/services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{16,}", 0.95),
    ])]


def _private_key() -> list[EntityRecognizer]:
    label = r"(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?"
    return [SecretRecognizer("PRIVATE_KEY", [
        # Whole PEM block; a truncated block (no END line) is reported up to the last base64 line.
        Pattern("pem block", rf"-----BEGIN {label}-----[\s\S]{{16,7000}}?-----END {label}-----", 1.0),
        Pattern("pem truncated",
                rf"-----BEGIN {label}-----(?:\r?\n[A-Za-z0-9+/=:, -]*)+?(?:\r?\n[A-Za-z0-9+/=]{{16,}})+"
                rf"(?![\s\S]{{0,7000}}?-----END)", 0.9),
    ])]


def _password() -> list[EntityRecognizer]:
    return [SecretRecognizer("PASSWORD", [
        # Quoted value assigned to a password-like name (code, JSON, YAML).
        Pattern("password quoted",
                rf"{_PASSWORD_KEY}{_ASSIGN}[rbf]?([\"'`])(?P<v>[^\"'`\n]{{4,200}})\1", 0.8),
        # Unquoted value on a config line or in a key=value DSN (stops at whitespace, quote, ; or ,).
        Pattern("password unquoted",
                rf"(?<![\w.]){_PASSWORD_KEY}[ \t]*(?:=|:)[ \t]*"
                rf"(?P<v>[^\s\"'`,;&)(\]\[{{}}]{{4,128}})(?=[\s\"'`,;&)]|$)",
                0.7),
        # Default value of a password variable: `process.env.DB_PASSWORD || 'v'`, `getenv("PWD", "v")`.
        Pattern("password default",
                rf"{_PASSWORD_KEY}[\"'\]]?\s*(?:\|\||\?\?|\bor\b|,)\s*"
                rf"[\"'`](?P<v>[^\"'`\n]{{4,200}})[\"'`]", 0.8),
        # scheme://user:password@host (connection strings, URLs with credentials).
        Pattern("url credentials",
                r"(?i:\b[a-z][a-z0-9+.-]{1,20}://)[^\s:/@\"']{1,64}:(?P<v>[^\s@/\"']{1,128})@[\w.-]+", 0.85),
    ], check_placeholder=True)]


def _generic_secret() -> list[EntityRecognizer]:
    return [SecretRecognizer("GENERIC_SECRET", [
        Pattern("high-entropy assignment",
                rf"{_SECRET_KEY}{_ASSIGN}[rbf]?[\"'`](?P<v>[A-Za-z0-9+/=_.~-]{{16,512}})[\"'`]", 0.7),
    ], min_entropy=3.5, min_classes=2, check_placeholder=True)]


# ----------------------------------------------------------------------------------------------------
# Registry of builders


def _ctx(rules: PiiRules, entity: str) -> list[str] | None:
    rule = rules.entities.get(entity)
    return None if rule is None or rule.context is None else list(rule.context)


def _with_context(rec: EntityRecognizer, rules: PiiRules, entity: str) -> EntityRecognizer:
    ctx = _ctx(rules, entity)
    if ctx is not None:  # an empty list disables context boosting
        rec.context = ctx
    return rec


def _email(rules: PiiRules) -> list[EntityRecognizer]:
    return [_with_context(OfflineEmailRecognizer(), rules, "EMAIL_ADDRESS")]


def _phone(rules: PiiRules) -> list[EntityRecognizer]:
    return [_with_context(WindowedPhoneRecognizer(supported_regions=list(rules.phone_regions)), rules,
                          "PHONE_NUMBER")]


def _card(rules: PiiRules) -> list[EntityRecognizer]:
    return [_with_context(CreditCardRecognizer(patterns=list(_CARD_PATTERNS)), rules, "CREDIT_CARD")]


def _ssn(rules: PiiRules) -> list[EntityRecognizer]:
    return [_with_context(UsSsnRecognizer(), rules, "US_SSN")]


def _ip(rules: PiiRules) -> list[EntityRecognizer]:
    return [_with_context(StrictIpRecognizer(patterns=list(_IP_PATTERNS)), rules, "IP_ADDRESS")]


def _iban(rules: PiiRules) -> list[EntityRecognizer]:
    return [_with_context(IbanRecognizer(), rules, "IBAN_CODE")]


class NameShapeSpacyRecognizer(SpacyRecognizer):
    """presidio's ``SpacyRecognizer`` keeping only PERSON spans shaped like names.

    1-4 words on one line, each capitalised (``Mc``/``O'``/``van``-style particles allowed), no digits or
    symbols: the small English model otherwise tags capitalised code tokens, menu items and
    non-English sentence starts as persons.
    """

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
                ) -> list[RecognizerResult]:
        results = super().analyze(text, entities, nlp_artifacts)
        return [r for r in results if _NAME.match(text[r.start : r.end])]


_NAME = re.compile(
    r"^(?:(?:[A-Z][a-z\u00df-\u00ff]+(?:[-'][A-Z]?[a-z\u00df-\u00ff]+)*|(?:van|von|de|der|da|di|le|la|del))"
    r"\.? ?){1,4}$"
)


def _person(rules: PiiRules) -> list[EntityRecognizer]:
    return [NameShapeSpacyRecognizer(supported_entities=["PERSON"], ner_strength=rules.ner.score)]


def _no_rules(fn: Callable[[], list[EntityRecognizer]]) -> Callable[[PiiRules], list[EntityRecognizer]]:
    return lambda _rules: fn()


BUILDERS: dict[str, Callable[[PiiRules], list[EntityRecognizer]]] = {
    "EMAIL_ADDRESS": _email,
    "PHONE_NUMBER": _phone,
    "CREDIT_CARD": _card,
    "US_SSN": _ssn,
    "IP_ADDRESS": _ip,
    "IBAN_CODE": _iban,
    "PERSON": _person,
    "AWS_ACCESS_KEY_ID": _no_rules(_aws_access_key_id),
    "AWS_SECRET_ACCESS_KEY": _no_rules(_aws_secret_access_key),
    "GITHUB_TOKEN": _no_rules(_github_token),
    "SLACK_TOKEN": _no_rules(_slack_token),
    "PRIVATE_KEY": _no_rules(_private_key),
    "PASSWORD": _no_rules(_password),
    "GENERIC_SECRET": _no_rules(_generic_secret),
}

def build_recognizers(rules: PiiRules, entities: tuple[str, ...]) -> list[EntityRecognizer]:
    """Recognizers for ``entities`` only (the rules decide what is loaded)."""
    out: list[EntityRecognizer] = []
    for e in entities:
        out.extend(BUILDERS[e](rules))
    return out
