"""`reprocess` without --yes on a dataset with undated rows: a typed preview, sorted as the run sorts
partitions, and never a traceback (it crashed on `--all`, `--source S` and `--parser-older-than V`)."""

from __future__ import annotations

import dataclasses
import typing

import pytest
from typer.testing import CliRunner

from helpers_pipeline import article_text, run_ingest, write_raw
from jobs.cli import app
from jobs.lake.paths import partition_order
from jobs.run.options import RunOptions, Selection
from jobs.run.pipeline import plan_reprocess
from jobs.run.plan import PlannedPartition, ReprocessPreview

# Source 甲 has undated posts (the feed wrote `Invalid Date`) beside dated ones; 乙 only dated ones.
FILES = [
    ("甲/u1.md", "甲源", "Invalid Date"), ("甲/u2.md", "甲源", "Invalid Date"),
    ("甲/d1.md", "甲源", "2022-08-02 10:00:00"), ("甲/d2.md", "甲源", "2022-08-01 10:00:00"),
    ("乙/d1.md", "乙源", "2022-08-01 10:00:00"), ("乙/u1.md", "乙源", ""),
]


@pytest.fixture
def raw_and_out_with_undated_rows(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    for index, (path, source, date) in enumerate(FILES):
        write_raw(raw, path, article_text(f"标题{index}", date, author=source))
    report = run_ingest(raw, out)
    assert report.exit_code == 0 and report.articles_written == len(FILES)
    return raw, out


@pytest.mark.parametrize("selection_args", [["--all"], ["--source", "甲源"], ["--parser-older-than", "999"],
                                            ["--all", "--prune"], ["--from", "2022-08-01", "--to", "2022-08-01"]])
def test_a_dry_run_on_undated_rows_prints_the_plan(raw_and_out_with_undated_rows, selection_args):
    raw, out = raw_and_out_with_undated_rows
    result = CliRunner().invoke(app, ["reprocess", "--raw-dir", str(raw), "--out-dir", str(out), *selection_args])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and result.exception is None
    assert result.output.startswith("would rebuild ")
    if "--from" not in selection_args:  # an undated article is in no date range
        assert "source=甲源 month=(undated)" in result.output


def test_the_preview_is_typed_and_sorted_as_the_run_sorts_partitions(raw_and_out_with_undated_rows):
    raw, out = raw_and_out_with_undated_rows
    preview = plan_reprocess(RunOptions(raw_dir=raw, out_dir=out, workers=1), Selection(everything=True))
    assert isinstance(preview, ReprocessPreview)
    assert all(type(p) is PlannedPartition for p in preview.partitions)
    keys = [(p.source, p.month) for p in preview.partitions]
    assert keys == sorted(keys, key=partition_order)
    assert keys == [("乙源", None), ("乙源", "2022-08"), ("甲源", None), ("甲源", "2022-08")]
    assert [p.rows for p in preview.partitions] == [1, 1, 2, 2]
    assert [p.raw_files for p in preview.partitions] == [1, 1, 2, 2]
    assert preview.rows_to_replace == 6 and preview.files_to_reparse == 6 and preview.missing_files == 0
    # The lines follow the same order; the CLI prints exactly them.
    assert preview.lines()[1:] == [f"  {p.describe()}" for p in preview.partitions]


def test_every_field_of_the_preview_is_typed():
    """No dicts, tuples of tuples or Any: what a typo would hide is a field the type checker sees."""
    for cls in (ReprocessPreview, PlannedPartition):
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen
        hints = typing.get_type_hints(cls)
        for field in dataclasses.fields(cls):
            hint = hints[field.name]
            assert hint is not typing.Any and typing.get_origin(hint) is not dict, (cls.__name__, field.name)
