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
        if name == "parsed" and data["done"] != data["total"] and data["done"] % 5000:
            return  # progress is sampled, not every chunk
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
        if name == "planned" and data.get("to_parse"):
            self.progress.start()
            self.task = self.progress.add_task("parsing", total=data["to_parse"])
        elif name == "parsed" and self.task is not None:
            self.progress.update(self.task, completed=data["done"])
        elif name == "run_finished":
            self.progress.stop()


def choose_sink(log_json: bool):
    if log_json:
        return JsonLogSink()
    if sys.stderr.isatty():
        return ProgressSink()
    return None
