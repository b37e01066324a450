"""Crash safety, for real: SIGKILL `articles ingest` while it parses, while it swaps partitions in and
while it commits the manifest. After each kill DuckDB still reads the dataset, no temporary file is in
the article glob, and a rerun gives the dataset an uninterrupted run gives.

Kill points are found by watching the run from outside (its --log-json lines and the files it
writes), not by hooks inside the job. About a minute; deselect with -m "not slow".
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from helpers_pipeline import (REPO, article_files, article_glob, cli_command, cli_env, comparable, generate_corpus,
                              manifest, read_articles, read_rejects, retitle, write_raw)

pytestmark = pytest.mark.slow

FILES = 2000
DAYS = 60  # enough partitions (~650) for several swap batches
BAD_FILES = {"bad/empty.md": b"", "bad/no_front_matter.md": b"only a body\n",
             "bad/malformed.md": b"---\ntitle: [oops\n---\nbody\n"}


class Ingest:
    """`articles ingest` as a subprocess in its own process group, its log lines in a file."""

    def __init__(self, raw: Path, out: Path, log: Path, workers: int = 1):
        self.log = log
        self.stdout = log.with_suffix(".stdout")
        with open(log, "wb") as err, open(self.stdout, "wb") as std:
            # Files, not pipes: orphaned parser workers of a killed run would hold a pipe open forever.
            self.process = subprocess.Popen(
                cli_command("ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", str(workers), "--log-json"),
                cwd=REPO, env=cli_env(), stdout=std, stderr=err, start_new_session=True)

    def events(self) -> list[str]:
        return self.log.read_text(encoding="utf-8", errors="replace").splitlines()

    def count(self, event: str) -> int:
        return sum(f'"event": "{event}"' in line for line in self.events())

    def wait_for(self, condition, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.process.poll() is None, f"run ended before the kill point:\n{self.log.read_text()}"
            assert time.monotonic() < deadline, "kill point never reached"
            time.sleep(0.001)

    def kill(self) -> None:
        """SIGKILL the job itself, as the OOM killer would; then reap what it left behind."""
        assert self.process.poll() is None, "the run had already finished: nothing was interrupted"
        os.kill(self.process.pid, signal.SIGKILL)
        assert self.process.wait(timeout=30) == -signal.SIGKILL

    def group_ends_within(self, seconds: float) -> bool:
        """True once no process of the run's process group (its workers, the forkserver) is left."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return True
            time.sleep(0.2)
        return False

    def reap_orphans(self) -> None:
        """Parser workers of a SIGKILLed parent do not exit on their own: end them (our process group)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def finish(self, timeout: float = 120) -> int:
        code = self.process.wait(timeout=timeout)
        self.reap_orphans()
        return code


def ingest(raw: Path, out: Path, log: Path) -> int:
    return Ingest(raw, out, log).finish()


def dataset(out: Path) -> tuple[list[dict], list[tuple]]:
    rows = comparable(read_articles(out))
    rejects = [(r["raw_path"], r["reason"], r["message"], r["raw_sha256"], r["size"]) for r in read_rejects(out)]
    return rows, rejects


def assert_readable_without_strays(out: Path) -> None:
    connection = duckdb.connect()
    strays = [p for p in (out / "articles").rglob("*") if p.is_file() and p.name != "part-0.parquet"] \
        if (out / "articles").exists() else []
    assert strays == []
    if article_files(out):  # a run killed before its first swap leaves no file at all
        connection.execute(f"SELECT count(*), count(DISTINCT article_id) FROM read_parquet('{article_glob(out)}',"
                           f" hive_partitioning = true)").fetchall()
        matched = connection.execute(
            f"SELECT DISTINCT filename FROM read_parquet('{article_glob(out)}', filename = true)").fetchall()
        assert sorted(Path(name) for (name,) in matched) == article_files(out)
    if (out / "rejects").exists():
        assert [p.name for p in (out / "rejects").iterdir()] in ([], ["part-0.parquet"])
        if (out / "rejects" / "part-0.parquet").exists():
            connection.execute(f"SELECT count(*) FROM read_parquet('{out / 'rejects' / '*.parquet'}')").fetchall()


def assert_recovers(raw: Path, out: Path, log: Path, expected) -> None:
    assert_readable_without_strays(out)
    assert ingest(raw, out, log) == 0, log.read_text()
    rows, rejects = dataset(out)
    ids = [row["article_id"] for row in rows]
    assert len(ids) == len(set(ids)), "duplicate article_id after recovery"
    assert rows == expected[0]
    assert rejects == expected[1]
    assert not (out / "_staging").exists()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A few thousand distinct articles over ~300 partitions, plus a few rejects; and a clean run of it."""
    root = tmp_path_factory.mktemp("crash")
    raw = root / "raw"
    generate_corpus(raw, FILES, days=DAYS)
    for path, content in BAD_FILES.items():
        write_raw(raw, path, content)
    clean = root / "clean"
    assert ingest(raw, clean, root / "clean.log") == 0
    expected = dataset(clean)
    assert len(expected[0]) == FILES and len(expected[1]) == len(BAD_FILES)
    return root, raw, clean, expected


def test_kill_while_parsing(corpus, tmp_path):
    root, raw, clean, expected = corpus
    out = tmp_path / "out"
    run = Ingest(raw, out, tmp_path / "killed.log", workers=2)  # parser processes, as in production
    run.wait_for(lambda: run.count("planned") == 1)
    time.sleep(0.25)
    assert not article_files(out), "parsing was already over: no kill while parsing"
    run.kill()
    try:
        assert_recovers(raw, out, tmp_path / "rerun.log", expected)  # whatever its workers still do
        assert run.group_ends_within(10), "parser workers outlived their killed parent"
    finally:
        run.reap_orphans()


def test_kill_between_two_partition_swaps(corpus, tmp_path):
    root, raw, clean, expected = corpus
    out = tmp_path / "out"
    run = Ingest(raw, out, tmp_path / "killed.log")
    run.wait_for(lambda: run.count("partitions_swapped") >= 1)  # one batch of swaps done, more to come
    run.kill()
    run.reap_orphans()
    written = len(article_files(out))
    assert 0 < written < len(article_files(clean)), "not killed in the middle of the partition swaps"
    assert not (out / "rejects" / "part-0.parquet").exists()
    assert_recovers(raw, out, tmp_path / "rerun.log", expected)


@pytest.mark.parametrize("moment", ["before_the_transaction_ends", "after_the_transaction"])
def test_kill_while_committing_the_manifest(corpus, tmp_path, moment):
    root, raw, clean, expected = corpus
    out = tmp_path / "out"
    run = Ingest(raw, out, tmp_path / "killed.log")
    if moment == "before_the_transaction_ends":
        # The rejects file is the last data swapped in before the manifest transaction.
        run.wait_for(lambda: (out / "rejects" / "part-0.parquet").exists())
    else:  # committed: the run is logging its end and rewriting runs.parquet
        run.wait_for(lambda: run.count("committed") == 1)
    run.kill()
    run.reap_orphans()
    assert len(article_files(out)) == len(article_files(clean))
    assert run.count("run_finished") == 0
    with manifest(out) as db:  # the manifest holds all of this run's outcomes or none of them
        files = db.execute("SELECT count(*) FROM files").fetchone()[0]
        assert files in (0, FILES + len(BAD_FILES))
    db.close()
    if moment == "after_the_transaction":
        assert files == FILES + len(BAD_FILES)
    assert_recovers(raw, out, tmp_path / "rerun.log", expected)
    with manifest(out) as db:  # a run killed before it logged its end is marked abandoned by the next one
        statuses = [row[0] for row in db.execute("SELECT status FROM runs ORDER BY started_at")]
    db.close()
    assert statuses[-1] == "ok" and statuses[0] in ("abandoned", "ok") and len(statuses) == 2


def test_kill_while_merging_changes_into_existing_partitions(corpus, tmp_path):
    """An incremental run that moves articles between partitions, killed between two swaps."""
    root, raw, clean, expected = corpus
    changed_raw = tmp_path / "raw"
    shutil.copytree(raw, changed_raw, symlinks=True)
    changed = sorted(changed_raw.glob("gen/*/*.md"))[::3]
    for index, path in enumerate(changed):  # new title (new article id) and another day: another partition
        text = path.read_text(encoding="utf-8")
        path.write_text(retitle(text, f"改过 {index}", _new_date(index)), encoding="utf-8")
    write_raw(changed_raw, "bad/empty.md", "---\ntitle: now fine\nauthor: 修复\ndate: 2022-06-03 10:00:00\n---\n<p>ok</p>\n")

    reference = tmp_path / "reference"
    shutil.copytree(clean, reference)
    assert ingest(changed_raw, reference, tmp_path / "reference.log") == 0
    want = dataset(reference)
    assert len(want[0]) == FILES + 1

    out = tmp_path / "out"
    shutil.copytree(clean, out)
    run = Ingest(changed_raw, out, tmp_path / "killed.log")
    run.wait_for(lambda: run.count("partitions_swapped") >= 1)  # some swaps done, more to come
    run.kill()
    run.reap_orphans()
    assert run.count("committed") == 0  # killed mid-swaps: the rejects file is still the old one
    assert (out / "rejects" / "part-0.parquet").read_bytes() == (clean / "rejects" / "part-0.parquet").read_bytes()
    assert_recovers(changed_raw, out, tmp_path / "rerun.log", want)


def _new_date(index: int) -> dt.datetime:
    return dt.datetime(2022, 6, 1, 8, 0, 0) + dt.timedelta(days=(index * 5) % (DAYS + 6), seconds=index)
