"""Bounds on a worker process: its memory, its time per file, and its life (never longer than its driver's).

A file that needs more memory than the worker may take fails its parse with MemoryError (or the
parser's own allocation error) and becomes a `parse_error` reject; a parse that outlasts the time
limit becomes `too_complex`. The time limit is a SIGALRM timer: it interrupts Python code, not a C
call in progress (lexbor's slow inputs are refused before parsing by jobs/parse/screen.py; the timer
is the backstop), and it works only in a process's main thread (pool workers and `--workers 1`;
Dask runs tasks in threads, where the screen and Dask's own memory limit remain).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import resource
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

DEFAULT_WORKER_MEMORY = 4 * 2**30  # address space per worker process, bytes (an idle one maps ~0.6 GiB)
DEFAULT_FILE_SECONDS = 60.0  # per file; a normal file takes milliseconds, a screened hostile one < 0.1 s

_PR_SET_PDEATHSIG = 1
_M_ARENA_MAX = -8


class FileTimeLimit(BaseException):
    """A file's parse outlasted its time limit. A BaseException: no `except Exception` in a parser swallows it."""


def bound_worker(memory_bytes: int | None, driver_pid: int) -> None:
    """In a new worker process: cap its address space and make it die with its driver."""
    if memory_bytes:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        soft = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        _few_malloc_arenas()
    _die_with_parent()
    _exit_with_driver(driver_pid)


def _few_malloc_arenas() -> None:
    """glibc reserves 64 MiB of address space per malloc arena, up to 8 per core: on a many-core
    machine the threads of Arrow and Polars could spend the limit on reservations alone."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_ARENA_MAX, 2)
    except (OSError, AttributeError):  # not glibc
        pass


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when the process that started it (the forkserver) dies."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the watch below still ends it
        pass


def _exit_with_driver(driver_pid: int) -> None:
    """Exit when the driver is gone, even if the forkserver between us lingers.

    Forkserver workers are not children of the driver, and a killed driver never closes their task
    queue, so nothing else would wake them. A driver that is dead but not yet reaped (a zombie)
    still answers kill(pid, 0): its /proc state says it is dead.
    """
    def watch() -> None:
        while True:
            time.sleep(0.5)
            if not _alive(driver_pid):
                os._exit(1)

    threading.Thread(target=watch, name="driver-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):  # gone, or its pid reused by another user
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc: kill(pid, 0) is all we know
    return state not in (b"Z", b"X")


@contextmanager
def file_time_limits(seconds: float) -> Iterator[Callable[[], AbstractContextManager[None]]]:
    """For a run of files: `with file_time_limits(s) as limit:` then `with limit():` around each file's
    parse raises FileTimeLimit in it once `seconds` have passed (main thread only; else no limit).

    The SIGALRM handler is installed once for the run and restored after it; per file only the timer is
    armed (installing the handler per file cost ~40 µs, 4 % of a parse).
    """
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield nullcontext
        return
    armed = False
    message = f"parse took longer than {seconds:g} s"

    def expire(signum, frame):
        if armed:  # not once the block is left: the signal may arrive just after
            raise FileTimeLimit(message)

    @contextmanager
    def limit() -> Iterator[None]:
        nonlocal armed
        armed = True
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)

    previous = signal.signal(signal.SIGALRM, expire)
    try:
        yield limit
    finally:
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """One block under a time limit: file_time_limits for a single use."""
    with file_time_limits(seconds) as limit, limit():
        yield
