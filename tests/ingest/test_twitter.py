"""The X/Twitter reader on a hand-made account archive and a TAGS collection CSV.

tests/fixtures/twitter/archive is an unpacked account archive (data/tweets.js,
data/account.js, data/manifest.js); ukedchat-tags.csv is a TAGS "Archive" sheet saved
through a spreadsheet, so some ids are rounded (1.76581E+18, 1765813551934420000).
"""

import shutil
import zipfile
from pathlib import Path

import polars as pl
import pytest
from support import SAMPLES

from value_pipeline.errors import InputError
from value_pipeline.ingest import twitter
from value_pipeline.ingest.detect import Sniff

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "twitter"
ARCHIVE, TAGS = FIXTURES / "archive", FIXTURES / "ukedchat-tags.csv"
TWEETS = ARCHIVE / "data" / "tweets.js"
SLACK_CHANNELS = SAMPLES / "slack" / "slack-export-viewer" / "export" / "channels.json"
IDENTITIES = ["MsParkTeaches", "chloe.park", "Chloe Park", "DanTeachesMaths", "Dan Whitfield", "EveScience",
              "FaridPhysics", "GinaPrimary", "OtherTeacher", "edu_researcher"]
DAN_Q1, PARK_Q1, PARK_Q2 = "1765812811964208135", "1765812031457289473", "1765813018377162249"
EVE_REPLY, FARID_REPLY = "1765813396218874533", "1765814054483976201"


def _read(context, paths=(ARCHIVE, TAGS), **settings):
    settings.setdefault("staff", frozenset({"MsParkTeaches"}))
    settings.setdefault("options", {"hashtag": "ukedchat"})
    settings.setdefault("timezone", "Europe/London")
    return twitter.read(list(paths), context(**settings))


def _by_id(posts: pl.DataFrame) -> dict[str, dict]:
    return {row["post_id"]: row for row in posts.iter_rows(named=True)}


def test_archive_and_collection_thread_together(context):
    posts = _by_id(_read(context).posts)
    assert len(posts) == 9
    # the archive's self-thread, continued by a reply collected by TAGS
    assert posts[PARK_Q1]["is_thread_start"] and posts[PARK_Q1]["parent_post_id"] is None
    assert posts[PARK_Q2]["parent_post_id"] == PARK_Q1 and posts[PARK_Q2]["thread_id"] == PARK_Q1
    assert posts["1765815022963881106"]["parent_post_id"] == PARK_Q2
    assert posts["1765815022963881106"]["thread_id"] == PARK_Q1
    # a TAGS thread, answered from the archive
    assert posts["1765813760148825617"]["parent_post_id"] == DAN_Q1
    assert {row["thread_id"] for row in posts.values() if row["thread_id"] == DAN_Q1} == {DAN_Q1}
    assert sum(row["thread_id"] == DAN_Q1 for row in posts.values()) == 4


def test_mangled_ids_are_recovered_or_quarantined(context):
    result = _read(context)
    posts = _by_id(result.posts)
    # id_str "1.76581E+18": the id comes from status_url .../statuses/<id>
    assert posts[EVE_REPLY]["parent_post_id"] == DAN_Q1
    # parent "1765813396218870000" (15 significant digits) fits one tweet by the replied-to author
    assert posts[FARID_REPLY]["parent_post_id"] == EVE_REPLY and posts[FARID_REPLY]["thread_id"] == DAN_Q1
    # no mangled value is ever a key
    ids = [*result.posts.get_column("post_id"), *result.posts.get_column("parent_post_id").drop_nulls()]
    assert all(i.isdigit() and not i.endswith("0000") for i in ids)
    reasons = dict(result.quarantine.select("source_row", "reason").filter(pl.col("source_row").is_in([2, 4])).iter_rows())
    assert "id mangled by a spreadsheet, no status_url to recover it" in result.quarantine.get_column("reason").to_list()
    assert reasons[4] == "reply whose parent id was mangled by a spreadsheet (cannot be linked)"


@pytest.mark.parametrize(
    ("value", "mangled"),
    [
        ("1.76581E+18", True), ("1765813551934420000", True), ("1234567890123456000", True),
        ("1,765,813,551,934,418,062", True), ("1765813551934418062.0", True),
        ("1765813551934418062", False), ("1765813551934418060", False),  # one trailing zero: a real id 10% of the time
        ("20", False), ("", False), ("NA", False), (None, False),
    ],
)
def test_mangled_id_detection(value, mangled):
    frame = pl.DataFrame({"id": [value]}, schema={"id": pl.String})
    assert frame.select(twitter.mangled_id("id")).item() is mangled


def test_ambiguous_mangled_parent_is_not_guessed(tmp_path, context):
    csv = tmp_path / "edchat.csv"
    csv.write_text(
        "id_str,from_user,text,created_at,in_reply_to_status_id_str,in_reply_to_screen_name,status_url\n"
        "1765813396218871111,EveScience,first,Thu Mar 07 20:05:31 +0000 2024,,,\n"
        "1765813396218872222,EveScience,second,Thu Mar 07 20:05:31 +0000 2024,,,\n"
        "1765814054483976201,FaridPhysics,@EveScience which one?,Thu Mar 07 20:08:10 +0000 2024,1765813396218870000,EveScience,\n"
    )
    result = twitter.read([csv], context())
    assert result.posts.height == 2 and result.accounts[0].balanced
    assert result.quarantine.get_column("reason").to_list() == ["reply whose parent id was mangled by a spreadsheet (cannot be linked)"]
    assert result.posts.get_column("channel").unique().to_list() == ["edchat"]  # no hashtag option: the CSV's name


def test_a_real_id_ending_in_zeros_still_links(tmp_path, context):
    csv = tmp_path / "edchat.csv"
    csv.write_text(
        "id_str,from_user,text,created_at,in_reply_to_status_id_str,in_reply_to_screen_name,status_url\n"
        "1765813396218870000,EveScience,round id,Thu Mar 07 20:05:31 +0000 2024,,,\n"
        "1765813396218872222,EveScience,neighbour,Thu Mar 07 20:05:31 +0000 2024,,,\n"
        "1765814054483976201,FaridPhysics,@EveScience this one,Thu Mar 07 20:08:10 +0000 2024,1765813396218870000,EveScience,\n"
    )
    result = twitter.read([csv], context())
    # the round id has no status_url to prove it, so that row is quarantined, and the reply
    # to it with it; the neighbour within the id's precision is not taken instead
    assert result.quarantine.get_column("reason").sort().to_list() == [
        "id mangled by a spreadsheet, no status_url to recover it",
        "reply to a quarantined post",
    ]
    csv.write_text(csv.read_text().replace("round id,Thu Mar 07 20:05:31 +0000 2024,,,",
                                           "round id,Thu Mar 07 20:05:31 +0000 2024,,,https://x.com/EveScience/status/1765813396218870000"))
    result = twitter.read([csv], context())
    assert result.quarantine.height == 0
    reply = result.posts.filter(pl.col("post_id") == "1765814054483976201")
    assert reply.get_column("parent_post_id").item() == "1765813396218870000"


def test_times_links_media_reactions_and_text(context):
    posts = _by_id(_read(context).posts)
    start = posts[PARK_Q1]
    assert str(start["created_at"]) == "2024-03-07 20:00:05+00:00"
    assert start["n_links"] == 1 and start["n_reactions"] == 12 and start["channel"] == "#ukedchat"
    assert start["body_text"].endswith("Guide: https://www.retrievalpractice.example/guide")  # t.co expanded
    q2 = posts[PARK_Q2]
    assert q2["n_attachments"] == 2 and "t.co" not in q2["body_text"]  # media link removed
    # created_at lost in the sheet: `time` is the sheet's local time (BST in April)
    assert str(posts["1775212345678912345"]["created_at"]) == "2024-04-02 18:15:00+00:00"
    quote = posts["1765993344556677889"]
    assert quote["body_text"] == (
        "Planning & marking tonight, but last night's thread was worth it: https://twitter.com/i/web/status/1765812811964208135"
    )
    assert quote["channel"] == "twitter"  # an archive tweet without the hashtag
    assert posts[EVE_REPLY]["body_text"].startswith("@member we do the same")
    assert posts[EVE_REPLY]["n_reactions"] == 0  # TAGS records no favourites


def test_retweets_duplicates_and_bad_rows_are_quarantined(context):
    result = _read(context)
    posts_account, members_account = result.accounts
    assert (posts_account.read, posts_account.accepted, posts_account.quarantined) == (16, 9, 7)
    assert posts_account.balanced and members_account.balanced
    assert sorted(result.quarantine.get_column("reason").to_list()) == [
        "duplicate tweet id (already read)",
        "excluded: retweet",
        "excluded: retweet",
        "id mangled by a spreadsheet, no status_url to recover it",
        "missing author",
        "reply to a post not in the export",
        "reply whose parent id was mangled by a spreadsheet (cannot be linked)",
    ]
    # the tweet in both the archive and the CSV is kept once, from the archive
    kept = result.posts.filter(pl.col("post_id") == PARK_Q1)
    assert kept.height == 1 and kept.get_column("source_file").item().endswith("tweets.js")


def test_archive_account_keys_by_email_and_marks_staff(tmp_path, context, pseudonymizer):
    email_key = pseudonymizer.key("email", "chloe.park@school.example")
    result = _read(context, staff=frozenset({"chloe.park@school.example"}))
    staff_keys = result.posts.filter(pl.col("is_staff")).get_column("author_key").unique().to_list()
    assert staff_keys == [email_key]
    member = result.members.filter(pl.col("author_key") == email_key).row(0, named=True)
    assert member["role"] == "staff" and str(member["joined_at"]) == "2015-09-01 07:30:00+00:00"
    assert result.members.height == 4  # the archive's account and three authors seen in the CSV
    # a collection CSV alone, with the archive's account.js in members/: her tweets key by email
    csv = tmp_path / "ukedchat.csv"
    csv.write_text(
        "id_str,from_user,text,created_at,status_url\n"
        "1775300000000123457,MsParkTeaches,Next week's #ukedchat: feedback,Thu Apr 04 19:00:00 +0000 2024,\n"
    )
    alone = twitter.read([csv], context(member_files=[ARCHIVE / "data" / "account.js"]))
    assert alone.posts.get_column("author_key").to_list() == [email_key]


def test_zip_folder_and_loose_tweets_js_agree(tmp_path, context):
    archive_zip = tmp_path / "twitter-2024-04-10-abc123.zip"
    with zipfile.ZipFile(archive_zip, "w") as archive:
        for file in sorted(ARCHIVE.rglob("*")):
            archive.write(file, file.relative_to(ARCHIVE).as_posix())
        archive.writestr("data/tweets_media/1765813018377162249-GIm0photo.jpg", b"\xff\xd8\xff")
    columns = ["post_id", "thread_id", "parent_post_id", "author_key", "created_at", "body_text", "n_links", "n_attachments"]
    folder = _read(context, paths=[ARCHIVE]).posts.select(columns).sort("post_id")
    assert twitter.looks_like(Sniff(archive_zip))
    assert _read(context, paths=[archive_zip]).posts.select(columns).sort("post_id").equals(folder)
    # tweets.js alone finds account.js beside it
    assert _read(context, paths=[TWEETS]).posts.select(columns).sort("post_id").equals(folder)


def test_looks_like_recognises_only_twitter(tmp_path):
    for path in (ARCHIVE, TWEETS, ARCHIVE / "data" / "account.js", TAGS):
        assert twitter.looks_like(Sniff(path)), path
    moodle_csv = tmp_path / "forum.csv"
    moodle_csv.write_text("id,discussion,parent,userid,userfullname,created,subject,message\n1,1,0,7,Ana,1770076920,Hi,<p>hi</p>\n")
    survey_csv = tmp_path / "survey.csv"
    survey_csv.write_text("Timestamp,id,text,created_at\n3/1/2024 10:00:00,1,hello,now\n")
    for path in (moodle_csv, survey_csv, ARCHIVE / "data" / "manifest.js", FIXTURES.parent / "mastodon" / "ana", tmp_path):
        assert not twitter.looks_like(Sniff(path)), path
    if SLACK_CHANNELS.exists():
        assert not twitter.looks_like(Sniff(SLACK_CHANNELS))
        assert not twitter.looks_like(Sniff(SLACK_CHANNELS.parent))


def test_structural_problems_are_one_line_errors_naming_the_file(tmp_path, context):
    lone = tmp_path / "lone"
    lone.mkdir()
    shutil.copy(TWEETS, lone / "tweets.js")
    with pytest.raises(InputError) as error:
        twitter.read([lone / "tweets.js"], context())
    assert str(error.value) == f"{lone / 'tweets.js'}: no account.js beside it: the archive's tweets do not name their author"

    shutil.copy(ARCHIVE / "data" / "account.js", lone / "account.js")
    (lone / "tweets.js").write_text('window.YTD.tweets.part0 = [ { "tweet" : { "id_str" : "1"')
    with pytest.raises(InputError) as error:
        twitter.read([lone / "tweets.js"], context())
    assert str(error.value).startswith(f"{lone / 'tweets.js'}: not valid JSON after the window.YTD assignment")
    assert "\n" not in str(error.value)

    missing = tmp_path / "collection.csv"
    missing.write_text("id_str,from_user,geo_coordinates\n1765812811964208135,DanTeachesMaths,\n")
    with pytest.raises(InputError) as error:
        twitter.read([missing], context())
    assert str(error.value) == f"{missing}: not a hashtag-collection CSV: missing column(s) text, created_at"

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="not an X/Twitter archive: no data/tweets.js in the folder"):
        twitter.read([empty], context())


def test_no_identity_leaves_the_reader(context):
    result = _read(context)
    text = "\n".join(frame.write_csv() for frame in (result.posts, result.members, result.quarantine)).lower()
    for identity in IDENTITIES:
        assert identity.lower() not in text, identity
