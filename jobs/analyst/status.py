"""`articles status`: recent runs, feed health per source, rejects by reason, size on disk. Read-only.

DuckDB scans the dataset (aggregates pushed down to the Parquet files); the small per-source
frames it returns are combined in Polars (health.py).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from jobs.analyst.health import GAP_SAMPLE, Thresholds, feed_health
from jobs.analyst.query import connect
from jobs.analyst.report import UNKNOWN_SOURCE, reject_source
from jobs.analyst.verify import damaged_file_error
from jobs.errors import ArticleLakeError
from jobs.lake.out_dir import require_dataset
from jobs.lake.table import ArticlesTable
from jobs.parse.dates import IMPLAUSIBLE_KEY
from schemas.state import RunStatus

FINISHED_RUN_STATUSES = (RunStatus.OK.value, RunStatus.TOO_MANY_REJECTS.value)  # runs that committed their work


def dataset_status(out_dir: str | Path, last_runs: int = 5, as_of: dt.date | None = None,
                   thresholds: Thresholds = Thresholds()) -> dict[str, Any]:
    """Everything `status` shows. `as_of` is "today" (UTC) for the health checks; default: now."""
    out = Path(out_dir)
    require_dataset(out)
    try:
        return _status(out, last_runs, as_of, thresholds)
    except duckdb.Error as error:  # a damaged data file: name it, never a traceback
        raise damaged_file_error(error, out) or ArticleLakeError(f"cannot read the dataset {out}: {error}") from None


def _status(out: Path, last_runs: int, as_of: dt.date | None, thresholds: Thresholds) -> dict[str, Any]:
    connection = connect(out)
    if as_of is None:
        now = dt.datetime.now(dt.timezone.utc)
        today = now.date()
    else:  # the whole day counts: "now" is the end of it
        today = as_of
        now = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
    runs = _frame(connection, "SELECT run_id, command, status, exit_code, started_at::VARCHAR AS started_at, duration_s,"
                              " files_seen, files_parsed, articles_written, duplicates, rejects, partitions_written"
                              " FROM runs ORDER BY started_at DESC")
    last_run_id = next((r["run_id"] for r in runs.iter_rows(named=True) if r["status"] in FINISHED_RUN_STATUSES), None)
    sources = _frame(connection, "SELECT source, count(*) AS rows, min(date)::VARCHAR AS first_date, max(date)::VARCHAR AS last_date,"
                                 " count(*) FILTER (date IS NULL) AS undated FROM articles GROUP BY source ORDER BY source")
    rejects = _frame(connection, "SELECT raw_path, reason, run_id FROM rejects")
    # Rows whose front-matter date could not be right (parse: dates.settle_implausible); kept undated or re-dated.
    implausible = _frame(connection, "SELECT source, count(*) AS rows, count(*) FILTER (date IS NULL) AS undated FROM articles"
                                     " WHERE contains(extra, $key) GROUP BY source ORDER BY source", {"key": f'"{IMPLAUSIBLE_KEY}"'})
    health = feed_health(
        daily=_frame(connection, "SELECT source, date, count(*) AS articles FROM articles GROUP BY ALL"),
        recent=_frame(connection, "SELECT source, published_at FROM articles WHERE published_at < $now"
                                  f" QUALIFY row_number() OVER (PARTITION BY source ORDER BY published_at DESC) <= {GAP_SAMPLE + 1}",
                      {"now": now}),
        runs=_per_run_counts(connection, rejects, last_run_id),
        today=today, now=now, thresholds=thresholds)
    totals = connection.execute("SELECT count(*), count(DISTINCT source), min(date)::VARCHAR, max(date)::VARCHAR,"
                                " count(*) FILTER (date IS NULL) FROM articles").fetchall()[0]
    # Each source's learned template (jobs/parse/templates.py) and how many rows it cleaned.
    templates = _frame(connection, "SELECT t.source, count(*) AS paragraphs, any_value(t.source_articles) AS source_articles,"
                                   " list(struct_pack(text := t.text, articles := t.articles) ORDER BY t.articles DESC, t.text)"
                                   " AS template, (SELECT count(*) FROM articles a WHERE a.source = t.source"
                                   " AND len(a.template_removed) > 0) AS rows_cleaned FROM templates t GROUP BY t.source ORDER BY t.source")
    by_reason = (rejects.group_by("reason").agg(pl.len().alias("files"))
                 .sort(["files", "reason"], descending=[True, False]))
    return {
        "out_dir": str(out),
        "as_of": today.isoformat(),
        "now": now.isoformat(),
        "articles": totals[0],
        "sources": totals[1],
        "first_date": totals[2],
        "last_date": totals[3],
        "undated": totals[4],
        "implausible_dates": int(implausible["rows"].sum()) if implausible.height else 0,
        "rejects": rejects.height,
        "size_bytes": _size_on_disk(out),
        **_table_size(out),
        "flags_raised": sum(len(feed["flags"]) for feed in health),
        "thresholds": thresholds.as_dict(),
        "last_run_id": last_run_id,
        "feeds": health,
        "rows_per_source": sources.to_dicts(),
        "implausible_dates_per_source": implausible.to_dicts(),
        "templates_per_source": templates.to_dicts(),
        "rejects_by_reason": by_reason.to_dicts(),
        "last_runs": runs.head(int(last_runs)).to_dicts(),
    }


def _per_run_counts(connection, rejects: pl.DataFrame, last_run_id: str | None) -> pl.DataFrame:
    """Per source: files, rejects, empty texts and undated rows of the last run, and of all earlier runs."""
    articles = _frame(connection, "SELECT source, coalesce(run_id = $run, false) AS last_run, count(*) AS files,"
                                  " 0 AS rejects, count(*) FILTER (char_count = 0) AS empty,"
                                  " count(*) FILTER (date IS NULL) AS undated FROM articles GROUP BY ALL",
                      {"run": last_run_id or ""})
    rejected = (rejects.with_columns(reject_source(pl.col("raw_path")).alias("source"),
                                     (pl.col("run_id") == (last_run_id or "")).fill_null(False).alias("last_run"))
                .filter(pl.col("source") != UNKNOWN_SOURCE)
                .group_by("source", "last_run").agg(pl.len().alias("files"), pl.len().alias("rejects"),
                                                    pl.lit(0).alias("empty"), pl.lit(0).alias("undated")))
    columns = {"source": pl.String, "last_run": pl.Boolean, "files": pl.Int64, "rejects": pl.Int64,
               "empty": pl.Int64, "undated": pl.Int64}
    return pl.concat([frame.cast(columns).select(list(columns)) for frame in (articles, rejected)])


def _frame(connection, sql: str, parameters: dict | None = None) -> pl.DataFrame:
    return connection.sql(sql, params=parameters or None).pl()


def _table_size(out: Path) -> dict:
    """The table's current version: its version, data files and their bytes; what vacuum may still reclaim."""
    table = ArticlesTable(out)
    if not table.exists():
        return {"table_version": None, "data_files": 0, "data_bytes": 0, "log_bytes": 0}
    live = table.live_files()
    log = sum(path.stat().st_size for path in table.layout.delta_log.glob("*") if path.is_file())
    return {"table_version": table.version(), "data_files": len(live), "data_bytes": sum(f.size for f in live),
            "log_bytes": log}


def _size_on_disk(out: Path) -> int:
    """Everything under articles/ and rejects/: the current files, the log, and files older versions still name."""
    total = 0
    for folder in ("articles", "rejects"):
        for root, _, files in os.walk(out / folder):
            total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total
