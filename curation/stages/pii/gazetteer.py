"""The PERSON detector's word tables (first names, CLDR words): built from the packages, or prebuilt.

Building them is most of the PII stage's per-worker set-up (~0.15 CPU-s): parsing the 48,000 lines of
gender-guesser's ``nam_dict.txt`` twice (the configured countries, then the full-name-only countries),
loading CLDR month, weekday, country and language names through Babel, and deriving the accent-free
lookups. :func:`build_name_tables` does it from the packages; ``curate models fetch`` (step ``pii_names``)
runs :func:`export` once, which writes the tables of the default ``rules/pii.yaml`` to
``<models_dir>/pii_names.pickle`` as plain dicts and frozensets, and :func:`name_tables` loads that file
on the workers (~0.01 CPU-s) when it was built from the same inputs, falling back to building otherwise.

The file holds a header (the inputs' :func:`tables_key` and the payload's SHA-256) and the pickled
payload; it is unpickled with globals forbidden (only built-in containers, strings and numbers can come
out of it). The key names everything the tables depend on: this module's source (the building code),
the gender-guesser and Babel versions, the nam_dict columns of the countries, ``min_frequency``, the
``not_first_names``, the languages and a digest of the stop words. A file whose key differs (stale: other
rules or package versions), whose checksum fails or that does not unpickle to the expected shape is
rejected with the reason (:class:`NameTablesError`) and the tables are built from the packages: the same
tables either way (``tests/pii/test_gazetteer.py``), never a stale table used silently.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import pickle
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from curation.stages.pii.rules import NAM_DICT_COUNTRIES, NameRules

log = logging.getLogger(__name__)

ARTEFACT = "pii_names.pickle"  # under models_dir
FORMAT = 1
_MAGIC = "curation-pii-name-tables"
_OFFSET = 30  # nam_dict.txt: the frequency columns start here


def _add_names(names: dict[str, int], line: str, best: int) -> None:
    raw = line[3:_OFFSET].strip()
    if "+" not in raw:
        if " " not in raw and len(raw) >= 2 and names.get(raw, 0) < best:
            names[raw] = best
        return
    for name in {raw.replace("+", r) for r in ("", " ", "-")}:
        if " " in name or len(name) < 2:
            continue
        names[name] = max(names.get(name, 0), best)


def parse_nam_dict_lines(text: str, countries: tuple[str, ...], min_frequency: int) -> dict[str, int]:
    """:func:`parse_nam_dict` line by line (any layout)."""
    cols = [NAM_DICT_COUNTRIES.index(c) + _OFFSET for c in countries]
    names: dict[str, int] = {}
    for line in text.splitlines():
        if not line or line[0] in "#=" or len(line) < _OFFSET:
            continue
        best = 0
        for c in cols:
            ch = line[c] if c < len(line) else " "
            if ch != " " and ch != "$":
                best = max(best, int(ch, 16) if ch in "0123456789ABCDEFabcdef" else 0)
        if best < min_frequency:
            continue
        _add_names(names, line, best)
    return names


_HEX_VALUE = {ch: int(ch, 16) for ch in "0123456789ABCDEFabcdef"}


@dataclass(frozen=True)
class _Grid:
    """nam_dict.txt as a fixed-width table: its lines, and per column index the frequency of each line."""

    lines: list[str]
    width: int
    grid: str  # the lines joined: column c of line i is grid[i * width + c]


def _grid(text: str) -> _Grid | None:
    lines = text.splitlines()
    width = len(lines[0]) if lines else 0
    if width <= _OFFSET or any(len(line) != width for line in lines):
        return None
    return _Grid(lines, width, "".join(lines))


def parse_nam_dict(text: str, countries: tuple[str, ...], min_frequency: int, grid: _Grid | None = None
                   ) -> dict[str, int]:
    """First name -> highest frequency (1-13) among ``countries`` in nam_dict.txt's format.

    nam_dict.txt is a fixed-width table (every line 87 characters): each country's frequency column is
    read as one string (``grid[col::width]``), turned into values with a lookup table and maxed over the
    countries with numpy (already loaded with Beam), and only the lines at or above ``min_frequency`` are
    visited. Same names, frequencies and order as :func:`parse_nam_dict_lines`, which remains the path for
    any other layout; the gazetteer was most of the stage's set-up.
    """
    import numpy as np

    g = grid if grid is not None else _grid(text)
    if g is None or min_frequency < 1:
        return parse_nam_dict_lines(text, countries, min_frequency)
    table = np.zeros(256, dtype=np.uint8)
    for ch, v in _HEX_VALUE.items():
        table[ord(ch)] = v
    best = np.zeros(len(g.lines), dtype=np.uint8)
    for c in sorted({NAM_DICT_COUNTRIES.index(c) + _OFFSET for c in countries}):
        if c >= g.width:
            continue
        # a non-ASCII character becomes "?", which is no frequency, as it was not for the line parser
        column = g.grid[c :: g.width].encode("ascii", "replace")
        np.maximum(best, table[np.frombuffer(column, dtype=np.uint8)], out=best)
    names: dict[str, int] = {}
    for i in np.flatnonzero(best >= min_frequency).tolist():
        line = g.lines[i]
        if line[0] not in "#=":
            _add_names(names, line, int(best[i]))
    return names


@lru_cache(maxsize=1)  # both gazetteers of a recognizer are read from one copy
def _nam_dict() -> tuple[str, _Grid | None]:
    text = (resources.files("gender_guesser") / "data" / "nam_dict.txt").read_text(encoding="utf-8")
    return text, _grid(text)


@lru_cache(maxsize=4)
def load_gazetteer(countries: tuple[str, ...], min_frequency: int) -> dict[str, int]:
    """The gender-guesser package's nam_dict.txt restricted to ``countries`` (read once per process)."""
    text, grid = _nam_dict()
    return parse_nam_dict(text, countries, min_frequency, grid)


@lru_cache(maxsize=4)
def cldr_names(languages: tuple[str, ...]) -> frozenset[str]:
    """Lower-cased CLDR country, language, month and weekday names (Babel) of ``languages``: first names
    only inside a full name ("Chad Miller", "April Smith"), never alone ("Georgia", "May", "English")."""
    from babel import Locale

    out: set[str] = set()
    for lang in languages:
        loc = Locale.parse(lang)
        tables = (loc.territories, loc.languages, loc.months["format"]["wide"], loc.days["format"]["wide"])
        for table in tables:
            out |= {str(v).lower() for v in table.values()}
    return frozenset(out)


@lru_cache(maxsize=4)
def cldr_dates(languages: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """Lower-cased CLDR (Babel) month and weekday names of ``languages``, wide and abbreviated, without a
    final dot: ``Mar``/``May``/``June`` next to a day number or weekday are dates, not first names."""
    from babel import Locale

    months: set[str] = set()
    days: set[str] = set()
    for lang in languages:
        loc = Locale.parse(lang)
        for width in ("wide", "abbreviated"):
            months |= {str(v).lower().rstrip(".") for v in loc.months["format"][width].values()}
            days |= {str(v).lower().rstrip(".") for v in loc.days["format"][width].values()}
    return frozenset(months), frozenset(days)


def strip_accents(word: str) -> str:
    """``Édith`` -> ``Edith`` (nam_dict spells some names without their accents)."""
    if word.isascii():  # NFKD leaves ASCII as it is
        return word
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


@dataclass(frozen=True)
class NameTables:
    """What :class:`~curation.stages.pii.names.PersonRecognizer` looks words up in."""

    first_names: dict[str, int]  # first name -> highest nam_dict frequency among the countries
    first_plain: dict[str, int]  # the same names without accents (highest frequency per spelling)
    full_only: frozenset[str]  # first names of full_name_countries, counted only before a surname
    soft: frozenset[str]  # lower-cased CLDR country, language, month and weekday names
    months: frozenset[str]  # lower-cased CLDR month names, wide and abbreviated, without a final dot
    days: frozenset[str]  # the same for weekdays


class NameTablesError(ValueError):
    """A prebuilt name-tables file that cannot be used: absent, unreadable, stale or corrupt (the reason)."""


def _countries(rules: NameRules) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The gazetteer's countries and the full-name-only countries not among them (sorted)."""
    countries = tuple(sorted({c for cs in rules.countries.values() for c in cs}))
    extra = tuple(sorted(set(rules.full_name_countries) - set(countries)))
    return countries, extra


def build_name_tables(rules: NameRules, stop: frozenset[str]) -> NameTables:
    """The tables from the packages (nam_dict.txt, Babel) for ``rules``; ``stop`` is the union of the
    languages' stop words (no first name of a full-name-only country is one)."""
    countries, extra = _countries(rules)
    ranks = {w.lower() for w in rules.not_first_names}
    first_names = {n: f for n, f in load_gazetteer(countries, rules.min_frequency).items()
                   if n.lower() not in ranks}
    first_plain: dict[str, int] = {}
    for n, f in first_names.items():
        key = strip_accents(n)
        first_plain[key] = max(f, first_plain.get(key, 0))
    months, days = cldr_dates(tuple(rules.languages))
    # only distinctive words: no particle or stop word ("De Klerk"), weekday or month ("Tue Mar 31")
    not_full = ranks | stop | months | days
    full_only = frozenset(
        n for n in (load_gazetteer(extra, rules.min_frequency) if extra else {})
        if n not in first_names and len(n) > 2 and n.lower() not in not_full)
    _nam_dict.cache_clear()  # the raw table (~15 MB of strings) is not needed once the names are out
    return NameTables(first_names, first_plain, full_only, cldr_names(tuple(rules.languages)), months, days)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


@lru_cache(maxsize=1)
def code_digest() -> str:
    """SHA-256 of this module's source: the code that builds the tables (an edit makes old files stale)."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def tables_key(rules: NameRules, stop: frozenset[str]) -> dict[str, Any]:
    """Everything :func:`build_name_tables` depends on, as JSON values (a prebuilt file must match it)."""
    countries, extra = _countries(rules)
    return {
        "format": FORMAT,
        "code": code_digest(),
        "gender-guesser": _version("gender-guesser"),
        "babel": _version("babel"),
        "columns": [NAM_DICT_COUNTRIES.index(c) for c in countries],
        "full_name_columns": [NAM_DICT_COUNTRIES.index(c) for c in extra],
        "min_frequency": rules.min_frequency,
        "not_first_names": sorted({w.lower() for w in rules.not_first_names}),
        "languages": sorted(set(rules.languages)),
        "stop_words": hashlib.sha256("\n".join(sorted(stop)).encode("utf-8")).hexdigest(),
    }


class _PlainUnpickler(pickle.Unpickler):
    """Unpickles built-in containers, strings and numbers only: any class or function is refused."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a name-tables file")


def _plain_loads(data: bytes) -> Any:
    return _PlainUnpickler(io.BytesIO(data)).load()


def write_tables(path: Path, tables: NameTables, key: dict[str, Any]) -> Path:
    """Write ``tables`` built for ``key`` to ``path`` (atomically replaced)."""
    payload = pickle.dumps((tables.first_names, tables.first_plain, tables.full_only, tables.soft,
                            tables.months, tables.days), protocol=5)
    header = json.dumps({"key": key, "sha256": hashlib.sha256(payload).hexdigest()}, sort_keys=True)
    part = path.with_name(path.name + ".part")
    part.write_bytes(pickle.dumps((_MAGIC, header, payload), protocol=5))
    os.replace(part, path)
    return path


def _stale_fields(stored: Any, key: dict[str, Any]) -> list[str]:
    if not isinstance(stored, dict):
        return ["key"]
    return sorted(k for k in {*stored, *key} if stored.get(k) != key.get(k))


def read_tables(path: Path, key: dict[str, Any]) -> NameTables:
    """The tables in ``path`` if it was built for ``key`` and is intact; else :class:`NameTablesError`."""
    try:
        outer = _plain_loads(path.read_bytes())
    except FileNotFoundError:
        raise NameTablesError(f"{path} is absent") from None
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError) as exc:
        raise NameTablesError(f"{path} is unreadable ({type(exc).__name__}: {exc})") from exc
    if not (isinstance(outer, tuple) and len(outer) == 3 and outer[0] == _MAGIC
            and isinstance(outer[1], str) and isinstance(outer[2], bytes)):
        raise NameTablesError(f"{path} is not a PII name-tables file")
    _magic, header_text, payload = outer
    try:
        header = json.loads(header_text)
    except ValueError as exc:
        raise NameTablesError(f"{path} is corrupt (its header is not JSON: {exc})") from exc
    stored = header.get("key") if isinstance(header, dict) else None
    stale = _stale_fields(stored, json.loads(json.dumps(key)))
    if stale:
        raise NameTablesError(f"{path} is stale: built for another {', '.join(stale)} than these rules and "
                              "packages have")
    if header.get("sha256") != hashlib.sha256(payload).hexdigest():
        raise NameTablesError(f"{path} is corrupt (checksum mismatch)")
    try:
        parts = _plain_loads(payload)
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError) as exc:
        raise NameTablesError(f"{path} is corrupt ({type(exc).__name__}: {exc})") from exc
    kinds = (dict, dict, frozenset, frozenset, frozenset, frozenset)
    if not (isinstance(parts, tuple) and len(parts) == len(kinds)
            and all(isinstance(p, k) for p, k in zip(parts, kinds, strict=True))):
        raise NameTablesError(f"{path} is corrupt (not the {len(kinds)} tables)")
    return NameTables(*parts)


def name_tables(rules: NameRules, stop: frozenset[str], path: str | Path | None = None) -> NameTables:
    """The prebuilt tables in ``path`` when they match ``rules`` and the installed packages, else (and
    without a path) the tables built from the packages; a rejected file is logged with its reason."""
    if path is not None:
        try:
            return read_tables(Path(path), tables_key(rules, stop))
        except NameTablesError as exc:
            log.warning("pii: %s; building the name tables from the packages instead (~0.15 CPU-s per "
                        "worker); rebuild the file with `curate models fetch`", exc)
    return build_name_tables(rules, stop)


def stop_words(languages: tuple[str, ...]) -> frozenset[str]:
    """The union of the languages' stop words, as :class:`~curation.stages.pii.names.PersonRecognizer`
    builds it."""
    from curation.stopwords import spacy_stop_words

    return frozenset().union(*(spacy_stop_words(lg) for lg in languages))


def check_file(models_dir: str | Path, rules: NameRules) -> str | None:
    """Why ``<models_dir>/pii_names.pickle`` cannot be used with ``rules`` (``None`` when it can)."""
    try:
        read_tables(Path(models_dir) / ARTEFACT, tables_key(rules, stop_words(tuple(rules.languages))))
    except NameTablesError as exc:
        return str(exc)
    return None


def export(dest: Path, rules: NameRules | None = None) -> Path:
    """Build the tables of ``rules`` (default: ``rules/pii.yaml``) into ``dest/pii_names.pickle``."""
    if rules is None:
        from curation.rules import RULES_DIR
        from curation.stages.pii.entities import SUPPORTED_ENTITIES
        from curation.stages.pii.rules import load_pii_rules

        rules = load_pii_rules(RULES_DIR / "pii.yaml", SUPPORTED_ENTITIES).names
    stop = stop_words(tuple(rules.languages))
    dest.mkdir(parents=True, exist_ok=True)
    return write_tables(dest / ARTEFACT, build_name_tables(rules, stop), tables_key(rules, stop))
