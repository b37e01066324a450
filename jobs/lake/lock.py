"""One run at a time per output folder, and staging folders that only their own run removes. I/O.

The lock is an flock on the output folder itself (an O_DIRECTORY descriptor), so deleting any file
under it, `_state/lock` included, lets no second run in. `_state/lock` is also flocked (older
versions locked only that file) and names the holder (pid, start time) for the refusal message.
The kernel drops an flock when its holder dies, so a lock left by a killed run is never stale: the
next run simply gets it. Where a folder cannot be flocked (NFS emulates flock with POSIX locks,
which need a writable descriptor), the file lock alone is used.

Each run also flocks its own `_staging/<run_id>/` folder while it lives: cleaning up removes only
staging folders that no live run holds, so a run never deletes another running run's files.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import os
import shutil
import time
from pathlib import Path

from jobs.errors import OutputLocked
from jobs.lake.paths import lock_file


class OutputLock:
    """The run's exclusive lock; `shared=True` for readers that must not see a run half-way (a dry-run
    `reprocess`): excluded by a run, not by each other, and writing nothing."""

    def __init__(self, out_dir: str | Path, wait_seconds: float = 0.0, shared: bool = False):
        self.out = Path(out_dir)
        self.path = lock_file(out_dir)
        self.wait_seconds = wait_seconds
        self.shared = shared
        self.handle = None
        self.folder_fd: int | None = None

    def __enter__(self) -> "OutputLock":
        if self.shared:
            if not self.out.is_dir():
                return self  # no dataset, so no run in it
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.wait_seconds
        while True:
            held = self._try_acquire()
            if held:
                break
            if time.monotonic() >= deadline:
                raise OutputLocked(f"output folder {self.out} is locked by {self._holder()}")
            time.sleep(0.1)
        if self.shared:
            return self
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(json.dumps({"pid": os.getpid(), "started_at": dt.datetime.now(dt.timezone.utc).isoformat()}))
        self.handle.flush()
        return self

    def _try_acquire(self) -> bool:
        """Both locks, or neither: the folder first (it survives any deletion), then the file."""
        mode = fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX
        folder_fd = _lock_folder(self.out, mode)
        if folder_fd == -1:
            return False
        try:
            handle = open(self.path, "r" if self.shared else "a+")
        except FileNotFoundError:
            if not self.shared:
                _close(folder_fd)
                raise
            self.folder_fd = folder_fd  # no run ever took the file lock here: the folder's is enough
            return True
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            _close(folder_fd)
            return False
        self.handle, self.folder_fd = handle, folder_fd
        return True

    def _holder(self) -> str:
        # The holder writes its pid just after taking the lock: a refusal in that instant reads an
        # empty file, so look again briefly rather than report "pid None".
        for _ in range(20):
            try:
                info = json.loads(self.path.read_text() or "{}")
            except (OSError, ValueError):
                info = {}
            if info.get("pid"):
                return f"pid {info['pid']} (started {info.get('started_at')})"
            time.sleep(0.05)
        return "another run"

    def __exit__(self, *exc_info) -> None:
        if self.handle is not None:
            self.handle.close()  # closing releases the flock
            self.handle = None
        _close(self.folder_fd)
        self.folder_fd = None


def _lock_folder(folder: Path, mode: int = fcntl.LOCK_EX) -> int | None:
    """A descriptor holding an flock on `folder`; -1 when another process holds it; None when the
    file system cannot flock a folder (then the file lock alone decides)."""
    while True:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return -1
        except OSError as error:
            os.close(fd)
            if error.errno in (errno.EBADF, errno.ENOLCK, errno.EINVAL, errno.EOPNOTSUPP):
                return None
            raise
        # Locked an inode: make sure it is still the folder at that path (not one renamed away meanwhile).
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(folder))
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


def _close(fd: int | None) -> None:
    if fd is not None and fd >= 0:
        os.close(fd)


class StagingFolder:
    """`_staging/<run_id>/`, created and flocked for as long as its run lives."""

    def __init__(self, path: Path):
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.fd: int | None = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EBADF, errno.ENOLCK, errno.EINVAL, errno.EOPNOTSUPP):
                raise  # (where folders cannot be flocked, the output lock alone protects it)

    def release(self) -> None:
        """Give up the folder and remove it."""
        _close(self.fd)
        self.fd = None
        shutil.rmtree(self.path, ignore_errors=True)


def remove_abandoned_staging(root: Path) -> list[str]:
    """Remove every staging folder under `root` that no live run holds; the root too once empty.

    Returns the names removed. A folder whose flock cannot be taken belongs to a running run: kept.
    """
    removed = []
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return removed
    for entry in entries:
        if entry.is_dir(follow_symlinks=False) and _unheld(entry.path):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.name)
        elif not entry.is_dir(follow_symlinks=False):
            _unlink_quietly(entry.path)  # a stray file: no run owns files directly under the root
            removed.append(entry.name)
    try:
        root.rmdir()
    except OSError:
        pass  # not empty: a live run's folder
    return removed


def _unheld(folder: str) -> bool:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    except OSError:
        return True  # cannot tell here: the output lock is what keeps runs apart
    finally:
        os.close(fd)  # releases the probe's lock at once


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
