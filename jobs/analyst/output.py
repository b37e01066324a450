"""`articles query`: run SQL and print or save the result in the chosen format."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb

from jobs.errors import UsageError
from jobs.analyst.query import connect


# Statements that read or write files other than the dataset's: refused, so a query can never
# change the dataset (or anything else on disk). --output is how results are saved.
_REFUSED = {"COPY", "EXPORT", "ATTACH", "DETACH", "LOAD"}


def check_read_only(sql: str) -> None:
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        raise UsageError(f"SQL error: {error}") from None
    for statement in statements:
        kind = statement.type.name
        if kind in _REFUSED:
            raise UsageError(f"SQL error: {kind} statements are not allowed here (the dataset is read-only; use --output FILE to save a result)")


def run_query(out_dir: Path, sql: str, output_format: str, output: Path | None) -> None:
    check_read_only(sql)
    connection = connect(out_dir)
    try:
        relation = connection.sql(sql)
    except duckdb.Error as error:
        raise UsageError(f"SQL error: {error}") from None
    if relation is None:
        return
    if output_format == "parquet":
        if output is None:
            raise UsageError("--format parquet needs --output FILE")
        try:
            relation.write_parquet(str(output), compression="zstd")
        except duckdb.Error as error:
            raise UsageError(f"SQL error: {error}") from None
        return
    try:
        columns, rows = relation.columns, relation.fetchall()
    except duckdb.Error as error:
        raise UsageError(f"SQL error: {error}") from None
    text = render(columns, rows, output_format)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


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


def interactive(out_dir: Path) -> None:
    """A minimal SQL prompt: one statement per line, `.quit` to leave."""
    connection = connect(out_dir)
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
            check_read_only(sql)
            relation = connection.sql(sql)
            if relation is not None:
                print(markdown_table(relation.columns, relation.fetchall()))
        except (duckdb.Error, UsageError) as error:
            print(f"error: {error}", file=sys.stderr)
