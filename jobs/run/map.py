"""The map phase: chunks of raw files -> staged rows and per-file outcomes.

Tasks (`map_chunk`, run by the engine on any worker) read each file (the only I/O of a task besides
its own staged fragment), hash it, parse it, and stage its article rows grouped by partition
(source, month) in one Arrow IPC file under the run's staging folder; they return only per-file
outcomes. A file whose hash matches what the manifest holds is reported `unchanged` and not
parsed. The driver side (`map_files`) cuts the work into chunks and streams the outcomes into the
manifest's `pending` table (article rows never pass through the driver).

A task is a top-level function of picklable arguments, safe to run twice (an engine may retry it
on another worker): its only effect is a whole file under the run's staging folder, written to a
temporary name and renamed, so a retry overwrites and never appends.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.ipc  # noqa: F401  (pa.ipc)

from jobs.errors import Rejected
from jobs.lake.manifest import State
from jobs.lake.paths import month_of, partition_order
from jobs.parse import PARSER_VERSION
from jobs.parse.frame import REJECT_BATCH_SCHEMA, RunStamp, article_table, to_table
from jobs.parse.templates import edges as edges_of
from jobs.parse.templates import text_hash
from jobs.run.engine import Engine, WorkerLost
from jobs.run.limits import DEFAULT_FILE_SECONDS, FileTimeLimit, file_time_limits
from jobs.run.options import EventSink, RunOptions
from schemas.article import RejectReason
from schemas.raw_path import raw_file_path
from schemas.state import OUTCOME_SCHEMA, FileStatus

if TYPE_CHECKING:
    from jobs.parse.record import ArticleRecord


def map_files(work: Iterable[WorkItem], total: int, options: RunOptions, state: State, engine: Engine, run_id: str,
              started: dt.datetime, fragments_dir: Path, emit: EventSink) -> None:
    """Parse `work` (`total` items, read lazily: an ingest's comes from the manifest a page at a time)."""
    job = Job(str(Path(options.raw_dir).resolve()), run_id, started, options.max_bytes, str(fragments_dir.resolve()),
              file_seconds=options.file_seconds)
    done = 0
    chunks = enumerate(_chunks(work, options.chunk_files))
    for result in map_chunks(engine, job, chunks):
        fragments = [(source, month, result.fragment, batch, rows) for source, month, batch, rows in result.partitions]
        state.add_pending(run_id, result.outcomes, fragments, result.edges)
        done += result.outcomes.num_rows
        emit("parsed", {"done": done, "total": total})


def _chunks(items: Iterable[WorkItem], size: int) -> Iterator[list[WorkItem]]:
    items = iter(items)
    while chunk := list(itertools.islice(items, size)):
        yield chunk


@dataclass(frozen=True, slots=True)
class WorkItem:
    raw_path: str
    size: int
    mtime_ns: int
    known_sha256: str | None  # hash from the manifest; equal content is not reparsed
    known: bool = True  # in the manifest: its earlier row or reject must be superseded
    known_read_error: str | None = None  # its last outcome was this read_error: the same again is unchanged


@dataclass(frozen=True)
class Job:
    raw_dir: str
    run_id: str
    started_at: dt.datetime
    max_bytes: int
    fragments_dir: str = ""  # where map tasks stage their rows (_staging/<run_id>/fragments)
    file_seconds: float = DEFAULT_FILE_SECONDS  # per-file parse time limit (jobs/run/limits.py); 0: none


@dataclass
class ParsedChunk:
    articles: pa.Table
    rejects: pa.Table
    outcomes: pa.Table
    edges: list[tuple] = ()  # (source, text_hash, key, text) of the articles' short edge paragraphs, each spelling once


def parse_chunk(job: Job, items: list[WorkItem]) -> ParsedChunk:
    with file_time_limits(job.file_seconds) as limit:
        return _parse_chunk(job, items, limit)


def _parse_chunk(job: Job, items: list[WorkItem], limit) -> ParsedChunk:
    articles, rejects, outcomes, edges = [], [], [], {}
    for item in items:
        outcome = {"raw_path": item.raw_path, "size": item.size, "mtime_ns": item.mtime_ns}
        try:
            try:
                data = _read(raw_file_path(job.raw_dir, item.raw_path), item, job.max_bytes)
            except FileNotFoundError:
                if item.known_sha256 is not None:  # gone since listing: like any vanished file, keep its history
                    outcomes.append(outcome | {"status": FileStatus.UNCHANGED.value, "sha256": item.known_sha256})
                    continue
                raise Rejected(RejectReason.READ_ERROR, "FileNotFoundError: deleted between listing and reading") from None
            outcome["sha256"] = sha = hashlib.sha256(data).hexdigest()
            if sha == item.known_sha256:
                outcomes.append(outcome | {"status": FileStatus.UNCHANGED.value})
                continue
            record = _parse(data, item.raw_path, limit, job.started_at, sha)
        except Rejected as rejected:
            if rejected.reason == RejectReason.READ_ERROR and rejected.message == item.known_read_error:
                outcomes.append(outcome | {"status": FileStatus.UNCHANGED.value})  # retried, same failure
                continue
            sha = outcome.get("sha256")
            rejects.append({
                "raw_path": item.raw_path, "reason": rejected.reason, "message": rejected.message,
                "raw_sha256": sha, "size": item.size if item.size >= 0 else None,
                "run_id": job.run_id, "rejected_at": job.started_at,
            })
            outcomes.append(outcome | {"status": FileStatus.REJECT.value, "reject_reason": rejected.reason, "reject_message": rejected.message})
            continue
        articles.append(record)
        hashes = []
        for edge in edges_of(record.paragraphs):
            hashes.append(spelling := text_hash(edge.text))
            edges[(record.source, spelling)] = (record.source, spelling, edge.key, edge.text)
        outcomes.append(outcome | {"status": FileStatus.ARTICLE.value, "article_id": record.article_id, "source": record.source,
                                   "date": record.date, "edge_hashes": " ".join(hashes)})
    return ParsedChunk(
        article_table(articles, RunStamp(ingested_at=job.started_at, parser_version=PARSER_VERSION, run_id=job.run_id)),
        to_table(rejects, REJECT_BATCH_SCHEMA),
        to_table(outcomes, OUTCOME_SCHEMA),
        list(edges.values()),
    )


def _parse(data: bytes, raw_path: str, limit, run_time: dt.datetime, sha256: str) -> ArticleRecord:
    """parse_article under `limit` (file_time_limits), whatever the file does to the parser: a failure is
    this file's reject, not the run's."""
    from jobs.parse.record import parse_article  # here: the driver imports this module but never parses (~0.3 s)
    try:
        with limit():
            return parse_article(data, raw_path, run_time, sha256)
    except Rejected:
        raise
    except FileTimeLimit as late:
        raise Rejected(RejectReason.TOO_COMPLEX, str(late)) from None
    except Exception as error:  # noqa: BLE001 - MemoryError under the worker's limit, SelectolaxError, ...
        raise Rejected(RejectReason.PARSE_ERROR, f"{type(error).__name__}: {error}".rstrip(": ")[:500]) from None


def _read(path: str, item: WorkItem, max_bytes: int) -> bytes:
    if item.size < 0:
        raise Rejected(RejectReason.READ_ERROR, _describe_unstatable(path))
    if item.size > max_bytes:
        raise Rejected(RejectReason.TOO_LARGE, f"{item.size} bytes > --max-bytes {max_bytes}")
    try:
        # O_NONBLOCK: opening a FIFO that nobody writes to must not hang the run; fstat then refuses it.
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            if not stat.S_ISREG(mode):
                raise Rejected(RejectReason.READ_ERROR, f"not a regular file ({_kind(mode)})")
            data = handle.read(item.size + 1)  # not max_bytes + 1: that allocates 8 MiB per file
            if len(data) > item.size:  # grew since it was listed
                data += handle.read(max_bytes + 1 - len(data))
    except FileNotFoundError:
        raise
    except OSError as error:
        raise Rejected(RejectReason.READ_ERROR, f"{type(error).__name__}: {error.strerror or error}") from None
    if len(data) > max_bytes:  # grew since it was listed
        raise Rejected(RejectReason.TOO_LARGE, f"more than --max-bytes {max_bytes} bytes")
    return data


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "directory"), (stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket"),
                       (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device")):
        if test(mode):
            return name
    return "special file"


def _describe_unstatable(path: str) -> str:
    try:
        os.stat(path)
    except OSError as error:
        if os.path.islink(path):
            kind = "symlink loop" if error.errno == 40 else "dangling symlink"
            return f"{kind}: {error.strerror}"
        return f"cannot stat: {error.strerror}"
    return "file changed while listing"


# A task is a top-level function of picklable arguments, safe to run twice (an engine may retry it
# on another worker): its only effects are whole files under the run's staging folder, each written
# to a temporary name and renamed, so a retry overwrites and never appends.



@dataclass
class MapResult:
    """What a map task returns to the driver: no article rows, only where they were staged."""
    outcomes: pa.Table  # one row per file (for the manifest): small
    fragment: str | None  # Arrow IPC file of this chunk's article rows, one record batch per partition
    partitions: list[tuple[str, str | None, int, int]]  # (source, month, batch index, rows)
    edges: list[tuple] = ()  # ParsedChunk.edges: the texts of the edge paragraphs the outcomes list (`edge_hashes`)


def map_chunks(engine: Engine, job: Job, chunks: Iterable[tuple[int, list[WorkItem]]]) -> Iterator[MapResult]:
    """map_chunk over every chunk on `engine`; a file that kills its worker becomes a parse_error reject.

    A chunk whose worker died (signal, OOM killer) is run again one file per task, one task at a
    time, so a task that dies then is the file's own doing; that file is reported `parse_error` with
    how its worker ended (not retried until it changes), every other file as usual. The split
    tasks are map tasks like any other (own fragment names, safe to run twice).
    """
    task = partial(map_chunk, job)

    def split(numbered: tuple[int | str, list[WorkItem]], lost: WorkerLost, solo_runs: int = 0) -> Iterator[MapResult]:
        number, items = numbered
        if len(items) == 1 and (lost.alone or solo_runs >= 3):
            yield _lost_file(items[0], lost)
            return
        singles = [(f"{number:07d}-{index:04d}" if isinstance(number, int) else number, [item])
                   for index, item in enumerate(items)]
        yield from engine.map(task, singles, on_lost=partial(split, solo_runs=solo_runs + 1), in_flight=1)

    return engine.map(task, chunks, on_lost=split)


def _lost_file(item: WorkItem, lost: WorkerLost) -> MapResult:
    """The outcome of a file whose worker died while it alone was being parsed: its hash is unknown."""
    message = (f"its worker process died while parsing it ({lost.detail}); "
               "not retried until the file or the parser version changes")
    outcome = {"raw_path": item.raw_path, "size": item.size, "mtime_ns": item.mtime_ns,
               "status": FileStatus.REJECT.value, "reject_reason": RejectReason.PARSE_ERROR.value, "reject_message": message}
    return MapResult(to_table([outcome], OUTCOME_SCHEMA), None, [])


def map_chunk(job: Job, numbered: tuple[int | str, list[WorkItem]]) -> MapResult:
    """Read, hash and parse one chunk of files; stage its article rows grouped by partition.

    `number` names the chunk's fragment file: an int for a planned chunk, a string for one split
    off a chunk whose worker died.
    """
    number, items = numbered
    parsed = parse_chunk(job, items)
    outcomes = parsed.outcomes
    if parsed.articles.num_rows == 0:
        return MapResult(outcomes, None, [], parsed.edges)
    table = parsed.articles
    keys = [(source, month_of(date)) for source, date in zip(table.column("source").to_pylist(),
                                                             table.column("date").to_pylist())]
    order = sorted(range(len(keys)), key=lambda i: partition_order(keys[i]))
    grouped = table.take(pa.array(order, pa.int64())).drop_columns(["source"])
    name = f"{number:07d}" if isinstance(number, int) else number
    fragment = os.path.join(job.fragments_dir, f"{name}.arrow")
    _make_task_folder(job.fragments_dir)
    partitions = []
    temporary = f"{fragment}.{os.getpid()}.tmp"
    with pa.ipc.new_file(temporary, grouped.schema) as writer:
        start = 0
        for index in range(1, len(order) + 1):
            if index == len(order) or keys[order[index]] != keys[order[start]]:
                writer.write_batch(grouped.slice(start, index - start).combine_chunks().to_batches()[0])
                source, month = keys[order[start]]
                partitions.append((source, month, len(partitions), index - start))
                start = index
    os.replace(temporary, fragment)
    return MapResult(outcomes, fragment, partitions, parsed.edges)


def _make_task_folder(path: str) -> None:
    """Create a task's folder in the run's staging folder, which the driver made; never the run's folder
    itself: a task still running after its run failed and removed its staging must not bring it back."""
    try:
        os.mkdir(path)
    except FileExistsError:
        pass
