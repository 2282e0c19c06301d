"""Trajectories between Q1 and Q2 on a hand-built community."""

from datetime import datetime, timedelta, timezone

import polars as pl
import pytest
from forum_fixtures import JOINED, POSTS, Q1, Q2, T0, make_members, make_posts

from value_pipeline import schema
from value_pipeline.config import TierRules
from value_pipeline.participation import (
    movement,
    newcomer_retention,
    tier_pairs,
    time_to_first_post,
    transition_matrix,
)

HALF = TierRules()  # core 50%, active 80%
IN_Q2 = (datetime(2026, 5, 4, 9, tzinfo=timezone.utc) - T0).total_seconds() / 3600
# Q2: ben 3 posts (0-60%: core), dee and eve 1 each (60-100%, middle 80%: occasional); ana and cy read, not post
POSTS_Q2 = pl.concat([POSTS, make_posts([
    ("q1", "u1", None, "ben", IN_Q2, False), ("q2", "u1", "q1", "dee", IN_Q2 + 1, False),
    ("q3", "u2", None, "ben", IN_Q2 + 5, False), ("q4", "u2", "q3", "eve", IN_Q2 + 6, False),
    ("q5", "u3", None, "ben", IN_Q2 + 9, False),
])])
SEEN = {"cy": datetime(2026, 2, 10, tzinfo=timezone.utc)}  # cy was last seen in February: not reading in Q2
MEMBERS = schema.conform(pl.concat([
    make_members([("ana", False, 300), ("ben", False, 50), ("cy", False, 20), ("dee", False, 5), ("eve", False, 12),
                  ("fay", False, 0), ("staff", True, 900)]),
    make_members([("gus", False, 3)], joined_at=datetime(2026, 4, 10, tzinfo=timezone.utc)),
]).with_columns(last_seen_at=pl.col("author_key").replace_strict(SEEN, default=None, return_dtype=schema.UTC_TIME)), schema.MEMBERS)


def test_tier_pairs():
    pairs = dict((key, (a, b)) for key, a, b in tier_pairs(POSTS_Q2, MEMBERS, Q2, HALF).select("author_key", "from_tier", "to_tier").iter_rows())
    assert pairs == {
        "ana": ("core", "peripheral"), "ben": ("active", "core"), "cy": ("active", "inactive"),
        "dee": ("occasional", "occasional"), "eve": ("peripheral", "occasional"), "fay": ("inactive", "inactive"),
        "gus": ("joined", "peripheral"),
    }


def test_transition_matrix_has_every_pair():
    matrix = transition_matrix(POSTS_Q2, MEMBERS, Q2, HALF)
    assert matrix.height == 7 * 6 and matrix.get_column("members").sum() == 7
    cell = {(a, b): n for a, b, n in matrix.iter_rows()}
    assert cell[("core", "peripheral")] == 1 and cell[("joined", "peripheral")] == 1 and cell[("core", "core")] == 0


def test_movement():
    assert movement(POSTS_Q2, MEMBERS, Q2, HALF) == {
        "joined": 1, "moved_up": 2, "held": 1, "moved_down": 1, "left": 1, "stayed_out": 1}


def test_newcomer_retention():
    # first posts in Q1: ana, ben, cy, dee; of them ben and dee posted in Q2
    assert newcomer_retention(POSTS_Q2, Q2) == {"cohort": 4, "retained": 2, "share": 0.5}
    assert newcomer_retention(POSTS_Q2, Q1) == {"cohort": 0, "retained": 0, "share": None}


def test_time_to_first_post():
    waited = time_to_first_post(POSTS_Q2, MEMBERS, Q1)
    # all joined 5 Jan; ben's first post at T0 + 2 h, cy's at T0 + 30 h: the median of four is their mean
    days = lambda hours: (T0 + timedelta(hours=hours) - JOINED).total_seconds() / 86400  # noqa: E731
    assert waited["first_posters"] == 4 and waited["median_days"] == pytest.approx((days(2) + days(30)) / 2)
    assert (waited["joined"], waited["joined_posted"]) == (6, 4)  # all six members joined on 5 January
    q2 = time_to_first_post(POSTS_Q2, MEMBERS, Q2)
    # eve's first post is in Q2; gus joined in Q2 and has not posted
    assert q2["first_posters"] == 1 and q2["median_days"] == pytest.approx(days(IN_Q2 + 6))
    assert (q2["joined"], q2["joined_posted"]) == (1, 0)
