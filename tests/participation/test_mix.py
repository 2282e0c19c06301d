"""The interaction mix, sharing, reflection depth and forums vs chats."""

import polars as pl
import pytest
from forum_fixtures import POST_ROWS, POSTS, Q1, Q2, make_coded, make_posts

from value_pipeline.participation import (
    interaction_mix,
    mix_by_space,
    reflection_depth,
    reply_depth,
    resource_sharing,
    thread_shapes,
)

CODED = make_coded({"a1": "question", "b1": "answer", "s1": "answer", "a2": "question", "c1": "reflection",
                    "a3": "reflection", "a4": "resource_share", "a5": "question", "b2": "answer", "c2": "reflection",
                    "d1": "support", "s2": "support"})


def test_interaction_mix_lists_every_code():
    coded = make_coded({"a1": "question", "b1": "answer"})
    mix = interaction_mix(POSTS, coded, Q1, ["question", "answer", "other"])
    assert mix.rows() == [("question", 1, 0.5), ("answer", 1, 0.5), ("other", 0, 0.0)]
    assert interaction_mix(POSTS, coded, Q2, ["question"]).rows() == [("question", 0, None)]


def test_prompted_and_unprompted_sharing():
    posts = POSTS.with_columns(n_links=pl.when(pl.col("post_id").is_in(["b1", "a4"])).then(1).otherwise(0))
    # b1 answers with a link (prompted); a4 shares unasked (unprompted); b2 answers without a resource
    assert resource_sharing(posts, CODED, Q1) == {"prompted": 1, "unprompted": 1, "unprompted_share": 0.5}
    assert resource_sharing(POSTS, make_coded({}), Q1)["unprompted_share"] is None


def test_reply_depth_follows_the_parent_chain():
    depth = dict(reply_depth(POSTS).select("post_id", "depth").iter_rows())
    assert depth == {"a1": 0, "b1": 1, "s1": 1, "a2": 0, "c1": 1, "a3": 2, "a4": 0, "a5": 0, "b2": 1, "c2": 2,
                     "d1": 0, "s2": 1}
    # a reply whose parent is missing, and a two-post loop, never reach a start: depth 1
    broken = make_posts([("x", "t", None, "a", 1, False), ("y", "t", "gone", "b", 2, False),
                         ("p", "u", "q", "a", 3, False), ("q", "u", "p", "b", 4, False)])
    assert dict(reply_depth(broken).select("post_id", "depth").iter_rows()) == {"x": 0, "y": 1, "p": 1, "q": 1}


def test_thread_shapes_and_reflection_depth():
    shapes = {row["thread_id"]: row for row in thread_shapes(POSTS, CODED, Q1).iter_rows(named=True)}
    assert (shapes["t2"]["posts"], shapes["t2"]["participants"], shapes["t2"]["depth"]) == (3, 2, 2)
    assert shapes["t2"]["reflective_authors"] == 2 and shapes["t4"]["reflective_authors"] == 1
    depth = reflection_depth(POSTS, CODED, Q1)
    # posts per thread 3, 3, 1, 3, 2; deepest levels 1, 2, 0, 2, 1
    assert depth == {"threads": 5, "with_reflection": 2 / 5, "with_discussion": 1 / 5, "median_posts": 3.0, "median_depth": 1.0}
    assert reflection_depth(POSTS, CODED, Q2)["with_reflection"] is None


def test_forums_and_chats_compared():
    chat = make_posts([row for row in POST_ROWS if row[1] == "t5"], platform="slack")
    posts = pl.concat([POSTS.filter(pl.col("thread_id") != "t5"), chat])
    table = mix_by_space(posts, CODED, Q1, ["question", "reflection", "support"])
    shares = {(space, code): share for space, code, _posts, share in table.iter_rows()}
    assert shares[("synchronous", "support")] == 1.0
    assert shares[("asynchronous", "reflection")] == pytest.approx(3 / 10)
    assert mix_by_space(POSTS, CODED, Q1, ["question"]).get_column("space").unique().to_list() == ["asynchronous"]
