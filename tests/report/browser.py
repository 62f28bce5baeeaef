"""Lay a report out in headless Chromium and list what overlaps or is cut, from real bounding boxes.

A copy of the page gets a probe script (the report itself has none) that runs after ``load`` and writes
its findings as JSON into ``<pre id="layout-probe">``; ``chromium --dump-dom`` prints the laid-out DOM.
Checks, at the given window width:

* every chart (inline SVG) is shown whole inside the main column, and inside it every text element, as
  the browser lays it out with its own fonts, stays inside the chart, is at least 7 px tall and does not
  overlap another text; every ``<img>`` decoded, is shown whole and undistorted;
* consecutive blocks of a section (paragraphs, headings, tables, figures) do not overlap;
* no text box is cut: headings, paragraphs, captions and table cells do not overflow their own box,
  and nothing but a deliberately scrollable table wrapper is wider than the main column;
* navigation links do not overlap each other.

``python -m tests.report.browser REPORT.html [width]`` prints the findings and writes a screenshot.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)

PROBE = r"""
<script>
// Separating-axis test for two convex quadrilaterals: their overlap depth in px (0 = apart).
function penetration(p, q) {
  let depth = Infinity;
  for (const poly of [p, q]) for (let k = 0; k < 4; k++) {
    const [x1, y1] = poly[k], [x2, y2] = poly[(k + 1) % 4];
    const len = Math.hypot(x2 - x1, y2 - y1) || 1;
    const ax = -(y2 - y1) / len, ay = (x2 - x1) / len;
    const pr = p.map(([x, y]) => x * ax + y * ay), qr = q.map(([x, y]) => x * ax + y * ay);
    const d = Math.min(Math.max(...pr), Math.max(...qr)) - Math.max(Math.min(...pr), Math.min(...qr));
    if (d <= 0) return 0;
    depth = Math.min(depth, d);
  }
  return depth;
}
window.addEventListener('load', () => {
  const out = {problems: [], counts: {}};
  const P = (m) => out.problems.push(m);
  const main = document.querySelector('main');
  const mr = main.getBoundingClientRect();
  const vw = document.documentElement.clientWidth;
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
      ' "' + (e.textContent || e.alt || '').trim().slice(0, 50) + '"';
  const imgs = Array.from(document.images);
  out.counts.images = imgs.length;
  for (const i of imgs) {
    const r = i.getBoundingClientRect();
    if (!i.naturalWidth) { P('broken image ' + i.alt); continue; }
    if (r.left < mr.left - 1 || r.right > mr.right + 1 || r.right > vw + 1) P('image cut: ' + i.alt);
    const ar = r.width / r.height, nr = i.naturalWidth / i.naturalHeight;
    if (Math.abs(ar - nr) / nr > 0.02) P('image distorted: ' + i.alt);
    if (r.width < 50) P('image too small: ' + i.alt);
  }
  const charts = Array.from(document.querySelectorAll('svg.chart'));
  out.counts.charts = charts.length;
  let chartTexts = 0;
  for (const svg of charts) {
    const sr = svg.getBoundingClientRect();
    const label = svg.getAttribute('aria-label').slice(0, 50);
    if (sr.left < mr.left - 1 || sr.right > mr.right + 1 || sr.right > vw + 1) P('chart cut: ' + label);
    if (sr.width < 50) P('chart too small: ' + label);
    const quads = [];
    for (const t of svg.querySelectorAll('text')) {
      const s = (t.textContent || '').trim();
      if (!s) continue;
      const bb = t.getBBox();
      if (bb.width === 0) continue;
      chartTexts++;
      // the text's own box mapped to the window: a rotated tick label is a rotated quadrilateral
      const m = t.getScreenCTM();
      const q = [[bb.x, bb.y], [bb.x + bb.width, bb.y], [bb.x + bb.width, bb.y + bb.height],
                 [bb.x, bb.y + bb.height]]
        .map(([x, y]) => [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f]);
      for (const [x, y] of q)
        if (x < sr.left - 1 || x > sr.right + 1 || y < sr.top - 1 || y > sr.bottom + 1) {
          P('chart text cut: "' + s + '" in ' + label);
          break;
        }
      if (bb.height * Math.hypot(m.c, m.d) < 7) P('chart text under 7 px: "' + s + '" in ' + label);
      quads.push([s, q]);
    }
    for (let i = 0; i < quads.length; i++) for (let j = i + 1; j < quads.length; j++)
      if (penetration(quads[i][1], quads[j][1]) > 1.5)
        P('chart texts overlap: "' + quads[i][0] + '" / "' + quads[j][0] + '" in ' + label);
  }
  out.counts.chart_texts = chartTexts;
  let blocks = 0;
  for (const sec of document.querySelectorAll('section')) {
    const kids = Array.from(sec.children).filter((e) => e.getBoundingClientRect().height > 0);
    blocks += kids.length;
    for (let k = 1; k < kids.length; k++) {
      const a = kids[k - 1].getBoundingClientRect(), b = kids[k].getBoundingClientRect();
      if (b.top < a.bottom - 1) P('overlap: ' + name(kids[k - 1]) + ' and ' + name(kids[k]));
    }
    for (const e of kids) {
      const r = e.getBoundingClientRect();
      if (r.right > mr.right + 1 && !e.classList.contains('scroll')) P('wider than the page: ' + name(e));
    }
  }
  out.counts.blocks = blocks;
  const texts = document.querySelectorAll('h1,h2,h3,p,figcaption,caption,th,td,nav a,.meta');
  out.counts.texts = texts.length;
  for (const e of texts) {
    const clipped = getComputedStyle(e).overflowX !== 'visible';
    if (clipped && e.scrollWidth > e.clientWidth + 1) P('text cut: ' + name(e));
    const r = e.getBoundingClientRect();
    if (!e.closest('.scroll') && r.right > vw + 1) P('text beyond the window: ' + name(e));
  }
  const links = Array.from(document.querySelectorAll('nav a')).map((a) => [a, a.getBoundingClientRect()]);
  for (let i = 0; i < links.length; i++) for (let j = i + 1; j < links.length; j++) {
    const a = links[i][1], b = links[j][1];
    if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
      P('nav links overlap: ' + name(links[i][0]) + ' / ' + name(links[j][0]));
  }
  const pre = document.createElement('pre');
  pre.id = 'layout-probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def layout_report(html: Path, width: int = 1280, screenshot: Path | None = None) -> dict:
    """Run the probe on a copy of ``html`` at ``width`` px: ``{"problems": [...], "counts": {...}}``."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as tmp:
        page = Path(tmp) / "probe.html"
        page.write_text(
            html.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8"
        )
        base = [str(CHROMIUM), *FLAGS, f"--user-data-dir={tmp}/profile", f"--window-size={width},1000"]
        proc = subprocess.run(
            [*base, "--virtual-time-budget=10000", "--dump-dom", page.as_uri()],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"chromium failed ({proc.returncode}): {proc.stderr[-1500:]}")
        m = re.search(r'<pre id="layout-probe">(.*?)</pre>', proc.stdout, re.S)
        if not m:
            raise RuntimeError("the layout probe did not run (no #layout-probe in the dumped DOM)")
        result = json.loads(m.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))
        if screenshot is not None:
            subprocess.run(
                [*base, f"--screenshot={screenshot}", html.as_uri()],
                capture_output=True,
                timeout=180,
                check=False,
            )
    return result


if __name__ == "__main__":  # pragma: no cover
    target = Path(sys.argv[1])
    w = int(sys.argv[2]) if len(sys.argv) > 2 else 1280
    res = layout_report(target, w, Path(f"/tmp/report-{w}.png"))
    print(json.dumps(res, indent=1))
