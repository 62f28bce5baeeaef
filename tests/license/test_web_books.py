"""Web (Creative Commons), book (Gutenberg, public domain) and conversation (manifest) evidence."""

from __future__ import annotations

import pytest

import curation.stages.license.web as W
from curation.document import Document
from curation.stages.license.books import gutenberg_license, strip_gutenberg
from curation.stages.license.stage import LicenseProcessor
from curation.stages.license.web import cc_id, html_licenses, text_license

PAGE = "<html><head><title>t</title>{head}</head><body><p>Some article text.</p>{body}</body></html>"


def web_doc(text: str = "Some article text.", html: str | None = None, **kw: object) -> Document:
    return Document(id="w", source_kind="web", source="s", text=text, html=html, **kw)  # type: ignore[arg-type]


def run(proc: LicenseProcessor, doc: Document) -> Document:
    out = proc.process(doc)
    return out if isinstance(out, Document) else out.doc


@pytest.mark.parametrize(
    ("variant", "version", "port", "expected"),
    [
        ("by", "4.0", None, "CC-BY-4.0"),
        ("by-sa", "3.0", None, "CC-BY-SA-3.0"),
        ("by-nc", "4.0", None, "CC-BY-NC-4.0"),
        ("by-nd", "2.0", None, "CC-BY-ND-2.0"),
        ("by-nc-sa", "2.5", None, "CC-BY-NC-SA-2.5"),
        ("by-nc-nd", "4.0", None, "CC-BY-NC-ND-4.0"),
        ("by", "3.0", "us", "CC-BY-3.0-US"),  # a port on the SPDX list
        ("by", "3.0", "xx", "CC-BY-3.0"),  # unknown port -> generic
        ("zero", "1.0", None, "CC0-1.0"),
        ("mark", "1.0", None, "LicenseRef-PublicDomain"),
        ("by-sa", None, None, "CC-BY-SA-4.0"),  # no version -> default
    ],
)
def test_cc_ids(variant: str, version: str | None, port: str | None, expected: str) -> None:
    assert cc_id(variant, version, port, "4.0") == expected


def test_rel_license_link_beats_other_urls() -> None:
    html = PAGE.format(
        head="",
        body='<a rel="license" href="https://creativecommons.org/licenses/by-nc-sa/4.0/">CC</a>'
        '<img src="https://i.creativecommons.org/l/by/3.0/88x31.png">',
    )
    hits = html_licenses(html, "4.0", 10**6)
    assert hits[0].spdx == "CC-BY-NC-SA-4.0" and hits[0].evidence == "cc_link"


def test_meta_tag_and_badge() -> None:
    meta = PAGE.format(
        head='<meta name="dcterms.license" content="https://creativecommons.org/licenses/by-nd/4.0/">',
        body="",
    )
    first = html_licenses(meta, "4.0", 10**6)[0]
    assert (first.spdx, first.evidence) == ("CC-BY-ND-4.0", "meta")
    badge = PAGE.format(head="", body='<img src="https://licensebuttons.net/l/by-sa/3.0/88x31.png">')
    assert html_licenses(badge, "4.0", 10**6)[0].spdx == "CC-BY-SA-3.0"


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (
            "Content is licensed under a Creative Commons Attribution-NonCommercial-ShareAlike 4.0 "
            "International License.",
            "CC-BY-NC-SA-4.0",
        ),
        ("Text is available under the Creative Commons Attribution-ShareAlike 3.0 License.", "CC-BY-SA-3.0"),
        ("This page is published under a CC BY-ND 4.0 license.", "CC-BY-ND-4.0"),
        (
            "To the extent possible under law, the author has waived all rights (CC0 1.0 Universal).",
            "CC0-1.0",
        ),
        ("Licensed CC BY 2.0.", "CC-BY-2.0"),
    ],
)
def test_cc_text_statements(sentence: str, expected: str) -> None:
    hit = text_license(f"An article.\n\n{sentence}", "4.0", 10**6)
    assert hit is not None and hit.spdx == expected and hit.evidence == "cc_text"


def test_no_cc_on_plain_pages() -> None:
    assert text_license("We discussed common licenses and the Apache license.", "4.0", 10**6) is None
    assert html_licenses(PAGE.format(head="", body='<a href="/license.html">License</a>'), "4.0", 10**6) == []
    assert html_licenses(None, "4.0", 10**6) == []


def test_web_document_tagging_and_precedence(proc: LicenseProcessor) -> None:
    html = PAGE.format(
        head="", body='<a rel="license" href="http://creativecommons.org/licenses/by/4.0/">x</a>'
    )
    out = run(proc, web_doc("Article. Licensed under CC BY-SA 4.0.", html))
    assert out.license == "CC-BY-4.0" and out.license_evidence == "cc_link"
    assert "cc_text=CC-BY-SA-4.0" in out.signals["license.candidates"]
    out = run(proc, web_doc("Article. Licensed under CC BY-SA 4.0.", None))  # html may be None
    assert out.license == "CC-BY-SA-4.0" and out.license_evidence == "cc_text"
    out = run(proc, web_doc("Plain article.", None, license="CC-BY-4.0", license_evidence="manifest"))
    assert out.license == "CC-BY-4.0" and out.license_evidence == "manifest"
    assert run(proc, web_doc("Plain article.", "<html><body>x</body></html>")).license == "NOASSERTION"


GUTENBERG_HEAD = (
    "The Project Gutenberg eBook of Persuasion, by Jane Austen\n\nThis eBook is for the use of anyone"
    " anywhere in the United States and\nmost other parts of the world at no cost.\n\nTitle: Persuasion\n\n"
    "*** START OF THE PROJECT GUTENBERG EBOOK PERSUASION ***\n\n\n"
)
GUTENBERG_TAIL = (
    "\n\n*** END OF THE PROJECT GUTENBERG EBOOK PERSUASION ***\n\nUpdated editions will replace the previous"
    " one--the old editions\nwill be renamed.\n"
)
CHAPTER = "Chapter 1\n\nSir Walter Elliot, of Kellynch Hall, never took up any book but the Baronetage.\n"


def book_doc(text: str, **kw: object) -> Document:
    return Document(id="b", source_kind="book", source="s", text=text, **kw)  # type: ignore[arg-type]


def test_gutenberg_markers_and_strip() -> None:
    text = GUTENBERG_HEAD + CHAPTER + GUTENBERG_TAIL
    hit = gutenberg_license(text, 60_000)
    assert hit is not None and hit.spdx == "LicenseRef-PublicDomain"
    assert strip_gutenberg(text, 60_000) == CHAPTER.strip("\n")
    assert strip_gutenberg(CHAPTER, 60_000) == CHAPTER  # no markers: unchanged
    assert gutenberg_license(CHAPTER, 60_000) is None
    # a marker quoted in the middle of a long text is not honoured
    long = "x\n" * 50_000 + "*** END OF THE PROJECT GUTENBERG EBOOK X ***\n" + "y\n" * 50_000
    assert strip_gutenberg(long, 1_000) == long


def test_copyrighted_gutenberg_is_not_public_domain() -> None:
    text = "This is a *copyrighted* Project Gutenberg eBook, details below.\n" + GUTENBERG_HEAD + CHAPTER
    hit = gutenberg_license(text, 60_000)
    assert hit is not None and hit.spdx == "LicenseRef-Gutenberg-Copyrighted"


def test_book_tagging(proc: LicenseProcessor) -> None:
    out = run(
        proc,
        book_doc(GUTENBERG_HEAD + CHAPTER + GUTENBERG_TAIL, license="CC-BY-4.0", license_evidence="manifest"),
    )
    assert out.license == "LicenseRef-PublicDomain" and out.license_evidence == "gutenberg"
    assert out.text == CHAPTER.strip("\n")
    assert out.signals["license.category"] == "public_domain"
    assert out.signals["license.gutenberg_chars_removed"] > 0
    pd = run(proc, book_doc(CHAPTER + "\nThis book is in the public domain in the United States.\n"))
    assert pd.license == "LicenseRef-PublicDomain" and pd.license_evidence == "public_domain"
    plain = run(proc, book_doc(CHAPTER))
    assert plain.license == "NOASSERTION" and plain.text == CHAPTER
    shard = run(proc, book_doc(CHAPTER, license="CC-BY-SA-4.0", license_evidence="manifest"))
    assert shard.license == "CC-BY-SA-4.0" and shard.license_evidence == "manifest"


def test_conversation_uses_only_manifest(proc: LicenseProcessor) -> None:
    msgs = (("user", "is this licensed under CC BY-NC 4.0?"), ("bot", "SPDX-License-Identifier: GPL-3.0"))
    conv = Document(id="c", source_kind="conversation", source="s", text="user: ...", messages=msgs)
    out = run(proc, conv.evolve(text="\n".join(f"{a}: {b}" for a, b in msgs)))
    assert out.license == "NOASSERTION"  # talking about a license is not a grant
    out = run(proc, conv.evolve(license="CC-BY-4.0", license_evidence="manifest"))
    assert out.license == "CC-BY-4.0" and out.license_evidence == "manifest" and out.license_confidence == 0.6


def test_book_prechecks_never_hide_a_marker() -> None:
    """The substring pre-checks of gutenberg_license/public_domain_license only skip texts the regexes
    cannot match: with or without them, the same result on fuzzed marker fragments."""
    import random

    from curation.stages.license import books

    frags = ["*** START OF THE PROJECT GUTENBERG EBOOK X ***", "*END*THE SMALL PRINT!", "\n", " ",
             "*** end of this project gutenberg e-book", "End of the Project Gutenberg", "www.gutenberg.net",
             "The Project Gutenberg eBook of", "This ebook is for the use of anyone anywhere", "  \n",
             "is in the public domain", "public domain work", "publıc domaın edition", "copyrighted Project "
             "Gutenberg", "GUTENBERG", "İ", "ſ", "text"]
    rng = random.Random(0)

    def full(text: str, window: int) -> tuple[object, object]:
        head, tail = text[:window], text[-window:] if len(text) > window else ""
        m = (books._START_RE.search(head) or books._END_RE.search(tail or head)
             or books._HEADER_RE.search(head) or books._HEADER_RE.search(tail))
        pd = [books._PD_RE.search(p) for p in (text[:window], text[-window:])]
        return (m.group(0).strip()[:200] if m else None), next((x.group(0) for x in pd if x), None)

    for _ in range(5000):
        text = "".join(rng.choice(frags) for _ in range(rng.randint(0, 6)))
        for window in (30, 5000):
            g, p = books.gutenberg_license(text, window), books.public_domain_license(text, window)
            assert ((g.detail if g else None), (p.detail if p else None)) == full(text, window)


def test_lower_contains_equals_str_lower() -> None:
    """The UTF-8 bytes pre-check answers as ``str.lower`` does, also with the two characters that lower-case
    to ASCII (U+0130, U+212A), other cased letters, surrogates and astral characters."""
    import random

    from curation.stages.license.fold import lower_contains

    needles = [("licen",), ("domain mark", "cc0"), ("xi",), ("k",), ("c doma", "gutenberg"), ("a b",)]
    alphabet = [*"LICENlicenDOMAINmarkKxX0c b", "\u0130", "\u212a", "\u0131", "é", "É", "ß", "Σ", "\ud800"]
    alphabet.append("\U0001f600")
    rng = random.Random(0)
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        for keys in needles:
            assert lower_contains(text, keys) == any(k in text.lower() for k in keys), (text, keys)


# html_licenses as it was (str.lower and str.find over the page), the reference for the bytes search.
def _tags_around_reference(
    html: str, low: str, needles: tuple[str, ...], limit: int = 200
) -> list[tuple[int, str]]:
    """``(position, tag)`` for each HTML tag containing one of ``needles`` (found on the lower-cased copy).

    Linear: ``str.find`` in C over the page, then one bounded look-back/forward per hit, instead of running
    attribute regexes at every ``<a``/``<meta`` of a multi-megabyte page.
    """
    tags: dict[int, str] = {}
    for needle in needles:
        pos = low.find(needle)
        while pos >= 0 and len(tags) < limit:
            start = low.rfind("<", max(0, pos - 1000), pos)
            end = low.find(">", pos, pos + 1000)
            if start >= 0 and end >= 0 and ">" not in low[start:pos]:
                tags.setdefault(start, html[start : end + 1])
            pos = low.find(needle, pos + len(needle))
    return sorted(tags.items())


def _html_licenses_reference(html: str | None, default_version: str, max_chars: int) -> list:
    """License evidence in raw HTML, strongest first: rel=license links, meta tags, CC badge/deed URLs."""
    if not html:
        return []
    html = html[:max_chars]
    low = html.lower()
    if "licen" not in low and "creativecommons" not in low and "dc.rights" not in low:
        return []
    found: list = []
    tags = _tags_around_reference(html, low, ("license", "licence", "dc.rights", "dcterms.rights"))
    for _, tag in tags:
        if W._REL_LICENSE_RE.match(tag):
            href = W._HREF_RE.search(tag)
            spdx = W._from_url(href.group(1), default_version) if href else None
            if spdx and href:
                found.append(W.WebLicense(spdx, "cc_link", href.group(1)))
    for _, tag in tags:
        if not W._META_RE.match(tag):
            continue
        content = W._CONTENT_RE.search(tag)
        if not content:
            continue
        value = content.group(1)
        spdx = W._from_url(value, default_version)
        if spdx is None and (st := W._from_statement(value, default_version)):
            spdx = st[0]
        if spdx:
            found.append(W.WebLicense(spdx, "meta", value[:200]))
    for needle in ("creativecommons.org/", "licensebuttons.net/"):
        pos = low.find(needle)
        while pos >= 0 and len(found) < 200:
            m = W._CC_URL_RE.match(html, pos)
            if m:
                spdx = W.cc_id(m.group("variant"), m.group("version"), m.group("port"), default_version)
                found.append(W.WebLicense(spdx, "cc_link", m.group(0)))
            pos = low.find(needle, pos + len(needle))
    return found


def test_html_licenses_equals_the_str_lower_reference() -> None:
    """Key words found on lower-cased UTF-8 bytes (byte offsets mapped to characters) give the tags and
    licenses of the str.lower search, with non-ASCII text before/among hits, and the U+0130/U+212A pages
    (which keep the str path, misaligned positions included)."""
    import random

    frags = ["<a ", "<A ", 'rel="License" ', "LICENSE", "licence", ">", "<", "dc.rights", " ", "\n", "é"]
    frags += ["中文", "\U0001f600", "\ud800", "\u0130", "\u212a"]
    frags += ['<meta name="dc.rights" content="CC BY 4.0">', "CreativeCommons.org/licenses/by/3.0/ "]
    frags += ['href="https://creativecommons.org/licenses/by-sa/4.0/"']
    frags += ["licensebuttons.net/l/by-nc/4.0/88x31.png", "x" * 900]
    rng = random.Random(0)
    for _ in range(4000):
        html = "".join(rng.choice(frags) for _ in range(rng.randint(0, 14)))
        assert W.html_licenses(html, "4.0", 10**6) == _html_licenses_reference(html, "4.0", 10**6), html
        for limit in (1, 200):
            finder = W._KeyFinder(html)
            finder.has(rng.choice(["licen", "rights", "x"]))  # a remembered key shortens later searches
            needles = ("license", "licence", "dc.rights", "dcterms.rights")
            want = _tags_around_reference(html, html.lower(), needles, limit)
            assert W._tags_around(html, finder, needles, limit) == want
