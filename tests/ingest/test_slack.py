"""The Slack reader on the real export (folder and zip) in ../shared/samples."""

import json
import zipfile

import polars as pl
import pytest
from support import SAMPLES, needs_samples

from value_pipeline.errors import InputError
from value_pipeline.ingest import slack

SLACK = SAMPLES / "slack" / "slack-export-viewer"


@needs_samples(SLACK)
def test_folder_and_zip_give_the_same_posts(context):
    folder = slack.read([SLACK / "export"], context())
    archive = slack.read([SLACK / "testarchive.zip"], context())
    columns = ["post_id", "thread_id", "author_key", "created_at", "body_text", "n_links", "n_reactions"]
    assert folder.posts.select(columns).sort("post_id").equals(archive.posts.select(columns).sort("post_id"))


@needs_samples(SLACK)
def test_system_and_bot_messages_are_excluded_and_accounted(context):
    result = slack.read([SLACK / "export"], context())
    post_account = result.accounts[0]
    assert post_account.read == 158 and post_account.accepted == 52 and post_account.balanced
    reasons = result.quarantine.group_by("reason").len()
    counts = dict(reasons.iter_rows())
    assert counts["excluded: system message (bot_message)"] == 94
    assert counts["excluded: system message (channel_join)"] == 8
    # mentions never carry user ids into body text
    assert not result.posts.get_column("body_text").str.contains("U0BM").any()


def test_threads_replies_filed_under_their_own_day(tmp_path, context, pseudonymizer):
    export = tmp_path / "export"
    (export / "general").mkdir(parents=True)
    (export / "channels.json").write_text(json.dumps([{"id": "C1", "name": "general"}]))
    (export / "users.json").write_text(json.dumps([
        {"id": "U1", "name": "ana", "profile": {"email": "ana@school.example"}},
        {"id": "U2", "name": "ben", "profile": {}},
    ]))
    (export / "general" / "2026-01-05.json").write_text(json.dumps([
        {"type": "message", "user": "U1", "text": "anyone have a good density lab?", "ts": "1767650000.000100", "thread_ts": "1767650000.000100"},
    ]))
    # reply on the next day, with thread_ts typed as a number as old exports do
    (export / "general" / "2026-01-06.json").write_text(json.dumps([
        {"type": "message", "user": "U2", "text": "try <https://phet.colorado.edu|PhET>", "ts": "1767736400.000200", "thread_ts": 1767650000.0001},
    ]))
    result = slack.read([export], context())
    reply = result.posts.filter(~pl.col("is_thread_start"))
    assert reply.get_column("parent_post_id").item() == "C1:1767650000.000100"
    assert reply.get_column("body_text").item() == "try PhET"
    assert reply.get_column("n_links").item() == 1
    # the member with an email is keyed by it, so survey answers can link
    assert pseudonymizer.key("email", "ana@school.example") in result.posts.get_column("author_key").to_list()


def test_zip_with_parent_directory_entries_is_refused(tmp_path, context):
    bad = tmp_path / "export.zip"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("channels.json", "[]")
        archive.writestr("../evil/2026-01-01.json", "[]")
    with pytest.raises(InputError, match="unsafe path"):
        slack.read([bad], context())
