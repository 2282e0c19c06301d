"""Plausibility: future dates, unset clocks and giant bodies are set aside with their replies."""

from datetime import datetime, timedelta, timezone

import polars as pl

from value_pipeline import schema
from value_pipeline.quality import plausibility

NOW = datetime(2026, 11, 26, tzinfo=timezone.utc)


def _posts(rows):
    return schema.conform(pl.DataFrame([
        {"community": "c", "post_id": p, "thread_id": t, "parent_post_id": parent, "author_key": "a",
         "created_at": when, "is_thread_start": parent is None, "body_text": body, "source_file": "f", "source_row": i}
        for i, (p, t, parent, when, body) in enumerate(rows)
    ]), schema.POSTS)


def test_future_posts_and_their_replies_are_set_aside():
    posts = _posts([
        ("1", "1", None, NOW - timedelta(days=3), "fine"),
        ("2", "1", "1", NOW + timedelta(days=400), "from a broken clock"),
        ("3", "1", "2", NOW - timedelta(days=1), "reply to the future post"),
        ("4", "4", None, datetime(1970, 1, 1, tzinfo=timezone.utc), "epoch zero"),
        ("5", "5", None, NOW + timedelta(hours=20), "within a day of clock slack"),
        ("6", "6", None, NOW - timedelta(days=2), "x" * 1_000_001),
    ])
    kept, quarantine, account = plausibility.check_posts(posts, "c", NOW)
    assert kept.get_column("post_id").to_list() == ["1", "5"]
    reasons = dict(quarantine.select(pl.col("raw").str.extract(r'"post_id":"(\d)"'), "reason").iter_rows())
    assert reasons == {
        "2": "dated in the future", "3": "reply to a post set aside as implausible",
        "4": "dated before 1995 (an unset clock?)", "6": "post body over a million characters",
    }
    assert account.read == 6 and account.accepted == 2 and account.balanced


def test_future_survey_submissions_go_whole():
    responses = schema.conform(pl.DataFrame({
        "wave": ["w"] * 3, "respondent_key": ["r1", "r1", "r2"], "item_id": ["a", "b", "a"],
        "submitted_at": [NOW + timedelta(days=30)] * 2 + [NOW - timedelta(days=30)], "value_num": [4.0, 3.0, 5.0],
    }), schema.SURVEY_RESPONSES)
    kept, quarantine, account = plausibility.check_responses(responses, "c", NOW)
    assert kept.get_column("respondent_key").to_list() == ["r2"]
    assert quarantine.height == 2 and account.balanced
