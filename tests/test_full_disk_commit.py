"""A full disk (a 2 MB tmpfs as out dir) against the Delta commit (issue 17, point 7).

Before the table, a commit that failed on a full disk left readers seeing the failed run's rows while the
manifest held none, the next run's recovery emptied every partition, a no-op `ingest` ended in an
`OperationalError` traceback and `verify` called the healthy manifest damaged. Now:
  - every command on the full disk either works (readers) or says `No space left on device` once, exit 1,
    no traceback; `verify` never calls a healthy manifest damaged;
  - a run that fails changes nothing a reader sees, and the table's version and the manifest agree
    (`verify` of a copy is clean);
  - after space is freed the next run ends as a fresh run over the same raw files.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess

import pytest

from helpers_pipeline import (REPO, article_text, cli_command, cli_env, comparable, generate_corpus, read_articles,
                              read_rejects, run_ingest, write_raw)
from helpers_recovery import mount_namespace_prefix

pytestmark = pytest.mark.slow  # real processes on a real small disk

FILES = 60  # small enough for the 2 MB disk with the manifest (edges, templates) and the log
SPACE = "No space left on device"


def _command(*args: str) -> str:
    return " ".join(shlex.quote(str(a)) for a in cli_command(*args))


def test_a_full_disk_changes_nothing_readers_see_and_says_so_once(tmp_path):
    prefix = mount_namespace_prefix()
    raw, disk, logs = tmp_path / "raw", tmp_path / "disk", tmp_path / "logs"
    generate_corpus(raw, FILES, days=40, salt="满盘")
    disk.mkdir()
    logs.mkdir()
    out = disk / "out"
    dirs = ("--raw-dir", str(raw), "--out-dir", str(out))
    ingest = _command("ingest", *dirs, "--workers", "1")
    # Changes the run on the full disk must not half-apply: new files, and files re-dated into other months.
    changed = raw.parent / "raw-changed"
    shutil.copytree(raw, changed)
    for index in range(40):
        write_raw(changed, f"new/{index:03d}.md", article_text(f"新 {index}", f"2023-0{1 + index % 9}-10 10:00:00",
                                                               author=f"新源{index % 7}"))
    for index, path in enumerate(sorted(changed.glob("gen/*/*.md"))[::9]):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("date: 2022-0", "date: 2021-0", 1), encoding="utf-8")
    ingest_changed = _command("ingest", "--raw-dir", str(changed), "--out-dir", str(out), "--workers", "1")
    steps = {  # name -> command, run on the full disk
        "noop": ingest,
        "verify": _command("verify", *dirs),
        "status": _command("status", "--out-dir", str(out)),
        "query": _command("query", "--out-dir", str(out), "SELECT count(*) FROM articles"),
        "changed": ingest_changed,
        "verify_after": _command("verify", "--out-dir", str(out)),
        "reprocess": _command("reprocess", "--raw-dir", str(changed), "--out-dir", str(out), "--all", "--yes",
                              "--workers", "1"),
    }
    script = ["set -u", f"mount -t tmpfs -o size=2m tmpfs {disk}",
              f"{ingest} >{logs}/first.out 2>{logs}/first.err; echo $? >{logs}/first.rc",
              f"cp -a {out} {logs}/before",
              f"dd if=/dev/zero of={disk}/filler bs=4k 2>/dev/null; sync"]
    for name, command in steps.items():
        script += [f"{command} >{logs}/{name}.out 2>{logs}/{name}.err; echo $? >{logs}/{name}.rc",
                   f"cp -a {out} {logs}/{name}.snapshot 2>/dev/null || true"]
    script += [f"rm {disk}/filler",
               f"{ingest_changed} >{logs}/freed.out 2>{logs}/freed.err; echo $? >{logs}/freed.rc",
               f"cp -a {out} {logs}/freed"]
    done = subprocess.run(prefix + ["sh", "-c", "\n".join(script)], cwd=REPO, env=cli_env(), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    read = lambda name: (logs / name).read_text()
    assert read("first.rc").strip() == "0", read("first.err")
    before = comparable(read_articles(logs / "before"))
    assert len(before) == FILES

    for name in steps:
        code, err = int(read(f"{name}.rc")), read(f"{name}.err")
        assert "Traceback" not in err and "During handling" not in err, (name, err)
        assert "damaged" not in err + read(f"{name}.out"), (name, err)  # a healthy manifest is never called damaged
        if code != 0:
            assert code == 1, (name, code, err)
            assert err.startswith(f"error: {SPACE}") and len(err.strip().splitlines()) == 1, (name, err)
        snapshot = logs / f"{name}.snapshot"
        # Nothing a reader sees changed, and the table and the manifest agree (verify of the copy, off the full disk).
        assert comparable(read_articles(snapshot)) == before, name
        verified = subprocess.run(cli_command("verify", "--out-dir", str(snapshot)), cwd=REPO, env=cli_env(),
                                  capture_output=True, text=True, timeout=120)
        assert verified.returncode == 0, (name, verified.stdout + verified.stderr)
    for name in ("noop", "changed", "reprocess"):  # the writers really met the full disk
        assert read(f"{name}.rc").strip() == "1", (name, read(f"{name}.err"))
    assert read("verify.rc").strip() == "0", read("verify.out") + read("verify.err")

    # Space freed: the next run ends as a fresh run over the same raw files.
    assert read("freed.rc").strip() == "0", read("freed.err")
    fresh = tmp_path / "fresh"
    assert run_ingest(changed, fresh).exit_code == 0
    assert comparable(read_articles(logs / "freed")) == comparable(read_articles(fresh))
    assert [(r["raw_path"], r["reason"]) for r in read_rejects(logs / "freed")] == \
        [(r["raw_path"], r["reason"]) for r in read_rejects(fresh)]
