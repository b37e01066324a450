"""PARSER_VERSION moves whenever extraction output moves.

tests/fixtures/expected/_parser_version.json stores the version the goldens were recorded
with and a fingerprint of their content. If the fixtures now parse to something else while
PARSER_VERSION is unchanged, rows written before and after the change would carry the same
version and `reprocess --parser-older-than` could not find the stale ones.
"""

from __future__ import annotations

import json
import shutil

import pytest

from jobs.parse import PARSER_VERSION


def test_extraction_output_matches_the_recorded_version(golden_tool):
    current = {name: golden_tool.expected_record(name) for name in golden_tool.fixture_names()}
    problem = golden_tool.version_problem(golden_tool.fingerprint(current), golden_tool.read_version_file(), PARSER_VERSION)
    assert problem is None, problem


def test_goldens_on_disk_match_the_recorded_fingerprint(golden_tool):
    """A golden edited by hand (instead of regenerated) is caught too."""
    stored = golden_tool.read_version_file()
    assert golden_tool.fingerprint(golden_tool.read_goldens()) == stored["fingerprint"]
    assert stored["parser_version"] == PARSER_VERSION


def test_version_problem_flags_a_changed_output_without_a_bump(golden_tool):
    stored = {"parser_version": "7", "fingerprint": "aaa"}
    assert golden_tool.version_problem("aaa", stored, "7") is None
    assert "bump it" in golden_tool.version_problem("bbb", stored, "7")  # output changed, version did not
    assert "regen_golden" in golden_tool.version_problem("bbb", stored, "8")  # bumped, goldens not yet regenerated
    assert "regen_golden" in golden_tool.version_problem("aaa", stored, "8")  # bumped, version file not updated
    assert "missing" in golden_tool.version_problem("aaa", {}, "7")


@pytest.fixture
def sandbox(golden_tool, tmp_path, monkeypatch):
    """The golden tool pointed at a copy of two fixtures, with its own expected/ folder."""
    raw, expected = tmp_path / "raw", tmp_path / "expected"
    raw.mkdir()
    for name in ("kr36", "sina"):
        shutil.copy(golden_tool.RAW_DIR / f"{name}.md", raw / f"{name}.md")
    monkeypatch.setattr(golden_tool, "RAW_DIR", raw)
    monkeypatch.setattr(golden_tool, "EXPECTED_DIR", expected)
    monkeypatch.setattr(golden_tool, "VERSION_FILE", expected / "_parser_version.json")
    monkeypatch.setattr(golden_tool, "PARSER_VERSION", "10")
    assert golden_tool.main([]) == 0
    return raw, expected


def test_regen_refuses_changed_goldens_without_a_bump(golden_tool, sandbox, monkeypatch, capsys):
    raw, expected = sandbox
    before = (expected / "kr36.json").read_text(encoding="utf-8")
    # Simulate an extraction change: the fixture now parses to a different record.
    (raw / "kr36.md").write_text((raw / "kr36.md").read_text(encoding="utf-8").replace("8.6%", "9.1%"), encoding="utf-8")

    assert golden_tool.main(["--check"]) == 1
    assert golden_tool.main([]) == 1
    assert "PARSER_VERSION" in capsys.readouterr().err
    assert (expected / "kr36.json").read_text(encoding="utf-8") == before  # nothing overwritten

    monkeypatch.setattr(golden_tool, "PARSER_VERSION", "11")
    assert golden_tool.main([]) == 0
    assert "9.1%" in (expected / "kr36.json").read_text(encoding="utf-8")
    stored = json.loads((expected / "_parser_version.json").read_text(encoding="utf-8"))
    assert stored["parser_version"] == "11"
    assert stored["fingerprint"] == golden_tool.fingerprint(golden_tool.read_goldens())
    assert golden_tool.main(["--check"]) == 0


def test_regen_adds_a_new_fixture_without_a_bump(golden_tool, sandbox):
    raw, expected = sandbox
    shutil.copy(golden_tool.REPO / "tests" / "fixtures" / "raw" / "dmgame.md", raw / "dmgame.md")
    assert golden_tool.main([]) == 0
    assert (expected / "dmgame.json").exists()
    assert golden_tool.main(["--check"]) == 0


def test_goldens_leave_out_raw_sha256_and_use_iso_dates(golden_tool):
    record = golden_tool.expected_record("sina")
    assert "raw_sha256" not in record
    assert record["date"] == "2022-08-07"
    assert record["published_at"] == "2022-08-07T23:12:05+00:00"
