"""Value by tier: what members at each distance from the core report getting.

Survey respondents are linked to forum members through member_key (the same keyed hash
as author_key) and placed in the tier they held in the survey's quarter. The question
this answers is the one research knows least about: what do readers who rarely post
get from a community?
"""

from __future__ import annotations

import polars as pl

from value_pipeline.periods import Quarter
from value_pipeline.surveys import quarter_responses, scored_responses, summarise_items

TIER_GROUPS = {
    "core": "core_active", "active": "core_active", "occasional": "occasional",
    "peripheral": "periphery", "inactive": "periphery", "non_posting": "periphery",
}
GROUPS = ("core_active", "occasional", "periphery")
GROUP_LABELS = {
    "core_active": "Core and active",
    "occasional": "Occasional posters",
    "periphery": "Periphery (did not post)",
    "unlinked": "Not linked to a forum member",
}


def respondent_groups(responses: pl.DataFrame, tiers: pl.DataFrame, quarter: Quarter) -> pl.DataFrame:
    """Each respondent of the quarter's waves with their tier group: core_active,
    occasional, periphery, or `unlinked` (no member_key, or not in the quarter's member
    population); staff respondents are left out."""
    respondents = (
        quarter_responses(responses, quarter)
        .group_by("respondent_key")
        .agg(member_key=pl.col("member_key").drop_nulls().first())
    )
    placed = respondents.join(
        tiers.select(member_key="author_key", tier="tier"), on="member_key", how="left"
    ).filter(pl.col("tier").fill_null("") != "staff")
    return placed.with_columns(
        tier_group=pl.col("tier").replace_strict(TIER_GROUPS, default=None).fill_null("unlinked")
    ).select("respondent_key", "tier_group")


def value_by_tier(responses: pl.DataFrame, items: pl.DataFrame, tiers: pl.DataFrame, quarter: Quarter) -> pl.DataFrame:
    """Per scale item and tier group: respondents, mean and share agreeing (or yes), with
    the item's cycle and capital, for the linked respondents of the quarter's waves.
    Groups with no respondent for an item are absent; disclosure control comes later,
    in the ledger, from the respondent counts carried here."""
    groups = respondent_groups(responses, tiers, quarter).filter(pl.col("tier_group") != "unlinked")
    scored = scored_responses(responses, items, quarter).join(groups, on="respondent_key", how="inner")
    return summarise_items(scored, by=("tier_group",))


def respondents_by_group(responses: pl.DataFrame, tiers: pl.DataFrame, quarter: Quarter) -> dict[str, int]:
    """Respondents per tier group (unlinked included), every group present."""
    counts = dict(respondent_groups(responses, tiers, quarter).group_by("tier_group").len().iter_rows())
    return {group: int(counts.get(group, 0)) for group in (*GROUPS, "unlinked")}
