"""Parsed rows grouped by partition, held within a memory budget. I/O (spill files).

Workers' batches arrive in file order, not partition order. Rows are grouped
per partition in memory; past the budget, every buffered group is written to
an Arrow IPC file under the run's staging folder and read back when its
partition is merged. Peak memory is the budget plus one partition.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

PartitionKey = tuple[str, dt.date]


class PartitionBuffer:
    def __init__(self, spill_dir: Path, budget_bytes: int):
        self.spill_dir = spill_dir
        self.budget_bytes = budget_bytes
        self.in_memory: dict[PartitionKey, list[pa.Table]] = defaultdict(list)
        self.spilled: dict[PartitionKey, list[Path]] = defaultdict(list)
        self.buffered_bytes = 0
        self._spills = 0

    def add(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        keys = list(zip(table.column("source").to_pylist(), table.column("date").to_pylist()))
        if len(set(keys)) == 1:
            self._keep(keys[0], table)
        else:
            groups: dict[PartitionKey, list[int]] = defaultdict(list)
            for index, key in enumerate(keys):
                groups[key].append(index)
            for key, indices in groups.items():
                self._keep(key, table.take(pa.array(indices, pa.int32())))
        if self.buffered_bytes > self.budget_bytes:
            self._spill()

    def _keep(self, key: PartitionKey, table: pa.Table) -> None:
        self.in_memory[key].append(table)
        self.buffered_bytes += table.nbytes

    def _spill(self) -> None:
        self.spill_dir.mkdir(parents=True, exist_ok=True)
        for key, tables in self.in_memory.items():
            self._spills += 1
            path = self.spill_dir / f"{self._spills}.arrow"
            with ipc.new_file(path, tables[0].schema) as writer:
                for table in tables:
                    writer.write_table(table)
            self.spilled[key].append(path)
        self.in_memory.clear()
        self.buffered_bytes = 0

    def keys(self) -> set[PartitionKey]:
        return set(self.in_memory) | set(self.spilled)

    def pop(self, key: PartitionKey) -> list[pa.Table]:
        tables = [ipc.open_file(path).read_all() for path in self.spilled.pop(key, [])]
        tables.extend(self.in_memory.pop(key, []))
        return tables


def filter_out_paths(table: pa.Table, raw_paths: set[str]) -> pa.Table:
    if not raw_paths or table.num_rows == 0:
        return table
    return table.filter(pc.invert(pc.is_in(table.column("raw_path"), value_set=pa.array(sorted(raw_paths), pa.string()))))
