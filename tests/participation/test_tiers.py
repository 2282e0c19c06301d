"""Member tiers: the onion model's cumulative-share rule, reading evidence, configurable cuts."""

from datetime import datetime, timezone

import polars as pl
import pytest
from forum_fixtures import MEMBERS, POSTS, Q1, Q2, make_members, make_posts

from value_pipeline import schema
from value_pipeline.config import TierRules
from value_pipeline.participation import member_tiers, tier_counts, tier_labels

ONION = TierRules(core_share=0.8, active_share=0.95)


def _tiers(posts=POSTS, members=MEMBERS, quarter=Q1, rules=None):
    return dict(member_tiers(posts, members, quarter, rules).select("author_key", "tier").iter_rows())


def test_default_cuts_half_and_80_percent_with_ties_placed_by_their_middle():
    # posts 5, 2, 2, 1 of 10. ana covers 0-50% (middle 25%: core); ben and cy tie and
    # cover 50-90% (middle 70%: active, both); dee covers 90-100% (middle 95%: occasional)
    tiers = member_tiers(POSTS, MEMBERS, Q1)
    assert dict(tiers.select("author_key", "tier").iter_rows()) == {
        "ana": "core", "ben": "active", "cy": "active", "dee": "occasional", "eve": "peripheral", "fay": "inactive", "staff": "staff"}
    assert tier_counts(tiers) == {"core": 1, "active": 2, "occasional": 1, "peripheral": 1, "inactive": 1, "non_posting": 0}


def test_the_onion_models_80_and_95_percent_cuts():
    # same spans: ben and cy (middle 70%) are core under an 80% cut; dee (95%) is not before 95%: occasional
    assert _tiers(rules=ONION) == {"ana": "core", "ben": "core", "cy": "core", "dee": "occasional",
                                   "eve": "peripheral", "fay": "inactive", "staff": "staff"}


def test_a_tail_of_one_post_members_is_not_swept_into_the_core():
    # one member writes 6 posts, four members one each (6, 1, 1, 1, 1 of 10): the tail covers
    # 60-100% (middle 80%, not before the 80% cut), so it is active, not core, although it starts at 60%
    rows = [(f"m{i}", f"t{i}", None, "lead", i, False) for i in range(6)]
    rows += [(f"x{i}", "t0", "m0", f"tail{i}", 10 + i, False) for i in range(4)]
    members = make_members([("lead", False, 1)] + [(f"tail{i}", False, 1) for i in range(4)])
    tiers = _tiers(make_posts(rows), members, rules=ONION)
    assert tiers["lead"] == "core" and {tiers[f"tail{i}"] for i in range(4)} == {"active"}


def test_readers_who_rarely_post_can_count_as_peripheral():
    # dee posted once and reads: occasional by default, peripheral when one post counts as "rarely"
    rules = TierRules(peripheral_max_posts=1)
    assert _tiers(rules=rules)["dee"] == "peripheral"
    assert "at most 1 times" in tier_labels(rules)["peripheral"]


def test_one_member_and_a_quarter_without_posts():
    assert _tiers(make_posts([("x", "t", None, "solo", 1, False)]), make_members([("solo", False, 1)])) == {"solo": "core"}
    assert _tiers(POSTS, MEMBERS, Q2) == {"ana": "peripheral", "ben": "peripheral", "cy": "peripheral", "dee": "peripheral",
                                          "eve": "peripheral", "fay": "inactive", "staff": "staff"}


def test_no_reading_data_means_non_posting_not_inactive():
    members = make_members([("ana", False, None), ("zed", False, None)])
    assert _tiers(POSTS.filter(pl.col("author_key") == "ana"), members) == {"ana": "core", "zed": "non_posting"}


def test_tier_rules_must_be_ordered():
    with pytest.raises(ValueError, match="active_share"):
        TierRules(core_share=0.9, active_share=0.8)


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
    empty = make_posts([])
    assert _tiers(empty, members, Q1) == {"reader": "peripheral", "gone": "inactive", "lapsed": "peripheral"}
    assert _tiers(empty, members, Q2) == {"reader": "inactive", "gone": "inactive", "lapsed": "inactive"}
