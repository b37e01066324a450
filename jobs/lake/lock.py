"""One run at a time per output folder: an flock on OUT/_state/lock. I/O.

The kernel drops an flock when its holder dies, so a lock left by a killed
run is never stale: the next run simply gets it. The file also names the
holder (pid, start time) for the refusal message.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import time
from pathlib import Path

from jobs.errors import OutputLocked
from jobs.lake.paths import lock_file


class OutputLock:
    def __init__(self, out_dir: str | Path, wait_seconds: float = 0.0):
        self.path = lock_file(out_dir)
        self.wait_seconds = wait_seconds
        self.handle = None

    def __enter__(self) -> "OutputLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = self._holder()
                    handle.close()
                    raise OutputLocked(f"output folder {self.path.parent.parent} is locked by {holder}") from None
                time.sleep(0.1)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "started_at": dt.datetime.now(dt.timezone.utc).isoformat()}))
        handle.flush()
        self.handle = handle
        return self

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
