"""The interaction mix: what members' posts do, from the coded posts.

Research on teacher communities says what to look for: most posts share resources,
usually in answer to questions; unprompted sharing, reflection and critical discussion
are rarer and valued; members commiserate and celebrate; reflection is more common in
asynchronous spaces (forums) than in synchronous ones (chats).
"""

from __future__ import annotations

import polars as pl

from value_pipeline.participation.tiers import quarter_posts

# Chat-like platforms, where conversation is near-synchronous; the rest are forums.
SYNCHRONOUS_PLATFORMS = frozenset({"slack", "teams", "mastodon", "twitter"})
SPACE_LABELS = {"asynchronous": "Forums (asynchronous)", "synchronous": "Chats (synchronous)"}
MAX_REPLY_DEPTH = 200  # longer parent chains are cut here (no real thread nests deeper)


def space_type(platform: pl.Expr) -> pl.Expr:
    """`synchronous` for chat platforms, `asynchronous` for forums and lists."""
    return pl.when(platform.str.to_lowercase().is_in(list(SYNCHRONOUS_PLATFORMS))).then(pl.lit("synchronous")).otherwise(pl.lit("asynchronous"))


def _coded_quarter(posts: pl.DataFrame, coded: pl.DataFrame, quarter) -> pl.DataFrame:
    return quarter_posts(posts, quarter).join(coded.select("post_id", "code"), on="post_id", how="inner")


def interaction_mix(posts: pl.DataFrame, coded: pl.DataFrame, quarter, codes: list[str]) -> pl.DataFrame:
    """Posts per primary code in the quarter (every code listed, zero when absent), with shares."""
    counts = _coded_quarter(posts, coded, quarter).group_by("code").len()
    frame = pl.DataFrame({"code": codes}).join(counts, on="code", how="left").with_columns(
        posts=pl.col("len").fill_null(0)
    ).select("code", "posts")
    total = frame.get_column("posts").sum()
    return frame.with_columns(share=pl.col("posts") / total if total else pl.lit(None, pl.Float64))


def mix_by_space(posts: pl.DataFrame, coded: pl.DataFrame, quarter, codes: list[str]) -> pl.DataFrame:
    """Share of each code among the quarter's posts, per kind of space (forum or chat):
    space, code, posts, share. Only spaces with posts appear."""
    counts = (
        _coded_quarter(posts, coded, quarter)
        .with_columns(space=space_type(pl.col("platform").fill_null("")))
        .group_by("space", "code").len()
    )
    totals = counts.group_by("space").agg(total=pl.col("len").sum())
    grid = totals.sort("space").join(pl.DataFrame({"code": codes}), how="cross")
    return (
        grid.join(counts, on=["space", "code"], how="left")
        .with_columns(posts=pl.col("len").fill_null(0).cast(pl.Int64))
        .with_columns(share=pl.col("posts") / pl.col("total"))
        .select("space", "code", "posts", "share")
    )


def resource_sharing(posts: pl.DataFrame, coded: pl.DataFrame, quarter) -> dict:
    """Resource sharing, prompted and unprompted: `prompted` answers carrying a link or
    file (a resource given because someone asked), `unprompted` posts coded
    resource_share (offered without being asked), and the unprompted share of all
    sharing (None when nothing was shared)."""
    frame = _coded_quarter(posts, coded, quarter)
    has_resource = (pl.col("n_links") + pl.col("n_attachments")) > 0
    prompted = frame.filter((pl.col("code") == "answer") & has_resource).height
    unprompted = frame.filter(pl.col("code") == "resource_share").height
    total = prompted + unprompted
    return {"prompted": prompted, "unprompted": unprompted, "unprompted_share": unprompted / total if total else None}


def reply_depth(posts: pl.DataFrame) -> pl.DataFrame:
    """post_id, thread_id, depth: 0 for a thread start, 1 for a reply to it, 2 for a reply
    to a reply, and so on (flat platforms have depth 1 at most). Computed level by level
    with joins, so the cost grows with the deepest chain, not with the number of posts."""
    frame = posts.select("post_id", "thread_id", "parent_post_id", "is_thread_start")
    known = frame.filter(pl.col("is_thread_start") | pl.col("parent_post_id").is_null()).select("post_id", depth=pl.lit(0, pl.Int32))
    result = [known]
    pending = frame.filter(~(pl.col("is_thread_start") | pl.col("parent_post_id").is_null())).select("post_id", "parent_post_id")
    level = 0
    while pending.height and known.height and level < MAX_REPLY_DEPTH:
        level += 1
        children = pending.join(known.select(parent_post_id="post_id"), on="parent_post_id", how="semi")
        known = children.select("post_id", depth=pl.lit(level, pl.Int32))
        result.append(known)
        pending = pending.join(children.select("post_id"), on="post_id", how="anti")
    depths = pl.concat(result)
    # replies whose parent chain never reaches a start (loops, cut chains) count as depth 1
    return frame.select("post_id", "thread_id").join(depths, on="post_id", how="left").with_columns(pl.col("depth").fill_null(1))


def thread_shapes(posts: pl.DataFrame, coded: pl.DataFrame, quarter) -> pl.DataFrame:
    """Per thread opened in the quarter: posts, distinct participants, deepest reply
    level, and how many of its posts (and distinct authors) are coded reflection."""
    opened = quarter_posts(posts, quarter).filter(pl.col("is_thread_start")).select("thread_id").unique()
    thread_posts = posts.join(opened, on="thread_id", how="semi")
    depths = reply_depth(thread_posts).select("post_id", "depth")
    return (
        thread_posts.join(depths, on="post_id", how="left")
        .join(coded.select("post_id", "code"), on="post_id", how="left")
        .group_by("thread_id")
        .agg(
            posts=pl.len(),
            participants=pl.col("author_key").n_unique(),
            depth=pl.col("depth").max(),
            reflective_posts=(pl.col("code") == "reflection").sum(),
            reflective_authors=pl.col("author_key").filter(pl.col("code") == "reflection").n_unique(),
        )
    )


def reflection_depth(posts: pl.DataFrame, coded: pl.DataFrame, quarter) -> dict:
    """How deep conversation goes: of the threads opened in the quarter, the share with a
    reflective post, the share where two or more people reflect (critical discussion,
    not a lone essay), the median posts per thread and the median deepest reply level.
    None for each when no thread was opened."""
    shapes = thread_shapes(posts, coded, quarter)
    if shapes.height == 0:
        return {"threads": 0, "with_reflection": None, "with_discussion": None, "median_posts": None, "median_depth": None}
    return {
        "threads": shapes.height,
        "with_reflection": shapes.filter(pl.col("reflective_posts") > 0).height / shapes.height,
        "with_discussion": shapes.filter(pl.col("reflective_authors") >= 2).height / shapes.height,
        "median_posts": float(shapes.get_column("posts").median()),
        "median_depth": float(shapes.get_column("depth").median()),
    }
