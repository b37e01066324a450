"""Crash safety, for real: SIGKILL `articles ingest` while it parses, while its reduce tasks write data
files, and at each step of the commit (before the Delta commit, after it, after the rejects file, after the
manifest commit). After each kill every reader of the table's log (and the views' file list) reads one
committed version, and a rerun gives the dataset an uninterrupted run gives, with no file left that no
version names.

A kill while parsing is timed from outside (the --log-json lines); a kill at a step of the commit by the
run itself (ARTICLE_LAKE_KILL_AT=<event>: SIGKILL right after that event), since from outside a step of a
few milliseconds cannot be hit. About a minute; deselect with -m "not slow".
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

from helpers_pipeline import (REPO, article_files, cli_command, cli_env, comparable, generate_corpus, manifest,
                              read_articles, read_rejects, retitle, write_raw)
from jobs.lake.paths import Layout
from jobs.lake.table import untracked_files
from jobs.run.events import KILL_AT_VARIABLE

pytestmark = pytest.mark.slow

FILES = 2000
DAYS = 60  # three months: ~60 partitions of a source and month
BAD_FILES = {"bad/empty.md": b"", "bad/no_front_matter.md": b"only a body\n",
             "bad/malformed.md": b"---\ntitle: [oops\n---\nbody\n"}


class Ingest:
    """`articles ingest` as a subprocess in its own process group, its log lines in a file."""

    def __init__(self, raw: Path, out: Path, log: Path, workers: int = 1, kill_at: str | None = None):
        self.log = log
        self.stdout = log.with_suffix(".stdout")
        env = cli_env() | ({KILL_AT_VARIABLE: kill_at} if kill_at else {})
        with open(log, "wb") as err, open(self.stdout, "wb") as std:
            # Files, not pipes: orphaned parser workers of a killed run would hold a pipe open forever.
            self.process = subprocess.Popen(
                cli_command("ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", str(workers), "--log-json"),
                cwd=REPO, env=env, stdout=std, stderr=err, start_new_session=True)

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

    def killed_itself(self) -> None:
        """The run SIGKILLed itself at its kill point (and did not end some other way first)."""
        assert self.process.wait(timeout=120) == -signal.SIGKILL, self.log.read_text()
        self.reap_orphans()

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


def assert_readable(out: Path) -> None:
    """Readers of the log read the current version whole; the views' file list names a committed version
    whose files are all there; the rejects folder holds its one file."""
    connection = duckdb.connect()
    files = article_files(out)
    if files:  # a run killed before its first commit leaves an empty table
        ids = connection.execute(f"SELECT count(*), count(DISTINCT article_id) FROM read_parquet({[str(f) for f in files]!r},"
                                 f" hive_partitioning = true, hive_types = {{'source': 'VARCHAR', 'month': 'VARCHAR'}})").fetchone()
        assert ids[0] == ids[1], "an article twice in one version"
    listed = Layout(out).current_articles_list()
    if listed is not None:
        for (path,) in connection.execute(f"SELECT path FROM read_parquet('{listed}')").fetchall():
            connection.execute(f"SELECT count(*) FROM read_parquet('{out / 'articles' / path}')").fetchall()
    if (out / "rejects").exists():
        assert [p.name for p in (out / "rejects").iterdir()] in ([], ["part-0.parquet"])
        if (out / "rejects" / "part-0.parquet").exists():
            connection.execute(f"SELECT count(*) FROM read_parquet('{out / 'rejects' / '*.parquet'}')").fetchall()


def assert_recovers(raw: Path, out: Path, log: Path, expected) -> None:
    assert_readable(out)
    assert ingest(raw, out, log) == 0, log.read_text()
    assert untracked_files(Layout(out)) == [], "a killed run's data files outlived the run after it"
    rows, rejects = dataset(out)
    ids = [row["article_id"] for row in rows]
    assert len(ids) == len(set(ids)), "duplicate article_id after recovery"
    assert rows == expected[0]
    assert rejects == expected[1]
    assert not (out / "_staging").exists()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A few thousand distinct articles over ~60 partitions, plus a few rejects; and a clean run of it."""
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


def test_kill_while_reduce_tasks_write_data_files(corpus, tmp_path):
    root, raw, clean, expected = corpus
    out = tmp_path / "out"
    run = Ingest(raw, out, tmp_path / "killed.log", kill_at="partition_written")
    run.killed_itself()
    assert untracked_files(Layout(out)), "no data file written before the kill"
    assert article_files(out) == [], "a data file in a version before the commit"
    assert not (out / "rejects" / "part-0.parquet").exists()
    assert_recovers(raw, out, tmp_path / "rerun.log", expected)


# (kill point, whether the Delta commit happened, whether the manifest commit happened)
COMMIT_STEPS = [("committing", False, False), ("table_committed", True, False), ("rejects_written", True, False),
                ("committed", True, True)]


@pytest.mark.parametrize("kill_at, table_committed, manifest_committed", COMMIT_STEPS, ids=[s[0] for s in COMMIT_STEPS])
def test_kill_at_each_step_of_the_commit(corpus, tmp_path, kill_at, table_committed, manifest_committed):
    root, raw, clean, expected = corpus
    out = tmp_path / "out"
    run = Ingest(raw, out, tmp_path / "killed.log", kill_at=kill_at)
    run.killed_itself()
    assert run.count("run_finished") == 0
    # Readers see the whole run or none of it: the Delta commit is the one moment it becomes visible.
    assert len(article_files(out)) == (len(article_files(clean)) if table_committed else 0)
    with manifest(out) as db:  # the manifest holds all of this run's outcomes or none of them
        files = db.execute("SELECT count(*) FROM files").fetchone()[0]
        pending = db.execute("SELECT count(*) FROM pending").fetchone()[0]
    db.close()
    assert files == (FILES + len(BAD_FILES) if manifest_committed else 0)
    assert pending == (0 if manifest_committed else FILES + len(BAD_FILES))
    assert_recovers(raw, out, tmp_path / "rerun.log", expected)
    rerun = (tmp_path / "rerun.log").read_text()
    if table_committed and not manifest_committed:  # rolled forward: nothing parsed twice
        assert '"action": "rolled_forward"' in rerun and '"to_parse": 0' in rerun
    if not table_committed:  # dropped and redone
        assert '"action": "dropped"' in rerun
    with manifest(out) as db:  # a run killed before it logged its end is marked abandoned by the next one
        statuses = [row[0] for row in db.execute("SELECT status FROM runs ORDER BY started_at")]
    db.close()
    assert statuses[-1] == "ok" and statuses[0] in ("abandoned", "ok") and len(statuses) == 2


@pytest.mark.parametrize("kill_at", ["partition_written", "table_committed"])
def test_kill_while_merging_changes_into_existing_partitions(corpus, tmp_path, kill_at):
    """An incremental run that moves articles between partitions, killed before and after its Delta commit."""
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
    before = dataset(out)
    run = Ingest(changed_raw, out, tmp_path / "killed.log", kill_at=kill_at)
    run.killed_itself()
    assert run.count("committed") == 0  # the rejects file is still the old one
    assert (out / "rejects" / "part-0.parquet").read_bytes() == (clean / "rejects" / "part-0.parquet").read_bytes()
    if kill_at == "partition_written":  # readers still see the version before the run
        assert dataset(out) == before
    else:  # ... or already the run's, whole
        assert dataset(out)[0] == want[0]
    assert_recovers(changed_raw, out, tmp_path / "rerun.log", want)


def _new_date(index: int) -> dt.datetime:
    return dt.datetime(2022, 6, 1, 8, 0, 0) + dt.timedelta(days=(index * 5) % (DAYS + 6), seconds=index)
