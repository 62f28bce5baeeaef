# ruff: noqa: E501  (HTML and code templates are data; wrapping them hurts readability)
"""Write the bundled sample shards (data/sample/{web,book,code,conversation}/) deterministically.

Run: ``python scripts/make_sample_data.py`` (same bytes on every run: fixed seed, gzip mtime 0, fixed
WARC dates and record ids). Everything is written by the project: sentences are assembled from small
word lists with a seeded ``random.Random``; PII values are synthetic but valid-looking (Luhn-valid card
numbers, mod-97-valid IBANs, well-formed SSNs, documentation IP ranges, fake AWS/GitHub keys, a random
PEM block) so every stage has something real to act on. See docs/readers.md for what each file holds.
"""

from __future__ import annotations

import argparse
import gzip
import html
import io
import json
import random
import shutil
import string
from pathlib import Path
from typing import Any

import zstandard
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

_EN = {
    "subj": [
        "The gardener",
        "Our neighbour",
        "A young engineer",
        "The old librarian",
        "My grandmother",
        "The committee",
        "Every visitor",
        "The baker on the corner",
        "A careful reader",
        "The pilot",
    ],
    "verb": [
        "prepares",
        "explains",
        "repairs",
        "describes",
        "collects",
        "measures",
        "paints",
        "studies",
        "organises",
        "remembers",
    ],
    "obj": [
        "the winter vegetables",
        "a small wooden boat",
        "the history of the valley",
        "the train timetable",
        "a recipe for apple bread",
        "the northern constellations",
        "an unusual clock",
        "the river maps",
        "a box of letters",
        "the village festival",
    ],
    "tail": [
        "before the first frost",
        "with great patience",
        "every Sunday morning",
        "during the long summer",
        "for the local school",
        "after a difficult week",
        "in the quiet evening",
        "with two old friends",
        "without any hurry",
        "as the sun goes down",
    ],
}
_FR = {
    "subj": [
        "Le jardinier",
        "Notre voisine",
        "Une jeune ingénieure",
        "Le vieux bibliothécaire",
        "Ma grand-mère",
        "Le comité",
        "Chaque visiteur",
    ],
    "verb": ["prépare", "explique", "répare", "décrit", "collectionne", "mesure", "peint"],
    "obj": [
        "les légumes d'hiver",
        "un petit bateau en bois",
        "l'histoire de la vallée",
        "les horaires du train",
        "une recette de pain aux pommes",
        "les cartes de la rivière",
    ],
    "tail": [
        "avant les premières gelées",
        "avec beaucoup de patience",
        "chaque dimanche matin",
        "pendant le long été",
        "pour l'école du village",
        "sans se presser",
    ],
}
_DE = {
    "subj": [
        "Der Gärtner",
        "Unsere Nachbarin",
        "Eine junge Ingenieurin",
        "Der alte Bibliothekar",
        "Meine Großmutter",
        "Der Ausschuss",
        "Jeder Besucher",
    ],
    "verb": ["bereitet", "erklärt", "repariert", "beschreibt", "sammelt", "misst", "malt"],
    "obj": [
        "das Wintergemüse",
        "ein kleines Holzboot",
        "die Geschichte des Tals",
        "den Fahrplan der Bahn",
        "ein Rezept für Apfelbrot",
        "die Karten des Flusses",
    ],
    "tail": [
        "vor dem ersten Frost",
        "mit großer Geduld",
        "jeden Sonntagmorgen",
        "während des langen Sommers",
        "für die Schule im Dorf",
        "ohne jede Eile",
    ],
}
_ES = {
    "subj": ["El jardinero", "Nuestra vecina", "Una joven ingeniera", "El viejo bibliotecario", "Mi abuela",
             "El comité", "Cada visitante"],
    "verb": ["prepara", "explica", "repara", "describe", "colecciona", "mide", "pinta"],
    "obj": ["las verduras de invierno", "un pequeño barco de madera", "la historia del valle",
            "el horario del tren", "una receta de pan de manzana", "los mapas del río"],
    "tail": ["antes de la primera helada", "con mucha paciencia", "cada domingo por la mañana",
             "durante el largo verano", "para la escuela del pueblo", "sin ninguna prisa"],
}  # fmt: skip
LANGS = {"en": _EN, "fr": _FR, "de": _DE, "es": _ES}
_CONNECT = {
    "en": ["Later,", "Meanwhile,", "In the end,", "Surprisingly,", "Of course,"],
    "fr": ["Plus tard,", "Pendant ce temps,", "Finalement,"],
    "de": ["Später", "Inzwischen", "Am Ende"],
    "es": ["Más tarde,", "Mientras tanto,", "Al final,"],
}

TOXIC_LINES = [
    "You are a worthless idiot and everyone here is sick of your stupid fucking comments.",
    "Shut up, you pathetic moron, nobody cares about your garbage opinion.",
    "What a bunch of brainless losers, go to hell all of you.",
    "This author is a lying piece of shit and a complete asshole.",
]
COOKIE_BANNER = (
    "We use cookies to improve your experience. By continuing you accept our cookie policy. Accept all"
)
NAV_LINE = "Home | About | Blog | Contact | Privacy Policy | Terms of Use"
LOREM = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore "
    "et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris."
)
SPAM_WORDS = [
    "cheap",
    "pills",
    "buy",
    "now",
    "best",
    "price",
    "casino",
    "bonus",
    "free",
    "win",
    "viagra",
    "deal",
]


def sentence(rng: random.Random, lang: str = "en") -> str:
    w = LANGS[lang]
    s = f"{rng.choice(w['subj'])} {rng.choice(w['verb'])} {rng.choice(w['obj'])} {rng.choice(w['tail'])}."
    if rng.random() < 0.25:
        c = rng.choice(_CONNECT[lang])
        s = f"{c} {s[0].lower()}{s[1:]}" if lang != "de" else f"{c} {s}"
    return s


def paragraph(rng: random.Random, lang: str = "en", n: tuple[int, int] = (3, 7)) -> str:
    return " ".join(sentence(rng, lang) for _ in range(rng.randint(*n)))


def paragraphs(rng: random.Random, lang: str = "en", k: tuple[int, int] = (2, 5)) -> list[str]:
    return [paragraph(rng, lang) for _ in range(rng.randint(*k))]


def spam(rng: random.Random, n: int = 80) -> str:
    return " ".join(rng.choice(SPAM_WORDS) for _ in range(n))


def near_duplicate(rng: random.Random, text: str, edits: int = 3) -> str:
    """A copy with a few words changed (Jaccard well above 0.8 for texts of a few hundred words)."""
    words = text.split(" ")
    for _ in range(edits):
        i = rng.randrange(len(words))
        words[i] = rng.choice(["quietly", "again", "indeed", "perhaps", "slowly"])
    return " ".join(words)


# ---------------------------------------------------------------- synthetic PII / secrets


def luhn_card(rng: random.Random, prefix: str = "4", length: int = 16) -> str:
    digits = [int(c) for c in prefix] + [rng.randrange(10) for _ in range(length - len(prefix) - 1)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    digits.append((10 - total % 10) % 10)
    s = "".join(map(str, digits))
    return " ".join(s[i : i + 4] for i in range(0, len(s), 4))


def ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(101, 899) if a != 666])
    return f"{area:03d}-{rng.randint(10, 99):02d}-{rng.randint(1000, 9999):04d}"


def iban_de(rng: random.Random) -> str:
    bban = "".join(str(rng.randrange(10)) for _ in range(18))
    num = int(bban + "131400")  # D=13 E=14, check digits 00
    check = 98 - num % 97
    s = f"DE{check:02d}{bban}"
    return " ".join(s[i : i + 4] for i in range(0, len(s), 4))


def phone(rng: random.Random) -> str:
    return f"+1 ({rng.choice([202, 415, 617, 312])}) 555-01{rng.randint(0, 99):02d}"


def email(rng: random.Random) -> str:
    first = rng.choice(["anna", "marc", "lena", "tom", "sofia", "ravi", "yuki", "omar"])
    last = rng.choice(["keller", "dupont", "garcia", "novak", "smith", "berg"])
    return f"{first}.{last}{rng.randint(1, 99)}@example.{rng.choice(['com', 'org', 'net'])}"


def ipv4(rng: random.Random) -> str:
    return f"203.0.113.{rng.randint(1, 254)}"


def ipv6(rng: random.Random) -> str:
    return f"2001:db8:{rng.randint(1, 0xFFFF):x}::{rng.randint(1, 0xFFFF):x}"


def _rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def aws_key_id(rng: random.Random) -> str:
    return "AKIA" + _rand(rng, string.ascii_uppercase + "234567", 16)


def aws_secret(rng: random.Random) -> str:
    return _rand(rng, string.ascii_letters + string.digits + "/+", 40)


def github_token(rng: random.Random) -> str:
    return "ghp_" + _rand(rng, string.ascii_letters + string.digits, 36)


def pem_key(rng: random.Random) -> str:
    body = _rand(rng, string.ascii_letters + string.digits + "+/", 64 * 12)
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END RSA PRIVATE KEY-----"


def password(rng: random.Random) -> str:
    return _rand(rng, string.ascii_letters + string.digits, 10) + rng.choice("!#%&")


def pii_sentence(rng: random.Random) -> str:
    """One English sentence carrying one or two synthetic PII values."""
    options = [
        lambda: f"For questions write to {email(rng)} or call {phone(rng)}.",
        lambda: f"The payment of the order used card {luhn_card(rng)}.",
        lambda: f"Her social security number is {ssn(rng)} according to the form.",
        lambda: f"Please transfer the deposit to IBAN {iban_de(rng)}.",
        lambda: f"The server logged a login from {ipv4(rng)} and later from {ipv6(rng)}.",
    ]
    return rng.choice(options)()


# ================================================================ writers

REPO = Path(__file__).resolve().parent.parent
SEED = 20240611
CC = {
    "CC-BY-4.0": "by/4.0",
    "CC-BY-SA-4.0": "by-sa/4.0",
    "CC-BY-NC-4.0": "by-nc/4.0",
    "CC-BY-SA-3.0": "by-sa/3.0",
}


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data``, compressed by suffix (.gz with mtime 0 / .zst), byte-identical on every run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gz":
        buf = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
            gz.write(data)
        data = buf.getvalue()
    elif path.suffix == ".zst":
        data = zstandard.ZstdCompressor(level=10).compress(data)
    path.write_bytes(data)


def write_jsonl(path: Path, records: list[dict[str, Any]], bad_lines: dict[int, bytes] | None = None) -> None:
    """JSON Lines; ``bad_lines`` inserts raw (broken) lines before the given record positions."""
    lines = [json.dumps(r, ensure_ascii=False, sort_keys=True).encode("utf-8") for r in records]
    for pos, raw in sorted((bad_lines or {}).items(), reverse=True):
        lines.insert(pos, raw)
    write_bytes(path, b"\n".join(lines) + b"\n")


def cc_footer(spdx: str, badge: bool) -> str:
    url = f"https://creativecommons.org/licenses/{CC[spdx]}/"
    img = (
        f'<a rel="license" href="{url}"><img alt="Creative Commons License" style="border-width:0" '
        f'src="https://i.creativecommons.org/l/{CC[spdx]}/88x31.png" /></a><br />'
        if badge
        else ""
    )
    return f'<p class="license">{img}This work is licensed under a <a rel="license" href="{url}">Creative Commons license</a>.</p>'


def html_page(
    title: str, paras: list[str], lang: str = "en", license_: str | None = None, badge: bool = True
) -> str:
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paras)
    foot = cc_footer(license_, badge) if license_ else "<p>All rights reserved.</p>"
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>\n'
        f'<body><div class="cookie-banner">{COOKIE_BANNER}</div>\n<nav><a href="/">Home</a> | <a href="/about">About</a>'
        f' | <a href="/blog">Blog</a> | <a href="/contact">Contact</a></nav>\n'
        f"<main><article><h1>{html.escape(title)}</h1>\n{body}\n</article></main>\n"
        f"<footer><p>{NAV_LINE}</p>{foot}<p>Copyright 2024 Example Sample Site</p></footer></body></html>\n"
    )


def title_of(rng: random.Random, lang: str = "en") -> str:
    return sentence(rng, lang).rstrip(".")[:60]


# ================================================================ web


def web_records(rng: random.Random) -> tuple[list[dict], list[dict], list[dict]]:
    """(pages.jsonl records, extra.jsonl.zst records, (url, html) pages for the WARC)."""
    pages: list[dict] = []

    def page(paras: list[str], lang: str = "en", license_: str | None = None, badge: bool = True) -> dict:
        n = len(pages) + 1
        t = title_of(rng, lang)
        url = f"https://{lang}.sample-site.example/articles/{n:03d}"
        rec = {"url": url, "title": t, "html": html_page(t, paras, lang, license_, badge), "lang_hint": lang}
        pages.append(rec)
        return rec

    licenses = list(CC)
    for i in range(40):
        paras = paragraphs(rng)
        if i % 5 == 0:
            paras.insert(1, pii_sentence(rng) + " " + pii_sentence(rng))
        if i % 7 == 3:
            paras.insert(rng.randrange(len(paras) + 1), rng.choice(TOXIC_LINES))
        lic = licenses[i % len(licenses)] if i % 4 == 1 else None
        page(paras, license_=lic, badge=i % 8 == 1)
    for lang in ("fr", "de", "es"):
        for _ in range(4):
            page(paragraphs(rng, lang), lang=lang)
    for i in range(3):  # exact duplicates under new URLs, and near duplicates
        dup = dict(pages[i * 3])
        dup["url"] = dup["url"].replace("/articles/", "/mirror/")
        pages.append(dup)
        near = dict(pages[i * 3 + 1])
        near["url"] = near["url"] + "?ref=syndicated"
        near["html"] = near_duplicate(rng, near["html"], edits=4)
        pages.append(near)
    for _ in range(3):
        page([spam(rng), spam(rng, 40)])
    for _ in range(2):
        page([LOREM + " " + LOREM, LOREM])
    for _ in range(2):
        page([" ".join(rng.sample(TOXIC_LINES, 3)), " ".join(rng.sample(TOXIC_LINES, 2))])
    for i in range(5):  # pre-extracted text records with boilerplate lines
        text = "\n".join(
            [NAV_LINE, COOKIE_BANNER, *paragraphs(rng), "Share this article: Facebook | Twitter"]
        )
        pages.append(
            {"url": f"https://news.sample-site.example/text/{i}", "title": title_of(rng), "text": text}
        )
    pages.append({"url": "https://news.sample-site.example/text/empty", "text": "   \n  "})

    extra = []
    for i in range(15):
        t = title_of(rng)
        paras = paragraphs(rng)
        if i == 0:
            paras.append(f"Contact the editor at {email(rng)}, phone {phone(rng)}.")
        extra.append(
            {"url": f"https://blog.sample-site.example/post/{i}", "title": t, "html": html_page(t, paras)}
        )
    extra.append(dict(pages[5], url="https://copycat.example/stolen/5"))  # exact duplicate across shards

    warc_pages = []
    for i in range(10):
        t = title_of(rng)
        paras = paragraphs(rng)
        if i == 2:
            paras.append(pii_sentence(rng))
        warc_pages.append(
            (
                f"https://crawl.sample-site.example/page/{i}",
                html_page(t, paras, license_="CC-BY-4.0" if i == 4 else None),
            )
        )
    warc_pages.append(
        ("https://crawl.sample-site.example/dup", pages[7]["html"])
    )  # exact dup of a JSONL page
    return pages, extra, warc_pages


def write_warc(path: Path, rng: random.Random, pages: list[tuple[str, str]]) -> None:
    """A gzipped WARC written with warcio: warcinfo, request+response pairs, a 404, an image, WET text."""
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)

    def headers(i: int) -> dict[str, str]:
        return {
            "WARC-Date": f"2024-05-01T12:{i // 60:02d}:{i % 60:02d}Z",
            "WARC-Record-ID": f"<urn:uuid:00000000-0000-4000-8000-{i:012d}>",
        }

    n = 0
    info = writer.create_warcinfo_record("sample.warc.gz", {"software": "curation make_sample_data"})
    info.rec_headers.replace_header("WARC-Date", "2024-05-01T12:00:00Z")
    info.rec_headers.replace_header("WARC-Record-ID", "<urn:uuid:00000000-0000-4000-8000-999999999999>")
    writer.write_record(info)

    def response(url: str, status: str, ctype: str, body: bytes) -> None:
        nonlocal n
        n += 1
        req = writer.create_warc_record(
            url,
            "request",
            payload=io.BytesIO(b""),
            warc_headers_dict=headers(n),
            http_headers=StatusAndHeaders(f"GET {url} HTTP/1.1", [("Host", "x")], is_http_request=True),
        )
        writer.write_record(req)
        n += 1
        http = StatusAndHeaders(
            status, [("Content-Type", ctype), ("Content-Length", str(len(body)))], protocol="HTTP/1.1"
        )
        writer.write_record(
            writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body),
                length=len(body),
                warc_headers_dict=headers(n),
                http_headers=http,
            )
        )

    for url, page_html in pages:
        response(url, "200 OK", "text/html; charset=utf-8", page_html.encode("utf-8"))
    response(
        "https://crawl.sample-site.example/missing",
        "404 Not Found",
        "text/html",
        b"<html><body>Not found</body></html>",
    )
    response(
        "https://crawl.sample-site.example/logo.png",
        "200 OK",
        "image/png",
        b"\x89PNG\r\n\x1a\n" + bytes(range(64)),
    )
    for i in range(3):  # WET-style conversion records (already-extracted text)
        n += 1
        lang = ("en", "fr", "de")[i]
        text = "\n".join(paragraphs(rng, lang)).encode("utf-8")
        writer.write_record(
            writer.create_warc_record(
                f"https://crawl.sample-site.example/wet/{i}",
                "conversion",
                payload=io.BytesIO(text),
                length=len(text),
                warc_content_type="text/plain",
                warc_headers_dict=headers(n),
            )
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())


# ================================================================ books

GUTENBERG_HEAD = """The Project Gutenberg eBook of {title}

This ebook is for the use of anyone anywhere in the United States and most other parts of the world at
no cost and with almost no restrictions whatsoever. You may copy it, give it away or re-use it under the
terms of the Project Gutenberg License included with this ebook or online at www.gutenberg.org.

Title: {title}

Author: {author}

Release date: March 3, 2021 [eBook #99999]

Language: English

*** START OF THE PROJECT GUTENBERG EBOOK {upper} ***

"""
GUTENBERG_FOOT = """

*** END OF THE PROJECT GUTENBERG EBOOK {upper} ***

Updated editions will replace the previous one--the old editions will be renamed.

Creating the works from print editions not protected by U.S. copyright law means that no one owns a
United States copyright in these works, so the Foundation (and you!) can copy and distribute it in the
United States without permission and without paying copyright royalties.
"""
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV"]


def chapter_text(rng: random.Random, lang: str = "en", paras: int = 14) -> str:
    return "\n\n".join(paragraph(rng, lang, (4, 9)) for _ in range(paras))


def book_files(rng: random.Random) -> dict[str, str]:
    title, author = "The Lantern Keeper of Alder Bay", "Margaret Quill"
    chapters = [f"CHAPTER {ROMAN[i]}.\n\n{chapter_text(rng)}" for i in range(12)]
    chapters[4] += "\n\n" + rng.choice(TOXIC_LINES)  # a toxic line inside a clean book
    gut = GUTENBERG_HEAD.format(title=title, author=author, upper=title.upper())
    gut += "\n\n\n".join(chapters) + GUTENBERG_FOOT.format(upper=title.upper())
    plain = "\n\n".join(paragraph(rng, "en", (5, 10)) for _ in range(170))  # no headings: paragraph packing
    return {"the-lantern-keeper.txt": gut, "river-notes.txt": plain}


def book_records(rng: random.Random, web_pages: list[dict]) -> list[dict]:
    recs: list[dict] = []
    for i in range(8):
        recs.append(
            {
                "title": f"Letters from the Valley, part {i + 1}",
                "author": "Jonas Whitfield",
                "text": chapter_text(rng, paras=6),
            }
        )
    recs.append(dict(recs[2], title="Letters from the Valley (reprint)"))  # exact duplicate
    recs.append(dict(recs[3], text=near_duplicate(rng, recs[3]["text"], edits=5)))  # near duplicate
    for lang, t in (("fr", "Lettres de la vallée"), ("de", "Briefe aus dem Tal"), ("es", "Cartas del valle")):
        recs.append({"title": t, "author": "Jonas Whitfield", "text": chapter_text(rng, lang, paras=6)})
    recs.append({"title": "An Angry Pamphlet", "author": "Anonymous", "text": "\n\n".join(TOXIC_LINES * 3)})
    recs.append(
        {
            "title": "The Clerk's Ledger",
            "author": "Edith Marsh",
            "text": chapter_text(rng, paras=3) + "\n\n" + " ".join(pii_sentence(rng) for _ in range(4)),
        }
    )
    page_text = "\n\n".join(paragraphs(rng))  # the same text as a web record: cross-kind exact duplicate
    web_pages.append(
        {"url": "https://books.sample-site.example/excerpt", "title": "Excerpt", "text": page_text}
    )
    recs.append({"title": "Excerpt", "author": "Jonas Whitfield", "text": page_text})
    recs.append({"title": "Blank Pages", "author": None, "text": ""})
    return recs


# ================================================================ code

MIT = """MIT License

Copyright (c) 2024 Acme Sample Authors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""
APACHE_HEADER = """Copyright 2024 Sample Go Authors

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License."""
_NAMES = ["scale", "merge", "filter", "window", "bucket", "split", "count", "rank", "clip", "pad"]


def py_func(rng: random.Random) -> str:
    name = f"{rng.choice(_NAMES)}_{rng.choice(['items', 'values', 'rows', 'names'])}"
    n, m = rng.randint(1, 9), rng.randint(2, 5)
    return (
        f'def {name}(data, limit={n}):\n    """{sentence(rng)}"""\n    result = []\n'
        f"    for item in data:\n        if item > limit:\n            result.append(item * {m})\n"
        f"    return result\n"
    )


def go_func(rng: random.Random) -> str:
    name = rng.choice(_NAMES).capitalize() + rng.choice(["Ints", "Values", "Rows"])
    return (
        f"// {name} {sentence(rng).lower()}\nfunc {name}(xs []int) []int {{\n\tout := make([]int, 0, len(xs))\n"
        f"\tfor _, x := range xs {{\n\t\tif x > {rng.randint(1, 9)} {{\n\t\t\tout = append(out, x*{rng.randint(2, 5)})\n"
        f"\t\t}}\n\t}}\n\treturn out\n}}\n"
    )


def js_func(rng: random.Random) -> str:
    name = rng.choice(_NAMES) + rng.choice(["Items", "Values", "Rows"])
    return (
        f"// {sentence(rng)}\nfunction {name}(xs) {{\n  return xs.filter((x) => x > {rng.randint(1, 9)})"
        f".map((x) => x * {rng.randint(2, 5)});\n}}\n"
    )


def rs_func(rng: random.Random) -> str:
    name = f"{rng.choice(_NAMES)}_{rng.choice(['items', 'values'])}"
    return (
        f"/// {sentence(rng)}\npub fn {name}(xs: &[i64]) -> Vec<i64> {{\n    xs.iter().filter(|x| **x > "
        f"{rng.randint(1, 9)}).map(|x| x * {rng.randint(2, 5)}).collect()\n}}\n"
    )


def code_tree(rng: random.Random) -> dict[str, bytes]:
    """Two repository folders: acme-utils (MIT, Python/JS, bad files) and tiny-go (Apache-2.0 headers)."""
    strings_py = "# SPDX-License-Identifier: MIT\n# Copyright (c) 2024 Acme Sample Authors\n\n" + "\n\n".join(
        py_func(rng) for _ in range(5)
    )
    config_py = (
        '"""Runtime settings of the acme service."""\n\n'
        f'AWS_ACCESS_KEY_ID = "{aws_key_id(rng)}"\nAWS_SECRET_ACCESS_KEY = "{aws_secret(rng)}"\n'
        f'GITHUB_TOKEN = "{github_token(rng)}"\nDB_PASSWORD = "{password(rng)}"\n'
        f'DATABASE_URL = "postgres://admin:{password(rng)}@db.internal.example:5432/acme"\n'
        f'ADMIN_EMAIL = "{email(rng)}"\nALLOWED_HOSTS = ["{ipv4(rng)}", "{ipv6(rng)}"]\n\n'
        f'TLS_KEY = """{pem_key(rng)}"""\n'
    )
    minified = (
        "!function(){"
        + ";".join(f"var a{i}=function(b){{return b*{i}+{rng.randint(1, 99)}}}" for i in range(150))
        + "}();"
    )
    tree = {
        "acme-utils/LICENSE": MIT,
        "acme-utils/README.md": "# acme-utils\n\n" + paragraph(rng) + "\n\nLicensed under the MIT License.\n",
        "acme-utils/src/acme/__init__.py": '"""acme utilities."""\n\n__version__ = "0.3.1"\n',
        "acme-utils/src/acme/strings.py": strings_py,
        "acme-utils/src/acme/config.py": config_py,
        "acme-utils/src/acme/messages_pb2.py": "# -*- coding: utf-8 -*-\n# Generated by the protocol buffer compiler.  "
        "DO NOT EDIT!\n# source: messages.proto\n\n_DESCRIPTOR = None\n" + py_func(rng),
        "acme-utils/src/acme/empty.py": "",
        "acme-utils/deploy/settings.ini": f"[database]\nuser = acme\npassword = {password(rng)}\nhost = {ipv4(rng)}\n",
        "acme-utils/web/app.js": "// SPDX-License-Identifier: MIT\n\n"
        + "\n".join(js_func(rng) for _ in range(4)),
        "acme-utils/web/app.min.js": minified,
        "acme-utils/web/node_modules/left-pad/index.js": "module.exports = function (s, n) { return s.padStart(n); };\n",
        "acme-utils/package-lock.json": '{\n  "name": "acme-utils",\n  "lockfileVersion": 3\n}\n',
        "acme-utils/tests/test_strings.py": "from acme.strings import *  # noqa\n\n\n# TODO: "
        + sentence(rng)
        + "\n",
        "tiny-go/main.go": "\n".join("// " + line if line else "//" for line in APACHE_HEADER.splitlines())
        + "\n\npackage main\n\n"
        + "\n".join(go_func(rng) for _ in range(4)),
        "tiny-go/util.go": "// SPDX-License-Identifier: Apache-2.0\n\npackage main\n\n" + go_func(rng),
        "tiny-go/NOTICE": "tiny-go\nCopyright 2024 Sample Go Authors\n\nThis product includes software developed at Example.\n",
    }
    out = {k: v.encode("utf-8") for k, v in tree.items()}
    out["acme-utils/assets/logo.png"] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(
        rng.randrange(256) for _ in range(300)
    )
    return out


def code_records(rng: random.Random, tree: dict[str, bytes]) -> list[dict]:
    recs = []
    for i in range(8):
        recs.append(
            {
                "repo": "demo-rs",
                "path": f"src/m{i}.rs",
                "content": "// SPDX-License-Identifier: GPL-3.0-or-later\n\n"
                + "\n".join(rs_func(rng) for _ in range(3)),
            }
        )
    for i in range(8):
        recs.append(
            {
                "repo": "demo-js",
                "path": f"lib/part{i}.js",
                "content": "\n".join(js_func(rng) for _ in range(3)),
            }
        )
    bsd = (
        "# Copyright (c) 2024 Demo Authors. All rights reserved.\n# Use of this source code is governed by a "
        "BSD-style license that can be found in the LICENSE file.\n\n"
    )
    for i in range(8):
        body = "\n\n".join(py_func(rng) for _ in range(3))
        if i == 5:
            body += f'\n\n# {rng.choice(TOXIC_LINES)}\napi_key = "{aws_key_id(rng)}"\n'
        recs.append({"repo": "demo-py", "path": f"demo/mod{i}.py", "content": bsd + body})
    recs.append(
        {
            "repo": "forked-acme",
            "path": "acme/strings.py",  # exact copy of a tree file, other repo
            "content": tree["acme-utils/src/acme/strings.py"].decode(),
        }
    )
    recs.append(
        {
            "repo": "demo-py",
            "path": "demo/mod1_copy.py",
            "content": near_duplicate(rng, recs[17]["content"], 2),
        }
    )
    recs.append({"repo": "demo-js", "path": "vendor/jquery.js", "content": "/* vendored */\n" + js_func(rng)})
    recs.append({"repo": "demo-js", "path": "dist/bundle.js", "content": "var x=1;" * 400})
    recs.append({"repo": "demo-py", "path": "LICENSE", "content": "BSD 3-Clause License\n\n" + bsd})
    return recs


# ================================================================ conversations


def conversation_records(rng: random.Random) -> tuple[list[dict], list[dict]]:
    chats: list[dict] = []
    for i in range(50):
        lang = "en" if i < 38 else ("fr", "de", "es")[i % 3]
        turns = [
            {"role": "user" if t % 2 == 0 else "assistant", "content": paragraph(rng, lang, (1, 3))}
            for t in range(rng.randint(4, 8))
        ]
        if i % 6 == 2:
            turns[0]["content"] += " " + pii_sentence(rng)
        if i % 9 == 4:
            turns[1]["content"] = rng.choice(TOXIC_LINES)
        chats.append({"messages": turns, "topic": f"sample-{i % 5}"})
    for _ in range(2):
        chats.append({"messages": [{"role": "user", "content": t} for t in rng.sample(TOXIC_LINES, 3)]})
    chats.append(dict(chats[3]))  # exact duplicate
    near = json.loads(json.dumps(chats[4]))
    near["messages"][0]["content"] = near_duplicate(rng, near["messages"][0]["content"], 1)
    chats.append(near)
    rep = paragraph(rng, "en", (1, 2))
    chats.append(
        {
            "messages": [
                {"role": "user", "content": "Hello?"},
                {"role": "assistant", "content": ""},
                {"role": "user", "content": rep},
                {"role": "user", "content": rep},
                {"role": "user", "content": rep},
                {"role": "assistant", "content": paragraph(rng)},
            ]
        }
    )
    chats.append({"messages": "not a list"})
    irc = []
    nicks = ["ferret", "quill", "nomad", "bramble", "otter"]
    for w in range(25):
        msgs = [
            {"speaker": rng.choice(nicks), "content": sentence(rng), "time": f"20 Jan {10 + w % 12}:{m:02d}"}
            for m in range(rng.randint(6, 14))
        ]
        if w % 8 == 1:
            msgs[2]["content"] = f"ping me at {email(rng)} or ssh to {ipv4(rng)}"
        irc.append({"messages": msgs, "channel": "#sample"})
    return chats, irc


# ================================================================ decontamination


def leak_records() -> list[dict]:
    """Web pages that quote the bundled evaluation set (data/eval_sets/sample_qa.jsonl).

    One page embeds an item's passage verbatim inside longer text (the decontamination stage cuts it),
    one page is nothing but an item's question (the stage drops it).
    """
    items = {}
    with open(REPO / "data" / "eval_sets" / "sample_qa.jsonl", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            items[rec["id"]] = rec
    before = (
        "Our travel column this week visits a coast that few guide books describe in any detail. "
        "We arrived on the early train, left our bags at a small guest house near the station and "
        "walked down to the quay, where the morning market was already packing up its stalls. "
        "The woman who ran the guest house told us the history of the place over breakfast. "
    )
    after = (
        " In the afternoon we hired bicycles and rode along the dyke to the next village, where a "
        "bakery sells a dark rye loaf that keeps for a week. The return trip against the wind took "
        "twice as long, and we were glad of the fire in the guest house lounge that evening. "
        "If you go, book ahead in summer: there are only a dozen rooms in the whole town."
    )
    return [
        {
            "url": "https://travel.sample-site.example/coast-towns",
            "title": "A slow weekend on the coast",
            "text": before + items["sqa-001"]["context"] + after,
        },
        {"url": "https://quiz.sample-site.example/q/2", "title": "Quiz", "text": items["sqa-002"]["question"]},
    ]


def multilingual_toxicity_records() -> list[dict]:
    """A Spanish and an Italian abusive page (rejected by the toxicity stage) and a clean page in each
    language (kept): fixed texts, no randomness, so the other sample documents do not change."""
    es_toxic = (
        "Escucha atentamente, imbécil, porque no pienso repetirlo. Eres un gilipollas asqueroso y un "
        "hijo de puta, y todos los participantes de este foro estamos hartos de tus estúpidas mierdas. "
        "Cada mensaje que escribes demuestra que eres un idiota irremediable, un cabrón ignorante que "
        "jamás entiende absolutamente nada. Vete a la mierda con tus opiniones de pendejo.\n"
        "Me cago en tu puta madre y en todos los estúpidos imbéciles que te aplauden constantemente. "
        "Nadie quiere seguir leyendo a un subnormal como tú, así que cierra inmediatamente esa boca, "
        "maricón de mierda, y desaparece para siempre de nuestra comunidad.\n"
        "Eres basura, eres un imbécil despreciable y un cabrón miserable, y tus amiguitos son unos "
        "gilipollas exactamente iguales. Que te jodan a ti y a toda tu familia de idiotas."
    )
    it_toxic = (
        "Ascolta bene, coglione, perché non lo ripeto. Sei uno stronzo e un figlio di puttana, e tutti in "
        "questo forum sono stufi delle tue cazzate. Ogni volta che scrivi qualcosa dimostri di essere un "
        "idiota senza speranza, un cretino che non capisce un cazzo. Vaffanculo tu e le tue opinioni di "
        "merda.\n"
        "Nessuno vuole leggere uno scemo come te, quindi chiudi quella bocca, pezzo di merda, e non "
        "tornare mai più qui. Sei un coglione e uno stronzo, e i tuoi amici sono dei cretini come te.\n"
        "Vaffanculo a te e a tutta la tua famiglia di idioti, stronzo che non sei altro."
    )
    es_clean = (
        "La biblioteca municipal abrirá sus puertas el próximo lunes después de tres meses de obras. El "
        "edificio, que data de principios del siglo pasado, cuenta ahora con una sala de lectura más "
        "amplia, un espacio para los niños y conexión a internet en todas las plantas.\n"
        "Según el ayuntamiento, la reforma se ha financiado con fondos regionales y con las aportaciones "
        "de los vecinos, que durante el verano organizaron varias ferias de libros usados. La directora "
        "de la biblioteca explicó que el horario se ampliará por las tardes y que habrá talleres de "
        "lectura para mayores todos los miércoles.\n"
        "Los vecinos podrán consultar el catálogo en línea y reservar los libros desde casa. La "
        "inauguración contará con un pequeño concierto de la banda del pueblo en la plaza mayor."
    )
    it_clean = (
        "La biblioteca comunale riaprirà lunedì prossimo dopo tre mesi di lavori. L'edificio, costruito "
        "all'inizio del secolo scorso, ha ora una sala di lettura più ampia, uno spazio per i bambini e "
        "la connessione a internet su tutti i piani.\n"
        "Secondo il comune, la ristrutturazione è stata finanziata con fondi regionali e con il contributo "
        "dei cittadini, che durante l'estate hanno organizzato diversi mercatini di libri usati. La "
        "direttrice della biblioteca ha spiegato che l'orario sarà esteso al pomeriggio e che ci saranno "
        "laboratori di lettura per gli anziani ogni mercoledì.\n"
        "I cittadini potranno consultare il catalogo online e prenotare i libri da casa. L'inaugurazione "
        "sarà accompagnata da un piccolo concerto della banda del paese in piazza."
    )
    base = "https://forum.sample-site.example/"
    return [
        {"url": base + "es/hilo/1", "title": "Respuesta en el foro", "text": es_toxic},
        {"url": base + "it/discussione/1", "title": "Risposta nel forum", "text": it_toxic},
        {"url": base + "es/noticias/biblioteca", "title": "Reabre la biblioteca", "text": es_clean},
        {"url": base + "it/notizie/biblioteca", "title": "Riapre la biblioteca", "text": it_clean},
    ]


# ================================================================ main


def main(out: Path) -> None:
    rng = random.Random(SEED)
    if out.exists():
        shutil.rmtree(out)
    pages, extra, warc_pages = web_records(rng)
    books = book_records(rng, pages)
    write_jsonl(
        out / "web" / "pages.jsonl",
        pages,
        bad_lines={
            10: b'{"url": "https://broken.example/1", "html": "<p>unterminated',
            20: b'{"url": "https://broken.example/2", "text": "caf\xe9 au lait \xff\xfe"}',
        },
    )
    write_jsonl(out / "web" / "extra.jsonl.zst", extra)
    write_warc(out / "web" / "crawl.warc.gz", rng, warc_pages)
    for name, text in book_files(rng).items():
        write_bytes(out / "book" / name, text.encode("utf-8"))
    write_jsonl(out / "book" / "books.jsonl.gz", books)
    tree = code_tree(rng)
    for rel, data in tree.items():
        write_bytes(out / "code" / rel, data)
    write_jsonl(out / "code" / "files.jsonl.zst", code_records(rng, tree))
    chats, irc = conversation_records(rng)
    write_jsonl(
        out / "conversation" / "chats.jsonl",
        chats,
        bad_lines={7: b'{"messages": [{"role": "user", "content": "na\xefve \xc3"}]}'},
    )
    write_jsonl(out / "conversation" / "irc.jsonl.gz", irc)
    write_jsonl(out / "web" / "leaks.jsonl", leak_records())
    write_jsonl(out / "web" / "multilingual.jsonl", multilingual_toxicity_records())
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {out} ({total / 1e6:.2f} MB)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "data" / "sample")
    main(ap.parse_args().out)
