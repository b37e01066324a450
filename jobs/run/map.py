"""The map phase, driver side: cut the work into chunks, run the map tasks, stream their outcomes into
the manifest's `pending` table (article rows stay in the tasks' staged fragments)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from jobs.lake.manifest import State
from jobs.run.engine import Engine
from jobs.run.options import EventSink, RunOptions
from jobs.run.work import Job, WorkItem, map_chunks


def map_files(work: list[WorkItem], options: RunOptions, state: State, engine: Engine, run_id: str,
              started: dt.datetime, fragments_dir: Path, emit: EventSink) -> None:
    job = Job(str(Path(options.raw_dir).resolve()), run_id, started, options.max_bytes, str(fragments_dir.resolve()),
              file_seconds=options.file_seconds)
    done = 0
    chunks = enumerate(_chunks(work, options.chunk_files))
    for result in map_chunks(engine, job, chunks):
        fragments = [(source, month, result.fragment, batch, rows) for source, month, batch, rows in result.partitions]
        state.add_pending(run_id, result.outcomes, fragments)
        done += result.outcomes.num_rows
        emit("parsed", {"done": done, "total": len(work)})


def _chunks(items: list[WorkItem], size: int) -> Iterator[list[WorkItem]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
