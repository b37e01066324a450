"""What a run will do: which raw files to parse, which partitions to rebuild. Reads only.

`ingest` looks at new and changed files (size and mtime first; the content
hash then decides, in the worker). `reprocess` selects partitions from the
manifest by date, source or parser version.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from jobs.parse import PARSER_VERSION
from jobs.run.discover import RawFile, discover
from jobs.run.options import RunOptions, Selection
from jobs.run.work import WorkItem
from jobs.run.work import PartitionKey
from jobs.lake.manifest import State
from jobs.lake.paths import partition_file


@dataclass
class ReprocessPlan:
    partitions: dict[PartitionKey, set[str]]  # partition -> raw paths whose articles live there
    files: list[RawFile]  # present on disk, to reparse
    missing: list[str]  # gone from disk: kept as history, or dropped with --prune
    rejects_to_retry: list[RawFile]
    rows: int


def plan_ingest(options: RunOptions, state: State) -> tuple[int, list[WorkItem]]:
    """(files listed, files to look at). The listing and the manifest copy are freed on return."""
    files = list(discover(str(options.raw_dir), options.globs))
    known = state.known_files()
    work = [WorkItem(f.raw_path, f.size, f.mtime_ns, _reusable_sha(known.get(f.raw_path)), f.raw_path in known)
            for f in files if _needs_look(known.get(f.raw_path), f)]
    del known
    work += _orphaned_siblings(state, work, files)
    return len(files), work


def _needs_look(known, f: RawFile) -> bool:
    if known is None or (known.size, known.mtime_ns) != (f.size, f.mtime_ns):
        return True
    return known.status == "reject" and known.parser_version != PARSER_VERSION


def _reusable_sha(known) -> str | None:
    """Same bytes as last time need no parse: unless it was a reject from an older parser."""
    if known is None or (known.status == "reject" and known.parser_version != PARSER_VERSION):
        return None
    return known.sha256


def _orphaned_siblings(state: State, work: list[WorkItem], files: list[RawFile]) -> list[WorkItem]:
    """Files sharing an article_id with a changing file: reparse them, one may become the new winner."""
    known_changing = [item.raw_path for item in work if item.known]  # only these have old article ids
    if not known_changing:
        return []
    old_ids = set(state.article_ids_of(known_changing).values())
    changing = {item.raw_path for item in work}
    candidates = [p for p in state.paths_with_article_ids(old_ids) if p not in changing]
    if not candidates:
        return []
    listed = {f.raw_path: f for f in files}
    return [WorkItem(p, listed[p].size, listed[p].mtime_ns, None) for p in sorted(candidates) if p in listed]


def plan_rebuild(options: RunOptions, state: State, selection: Selection) -> ReprocessPlan:
    everything = selection.everything
    stale_partitions: set[PartitionKey] = set()
    by_partition: dict[PartitionKey, set[str]] = {}
    for raw_path, source, date_text, version in state.article_files():
        key = (source, dt.date.fromisoformat(date_text) if date_text else None)
        if not everything and not _in_selection(key, selection):
            continue
        by_partition.setdefault(key, set()).add(raw_path)
        if selection.parser_older_than and _version_key(version) < _version_key(selection.parser_older_than):
            stale_partitions.add(key)
    if selection.parser_older_than and not everything:
        by_partition = {k: v for k, v in by_partition.items() if k in stale_partitions}
    paths = sorted(p for ps in by_partition.values() for p in ps)
    present, missing = _split_present(options.raw_dir, paths)
    retry = _split_present(options.raw_dir, state.reject_paths())[0] if everything else []
    rows = sum(_partition_rows(options.out_dir, key) for key in by_partition)
    return ReprocessPlan(by_partition, present, missing, retry, rows)


def _in_selection(key: PartitionKey, selection: Selection) -> bool:
    source, date = key
    if selection.sources and source not in selection.sources:
        return False
    if date is None:  # an undated article is in no date range
        return not (selection.date_from or selection.date_to)
    if selection.date_from and date < selection.date_from:
        return False
    if selection.date_to and date > selection.date_to:
        return False
    return True


def _version_key(version: str) -> tuple:
    """'3.10' > '3.9'; a non-numeric part sorts after numbers instead of failing to compare with them."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in version.split("."))


def _split_present(raw_dir: Path, paths: Iterable[str]) -> tuple[list[RawFile], list[str]]:
    present, missing = [], []
    for raw_path in paths:
        try:
            stat = os.stat(os.path.join(raw_dir, raw_path))
            present.append(RawFile(raw_path, stat.st_size, stat.st_mtime_ns))
        except OSError:
            if os.path.lexists(os.path.join(raw_dir, raw_path)):
                present.append(RawFile(raw_path, -1, -1))  # becomes a read_error reject, not history
            else:
                missing.append(raw_path)
    return present, missing


def _partition_rows(out_dir: Path, key: PartitionKey) -> int:
    path = partition_file(out_dir, *key)
    return pq.ParquetFile(path).metadata.num_rows if path.exists() else 0
