"""Rewrite the generated parts of the docs: the README's schema block and schemas/views.sql.

    .venv/bin/python tools/regen_docs.py        (tests/test_docs.py fails when they drift)
"""

from __future__ import annotations

from pathlib import Path

from schemas.docs import schema_markdown
from schemas.views import VIEWS_FILE, render_views_file

README = Path(__file__).resolve().parents[1] / "README.md"


def main() -> None:
    text = README.read_text(encoding="utf-8")
    head, rest = text.split("<!-- schema:start -->", 1)
    _, tail = rest.split("<!-- schema:end -->", 1)
    README.write_text(f"{head}<!-- schema:start -->\n{schema_markdown().strip()}\n<!-- schema:end -->{tail}", encoding="utf-8")
    VIEWS_FILE.write_text(render_views_file(), encoding="utf-8")


if __name__ == "__main__":
    main()
