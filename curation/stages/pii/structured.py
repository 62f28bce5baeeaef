"""Structured identifiers: e-mail, phone, payment card, US SSN, IP address, IBAN.

Each recognizer is a regular expression for the candidate plus the published validator of the type:

* EMAIL_ADDRESS - presidio's e-mail pattern; the domain must end in a public suffix from tldextract's
  *bundled* snapshot (never fetched), looked up as tldextract does without importing it (``suffixes.py``).
  ``user:secret@host`` in a URL is a credential, not an address.
* PHONE_NUMBER - python-phonenumbers (Google libphonenumber's numbering plans) matching per configured
  region, on candidate digit windows only; see :class:`PhoneRecognizer` for the layout rules.
* CREDIT_CARD - issuer prefixes and groupings (Visa, Mastercard incl. 2-series, Amex 4-6-5, Discover, JCB)
  plus the Luhn checksum (ISO/IEC 7812).
* US_SSN - presidio's UsSsnRecognizer patterns, scores and invalid-number rules (SSA: area 000/666,
  group 00, serial 0000, published sample numbers).
* IP_ADDRESS - IPv4/IPv6 validated with :mod:`ipaddress`; not inside dotted runs (OIDs, versions) nor
  after ``version``/``build``/``v``.
* IBAN_CODE - ISO 13616 country lengths and the ISO 7064 mod-97 check.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

import phonenumbers

from curation.stages.pii.scan import anchored_finditer
from curation.stages.pii.spans import Span, dedupe
from curation.stages.pii.suffixes import PublicSuffixes

# ----------------------------------------------------------------------------------------------------
# E-mail

_EMAIL = re.compile(
    r"\b((([!#$%&'*+\-/=?^_`{|}~\w])|([!#$%&'*+\-/=?^_`{|}~\w][!#$%&'*+\-/=?^_`{|}~\.\w]{0,}"
    r"[!#$%&'*+\-/=?^_`{|}~\w]))[@]\w+(?:-+\w+)*(?:\.\w+(?:-+\w+)*)+)\b"
)


# Characters of the local part (the character classes of _EMAIL, without \w, which isalnum covers).
_LOCAL_CHARS = frozenset("!#$%&'*+-/=?^_`{|}~.")
_WHITESPACE = re.compile(r"\s")


class EmailRecognizer:
    entity = "EMAIL_ADDRESS"

    def __init__(self, context: tuple[str, ...] = ("email", "e-mail", "mail")) -> None:
        self.context = context
        self._suffixes: PublicSuffixes | None = None  # read on the first candidate (once per worker)

    def find(self, text: str) -> list[Span]:
        out = []
        for m in email_matches(text):
            if m.start() > 0 and text[m.start() - 1] == ":":
                continue
            if self._suffixes is None:
                self._suffixes = PublicSuffixes.bundled()
            if self._suffixes.has_registered_domain(m.group()):
                out.append(Span(self.entity, m.start(), m.end(), 1.0))
        return out


def email_matches(text: str) -> list[re.Match[str]]:
    """The matches of ``_EMAIL.finditer(text)``, found from each ``@`` instead of from every word start.

    An address cannot contain whitespace or a second ``@``, so the match holding an ``@`` starts inside
    the run of local-part characters just before it and ends at the next whitespace: the search is limited
    to that window (``\\b`` still sees the real characters on both sides) and skips ``@`` signs inside the
    previous match. The unanchored pattern tried at every word boundary cost most of the e-mail
    recognizer's time on prose.
    """
    out: list[re.Match[str]] = []
    last_end = 0
    at = text.find("@")
    while at != -1:
        lo = at
        while lo > last_end and (text[lo - 1] in _LOCAL_CHARS or text[lo - 1].isalnum()):
            lo -= 1
        ws = _WHITESPACE.search(text, at)
        m = _EMAIL.search(text, lo, ws.start() if ws else len(text))
        if m is None:  # no address holds this @ (a decorator, a handle)
            at = text.find("@", at + 1)
            continue
        out.append(m)  # it holds this @, or a later one of the same whitespace-free run
        last_end = m.end()
        at = text.find("@", last_end)
    return out


# ----------------------------------------------------------------------------------------------------
# Phone numbers

# A run of 7+ digits with single separators (optionally a leading + or "(" and an extension): the only
# places a phone number can be. phonenumbers then matches each window in every configured region.
_PHONE_WINDOW = re.compile(
    r"(?<![\w.+-])(?:\+|\(\+?)?\d(?:[ ().\-/]{0,2}\d){6,16}(?:\s?(?:x|ext\.?|#)\s?\d{1,6})?"
)
# Where a window can start: `+`, `(` or a digit not glued to `[\w.+-]` (the look-behind of _PHONE_WINDOW,
# written after the first character so that the engine skips to those characters).
_PHONE_START = re.compile(r"[+(\d](?<![\w.+-][+(\d])")
_COUNTRY_CODE_BEFORE = re.compile(r"(?<![\w+])\+\d{1,3}[ .-]?$")
_EXTENSION = re.compile(r"(?i)\s?(?:x|ext\.?|#)\s?\d{1,6}$")
# Dates (2023-09-12, 12/09/2023), times, dotted versions/OIDs with short groups.
_NOT_PHONE = re.compile(
    r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$|\d:\d|(?:^|\.)\d{1,2}\.\d{1,2}(?:\.|$)"
)
# North-American and common written layouts.
_NANP_LAYOUT = re.compile(r"^\(\+?\d{2,5}\)|^\d{3}[-.]\d{3}[-.]\d{4}|(?i:x|ext\.?)\s?\d{1,6}$")
_GROUPS = re.compile(r"\d+")
_ISBN_BEFORE = re.compile(r"(?i)isbn(?:-1[03])?:?\s*$")


def _isbn13(digits: str) -> bool:
    """A valid ISBN-13 (EAN-13 with the 978/979 Bookland prefix and a correct check digit)."""
    if len(digits) != 13 or digits[:3] not in ("978", "979"):
        return False
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits[:12]))
    return (10 - total % 10) % 10 == int(digits[12])


_DIGIT_SPACE_END = re.compile(r"\d[ ]$")
_SPACE_DIGIT = re.compile(r"[ ]\d")


def _glued_before(text: str, start: int) -> bool:
    """The characters before ``start`` glue a candidate starting there to a longer token (:func:`glued`)."""
    before = text[max(0, start - 2) : start]
    if before and (before[-1].isalnum() or before[-1] == "_"):
        return True
    if len(before) == 2 and before[-1] in "-." and before[0].isalnum():
        return True
    return _DIGIT_SPACE_END.search(before) is not None


def _glued_after(text: str, end: int) -> bool:
    """The characters from ``end`` glue a candidate ending there to a longer token (see :func:`glued`)."""
    after = text[end : end + 2]
    if after and (after[0].isalnum() or after[0] == "_"):
        return True
    if len(after) == 2 and after[0] in "-." and after[1].isalnum():
        return True
    return _SPACE_DIGIT.match(after) is not None


def glued(text: str, start: int, end: int) -> bool:
    """True when ``text[start:end]`` is part of a longer token: a digit run (tail of a tracking number),
    or an alphanumeric run such as a hex digest, UUID, build number or identifier. (A test of the
    characters before ``start`` or one of those from ``end``: the two are separate, see
    :func:`window_can_score`.)"""
    return _glued_before(text, start) or _glued_after(text, end)


def _core_digits(raw: str) -> tuple[str, str]:
    """A candidate without its extension, and that core's digits."""
    core = _EXTENSION.sub("", raw)
    return core, "".join(ch for ch in core if ch.isdigit())


def _never_phone(core: str, digits: str, before: str) -> bool:
    """:meth:`PhoneRecognizer.score` is 0 whatever the parsed number: too few or too many digits, a date,
    time or version layout, an ISBN-13 or an ``ISBN`` label before."""
    return (len(digits) < 7 or len(digits) > 15 or _NOT_PHONE.search(core) is not None
            or _isbn13(digits) or _ISBN_BEFORE.search(before) is not None)


#: a country code found before a match moves its start back by at most this many characters
_CC_REACH = 5


def window_can_score(text: str, lo: int, hi: int) -> bool:
    """Whether matching ``text[lo:hi]`` with phonenumbers can give :meth:`PhoneRecognizer.find` a span.

    Every span that ``find`` scores from a match in that window is some ``text[s:e]`` with
    ``lo - 5 <= s < e <= hi`` (a match lies in the window; a written country code before it moves ``s``
    back by up to 5 characters). ``find`` drops it when it is glued (a test of ``s`` or of ``e`` alone) or
    when :func:`_never_phone` holds for it, neither of which reads the parsed number. When that is so for
    every such ``(s, e)`` the window gives nothing, and the costly per-region matching (most of this
    recognizer's time: dates, IP addresses, long ids and number tables are such windows) is skipped.
    """
    first = max(0, lo - _CC_REACH)
    ends = [e for e in range(lo + 1, hi + 1) if not _glued_after(text, e)]
    if not ends:
        return False
    counts = [0]  # counts[i] = digits of text[first:first + i]
    for ch in text[first:hi]:
        counts.append(counts[-1] + ch.isdigit())
    for s in range(first, hi):
        if _glued_before(text, s):
            continue
        below = counts[s - first]
        for e in ends:
            # the core's digits are among the candidate's: fewer than 7 there already scores 0
            if e > s and counts[e - first] - below >= 7:
                core, digits = _core_digits(text[s:e])
                if not _never_phone(core, digits, text[max(0, s - 12) : s]):
                    return True
    return False


class PhoneRecognizer:
    """Phone numbers with python-phonenumbers, per configured region, on candidate digit windows.

    Each window is matched with leniency POSSIBLE in every region of ``phone_regions`` and scored:

    * ``SCORE`` (passes): written internationally (``+`` and a possible number), a number valid in the
      region written with a trunk ``0``, brackets or separators, a possible number in a grouped national
      layout (``01 23 45 67 89``, ``030 1234567``, ``06-12345678``, ``(020) 123 4567``), or a
      North-American layout (``415-555-2671``, ``(415) 555-2671``, extensions);
    * ``WEAK_SCORE`` (needs a context word such as ``phone``/``tel``): any other possible number, e.g. a
      bare digit run or a ``00``-prefixed run without separators.

    Never phone numbers: dates, times, dotted versions, runs over 15 digits (E.164 maximum), ISBN-13s,
    and candidates glued to letters or inside longer alphanumeric runs (hex digests, UUIDs, build ids).
    """

    entity = "PHONE_NUMBER"
    SCORE = 0.6
    WEAK_SCORE = 0.1

    #: windows whose matches are kept (per recognizer, i.e. per worker): tables, logs and templates repeat
    #: the same digit runs, and matching one window in every region is most of this recognizer's cost
    CACHE_SIZE = 4096

    def __init__(self, regions: tuple[str, ...], context: tuple[str, ...]) -> None:
        self.regions = regions
        self.context = context
        self._cache: dict[str, tuple[tuple[int, int, phonenumbers.PhoneNumber], ...]] = {}

    def region_matches(self, window: str) -> tuple[tuple[int, int, phonenumbers.PhoneNumber], ...]:
        """``(start, end, number)`` of the PhoneNumberMatcher matches in ``window``, region after region."""
        found = self._cache.get(window)
        if found is None:
            found = tuple((pm.start, pm.end, pm.number) for region in self.regions
                          for pm in phonenumbers.PhoneNumberMatcher(window, region, leniency=0))
            if len(self._cache) >= self.CACHE_SIZE:
                self._cache.clear()
            self._cache[window] = found
        return found

    def find(self, text: str) -> list[Span]:
        out: list[Span] = []
        starts = (m.start() for m in _PHONE_START.finditer(text))
        for m in anchored_finditer(_PHONE_WINDOW, text, starts):
            lo = max(0, m.start() - 2)
            if not window_can_score(text, lo, m.end()):
                continue  # every span it could give is glued or scores 0: not matched at all
            window = text[lo : m.end()]
            seen: set[tuple[int, int]] = set()
            for pm_start, pm_end, number in self.region_matches(window):
                start, end = pm_start + lo, pm_end + lo
                cc = _COUNTRY_CODE_BEFORE.search(text, max(0, start - 5), start)
                if cc:  # "+1 001-278-914-8035": keep the written country code with the number
                    start = cc.start()
                if (start, end) in seen or glued(text, start, end):
                    continue
                seen.add((start, end))
                score = self.score(text[start:end], number, text[max(0, start - 12) : start])
                if score:
                    out.append(Span(self.entity, start, end, score))
        return dedupe(out)

    def score(self, raw: str, number: phonenumbers.PhoneNumber, before: str = "") -> float:
        core, digits = _core_digits(raw)
        if _never_phone(core, digits, before):
            return 0.0
        groups = _GROUPS.findall(core)
        separated = len(groups) >= 2
        if core.startswith("+"):
            return self.SCORE if phonenumbers.is_possible_number(number) else self.WEAK_SCORE
        if core.startswith("00") and not separated:
            return self.WEAK_SCORE  # a bare 00-prefixed run: an id more often than an international call
        if _NANP_LAYOUT.search(raw):
            return self.SCORE
        valid = phonenumbers.is_valid_number(number)
        if valid and (separated or core[0] in "0("):
            return self.SCORE
        if separated and phonenumbers.is_possible_number(number) and _national_layout(groups, core):
            return self.SCORE
        if valid and not core.startswith("00"):
            return self.SCORE
        return self.WEAK_SCORE


def _national_layout(groups: list[str], core: str) -> bool:
    """Digit groups as numbering plans write them: a trunk-0 area code then the subscriber number
    (``030 1234567``, ``06-12345678``, ``(020) 123 4567``), or 3+ groups of 2-4 digits
    (``01 23 45 67 89``, ``912 345 678``, ``331 123 4567``)."""
    if core[0] in "0(" and 2 <= len(groups[0]) <= 5 and all(2 <= len(g) <= 8 for g in groups[1:]):
        return True
    return len(groups) >= 3 and all(2 <= len(g) <= 4 for g in groups)


# ----------------------------------------------------------------------------------------------------
# Payment cards

_CARD = [
    # Visa 4, Mastercard 51-55 and 2221-2720, Discover 6011/65/644-649, JCB 35: 16 digits as 4x4 (+3).
    re.compile(r"(?<![\d-])(?:4\d{3}|5[1-5]\d{2}|2[2-7]\d{2}|6(?:011|5\d{2}|4[4-9]\d)|35\d{2})"
               r"([- ]?)\d{4}\1\d{4}\1\d{4}(?:\1?\d{3})?(?![\d-])"),
    # Amex 34/37: 15 digits, grouped 4-6-5 or plain.
    re.compile(r"(?<![\d-])3[47]\d{2}([- ]?)\d{6}\1\d{5}(?![\d-])"),
]


# Where a card number can start: a digit 2-6 (every issuer prefix above) not after a digit or `-`, the
# look-behind of _CARD written after the first character so that the engine skips to those digits.
_CARD_START = re.compile(r"[2-6](?<![\d-][2-6])")


def luhn_ok(digits: str) -> bool:
    """ISO/IEC 7812 Luhn checksum."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


class CardRecognizer:
    entity = "CREDIT_CARD"

    def __init__(self, context: tuple[str, ...] = ("card", "credit", "visa", "mastercard", "amex")) -> None:
        self.context = context

    def find(self, text: str) -> list[Span]:
        out = []
        starts = [m.start() for m in _CARD_START.finditer(text)]
        for rx in _CARD:
            for m in anchored_finditer(rx, text, starts):
                digits = "".join(ch for ch in m.group() if ch.isdigit())
                if luhn_ok(digits):
                    out.append(Span(self.entity, m.start(), m.end(), 1.0))
        return dedupe(out)


# ----------------------------------------------------------------------------------------------------
# US SSN (presidio UsSsnRecognizer patterns and rules)

_SSN = [
    (re.compile(r"\b([0-9]{5})-([0-9]{4})\b"), 0.05),
    (re.compile(r"\b([0-9]{3})-([0-9]{6})\b"), 0.05),
    (re.compile(r"\b(([0-9]{3})-([0-9]{2})-([0-9]{4}))\b"), 0.05),
    (re.compile(r"\b[0-9]{9}\b"), 0.05),
    (re.compile(r"\b([0-9]{3})[- .]([0-9]{2})[- .]([0-9]{4})\b"), 0.5),
]

_DIGITS3 = re.compile(r"[0-9]{3,}")


def ssn_invalid(value: str) -> bool:
    """presidio's invalidation: mixed delimiters, one repeated digit, zero groups, area 000/666, samples."""
    if len({c for c in value if c in ".- "}) > 1:
        return True
    d = "".join(c for c in value if c.isdigit())
    return (len(set(d)) == 1 or d[3:5] == "00" or d[5:] == "0000" or d[:3] in ("000", "666")
            or d in ("123456789", "987654320", "078051120"))


class SsnRecognizer:
    entity = "US_SSN"

    def __init__(self, context: tuple[str, ...] = ("social", "security", "ssn", "ssns", "ssid")) -> None:
        self.context = context

    def find(self, text: str) -> list[Span]:
        out = []
        # every pattern starts with 3+ digits after a word boundary: the start of a maximal digit run
        starts = [m.start() for m in _DIGITS3.finditer(text)]
        for rx, score in _SSN:
            for m in anchored_finditer(rx, text, starts):
                if not ssn_invalid(m.group()):
                    out.append(Span(self.entity, m.start(), m.end(), score))
        return dedupe(out)


# ----------------------------------------------------------------------------------------------------
# IP addresses

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_H = r"[0-9A-Fa-f]{1,4}"
_IP = [
    re.compile(rf"(?<![\w.])(?:{_OCTET}\.){{3}}{_OCTET}(?:/(?:3[0-2]|[12]?\d))?(?![\w-]|\.\d)"),
    re.compile(
        rf"(?<![\w:.])(?:(?:{_H}:){{7}}{_H}|(?:{_H}:){{1,6}}(?::{_H}){{1,6}}|(?:{_H}:){{2,7}}:|::(?:{_H}:){{0,5}}{_H}"
        rf"|(?:{_H}:){{6}}(?:{_OCTET}\.){{3}}{_OCTET})(?:%[0-9A-Za-z]+)?(?:/(?:12[0-8]|1[01]\d|[1-9]?\d))?"
        rf"(?![\w:]|\.\d)"
    ),
]
#: Where an IPv4 / IPv6 match can start: an octet and a dot / a hex group and a colon, or ``::``. The
#: look-behinds of ``_IP`` exclude every anchor character before a match, so no anchor match overlaps one.
#: (The reference for :func:`ipv4_starts` / :func:`ipv6_starts`, which find the same from the literals.)
_IP_ANCHORS = [re.compile(r"\d{1,3}\.\d"), re.compile(r"(?:[0-9A-Fa-f]{1,4}|:):")]
_VERSION_BEFORE = re.compile(r"(?i)(?:version|release|build|ver\.?|\bv)\s*$")


_HEX_CHARS = frozenset("0123456789ABCDEFabcdef")


def _run_start_before(text: str, q: int, member: object, longest: int) -> int | None:
    """Start of the run of characters passing ``member`` that ends at ``q``, if it has 1-``longest``."""
    j = q
    while j > 0 and q - j <= longest and member(text[j - 1]):  # type: ignore[operator]
        j -= 1
    return j if 0 < q - j <= longest else None


def ipv4_starts(text: str) -> Iterator[int]:
    """Increasing positions that include every start of an ``_IP[0]`` match, found from the dots.

    A match starts with an octet (1-3 digits) and a dot, and its look-behind excludes a word character
    before it: it starts where a run of 1-3 digits ends at a dot that a digit follows. The character-class
    anchor ``_IP_ANCHORS[0]`` was tried at every digit.
    """
    q = text.find(".")
    while q != -1:
        if text[q + 1 : q + 2].isdecimal():
            j = _run_start_before(text, q, str.isdecimal, 3)
            if j is not None:
                yield j
        q = text.find(".", q + 1)


def ipv6_starts(text: str) -> Iterator[int]:
    """Increasing positions that include every start of an ``_IP[1]`` match, found from the colons.

    A match starts with ``::`` or with a group of 1-4 hex digits and a colon, and its look-behind excludes
    a word character (every hex digit is one) before it: it starts at a ``::`` or where a run of 1-4 hex
    digits ends at a colon. The anchor ``_IP_ANCHORS[1]`` was tried at every hex letter of the prose.
    """
    q = text.find(":")
    while q != -1:
        j = _run_start_before(text, q, _HEX_CHARS.__contains__, 4)
        if j is not None:
            yield j
        if text[q + 1 : q + 2] == ":":
            yield q
        q = text.find(":", q + 1)


def ip_invalid(value: str) -> bool:
    if ":" in value and value.count(":") < 3 and not value.lower().startswith("fe80"):
        return True
    try:
        ipaddress.ip_address(value.split("/")[0].split("%")[0])
    except ValueError:
        return True
    return False


class IpRecognizer:
    entity = "IP_ADDRESS"

    def __init__(self, context: tuple[str, ...] = ("ip", "ipv4", "ipv6")) -> None:
        self.context = context

    def find(self, text: str) -> list[Span]:
        out = []
        for rx, starts in ((_IP[0], ipv4_starts(text)), (_IP[1], ipv6_starts(text))):
            for m in anchored_finditer(rx, text, starts):
                if ip_invalid(m.group()) or _VERSION_BEFORE.search(text[max(0, m.start() - 16) : m.start()]):
                    continue
                out.append(Span(self.entity, m.start(), m.end(), 0.6))
        return dedupe(out)


# ----------------------------------------------------------------------------------------------------
# IBAN

#: ISO 13616 IBAN lengths per country (SWIFT IBAN registry).
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24,
    "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21,
    "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27,
    "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24,
    "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}")


def iban_ok(compact: str) -> bool:
    """ISO 7064 mod-97-10 over the rearranged IBAN."""
    s = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in s)) % 97 == 1


class IbanRecognizer:
    entity = "IBAN_CODE"

    def __init__(self, context: tuple[str, ...] = ("iban", "bank", "transaction")) -> None:
        self.context = context

    def find(self, text: str) -> list[Span]:
        out = []
        for m in _IBAN.finditer(text):
            want = IBAN_LENGTHS.get(m.group()[:2])
            if want is None:
                continue
            n, end = 0, m.start()
            for i in range(m.start(), m.end()):  # cut at the country's length (a following word may match)
                if text[i] != " ":
                    n += 1
                    if n == want:
                        end = i + 1
                        break
            if n != want or (end < len(text) and text[end].isalnum()):
                continue
            if iban_ok(text[m.start() : end].replace(" ", "")):
                out.append(Span(self.entity, m.start(), end, 1.0))
        return out
