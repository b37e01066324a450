"""Run events -> what the operator sees: a progress bar on a terminal, JSON lines for machines."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
from collections.abc import Callable
from typing import Any, TextIO

# Crash tests only: `<event>[:<n>]` SIGKILLs the run right after its n-th (default first) `<event>` is
# emitted: a real kill at an exact step of the commit protocol, which watching the log from outside cannot time.
KILL_AT_VARIABLE = "ARTICLE_LAKE_KILL_AT"
_COMMIT_STEPS = ("table_committed", "rejects_written", "committed")  # in the order jobs/run/commit.py emits them


class JsonLogSink:
    """One JSON object per event, on one line (for log shippers and cron mail)."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stderr

    def __call__(self, name: str, data: dict[str, Any]) -> None:
        if name in ("parsed", "merged") and data["done"] != data["total"] and data["done"] % 5000 > 199:
            return  # progress is sampled, not every task
        line = {"ts": dt.datetime.now(dt.timezone.utc).isoformat(), "event": name, **data}
        self.stream.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
        self.stream.flush()


class ProgressSink:
    """A rich progress bar while parsing; nothing when stderr is not a terminal."""

    def __init__(self):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
        # On stderr: stdout carries the one-line summary, for scripts.
        self.progress = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                                 TimeRemainingColumn(), transient=True, console=Console(stderr=True))
        self.task = None

    def __call__(self, name: str, data: dict[str, Any]) -> None:
        """One bar per phase: parsing (files), merging and writing (partitions), committing (the Delta commit,
        the rejects file, the manifest: three steps)."""
        if name == "engine_started" and data.get("dashboard"):
            self.progress.console.print(f"dask dashboard: {data['dashboard']}")
        elif name == "planned" and data.get("to_parse"):
            self._phase("parsing", data["to_parse"])
        elif name == "parsed" and self.task is not None:
            self.progress.update(self.task, completed=data["done"])
        elif name == "merging":
            self._phase("merging and writing", data["partitions"])
        elif name == "merged" and self.task is not None:
            self.progress.update(self.task, completed=data["done"])
        elif name == "committing":
            self._phase("committing", len(_COMMIT_STEPS))
        elif name in _COMMIT_STEPS and self.phase == "committing":
            self.progress.update(self.task, completed=_COMMIT_STEPS.index(name) + 1)
        elif name == "run_finished":
            self.progress.stop()

    phase = None

    def _phase(self, description: str, total: int) -> None:
        if self.task is None:
            self.progress.start()
        else:
            self.progress.update(self.task, completed=self.progress.tasks[-1].total)
        self.phase = description
        self.task = self.progress.add_task(description, total=total)


def choose_sink(log_json: bool):
    if log_json:
        return JsonLogSink()
    if sys.stderr.isatty():
        return ProgressSink()
    return _dashboard_only


def _dashboard_only(name: str, data: dict[str, Any]) -> None:
    """Without a terminal or --log-json, only say where the Dask dashboard is."""
    if name == "engine_started" and data.get("dashboard"):
        print(f"dask dashboard: {data['dashboard']}", file=sys.stderr, flush=True)


def with_kill_point(emit: Callable[[str, dict[str, Any]], None]) -> Callable[[str, dict[str, Any]], None]:
    """`emit`, unless ARTICLE_LAKE_KILL_AT names an event: then `emit` followed, at that event, by SIGKILL."""
    spec = os.environ.get(KILL_AT_VARIABLE)
    if not spec:
        return emit
    name, _, nth = spec.partition(":")
    seen = 0

    def emit_then_kill(event: str, data: dict[str, Any]) -> None:
        nonlocal seen
        emit(event, data)
        if event == name:
            seen += 1
            if seen == int(nth or 1):
                os.kill(os.getpid(), signal.SIGKILL)

    return emit_then_kill
