"""The schema owns every table: the manifest, the run log and the Parquet files follow schemas/."""

from __future__ import annotations

import dataclasses
import sqlite3

import pyarrow.parquet as pq

from helpers_pipeline import SAMPLE_RAW
from jobs.lake.paths import manifest_file, rejects_file, runs_file
from jobs.run.options import RunOptions, RunReport
from jobs.run.pipeline import ingest
from schemas.article import ARTICLE_FILE_SCHEMA, RUN_COLUMNS, TABLES, dictionary_columns
from schemas.state import MANIFEST_COLUMNS, RUN_METRICS, FileStatus, RunStatus


def test_run_report_carries_every_metric_of_the_run_log():
    fields = {f.name for f in dataclasses.fields(RunReport)}
    assert set(RUN_METRICS) <= fields
    assert RUN_METRICS == tuple(c.name for c in RUN_COLUMNS if c.metric)


def test_manifest_tables_and_parquet_files_follow_the_schema(tmp_path):
    out = tmp_path / "out"
    report = ingest(RunOptions(raw_dir=SAMPLE_RAW, out_dir=out, workers=1))
    assert report.status == RunStatus.OK and report.articles_written > 0
    db = sqlite3.connect(manifest_file(out))
    assert [row[1] for row in db.execute("PRAGMA table_info(files)")] == [c.name for c in MANIFEST_COLUMNS]
    assert [row[1] for row in db.execute("PRAGMA table_info(runs)")] == [c.name for c in RUN_COLUMNS]
    assert {row[0] for row in db.execute("SELECT DISTINCT status FROM files")} <= {s.value for s in FileStatus}
    assert {row[0] for row in db.execute("SELECT status FROM runs")} <= {s.value for s in RunStatus}
    metrics = db.execute(f"SELECT {', '.join(RUN_METRICS)} FROM runs").fetchone()
    assert metrics[RUN_METRICS.index("articles_written")] == report.articles_written

    # Dictionary encoding exactly where the schema asks for it.
    partition = next((out / "articles").rglob("*.parquet"))
    expected = set(dictionary_columns(TABLES["articles"])) & set(ARTICLE_FILE_SCHEMA.names)
    assert _dictionary_encoded(partition) == expected
    assert _dictionary_encoded(runs_file(out)) == set(dictionary_columns(TABLES["runs"]))
    assert not rejects_file(out).exists() or _dictionary_encoded(rejects_file(out)) == set(dictionary_columns(TABLES["rejects"]))


def _dictionary_encoded(path) -> set[str]:
    metadata = pq.ParquetFile(path).metadata
    row_group = metadata.row_group(0)
    names = set()
    for index in range(row_group.num_columns):
        column = row_group.column(index)
        if any("DICTIONARY" in encoding for encoding in column.encodings):
            names.add(column.path_in_schema)
    return names
