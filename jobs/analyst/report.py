"""`articles report`: extraction quality per source over a raw dir, without writing anything."""

from __future__ import annotations

import datetime as dt
from functools import partial
from pathlib import Path

import polars as pl

from jobs.run.discover import DEFAULT_GLOBS, discover
from jobs.run.engine import local_engine
from jobs.run.work import Job, WorkItem, parse_chunk
from jobs.parse.record import source_folder

# Text still containing any of these means boilerplate or markup leaked through.
# (Not `{`: code kept verbatim from <pre> has braces; the feeds escape them as &#123; elsewhere.)
BOILERPLATE_MARKERS = ("责任编辑", "原标题", "海量资讯", "appendQr", "&#123;", "&#125;", "<")


def quality_report(raw_dir: str | Path, globs=DEFAULT_GLOBS, workers: int = 1, max_bytes: int = 8 << 20) -> pl.DataFrame:
    files = list(discover(str(raw_dir), globs))
    job = Job(str(raw_dir), "report", dt.datetime.now(dt.timezone.utc), max_bytes)
    items = [WorkItem(f.raw_path, f.size, f.mtime_ns, None) for f in files]
    chunks = [items[i:i + 200] for i in range(0, len(items), 200)]
    articles, rejects = [], []
    engine = local_engine(workers)
    try:
        for chunk in engine.map(partial(parse_chunk, job), chunks):
            articles.append(pl.from_arrow(chunk.articles.select(["source", "text", "paragraph_count", "char_count"])))
            rejects.append(pl.from_arrow(chunk.rejects.select(["raw_path"])))
    finally:
        engine.close()
    rows = pl.concat(articles) if articles else pl.DataFrame(schema={"source": pl.String, "text": pl.String, "paragraph_count": pl.Int32, "char_count": pl.Int32})
    rejected = pl.concat(rejects) if rejects else pl.DataFrame(schema={"raw_path": pl.String})
    rejected = rejected.with_columns(pl.col("raw_path").map_elements(lambda p: source_folder(p) or "?", return_dtype=pl.String).alias("source"))
    hits = pl.any_horizontal([pl.col("text").str.contains(m, literal=True) for m in BOILERPLATE_MARKERS])
    per_source = rows.group_by("source").agg(
        pl.len().alias("rows"),
        (pl.col("char_count") == 0).sum().alias("empty_text"),
        pl.col("paragraph_count").mean().round(1).alias("avg_paragraphs"),
        pl.col("char_count").mean().round(0).alias("avg_chars"),
        hits.sum().alias("boilerplate_hits"),
    )
    reject_counts = rejected.group_by("source").agg(pl.len().alias("rejects"))
    table = per_source.join(reject_counts, on="source", how="full", coalesce=True).fill_null(0)
    return table.with_columns((pl.col("rows") + pl.col("rejects")).alias("files")).select(
        "source", "files", "rows", "rejects", "empty_text", "avg_paragraphs", "avg_chars", "boilerplate_hits").sort("source")
