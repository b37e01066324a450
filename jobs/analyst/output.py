"""`articles query`: run SQL and print or save the result in the chosen format."""

from __future__ import annotations

import json
import os
import signal
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

import duckdb
import pyarrow.parquet as pq

from jobs.analyst.query import connect, parse_as_of
from jobs.analyst.verify import damaged_file_error
from jobs.errors import ArticleLakeError, QueryInterrupted, QueryTimedOut, UsageError

STOP_WAIT_S = 2.0  # after interrupt(), how long to wait for DuckDB to give the thread back
Value = TypeVar("Value")


def run_query(out_dir: Path, sql: str, output_format: str, output: Path | None, timeout: float | None = None,
              as_of: str | None = None) -> None:
    """Run `sql` in the sandbox (see query.py), over the table's version `as_of` (a version number or an
    ISO instant; default the latest); print the result or save it to `output`.
    Ctrl-C raises QueryInterrupted, `timeout` seconds QueryTimedOut; either stops DuckDB first."""
    if output_format == "parquet" and output is None:
        raise UsageError("--format parquet needs --output FILE")
    mode = None
    if output is not None:
        check_output_path(output, out_dir)
        mode = output_mode(output)
    with _interruptible():  # opening the table's snapshot takes a moment: Ctrl-C then stops it too
        connection = connect(out_dir, parse_as_of(as_of) if as_of is not None else None)

    def execute():
        relation = connection.sql(sql)
        if relation is None:
            return None
        if output_format == "parquet":
            _write_atomically(output, mode, lambda path: _write_parquet(relation, path))
            return None
        return relation.columns, relation.fetchall()

    try:
        result = stoppable(connection, execute, timeout)
    except duckdb.Error as error:
        raise sql_error(error, out_dir) from None
    if result is None:
        return
    text = render(*result, output_format)
    if output is None:
        sys.stdout.write(text)
    else:
        _write_atomically(output, mode, lambda path: path.write_text(text, encoding="utf-8"))


class _interruptible:
    """SIGINT raises KeyboardInterrupt (even when inherited ignored) and becomes QueryInterrupted.

    A SIGINT that lands while DuckDB executes in this thread is taken by DuckDB, which stops and raises its
    own `RuntimeError: Query interrupted` instead: any error after a SIGINT is the interruption.
    """

    def __enter__(self) -> None:
        self.in_main = threading.current_thread() is threading.main_thread()
        self.interrupted = False

        def interrupt(signum, frame):
            self.interrupted = True
            raise KeyboardInterrupt

        self.previous = signal.signal(signal.SIGINT, interrupt) if self.in_main else None

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.in_main:
            signal.signal(signal.SIGINT, self.previous)
        if exc_type is KeyboardInterrupt or (exc_type is not None and self.interrupted):
            raise QueryInterrupted("query interrupted (Ctrl-C)") from None


def stoppable(connection: duckdb.DuckDBPyConnection, work: Callable[[], Value], timeout: float | None) -> Value:
    """`work()` (which uses `connection`) run so that Ctrl-C and `timeout` stop it within a second or two.

    Python runs signal handlers only in the main thread, between bytecodes: while DuckDB computes
    in the main thread, SIGINT waits for the query to end. So the query runs in a helper thread;
    the main thread waits in short steps, takes the KeyboardInterrupt, and stops DuckDB with
    `connection.interrupt()`. SIGINT is taken even when inherited ignored (as a shell starts a
    background job): `kill -INT` is how a query is asked to stop.
    """
    outcome: dict[str, object] = {}
    # Waited on instead of Thread.join: a join that Ctrl-C interrupts marks the thread as ended
    # while it still runs (Python 3.11, bpo-45274).
    done = threading.Event()

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # noqa: BLE001 - handed to the main thread as it is
            outcome["error"] = error
        finally:
            done.set()

    thread = threading.Thread(target=target, name="articles-query", daemon=True)
    deadline = None if timeout is None else time.monotonic() + timeout
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler) if in_main else None
    try:
        thread.start()
        while not done.is_set():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                _stop(connection, done)
                raise QueryTimedOut(f"query stopped after --timeout {timeout:g} s")
            done.wait(0.1 if left is None else min(0.1, left))
    except KeyboardInterrupt:
        _stop(connection, done)
        raise QueryInterrupted("query interrupted (Ctrl-C)") from None
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome.get("value")  # type: ignore[return-value]


def _stop(connection: duckdb.DuckDBPyConnection, done: threading.Event) -> None:
    connection.interrupt()
    deadline = time.monotonic() + STOP_WAIT_S
    while not done.is_set() and time.monotonic() < deadline:
        try:
            done.wait(0.1)
        except KeyboardInterrupt:  # a second Ctrl-C: we are already stopping
            pass


def sql_error(error: duckdb.Error, out_dir: Path) -> ArticleLakeError:
    """A DuckDB error as the CLI reports it: refusals by the sandbox say so; a damaged file is named."""
    if isinstance(error, duckdb.PermissionException) or "configuration has been locked" in str(error):
        return UsageError(f"not allowed: `articles query` reads only the views articles, rejects and runs and "
                          f"writes only --output FILE ({_first_line(error)})")
    damaged = damaged_file_error(error, out_dir)
    return damaged or UsageError(f"SQL error: {error}")


def check_output_path(output: Path, out_dir: Path) -> None:
    """--output must be a regular file (or a new path) outside the dataset: a result saved inside would
    become part of it, and the result replaces what is at the path, which must not be a symlink
    (its target is not ours: `/dev/stdout` is one), a FIFO or a device."""
    target, dataset = Path(os.path.realpath(output)), Path(os.path.realpath(out_dir))
    if target == dataset or dataset in target.parents:
        raise UsageError(f"--output {output} is inside the dataset {out_dir}; write results elsewhere")
    try:
        found = os.lstat(output).st_mode
    except FileNotFoundError:
        found = None
    except OSError as error:
        raise UsageError(f"--output {output}: {error.strerror or error}") from None
    if found is not None and stat.S_ISDIR(found):
        raise UsageError(f"--output {output} is a folder; give a file name")
    if found is not None and not stat.S_ISREG(found):
        raise UsageError(f"--output {output} is a {_kind(found)}, not a regular file; give a new path or a regular "
                         "file to replace (leave out --output to print to stdout)")
    if not target.parent.is_dir():
        raise UsageError(f"--output {output}: folder {output.parent} does not exist")


def output_mode(output: Path) -> int:
    """Permission bits for the file written at `output`: those of the regular file it replaces, else
    what any new file gets (0666 less the umask)."""
    try:
        return stat.S_IMODE(os.stat(output).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def _write_atomically(output: Path, mode: int, write) -> None:
    """Write next to `output`, then rename over it: a hard link at `output` is replaced, never written through.
    mkstemp makes the file 0600; it gets `mode` before it takes the name."""
    handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    os.close(handle)
    try:
        write(Path(temporary))
        os.chmod(temporary, mode)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write_parquet(relation: duckdb.DuckDBPyRelation, path: Path) -> None:
    batches = relation.to_arrow_reader()
    with pq.ParquetWriter(path, batches.schema, compression="zstd") as writer:
        for batch in batches:
            writer.write_batch(batch)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]


def render(columns: Sequence[str], rows: Sequence[tuple], output_format: str) -> str:
    if output_format == "csv":
        import csv
        import io
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        return buffer.getvalue()
    if output_format == "json":
        return json.dumps([dict(zip(columns, row)) for row in rows], ensure_ascii=False, default=str) + "\n"
    if list(columns) == ["explain_key", "explain_value"]:  # EXPLAIN [ANALYZE]: the plan as drawn
        return "\n".join(str(value) for _, value in rows) + "\n"
    return markdown_table(columns, rows) + "\n"


def markdown_table(columns: Sequence[str], rows: Iterable[Sequence]) -> str:
    def cell(value) -> str:
        text = "" if value is None else str(value)
        return text.replace("\n", " ").replace("|", "\\|")[:80]
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def interactive(out_dir: Path, timeout: float | None = None, as_of: str | None = None) -> None:
    """A minimal SQL prompt: one statement per line, `.quit` or Ctrl-D to leave. Ctrl-C stops the
    running query, or drops the line being typed, and the prompt stays."""
    connection = connect(out_dir, parse_as_of(as_of) if as_of is not None else None)
    print("views: articles, rejects, runs. Ctrl-C stops a query; end with .quit or Ctrl-D", file=sys.stderr)
    while True:
        try:
            sql = input("articles> ").strip()
        except EOFError:
            return
        except KeyboardInterrupt:
            print(file=sys.stderr)
            continue
        if sql in (".quit", ".exit", "quit", "exit"):
            return
        if not sql:
            continue

        def fetch(sql: str = sql):
            relation = connection.sql(sql)
            return None if relation is None else (relation.columns, relation.fetchall())

        try:
            result = stoppable(connection, fetch, timeout)
        except duckdb.Error as error:
            print(f"error: {sql_error(error, out_dir)}", file=sys.stderr)
        except (QueryInterrupted, QueryTimedOut) as error:
            print(f"error: {error}", file=sys.stderr)
        else:
            if result is not None:
                print(markdown_table(*result))
