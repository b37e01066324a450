"""`articles report`: extraction quality per source over a raw dir, without writing anything.

One scan parses every raw file (through the run's unit of work, as `ingest` would) and keeps
a small Polars frame per article and per reject; the quality table, the repeated-paragraph
candidates and the review page (review.py) are all computed from that one scan, so their
counts agree. The sources' templates are learned from the same scan with the run's own pure
functions (jobs/parse/templates.py `learn_counted`): what a run over this raw dir would remove.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import polars as pl

from jobs.parse import templates
from jobs.parse.record import source_folder
from jobs.run.discover import DEFAULT_GLOBS, discover
from jobs.run.engine import local_engine
from jobs.run.map import Job, WorkItem, parse_chunk

# Text still containing any of these means boilerplate or markup leaked through.
# (Not `{`: code kept verbatim from <pre> has braces; the feeds escape them as &#123; elsewhere.)
BOILERPLATE_MARKERS = ("责任编辑", "原标题", "海量资讯", "appendQr", "&#123;", "&#125;", "<")

# Repeated-paragraph candidates: paragraphs among the first or last EDGE_PARAGRAPHS of an
# article that recur in at least MIN_SHARE of a source's articles, and in at least MIN_ARTICLES.
EDGE_PARAGRAPHS = 3
MIN_SHARE = 0.2
MIN_ARTICLES = 3
UNKNOWN_SOURCE = "?"  # a reject whose path names no source folder

QUALITY_COLUMNS = ("source", "files", "rows", "rejects", "empty_text", "undated", "avg_paragraphs", "avg_chars",
                   "boilerplate_hits", "repeated_paragraphs")


@dataclass(frozen=True)
class RawDirScan:
    """Every raw file of a raw dir, parsed: one row per article, one per reject."""

    articles: pl.DataFrame  # source, date, raw_path, title, paragraph_count, char_count, boilerplate_hit, head, tail, edges
    rejects: pl.DataFrame   # raw_path, reason, source


def scan_raw_dir(raw_dir: str | Path, globs=DEFAULT_GLOBS, workers: int = 1, max_bytes: int = 8 << 20) -> RawDirScan:
    files = list(discover(str(raw_dir), globs))
    job = Job(str(raw_dir), "report", dt.datetime.now(dt.timezone.utc), max_bytes)
    items = [WorkItem(f.raw_path, f.size, f.mtime_ns, None) for f in files]
    chunks = [items[i:i + 200] for i in range(0, len(items), 200)]
    hits = pl.any_horizontal([pl.col("text").str.contains(m, literal=True) for m in BOILERPLATE_MARKERS])
    articles, rejects = [], []
    engine = local_engine(workers)
    try:
        for chunk in engine.map(partial(parse_chunk, job), chunks):
            frame = pl.from_arrow(chunk.articles.select(["source", "date", "raw_path", "title", "text", "paragraphs",
                                                         "paragraph_count", "char_count"]))
            # Only the edges of each article are kept: memory stays small on big raw dirs.
            articles.append(frame.select(
                "source", "date", "raw_path", "title", "paragraph_count", "char_count", hits.alias("boilerplate_hit"),
                pl.col("paragraphs").list.head(EDGE_PARAGRAPHS).alias("head"),
                pl.col("paragraphs").list.tail(EDGE_PARAGRAPHS).alias("tail"), edge_paragraphs(pl.col("paragraphs"))))
            rejects.append(pl.from_arrow(chunk.rejects.select(["raw_path", "reason"])))
    finally:
        engine.close()
    article_frame = pl.concat(articles) if articles else pl.DataFrame(schema={
        "source": pl.String, "date": pl.Date, "raw_path": pl.String, "title": pl.String, "paragraph_count": pl.Int32,
        "char_count": pl.Int32, "boilerplate_hit": pl.Boolean, "head": pl.List(pl.String), "tail": pl.List(pl.String),
        "edges": pl.List(pl.String)})
    reject_frame = pl.concat(rejects) if rejects else pl.DataFrame(schema={"raw_path": pl.String, "reason": pl.String})
    reject_frame = reject_frame.with_columns(reject_source(pl.col("raw_path")).alias("source"))
    return RawDirScan(article_frame, reject_frame)


def edge_paragraphs(paragraphs: pl.Expr) -> pl.Expr:
    """The paragraphs a template can be learned from: all of a short article, else its first and last
    templates.EDGE_PARAGRAPHS (templates.edges gives the same edges from these as from the whole list)."""
    span = templates.EDGE_PARAGRAPHS
    return (pl.when(paragraphs.list.len() <= 2 * span).then(paragraphs)
            .otherwise(pl.concat_list(paragraphs.list.head(span), paragraphs.list.tail(span))).alias("edges"))


def reject_source(raw_path: pl.Expr) -> pl.Expr:
    """A reject has no record: its source is the raw path's source folder (or '?')."""
    return raw_path.map_elements(lambda p: source_folder(p) or UNKNOWN_SOURCE, return_dtype=pl.String)


def quality_table(scan: RawDirScan) -> pl.DataFrame:
    """One row per source: files, rows, rejects, empty texts, undated rows, averages, leaks, repeated paragraphs."""
    per_source = scan.articles.group_by("source").agg(
        pl.len().alias("rows"),
        (pl.col("char_count") == 0).sum().alias("empty_text"),
        pl.col("date").is_null().sum().alias("undated"),
        pl.col("paragraph_count").mean().round(1).alias("avg_paragraphs"),
        pl.col("char_count").mean().round(0).alias("avg_chars"),
        pl.col("boilerplate_hit").sum().alias("boilerplate_hits"),
    )
    reject_counts = scan.rejects.group_by("source").agg(pl.len().alias("rejects"))
    repeated = repeated_paragraphs(scan).group_by("source").agg(pl.len().alias("repeated_paragraphs"))
    table = (per_source.join(reject_counts, on="source", how="full", coalesce=True)
             .join(repeated, on="source", how="left").fill_null(0))
    return table.with_columns((pl.col("rows") + pl.col("rejects")).alias("files")).select(QUALITY_COLUMNS).sort("source")


def normalise_paragraph(paragraph: pl.Expr) -> pl.Expr:
    """Verbatim after normalisation: NFKC (full-width -> ASCII), whitespace collapsed, case folded."""
    return paragraph.str.normalize("NFKC").str.replace_all(r"\s+", " ").str.strip_chars().str.to_lowercase()


def repeated_paragraphs(scan: RawDirScan, min_share: float = MIN_SHARE, min_articles: int = MIN_ARTICLES) -> pl.DataFrame:
    """Paragraphs at the start or end of many of a source's articles: boilerplate no rule knows yet.

    Columns: source, position (start, end or start+end), paragraph (as first seen), articles
    (how many articles have it at an edge), share (of the source's articles).
    """
    articles = scan.articles
    totals = articles.group_by("source").agg(pl.len().alias("source_articles"))
    edges = pl.concat([
        articles.select("source", "raw_path", pl.col(side).alias("paragraph"), pl.lit(side).alias("side")).explode("paragraph")
        for side in ("head", "tail")
    ]).drop_nulls("paragraph").with_columns(normalise_paragraph(pl.col("paragraph")).alias("key"))
    found = edges.group_by("source", "key").agg(
        pl.col("raw_path").n_unique().alias("articles"),
        pl.col("paragraph").first(),
        (pl.col("side") == "head").any().alias("at_start"),
        (pl.col("side") == "tail").any().alias("at_end"),
    ).join(totals, on="source")
    position = (pl.when(pl.col("at_start") & pl.col("at_end")).then(pl.lit("start+end"))
                .when(pl.col("at_start")).then(pl.lit("start")).otherwise(pl.lit("end")))
    return (found.with_columns((pl.col("articles") / pl.col("source_articles")).round(3).alias("share"), position.alias("position"))
            .filter((pl.col("articles") >= min_articles) & (pl.col("share") >= min_share) & (pl.col("key") != ""))
            .select("source", "position", "paragraph", "articles", "share")
            .sort(["source", "articles", "paragraph"], descending=[False, True, False]))


TEMPLATE_COLUMNS = ("source", "position", "paragraph", "articles", "source_articles", "share", "paragraph_key")


def learned_templates(scan: RawDirScan) -> pl.DataFrame:
    """Each source's template as a run over this raw dir would learn it (jobs/parse/templates.py).

    Columns: source, position (start, end or start+end), paragraph, articles (having it at an edge),
    source_articles, share, paragraph_key (as in the `templates` table).
    """
    by_source: dict[str, list[list[str]]] = {}
    for source, edges in scan.articles.select("source", "edges").iter_rows():
        by_source.setdefault(source, []).append(edges or [])
    rows = [(source, _position(t.at_start, t.at_end), t.text, t.articles, t.source_articles,
             round(t.articles / t.source_articles, 3), t.key)
            for source, learned in templates.learn_counted(by_source).items() for t in learned.values()]
    frame = pl.DataFrame(rows, schema={"source": pl.String, "position": pl.String, "paragraph": pl.String,
                                       "articles": pl.Int64, "source_articles": pl.Int64, "share": pl.Float64,
                                       "paragraph_key": pl.String}, orient="row")
    return frame.sort(["source", "articles", "paragraph"], descending=[False, True, False])


def _position(at_start: bool, at_end: bool) -> str:
    return "start+end" if at_start and at_end else "start" if at_start else "end"


def mark_templates(candidates: pl.DataFrame, learned: pl.DataFrame) -> pl.DataFrame:
    """The candidates with `template`: whether the source's learned template has the paragraph."""
    keys = candidates["paragraph"].map_elements(templates.paragraph_key, return_dtype=pl.String) if candidates.height \
        else pl.Series("paragraph_key", [], pl.String)
    marked = candidates.with_columns(keys.alias("paragraph_key")).join(
        learned.select("source", "paragraph_key", pl.lit(True).alias("template")), on=["source", "paragraph_key"], how="left")
    return marked.with_columns(pl.col("template").fill_null(False)).drop("paragraph_key")


def report_rows(scan: RawDirScan) -> list[dict]:
    """`report --json`: the quality table's rows, each with its repeated-paragraph candidates (marked
    `template` when the learned template has them) and its learned template."""
    learned = learned_templates(scan)
    candidates = mark_templates(repeated_paragraphs(scan), learned)
    by_source: dict[str, list[dict]] = {}
    for row in candidates.iter_rows(named=True):
        by_source.setdefault(row.pop("source"), []).append(row)
    template_rows: dict[str, list[dict]] = {}
    for row in learned.drop("source_articles").iter_rows(named=True):
        template_rows.setdefault(row.pop("source"), []).append(row)
    rows = quality_table(scan).to_dicts()
    for row in rows:
        row["repeated_paragraph_candidates"] = by_source.get(row["source"], [])
        row["template"] = template_rows.get(row["source"], [])
    return rows
