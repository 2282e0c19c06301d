"""From a community's tables to the report's inputs: one function, shared by the Dagster
report asset, the portfolio and member summaries, and the render benchmark."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from value_pipeline.coding.codebook import load_codebook
from value_pipeline.config import CommunityConfig
from value_pipeline.instrument import load_instrument
from value_pipeline.periods import Quarter
from value_pipeline.privacy import scrub_identities
from value_pipeline.report.render import ReportInputs

STORIES_QUOTED = 3  # a report quotes the furthest-reaching consented stories, not all of them


def data_as_of(quarter: Quarter) -> datetime:
    """The report's date: the last day of its quarter. A report is dated by the data it
    describes, not by the clock, so the same inputs give the same document."""
    return quarter.last_day


def assemble_inputs(
    community: str,
    config: CommunityConfig,
    quarter: Quarter,
    ledger: pl.DataFrame,
    *,
    quarantine: pl.DataFrame,
    row_accounts: pl.DataFrame,
    coded_posts: pl.DataFrame,
    coding_agreement: pl.DataFrame,
    survey_items: pl.DataFrame,
    stories: pl.DataFrame,
    history: pl.DataFrame | None = None,
) -> ReportInputs:
    """Everything the community's quarterly report shows, already aggregated and
    disclosure-controlled (the ledger and history are suppressed before they get here)."""
    codebook = load_codebook()
    reasons = (
        quarantine.group_by("table", "reason").agg(rows=pl.len()).sort(["rows", "table", "reason"], descending=[True, False, False]).to_dicts()
        if quarantine.height else []
    )
    unmatched = survey_items.filter(pl.col("kind") == "unmapped").get_column("text").to_list()
    return ReportInputs(
        community=community,
        name=config.name,
        funder=config.funder,
        formal=config.formal,
        platforms=sorted({p for p in [config.platform] if p}) or ["the community platform"],
        quarter=quarter,
        ledger=ledger,
        codebook=[{"id": c.id, "name": c.name, "description": c.description} for c in codebook.codes],
        coder=coded_posts.get_column("coder").first() if coded_posts.height else f"rules:v{codebook.version}",
        instrument_title=load_instrument(config.survey.instrument).title,
        suppression=config.suppression.model_dump(),
        accounts=row_accounts.to_dicts(),
        quarantine_by_reason=reasons,
        coding=coding_agreement.row(0, named=True) if coding_agreement.height else {},
        tier_rules=config.tiers,
        stories=stories.head(STORIES_QUOTED).to_dicts(),
        unmatched_questions=[scrub_identities(text) for text in unmatched],
        history=history,
        checks=[
            {"name": "disclosure_control", "passed": True,
             "detail": f"no visible cell under {config.suppression.min_count} members or too few respondents"},
            {"name": "row_accounting", "passed": bool(row_accounts.get_column("balanced").all()),
             "detail": f"{row_accounts.get_column('read').sum()} rows read; read = accepted + quarantined for every table"},
        ],
        generated_at=data_as_of(quarter),
    )
