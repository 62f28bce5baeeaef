"""Tokens, shingles, exact keys and MinHash signatures, vectorised with numpy (no per-shingle Python loop).

* **Words** follow the evaluation set's definition of near-duplicates (``dedup/README``):
  ``re.sub(r"[^\\w\\s]", "", text.lower()).split()``.
* **Code** has a tokenizer of its own (``code_tokens.tokenizer`` in ``rules/dedup.yaml``):

  - ``lexemes`` (default): whitespace-delimited lexemes, lower-cased, with every symbol removed inside
    the lexeme. Identifiers stay whole and keep their neighbours (``os.path.join(a,`` -> ``ospathjoina``),
    indentation and line breaks are normalised away, comment markers (``#``, ``//``, ``/*``) and quotes
    vanish, so a re-indented, re-quoted or re-wrapped copy has the same shingles. On code this coincides
    with the prose word definition; it was chosen by measurement (docs/dedup.md: on the dev near-dup
    pairs it separates all 551 code pairs below Jaccard 0.8 and joins all 402 above).
  - ``identifiers``: runs of word characters, split at every symbol (Allamanis 2019, "The Adverse Effects
    of Code Duplication in Machine Learning Models of Code"). Splitting ``self.assertEqual(x, y)`` into
    four tokens makes shingles generic (``self assertequal self x``), so different files of one project
    look alike: 21 of the 551 dev code pairs below 0.8 came out above it.
  - ``symbols``: identifiers plus every symbol as its own token (worse again: ``) ; }`` is everywhere).
* A **shingle** is a run of ``n`` consecutive tokens. Its 32-bit hash is computed for all shingles of a
  document at once: the tokens are joined by single spaces, a polynomial prefix hash over the UTF-8 bytes
  (mod 2**64) gives the hash of any byte span in O(1), and each shingle is the span from its first
  token's start to its last token's end; a 64-bit MurmurHash3 finaliser then mixes it.
* **MinHash** uses datasketch's ``affine32`` scheme (the default of datasketch 2.0): permutation
  parameters come from ``datasketch.MinHash(num_perm, seed, scheme="affine32").permutations``, the input
  hash is pre-mixed with the 32-bit MurmurHash3 finaliser, then ``a * h + b mod 2**32``. We apply that
  arithmetic to a whole batch as one matrix (rows = shingles of many documents, columns = permutations)
  and take per-document minima with ``np.minimum.reduceat``; the result equals
  ``MinHash(..., hashfunc=<our shingle hash>).update_batch(shingles).hashvalues`` (tested), so signatures
  interoperate with ``datasketch.LeanMinHash``.
* **Band keys** (LSH, Leskovec et al., "Mining of Massive Datasets", ch. 3.4): the signature is cut into
  ``bands`` runs of ``rows`` values; each run is hashed with its band index to one 64-bit key.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from curation.polyhash import powers

_PUNCT_RE = re.compile(r"[^\w\s]")
_CODE_TOKEN_RE = re.compile(r"\w+")
_SYMBOL_TOKEN_RE = re.compile(r"\w+|[^\w\s]")
_URL_FRAGMENT_RE = re.compile(r"#.*$")

# ASCII fast path of :func:`words` on bytes, in one ``bytes.translate`` pass: lower-case A-Z, delete what
# ``[^\w\s]`` deletes, and map the separators that ``str.split`` (and ``\s``) treat as whitespace but
# ``bytes.split`` does not (\x1c-\x1f) to a space, so the joined result is byte-identical (tested).
_WORD_OR_SPACE_RE = re.compile(r"[\w\s]")
_ASCII_DELETE = bytes(c for c in range(128) if not _WORD_OR_SPACE_RE.match(chr(c)))
_ASCII_TABLE = bytes(
    c + 32 if 65 <= c <= 90 else 32 if 0x1C <= c <= 0x1F else c for c in range(256)
)

_U32_MAX = np.uint32(0xFFFFFFFF)
_U64 = np.uint64
_LEN_MIX = _U64(0xC2B2AE3D27D4EB4F)
_BAND_MUL = _U64(0x100000001B3)  # FNV-1a 64-bit prime
_CHUNK_ROWS = 8192  # shingles per matrix chunk: 8192 x num_perm x 4 bytes (8 MiB at 256 permutations)


def words(text: str) -> list[str]:
    """Words as defined by the eval README: lower-case, drop non-word non-space characters, split."""
    return _PUNCT_RE.sub("", text.lower()).split()


def code_tokens(text: str) -> list[str]:
    """Identifier tokens: identifiers, keywords and literals (runs of word characters), lower-cased."""
    return _CODE_TOKEN_RE.findall(text.lower())


def code_lexemes(text: str) -> list[str]:
    """Whitespace-delimited lexemes, lower-cased, symbols removed inside each (identifiers kept whole)."""
    return words(text)


def symbol_tokens(text: str) -> list[str]:
    """Identifier tokens plus every symbol character as a token of its own, lower-cased."""
    return _SYMBOL_TOKEN_RE.findall(text.lower())


TOKENIZERS = {
    "words": words,
    "lexemes": code_lexemes,
    "identifiers": code_tokens,
    "symbols": symbol_tokens,
}


def tokens_for(source_kind: str, text: str, code_tokenizer: str = "lexemes") -> list[str]:
    """The tokens a document is shingled on: ``code_tokenizer`` for code, words for everything else."""
    return TOKENIZERS[code_tokenizer](text) if source_kind == "code" else words(text)


def joined_tokens(source_kind: str, text: str, code_tokenizer: str = "lexemes") -> bytes:
    """``" ".join(tokens_for(...))`` as UTF-8 bytes, what shingles are hashed on.

    Words and lexemes of ASCII text (most of a crawl) take a single ``bytes.translate`` pass instead of
    a regex substitution over the text (about 2x faster on the dev corpus); the result is the same."""
    if text.isascii() and (source_kind != "code" or code_tokenizer == "lexemes"):
        return b" ".join(text.encode("ascii").translate(_ASCII_TABLE, _ASCII_DELETE).split())
    return " ".join(tokens_for(source_kind, text, code_tokenizer)).encode("utf-8", "surrogatepass")


def _hash64(data: str) -> int:
    """Signed 64-bit hash (signed so Beam's coders encode it as a plain int64 varint)."""
    digest = hashlib.blake2b(data.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, signed=True)


def exact_key(text: str) -> int | None:
    """64-bit hash of the text lower-cased with whitespace runs collapsed; ``None`` for blank text.

    Byte copies and copies differing only in case, line wrapping, CRLF or spacing share the key.
    """
    norm = " ".join(text.lower().split())
    return _hash64(norm) if norm else None


def url_key(url: str | None) -> int | None:
    """64-bit hash of a normalized URL (lower-cased, fragment and trailing slash removed), or ``None``."""
    if not url or not url.strip():
        return None
    norm = _URL_FRAGMENT_RE.sub("", url.strip().lower()).rstrip("/")
    return _hash64("url:" + norm) if norm else None


def _fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> _U64(33))
    h = h * _U64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> _U64(33))
    h = h * _U64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> _U64(33))


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, the pre-mix of datasketch's affine32 scheme."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def affine32_permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The permutation parameters ``(a, b)`` of ``datasketch.MinHash(num_perm, seed, scheme="affine32")``.

    Drawn exactly as datasketch 2.0 draws them (``MinHash._init_permutations``: odd ``a`` and any ``b``
    below 2**32 from ``numpy.random.RandomState(seed)``; tested equal), without importing datasketch,
    whose import pulls in scipy and costs ~0.3 CPU-s of every worker's start-up.
    """
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


class Signer:
    """Computes shingle hashes, MinHash signatures and band keys; one instance per worker.

    Holds the permutation parameters and a cache of powers of the hash base that grows with the longest
    document seen (memory linear in that length). Picklable; create it in ``setup``.
    """

    def __init__(self, num_perm: int, seed: int, bands: int, rows: int) -> None:
        self.num_perm = num_perm
        self.seed = seed
        self.bands = bands
        self.rows = rows
        a, b = affine32_permutations(num_perm, seed)
        self._a = np.ascontiguousarray(a, dtype=np.uint32)
        self._b = np.ascontiguousarray(b, dtype=np.uint32)

    def _powers(self, length: int) -> tuple[np.ndarray, np.ndarray]:
        return powers(length + 1)

    def shingle_hashes(self, tokens: Sequence[str], n: int) -> np.ndarray:
        """32-bit hashes of all runs of ``n`` consecutive tokens (empty if fewer than ``n`` tokens)."""
        if len(tokens) < n:
            return np.empty(0, dtype=np.uint32)
        return self.shingle_hashes_joined(" ".join(tokens).encode("utf-8", "surrogatepass"), n)

    def shingle_hashes_joined(self, joined: bytes, n: int) -> np.ndarray:
        """:meth:`shingle_hashes` of tokens already joined by single spaces (:func:`joined_tokens`)."""
        if not joined or joined.count(b" ") + 1 < n:
            return np.empty(0, dtype=np.uint32)
        data = np.frombuffer(joined, dtype=np.uint8)
        length = len(data)
        pw, ipw = self._powers(length)
        prefix = np.empty(length + 1, dtype=_U64)
        prefix[0] = 0
        np.cumsum((data.astype(_U64) + _U64(1)) * pw[:length], out=prefix[1:])
        spaces = np.flatnonzero(data == 32)
        starts = np.concatenate([[0], spaces + 1])
        ends = np.concatenate([spaces, [length]])
        s = starts[: len(starts) - n + 1]
        e = ends[n - 1 :]
        h = (prefix[e] - prefix[s]) * ipw[s] + (e - s).astype(_U64) * _LEN_MIX
        return (_fmix64(h) >> _U64(32)).astype(np.uint32)

    def _permuted(self, hv: np.ndarray) -> np.ndarray:
        """Permuted hashes as a ``num_perm x len(hv)`` matrix (rows contiguous: fast reductions)."""
        out = self._a[:, None] * _fmix32(hv)[None, :]
        out += self._b[:, None]
        return out

    def _minhash_long(self, hv: np.ndarray) -> np.ndarray:
        out = np.full(self.num_perm, _U32_MAX, dtype=np.uint32)
        for c in range(0, len(hv), _CHUNK_ROWS):
            np.minimum(out, self._permuted(hv[c : c + _CHUNK_ROWS]).min(axis=1), out=out)
        return out

    def signatures(self, hashes: Sequence[np.ndarray]) -> np.ndarray:
        """MinHash signatures (``len(hashes) x num_perm`` uint32) of several shingle-hash arrays at once.

        A document without shingles gets the all-``0xFFFFFFFF`` signature (datasketch's empty MinHash).
        """
        sig = np.full((len(hashes), self.num_perm), _U32_MAX, dtype=np.uint32)
        group: list[int] = []
        rows = 0

        def flush() -> None:
            if not group:
                return
            cat = np.concatenate([hashes[i] for i in group])
            offsets = np.cumsum([0] + [len(hashes[i]) for i in group[:-1]])
            sig[group] = np.minimum.reduceat(self._permuted(cat), offsets, axis=1).T

        for i, hv in enumerate(hashes):
            if len(hv) == 0:
                continue
            if len(hv) >= _CHUNK_ROWS:
                sig[i] = self._minhash_long(hv)
                continue
            if rows + len(hv) > _CHUNK_ROWS:
                flush()
                group, rows = [], 0
            group.append(i)
            rows += len(hv)
        flush()
        return sig

    def band_keys(self, sig: np.ndarray) -> np.ndarray:
        """64-bit LSH keys (``k x bands`` int64): each band's ``rows`` values hashed with the band index.

        Signed, so that Beam's coders encode them as plain int64 varints."""
        k = sig.shape[0]
        cut = sig[:, : self.bands * self.rows].reshape(k, self.bands, self.rows).astype(_U64)
        band_seeds = np.arange(1, self.bands + 1, dtype=_U64) * _U64(0x9E3779B97F4A7C15)
        h = np.broadcast_to(band_seeds, (k, self.bands))
        for j in range(self.rows):
            h = (h ^ cut[:, :, j]) * _BAND_MUL
        return _fmix64(h).view(np.int64)

    def lean(self, sig: np.ndarray) -> Any:
        """A datasketch ``LeanMinHash`` view of one signature row (for interoperability and tests)."""
        from datasketch import LeanMinHash  # only here: importing datasketch costs ~0.3 CPU-s (scipy)

        return LeanMinHash(seed=self.seed, hashvalues=sig, scheme="affine32")


def estimate_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """MinHash estimate of the Jaccard index: the share of equal signature values."""
    return float(np.count_nonzero(sig_a == sig_b)) / len(sig_a)


# Verification shuffles b-bit signatures (Li & Koenig 2010, "b-Bit Minwise Hashing", WWW): the low 16 bits
# of each value. Two different values agree on them with probability 2^-16, which the estimator removes;
# the shuffled signature halves (256 x 2 bytes) and the estimate is unchanged to ~1e-5.
VERIFY_BITS = 16
_B_COLLIDE = 2.0**-VERIFY_BITS


def verify_signature(sig: np.ndarray) -> bytes:
    """The low ``VERIFY_BITS`` bits of each signature value, as bytes (what verification shuffles)."""
    return (sig & np.uint32(2**VERIFY_BITS - 1)).astype(np.uint16).tobytes()


def estimate_jaccard_bbit(a: bytes, b: bytes) -> float:
    """Jaccard estimate from two :func:`verify_signature` values, corrected for chance b-bit agreement."""
    share = estimate_jaccard(np.frombuffer(a, dtype=np.uint16), np.frombuffer(b, dtype=np.uint16))
    return max(0.0, (share - _B_COLLIDE) / (1.0 - _B_COLLIDE))


# Verification by bottom-k sketch (Broder 1997, "On the resemblance and containment of documents"; Cohen &
# Kaplan 2007, "Summarizing data using bottom-k sketches"): the k smallest distinct shingle hashes of a
# document. A document with fewer than k distinct shingles ships its whole set, so verification of two such
# documents computes the exact Jaccard index; otherwise the estimate over the k smallest hashes of the union
# has standard deviation sqrt(J(1-J)/k) (0.0125 at J=0.8, k=1024), half that of the 256-value signature.
# MinHash verification misjudged pairs within +-0.03 of the threshold (it is what kept removed-document F1
# at 0.975 on the dev set).
_SKETCH_HEADER = np.dtype("<u4")


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` (the sorted distinct values) of a 1-d integer array, by sorting a copy.

    numpy 2.x answers a plain ``np.unique`` through a hash table, which measured 10-25x slower than a sort
    on the arrays here (uint32, 100 to 100,000 values: 2048 values 135 us vs 10 us); the result is the same.
    """
    out = np.sort(values)
    if len(out) < 2:
        return out
    keep = np.empty(len(out), dtype=bool)
    keep[0] = True
    np.not_equal(out[1:], out[:-1], out=keep[1:])
    return out[keep]


def verify_sketch(hashes: np.ndarray, k: int) -> bytes:
    """Verification sketch of a document's shingle hashes, as bytes: a uint32 header, then hashes.

    A document with at most ``k`` shingles ships them as they are (header 0: the complete set, not even
    sorted, since only candidate pairs are ever compared and that is where the set is made); a longer one
    ships its ``k`` smallest distinct hashes (header ``k``: a bottom-k sketch)."""
    if len(hashes) <= k:
        return _COMPLETE + np.asarray(hashes, dtype="<u4").tobytes()
    # The k smallest distinct values lie among the 2k smallest values whenever those hold k distinct
    # ones (every value below the k-th distinct one of that part is in it): a partial sort, not a sort.
    m = min(len(hashes), 2 * k)
    part = sorted_unique(np.partition(hashes, m - 1)[:m]) if m < len(hashes) else sorted_unique(hashes)
    bottom = (part if len(part) >= k else sorted_unique(hashes))[:k].astype("<u4")
    return np.array([k], dtype=_SKETCH_HEADER).tobytes() + bottom.tobytes()


_COMPLETE = np.array([0], dtype=_SKETCH_HEADER).tobytes()


def _sketch(data: bytes) -> tuple[int, np.ndarray]:
    """(k, sorted distinct hashes); k = 0 for a complete set."""
    k = int(np.frombuffer(data[:4], dtype=_SKETCH_HEADER)[0])
    return k, sorted_unique(np.frombuffer(data[4:], dtype="<u4"))


def sketch_jaccard(a: bytes, b: bytes) -> float:
    """Jaccard index from two :func:`verify_sketch` values: exact when both are complete sets, else the
    bottom-k estimate over the ``k`` smallest hashes of the union (a complete set holds its bottom k)."""
    ka, sa = _sketch(a)
    kb, sb = _sketch(b)
    if not len(sa) or not len(sb):
        return 0.0
    ks = [x for x in (ka, kb) if x > 0]
    union = sorted_unique(np.concatenate((sa, sb)))  # np.union1d(sa, sb)
    if ks:
        union = union[: min(ks)]
    both = np.intersect1d(sa, sb, assume_unique=True)
    return float(np.count_nonzero(both <= union[-1])) / len(union)
