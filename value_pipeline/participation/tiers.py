"""Member tiers per quarter: the onion model of who writes the community's posts."""

from __future__ import annotations

import polars as pl

from value_pipeline import schema
from value_pipeline.config import TierRules
from value_pipeline.periods import Quarter, in_quarter

TIERS = ("core", "active", "occasional", "peripheral", "inactive", "non_posting")
# Higher is closer to the core; trajectories compare these ranks between quarters.
TIER_RANK = {"core": 4, "active": 3, "occasional": 2, "peripheral": 1, "inactive": 0, "non_posting": 0}


def tier_labels(rules: TierRules | None = None) -> dict[str, str]:
    """What each tier means, in a funder's words, for the rules in force."""
    rules = rules or TierRules()
    core, active = round(100 * rules.core_share), round(100 * rules.active_share)
    reading = "read, did not post" if rules.peripheral_max_posts == 0 else f"read, posted at most {rules.peripheral_max_posts} times"
    return {
        "core": f"Core (together write {core}% of member posts)",
        "active": f"Active (write the next {active - core}%)",
        "occasional": "Occasional (the remaining posters)",
        "peripheral": f"Peripheral ({reading})",
        "inactive": "Inactive (neither posted nor read)",
        "non_posting": "Did not post (platform records no reading)",
    }


TIER_LABELS = tier_labels()


def quarter_posts(posts: pl.DataFrame, quarter: Quarter) -> pl.DataFrame:
    """The posts written in the quarter."""
    return posts.filter(in_quarter("created_at", quarter))


def member_tiers(
    posts: pl.DataFrame, members: pl.DataFrame, quarter: Quarter, rules: TierRules | None = None
) -> pl.DataFrame:
    """Each member's tier in the quarter (staff get tier `staff`).

    The population is everyone who had joined by the quarter's end, plus anyone who
    posted in it. Posters are ranked by posts: the core write the first
    `rules.core_share` of member posts, the active the next part up to
    `rules.active_share`, the occasional the rest. Members tied on post count share a
    tier, decided by the middle of the share their group covers (a group of one-post
    members covering 70-100% of posts sits at 85%: past an 80% cut). The most active
    members are always core, so a lone poster is too. Non-posters are
    `peripheral` when the platform records that they read (posts read, days visited, or
    last seen since the quarter began), `inactive` when it records that they did not,
    and `non_posting` when it records no reading at all (Slack exports), so readers are
    never silently counted inactive. Reading figures are the export's snapshot, not per
    quarter: a member who has read posts and was last seen after the quarter began
    counts as reading in it; the sign-up visit alone is not reading.
    """
    rules = rules or TierRules()
    counts = quarter_posts(posts, quarter).group_by("author_key").agg(n_posts=pl.len(), posted_as_staff=pl.col("is_staff").any())
    population = (
        members.filter(pl.col("joined_at").is_null() | (pl.col("joined_at") < quarter.end))
        .select("community", "author_key", "is_staff", "posts_read", "days_visited", "last_seen_at")
        .join(counts, on="author_key", how="full", coalesce=True)
        .with_columns(
            community=pl.col("community").fill_null(members.get_column("community").first() if members.height else None),
            is_staff=pl.col("is_staff").fill_null(False) | pl.col("posted_as_staff").fill_null(False),
            n_posts=pl.col("n_posts").fill_null(0),
        )
    )
    member_posts = population.filter(~pl.col("is_staff"))
    total = member_posts.get_column("n_posts").sum()
    # Members tied on post count share a tier, placed by the middle of the span of the
    # cumulative share their group covers: a big tail of one-post members straddling a
    # cut is not swept whole into the tier above (nor the one below).
    by_count = (
        member_posts.filter(pl.col("n_posts") > 0)
        .group_by("n_posts")
        .agg(group_posts=pl.col("n_posts").sum())
        .sort("n_posts", descending=True)
        .with_columns(position=(pl.col("group_posts").cum_sum() - pl.col("group_posts") / 2) / max(total, 1))
        .with_columns(top=pl.int_range(pl.len()) == 0)  # the most active members are always core
        .select("n_posts", "position", "top")
    )
    # Reading evidence: posts read, or (where only visits are recorded) more than the sign-up
    # visit; and, when the platform records a last visit, one since the quarter began.
    read_ever = (pl.col("posts_read") > 0).fill_null(
        (pl.col("days_visited") > 1).fill_null(pl.col("last_seen_at").is_not_null())
    )
    present = pl.col("last_seen_at").is_null() | (pl.col("last_seen_at") >= quarter.start)
    reads = read_ever & present
    has_reading_data = pl.any_horizontal(pl.col("posts_read", "days_visited", "last_seen_at").is_not_null())
    posted = pl.col("n_posts") > 0
    tiers = population.join(by_count, on="n_posts", how="left").with_columns(
        tier=pl.when(pl.col("is_staff")).then(pl.lit("staff"))
        .when(posted & (pl.col("top") | (pl.col("position") < rules.core_share))).then(pl.lit("core"))
        .when(posted & (pl.col("position") < rules.active_share)).then(pl.lit("active"))
        .when(reads & (pl.col("n_posts") <= rules.peripheral_max_posts)).then(pl.lit("peripheral"))
        .when(posted).then(pl.lit("occasional"))
        .when(has_reading_data).then(pl.lit("inactive"))
        .otherwise(pl.lit("non_posting")),
        quarter=pl.lit(quarter.label),
    )
    return schema.conform(tiers.sort("author_key"), schema.MEMBER_TIERS)


def tier_counts(tiers: pl.DataFrame) -> dict[str, int]:
    """Members per tier (staff excluded), every tier present (zero when empty)."""
    counts = dict(tiers.filter(pl.col("tier") != "staff").group_by("tier").len().iter_rows())
    return {tier: int(counts.get(tier, 0)) for tier in TIERS}


def members_only(tiers: pl.DataFrame) -> pl.DataFrame:
    """The tier table without staff and facilitators (they are shown apart)."""
    return tiers.filter(pl.col("tier") != "staff")
