"""Trajectories: do members move from the periphery toward the core over quarters?

Legitimate peripheral participation (Lave & Wenger, 1991) says newcomers learn by
taking part at the edge first. These functions follow members' tiers from one quarter
to the next, in aggregate only (counts of members per move, never a member's path).
Staff are left out: their tier is their job.
"""

from __future__ import annotations

import polars as pl

from value_pipeline.config import TierRules
from value_pipeline.participation.tiers import TIER_RANK, TIERS, member_tiers

JOINED = "joined"  # the `from` state of members who were not yet in the community
MOVES = ("joined", "moved_up", "held", "moved_down", "left", "stayed_out")
MOVE_LABELS = {
    "joined": "Joined this quarter",
    "moved_up": "Moved toward the core",
    "held": "Held their tier",
    "moved_down": "Moved toward the edge",
    "left": "Stopped taking part (no posting or recorded reading)",
    "stayed_out": "Stayed without recorded activity",
}


def tier_pairs(posts: pl.DataFrame, members: pl.DataFrame, quarter, rules: TierRules | None = None) -> pl.DataFrame:
    """Per member (staff excluded): from_tier (previous quarter; `joined` if not yet a
    member then) and to_tier (this quarter)."""
    previous = member_tiers(posts, members, quarter.previous(), rules).filter(pl.col("tier") != "staff")
    current = member_tiers(posts, members, quarter, rules).filter(pl.col("tier") != "staff")
    return (
        previous.select("author_key", from_tier="tier")
        .join(current.select("author_key", to_tier="tier"), on="author_key", how="full", coalesce=True)
        .with_columns(
            from_tier=pl.col("from_tier").fill_null(JOINED),
            # a poster without a member record who stopped posting has no record at all now
            to_tier=pl.col("to_tier").fill_null("non_posting"),
        )
    )


def transition_matrix(posts: pl.DataFrame, members: pl.DataFrame, quarter, rules: TierRules | None = None) -> pl.DataFrame:
    """Members moving between tiers from the previous quarter to this one: from_tier,
    to_tier, members, with every pair of states present (zero when empty), `joined`
    first among the from states."""
    pairs = tier_pairs(posts, members, quarter, rules).group_by("from_tier", "to_tier").agg(members=pl.len())
    grid = pl.DataFrame({"from_tier": [JOINED, *TIERS]}).join(pl.DataFrame({"to_tier": list(TIERS)}), how="cross")
    return grid.join(pairs, on=["from_tier", "to_tier"], how="left").with_columns(
        members=pl.col("members").fill_null(0).cast(pl.Int64)
    )


def movement(posts: pl.DataFrame, members: pl.DataFrame, quarter, rules: TierRules | None = None) -> dict[str, int]:
    """The transition matrix folded into moves: joined, moved_up (closer to the core),
    held (same tier, still taking part), moved_down (toward the edge but still taking
    part), left (from taking part to no posting or recorded reading), stayed_out."""
    rank_from = pl.col("from_tier").replace_strict(TIER_RANK, default=None, return_dtype=pl.Int64)
    rank_to = pl.col("to_tier").replace_strict(TIER_RANK, return_dtype=pl.Int64)
    moves = tier_pairs(posts, members, quarter, rules).with_columns(
        move=pl.when(pl.col("from_tier") == JOINED).then(pl.lit("joined"))
        .when((rank_from > 0) & (rank_to == 0)).then(pl.lit("left"))
        .when(rank_to > rank_from).then(pl.lit("moved_up"))
        .when(rank_to < rank_from).then(pl.lit("moved_down"))
        .when(rank_to > 0).then(pl.lit("held"))
        .otherwise(pl.lit("stayed_out"))
    )
    counts = dict(moves.group_by("move").len().iter_rows())
    return {move: int(counts.get(move, 0)) for move in MOVES}


def _first_posts(posts: pl.DataFrame) -> pl.DataFrame:
    """Each member's (not staff) first post ever: author_key, first_at."""
    return posts.filter(~pl.col("is_staff")).group_by("author_key").agg(first_at=pl.col("created_at").min())


def newcomer_retention(posts: pl.DataFrame, quarter) -> dict:
    """Of the members whose first post ever was in the previous quarter, how many posted
    again in this quarter: cohort, retained, share (None for an empty cohort)."""
    previous = quarter.previous()
    cohort = _first_posts(posts).filter((pl.col("first_at") >= previous.start) & (pl.col("first_at") < previous.end))
    posted_now = (
        posts.filter((pl.col("created_at") >= quarter.start) & (pl.col("created_at") < quarter.end))
        .select("author_key").unique()
    )
    retained = cohort.join(posted_now, on="author_key", how="semi").height
    return {"cohort": cohort.height, "retained": retained, "share": retained / cohort.height if cohort.height else None}


def time_to_first_post(posts: pl.DataFrame, members: pl.DataFrame, quarter) -> dict:
    """How long members wait before their first post: for members whose first post ever
    fell in the quarter and whose joining date is known, the median days from joining to
    that post (first_posters counts them); joined counts the members who joined in the
    quarter and joined_posted how many of them had posted by its end."""
    first = _first_posts(posts)
    joined = members.filter(~pl.col("is_staff") & pl.col("joined_at").is_not_null()).select("author_key", "joined_at")
    waited = (
        first.filter((pl.col("first_at") >= quarter.start) & (pl.col("first_at") < quarter.end))
        .join(joined, on="author_key", how="inner")
        .with_columns(days=((pl.col("first_at") - pl.col("joined_at")).dt.total_seconds() / 86400).clip(lower_bound=0))
    )
    newly = joined.filter((pl.col("joined_at") >= quarter.start) & (pl.col("joined_at") < quarter.end))
    posted = newly.join(first.filter(pl.col("first_at") < quarter.end), on="author_key", how="semi").height
    return {
        "first_posters": waited.height,
        "median_days": float(waited.get_column("days").median()) if waited.height else None,
        "joined": newly.height,
        "joined_posted": posted,
    }
