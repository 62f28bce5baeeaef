"""Build the reference corpus the shipped per-language thresholds were calibrated on.

Good text in many languages that Debian packages ship: the translated Debian Reference
(``debian-reference-<lang>``), the Debian FAQ (``debian-faq-<lang>``) and the New Maintainers' Guide
(``maint-guide-<lang>``), all edited, human-translated documentation. The packages are fetched with the
ordinary client and unpacked (no network at pipeline run time; the thresholds are shipped)::

    mkdir -p /tmp/ref && cd /tmp/ref && apt-get download debian-reference-{en,de,es,fr,id,it,ja,pt,zh-cn} \\
        debian-faq debian-faq-{de,fr,it,ja,ko,nl,pt,ru,zh-cn} \\
        maint-guide maint-guide-{ca,de,es,fr,it,ja,ru,vi,zh-cn}
    for f in *.deb; do dpkg-deb -x "$f" x/; done
    .venv/bin/python scripts/calibration_reference.py /tmp/ref/x --out /tmp/ref/reference.jsonl
    .venv/bin/curate quality calibrate --reference /tmp/ref/reference.jsonl --out rules/quality/languages.yaml

Each HTML page goes through the project's HTML reader (trafilatura main text) and is cut into
documents of about ``--chunk-chars`` characters at paragraph breaks (pages are long chapters; web pages
are shorter). The language comes from the file name (``*.de.html``, ``FAQ/de/``, ``maint-guide-de``).
This corpus is NOT the dev set: no dev text is used for calibration.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from curation.io.html import extract_main_text  # noqa: E402

_LANG_MAP = {"zh-cn": "zh", "zh-tw": "zh", "pt-br": "pt"}


def page_lang(path: Path) -> str:
    """Language of a documentation page from its path (English when the path names none)."""
    m = re.search(r"\.([a-z]{2}(?:-[a-z]{2})?)\.html?$", path.name)
    if m is None:
        for part in reversed(path.parts):
            m2 = re.fullmatch(r"(?:maint-guide-)?([a-z]{2}(?:-[a-z]{2})?)", part)
            if m2 and part not in ("x", "usr", "doc", "html"):
                return _LANG_MAP.get(m2.group(1), m2.group(1))
        return "en"
    return _LANG_MAP.get(m.group(1), m.group(1))


def chunks(text: str, size: int) -> list[str]:
    """Consecutive paragraphs joined up to about ``size`` characters."""
    out, cur = [], []
    n = 0
    for para in re.split(r"\n\s*\n|\n", text):
        para = para.strip()
        if not para:
            continue
        cur.append(para)
        n += len(para)
        if n >= size:
            out.append("\n".join(cur))
            cur, n = [], 0
    if n >= size // 3:
        out.append("\n".join(cur))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="folder with the unpacked packages")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--chunk-chars", type=int, default=3000)
    args = parser.parse_args(argv)
    counts: dict[str, int] = {}
    with args.out.open("w", encoding="utf-8") as fh:
        for path in sorted(args.root.rglob("*.html")):
            text = extract_main_text(path.read_text(encoding="utf-8", errors="replace"))
            if not text:
                continue
            lang = page_lang(path.relative_to(args.root))
            for i, chunk in enumerate(chunks(text, args.chunk_chars)):
                rec = {"lang": lang, "text": chunk, "source": f"{path.relative_to(args.root)}#{i}"}
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
                counts[lang] = counts.get(lang, 0) + 1
    print(json.dumps(counts, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
