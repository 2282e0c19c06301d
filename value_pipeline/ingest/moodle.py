"""Moodle forum export (CSV or JSON) -> canonical posts and members.

Moodle's forum "Export" (mod/forum/export.php) writes one file per forum with the
columns id, discussion, parent, userid, userfullname, created, modified, mailed,
subject, message, messageformat, messagetrust, attachment, totalscore, mailnow,
deleted, privatereplyto, privatereplytofullname, wordcount, charcount. `parent = 0`
starts a discussion; dates are epoch seconds, or text when "human-readable dates" was
ticked (then in the exporting user's timezone: the community's, from community.yaml).
The file does not name its forum, so the channel is the file's name.

Members come from a participants/users CSV in members/ with at least `id` and `email`
(or `username`), optionally `role` and `lastaccess`; without it authors are keyed by
their Moodle user id and cannot be linked to survey answers.
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl

from value_pipeline import schema
from value_pipeline.errors import InputError
from value_pipeline.identity import Pseudonymizer
from value_pipeline.ingest.common import (
    Account,
    ForumRead,
    ReadContext,
    link_threads,
    local_datetime,
    merge_members,
    quarantine_frame,
    read_json,
    read_text,
    require_columns,
    split_by_reason,
)
from value_pipeline.ingest.detect import Sniff
from value_pipeline.text import html_links_series, html_to_text_series

PLATFORM = "moodle"
KIND = "forum"
REQUIRED = ["id", "discussion", "parent", "userid", "created", "subject", "message"]
# Moodle's userdate formats (strftimedatetime and friends) plus ISO.
DATE_FORMATS = [
    "%A, %d %B %Y, %I:%M %p",
    "%A, %d %B %Y, %H:%M",
    "%d %B %Y, %I:%M %p",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%d/%m/%Y %H:%M",
]


FINGERPRINT = {"discussion", "parent", "userid", "message"}


def looks_like(sniff: Sniff) -> bool:
    """A CSV, or a JSON array, with Moodle's forum export columns."""
    if FINGERPRINT <= set(sniff.header):
        return True
    if sniff.looks_like_json:
        records = _json_records(sniff.json)
        return bool(records) and isinstance(records[0], dict) and FINGERPRINT <= records[0].keys()
    return False


def _json_records(data) -> list:
    """Moodle's JSON dataformat writes the rows as an array, some versions wrapped in a
    sheet array (`[[{...}, ...]]`)."""
    if isinstance(data, list) and data and isinstance(data[0], list):
        data = data[0]
    return data if isinstance(data, list) else []


def _csv(path: Path) -> pl.DataFrame:
    """A Moodle export as a frame of strings, from CSV or JSON."""
    if Sniff(path).looks_like_json:
        records = _json_records(read_json(path))
        if not records or not all(isinstance(r, dict) for r in records):
            raise InputError(path, "not a Moodle JSON export: expected an array of post objects")
        columns = list(dict.fromkeys(key for record in records for key in record))
        return pl.DataFrame(
            [{k: (None if record.get(k) is None else str(record.get(k))) for k in columns} for record in records],
            schema={k: pl.String for k in columns},
        )
    text = read_text(path)
    try:
        return pl.read_csv(io.StringIO(text), infer_schema=False, truncate_ragged_lines=False)
    except pl.exceptions.PolarsError as error:
        raise InputError(path, f"not a readable CSV: {str(error).splitlines()[0]}") from error


def read(paths: list[Path], context: ReadContext) -> ForumRead:
    """Read Moodle forum export CSVs (one per forum) and an optional users CSV."""
    forum_files, member_files = paths, context.member_files
    community, pseudonymizer = context.community, context.pseudonymizer
    staff, timezone = context.staff, context.timezone
    users = _users(member_files)
    frames = []
    for path in forum_files:
        frame = _csv(path)
        require_columns(path, frame.columns, REQUIRED, "Moodle forum export")
        frames.append(
            frame.with_columns(
                _file=pl.lit(str(path)), _row=pl.int_range(pl.len(), dtype=pl.Int64), _channel=pl.lit(path.stem)
            ).select([*REQUIRED, "_file", "_row", "_channel", *[c for c in ("deleted", "attachment") if c in frame.columns]])
        )
    raw = pl.concat(frames, how="diagonal") if frames else pl.DataFrame(schema={c: pl.String for c in REQUIRED})
    for column in ("deleted", "attachment"):
        if column not in raw.columns:
            raw = raw.with_columns(pl.lit(None, pl.String).alias(column))

    keys = _user_keys(raw.get_column("userid"), users, pseudonymizer, staff)
    bodies = html_to_text_series(raw.get_column("message"))
    links = html_links_series(raw.get_column("message"))
    frame = raw.with_columns(
        body=bodies.fill_null(""),
        links=links.fill_null(0),
        created_at_utc=local_datetime("created", DATE_FORMATS, timezone),
    ).join(keys, on="userid", how="left")
    frame = frame.with_columns(
        duplicate=pl.col("id").is_duplicated() & (pl.int_range(pl.len()).over("id") > 0)
    ).with_columns(
        reason=pl.when(pl.col("id").is_null() | ~pl.col("id").str.contains(r"^\d+$")).then(pl.lit("missing or non-numeric post id"))
        .when(pl.col("duplicate")).then(pl.lit("duplicate post id (already read)"))
        .when(pl.col("discussion").is_null()).then(pl.lit("missing discussion id"))
        .when(pl.col("userid").is_null()).then(pl.lit("missing author"))
        .when(pl.col("created_at_utc").is_null()).then(pl.lit("missing or unreadable created date"))
        .when(pl.col("deleted").is_in(["1"])).then(pl.lit("excluded: deleted post"))
        .otherwise(None)
    )
    accepted, rejected = split_by_reason(frame)
    is_start = pl.col("parent").fill_null("0") == "0"
    # One start per discussion: a second parent=0 post in the same discussion is set aside.
    accepted = accepted.with_columns(
        reason=pl.when(is_start & (pl.int_range(pl.len()).over("discussion", is_start) > 0))
        .then(pl.lit("a second start for the same discussion"))
        .otherwise(None)
    )
    accepted, second_starts = split_by_reason(accepted)
    # Replies whose parent is missing or quarantined, and their own replies, are set aside.
    linked, orphans = link_threads(
        accepted.with_columns(post_id=pl.col("id"), parent_id=pl.when(is_start).then(None).otherwise(pl.col("parent"))),
        frame.get_column("id").drop_nulls(),
    )
    # A reply whose chain leads to another discussion's start contradicts its discussion id.
    starts = linked.filter(is_start).select(thread_id="id", root_discussion="discussion")
    linked = linked.join(starts, on="thread_id", how="left").with_columns(
        reason=pl.when(pl.col("root_discussion") != pl.col("discussion"))
        .then(pl.lit("reply whose parent is in another discussion"))
        .otherwise(None)
    )
    linked, crossed = split_by_reason(linked)
    accepted = linked.drop("post_id", "parent_id", "thread_id", "root_discussion", "reason")
    orphans = pl.concat(
        [orphans.drop("post_id", "parent_id", "thread_id"), crossed.drop("post_id", "parent_id", "thread_id", "root_discussion"),
         second_starts],
        how="diagonal_relaxed",
    )
    titles = accepted.filter(is_start).select(pl.col("discussion"), thread_title=pl.col("subject"))
    accepted = accepted.join(titles, on="discussion", how="left")
    posts = accepted.select(
        community=pl.lit(community),
        platform=pl.lit(PLATFORM),
        post_id=pl.col("id"),
        thread_id=pl.col("discussion"),
        parent_post_id=pl.when(is_start).then(None).otherwise(pl.col("parent")),
        author_key=pl.col("author_key"),
        created_at=pl.col("created_at_utc"),
        channel=pl.col("_channel"),
        title=pl.when(is_start).then(pl.col("subject")).otherwise(None),
        body_text=pl.col("body"),
        is_thread_start=is_start,
        n_reactions=pl.lit(0),
        n_links=pl.col("links"),
        n_attachments=(pl.col("attachment").fill_null("0").str.strip_chars().is_in(["", "0"]).not_()).cast(pl.Int64),
        is_staff=pl.col("is_staff").fill_null(False),
        source_file=pl.col("_file"),
        source_row=pl.col("_row"),
    )
    posts = schema.conform(posts, schema.POSTS)
    quarantine = quarantine_frame(
        community, "posts",
        pl.concat([rejected, orphans], how="diagonal").rename({"_file": "source_file", "_row": "source_row"}),
        ["id", "discussion", "parent", "created", "subject"],
    )
    post_account = Account("posts", "post", raw.height, posts.height, quarantine.height)

    listed = schema.empty(schema.MEMBERS)
    if users.height:
        listed = schema.conform(
            # the platform's own role names (teacher, student) stay here; keys carry ours
            users.drop("role").join(keys, left_on="id", right_on="userid", how="left").with_columns(community=pl.lit(community)),
            schema.MEMBERS,
        )
    members = merge_members(listed, posts, community)
    member_account = Account("members", "user", users.height, users.height, 0)
    return ForumRead(
        platform=PLATFORM,
        posts=posts,
        members=members,
        quarantine=quarantine,
        accounts=[post_account, member_account],
        files=[str(path) for path in [*forum_files, *member_files]],
    )


def _users(member_files: list[Path]) -> pl.DataFrame:
    frames = []
    for path in member_files:
        frame = _csv(path)
        require_columns(path, frame.columns, ["id"], "Moodle users export")
        if "email" not in frame.columns and "username" not in frame.columns:
            raise InputError(path, "not a Moodle users export: needs an email or username column")
        frames.append(frame)
    if not frames:
        return pl.DataFrame(schema={"id": pl.String, "email": pl.String, "username": pl.String})
    users = pl.concat(frames, how="diagonal")
    for column in ("email", "username", "role", "lastaccess", "firstaccess"):
        if column not in users.columns:
            users = users.with_columns(pl.lit(None, pl.String).alias(column))
    return users.unique("id", keep="first", maintain_order=True).with_columns(
        joined_at=local_datetime("firstaccess", DATE_FORMATS, "UTC"),
        last_seen_at=local_datetime("lastaccess", DATE_FORMATS, "UTC"),
    )


def _user_keys(userids: pl.Series, users: pl.DataFrame, pseudonymizer: Pseudonymizer, staff: set[str]) -> pl.DataFrame:
    """Moodle user id -> author_key (by email when the users file has it), role, staff flag."""
    staff_lower = {name.lower() for name in staff}
    by_id = {row["id"]: row for row in users.iter_rows(named=True)}
    rows = []
    for userid in pl.concat([userids, users.get_column("id")]).drop_nulls().unique().to_list():
        user = by_id.get(userid, {})
        email, username = user.get("email"), user.get("username")
        names = {str(v).lower() for v in (email, username) if v}
        role = (user.get("role") or "").strip().lower()
        listed = bool(names & staff_lower) or role in {"teacher", "editingteacher", "manager", "facilitator"}
        rows.append(
            {
                "userid": userid,
                "author_key": pseudonymizer.key("email", email) if email else pseudonymizer.key("userid", userid, PLATFORM),
                "is_staff": listed,
                "role": "facilitator" if listed else "member",
            }
        )
    return pl.DataFrame(
        rows, schema={"userid": pl.String, "author_key": pl.String, "is_staff": pl.Boolean, "role": pl.String}
    )
