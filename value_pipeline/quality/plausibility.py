"""Plausibility: rows every reader accepted that still cannot be real.

Applied once to the combined tables of a community, after the readers:
- posts dated in the future (beyond a day of clock slack) or before 1995, and bodies
  over a million characters (a pasted file or an attack, not a post), are quarantined;
  replies to them follow them into quarantine, so no reply points at a missing post;
- survey submissions dated in the future are quarantined with all their answers;
- text holding NUL bytes (damaged or binary data pasted in) is quarantined row by row.
Every row is accounted for: each step adds an Account (read = accepted + quarantined).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import polars as pl

from value_pipeline.ingest.common import Account, link_threads, quarantine_frame
from value_pipeline.quality.expectations import EARLIEST_PLAUSIBLE

CLOCK_SLACK = timedelta(days=1)
MAX_BODY_CHARS = 1_000_000


def check_posts(posts: pl.DataFrame, community: str, now: datetime | None = None) -> tuple[pl.DataFrame, pl.DataFrame, Account]:
    """(plausible posts, quarantined rows, account)."""
    now = now or datetime.now(timezone.utc)
    flagged = posts.with_columns(
        reason=pl.when(pl.col("created_at") > now + CLOCK_SLACK).then(pl.lit("dated in the future"))
        .when(pl.col("created_at") < EARLIEST_PLAUSIBLE).then(pl.lit("dated before 1995 (an unset clock?)"))
        .when(pl.col("body_text").str.len_chars() > MAX_BODY_CHARS).then(pl.lit("post body over a million characters"))
        .when(pl.col("body_text").str.contains("\x00", literal=True) | pl.col("title").str.contains("\x00", literal=True))
        .then(pl.lit("text holds NUL bytes (damaged or binary data)"))
        .otherwise(None)
    )
    bad = flagged.filter(pl.col("reason").is_not_null())
    if bad.height == 0:
        return posts, quarantine_frame(community, "posts", bad, []), Account("posts", "plausible post", posts.height, posts.height, 0)
    kept = flagged.filter(pl.col("reason").is_null()).drop("reason")
    linked, orphans = link_threads(
        kept.rename({"thread_id": "_thread"}).with_columns(parent_id=pl.col("parent_post_id")),
        posts.get_column("post_id"),
    )
    kept = linked.drop("thread_id", "parent_id").rename({"_thread": "thread_id"}).select(posts.columns)
    rejected = pl.concat([bad, orphans.with_columns(reason=pl.lit("reply to a post set aside as implausible"))], how="diagonal_relaxed")
    quarantine = quarantine_frame(community, "posts", rejected, ["post_id", "thread_id", "created_at"])
    return kept, quarantine, Account("posts", "plausible post", posts.height, kept.height, quarantine.height)


def check_responses(responses: pl.DataFrame, community: str, now: datetime | None = None) -> tuple[pl.DataFrame, pl.DataFrame, Account]:
    """(plausible survey answers, quarantined rows, account): future submissions go whole."""
    now = now or datetime.now(timezone.utc)
    outside = (pl.col("submitted_at") > now + CLOCK_SLACK) | (pl.col("submitted_at") < EARLIEST_PLAUSIBLE)
    damaged = pl.col("value_text").str.contains("\x00", literal=True).fill_null(False)
    bad = responses.filter(outside | damaged).with_columns(
        reason=pl.when(outside).then(pl.lit("submission dated outside the plausible range"))
        .otherwise(pl.lit("answer holds NUL bytes (damaged or binary data)"))
    )
    kept = responses.filter(~(outside | damaged))
    quarantine = quarantine_frame(community, "survey_answers", bad, ["wave", "item_id", "submitted_at"])
    return kept, quarantine, Account("survey_responses", "plausible answer", responses.height, kept.height, quarantine.height)
