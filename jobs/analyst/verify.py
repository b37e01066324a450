"""`articles verify`: the table's log, its data files and the manifest, checked against each other. Read-only.

The Delta table's current version names its data files: each is opened and decoded in full
(footer, then every row group; the rows decoded must be the rows the footer counts). A file the
log names that is missing, and a Parquet file under articles/ that no commit ever added (a stray,
a killed run's file), are named. The manifest is opened read-only and checked with SQLite's
quick_check. Then the two must agree:
  - each article the manifest places in a partition (source, month) has its row there (by article_id:
    files that lost to a duplicate share the winner's row), and nowhere else;
  - each row belongs to a raw file the manifest places in that partition with that id;
  - no article_id and no raw_path has two rows in the whole dataset;
  - rejects/part-0.parquet holds exactly the manifest's rejects.
Each problem names its file and the command that repairs it.
"""

from __future__ import annotations

import fcntl
import shlex
import sqlite3
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from jobs.errors import ArticleLakeError, OutputLocked, domain_error
from jobs.lake.damaged import repair_partition_command
from jobs.lake.repair import describe_check
from jobs.lake.paths import Layout, PartitionKey, lock_file, manifest_file, month_of, partition_order, rejects_file, runs_file
from jobs.lake.table import ArticlesTable, untracked_files
from schemas.state import FileStatus
from schemas.views import GLOBS
_EXAMPLES = 3  # raw paths quoted per problem


@dataclass(frozen=True)
class Problem:
    path: Path  # the broken or inconsistent file
    what: str
    repair: str


@dataclass
class Verification:
    problems: list[Problem] = field(default_factory=list)
    partition_files: int = 0
    rows: int = 0
    manifest_articles: int = 0
    manifest_rejects: int = 0

    @property
    def exit_code(self) -> int:
        return 1 if self.problems else 0

    def lines(self) -> list[str]:
        out = []
        for problem in self.problems:
            out.append(f"{problem.path}: {problem.what}")
            out.append(f"  repair: {problem.repair}")
        counts = (f"{self.partition_files} partition files, {self.rows} rows; manifest: {self.manifest_articles} articles, "
                  f"{self.manifest_rejects} rejects")
        files = len({problem.path for problem in self.problems})
        out.append(f"verify failed: {len(self.problems)} problems in {files} files ({counts})" if self.problems
                   else f"verify ok: {counts}; every file reads and agrees with the manifest")
        return out


class DamagedDataset(ArticleLakeError):
    """A data file of the dataset cannot be read; the message names it."""

    exit_code = 1


@dataclass
class _Row:
    path: Path
    raw_path: str


def verify_dataset(out_dir: str | Path, raw_dir: str | Path | None = None) -> Verification:
    out = Path(out_dir)
    commands = _Commands(out, raw_dir)
    result = Verification()
    with _no_run_in_progress(out):
        manifest = _read_manifest(out, result, commands)
        rows_by_partition = _read_partitions(out, result, commands)
        _check_unique(rows_by_partition, result, commands)
        if manifest is not None:
            _check_against_manifest(out, manifest, rows_by_partition, result, commands)
        _check_rejects(out, manifest, result, commands)
        _check_runs(out, result, commands)
    return result


def damaged_file_error(error: Exception, out_dir: str | Path) -> ArticleLakeError | None:
    """For a failed read of the views: the damaged data files, named, with their repair; None if none is."""
    message = str(error)
    if "registered as" not in message and not isinstance(error, duckdb.IOException):
        return None  # not a failure to read the dataset's files (a plain SQL error)
    out = Path(out_dir)
    commands = _Commands(out, None)
    broken = [problem for path in _data_files(out) if (problem := _read_problem(out, path, commands))]
    if not broken:  # every file reads now: it changed under the query (a run swapped it in meanwhile)
        return DamagedDataset(f"reading the dataset {out} failed ({_first_line(error)}); every file reads now: "
                              "run the query again")
    listed = "; ".join(f"{p.path}: {p.what} (repair: {p.repair})" for p in broken[:_EXAMPLES])
    more = f"; and {len(broken) - _EXAMPLES} more" if len(broken) > _EXAMPLES else ""
    return DamagedDataset(f"damaged file in the dataset: {listed}{more}. `articles verify` lists every problem")


# -- reading ------------------------------------------------------------------

def _data_files(out: Path) -> list[Path]:
    """Every file the views read: the table's current data files, the rejects file and the run log."""
    table = ArticlesTable(out)
    live = [table.layout.data_file(f.relative) for f in table.live_files()] if table.exists() else []
    return sorted(live + [path for pattern in GLOBS.values() for path in out.glob(pattern) if path.is_file()])


def _read_problem(out: Path, path: Path, commands: "_Commands") -> Problem | None:
    try:
        _read_rows(path)
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid and ArrowIOError are among these
        return Problem(path, f"unreadable ({_first_line(error)})", commands.for_file(out, path))
    return None


def _read_rows(path: Path, columns: tuple[str, ...] = ()) -> tuple[int, dict[str, list]]:
    """Decode the whole file; return its row count and the chosen columns. Raises on any damage."""
    parquet = pq.ParquetFile(path)
    expected = parquet.metadata.num_rows
    values: dict[str, list] = {name: [] for name in columns}
    decoded = 0
    for batch in parquet.iter_batches(batch_size=65_536):
        decoded += batch.num_rows
        for name in columns:
            values[name].extend(batch.column(name).to_pylist())
    if decoded != expected:
        raise ValueError(f"footer counts {expected} rows, {decoded} decoded")
    return decoded, values


PartitionRows = dict[PartitionKey, list[tuple[str, "_Row"]]]  # partition -> (article_id, row)


def _read_partitions(out: Path, result: Verification, commands: "_Commands") -> PartitionRows:
    """Rows of every data file of the table's current version, by partition; files the log and the
    folder disagree on are named."""
    rows: PartitionRows = {}
    table = ArticlesTable(out)
    if not table.exists():
        return rows
    layout = table.layout
    for relative in untracked_files(layout):
        result.problems.append(Problem(layout.data_file(relative), "a file no commit of the table added (a stray, or a"
                                       " killed run's): invisible to readers of the table, but matched by plain globs",
                                       commands.vacuum()))
    for live in table.live_files():
        key, path = (live.source, live.month), layout.data_file(live.relative)
        result.partition_files += 1
        try:
            count, columns = _read_rows(path, ("article_id", "raw_path", "date"))
        except FileNotFoundError:
            result.problems.append(Problem(path, "missing: the table's current version names it", commands.reprocess(*key)))
            continue
        except (OSError, ValueError, KeyError) as error:
            result.problems.append(Problem(path, f"unreadable ({_first_line(error)})", commands.reprocess(*key)))
            continue
        result.rows += count
        outside = sorted({str(d) for d in columns["date"] if month_of(d) != live.month})
        if outside:
            result.problems.append(Problem(path, f"rows dated outside its partition month {live.month} (e.g. {_examples(outside)})",
                                           commands.reprocess(*key)))
        rows.setdefault(key, []).extend((article_id, _Row(path, raw_path))
                                        for article_id, raw_path in zip(columns["article_id"], columns["raw_path"]))
    return rows


@dataclass
class _Manifest:
    articles: dict[str, tuple[str, str | None, str]]  # raw_path -> (source, month (None: undated), article_id)
    rejects: set[str]


def _read_manifest(out: Path, result: Verification, commands: "_Commands") -> _Manifest | None:
    path = manifest_file(out)
    if not path.exists():
        if _data_files(out):
            result.problems.append(Problem(path, "missing, while the dataset has data files", commands.rebuild_manifest()))
        return None
    try:
        db = _open_read_only(path)
        try:
            check = [row[0] for row in db.execute("PRAGMA quick_check")]
            if check != ["ok"]:
                raise sqlite3.DatabaseError(describe_check(check))
            articles = {raw_path: (source, month_of(date), article_id)
                        for raw_path, source, date, article_id in db.execute(
                            "SELECT raw_path, source, date, article_id FROM files WHERE status = ?", (FileStatus.ARTICLE.value,))}
            rejects = {row[0] for row in db.execute("SELECT raw_path FROM files WHERE status = ?", (FileStatus.REJECT.value,))}
        finally:
            db.close()
    except (sqlite3.Error, ValueError, TypeError) as error:
        full = domain_error(error, out)
        if full is not error:  # SQLite's "disk I/O error" on a full disk: the manifest is not the problem
            result.problems.append(Problem(path, f"cannot be checked: {_first_line(full)}", "free some space and verify again"))
        else:
            result.problems.append(Problem(path, f"damaged ({_first_line(error)})", commands.rebuild_manifest()))
        return None
    result.manifest_articles, result.manifest_rejects = len(articles), len(rejects)
    return _Manifest(articles, rejects)


def _open_read_only(path: Path) -> sqlite3.Connection:
    """Open the manifest without writing a byte. With no WAL file beside it (the last writer closed
    cleanly), the database file is the whole truth: `immutable` then spares SQLite its -shm file.
    A WAL file may hold commits of a killed run, so then it is read too (SQLite needs its -shm; on a full
    disk it cannot make one, and that is said as a full disk, not as a damaged manifest)."""
    uri = f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro"
    wal = path.with_name(path.name + "-wal")
    holds_commits = wal.exists() and wal.stat().st_size > 0  # an empty WAL (a run that failed opening) holds none
    return sqlite3.connect(uri + ("" if holds_commits else "&immutable=1"), uri=True)


# -- checks -------------------------------------------------------------------

def _check_unique(rows_by_partition: PartitionRows, result: Verification, commands: "_Commands") -> None:
    homes_of_id: dict[str, set[PartitionKey]] = defaultdict(set)
    homes_of_path: dict[str, set[PartitionKey]] = defaultdict(set)
    count_of_id: dict[str, int] = defaultdict(int)
    count_of_path: dict[str, int] = defaultdict(int)
    for key, rows in rows_by_partition.items():
        for article_id, row in rows:
            homes_of_id[article_id].add(key)
            homes_of_path[row.raw_path].add(key)
            count_of_id[article_id] += 1
            count_of_path[row.raw_path] += 1
    for label, counts, homes in (("article_id", count_of_id, homes_of_id), ("raw_path", count_of_path, homes_of_path)):
        twice: dict[PartitionKey, list[str]] = defaultdict(list)
        for value, count in counts.items():
            if count > 1:
                for key in homes[value]:
                    twice[key].append(value)
        for key, values in sorted(twice.items(), key=lambda item: partition_order(item[0])):
            path = rows_by_partition[key][0][1].path
            result.problems.append(Problem(path, f"{len(values)} {label}s with more than one row in the dataset "
                                                 f"(e.g. {_examples(values)})", commands.reprocess(*key)))


def _check_against_manifest(out: Path, manifest: _Manifest, rows_by_partition: PartitionRows, result: Verification,
                            commands: "_Commands") -> None:
    expected: dict[PartitionKey, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))  # key -> id -> paths
    for raw_path, (source, month, article_id) in manifest.articles.items():
        expected[(source, month)][article_id].add(raw_path)
    unreadable = {problem.path for problem in result.problems}
    layout = Layout(out)
    for key in sorted(expected.keys() | rows_by_partition.keys(), key=partition_order):
        ids = expected.get(key, {})
        rows = rows_by_partition.get(key)
        path = rows[0][1].path if rows else layout.articles / _partition_folder(*key)
        if rows is None:
            if not any(p.path.parent == path for p in result.problems) and path not in unreadable:
                result.problems.append(Problem(path, f"no data file; the manifest puts {sum(map(len, ids.values()))} raw files' articles here",
                                               commands.reprocess(*key)))
            continue
        present = {article_id for article_id, _ in rows}
        lacking = sorted(p for article_id, paths in ids.items() if article_id not in present for p in paths)
        foreign = sorted(row.raw_path for article_id, row in rows if row.raw_path not in ids.get(article_id, ()))
        if lacking:
            result.problems.append(Problem(path, f"lacks the rows of {len(lacking)} raw files the manifest puts here "
                                                 f"(e.g. {_examples(lacking)})", commands.reprocess(*key)))
        if foreign:
            elsewhere = [p for p in foreign if p in manifest.articles and manifest.articles[p][:2] != key]
            unknown = [p for p in foreign if p not in manifest.articles]
            other = [p for p in foreign if p not in elsewhere and p not in unknown]
            repair = commands.reprocess(*key)
            for group, why in ((elsewhere, "that the manifest puts in another partition"),
                               (unknown, "that the manifest does not list as articles"),
                               (other, "whose article_id differs from the manifest's")):
                if group:
                    result.problems.append(Problem(path, f"{len(group)} rows of raw files {why} (e.g. {_examples(group)})", repair))


def _check_rejects(out: Path, manifest: _Manifest | None, result: Verification, commands: "_Commands") -> None:
    path = rejects_file(out)
    if not path.exists():
        if manifest is not None and manifest.rejects:
            result.problems.append(Problem(path, f"missing; the manifest lists {len(manifest.rejects)} rejects",
                                           commands.reprocess_all()))
        return
    try:
        _, columns = _read_rows(path, ("raw_path",))
    except (OSError, ValueError, KeyError) as error:
        result.problems.append(Problem(path, f"unreadable ({_first_line(error)})", commands.reprocess_all()))
        return
    if manifest is None:
        return
    in_file = columns["raw_path"]
    extra = sorted(set(in_file) - manifest.rejects)
    lacking = sorted(manifest.rejects - set(in_file))
    twice = sorted({p for p in in_file if in_file.count(p) > 1}) if len(in_file) != len(set(in_file)) else []
    for group, why in ((extra, "rows of raw files the manifest does not list as rejects"),
                       (lacking, "rejects of the manifest are missing"), (twice, "raw files have more than one row")):
        if group:
            result.problems.append(Problem(path, f"{len(group)} {why} (e.g. {_examples(group)})", commands.reprocess_all()))


def _check_runs(out: Path, result: Verification, commands: "_Commands") -> None:
    path = runs_file(out)
    if path.exists() and (problem := _read_problem(out, path, commands)):
        result.problems.append(problem)


# -- helpers ------------------------------------------------------------------

class _Commands:
    """The command that repairs each kind of problem, spelled for this dataset."""

    def __init__(self, out: Path, raw_dir: str | Path | None):
        self.dirs = self.out_dir = ""
        if raw_dir is not None and Path(raw_dir) != Path("data/raw"):
            self.dirs += f" --raw-dir {shlex.quote(str(raw_dir))}"
        if out != Path("data/parquet"):
            self.out_dir = f" --out-dir {shlex.quote(str(out))}"
            self.dirs += self.out_dir

    def reprocess(self, source: str, month: str | None) -> str:
        """Rebuild one partition (a source's month); the undated one is in no date range: every partition of its source."""
        command = repair_partition_command(source, month).split(" (with")[0]
        return command.replace("articles reprocess", f"articles reprocess{self.dirs}", 1)

    def vacuum(self) -> str:
        return f"articles vacuum{self.out_dir}"  # reads no raw file

    def reprocess_all(self) -> str:
        return f"articles reprocess{self.dirs} --all --yes"

    def rebuild_manifest(self) -> str:
        return f"articles ingest{self.dirs} (rebuilds the manifest from the dataset)"

    def for_file(self, out: Path, path: Path) -> str:
        if path == runs_file(out):
            return f"articles ingest{self.dirs} (every run rewrites the run log)"
        if path == rejects_file(out):
            return self.reprocess_all()
        table = ArticlesTable(out)
        for live in (table.live_files() if table.exists() else []):
            if table.layout.data_file(live.relative) == path:
                return self.reprocess(live.source, live.month)
        return self.vacuum()


class _no_run_in_progress:
    """Hold the run lock shared while reading, so no run swaps files under the check (exit 3 if one runs)."""

    def __init__(self, out: Path):
        self.path = lock_file(out)
        self.handle = None

    def __enter__(self):
        try:
            self.handle = open(self.path, "rb")  # never created: verify writes nothing
        except FileNotFoundError:
            return self
        try:
            fcntl.flock(self.handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.close()
            raise OutputLocked(f"output folder {self.path.parent.parent} is locked by a running ingest or reprocess; "
                               "verify when it has finished") from None
        return self

    def __exit__(self, *exc) -> None:
        if self.handle is not None:
            self.handle.close()


def _partition_folder(source: str, month: str | None) -> str:
    from jobs.lake.paths import partition_dir
    return partition_dir(source, month)


def _examples(values: list[str]) -> str:
    return ", ".join(values[:_EXAMPLES]) + (", ..." if len(values) > _EXAMPLES else "")


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
