"""Per-document fingerprints: the keep-rule record, the bucket keys (exact, URL, LSH bands), the signature.

This is the only step that reads document text; everything downstream of it shuffles these small records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from curation.document import Document
from curation.stages.dedup.cluster import MemberTuple, member_of
from curation.stages.dedup.rules import DedupRules
from curation.stages.dedup.signature import Signer, exact_key, tokens_for, url_key

# Bucket key types (first element of a bucket key).
EXACT_TEXT = 0
EXACT_URL = 1
BAND = 2

BucketKey = tuple[int, int]  # (key type, 64-bit hash; band keys include the band index)


@dataclass(frozen=True)
class Fingerprint:
    member: MemberTuple
    keys: tuple[BucketKey, ...]
    signature: bytes | None  # num_perm x uint32, only when the document has shingles and verify is on


class Fingerprinter:
    """Turns batches of documents into fingerprints. Picklable; call :meth:`setup` once per worker."""

    def __init__(self, rules: DedupRules) -> None:
        self.rules = rules
        self._signer: Signer | None = None

    def setup(self) -> None:
        mh = self.rules.minhash
        if self._signer is None:
            self._signer = Signer(mh.num_perm, mh.seed, mh.bands, mh.rows)

    def ngram(self, source_kind: str) -> int:
        return self.rules.code_tokens.n if source_kind == "code" else self.rules.words.n

    def shingle_hashes(self, doc: Document) -> np.ndarray:
        """Shingle hashes of one document (empty when near dedup is off or it has fewer than n tokens)."""
        assert self._signer is not None, "call setup() first"
        if not self.rules.near:
            return np.empty(0, dtype=np.uint32)
        return self._signer.shingle_hashes(tokens_for(doc.source_kind, doc.text), self.ngram(doc.source_kind))

    def fingerprint_batch(self, docs: Sequence[Document]) -> list[Fingerprint]:
        """Fingerprints of ``docs``; signatures of the whole batch are computed as one matrix."""
        self.setup()
        assert self._signer is not None
        rules = self.rules
        hashes = [self.shingle_hashes(d) for d in docs]
        sigs = self._signer.signatures(hashes)
        bands = self._signer.band_keys(sigs).tolist()
        out = []
        for i, doc in enumerate(docs):
            exact = exact_key(doc.text) if rules.exact else None
            url = url_key(doc.url) if rules.exact_url and doc.source_kind == "web" else None
            keys: list[BucketKey] = []
            if exact is not None:
                keys.append((EXACT_TEXT, exact))
            if url is not None:
                keys.append((EXACT_URL, url))
            has_shingles = len(hashes[i]) > 0
            if has_shingles:
                keys.extend((BAND, k) for k in bands[i])
            signature = sigs[i].tobytes() if has_shingles and rules.minhash.verify else None
            out.append(Fingerprint(member_of(doc, rules.keep, exact, url), tuple(keys), signature))
        return out
