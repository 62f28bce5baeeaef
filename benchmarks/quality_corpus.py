"""The quality benchmark's inputs: real dev documents (read as a user would) and seeded junk made from them.

* Good documents: every record of ``<data>/corpus/*.jsonl.gz``. Web records go through the project's web
  reader (``curation.io``: raw ``html`` -> trafilatura main text; man pages have ``html: null`` and keep
  their ``text``), then ``normalize`` and ``langid`` as in the pipeline, so the quality stage sees what it
  sees in a run.
* Junk: ten generic corruptions of *other* dev texts (web pages, books, conversations in their own
  languages), seeded, never tuned to individual documents: word salad, keyword spam, navigation
  boilerplate, repeated lines, lorem ipsum, link lists, symbol soup, mixed-script garbage, too-short pages
  and code dumped into prose. Each generator only uses the source text's own tokens (so junk is in the
  source's language and script) plus language-neutral symbols.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from curation.config import Limits
from curation.document import Document
from curation.io.common import Shard
from curation.io.read import read_shard
from curation.stages.quality.segment import tokenize

KINDS = ("web", "book", "code", "conversation")


def read_jsonl_gz(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def web_documents(records: list[dict]) -> list[Document]:
    """Web records through the project's JSONL web reader (html -> main text), in record order."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "web.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for r in records:
                rec = {"url": r.get("url"), "title": r.get("title"), "html": r.get("html")}
                if r.get("html") is None:
                    rec["text"] = r["text"]
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        shard = Shard(source="eval-dev/web", kind="web", path=str(path), format="jsonl", license=None,
                      rel="web.jsonl")
        outs = list(read_shard(shard, Limits()))
    docs = []
    for r, o in zip(records, outs, strict=True):
        if isinstance(o, Document):
            docs.append(o.evolve(id=r["id"], meta={**(o.meta or {}), "dev_lang": r.get("lang") or ""}))
    return docs


def good_documents(data: Path) -> dict[str, list[Document]]:
    """The dev corpus per source kind (web through the reader)."""
    out: dict[str, list[Document]] = {}
    for kind in KINDS:
        rows = read_jsonl_gz(data / "corpus" / f"{kind}.jsonl.gz")
        if kind == "web":
            out[kind] = web_documents(rows)
            continue
        out[kind] = [record_document(kind, r) for r in rows]
    return out


def record_document(kind: str, r: dict) -> Document:
    """A dev corpus record as a Document built directly from its fields (its ``text`` as given)."""
    msgs = r.get("messages")
    return Document(
        id=r["id"], source_kind=kind, source=f"eval-dev/{kind}", text=r["text"], url=r.get("url"),
        path=r.get("path"), repo=r.get("repo"), code_language=r.get("language"),
        messages=None if msgs is None else tuple((m["speaker"], m["content"]) for m in msgs),
    )


# ----------------------------------------------------------------------------------------------- junk

_SYMBOLS = [*"#*@$%&^~|+=<>/\\_-•★☆►▲■□●◆→←§¶©®™", "...", "…", "###", "$$$", "!!!", "???", ">>>"]
_SCRIPTS = (
    (0x0041, 0x005A), (0x0061, 0x007A), (0x0410, 0x044F), (0x4E00, 0x9FA5), (0x0627, 0x064A),
    (0x0391, 0x03C9), (0x05D0, 0x05EA), (0x0E01, 0x0E2E), (0x3041, 0x3093), (0x0905, 0x0939),
)
_LOREM = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et "
    "dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip "
    "ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum "
    "dolore eu "
    "fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia "
    "deserunt mollit anim id est laborum."
)


def _joiner(words: list[str], text: str) -> str:
    """Words were space-separated in the source unless it is mostly unspaced script (zh, ja, th)."""
    return "" if text.count(" ") * 20 < len(text) else " "


def _words(text: str) -> list[str]:
    return [w for w in tokenize(text) if any(ch.isalnum() for ch in w)] or ["x"]


def _content_words(words: list[str]) -> list[str]:
    long = sorted({w for w in words if len(w) >= 4 or not w.isascii()})
    return long or sorted(set(words))


def _lines(tokens: list[str], sep: str, rng: random.Random, lo: int, hi: int) -> list[str]:
    out, i = [], 0
    while i < len(tokens):
        k = rng.randint(lo, hi)
        out.append(sep.join(tokens[i : i + k]))
        i += k
    return out


def word_salad(text: str, rng: random.Random) -> str:
    words = _words(text)[:600]
    rng.shuffle(words)
    sep = _joiner(words, text)
    lines = _lines(words, sep, rng, 12, 30)
    # sprinkle the source's own punctuation so lines still "end" like sentences
    lines = [ln + rng.choice([".", ".", ",", "", "!"]) for ln in lines]
    paras, i = [], 0
    while i < len(lines):
        k = rng.randint(1, 4)
        paras.append("\n".join(lines[i : i + k]))
        i += k
    return "\n\n".join(paras)


def keyword_spam(text: str, rng: random.Random) -> str:
    vocab = _content_words(_words(text))
    keys = rng.sample(vocab, min(len(vocab), rng.randint(3, 6)))
    sep = _joiner(keys, text)
    lines = []
    for _ in range(rng.randint(15, 40)):
        n = rng.randint(4, 12)
        lines.append(sep.join(rng.choice(keys) for _ in range(n)) + rng.choice(["", ".", "!", " !!!"]))
    return "\n".join(lines)


def navigation(text: str, rng: random.Random) -> str:
    vocab = _content_words(_words(text))
    sep = _joiner(vocab, text)
    items = [sep.join(rng.sample(vocab, min(len(vocab), rng.randint(1, 3)))).title() for _ in range(80)]
    lines = []
    i = 0
    while i < len(items):
        k = rng.randint(1, 6)
        lines.append(rng.choice([" | ", " » ", " · ", "\n"]).join(items[i : i + k]))
        i += k
    lines.append(f"© {rng.randint(1999, 2025)} {items[0]}")
    return "\n".join(lines)


def repeated_lines(text: str, rng: random.Random) -> str:
    sents = [s.strip() for s in re.split(r"(?<=[.!?。！？])\s*", text) if len(s.strip()) > 20]
    sents = sents or [text[:80]]
    picked = rng.sample(sents, min(len(sents), rng.randint(1, 3)))
    lines = [rng.choice(picked) for _ in range(rng.randint(12, 40))]
    return "\n".join(lines)


def lorem_ipsum(text: str, rng: random.Random) -> str:
    title = " ".join(_words(text)[:6])
    paras = [_LOREM] * rng.randint(2, 5)
    return title + "\n\n" + "\n\n".join(paras)


def link_list(text: str, rng: random.Random) -> str:
    vocab = [w.lower() for w in _content_words(_words(text)) if w.isascii()] or ["page", "item", "list"]
    words = _content_words(_words(text))
    sep = _joiner(words, text)
    lines = []
    for _ in range(rng.randint(20, 60)):
        anchor = sep.join(rng.sample(words, min(len(words), rng.randint(1, 4))))
        url = f"https://www.{rng.choice(vocab)}.{rng.choice(['com', 'org', 'net', 'de'])}/" + "/".join(
            rng.choice(vocab) for _ in range(rng.randint(1, 3))
        )
        lines.append(rng.choice([f"{anchor} - {url}", url, f"* {anchor}: {url}", f"{anchor} ({url})"]))
    return "\n".join(lines)


def symbol_soup(text: str, rng: random.Random) -> str:
    words = _words(text)
    toks = []
    for _ in range(rng.randint(150, 400)):
        sym = "".join(rng.choices(_SYMBOLS, k=rng.randint(1, 4)))
        toks.append(rng.choice(words) if rng.random() < 0.3 else sym)
    return "\n".join(" ".join(toks[i : i + 12]) for i in range(0, len(toks), 12))


def mixed_script(text: str, rng: random.Random) -> str:
    if rng.random() < 0.5:  # mojibake: UTF-8 bytes read as Latin-1/cp1252, as broken pipelines produce
        body = text[:3000]
        return body.encode("utf-8").decode(rng.choice(["latin-1", "cp1252"]), errors="replace")
    toks = []
    for _ in range(rng.randint(150, 400)):
        chars = []
        for _ in range(rng.randint(2, 9)):
            lo, hi = rng.choice(_SCRIPTS)
            chars.append(chr(rng.randint(lo, hi)))
        toks.append("".join(chars))
    return "\n".join(" ".join(toks[i : i + 10]) for i in range(0, len(toks), 10))


def too_short(text: str, rng: random.Random) -> str:
    words = _words(text)
    start = rng.randint(0, max(0, len(words) - 20))
    return _joiner(words, text).join(words[start : start + rng.randint(3, 15)])


def code_in_prose(text: str, rng: random.Random, code: str = "") -> str:
    """A little prose with large code dumps whose line structure was lost (flattened <pre>, minified)."""
    sents = [s.strip() for s in re.split(r"(?<=[.!?。！？])\s+", text) if len(s.strip()) > 20]
    sents = sents or [text[:200]]
    prose = " ".join(sents[: rng.randint(1, 2)])
    flat = " ".join(code.split())
    parts = [prose]
    for _ in range(rng.randint(1, 3)):
        start = rng.randint(0, max(0, len(flat) - 3000))
        parts.append(flat[start : start + rng.randint(1500, 4000)])
    return "\n\n".join(parts)


JUNK: dict[str, Callable[..., str]] = {
    "word_salad": word_salad,
    "keyword_spam": keyword_spam,
    "navigation": navigation,
    "repeated_lines": repeated_lines,
    "lorem_ipsum": lorem_ipsum,
    "link_list": link_list,
    "symbol_soup": symbol_soup,
    "mixed_script": mixed_script,
    "too_short": too_short,
    "code_in_prose": code_in_prose,
}


def junk_documents(good: dict[str, list[Document]], per_kind: int = 60, seed: int = 15) -> list[Document]:
    """``per_kind`` seeded junk web pages per junk kind, each made from one random dev text.

    Sources are drawn from web pages, books and conversation texts, with every non-English web page and
    conversation language represented (half of the draws are from non-English texts when they exist).
    """
    rng = random.Random(seed)
    pool = [d for d in good["web"] + good["book"] if len(d.text) > 400]
    pool += [d for d in good["conversation"] if len(d.text) > 400]
    foreign = [d for d in pool if (d.meta or {}).get("dev_lang", "en") not in ("", "en")]
    foreign += [d for d in good["conversation"] if len(d.text) > 400 and _is_foreign(d.text)]
    codes = [d.text for d in good["code"] if len(d.text) > 3000]
    out = []
    for kind, gen in JUNK.items():
        for i in range(per_kind):
            src = rng.choice(foreign if foreign and i % 2 else pool)
            text = gen(src.text, rng, rng.choice(codes)) if kind == "code_in_prose" else gen(src.text, rng)
            out.append(
                Document(id=f"junk-{kind}-{i}", source_kind="web", source="junk", text=text,
                         url=f"https://junk.example/{kind}/{i}", meta={"junk": kind})
            )
    return out


def _is_foreign(text: str) -> bool:
    return sum(1 for ch in text[:500] if ord(ch) > 0x2FF) > 100
