"""Reading exports: detect each export's format, run its reader, link people.

- `read_community(folder)` reads a community folder (community.yaml, forum/, members/,
  surveys/): the entry point of the Dagster ingest assets.
- `read_export(path)` reads any single supported export (file, folder or zip) with
  default settings: the entry point of `value-pipeline ingest PATH`.
Both return a `CommunityData`: the canonical tables, everything quarantined, the row
accounts and the formats detected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from value_pipeline import schema
from value_pipeline.config import CommunityConfig, load_community_config
from value_pipeline.errors import InputError
from value_pipeline.identity import Pseudonymizer
from value_pipeline.ingest import formats
from value_pipeline.ingest.common import Account, ReadContext
from value_pipeline.ingest.survey_common import link_members
from value_pipeline.instrument import load_instrument
from value_pipeline.quality import plausibility

IGNORED_NAMES = {".DS_Store", "Thumbs.db", "README.md", "README.txt", "SOURCES.txt", "desktop.ini"}


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
    files: dict[str, str] = field(default_factory=dict)  # path -> format detected
    notes: list[str] = field(default_factory=list)
    unmatched_questions: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        """Formats, row counts, balances and quarantine reasons, for summary.json and the UI."""
        reasons = (
            self.quarantine.group_by("table", "reason").len().sort("len", "reason", descending=[True, False]).rows()
            if self.quarantine.height
            else []
        )
        return {
            "community": self.slug,
            "platforms": self.platforms,
            "files": self.files,
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


def _group_by_format(paths: list[Path], kind: str, platform: str | None, where: Path) -> dict:
    """{reader module: [paths]}, by content or by the configured platform."""
    groups: dict = {}
    forced = None
    if platform:
        try:
            forced = formats.by_name(platform, kind)
        except InputError as error:
            raise InputError(where, error.problem) from None
    for path in paths:
        module = forced or formats.detect_or_fail(path, kind)
        groups.setdefault(module, []).append(path)
    return groups


def _read_groups(groups: dict, context: ReadContext) -> list:
    reads = []
    for module, paths in groups.items():
        if getattr(module, "ONE_EXPORT_PER_PATH", False):
            reads += [module.read([path], context) for path in paths]
        else:
            reads.append(module.read(paths, context))
    return reads


def _assemble(slug, config, forum_reads, survey_reads, items, groups) -> CommunityData:
    members = (
        pl.concat([r.members for r in forum_reads]).unique("author_key", keep="first", maintain_order=True)
        if forum_reads else schema.empty(schema.MEMBERS)
    )
    posts = pl.concat([r.posts for r in forum_reads]) if forum_reads else schema.empty(schema.POSTS)
    responses = (
        pl.concat([r.responses for r in survey_reads]) if survey_reads else schema.empty(schema.SURVEY_RESPONSES)
    )
    quarantine = [r.quarantine for r in [*forum_reads, *survey_reads]]
    accounts = [a for r in [*forum_reads, *survey_reads] for a in r.accounts]
    # Rows every reader accepted that still cannot be real (future dates, giant bodies).
    posts, implausible_posts, post_account = plausibility.check_posts(posts, slug)
    responses, implausible_answers, answer_account = plausibility.check_responses(responses, slug)
    quarantine += [implausible_posts, implausible_answers]
    accounts += [post_account, answer_account]
    return CommunityData(
        slug=slug,
        config=config,
        posts=posts,
        members=members,
        survey_responses=link_members(responses, members),
        survey_items=pl.concat([items, *[r.extra_items for r in survey_reads if r.extra_items is not None]]).unique(
            "item_id", keep="first", maintain_order=True
        ),
        quarantine=pl.concat(quarantine) if quarantine else schema.empty(schema.QUARANTINE),
        accounts=accounts,
        platforms=sorted({module.PLATFORM for group in groups for module in group}),
        # Readers label their files (an archive's name can hold its owner's username).
        files={label: r.platform for r in [*forum_reads, *survey_reads] for label in r.files},
        notes=[n for r in [*forum_reads, *survey_reads] for n in r.notes],
        unmatched_questions=[q for r in survey_reads for q in r.unmatched_columns],
    )


def read_community(folder: str | Path, pseudonymizer: Pseudonymizer | None = None) -> CommunityData:
    """Read every export in a community folder into canonical tables."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "not a community folder")
    config = load_community_config(folder)
    forum_paths = _entries(folder / "forum")
    if not forum_paths:
        raise InputError(folder / "forum", "no forum export found (expected Discourse JSON, a Slack export, a Moodle CSV, ...)")
    instrument = load_instrument(config.survey.instrument)
    context = ReadContext(
        community=folder.name,
        pseudonymizer=pseudonymizer or Pseudonymizer(),
        timezone=config.timezone,
        staff=frozenset(config.staff),
        member_files=_entries(folder / "members"),
        instrument=instrument,
        link_by=config.survey.link_by,
        link_column=config.survey.link_column,
        waves=config.survey.waves,
        options=config.forum_options,
    )
    config_path = folder / "community.yaml"
    forum_groups = _group_by_format(forum_paths, "forum", config.platform, config_path)
    survey_groups = _group_by_format(_entries(folder / "surveys"), "survey", config.survey.platform, config_path)
    forum_reads = _read_groups(forum_groups, context)
    survey_context = ReadContext(**{**context.__dict__, "options": config.survey.options})
    survey_reads = _read_groups(survey_groups, survey_context)
    return _assemble(folder.name, config, forum_reads, survey_reads, instrument.items_frame(), [forum_groups, survey_groups])


def read_export(
    path: str | Path, pseudonymizer: Pseudonymizer | None = None, timezone: str = "UTC", platform: str | None = None
) -> CommunityData:
    """Read one export of any supported format (a forum or a survey) with default settings."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file or folder")
    if (path / "community.yaml").is_file():
        return read_community(path, pseudonymizer)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError("--timezone", f"unknown timezone {timezone!r} (use an IANA name like Europe/London)") from None
    if platform and platform not in formats.platform_names("forum") + formats.platform_names("survey"):
        known = ", ".join(formats.platform_names("forum") + formats.platform_names("survey"))
        raise InputError("--platform", f"unknown platform {platform!r} (known: {known})")
    instrument = load_instrument()
    context = ReadContext(
        community=path.stem, pseudonymizer=pseudonymizer or Pseudonymizer(), timezone=timezone, instrument=instrument,
    )
    groups = {"forum": {}, "survey": {}}
    for kind in ("forum", "survey"):
        if platform:
            module = formats.by_name(platform, kind) if platform in formats.platform_names(kind) else None
        else:
            module = formats.detect(path, kind)
        if module is not None:
            groups[kind] = {module: [path]}
            break
    if not groups["forum"] and not groups["survey"]:
        for folder in (path.parent, path.parent.parent):
            module = formats.detect(folder, "forum")
            if module is not None and getattr(module, "ONE_EXPORT_PER_PATH", False):
                raise InputError(path, f"one file of a {module.PLATFORM} export: read the whole export, {folder}")
        raise formats.describe_unknown(path, "forum or survey")
    config = CommunityConfig(name=path.stem, timezone=timezone)
    forum_reads = _read_groups(groups["forum"], context)
    survey_reads = _read_groups(groups["survey"], context)
    return _assemble(path.stem, config, forum_reads, survey_reads, instrument.items_frame(), [groups["forum"], groups["survey"]])
