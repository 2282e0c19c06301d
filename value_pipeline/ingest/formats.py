"""The registry of export formats: one reader module per format.

Every reader module provides:
- `PLATFORM`: its name (the value of `platform:` in community.yaml),
- `KIND`: "forum" (posts and members) or "survey" (survey responses),
- `looks_like(sniff) -> bool`: recognises its format from content,
- `read(paths, context) -> ForumRead | SurveyRead`,
and may set `ONE_EXPORT_PER_PATH = True` when each path is a whole export on its own
(a Slack workspace, a mailbox) rather than one file of a multi-file export.

Detection asks the modules in the order listed: specific fingerprints first, generic
readers last.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from value_pipeline.errors import InputError
from value_pipeline.ingest import (
    canvas,
    discourse,
    generic,
    generic_survey,
    google_forms,
    limesurvey,
    mastodon,
    mbox,
    moodle,
    qualtrics,
    redcap,
    reddit,
    slack,
    surveymonkey,
    teams,
    twitter,
)
from value_pipeline.ingest.detect import Sniff, describe_unknown

# reddit first: its NDJSON dumps begin like a JSON object that other readers would parse.
FORUM_FORMATS: list[ModuleType] = [reddit, teams, discourse, canvas, slack, moodle, mbox, mastodon, twitter, generic]
# generic_survey last: it claims any table with item columns (REDCap data files too).
SURVEY_FORMATS: list[ModuleType] = [qualtrics, google_forms, surveymonkey, limesurvey, redcap, generic_survey]


def formats(kind: str) -> list[ModuleType]:
    return FORUM_FORMATS if kind == "forum" else SURVEY_FORMATS


def by_name(name: str, kind: str) -> ModuleType:
    """The reader for a platform name (community.yaml's `platform:`)."""
    for module in formats(kind):
        if module.PLATFORM == name:
            return module
    known = ", ".join(module.PLATFORM for module in formats(kind))
    raise InputError(None, f"unknown {kind} platform {name!r} (known: {known})")


def detect(path: Path, kind: str) -> ModuleType | None:
    """The reader whose format this path is, or None."""
    sniff = Sniff(path)
    for module in formats(kind):
        if module.looks_like(sniff):
            return module
    return None


def detect_or_fail(path: Path, kind: str) -> ModuleType:
    module = detect(path, kind)
    if module is None:
        raise describe_unknown(path, kind)
    return module


def platform_names(kind: str) -> list[str]:
    return [module.PLATFORM for module in formats(kind)]
