"""One partition's new file from its current rows and the run's new rows. Pure.

`merge_partition` is the reduce step: it runs wherever the engine puts it and
touches no file. Rows are keyed by article_id; the same article from several
raw files is kept once, from the file with the smallest raw_path (so the result
does not depend on the order files arrive in). Rows are sorted by published_at.
"""

from __future__ import annotations

from collections.abc import Collection

import polars as pl
import pyarrow as pa

from schemas.article import ARTICLE_FILE_SCHEMA, conform

_ORDER = ["published_at", "article_id"]


def merge_partition(existing: pa.Table | None, new: pa.Table | None, replaced: Collection[str],
                    keep_only: Collection[str] | None = None) -> tuple[pa.Table, int]:
    """(the partition's rows after this run, new rows that lost to a duplicate).

    existing:  the partition's file as it is, or None.
    new:       this run's rows for the partition (file schema, no partition keys), or None.
    replaced:  raw paths whose earlier rows give way (changed files, files that moved here or away).
    keep_only: for a rebuild, the only raw paths whose existing rows survive (history of vanished files).
    Rows of `new` replace rows of the same raw_path in `existing`.
    """
    frames = []
    if existing is not None and existing.num_rows:
        old = pl.from_arrow(existing)
        if keep_only is not None:
            old = old.filter(pl.col("raw_path").is_in(list(keep_only)))
        else:
            gone = set(replaced) | (set(new.column("raw_path").to_pylist()) if new is not None else set())
            if gone:
                old = old.filter(~pl.col("raw_path").is_in(list(gone)))
        frames.append(old)
    if new is not None and new.num_rows:
        frames.append(pl.from_arrow(conform(new, ARTICLE_FILE_SCHEMA)))
    if not frames:
        return ARTICLE_FILE_SCHEMA.empty_table(), 0
    merged = pl.concat(frames, how="vertical_relaxed") if len(frames) > 1 else frames[0]
    unique = deduplicate(merged)
    return conform(unique.to_arrow(), ARTICLE_FILE_SCHEMA), merged.height - unique.height


def deduplicate(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per article_id, the smallest raw_path winning; sorted by published_at then article_id."""
    if frame.height and frame["article_id"].n_unique() != frame.height:
        frame = (frame.sort(["article_id", "raw_path"])
                 .unique(subset="article_id", keep="first", maintain_order=True))
    return frame.sort(_ORDER, nulls_last=True)
