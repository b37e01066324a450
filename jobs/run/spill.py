"""Parsed rows grouped by partition, held within a memory budget. I/O (spill files).

Workers' batches arrive in file order, not partition order. They are kept as
they come (whole chunks: no per-row tables, whose overhead would dwarf the
data); past the budget they are grouped by partition (sort indices, not a
sorted copy) and written as one Arrow IPC file with one record batch per
partition. When partitions are merged, each one's batches are read back from
every spill file plus the in-memory remainder. Peak memory is about twice the
budget (while a spill is grouped) plus one partition, whatever the number of files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

PartitionKey = tuple[str, dt.date | None]  # date None: the undated partition


class PartitionBuffer:
    def __init__(self, spill_dir: Path, budget_bytes: int):
        self.spill_dir = spill_dir
        self.budget_bytes = budget_bytes
        self.pending: list[pa.Table] = []
        self.pending_bytes = 0
        self.spills: list[tuple[ipc.RecordBatchFileReader, dict[PartitionKey, list[int]]]] = []
        self.sealed: tuple[pa.Table | None, dict[PartitionKey, pa.Array]] | None = None

    def add(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self.pending.append(table)
        self.pending_bytes += table.nbytes
        if self.pending_bytes > self.budget_bytes:
            self._spill()

    def _grouped_pending(self) -> tuple[pa.Table, dict[PartitionKey, pa.Array]]:
        """The pending rows and, per partition, the indices of its rows (no copy of the rows)."""
        # One contiguous copy (take() on a many-chunk table would re-concatenate on every call).
        table = pa.concat_tables(self.pending).combine_chunks()
        self.pending, self.pending_bytes = [], 0
        order = pc.sort_indices(table, sort_keys=[("source", "ascending"), ("date", "ascending")])
        keys = list(zip(table.column("source").take(order).to_pylist(), table.column("date").take(order).to_pylist()))
        groups: dict[PartitionKey, pa.Array] = {}
        start = 0
        for index in range(1, len(keys) + 1):
            if index == len(keys) or keys[index] != keys[start]:
                groups[keys[start]] = order.slice(start, index - start)
                start = index
        return table, groups

    def _spill(self) -> None:
        table, groups = self._grouped_pending()
        self.spill_dir.mkdir(parents=True, exist_ok=True)
        path = self.spill_dir / f"{len(self.spills)}.arrow"
        batches: dict[PartitionKey, list[int]] = {}
        count = 0
        with ipc.new_file(path, table.schema) as writer:
            for key, indices in groups.items():  # one partition's copy at a time
                for batch in table.take(indices).to_batches():
                    writer.write_batch(batch)
                    batches.setdefault(key, []).append(count)
                    count += 1
        self.spills.append((ipc.open_file(pa.OSFile(str(path))), batches))

    def _seal(self) -> tuple[pa.Table | None, dict[PartitionKey, pa.Array]]:
        if self.sealed is None:
            self.sealed = self._grouped_pending() if self.pending else (None, {})
        return self.sealed

    def keys(self) -> set[PartitionKey]:
        keys = set(self._seal()[1])
        for _, batches in self.spills:
            keys.update(batches)
        return keys

    def pop(self, key: PartitionKey) -> list[pa.Table]:
        """Every buffered row of one partition (read back from spill files as needed)."""
        tables = []
        for reader, batches in self.spills:
            indices = batches.pop(key, [])
            if indices:
                tables.append(pa.Table.from_batches([reader.get_batch(i) for i in indices]))
        table, groups = self._seal()
        if key in groups:
            tables.append(table.take(groups.pop(key)))
        return tables


def filter_out_paths(table: pa.Table, raw_paths: set[str]) -> pa.Table:
    if not raw_paths or table.num_rows == 0:
        return table
    return table.filter(pc.invert(pc.is_in(table.column("raw_path"), value_set=pa.array(sorted(raw_paths), pa.string()))))
