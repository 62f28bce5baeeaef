"""Small multi-shard corpora for the wave / resume / cancel tests (seeded, a few KB)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import yaml

STAGES = [{"name": "normalize", "rules": "normalize.yaml"}, {"name": "dedup", "rules": "dedup.yaml"}]


def prose(rng: random.Random, words: int) -> str:
    vocab = [f"w{i}x" for i in range(4000)]
    sentences, cur = [], []
    for _ in range(words):
        cur.append(rng.choice(vocab))
        if len(cur) == 12:
            sentences.append(" ".join(cur).capitalize() + ".")
            cur = []
    return " ".join(sentences + ([" ".join(cur) + "."] if cur else []))


def near_copy(text: str, rng: random.Random, edits: int = 2) -> str:
    words = text.split(" ")
    for _ in range(edits):
        words[rng.randrange(len(words))] = "changed"
    return " ".join(words)


def write_shards(root: Path, shards: list[list[dict]]) -> Path:
    """One JSONL web shard per list (named s00.jsonl, s01.jsonl, ...) and a config reading them."""
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    for i, docs in enumerate(shards):
        (data / f"s{i:02d}.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    cfg = {
        "name": "waves",
        "tokenizer": "whitespace",
        "sources": [{"name": "w", "kind": "web", "paths": ["data/*.jsonl"]}],
        "stages": STAGES,
        "output": {"report": False},
    }
    path = root / "pipeline.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def corpus(seed: int = 0, shards: int = 4, per_shard: int = 3) -> list[list[dict]]:
    """Unique documents plus, in later shards, exact and near copies of documents of earlier shards."""
    rng = random.Random(seed)
    out: list[list[dict]] = []
    n = 0
    for s in range(shards):
        docs = []
        for _ in range(per_shard):
            docs.append({"id": f"d{n:03d}", "text": prose(rng, 150), "url": f"https://x.test/{n}"})
            n += 1
        if s:
            earlier = out[rng.randrange(s)]
            docs.append({"id": f"d{n:03d}", "text": earlier[0]["text"], "url": f"https://x.test/{n}"})
            docs.append(
                {
                    "id": f"d{n + 1:03d}",
                    "text": near_copy(earlier[1]["text"], rng),
                    "url": f"https://x.test/{n}",
                }
            )
            n += 2
        out.append(docs)
    return out
