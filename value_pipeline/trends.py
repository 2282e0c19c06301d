"""Trends: how a community's headline indicators moved over its last four quarters.

Built from the quarters' ledgers, which are already disclosure-controlled: a value
suppressed in its quarter stays hidden here, and a change is shown only between two
shown values (a change against a hidden value could reveal it).
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from value_pipeline.periods import Quarter

# The indicators a funder follows from quarter to quarter: activity, responsiveness,
# sharing and connection from the platform; usefulness, capital, applied, realized and
# reframing value from the surveys; and the stories told.
TREND_INDICATORS = (
    "posting_members",
    "posts",
    "questions_replied_share",
    "hours_to_first_reply_median",
    "resources_shared",
    "threads_with_reflection",
    "connected_members",
    "survey.imm_useful.agree",
    "survey.hum_efficacy.agree",
    "survey.soc_isolation.agree",
    "survey.tan_resources.agree",
    "survey.app_adapted.yes",
    "survey.app_changed.agree",
    "survey.real_learning.agree",
    "survey.refr_success.agree",
    "stories_told",
)
HISTORY_COLUMNS = ("quarter", "cycle", "indicator", "label", "value", "unit", "n", "evidence_type", "suppressed")
TREND_QUARTERS = 4


def ledger_history(ledgers: Iterable[pl.DataFrame]) -> pl.DataFrame:
    """The trend indicators of each given quarter's ledger, stacked, oldest quarter first."""
    frames = [ledger.select(HISTORY_COLUMNS).filter(pl.col("indicator").is_in(TREND_INDICATORS)) for ledger in ledgers]
    frames = [frame for frame in frames if frame.height]
    if not frames:
        return pl.DataFrame(schema=_schema())
    return pl.concat(frames, how="vertical_relaxed").sort("quarter", maintain_order=True)


def _schema() -> dict:
    return {
        "quarter": pl.String, "cycle": pl.Int64, "indicator": pl.String, "label": pl.String, "value": pl.Float64,
        "unit": pl.String, "n": pl.Int64, "evidence_type": pl.String, "suppressed": pl.Boolean,
    }


def change(previous: dict | None, current: dict | None) -> float | None:
    """The quarter-on-quarter change of one indicator, in its own unit (percentage points
    for shares); None when either quarter's value is missing or suppressed."""
    if not previous or not current:
        return None
    if previous["suppressed"] or current["suppressed"] or previous["value"] is None or current["value"] is None:
        return None
    if previous["unit"] != current["unit"]:
        return None
    return current["value"] - previous["value"]


def trend_rows(history: pl.DataFrame, quarter: Quarter) -> tuple[list[str], list[dict]]:
    """(quarter labels, rows) for the report's trend table: each trend indicator with its
    ledger row per quarter (None where the quarter had no such row) and its change since
    the previous quarter. Indicators never shown in the window are left out."""
    labels = [quarter.label]
    while len(labels) < TREND_QUARTERS:
        labels.insert(0, Quarter.parse(labels[0]).previous().label)
    window = history.filter(pl.col("quarter").is_in(labels))
    present = [label for label in labels if label in set(window.get_column("quarter").to_list())]
    by_key = {(row["indicator"], row["quarter"]): row for row in window.to_dicts()}
    rows = []
    for indicator in TREND_INDICATORS:
        cells = [by_key.get((indicator, label)) for label in present]
        if not any(cell and not cell["suppressed"] and cell["value"] is not None for cell in cells):
            continue
        first = next(cell for cell in cells if cell)
        rows.append({
            "indicator": indicator,
            "label": first["label"],
            "cycle": first["cycle"],
            "unit": first["unit"],
            "cells": cells,
            "change": change(by_key.get((indicator, quarter.previous().label)), by_key.get((indicator, quarter.label))),
        })
    return present, rows
