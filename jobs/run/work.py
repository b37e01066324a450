"""A chunk of raw files -> columnar results. The unit of work a worker runs.

Reads each file (the only I/O here), hashes it, parses it, and returns Arrow
tables: article rows, reject rows and one outcome row per file for the
manifest. A file whose hash matches what the manifest already holds is
reported `unchanged` and not parsed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
from dataclasses import dataclass

import pyarrow as pa

from jobs.parse import PARSER_VERSION
from jobs.errors import Rejected
from jobs.parse.frame import ARTICLE_BATCH_SCHEMA, REJECT_BATCH_SCHEMA, to_table
from jobs.parse.record import parse_article
from schemas.state import OUTCOME_SCHEMA, FileStatus



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


@dataclass
class ParsedChunk:
    articles: pa.Table
    rejects: pa.Table
    outcomes: pa.Table


def parse_chunk(job: Job, items: list[WorkItem]) -> ParsedChunk:
    articles, rejects, outcomes = [], [], []
    for item in items:
        outcome = {"raw_path": item.raw_path, "size": item.size, "mtime_ns": item.mtime_ns}
        try:
            try:
                data = _read(os.path.join(job.raw_dir, item.raw_path), item, job.max_bytes)
            except FileNotFoundError:
                if item.known_sha256 is not None:  # gone since listing: like any vanished file, keep its history
                    outcomes.append(outcome | {"status": FileStatus.UNCHANGED.value, "sha256": item.known_sha256})
                    continue
                raise Rejected("read_error", "FileNotFoundError: deleted between listing and reading") from None
            outcome["sha256"] = sha = hashlib.sha256(data).hexdigest()
            if sha == item.known_sha256:
                outcomes.append(outcome | {"status": FileStatus.UNCHANGED.value})
                continue
            record = parse_article(data, item.raw_path)
        except Rejected as rejected:
            if rejected.reason == "read_error" and rejected.message == item.known_read_error:
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
        record.update(ingested_at=job.started_at, parser_version=PARSER_VERSION, run_id=job.run_id)
        articles.append(record)
        outcomes.append(outcome | {"status": FileStatus.ARTICLE.value, "article_id": record["article_id"], "source": record["source"], "date": record["date"]})
    return ParsedChunk(
        to_table(articles, ARTICLE_BATCH_SCHEMA),
        to_table(rejects, REJECT_BATCH_SCHEMA),
        to_table(outcomes, OUTCOME_SCHEMA),
    )


def _read(path: str, item: WorkItem, max_bytes: int) -> bytes:
    if item.size < 0:
        raise Rejected("read_error", _describe_unstatable(path))
    if item.size > max_bytes:
        raise Rejected("too_large", f"{item.size} bytes > --max-bytes {max_bytes}")
    try:
        # O_NONBLOCK: opening a FIFO that nobody writes to must not hang the run; fstat then refuses it.
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            if not stat.S_ISREG(mode):
                raise Rejected("read_error", f"not a regular file ({_kind(mode)})")
            data = handle.read(item.size + 1)  # not max_bytes + 1: that allocates 8 MiB per file
            if len(data) > item.size:  # grew since it was listed
                data += handle.read(max_bytes + 1 - len(data))
    except FileNotFoundError:
        raise
    except OSError as error:
        raise Rejected("read_error", f"{type(error).__name__}: {error.strerror or error}") from None
    if len(data) > max_bytes:  # grew since it was listed
        raise Rejected("too_large", f"more than --max-bytes {max_bytes} bytes")
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
