"""Parsed rows grouped by partition, held within a memory budget. I/O (spill files).

Workers' batches arrive in file order, not partition order. They are kept as
they come (whole chunks: no per-row tables, whose overhead would dwarf the
data); past the budget they are concatenated, sorted by partition and written
as one Arrow IPC file with one record batch per partition. When partitions
are merged, each one's batches are read back from every spill file plus the
sorted in-memory remainder. Peak memory is about twice the budget plus one
partition, whatever the number of files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

PartitionKey = tuple[str, dt.date]


class PartitionBuffer:
    def __init__(self, spill_dir: Path, budget_bytes: int):
        self.spill_dir = spill_dir
        self.budget_bytes = budget_bytes
        self.pending: list[pa.Table] = []
        self.pending_bytes = 0
        self.spills: list[tuple[ipc.RecordBatchFileReader, dict[PartitionKey, list[int]]]] = []
        self.sealed: tuple[pa.Table, dict[PartitionKey, tuple[int, int]]] | None = None

    def add(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self.pending.append(table)
        self.pending_bytes += table.nbytes
        if self.pending_bytes > self.budget_bytes:
            self._spill()

    def _sorted_pending(self) -> tuple[pa.Table, dict[PartitionKey, tuple[int, int]]]:
        table = pa.concat_tables(self.pending).sort_by([("source", "ascending"), ("date", "ascending")])
        self.pending, self.pending_bytes = [], 0
        return table, _runs(table)

    def _spill(self) -> None:
        table, runs = self._sorted_pending()
        self.spill_dir.mkdir(parents=True, exist_ok=True)
        path = self.spill_dir / f"{len(self.spills)}.arrow"
        batches: dict[PartitionKey, list[int]] = {}
        count = 0
        with ipc.new_file(path, table.schema) as writer:
            for key, (offset, length) in runs.items():
                for batch in table.slice(offset, length).to_batches():
                    writer.write_batch(batch)
                    batches.setdefault(key, []).append(count)
                    count += 1
        self.spills.append((ipc.open_file(pa.OSFile(str(path))), batches))

    def _seal(self) -> tuple[pa.Table, dict[PartitionKey, tuple[int, int]]]:
        if self.sealed is None:
            self.sealed = self._sorted_pending() if self.pending else (None, {})  # type: ignore[assignment]
        return self.sealed  # type: ignore[return-value]

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
        table, runs = self._seal()
        if key in runs:
            offset, length = runs.pop(key)
            tables.append(table.slice(offset, length))
        return tables


def _runs(table: pa.Table) -> dict[PartitionKey, tuple[int, int]]:
    """(offset, length) of each partition's rows in a table sorted by source and date."""
    runs: dict[PartitionKey, tuple[int, int]] = {}
    start = 0
    keys = list(zip(table.column("source").to_pylist(), table.column("date").to_pylist()))
    for index in range(1, len(keys) + 1):
        if index == len(keys) or keys[index] != keys[start]:
            runs[keys[start]] = (start, index - start)
            start = index
    return runs


def filter_out_paths(table: pa.Table, raw_paths: set[str]) -> pa.Table:
    if not raw_paths or table.num_rows == 0:
        return table
    return table.filter(pc.invert(pc.is_in(table.column("raw_path"), value_set=pa.array(sorted(raw_paths), pa.string()))))
