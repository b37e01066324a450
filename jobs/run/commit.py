"""The commit, the driver alone: the run's Delta transaction, then the rejects file, then the manifest.

  (1) one Delta transaction with every data file the reduce tasks added and every file they replace,
      carrying the run id (an application transaction `article-lake/<run_id>`) and what the run was;
  (2) the rejects file, rebuilt from the manifest and the run's outcomes, replaced whole;
  (3) one manifest transaction moves the run's `pending` outcomes into `files`;
  (4) the views' file list for the new version.
Events mark each step (`committing` before (1), `table_committed` after it, `rejects_written` after (2),
`committed` after (3)); the crash tests kill the run at each (jobs/run/events.py, ARTICLE_LAKE_KILL_AT).
Readers of the table see the run all at once at (1). A kill before (1) changed nothing a reader of the
table sees (the data files already written are named by no version); a kill between (1) and (3) leaves
the outcomes pending, and the next run rolls them forward because the log holds the commit
(jobs/run/recover.py). No rename, no sync of our own: the data files are fsynced by the tasks that
wrote them, and delta-rs makes the log entry atomic.
"""

from __future__ import annotations

import datetime as dt

from jobs.lake.manifest import State
from jobs.lake.store import Store, write_file_list
from jobs.lake.table import ArticlesTable
from jobs.parse import PARSER_VERSION
from jobs.run.options import EventSink, RunReport
from jobs.run.reduce import PartitionResult
from jobs.run.templates import threshold


def commit_run(table: ArticlesTable, state: State, store: Store, report: RunReport, started: dt.datetime,
               changed: list[PartitionResult], emit: EventSink, relearn_all: bool = False) -> None:
    run_id = report.run_id
    adds = [result.added for result in changed if result.added is not None]
    removes = [path for result in changed for path in result.removed]
    version = None
    emit("committing", {"files_added": len(adds), "files_removed": len(removes)})
    if adds or removes:
        version = table.commit(adds, removes, run_id, commit_metadata(report, started))
        emit("table_committed", {"version": version, "files_added": len(adds), "files_removed": len(removes)})
    written = store.replace_rejects(state.rejects_after(run_id, started))
    emit("rejects_written", {"replaced": written})
    files = state.commit_pending(run_id, PARSER_VERSION, started, threshold, every_source=relearn_all)
    store.replace_templates(state.templates_table())
    emit("committed", {"files": files, "version": version})
    if version is not None:
        write_file_list(table.layout, version, table.live_files())


def commit_metadata(report: RunReport, started: dt.datetime) -> dict:
    """What the Delta commit says of the run (`articles history`; recovery reads parser_version and started_at)."""
    return {"command": report.command, "parser_version": PARSER_VERSION, "started_at": started.isoformat(),
            "articles_written": report.articles_written, "files_parsed": report.files_parsed,
            "rejects": report.rejects}
