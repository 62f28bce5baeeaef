"""Code secrets: rule sets of gitleaks (config/gitleaks.toml) and detect-secrets (keyword and high-entropy
plugins), as regular expressions plus value checks.

AWS access key ids and secret keys, GitHub and Slack tokens, PEM private-key blocks, passwords (quoted
and unquoted assignments, key=value DSNs, ``env.X || 'default'``, ``scheme://user:pw@host``) and generic
high-entropy values assigned to secret-like names. Where a pattern has a group named ``v`` only that
group is reported (the password, not ``password=``).

Departures from the sources, each for a measured failure:

* no pattern starts with an unanchored ``[\\w.-]*`` name prefix: the key word itself starts the match
  (``db_password`` matches from ``password``), so the regex engine does not re-scan every word of a
  text (the old generic-secret pattern cost ~9 of 59 CPU-s of a pipeline run, issue 21);
* a value is a placeholder only when it is *entirely* a reference (``${VAR}``, ``$VAR``, ``%(name)s``,
  ``os.environ[...]``, ``<password>``): a real password may start with ``$`` or ``%``;
* a DSN or URL password runs to its real delimiter: up to the last ``@`` before the host in
  ``scheme://user:pw@host``, and through ``&`` except inside a URL query string (``?a=1&password=x&b=2``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable

from curation.stages.pii.hints import literal_starts
from curation.stages.pii.scan import anchor_positions, anchored_finditer, literal_positions, lowered
from curation.stages.pii.spans import Span, dedupe

#: Where a pattern can start: a regular expression matched in the lower-cased text (a key word) or a
#: function of the text; ``None`` = anywhere.
Anchor = str | tuple[str, ...] | Callable[[str], Iterable[int]] | None

_FLAGS = re.DOTALL | re.MULTILINE

# An assignment in any common syntax: `KEY = "v"`, `KEY: &str = "v"`, `"key": "v"`, `key := "v"`, `k => 'v'`.
_ASSIGN = r"""["']?\s*(?::\s*&?'?\w+(?:<[^>\n]*>)?\s*)?(?::=|=>|=(?!=)|:)\s*"""
# Key words start the match; the rest of the name follows (`password_hash`, `secretKey`, `tokens`).
_PASSWORD_KEY = r"(?i:(?:passw(?:or)?d|passwd|pwd|passphrase)[\w.-]*)"
_SECRET_KEY = (r"(?i:(?:api[_.-]?key|apikey|secret|token|access[_.-]?key|auth[_.-]?key|"
               r"private[_.-]?key|credential)s?[\w.-]*)")
_PLACEHOLDER = re.compile(
    r"(?i)^(?:none|null|nil|true|false|undefined|password|passwd|secret|changeme|example|test|xxx+|\*+|\.+"
    r"|<[^>]*>|\$\{[^}]*\}|\$\(?[A-Za-z_][A-Za-z0-9_]*\)?|\{\{[^}]*\}\}|%\([^)]*\)[sd]|%[sd]|%\w+%"
    r"|os\.\w+.*|env\b.*|process\.env.*|self\.\w+|getpass.*|\w+\(.*)$"
)
# `$VAR` is a shell/env reference only when the name is an upper-case identifier.
_SHELL_VAR = re.compile(r"^\$\{?[A-Z_][A-Z0-9_]*\}?$")


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


def is_placeholder(value: str) -> bool:
    """A value that is a reference or a stand-in, not a secret (``None``, ``${DB_PASS}``, ``<password>``)."""
    v = value.strip()
    if v.startswith("$") and not v.startswith("${") and not _SHELL_VAR.match(v):
        return False  # "$ecretPa55" is a password, "$DB_PASSWORD" a reference
    if v.startswith("%") and not re.match(r"^%(?:\([^)]*\))?[sd]$|^%\w+%$", v):
        return False
    return _PLACEHOLDER.match(v) is not None


class SecretRecognizer:
    """Patterns for one secret type; reports group ``v`` when present and applies the value checks."""

    def __init__(self, entity: str, patterns: list[tuple[str, float]] | list[tuple[str, float, Anchor]], *,
                 min_entropy: float = 0.0, min_classes: int = 0, check_placeholder: bool = False) -> None:
        self.entity = entity
        self.context: tuple[str, ...] = ()
        self.patterns: list[tuple[re.Pattern[str], float, Anchor]] = []
        for p in patterns:
            anchor = p[2] if len(p) > 2 else None  # type: ignore[misc]
            if isinstance(anchor, str):
                anchor = re.compile(anchor)  # type: ignore[assignment]
            self.patterns.append((re.compile(p[0], _FLAGS), p[1], anchor))
        self.min_entropy = min_entropy
        self.min_classes = min_classes
        self.check_placeholder = check_placeholder

    def _matches(self, rx: re.Pattern[str], anchor: object, text: str,
                 known: dict[tuple[str, ...], list[int] | None]) -> Iterable[re.Match[str]]:
        """``rx.finditer(text)``, tried only where the pattern's anchor allows (same matches); ``known``
        keeps the literal anchors' positions for the text's other patterns."""
        if anchor is None:
            return rx.finditer(text)
        if isinstance(anchor, tuple):  # lower-case literals: found in one caseless scan when possible
            if anchor not in known:
                known[anchor] = literal_starts(anchor, text)
            starts = known[anchor]
            if starts is not None:
                return anchored_finditer(rx, text, starts)
        if isinstance(anchor, re.Pattern | tuple):
            low = lowered(text)
            if low is None:  # case folding does not keep offsets: scan everywhere
                return rx.finditer(text)
            if isinstance(anchor, tuple):
                return anchored_finditer(rx, text, literal_positions(anchor, low))
            return anchored_finditer(rx, text, anchor_positions(anchor, low))
        return anchored_finditer(rx, text, anchor(text))  # type: ignore[operator]

    def find(self, text: str) -> list[Span]:
        out: list[Span] = []
        known: dict[tuple[str, ...], list[int] | None] = {}
        for rx, score, anchor in self.patterns:
            for m in self._matches(rx, anchor, text, known):
                start, end = m.span("v") if "v" in rx.groupindex and m.group("v") is not None else m.span()
                if end > start and self.valid(text[start:end]):
                    out.append(Span(self.entity, start, end, score))
        return dedupe(out)

    def valid(self, value: str) -> bool:
        if self.check_placeholder and is_placeholder(value):
            return False
        if self.min_classes and char_classes(value) < self.min_classes:
            return False
        return shannon_entropy(value) >= self.min_entropy


#: Anchors (in the lower-cased text) of the key words the patterns start with.
_PASSWORD_ANCHOR = ("passw", "pwd", "passphrase")  # its positions are those of the regex passw|pwd|passphrase
# (literals with different first characters: found with str.find, see scan.literal_positions)
_SECRET_ANCHOR = ("api", "secret", "token", "access", "auth", "private", "credential")


def url_scheme_starts(text: str) -> Iterable[int]:
    """Positions where ``scheme://`` (a 2-21 character scheme) can start: before each ``://``."""
    last = -1
    q = text.find("://")
    while q != -1:
        yield from range(max(0, q - 21, last + 1), q - 1)
        last = max(last, q - 2)
        q = text.find("://", q + 1)


def aws_access_key_id() -> SecretRecognizer:
    return SecretRecognizer("AWS_ACCESS_KEY_ID", [
        (r"(?<![A-Za-z0-9])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])", 0.95)])


def aws_secret_access_key() -> SecretRecognizer:
    key = r"(?i:aws[_.-]?secret(?:[_.-]?access)?[_.-]?key|secret[_.-]?access[_.-]?key)\w*"
    return SecretRecognizer("AWS_SECRET_ACCESS_KEY", [
        (rf"{key}{_ASSIGN}[\"'`]?(?P<v>[A-Za-z0-9/+]{{40}})(?![A-Za-z0-9/+=])", 0.95, ("aws", "secret"))],
        min_entropy=3.0)


def github_token() -> SecretRecognizer:
    return SecretRecognizer("GITHUB_TOKEN", [
        (r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,255}(?![A-Za-z0-9_])", 0.95),
        (r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,255}(?![A-Za-z0-9_])", 0.95),
    ])


def slack_token() -> SecretRecognizer:
    return SecretRecognizer("SLACK_TOKEN", [
        (r"(?<![A-Za-z0-9])xox[baprse]-(?:[0-9A-Za-z]{2,}-){1,4}[0-9A-Za-z]{6,}", 0.95),
        (r"https://hooks\.slack\.com/services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{16,}", 0.95),
    ])


_PEM_LABEL = r"(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?"
_PEM_BEGIN = re.compile(rf"-----BEGIN {_PEM_LABEL}-----")
_PEM_BODY = re.compile(r"[A-Za-z0-9+/=:, \r\n-]*")  # every character the truncated-block pattern can take
_B64_LINE = re.compile(r"\n[A-Za-z0-9+/=]{16}")


def truncated_pem_starts(text: str) -> Iterable[int]:
    """BEGIN lines where the truncated-block pattern can match: not those of a whole block.

    That pattern's final look-ahead (no ``-----END`` within 7,000 characters) fails at every end the
    pattern can reach when an END line follows within 7,000 characters and no base64 line (16+ characters)
    starts after it before the first character the pattern cannot take; the regex engine would otherwise
    try every split of the block's lines before failing (~50 ms per PEM block).
    """
    for m in _PEM_BEGIN.finditer(text):
        body_end = _PEM_BODY.match(text, m.end()).end()  # type: ignore[union-attr]
        end = text.find("-----END", m.end())
        if (end == -1 or end - m.end() > 7000 or end > body_end
                or _B64_LINE.search(text, end, body_end) is not None):
            yield m.start()


def private_key() -> SecretRecognizer:
    label = _PEM_LABEL
    return SecretRecognizer("PRIVATE_KEY", [
        # Whole PEM block; a truncated block (no END line) is reported up to the last base64 line.
        (rf"-----BEGIN {label}-----[\s\S]{{16,7000}}?-----END {label}-----", 1.0),
        (rf"-----BEGIN {label}-----(?:\r?\n[A-Za-z0-9+/=:, -]*)+?(?:\r?\n[A-Za-z0-9+/=]{{16,}})+"
         rf"(?![\s\S]{{0,7000}}?-----END)", 0.9, truncated_pem_starts),
    ])


def password() -> SecretRecognizer:
    return SecretRecognizer("PASSWORD", [
        # Quoted value assigned to a password-like name (code, JSON, YAML).
        (rf"{_PASSWORD_KEY}{_ASSIGN}[rbf]?([\"'`])(?P<v>[^\"'`\n]{{4,200}})\1", 0.8, _PASSWORD_ANCHOR),
        # A URL query parameter: the value ends at `&`, `#` or whitespace.
        (rf"(?<=[?&]){_PASSWORD_KEY}=(?P<v>[^\s&#\"'`]{{4,128}})", 0.75, _PASSWORD_ANCHOR),
        # Unquoted value on a config line or in a key=value DSN: it runs to whitespace, a quote, `;` or
        # `,` (`&`, `$`, `%`, `@` are password characters here); a trailing `)` of a call is not.
        (rf"(?<![?&]){_PASSWORD_KEY}[ \t]*(?:=|:)[ \t]*(?P<v>[^\s\"'`,;(){{}}\[\]]{{4,128}})"
         rf"(?=[\s\"'`,;)]|$)(?![ \t]*=)",
         0.7, _PASSWORD_ANCHOR),
        # Default value of a password variable: `process.env.DB_PASSWORD || 'v'`, `getenv("PWD", "v")`.
        (rf"{_PASSWORD_KEY}[\"'\]]?\s*(?:\|\||\?\?|\bor\b|,)\s*[\"'`](?P<v>[^\"'`\n]{{4,200}})[\"'`]", 0.8,
         _PASSWORD_ANCHOR),
        # scheme://user:password@host: the password runs to the last `@` before the host.
        (r"(?i:\b[a-z][a-z0-9+.-]{1,20}://)[^\s:/@\"']{1,64}:(?P<v>[^\s/\"']{1,128})@[\w-]+(?:\.[\w-]+)*",
         0.85, url_scheme_starts),
    ], check_placeholder=True)


def generic_secret() -> SecretRecognizer:
    return SecretRecognizer("GENERIC_SECRET", [
        (rf"{_SECRET_KEY}{_ASSIGN}[rbf]?[\"'`](?P<v>[A-Za-z0-9+/=_.~-]{{16,512}})[\"'`]", 0.7,
         _SECRET_ANCHOR),
    ], min_entropy=3.5, min_classes=2, check_placeholder=True)
