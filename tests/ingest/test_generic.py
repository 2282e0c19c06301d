"""The generic CSV/Parquet forum reader, with and without a column mapping."""

from pathlib import Path

import polars as pl
import pytest

from value_pipeline.errors import InputError
from value_pipeline.ingest import generic
from value_pipeline.ingest.detect import Sniff

FIXTURE = Path(__file__).parents[1] / "fixtures" / "generic" / "district_forum.csv"
MAPPING = {
    "columns": {"post_id": "id", "channel": "board", "title": "subject", "body_text": "message", "author": "email",
                "created_at": "posted", "parent_post_id": "reply_to", "n_reactions": "likes", "is_staff": "moderator"},
    "time_format": "%d/%m/%Y %H:%M",
}


def test_mapped_csv_threads_by_walking_parents(context):
    result = generic.read([FIXTURE], context(options=MAPPING, timezone="Europe/London"))
    posts = result.posts.sort("post_id")
    assert posts.get_column("post_id").to_list() == ["1001", "1002", "1003", "1004"]
    # 1003 replies to 1002 which replies to 1001: all in 1001's thread
    assert posts.get_column("thread_id").to_list() == ["1001", "1001", "1001", "1004"]
    assert posts.get_column("parent_post_id").to_list() == [None, "1001", "1002", None]
    assert posts.get_column("title").to_list() == ["Fraction strips or number lines first?", None, None, "PD day moved"]
    assert posts.get_column("n_links").to_list() == [0, 1, 0, 0]
    assert posts.get_column("is_staff").to_list() == [False, False, False, True]
    assert str(posts.get_column("created_at")[0]) == "2026-01-14 19:42:00+00:00"  # GMT in January
    reasons = sorted(result.quarantine.get_column("reason").to_list())
    assert reasons == ["duplicate post id (already read)", "missing or unreadable created_at", "reply to a post not in the export"]
    assert result.accounts[0].read == 7 and result.accounts[0].balanced
    text = posts.write_csv() + result.members.write_csv() + result.quarantine.write_csv()
    assert "@lakeview-sd.example" not in text and "ana.ruiz" not in text


def test_canonical_parquet_is_detected_and_keeps_pseudonymous_keys(tmp_path, context):
    table = pl.DataFrame({
        "post_id": ["a", "b"], "thread_id": ["a", "a"], "parent_post_id": [None, "a"], "author_key": ["k1", "k2"],
        "created_at": ["2026-03-01T10:00:00Z", "2026-03-01T11:30:00+01:00"], "body_text": ["Question?", "Answer."],
    })
    path = tmp_path / "posts.parquet"
    table.write_parquet(path)
    assert generic.looks_like(Sniff(path))
    posts = generic.read([path], context()).posts.sort("post_id")
    assert posts.get_column("author_key").to_list() == ["k1", "k2"]
    assert [str(t) for t in posts.get_column("created_at")] == ["2026-03-01 10:00:00+00:00", "2026-03-01 10:30:00+00:00"]


def test_unmapped_foreign_csv_is_not_detected_and_bad_mappings_name_the_file(context):
    assert not generic.looks_like(Sniff(FIXTURE))
    with pytest.raises(InputError, match="generic export needs column"):
        generic.read([FIXTURE], context())
    with pytest.raises(InputError) as error:
        generic.read([FIXTURE], context(options={"columns": {**MAPPING["columns"], "post_id": "post_number"}}))
    assert str(error.value).startswith(str(FIXTURE)) and "post_id -> post_number" in str(error.value)


def test_reply_loops_are_quarantined(tmp_path, context):
    path = tmp_path / "loop.csv"
    path.write_text("post_id,parent_post_id,author,created_at,body_text\n"
                    "1,,a,2026-01-01 10:00,start\n2,3,b,2026-01-01 11:00,x\n3,2,c,2026-01-01 12:00,y\n")
    result = generic.read([path], context())
    assert result.posts.get_column("post_id").to_list() == ["1"]
    assert result.quarantine.get_column("reason").unique().to_list() == ["reply chain loops back on itself"]
