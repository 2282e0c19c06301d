"""Paths and markers shared by the tests (importable: pytest puts tests/ on sys.path)."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
SAMPLES = PROJECT.parent / "shared" / "samples"
SAMPLE_EXPORTS = PROJECT / "sample_exports"


def needs_samples(path: Path):
    """Skip when the real samples are not beside the project (they are in CI)."""
    return pytest.mark.skipif(not path.exists(), reason=f"real samples not present at {path}")
