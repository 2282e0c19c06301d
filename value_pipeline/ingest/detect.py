"""Which export format a file is, from its content (not its name).

Each reader module says what its format looks like (`looks_like`); detection reads
only a file's first bytes (CSV headers) or its parsed top level (JSON), so a wrong
extension does not fool it. `platform:` in community.yaml overrides detection.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from value_pipeline.errors import InputError
from value_pipeline.ingest import discourse, google_forms, moodle, qualtrics, slack
from value_pipeline.ingest.common import read_json

SNIFF_BYTES = 64 * 1024


def _head_text(path: Path) -> str:
    data = path.read_bytes()[:SNIFF_BYTES] if path.is_file() else b""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="ignore")
    return data.decode("utf-8-sig", errors="replace")


def _csv_rows(path: Path, n: int = 3) -> list[list[str]]:
    text = _head_text(path)
    try:
        reader = csv.reader(io.StringIO(text))
        return [row for _, row in zip(range(n), reader)]
    except csv.Error:
        return []


def detect_forum_format(path: Path) -> str | None:
    """discourse | slack | moodle, or None when the file is not a forum export we know."""
    if path.is_dir() or path.suffix.lower() == ".zip":
        return "slack" if slack.looks_like(path) else None
    head = _head_text(path).lstrip()
    if head.startswith(("{", "[")):
        # A JSON file that does not parse gets the parser's one-line error, not "unknown".
        return "discourse" if discourse.looks_like(read_json(path)) else None
    rows = _csv_rows(path, 1)
    if rows and moodle.looks_like(rows[0]):
        return "moodle"
    return None


def detect_survey_format(path: Path) -> str | None:
    """qualtrics | google_forms, or None."""
    rows = _csv_rows(path, 3)
    if not rows:
        return None
    if qualtrics.looks_like(rows):
        return "qualtrics"
    if google_forms.looks_like(rows[0]):
        return "google_forms"
    return None


def describe_unknown(path: Path) -> InputError:
    """The error for a file no reader recognises, saying what it looks like instead."""
    if path.is_file() and path.stat().st_size == 0:
        return InputError(path, "the file is empty")
    head = _head_text(path)
    if "\x00" in head[:2048] or "\ufffd" in head[:2048]:
        return InputError(path, "binary data, not an export we can read")
    first = head.splitlines()[0][:80] if head.strip() else ""
    return InputError(path, f"format not recognised (starts with {first!r}); set platform: in community.yaml if it is a supported export")
