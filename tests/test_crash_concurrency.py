"""Two `articles ingest` processes started at once on the same output folder."""

from __future__ import annotations

import re
import subprocess

import pytest

from helpers_pipeline import REPO, cli_command, cli_env, generate_corpus, read_articles

pytestmark = pytest.mark.slow

FILES = 1200


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    raw = tmp_path_factory.mktemp("concurrent") / "raw"
    generate_corpus(raw, FILES, days=10, salt="并发")
    return raw


def start_two(raw, out, *extra: str) -> list[tuple[int, int, str, str]]:
    args = cli_command("ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "1", *extra)
    processes = [subprocess.Popen(args, cwd=REPO, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]
    results = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=180)
        results.append((process.returncode, process.pid, stdout, stderr))
    return results


def assert_one_row_per_file(out) -> None:
    rows = read_articles(out)
    ids = [row["article_id"] for row in rows]
    assert len(rows) == FILES and len(set(ids)) == FILES
    assert len({row["raw_path"] for row in rows}) == FILES


def test_one_runs_the_other_exits_3(raw, tmp_path):
    out = tmp_path / "out"
    results = start_two(raw, out)
    assert sorted(code for code, *_ in results) == [0, 3], results
    (_, winner, _, _), = [r for r in results if r[0] == 0]
    (_, _, stdout, stderr), = [r for r in results if r[0] == 3]
    assert re.search(rf"locked by pid {winner}\b", stderr), stderr
    assert stdout == ""
    assert_one_row_per_file(out)


def test_with_wait_both_succeed_and_the_second_finds_nothing_to_do(raw, tmp_path):
    out = tmp_path / "out"
    results = start_two(raw, out, "--wait", "120")
    assert [code for code, *_ in results] == [0, 0], results
    summaries = sorted(stdout for _, _, stdout, _ in results)
    assert [s.split(",")[1].strip() for s in summaries] == ["0 parsed", f"{FILES} parsed"], summaries
    assert_one_row_per_file(out)
