"""`articles status` on a terminal: rich tables, so columns line up by display width (Chinese names included)."""

from __future__ import annotations

from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

WIDTH_OFF_TERMINAL = 200  # piped or captured: wide enough that rows never wrap


def render_status(info: dict[str, Any], stream: TextIO) -> None:
    console = Console(file=stream, width=None if stream.isatty() else WIDTH_OFF_TERMINAL, highlight=False,
                      soft_wrap=False)
    console.print(f"{info['articles']} articles from {info['sources']} sources, {info['first_date']} .. {info['last_date']}; "
                  f"{info['undated']} undated; {info['implausible_dates']} with an implausible date; {info['rejects']} rejects; {info['size_bytes'] / 1e6:.1f} MB on disk"
                  f" (table version {info['table_version']}: {info['data_files']} data files, {info['data_bytes'] / 1e6:.1f} MB;"
                  f" the rest is the log and files older versions name until vacuum)",
                  markup=False)
    console.print(f"feed health as of {info['as_of']}: {info['flags_raised']} flag(s) raised", markup=False)
    console.print(_feeds_table(info))
    for feed in info["feeds"]:
        for flag, reason in feed["reasons"].items():
            console.print(Text.assemble((f"{flag:<8}", "bold red"), f" {feed['source']}: {reason}"))
    if info["rejects_by_reason"]:
        rejects = Table(title="rejects by reason", title_justify="left", box=None)
        rejects.add_column("reason")
        rejects.add_column("files", justify="right")
        for row in info["rejects_by_reason"]:
            rejects.add_row(row["reason"], str(row["files"]))
        console.print(rejects)
    if info["implausible_dates_per_source"]:
        implausible = Table(title="implausible dates", title_justify="left", box=None)  # re-dated from body or path, else undated
        for name, justify in (("source", "left"), ("rows", "right"), ("undated", "right")):
            implausible.add_column(name, justify=justify)
        for row in info["implausible_dates_per_source"]:
            implausible.add_row(Text(row["source"]), str(row["rows"]), str(row["undated"]))
        console.print(implausible)
    console.print(_runs_table(info["last_runs"]))


def _feeds_table(info: dict[str, Any]) -> Table:
    first_dates = {row["source"]: row["first_date"] for row in info["rows_per_source"]}
    table = Table(title="feeds", title_justify="left", box=None, pad_edge=False)
    for name, justify in (("source", "left"), ("rows", "right"), ("first", "left"), ("last", "left"),
                          ("7d", "right"), ("30d", "right"), ("last 30 days", "left"), ("undated", "right"),
                          ("flags", "left")):
        table.add_column(name, justify=justify, no_wrap=True)
    for feed in info["feeds"]:
        flags = " ".join(feed["flags"])
        table.add_row(Text(feed["source"]), str(feed["rows"]), first_dates.get(feed["source"]) or "-",
                      feed["last_date"] or "-", str(feed["last_7_days"]), str(feed["last_30_days"]), feed["sparkline"],
                      str(feed["last_run"]["undated"] + feed["earlier_runs"]["undated"]),
                      Text(flags or "ok", style="bold red" if flags else "green"))
    return table


def _runs_table(runs: list[dict[str, Any]]) -> Table:
    table = Table(title="last runs", title_justify="left", box=None, pad_edge=False)
    for name in ("run_id", "command", "status", "exit", "parsed", "written", "rejects", "seconds"):
        table.add_column(name, no_wrap=True, justify="left" if name in ("run_id", "command", "status") else "right")
    for run in runs:
        table.add_row(run["run_id"], run["command"], run["status"], str(run["exit_code"]), str(run["files_parsed"]),
                      str(run["articles_written"]), str(run["rejects"]), f"{run['duration_s'] or 0:.2f}")
    return table
