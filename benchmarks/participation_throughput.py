"""Participation metrics at scale: every figure of the ledger's participation part.

    .venv/bin/python benchmarks/participation_throughput.py --posts 1000000 --members 50000

Builds a synthetic community directly as canonical tables (numpy, deterministic): posts
spread over a year (four quarters) in threads across 12 channels, authors drawn from a
heavy-tailed distribution (a minority writes most posts), replies to the opener or to an
earlier reply (nested chains), a few staff, members with reading data, coded posts, and
one survey wave of 5,000 respondents. Then times, per quarter: member tiers, every
forum indicator (inequality, responsiveness by channel, mix and reflection depth, the
reply network, trajectories) and value by tier, with the process's peak memory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from value_pipeline import schema  # noqa: E402
from value_pipeline.coding.codebook import load_codebook  # noqa: E402
from value_pipeline.instrument import load_instrument  # noqa: E402
from value_pipeline.ledger import (  # noqa: E402
    forum_indicators,
    value_by_tier_indicators,
)
from value_pipeline.participation import member_tiers  # noqa: E402
from value_pipeline.periods import Quarter  # noqa: E402

YEAR_START = datetime(2026, 1, 1, tzinfo=timezone.utc)
YEAR_SECONDS = 365 * 86400
CODES = ["question", "answer", "practice_report", "resource_share", "reflection", "support", "celebration", "social", "other"]
CODE_SHARES = [0.14, 0.34, 0.06, 0.12, 0.08, 0.07, 0.05, 0.10, 0.04]
N_STAFF = 20


def synthetic_community(n_posts: int, n_members: int, seed: int = 11) -> tuple[pl.DataFrame, ...]:
    """posts, members, coded, survey_responses, survey_items: canonical tables."""
    rng = np.random.default_rng(seed)
    n_threads = max(1, n_posts // 5)
    n_replies = n_posts - n_threads
    # heavy-tailed authorship: weight 1 / rank^1.1
    weights = 1.0 / np.arange(1, n_members + 1) ** 1.1
    weights /= weights.sum()
    authors = rng.choice(n_members, size=n_posts, p=weights)
    opened = rng.uniform(0, YEAR_SECONDS - 86400, n_threads)
    thread_of_reply = rng.choice(n_threads, size=n_replies, p=(w := rng.pareto(1.5, n_threads) + 1) / w.sum())
    delay = rng.exponential(6 * 3600, n_replies)
    replies = pl.DataFrame({
        "thread": thread_of_reply, "seconds": opened[thread_of_reply] + delay, "author": authors[n_threads:],
    }).sort("thread", "seconds").with_row_index("reply")
    replies = replies.with_columns(
        post_id=pl.format("r{}", "reply"),
        thread_id=pl.format("t{}", "thread"),
        # 70% answer the opener, 30% the previous reply in the thread (nested chains)
        parent_post_id=pl.when((pl.lit(rng.uniform(0, 1, n_replies)) < 0.3) & (pl.col("thread") == pl.col("thread").shift(1)))
        .then(pl.format("r{}", pl.col("reply") - 1)).otherwise(pl.format("t{}", "thread")),
    )
    starts = pl.DataFrame({"thread": np.arange(n_threads), "seconds": opened, "author": authors[:n_threads]}).with_columns(
        post_id=pl.format("t{}", "thread"), thread_id=pl.format("t{}", "thread"), parent_post_id=pl.lit(None, pl.String),
    )
    frame = pl.concat([starts, replies.drop("reply")], how="diagonal_relaxed")
    posts = frame.select(
        "post_id", "thread_id", "parent_post_id",
        community=pl.lit("bench"), platform=pl.lit("discourse"),
        author_key=pl.format("m{}", "author"),
        created_at=pl.lit(YEAR_START) + pl.duration(seconds=pl.col("seconds")),
        channel=pl.format("channel-{}", pl.col("thread") % 12),
        is_thread_start=pl.col("parent_post_id").is_null(),
        n_links=pl.lit(rng.poisson(0.3, n_posts)), n_attachments=pl.lit(0), n_reactions=pl.lit(0),
        is_staff=pl.col("author") < N_STAFF, body_text=pl.lit(""),
    )
    posts = schema.conform(posts, schema.POSTS)
    member_ids = np.arange(n_members)
    members = schema.conform(pl.DataFrame({
        "author_key": [f"m{i}" for i in member_ids],
        "joined_at": [YEAR_START] * n_members,
        "posts_read": rng.poisson(40, n_members),
        "is_staff": member_ids < N_STAFF,
    }).with_columns(
        community=pl.lit("bench"), role=pl.when(pl.col("is_staff")).then(pl.lit("staff")).otherwise(pl.lit("member")),
        joined_at=pl.col("joined_at") + pl.duration(seconds=pl.lit(rng.uniform(0, YEAR_SECONDS * 0.9, n_members))),
    ), schema.MEMBERS)
    coded = posts.select("post_id").with_columns(code=pl.lit(rng.choice(CODES, size=n_posts, p=CODE_SHARES)), coder=pl.lit("bench"))
    instrument = load_instrument()
    items = instrument.items_frame()
    scale = items.filter(pl.col("kind") == "likert").get_column("item_id").to_list()
    n_respondents = min(5000, n_members)
    respondents = rng.choice(n_members, size=n_respondents, replace=False)
    responses = pl.DataFrame({
        "respondent_key": np.repeat([f"s{i}" for i in range(n_respondents)], len(scale)),
        "member_key": np.repeat([f"m{i}" for i in respondents], len(scale)),
        "item_id": np.tile(scale, n_respondents),
        "value_num": rng.integers(1, 6, n_respondents * len(scale)).astype(float),
    }).with_columns(community=pl.lit("bench"), wave=pl.lit("followup"), submitted_at=pl.lit(datetime(2026, 11, 15, tzinfo=timezone.utc)))
    return posts, members, coded, schema.conform(responses, schema.SURVEY_RESPONSES), items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=50_000)
    args = parser.parse_args()
    started = time.perf_counter()
    posts, members, coded, responses, items = synthetic_community(args.posts, args.members)
    print(f"synthetic community: {posts.height:,} posts, {members.height:,} members, "
          f"{responses.get_column('respondent_key').n_unique():,} survey respondents ({time.perf_counter() - started:.1f} s)")
    codebook = load_codebook()
    labels = {item.id: item.label or item.text for item in load_instrument().items}
    total = 0.0
    for number in range(1, 5):
        quarter = Quarter(2026, number)
        step = time.perf_counter()
        tiers = member_tiers(posts, members, quarter)
        rows = forum_indicators(posts, coded, tiers, quarter, codebook, members=members)
        rows += value_by_tier_indicators(responses, items, tiers, labels, quarter)
        seconds = time.perf_counter() - step
        total += seconds
        print(f"{quarter.label}: {len(rows)} indicators in {seconds:.1f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"all participation metrics, 4 quarters: {total:.1f} s ({total / 4:.1f} s a quarter); peak RSS {peak:,.0f} MB")


if __name__ == "__main__":
    main()
