"""The Mastodon archive reader on two members' hand-made archives (no public sample exists).

tests/fixtures/mastodon/{ana,ben} are unpacked archives as Mastodon's exporter writes them
(outbox.json, actor.json, likes.json, bookmarks.json), on two instances, with a thread
that runs across both archives.
"""

import io
import json
import shutil
import tarfile
import zipfile
from pathlib import Path

import polars as pl
import pytest
from support import SAMPLES

from value_pipeline.errors import InputError
from value_pipeline.ingest import mastodon
from value_pipeline.ingest.detect import Sniff

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mastodon"
ANA, BEN = FIXTURES / "ana", FIXTURES / "ben"
SLACK_CHANNELS = SAMPLES / "slack" / "slack-export-viewer" / "export" / "channels.json"
ANA_FIRST = "teachers.example:111100000000000001"
IDENTITIES = ["ana_ruiz", "bokafor", "Ana Ruiz", "Ben Okafor", "prof_x", "@teachers.example", "@maths.example"]


def _read(context, paths=(ANA, BEN), **settings):
    settings.setdefault("staff", frozenset({"ana_ruiz@teachers.example"}))
    settings.setdefault("options", {"hashtag": "#EdChat"})
    return mastodon.read(list(paths), context(**settings))


def test_threads_run_across_archives(context):
    result = _read(context)
    posts = result.posts.sort("created_at")
    start = posts.filter(pl.col("post_id") == ANA_FIRST)
    assert start.get_column("is_thread_start").item() and start.get_column("parent_post_id").item() is None
    # Ana's question, Ben's reply (his archive), Ana's answer, Ben's follow-up: one thread
    thread = posts.filter(pl.col("thread_id") == ANA_FIRST)
    assert thread.get_column("post_id").to_list() == [
        ANA_FIRST, "maths.example:111200000000000001", "teachers.example:111100000000000003", "maths.example:111200000000000002",
    ]
    assert thread.get_column("parent_post_id").to_list() == [
        None, ANA_FIRST, "maths.example:111200000000000001", "teachers.example:111100000000000003",
    ]
    # Ben's own thread: a start and his self-reply
    assert posts.filter(pl.col("thread_id") == "maths.example:111200000000000003").height == 2
    # thread starts are exactly the posts without a parent
    assert posts.filter(pl.col("is_thread_start") != pl.col("parent_post_id").is_null()).height == 0
    assert posts.get_column("post_id").is_unique().all()


def test_times_links_attachments_reactions_and_channel(context):
    posts = _read(context).posts
    row = posts.filter(pl.col("post_id") == ANA_FIRST).row(0, named=True)
    assert str(row["created_at"]) == "2024-03-05 19:00:12+00:00"
    assert posts.schema["created_at"] == pl.Datetime("us", "UTC")
    assert row["n_links"] == 1  # the nrich link; the #edchat hashtag link is not counted
    assert row["n_attachments"] == 1 and row["n_reactions"] == 4
    assert row["channel"] == "#edchat" and row["title"] is None
    assert row["body_text"].startswith("Tonight's #edchat question: how do you open a lesson")
    assert "<" not in "".join(posts.get_column("body_text").to_list())
    ben_reply = posts.filter(pl.col("post_id") == "maths.example:111200000000000001").row(0, named=True)
    assert ben_reply["n_links"] == 2  # youcubed and the link to Ana's post; not the mention or the hashtag
    # a PDF counts, the preview card does not; no likes count in the Note: Ana's likes.json has it
    plan = posts.filter(pl.col("post_id") == "maths.example:111200000000000003").row(0, named=True)
    assert plan["n_attachments"] == 1 and plan["n_reactions"] == 1
    # posts without the community hashtag stay, in the platform's channel
    channels = dict(posts.group_by("channel").len().iter_rows())
    assert channels == {"#edchat": 3, "mastodon": 5}
    # a poll keeps its options, a content warning is the first paragraph
    bodies = posts.get_column("body_text").to_list()
    assert any(body.endswith("- Exit tickets\n- Mini whiteboards\n- Hinge questions") for body in bodies)
    assert any(body.startswith("marking workload\n\nThirty books") for body in bodies)


def test_mentions_become_member_and_staff_from_community_yaml(context, pseudonymizer):
    result = _read(context)
    posts = result.posts
    replies = posts.filter(~pl.col("is_thread_start")).get_column("body_text").to_list()
    assert all(body.startswith("@member ") for body in replies if body.startswith("@"))
    assert "https://teachers.example/@member/111100000000000001" in "\n".join(posts.get_column("body_text"))
    ana_key = pseudonymizer.key("username", "ana_ruiz@teachers.example", "mastodon")
    assert posts.filter(pl.col("is_staff")).get_column("author_key").unique().to_list() == [ana_key]
    members = result.members.sort("joined_at")
    assert members.get_column("role").to_list() == ["staff", "member"]
    assert str(members.get_column("joined_at")[0]) == "2022-11-05 00:00:00+00:00"
    assert members.get_column("posts_read").null_count() == 2


def test_boosts_direct_messages_and_broken_rows_are_quarantined(context):
    result = _read(context)
    posts_account, members_account = result.accounts
    assert (posts_account.read, posts_account.accepted, posts_account.quarantined) == (16, 8, 8)
    assert posts_account.balanced and members_account.balanced and members_account.accepted == 2
    reasons = sorted(result.quarantine.get_column("reason").to_list())
    assert reasons == [
        "duplicate post (already read)",
        "excluded: boost",
        "excluded: direct message",
        "missing or unreadable published time",
        "post object not embedded in the activity",
        "reply in a thread whose first post is not in the export",
        "reply to a post not in the export",
        "reply to a quarantined post",
    ]
    assert result.quarantine.get_column("table").unique().to_list() == ["posts"]
    # the direct message's words never reach posts
    assert not result.posts.get_column("body_text").str.contains("share your unit plan").any()


def test_one_archive_alone_cannot_place_replies_to_another(context):
    """Why the archives are read together: alone, Ben's replies to Ana have no parent."""
    result = _read(context, paths=[BEN])
    assert result.accounts[0].balanced
    orphans = result.quarantine.filter(pl.col("reason") == "reply to a post not in the export")
    assert orphans.height == 4  # his two replies in Ana's thread and the two replies to her other posts
    assert result.posts.height == 2


def test_zip_and_tar_gz_give_the_same_posts(tmp_path, context):
    archive_zip = tmp_path / "archive-20240310120000-0123456789abcdef.zip"
    with zipfile.ZipFile(archive_zip, "w") as archive:
        archive.writestr("media_attachments/files/111/100/000/original/dots.jpg", b"\xff\xd8\xff")
        for file in ANA.iterdir():
            archive.write(file, file.name)
    archive_tar = tmp_path / "archive-20240310120000-fedcba9876543210.tar.gz"
    with tarfile.open(archive_tar, "w:gz") as archive:
        media = tarfile.TarInfo("media_attachments/files/111/200/000/original/ratio.pdf")
        media.size = 4
        archive.addfile(media, io.BytesIO(b"%PDF"))
        for file in BEN.iterdir():
            archive.add(file, arcname=file.name)
    assert mastodon.looks_like(Sniff(archive_zip)) and mastodon.looks_like(Sniff(archive_tar))
    packed = _read(context, paths=[archive_zip, archive_tar])
    folders = _read(context)
    columns = ["post_id", "thread_id", "parent_post_id", "author_key", "created_at", "body_text", "n_links", "n_reactions"]
    assert packed.posts.select(columns).sort("post_id").equals(folders.posts.select(columns).sort("post_id"))
    assert packed.posts.get_column("source_file").str.contains(r"\.zip!outbox\.json$").any()


def test_loose_files_and_a_folder_of_archives(tmp_path, context):
    loose = tmp_path / "forum"
    loose.mkdir()
    for file in ANA.iterdir():
        shutil.copy(file, loose / file.name)
    paths = sorted(loose.iterdir())
    assert all(mastodon.looks_like(Sniff(path)) for path in paths)
    alone = mastodon.read(paths, context(options={"hashtag": "edchat"}))
    assert alone.posts.height == 3  # Ana's posts that are not replies to Ben
    together = mastodon.read([FIXTURES], context(options={"hashtag": "edchat"}))
    assert together.posts.height == 8 and together.members.height == 2


def test_looks_like_recognises_only_mastodon(tmp_path):
    assert mastodon.looks_like(Sniff(ANA)) and mastodon.looks_like(Sniff(ANA / "outbox.json"))
    moodle_csv = tmp_path / "forum.csv"
    moodle_csv.write_text("id,discussion,parent,userid,userfullname,created,subject,message\n1,1,0,7,Ana,1770076920,Hi,<p>hi</p>\n")
    other_json = tmp_path / "likes.json"
    other_json.write_text(json.dumps({"type": "OrderedCollection", "orderedItems": ["https://x.example/1"]}))
    not_json = tmp_path / "outbox.json"
    not_json.write_text('{"orderedItems": [')
    for path in [moodle_csv, other_json, not_json, tmp_path, FIXTURES.parent / "twitter" / "archive"]:
        assert not mastodon.looks_like(Sniff(path)), path
    if SLACK_CHANNELS.exists():
        assert not mastodon.looks_like(Sniff(SLACK_CHANNELS))
        assert not mastodon.looks_like(Sniff(SLACK_CHANNELS.parent))


def test_structural_problems_are_one_line_errors_naming_the_file(tmp_path, context):
    broken = tmp_path / "broken"
    shutil.copytree(ANA, broken)
    (broken / "outbox.json").write_text('{"type": "OrderedCollection", "orderedItems": [{"type": "Create"')
    with pytest.raises(InputError) as error:
        mastodon.read([broken], context())
    assert str(error.value).startswith(str(broken / "outbox.json")) and "not valid JSON" in str(error.value)
    assert "\n" not in str(error.value)

    (broken / "outbox.json").write_text(json.dumps({"type": "OrderedCollection", "items": []}))
    with pytest.raises(InputError, match="not a Mastodon outbox: no orderedItems list"):
        mastodon.read([broken], context())

    nameless = tmp_path / "nameless"
    nameless.mkdir()
    (nameless / "outbox.json").write_text(json.dumps({"type": "OrderedCollection", "orderedItems": [{"type": "Create", "object": {}}]}))
    with pytest.raises(InputError) as error:
        mastodon.read([nameless], context())
    assert str(error.value) == f"{nameless / 'outbox.json'}: cannot tell whose archive this is: actor.json is missing and the outbox names no actor"

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no outbox.json in the folder"):
        mastodon.read([empty], context())

    unsafe = tmp_path / "archive.zip"
    with zipfile.ZipFile(unsafe, "w") as archive:
        archive.writestr("outbox.json", json.dumps({"type": "OrderedCollection", "orderedItems": []}))
        archive.writestr("../../etc/actor.json", "{}")
    with pytest.raises(InputError, match="unsafe path in archive"):
        mastodon.read([unsafe], context())


def test_no_identity_leaves_the_reader(context):
    result = _read(context)
    text = "\n".join(frame.write_csv() for frame in (result.posts, result.members, result.quarantine)).lower()
    for identity in IDENTITIES:
        assert identity.lower() not in text, identity
