"""The review as one self-contained HTML page: inline CSS and SVG, no script, no network.

Every value from the raw dir is escaped here; raw bodies arrive already re-rendered inert
(safe_html.py). The Content-Security-Policy forbids scripts, frames, forms and any remote
load, so even a mistake in the renderer could not run or fetch anything.
"""

from __future__ import annotations

import datetime as dt
import json
from html import escape
from typing import Any

from jobs.errors import UsageError

from pathlib import Path

from jobs.analyst.review import METADATA_FIELDS, LIFTED_FIELDS, Review, Sample, SourceReview

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'; frame-src 'none'"
STAT_LABELS = (("files", "files"), ("rows", "rows"), ("rejects", "rejects"), ("empty_text", "empty texts"),
               ("undated", "undated"), ("avg_paragraphs", "avg paragraphs"), ("avg_chars", "avg characters"),
               ("boilerplate_hits", "boilerplate hits"), ("repeated_paragraphs", "repeated paragraphs"))

CSS = """
:root { --ink:#1d232b; --muted:#5d6875; --line:#dfe3e8; --bg:#f6f7f9; --card:#fff; --accent:#2f6fdd;
        --removed:#fde2e1; --removed-ink:#9b1c1c; --lifted:#fff1c2; --lifted-ink:#7a5500; --partial:#f3e8ff; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink); line-height:1.6; font-size:15px;
       font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC",
                    "Hiragino Sans GB", "Microsoft YaHei", "WenQuanYi Zen Hei", sans-serif; }
header.page { background:#fff; border-bottom:1px solid var(--line); padding:20px 32px; }
header.page h1 { margin:0 0 4px; font-size:22px; }
main { padding:16px 32px 64px; max-width:1500px; margin:0 auto; }
/* Grid items default to min-width:auto: one long unbreakable line would widen the page. They
   shrink instead, and wide content (the summary, a raw table) scrolls inside its own box. */
.overview > *, .columns > * { min-width:0; }
nav.toc { overflow-x:auto; }
/* Titles and paths may be one long unbreakable word (a percent-encoded title, a URL). */
h1, h2, h3, .muted { overflow-wrap:anywhere; }
.muted { color:var(--muted); font-size:13px; }
table.grid { border-collapse:collapse; background:#fff; width:100%; font-size:14px; }
table.grid th, table.grid td { border-bottom:1px solid var(--line); padding:5px 10px; text-align:right; white-space:nowrap; }
table.grid th:first-child, table.grid td:first-child { text-align:left; }
table.grid td.text { text-align:left; white-space:normal; overflow-wrap:anywhere; }
table.grid th { background:#eef1f5; font-weight:600; }
section.source { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:18px 22px; margin:22px 0; }
section.source > h2 { margin:0 0 10px; font-size:20px; }
.stats { display:flex; flex-wrap:wrap; gap:8px; margin:6px 0 12px; }
.stat { border:1px solid var(--line); border-radius:8px; padding:6px 12px; min-width:92px; background:#fbfcfd; }
.stat .n { font-size:19px; font-weight:650; display:block; }
.stat .l { font-size:12px; color:var(--muted); }
.stat.warn .n { color:var(--removed-ink); }
.overview { display:grid; grid-template-columns: minmax(300px, 680px) 1fr; gap:18px; align-items:start; }
h3 { font-size:15px; margin:14px 0 6px; }
h4 { font-size:13px; margin:12px 0 4px; color:var(--muted); text-transform:uppercase; letter-spacing:.04em; }
article.sample { border-top:2px solid var(--line); margin-top:18px; padding-top:10px; }
article.sample > h3 { font-size:17px; margin:4px 0; }
.columns { display:grid; grid-template-columns: 1fr 1fr; gap:20px; align-items:start; }
.pane { border:1px solid var(--line); border-radius:8px; padding:10px 14px; background:#fff; overflow-wrap:anywhere; min-width:0; }
.pane.raw { background:#fcfcfd; overflow-x:auto; }
.pane.raw table { border-collapse:collapse; } .pane.raw td, .pane.raw th { border:1px solid var(--line); padding:2px 6px; }
.pane.raw pre, ol.extracted pre { white-space:pre-wrap; background:#f3f4f6; padding:6px; border-radius:4px; }
ol.extracted { margin:0; padding-left:2.2em; }
ol.extracted li { margin:0 0 .55em; white-space:pre-wrap; }
.mark.removed { background:var(--removed); color:var(--removed-ink); text-decoration:line-through; text-decoration-color:rgba(155,28,28,.45); }
.mark.lifted { background:var(--lifted); color:var(--lifted-ink); }
.mark.partial { background:var(--partial); }
/* The family of a removed line (a source's template) as a label drawn by CSS: the line's text stays its own. */
.mark.removed[data-family]::after, ul.removed-list li[data-family]::after { content:attr(data-family); font-size:11px;
  font-weight:600; margin-left:6px; padding:0 5px; border-radius:4px; background:var(--removed-ink); color:#fff; }
.mark .tag { font-size:11px; font-weight:600; margin-left:6px; padding:0 5px; border-radius:4px; background:var(--lifted-ink); color:#fff; text-decoration:none; display:inline-block; }
.dropped, .raw-img { display:inline-block; font-size:12px; color:var(--muted); background:#eceff3; border-radius:4px; padding:0 6px; margin:2px 0; }
.raw-link { text-decoration:underline dotted; color:var(--accent); }
ul.removed-list li { color:var(--removed-ink); } ul.lifted-list li { color:var(--lifted-ink); }
table.meta { border-collapse:collapse; font-size:13px; width:100%; }
table.meta th { text-align:left; color:var(--muted); font-weight:500; padding:2px 10px 2px 0; vertical-align:top; white-space:nowrap; }
table.meta td { padding:2px 0; overflow-wrap:anywhere; }
table.meta tr.lifted-field td { background:var(--lifted); }
.legend { margin-top:8px; }
.legend span { margin-right:14px; padding:1px 6px; border-radius:4px; font-size:13px; }
svg.chart { width:100%; max-width:680px; height:auto; background:#fbfcfd; border:1px solid var(--line); border-radius:8px; }
details summary { cursor:pointer; color:var(--accent); }
nav.toc a { color:var(--accent); text-decoration:none; }
"""


def save_review(review: Review, path: Path) -> None:
    try:
        Path(path).write_text(render_review(review), encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None


def render_review(review: Review) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Extraction review: {escape(review.raw_dir)}</title>",
        f"<style>{CSS}</style></head><body>",
        '<header class="page">',
        "<h1>Extraction review</h1>",
        f'<div class="muted">raw dir <code>{escape(review.raw_dir)}</code> · generated '
        f'{review.generated_at.strftime("%Y-%m-%d %H:%M UTC")} · {len(review.sources)} sources · '
        + " · ".join(f'<span data-total="{k}">{v}</span> {k.replace("_", " ")}' for k, v in review.totals.items())
        + "</div>",
        '<div class="legend muted">In the raw body: '
        '<span class="mark removed">removed by the extractor</span>'
        '<span class="mark removed" data-family="template">removed as the source\'s template</span>'
        '<span class="mark lifted">lifted into a field</span>'
        '<span class="mark partial">partly removed</span>'
        '<span class="dropped">&lt;element&gt; not shown</span>'
        '<span class="raw-img">image placeholder</span> · the raw body is re-rendered from its parsed tree: '
        "no script, style, form, frame or remote image of the feed is ever loaded.</div>",
        "</header><main>",
        _summary(review),
    ]
    parts += [_source_section(i, s) for i, s in enumerate(review.sources)]
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _summary(review: Review) -> str:
    head = "".join(f"<th>{escape(label)}</th>" for _, label in (("source", "source"),) + STAT_LABELS)
    rows = []
    for i, source in enumerate(review.sources):
        cells = "".join(f"<td>{escape(str(source.stats[key]))}</td>" for key, _ in STAT_LABELS)
        rows.append(f'<tr><td><a href="#src-{i}">{escape(source.source)}</a></td>{cells}</tr>')
    return f'<nav class="toc"><table class="grid" id="summary"><tr>{head}</tr>{"".join(rows)}</table></nav>'


def _source_section(index: int, review: SourceReview) -> str:
    stats = "".join(
        f'<div class="stat{" warn" if key in ("rejects", "empty_text", "undated", "boilerplate_hits", "repeated_paragraphs") and review.stats[key] else ""}">'
        f'<span class="n" data-stat="{key}">{escape(str(review.stats[key]))}</span><span class="l">{escape(label)}</span></div>'
        for key, label in STAT_LABELS)
    reasons = ("".join(f'<li><code>{escape(r["reason"])}</code>: <span data-reject-reason="{escape(r["reason"])}">{r["files"]}</span></li>'
                       for r in review.rejects_by_reason) or "<li>none</li>")
    rejected = ""
    if review.rejected_files:
        items = "".join(f'<li><code>{escape(r["reason"])}</code> {escape(r["raw_path"])}</li>' for r in review.rejected_files[:50])
        rejected = f"<details><summary>rejected files ({len(review.rejected_files)})</summary><ul>{items}</ul></details>"
    return "\n".join([
        f'<section class="source" id="src-{index}" data-source="{escape(review.source)}">',
        f"<h2>{escape(review.source)}</h2>",
        f'<div class="stats">{stats}</div>',
        '<div class="overview"><div>',
        f"<h4>articles per day{' (' + str(review.undated) + ' undated not shown)' if review.undated else ''}</h4>",
        day_chart(review.per_day),
        "</div><div>",
        f'<h4>rejects by reason</h4><ul class="reasons">{reasons}</ul>{rejected}',
        "<h4>repeated paragraphs at the start or end of articles</h4>",
        _candidates(review.candidates),
        "<h4>learned template (removed from every article)</h4>",
        _template(review.template),
        "</div></div>",
        f"<h3>{len(review.samples)} sample article(s)</h3>" if review.samples else "<p class='muted'>no article to sample</p>",
        *[_sample(s) for s in review.samples],
        "</section>",
    ])


def _candidates(candidates: list[dict[str, Any]]) -> str:
    if not candidates:
        return '<p class="muted candidates" data-candidates="0">none (a paragraph must open or close at least 20 % of the articles, and 3)</p>'
    rows = "".join(f'<tr><td class="text">{escape(c["paragraph"][:160])}</td><td>{escape(c["position"])}</td>'
                   f'<td>{c["articles"]}</td><td>{c["share"]:.0%}</td>'
                   f'<td data-template="{str(bool(c.get("template"))).lower()}">{"yes" if c.get("template") else ""}</td></tr>'
                   for c in candidates)
    return (f'<table class="grid candidates" data-candidates="{len(candidates)}"><tr><th>paragraph</th><th>where</th>'
            f"<th>articles</th><th>share</th><th>template</th></tr>{rows}</table>")


def _template(template: list[dict[str, Any]]) -> str:
    if not template:
        return ('<p class="muted template" data-template-paragraphs="0">none (a short paragraph must open or close'
                " half of the articles, and 3)</p>")
    rows = "".join(f'<tr><td class="text">{escape(t["paragraph"][:160])}</td><td>{escape(t["position"])}</td>'
                   f'<td>{t["articles"]}</td><td>{t["source_articles"]}</td></tr>' for t in template)
    return (f'<table class="grid template" data-template-paragraphs="{len(template)}"><tr><th>paragraph</th><th>where</th>'
            f"<th>articles</th><th>of</th></tr>{rows}</table>")


def _sample(sample: Sample) -> str:
    record = sample.record
    paragraphs = "".join(f"<li>{escape(p)}</li>" for p in record["paragraphs"]) or "<li class='muted'>(no text)</li>"
    removed = "".join(f'<li{_family(sample.families.get(line))}>{escape(line)}</li>' for line in sample.removed)
    lifted = "".join(f"<li><b>{escape(name)}</b>: {escape(line)}</li>" for name, line in sample.lifted)
    published = record.get("published_at")
    when = published.strftime("%Y-%m-%d %H:%M UTC") if isinstance(published, dt.datetime) else "undated"
    return "\n".join([
        f'<article class="sample" data-raw-path="{escape(sample.raw_path)}">',
        f"<h3>{escape(record.get('title') or '(no title)')}</h3>",
        f'<div class="muted">{escape(when)} · <code>{escape(sample.raw_path)}</code></div>',
        '<div class="columns">',
        f'<div><h4>raw body (re-rendered, inert)</h4><div class="pane raw">{sample.raw_body}</div></div>',
        f'<div><h4>extracted paragraphs ({len(record["paragraphs"])})</h4><div class="pane"><ol class="extracted">{paragraphs}</ol></div>',
        f'<h4>removed by the extractor ({len(sample.removed)})</h4><ul class="removed-list">{removed or "<li class=muted>nothing</li>"}</ul>',
        f'<h4>lifted into fields ({len(sample.lifted)})</h4><ul class="lifted-list">{lifted or "<li class=muted>nothing</li>"}</ul>',
        f"<h4>metadata</h4>{_metadata(record)}</div>",
        "</div></article>",
    ])


def _family(family: str | None) -> str:
    return f' data-family="{escape(family)}"' if family else ""


def _metadata(record: dict[str, Any]) -> str:
    rows = []
    for name in METADATA_FIELDS + LIFTED_FIELDS:
        if name not in record:
            continue
        value = record[name]
        if isinstance(value, (dt.date, dt.datetime)):
            text = value.isoformat()
        elif isinstance(value, (list, dict)):
            text = json.dumps(value, ensure_ascii=False) if value else ""
        else:
            text = "" if value is None else str(value)
        if name in LIFTED_FIELDS and not text:
            continue
        css = ' class="lifted-field"' if name in LIFTED_FIELDS else ""
        rows.append(f"<tr{css}><th>{escape(name)}</th><td>{escape(text[:600])}</td></tr>")
    return f'<table class="meta">{"".join(rows)}</table>'


def day_chart(per_day: list[tuple[dt.date, int]], width: int = 680, height: int = 140) -> str:
    """Articles per day as inline SVG bars over the source's date range."""
    if not per_day:
        return '<p class="muted">no dated articles</p>'
    first, last = per_day[0][0], per_day[-1][0]
    days = (last - first).days + 1
    top = max(n for _, n in per_day)
    left, right, bottom, top_pad = 34, 10, 24, 10
    plot_w, plot_h = width - left - right, height - bottom - top_pad
    bar = max(plot_w / days * 0.8, 2.0)
    bars = []
    for date, n in per_day:
        x = left + (date - first).days / days * plot_w
        h = max(n / top * plot_h, 1.5)
        bars.append(f'<rect x="{x:.1f}" y="{top_pad + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="#2f6fdd">'
                    f"<title>{date.isoformat()}: {n}</title></rect>")
    axis = (f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - right}" y2="{top_pad + plot_h}" stroke="#9aa4af"/>'
            f'<text x="{left - 6}" y="{top_pad + 8}" text-anchor="end">{top}</text>'
            f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end">0</text>'
            f'<text x="{left}" y="{height - 6}">{first.isoformat()}</text>'
            f'<text x="{width - right}" y="{height - 6}" text-anchor="end">{last.isoformat()}</text>')
    total = sum(n for _, n in per_day)
    return (f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" data-total="{total}" '
            f'font-size="11" fill="#5d6875" xmlns="http://www.w3.org/2000/svg">'
            f"<title>{total} articles over {days} days</title>{axis}{''.join(bars)}</svg>")
