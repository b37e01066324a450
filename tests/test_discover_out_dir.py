"""An out dir inside the raw dir, or equal to it, with `--glob '*'`: the dataset's own files (manifest,
WAL, Parquet) are never read as raw input. (They became rejects, again on every run.)"""

from __future__ import annotations

import os

import pytest

from helpers_pipeline import article_text, read_articles, read_rejects, run_ingest, write_raw
from jobs.run.discover import discover


@pytest.mark.parametrize("out_inside", ["out", ".", "nested/deeper/out"])
def test_the_dataset_is_never_its_own_input(tmp_path, out_inside):
    raw = tmp_path / "raw"
    out = raw / out_inside
    write_raw(raw, "src/a.md", article_text("一", "2022-08-01 10:00:00", author="源"))
    write_raw(raw, "src/b.md", article_text("二", "2022-08-02 10:00:00", author="源"))
    for _ in range(3):  # every run: the dataset written by the last one is there to be (mis)read
        report = run_ingest(raw, out, globs=("*",))
        assert report.exit_code == 0 and report.rejects == 0, report.summary()
        assert report.files_seen == 2
    assert read_rejects(out) == []
    assert sorted(row["title"] for row in read_articles(out)) == ["一", "二"]


def test_a_folder_reached_by_another_path_is_skipped_too(tmp_path):
    """The out dir given through a symlink (or any other spelling) is the same folder."""
    raw = tmp_path / "raw"
    write_raw(raw, "src/a.md", "x")
    write_raw(raw, "out/articles/x.parquet", b"PAR1")
    os.symlink(raw / "out", tmp_path / "link-to-out")
    found = [f.raw_path for f in discover(str(raw), ("*",), skip=(str(tmp_path / "link-to-out"),))]
    assert found == ["src/a.md"]
    assert [f.raw_path for f in discover(str(raw), ("*",))] == ["out/articles/x.parquet", "src/a.md"]
