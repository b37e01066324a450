"""Feed health per source: is each feed still arriving at its usual rhythm and quality? Pure over frames.

Inputs are small Polars frames that status.py reads from the dataset (articles per source and
day, the latest publication instants per source, per-run counts); the output is one row per
source with its recent volume, a 30-day sparkline and the flags raised, each with its reason.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass

import polars as pl

SPARK_DAYS = 30
SPARK_LEVELS = "▁▂▃▄▅▆▇█"
SPARK_NONE = "·"  # a day without any article
GAP_SAMPLE = 100  # the feed's rhythm: median of its last GAP_SAMPLE gaps between articles
BASELINE_DAYS = 28  # usual volume: the 28 days before the last 7
FLAGS = ("stale", "drop", "rejects", "empty", "undated")


@dataclass(frozen=True, kw_only=True)
class Thresholds:
    """Feed-health thresholds, by keyword only: eight numbers in a row are too easy to misplace."""

    stale_min_days: float = 3.0      # stale: no article for more than max(this, ...
    stale_gap_factor: float = 5.0    # ... this x the feed's median gap between articles)
    drop_ratio: float = 0.3          # drop: last 7 days below this share of the usual 7-day volume ...
    drop_min_usual: float = 7.0      # ... when the usual 7-day volume is at least this
    spike_factor: float = 3.0        # rejects/empty/undated: last run's share above this x the history's ...
    spike_min_share: float = 0.2     # ... and at least this share ...
    spike_min_files: int = 3         # ... and at least this many files in the last run ...
    history_min_files: int = 10      # ... when earlier runs saw at least this many files of the source

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def sparkline(counts: list[int]) -> str:
    """One character per day: a dot for none, else a block scaled to the busiest day shown."""
    top = max(counts, default=0)
    return "".join(SPARK_NONE if n == 0 else SPARK_LEVELS[max(0, math.ceil(n / top * len(SPARK_LEVELS)) - 1)] for n in counts)


def feed_health(daily: pl.DataFrame, recent: pl.DataFrame, runs: pl.DataFrame, today: dt.date, now: dt.datetime,
                thresholds: Thresholds = Thresholds()) -> list[dict]:
    """One dict per source.

    daily:  source, date, articles (rows per source and day; date null: the source's undated rows)
    recent: source, published_at (the latest instants per source, before `now`)
    runs:   source, last_run (bool), files, rejects, empty, undated (counts per source, last run vs earlier)
    """
    t = thresholds
    window = daily.filter(pl.col("date") <= today)
    day = (pl.lit(today) - pl.col("date")).dt.total_days()
    volume = window.group_by("source").agg(
        pl.len().alias("days_with_articles"),
        pl.col("articles").sum().alias("rows_to_date"),
        pl.col("date").max().alias("last_date"),
        pl.col("articles").filter(day < 7).sum().alias("last_7_days"),
        pl.col("articles").filter(day < SPARK_DAYS).sum().alias("last_30_days"),
        (pl.col("articles").filter((day >= 7) & (day < 7 + BASELINE_DAYS)).sum() * 7 / BASELINE_DAYS).alias("usual_7_days"),
    )
    undated = (daily.filter(pl.col("date").is_null()).group_by("source")
               .agg(pl.col("articles").sum().alias("undated_rows")))
    spark = {source: [0] * SPARK_DAYS for source in daily["source"].unique().to_list()}
    for source, date, count in window.filter(day < SPARK_DAYS).select("source", "date", "articles").iter_rows():
        spark[source][SPARK_DAYS - 1 - (today - date).days] = count
    # DuckDB hands instants over in its session's time zone: compare in UTC.
    recent = recent.with_columns(pl.col("published_at").dt.convert_time_zone("UTC"))
    gaps = (recent.filter(pl.col("published_at") < now).sort("source", "published_at")
            .with_columns(pl.col("published_at").diff().over("source").alias("gap"))
            .group_by("source").agg(
                pl.col("published_at").max().alias("last_published_at"),
                (pl.col("gap").drop_nulls().tail(GAP_SAMPLE).dt.total_seconds().median() / 86400).alias("median_gap_days")))
    per_run = runs.group_by("source").agg(
        *[pl.col(c).filter(pl.col("last_run")).sum().alias(f"last_{c}") for c in ("files", "rejects", "empty", "undated")],
        *[pl.col(c).filter(~pl.col("last_run")).sum().alias(f"earlier_{c}") for c in ("files", "rejects", "empty", "undated")],
    )
    sources = pl.concat([frame.select("source") for frame in (daily, recent, runs)]).unique()
    table = (sources.join(volume, on="source", how="left").join(undated, on="source", how="left")
             .join(gaps, on="source", how="left")
             .join(per_run, on="source", how="left").sort("source"))
    return [_judge(row, spark.get(row["source"], [0] * SPARK_DAYS), now, t) for row in table.iter_rows(named=True)]


def _judge(row: dict, days: list[int], now: dt.datetime, t: Thresholds) -> dict:
    reasons: dict[str, str] = {}
    last_published = row["last_published_at"]
    gap = row["median_gap_days"]
    stale_after = max(t.stale_min_days, t.stale_gap_factor * gap) if gap is not None else t.stale_min_days
    age = (now - last_published).total_seconds() / 86400 if last_published is not None else None
    if age is not None and age > stale_after:
        rhythm = f"{t.stale_gap_factor:g} x median gap {gap:.1f} d" if gap is not None else "no rhythm yet"
        reasons["stale"] = f"no article for {age:.1f} days (allowed {stale_after:.1f}: max({t.stale_min_days:g} d, {rhythm}))"
    usual = row["usual_7_days"] or 0.0
    last_7 = row["last_7_days"] or 0
    if usual >= t.drop_min_usual and last_7 < t.drop_ratio * usual:
        reasons["drop"] = f"{last_7} articles in the last 7 days, usually {usual:.1f} (below {t.drop_ratio:.0%})"
    for flag, column in (("rejects", "rejects"), ("empty", "empty"), ("undated", "undated")):
        if reason := _spike(row, column, t):
            reasons[flag] = reason
    return {
        "source": row["source"],
        "rows": (row["rows_to_date"] or 0) + (row["undated_rows"] or 0),  # undated rows have no day to be after as_of
        "last_date": row["last_date"].isoformat() if row["last_date"] else None,
        "last_article_at": last_published.isoformat() if last_published else None,
        "days_since_last": round(age, 2) if age is not None else None,
        "median_gap_days": round(gap, 3) if gap is not None else None,
        "stale_after_days": round(stale_after, 2),
        "last_7_days": last_7,
        "last_30_days": row["last_30_days"] or 0,
        "usual_7_days": round(usual, 2),
        "daily_30": days,
        "sparkline": sparkline(days),
        "last_run": {c: row[f"last_{c}"] or 0 for c in ("files", "rejects", "empty", "undated")},
        "earlier_runs": {c: row[f"earlier_{c}"] or 0 for c in ("files", "rejects", "empty", "undated")},
        "flags": [flag for flag in FLAGS if flag in reasons],
        "reasons": reasons,
    }


def _spike(row: dict, column: str, t: Thresholds) -> str | None:
    """The last run's share of `column` is well above the source's history."""
    files, count = row["last_files"] or 0, row[f"last_{column}"] or 0
    earlier_files, earlier = row["earlier_files"] or 0, row[f"earlier_{column}"] or 0
    if files == 0 or count < t.spike_min_files or earlier_files < t.history_min_files:
        return None
    share, usual = count / files, earlier / earlier_files
    if share >= t.spike_min_share and share > t.spike_factor * usual:
        return f"{count} of {files} files in the last run ({share:.0%}), usually {usual:.0%}"
    return None
