"""The manifest commit moves one run's outcomes and leaves another run's in flight untouched (it empties the
in-flight tables wholesale only when they hold nothing else)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa

from jobs.lake.manifest import State
from schemas.state import OUTCOME_SCHEMA, FileStatus


def _outcomes(paths: list[str]) -> pa.Table:
    count = len(paths)
    columns = {
        "raw_path": paths, "size": [10] * count, "mtime_ns": [1] * count, "sha256": ["0" * 64] * count,
        "status": [FileStatus.ARTICLE.value] * count, "article_id": [f"id-{p}" for p in paths],
        "source": ["feed"] * count, "date": [dt.date(2024, 1, 2)] * count, "reject_reason": [None] * count,
        "reject_message": [None] * count, "edge_hashes": [""] * count,
    }
    return pa.Table.from_pydict({name: columns[name] for name in OUTCOME_SCHEMA.names}, schema=OUTCOME_SCHEMA)


def _in_flight(state: State) -> dict[str, list[str]]:
    return {table: [row[0] for row in state.db.execute(f"SELECT DISTINCT run_id FROM {table} ORDER BY 1")]
            for table in ("pending", "fragments", "pending_edge_texts")}


def test_a_commit_leaves_another_runs_outcomes_in_flight(tmp_path: Path):
    state = State(tmp_path / "out")
    try:
        for run_id, paths in (("run-a", ["a/1.md", "a/2.md"]), ("run-b", ["b/1.md"]), ("run-c", ["c/1.md"])):
            state.add_pending(run_id, _outcomes(paths), [("feed", "2024-01", f"{run_id}.arrow", 0, len(paths))],
                              [("feed", f"{run_id}-hash", f"{run_id}-key", f"{run_id} text")])
        state.commit_pending("run-b", "7", dt.datetime.now(dt.timezone.utc))
        # run-b sorts between the others: neither the rows before it nor those after it may go
        assert _in_flight(state) == {table: ["run-a", "run-c"] for table in ("pending", "fragments", "pending_edge_texts")}
        assert [row[0] for row in state.db.execute("SELECT raw_path FROM files")] == ["b/1.md"]
        state.commit_pending("run-a", "7", dt.datetime.now(dt.timezone.utc))
        state.commit_pending("run-c", "7", dt.datetime.now(dt.timezone.utc))
        assert _in_flight(state) == {table: [] for table in ("pending", "fragments", "pending_edge_texts")}
        assert sorted(row[0] for row in state.db.execute("SELECT raw_path FROM files")) == ["a/1.md", "a/2.md", "b/1.md", "c/1.md"]
    finally:
        state.close()
