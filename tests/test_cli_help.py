"""The top-level help speaks to users; --version says what is installed."""

from __future__ import annotations

from helpers_cli import invoke
from jobs import __version__
from jobs.parse import PARSER_VERSION


def test_help_says_what_the_tool_does_and_where_to_start():
    result = invoke("--help")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "Parquet dataset" in text and "DuckDB" in text
    for start in ("articles ingest", "articles status", "articles query"):
        assert start in text


def test_version_prints_package_and_parser_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output.strip().startswith(f"articles {__version__} (parser {PARSER_VERSION}")
