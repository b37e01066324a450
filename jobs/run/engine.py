"""Where tasks run: the engine is an object passed in on RunOptions.

The protocol is small: `map(function, items)` submits one task per item and
yields the results in submission order, with at most `in_flight` tasks
submitted and not yet collected (so memory stays flat however many items
there are). A task is a picklable top-level function and its argument; it
must be safe to run twice (an engine may retry it). Two engines ship:
in this process, and a pool of local worker processes.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, wait
from enum import Enum
from typing import Protocol, TypeVar

from jobs.errors import ArticleLakeError, UsageError

SETTLE_SECONDS = 120  # after a failure, how long the Dask engine waits for the tasks already in flight
CONNECT_SECONDS = 5  # how long to try reaching a Dask scheduler before saying it is not there

Item = TypeVar("Item")
Result = TypeVar("Result")


class Engine(Protocol):
    workers: int
    dashboard: str | None  # where to watch the tasks, when the engine has such a page

    def map(self, function: Callable[[Item], Result], items: Iterable[Item]) -> Iterator[Result]:
        """Run `function` on every item; results in the order of `items`, bounded in flight."""
        ...

    def on_every_worker(self, function: Callable[..., Result], *args) -> list[Result]:
        """Run `function(*args)` once on every machine/process tasks may run on (start-up checks)."""
        ...

    def close(self) -> None:
        """Stop any workers (idempotent)."""
        ...


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def local_engine(workers: int) -> Engine:
    """The default engine for `--workers N`: this process for 1, a process pool otherwise."""
    return InProcessEngine() if workers <= 1 else ProcessPoolEngine(workers)


class EngineName(str, Enum):
    """`--engine`: a closed set, so a typo is refused by the option parser."""
    local = "local"  # a process pool on this machine
    dask = "dask"  # a Dask cluster (--scheduler, or a LocalCluster)


def engine_for(options) -> Engine:
    """The engine RunOptions ask for (`engine_name`, `scheduler`, `workers`)."""
    if options.engine_name == EngineName.dask:
        return DaskEngine(options.scheduler, options.workers)
    return local_engine(options.workers)


class InProcessEngine:
    """Runs every task in the calling process, one at a time (tests, debugging, one core)."""

    workers = 1
    dashboard = None

    def on_every_worker(self, function, *args):
        return [function(*args)]

    def map(self, function: Callable[[Item], Result], items: Iterable[Item]) -> Iterator[Result]:
        for item in items:
            yield function(item)

    def close(self) -> None:
        pass


class ProcessPoolEngine:
    """Tasks on `workers` local processes. The pool starts on first use and lives until close()."""

    dashboard = None

    def __init__(self, workers: int, in_flight_per_worker: int = 3):
        self.workers = workers
        self.in_flight = workers * in_flight_per_worker
        self._pool: ProcessPoolExecutor | None = None

    def _start(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # forkserver: children start clean (no inherited threads from Polars/Arrow pools).
            context = multiprocessing.get_context("forkserver")
            # Preload third-party modules only: preloading `jobs` would import it from the current
            # directory, which is not necessarily the installed code.
            context.set_forkserver_preload(["pyarrow", "pyarrow.parquet", "polars", "selectolax.lexbor", "yaml",
                                            "frontmatter"])
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                             initializer=_exit_with_parent, initargs=(os.getpid(),))
        return self._pool

    def map(self, function: Callable[[Item], Result], items: Iterable[Item]) -> Iterator[Result]:
        pool = self._start()
        pending: deque[Future] = deque()
        try:
            for item in items:
                pending.append(pool.submit(function, item))
                if len(pending) >= self.in_flight:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            # A failed or abandoned map leaves nothing queued behind it, and nothing running: a task
            # still writing would put files back into a staging folder the failed run has removed.
            for future in pending:
                future.cancel()
            wait(pending)

    def on_every_worker(self, function, *args):
        return [function(*args)]  # same machine, same user, same filesystem as this process

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


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


class DaskEngine:
    """Tasks on a Dask cluster: the one at `scheduler`, or a LocalCluster of `workers` processes.

    Dask schedules and retries: a task whose worker dies is run again elsewhere (its
    `allowed-failures`); a task that raises fails the map. Raw and out dirs must be on a
    filesystem every worker shares (checked at start by the pipeline).
    """

    def __init__(self, scheduler: str | None = None, workers: int = 2, in_flight_per_worker: int = 3):
        from distributed import Client, LocalCluster

        self._cluster = None
        if scheduler:
            try:
                self._client = Client(scheduler, set_as_default=False, timeout=CONNECT_SECONDS)
            except (OSError, TimeoutError, ValueError) as error:  # refused, unreachable, or not an address
                raise UsageError(f"no Dask scheduler answered at {scheduler} "
                                 f"({_first_line(error)}); start one (`dask scheduler`) or leave out --scheduler "
                                 "to run a LocalCluster") from None
        else:
            self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                         dashboard_address=":0", silence_logs=40)
            self._client = Client(self._cluster, set_as_default=False)
        try:
            self._client.wait_for_workers(1, timeout=60)
        except TimeoutError:
            self.close()
            raise ArticleLakeError(f"no Dask worker joined the scheduler {scheduler} within 60 s") from None
        self.workers = max(1, len(self._client.scheduler_info()["workers"]))
        self.in_flight = self.workers * in_flight_per_worker
        self.dashboard = self._client.dashboard_link

    def on_every_worker(self, function, *args):
        return list(self._client.run(function, *args).values())

    def map(self, function: Callable[[Item], Result], items: Iterable[Item]) -> Iterator[Result]:
        pending: deque = deque()
        try:
            for item in items:
                pending.append(self._client.submit(function, item, pure=False))
                if len(pending) >= self.in_flight:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            if pending:
                # Dask cannot stop a task that has started: let the few in flight end (bounded by
                # in_flight) before the run cleans its staging folder, then drop what is left.
                deadline = time.monotonic() + SETTLE_SECONDS
                for future in pending:
                    try:
                        future.exception(timeout=max(0.1, deadline - time.monotonic()))  # waits; never raises it
                    except Exception:  # noqa: BLE001 - a timeout or a lost worker: cancelled below
                        pass
                for future in pending:
                    future.cancel()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
