"""The Great Expectations suites: what they catch, with ids, and the Data Docs site."""

from datetime import datetime, timedelta, timezone

import polars as pl
import pytest

from value_pipeline import schema
from value_pipeline.instrument import load_instrument
from value_pipeline.quality.expectations import validate

NOW = datetime(2026, 11, 26, tzinfo=timezone.utc)


def _tables():
    posts = schema.conform(pl.DataFrame([
        {"post_id": "1", "thread_id": "1", "parent_post_id": None, "author_key": "a", "created_at": NOW - timedelta(days=5),
         "is_thread_start": True, "body_text": "Anyone have a density lab?", "channel": "Labs", "n_links": 0, "n_reactions": 1},
        {"post_id": "2", "thread_id": "1", "parent_post_id": "1", "author_key": "b", "created_at": NOW - timedelta(days=4),
         "is_thread_start": False, "body_text": "", "channel": None, "n_links": 1, "n_reactions": 0},
        {"post_id": "2", "thread_id": "1", "parent_post_id": "9", "author_key": None, "created_at": NOW + timedelta(days=90),
         "is_thread_start": False, "body_text": "duplicate id, missing parent, no author, future", "channel": "Labs", "n_links": 0, "n_reactions": 0},
    ]), schema.POSTS)
    members = schema.conform(pl.DataFrame({"author_key": ["a", "b"], "role": ["member", "wizard"], "is_staff": [False, False]}), schema.MEMBERS)
    responses = schema.conform(pl.DataFrame({
        "wave": ["baseline", "baseline", "mystery"], "respondent_key": ["r1", "r1", "r2"],
        "item_id": ["imm_useful", "imm_useful", "imm_enjoy"], "value_num": [4.0, 9.0, 3.0],
        "submitted_at": [NOW - timedelta(days=30)] * 3,
    }), schema.SURVEY_RESPONSES)
    return {"posts": posts, "members": members, "survey_responses": responses, "survey_items": load_instrument().items_frame()}


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    return validate(_tables(), tmp_path_factory.mktemp("docs"), now=NOW)


def _failed(outcome, table):
    return {(f.expectation, f.column): f for f in outcome.suites[table].failures()}


def test_post_problems_are_caught_with_their_ids(outcome):
    failed = _failed(outcome, "posts")
    assert failed[("expect_column_values_to_be_unique", "post_id")].failing_ids == ["2", "2"]
    assert failed[("expect_column_values_to_not_be_null", "author_key")].unexpected == 1
    assert failed[("expect_column_values_to_be_between", "created_at")].failing_ids == ["2"]
    assert failed[("expect_column_values_to_be_in_set", "parent_in_export")].severity == "structural"
    # content warnings are reported as warnings
    assert failed[("expect_column_values_to_not_be_null", "channel")].severity == "warning"
    assert failed[("expect_column_value_lengths_to_be_between", "body_text")].severity == "warning"
    assert not outcome.suites["posts"].structural_success


def test_member_survey_and_item_suites(outcome):
    assert ("expect_column_values_to_be_in_set", "role") in _failed(outcome, "members")
    survey = _failed(outcome, "survey_responses")
    assert survey[("expect_compound_columns_to_be_unique", "wave, respondent_key, item_id")].unexpected == 2
    assert survey[("expect_column_pair_values_a_to_be_greater_than_b", "scale_max, value_num")].failing_ids == ["baseline/r1/imm_useful"]
    assert survey[("expect_column_values_to_be_in_set", "wave")].failing_ids == ["mystery/r2/imm_enjoy"]
    assert outcome.suites["survey_items"].success  # the shipped instrument is well formed


def test_data_docs_site_is_written(outcome):
    assert outcome.docs_index is not None and outcome.docs_index.name == "index.html"
    html = outcome.docs_index.read_text()
    assert "posts" in html and "survey_responses" in html
    assert list((outcome.docs_index.parent / "validations").rglob("*.html"))
