"""The reduce phase, driver side: which partitions the run touches, one reduce task per group of them
(each writes its partitions' new data files into the table), their results gathered for the commit."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

from jobs.lake.manifest import State
from jobs.lake.paths import PartitionKey, partition_order
from jobs.run.engine import Engine
from jobs.run.options import EventSink, RunOptions, RunReport
from jobs.run.work import PartitionResult, PartitionTask, ReduceJob, reduce_group


def reduce_partitions(options: RunOptions, state: State, engine: Engine, report: RunReport,
                      current: dict[PartitionKey, list[str]], rebuild: dict[PartitionKey, set[str]],
                      emit: EventSink, warn) -> list[PartitionResult]:
    """Run the reduce tasks over every touched partition; the results of those that changed."""
    run_id = report.run_id
    departures: dict[PartitionKey, list[str]] = {}
    for source, month, raw_path in state.departures(run_id):
        departures.setdefault((source, month), []).append(raw_path)
    touched = set(state.fragment_partitions(run_id)) | departures.keys() | rebuild.keys()
    keys = sorted(touched, key=partition_order)
    emit("merging", {"partitions": len(keys)})

    def tasks() -> Iterator[tuple[int, list[PartitionTask]]]:
        for number, start in enumerate(range(0, len(keys), options.group_partitions)):
            group = []
            for source, month in keys[start:start + options.group_partitions]:
                fragments = state.fragments_of(run_id, source, month)
                keep = rebuild.get((source, month))
                group.append(PartitionTask(source, month, tuple((f, tuple(b)) for f, b in fragments),
                                           tuple(sorted(departures.get((source, month), ()))),
                                           tuple(sorted(keep)) if keep is not None else None,
                                           tuple(current.get((source, month), ()))))
            yield number, group

    job = ReduceJob(str(Path(options.out_dir).resolve()), run_id)
    changed: list[PartitionResult] = []
    done = 0
    for results in engine.map(partial(reduce_group, job), tasks()):
        for result in results:
            if result.lost_paths:  # rows only an unreadable data file held
                state.add_forgotten(run_id, result.lost_paths)
                warn(result.warning)
            report.duplicates += result.duplicates
            report.articles_written += result.new_rows - result.duplicates
            if result.changed:
                report.partitions_written += 1
                changed.append(result)
                emit("partition_written", {"source": result.source, "month": result.month, "rows": result.rows})
        done += len(results)
        emit("merged", {"done": done, "total": len(keys)})
    return changed
