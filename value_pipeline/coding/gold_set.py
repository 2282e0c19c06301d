"""The development gold set: 450 hand-coded posts (coding/gold/), as canonical posts.

posts.csv holds each post with its thread context as text (the thread's opener and the
post it replies to); gold.csv the adjudicated codes of two independent coders. For the
coders, the context lets each reply be judged in its thread; here it is rebuilt as
context posts (never coded themselves), so the coders' thread features (a reply to a
question, the asker's own follow-up) are computed exactly as in production.
"""

from __future__ import annotations

from importlib import resources

import polars as pl

from value_pipeline import schema

OPENER = r"^THREAD OPENER \((same author|another member)\): (?s)(.*?)(?:\nREPLYING TO: .*)?$"
PARENT = r"(?s)\nREPLYING TO: (.*)$"


def _gold_file(name: str) -> str:
    return str(resources.files("value_pipeline") / "coding" / "gold" / name)


def gold_posts() -> tuple[pl.DataFrame, pl.DataFrame]:
    """(posts, codes): canonical posts (gold posts plus their context posts) and the gold
    codes (post_id, code, source) of the 450 coded posts."""
    raw = pl.read_csv(_gold_file("posts.csv"), infer_schema=False)
    codes = pl.read_csv(_gold_file("gold.csv"), infer_schema=False).join(
        raw.select("post_id", "source"), on="post_id", how="left"
    ).select("post_id", "code", "source")
    frame = raw.with_columns(
        start=pl.col("is_thread_start") == "true",
        opener_author=pl.col("context").str.extract(OPENER, 1),
        opener_text=pl.col("context").str.extract(OPENER, 2),
        parent_text=pl.col("context").str.extract(PARENT, 1),
    )
    coded = frame.select(
        post_id="post_id",
        thread_id=pl.when(pl.col("start")).then(pl.col("post_id")).otherwise(pl.col("post_id") + ":opener"),
        parent_post_id=pl.when(pl.col("start")).then(None)
        .when(pl.col("parent_text").is_not_null()).then(pl.col("post_id") + ":parent")
        .otherwise(pl.col("post_id") + ":opener"),
        author_key=pl.lit("author"),
        title=pl.when(pl.col("start")).then(pl.col("title")).otherwise(None),
        body_text=pl.col("body"),
        is_thread_start=pl.col("start"),
    )
    replies = frame.filter(~pl.col("start"))
    openers = replies.select(
        post_id=pl.col("post_id") + ":opener",
        thread_id=pl.col("post_id") + ":opener",
        parent_post_id=pl.lit(None, pl.String),
        author_key=pl.when(pl.col("opener_author") == "same author").then(pl.lit("author")).otherwise(pl.lit("someone else")),
        title=pl.col("thread_title"),
        body_text=pl.col("opener_text"),
        is_thread_start=pl.lit(True),
    )
    parents = replies.filter(pl.col("parent_text").is_not_null()).select(
        post_id=pl.col("post_id") + ":parent",
        thread_id=pl.col("post_id") + ":opener",
        parent_post_id=pl.col("post_id") + ":opener",
        author_key=pl.lit("a third member"),
        title=pl.lit(None, pl.String),
        body_text=pl.col("parent_text"),
        is_thread_start=pl.lit(False),
    )
    posts = schema.conform(
        pl.concat([coded, openers, parents]).with_columns(
            community=pl.lit("gold"), platform=pl.lit("gold"), n_attachments=pl.lit(0),
            n_links=pl.col("body_text").str.count_matches(r"(?i)https?://|\[link to "),
            is_staff=pl.lit(False),
        ),
        schema.POSTS,
    )
    return posts, codes
