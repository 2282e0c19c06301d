"""Value by tier: survey answers grouped by the respondent's tier in the quarter."""

from datetime import datetime, timezone

import polars as pl
import pytest
from forum_fixtures import MEMBERS, POSTS, Q1, Q2

from value_pipeline import schema
from value_pipeline.instrument import load_instrument
from value_pipeline.participation import (
    member_tiers,
    respondent_groups,
    respondents_by_group,
    value_by_tier,
)

ITEMS = load_instrument().items_frame()
IN_Q1 = datetime(2026, 3, 10, tzinfo=timezone.utc)


def _responses(answers: dict[str, float], member_keys: dict[str, str | None]):
    rows = [
        {"community": "c", "wave": "w", "respondent_key": respondent, "member_key": member_keys[respondent],
         "submitted_at": IN_Q1, "item_id": "imm_useful", "value_num": value}
        for respondent, value in answers.items()
    ]
    return schema.conform(pl.DataFrame(rows, schema_overrides={"member_key": pl.String}), schema.SURVEY_RESPONSES)


# tiers in Q1 (default cuts): ana core; ben, cy active; dee occasional; eve peripheral; fay inactive; staff apart
RESPONSES = _responses(
    {"r_ana": 5, "r_dee": 4, "r_eve": 2, "r_fay": 4, "r_staff": 5, "r_anon": 1},
    {"r_ana": "ana", "r_dee": "dee", "r_eve": "eve", "r_fay": "fay", "r_staff": "staff", "r_anon": None},
)
TIERS = member_tiers(POSTS, MEMBERS, Q1)


def test_respondents_are_grouped_by_tier_and_staff_left_out():
    groups = dict(respondent_groups(RESPONSES, TIERS, Q1).iter_rows())
    assert groups == {"r_ana": "core_active", "r_dee": "occasional", "r_eve": "periphery", "r_fay": "periphery",
                      "r_anon": "unlinked"}
    assert respondents_by_group(RESPONSES, TIERS, Q1) == {"core_active": 1, "occasional": 1, "periphery": 2, "unlinked": 1}


def test_value_by_tier_means_and_agreement():
    table = {row["tier_group"]: row for row in value_by_tier(RESPONSES, ITEMS, TIERS, Q1).iter_rows(named=True)}
    assert set(table) == {"core_active", "occasional", "periphery"}  # unlinked and staff answers are not placed
    assert table["core_active"]["respondents"] == 1 and table["core_active"]["mean"] == pytest.approx(5.0)
    assert table["occasional"]["mean"] == pytest.approx(4.0) and table["occasional"]["share_positive"] == 1.0
    assert table["periphery"]["mean"] == pytest.approx(3.0) and table["periphery"]["share_positive"] == 0.5
    assert table["periphery"]["cycle"] == 1


def test_no_wave_in_the_quarter():
    assert value_by_tier(RESPONSES, ITEMS, member_tiers(POSTS, MEMBERS, Q2), Q2).height == 0
    assert respondents_by_group(RESPONSES, TIERS, Q2) == {"core_active": 0, "occasional": 0, "periphery": 0, "unlinked": 0}
