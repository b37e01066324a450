"""Where tasks run: the engine is an object passed in on RunOptions.

The protocol is small: `map(function, items)` submits one task per item and
yields the results in submission order, with at most `in_flight` tasks
submitted and not yet collected (so memory stays flat however many items
there are). A task is a picklable top-level function and its argument; it
must be safe to run twice (an engine may retry it). Two engines ship:
in this process, and a pool of local worker processes.

A task whose worker process dies (killed by a signal, the OOM killer, an abort) does not stop the
map when the caller passes `on_lost(item, error)`: its results are yielded in that item's place
(any number of them). A local pool loses every task in flight with the worker (the pool breaks and
is restarted), so `error.alone` says whether the task was the only one in flight, which is what
lets a caller blame it.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from enum import Enum
from typing import Protocol, TypeVar

from jobs.errors import ArticleLakeError, UsageError
from jobs.run.limits import DEFAULT_WORKER_MEMORY, bound_worker

SETTLE_SECONDS = 120  # after a failure, how long the Dask engine waits for the tasks already in flight
CONNECT_SECONDS = 5  # how long to try reaching a Dask scheduler before saying it is not there

Item = TypeVar("Item")
Result = TypeVar("Result")
OnLost = Callable[[Item, "WorkerLost"], Iterable[Result]]


class WorkerLost(Exception):
    """The worker process running a task died (signal, OOM killer); `alone`: no other task was in flight."""

    def __init__(self, detail: str, alone: bool):
        super().__init__(detail)
        self.detail, self.alone = detail, alone


class Engine(Protocol):
    workers: int
    dashboard: str | None  # where to watch the tasks, when the engine has such a page

    def map(self, function: Callable[[Item], Result], items: Iterable[Item], on_lost: OnLost | None = None,
            in_flight: int | None = None) -> Iterator[Result]:
        """Run `function` on every item; results in the order of `items`, at most `in_flight` at once.

        A task whose worker died: `on_lost(item, WorkerLost)`'s results instead (without on_lost it raises).
        """
        ...

    def on_every_worker(self, function: Callable[..., Result], *args) -> list[Result]:
        """Run `function(*args)` once on every machine/process tasks may run on (start-up checks)."""
        ...

    def close(self) -> None:
        """Stop any workers (idempotent)."""
        ...


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def local_engine(workers: int, worker_memory: int | None = DEFAULT_WORKER_MEMORY) -> Engine:
    """The default engine for `--workers N`: this process for 1, a process pool otherwise."""
    return InProcessEngine() if workers <= 1 else ProcessPoolEngine(workers, worker_memory=worker_memory)


class EngineName(str, Enum):
    """`--engine`: a closed set, so a typo is refused by the option parser."""
    local = "local"  # a process pool on this machine
    dask = "dask"  # a Dask cluster (--scheduler, or a LocalCluster)


def engine_for(options) -> Engine:
    """The engine RunOptions ask for (`engine_name`, `scheduler`, `workers`, `worker_memory`)."""
    if options.engine_name == EngineName.dask:
        return DaskEngine(options.scheduler, options.workers)
    return local_engine(options.workers, options.worker_memory)


class InProcessEngine:
    """Runs every task in the calling process, one at a time (tests, debugging, one core)."""

    workers = 1
    dashboard = None

    def on_every_worker(self, function, *args):
        return [function(*args)]

    def map(self, function: Callable[[Item], Result], items: Iterable[Item], on_lost: OnLost | None = None,
            in_flight: int | None = None) -> Iterator[Result]:
        for item in items:  # a dead worker here is a dead driver: on_lost never applies
            yield function(item)

    def close(self) -> None:
        pass


class ProcessPoolEngine:
    """Tasks on `workers` local processes. The pool starts on first use and lives until close().

    Each worker's address space is capped at `worker_memory` bytes (None: no cap), and each dies
    with the driver (jobs/run/limits.py). A worker that dies breaks the whole pool (every task in
    flight fails with it): the pool is restarted and those tasks go to `on_lost`.
    """

    dashboard = None

    def __init__(self, workers: int, in_flight_per_worker: int = 3, worker_memory: int | None = DEFAULT_WORKER_MEMORY):
        self.workers = workers
        self.in_flight = workers * in_flight_per_worker
        self.worker_memory = worker_memory
        self._pool: ProcessPoolExecutor | None = None
        # Per pool, its tasks unfinished or lost with it: once it breaks, how many were in flight.
        self._lost: dict[ProcessPoolExecutor, set[Future]] = {}
        # Per broken pool, how its workers ended (read once the pool is joined).
        self._ended: dict[ProcessPoolExecutor, str | None] = {}

    def _start(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # forkserver: children start clean (no inherited threads from Polars/Arrow pools).
            context = multiprocessing.get_context("forkserver")
            # Preload third-party modules only: preloading `jobs` would import it from the current
            # directory, which is not necessarily the installed code.
            context.set_forkserver_preload(["pyarrow", "pyarrow.parquet", "polars", "selectolax.lexbor", "yaml",
                                            "frontmatter"])
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                             initializer=bound_worker, initargs=(self.worker_memory, os.getpid()))
        return self._pool

    def map(self, function: Callable[[Item], Result], items: Iterable[Item], on_lost: OnLost | None = None,
            in_flight: int | None = None) -> Iterator[Result]:
        limit = in_flight or self.in_flight
        pending: deque[tuple[Item, Future, ProcessPoolExecutor]] = deque()
        try:
            for item in items:
                pending.append(self._submit(function, item))
                if len(pending) >= limit:
                    yield from self._collect(pending.popleft(), on_lost)
            while pending:
                yield from self._collect(pending.popleft(), on_lost)
        finally:
            # A failed or abandoned map leaves nothing queued behind it, and nothing running: a task
            # still writing would put files back into a staging folder the failed run has removed.
            futures = [future for _, future, _ in pending]
            for future in futures:
                future.cancel()
            wait(futures)

    def _submit(self, function, item) -> tuple:
        pool = self._start()
        try:
            future = pool.submit(function, item)
        except BrokenProcessPool:  # broke since the last collect: this task never ran; a new pool runs it
            self._discard(pool)
            pool = self._start()
            future = pool.submit(function, item)
        lost = self._lost.setdefault(pool, set())
        lost.add(future)
        future.add_done_callback(lambda done: _lost_with_pool(done) or lost.discard(done))
        return item, future, pool

    def _collect(self, entry: tuple, on_lost: OnLost | None) -> Iterator:
        item, future, pool = entry
        try:
            result = future.result()
        except BrokenProcessPool as broken:
            self._discard(pool)
            detail = self._ended.get(pool)
            if on_lost is None:
                raise
            alone = len(self._lost.get(pool, ())) <= 1
            yield from on_lost(item, WorkerLost(detail or str(broken), alone))
            return
        yield result

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        """Forget a broken pool; the next submit starts a new one.

        Exit codes are read only after the pool is joined: polling a forkserver child while the pool's
        own thread joins it races on one pipe, and the loser reads "exit status 255".
        """
        if pool in self._ended:
            return
        processes = list((getattr(pool, "_processes", None) or {}).values())  # shutdown forgets them
        if self._pool is pool:
            self._pool = None
        pool.shutdown(wait=True, cancel_futures=True)
        self._ended[pool] = _exit_codes(processes)

    def on_every_worker(self, function, *args):
        return [function(*args)]  # same machine, same user, same filesystem as this process

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._lost.clear()
        self._ended.clear()


def _lost_with_pool(future: Future) -> bool:
    return not future.cancelled() and isinstance(future.exception(), BrokenProcessPool)


def _exit_codes(processes: list) -> str | None:
    """How a joined pool's workers ended (best effort: the executor keeps its processes privately);
    the pool itself stops the survivors with SIGTERM."""
    codes = [p.exitcode for p in processes if p.exitcode not in (None, 0, -15)]
    if not codes:
        return None
    names = []
    for code in codes:
        try:
            names.append(f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit status {code}")
        except ValueError:
            names.append(f"exit {code}")
    return "worker process " + ", ".join(names)


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

    def map(self, function: Callable[[Item], Result], items: Iterable[Item], on_lost: OnLost | None = None,
            in_flight: int | None = None) -> Iterator[Result]:
        from distributed import KilledWorker

        limit = in_flight or self.in_flight
        pending: deque = deque()
        try:
            for item in items:
                pending.append((item, self._client.submit(function, item, pure=False)))
                if len(pending) >= limit:
                    yield from self._collect(pending.popleft(), on_lost, KilledWorker)
            while pending:
                yield from self._collect(pending.popleft(), on_lost, KilledWorker)
        finally:
            if pending:
                # Dask cannot stop a task that has started: let the few in flight end (bounded by
                # in_flight) before the run cleans its staging folder, then drop what is left.
                deadline = time.monotonic() + SETTLE_SECONDS
                for _, future in pending:
                    try:
                        future.exception(timeout=max(0.1, deadline - time.monotonic()))  # waits; never raises it
                    except Exception:  # noqa: BLE001 - a timeout or a lost worker: cancelled below
                        pass
                for _, future in pending:
                    future.cancel()

    @staticmethod
    def _collect(entry, on_lost, killed_worker) -> Iterator:
        item, future = entry
        try:
            result = future.result()
        except killed_worker as killed:  # Dask already ran it again on other workers (allowed-failures)
            if on_lost is None:
                raise
            # Dask blames tasks one by one (a worker runs one task at a time here), so it is alone.
            yield from on_lost(item, WorkerLost(f"KilledWorker: {killed}"[:300], alone=True))
            return
        yield result

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
