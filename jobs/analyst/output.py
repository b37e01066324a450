"""`articles query`: run SQL and print or save the result in the chosen format."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from jobs.analyst.query import connect, parse_as_of
from jobs.analyst.verify import damaged_file_error
from jobs.errors import ArticleLakeError, UsageError


def run_query(out_dir: Path, sql: str, output_format: str, output: Path | None, as_of: str | None = None) -> None:
    """Run `sql` in the sandbox (see query.py), over the table's version `as_of` (a version number or an
    ISO instant; default the latest); print the result or save it to `output`."""
    if output_format == "parquet" and output is None:
        raise UsageError("--format parquet needs --output FILE")
    if output is not None:
        check_output_path(output, out_dir)
    connection = connect(out_dir, parse_as_of(as_of) if as_of is not None else None)
    try:
        relation = connection.sql(sql)
        if relation is None:
            return
        if output_format == "parquet":
            _write_atomically(output, lambda path: _write_parquet(relation, path))
            return
        columns, rows = relation.columns, relation.fetchall()
    except duckdb.Error as error:
        raise sql_error(error, out_dir) from None
    text = render(columns, rows, output_format)
    if output is None:
        sys.stdout.write(text)
    else:
        _write_atomically(output, lambda path: path.write_text(text, encoding="utf-8"))


def sql_error(error: duckdb.Error, out_dir: Path) -> ArticleLakeError:
    """A DuckDB error as the CLI reports it: refusals by the sandbox say so; a damaged file is named."""
    if isinstance(error, duckdb.PermissionException) or "configuration has been locked" in str(error):
        return UsageError(f"not allowed: `articles query` reads only the views articles, rejects and runs and "
                          f"writes only --output FILE ({_first_line(error)})")
    damaged = damaged_file_error(error, out_dir)
    return damaged or UsageError(f"SQL error: {error}")


def check_output_path(output: Path, out_dir: Path) -> None:
    """--output must be a file outside the dataset: a result saved there would become part of it."""
    target, dataset = Path(os.path.realpath(output)), Path(os.path.realpath(out_dir))
    if target == dataset or dataset in target.parents:
        raise UsageError(f"--output {output} is inside the dataset {out_dir}; write results elsewhere")
    if target.is_dir():
        raise UsageError(f"--output {output} is a folder; give a file name")
    if not target.parent.is_dir():
        raise UsageError(f"--output {output}: folder {output.parent} does not exist")


def _write_atomically(output: Path, write) -> None:
    """Write next to `output`, then rename over it: a hard link at `output` is replaced, never written through."""
    handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    os.close(handle)
    try:
        write(Path(temporary))
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


def interactive(out_dir: Path, as_of: str | None = None) -> None:
    """A minimal SQL prompt: one statement per line, `.quit` to leave."""
    connection = connect(out_dir, parse_as_of(as_of) if as_of is not None else None)
    print("views: articles, rejects, runs. End with .quit", file=sys.stderr)
    while True:
        try:
            sql = input("articles> ").strip()
        except EOFError:
            return
        if sql in (".quit", ".exit", "quit", "exit"):
            return
        if not sql:
            continue
        try:
            relation = connection.sql(sql)
            if relation is not None:
                print(markdown_table(relation.columns, relation.fetchall()))
        except duckdb.Error as error:
            print(f"error: {sql_error(error, out_dir)}", file=sys.stderr)
