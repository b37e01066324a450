"""Transient errors are retried, never made permanent: a file unreadable for one night is read the
next night although its size and mtime did not change; a folder that cannot be listed is a named
warning (summary and JSON log) and its files keep their rows, in `ingest` and in `reprocess --prune`.

The CLI runs as an unprivileged user (see helpers_recovery), so permissions really fail.
"""

from __future__ import annotations

import os
import shutil

import pytest

from helpers_pipeline import article_text, copy_samples, read_articles, read_rejects, write_raw
from helpers_recovery import json_events, run_unprivileged, shared_workdir


@pytest.fixture
def workdir():
    root = shared_workdir()
    yield root
    for folder, _, _ in os.walk(root):
        os.chmod(folder, 0o755)
    shutil.rmtree(root)


def ingest(root, *extra):
    return run_unprivileged("ingest", "--raw-dir", str(root / "raw"), "--out-dir", str(root / "out"),
                            "--workers", "1", *extra, home=root)


def test_a_file_unreadable_for_one_night_is_read_the_next(workdir):
    raw = workdir / "raw"
    samples = copy_samples(raw)
    locked = write_raw(raw, "perm/locked.md", article_text("锁住的文章", "2022-08-01 10:00:00", author="权限源"))
    locked.chmod(0o000)
    first = ingest(workdir, "--max-reject-ratio", "1")
    assert first.returncode == 0, first.stderr
    (reject,) = read_rejects(workdir / "out")
    assert (reject["raw_path"], reject["reason"]) == ("perm/locked.md", "read_error")
    assert "Permission" in reject["message"]
    mtime = locked.stat().st_mtime_ns

    locked.chmod(0o644)  # fixed: same size, same mtime
    assert locked.stat().st_mtime_ns == mtime
    second = ingest(workdir)
    assert second.returncode == 0, second.stderr
    assert read_rejects(workdir / "out") == []
    titles = {row["raw_path"]: row["title"] for row in read_articles(workdir / "out")}
    assert titles["perm/locked.md"] == "锁住的文章" and len(titles) == len(samples) + 1


def test_the_same_read_error_again_rewrites_nothing(workdir):
    raw = workdir / "raw"
    copy_samples(raw)
    write_raw(raw, "perm/locked.md", article_text("锁住的文章", "2022-08-01 10:00:00")).chmod(0o000)
    assert ingest(workdir, "--max-reject-ratio", "1").returncode == 0
    rejects = workdir / "out" / "rejects" / "part-0.parquet"
    before = (rejects.read_bytes(), rejects.stat().st_mtime_ns)
    again = ingest(workdir, "--max-reject-ratio", "1")
    assert again.returncode == 0, again.stderr
    assert " 0 parsed" in again.stdout and " 0 rejects" in again.stdout
    assert (rejects.read_bytes(), rejects.stat().st_mtime_ns) == before


@pytest.fixture
def sealed(workdir):
    """An ingested dataset whose folder `sealed/` (two articles) then cannot be listed."""
    raw = workdir / "raw"
    samples = copy_samples(raw)
    write_raw(raw, "sealed/a.md", article_text("封存甲", "2022-08-01 10:00:00", author="封存源"))
    write_raw(raw, "sealed/b.md", article_text("封存乙", "2022-08-02 10:00:00", author="封存源"))
    assert ingest(workdir).returncode == 0
    assert len(read_articles(workdir / "out")) == len(samples) + 2
    (raw / "sealed").chmod(0o000)
    return workdir, len(samples) + 2


def test_a_folder_that_cannot_be_listed_is_a_named_warning_and_keeps_its_rows(sealed):
    workdir, rows = sealed
    result = ingest(workdir, "--log-json")
    assert result.returncode == 0, result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert "warning: cannot list folder 'sealed'" in summary and "Permission" in summary
    assert "2 of them the dataset knows keep their rows" in summary
    warnings = [e for e in json_events(result.stderr) if e["event"] == "warning"]
    assert len(warnings) == 1 and "'sealed'" in warnings[0]["message"]
    finished = [e for e in json_events(result.stderr) if e["event"] == "run_finished"]
    assert finished[0]["warnings"] == [warnings[0]["message"]]
    assert len(read_articles(workdir / "out")) == rows
    assert {r["title"] for r in read_articles(workdir / "out") if r["raw_path"].startswith("sealed/")} == {"封存甲", "封存乙"}


def test_reprocess_prune_keeps_rows_of_files_it_cannot_reach(sealed):
    workdir, rows = sealed
    result = run_unprivileged("reprocess", "--raw-dir", str(workdir / "raw"), "--out-dir", str(workdir / "out"),
                              "--all", "--prune", "--yes", "--workers", "1", home=workdir)
    assert result.returncode == 0, result.stderr
    assert "2 raw files could not be reached (not deleted: their rows are kept)" in result.stdout
    kept = [r for r in read_articles(workdir / "out") if r["raw_path"].startswith("sealed/")]
    assert len(kept) == 2 and len(read_articles(workdir / "out")) == rows
    # and once readable again, an ingest still knows them: nothing is parsed twice, nothing duplicated
    (workdir / "raw" / "sealed").chmod(0o755)
    again = ingest(workdir)
    assert again.returncode == 0 and "warning" not in again.stdout
    ids = [r["article_id"] for r in read_articles(workdir / "out")]
    assert len(ids) == rows == len(set(ids))
