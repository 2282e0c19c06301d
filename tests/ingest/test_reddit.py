"""The Reddit NDJSON reader on hand-written dump lines and on real 2013 r/education submissions."""

import gzip
import json
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest
import zstandard
from support import SAMPLES, needs_samples

from value_pipeline import schema
from value_pipeline.errors import InputError
from value_pipeline.ingest import formats, read_community, reddit
from value_pipeline.ingest.detect import Sniff
from value_pipeline.quality.structural import check_members, check_posts

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "reddit"
MIXED = FIXTURES / "science_teachers_mixed.ndjson"
EDUCATION = FIXTURES / "education_2013_submissions.ndjson"
USERNAMES = ["ms_okafor_chem", "newteacher_jo", "mr_dunmore", "lab_safety_larry", "spammy_seller", "edu_member_01"]


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def _by_id(result) -> dict[str, dict]:
    return {row["post_id"]: row for row in result.posts.iter_rows(named=True)}


def test_mixed_dump_threads_replies_times_links_and_staff(context, pseudonymizer):
    result = reddit.read([MIXED], context())
    assert schema.check_conforms(result.posts, schema.POSTS) == []
    posts = _by_id(result)
    start = posts["t3_1q0aa01"]
    assert start["is_thread_start"] and start["parent_post_id"] is None and start["thread_id"] == "t3_1q0aa01"
    assert start["title"] == "Favourite low-cost density lab for Year 8?"
    # markdown is plain text: link label kept, emphasis gone, entities decoded once
    assert start["body_text"] == (
        "Budget is tiny this term. I've been using the PhET density sim but want something hands-on.\n\n"
        "Ideas & worksheets welcome!"
    )
    assert start["n_links"] == 1 and start["n_reactions"] == 11  # score 12, less the author's own vote
    assert start["channel"] == "ScienceTeachers"
    # created_utc as int, float and string all land on the same UTC clock
    assert start["created_at"] == utc(2026, 1, 5, 21, 53, 20)
    assert posts["t1_k1c0001"]["created_at"] == utc(2026, 1, 5, 22, 3, 20)
    assert posts["t1_k1c0002"]["created_at"] == utc(2026, 1, 5, 22, 13, 20)
    # a reply to a comment keeps its comment parent; a reply to the submission its thread start
    assert posts["t1_k1c0001"]["parent_post_id"] == "t3_1q0aa01"
    assert posts["t1_k1c0002"]["parent_post_id"] == "t1_k1c0001"
    assert posts["t1_k1c0002"]["thread_id"] == "t3_1q0aa01"
    # the reply to a removed comment stays in its thread, attached to the submission
    assert posts["t1_k1c0005"]["parent_post_id"] == "t3_1q0aa01"
    assert result.notes and result.notes[0].startswith("1 comments replied to a comment")
    # quote markers gone, user mentions anonymous, bare URL counted
    reply = posts["t1_k1c0001"]
    assert reply["body_text"].startswith("want something hands-on\n\nEgg in salt water")
    assert "@member" in reply["body_text"] and reply["n_links"] == 1
    # link post: empty body, the url is a link; image post: an attachment, not a link
    assert posts["t3_1q0aa02"]["body_text"] == "" and posts["t3_1q0aa02"]["n_links"] == 1
    assert posts["t3_1q0aa04"]["n_attachments"] == 1 and posts["t3_1q0aa04"]["n_links"] == 0
    # distinguished moderator -> staff, and a moderator member
    assert posts["t1_k1c0002"]["is_staff"] and not posts["t1_k1c0001"]["is_staff"]
    moderator_key = pseudonymizer.key("username", "mr_dunmore", "reddit")
    members = result.members.filter(pl.col("author_key") == moderator_key)
    assert members.get_column("role").item() == "moderator" and members.get_column("is_staff").item()
    assert result.members.height == 4 and result.members.get_column("author_key").is_unique().all()


def test_row_problems_are_quarantined_with_reasons_and_line_numbers(context):
    result = reddit.read([MIXED], context())
    (account,) = result.accounts
    assert account.balanced and account.read == 17  # 18 lines, one blank
    assert account.accepted == 7 and account.quarantined == 10
    reasons = dict(result.quarantine.select("source_row", "reason").iter_rows())
    assert reasons == {
        4: "excluded: bot",
        5: "excluded: removed by moderators",
        8: "excluded: deleted by its author",
        9: "excluded: author deleted their account",
        10: "malformed JSON line (truncated?)",
        13: "reply to a post not in the export",
        14: "excluded: removed by moderators",
        15: "reply to a post not in the export (its submission was excluded)",
        16: "duplicate id (already read)",
        17: "missing or unreadable created_utc",
    }
    assert set(result.quarantine.get_column("source_file")) == {str(MIXED)}


@needs_samples(SAMPLES)
def test_detection_from_content(tmp_path):
    assert reddit.looks_like(Sniff(MIXED)) and reddit.looks_like(Sniff(EDUCATION))
    compressed = tmp_path / "RS_dump"  # no telling suffix: detected by content
    compressed.write_bytes(zstandard.ZstdCompressor().compress(EDUCATION.read_bytes()))
    assert reddit.looks_like(Sniff(compressed))
    gzipped = tmp_path / "comments.ndjson.gz"
    gzipped.write_bytes(gzip.compress(MIXED.read_bytes()))
    assert reddit.looks_like(Sniff(gzipped))
    moodle = tmp_path / "forum.csv"
    moodle.write_text("id,discussion,parent,userid,created,subject,message\n1,1,0,7,1767650000,Hi,<p>Hello</p>\n")
    teams_page = Path(__file__).resolve().parents[1] / "fixtures" / "teams" / "general_messages_page1.json"
    others = [
        SAMPLES / "slack" / "slack-export-viewer" / "export" / "channels.json",
        SAMPLES / "discourse" / "discourse_api" / "topic.json",
        SAMPLES / "slack" / "slack-export-viewer" / "testarchive.zip",
        moodle,
        teams_page,
    ]
    for other in others:
        assert not reddit.looks_like(Sniff(other)), other
    not_reddit = tmp_path / "events.ndjson"
    not_reddit.write_text('{"id": 1, "event": "login"}\n{"id": 2, "event": "logout"}\n')
    assert not reddit.looks_like(Sniff(not_reddit))
    assert not reddit.looks_like(Sniff(tmp_path))


def test_separate_compressed_files_read_like_one_mixed_file(tmp_path, context):
    lines = [line for line in MIXED.read_text().splitlines() if line.strip()]
    submissions = [line for line in lines if '"name": "t3_' in line]
    comments = [line for line in lines if '"name": "t3_' not in line]
    (tmp_path / "ScienceTeachers_submissions.zst").write_bytes(
        zstandard.ZstdCompressor().compress(("\n".join(submissions) + "\n").encode())
    )
    (tmp_path / "ScienceTeachers_comments.gz").write_bytes(gzip.compress(("\n".join(comments) + "\n").encode()))
    split = reddit.read([tmp_path / "ScienceTeachers_comments.gz", tmp_path / "ScienceTeachers_submissions.zst"], context())
    whole = reddit.read([MIXED], context())
    columns = ["post_id", "thread_id", "parent_post_id", "author_key", "created_at", "body_text", "n_links", "is_staff"]
    assert split.posts.select(columns).sort("post_id").equals(whole.posts.select(columns).sort("post_id"))
    assert split.accounts[0].balanced
    assert sorted(split.quarantine.get_column("reason")) == sorted(whole.quarantine.get_column("reason"))


def test_fast_and_line_by_line_parsing_agree(tmp_path, context, monkeypatch):
    """A clean file is parsed by polars alone; the line-by-line fallback gives the same frames."""
    clean = tmp_path / "clean.ndjson"
    clean.write_text("".join(line + "\n" for line in MIXED.read_text().splitlines() if line.strip() and "I also tri" not in line))
    with monkeypatch.context() as patch:
        patch.setattr(reddit, "_read_batch_slowly", lambda *args: pytest.fail("a clean file took the slow path"))
        fast = reddit.read([clean], context())
    # Tiny blocks (line numbers must carry across them), each made irregular by a
    # leading blank line so that every block goes through Python's json.
    original = reddit._read_chunk

    def line_by_line(chunk, lines_before, path):
        frame, bad, seen, n_lines = original(b"\n" + chunk, lines_before - 1, path)
        return frame, bad, seen, n_lines - 1

    monkeypatch.setattr(reddit, "CHUNK_BYTES", 64)
    monkeypatch.setattr(reddit, "_read_chunk", line_by_line)
    slow = reddit.read([clean], context())
    assert fast.posts.height == 7
    assert slow.posts.equals(fast.posts)
    assert slow.quarantine.equals(fast.quarantine)
    assert slow.members.equals(fast.members)


@needs_samples(SAMPLES.parent / "corpora" / "reddit_2013_education_tefl")
def test_real_2013_education_submissions(context, monkeypatch):
    monkeypatch.setattr(reddit, "_read_batch_slowly", lambda *args: pytest.fail("a clean dump took the slow path"))
    result = reddit.read([EDUCATION], context())
    posts = result.posts
    assert posts.height == 30 and result.quarantine.height == 0 and result.accounts[0].balanced
    assert posts.get_column("is_thread_start").all() and posts.get_column("parent_post_id").is_null().all()
    first = _by_id(result)["t3_1gmj6z"]
    assert first["created_at"] == utc(2013, 6, 19, 1, 25, 31)  # created_utc "1371605131.0"
    assert first["title"].startswith("I teach Grade 8")
    assert first["body_text"].startswith("Context: I teach Grade 8")
    source = {json.loads(line)["id"]: json.loads(line) for line in EDUCATION.read_text().splitlines()}
    links = posts.filter(pl.col("post_id").is_in([f"t3_{i}" for i, s in source.items() if not s["is_self"]]))
    assert links.height == 30 - sum(s["is_self"] for s in source.values())
    assert (links.get_column("n_links") >= 1).all() and (links.get_column("body_text") == "").all()
    assert set(posts.get_column("channel")) == {"education"}
    assert result.members.height == 7


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "the file is empty"),
        (b"\n\n  \n", "the file is empty"),
        (b'[{"id": "abc"}]\n', "no line is a JSON object"),
        (b'{"id": "abc", "created_utc": 1\n', "no line is a JSON object"),
        (b'{"id": 1, "event": "login"}\n', "not a Reddit dump"),
        (gzip.compress(MIXED.read_bytes())[:300], "cannot decompress or read"),
        (zstandard.ZstdCompressor().compress(MIXED.read_bytes())[:200], "cannot decompress"),
    ],
    ids=["empty", "blank lines", "json array", "only malformed", "other ndjson", "truncated gzip", "truncated zstd"],
)
def test_structural_problems_give_one_line_naming_the_file(tmp_path, context, content, problem):
    path = tmp_path / "dump.ndjson"
    path.write_bytes(content)
    with pytest.raises(InputError) as raised:
        reddit.read([path], context())
    message = str(raised.value)
    assert message.startswith(str(path)) and "\n" not in message and problem in message


def test_options_channel_by_flair_bots_and_listed_staff(context):
    result = reddit.read(
        [MIXED], context(options={"channel": "flair", "bots": ["lab_safety_larry"]}, staff=frozenset({"u/newteacher_jo"}))
    )
    posts = _by_id(result)
    assert posts["t3_1q0aa01"]["channel"] == "Lab Ideas" and posts["t1_k1c0002"]["channel"] == "Lab Ideas"
    assert "t3_1q0aa02" not in posts  # its author is listed as a bot
    assert "excluded: bot" in result.quarantine.filter(pl.col("source_row") == 11).get_column("reason").to_list()
    assert posts["t1_k1c0001"]["is_staff"]  # listed as staff in community.yaml
    assert result.accounts[0].balanced


def test_identities_never_leave_the_reader(context):
    result = reddit.read([MIXED, EDUCATION], context())
    text = "".join(
        frame.cast({name: pl.String for name in frame.columns}).write_csv()
        for frame in (result.posts, result.members, result.quarantine)
    )
    for username in USERNAMES:
        assert username not in text, username
    assert "u/" + "ms_okafor_chem" not in text and "[deleted]" not in result.posts.write_csv()


def test_a_community_folder_of_dumps_reads_end_to_end(tmp_path, monkeypatch, pseudonymizer):
    """Detection by content in a community folder (reddit asked before the JSON readers)."""
    monkeypatch.setattr(formats, "FORUM_FORMATS", [reddit, *[m for m in formats.FORUM_FORMATS if m is not reddit]])
    folder = tmp_path / "science-teachers"
    (folder / "forum").mkdir(parents=True)
    (folder / "community.yaml").write_text(
        "name: Science teachers\nstaff: [u/lab_safety_larry]\nforum_options:\n  channel: flair\n"
    )
    (folder / "forum" / "RC_mixed").write_bytes(zstandard.ZstdCompressor().compress(MIXED.read_bytes()))
    (folder / "forum" / "education.ndjson").write_bytes(EDUCATION.read_bytes())
    data = read_community(folder, pseudonymizer)
    assert data.platforms == ["reddit"] and data.summary()["balanced"]
    assert data.posts.height == 37 and check_posts(data.posts).passed and check_members(data.members).passed
    larry = pseudonymizer.key("username", "lab_safety_larry", "reddit")
    assert data.posts.filter(pl.col("author_key") == larry).get_column("is_staff").all()
    assert "Safety" in data.posts.get_column("channel").to_list()
