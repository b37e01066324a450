"""The one way tests run the CLI in process: Typer's CliRunner over jobs.cli.app.

(tests/test_cli_exit_codes.py also runs it as a real subprocess: the other way.)
"""

from __future__ import annotations

from typer.testing import CliRunner, Result

from jobs.cli import app


def invoke(*args: object, **kwargs) -> Result:
    """`articles ARGS...` in this process; arguments may be paths or numbers (passed as text)."""
    return CliRunner().invoke(app, [str(arg) for arg in args], **kwargs)
