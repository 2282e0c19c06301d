"""Slack workspace export (zip or folder) -> canonical posts and members.

Layout: `channels.json`, `users.json`, and a folder per channel holding one JSON file
per day (`YYYY-MM-DD.json`, a list of messages). A message is identified by its
channel and `ts`; thread replies carry the parent's `thread_ts` and are filed under the
day they were written, not the parent's day. System messages (joins, leaves, topic
changes, bot and integration messages) are not member posts: they are quarantined as
excluded, so the row count still balances. Edited messages hold their final text in
the export (the `edited` marker is not needed downstream).
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

import polars as pl

from value_pipeline import schema
from value_pipeline.errors import InputError
from value_pipeline.identity import Pseudonymizer
from value_pipeline.ingest.common import (
    Account,
    ForumRead,
    ReadContext,
    merge_members,
    parse_json,
    quarantine_frame,
    read_json,
    read_zip_member,
    split_by_reason,
)
from value_pipeline.ingest.detect import Sniff
from value_pipeline.text import URL_PATTERN, slack_to_text_series

PLATFORM = "slack"
KIND = "forum"
ONE_EXPORT_PER_PATH = True
# Subtypes that are a member's own words; everything else is a system or bot event.
MEMBER_SUBTYPES = {None, "thread_broadcast", "file_share", "me_message"}
MAX_ZIP_MEMBER_BYTES = 256 * 2**20
MAX_ZIP_TOTAL_BYTES = 4 * 2**30


def looks_like(sniff: Sniff) -> bool:
    """A folder or zip holding channels.json and per-day channel files."""
    if sniff.is_dir:
        return (sniff.path / "channels.json").is_file()
    return any(PurePosixPath(name).name == "channels.json" for name in sniff.zip_names)


def _export_files(path: Path) -> dict[str, bytes | Path]:
    """Relative path (posix) -> content or file path, from a folder or a zip."""
    if path.is_dir():
        return {file.relative_to(path).as_posix(): file for file in sorted(path.rglob("*.json"))}
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise InputError(path, f"not a readable zip: {error}") from error
    files: dict[str, bytes | Path] = {}
    total = 0
    with archive:
        for info in archive.infolist():
            name = PurePosixPath(info.filename)
            if info.is_dir() or name.suffix != ".json":
                continue
            if name.is_absolute() or ".." in name.parts:
                raise InputError(path, f"unsafe path in zip: {info.filename}")
            total += info.file_size
            if info.file_size > MAX_ZIP_MEMBER_BYTES or total > MAX_ZIP_TOTAL_BYTES:
                raise InputError(path, "zip expands to more than the size limit (a zip bomb?)")
            # Strip a single top-level folder some exports wrap everything in.
            files[name.as_posix()] = read_zip_member(archive, info, path, MAX_ZIP_MEMBER_BYTES)
    roots = {PurePosixPath(name).parts[0] for name in files if len(PurePosixPath(name).parts) > 1}
    if "channels.json" not in files and len(roots) == 1:
        root = roots.pop()
        files = {str(PurePosixPath(name).relative_to(root)): data for name, data in files.items()}
    return files


def _load(name: str, content: bytes | Path, export: Path):
    if isinstance(content, Path):
        return read_json(content)
    return parse_json(f"{export}!{name}", content)


def read(paths: list[Path], context: ReadContext) -> ForumRead:
    """Read Slack exports (each a folder or a zip) into canonical posts and members."""
    reads = [_read_export(Path(path), context) for path in paths]
    if len(reads) == 1:
        return reads[0]
    return ForumRead(
        platform=PLATFORM,
        posts=pl.concat([r.posts for r in reads]),
        members=pl.concat([r.members for r in reads]).unique("author_key", keep="first", maintain_order=True),
        quarantine=pl.concat([r.quarantine for r in reads]),
        accounts=[a for r in reads for a in r.accounts],
        files=[f for r in reads for f in r.files],
    )


def _read_export(export: Path, context: ReadContext) -> ForumRead:
    community, pseudonymizer, staff = context.community, context.pseudonymizer, context.staff
    files = _export_files(export)
    if "channels.json" not in files:
        raise InputError(export, "not a Slack export: channels.json is missing")
    channels = _load("channels.json", files["channels.json"], export)
    users = _load("users.json", files["users.json"], export) if "users.json" in files else []
    if not isinstance(channels, list) or not isinstance(users, list):
        raise InputError(export, "not a Slack export: channels.json and users.json must be lists")
    channel_ids = {c.get("name"): c.get("id") or c.get("name") for c in channels if isinstance(c, dict)}

    columns: dict[str, list] = {name: [] for name in MESSAGE_COLUMNS}
    for name, content in files.items():
        parts = PurePosixPath(name).parts
        if len(parts) != 2 or parts[0] not in channel_ids:
            continue
        day = _load(name, content, export)
        if not isinstance(day, list):
            raise InputError(f"{export}!{name}", "a channel day file must be a list of messages")
        source = f"{export}!{name}" if not export.is_dir() else str(export / name)
        for column, values in _day_columns(day, parts[0], channel_ids[parts[0]], source).items():
            columns[column].extend(values)
    messages = pl.DataFrame(columns, schema=MESSAGE_COLUMNS)

    identities = _identities(users, pseudonymizer, staff)
    posts, post_quarantine, post_account = _posts(messages, identities, community)
    members, member_quarantine, member_account = _members(users, identities, posts, messages, community, export)
    return ForumRead(
        platform=PLATFORM,
        posts=posts,
        members=members,
        quarantine=pl.concat([post_quarantine, member_quarantine]),
        accounts=[post_account, member_account],
        files=[str(export)],
    )


MESSAGE_COLUMNS = {
    "ts": pl.String, "thread_ts": pl.String, "user": pl.String, "subtype": pl.String, "bot": pl.Boolean,
    "text": pl.String, "n_unfurls": pl.Int64, "n_files": pl.Int64, "n_reactions": pl.Int64,
    "_channel": pl.String, "_channel_id": pl.String, "_file": pl.String, "_row": pl.Int64, "_malformed": pl.Boolean,
}


def _day_columns(day: list, channel: str, channel_id: str, source: str) -> dict[str, list]:
    """One day file's messages as columns (one list per MESSAGE_COLUMNS entry, a pass over
    the day per field: no dict per message). An entry that is not a message object keeps
    only its channel, file and row; its other fields are null."""
    malformed = [not isinstance(message, dict) for message in day]
    messages = [{} if bad else message for message, bad in zip(day, malformed, strict=True)]
    users = [message.get("user") for message in messages]
    texts = [message.get("text") for message in messages]
    columns = {
        # ts fields are strings in current exports: skip the call for them
        "ts": [ts if type(ts) is str else _ts(ts) for ts in (message.get("ts") for message in messages)],
        "thread_ts": [ts if type(ts) is str else _ts(ts) for ts in (message.get("thread_ts") for message in messages)],
        "user": [user if isinstance(user, str) else None for user in users],
        "subtype": [message.get("subtype") for message in messages],
        "bot": [bool(message.get("bot_id")) and not user for message, user in zip(messages, users, strict=True)],
        "text": [text if isinstance(text, str) else "" for text in texts],
        "n_unfurls": [_unfurls(message.get("attachments")) for message in messages],
        "n_files": [_n_files(message) if "files" in message or "file" in message else 0 for message in messages],
        "n_reactions": [_reactions(message.get("reactions")) for message in messages],
        "_channel_id": [channel_id] * len(day),
    }
    if any(malformed):
        for values in columns.values():
            for row, bad in enumerate(malformed):
                if bad:
                    values[row] = None
    columns |= {"_channel": [channel] * len(day), "_file": [source] * len(day), "_row": list(range(len(day))), "_malformed": malformed}
    return columns


def _unfurls(attachments) -> int:
    """Link previews Slack unfurled from URLs in the message."""
    return sum(1 for a in attachments if isinstance(a, dict) and a.get("from_url")) if attachments else 0


def _n_files(message: dict) -> int:
    return len(message.get("files") or ([message["file"]] if isinstance(message.get("file"), dict) else []))


def _reactions(reactions) -> int:
    return sum(r.get("count", 0) for r in reactions if isinstance(r, dict)) if reactions else 0


def _ts(value) -> str | None:
    """Slack's "1767650000.000100" form; old exports type ts fields as numbers."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:.6f}"
    return str(value)


def _identities(users: list, pseudonymizer: Pseudonymizer, staff: set[str]) -> pl.DataFrame:
    """Slack user id -> author_key (by email where the export has it), staff flag, role."""
    staff_lower = {name.lower() for name in staff}
    rows = []
    for row, user in enumerate(users):
        if not isinstance(user, dict) or not user.get("id"):
            rows.append({"user": None, "author_key": None, "is_staff": False, "role": "invalid", "deleted": False, "_row": row})
            continue
        profile = user.get("profile") or {}
        email = profile.get("email")
        names = {str(v).lower() for v in (user.get("name"), email, profile.get("display_name")) if v}
        is_bot = bool(user.get("is_bot")) or user.get("id") == "USLACKBOT"
        listed = bool(names & staff_lower)
        rows.append(
            {
                "user": user["id"],
                "author_key": pseudonymizer.key("email", email) if email else pseudonymizer.key("user", user["id"], PLATFORM),
                "is_staff": listed,
                "role": "bot" if is_bot else ("staff" if listed else "member"),
                "deleted": bool(user.get("deleted")),
                "_row": row,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "user": pl.String, "author_key": pl.String, "is_staff": pl.Boolean,
            "role": pl.String, "deleted": pl.Boolean, "_row": pl.Int64,
        },
    )


def _posts(messages: pl.DataFrame, identities: pl.DataFrame, community: str):
    frame = messages.join(
        identities.filter(pl.col("user").is_not_null()).drop("_row"), on="user", how="left"
    )
    frame = frame.with_columns(
        n_links=pl.col("text").str.count_matches(URL_PATTERN).fill_null(0).cast(pl.Int64) + pl.col("n_unfurls").fill_null(0),
        text=slack_to_text_series(frame.get_column("text")),
        post_id=pl.col("_channel_id") + ":" + pl.col("ts"),
        created=pl.from_epoch(
            (pl.col("ts").cast(pl.Float64, strict=False) * 1_000_000).cast(pl.Int64, strict=False), time_unit="us"
        ).dt.replace_time_zone("UTC"),
        author_key=pl.coalesce("author_key", pl.lit(None, pl.String)),
    ).with_columns(
        duplicate=pl.col("post_id").is_duplicated() & (pl.int_range(pl.len()).over("post_id") > 0)
    )
    member_subtypes = [s for s in MEMBER_SUBTYPES if s is not None]
    frame = frame.with_columns(
        reason=pl.when(pl.col("_malformed")).then(pl.lit("not a message object"))
        .when(pl.col("ts").is_null() | pl.col("created").is_null()).then(pl.lit("missing or unreadable ts"))
        .when(pl.col("duplicate")).then(pl.lit("duplicate message ts (already read)"))
        .when(pl.col("subtype").is_not_null() & ~pl.col("subtype").is_in(member_subtypes))
        .then(pl.lit("excluded: system message (") + pl.col("subtype") + pl.lit(")"))
        .when(pl.col("bot") | (pl.col("role") == "bot")).then(pl.lit("excluded: bot message"))
        .when(pl.col("user").is_null()).then(pl.lit("missing author"))
        .when(pl.col("author_key").is_null()).then(pl.lit("author not in users.json"))
        .otherwise(None)
    )
    accepted, rejected = split_by_reason(frame)
    accepted = accepted.with_columns(
        thread_root=pl.coalesce("thread_ts", "ts"),
        is_thread_start=pl.col("thread_ts").is_null() | (pl.col("thread_ts") == pl.col("ts")),
    )
    posts = accepted.select(
        community=pl.lit(community),
        platform=pl.lit(PLATFORM),
        post_id=pl.col("post_id"),
        thread_id=pl.col("_channel_id") + ":" + pl.col("thread_root"),
        parent_post_id=pl.when(pl.col("is_thread_start")).then(None)
        .otherwise(pl.col("_channel_id") + ":" + pl.col("thread_root")),
        author_key=pl.col("author_key"),
        created_at=pl.col("created"),
        channel=pl.col("_channel"),
        title=pl.lit(None, pl.String),
        body_text=pl.col("text"),
        is_thread_start=pl.col("is_thread_start"),
        n_reactions=pl.col("n_reactions"),
        n_links=pl.col("n_links"),
        n_attachments=pl.col("n_files"),
        is_staff=pl.col("is_staff").fill_null(False),
        source_file=pl.col("_file"),
        source_row=pl.col("_row"),
    )
    posts = schema.conform(posts, schema.POSTS)
    # A reply whose thread parent is not in the export cannot be placed in a thread.
    known = posts.get_column("post_id").implode()
    orphan = (~pl.col("is_thread_start")) & ~pl.col("parent_post_id").is_in(known)
    orphans = posts.filter(orphan)
    posts = posts.filter(~orphan)
    quarantine_rows = pl.concat(
        [
            rejected.select(source_file="_file", source_row="_row", reason="reason", ts="ts", subtype="subtype", text="text"),
            orphans.select(
                "source_file", "source_row", reason=pl.lit("reply to a thread not in the export"),
                ts=pl.col("post_id"), subtype=pl.lit(None, pl.String), text="body_text",
            ),
        ]
    )
    quarantine = quarantine_frame(community, "posts", quarantine_rows, ["ts", "subtype", "text"])
    account = Account("posts", "message", frame.height, posts.height, quarantine.height)
    return posts, quarantine, account


def _members(users, identities, posts, messages, community, export):
    """users.json entries (bots excluded), joined at their first channel_join or post."""
    joins = messages.filter(~pl.col("_malformed") & (pl.col("subtype") == "channel_join")).select("user", "ts")
    first_join = joins.group_by("user").agg(
        joined=pl.from_epoch((pl.col("ts").cast(pl.Float64, strict=False) * 1_000_000).cast(pl.Int64), time_unit="us")
        .min()
        .dt.replace_time_zone("UTC")
    )
    frame = identities.join(first_join, on="user", how="left").with_columns(
        reason=pl.when(pl.col("role") == "invalid").then(pl.lit("not a user object with an id"))
        .when(pl.col("role") == "bot").then(pl.lit("excluded: bot user"))
        .otherwise(None)
    )
    accepted, rejected = split_by_reason(frame)
    listed = accepted.select(
        community=pl.lit(community),
        author_key="author_key",
        joined_at="joined",
        role="role",
        is_staff="is_staff",
    )
    first_post = posts.group_by("author_key").agg(first=pl.col("created_at").min())
    listed = (
        schema.conform(listed, schema.MEMBERS)
        .join(first_post, on="author_key", how="left")
        .with_columns(joined_at=pl.coalesce("joined_at", "first"))
    )
    members = merge_members(listed, posts, community)
    quarantine = quarantine_frame(
        community, "members",
        rejected.with_columns(source_file=pl.lit(f"{export}/users.json"), source_row=pl.col("_row")),
        ["role"],
    )
    account = Account("members", "user", len(users), accepted.height, quarantine.height)
    return members, quarantine, account
