"""Shared test setup: repository paths, the real reference corpus, the golden tool.

Kept small on purpose: helpers for one group of tests live next to those tests.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from paths import REAL_CORPUS, REPO


@pytest.fixture(scope="session")
def real_corpus() -> Path:
    if not REAL_CORPUS.is_dir():
        pytest.skip(f"real reference corpus not found at {REAL_CORPUS}")
    return REAL_CORPUS


@pytest.fixture(scope="session")
def golden_tool() -> ModuleType:
    """tools/regen_golden.py as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location("regen_golden", REPO / "tools" / "regen_golden.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
