"""The same dataset whatever the engine, worker count, chunk size and reduce group size.

Every data column is compared value for value (not run_id and ingested_at, which name the run).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from helpers_pipeline import RUN_LEVEL_COLUMNS, article_text, generate_corpus, read_rejects, retitle, write_raw
from jobs.run.engine import DaskEngine, InProcessEngine, ProcessPoolEngine
from jobs.run.pipeline import RunOptions, ingest, reprocess, Selection
from paths import REAL_CORPUS


def data_columns(out: Path) -> dict[str, list]:
    """partition folder -> its rows' data columns (every column but the run-level ones), in file order."""
    found = {}
    for path in sorted((out / "articles").rglob("*.parquet")):
        table = pq.read_table(path)
        found[path.parent.relative_to(out).as_posix()] = table.drop_columns(list(RUN_LEVEL_COLUMNS)).to_pylist()
    return found


def nights(raw: Path, out: Path, engine, **options) -> None:
    """Three nights: a first ingest, then changed, moved, duplicated and new files, then a reprocess."""
    def run(call, *args):
        report = call(RunOptions(raw_dir=raw, out_dir=out, engine=engine, **options), *args)
        assert report.exit_code == 0, report
    generate_corpus(raw, 300, days=12, salt="引擎")
    for index in range(0, 40, 4):  # duplicates: the same article under another path
        source = sorted(raw.glob("gen/*/*.md"))[index]
        write_raw(raw, f"dup/{index:03d}.md", source.read_bytes())
    run(ingest)
    for index, path in enumerate(sorted(raw.glob("gen/0[0-3]/*.md"))[::3]):  # changed and moved
        path.write_text(retitle(path.read_text(encoding="utf-8"), f"改 {index}",
                                dt.datetime(2022, 7, 1) + dt.timedelta(days=index % 5)), encoding="utf-8")
    write_raw(raw, "new/late.md", article_text("迟到", "2022-06-03 10:00:00", author="迟到源"))
    write_raw(raw, "bad/empty.md", b"")
    run(ingest)
    run(reprocess, Selection(everything=True))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    root = tmp_path_factory.mktemp("engine-reference")
    nights(root / "raw", root / "out", InProcessEngine())
    return data_columns(root / "out"), read_rejects(root / "out")


def test_one_and_two_local_workers_and_any_chunking_give_the_same_dataset(reference, tmp_path):
    engine = ProcessPoolEngine(2)
    try:
        nights(tmp_path / "raw", tmp_path / "out", engine, chunk_files=7, group_partitions=3)
    finally:
        engine.close()
    assert data_columns(tmp_path / "out") == reference[0]
    assert [(r["raw_path"], r["reason"]) for r in read_rejects(tmp_path / "out")] == \
        [(r["raw_path"], r["reason"]) for r in reference[1]]


def test_reduce_tasks_reading_their_fragments_a_few_batches_at_a_time_give_the_same_dataset(reference, tmp_path,
                                                                                               monkeypatch):
    import jobs.run.reduce
    monkeypatch.setattr(jobs.run.reduce, "READ_BATCHES", 2)  # in-process engine: the tasks see this value
    nights(tmp_path / "raw", tmp_path / "out", InProcessEngine(), group_partitions=40)
    assert data_columns(tmp_path / "out") == reference[0]


def test_dask_with_two_workers_gives_the_same_dataset(reference, tmp_path):
    engine = DaskEngine(workers=2)
    try:
        assert engine.dashboard
        nights(tmp_path / "raw", tmp_path / "out", engine, chunk_files=23, group_partitions=5)
    finally:
        engine.close()
    assert data_columns(tmp_path / "out") == reference[0]


@pytest.mark.skipif(not REAL_CORPUS.is_dir(), reason="reference corpus absent")
def test_reference_corpus_gives_the_same_dataset_on_every_engine(tmp_path):
    results = []
    for name, engine, chunk in (("one", InProcessEngine(), 200), ("two", ProcessPoolEngine(2), 3),
                                ("dask", DaskEngine(workers=2), 5)):
        try:
            report = ingest(RunOptions(raw_dir=REAL_CORPUS, out_dir=tmp_path / name, engine=engine, chunk_files=chunk))
        finally:
            engine.close()
        assert report.exit_code in (0, 4)
        results.append(data_columns(tmp_path / name))
    assert results[0] and results[0] == results[1] == results[2]
