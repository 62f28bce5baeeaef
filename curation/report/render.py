"""Render report sections to one self-contained HTML page and to Markdown.

The HTML page has no script and loads nothing: styles are inline in ``<style>``, charts are inline SVG
(matplotlib's, with real ``<text>`` elements so a browser can measure them; ids prefixed per chart so they
stay unique) or, without SVG, ``data:image/png;base64`` images, and every text is escaped. The Markdown
file references the same figures as PNG files written beside it (``figures/``), for terminals and pull
requests.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from pathlib import Path

from curation.report.model import Figure, Heading, Para, Section, Table

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d232a;
background:#fafbfc}
main{max-width:1180px;margin:0 auto;padding:1.5rem 2rem 4rem}
h1{font-size:1.7rem;margin:.2rem 0}h2{border-bottom:2px solid #d8dee4;padding-bottom:.3rem;margin-top:2.4rem}
h3{margin-top:1.6rem;font-size:1.05rem}
nav{background:#fff;border:1px solid #d8dee4;border-radius:6px;padding:.6rem 1rem;margin:1rem 0;
display:flex;flex-wrap:wrap;gap:.3rem 1rem}
nav a{white-space:nowrap}
table{border-collapse:collapse;margin:.6rem 0;font-size:.85rem;background:#fff;max-width:100%}
th,td{border:1px solid #d8dee4;padding:.25rem .55rem;vertical-align:top;text-align:left}
th{background:#f0f3f6}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
caption{caption-side:bottom;text-align:left;color:#57606a;font-size:.8rem;padding-top:.2rem}
.scroll{overflow-x:auto}
figure{margin:.8rem 0}figure img{max-width:100%;border:1px solid #d8dee4;background:#fff}
figure svg.chart{display:block;max-width:100%;height:auto;border:1px solid #d8dee4;background:#fff}
figcaption{color:#57606a;font-size:.8rem}
p.note{color:#3d4650;background:#eef4fb;border-left:4px solid #4c72b0;padding:.4rem .7rem}
p.warn{background:#fff5e6;border-left:4px solid #dd8452;padding:.4rem .7rem}
.meta{color:#57606a;font-size:.85rem}
"""


def _e(s: str) -> str:
    return html.escape(s, quote=True)


def _html_table(t: Table) -> str:
    numeric = t.numeric or tuple(False for _ in t.columns)
    head = "".join(f"<th>{_e(c)}</th>" for c in t.columns)
    body = []
    for row in t.rows:
        cells = "".join(
            f'<td class="n">{_e(c)}</td>' if i < len(numeric) and numeric[i] else f"<td>{_e(c)}</td>"
            for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    cap = f"<caption>{_e(t.caption)}</caption>" if t.caption else ""
    rows = "".join(body)
    return (
        f'<div class="scroll"><table>{cap}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>'
    )


_SVG_HEAD_RE = re.compile(r"^.*?(?=<svg\b)", re.S)
_SVG_DROP_RE = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_SVG_ID_RE = re.compile(r'\bid="([^"]+)"')


def inline_svg(svg: str, prefix: str, label: str) -> str:
    """matplotlib's SVG file as an element for an HTML page: no XML prolog, metadata or namespaces,
    ids prefixed with ``prefix`` (references rewritten), sized by CSS to fit the column."""
    s = _SVG_HEAD_RE.sub("", svg, count=1)
    s = _SVG_DROP_RE.sub("", s)
    s = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", s)
    s = s.replace("xlink:href=", "href=")
    ids = set(_SVG_ID_RE.findall(s))
    for old in sorted(ids, key=len, reverse=True):
        new = f"{prefix}-{old}"
        s = s.replace(f'id="{old}"', f'id="{new}"').replace(f'href="#{old}"', f'href="#{new}"')
        s = s.replace(f"url(#{old})", f"url(#{new})")
    m = re.match(r'<svg\b([^>]*)\swidth="([\d.]+)pt"\s+height="([\d.]+)pt"', s)
    width = f"{float(m.group(2)):.1f}pt" if m else "100%"
    s = re.sub(r'\s(width|height)="[\d.]+pt"', "", s, count=2)
    attrs = f' class="chart" role="img" aria-label="{_e(label)}" style="width:{width}"'
    return s.replace("<svg", "<svg" + attrs, 1).strip()


def _html_block(b: object) -> str:
    if isinstance(b, Para):
        cls = f' class="{b.kind}"' if b.kind != "text" else ""
        return f"<p{cls}>{_e(b.text)}</p>"
    if isinstance(b, Heading):
        return f"<h3>{_e(b.text)}</h3>"
    if isinstance(b, Table):
        return _html_table(b)
    if isinstance(b, Figure):
        if not b.png:
            return ""
        if b.svg:
            body = inline_svg(b.svg, f"fig-{b.name}", b.alt or b.caption)
            return f"<figure>{body}<figcaption>{_e(b.caption)}</figcaption></figure>"
        data = base64.b64encode(b.png).decode("ascii")
        alt = _e(b.alt or b.caption)
        return (
            f'<figure><img alt="{alt}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_e(b.caption)}</figcaption></figure>"
        )
    raise TypeError(f"unknown block {type(b).__name__}")


def to_html(title: str, meta: Sequence[str], sections: Sequence[Section]) -> str:
    nav = "".join(f'<a href="#{_e(s.id)}">{_e(s.title)}</a>' for s in sections)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{_e(title)}</h1>",
        *(f'<div class="meta">{_e(m)}</div>' for m in meta),
        f"<nav>{nav}</nav>",
    ]
    for s in sections:
        parts.append(f'<section id="{_e(s.id)}"><h2>{_e(s.title)}</h2>')
        parts.extend(_html_block(b) for b in s.blocks)
        parts.append("</section>")
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


def _md_cell(s: str) -> str:
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _md_table(t: Table) -> str:
    numeric = t.numeric or tuple(False for _ in t.columns)
    lines = [
        "| " + " | ".join(_md_cell(c) or " " for c in t.columns) + " |",
        "|"
        + "|".join("---:" if i < len(numeric) and numeric[i] else "---" for i in range(len(t.columns)))
        + "|",
    ]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in t.rows]
    if t.caption:
        lines.append(f"\n_{_md_cell(t.caption)}_")
    return "\n".join(lines)


def to_markdown(title: str, meta: Sequence[str], sections: Sequence[Section], figure_dir: str) -> str:
    out = [f"# {title}", "", *(f"- {m}" for m in meta), ""]
    for s in sections:
        out += [f"## {s.title}", ""]
        for b in s.blocks:
            if isinstance(b, Para):
                prefix = {"note": "> ", "warn": "> **Warning:** "}.get(b.kind, "")
                out += [prefix + b.text, ""]
            elif isinstance(b, Heading):
                out += [f"### {b.text}", ""]
            elif isinstance(b, Table):
                out += [_md_table(b), ""]
            elif isinstance(b, Figure) and b.png:
                out += [f"![{b.caption}]({figure_dir}/{b.name}.png)", ""]
    return "\n".join(out).rstrip() + "\n"


def write_figures(sections: Sequence[Section], folder: Path) -> list[Path]:
    """Write every figure of ``sections`` as ``<folder>/<name>.png`` (for the Markdown report)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for s in sections:
        for b in s.blocks:
            if isinstance(b, Figure) and b.png:
                p = folder / f"{b.name}.png"
                p.write_bytes(b.png)
                paths.append(p)
    return paths
