"""Discourse JSON API responses -> canonical posts and members.

What a Discourse export folder holds (any mix, any file names):
- topic responses (`/t/{id}.json`): `post_stream.posts` (post_number,
  reply_to_post_number, cooked HTML), topic `title` and `category_id`. A topic page
  holds only its first posts while `post_stream.stream` lists every id: the reader
  reports ids that are listed but missing, so an evaluator knows to fetch more pages;
- topic post pages (`/t/{id}/posts.json`) and `/posts.json` (`latest_posts`);
- `categories.json` (`category_list.categories`) for channel names;
- the admin user list (`/admin/users/list/*.json`: a list of users with email,
  created_at, last_seen_at, days_visited, posts_read_count) for members and reading.

Replies link by `reply_to_post_number` within their topic; a reply without one replies
to the topic's first post, as Discourse displays it.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from value_pipeline import schema
from value_pipeline.errors import InputError
from value_pipeline.identity import Pseudonymizer
from value_pipeline.ingest.common import (
    Account,
    ForumRead,
    ReadContext,
    merge_members,
    quarantine_frame,
    read_json,
    split_by_reason,
)
from value_pipeline.ingest.detect import Sniff
from value_pipeline.text import html_links, html_to_text

PLATFORM = "discourse"
KIND = "forum"


def looks_like(sniff: Sniff) -> bool:
    """A Discourse API response (topic, posts, categories, or the admin user list)."""
    return sniff.looks_like_json and is_discourse_json(sniff.json)


def is_discourse_json(data) -> bool:
    """True for any Discourse API response this reader understands."""
    if isinstance(data, dict):
        return bool({"post_stream", "latest_posts", "category_list"} & data.keys())
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return {"username", "trust_level"} <= data[0].keys()
    return False


def read(paths: list[Path], context: ReadContext) -> ForumRead:
    """Read Discourse API responses into canonical posts and members."""
    forum_files, member_files = paths, context.member_files
    community, pseudonymizer, staff = context.community, context.pseudonymizer, context.staff
    post_records: list[dict] = []
    user_records: list[dict] = []
    categories: dict[int, str] = {}
    missing_from_stream = 0
    for path in [*forum_files, *member_files]:
        data = read_json(path)
        if not is_discourse_json(data):
            raise InputError(path, "not a Discourse API response (no post_stream, latest_posts, category_list or user list)")
        if isinstance(data, list):
            user_records += [{**user, "_file": str(path), "_row": i} for i, user in enumerate(data)]
            continue
        for category in (data.get("category_list") or {}).get("categories", []):
            categories[category.get("id")] = category.get("name")
        topic = {"title": data.get("title"), "category_id": data.get("category_id")} if "title" in data else {}
        stream = data.get("post_stream") or {}
        posts = stream.get("posts") or data.get("latest_posts") or []
        if stream.get("stream"):
            missing_from_stream += len(set(stream["stream"]) - {post.get("id") for post in posts})
        for row, post in enumerate(posts):
            post_records.append({**post, **{f"_topic_{k}": v for k, v in topic.items()}, "_file": str(path), "_row": row})

    posts, post_quarantine, post_account = _posts(post_records, categories, community, pseudonymizer, staff, user_records)
    members, member_quarantine, member_account = _members(user_records, posts, community, pseudonymizer, staff)
    notes = []
    if missing_from_stream:
        notes.append(
            f"{missing_from_stream} post ids listed in topic streams are not in the export "
            "(fetch the /t/ID/posts.json pages to include them)"
        )
    return ForumRead(
        platform=PLATFORM,
        posts=posts,
        members=members,
        quarantine=pl.concat([post_quarantine, member_quarantine]),
        accounts=[post_account, member_account],
        files=[str(path) for path in [*forum_files, *member_files]],
        notes=notes,
    )


def _identity_map(user_records: list[dict]) -> dict[str, str]:
    """username (lowercase) -> email, from the admin user list where it has emails."""
    return {
        str(user["username"]).lower(): user["email"]
        for user in user_records
        if user.get("username") and user.get("email")
    }


def _author_keys(usernames: pl.Series, emails_by_username: dict[str, str], pseudonymizer: Pseudonymizer) -> pl.Series:
    """Key by email where the user list gives one (links to surveys), else by username."""
    mapping = {}
    for username in usernames.drop_nulls().unique().to_list():
        email = emails_by_username.get(username.lower())
        mapping[username] = (
            pseudonymizer.key("email", email) if email else pseudonymizer.key("username", username, PLATFORM)
        )
    return usernames.replace_strict(mapping, default=None, return_dtype=pl.String)


def _staff_flag(usernames: pl.Series, emails_by_username: dict[str, str], staff: set[str]) -> pl.Series:
    staff_lower = {name.lower() for name in staff}
    flagged = {
        username
        for username in usernames.drop_nulls().unique().to_list()
        if username.lower() in staff_lower or emails_by_username.get(username.lower(), "").lower() in staff_lower
    }
    return usernames.is_in(list(flagged))


def _posts(records, categories, community, pseudonymizer, staff, user_records):
    columns = {
        "id": pl.Int64, "topic_id": pl.Int64, "post_number": pl.Int64, "reply_to_post_number": pl.Int64,
        "username": pl.String, "created_at": pl.String, "cooked": pl.String, "post_type": pl.Int64,
        "staff": pl.Boolean, "moderator": pl.Boolean, "admin": pl.Boolean, "deleted_at": pl.String,
        "topic_title": pl.String, "_topic_title": pl.String, "_topic_category_id": pl.Int64,
        "category_id": pl.Int64, "reaction_count": pl.Int64, "like_count": pl.Int64,
        "_file": pl.String, "_row": pl.Int64,
    }
    rows = [
        {name: _scalar(record.get(name)) for name in columns}
        | {"_likes": _likes(record), "_links": html_links(record.get("cooked")), "_text": html_to_text(record.get("cooked"))}
        for record in records
    ]
    frame = pl.DataFrame(rows, schema={**columns, "_likes": pl.Int64, "_links": pl.Int64, "_text": pl.String})
    emails = _identity_map(user_records)
    frame = frame.with_columns(
        created=pl.col("created_at").str.to_datetime(time_zone="UTC", strict=False),
        author_key=_author_keys(frame.get_column("username"), emails, pseudonymizer),
        listed_staff=_staff_flag(frame.get_column("username"), emails, staff),
    )
    # First occurrence of a post id wins; later copies (the same post in topic.json and
    # posts.json) are quarantined as duplicates rather than silently merged.
    frame = frame.with_columns(
        duplicate=pl.col("id").is_duplicated() & (pl.int_range(pl.len()).over("id") > 0)
    )
    frame = frame.with_columns(
        reason=pl.when(pl.col("id").is_null()).then(pl.lit("missing post id"))
        .when(pl.col("topic_id").is_null()).then(pl.lit("missing topic id"))
        .when(pl.col("duplicate")).then(pl.lit("duplicate post id (already read)"))
        .when(pl.col("username").is_null()).then(pl.lit("missing author"))
        .when(pl.col("created").is_null()).then(pl.lit("missing or unreadable created_at"))
        .when(pl.col("deleted_at").is_not_null()).then(pl.lit("excluded: deleted post"))
        .when(pl.col("post_type") > 1).then(pl.lit("excluded: moderator action or whisper"))
        .otherwise(None)
    )
    accepted, rejected = split_by_reason(frame)
    # Parents: reply_to_post_number within the topic; by default the topic's first post.
    numbers = accepted.select(
        pl.col("topic_id"), pl.col("post_number").alias("_parent_number"), pl.col("id").alias("parent_id")
    )
    topics = accepted.group_by("topic_id").agg(
        pl.col("id").filter(pl.col("post_number") == 1).first().alias("first_id"),
        pl.col("_topic_title").drop_nulls().first().alias("thread_title"),
        pl.col("topic_title").drop_nulls().first().alias("latest_title"),
        pl.col("_topic_category_id").drop_nulls().first().alias("thread_category"),
    )
    accepted = (
        accepted.join(topics, on="topic_id", how="left")
        .with_columns(_parent_number=pl.col("reply_to_post_number"))
        .join(numbers, on=["topic_id", "_parent_number"], how="left")
        .with_columns(
            is_thread_start=pl.col("post_number") == 1,
            parent=pl.coalesce("parent_id", "first_id").cast(pl.String),
            category=pl.coalesce("thread_category", "category_id"),
        )
        .with_columns(
            reason=pl.when(~pl.col("is_thread_start") & pl.col("parent").is_null())
            .then(pl.lit("reply to a post not in the export (export the whole topic)"))
            .otherwise(None)
        )
    )
    accepted, orphans = split_by_reason(accepted)
    rejected = pl.concat([rejected, orphans.select(rejected.columns)])
    accepted = accepted.with_columns(
        parent=pl.when(pl.col("is_thread_start")).then(None).otherwise(pl.col("parent"))
    )
    posts = accepted.select(
        community=pl.lit(community),
        platform=pl.lit(PLATFORM),
        post_id=pl.col("id").cast(pl.String),
        thread_id=pl.col("topic_id").cast(pl.String),
        parent_post_id=pl.col("parent"),
        author_key=pl.col("author_key"),
        created_at=pl.col("created"),
        channel=pl.col("category").replace_strict(categories, default=None, return_dtype=pl.String),
        title=pl.when(pl.col("is_thread_start")).then(pl.coalesce("thread_title", "latest_title")).otherwise(None),
        body_text=pl.col("_text"),
        is_thread_start=pl.col("is_thread_start"),
        n_reactions=pl.col("_likes"),
        n_links=pl.col("_links"),
        n_attachments=pl.col("cooked").str.count_matches(r"<img |class=\"attachment\"").fill_null(0),
        is_staff=pl.col("staff").fill_null(False) | pl.col("moderator").fill_null(False)
        | pl.col("admin").fill_null(False) | pl.col("listed_staff"),
        source_file=pl.col("_file"),
        source_row=pl.col("_row"),
    )
    posts = schema.conform(posts, schema.POSTS)
    quarantine = quarantine_frame(
        community, "posts", rejected.rename({"_file": "source_file", "_row": "source_row"}),
        ["id", "topic_id", "post_number", "created_at", "_text"],
    )
    account = Account("posts", "post", frame.height, posts.height, quarantine.height)
    return posts, quarantine, account


def _likes(record: dict) -> int:
    for key in ("reaction_users_count", "like_count"):
        if isinstance(record.get(key), int):
            return record[key]
    return sum(
        action.get("count", 0) for action in record.get("actions_summary") or []
        if isinstance(action, dict) and action.get("id") == 2  # 2 = like
    )


def _scalar(value):
    """API fields are sometimes structures (`raw` as a tree); keep only scalars."""
    return value if isinstance(value, (str, int, float, bool)) or value is None else None


def _members(user_records, posts, community, pseudonymizer, staff):
    columns = {
        "username": pl.String, "email": pl.String, "created_at": pl.String, "last_seen_at": pl.String,
        "admin": pl.Boolean, "moderator": pl.Boolean, "days_visited": pl.Int64,
        "posts_read_count": pl.Int64, "_file": pl.String, "_row": pl.Int64,
    }
    frame = pl.DataFrame(
        [{name: _scalar(user.get(name)) for name in columns} for user in user_records], schema=columns
    )
    emails = _identity_map(user_records)
    frame = frame.with_columns(
        author_key=_author_keys(frame.get_column("username"), emails, pseudonymizer),
        listed_staff=_staff_flag(frame.get_column("username"), emails, staff),
        joined=pl.col("created_at").str.to_datetime(time_zone="UTC", strict=False),
        seen=pl.col("last_seen_at").str.to_datetime(time_zone="UTC", strict=False),
    ).with_columns(
        reason=pl.when(pl.col("username").is_null()).then(pl.lit("missing username"))
        .when(pl.col("author_key").is_duplicated() & (pl.int_range(pl.len()).over("author_key") > 0))
        .then(pl.lit("duplicate user (already read)"))
        .otherwise(None)
    )
    accepted, rejected = split_by_reason(frame)
    is_staff = pl.col("admin").fill_null(False) | pl.col("moderator").fill_null(False) | pl.col("listed_staff")
    listed = accepted.select(
        community=pl.lit(community),
        author_key=pl.col("author_key"),
        joined_at=pl.col("joined"),
        role=pl.when(pl.col("admin")).then(pl.lit("staff"))
        .when(pl.col("moderator")).then(pl.lit("moderator"))
        .when(pl.col("listed_staff")).then(pl.lit("staff"))
        .otherwise(pl.lit("member")),
        is_staff=is_staff,
        posts_read=pl.col("posts_read_count"),
        days_visited=pl.col("days_visited"),
        last_seen_at=pl.col("seen"),
    )
    members = merge_members(listed, posts, community)
    quarantine = quarantine_frame(
        community, "members", rejected.rename({"_file": "source_file", "_row": "source_row"}),
        ["created_at", "last_seen_at"],
    )
    account = Account("members", "user", frame.height, accepted.height, quarantine.height)
    return members, quarantine, account

