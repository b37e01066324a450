"""Run events -> what the operator sees: a progress bar on a terminal, JSON lines for machines."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any, TextIO


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
        """One bar per phase: parsing (files), merging and writing (partitions), committing (swaps)."""
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
        elif name == "partitions_swapped":
            if self.phase != "committing":
                self._phase("committing", data["total"])
            self.progress.update(self.task, completed=data["done"])
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
