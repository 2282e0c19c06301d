"""Discourse admin CSV user lists and user archives (fixtures built from Discourse's export jobs)."""

import zipfile
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest
from support import SAMPLES

from value_pipeline import schema
from value_pipeline.errors import InputError
from value_pipeline.ingest import discourse, moodle, read_community, slack
from value_pipeline.ingest.detect import Sniff
from value_pipeline.quality.structural import check_members, check_posts

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "discourse"
USER_LIST = FIXTURES / "user-list-260302-221500.csv"
TOPIC = FIXTURES / "topic_31.json"
CATEGORIES = FIXTURES / "categories.json"
GRACE = FIXTURES / "user_archive-glindqvist-260302-211500-118"
TOM = FIXTURES / "user_archive-treyes-260305-081500-121"
IDENTITIES = [
    # names, usernames, emails (primary and secondary), IPs, websites, bio
    "Ana Lucero", "Okafor", "Grace Lindqvist", "Tom Reyes", "Sam Ortiz", "Jordan Blake", "Rita Chen", "Max Pruitt",
    "ana.lucero", "bokafor", "glindqvist", "treyes", "lurking_lee", "samortiz", "rchen", "mpruitt",
    "northfield-lit.example/coaches", "@ps118.example", "@ps204.example", "g.lindqvist@mail.example",
    "198.51.100", "203.0.113", "ps118.example/lindqvist", "Running records nerd",
]


def _utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def _zip(folder: Path, target_dir: Path) -> Path:
    """Zip an archive folder the way Discourse does: its files at the zip's root, named like the folder."""
    target = target_dir / f"{folder.name}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.iterdir()):
            archive.write(file, file.name)
    return target


def _member(result, pseudonymizer, email) -> dict:
    key = pseudonymizer.key("email", email)
    return result.members.filter(pl.col("author_key") == key).row(0, named=True)


def _reasons(quarantine: pl.DataFrame, table: str) -> dict[int, str]:
    rows = quarantine.filter(pl.col("table") == table)
    return dict(zip(rows.get_column("source_row"), rows.get_column("reason"), strict=True))


def _frames_text(result) -> str:
    frames = (result.posts, result.members, result.quarantine)
    return "\n".join(frame.cast(pl.String).write_csv() for frame in frames) + "\n".join(result.files)


# ---------------------------------------------------------------- the admin CSV user list
def test_csv_user_list_gives_members_roles_and_reading(context, pseudonymizer):
    result = discourse.read([TOPIC, CATEGORIES], context(member_files=[USER_LIST]))
    members = result.members
    assert schema.check_conforms(members, schema.MEMBERS) == []
    assert check_members(members).passed and check_posts(result.posts).passed
    assert all(account.balanced for account in result.accounts)
    grace = _member(result, pseudonymizer, "grace.lindqvist@ps118.example")
    # `... UTC` times, the BOM before `id`, counts as numbers
    assert grace["joined_at"] == _utc(2025, 8, 14, 16, 2, 11)
    assert grace["last_seen_at"] == _utc(2026, 3, 2, 21, 13, 40)
    assert (grace["posts_read"], grace["days_visited"], grace["role"], grace["is_staff"]) == (213, None, "member", False)
    assert _member(result, pseudonymizer, "ana.lucero@northfield-lit.example")["role"] == "staff"
    assert _member(result, pseudonymizer, "bisi.okafor@northfield-lit.example")["role"] == "moderator"
    # system and discobot (negative ids) are bots; a reader who never posted is a member
    assert sorted(members.get_column("role")) == ["bot", "bot", "member", "member", "member", "moderator", "staff"]
    assert _member(result, pseudonymizer, "lee.hart@ps204.example")["posts_read"] == 58
    # posts by listed users are keyed by their email, so they link to survey answers
    grace_posts = result.posts.filter(pl.col("author_key") == grace["author_key"])
    assert grace_posts.get_column("post_id").to_list() == ["3102"]
    # staff from the list's admin flag marks their posts
    assert result.posts.filter(pl.col("is_staff")).get_column("post_id").to_list() == ["3101"]


def test_csv_user_list_row_problems_are_quarantined(context):
    result = discourse.read([TOPIC], context(member_files=[USER_LIST]))
    (members_account,) = [a for a in result.accounts if a.table == "members"]
    assert (members_account.read, members_account.accepted, members_account.quarantined) == (11, 7, 4)
    assert _reasons(result.quarantine, "members") == {
        7: "excluded: staged user (an email-in contact, not a signed-up member)",
        8: "missing username",
        9: "unreadable created_at",
        10: "non-numeric posts_read_count",
    }
    assert set(result.quarantine.get_column("source_file")) == {str(USER_LIST)}


def test_only_username_and_email_are_required(context, pseudonymizer, tmp_path):
    minimal = tmp_path / "users.csv"
    minimal.write_text("username,email,days_visited\nkpatel,kiran.patel@ps9.example,12\n")
    result = discourse.read([TOPIC], context(member_files=[minimal]))
    kiran = _member(result, pseudonymizer, "kiran.patel@ps9.example")
    assert (kiran["days_visited"], kiran["posts_read"], kiran["joined_at"]) == (12, None, None)
    assert all(account.balanced for account in result.accounts)


def test_the_user_list_zip_discourse_delivers_reads_like_the_csv(context, tmp_path):
    zipped = tmp_path / "user-list-260302-221500-9.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(USER_LIST, USER_LIST.name)
    assert discourse.looks_like(Sniff(zipped))
    from_zip = discourse.read([TOPIC], context(member_files=[zipped]))
    from_csv = discourse.read([TOPIC], context(member_files=[USER_LIST]))
    assert from_zip.members.equals(from_csv.members)
    assert set(from_zip.quarantine.get_column("source_file")) == {f"{zipped}!{USER_LIST.name}"}


# ---------------------------------------------------------------- user archives
def test_archive_posts_join_threads_by_topic_and_post_number(context, tmp_path):
    grace, tom = _zip(GRACE, tmp_path), _zip(TOM, tmp_path)
    result = discourse.read([TOPIC, CATEGORIES, grace, tom], context(member_files=[USER_LIST]))
    posts = result.posts
    assert schema.check_conforms(posts, schema.POSTS) == []
    assert check_posts(posts).passed and check_members(result.members).passed
    assert all(account.balanced for account in result.accounts)
    by_id = {row["post_id"]: row for row in posts.iter_rows(named=True)}
    assert sorted(by_id) == ["31/5", "3101", "3102", "3107", "44/1", "44/2", "44/4", "70/1"]
    # post 1 starts its thread, with the topic title and the leaf category as channel
    start = by_id["44/1"]
    assert (start["is_thread_start"], start["parent_post_id"], start["thread_id"]) == (True, None, "44")
    assert (start["title"], start["channel"]) == ("Running records in Grade 2: how often?", "Assessment")
    # replies answer the topic's first post: from another member's archive ...
    assert (by_id["44/2"]["parent_post_id"], by_id["44/2"]["thread_id"], by_id["44/2"]["title"]) == ("44/1", "44", None)
    assert by_id["44/4"]["parent_post_id"] == "44/1"
    # ... or from the topic's JSON export (its real post id), in the JSON's thread
    assert (by_id["31/5"]["parent_post_id"], by_id["31/5"]["thread_id"]) == ("3101", "31")
    # old archives: one raw `post` column and category/sub_category
    assert (by_id["70/1"]["channel"], by_id["70/1"]["n_attachments"]) == ("Phonics", 1)
    assert by_id["44/2"]["n_links"] == 1
    # cooked HTML: the lightbox wrapper is the attachment, not a link; emoji are not attachments
    assert (by_id["44/4"]["n_links"], by_id["44/4"]["n_attachments"], by_id["44/4"]["n_reactions"]) == (1, 1, 5)
    assert "<p>" not in by_id["44/4"]["body_text"] and by_id["44/4"]["body_text"].startswith("Update: we tried")
    assert by_id["44/4"]["created_at"] == _utc(2026, 2, 2, 22, 31, 57, 400000)
    # archive posts carry the same author keys as the JSON posts of the same people
    assert by_id["31/5"]["author_key"] == by_id["3102"]["author_key"]
    assert by_id["44/2"]["author_key"] == by_id["3107"]["author_key"]


def test_archive_rows_that_cannot_be_canonical_posts_are_quarantined(context, tmp_path):
    grace = _zip(GRACE, tmp_path)
    result = discourse.read([TOPIC, CATEGORIES, grace], context(member_files=[USER_LIST]))
    (archived,) = [a for a in result.accounts if a.unit == "archived post"]
    assert (archived.read, archived.accepted, archived.quarantined) == (8, 3, 5)
    assert _reasons(result.quarantine, "posts") == {
        0: "duplicate post (already read from a topic export)",
        3: "reply to a post not in the export (a user archive holds only its owner's posts)",
        4: "excluded: private message",
        6: "missing or unreadable created_at",
        7: "excluded: empty post (a moderator action or removed content)",
    }
    assert any("1 reply from user archives quarantined" in note for note in result.notes)


def test_an_archive_alone_keeps_its_own_threads_and_its_owners_reading(context, pseudonymizer, tmp_path):
    result = discourse.read([_zip(GRACE, tmp_path)], context())
    assert sorted(result.posts.get_column("post_id")) == ["44/1", "44/4"]
    unplaced = result.quarantine.filter(pl.col("reason").str.starts_with("reply to a post not in the export"))
    assert sorted(unplaced.get_column("source_row")) == [0, 3, 5]  # topic 31 and 52 starts are elsewhere
    # the owner, from preferences.json (email) and visits.csv
    (owner,) = result.members.rows(named=True)
    assert owner["author_key"] == pseudonymizer.key("email", "grace.lindqvist@ps118.example")
    assert owner["joined_at"] == _utc(2025, 8, 14, 16, 2, 11)
    assert (owner["days_visited"], owner["posts_read"]) == (7, 128)
    assert owner["last_seen_at"] == _utc(2026, 3, 2, 21, 13, 40, 512000)


def test_an_old_archive_is_identified_by_its_file_name(context, pseudonymizer, tmp_path):
    alone = discourse.read([_zip(TOM, tmp_path)], context())
    assert set(alone.posts.get_column("author_key")) == {pseudonymizer.key("username", "treyes", "discourse")}
    assert alone.posts.get_column("post_id").to_list() == ["70/1"]  # 44/2's thread start is not here
    # with the admin list, the same archive is keyed by email
    listed = discourse.read([_zip(TOM, tmp_path)], context(member_files=[USER_LIST]))
    assert set(listed.posts.get_column("author_key")) == {pseudonymizer.key("email", "tom.reyes@ps118.example")}


def test_unzipped_archive_folders_read_the_same(context, tmp_path):
    zipped = discourse.read([_zip(GRACE, tmp_path), _zip(TOM, tmp_path)], context())
    folders = discourse.read([GRACE, TOM], context())
    columns = [c for c in schema.POSTS.names() if c != "source_file"]
    assert zipped.posts.select(columns).equals(folders.posts.select(columns))


def test_list_and_archive_of_one_person_merge_into_one_member(context, pseudonymizer, tmp_path):
    result = discourse.read([_zip(GRACE, tmp_path)], context(member_files=[USER_LIST]))
    grace = _member(result, pseudonymizer, "grace.lindqvist@ps118.example")
    # the list's lifetime posts_read, the archive's visit count
    assert (grace["posts_read"], grace["days_visited"]) == (213, 7)
    duplicates = result.quarantine.filter(pl.col("reason") == "duplicate user (already read)")
    assert duplicates.get_column("source_file").to_list() == [
        str(tmp_path / "user_archive-*-260302-211500-118.zip!preferences.json")
    ]
    assert all(account.balanced for account in result.accounts)


def test_no_identity_leaves_the_reader(context, tmp_path):
    result = discourse.read(
        [TOPIC, CATEGORIES, _zip(GRACE, tmp_path), _zip(TOM, tmp_path), GRACE], context(member_files=[USER_LIST])
    )
    text = _frames_text(result)
    for identity in IDENTITIES:
        assert identity not in text, identity
    # source files still locate the archive: the username is replaced by *
    assert str(tmp_path / "user_archive-*-260305-081500-121.zip!user_archive.csv") in text


def test_a_community_folder_mixes_json_archives_and_the_csv_list(tmp_path, pseudonymizer):
    folder = tmp_path / "northfield"
    (folder / "forum").mkdir(parents=True)
    (folder / "members").mkdir()
    (folder / "community.yaml").write_text("name: Northfield Literacy Coaches\ntimezone: America/Chicago\n")
    for source in (TOPIC, CATEGORIES):
        (folder / "forum" / source.name).write_bytes(source.read_bytes())
    _zip(GRACE, folder / "forum")
    _zip(TOM, folder / "forum")
    (folder / "members" / USER_LIST.name).write_bytes(USER_LIST.read_bytes())
    data = read_community(folder, pseudonymizer)
    assert set(data.files.values()) == {"discourse"}
    assert data.posts.height == 8 and data.members.height == 7
    assert data.summary()["balanced"]


# ---------------------------------------------------------------- detection and structure
def test_detection_from_content(tmp_path):
    renamed = tmp_path / "people.txt"
    renamed.write_bytes(USER_LIST.read_bytes())
    grace_zip = _zip(GRACE, tmp_path)
    for path in (USER_LIST, renamed, grace_zip, GRACE, TOM, TOPIC):
        assert discourse.looks_like(Sniff(path)), path
    moodle_csv = tmp_path / "forum.csv"
    moodle_csv.write_text("id,discussion,parent,userid,created,subject,message\n1,1,0,7,1767650000,Hi,<p>Hello</p>\n")
    other_zip = tmp_path / "photos.zip"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("grades.csv", "student,grade\nA,90\n")
        archive.writestr("notes.csv", "a,b\n")
    single_csv_zip = tmp_path / "export.zip"
    with zipfile.ZipFile(single_csv_zip, "w") as archive:
        archive.writestr("export.csv", "id,discussion,parent,userid,message\n")
    slack_export = SAMPLES / "slack" / "slack-export-viewer"
    others = [
        moodle_csv, other_zip, single_csv_zip, tmp_path,
        Path(__file__).resolve().parents[1] / "fixtures" / "canvas" / "week3_questioning_view.json",
        slack_export / "export" / "channels.json", slack_export / "testarchive.zip", slack_export / "export",
    ]
    for path in others:
        if path.exists():
            assert not discourse.looks_like(Sniff(path)), path
    # and the other readers leave Discourse's files alone
    assert not moodle.looks_like(Sniff(USER_LIST))
    assert not slack.looks_like(Sniff(grace_zip))


def _one_line_error(paths, context, **settings) -> str:
    with pytest.raises(InputError) as raised:
        discourse.read(paths, context(**settings))
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_structural_problems_are_one_line_errors_naming_the_file(context, tmp_path):
    no_email = tmp_path / "users.csv"
    no_email.write_text("id,username,trust_level\n3,kpatel,1\n")
    message = _one_line_error([TOPIC], context, member_files=[no_email])
    assert message == f"{no_email}: not a Discourse user list: missing column(s) email"

    no_url = tmp_path / "user_archive-kpatel-260101-120000-7.zip"
    with zipfile.ZipFile(no_url, "w") as archive:
        archive.writestr("user_archive.csv", "topic_title,categories,is_pm,post_raw,like_count,created_at\n")
    message = _one_line_error([no_url], context)
    assert message.startswith(str(no_url)) and "user_archive.csv lacks column(s) url" in message

    anonymous = tmp_path / "my-posts.zip"
    with zipfile.ZipFile(anonymous, "w") as archive:
        archive.write(GRACE / "user_archive.csv", "user_archive.csv")
    message = _one_line_error([anonymous], context)
    assert message.startswith(str(anonymous)) and "cannot tell whose archive this is" in message

    not_ours = tmp_path / "photos.zip"
    with zipfile.ZipFile(not_ours, "w") as archive:
        archive.writestr("a.txt", "hello")
    message = _one_line_error([TOPIC], context, member_files=[not_ours])
    assert message.startswith(str(not_ours)) and "a zip without user_archive.csv" in message

    truncated = tmp_path / "user_archive-kpatel-260101-120000-8.zip"
    truncated.write_bytes(_zip(GRACE, tmp_path).read_bytes()[:200])
    message = _one_line_error([truncated], context)
    assert message.startswith(str(truncated))
