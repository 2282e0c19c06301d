"""Every real export file in ../shared/samples is either read, with balanced accounts, or
refused with a one-line error naming it: never a traceback."""

import pytest
from support import SAMPLES, needs_samples

from value_pipeline.errors import InputError
from value_pipeline.ingest import read_export

pytestmark = needs_samples(SAMPLES)
NOT_EXPORTS = {"SOURCES.txt", "README.md", "LICENSE.upstream"}
SAMPLE_FILES = sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.name not in NOT_EXPORTS) if SAMPLES.exists() else []
EXPORT_FOLDERS = [SAMPLES / "slack" / "slack-export-viewer" / "export"] if SAMPLES.exists() else []


@pytest.mark.parametrize("path", [*SAMPLE_FILES, *EXPORT_FOLDERS], ids=lambda p: str(p.relative_to(SAMPLES)))
def test_every_real_sample_reads_or_fails_cleanly(path, pseudonymizer):
    try:
        data = read_export(path, pseudonymizer, timezone="UTC")
    except InputError as error:
        message = str(error)
        assert "\n" not in message and str(path) in message
        return
    assert data.platforms, "a read export names its format"
    assert all(account.balanced for account in data.accounts), data.accounts


def test_the_formats_with_samples_are_all_recognised(pseudonymizer):
    expected = {
        "discourse/discourse_api/topic.json": "discourse",
        "discourse/discourse_api/latest.json": "discourse",
        "slack/slack-export-viewer/testarchive.zip": "slack",
        "canvas/canvas-android/discussion_view_long_ids.json": "canvas",
        "qualtrics/qualtRics/sample_legacy.csv": "qualtrics",
        "google_forms/autistica/form_responses.csv": "google_forms",
    }
    for relative, platform in expected.items():
        assert read_export(SAMPLES / relative, pseudonymizer).platforms == [platform], relative
