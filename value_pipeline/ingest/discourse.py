"""Discourse exports -> canonical posts and members.

What a Discourse export folder holds (any mix, any file names; member lists may sit in
forum/ or members/):
- topic responses (`/t/{id}.json`): `post_stream.posts` (post_number,
  reply_to_post_number, cooked HTML), topic `title` and `category_id`. A topic page
  holds only its first posts while `post_stream.stream` lists every id: the reader
  reports ids that are listed but missing, so an evaluator knows to fetch more pages;
- topic post pages (`/t/{id}/posts.json`) and `/posts.json` (`latest_posts`);
- `categories.json` (`category_list.categories`) for channel names;
- the admin user list as JSON (`/admin/users/list/*.json`: a list of users with email,
  created_at, last_seen_at, days_visited, posts_read_count);
- the admin user list as CSV (Admin > Users > Export, written by
  Jobs::ExportCsvFile#user_list_export, app/jobs/regular/export_csv_file.rb; delivered
  as `user-list-YYMMDD-HHMMSS-ID.zip` holding one CSV, which may also be given
  unzipped). Columns vary by version and site: id, name, username, email, title,
  created_at, last_seen_at, last_posted_at, last_emailed_at, trust_level, approved,
  suspended_at, suspended_till, silenced_till, active, admin, moderator, ip_address,
  staged, secondary_emails, topics_entered, posts_read_count, time_read (seconds),
  topic_count, post_count, likes_given, likes_received, location, website, views, then
  SSO columns, custom user fields and group_names. Only username and email are
  required; times are written as `2026-08-04 18:20:32 UTC`, booleans as true/false;
- a user archive (a member's own download from their preferences, written by
  Jobs::ExportUserArchive, app/jobs/regular/export_user_archive.rb:
  `user_archive-USERNAME-YYMMDD-HHMMSS-ID.zip`, or the unzipped folder). It holds
  `user_archive.csv` (topic_title, categories, is_pm, post_raw, post_cooked, like_count,
  reply_count, url, created_at; older versions have one `post` column of raw
  Markdown), and in newer versions `preferences.json` (the user's profile: username,
  email, created_at, admin, moderator...), `visits.csv` (visited_at, posts_read,
  mobile, time_read), `user_archive_profile.csv`, likes, badges and more.

Replies link by `reply_to_post_number` within their topic; a reply without one replies
to the topic's first post, as Discourse displays it.

Members: the user lists give joined, role and reading (posts_read, days_visited,
last_seen_at). Staged users (placeholder accounts Discourse makes for people who only
emailed in) are excluded; the built-in system and discobot accounts (negative ids) get
role `bot`. When a person is listed twice (JSON and CSV lists, or a list and an
archive) the first row is kept, its empty fields filled from the later copies, and the
copies are quarantined as duplicates.

User archives: the posts of ONE member, identified by `preferences.json` or, in older
archives, only by the zip's name (`user_archive-USERNAME-...`). An archive has no post
ids and no reply links, so:
- post_id is `TOPIC_ID/POST_NUMBER` from the post's url (`/t/slug/TOPIC_ID/POST_NUMBER`),
  thread_id the topic id (the same thread id the topic JSON gives);
- post number 1 starts its thread (title = topic_title, channel = the last category);
- any other post replies to its topic's first post (Discourse's default parent): the
  first post from a topic JSON export or from any archive read with it. When no export
  holds that first post the reply is quarantined ("reply to a post not in the export"):
  one member's archive cannot place their replies in someone else's thread, and the
  canonical posts table keeps only replies whose parent exists. Archives from several
  members (or the topics' JSON) fill the gaps; the read notes count what is missing;
- a post already read from a topic JSON export (same topic and post number) is
  quarantined as a duplicate (the JSON copy has the reply link);
- private messages are excluded (is_pm is localised: Yes/No in English);
- the owner's reading activity comes from visits.csv (days visited, posts read, last
  visit) and their join date and role from preferences.json.
Identity never leaves the reader: usernames and emails become author_key (by email when
any list gives one, else by Discourse username); names, bios, IPs and the rest of a
profile are not read. Discourse names an archive after its owner, so the reader's
source_file (and `files`) show the archive as `user_archive-*-YYMMDD-HHMMSS-ID.zip`,
the username replaced by `*`. source_row is the 0-based data row of the CSV (or the
post's index in a JSON response).
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path, PurePosixPath

import polars as pl

from value_pipeline import schema
from value_pipeline.errors import InputError
from value_pipeline.identity import Pseudonymizer
from value_pipeline.ingest.common import (
    MAX_JSON_BYTES,
    Account,
    ForumRead,
    ReadContext,
    merge_members,
    parse_json,
    quarantine_frame,
    read_json,
    read_text,
    read_zip_member,
    split_by_reason,
    utc_datetime,
)
from value_pipeline.ingest.detect import Sniff
from value_pipeline.text import URL_PATTERN, html_links_series, html_to_text_series

PLATFORM = "discourse"
KIND = "forum"
USER_LIST_REQUIRED = ["username", "email"]
ARCHIVE_REQUIRED = ["url", "created_at"]
ARCHIVE_BODY_COLUMNS = ["post_cooked", "post_raw", "post"]
MAX_ZIP_MEMBER_BYTES = 256 * 2**20
ARCHIVE_NAME = re.compile(r"^user_archive-(?P<username>.+)-\d{6}-\d{6}(?:-\d+)?(?:\.zip)?$", re.IGNORECASE)
# csv_export.boolean_yes / boolean_no in Discourse's common locales
PM_YES = {"yes", "ja", "oui", "sí", "si", "sim", "tak", "да", "是", "はい", "evet", "ya", "kyllä", "igen", "ano"}
PM_NO = {"no", "nein", "non", "não", "nao", "nie", "нет", "否", "いいえ", "hayır", "tidak", "ei", "nem", "ne", "nee", "nej"}
TRUE_WORDS = ["true", "t", "1", "yes"]

USER_COLUMNS = {
    "id": pl.Int64, "username": pl.String, "email": pl.String, "created_at": pl.String,
    "last_seen_at": pl.String, "admin": pl.Boolean, "moderator": pl.Boolean, "staged": pl.Boolean,
    "days_visited": pl.Int64, "posts_read_count": pl.Int64, "_problem": pl.String,
    "_file": pl.String, "_row": pl.Int64,
}


# ---------------------------------------------------------------- detection
def looks_like(sniff: Sniff) -> bool:
    """A Discourse API response, an admin user list (JSON or CSV, or its zip), or a user archive."""
    if sniff.is_dir:
        return (sniff.path / "user_archive.csv").is_file()
    try:
        names = sniff.zip_names
    except (zipfile.BadZipFile, OSError):
        return False
    if names:
        return _zip_kind(sniff.path, names) is not None
    if sniff.looks_like_json:
        # Fingerprints in the first 64 KB spare parsing every topic file twice; the reader
        # parses it and says so in one line if the rest is broken.
        head = sniff.head_text
        distinctive = ("post_stream", "latest_posts", "category_list", "topic_list", "user_badges", "user_actions")
        if head.lstrip().startswith("{") and any(f'"{key}"' in head for key in distinctive):
            return True
        return is_discourse_json(sniff.json)
    return is_user_list_header(sniff.header)


# API responses that hold neither posts nor a user list (topic lists, a user's profile,
# badges, group members, user actions): recognised, so a folder of API dumps reads, and
# set aside with a note.
NO_POST_KEYS = {"topic_list", "user_badges", "members", "user_actions"}


def is_discourse_json(data) -> bool:
    """True for any Discourse API response this reader understands."""
    if isinstance(data, dict):
        if {"post_stream", "latest_posts", "category_list"} & data.keys() or NO_POST_KEYS & data.keys():
            return True
        if {"cooked", "post_number", "topic_id"} <= data.keys():  # a single /posts/{id}.json
            return True
        user = data.get("user")
        return isinstance(user, dict) and {"username", "trust_level"} <= user.keys()
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return {"username", "trust_level"} <= data[0].keys()
    return False


def is_user_list_header(header: list[str]) -> bool:
    """The admin user-list CSV: username and trust_level columns (Discourse's own names)."""
    return {"username", "trust_level"} <= {cell.strip().lower() for cell in header}


def _zip_kind(path: Path, names: list[str]) -> str | None:
    """"archive" (holds user_archive.csv), "user_list" (one user-list CSV) or None. Never raises."""
    if any(PurePosixPath(name).name == "user_archive.csv" for name in names):
        return "archive"
    csvs = [name for name in names if name.lower().endswith(".csv")]
    if len(csvs) != 1:
        return None
    try:
        with zipfile.ZipFile(path) as archive, archive.open(csvs[0]) as handle:
            head = handle.read(64 * 1024).decode("utf-8-sig", errors="replace")
        header = next(csv.reader(io.StringIO(head)), [])
    except (zipfile.BadZipFile, OSError, RuntimeError, csv.Error, ValueError):
        return None
    return "user_list" if is_user_list_header(header) else None


def _kind(path: Path) -> str:
    """How to read one path: json, user_list_csv, user_list_zip or archive (else InputError)."""
    if path.is_dir():
        if (path / "user_archive.csv").is_file():
            return "archive"
        raise InputError(path, "not a Discourse export: a folder without user_archive.csv")
    if not path.exists():
        raise InputError(path, "no such file")
    sniff = Sniff(path)
    if sniff.looks_like_json:
        return "json"
    try:
        names = sniff.zip_names
    except (zipfile.BadZipFile, OSError) as error:
        raise InputError(path, f"not a readable zip: {error}") from error
    if names:
        kind = _zip_kind(path, names)
        if kind is None:
            raise InputError(path, "not a Discourse export: a zip without user_archive.csv or a user-list CSV")
        return "archive" if kind == "archive" else "user_list_zip"
    if sniff.looks_like_json:
        return "json"
    return "user_list_csv"


# ---------------------------------------------------------------- read
def read(paths: list[Path], context: ReadContext) -> ForumRead:
    """Read Discourse API responses, user lists and user archives into canonical posts and members."""
    forum_files, member_files = [Path(p) for p in paths], [Path(p) for p in context.member_files]
    labels: dict[Path, str] = {}  # archive path -> its label without the owner's username
    community, pseudonymizer = context.community, context.pseudonymizer
    post_records: list[dict] = []
    user_frames: list[pl.DataFrame] = []
    archives: list[dict] = []
    categories: dict[int, str] = {}
    missing_from_stream = without_posts = 0
    for path in [*forum_files, *member_files]:
        # Topic files are small and many: read each once, and tell JSON by its first byte.
        content = path.read_bytes() if path.is_file() and path.stat().st_size <= MAX_JSON_BYTES else None
        kind = "json" if content is not None and content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[") else _kind(path)
        if kind == "user_list_csv":
            user_frames.append(_user_list_csv(read_text(path), str(path), path))
            continue
        if kind == "user_list_zip":
            name, data = _zip_csv(path)
            user_frames.append(_user_list_csv(_decode(data, path, name), f"{path}!{name}", path))
            continue
        if kind == "archive":
            archive = _read_archive(path)
            archives.append(archive)
            labels[path] = archive["label"]
            continue
        data = parse_json(path, content) if content is not None else read_json(path)
        if not is_discourse_json(data):
            raise InputError(path, "not a Discourse API response (no post_stream, latest_posts, category_list or user list)")
        if isinstance(data, list):
            user_frames.append(_user_list_json(data, str(path)))
            continue
        if {"cooked", "post_number", "topic_id"} <= data.keys():
            data = {"latest_posts": [data]}
        if not ({"post_stream", "latest_posts", "category_list"} & data.keys()):
            without_posts += 1
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

    # The admin lists come first (their posts_read_count is Discourse's lifetime total); an
    # archive's owner row then only fills what the lists lack (days visited from visits.csv).
    user_frames += [archive["owner"] for archive in archives]
    users = pl.concat(user_frames, how="vertical") if user_frames else pl.DataFrame(schema=USER_COLUMNS)
    emails = _identity_map(users)
    staff = set(context.staff) | set(
        users.filter(pl.col("admin").fill_null(False) | pl.col("moderator").fill_null(False))
        .get_column("username").drop_nulls().to_list()
    )
    posts, post_quarantine, post_account, json_numbers = _posts(post_records, categories, community, pseudonymizer, staff, emails)
    accounts = [post_account]
    quarantines = [post_quarantine]
    notes = []
    if archives:
        archive_posts, archive_quarantine, archive_account, unplaced = _archive_posts(
            archives, json_numbers, categories, community, pseudonymizer, staff, emails
        )
        posts = pl.concat([posts, archive_posts])
        quarantines.append(archive_quarantine)
        accounts.append(archive_account)
        if unplaced:
            notes.append(
                f"{unplaced} {'reply' if unplaced == 1 else 'replies'} from user archives quarantined: the topic's first post is not "
                "in the export (add the topics' JSON or their starters' archives to place them)"
            )
    members, member_quarantine, member_account = _members(users, posts, community, pseudonymizer, staff, emails)
    quarantines.append(member_quarantine)
    accounts.append(member_account)
    if without_posts:
        notes.append(f"{without_posts} Discourse API responses hold no posts (topic lists, profiles, badges): set aside")
    if missing_from_stream:
        notes.append(
            f"{missing_from_stream} post ids listed in topic streams are not in the export "
            "(fetch the /t/ID/posts.json pages to include them)"
        )
    return ForumRead(
        platform=PLATFORM,
        posts=posts,
        members=members,
        quarantine=pl.concat(quarantines),
        accounts=accounts,
        files=[labels.get(path, str(path)) for path in [*forum_files, *member_files]],
        notes=notes,
    )


# ---------------------------------------------------------------- identities
def _identity_map(users: pl.DataFrame) -> dict[str, str]:
    """username (lowercase) -> email, from the user lists and archives that give emails."""
    known = users.filter(pl.col("username").is_not_null() & pl.col("email").is_not_null())
    mapping: dict[str, str] = {}
    for username, email in known.select("username", "email").iter_rows():
        mapping.setdefault(username.lower(), email)
    return mapping


def _author_keys(usernames: pl.Series, emails_by_username: dict[str, str], pseudonymizer: Pseudonymizer) -> pl.Series:
    """Key by email where a user list gives one (links to surveys), else by username."""
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


def _web_links(links: pl.Expr, column: str) -> pl.Expr:
    """Links in cooked HTML, less the lightbox anchors Discourse wraps around uploaded images."""
    return (links - pl.col(column).fill_null("").str.count_matches(r"<a\b[^>]*\bclass=\"lightbox\"")).clip(lower_bound=0)


def _attachments(column: str) -> pl.Expr:
    """Uploads in cooked HTML: images (not emoji or avatars) and attachment links."""
    html = pl.col(column).fill_null("")
    return (
        html.str.count_matches(r"(?i)<img\b")
        - html.str.count_matches(r"(?i)<img\b[^>]*class=\"[^\"]*\b(?:emoji|avatar)\b")
        + html.str.count_matches(r"class=\"attachment\"")
    )


# ---------------------------------------------------------------- JSON posts
def _posts(records, categories, community, pseudonymizer, staff, emails):
    columns = {
        "id": pl.Int64, "topic_id": pl.Int64, "post_number": pl.Int64, "reply_to_post_number": pl.Int64,
        "username": pl.String, "created_at": pl.String, "cooked": pl.String, "post_type": pl.Int64,
        "staff": pl.Boolean, "moderator": pl.Boolean, "admin": pl.Boolean, "deleted_at": pl.String,
        "topic_title": pl.String, "_topic_title": pl.String, "_topic_category_id": pl.Int64,
        "category_id": pl.Int64, "reaction_count": pl.Int64, "like_count": pl.Int64,
        "_file": pl.String, "_row": pl.Int64,
    }
    # Column by column: one pass per field is far cheaper than a dict per post, and
    # strict=False turns the odd structured value (`raw` as a tree) into null.
    frame = pl.DataFrame(
        [pl.Series(name, [record.get(name) for record in records], dtype=dtype, strict=False) for name, dtype in columns.items()]
        + [pl.Series("_likes", [_likes(record) for record in records], dtype=pl.Int64)],
    )
    frame = frame.with_columns(
        _text=html_to_text_series(frame.get_column("cooked")),
        _links=html_links_series(frame.get_column("cooked")),
        created=utc_datetime("created_at"),
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
    read_numbers = frame.select("topic_id", _parent_number="post_number").unique().with_columns(_parent_was_read=pl.lit(True))
    accepted = (
        accepted.join(topics, on="topic_id", how="left")
        .with_columns(_parent_number=pl.col("reply_to_post_number"))
        .join(numbers, on=["topic_id", "_parent_number"], how="left")
        .join(read_numbers, on=["topic_id", "_parent_number"], how="left")
        .with_columns(_parent_was_read=pl.col("_parent_was_read").fill_null(False))
        .with_columns(
            is_thread_start=pl.col("post_number") == 1,
            # no reply_to: a reply to the topic; reply_to a post set aside (deleted, a
            # whisper): kept in its topic, under the first post; reply_to a post never
            # exported: no parent (quarantined below).
            parent=pl.when(pl.col("reply_to_post_number").is_null() | pl.col("_parent_was_read"))
            .then(pl.coalesce("parent_id", "first_id"))
            .otherwise(pl.col("parent_id"))
            .cast(pl.String),
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
        n_links=_web_links(pl.col("_links"), "cooked"),
        n_attachments=_attachments("cooked"),
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
    # For user archives: every (topic, post number) read from JSON, and the accepted post ids.
    json_numbers = frame.filter(pl.col("topic_id").is_not_null() & pl.col("post_number").is_not_null()).select(
        "topic_id", "post_number", accepted=pl.col("id").is_in(posts.get_column("post_id").cast(pl.Int64).implode()),
        post_id=pl.col("id").cast(pl.String),
    ).unique(["topic_id", "post_number"], keep="first", maintain_order=True)
    return posts, quarantine, account, json_numbers


def _likes(record: dict) -> int:
    for key in ("reaction_users_count", "like_count"):
        if isinstance(record.get(key), int):
            return record[key]
    return sum(
        action.get("count", 0) for action in record.get("actions_summary") or []
        if isinstance(action, dict) and action.get("id") == 2  # 2 = like
    )


# ---------------------------------------------------------------- user lists
def _typed(value, dtype):
    """A JSON value if it has the column's type, else None (a list never breaks the frame)."""
    if dtype == pl.Boolean:
        return value if isinstance(value, bool) else None
    if dtype == pl.Int64:
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    return value if isinstance(value, str) else None


def _user_list_json(data: list, source: str) -> pl.DataFrame:
    """The admin user list as JSON (/admin/users/list/*.json)."""
    rows = []
    for row, user in enumerate(data):
        if not isinstance(user, dict):
            rows.append({"_problem": "not a user object", "_file": source, "_row": row})
            continue
        fields = {name: _typed(user.get(name), dtype) for name, dtype in USER_COLUMNS.items() if not name.startswith("_")}
        rows.append(fields | {"_problem": None, "_file": source, "_row": row})
    return pl.DataFrame(rows, schema=USER_COLUMNS) if rows else pl.DataFrame(schema=USER_COLUMNS)


def _user_list_csv(text: str, source: str, path: Path) -> pl.DataFrame:
    """The admin user list as CSV (Admin > Users > Export): strings, times `... UTC`, true/false."""
    try:
        raw = pl.read_csv(io.StringIO(text), infer_schema=False, truncate_ragged_lines=False)
    except pl.exceptions.PolarsError as error:
        raise InputError(path, f"not a readable CSV: {str(error).splitlines()[0]}") from error
    raw = raw.rename({name: name.strip().lower() for name in raw.columns})
    missing = [name for name in USER_LIST_REQUIRED if name not in raw.columns]
    if missing:
        raise InputError(path, f"not a Discourse user list: missing column(s) {', '.join(missing)}")
    for name in ("id", "created_at", "last_seen_at", "admin", "moderator", "staged", "days_visited", "posts_read_count"):
        if name not in raw.columns:
            raw = raw.with_columns(pl.lit(None, pl.String).alias(name))
    text_of = {name: pl.col(name).str.strip_chars().replace("", None) for name in raw.columns}
    counts = ["posts_read_count", "days_visited"]
    problem = pl.lit(None, pl.String)
    for name in reversed(counts):
        bad = text_of[name].is_not_null() & text_of[name].cast(pl.Int64, strict=False).is_null()
        problem = pl.when(bad).then(pl.lit(f"non-numeric {name}")).otherwise(problem)
    frame = raw.select(
        id=text_of["id"].cast(pl.Int64, strict=False),
        username=text_of["username"],
        email=text_of["email"].str.to_lowercase(),
        created_at=text_of["created_at"],
        last_seen_at=text_of["last_seen_at"],
        admin=text_of["admin"].str.to_lowercase().is_in(TRUE_WORDS),
        moderator=text_of["moderator"].str.to_lowercase().is_in(TRUE_WORDS),
        staged=text_of["staged"].str.to_lowercase().is_in(TRUE_WORDS),
        days_visited=text_of["days_visited"].cast(pl.Int64, strict=False),
        posts_read_count=text_of["posts_read_count"].cast(pl.Int64, strict=False),
        _problem=problem,
        _file=pl.lit(source),
        _row=pl.int_range(pl.len(), dtype=pl.Int64),
    )
    return schema.conform(frame, USER_COLUMNS)


def _members(users, posts, community, pseudonymizer, staff, emails):
    frame = users.with_columns(
        author_key=_author_keys(users.get_column("username"), emails, pseudonymizer),
        listed_staff=_staff_flag(users.get_column("username"), emails, staff),
        joined=utc_datetime("created_at"),
        seen=utc_datetime("last_seen_at"),
    )
    frame = frame.with_columns(
        reason=pl.when(pl.col("_problem").is_not_null()).then(pl.col("_problem"))
        .when(pl.col("username").is_null()).then(pl.lit("missing username"))
        .when(pl.col("created_at").is_not_null() & pl.col("joined").is_null()).then(pl.lit("unreadable created_at"))
        .when(pl.col("last_seen_at").is_not_null() & pl.col("seen").is_null()).then(pl.lit("unreadable last_seen_at"))
        .when(pl.col("staged").fill_null(False))
        .then(pl.lit("excluded: staged user (an email-in contact, not a signed-up member)"))
        .otherwise(None)
    )
    valid, rejected = split_by_reason(frame)
    valid = valid.with_columns(_copy=pl.int_range(pl.len()).over("author_key"))
    duplicates = valid.filter(pl.col("_copy") > 0).with_columns(reason=pl.lit("duplicate user (already read)"))
    # One row per person: the first copy, its empty fields filled from later copies.
    merged = valid.group_by("author_key", maintain_order=True).agg(
        pl.all().exclude("author_key").drop_nulls().first()
    )
    is_staff = pl.col("admin").fill_null(False) | pl.col("moderator").fill_null(False) | pl.col("listed_staff").fill_null(False)
    listed = merged.select(
        community=pl.lit(community),
        author_key=pl.col("author_key"),
        joined_at=pl.col("joined"),
        role=pl.when(pl.col("id") < 0).then(pl.lit("bot"))
        .when(pl.col("admin")).then(pl.lit("staff"))
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
        community, "members",
        pl.concat([rejected, duplicates.drop("_copy")]).rename({"_file": "source_file", "_row": "source_row"}),
        ["created_at", "last_seen_at", "posts_read_count", "days_visited"],
    )
    account = Account("members", "user", frame.height, listed.height, quarantine.height)
    return members, quarantine, account


# ---------------------------------------------------------------- user archives
def _decode(data: bytes, path: Path, name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(path, f"{name}: not UTF-8 text (byte {error.start})") from error


def _zip_csv(path: Path) -> tuple[str, bytes]:
    """The one CSV inside a user-list zip."""
    with zipfile.ZipFile(path) as archive:
        infos = [info for info in archive.infolist() if info.filename.lower().endswith(".csv")]
        info = infos[0]
        if info.file_size > MAX_ZIP_MEMBER_BYTES:
            raise InputError(path, f"{info.filename} expands to more than {MAX_ZIP_MEMBER_BYTES // 2**20} MB")
        return info.filename, read_zip_member(archive, info, path, MAX_ZIP_MEMBER_BYTES)


def _archive_files(path: Path, wanted: set[str]) -> dict[str, bytes]:
    """The wanted files (by base name) of a user archive: a zip or its unzipped folder."""
    if path.is_dir():
        return {name: (path / name).read_bytes() for name in wanted if (path / name).is_file()}
    files: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                name = PurePosixPath(info.filename).name
                if info.is_dir() or name not in wanted:
                    continue
                if name in files:
                    raise InputError(path, f"more than one {name} in the archive")
                if info.file_size > MAX_ZIP_MEMBER_BYTES:
                    raise InputError(path, f"{info.filename} expands to more than {MAX_ZIP_MEMBER_BYTES // 2**20} MB")
                files[name] = read_zip_member(archive, info, path, MAX_ZIP_MEMBER_BYTES)
    except (zipfile.BadZipFile, OSError) as error:
        raise InputError(path, f"not a readable zip: {error}") from error
    return files


def _archive_csv(data: bytes, path: Path, name: str) -> pl.DataFrame:
    text = _decode(data, path, name)
    if not text.strip():
        raise InputError(path, f"{name} is empty (not even a header row)")
    try:
        frame = pl.read_csv(io.StringIO(text), infer_schema=False, truncate_ragged_lines=False)
    except pl.exceptions.PolarsError as error:
        raise InputError(path, f"{name}: not a readable CSV: {str(error).splitlines()[0]}") from error
    return frame.rename({column: column.strip().lower() for column in frame.columns})


def _archive_label(path: Path, username: str) -> str:
    """The archive's path for source_file, with the owner's username (in Discourse's file name) as `*`."""
    named = ARCHIVE_NAME.match(path.name)
    if named:
        name = path.name[: named.start("username")] + "*" + path.name[named.end("username"):]
    else:
        name = re.sub(re.escape(username), "*", path.name, flags=re.IGNORECASE)
    return str(path.with_name(name))


def _read_archive(path: Path) -> dict:
    """A user archive: its posts (strings, as written) and a one-row user frame for its owner."""
    files = _archive_files(path, {"user_archive.csv", "preferences.json", "visits.csv"})
    if "user_archive.csv" not in files:
        raise InputError(path, "not a Discourse user archive: user_archive.csv is missing")
    rows = _archive_csv(files["user_archive.csv"], path, "user_archive.csv")
    missing = [name for name in ARCHIVE_REQUIRED if name not in rows.columns]
    if not any(name in rows.columns for name in ARCHIVE_BODY_COLUMNS):
        missing.append("post_raw or post_cooked")
    if missing:
        raise InputError(path, f"not a Discourse user archive: user_archive.csv lacks column(s) {', '.join(missing)}")

    profile = {}
    if "preferences.json" in files:
        try:
            preferences = json.loads(_decode(files["preferences.json"], path, "preferences.json"))
        except json.JSONDecodeError as error:
            raise InputError(path, f"preferences.json: not valid JSON: {error.msg}") from error
        profile = preferences.get("user") if isinstance(preferences, dict) and isinstance(preferences.get("user"), dict) else {}
    named = ARCHIVE_NAME.match(path.name)
    username = profile.get("username") if isinstance(profile.get("username"), str) else None
    username = username or (named.group("username") if named else None)
    if not username:
        raise InputError(
            path, "cannot tell whose archive this is: no preferences.json and the name is not "
            "user_archive-USERNAME-YYMMDD-HHMMSS-ID.zip as Discourse names it",
        )

    visits = None
    if "visits.csv" in files:
        visits = _archive_csv(files["visits.csv"], path, "visits.csv")
    owner = {name: _typed(profile.get(name), dtype) for name, dtype in USER_COLUMNS.items() if not name.startswith("_")}
    label = _archive_label(path, username)
    separator = "/" if path.is_dir() else "!"
    owner |= {"username": username, "staged": False, "_problem": None, "_row": 0,
              "_file": f"{label}{separator}preferences.json" if profile else label}
    if visits is not None and "visited_at" in visits.columns:
        summary = visits.select(
            days=pl.col("visited_at").str.strip_chars().replace("", None).drop_nulls().n_unique(),
            read=pl.col("posts_read").cast(pl.Int64, strict=False).sum() if "posts_read" in visits.columns else pl.lit(None),
            last=pl.col("visited_at").str.strip_chars().replace("", None).max(),
        ).row(0, named=True)
        owner["days_visited"] = summary["days"]
        owner["posts_read_count"] = summary["read"]
        owner["last_seen_at"] = owner.get("last_seen_at") or summary["last"]
    if "categories" not in rows.columns:
        # Older archives: `category` and `sub_category` instead of the piped `categories`.
        parts = [pl.col(name).str.strip_chars().replace("", None) for name in ("category", "sub_category") if name in rows.columns]
        if parts:
            rows = rows.with_columns(categories=pl.concat_str(parts, separator="|", ignore_nulls=True))
    for name in ARCHIVE_BODY_COLUMNS + ["topic_title", "categories", "is_pm", "like_count"]:
        if name not in rows.columns:
            rows = rows.with_columns(pl.lit(None, pl.String).alias(name))
    source = f"{label}{separator}user_archive.csv"
    posts = rows.select(
        "topic_title", "categories", "is_pm", "post_cooked", "like_count", "url", "created_at",
        post_raw=pl.coalesce("post_raw", "post"),
        _username=pl.lit(username),
        _owner_staff=pl.lit(bool(owner.get("admin")) or bool(owner.get("moderator"))),
        _file=pl.lit(source),
        _row=pl.int_range(pl.len(), dtype=pl.Int64),
    )
    return {"label": label, "posts": posts, "owner": pl.DataFrame([owner], schema=USER_COLUMNS)}


def _archive_posts(archives, json_numbers, categories, community, pseudonymizer, staff, emails):
    frame = pl.concat([archive["posts"] for archive in archives], how="vertical")
    has_html = pl.col("post_cooked").is_not_null()
    # Bodies: cooked HTML where the archive has it; older archives give raw Markdown only.
    body = frame.select(pl.when(has_html).then(pl.col("post_cooked")).otherwise(pl.col("post_raw"))).to_series()
    frame = frame.with_columns(
        _text=html_to_text_series(body), _html_links=html_links_series(frame.get_column("post_cooked"))
    ).with_columns(
        _links=pl.when(has_html).then(_web_links(pl.col("_html_links"), "post_cooked"))
        .otherwise(pl.col("post_raw").str.count_matches(URL_PATTERN)).fill_null(0),
        _files=pl.when(has_html).then(_attachments("post_cooked"))
        .otherwise(pl.col("post_raw").str.count_matches("upload://")).fill_null(0),
        _ids=pl.col("url").str.extract_groups(r"/t/(?:[^/?#]*/)?(\d+)/(\d+)(?:[/?#]|$)"),
        created=utc_datetime("created_at"),
        _likes=pl.col("like_count").str.strip_chars().cast(pl.Int64, strict=False).fill_null(0),
        author_key=_author_keys(frame.get_column("_username"), emails, pseudonymizer),
        listed_staff=_staff_flag(frame.get_column("_username"), emails, staff),
    ).with_columns(
        topic_id=pl.col("_ids").struct.field("1").cast(pl.Int64, strict=False),
        post_number=pl.col("_ids").struct.field("2").cast(pl.Int64, strict=False),
    ).drop("_ids")
    pm_word = pl.col("is_pm").str.strip_chars().str.to_lowercase()
    categories_text = pl.col("categories").str.strip_chars()
    is_pm = pm_word.is_in(list(PM_YES)) | (~pm_word.is_in(list(PM_NO)).fill_null(False) & (categories_text == "-"))
    in_json = json_numbers.select("topic_id", "post_number", _in_json=pl.lit(True))
    frame = frame.join(in_json, on=["topic_id", "post_number"], how="left").with_columns(
        duplicate=pl.col("topic_id").is_not_null()
        & (pl.int_range(pl.len()).over(["topic_id", "post_number"]) > 0),
    )
    frame = frame.with_columns(
        reason=pl.when(pl.col("topic_id").is_null() | pl.col("post_number").is_null())
        .then(pl.lit("missing or unreadable url (no topic id and post number)"))
        .when(pl.col("created").is_null()).then(pl.lit("missing or unreadable created_at"))
        .when(pl.col("_in_json").fill_null(False)).then(pl.lit("duplicate post (already read from a topic export)"))
        .when(pl.col("duplicate")).then(pl.lit("duplicate post (already read)"))
        .when(is_pm.fill_null(False)).then(pl.lit("excluded: private message"))
        .when(pl.col("_text") == "").then(pl.lit("excluded: empty post (a moderator action or removed content)"))
        .otherwise(None)
    )
    accepted, rejected = split_by_reason(frame)
    # A reply's parent is its topic's first post, from a topic export or from any archive.
    first_posts = pl.concat([
        json_numbers.filter(pl.col("accepted") & (pl.col("post_number") == 1)).select("topic_id", first_id="post_id"),
        accepted.filter(pl.col("post_number") == 1).select(
            "topic_id", first_id=pl.format("{}/1", pl.col("topic_id"))
        ),
    ]).unique("topic_id", keep="first", maintain_order=True)
    accepted = accepted.join(first_posts, on="topic_id", how="left").with_columns(
        is_thread_start=pl.col("post_number") == 1
    ).with_columns(
        reason=pl.when(~pl.col("is_thread_start") & pl.col("first_id").is_null())
        .then(pl.lit("reply to a post not in the export (a user archive holds only its owner's posts)"))
        .otherwise(None)
    )
    accepted, unplaced = split_by_reason(accepted)
    leaf = categories_text.str.split("|").list.last().str.strip_chars()
    names = {str(key): value for key, value in categories.items() if key is not None}
    posts = accepted.select(
        community=pl.lit(community),
        platform=pl.lit(PLATFORM),
        post_id=pl.format("{}/{}", pl.col("topic_id"), pl.col("post_number")),
        thread_id=pl.col("topic_id").cast(pl.String),
        parent_post_id=pl.when(pl.col("is_thread_start")).then(None).otherwise(pl.col("first_id")),
        author_key=pl.col("author_key"),
        created_at=pl.col("created"),
        channel=pl.when(leaf.is_in(["-", ""])).then(None).otherwise(leaf.replace(names)),
        title=pl.when(pl.col("is_thread_start")).then(pl.col("topic_title")).otherwise(None),
        body_text=pl.col("_text"),
        is_thread_start=pl.col("is_thread_start"),
        n_reactions=pl.col("_likes"),
        n_links=pl.col("_links"),
        n_attachments=pl.col("_files"),
        is_staff=pl.col("_owner_staff") | pl.col("listed_staff"),
        source_file=pl.col("_file"),
        source_row=pl.col("_row"),
    )
    posts = schema.conform(posts, schema.POSTS)
    rows = pl.concat([rejected, unplaced.select(rejected.columns)])
    quarantine = quarantine_frame(
        community, "posts", rows.rename({"_file": "source_file", "_row": "source_row"}),
        ["topic_id", "post_number", "created_at", "_text"],
    )
    account = Account("posts", "archived post", frame.height, posts.height, quarantine.height)
    return posts, quarantine, account, unplaced.height
