"""The reply network in aggregate, and who responds to newcomers."""

import pytest
from forum_fixtures import POSTS, Q1, Q2, make_posts

from value_pipeline.participation import (
    network_summary,
    newcomer_responses,
    reply_edges,
)


def test_reply_edges_are_distinct_and_skip_self_replies():
    # ben>ana (twice), staff>ana, cy>ana, ana>cy, cy>ben, staff>dee
    edges = set(reply_edges(POSTS, Q1).iter_rows())
    assert edges == {("ben", "ana"), ("staff", "ana"), ("cy", "ana"), ("ana", "cy"), ("cy", "ben"), ("staff", "dee")}


def test_network_summary():
    summary = network_summary(POSTS, Q1)
    # 5 people, 5 undirected ties of 10 possible; ana-ben-cy is a triangle (the 2-core);
    # removing ana splits ben-cy from staff-dee, removing staff isolates dee: 2 brokers, one staff
    assert summary == {
        "people": 5, "connected": 5, "ties": 5, "density": 0.5, "reciprocity": pytest.approx(2 / 6),
        "core_k": 2, "in_core": 3, "brokers": 2, "staff_brokers": 1, "groups": 1, "largest_group": 5,
    }


def test_no_ties_one_person_and_an_empty_quarter():
    solo = network_summary(make_posts([("x", "t", None, "a", 1, False)]), Q1)
    assert solo["people"] == 1 and solo["ties"] == 0 and solo["density"] is None and solo["reciprocity"] is None
    two = network_summary(make_posts([("x", "t", None, "a", 1, False), ("y", "u", None, "b", 2, False)]), Q1)
    assert two["density"] == 0.0 and two["brokers"] == 0
    assert network_summary(POSTS, Q2)["people"] == 0


def test_newcomer_responses():
    # first posts: ana a1 (ben replies after 2 h), ben b1 (staff after 1 h), cy c1 (ana after 1 h), dee d1 (staff after 10 h)
    assert newcomer_responses(POSTS, Q1) == {"newcomers": 4, "by_staff": 2, "by_peers": 2, "no_response": 0, "median_hours": 1.5}
    # nobody's first post is in Q2
    assert newcomer_responses(POSTS, Q2)["newcomers"] == 0
    lonely = make_posts([("x", "t", None, "a", 1, False)])
    assert newcomer_responses(lonely, Q1) == {"newcomers": 1, "by_staff": 0, "by_peers": 0, "no_response": 1, "median_hours": None}
