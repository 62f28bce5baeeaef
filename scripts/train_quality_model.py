"""Train the default fastText quality model (models/quality_default.bin) reproducibly and offline.

Positives ("hq"): prose paragraphs of docstrings in Python packages installed in the project venv (a fixed
list, read with ``ast``, never imported): explanatory, edited technical English. Negatives ("lq"):
generated with a fixed seed: word salad (the positives' own words shuffled, so word order matters),
navigation/cookie/footer boilerplate, keyword-stuffed spam, repeated sentences and tag/list fragments.
No eval data is used. The result distinguishes coherent prose from spam, boilerplate and word salad; it is
NOT a measure of educational value, topic or factuality, and it is biased towards technical English.

    .venv/bin/python scripts/train_quality_model.py --out models/quality_default.bin
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import random
import re
import sys
import sysconfig
import tempfile
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from curation.stages.quality.classifier import POSITIVE, FastTextScorer, Preprocess, train  # noqa: E402

# Packages whose docstrings are used (all installed by `make install`; versions recorded in the card).
PACKAGES = (
    "apache_beam", "numpy", "pyarrow", "datasketch", "trafilatura", "warcio", "yaml", "matplotlib",
    "presidio_analyzer", "spacy", "transformers", "torch", "tiktoken", "zstandard", "detoxify",
)
_DIST = {"yaml": "PyYAML", "apache_beam": "apache-beam", "presidio_analyzer": "presidio-analyzer"}
_PROSE_BAD_RE = re.compile(r">>>|::|\.\. |----|====|\bParameters\b|\bReturns\b|\bArgs:|`|http|\{|\}|\[|\]")
_WORD_RE = re.compile(r"[A-Za-z]+")

NAV = ("Home", "About", "About us", "Contact", "Blog", "Login", "Sign up", "Register", "Shop", "Cart",
       "FAQ", "Careers", "Press", "Products", "Services", "Support", "Privacy", "Terms", "Sitemap", "News",
       "Events", "Gallery", "Downloads", "Forum", "Search", "Menu", "Account", "Help", "Next", "Previous")
BOILER = ("This website uses cookies to improve your experience.", "Accept all cookies", "Read more",
          "Click here to subscribe to our newsletter!", "All rights reserved.", "Share on Facebook",
          "Share on Twitter", "Powered by WordPress", "Back to top", "Skip to main content",
          "You must be logged in to post a comment.", "Leave a reply", "Copyright 2023", "Follow us",
          "Please enable JavaScript to view this page.", "Loading...", "Posted in Uncategorized",
          "Tags:", "Related posts", "Sign up for free today", "Terms of use | Privacy policy")
SPAM_KW = ("cheap", "best", "buy", "online", "free", "discount", "casino", "loans", "viagra", "replica",
           "watches", "bitcoin", "bonus", "deal", "sale", "shipping", "top", "review", "2023", "wholesale",
           "jerseys", "shoes", "download", "crack", "keygen", "seo", "followers", "win", "prize", "fast")


def docstring_paragraphs(pkg_dir: Path, limit_files: int = 4000) -> list[str]:
    """Prose paragraphs (>= 25 words, no code/markup) of module, class and function docstrings."""
    out: list[str] = []
    for f in sorted(pkg_dir.rglob("*.py"))[:limit_files]:
        try:
            tree = ast.parse(f.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            doc = ast.get_docstring(node)
            if not doc:
                continue
            for para in re.split(r"\n\s*\n", doc):
                text = " ".join(para.split())
                words = _WORD_RE.findall(text)
                if len(words) >= 25 and not _PROSE_BAD_RE.search(text) and text[-1:] in ".!?":
                    out.append(text)
    return out


def collect_positives(max_docs: int) -> tuple[list[str], dict[str, str]]:
    site = Path(sysconfig.get_paths()["purelib"])
    paras: set[str] = set()
    versions: dict[str, str] = {}
    for pkg in PACKAGES:
        d = site / pkg
        if not d.is_dir():
            continue
        try:
            versions[pkg] = metadata.version(_DIST.get(pkg, pkg))
        except metadata.PackageNotFoundError:
            versions[pkg] = "?"
        paras.update(docstring_paragraphs(d))
    ranked = sorted(paras, key=lambda t: hashlib.sha256(t.encode()).hexdigest())
    # Documents of 1-3 paragraphs, so lengths vary like real documents.
    rng = random.Random(1)
    docs, i = [], 0
    while i < len(ranked) and len(docs) < max_docs:
        k = rng.randint(1, 3)
        docs.append("\n\n".join(ranked[i : i + k]))
        i += k
    return docs, versions


def make_negatives(positives: list[str], n: int, seed: int) -> list[str]:
    """Generated low-quality texts (fixed seed): salad, boilerplate, spam, repetition, fragments."""
    rng = random.Random(seed)
    out: list[str] = []
    for i in range(n):
        kind = i % 10
        src = positives[rng.randrange(len(positives))]
        if kind < 3:  # word salad from real vocabulary
            words = src.split()
            rng.shuffle(words)
            out.append(" ".join(words))
        elif kind < 5:  # navigation + boilerplate
            lines = [" | ".join(rng.sample(NAV, rng.randint(3, 9))) for _ in range(rng.randint(1, 3))]
            lines += rng.sample(BOILER, rng.randint(2, 7))
            rng.shuffle(lines)
            out.append("\n".join(lines))
        elif kind < 7:  # keyword stuffing
            kws = rng.sample(SPAM_KW, 6)
            out.append(" ".join(rng.choice(kws) for _ in range(rng.randint(20, 120))))
        elif kind < 8:  # one sentence repeated
            sent = re.split(r"(?<=[.!?])\s+", src)[0]
            out.append(" ".join([sent] * rng.randint(3, 12)))
        else:  # fragments: title-cased word lists, tags, numbers
            words = [w.strip(".,;:()").capitalize() for w in src.split()[:40]]
            parts = [" ".join(rng.sample(words, min(len(words), rng.randint(1, 4)))) for _ in range(12)]
            parts += [str(rng.randint(1, 9999)) for _ in range(rng.randint(0, 6))]
            rng.shuffle(parts)
            out.append(rng.choice([", ", "\n", " | ", " - "]).join(parts))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "models" / "quality_default.bin")
    parser.add_argument("--max-docs", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    positives, versions = collect_positives(args.max_docs)
    if len(positives) < 100:
        print(f"only {len(positives)} positive documents found in installed packages", file=sys.stderr)
        return 1
    held_pos = positives[::10]  # every 10th document is held out for the card's accuracy figure
    positives = [t for i, t in enumerate(positives) if i % 10]
    negatives = make_negatives(positives, len(positives), args.seed)
    held_neg = make_negatives(held_pos, len(held_pos), args.seed + 1)
    with tempfile.TemporaryDirectory() as tmp:
        pos_f, neg_f = Path(tmp) / "pos.jsonl", Path(tmp) / "neg.jsonl"
        pos_f.write_text("".join(json.dumps({"text": t}) + "\n" for t in positives), encoding="utf-8")
        neg_f.write_text("".join(json.dumps({"text": t}) + "\n" for t in negatives), encoding="utf-8")
        summary = train(
            pos_f, neg_f, args.out, epoch=10, dim=32, word_ngrams=2, bucket=50_000, seed=args.seed
        )
    scorer = FastTextScorer(args.out, POSITIVE, Preprocess())
    pos_ok = sum(s >= 0.5 for s in scorer.score(held_pos))
    neg_ok = sum(s < 0.5 for s in scorer.score(held_neg))
    card = {
        **summary, "packages": versions, "python": sys.version.split()[0], "seed": args.seed,
        "heldout_positive_accuracy": round(pos_ok / len(held_pos), 4),
        "heldout_negative_accuracy": round(neg_ok / len(held_neg), 4),
        "heldout_examples": len(held_pos) + len(held_neg),
    }
    card_text = json.dumps(card, indent=2, sort_keys=True) + "\n"
    args.out.with_suffix(".json").write_text(card_text, encoding="utf-8")
    print(json.dumps(card, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
