"""Participation: who takes part and how, quarter by quarter (forum data, cycle 1 and 2).

Every function takes canonical frames and a Quarter and returns a small frame or a
number; the ledger module turns them into indicators. Staff and facilitators are kept
apart from members throughout: their posts count as activity, but they are not part of
the member tiers or the inequality measures.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from value_pipeline import schema
from value_pipeline.periods import Quarter, in_quarter

TIERS = ("core", "active", "occasional", "peripheral", "inactive", "non_posting")
TIER_LABELS = {
    "core": "Core (write the first half of posts)",
    "active": "Active (write the next 30% of posts)",
    "occasional": "Occasional (the remaining posters)",
    "peripheral": "Peripheral (read, did not post)",
    "inactive": "Inactive (neither posted nor read)",
    "non_posting": "Did not post (platform records no reading)",
}


@dataclass(frozen=True)
class TierRules:
    """Cuts on the cumulative share of the quarter's member posts (onion model).

    Members are ranked by their posts; the core are those who together write the first
    `core_share` of posts, the active the next part up to `active_share`, the
    occasional the rest. Members tied on post count always share a tier.
    """

    core_share: float = 0.5
    active_share: float = 0.8


def quarter_posts(posts: pl.DataFrame, quarter: Quarter) -> pl.DataFrame:
    """The posts written in the quarter."""
    return posts.filter(in_quarter("created_at", quarter))


def member_tiers(
    posts: pl.DataFrame, members: pl.DataFrame, quarter: Quarter, rules: TierRules | None = None
) -> pl.DataFrame:
    """Each member's tier in the quarter (staff get tier `staff`).

    The population is everyone who had joined by the quarter's end, plus anyone who
    posted in it. Non-posters are `peripheral` when the platform records that they
    read (posts read, days visited, or last seen since the quarter began), `inactive`
    when it records that they did not, and `non_posting` when it records no reading at
    all (Slack exports), so readers are never silently counted inactive. Reading figures
    are the export's snapshot, not per quarter: a member who has read posts and was last
    seen after the quarter began counts as reading in it; the sign-up visit alone is not
    reading.
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
    # Share of posts written by members with strictly more posts: ties share a tier.
    by_count = (
        member_posts.filter(pl.col("n_posts") > 0)
        .group_by("n_posts")
        .agg(group_posts=pl.col("n_posts").sum())
        .sort("n_posts", descending=True)
        .with_columns(share_before=(pl.col("group_posts").cum_sum() - pl.col("group_posts")) / max(total, 1))
        .select("n_posts", "share_before")
    )
    # Reading evidence: posts read, or (where only visits are recorded) more than the sign-up
    # visit; and, when the platform records a last visit, one since the quarter began.
    read_ever = (pl.col("posts_read") > 0).fill_null(
        (pl.col("days_visited") > 1).fill_null(pl.col("last_seen_at").is_not_null())
    )
    present = pl.col("last_seen_at").is_null() | (pl.col("last_seen_at") >= quarter.start)
    reads = read_ever & present
    has_reading_data = pl.any_horizontal(pl.col("posts_read", "days_visited", "last_seen_at").is_not_null())
    tiers = population.join(by_count, on="n_posts", how="left").with_columns(
        tier=pl.when(pl.col("is_staff")).then(pl.lit("staff"))
        .when((pl.col("n_posts") > 0) & (pl.col("share_before") < rules.core_share)).then(pl.lit("core"))
        .when((pl.col("n_posts") > 0) & (pl.col("share_before") < rules.active_share)).then(pl.lit("active"))
        .when(pl.col("n_posts") > 0).then(pl.lit("occasional"))
        .when(reads).then(pl.lit("peripheral"))
        .when(has_reading_data).then(pl.lit("inactive"))
        .otherwise(pl.lit("non_posting")),
        quarter=pl.lit(quarter.label),
    )
    return schema.conform(tiers.sort("author_key"), schema.MEMBER_TIERS)


def tier_counts(tiers: pl.DataFrame) -> dict[str, int]:
    """Members per tier (staff excluded), every tier present (zero when empty)."""
    counts = dict(tiers.filter(pl.col("tier") != "staff").group_by("tier").len().iter_rows())
    return {tier: int(counts.get(tier, 0)) for tier in TIERS}


def top_share(tiers: pl.DataFrame, fraction: float) -> float | None:
    """Share of member posts written by the top `fraction` of members (e.g. 0.1 = top 10%).

    Members are everyone in the quarter's population, posters or not; the top group has
    at least one member. None when no member posted.
    """
    counts = tiers.filter(pl.col("tier") != "staff").get_column("n_posts").sort(descending=True)
    total = counts.sum()
    if counts.len() == 0 or total == 0:
        return None
    size = max(1, round(fraction * counts.len()))
    return float(counts.head(size).sum() / total)


def gini(tiers: pl.DataFrame) -> float | None:
    """Gini coefficient of posts across members (0 = everyone posts equally, 1 = one writes all).

    Computed over the whole member population, non-posters included, because the point
    is how unevenly voice is spread among everyone who could post.
    """
    counts = tiers.filter(pl.col("tier") != "staff").get_column("n_posts").sort().cast(pl.Float64)
    n, total = counts.len(), counts.sum()
    if n == 0 or total == 0:
        return None
    ranks = pl.Series(range(1, n + 1), dtype=pl.Float64)
    return float((2 * (ranks * counts).sum()) / (n * total) - (n + 1) / n)


def responsiveness(posts: pl.DataFrame, coded: pl.DataFrame, quarter: Quarter) -> dict:
    """How questions fare: how many got a reply from someone else, and how fast.

    A question is a thread-opening post coded `question`, asked in the quarter; its
    first reply is the earliest post in the thread by another author (replies after the
    quarter ends still count, so late-quarter questions are not penalised).
    Returns counts and the median and 90th percentile hours to first reply.
    """
    questions = (
        quarter_posts(posts, quarter)
        .filter(pl.col("is_thread_start"))
        .join(coded.select("post_id", "code"), on="post_id", how="inner")
        .filter(pl.col("code") == "question")
        .select("thread_id", asker=pl.col("author_key"), asked_at=pl.col("created_at"))
    )
    first_reply = (
        posts.filter(~pl.col("is_thread_start"))
        .join(questions, on="thread_id", how="inner")
        .filter(pl.col("author_key") != pl.col("asker"))
        .group_by("thread_id")
        .agg(replied_at=pl.col("created_at").min())
    )
    timed = questions.join(first_reply, on="thread_id", how="left").with_columns(
        hours=(pl.col("replied_at") - pl.col("asked_at")).dt.total_seconds() / 3600
    )
    answered = timed.filter(pl.col("replied_at").is_not_null())
    return {
        "questions": timed.height,
        "replied": answered.height,
        "unanswered": timed.height - answered.height,
        "median_hours": answered.get_column("hours").median() if answered.height else None,
        "p90_hours": answered.get_column("hours").quantile(0.9, "nearest") if answered.height else None,
    }


def interaction_mix(posts: pl.DataFrame, coded: pl.DataFrame, quarter: Quarter, codes: list[str]) -> pl.DataFrame:
    """Posts per primary code in the quarter (every code listed, zero when absent), with shares."""
    counts = (
        quarter_posts(posts, quarter).join(coded.select("post_id", "code"), on="post_id", how="inner")
        .group_by("code").len()
    )
    frame = pl.DataFrame({"code": codes}).join(counts, on="code", how="left").with_columns(
        posts=pl.col("len").fill_null(0)
    ).select("code", "posts")
    total = frame.get_column("posts").sum()
    return frame.with_columns(share=pl.col("posts") / total if total else pl.lit(None, pl.Float64))


def reply_ties(posts: pl.DataFrame, quarter: Quarter) -> dict:
    """The reply network, aggregated: who replied to whom, as counts only.

    A tie is an unordered pair of distinct members where one replied to the other in
    the quarter; reciprocity is the share of directed reply pairs answered in kind.
    Returns the number of members with at least one tie, ties, and reciprocity.
    """
    in_quarter_posts = quarter_posts(posts, quarter)
    parents = posts.select(parent_post_id=pl.col("post_id"), to_key=pl.col("author_key"))
    edges = (
        in_quarter_posts.filter(pl.col("parent_post_id").is_not_null())
        .join(parents, on="parent_post_id", how="inner")
        .filter(pl.col("author_key") != pl.col("to_key"))
        .select(from_key="author_key", to_key="to_key")
        .unique()
    )
    if edges.height == 0:
        return {"connected_members": 0, "ties": 0, "reciprocity": None}
    reverse = edges.select(from_key="to_key", to_key="from_key")
    reciprocated = edges.join(reverse, on=["from_key", "to_key"], how="semi").height
    pairs = edges.select(
        a=pl.min_horizontal("from_key", "to_key"), b=pl.max_horizontal("from_key", "to_key")
    ).unique()
    connected = pl.concat([edges.get_column("from_key"), edges.get_column("to_key")]).n_unique()
    return {"connected_members": connected, "ties": pairs.height, "reciprocity": reciprocated / edges.height}
