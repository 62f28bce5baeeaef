"""Tokens, shingle hashes, exact keys and MinHash signatures (pure functions, no Beam)."""

from __future__ import annotations

import random

import numpy as np
from datasketch import MinHash

from curation.stages.dedup.signature import (
    Signer,
    affine32_permutations,
    code_tokens,
    estimate_jaccard,
    estimate_jaccard_bbit,
    exact_key,
    joined_tokens,
    sketch_jaccard,
    sorted_unique,
    tokens_for,
    url_key,
    verify_signature,
    verify_sketch,
    words,
)

SIGNER = Signer(num_perm=256, seed=1, bands=32, rows=8)


def _text(lo: int, hi: int, prefix: str = "tok") -> str:
    return " ".join(f"{prefix}{i}" for i in range(lo, hi))


def test_words_follow_eval_readme_and_code_tokens_split_at_symbols() -> None:
    assert words("Hello, World! It's  fine.\n") == ["hello", "world", "its", "fine"]
    assert code_tokens("os.path.join(a, B_2)") == ["os", "path", "join", "a", "b_2"]


def test_exact_key_ignores_case_and_whitespace_but_not_words() -> None:
    assert exact_key("Hello  World\r\n") == exact_key("hello world")
    assert exact_key("hello world") != exact_key("hello there")
    assert exact_key("   \n") is None and exact_key("") is None
    assert url_key("HTTPS://a.org/x/#frag") == url_key("https://a.org/x")
    assert url_key(None) is None and url_key("https://a.org/x") != url_key("https://a.org/y")


def test_shingle_hash_depends_on_shingle_only_and_short_docs_have_none() -> None:
    a = SIGNER.shingle_hashes(words("x y z a b c d e"), 5)
    b = SIGNER.shingle_hashes(words("a b c d e"), 5)
    assert len(a) == 4 and len(b) == 1 and a[-1] == b[0]
    assert len(set(SIGNER.shingle_hashes(words(_text(0, 50)), 5).tolist())) == 46
    assert len(SIGNER.shingle_hashes(words("only four words here"), 5)) == 0
    assert len(SIGNER.shingle_hashes([], 5)) == 0


def test_signatures_equal_datasketch_update_batch() -> None:
    hv = SIGNER.shingle_hashes(words(_text(0, 40)), 5)
    ref = MinHash(num_perm=256, seed=1, scheme="affine32", hashfunc=int)
    ref.update_batch(hv.tolist())
    sig = SIGNER.signatures([hv])[0]
    assert np.array_equal(sig, ref.hashvalues)
    other = SIGNER.signatures([SIGNER.shingle_hashes(words(_text(10, 50)), 5)])[0]
    assert SIGNER.lean(sig).jaccard(SIGNER.lean(other)) == estimate_jaccard(sig, other)


def test_permutations_are_datasketch_affine32_ones() -> None:
    for num_perm, seed in ((256, 1), (128, 42), (7, 0)):
        a, b = affine32_permutations(num_perm, seed)
        ref_a, ref_b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
        assert a.dtype == b.dtype == np.uint32
        assert np.array_equal(a, ref_a) and np.array_equal(b, ref_b)


def test_signatures_do_not_depend_on_batch_composition_or_chunking() -> None:
    docs = [SIGNER.shingle_hashes(words(_text(i, i + 30 + i)), 5) for i in range(20)]
    docs.insert(3, np.empty(0, dtype=np.uint32))
    together = SIGNER.signatures(docs)
    alone = np.vstack([SIGNER.signatures([d]) for d in docs])
    assert np.array_equal(together, alone)
    assert (together[3] == 0xFFFFFFFF).all()  # no shingles -> empty MinHash, never a crash
    long = SIGNER.shingle_hashes(words(_text(0, 20_000)), 5)  # > one matrix chunk
    ref = MinHash(num_perm=256, seed=1, scheme="affine32", hashfunc=int)
    ref.update_batch(long.tolist())
    assert np.array_equal(SIGNER.signatures([long])[0], ref.hashvalues)


def test_estimate_tracks_true_jaccard_above_and_below_threshold() -> None:
    base = SIGNER.signatures([SIGNER.shingle_hashes(words(_text(0, 200)), 5)])[0]
    near = SIGNER.signatures([SIGNER.shingle_hashes(words(_text(10, 210)), 5)])[0]  # J = 186/206 = 0.90
    far = SIGNER.signatures([SIGNER.shingle_hashes(words(_text(70, 270)), 5)])[0]  # J = 126/266 = 0.47
    assert estimate_jaccard(base, near) >= 0.8
    assert estimate_jaccard(base, far) < 0.6


def test_b_bit_signatures_give_the_full_estimate_at_half_the_bytes() -> None:
    sigs = SIGNER.signatures([SIGNER.shingle_hashes(words(_text(lo, lo + 200)), 5) for lo in (0, 10, 40, 70)])
    short = [verify_signature(s) for s in sigs]
    assert len(short[0]) == 2 * 256 == sigs[0].nbytes // 2
    for other in range(1, 4):
        full = estimate_jaccard(sigs[0], sigs[other])
        assert abs(estimate_jaccard_bbit(short[0], short[other]) - full) < 0.01
    assert estimate_jaccard_bbit(short[0], short[0]) == 1.0
    unrelated = verify_signature(SIGNER.signatures([SIGNER.shingle_hashes(words(_text(0, 200, "x")), 5)])[0])
    assert estimate_jaccard_bbit(short[0], unrelated) < 0.02


def test_band_keys_equal_for_equal_bands_and_differ_across_band_index() -> None:
    sig = SIGNER.signatures([SIGNER.shingle_hashes(words(_text(0, 60)), 5)])
    keys = SIGNER.band_keys(np.vstack([sig, sig]))
    assert keys.shape == (2, 32) and keys.dtype == np.int64
    assert np.array_equal(keys[0], keys[1])
    const = np.zeros((1, 256), dtype=np.uint32)  # identical band values in every band
    assert len(set(SIGNER.band_keys(const)[0].tolist())) == 32


def _sh(tokens: list[str], n: int = 5) -> set[str]:
    return {" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b)


# Two functions of one project: the same calls and attribute names, different arguments and logic.
_CODE_A = """def load(self, path):
    data = self.reader.read(path, mode="rb")
    self.cache[path] = data
    return self.parse(data, strict=True)
"""
_CODE_B = """def store(self, key):
    blob = self.writer.write(key, level=3)
    self.index[key] = blob
    return self.check(blob, strict=False)
"""


def test_code_lexemes_keep_identifiers_whole_and_ignore_layout_quotes_and_comment_markers() -> None:
    assert tokens_for("code", "os.path.join(a, B_2)") == ["ospathjoina", "b_2"]
    assert tokens_for("code", "os.path.join(a, B_2)", "identifiers") == ["os", "path", "join", "a", "b_2"]
    assert tokens_for("web", "os.path.join(a, B_2)", "identifiers") == ["ospathjoina", "b_2"]  # prose: words
    src = "x = f('a')  # note\n    return x\n"
    reflowed = '# note\nx = f("a")\n\n  return x'
    assert sorted(tokens_for("code", src)) == sorted(tokens_for("code", reflowed))


def test_code_lexemes_separate_files_that_identifier_tokens_join() -> None:
    ident = _jaccard(_sh(tokens_for("code", _CODE_A, "identifiers"), 2),
                     _sh(tokens_for("code", _CODE_B, "identifiers"), 2))
    lex = _jaccard(_sh(tokens_for("code", _CODE_A), 2), _sh(tokens_for("code", _CODE_B), 2))
    assert lex < ident  # `self reader`, `self cache` ... are generic identifier shingles
    assert lex == 0.0


def test_bottom_k_sketch_is_exact_below_k_and_estimates_above() -> None:
    a = SIGNER.shingle_hashes(words(_text(0, 200)), 5)
    b = SIGNER.shingle_hashes(words(_text(10, 210)), 5)  # J = 186/206
    assert sketch_jaccard(verify_sketch(a, 1024), verify_sketch(b, 1024)) == 186 / 206
    assert sketch_jaccard(verify_sketch(a, 1024), verify_sketch(a, 1024)) == 1.0
    big_a = SIGNER.shingle_hashes(words(_text(0, 20_000)), 5)
    big_b = SIGNER.shingle_hashes(words(_text(2_000, 22_000)), 5)  # J = 17996/21996 = 0.818
    est = sketch_jaccard(verify_sketch(big_a, 1024), verify_sketch(big_b, 1024))
    assert len(verify_sketch(big_a, 1024)) == 4 + 4 * 1024
    assert abs(est - 17996 / 21996) < 0.05
    unrelated = SIGNER.shingle_hashes(words(_text(0, 200, "x")), 5)
    assert sketch_jaccard(verify_sketch(a, 64), verify_sketch(unrelated, 64)) == 0.0
    assert sketch_jaccard(verify_sketch(a, 64), verify_sketch(np.empty(0, dtype=np.uint32), 64)) == 0.0


def test_rules_reject_unknown_tokenizer_and_non_word_prose() -> None:
    import pytest

    from curation.stages.dedup.rules import DedupRules, MinHashRules, ShingleRules

    assert DedupRules().code_tokens.tokenizer == "lexemes" and DedupRules().words.tokenizer == "words"
    with pytest.raises(ValueError, match="tokenizer must be one of"):
        ShingleRules(tokenizer="bpe")
    with pytest.raises(ValueError, match=r"words\.tokenizer"):
        DedupRules(words=ShingleRules(tokenizer="identifiers"))
    with pytest.raises(ValueError, match="verify_k"):
        MinHashRules(verify_k=1)


def test_complete_sets_and_bottom_k_sketches_compare_correctly() -> None:
    small = SIGNER.shingle_hashes(words(_text(0, 604)), 5)  # 600 shingles: shipped as the complete set
    big = SIGNER.shingle_hashes(words(_text(0, 1204)), 5)  # 1200 shingles: bottom-1024 sketch, a superset
    s, b = verify_sketch(small, 1024), verify_sketch(big, 1024)
    assert np.frombuffer(s[:4], dtype="<u4")[0] == 0 and np.frombuffer(b[:4], dtype="<u4")[0] == 1024
    assert abs(sketch_jaccard(s, b) - 600 / 1200) < 0.05
    assert sketch_jaccard(s, b) == sketch_jaccard(b, s)
    dup = np.concatenate([small, small[:50]])  # repeated shingles count once
    assert sketch_jaccard(verify_sketch(dup, 1024), s) == 1.0


def test_joined_tokens_equal_the_joined_token_list_for_ascii_and_unicode_text() -> None:
    rng = random.Random(5)
    alphabet = [chr(c) for c in range(128)] + list("éÉßçÇ«»’“”—\u00a0\u2028\u3000中文")
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(40)))
        for kind, tok in (("web", "lexemes"), ("code", "lexemes"), ("code", "identifiers"),
                          ("code", "symbols")):
            expected = " ".join(tokens_for(kind, text, tok)).encode("utf-8", "surrogatepass")
            assert joined_tokens(kind, text, tok) == expected, (text, kind, tok)
    hashes = SIGNER.shingle_hashes_joined(joined_tokens("web", _text(0, 20)), 5)
    assert np.array_equal(hashes, SIGNER.shingle_hashes(words(_text(0, 20)), 5))
    assert len(SIGNER.shingle_hashes_joined(joined_tokens("web", _text(0, 4)), 5)) == 0
    assert len(SIGNER.shingle_hashes_joined(b"", 1)) == 0


def test_bottom_k_sketch_of_many_duplicate_hashes_is_the_k_smallest_distinct() -> None:
    rng = np.random.default_rng(3)
    for distinct in (300, 900, 1100, 5000):  # fewer, as many and more distinct than k
        hashes = rng.integers(0, 2**32, size=distinct, dtype=np.uint32)
        many = np.concatenate([hashes] * 5 + [hashes[:7]])
        rng.shuffle(many)
        sketch = verify_sketch(many, 1024)
        expected = np.unique(many)[:1024].astype("<u4").tobytes()
        assert sketch[4:] == expected


def test_sorted_unique_is_np_unique() -> None:
    rng = np.random.default_rng(4)
    for dtype in (np.uint32, np.uint64, np.int64):
        for n in (0, 1, 2, 3, 100, 2048, 5000):
            for high in (3, 2**32):  # many repeats, few repeats
                a = rng.integers(0, high, size=n).astype(dtype)
                got = sorted_unique(a)
                assert got.dtype == a.dtype and np.array_equal(got, np.unique(a))
    frozen = np.frombuffer(np.array([5, 1, 5, 3], dtype="<u4").tobytes(), dtype="<u4")  # read-only input
    assert sorted_unique(frozen).tolist() == [1, 3, 5] and frozen.tolist() == [5, 1, 5, 3]


def test_sketch_jaccard_equals_set_arithmetic() -> None:
    rng = np.random.default_rng(6)
    for _ in range(200):
        n_a, n_b, shared = rng.integers(0, 1500, 3)
        common = rng.integers(0, 2**32, size=shared, dtype=np.uint32)
        a = np.concatenate([common, rng.integers(0, 2**32, size=n_a, dtype=np.uint32)])
        b = np.concatenate([common, rng.integers(0, 2**32, size=n_b, dtype=np.uint32)])
        sa, sb = verify_sketch(a, 1024), verify_sketch(b, 1024)
        ua, ub = set(a.tolist()), set(b.tolist())
        if not ua or not ub:
            assert sketch_jaccard(sa, sb) == 0.0
            continue
        ks = [k for k, h in ((1024, a), (1024, b)) if len(h) > 1024]
        union = sorted(ua | ub)[: min(ks)] if ks else sorted(ua | ub)
        both = {h for h in ua & ub if h <= union[-1]}
        assert sketch_jaccard(sa, sb) == len(both) / len(union)
