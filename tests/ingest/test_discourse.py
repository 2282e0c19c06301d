"""The Discourse reader on the real API responses in ../shared/samples."""

import polars as pl
from support import SAMPLES, needs_samples

from value_pipeline import schema
from value_pipeline.ingest import discourse

DISCOURSE = SAMPLES / "discourse" / "discourse_api"
pytestmark = needs_samples(DISCOURSE)


def _read(context, names, members=("user_list.json",)):
    return discourse.read([DISCOURSE / n for n in names], context(member_files=[DISCOURSE / m for m in members]))


def test_topic_response_threads_replies_to_the_first_post(context):
    result = _read(context, ["topic.json"])
    posts = result.posts.sort("created_at")
    assert schema.check_conforms(posts, schema.POSTS) == []
    starts = posts.filter(pl.col("is_thread_start"))
    assert starts.get_column("post_id").to_list() == ["83"]
    assert starts.get_column("title").item().startswith("THIS SITE IS A SANDBOX")
    replies = posts.filter(~pl.col("is_thread_start"))
    assert set(replies.get_column("parent_post_id")) == {"83"}
    # cooked HTML is plain text; links counted from <a href>
    assert "<p>" not in starts.get_column("body_text").item()
    assert starts.get_column("n_links").item() == 3


def test_accounts_balance_and_duplicates_across_files_are_quarantined(context):
    result = _read(context, ["topic.json", "topic_posts.json", "posts_latest.json", "posts_before.json", "categories.json"])
    for account in result.accounts:
        assert account.balanced, account
    reasons = result.quarantine.get_column("reason").to_list()
    assert reasons.count("duplicate post id (already read)") == 3
    assert "excluded: moderator action or whisper" in reasons
    assert result.posts.get_column("post_id").is_duplicated().sum() == 0
    # category names come from categories.json
    assert "test1" in result.posts.get_column("channel").to_list()


def test_identities_never_leave_the_reader(context):
    result = _read(context, ["topic.json", "posts_latest.json"])
    text = pl.concat([result.posts.cast(pl.String), ], how="vertical").write_csv() + result.members.cast(pl.String).write_csv()
    for identity in ("samsaffron", "Sam Saffron", "batman@gotham.com", "test_user", "Someones Name"):
        assert identity not in text
    # staff flags from the API survive pseudonymization
    assert result.posts.filter(pl.col("is_staff")).height >= 1


def test_author_keys_use_email_when_the_user_list_has_it(context, pseudonymizer):
    result = _read(context, ["topic.json"])
    expected = pseudonymizer.key("email", "batman@gotham.com")
    assert expected in result.members.get_column("author_key").to_list()
    readers = result.members.filter(pl.col("posts_read").is_not_null())
    assert readers.height == 20
