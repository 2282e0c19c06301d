"""Shared fixtures. Real export samples are read in place from ../shared/samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from value_pipeline.identity import Pseudonymizer

PROJECT = Path(__file__).resolve().parents[1]
SAMPLES = PROJECT.parent / "shared" / "samples"
SAMPLE_EXPORTS = PROJECT / "sample_exports"


def needs_samples(path: Path):
    return pytest.mark.skipif(not path.exists(), reason=f"real samples not present at {path}")


@pytest.fixture
def pseudonymizer() -> Pseudonymizer:
    return Pseudonymizer(b"test-secret")
