"""Reading a community folder: detect each export's format, run its reader, link people.

`read_community` is the one entry point the Dagster layer and the CLI use. It returns
the canonical tables for one community, everything quarantined, and the row accounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from value_pipeline import schema
from value_pipeline.config import CommunityConfig, load_community_config
from value_pipeline.errors import InputError
from value_pipeline.identity import Pseudonymizer
from value_pipeline.ingest import discourse, google_forms, moodle, qualtrics, slack
from value_pipeline.ingest.common import Account
from value_pipeline.ingest.detect import describe_unknown, detect_forum_format, detect_survey_format
from value_pipeline.ingest.survey_common import link_members
from value_pipeline.instrument import load_instrument

IGNORED_NAMES = {".DS_Store", "Thumbs.db", "README.md", "README.txt", "SOURCES.txt"}


@dataclass
class CommunityData:
    slug: str
    config: CommunityConfig
    posts: pl.DataFrame
    members: pl.DataFrame
    survey_responses: pl.DataFrame
    survey_items: pl.DataFrame
    quarantine: pl.DataFrame
    accounts: list[Account] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unmatched_questions: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        """Row counts, balances and quarantine reasons, for summary.json and the UI."""
        reasons = (
            self.quarantine.group_by("table", "reason").len().sort("len", descending=True).rows()
            if self.quarantine.height
            else []
        )
        return {
            "community": self.slug,
            "platforms": self.platforms,
            "rows": {
                "posts": self.posts.height,
                "members": self.members.height,
                "survey_responses": self.survey_responses.height,
                "quarantine": self.quarantine.height,
            },
            "accounts": [account.as_dict() for account in self.accounts],
            "balanced": all(account.balanced for account in self.accounts),
            "quarantine_by_reason": [{"table": t, "reason": r, "rows": n} for t, r, n in reasons],
            "notes": self.notes,
            "unmatched_questions": self.unmatched_questions,
        }


def _entries(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.name not in IGNORED_NAMES and not p.name.startswith("."))


def read_community(folder: str | Path, pseudonymizer: Pseudonymizer | None = None) -> CommunityData:
    """Read every export in a community folder into canonical tables."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "not a community folder")
    config = load_community_config(folder)
    slug = folder.name
    pseudonymizer = pseudonymizer or Pseudonymizer()
    staff = set(config.staff)

    by_format: dict[str, list[Path]] = {}
    for entry in _entries(folder / "forum"):
        kind = config.platform or detect_forum_format(entry)
        if kind is None:
            raise describe_unknown(entry)
        by_format.setdefault(kind, []).append(entry)
    if not by_format:
        raise InputError(folder / "forum", "no forum export found (expected Discourse JSON, a Slack export or a Moodle CSV)")
    member_files = _entries(folder / "members")

    forum_reads = []
    for kind, paths in by_format.items():
        if kind == "discourse":
            forum_reads.append(discourse.read(paths, member_files, slug, pseudonymizer, staff))
        elif kind == "slack":
            for path in paths:
                forum_reads.append(slack.read(path, member_files, slug, pseudonymizer, staff))
        elif kind == "moodle":
            forum_reads.append(moodle.read(paths, member_files, slug, pseudonymizer, staff, config.timezone))

    posts = pl.concat([r.posts for r in forum_reads])
    members = pl.concat([r.members for r in forum_reads]).unique("author_key", keep="first", maintain_order=True)
    quarantine = [r.quarantine for r in forum_reads]
    accounts = [account for r in forum_reads for account in r.accounts]
    notes = [note for r in forum_reads for note in r.notes]

    instrument = load_instrument(config.survey.instrument)
    survey_frames, unmatched = [], []
    survey_by_format: dict[str, list[Path]] = {}
    for entry in _entries(folder / "surveys"):
        kind = config.survey.platform or detect_survey_format(entry)
        if kind is None:
            raise describe_unknown(entry)
        survey_by_format.setdefault(kind, []).append(entry)
    for kind, paths in survey_by_format.items():
        reader = qualtrics if kind == "qualtrics" else google_forms
        survey = reader.read(
            paths, instrument=instrument, community=slug, pseudonymizer=pseudonymizer,
            timezone=config.timezone, link_by=config.survey.link_by,
            link_column=config.survey.link_column, waves=config.survey.waves,
        )
        survey_frames.append(survey.responses)
        quarantine.append(survey.quarantine)
        accounts += survey.accounts
        unmatched += survey.unmatched_columns
    responses = pl.concat(survey_frames) if survey_frames else schema.empty(schema.SURVEY_RESPONSES)
    responses = link_members(responses, members)

    return CommunityData(
        slug=slug,
        config=config,
        posts=posts,
        members=members,
        survey_responses=responses,
        survey_items=instrument.items_frame(),
        quarantine=pl.concat(quarantine) if quarantine else schema.empty(schema.QUARANTINE),
        accounts=accounts,
        platforms=sorted(by_format),
        notes=notes,
        unmatched_questions=unmatched,
    )
