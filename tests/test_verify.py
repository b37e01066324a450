"""`articles verify` reads every data file and checks the dataset against the manifest;
`query` and `status` name a damaged file instead of printing a traceback."""

from __future__ import annotations

import fcntl
import hashlib
import shlex
import shutil
import sqlite3

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers_cli import invoke
from helpers_pipeline import article_files, copy_samples, run_cli, write_raw
from jobs.lake.damaged import repair_partition_command


@pytest.fixture
def raw_and_ingested_out(tmp_path):
    """(raw dir, out dir): data/raw plus one reject, ingested."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    copy_samples(raw)
    write_raw(raw, "bad/no_front_matter.md", "no front matter\n")
    assert invoke("ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "1").exit_code == 0
    return raw, out


def verify(raw, out):
    return invoke("verify", "--out-dir", str(out), "--raw-dir", str(raw))


def partitions(out):
    """The current version's data files (one per source and month here)."""
    return sorted(article_files(out))


def partition_of(part):
    source = part.parent.parent.name.removeprefix("source=")
    month = part.parent.name.removeprefix("month=")
    return source, None if month == "__HIVE_DEFAULT_PARTITION__" else month


def repair_commands(output: str) -> list[list[str]]:
    return [shlex.split(line.split("repair: ", 1)[1]) for line in output.splitlines() if "repair: articles " in line]


def run_repairs(output: str) -> None:
    commands = repair_commands(output)
    assert commands
    for command in commands:
        assert command[0] == "articles"
        result = invoke(*command[1:])
        assert result.exit_code == 0, (command, result.output)


def tree(root):
    return {p.relative_to(root).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir")
            for p in sorted(root.rglob("*"))}


def test_a_consistent_dataset_exits_0_and_verify_writes_nothing(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    before = tree(out)
    result = verify(raw, out)
    assert result.exit_code == 0, result.output
    files = len(partitions(out))
    assert 1 < files < 26  # a file per source and month, fewer than one per article
    assert result.output.startswith(f"verify ok: {files} partition files, 26 rows; manifest: 26 articles, 1 rejects")
    assert tree(out) == before
    done = run_cli("verify", "--out-dir", str(out))
    assert done.returncode == 0 and "verify ok" in done.stdout


def test_an_absent_dataset_is_a_usage_error_not_verify_ok(tmp_path):
    """A mistyped out dir must not look like a healthy, empty dataset (issue 16)."""
    result = invoke("verify", "--out-dir", str(tmp_path / "nothing"))
    assert result.exit_code == 2 and "no dataset at" in result.output


def test_a_truncated_partition_file_is_named_with_its_repair(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    part = partitions(out)[3]
    with open(part, "r+b") as handle:
        handle.truncate(part.stat().st_size // 2)
    result = verify(raw, out)
    assert result.exit_code == 1
    assert f"{part}: unreadable" in result.output
    source, month = partition_of(part)
    first, last = f"{month}-01", shlex.split(repair_partition_command(source, month).split(" (with")[0])[7]
    assert ["articles", "reprocess", "--raw-dir", str(raw), "--out-dir", str(out), "--source", source,
            "--from", first, "--to", last, "--yes"] in repair_commands(result.output)
    run_repairs(result.output)
    assert verify(raw, out).exit_code == 0


def test_a_partition_file_with_garbled_pages_is_found_by_decoding_it(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    part = max(partitions(out), key=lambda p: p.stat().st_size)
    data = bytearray(part.read_bytes())
    middle = len(data) // 3
    data[middle:middle + 64] = bytes(64)  # the footer stays intact
    part.write_bytes(bytes(data))
    result = verify(raw, out)
    assert result.exit_code == 1 and f"{part}: unreadable" in result.output


def test_a_deleted_partition_file_is_named_and_its_command_repairs_it(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    part = partitions(out)[2]
    part.unlink()
    result = verify(raw, out)
    assert result.exit_code == 1
    assert f"{part}: missing: the table's current version names it" in result.output
    run_repairs(result.output)  # the partition rebuilt into a new data file of a new version
    assert verify(raw, out).exit_code == 0 and partition_of(part) in {partition_of(p) for p in partitions(out)}


def test_a_stray_file_is_named_with_vacuum_which_removes_it(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    stray = partitions(out)[0].parent / "part-1.parquet"
    shutil.copy(partitions(out)[1], stray)
    result = verify(raw, out)
    assert result.exit_code == 1
    assert f"{stray}: a file no commit of the table added" in result.output
    assert f"repair: articles vacuum --out-dir {shlex.quote(str(out))}" in result.output


def test_a_row_without_a_manifest_entry_is_named_and_reprocess_drops_it(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    part = partitions(out)[2]
    table = pq.read_table(part)
    ghost = table.slice(0, 1).to_pylist()[0] | {"raw_path": "nowhere/ghost.md", "article_id": "f" * 32}
    extra = pa.Table.from_pylist([ghost], schema=table.schema)
    pq.write_table(pa.concat_tables([table, extra]), part)
    result = verify(raw, out)
    assert result.exit_code == 1
    assert f"{part}: 1 rows of raw files that the manifest does not list as articles (e.g. nowhere/ghost.md)" in result.output
    run_repairs(result.output)
    assert verify(raw, out).exit_code == 0
    assert "nowhere/ghost.md" not in {r["raw_path"] for r in __import__("helpers_pipeline").read_articles(out)}


def test_a_partition_committed_into_another_names_both_duplicates_and_misplaced_rows(raw_and_ingested_out):
    """A file of one partition committed (by the log) into another month: duplicates and misplaced rows."""
    import pyarrow.parquet as pq
    from jobs.lake.table import ArticlesTable, DataFile, file_stats

    raw, out = raw_and_ingested_out
    first, second = partitions(out)[0], partitions(out)[1]
    source, month = partition_of(second)
    relative = f"{second.parent.parent.name}/month=1999-01/part-twin-000000-0000.parquet"
    twin = out / "articles" / relative
    twin.parent.mkdir(parents=True)
    shutil.copy(second, twin)
    rows = pq.read_table(twin)
    ArticlesTable(out).commit([DataFile(relative, source, "1999-01", twin.stat().st_size, rows.num_rows,
                                        file_stats(rows), 0)], [], "twin", {"command": "test"})
    result = verify(raw, out)
    assert result.exit_code == 1
    assert f"{twin}: " in result.output and "that the manifest puts in another partition" in result.output
    assert "rows dated outside its partition month 1999-01" in result.output
    assert "article_ids with more than one row in the dataset" in result.output
    assert f"{second}:" in result.output and f"{first}:" not in result.output
    assert "repair: articles reprocess" in result.output and "--from 1999-01-01 --to 1999-01-31 --yes" in result.output


def test_a_damaged_manifest_is_named(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    manifest = out / "_state" / "manifest.sqlite"
    data = bytearray(manifest.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)
    manifest.write_bytes(bytes(data))
    result = verify(raw, out)
    assert result.exit_code == 1
    assert f"{manifest}: damaged" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("how", ["deleted", "empty"])
def test_a_missing_or_empty_manifest_is_named(raw_and_ingested_out, how):
    raw, out = raw_and_ingested_out
    manifest = out / "_state" / "manifest.sqlite"
    if how == "deleted":
        manifest.unlink()
    else:
        manifest.write_bytes(b"")
    result = verify(raw, out)
    assert result.exit_code == 1
    assert f"{manifest}: {'missing' if how == 'deleted' else 'damaged'}" in result.output
    if how == "empty":
        assert sqlite3.connect(manifest).execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


def test_rejects_file_out_of_step_with_the_manifest(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    rejects = out / "rejects" / "part-0.parquet"
    table = pq.read_table(rejects)
    pq.write_table(pa.concat_tables([table, table]), rejects)
    result = verify(raw, out)
    assert result.exit_code == 1 and f"{rejects}: 1 raw files have more than one row" in result.output
    rejects.unlink()
    result = verify(raw, out)
    assert result.exit_code == 1 and f"{rejects}: missing; the manifest lists 1 rejects" in result.output
    assert "repair: articles reprocess --raw-dir" in result.output and "--all --yes" in result.output


def test_a_damaged_run_log_is_named(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    runs = out / "_state" / "runs.parquet"
    runs.write_bytes(runs.read_bytes()[:40])
    result = verify(raw, out)
    assert result.exit_code == 1 and f"{runs}: unreadable" in result.output and "articles ingest" in result.output


def test_verify_refuses_while_a_run_holds_the_lock(raw_and_ingested_out):
    raw, out = raw_and_ingested_out
    with open(out / "_state" / "lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        result = verify(raw, out)
    assert result.exit_code == 3 and "locked" in result.output


# -- query and status name the damaged file ---------------------------------------------

@pytest.mark.parametrize("damage", ["truncated", "garbled pages"])
def test_query_and_status_name_a_damaged_file_without_a_traceback(raw_and_ingested_out, damage):
    raw, out = raw_and_ingested_out
    part = max(partitions(out), key=lambda p: p.stat().st_size)
    data = bytearray(part.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    else:
        data[len(data) // 3: len(data) // 3 + 64] = bytes(64)
    part.write_bytes(bytes(data))
    commands = [("query", "--out-dir", str(out), "--format", "csv", "SELECT * FROM articles")]
    if damage == "truncated":  # status reads no page of the text columns, so garbled pages there do not reach it
        commands.append(("status", "--out-dir", str(out)))
    for args in commands:
        done = run_cli(*args)
        assert done.returncode == 1, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        assert str(part) in done.stderr and "articles reprocess" in done.stderr


def test_undated_articles_verify_clean_and_their_repair_is_the_whole_source(tmp_path):
    """The Hive null partition (month=__HIVE_DEFAULT_PARTITION__) is a partition of the dataset, not a stray file."""
    from helpers_pipeline import article_text, run_ingest, write_raw
    from jobs.analyst.verify import verify_dataset

    raw, out = tmp_path / "raw", tmp_path / "out"
    write_raw(raw, "dated.md", article_text("有日期", "2022-08-01 10:00:00"))
    write_raw(raw, "undated.md", article_text("无日期", "Invalid Date"))
    assert run_ingest(raw, out).exit_code == 0
    result = verify_dataset(out)
    assert result.problems == [] and result.manifest_articles == 2 and result.rows == 2
    [undated] = [p for p in partitions(out) if p.parent.name == "month=__HIVE_DEFAULT_PARTITION__"]
    undated.write_bytes(undated.read_bytes()[:50])
    problems = verify_dataset(out).problems
    assert [p.path for p in problems] == [undated]
    assert "--source" in problems[0].repair and "--from" not in problems[0].repair
