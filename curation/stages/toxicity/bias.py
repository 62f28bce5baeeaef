"""Bias measurement: identity-term lists, per-document representation counts, co-occurrence statistics.

* **Representation** (the probe, applied before and after curation): per source kind, mentions of each
  identity group / subgroup, documents mentioning it, and their shares, so a reader sees whether
  filtering changed who the corpus talks about (Dodge et al. 2021 found that blocklist filtering of C4
  removed text mentioning sexual-orientation terms disproportionately).
* **Co-occurrence** (emitted by the stage): for each group, the share of its mentions that fall inside
  toxic spans vs. the corpus baseline (share of all words inside toxic spans), and the adjectives /
  occupations most associated with it by pointwise mutual information over scoring windows,
  ``PMI(g, w) = log2(c(g, w) * N / (c(g) * c(w)))`` with ``c`` = number of windows containing the
  term(s) and ``N`` = windows of that source kind (the co-occurrence analysis of Brown et al. 2020, §6.2,
  and Rae et al. 2021, §5.2, in its simplest form). Pairs seen in fewer than ``min_count`` windows are
  not reported (PMI is unstable on rare pairs).

Lists live in ``rules/bias/`` (one YAML file per group plus ``descriptors.yaml``); see their ``source``.
All counts are plain nested dicts of ints, summed with :func:`add_nested` (commutative and associative, so
any runner, bundle or batch split gives the same result).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress
from operator import not_
from pathlib import Path
from typing import Any

from curation.rules import ConfigError, load_rules, resolve_rules_path
from curation.stages.toxicity.terms import TermMatcher
from curation.stages.toxicity.termscan import KeyedTerms

DESCRIPTORS_FILE = "descriptors.yaml"
Nested = dict[str, Any]


@dataclass(frozen=True)
class IdentityGroup:
    """One ``rules/bias/<group>.yaml`` file."""

    group: str
    source: str
    subgroups: dict[str, tuple[str, ...]]
    notes: str = ""


@dataclass(frozen=True)
class Descriptors:
    """``rules/bias/descriptors.yaml``: words whose association with identity groups is reported."""

    source: str
    adjectives: tuple[str, ...] = ()
    occupations: tuple[str, ...] = ()


@dataclass(frozen=True)
class BiasLists:
    groups: tuple[IdentityGroup, ...]
    descriptors: Descriptors

    def matcher(self) -> TermMatcher:
        """One matcher for identity terms (``id:<group>/<subgroup>``) and descriptors (``adj``/``occ``)."""
        labelled: dict[str, list[str]] = {}
        for g in self.groups:
            for sub in sorted(g.subgroups):
                labelled[f"id:{g.group}/{sub}"] = list(g.subgroups[sub])
        labelled["adj"] = list(self.descriptors.adjectives)
        labelled["occ"] = list(self.descriptors.occupations)
        return TermMatcher.build(labelled)


def load_bias_lists(terms_dir: str, base_dir: Path | None = None) -> BiasLists:
    """Load every group file and the descriptors file of ``terms_dir`` (sorted, validated)."""
    folder = resolve_rules_path(terms_dir, base_dir)
    if not folder.is_dir():
        raise ConfigError(folder, "bias.terms_dir", "folder of identity-term lists not found")
    groups = []
    for f in sorted(folder.glob("*.yaml")):
        if f.name == DESCRIPTORS_FILE:
            continue
        g = load_rules(f, IdentityGroup)
        if not g.subgroups or not all(g.subgroups.values()):
            raise ConfigError(f, "subgroups", "every subgroup needs at least one term")
        groups.append(g)
    if not groups:
        raise ConfigError(folder, None, "no identity-term lists (*.yaml) found")
    names = [g.group for g in groups]
    if len(set(names)) != len(names):
        raise ConfigError(folder, "group", f"duplicate group names: {names}")
    return BiasLists(tuple(groups), load_rules(folder / DESCRIPTORS_FILE, Descriptors))


def add_nested(a: Nested, b: Mapping[str, Any]) -> Nested:
    """Add nested dicts of numbers ``b`` into ``a`` (in place) and return ``a``."""
    for k, v in b.items():
        if isinstance(v, Mapping):
            add_nested(a.setdefault(k, {}), v)
        else:
            a[k] = a.get(k, 0) + v
    return a


def _identity_counts(labels: Iterable[str]) -> tuple[dict[str, int], dict[str, int]]:
    groups: dict[str, int] = {}
    subs: dict[str, int] = {}
    for lab in labels:
        sub = lab[3:]
        g = sub.split("/", 1)[0]
        groups[g] = groups.get(g, 0) + 1
        subs[sub] = subs.get(sub, 0) + 1
    return groups, subs


def is_identity(label: str) -> bool:
    """Whether a matcher label is an identity term's (``id:<group>/<subgroup>``), not a descriptor's."""
    return label.startswith("id:")


def identity_scanner(matcher: TermMatcher) -> KeyedTerms:
    """The identity terms of :meth:`BiasLists.matcher` for :func:`doc_representation`'s whole-document
    scans (:class:`~curation.stages.toxicity.termscan.KeyedTerms`: only words whose key is a term's are
    made and looked up)."""
    return KeyedTerms.build(matcher, is_identity)


def doc_representation(text: str, source_kind: str, matcher: TermMatcher | KeyedTerms) -> Nested:
    """One document's representation counts: ``{kind: {docs, words, groups: {g: {mentions, docs}}, ...}}``.

    ``matcher``: :meth:`BiasLists.matcher`, or its :func:`identity_scanner` (the same counts, cheaper)."""
    found, n_words = matcher.labels(text)
    labels = [label for label, _ in found if is_identity(label)]
    groups, subs = _identity_counts(labels)
    return {
        source_kind: {
            "docs": 1,
            "words": n_words,
            "mentions": len(labels),
            "groups": {g: {"mentions": c, "docs": 1} for g, c in groups.items()},
            "subgroups": {s: {"mentions": c, "docs": 1} for s, c in subs.items()},
        }
    }


def _new_cooccurrence() -> Nested:
    """Empty co-occurrence counts of one document."""
    totals = dict.fromkeys(("windows", "toxic_windows", "words", "toxic_words"), 0)
    return {**totals, "groups": {}, "desc": {}, "joint": {}}


Summary = tuple[tuple[tuple[str, int], ...], dict[str, int], tuple[str, ...], tuple[str, ...]]


def _window_summary(found: Iterable[tuple[str, str]]) -> Summary | None:
    """What one window's matches add to the co-occurrence counts: ``(group and subgroup mentions,
    subgroup mentions, descriptor keys, joint keys)``; None when it matched no identity term or
    descriptor."""
    ids: list[str] = []
    desc: set[str] = set()
    for label, term in found:
        if label.startswith("id:"):
            ids.append(label)
        else:
            desc.add(f"{label}:{term.casefold()}")
    if not ids and not desc:
        return None
    groups, subs = _identity_counts(ids)
    present = set(groups) | set(subs)
    joint = tuple(f"{key}|{d}" for d in desc for key in present)
    return (*groups.items(), *subs.items()), subs, tuple(desc), joint


def _add_window(
    st: Nested,
    found: Sequence[tuple[str, str]],
    toxic: bool,
    memo: dict[tuple[tuple[str, str], ...], Summary | None] | None = None,
) -> dict[str, int] | None:
    """Add one window's matches (``(label, term)``) to the co-occurrence counts ``st``; returns its
    identity mentions per ``group/subgroup`` (None when it matched no identity term or descriptor).
    ``memo``: summaries by matches (windows repeat theirs: "he", "his", "she"), kept by the caller."""
    if memo is None:
        summary = _window_summary(found)
    else:
        key = tuple(found)
        summary = memo.get(key, memo)
        if summary is memo:
            summary = memo[key] = _window_summary(found)
    if summary is None:
        return None
    pairs, subs, desc, joint = summary
    groups = st["groups"]
    for key, c in pairs:
        g = groups.get(key)
        if g is None:
            g = groups[key] = {"mentions": 0, "toxic_mentions": 0, "windows": 0}
        g["mentions"] += c
        g["windows"] += 1
        if toxic:
            g["toxic_mentions"] += c
    counts = st["desc"]
    for d in desc:
        counts[d] = counts.get(d, 0) + 1
    counts = st["joint"]
    for jk in joint:
        counts[jk] = counts.get(jk, 0) + 1
    return dict(subs)


def window_cooccurrence(
    windows: Iterable[tuple[str, bool]],
    source_kind: str,
    matcher: TermMatcher,
    tokens: Sequence[tuple[str, Sequence[str]]] | None = None,
    stems: Sequence[bool] | None = None,
    per_window: list[tuple[int, dict[str, int]]] | None = None,
) -> tuple[Nested, list[tuple[int, dict[str, int]]]]:
    """Co-occurrence counts of one document's ``(window text, is_toxic)`` pairs.

    Returns the partial stats ``{kind: {...}}`` and, for each toxic window mentioning identity terms,
    ``(window index, {group/subgroup: mentions})`` (the bias filter's input). When ``per_window`` is
    given, ``(words, {group/subgroup: mentions})`` of every window is appended to it. The stage calls
    :func:`sparse_cooccurrence`, which visits only the windows where a term can start (the same counts).
    """
    st = _new_cooccurrence()
    toxic_ids: list[tuple[int, dict[str, int]]] = []
    labels, starts = matcher.labels, matcher.starts
    n_windows = n_toxic = words = toxic_words = 0
    for index, (text, toxic) in enumerate(windows):
        tok = tokens[index] if tokens is not None else None
        stem = stems[index] if stems is not None else None
        if tok is not None and stem is False and starts.isdisjoint(tok[1]):
            found, n_words = (), len(tok[1])  # no exact term starts with any word, no stem: no match
        else:
            found, n_words = labels(text, tok, stem)
        n_windows += 1
        words += n_words
        if toxic:
            n_toxic += 1
            toxic_words += n_words
        subs = _add_window(st, found, toxic) if found else None
        if per_window is not None:
            per_window.append((n_words, subs or {}))
        if toxic and subs:
            toxic_ids.append((index, subs))
    st.update(windows=n_windows, toxic_windows=n_toxic, words=words, toxic_words=toxic_words)
    return {source_kind: st, "all": st}, toxic_ids


def match_candidates(
    matcher: TermMatcher, words: Sequence[Sequence[str]], stems: Iterable[int] = ()
) -> list[int]:
    """Sorted indices of the windows (given as their words) where ``matcher`` can match: a word starts an
    exact term, or the window is in ``stems`` (a stem may occur). Every other window matches nothing."""
    hit = compress(range(len(words)), map(not_, map(matcher.starts.isdisjoint, words)))
    return sorted({*hit, *stems})


def sparse_cooccurrence(
    texts: Sequence[str],
    toxic: Sequence[bool],
    tokens: Sequence[tuple[str, Sequence[str]]],
    stems: Sequence[bool],
    candidates: Iterable[int],
    source_kind: str,
    matcher: TermMatcher,
    memo: dict[tuple[tuple[str, str], ...], Summary | None] | None = None,
) -> tuple[Nested, list[tuple[int, dict[str, int]]], dict[int, dict[str, int]]]:
    """:func:`window_cooccurrence` of one document's windows (``tokens``: their :func:`tokenize`, ``stems``:
    whether a stem may occur) given the sorted ``candidates`` of :func:`match_candidates`: only those are
    matched, the word and window totals are summed over all. Returns the stats, the toxic windows' identity
    mentions and ``{window index: identity mentions}`` of the windows with any (for
    :func:`sparse_representation_signals`). ``memo``: a dict the caller keeps for a batch (see
    :func:`_add_window`)."""
    st = _new_cooccurrence()
    toxic_ids: list[tuple[int, dict[str, int]]] = []
    subs_at: dict[int, dict[str, int]] = {}
    labels = matcher.labels
    for index in candidates:
        found, _ = labels(texts[index], tokens[index], stems[index])
        subs = _add_window(st, found, toxic[index], memo) if found else None
        if subs:
            subs_at[index] = subs
            if toxic[index]:
                toxic_ids.append((index, subs))
    n_words = [len(t[1]) for t in tokens]
    st.update(
        windows=len(texts),
        toxic_windows=sum(toxic),
        words=sum(n_words),
        toxic_words=sum(compress(n_words, toxic)),
    )
    return {source_kind: st, "all": st}, toxic_ids, subs_at


REP_WORDS = "toxicity.rep_words"
REP_MENTIONS = "toxicity.rep_mentions"


def representation_signals(
    per_window: Sequence[tuple[int, Mapping[str, int]]], keep: Sequence[bool]
) -> Nested:
    """Signals carrying a document's identity-term counts over the windows it keeps (reused by the probe)."""
    words, subs = 0, {}
    for (n, s), k in zip(per_window, keep, strict=True):
        if k:
            words += n
            for sub, c in s.items():
                subs[sub] = subs.get(sub, 0) + c
    return {REP_WORDS: words, REP_MENTIONS: [f"{k}={v}" for k, v in sorted(subs.items())]}


def sparse_representation_signals(
    n_words: Sequence[int], keep: Sequence[bool], subs_at: Mapping[int, Mapping[str, int]]
) -> Nested:
    """:func:`representation_signals` from each window's word count, whether it is kept, and the identity
    mentions of the windows that have any (:func:`sparse_cooccurrence`)."""
    words = sum(compress(n_words, keep))
    subs: dict[str, int] = {}
    for index, s in subs_at.items():
        if keep[index]:
            for sub, c in s.items():
                subs[sub] = subs.get(sub, 0) + c
    return {REP_WORDS: words, REP_MENTIONS: [f"{k}={v}" for k, v in sorted(subs.items())]}


def representation_from_signals(signals: Mapping[str, Any], source_kind: str) -> Nested | None:
    """:func:`doc_representation` from the signals of :func:`representation_signals` (None if absent)."""
    words, mentions = signals.get(REP_WORDS), signals.get(REP_MENTIONS)
    if not isinstance(words, int) or not isinstance(mentions, list):
        return None
    subs = {}
    for item in mentions:
        sub, _, c = str(item).rpartition("=")
        subs[sub] = int(c)
    groups: dict[str, int] = {}
    for sub, c in subs.items():
        g = sub.split("/", 1)[0]
        groups[g] = groups.get(g, 0) + c
    return {
        source_kind: {
            "docs": 1,
            "words": words,
            "mentions": sum(subs.values()),
            "groups": {g: {"mentions": c, "docs": 1} for g, c in groups.items()},
            "subgroups": {s: {"mentions": c, "docs": 1} for s, c in subs.items()},
        }
    }


def _share(num: float, den: float) -> float | None:
    return round(num / den, 6) if den else None


def finalize_representation(acc: Mapping[str, Any]) -> Nested:
    """Shares per source kind: mentions share among identity mentions, docs share, rate per 10k words."""
    out: Nested = {}
    for kind in sorted(acc):
        k = acc[kind]
        rows: Nested = {}
        for level in ("groups", "subgroups"):
            rows[level] = {
                name: {
                    "mentions": v["mentions"],
                    "docs": v["docs"],
                    "mention_share": _share(v["mentions"], k["mentions"]),
                    "doc_share": _share(v["docs"], k["docs"]),
                    "per_10k_words": _share(10_000 * v["mentions"], k["words"]),
                }
                for name, v in sorted(k.get(level, {}).items())
            }
        out[kind] = {"docs": k["docs"], "words": k["words"], "identity_mentions": k["mentions"], **rows}
    return out


def finalize_cooccurrence(acc: Mapping[str, Any], top_k: int, min_count: int) -> Nested:
    """Toxic-span shares vs. baseline and top PMI descriptors per group and subgroup, per source kind."""
    out: Nested = {
        "measure": "PMI(g,w) = log2(c(g,w) * N / (c(g) * c(w))); c = windows containing the term(s), "
        f"N = windows; pairs with c(g,w) < {min_count} omitted. toxic_share = mentions inside toxic "
        "spans / mentions; baseline = words inside toxic spans / words; ratio = toxic_share / baseline."
    }
    for kind in sorted(acc):
        k = acc[kind]
        n = k.get("windows", 0)
        baseline = _share(k.get("toxic_words", 0), k.get("words", 0))
        joint_by_key: dict[str, list[tuple[str, int]]] = {}
        for jk, c in k.get("joint", {}).items():
            key, d = jk.split("|", 1)
            if c >= min_count:
                joint_by_key.setdefault(key, []).append((d, c))
        groups: Nested = {}
        for key, g in sorted(k.get("groups", {}).items()):
            share = _share(g["toxic_mentions"], g["mentions"])
            pmis = []
            for d, c in joint_by_key.get(key, []):
                pmi = math.log2(c * n / (g["windows"] * k["desc"][d]))
                pmis.append((round(pmi, 4), d, c))
            pmis.sort(key=lambda x: (-x[0], x[1]))
            top: dict[str, list[Nested]] = {"adjectives": [], "occupations": []}
            for pmi, d, c in pmis:
                kind_d, word = d.split(":", 1)
                lst = top["adjectives" if kind_d == "adj" else "occupations"]
                if len(lst) < top_k:
                    lst.append({"word": word, "pmi": pmi, "count": c})
            groups[key] = {
                "mentions": g["mentions"],
                "toxic_mentions": g["toxic_mentions"],
                "toxic_share": share,
                "ratio_to_baseline": round(share / baseline, 4) if share is not None and baseline else None,
                **top,
            }
        out[kind] = {
            "windows": n,
            "toxic_windows": k.get("toxic_windows", 0),
            "baseline": baseline,
            "groups": groups,
        }
    return out
