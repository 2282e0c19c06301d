"""Paths and markers shared by the tests (importable: pytest puts tests/ on sys.path)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
# The real export samples sit beside the project (../shared/samples); VALUE_PIPELINE_SAMPLES
# points elsewhere when a checkout lives somewhere else.
SAMPLES = Path(os.environ.get("VALUE_PIPELINE_SAMPLES", PROJECT.parent / "shared" / "samples"))
SAMPLE_EXPORTS = PROJECT / "sample_exports"


def needs_samples(path: Path):
    """Skip when the real samples are not beside the project (they are in CI)."""
    return pytest.mark.skipif(not path.exists(), reason=f"real samples not present at {path}")
