"""Scale scores, reliability and paired change on answers worked out by hand."""

import math
from datetime import datetime, timezone

import numpy as np
import polars as pl
import pytest

from value_pipeline import schema
from value_pipeline.instrument import Instrument
from value_pipeline.scales import (
    change_by_tier,
    cronbach_alpha,
    mcdonald_omega,
    paired_change,
    reliability,
    response_rates,
    scale_scores,
    waves_in_order,
)

INSTRUMENT = Instrument.model_validate({
    "id": "t", "version": 1, "title": "t",
    "scales": {"agree5": {"min": 1, "max": 5}},
    "items": [
        {"id": "a", "text": "A", "construct": "x", "cycle": 1, "scale": "agree5"},
        {"id": "b", "text": "B", "construct": "x", "cycle": 1, "scale": "agree5"},
        {"id": "c", "text": "C", "construct": "x", "cycle": 1, "scale": "agree5", "reverse_coded": True},
    ],
    "scale_scores": [{"id": "abc", "label": "ABC", "cycle": 1, "items": ["a", "b", "c"]}],
})
ITEMS = INSTRUMENT.items_frame()
SCALES = INSTRUMENT.scale_scores
BASELINE = datetime(2026, 2, 1, tzinfo=timezone.utc)
FOLLOWUP = datetime(2026, 9, 1, tzinfo=timezone.utc)


def _responses(waves: dict[str, dict[str, dict[str, float | None]]]):
    rows = []
    for wave, by_respondent in waves.items():
        for respondent, answers in by_respondent.items():
            for item, value in answers.items():
                if value is not None:
                    rows.append({"community": "c", "wave": wave, "respondent_key": respondent, "member_key": respondent,
                                 "submitted_at": BASELINE if wave == "baseline" else FOLLOWUP, "item_id": item, "value_num": value})
    return schema.conform(pl.DataFrame(rows), schema.SURVEY_RESPONSES)


# c is reverse-coded: 2 -> 4, 4 -> 2, 1 -> 5, 3 -> 3
RESPONSES = _responses({
    "baseline": {
        "r1": {"a": 4, "b": 5, "c": 2},   # 4, 5, 4: score 13/3
        "r2": {"a": 2, "b": 3, "c": 4},   # 2, 3, 2: score 7/3
        "r3": {"a": 5, "b": 4, "c": 1},   # 5, 4, 5: score 14/3
        "r4": {"a": 3, "b": 3, "c": 3},   # 3, 3, 3: score 3 (answered only the baseline)
        "r5": {"a": 4, "b": None, "c": 2},  # b missing: 4, 4: score 4 (2 of 3 is enough); not in alpha
        "r6": {"a": 5, "b": None, "c": None},  # one item of three: no score
    },
    "followup": {
        "r1": {"a": 5, "b": 5, "c": 1},   # 5, 5, 5: score 5      (change +2/3)
        "r2": {"a": 3, "b": 3, "c": 4},   # 3, 3, 2: score 8/3    (change +1/3)
        "r3": {"a": 5, "b": 4, "c": 1},   # 14/3                  (change 0)
        "r5": {"a": 5, "b": 5, "c": None},  # 5, 5: score 5        (change +1)
    },
})


def test_scale_scores_reverse_code_and_need_enough_answers():
    scores = {(r, w): s for r, w, s in scale_scores(RESPONSES, ITEMS, SCALES).select("respondent_key", "wave", "score").iter_rows()}
    assert scores[("r1", "baseline")] == pytest.approx(13 / 3) and scores[("r2", "baseline")] == pytest.approx(7 / 3)
    assert scores[("r5", "baseline")] == pytest.approx(4.0)  # a missing answer is missing, not zero
    assert ("r6", "baseline") not in scores  # one answer of three is not a score
    assert scores[("r1", "followup")] == pytest.approx(5.0)


def test_cronbach_alpha_by_hand():
    # complete baseline answers r1-r4 (r5 and r6 skipped an item), c reversed:
    #   a = 4, 2, 5, 3   variance 5/3;  b = 5, 3, 4, 3  variance 2.75/3;  c' = 4, 2, 5, 3  variance 5/3
    #   totals 13, 7, 14, 9: variance 32.75/3
    #   alpha = 3/2 * (1 - 12.75/32.75) = 30/32.75
    result = reliability(RESPONSES, ITEMS, SCALES[0], "baseline")
    assert result["complete"] == 4
    assert result["alpha"] == pytest.approx(30 / 32.75)
    assert cronbach_alpha(np.array([[1.0, 2.0]])) is None  # one respondent
    assert cronbach_alpha(np.array([[3.0, 3.0], [3.0, 3.0]])) is None  # no variance


def test_mcdonald_omega_recovers_a_known_one_factor_structure():
    # four items loading 0.8 on one factor (unique variance 0.36): omega = 3.2^2 / (3.2^2 + 4 * 0.36) = 0.8767
    rng = np.random.default_rng(1)
    factor = rng.normal(size=4000)
    matrix = np.column_stack([0.8 * factor + 0.6 * rng.normal(size=4000) for _ in range(4)])
    assert mcdonald_omega(matrix) == pytest.approx(10.24 / (10.24 + 1.44), abs=0.01)
    # omega never exceeds alpha's ceiling of 1, and needs three items and more respondents than items
    assert mcdonald_omega(matrix[:, :2]) is None and mcdonald_omega(matrix[:3]) is None


def test_paired_change_uses_only_respondents_in_both_waves():
    scores = scale_scores(RESPONSES, ITEMS, SCALES)
    change = paired_change(scores, "abc", "baseline", "followup")
    # r1 +2/3, r2 +1/3, r3 0, r5 +1 (r4 answered only the baseline): mean 1/2
    differences = np.array([2 / 3, 1 / 3, 0.0, 1.0])
    sd = math.sqrt(((differences - 0.5) ** 2).sum() / 3)  # = sqrt(5/27)
    margin = 3.182446305284263 * sd / 2  # t(0.975, 3) * sd / sqrt(4)
    assert change["n"] == 4 and change["mean_difference"] == pytest.approx(0.5)
    assert change["ci_low"] == pytest.approx(0.5 - margin) and change["ci_high"] == pytest.approx(0.5 + margin)
    assert change["effect_size"] == pytest.approx(0.5 / sd)
    assert paired_change(scores, "abc", "followup", "nonexistent")["n"] == 0


def test_change_by_tier():
    scores = scale_scores(RESPONSES, ITEMS, SCALES)
    tiers = pl.DataFrame({"author_key": ["r1", "r2", "r3", "r5"], "tier": ["core", "active", "peripheral", "staff"]})
    table = {row["tier_group"]: row for row in change_by_tier(scores, tiers, "abc", "baseline", "followup").iter_rows(named=True)}
    assert table["core_active"]["n"] == 2 and table["core_active"]["mean_difference"] == pytest.approx(0.5)
    assert table["periphery"]["n"] == 1 and table["periphery"]["ci_low"] is None  # one pair has no interval
    assert table["occasional"]["n"] == 0  # staff (r5) are in no group


def test_response_rates_and_wave_order():
    rates = {row["item_id"]: row for row in response_rates(RESPONSES, ITEMS, "baseline").iter_rows(named=True)}
    assert rates["a"]["rate"] == 1.0 and rates["b"]["answered"] == 4 and rates["b"]["rate"] == pytest.approx(4 / 6)
    assert rates["c"]["rate"] == pytest.approx(5 / 6)
    assert waves_in_order(RESPONSES) == ["baseline", "followup"]


def test_an_instrument_scale_must_use_known_items_of_one_answer_scale():
    from pydantic import ValidationError

    base = INSTRUMENT.model_dump(by_alias=True)
    with pytest.raises(ValidationError, match="unknown items"):
        Instrument.model_validate(base | {"scale_scores": [{"id": "x", "label": "x", "cycle": 1, "items": ["a", "zz"]}]})
