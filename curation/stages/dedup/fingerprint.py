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
from curation.stages.dedup.signature import Signer, exact_key, joined_tokens, url_key, verify_sketch

# Bucket key types (first element of a bucket key).
EXACT_TEXT = 0
EXACT_URL = 1
BAND = 2

# Group of a document whose exact-text key is not computed (exact dedup off): never collapsed with another.
NO_GROUP = 0


@dataclass(frozen=True)
class BatchFingerprints:
    """Fingerprints of one batch: per-document members and signatures, and all bucket keys as arrays
    (``key_doc[i]`` is the index of the document of key ``i``; no Python object per key)."""

    members: list[MemberTuple]
    signatures: list[bytes | None]  # verify_sketch() (bottom-k shingle hashes) if shingled and verify is on
    key_doc: np.ndarray  # int64 document index per key
    key_type: np.ndarray  # int8: EXACT_TEXT | EXACT_URL | BAND
    key_hash: np.ndarray  # int64 (band keys include the band index)
    key_group: np.ndarray  # int64 exact-text key of the key's document (NO_GROUP when it has none)


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
        joined = joined_tokens(doc.source_kind, doc.text, self.rules.code_tokens.tokenizer)
        return self._signer.shingle_hashes_joined(joined, self.ngram(doc.source_kind))

    def fingerprint_batch(self, docs: Sequence[Document]) -> BatchFingerprints:
        """Fingerprints of ``docs``; signatures and band keys of the whole batch are computed as matrices."""
        self.setup()
        assert self._signer is not None
        rules = self.rules
        hashes = [self.shingle_hashes(d) for d in docs]
        sigs = self._signer.signatures(hashes)
        has_shingles = np.array([len(h) > 0 for h in hashes], dtype=bool)
        signed = np.flatnonzero(has_shingles)
        bands = self._signer.band_keys(sigs[signed])
        members, signatures = [], []
        ex_doc, ex_type, ex_hash = [], [], []
        groups = np.empty(len(docs), dtype=np.int64)
        for i, doc in enumerate(docs):
            exact = exact_key(doc.text) if rules.exact else None
            groups[i] = exact if exact is not None else NO_GROUP
            url = url_key(doc.url) if rules.exact_url and doc.source_kind == "web" else None
            for kind, key in ((EXACT_TEXT, exact), (EXACT_URL, url)):
                if key is not None:
                    ex_doc.append(i)
                    ex_type.append(kind)
                    ex_hash.append(key)
            verify = has_shingles[i] and rules.minhash.verify
            signatures.append(verify_sketch(hashes[i], rules.minhash.verify_k) if verify else None)
            members.append(member_of(doc, rules.keep, exact, url))
        n_band = bands.size
        key_doc = np.concatenate([np.array(ex_doc, dtype=np.int64), np.repeat(signed, bands.shape[1])])
        return BatchFingerprints(
            members=members,
            signatures=signatures,
            key_doc=key_doc,
            key_type=np.concatenate([np.array(ex_type, dtype=np.int8), np.full(n_band, BAND, dtype=np.int8)]),
            key_hash=np.concatenate([np.array(ex_hash, dtype=np.int64), bands.reshape(-1)]),
            key_group=groups[key_doc],
        )
