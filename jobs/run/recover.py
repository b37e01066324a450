"""Recovery, beside the commit: make the manifest agree with the table's log before a run plans anything.

A run killed before its manifest commit left its outcomes in `pending`. If its Delta commit is in the
log, readers already see it: the outcomes are rolled forward into `files`, as its own commit would have
done. If it is not, nothing of it is visible: its outcomes are dropped (its files are parsed again, as
they are now, whatever happened to them since) and the data files it wrote, which no version names,
are deleted. The rejects file and the views' file list are then rewritten from what is committed.
"""

from __future__ import annotations

import datetime as dt

from jobs.lake.manifest import State
from jobs.lake.paths import run_of_data_file
from jobs.lake.store import Store, file_list_version, write_file_list
from jobs.lake.table import ArticlesTable, untracked_files
from jobs.parse import PARSER_VERSION
from jobs.run.options import EventSink
from jobs.run.templates import threshold


def recover(table: ArticlesTable, state: State, store: Store, emit: EventSink) -> list[str]:
    """Roll forward or drop every run left in flight; the run ids dropped."""
    in_flight = state.runs_in_flight()
    dropped = []
    for run_id in in_flight:
        if table.committed(run_id):
            metadata = _commit_metadata(table, run_id)
            state.commit_pending(run_id, metadata.get("parser_version", PARSER_VERSION),
                                 dt.datetime.fromisoformat(metadata["started_at"]) if "started_at" in metadata
                                 else dt.datetime.now(dt.timezone.utc), threshold)
            emit("recovered", {"run_id": run_id, "action": "rolled_forward"})
        else:
            state.drop_run(run_id)
            removed = remove_files_of_runs(table, {run_id})
            dropped.append(run_id)
            emit("recovered", {"run_id": run_id, "action": "dropped", "files_removed": removed})
    if in_flight:
        store.replace_rejects(state.rejects_table())
        store.replace_templates(state.templates_table())
    if table.exists() and file_list_version(table.layout) != table.version():
        write_file_list(table.layout, table.version(), table.live_files())
    return dropped


def remove_files_of_runs(table: ArticlesTable, run_ids: set[str]) -> int:
    """Delete the data files these runs wrote that no commit names (their commit never happened)."""
    mine = [r for r in untracked_files(table.layout) if run_of_data_file(r.rsplit("/", 1)[-1]) in run_ids]
    for relative in mine:
        table.layout.data_file(relative).unlink(missing_ok=True)
    return len(mine)


def _commit_metadata(table: ArticlesTable, run_id: str) -> dict:
    for entry in table.history(50):
        if entry.get("run_id") == run_id:
            return entry
    return {}
