"""Web evidence: Creative Commons licenses from links, badges, meta tags and license statements.

Sources of the patterns: the CC license chooser output (``rel="license"`` anchor + badge image from
``i.creativecommons.org/l/<variant>/<version>/88x31.png`` or ``licensebuttons.net``), CC REL (Creative
Commons Rights Expression Language, W3C submission 2008: ``rel="license"``, ``cc:license``), the HTML
``<meta name="license">`` / Dublin Core ``dc.rights`` / ``dcterms.license`` conventions, and the CC deed
names ("Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International", short "CC BY-NC-SA
4.0", "CC0 1.0 Universal", "Public Domain Mark 1.0"). Ids follow the SPDX list (CC-BY-NC-SA-4.0,
CC-BY-3.0-US for ported licenses on the list, CC0-1.0); the Public Domain Mark (not a license, and not on
the SPDX list) maps to ``LicenseRef-PublicDomain``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from curation.stages.license.fold import lower_contains
from curation.stages.license.policy import is_known

PUBLIC_DOMAIN = "LicenseRef-PublicDomain"

_CC_URL_RE = re.compile(
    r"(?:creativecommons\.org|licensebuttons\.net)/(?:l/|licenses/|publicdomain/|p/)"
    r"(?P<variant>by(?:-nc)?(?:-nd|-sa)?|zero|mark)"
    r"(?:/(?P<version>\d\.\d))?(?:/(?P<port>[a-z]{2})(?=[/\"'\s?#<]))?",
    re.IGNORECASE,
)
_REL_LICENSE_RE = re.compile(
    r"<(?:a|link)\b[^>]{0,600}?\brel\s*=\s*[\"']?[^\"'>]*\blicense\b[^>]{0,600}>", re.IGNORECASE
)
_HREF_RE = re.compile(r"\bhref\s*=\s*[\"']?([^\"'\s>]+)", re.IGNORECASE)
_META_RE = re.compile(
    r"<meta\b[^>]{0,600}?\b(?:name|property)\s*=\s*[\"']?(?:license|dc\.rights|dcterms\.license|"
    r"dc\.license|dcterms\.rights|copyright|og:license)[\"'\s>][^>]{0,600}>",
    re.IGNORECASE,
)
_CONTENT_RE = re.compile(r"\bcontent\s*=\s*[\"']([^\"']{1,500})", re.IGNORECASE)

_ATTR = r"(?:Non-?Commercial|No-?Derivs|No-?Derivatives|Share-?Alike)"
_LONG_RE = re.compile(
    rf"Creative\s+Commons\s+(?:\(CC\)\s+)?Attribution(?P<attrs>(?:\s*[-‑]\s*{_ATTR}|\s+{_ATTR})*)"
    r"(?:\s+License)?(?:\s*,?\s*(?:version\s+|v)?(?P<version>\d\.\d))?",
    re.IGNORECASE,
)
_SHORT_RE = re.compile(
    r"\bCC[\s-]+(?P<variant>BY(?:[\s-]+(?:NC|ND|SA)){0,2})(?:[\s-]+(?P<version>\d\.\d))?\b", re.IGNORECASE
)
_CC0_RE = re.compile(r"\bCC0(?:[\s-]+1\.0)?\b|Creative\s+Commons\s+Zero\b", re.IGNORECASE)
_PDM_RE = re.compile(r"\bPublic\s+Domain\s+Mark\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class WebLicense:
    spdx: str
    evidence: str  # cc_link | meta | cc_text
    detail: str  # what matched (URL or statement), for the signal


def cc_id(variant: str, version: str | None, port: str | None, default_version: str) -> str:
    """SPDX id of a CC variant (``by-nc-sa``), version and jurisdiction port (kept only if SPDX lists it)."""
    v = variant.lower().replace(" ", "-")
    if v == "zero":
        return "CC0-1.0"
    if v == "mark":
        return PUBLIC_DOMAIN
    parts = [p for p in re.split(r"[\s-]+", v) if p]
    order = [p for p in ("by", "nc", "nd", "sa") if p in parts]
    base = "CC-" + "-".join(p.upper() for p in order) + "-" + (version or default_version)
    if port:
        ported = f"{base}-{port.upper()}"
        if is_known(ported):
            return ported
    return base


def _from_url(url: str, default_version: str) -> str | None:
    m = _CC_URL_RE.search(url)
    if not m:
        return None
    return cc_id(m.group("variant"), m.group("version"), m.group("port"), default_version)


def _from_statement(text: str, default_version: str) -> tuple[str, str] | None:
    """The first CC license statement in ``text`` (long deed name, short form, CC0, PD mark)."""
    best: tuple[int, str, str] | None = None
    for rx in (_LONG_RE, _SHORT_RE, _CC0_RE, _PDM_RE):
        m = rx.search(text)
        if not m or (best is not None and m.start() >= best[0]):
            continue
        if rx is _LONG_RE:
            attrs = m.group("attrs").lower()
            variant = "by" + "".join(
                f"-{k}" for k, w in (("nc", "commercial"), ("nd", "deriv"), ("sa", "share")) if w in attrs
            )
            spdx = cc_id(variant, m.group("version"), None, default_version)
        elif rx is _SHORT_RE:
            spdx = cc_id(m.group("variant"), m.group("version"), None, default_version)
        elif rx is _CC0_RE:
            spdx = "CC0-1.0"
        else:
            spdx = PUBLIC_DOMAIN
        best = (m.start(), spdx, m.group(0))
    return (best[1], best[2]) if best else None


# UTF-8 continuation bytes: deleting them from a slice leaves one byte per character.
_CONTINUATION_BYTES = bytes(range(0x80, 0xC0))


class _KeyFinder:
    """Case-insensitive key-word search in one HTML page: ``hits(needle)`` yields, in order, the positions
    of the successive (non-overlapping) occurrences of a lower-case ASCII ``needle`` in ``html.lower()``;
    ``angles`` is the text whose ``<``/``>`` positions go with them; ``has(key)`` says whether ``key``
    occurs (the first occurrence is remembered: a later needle containing a remembered key starts its search
    there, or is skipped when the key is absent: the same hits, fewer passes over the page).

    The search runs on the lower-cased UTF-8 bytes (``bytes.lower`` and ``bytes.find`` are several times
    cheaper than ``str.lower`` and ``str.find`` on a page with non-ASCII text), byte offsets turned into
    character offsets by counting the non-continuation bytes before each hit. Valid because
    ``html.lower()`` then has ``html``'s length and ASCII characters where ``html`` has them (see
    :mod:`.fold`), so ``angles`` is ``html`` itself. A page with U+0130 or U+212A (which lower-case to
    ASCII, U+0130 to two characters) is searched as before, in ``html.lower()`` (``angles`` too).
    """

    def __init__(self, html: str) -> None:
        self.ascii = html.isascii()
        self.first: dict[str, int] = {}
        self.data: str | bytes
        if not self.ascii and ("\u0130" in html or "\u212a" in html):
            self.data = self.angles = html.lower()
            self.as_str = True
        else:
            raw = html.encode("ascii") if self.ascii else html.encode("utf-8", "surrogatepass")
            self.data, self.angles, self.as_str = raw.lower(), html, False

    def _key(self, text: str) -> str | bytes:
        return text if self.as_str else text.encode("ascii")

    def has(self, key: str) -> bool:
        if key not in self.first:
            self.first[key] = self.data.find(self._key(key))  # type: ignore[arg-type]
        return self.first[key] >= 0

    def hits(self, needle: str) -> Iterator[int]:
        start = 0
        for key, at in self.first.items():
            offset = needle.find(key)
            if offset >= 0:
                if at < 0:
                    return
                start = max(start, at - offset)
        data, key_n = self.data, self._key(needle)
        pos = data.find(key_n, start)  # type: ignore[arg-type]
        done_bytes = done_chars = 0
        while pos >= 0:
            if self.as_str or self.ascii:
                yield pos
            else:
                done_chars += len(data[done_bytes:pos].translate(None, _CONTINUATION_BYTES))  # type: ignore[arg-type]
                done_bytes = pos
                yield done_chars
            pos = data.find(key_n, pos + len(needle))  # type: ignore[arg-type]


def _tags_around(
    html: str, finder: _KeyFinder, needles: tuple[str, ...], limit: int = 200
) -> list[tuple[int, str]]:
    """``(position, tag)`` for each HTML tag containing one of ``needles`` (case-insensitive).

    Linear: ``str.find`` in C over the page, then one bounded look-back/forward per hit, instead of running
    attribute regexes at every ``<a``/``<meta`` of a multi-megabyte page.
    """
    tags: dict[int, str] = {}
    angles = finder.angles
    for needle in needles:
        for pos in finder.hits(needle):
            if len(tags) >= limit:
                break
            start = angles.rfind("<", max(0, pos - 1000), pos)
            end = angles.find(">", pos, pos + 1000)
            if start >= 0 and end >= 0 and ">" not in angles[start:pos]:
                tags.setdefault(start, html[start : end + 1])
    return sorted(tags.items())


def html_licenses(html: str | None, default_version: str, max_chars: int) -> list[WebLicense]:
    """License evidence in raw HTML, strongest first: rel=license links, meta tags, CC badge/deed URLs."""
    if not html:
        return []
    html = html[:max_chars]
    finder = _KeyFinder(html)
    if not any([finder.has(k) for k in ("licen", "creativecommons", "dc.rights")]):  # all three remembered
        return []
    found: list[WebLicense] = []
    tags = _tags_around(html, finder, ("license", "licence", "dc.rights", "dcterms.rights"))
    for _, tag in tags:
        if _REL_LICENSE_RE.match(tag):
            href = _HREF_RE.search(tag)
            spdx = _from_url(href.group(1), default_version) if href else None
            if spdx and href:
                found.append(WebLicense(spdx, "cc_link", href.group(1)))
    for _, tag in tags:
        if not _META_RE.match(tag):
            continue
        content = _CONTENT_RE.search(tag)
        if not content:
            continue
        value = content.group(1)
        spdx = _from_url(value, default_version)
        if spdx is None and (st := _from_statement(value, default_version)):
            spdx = st[0]
        if spdx:
            found.append(WebLicense(spdx, "meta", value[:200]))
    for needle in ("creativecommons.org/", "licensebuttons.net/"):
        for pos in finder.hits(needle):
            if len(found) >= 200:
                break
            m = _CC_URL_RE.match(html, pos)
            if m:
                spdx = cc_id(m.group("variant"), m.group("version"), m.group("port"), default_version)
                found.append(WebLicense(spdx, "cc_link", m.group(0)))
    return found


def text_license(text: str, default_version: str, max_chars: int) -> WebLicense | None:
    """A Creative Commons license statement in the page text, or None."""
    head = text[:max_chars]
    if not lower_contains(head, ("creative", "cc by", "cc-by", "cc0", "domain mark", "creativecommons")):
        return None
    st = _from_statement(head, default_version)
    if st is None:
        m = _CC_URL_RE.search(head)
        if m:
            spdx = cc_id(m.group("variant"), m.group("version"), m.group("port"), default_version)
            return WebLicense(spdx, "cc_text", m.group(0))
        return None
    return WebLicense(st[0], "cc_text", st[1][:200])
