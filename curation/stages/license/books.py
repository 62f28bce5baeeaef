"""Book evidence: Project Gutenberg markers and public-domain statements; Gutenberg boilerplate stripping.

Project Gutenberg eBooks are framed by a header ending in ``*** START OF THE PROJECT GUTENBERG EBOOK
<TITLE> ***`` (older files: ``*** START OF THIS PROJECT GUTENBERG EBOOK``, ``*END*THE SMALL PRINT!``) and
a footer starting at ``*** END OF THE PROJECT GUTENBERG EBOOK <TITLE> ***`` / ``End of the Project
Gutenberg EBook of``, followed by the Project Gutenberg License. The boilerplate is not part of the work
and is repeated in every eBook, so it is stripped (as in the ``gutenberg`` cleaning tools used for PG-19,
Rae et al. 2019, and the Standardized Project Gutenberg Corpus, Gerlach & Font-Clos 2018). PG marks its
few copyrighted eBooks ("This is a *copyrighted* Project Gutenberg eBook"); those are not tagged public
domain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from curation.stages.license.fold import lower_contains

PUBLIC_DOMAIN = "LicenseRef-PublicDomain"
GUTENBERG_COPYRIGHTED = "LicenseRef-Gutenberg-Copyrighted"

_START_RE = re.compile(
    r"^[^\n]*(?:\*\*\*\s*START OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK|\*END\*THE SMALL PRINT!)[^\n]*\n?",
    re.IGNORECASE | re.MULTILINE,
)
_END_RE = re.compile(
    r"^[^\n]*(?:\*\*\*\s*END OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK"
    r"|^\s*End of (?:the )?Project Gutenberg\b)[^\n]*$",
    re.IGNORECASE | re.MULTILINE,
)
_HEADER_RE = re.compile(
    r"The Project Gutenberg E-?Book of|This e-?Book is for the use of anyone anywhere|"
    r"Project Gutenberg(?:'s|™)? (?:License|eBook|EBook|Etext)|www\.gutenberg\.(?:org|net)",
    re.IGNORECASE,
)
_COPYRIGHTED_RE = re.compile(r"\*?copyrighted\*? Project Gutenberg", re.IGNORECASE)
_PD_RE = re.compile(
    r"\b(?:is|are|was|has been|been) (?:placed |released |dedicated )?(?:in|into|to) the public domain\b|"
    r"\bpublic domain (?:work|book|text|edition)\b"
    r"|\bin the public domain in the (?:United States|USA|U\.S\.)",
    re.IGNORECASE,
)


# Lower-case substrings one of which every match of the patterns above contains (none has a letter that
# re.IGNORECASE matches beyond str.lower(), like i/ı or s/ſ): a text without them cannot match, so the
# line-anchored, backtracking searches run only on the few texts that can (a substring search is ~100x
# cheaper on a 60 KB book).
_GUTENBERG_KEYS = ("gutenberg", "mall pr", "anyone anywhere")  # _START_RE, _END_RE, _HEADER_RE
_PD_KEY = "c doma"  # "public domain" ('i' also matches 'ı' under IGNORECASE)


def _may_match(text: str, keys: tuple[str, ...]) -> bool:
    return lower_contains(text, keys)


@dataclass(frozen=True, slots=True)
class BookLicense:
    spdx: str
    evidence: str  # gutenberg | public_domain
    detail: str


def gutenberg_license(text: str, window: int) -> BookLicense | None:
    """Project Gutenberg evidence in the first/last ``window`` characters, or None."""
    head, tail = text[:window], text[-window:] if len(text) > window else ""
    if not _may_match(head, _GUTENBERG_KEYS) and not _may_match(tail, _GUTENBERG_KEYS):
        return None
    m = (
        _START_RE.search(head)
        or _END_RE.search(tail or head)
        or _HEADER_RE.search(head)
        or _HEADER_RE.search(tail)
    )
    if not m:
        return None
    spdx = GUTENBERG_COPYRIGHTED if _COPYRIGHTED_RE.search(head) else PUBLIC_DOMAIN
    return BookLicense(spdx, "gutenberg", m.group(0).strip()[:200])


def public_domain_license(text: str, window: int) -> BookLicense | None:
    """An explicit public-domain statement near either end of the book, or None."""
    for part in (text[:window], text[-window:]):
        m = _PD_RE.search(part) if _may_match(part, (_PD_KEY,)) else None
        if m:
            return BookLicense(PUBLIC_DOMAIN, "public_domain", m.group(0)[:200])
    return None


def strip_gutenberg(text: str, window: int) -> str:
    """Remove the Gutenberg header (through the START line) and footer (from the END line) if present.

    Only markers within ``window`` characters of either end are honoured, so a chapter quoting a marker in
    the middle is never truncated. Without markers the text is returned unchanged.
    """
    start = 0
    m = _START_RE.search(text[:window])
    if m:
        start = m.end()
    end = len(text)
    tail_from = max(start, len(text) - window)
    m_end = _END_RE.search(text, tail_from)
    if m_end:
        end = m_end.start()
    if start == 0 and end == len(text):
        return text
    return text[start:end].strip("\n")
