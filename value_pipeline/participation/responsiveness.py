"""Responsiveness: do members' questions and threads get a response, and how fast.

A question is a thread-opening post coded `question`, asked in the quarter. Its first
reply is the earliest post in the thread by someone other than the asker; it is
answered when such a reply is coded `answer`. Replies after the quarter ends still
count, so questions asked late in a quarter are not penalised. Threads with no reply by
anyone but their opener are left unanswered, whatever their opening move.
"""

from __future__ import annotations

import polars as pl

from value_pipeline.participation.tiers import quarter_posts

ALL_CHANNELS = "(all channels)"


def _opened_threads(posts: pl.DataFrame, coded: pl.DataFrame, quarter) -> pl.DataFrame:
    """Threads opened in the quarter: thread_id, channel, opener, opened_at, opening code."""
    return (
        quarter_posts(posts, quarter)
        .filter(pl.col("is_thread_start"))
        .join(coded.select("post_id", "code"), on="post_id", how="left")
        .select(
            "thread_id", channel=pl.col("channel").fill_null("(no channel)"), opener=pl.col("author_key"),
            opened_at=pl.col("created_at"), opening_code=pl.col("code"),
        )
        .unique("thread_id", keep="first")
    )


def thread_responses(posts: pl.DataFrame, coded: pl.DataFrame, quarter) -> pl.DataFrame:
    """Per thread opened in the quarter: its channel and opening code, when it first got
    a reply from someone else (null: never), hours to that reply, and whether any reply
    by someone else was coded `answer`."""
    opened = _opened_threads(posts, coded, quarter)
    replies = (
        posts.filter(~pl.col("is_thread_start"))
        .select("thread_id", "post_id", "author_key", "created_at")
        .join(opened.select("thread_id", "opener"), on="thread_id", how="inner")
        .filter(pl.col("author_key") != pl.col("opener"))
        .join(coded.select("post_id", "code"), on="post_id", how="left")
        .group_by("thread_id")
        .agg(replied_at=pl.col("created_at").min(), answered=(pl.col("code") == "answer").any())
    )
    return opened.join(replies, on="thread_id", how="left").with_columns(
        answered=pl.col("answered").fill_null(False),
        hours_to_first_reply=(pl.col("replied_at") - pl.col("opened_at")).dt.total_seconds() / 3600,
    )


def _summarise(frame: pl.LazyFrame | pl.DataFrame, by: list[str]) -> pl.DataFrame:
    question = pl.col("opening_code") == "question"
    replied = pl.col("replied_at").is_not_null()
    hours = pl.col("hours_to_first_reply").filter(question & replied)
    aggregations = [
        pl.len().alias("threads"),
        (~replied).sum().alias("unanswered_threads"),
        question.sum().alias("questions"),
        (question & replied).sum().alias("replied"),
        (question & pl.col("answered")).sum().alias("answered"),
        hours.median().alias("median_hours"),
        hours.quantile(0.9, "nearest").alias("p90_hours"),
    ]
    grouped = frame.group_by(by).agg(aggregations) if by else frame.select(aggregations)
    return grouped.with_columns(pl.col(c).cast(pl.Int64) for c in ("threads", "unanswered_threads", "questions", "replied", "answered"))


def responsiveness_by_channel(posts: pl.DataFrame, coded: pl.DataFrame, quarter) -> pl.DataFrame:
    """Per channel, then all channels together: threads opened, threads left unanswered,
    questions, questions replied to and answered, median and 90th percentile hours to
    the first reply (questions that got one)."""
    responses = thread_responses(posts, coded, quarter)
    per_channel = _summarise(responses, ["channel"]).sort("channel")
    overall = _summarise(responses, []).with_columns(channel=pl.lit(ALL_CHANNELS)).select(per_channel.columns)
    return pl.concat([per_channel, overall], how="vertical_relaxed")


def responsiveness(posts: pl.DataFrame, coded: pl.DataFrame, quarter) -> dict:
    """All channels together: questions, replied, answered, unanswered (questions with
    no reply), median_hours and p90_hours to the first reply, threads and
    unanswered_threads."""
    row = responsiveness_by_channel(posts, coded, quarter).filter(pl.col("channel") == ALL_CHANNELS).row(0, named=True)
    return {
        "questions": row["questions"], "replied": row["replied"], "answered": row["answered"],
        "unanswered": row["questions"] - row["replied"],
        "median_hours": row["median_hours"], "p90_hours": row["p90_hours"],
        "threads": row["threads"], "unanswered_threads": row["unanswered_threads"],
    }
