"""Participation inequality: how unevenly the quarter's member posts are spread.

Every measure runs over the whole member population of the quarter (non-posters
included, staff excluded), because the question is how voice is spread among everyone
who could have posted.
"""

from __future__ import annotations

import math

import polars as pl

from value_pipeline.participation.tiers import members_only


def _post_counts(tiers: pl.DataFrame, descending: bool) -> pl.Series:
    return members_only(tiers).get_column("n_posts").sort(descending=descending).cast(pl.Float64)


def top_share(tiers: pl.DataFrame, fraction: float) -> float | None:
    """Share of member posts written by the top `fraction` of members (0.1 = top 10%).

    The top group has at least one member (so in a community of 20 the top 1% is its
    most active member). None when no member posted.
    """
    counts = _post_counts(tiers, descending=True)
    total = counts.sum()
    if counts.len() == 0 or total == 0:
        return None
    size = max(1, round(fraction * counts.len()))
    return float(counts.head(size).sum() / total)


def gini(tiers: pl.DataFrame) -> float | None:
    """Gini coefficient of posts across members (0 = everyone posts equally, 1 = one
    member writes everything). None when no member posted."""
    counts = _post_counts(tiers, descending=False)
    n, total = counts.len(), counts.sum()
    if n == 0 or total == 0:
        return None
    ranks = pl.Series(range(1, n + 1), dtype=pl.Float64)
    return float((2 * (ranks * counts).sum()) / (n * total) - (n + 1) / n)


def members_writing_half(tiers: pl.DataFrame) -> int | None:
    """The fewest members who together write at least half of member posts: the most
    concrete way to say how few voices carry a community. None when no member posted."""
    counts = _post_counts(tiers, descending=True)
    total = counts.sum()
    if total == 0:
        return None
    reached = (counts.cum_sum() >= total / 2).arg_true()
    return int(reached[0]) + 1


def lorenz_curve(tiers: pl.DataFrame, points: int = 10) -> list[tuple[float, float]]:
    """The Lorenz curve of posting at `points` even steps: (share of members, share of
    posts written by the least active members up to that share), from (0, 0) to (1, 1).
    Empty when no member posted. Aggregated: no point describes fewer than one step of
    the population."""
    counts = _post_counts(tiers, descending=False)
    n, total = counts.len(), counts.sum()
    if n == 0 or total == 0:
        return []
    cumulative = counts.cum_sum().to_list()
    curve = [(0.0, 0.0)]
    for step in range(1, points + 1):
        share_members = step / points
        # members up to this share, interpolated between whole members
        position = share_members * n
        whole = math.floor(position)
        below = cumulative[whole - 1] if whole >= 1 else 0.0
        partial = (position - whole) * (counts[whole] if whole < n else 0.0)
        curve.append((share_members, float((below + partial) / total)))
    return curve
