"""A file is an outcome, whatever it does to the parser: hostile files become one reject each, the run commits."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import duckdb
import pytest

from helpers_pipeline import article_text, copy_samples, run_cli, run_ingest, write_raw
from jobs.errors import Rejected
from jobs.run.limits import FileTimeLimit, time_limit
from jobs.run.map import Job, WorkItem, parse_chunk

NOW = dt.datetime(2024, 1, 5, tzinfo=dt.timezone.utc)
HOSTILE = {
    "hostile/feed/table.md": "<table>" + "<tr><td>1</td><td>2</td></tr>" * 60_000 + "</table>",
    "hostile/feed/nested.md": "<div>" * 200_000 + "x" + "</div>" * 200_000,
    "hostile/feed/unclosed.md": "<div>" * 200_000 + "x",
}
# Passes the screen (one element deep, no table) but needs more memory than a 1 GiB worker has.
HEAVY = "<p>x</p><p>y</p>" * (7 * 2**20 // 16)


def _outcomes(out: Path) -> tuple[dict[str, tuple[str, str]], int]:
    """What readers see once the run committed: rejects by path, and the number of article rows."""
    connection = duckdb.connect()
    rejects = {path: (reason, message) for path, reason, message in connection.execute(
        "SELECT raw_path, reason, message FROM read_parquet(?)", [str(out / "rejects" / "*.parquet")]).fetchall()}
    rows = connection.execute("SELECT count(*) FROM read_parquet(?, hive_partitioning=true)",
                              [str(out / "articles" / "**" / "*.parquet")]).fetchone()[0]
    return rejects, rows


def test_a_run_over_hostile_files_commits_each_as_one_too_complex_reject(tmp_path: Path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    normal = copy_samples(raw)
    for relative, body in HOSTILE.items():
        write_raw(raw, relative, article_text(relative, "2024-01-02 10:00:00", author="hostile", body=body))
    started = time.monotonic()
    result = run_cli("ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "2", timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    rejects, rows = _outcomes(out)
    assert {path: reason for path, (reason, _) in rejects.items()} == {path: "too_complex" for path in HOSTILE}
    assert rows == len(normal)
    assert time.monotonic() - started < 120  # not the minutes lexbor would take on them (a bound, not a timing)


@pytest.mark.slow
def test_a_file_that_exhausts_the_worker_memory_is_a_parse_error_and_the_rest_are_rows(tmp_path: Path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    normal = copy_samples(raw)
    write_raw(raw, "hostile/feed/heavy.md", article_text("heavy", "2024-01-03 10:00:00", author="hostile", body=HEAVY))
    report = run_ingest(raw, out, workers=2, chunk_files=8, worker_memory=2**30)
    assert report.exit_code == 0
    rejects, rows = _outcomes(out)
    assert list(rejects) == ["hostile/feed/heavy.md"]
    reason, message = rejects["hostile/feed/heavy.md"]
    # Where the allocation fails decides the message: Python's MemoryError, lexbor's "Can't parse HTML",
    # or an allocator that aborts the worker; each is this file's parse_error.
    assert reason == "parse_error" and any(m in message for m in ("Memory", "parse HTML", "died")), message
    assert rows == len(normal)


@pytest.mark.slow
def test_a_parse_over_the_time_limit_is_too_complex(tmp_path: Path):
    write_raw(tmp_path, "hostile/feed/heavy.md", article_text("heavy", "2024-01-03 10:00:00", body=HEAVY))
    size = (tmp_path / "hostile/feed/heavy.md").stat().st_size
    job = Job(str(tmp_path), "run", NOW, 16 * 2**20, file_seconds=0.5)
    parsed = parse_chunk(job, [WorkItem("hostile/feed/heavy.md", size, 0, None)])
    assert parsed.rejects.column("reason").to_pylist() == ["too_complex"]
    assert "longer than 0.5 s" in parsed.rejects.column("message")[0].as_py()


def test_the_time_limit_interrupts_python_code_and_is_gone_after_the_block():
    with pytest.raises(FileTimeLimit):
        with time_limit(0.05):
            while True:
                pass
    with time_limit(0.05):
        pass
    time.sleep(0.1)  # the timer was cancelled: nothing fires here


def test_rejected_is_not_turned_into_parse_error(tmp_path: Path):
    write_raw(tmp_path, "a/b/empty.md", b"")
    parsed = parse_chunk(Job(str(tmp_path), "run", NOW, 2**20), [WorkItem("a/b/empty.md", 0, 0, None)])
    assert parsed.rejects.column("reason").to_pylist() == ["empty_file"]
    assert issubclass(Rejected, Exception)
