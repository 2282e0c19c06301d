"""Participation measures on small hand-computed fixtures."""

from datetime import datetime, timedelta, timezone

import polars as pl
import pytest

from value_pipeline import schema
from value_pipeline.participation import (
    gini,
    interaction_mix,
    member_tiers,
    reply_ties,
    responsiveness,
    tier_counts,
    top_share,
)
from value_pipeline.periods import Quarter

Q1 = Quarter(2026, 1)
T0 = datetime(2026, 2, 2, 15, 0, tzinfo=timezone.utc)


def _posts(rows):
    """rows: (post_id, thread_id, parent, author, hours after T0, is_staff)."""
    return schema.conform(pl.DataFrame([
        {"community": "c", "platform": "p", "post_id": p, "thread_id": t, "parent_post_id": parent, "author_key": a,
         "created_at": T0 + timedelta(hours=h), "is_thread_start": parent is None, "body_text": "", "n_links": 0,
         "n_attachments": 0, "n_reactions": 0, "is_staff": staff}
        for p, t, parent, a, h, staff in rows
    ]), schema.POSTS)


def _members(rows):
    """rows: (author, is_staff, posts_read or None)."""
    return schema.conform(pl.DataFrame([
        {"community": "c", "author_key": a, "joined_at": datetime(2026, 1, 5, tzinfo=timezone.utc),
         "is_staff": s, "posts_read": r, "role": "staff" if s else "member"}
        for a, s, r in rows
    ], schema_overrides={"posts_read": pl.Int64}), schema.MEMBERS)


# 10 member posts: ana 5, ben 2, cy 2, dee 1; staff 2 posts; eve reads, fay does not.
POSTS = _posts(
    [("a1", "t1", None, "ana", 0, False), ("b1", "t1", "a1", "ben", 2, False), ("s1", "t1", "a1", "staff", 3, True),
     ("a2", "t2", None, "ana", 5, False), ("c1", "t2", "a2", "cy", 30, False), ("a3", "t2", "c1", "ana", 31, False),
     ("a4", "t3", None, "ana", 40, False), ("a5", "t4", None, "ana", 50, False), ("b2", "t4", "a5", "ben", 51, False),
     ("c2", "t4", "b2", "cy", 52, False), ("d1", "t5", None, "dee", 60, False), ("s2", "t5", "d1", "staff", 70, True)]
)
MEMBERS = _members([("ana", False, 300), ("ben", False, 50), ("cy", False, 20), ("dee", False, 5),
                    ("eve", False, 12), ("fay", False, 0), ("staff", True, 900)])


def test_tiers_follow_the_cumulative_share_rule():
    tiers = member_tiers(POSTS, MEMBERS, Q1)
    by_member = dict(tiers.select("author_key", "tier").iter_rows())
    # ana writes 5/10 (share before her: 0 < 0.5 -> core); ben and cy tie at 2: share before 0.5 -> active
    # (both, ties share a tier); dee: share before 0.9 -> occasional; eve reads -> peripheral; fay -> inactive
    assert by_member == {"ana": "core", "ben": "active", "cy": "active", "dee": "occasional",
                         "eve": "peripheral", "fay": "inactive", "staff": "staff"}
    assert tier_counts(tiers) == {"core": 1, "active": 2, "occasional": 1, "peripheral": 1, "inactive": 1, "non_posting": 0}


def test_no_reading_data_means_non_posting_not_inactive():
    members = _members([("ana", False, None), ("zed", False, None)])
    tiers = member_tiers(POSTS.filter(pl.col("author_key") == "ana"), members, Q1)
    assert dict(tiers.select("author_key", "tier").iter_rows()) == {"ana": "core", "zed": "non_posting"}


def test_inequality_measures():
    tiers = member_tiers(POSTS, MEMBERS, Q1)
    # 6 members, top 10% rounds to 1 member: ana's 5 of 10 posts
    assert top_share(tiers, 0.1) == 0.5
    # posts sorted: 0,0,1,2,2,5 -> G = 2*sum(i*x)/(n*sum) - (n+1)/n = 2*(3+8+10+30)/60 - 7/6
    assert gini(tiers) == pytest.approx(2 * 51 / 60 - 7 / 6)


def test_inequality_edge_cases():
    one = member_tiers(_posts([("x", "t", None, "solo", 1, False)]), _members([("solo", False, 1)]), Q1)
    assert top_share(one, 0.1) == 1.0 and gini(one) == pytest.approx(0.0)
    empty = member_tiers(_posts([]), _members([("a", False, 1), ("b", False, 0)]), Q1)
    assert top_share(empty, 0.1) is None and gini(empty) is None


def test_responsiveness_counts_replies_by_others_only():
    coded = pl.DataFrame({"post_id": ["a1", "a2", "a4", "a5", "d1"], "code": ["question"] * 5})
    result = responsiveness(POSTS, coded, Q1)
    # t1: ben after 2h; t2: cy after 25h; t3: none; t4: ben after 1h; t5: staff after 10h
    assert result["questions"] == 5 and result["replied"] == 4 and result["unanswered"] == 1
    assert result["median_hours"] == pytest.approx(6.0)
    assert result["p90_hours"] == pytest.approx(25.0)


def test_responsiveness_with_no_questions_or_no_posts():
    empty = responsiveness(_posts([]), pl.DataFrame({"post_id": [], "code": []}, schema={"post_id": pl.String, "code": pl.String}), Q1)
    assert empty == {"questions": 0, "replied": 0, "unanswered": 0, "median_hours": None, "p90_hours": None}


def test_reply_ties_and_reciprocity():
    ties = reply_ties(POSTS, Q1)
    # directed edges: ben->ana, staff->ana, cy->ana, ana->cy, ben->ana (dup), cy->ben, staff->dee
    # unique directed: ben>ana, staff>ana, cy>ana, ana>cy, cy>ben, staff>dee = 6; reciprocated: cy>ana, ana>cy = 2
    assert ties == {"connected_members": 5, "ties": 5, "reciprocity": pytest.approx(2 / 6)}
    assert reply_ties(_posts([("x", "t", None, "a", 1, False)]), Q1)["reciprocity"] is None


def test_interaction_mix_lists_every_code():
    coded = pl.DataFrame({"post_id": ["a1", "b1"], "code": ["question", "answer"]})
    mix = interaction_mix(POSTS, coded, Q1, ["question", "answer", "other"])
    assert mix.rows() == [("question", 1, 0.5), ("answer", 1, 0.5), ("other", 0, 0.0)]
    other_quarter = interaction_mix(POSTS, coded, Quarter(2026, 2), ["question"])
    assert other_quarter.rows() == [("question", 0, None)]


def test_sign_up_visit_alone_or_absence_since_the_quarter_is_not_reading():
    joined = datetime(2026, 1, 5, tzinfo=timezone.utc)
    members = schema.conform(pl.DataFrame([
        # read 40 posts, last seen in March: peripheral in Q1
        {"author_key": "reader", "posts_read": 40, "days_visited": 9, "last_seen_at": datetime(2026, 3, 1, tzinfo=timezone.utc)},
        # signed up and never came back
        {"author_key": "gone", "posts_read": 0, "days_visited": 1, "last_seen_at": joined},
        # read in January, not seen since: inactive in Q2
        {"author_key": "lapsed", "posts_read": 15, "days_visited": 4, "last_seen_at": datetime(2026, 1, 20, tzinfo=timezone.utc)},
    ]).with_columns(community=pl.lit("c"), joined_at=pl.lit(joined), is_staff=pl.lit(False)), schema.MEMBERS)
    q1 = dict(member_tiers(_posts([]), members, Q1).select("author_key", "tier").iter_rows())
    q2 = dict(member_tiers(_posts([]), members, Quarter(2026, 2)).select("author_key", "tier").iter_rows())
    assert q1 == {"reader": "peripheral", "gone": "inactive", "lapsed": "peripheral"}
    assert q2 == {"reader": "inactive", "gone": "inactive", "lapsed": "inactive"}
