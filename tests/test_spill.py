"""The partition buffer gives every row back exactly once, in its partition, across spills."""

from __future__ import annotations

import datetime as dt
import random

import pyarrow as pa

from jobs.run.spill import PartitionBuffer


def test_rows_come_back_once_grouped_by_partition_even_when_spilled(tmp_path):
    rng = random.Random(1)
    buffer = PartitionBuffer(tmp_path, budget_bytes=2_000)  # tiny: forces many spill files
    sent = {}
    for chunk in range(30):
        sources = [rng.choice(["新浪财经", "IT 之家", "a/b"]) for _ in range(50)]
        dates = [dt.date(2022, 1, rng.randint(1, 5)) for _ in range(50)]
        ids = [f"{chunk}-{i}" for i in range(50)]
        sent.update({i: (s, d) for i, s, d in zip(ids, sources, dates)})
        buffer.add(pa.table({"source": sources, "date": dates, "article_id": ids}))
    assert len(buffer.spills) > 3
    received = {}
    for key in sorted(buffer.keys()):
        for table in buffer.pop(key):
            for article_id, source, date in zip(*(table.column(c).to_pylist() for c in ("article_id", "source", "date"))):
                assert (source, date) == key
                assert article_id not in received
                received[article_id] = key
    assert received == sent
    assert all(not buffer.pop(key) for key in set(sent.values()))  # popped means gone


def test_without_spilling_nothing_touches_disk(tmp_path):
    buffer = PartitionBuffer(tmp_path / "spill", budget_bytes=1 << 30)
    buffer.add(pa.table({"source": ["x"], "date": [dt.date(2022, 1, 1)], "article_id": ["1"]}))
    assert buffer.keys() == {("x", dt.date(2022, 1, 1))}
    assert not (tmp_path / "spill").exists()
