"""`reprocess --all --prune --yes` drops the rejects of raw files that no longer exist (issue 17, point 7):
from the manifest and from the rejects file; without --prune they are kept, as article rows are."""

from __future__ import annotations

from helpers_cli import invoke
from helpers_pipeline import article_text, manifest, read_rejects, run_ingest, write_raw


def test_prune_drops_the_rejects_of_vanished_raw_files(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    for index in range(20):  # enough articles that one reject stays under the reject ratio
        write_raw(raw, f"ok/{index}.md", article_text(f"好 {index}", f"2022-08-{1 + index:02d} 10:00:00"))
    write_raw(raw, "bad/gone.md", "no front matter\n")
    write_raw(raw, "bad/kept.md", "")
    assert run_ingest(raw, out, max_reject_ratio=1.0).exit_code == 0
    assert [r["raw_path"] for r in read_rejects(out)] == ["bad/gone.md", "bad/kept.md"]
    (raw / "bad" / "gone.md").unlink()

    args = ("reprocess", "--raw-dir", raw, "--out-dir", out, "--workers", "1", "--all")
    assert invoke(*args, "--yes").exit_code == 0
    assert [r["raw_path"] for r in read_rejects(out)] == ["bad/gone.md", "bad/kept.md"]  # kept without --prune

    result = invoke(*args, "--prune", "--yes")
    assert result.exit_code == 0, result.output
    assert [r["raw_path"] for r in read_rejects(out)] == ["bad/kept.md"]
    with manifest(out) as db:
        assert db.execute("SELECT raw_path FROM files WHERE status = 'reject'").fetchall() == [("bad/kept.md",)]
    db.close()
    assert invoke("verify", "--out-dir", out).exit_code == 0
