"""File names that are not valid UTF-8 (`bad\\xff.md`): ingested by their bytes, stored as a lossless
escaped `raw_path` (schemas/raw_path.py), and `report`, `review`, `reprocess` and `inspect` handle
them. (The whole run failed with `UnicodeEncodeError ... surrogates not allowed`.)"""

from __future__ import annotations

import json
import os

from hypothesis import given, strategies as st
from typer.testing import CliRunner

from helpers_pipeline import article_text, read_articles, run_ingest, write_raw
from jobs.cli import app
from schemas.raw_path import os_raw_path, raw_file_path, stored_raw_path

BAD_NAME = b"bad\xff\xfe.md"  # not UTF-8


def _write_bad_name(raw, folder: str, title: str) -> bytes:
    path = os.path.join(os.fsencode(raw / folder), BAD_NAME)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(article_text(title, "2022-08-01 10:00:00", author="字节源").encode("utf-8"))
    return path


def test_a_name_that_is_not_utf8_is_ingested_and_read_back_by_its_bytes(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    real = _write_bad_name(raw, "src", "坏名字")
    write_raw(raw, "src/good.md", article_text("好名字", "2022-08-01 11:00:00", author="字节源"))
    report = run_ingest(raw, out)
    assert report.exit_code == 0 and report.articles_written == 2 and report.rejects == 0
    stored = {row["title"]: row["raw_path"] for row in read_articles(out)}
    assert stored == {"坏名字": "src/bad\\xff\\xfe.md", "好名字": "src/good.md"}
    # The stored form leads back to the very bytes of the name.
    assert os.fsencode(raw_file_path(raw, stored["坏名字"])) == real
    assert run_ingest(raw, out).files_parsed == 0  # the manifest knows it: a rerun is a no-op

    runner = CliRunner()
    dry = runner.invoke(app, ["reprocess", "--raw-dir", str(raw), "--out-dir", str(out), "--all"])
    assert dry.exit_code == 0 and "reparse 2 files" in dry.output, dry.output
    again = runner.invoke(app, ["reprocess", "--raw-dir", str(raw), "--out-dir", str(out), "--all", "--yes",
                                "--workers", "1"])
    assert again.exit_code == 0 and "2 parsed" in again.output and "0 rejects" in again.output, again.output
    assert sorted(row["raw_path"] for row in read_articles(out)) == ["src/bad\\xff\\xfe.md", "src/good.md"]


def test_report_review_and_inspect_do_not_crash_on_such_names(tmp_path):
    raw = tmp_path / "raw"
    real = _write_bad_name(raw, "src", "坏名字")
    runner = CliRunner()
    report = runner.invoke(app, ["report", "--raw-dir", str(raw), "--workers", "1", "--json"])
    assert report.exit_code == 0, report.output
    assert [row["rows"] for row in json.loads(report.stdout)] == [1]
    page = tmp_path / "review.html"
    review = runner.invoke(app, ["review", "--raw-dir", str(raw), "--html", str(page), "--workers", "1"])
    assert review.exit_code == 0, review.output
    assert "1 sample articles" in review.output and "bad\\xff\\xfe.md" in page.read_text(encoding="utf-8")
    inspect = runner.invoke(app, ["inspect", os.fsdecode(real), "--raw-dir", str(raw)])
    assert inspect.exit_code == 0, inspect.output
    assert json.loads(inspect.stdout)["raw_path"] == "src/bad\\xff\\xfe.md"


def test_valid_names_are_stored_as_they_are():
    for name in ("新浪财经/7月乘用车零售销量同比增长173%.md", "a b/c.md", "back\\slash.md", "x\\y\\z.md"):
        assert stored_raw_path(name) == name and os_raw_path(name) == name


# Names as the OS gives them: any bytes but '/' and NUL, decoded with surrogateescape. Backslashes and
# 'x' are over-represented: they are what an escape could be confused with.
_name_bytes = st.lists(st.one_of(st.sampled_from([b"\\", b"x", b"\xff", b"\x80", b"7f", b"ab"]),
                                 st.binary(min_size=1, max_size=3)), max_size=12)


@given(_name_bytes)
def test_the_escaped_form_is_valid_utf8_and_lossless(parts):
    raw = b"".join(parts).replace(b"/", b"_").replace(b"\x00", b"_")
    os_name = os.fsdecode(raw)
    stored = stored_raw_path(os_name)
    stored.encode("utf-8")  # storable in SQLite and Arrow
    assert os.fsencode(os_raw_path(stored)) == raw


@given(st.lists(st.binary(min_size=1, max_size=8).map(lambda b: b.replace(b"/", b"_").replace(b"\x00", b"_")),
                min_size=2, max_size=2, unique=True))
def test_two_different_names_never_share_a_raw_path(names):
    first, second = (stored_raw_path(os.fsdecode(name)) for name in names)
    assert first != second
