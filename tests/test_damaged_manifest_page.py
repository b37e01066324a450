"""A damaged manifest page (4 KB overwritten mid-file): `verify` says so, with a repair command that really
repairs it (issue 17, point 7). Before, verify named the damage but its suggested `articles ingest` exited 0
and left the manifest damaged (the run's own check read only the table pages it walks)."""

from __future__ import annotations

import shlex
import sqlite3
import shutil

import pytest

from helpers_cli import invoke
from helpers_pipeline import comparable, generate_corpus, read_articles, read_rejects, run_ingest

FILES = 400


@pytest.mark.parametrize("where", [0.25, 0.5, 0.75])
def test_the_repair_verify_suggests_for_a_damaged_page_repairs_it(tmp_path, where):
    raw, out = tmp_path / "raw", tmp_path / "out"
    generate_corpus(raw, FILES, days=40)
    assert run_ingest(raw, out).exit_code == 0
    manifest = out / "_state" / "manifest.sqlite"
    db = sqlite3.connect(manifest)
    db.execute("VACUUM")  # no free page left: every page overwritten below is one the manifest uses
    db.close()
    data = bytearray(manifest.read_bytes())
    assert len(data) > 16 * 4096
    start = int(len(data) * where) // 4096 * 4096
    data[start:start + 4096] = bytes((i * 7 + 13) % 256 for i in range(4096))
    manifest.write_bytes(bytes(data))

    result = invoke("verify", "--raw-dir", raw, "--out-dir", out)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    damaged = [i for i, line in enumerate(lines) if line.startswith(f"{manifest}: damaged")]
    assert damaged, result.output
    repair = lines[damaged[0] + 1].split("repair: ", 1)[1].split(" (", 1)[0]
    command = shlex.split(repair)
    assert command[0] == "articles"
    done = invoke(*command[1:])
    assert done.exit_code == 0, done.output

    again = invoke("verify", "--raw-dir", raw, "--out-dir", out)
    assert again.exit_code == 0, again.output
    fresh = tmp_path / "fresh"
    assert run_ingest(raw, fresh).exit_code == 0
    assert comparable(read_articles(out)) == comparable(read_articles(fresh))
    assert [r["raw_path"] for r in read_rejects(out)] == [r["raw_path"] for r in read_rejects(fresh)]
    shutil.rmtree(fresh)
