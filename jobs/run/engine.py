"""Where parse work runs: in this process, or across worker processes.

The pipeline hands over chunks and gets ParsedChunks back in order; it does
not know how they were computed. A cluster engine can stand in here later.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import partial

from jobs.run.work import Job, ParsedChunk, WorkItem, parse_chunk


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def run_chunks(job: Job, chunks: Iterable[list[WorkItem]], workers: int) -> Iterator[ParsedChunk]:
    if workers <= 1:
        for chunk in chunks:
            yield parse_chunk(job, chunk)
        return
    # forkserver: children start clean (no inherited threads from Polars/Arrow pools).
    context = multiprocessing.get_context("forkserver")
    # Preload third-party modules only: preloading `jobs` would import it from the current directory,
    # which is not necessarily the installed code.
    context.set_forkserver_preload(["pyarrow", "selectolax.lexbor", "yaml", "frontmatter"])
    with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                             initializer=_exit_with_parent, initargs=(os.getpid(),)) as pool:
        # map() submits everything at once; bound what is in flight so memory stays flat.
        yield from _bounded_map(pool, partial(parse_chunk, job), chunks, in_flight=workers * 3)


def _exit_with_parent(parent_pid: int) -> None:
    """In a worker: exit when the main process is gone (SIGKILL, OOM), instead of lingering forever.

    Forkserver workers are not children of the main process, and a killed parent
    never closes their task queue, so nothing else would wake them.
    """
    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(parent_pid, 0)
            except (ProcessLookupError, PermissionError):  # gone, or its pid reused by another user
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _bounded_map(pool: ProcessPoolExecutor, function, items: Iterable, in_flight: int) -> Iterator:
    pending = []
    for item in items:
        pending.append(pool.submit(function, item))
        if len(pending) >= in_flight:
            yield pending.pop(0).result()
    for future in pending:
        yield future.result()
