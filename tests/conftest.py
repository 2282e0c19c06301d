"""Shared fixtures. Real export samples are read in place from ../shared/samples (support.py)."""

from __future__ import annotations

import pytest

from value_pipeline.identity import Pseudonymizer


@pytest.fixture
def pseudonymizer() -> Pseudonymizer:
    return Pseudonymizer(b"test-secret")
