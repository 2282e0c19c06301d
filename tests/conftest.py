"""Shared fixtures. Real export samples are read in place from ../shared/samples (support.py)."""

from __future__ import annotations

import os

import pytest

from value_pipeline.identity import Pseudonymizer
from value_pipeline.ingest.common import ReadContext
from value_pipeline.instrument import load_instrument

# Tests never rely on the development secret (its warning is for real runs).
os.environ.setdefault("VALUE_PIPELINE_SECRET", "test-only-secret")


@pytest.fixture
def pseudonymizer() -> Pseudonymizer:
    return Pseudonymizer(b"test-secret")


@pytest.fixture
def context(pseudonymizer):
    """Build a ReadContext for a reader test: context(member_files=[...], timezone=...)."""

    def build(**settings) -> ReadContext:
        settings.setdefault("instrument", load_instrument())
        return ReadContext(community="demo", pseudonymizer=pseudonymizer, **settings)

    return build
