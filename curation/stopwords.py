"""Per-language stop-word lists (quality rules, PII name filter): the lists that ship inside ``spacy``.

spaCy keeps a curated ``STOP_WORDS`` set for about 70 languages in ``spacy/lang/<code>/stop_words.py``
(MIT licence; sources per language are cited in those files). We read the file with :mod:`ast` instead of
importing it, so loading a list neither imports spaCy (slow, heavy) nor runs package code; the lists are
resolved once when the rules are loaded and travel with the rules to the workers.

Language codes are ISO 639-1 as lid.176 reports them; ``nb`` (Bokmål) uses spaCy's ``nb``, and a code
spaCy does not have (e.g. ``sw``) has no list: its stop-word rules are skipped, never replaced by English.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

# lid.176 codes whose spaCy folder has another name.
_SPACY_CODE = {"no": "nb", "iw": "he", "in": "id"}


def spacy_lang_dir() -> Path | None:
    """The ``spacy/lang`` folder of the installed spaCy package (``None`` if spaCy is not installed)."""
    spec = importlib.util.find_spec("spacy")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "lang"


def spacy_stop_words(lang: str) -> frozenset[str]:
    """spaCy's stop words for ``lang``, lower-cased (empty when spaCy has no list for it)."""
    base = spacy_lang_dir()
    if base is None:
        return frozenset()
    path = base / _SPACY_CODE.get(lang, lang) / "stop_words.py"
    if not path.is_file():
        return frozenset()
    return frozenset(w.lower() for w in _string_set(path.read_text(encoding="utf-8")) if w)


def _string_set(source: str) -> set[str]:
    """The words of ``STOP_WORDS = set(\"\"\"...\"\"\".split())`` (or a set/list literal) in ``source``."""
    tree = ast.parse(source)
    words: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign):
            continue
        if not any(isinstance(t, ast.Name) and t.id == "STOP_WORDS" for t in node.targets):
            continue
        for sub in ast.walk(node.value):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                words.update(sub.value.split())
    return words
