"""Powers of the 64-bit polynomial-hash base, shared by dedup's shingle hashes and decontamination's
n-gram hashes (both hash a run as ``sum(x_i * B**i)`` read off prefix sums, so both need ``B**i`` and
``B**-i`` up to the longest text seen).

The tables are constants of the hash: a prefix of a longer table is exactly the table a shorter text
needs, so one pair per process is grown by doubling instead of recomputing two cumprods per document.
The pair is replaced whole when grown (never mutated), so a thread reading an older pair stays
consistent.
"""

from __future__ import annotations

import numpy as np

#: Odd (so invertible modulo 2**64), dense bits: 2**64 / golden ratio.
BASE = 0x9E3779B97F4A7C15
BASE_INV = pow(BASE, -1, 1 << 64)

_U64 = np.uint64
_TABLES: tuple[np.ndarray, np.ndarray] = (np.ones(1, dtype=_U64), np.ones(1, dtype=_U64))


def power_table(base: int, size: int) -> np.ndarray:
    """``[base**0, base**1, ..., base**(size-1)] mod 2**64`` (uint64 arithmetic wraps)."""
    steps = np.full(size, base, dtype=_U64)
    steps[0] = 1
    return np.cumprod(steps, dtype=_U64)


def powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(B**i, B**-i)`` for at least ``i < n`` (longer arrays: slice what you need)."""
    global _TABLES
    pair = _TABLES
    if len(pair[0]) < n:
        size = max(n, 2 * len(pair[0]), 4096)
        pair = _TABLES = (power_table(BASE, size), power_table(BASE_INV, size))
    return pair
