"""The one definition of the paths tests use.

The reference corpus lies beside the repository (`../shared/corpus/`), as on
developers' machines and in CI; tests that need it skip cleanly without it.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
FIXTURES_RAW = FIXTURES / "raw"
FIXTURES_EXPECTED = FIXTURES / "expected"
SHARED_CORPUS = REPO.parent / "shared" / "corpus"
REAL_CORPUS = SHARED_CORPUS / "real"
MORE_CORPUS = SHARED_CORPUS / "more"
