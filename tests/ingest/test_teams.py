"""The Microsoft Teams reader on saved Microsoft Graph responses (channel messages, replies, members)."""

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest
from support import SAMPLES, needs_samples

from value_pipeline import schema
from value_pipeline.errors import InputError
from value_pipeline.ingest import formats, read_community, teams
from value_pipeline.ingest.detect import Sniff
from value_pipeline.quality.structural import check_members, check_posts

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "teams"
GENERAL = "19:a1b2c3d4e5f60718293a4b5c6d7e8f90@thread.tacv2"
LESSON_STUDY = "19:0f9e8d7c6b5a49382716a5b4c3d2e1f0@thread.tacv2"
MESSAGE_FILES = [
    "general_messages_page1.json",
    "general_messages_page2.json",
    "general_replies_1767650000000.json",
    "general_replies_1767660800000.json",
    "lesson_study_messages.json",
    "channels.json",
]
USERS = {  # display name, email, Entra ID object id: none may leave the reader
    "amara": ("Amara Osei", "amara.osei@northfield.example", "3f2a9c1e-7b4d-4e8a-9c21-5d6e7f8a9b01"),
    "jonah": ("Jonah Reyes", "jonah.reyes@northfield.example", "8b7c6d5e-4f3a-4b2c-9d1e-0f1a2b3c4d5e"),
    "priya": ("Priya Natarajan", "priya.natarajan@eastbrook.example", "c4d5e6f7-a8b9-4c0d-8e1f-2a3b4c5d6e7f"),
    "tomasz": ("Tomasz Wojcik", "tomasz.wojcik@northfield.example", "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b"),
    "lena": ("Lena Fischer", "lena.fischer@northfield.example", None),
    "marco": ("Marco Bianchi", "marco.bianchi@northfield.example", "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"),
}


def pid(channel: str, message_id: int) -> str:
    return f"{channel}:{message_id}"


def _read(context, files=MESSAGE_FILES, members=("members.json",), **settings):
    return teams.read([FIXTURES / name for name in files], context(member_files=[FIXTURES / m for m in members], **settings))


def _by_id(result) -> dict[str, dict]:
    return {row["post_id"]: row for row in result.posts.iter_rows(named=True)}


def test_pages_combine_into_threads_with_utc_times_channels_and_counts(context):
    result = _read(context)
    assert schema.check_conforms(result.posts, schema.POSTS) == []
    posts = _by_id(result)
    root = posts[pid(GENERAL, 1767650000000)]
    assert root["is_thread_start"] and root["parent_post_id"] is None and root["thread_id"] == root["post_id"]
    assert root["title"] == "Year 9 fractions unit: shared resources"
    assert root["channel"] == "General"  # from the channels page
    assert root["created_at"] == datetime(2026, 1, 5, 21, 53, 20, tzinfo=timezone.utc)
    # one <a href> link; the shared file and the inline (hostedContents) image; two reactions
    assert (root["n_links"], root["n_attachments"], root["n_reactions"]) == (1, 2, 2)
    # expanded replies and a separate replies page land in the same thread, parent = root
    thread = result.posts.filter(pl.col("thread_id") == root["post_id"])
    assert thread.height == 3
    assert set(thread.filter(~pl.col("is_thread_start")).get_column("parent_post_id")) == {root["post_id"]}
    # the replies page holds a later edit of an expanded reply: the newer copy is kept
    edited = posts[pid(GENERAL, 1767650720000)]
    assert "edited: and one for improper fractions" in edited["body_text"]
    assert edited["n_links"] == 1  # a URL written out in the HTML text
    assert edited["source_file"].endswith("general_replies_1767650000000.json")
    # a text body; a 7-digit fraction of a second; a written-out URL
    cpd = posts[pid(GENERAL, 1767664400000)]
    assert cpd["created_at"] == datetime(2026, 1, 6, 1, 53, 20, 123456, tzinfo=timezone.utc)
    assert cpd["n_links"] == 1 and cpd["title"] == "CPD moved"
    # a reply without channelIdentity takes its root's channel
    lesson_reply = posts[pid(LESSON_STUDY, 1767740000000)]
    assert lesson_reply["channel"] == "Lesson study"
    assert lesson_reply["parent_post_id"] == pid(LESSON_STUDY, 1767736400000)
    assert result.posts.get_column("post_id").is_unique().all()


def test_mentions_and_quoted_replies_carry_no_names(context):
    posts = _by_id(_read(context))
    root = posts[pid(GENERAL, 1767650000000)]["body_text"]
    # <at id="0">Jonah</at>&nbsp;<at id="1">Reyes</at> name one person: one @member
    assert root == (
        "Hi all, I have uploaded the Year 9 fractions unit to the shared folder. "
        "@member could you check the assessment rubric before Friday?"
    )
    quote_reply = posts[pid(GENERAL, 1767651800000)]["body_text"]
    assert quote_reply.startswith("Thanks Amara! We used the bar-model approach") and "Osei" not in quote_reply
    assert posts[pid(GENERAL, 1767665000000)]["body_text"] == "Thanks @member, see you there."


def test_system_bot_and_deleted_messages_are_quarantined_and_accounted(context):
    result = _read(context)
    posts_account, members_account = result.accounts
    assert posts_account.balanced and members_account.balanced
    assert (posts_account.read, posts_account.accepted, posts_account.quarantined) == (19, 10, 9)
    reasons = result.quarantine.filter(pl.col("table") == "posts").get_column("reason").to_list()
    assert sorted(reasons) == sorted([
        "duplicate message (a newer or identical copy was read)",
        "excluded: deleted message",  # a deleted reply
        "excluded: deleted message",  # a deleted thread start ...
        "reply to a post not in the export (its thread start was excluded)",  # ... and its reply
        "excluded: system event (membersAdded)",  # unknownFutureValue + eventDetail
        "excluded: system event (channelRenamed)",  # systemEventMessage
        "excluded: bot message",
        "missing or unreadable createdDateTime",
        "reply to a post not in the export",
    ])
    assert result.quarantine.filter(pl.col("table") == "members").get_column("reason").to_list() == [
        "member without a userId"
    ]


def test_author_keys_staff_and_members(context, pseudonymizer):
    result = _read(context)
    amara_key = pseudonymizer.key("email", USERS["amara"][1])
    members = {row["author_key"]: row for row in result.members.iter_rows(named=True)}
    # the members page gives emails: authors are keyed by them (links to surveys)
    assert set(result.posts.get_column("author_key")) <= set(members)
    assert members[amara_key]["is_staff"] and members[amara_key]["role"] == "staff"  # team owner
    assert result.posts.filter(pl.col("author_key") == amara_key).get_column("is_staff").all()
    lurker = members[pseudonymizer.key("email", USERS["marco"][1])]
    assert lurker["joined_at"] is None and not lurker["is_staff"]
    assert result.members.height == 5

    # without the members page: keyed by Entra ID object id; staff only from listed ids
    bare = _read(context, members=(), options={"staff_user_ids": [USERS["priya"][2].upper()], "owners_are_staff": False})
    jonah_key = pseudonymizer.key("aad_user_id", USERS["jonah"][2], "teams")
    priya_key = pseudonymizer.key("aad_user_id", USERS["priya"][2], "teams")
    staff = dict(bare.members.select("author_key", "is_staff").iter_rows())
    assert staff[priya_key] and not staff[jonah_key]
    assert not any(staff[key] for key in staff if key != priya_key)
    assert bare.accounts[1].read == 0


def test_channel_names_from_options_override_and_fallback_to_id(context):
    named = _read(context, options={"channels": {LESSON_STUDY: "Research lessons"}})
    assert set(named.posts.get_column("channel")) == {"General", "Research lessons"}
    unnamed = _read(context, files=[name for name in MESSAGE_FILES if name != "channels.json"])
    assert set(unnamed.posts.get_column("channel")) == {GENERAL, LESSON_STUDY}


@needs_samples(SAMPLES)
def test_detection_from_content(tmp_path):
    for path in FIXTURES.glob("*.json"):
        assert teams.looks_like(Sniff(path)), path
    empty_page = tmp_path / "page.json"
    empty_page.write_text(json.dumps({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#teams('t1')/channels('19%3Ax%40thread.tacv2')/messages",
        "value": [],
    }))
    assert teams.looks_like(Sniff(empty_page))
    moodle = tmp_path / "forum.csv"
    moodle.write_text("id,discussion,parent,userid,created,subject,message\n1,1,0,7,1767650000,Hi,<p>Hello</p>\n")
    other_odata = tmp_path / "users.json"
    other_odata.write_text(json.dumps({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users", "value": [{"id": "u1"}]}))
    others = [
        SAMPLES / "slack" / "slack-export-viewer" / "export" / "channels.json",
        SAMPLES / "discourse" / "discourse_api" / "topic.json",
        SAMPLES / "slack" / "slack-export-viewer" / "testarchive.zip",
        FIXTURES.parent / "reddit" / "science_teachers_mixed.ndjson",
        moodle,
        other_odata,
    ]
    for other in others:
        assert not teams.looks_like(Sniff(other)), other
    assert not teams.looks_like(Sniff(FIXTURES))


def test_empty_channel_page_reads_to_no_posts(tmp_path, context):
    page = tmp_path / "page.json"
    page.write_text(json.dumps({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#teams('t1')/channels('19%3Ax%40thread.tacv2')/messages",
        "value": [],
    }))
    result = teams.read([page], context())
    assert result.posts.height == 0 and result.accounts[0].balanced and result.accounts[0].read == 0


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users", "value": [{"id": "u1"}]}',
         "not a Microsoft Graph response of Teams channel messages"),
        ('{"value": [{"id": "1", "messageType": "message", "createdDateTime": "2026-01-05T21:53:20Z", "body": {',
         "not valid JSON"),
        ("", "the file is empty"),
    ],
    ids=["other graph response", "truncated", "empty"],
)
def test_structural_problems_give_one_line_naming_the_file(tmp_path, context, content, problem):
    path = tmp_path / "messages.json"
    path.write_text(content)
    with pytest.raises(InputError) as raised:
        teams.read([path], context())
    message = str(raised.value)
    assert message.startswith(str(path)) and "\n" not in message and problem in message


def test_identities_never_leave_the_reader(context):
    result = _read(context)
    text = "".join(
        frame.cast({name: pl.String for name in frame.columns}).write_csv()
        for frame in (result.posts, result.members, result.quarantine)
    )
    for name, email, user_id in USERS.values():
        assert name not in text and email not in text, name
        assert user_id is None or user_id not in text, user_id
    for surname in ("Reyes", "Osei", "Natarajan", "Wojcik", "Polly"):
        assert surname not in text, surname


def test_a_community_folder_reads_end_to_end(tmp_path, monkeypatch, pseudonymizer):
    monkeypatch.setattr(formats, "FORUM_FORMATS", [teams, *[m for m in formats.FORUM_FORMATS if m is not teams]])
    folder = tmp_path / "maths-department"
    (folder / "forum").mkdir(parents=True)
    (folder / "members").mkdir()
    (folder / "community.yaml").write_text(
        "name: Maths department\nforum_options:\n  staff_user_ids: [" + USERS["jonah"][2] + "]\n"
    )
    for name in MESSAGE_FILES:
        shutil.copy(FIXTURES / name, folder / "forum" / name)
    shutil.copy(FIXTURES / "members.json", folder / "members" / "members.json")
    data = read_community(folder, pseudonymizer)
    assert data.platforms == ["teams"] and data.summary()["balanced"]
    assert data.posts.height == 10 and check_posts(data.posts).passed and check_members(data.members).passed
    jonah = pseudonymizer.key("email", USERS["jonah"][1])
    assert data.posts.filter(pl.col("author_key") == jonah).get_column("is_staff").all()


def test_odd_rows_are_quarantined_and_replies_pages_name_their_root(tmp_path, context):
    root_page = json.loads((FIXTURES / "general_messages_page1.json").read_text())
    root = next(m for m in root_page["value"] if m["id"] == "1767660800000")
    context_url = "https://graph.microsoft.com/v1.0/$metadata#teams('t1')/channels('19%3Aa1b2c3d4e5f60718293a4b5c6d7e8f90%40thread.tacv2')"
    cut_short = root | {"replies@odata.nextLink": "https://graph.microsoft.com/v1.0/teams/t1/channels/c/messages/1/replies?$skiptoken=x"}
    (tmp_path / "root.json").write_text(json.dumps({"@odata.context": context_url + "/messages", "value": [cut_short]}))
    reply = {key: value for key, value in root.items() if key not in ("replies", "channelIdentity", "subject")}
    reply |= {"id": "1767661000000", "replyToId": None, "createdDateTime": "2026-01-06T00:56:40Z"}
    no_author = reply | {"id": "1767661100000", "from": {"application": None, "device": None, "user": None}}
    no_id = {key: value for key, value in reply.items() if key != "id"}
    (tmp_path / "replies.json").write_text(json.dumps({
        "@odata.context": context_url + "/messages('1767660800000')/replies",
        "value": [reply, "not a message", no_author, no_id],
    }))
    result = teams.read([tmp_path / "root.json", tmp_path / "replies.json"], context())
    posts = _by_id(result)
    # the replies page has no replyToId: its @odata.context names the root (and channel)
    assert posts[pid(GENERAL, 1767661000000)]["parent_post_id"] == pid(GENERAL, 1767660800000)
    reasons = dict(result.quarantine.select("source_row", "reason").iter_rows())
    assert reasons == {1: "not a message object", 2: "missing author (no from.user)", 3: "missing message id"}
    assert result.accounts[0].balanced and result.accounts[0].read == 5
    assert result.notes and result.notes[0].startswith("1 threads have more replies")
