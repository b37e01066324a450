"""Regenerate the golden records in tests/fixtures/expected/ from tests/fixtures/raw/.

    python tools/regen_golden.py           # write new goldens; refuse changed ones without a version bump
    python tools/regen_golden.py --check   # write nothing; exit 1 if any golden is stale

Each fixture `raw/<name>.md` has `expected/<name>.json`: what jobs.parse.record.parse_article
returns for it (every column but raw_sha256), dates as ISO strings. The fixture is
parsed with raw_path `<name>.md`.

Changing a golden's content means extraction output changed, so PARSER_VERSION
(jobs/__init__.py) must be bumped first: the script refuses otherwise. New fixtures
can be added without a bump. `expected/_parser_version.json` records the version
the goldens were made with and a fingerprint of their content;
tests/test_parser_version.py fails when they disagree with the code.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RAW_DIR = REPO / "tests" / "fixtures" / "raw"
EXPECTED_DIR = REPO / "tests" / "fixtures" / "expected"
VERSION_FILE = EXPECTED_DIR / "_parser_version.json"
EXCLUDED_COLUMNS = ("raw_sha256",)

if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))

from jobs.parse import PARSER_VERSION  # noqa: E402
from jobs.parse.record import parse_article  # noqa: E402


def fixture_names() -> list[str]:
    return sorted(path.stem for path in RAW_DIR.glob("*.md"))


def expected_record(name: str) -> dict[str, Any]:
    """The golden record of one fixture, JSON-ready."""
    record = parse_article((RAW_DIR / f"{name}.md").read_bytes(), f"{name}.md")
    return {key: _jsonable(value) for key, value in record.as_dict().items() if key not in EXCLUDED_COLUMNS}


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def render(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, indent=2) + "\n"


def fingerprint(records: dict[str, dict[str, Any]]) -> str:
    """Hash of the goldens' content (not their formatting), in name order."""
    digest = hashlib.sha256()
    for name in sorted(records):
        digest.update(name.encode("utf-8") + b"\x00")
        digest.update(json.dumps(records[name], ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\x00")
    return digest.hexdigest()


def read_goldens() -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(EXPECTED_DIR.glob("*.json")) if not path.name.startswith("_")}


def read_version_file() -> dict[str, str]:
    if not VERSION_FILE.exists():
        return {}
    return json.loads(VERSION_FILE.read_text(encoding="utf-8"))


def version_problem(current_fingerprint: str, stored: dict[str, str], parser_version: str) -> str | None:
    """Why the version file disagrees with the extraction output and PARSER_VERSION, or None."""
    if not stored:
        return f"{VERSION_FILE.name} is missing: run tools/regen_golden.py"
    if current_fingerprint != stored.get("fingerprint"):
        if stored.get("parser_version") == parser_version:
            return (f"extraction output changed but PARSER_VERSION is still {parser_version!r}: "
                    "bump it in jobs/__init__.py, then run tools/regen_golden.py")
        return f"PARSER_VERSION is now {parser_version!r}: run tools/regen_golden.py to record the new goldens"
    if stored.get("parser_version") != parser_version:
        return (f"PARSER_VERSION is {parser_version!r} but the goldens were recorded with "
                f"{stored.get('parser_version')!r}: run tools/regen_golden.py")
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a golden is stale")
    args = parser.parse_args(argv)

    new = {name: expected_record(name) for name in fixture_names()}
    old = read_goldens()
    stored = read_version_file()
    changed = sorted(name for name in new if name in old and old[name] != new[name])
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    version_file_stale = version_problem(fingerprint(new), stored, PARSER_VERSION) is not None

    for name in changed:
        keys = [key for key in new[name] if old[name].get(key) != new[name].get(key)]
        print(f"changed: {name}.json ({', '.join(keys)})")
    for name in added:
        print(f"new:     {name}.json")
    for name in removed:
        print(f"removed: {name}.json (its fixture is gone)")

    if args.check:
        stale = bool(changed or added or removed or version_file_stale)
        print("goldens are stale: run tools/regen_golden.py" if stale else "goldens are up to date")
        return 1 if stale else 0

    if changed and stored.get("parser_version") == PARSER_VERSION:
        print(f"refusing: extraction output changed but PARSER_VERSION is still {PARSER_VERSION!r}; "
              "bump it in jobs/__init__.py, then rerun", file=sys.stderr)
        return 1

    EXPECTED_DIR.mkdir(parents=True, exist_ok=True)
    for name, record in new.items():
        path = EXPECTED_DIR / f"{name}.json"
        text = render(record)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    for name in removed:
        (EXPECTED_DIR / f"{name}.json").unlink()
    VERSION_FILE.write_text(render({"parser_version": PARSER_VERSION, "fingerprint": fingerprint(new)}), encoding="utf-8")
    print(f"{len(new)} goldens written for parser version {PARSER_VERSION}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
