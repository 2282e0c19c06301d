"""Responsiveness: replies and answers by others, time to first reply, by channel."""

import polars as pl
import pytest
from forum_fixtures import POSTS, Q1, Q2, make_coded, make_posts

from value_pipeline.participation import responsiveness, responsiveness_by_channel
from value_pipeline.participation.responsiveness import ALL_CHANNELS

# every opener a question; the replies in t1 (ben) and t2 (cy) are answers
CODED = make_coded({"a1": "question", "a2": "question", "a4": "question", "a5": "question", "d1": "question",
                    "b1": "answer", "c1": "answer", "a3": "social", "b2": "social", "c2": "social"})


def test_replies_by_others_only():
    result = responsiveness(POSTS, CODED, Q1)
    # t1: ben after 2 h; t2: cy after 25 h; t3: none; t4: ben after 1 h; t5: staff after 10 h
    assert result["questions"] == 5 and result["replied"] == 4 and result["unanswered"] == 1
    assert result["answered"] == 2 and result["threads"] == 5 and result["unanswered_threads"] == 1
    assert result["median_hours"] == pytest.approx(6.0)
    assert result["p90_hours"] == pytest.approx(25.0)


def test_by_channel():
    table = {row["channel"]: row for row in responsiveness_by_channel(POSTS, CODED, Q1).iter_rows(named=True)}
    assert list(table) == ["general", "science", ALL_CHANNELS]
    science, general = table["science"], table["general"]
    assert (science["threads"], science["questions"], science["replied"], science["answered"]) == (2, 2, 2, 2)
    assert science["median_hours"] == pytest.approx(13.5) and science["unanswered_threads"] == 0
    assert (general["threads"], general["questions"], general["replied"], general["answered"]) == (3, 3, 2, 0)
    assert general["median_hours"] == pytest.approx(5.5) and general["unanswered_threads"] == 1


def test_a_thread_only_its_opener_posts_in_is_unanswered_whatever_its_code():
    posts = make_posts([("x", "t", None, "ana", 1, False), ("y", "t", "x", "ana", 2, False)])
    result = responsiveness(posts, make_coded({"x": "resource_share", "y": "social"}), Q1)
    assert result["questions"] == 0 and result["unanswered_threads"] == 1 and result["median_hours"] is None


def test_no_questions_or_no_posts():
    empty = responsiveness(make_posts([]), make_coded({}), Q1)
    assert empty == {"questions": 0, "replied": 0, "answered": 0, "unanswered": 0, "median_hours": None,
                     "p90_hours": None, "threads": 0, "unanswered_threads": 0}
    assert responsiveness(POSTS, CODED, Q2)["threads"] == 0


def test_a_reply_after_the_quarter_still_counts():
    late = pl.concat([POSTS, make_posts([("late", "t3", "a4", "ben", 24 * 70, False)])])
    assert responsiveness(late, CODED, Q1)["replied"] == 5
