"""The Canvas discussion reader: /view responses (real samples and fixtures built from the API docs)."""

from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest
from support import SAMPLES, needs_samples

from value_pipeline import schema
from value_pipeline.errors import InputError
from value_pipeline.ingest import canvas, discourse
from value_pipeline.ingest.detect import Sniff
from value_pipeline.quality.structural import check_members, check_posts

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "canvas"
NORMAL = FIXTURES / "week3_questioning_view.json"
PROBLEMS = FIXTURES / "week4_problems_view.json"
REAL = SAMPLES / "canvas" / "canvas-android"
PEOPLE = ["Dana Whitfield", "Marcus Oyelaran", "Priya Raman", "Tomás Beltrán", "Helen Ostrowski", "Drip Derskey"]
USER_IDS = ["5011", "5023", "5037", "5042", "5050", "3828648"]


def _utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def _frames_text(result) -> str:
    return "\n".join(frame.cast(pl.String).write_csv() for frame in (result.posts, result.members, result.quarantine))


def test_threads_are_top_level_entries_and_replies_nest_by_parent_id(context):
    result = canvas.read([NORMAL], context())
    posts = result.posts
    assert schema.check_conforms(posts, schema.POSTS) == []
    assert check_posts(posts).passed and check_members(result.members).passed
    assert all(account.balanced for account in result.accounts)
    by_id = {row["post_id"]: row for row in posts.iter_rows(named=True)}
    assert sorted(by_id) == ["88101", "88104", "88107", "88115", "88120", "88122", "88130", "88140"]
    starts = posts.filter(pl.col("is_thread_start")).sort("post_id")
    assert starts.get_column("post_id").to_list() == ["88101", "88104", "88130"]
    assert starts.get_column("parent_post_id").null_count() == 3
    assert starts.get_column("thread_id").to_list() == ["88101", "88104", "88130"]
    # nested two deep: 88115 answers 88107, which answers the thread start 88101
    assert (by_id["88115"]["parent_post_id"], by_id["88115"]["thread_id"]) == ("88107", "88101")
    assert (by_id["88107"]["parent_post_id"], by_id["88107"]["thread_id"]) == ("88101", "88101")
    # new_entries are merged by parent_id: 88140 joins thread 88104
    assert (by_id["88140"]["parent_post_id"], by_id["88140"]["thread_id"]) == ("88104", "88104")
    # times are UTC instants
    assert by_id["88101"]["created_at"] == _utc(2026, 2, 3, 15, 12, 9)
    assert posts.schema["created_at"] == schema.UTC_TIME
    # HTML is plain text; links, attachments (objects and embedded images) and likes counted
    assert by_id["88101"]["body_text"].startswith("I tried stretching my wait time")
    assert "<p>" not in "".join(posts.get_column("body_text"))
    assert "“how do you know?”" in by_id["88130"]["body_text"]
    assert by_id["88101"]["n_links"] == 1
    assert by_id["88120"]["n_attachments"] == 1
    assert by_id["88104"]["n_attachments"] == 1
    assert by_id["88101"]["n_reactions"] == 3
    assert by_id["88115"]["n_reactions"] == 0
    # no subject on entries; channel from the file name by default
    assert posts.get_column("title").null_count() == posts.height
    assert set(posts.get_column("channel")) == {"week3_questioning_view"}
    assert by_id["88101"]["source_row"] == 0 and by_id["88140"]["source_row"] == 8


def test_new_entries_copy_supersedes_the_cached_view_copy(context):
    result = canvas.read([NORMAL], context())
    edited = result.posts.filter(pl.col("post_id") == "88122").row(0, named=True)
    assert edited["body_text"].startswith("Mini whiteboards!")
    assert edited["n_reactions"] == 1
    assert result.quarantine.get_column("reason").to_list() == ["superseded by its newer copy in new_entries"]
    (account,) = result.accounts
    assert (account.read, account.accepted, account.quarantined) == (9, 8, 1)


def test_staff_from_editing_others_entries_and_from_community_yaml(context):
    result = canvas.read([NORMAL], context())
    staff = result.posts.filter(pl.col("is_staff")).get_column("post_id").to_list()
    # Dana (5011) edited Tomás's entry 88104: only a moderator can, so her posts are staff posts
    assert staff == ["88120"]
    members = result.members
    assert members.height == 5
    assert members.filter(pl.col("is_staff")).height == 1
    # staff named in community.yaml, by Canvas user id or display name
    listed = canvas.read([NORMAL], context(staff=frozenset({"5050", "priya raman"})))
    flagged = set(listed.posts.filter(pl.col("is_staff")).get_column("post_id"))
    assert flagged == {"88120", "88122", "88130", "88101", "88115"}


def test_channel_from_forum_options(context):
    result = canvas.read([NORMAL], context(options={"channels": {"week3_questioning_view.json": "Week 3: Questioning"}}))
    assert set(result.posts.get_column("channel")) == {"Week 3: Questioning"}
    result = canvas.read([NORMAL], context(options={"channel": "PD discussions"}))
    assert set(result.posts.get_column("channel")) == {"PD discussions"}


def test_row_problems_are_quarantined_with_reasons(context):
    result = canvas.read([PROBLEMS], context())
    (account,) = result.accounts
    assert account.balanced and (account.read, account.accepted, account.quarantined) == (9, 2, 7)
    reasons = dict(zip(result.quarantine.get_column("source_row"), result.quarantine.get_column("reason"), strict=True))
    assert reasons == {
        0: "excluded: deleted entry",
        1: "reply in a thread whose first entry was deleted or quarantined",
        3: "excluded: deleted entry",
        5: "missing or unreadable created_at",
        6: "not an entry object",
        7: "reply to a post not in the export",
        8: "missing author (user_id)",
    }
    # a reply under a deleted reply stays, answering its nearest surviving ancestor
    assert check_posts(result.posts).passed
    kept = result.posts.sort("post_id")
    assert kept.get_column("post_id").to_list() == ["89210", "89218"]
    assert kept.row(1, named=True)["parent_post_id"] == "89210"
    assert kept.row(1, named=True)["thread_id"] == "89210"
    # string ids read as the same strings
    assert kept.get_column("thread_id").to_list() == ["89210", "89210"]


def test_the_same_topic_twice_is_quarantined_as_duplicates(context):
    result = canvas.read([NORMAL, NORMAL], context())
    assert result.posts.height == 8
    assert result.quarantine.get_column("reason").to_list().count("duplicate entry id (already read)") == 9
    assert all(account.balanced for account in result.accounts)


def test_no_identity_leaves_the_reader(context):
    result = canvas.read([NORMAL, PROBLEMS], context())
    text = _frames_text(result)
    for identity in PEOPLE + USER_IDS:
        assert identity not in text
    assert result.members.get_column("author_key").str.contains(r"^[0-9a-f]{16}$").all()


def test_author_keys_are_canvas_user_ids(context, pseudonymizer):
    result = canvas.read([NORMAL], context())
    priya = pseudonymizer.key("user_id", "5037", "canvas")
    assert result.posts.filter(pl.col("author_key") == priya).height == 2
    # numeric and string ids key the same person identically
    problems = canvas.read([PROBLEMS], context())
    assert problems.posts.filter(pl.col("post_id") == "89218").get_column("author_key").item() == pseudonymizer.key(
        "user_id", "5050", "canvas"
    )


@needs_samples(REAL)
def test_real_samples_numeric_and_string_ids_read_the_same(context):
    long_ids = canvas.read([REAL / "discussion_view_long_ids.json"], context())
    string_ids = canvas.read([REAL / "discussion_view_string_ids.json"], context())
    columns = ["post_id", "thread_id", "parent_post_id", "author_key", "created_at", "body_text", "is_thread_start"]
    assert long_ids.posts.select(columns).equals(string_ids.posts.select(columns))
    assert long_ids.posts.get_column("post_id").to_list() == ["5203752", "5203767"]
    assert long_ids.posts.get_column("is_thread_start").all()
    assert long_ids.posts.get_column("created_at").to_list()[0] == _utc(2013, 5, 29, 15, 50, 24)
    assert "Drip Derskey" not in _frames_text(long_ids)


@needs_samples(REAL)
def test_detection_from_content(tmp_path):
    assert canvas.looks_like(Sniff(NORMAL))
    assert canvas.looks_like(Sniff(PROBLEMS))
    assert canvas.looks_like(Sniff(REAL / "discussion_view_long_ids.json"))
    renamed = tmp_path / "export.txt"
    renamed.write_bytes(NORMAL.read_bytes())
    assert canvas.looks_like(Sniff(renamed))
    # other formats
    slack_channels = SAMPLES / "slack" / "slack-export-viewer" / "export" / "channels.json"
    assert not canvas.looks_like(Sniff(slack_channels))
    assert not canvas.looks_like(Sniff(SAMPLES / "slack" / "slack-export-viewer" / "testarchive.zip"))
    assert not canvas.looks_like(Sniff(SAMPLES / "discourse" / "discourse_api" / "topic.json"))
    moodle = tmp_path / "forum.csv"
    moodle.write_text("id,discussion,parent,userid,created,subject,message\n1,1,0,7,1767650000,Hi,<p>Hello</p>\n")
    assert not canvas.looks_like(Sniff(moodle))
    assert not canvas.looks_like(Sniff(tmp_path))
    # and the Discourse reader does not claim a Canvas view
    assert not discourse.looks_like(Sniff(NORMAL))


def test_structural_problems_are_one_line_errors(context, tmp_path):
    wrong = tmp_path / "topic.json"
    wrong.write_text('{"participants": [], "entries": []}')
    with pytest.raises(InputError) as raised:
        canvas.read([wrong], context())
    message = str(raised.value)
    assert message.startswith(str(wrong)) and "\n" not in message
    assert "not a Canvas discussion view" in message

    broken = tmp_path / "broken.json"
    broken.write_text('{"participants": [], "view": [{"id": 1, ')
    with pytest.raises(InputError, match="not valid JSON"):
        canvas.read([broken], context())

    bad_replies = tmp_path / "bad_replies.json"
    bad_replies.write_text('{"participants": [], "view": [{"id": 1, "user_id": 2, "replies": {"id": 3}}]}')
    with pytest.raises(InputError, match="'replies' is not a list"):
        canvas.read([bad_replies], context())


def test_a_parent_cycle_is_quarantined_not_looped_forever(context, tmp_path):
    looped = tmp_path / "looped.json"
    looped.write_text(
        '{"participants": [], "view": ['
        '{"id": 1, "user_id": 7, "parent_id": null, "created_at": "2026-01-05T10:00:00Z", "message": "start"},'
        '{"id": 2, "user_id": 7, "parent_id": 3, "created_at": "2026-01-05T10:01:00Z", "message": "a"},'
        '{"id": 3, "user_id": 7, "parent_id": 2, "created_at": "2026-01-05T10:02:00Z", "message": "b"},'
        '{"id": 4, "user_id": 7, "parent_id": 3, "created_at": "2026-01-05T10:03:00Z", "message": "c"}]}'
    )
    result = canvas.read([looped], context())
    assert result.posts.get_column("post_id").to_list() == ["1"]
    assert set(result.quarantine.get_column("reason")) == {"reply chain loops back on itself (corrupt parent ids)"}
    assert result.accounts[0].balanced
