"""Score first: windows -> backend scores -> namespaced signals (and bias co-occurrence partials).

Signals written on every document (``<name>`` ranges over every score the backend gives):

* ``toxicity.<name>``: document-level score = character-weighted mean of the window scores over the
  whole text, unscored characters (code outside comments and strings, blank lines) counting as 0 (so a
  long clean text with one bad line scores low, a text that is toxic throughout scores high);
* ``toxicity.<name>.max``: the worst window;
* ``toxicity.toxic_spans``: ``"start:end"`` offsets of windows whose primary score >= ``spans.threshold``;
* ``toxicity.toxic_fraction``: share of the text's characters inside toxic spans;
* ``toxicity.windows`` / ``toxicity.windows_unscored`` / ``toxicity.scored_chars``;
* ``toxicity.identity_toxic_mentions`` / ``toxicity.identity_toxic_fraction`` /
  ``toxicity.identity_groups_toxic``: identity-term mentions inside toxic spans, the share of the text
  in toxic spans that mention an identity term, and those ``group/subgroup`` names (subgroups in
  ``bias.filter_exclude``, i.e. pronouns, not counted): the bias filter's input;
* ``toxicity.backend``: ``embedded`` or ``detoxify:<variant>``;
* embedded backend only, document level (blocks of windows, see :meth:`ToxicityScorer._block_scores`):
  ``toxicity.classifier`` / ``.max`` (the fastText classifier, 0 for languages it was not trained on),
  ``toxicity.combined`` / ``.max`` (classifier, lexicon and profanity, noisy-or), ``toxicity.combined.kept``
  (the same of the text left once toxic spans are removed: what the drop rule reads for the kinds in
  ``document.after_span_removal``), ``toxicity.blocks``;
* ``toxicity.rep_words`` / ``toxicity.rep_mentions`` (web, book, conversation): words and identity-term
  mentions (``group/subgroup=count``) of the windows the document keeps, so the bias probe after
  curation reuses the stage's matches instead of scanning every document again (issue 21).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import mul
from pathlib import Path
from typing import Any, NamedTuple

from curation.document import Document, SignalValue
from curation.stages.toxicity.backends import Backend, DetoxifyBackend, EmbeddedBackend
from curation.stages.toxicity.bias import (
    BiasLists,
    Nested,
    add_nested,
    match_candidates,
    sparse_cooccurrence,
    sparse_representation_signals,
)
from curation.stages.toxicity.config import ToxicityRules, span_action
from curation.stages.toxicity.terms import TermMatcher, tokenize_many, windows_matching
from curation.stages.toxicity.windows import Span, document_windows, encode_spans

STAGE = "toxicity"
UNITS = {"web": "line", "book": "sentence", "code": "line", "conversation": "line"}
# kinds whose windows cover the words of the text (code: only comments and strings are windows)
REP_KINDS = frozenset({"web", "book", "conversation"})


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu`` (checked in the worker, at setup)."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class _Block(NamedTuple):
    """One block of a document: its characters and evidence, the same for what span removal keeps, and
    the indices of both texts in the batch's classifier call (``kept_text`` = ``text`` when nothing is
    removed, -1 when nothing is kept)."""

    chars: int
    evidence: float  # 1 - prod(1 - lexicon) * (1 - mean profanity), before the classifier
    kept_chars: int
    kept_evidence: float
    text: int
    kept_text: int


_ASCII_SPACE = bytes(c for c in range(128) if chr(c).isspace())


def nonspace_chars(text: str) -> int:
    """Characters of ``text`` that are not whitespace (``str.isspace``): ``sum(map(len, text.split()))``
    without making every whitespace-separated piece; an ASCII text deletes its whitespace bytes in one
    ``bytes.translate`` (about half the CPU on the dev corpus)."""
    if text.isascii():
        return len(text.encode("ascii").translate(None, _ASCII_SPACE))
    return sum(map(len, text.split()))


def _no_text(_parts: Iterable[str]) -> str:
    return ""


def _evidence(
    lex: Sequence[float], prof: Sequence[float], idx: Sequence[int], spans: Sequence[Span]
) -> tuple[int, float]:
    """(characters, ``1 - prod(1 - lexicon) * (1 - mean profanity)``) of the windows ``idx``."""
    chars, acc, clean = 0, 0.0, 1.0
    for j, (s, e) in zip(idx, spans, strict=True):
        chars += e - s
        acc += prof[j] * (e - s)
        clean *= 1.0 - lex[j]
    return chars, 1.0 - clean * (1.0 - (acc / chars if chars else 0.0))


@dataclass
class ToxicityScorer:
    """Per-worker scorer: build with parsed rules and paths; :meth:`setup` loads the backend once."""

    rules: ToxicityRules
    bias: BiasLists
    detoxify_paths: tuple[Path, Path] | None = None  # (checkpoint, hf_dir), resolved at build time
    classifier_path: Path | None = None  # embedded fastText classifier, resolved and checked at build time
    profanity_path: Path | None = None  # numpy export of alt-profanity-check (None: scikit-learn's pickles)
    device: str | None = None  # overrides rules.detoxify.device (stage option)
    _backend: Backend | None = field(default=None, init=False, repr=False)
    _matcher: TermMatcher | None = field(default=None, init=False, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_backend"] = state["_matcher"] = None  # never pickle a loaded model
        return state

    def setup(self) -> None:
        if self._backend is not None:
            return
        if self.rules.backend == "detoxify":
            assert self.detoxify_paths is not None
            drules = self.rules.detoxify
            device = resolve_device(self.device or drules.device)
            if device != drules.device:
                from dataclasses import replace

                drules = replace(drules, device=device)
            self._backend = DetoxifyBackend(drules, *self.detoxify_paths)
        else:
            self._backend = EmbeddedBackend(self.rules.embedded, self.classifier_path, self.profanity_path)
        self._matcher = self.bias.matcher()

    @property
    def backend_name(self) -> str:
        return "embedded" if self.rules.backend == "embedded" else f"detoxify:{self.rules.detoxify.variant}"

    def windows(self, doc: Document) -> tuple[list[Span], int]:
        """Scoring windows of ``doc`` and how many were left unscored (detoxify's per-document cap)."""
        w = self.rules.windows
        unit = UNITS.get(doc.source_kind, "line")
        spans = document_windows(doc, w.max_chars, w.min_chars, unit, w.code, w.merge_chars)
        cap = self.rules.detoxify.max_windows_per_doc if self.rules.backend == "detoxify" else len(spans)
        return spans[:cap], max(0, len(spans) - cap)

    def _block_scores(
        self, docs: Sequence[Document], per_doc: list[tuple[list[Span], int]], scores: dict[str, list[float]]
    ) -> list[dict[str, SignalValue]] | None:
        """Document-level signals of the embedded backend: the classifier and ``combined`` on blocks.

        Blocks are runs of consecutive windows of about ``classifier.block_chars`` characters (the
        classifier was trained on whole short texts, not lines). ``combined`` of a block is the noisy-or
        ``1 - (1 - classifier) * (1 - lexicon) * (1 - profanity)`` of three pieces of evidence:
        the (per-language calibrated) classifier; ``lexicon`` = the noisy-or of every lexicon hit in
        the block (``1 - prod (1 - lexicon_window)``, i.e. the hits counted over the block, so one slur
        in a short text weighs as much as it does alone, while a long clean block is not lifted by one
        mild word: a mild hit is 0.4); ``profanity`` = the character-weighted mean of the English
        model's window scores (it scores every window, so a mean, not a noisy-or). The document values
        are the means over blocks weighted by their scored characters, and the worst block (``.max``).

        ``combined.kept`` is the same score of the text the stage keeps when it removes toxic spans
        (``spans.action: remove``): the blocks without their toxic windows. For the kinds in
        ``document.after_span_removal`` the drop rule applies to it, so a conversation whose toxicity sits
        in turns the stage removes anyway is edited, not dropped, while one that stays toxic once they
        are gone is dropped.
        """
        backend = self._backend
        if not isinstance(backend, EmbeddedBackend):
            return None
        size = self.rules.embedded.classifier.block_chars
        lex, prof = scores["lexicon"], scores["profanity"]
        primary = scores["toxicity"]
        thr = self.rules.spans.threshold
        texts: list[str] = []
        langs: list[str | None] = []
        meta: list[list[_Block]] = []
        pos = 0
        for doc, (spans, _) in zip(docs, per_doc, strict=True):
            removes = span_action(self.rules, doc.source_kind) == "remove"
            # block texts only for the classifier's languages (it gives 0 to the others, unread)
            join = "\n".join if backend.classifies(doc.lang) else _no_text
            blocks: list[_Block] = []
            start = 0
            chars = 0
            for i, (s, e) in enumerate(spans):
                chars += e - s
                if chars < size and i < len(spans) - 1:
                    continue
                idx = range(pos + start, pos + i + 1)
                chars, ev = _evidence(lex, prof, idx, spans[start : i + 1])
                text_id = len(texts)
                texts.append(join(doc.text[a:b] for a, b in spans[start : i + 1]))
                langs.append(doc.lang)
                kept_idx = [j for j in idx if not (removes and primary[j] >= thr)]
                if len(kept_idx) == len(idx):
                    blocks.append(_Block(chars, ev, chars, ev, text_id, text_id))
                elif kept_idx:
                    kept_spans = [spans[j - pos] for j in kept_idx]
                    kchars, kev = _evidence(lex, prof, kept_idx, kept_spans)
                    blocks.append(_Block(chars, ev, kchars, kev, text_id, len(texts)))
                    texts.append(join(doc.text[a:b] for a, b in kept_spans))
                    langs.append(doc.lang)
                else:
                    blocks.append(_Block(chars, ev, 0, 0.0, text_id, -1))
                start, chars = i + 1, 0
            meta.append(blocks)
            pos += len(spans)
        probs = backend.classify(texts, langs) if texts else []
        out: list[dict[str, SignalValue]] = []
        for doc, blocks in zip(docs, meta, strict=True):
            # unscored non-space text (code outside comments and strings) counts as clean
            nonspace = nonspace_chars(doc.text)
            total = max(sum(blk.chars for blk in blocks), nonspace)
            kept_chars = sum(blk.kept_chars for blk in blocks)
            kept_total = max(kept_chars, nonspace - (sum(blk.chars for blk in blocks) - kept_chars))
            cls = [probs[blk.text] for blk in blocks]
            comb = [1.0 - (1.0 - p) * (1.0 - blk.evidence) for p, blk in zip(cls, blocks, strict=True)]
            kept_comb = [
                1.0 - (1.0 - probs[blk.kept_text]) * (1.0 - blk.kept_evidence) if blk.kept_text >= 0 else 0.0
                for blk in blocks
            ]
            sig: dict[str, SignalValue] = {f"{STAGE}.blocks": len(blocks)}
            weights = [blk.chars for blk in blocks]
            for name, vals in (("classifier", cls), ("combined", comb)):
                mean = sum(v * c for v, c in zip(vals, weights, strict=True)) / total if total else 0.0
                sig[f"{STAGE}.{name}"] = round(mean, 4)
                sig[f"{STAGE}.{name}.max"] = round(max(vals, default=0.0), 4)
            if kept_chars:
                kept = sum(v * blk.kept_chars for v, blk in zip(kept_comb, blocks, strict=True)) / kept_total
                sig[f"{STAGE}.combined.kept"] = round(kept, 4)
            else:  # every scored window is toxic: removal would leave nothing, the text is what it is
                sig[f"{STAGE}.combined.kept"] = sig[f"{STAGE}.combined"]
            out.append(sig)
        return out

    def score_batch(self, docs: Sequence[Document]) -> tuple[list[Document], Nested]:
        """Score a batch: one backend call over every window of every document; returns scored docs and
        the batch's bias co-occurrence partial (nested counts, summed across batches)."""
        self.setup()
        assert self._backend is not None and self._matcher is not None
        per_doc = [self.windows(d) for d in docs]
        texts = [d.text[s:e] for d, (spans, _) in zip(docs, per_doc, strict=True) for s, e in spans]
        langs = [d.lang for d, (spans, _) in zip(docs, per_doc, strict=True) for _ in spans]
        toks = tokenize_many(texts)  # shared by the lexicon, the English model and the identity-term matcher
        scores = self._backend.score(texts, langs, toks) if texts else {n: [] for n in self._backend.names}
        stem_hits = windows_matching(self._matcher.stem_re, [t[0] for t in toks])
        stem_flags = [i in stem_hits for i in range(len(texts))]
        # windows where an identity term or descriptor can match (~16%): the only ones matched below
        candidates = match_candidates(self._matcher, [t[1] for t in toks], stem_hits)
        names = tuple(scores)
        # toxic spans come from the window scores (the document-level `combined` is not one of them)
        name = self.rules.document.score
        primary = scores[name] if name in scores else scores.get("toxicity", scores[names[0]])
        doc_scores = self._block_scores(docs, per_doc, scores)
        thr = self.rules.spans.threshold
        out: list[Document] = []
        partial: Nested = {}
        memo: dict[Any, Any] = {}  # co-occurrence summaries of the batch's windows, by their matches
        pos = 0
        for doc, (spans, unscored) in zip(docs, per_doc, strict=True):
            n = len(spans)
            lengths = [e - s for s, e in spans]
            total = sum(lengths)
            denom = max(total, len(doc.text))  # unscored text (code identifiers, blank lines) counts as clean
            sig: dict[str, SignalValue] = {f"{STAGE}.backend": self.backend_name}
            if doc_scores is not None:
                sig.update(doc_scores[len(out)])
            for name in names:
                vals = scores[name][pos : pos + n]
                mean = sum(map(mul, vals, lengths)) / denom if denom else 0.0
                sig[f"{STAGE}.{name}"] = round(mean, 4)
                sig[f"{STAGE}.{name}.max"] = max(vals, default=0.0)
            toxic = [primary[pos + i] >= thr for i in range(n)]
            toxic_spans = [sp for sp, t in zip(spans, toxic, strict=True) if t]
            toxic_chars = sum(e - s for s, e in toxic_spans)
            doc_toks = toks[pos : pos + n]
            lo, hi = bisect_left(candidates, pos), bisect_left(candidates, pos + n)
            stats, toxic_ids, subs_at = sparse_cooccurrence(
                texts[pos : pos + n],  # the window texts, sliced once above
                toxic,
                doc_toks,
                stem_flags[pos : pos + n],
                [i - pos for i in candidates[lo:hi]],
                doc.source_kind,
                self._matcher,
                memo,
            )
            if doc.source_kind in REP_KINDS and not unscored:
                # windows cover the prose: the representation probe after curation reuses these counts
                removed = span_action(self.rules, doc.source_kind) == "remove"
                keep = [not t for t in toxic] if removed else [True] * n
                sig.update(sparse_representation_signals([len(t[1]) for t in doc_toks], keep, subs_at))
            exclude = self.rules.bias.filter_exclude
            id_mentions, id_chars, id_subs = 0, 0, set()
            for index, subs in toxic_ids:
                kept_subs = {k: v for k, v in subs.items() if k not in exclude}
                if kept_subs:
                    id_mentions += sum(kept_subs.values())
                    id_chars += lengths[index]
                    id_subs.update(kept_subs)
            add_nested(partial, stats)
            sig.update(
                {
                    f"{STAGE}.windows": n,
                    f"{STAGE}.windows_unscored": unscored,
                    f"{STAGE}.scored_chars": total,
                    f"{STAGE}.toxic_spans": encode_spans(toxic_spans),
                    f"{STAGE}.toxic_fraction": round(toxic_chars / denom, 4) if denom else 0.0,
                    f"{STAGE}.identity_toxic_mentions": id_mentions,
                    f"{STAGE}.identity_toxic_fraction": round(id_chars / denom, 4) if denom else 0.0,
                    f"{STAGE}.identity_groups_toxic": sorted(id_subs),
                }
            )
            out.append(doc.with_signals(sig))
            pos += n
        return out, partial
