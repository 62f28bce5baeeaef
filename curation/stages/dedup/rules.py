"""Rules of the dedup stage (``rules/dedup.yaml``), parsed into frozen dataclasses at build time.

The defaults follow the near-duplicate definition of the evaluation set and of the papers it follows:
word 5-gram shingles and Jaccard >= 0.8 (Lee et al. 2022, "Deduplicating Training Data Makes Language
Models Better"; Penedo et al. 2024, FineWeb), MinHash (Broder 1997) with LSH banding (Leskovec, Rajaraman,
Ullman, "Mining of Massive Datasets", ch. 3.4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from curation.rules import check_range, load_rules

TOKENIZER_NAMES = ("words", "lexemes", "identifiers", "symbols")  # keys of signature.TOKENIZERS


@dataclass(frozen=True)
class ShingleRules:
    """How a document becomes a set of shingles (runs of ``n`` consecutive tokens)."""

    n: int = 5
    # words | lexemes | identifiers | symbols (curation/stages/dedup/signature.py); prose always uses words
    tokenizer: str = "words"

    def __post_init__(self) -> None:
        if not 1 <= self.n <= 64:
            raise ValueError("n must be in [1, 64]")
        if self.tokenizer not in TOKENIZER_NAMES:
            raise ValueError(f"tokenizer must be one of {', '.join(TOKENIZER_NAMES)}")


@dataclass(frozen=True)
class MinHashRules:
    """MinHash signature and LSH banding parameters (``bands * rows <= num_perm``)."""

    num_perm: int = 256
    bands: int = 32
    rows: int = 8
    seed: int = 1
    threshold: float = 0.8  # Jaccard at or above which two documents are near-duplicates
    verify: bool = True  # drop candidate edges whose Jaccard (bottom-k sketch) is below `threshold`
    verify_k: int = 1024  # sketch size: exact Jaccard for documents with at most this many shingles

    def __post_init__(self) -> None:
        if self.num_perm < 1 or self.bands < 1 or self.rows < 1:
            raise ValueError("num_perm, bands and rows must be >= 1")
        if self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands * rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        if not 16 <= self.verify_k <= 65536:
            raise ValueError("verify_k must be in [16, 65536]")
        if not 0 <= self.seed < 2**32:
            raise ValueError("seed must be in [0, 2**32)")


@dataclass(frozen=True)
class KeepRules:
    """Which copy of a duplicate cluster is kept: best license rank, then quality, then length, then id."""

    license_signal: str = "license.category"
    quality_signal: str = "quality.score"
    # Most permissive first. A category missing from the signal counts as `missing_license`; a category
    # not listed here ranks after every listed one.
    license_rank: tuple[str, ...] = (
        "public_domain",
        "permissive",
        "weak_copyleft",
        "strong_copyleft",
        "unknown",
        "non_commercial",
        "no_derivatives",
        "proprietary",
    )
    missing_license: str = "unknown"
    missing_quality: float = 0.0

    def __post_init__(self) -> None:
        if len(set(self.license_rank)) != len(self.license_rank):
            raise ValueError("license_rank lists a category twice")


@dataclass(frozen=True)
class DedupRules:
    """rules/dedup.yaml."""

    exact: bool = True  # hash of the normalized text (lower-cased, whitespace collapsed)
    exact_url: bool = False  # also treat web documents with the same normalized URL as exact copies
    near: bool = True  # MinHash-LSH near-duplicate detection
    words: ShingleRules = field(default_factory=ShingleRules)  # prose: words as in the eval README
    code_tokens: ShingleRules = field(default_factory=lambda: ShingleRules(tokenizer="lexemes"))  # code
    minhash: MinHashRules = field(default_factory=MinHashRules)
    keep: KeepRules = field(default_factory=KeepRules)
    max_rounds: int = 8  # connected-components rounds (large-star + small-star) unrolled in the graph
    batch_size: int = 1024  # documents per signature batch
    bucket_shards: int = 512  # bucket keys are shuffled in per-batch lists, grouped by key hash modulo this


    def __post_init__(self) -> None:
        if self.max_rounds < 1 or self.batch_size < 1 or self.bucket_shards < 1:
            raise ValueError("max_rounds, batch_size and bucket_shards must be >= 1")
        if self.words.tokenizer != "words":
            raise ValueError("words.tokenizer must be words (the prose definition)")


def load_dedup_rules(path: str | Path) -> DedupRules:
    """Load and validate ``rules/dedup.yaml`` (raises ConfigError naming file and key)."""
    rules = load_rules(path, DedupRules)
    check_range(path, "minhash.threshold", rules.minhash.threshold, 0.0, 1.0)
    return rules
