"""Inequality of posting, on the fixture community (member posts 5, 2, 2, 1, 0, 0)."""

import pytest
from forum_fixtures import MEMBERS, POSTS, Q1, make_members, make_posts

from value_pipeline.participation import (
    gini,
    lorenz_curve,
    member_tiers,
    members_writing_half,
    top_share,
)

TIERS = member_tiers(POSTS, MEMBERS, Q1)


def test_top_shares():
    # 6 members: the top 10% and the top 1% both round to one member (at least one): ana's 5 of 10
    assert top_share(TIERS, 0.1) == 0.5 and top_share(TIERS, 0.01) == 0.5
    assert top_share(TIERS, 0.5) == pytest.approx(9 / 10)  # ana, ben, cy


def test_gini():
    # sorted 0,0,1,2,2,5: G = 2*sum(i*x)/(n*sum) - (n+1)/n = 2*(3+8+10+30)/60 - 7/6
    assert gini(TIERS) == pytest.approx(2 * 51 / 60 - 7 / 6)


def test_fewest_members_writing_half():
    assert members_writing_half(TIERS) == 1  # ana alone writes 5 of 10
    even = member_tiers(make_posts([(f"p{i}", f"t{i}", None, name, i, False) for i, name in enumerate("abcd")]),
                        make_members([(name, False, 1) for name in "abcd"]), Q1)
    assert members_writing_half(even) == 2  # ties: any two of four equal posters


def test_lorenz_curve():
    curve = lorenz_curve(TIERS)
    assert curve[0] == (0.0, 0.0) and curve[-1] == (1.0, 1.0) and len(curve) == 11
    points = dict(curve)
    # cumulative ascending posts 0,0,1,3,5,10: the bottom 50% (3 members) write 1 of 10;
    # the bottom 60% (3.6 members) write 1 + 0.6 * 2 = 2.2
    assert points[0.5] == pytest.approx(0.1) and points[0.6] == pytest.approx(0.22)
    ys = [y for _, y in curve]
    assert ys == sorted(ys)


def test_edge_cases_one_member_and_no_posts():
    one = member_tiers(make_posts([("x", "t", None, "solo", 1, False)]), make_members([("solo", False, 1)]), Q1)
    assert top_share(one, 0.1) == 1.0 and gini(one) == pytest.approx(0.0) and members_writing_half(one) == 1
    assert lorenz_curve(one)[5] == (0.5, pytest.approx(0.5))
    empty = member_tiers(make_posts([]), make_members([("a", False, 1), ("b", False, 0)]), Q1)
    assert top_share(empty, 0.1) is None and gini(empty) is None and members_writing_half(empty) is None
    assert lorenz_curve(empty) == []
