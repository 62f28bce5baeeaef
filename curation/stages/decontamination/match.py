"""Score documents against an :class:`NgramIndex`: find hits, collect evidence, cut or drop.

The hot path is vectorised per batch: every document's words are hashed (numpy n-gram hashes for each
length in the index), all hashes of the batch are looked up with one ``searchsorted``, and only the
documents with hits (rare) get per-hit Python work, word offsets and cutting.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from curation.document import Document, Message, Reject, SignalValue, render_messages
from curation.stage import DocProcessor, Outcome
from curation.stages.decontamination.decide import (
    STAGE,
    Evidence,
    P,
    apply_turn_cut,
    cut_text,
    decide_reasons,
    found_sets,
    plan_cut,
    plan_turn_cut,
    rank,
)
from curation.stages.decontamination.index import NgramIndex
from curation.stages.decontamination.ngrams import _Prefix, text_prefix_sums, texts_word_hashes, word_spans
from curation.stages.decontamination.rules import DecontaminationRules


def distinct_doc_hashes(text: str, rules: DecontaminationRules, lengths: Sequence[int]) -> np.ndarray:
    """Sorted distinct n-gram hashes of a document (what the join path ships to the shuffle)."""
    pre = text_prefix_sums(text, rules.ngram)
    return np.unique(np.concatenate([pre.ngrams(k) for k in lengths]))


def score_batch(docs: Sequence[Document], index: NgramIndex, rules: DecontaminationRules) -> list[Outcome]:
    """Outcome for each document (the same document object when nothing matched)."""
    return [out for out, _ in score_batch_with_found(docs, index, rules)]


def find_hits(
    pre: _Prefix, cand: np.ndarray, index: NgramIndex, ends: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Full hashes of every indexed length at candidate start positions, looked up exactly.

    ``ends[i]`` (default: the number of words) is where the words that an n-gram starting at ``cand[i]``
    may use end: the end of its own document when ``pre`` holds several documents' words.
    Returns (hashes, start word, length, index position) of the hits, length by length in the order of
    ``index.lengths`` and by start within each length.
    """
    limit = pre.m if ends is None else ends
    hs, st, ks, ps = [], [], [], []
    for k in index.lengths:
        s = cand[cand + k <= limit]
        if len(s) == 0:
            continue
        h = pre.ngrams_at(s, k)
        pos = index.find(h)
        hit = pos >= 0
        hs.append(h[hit])
        st.append(s[hit])
        ks.append(np.full(int(hit.sum()), k, dtype=np.int16))
        ps.append(pos[hit])
    if not hs:
        e = np.empty(0, dtype=np.int64)
        return np.empty(0, dtype=np.uint64), e, np.empty(0, dtype=np.int16), e
    return np.concatenate(hs), np.concatenate(st), np.concatenate(ks), np.concatenate(ps)


# Words of one group of documents hashed over one prefix structure (bounds the power tables, which grow to
# the longest group, and the group's arrays; a longer document is a group of its own).
_GROUP_WORDS = 1 << 20


def _word_groups(lengths: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive ``(first, stop)`` document ranges of at most ``_GROUP_WORDS`` words (or one document)."""
    groups, first, words = [], 0, 0
    for i, m in enumerate(lengths):
        if words and words + m > _GROUP_WORDS:
            groups.append((first, i))
            first, words = i, 0
        words += m
    if first < len(lengths):
        groups.append((first, len(lengths)))
    return groups


def batch_hits(
    word_hashes: Sequence[np.ndarray], index: NgramIndex, min_n: int
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """:func:`find_hits` of each document, found for many documents at once.

    The documents' word hashes are laid end to end under one prefix structure: an n-gram's hash does not
    depend on where its words sit (``(S[s+k] - S[s]) * B**(s+k-1)`` is ``sum w_j B**(s+k-1-j)``, wrapping
    uint64 arithmetic), so the hashes are those of each document alone. Probes, candidates and exact
    look-ups then run once per group of documents instead of once per document, and n-grams that would
    run into the next document are left out. Per document the hits come in :func:`find_hits`'s order
    (length, then start), with starts counted from the document's first word.
    """
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for first, stop in _word_groups([len(w) for w in word_hashes]):
        group = word_hashes[first:stop]
        m = np.array([len(w) for w in group], dtype=np.int64)
        ends = np.cumsum(m)
        starts = ends - m
        pre = _Prefix(np.concatenate(group) if len(group) > 1 else group[0])
        doc_of = np.repeat(np.arange(len(group)), m)  # document of each word
        probes = pre.ngrams(min_n)
        cand = np.flatnonzero(index.candidates(probes)) if len(probes) else np.empty(0, dtype=np.int64)
        cand_end = ends[doc_of[cand]]
        keep = cand + min_n <= cand_end  # probes that run into the next document are not candidates
        h, st, ks, pos = find_hits(pre, cand[keep], index, cand_end[keep])
        doc = doc_of[st]
        order = np.argsort(doc, kind="stable")  # by document; within it, find_hits' order is kept
        h, st, ks, pos, doc = h[order], st[order], ks[order], pos[order], doc[order]
        cuts = np.searchsorted(doc, np.arange(len(group) + 1))
        for i in range(len(group)):
            a, b = int(cuts[i]), int(cuts[i + 1])
            out.append((h[a:b], st[a:b] - starts[i], ks[a:b], pos[a:b]))
    return out


def score_batch_with_found(
    docs: Sequence[Document], index: NgramIndex, rules: DecontaminationRules
) -> list[tuple[Outcome, list[Evidence]]]:
    """Like :func:`score_batch`, also returning every found item (not capped like the signal).

    Documents are probed with their ``min_n``-gram hashes (one bit-table probe each, one array for the
    whole batch); full n-gram hashes of each indexed length are computed only at candidate positions
    (:func:`batch_hits`).
    """
    if not index.lengths or not docs:
        return [(d, []) for d in docs]
    word_hashes = texts_word_hashes([d.text for d in docs], rules.ngram)
    hits = batch_hits(word_hashes, index, rules.ngram.min_n)
    out: list[tuple[Outcome, list[Evidence]]] = []
    for doc, (h, starts, ks, pos) in zip(docs, hits, strict=True):
        if len(h) == 0:
            out.append((doc, []))
        else:
            out.append(score_hits(doc, h, starts, ks, pos, index, rules))
    return out


def score_hits(
    doc: Document,
    h: np.ndarray,
    starts: np.ndarray,
    ks: np.ndarray,
    pos: np.ndarray,
    index: NgramIndex,
    rules: DecontaminationRules,
) -> tuple[Outcome, list[Evidence]]:
    """Evidence, signals and the keep / cut / drop outcome of one document with index hits."""
    matched: dict[int, set[int]] = {}  # item -> distinct matched hashes
    occurrences: dict[int, list[tuple[int, int]]] = {}  # item -> (start word, length)
    for hv, s, k, p in zip(h.tolist(), starts.tolist(), ks.tolist(), pos.tolist(), strict=True):
        for item in index.items_at(p).tolist():
            matched.setdefault(item, set()).add(hv)
            occurrences.setdefault(item, []).append((s, k))
    evidence = []
    refs = {}
    for item, hs in matched.items():
        s_name, iid, total = index.item_ref(item)
        ev = Evidence(s_name, iid, len(hs), total)
        evidence.append(ev)
        refs[ev] = item
    evidence = rank(evidence)
    found = [e for e in evidence if e.is_found(rules.match)]
    signals: dict[str, SignalValue] = {
        P + "evidence": [e.encode() for e in evidence[: rules.max_evidence]],
        P + "items_found": len(found),
        P + "max_overlap_ngrams": evidence[0].matched,
        P + "eval_sets": found_sets(found),
    }
    if not found:
        signals[P + "action"] = "none"
        return doc.with_signals(signals), found
    _, cstart, cend = word_spans(doc.text, rules.ngram)
    spans = []
    for e in found:
        for s, k in occurrences[refs[e]]:
            spans.append((int(cstart[s]), int(cend[s + k - 1])))
    per_turn = doc.messages is not None and render_messages(doc.messages) == doc.text
    if per_turn:
        assert doc.messages is not None
        turn_cut = plan_turn_cut(doc.messages, spans, rules.action)
        messages: tuple[Message, ...] | None = apply_turn_cut(doc.messages, turn_cut)
        assert messages is not None
        text = render_messages(messages)
        pieces, kept_pieces = turn_cut.pieces, len(messages)
        kept_chars = len(text)
        signals[P + "turns_cut"] = len(turn_cut.contents)
    else:
        kept, pieces = plan_cut(len(doc.text), spans, rules.action)
        messages, text = None, cut_text(doc.text, kept)
        kept_pieces, kept_chars = len(kept), sum(e - s for s, e in kept)
    removed_fraction = round(1.0 - kept_chars / max(len(doc.text), 1), 4)
    signals.update(
        {
            P + "pieces": pieces,
            P + "kept_pieces": kept_pieces,
            P + "removed_fraction": removed_fraction,
        }
    )
    reasons = decide_reasons(found, pieces, kept_pieces, removed_fraction, rules.action, doc.source_kind)
    if reasons:
        signals[P + "action"] = "drop"
        return Reject(doc=doc.with_signals(signals), stage=STAGE, reason=reasons[0], reasons=reasons), found
    signals[P + "action"] = "cut"
    signals[P + "chars_removed"] = len(doc.text) - len(text)
    return doc.with_signals(signals, text=text, messages=messages), found


class DecontaminationProcessor(DocProcessor):
    """Per-document scoring against an in-memory index (benchmarks, what-if, small runs)."""

    stage = STAGE

    def __init__(self, rules: DecontaminationRules, index: NgramIndex) -> None:
        self.rules = rules
        self.index = index

    def process_batch(self, docs: Sequence[Document]) -> list[Outcome]:
        return score_batch(docs, self.index, self.rules)

    def process(self, doc: Document) -> Outcome:
        return score_batch([doc], self.index, self.rules)[0]
