"""The Dask engine on a LocalCluster: a worker killed mid-run, a task that raises, a worker that cannot see
the raw dir. Real processes, real SIGKILL."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from helpers_pipeline import REPO, cli_command, cli_env, generate_corpus, snapshot
from test_engine import data_columns
from jobs.run.engine import DaskEngine, InProcessEngine
from jobs.run.pipeline import RunOptions, ingest

pytestmark = pytest.mark.slow  # a Dask LocalCluster per test

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("dask")
    generate_corpus(root / "raw", 600, days=20, salt="集群")
    report = ingest(RunOptions(raw_dir=root / "raw", out_dir=root / "reference", engine=InProcessEngine()))
    assert report.exit_code == 0
    return root / "raw", data_columns(root / "reference")


def test_a_worker_killed_mid_run_does_not_change_the_result(corpus, tmp_path):
    raw, expected = corpus
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    engine = DaskEngine(cluster.scheduler_address)
    killed = []

    def on_event(name, data):
        if name == "parsed" and not killed:  # the first map results are in: more tasks are running
            pids = engine._client.run(os.getpid)
            victim = next(iter(pids.values()))
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
    try:
        report = ingest(RunOptions(raw_dir=raw, out_dir=tmp_path / "out", engine=engine, chunk_files=10), on_event)
    finally:
        engine.close()
        cluster.close()
    assert killed and report.exit_code == 0
    assert data_columns(tmp_path / "out") == expected


def test_a_task_that_raises_fails_the_run_swaps_nothing_and_the_next_run_completes(corpus, tmp_path):
    raw, expected = corpus
    out = tmp_path / "out"
    shutil.copytree(Path(raw).parent / "reference", out)  # a dataset and its manifest
    broken = sorted((out / "articles").rglob("*.parquet"))[0]
    good_bytes = broken.read_bytes()
    lives_there = pq.read_table(broken, columns=["raw_path"]).column("raw_path")[0].as_py()
    # One partition file cut short, and a new raw file (a copy: a duplicate) that merges into it:
    # the reduce task of that partition raises.
    broken.write_bytes(good_bytes[:100])
    extra = Path(raw) / (lives_there + ".copy.md")
    shutil.copy(Path(raw) / lives_there, extra)
    before = snapshot(out)
    try:
        result = _cli(raw, out, "--engine", "dask", "--workers", "2")
    finally:
        extra.unlink()
    assert result.returncode == 1, result.stderr
    assert str(broken) in result.stderr  # the error names the damaged file
    assert snapshot(out) == before  # nothing swapped in, nothing committed
    assert not any((out / "_staging").glob("*/*"))
    broken.write_bytes(good_bytes)
    result = _cli(raw, out, "--engine", "dask", "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert "dask dashboard: http" in result.stderr
    assert data_columns(out) == expected


def _cli(raw, out, *args):
    import subprocess
    return subprocess.run(cli_command("ingest", "--raw-dir", str(raw), "--out-dir", str(out), *args), cwd=REPO,
                          env=cli_env(), capture_output=True, text=True, timeout=300)
