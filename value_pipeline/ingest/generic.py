"""Generic forum export: any CSV or Parquet of posts, with a column mapping.

For platforms without a reader of their own (a district's home-grown forum, a database
dump), an evaluator maps the file's columns to the canonical ones in community.yaml:

```yaml
platform: generic
forum_options:
  columns:                 # canonical name: the file's column
    post_id: id
    author: email          # the author's identifier (never stored: it is hashed)
    created_at: posted
    body_text: message
    thread_id: topic_id    # optional: else each post's thread is its root's id
    parent_post_id: reply_to   # optional: empty, 0 or the post itself = a thread start
    title: subject         # optional
    channel: board         # optional
    is_staff: moderator    # optional: true/1/yes marks staff
    n_reactions: likes     # optional
  author_kind: email       # email (default when the column holds emails) | username
  time_format: "%d/%m/%Y %H:%M"   # optional: default ISO 8601 or epoch seconds
  html: true               # optional: bodies are HTML
```

Without a mapping, a file whose columns already carry the canonical names
(post_id, author or author_key, created_at, body_text, ...) is read as is; a file with
`author_key` (already pseudonymous, e.g. written by `value-pipeline ingest`) keeps it.
Times without a zone are in the community's timezone.
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl

from value_pipeline import schema
from value_pipeline.errors import InputError
from value_pipeline.ingest.common import (
    Account,
    ForumRead,
    ReadContext,
    link_threads,
    local_datetime,
    merge_members,
    quarantine_frame,
    read_text,
    split_by_reason,
)
from value_pipeline.ingest.detect import Sniff
from value_pipeline.text import URL_PATTERN, html_links_series, html_to_text_series

PLATFORM = "generic"
KIND = "forum"
REQUIRED = ("post_id", "created_at", "body_text")
OPTIONAL = ("thread_id", "parent_post_id", "title", "channel", "is_staff", "n_reactions", "n_attachments")
ISO_FORMATS = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]


def looks_like(sniff: Sniff) -> bool:
    """A CSV or Parquet file that already uses the canonical column names."""
    columns = set(sniff.columns)
    return set(REQUIRED) <= columns and bool({"author", "author_key"} & columns)


def _load(path: Path) -> pl.DataFrame:
    sniff = Sniff(path)
    try:
        if sniff.is_parquet:
            return pl.read_parquet(path)
        return pl.read_csv(io.StringIO(read_text(path)), infer_schema=False, separator=_separator(sniff))
    except pl.exceptions.PolarsError as error:
        raise InputError(path, f"not a readable table: {str(error).splitlines()[0]}") from error


def _separator(sniff: Sniff) -> str:
    first = sniff.head_text.split("\n", 1)[0]
    return max((",", ";", "\t"), key=first.count)


def _mapping(frame: pl.DataFrame, path: Path, options: dict) -> dict[str, str]:
    """canonical name -> the file's column, checked against the file."""
    mapping = dict(options.get("columns") or {})
    if not mapping:
        mapping = {name: name for name in (*REQUIRED, *OPTIONAL, "author", "author_key") if name in frame.columns}
    missing_source = [f"{canonical} -> {column}" for canonical, column in mapping.items() if column not in frame.columns]
    if missing_source:
        raise InputError(path, f"column mapping names columns the file lacks: {', '.join(missing_source)}")
    needed = [name for name in REQUIRED if name not in mapping]
    if not ({"author", "author_key"} & mapping.keys()):
        needed.append("author")
    if needed:
        raise InputError(path, f"generic export needs column(s) {', '.join(needed)} (map them under forum_options.columns)")
    return mapping


def read(paths: list[Path], context: ReadContext) -> ForumRead:
    """Read generic CSV/Parquet post tables, one or several, with the configured mapping."""
    options = context.options or {}
    frames = []
    for path in paths:
        raw = _load(path)
        mapping = _mapping(raw, path, options)
        frames.append(
            raw.select([pl.col(column).cast(pl.String).alias(canonical) for canonical, column in mapping.items()])
            .with_columns(_file=pl.lit(str(path)), _row=pl.int_range(pl.len(), dtype=pl.Int64))
        )
    frame = pl.concat(frames, how="diagonal_relaxed")
    for name in (*REQUIRED, *OPTIONAL, "author", "author_key"):
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(name))

    html = bool(options.get("html"))
    bodies = frame.get_column("body_text")
    if html:
        text = html_to_text_series(bodies)
        links = html_links_series(bodies)
    else:
        text = bodies.str.strip_chars()
        links = bodies.str.count_matches(URL_PATTERN).cast(pl.Int64)
    kind = options.get("author_kind") or ("email" if frame.get_column("author").str.contains("@").any() else "username")
    author_key = pl.coalesce(
        pl.col("author_key"),
        context.pseudonymizer.key_series(kind, frame.get_column("author"), PLATFORM).alias("_hashed"),
    )
    formats = [options["time_format"]] if options.get("time_format") else ISO_FORMATS
    staff_keys = [context.pseudonymizer.key(kind, name, PLATFORM) for name in context.staff]
    frame = frame.with_columns(
        body=text.fill_null(""),
        links=links.fill_null(0),
        author_key=author_key,
        created=local_datetime("created_at", formats, context.timezone),
        parent=pl.when(pl.col("parent_post_id").str.strip_chars().is_in(["", "0"]) | (pl.col("parent_post_id") == pl.col("post_id")))
        .then(None)
        .otherwise(pl.col("parent_post_id").str.strip_chars()),
    ).with_columns(
        duplicate=pl.col("post_id").is_duplicated() & (pl.int_range(pl.len()).over("post_id") > 0),
        staff=pl.col("is_staff").str.to_lowercase().is_in(["true", "1", "yes", "y", "t"]).fill_null(False)
        | pl.col("author_key").is_in(staff_keys),
    )
    frame = frame.with_columns(
        reason=pl.when(pl.col("post_id").is_null() | (pl.col("post_id").str.strip_chars() == "")).then(pl.lit("missing post id"))
        .when(pl.col("duplicate")).then(pl.lit("duplicate post id (already read)"))
        .when(pl.col("author_key").is_null()).then(pl.lit("missing author"))
        .when(pl.col("created").is_null()).then(pl.lit("missing or unreadable created_at"))
        .otherwise(None)
    )
    accepted, rejected = split_by_reason(frame)
    # Threads: the file's thread id where it gives one, else the root of the reply chain;
    # replies that cannot be placed (parent missing or quarantined, loops) are orphans.
    linked, orphans = link_threads(
        accepted.rename({"thread_id": "file_thread_id", "parent": "parent_id"}), frame.get_column("post_id").drop_nulls()
    )
    accepted = linked.rename({"parent_id": "parent"}).with_columns(thread=pl.coalesce("file_thread_id", "thread_id"))
    posts = schema.conform(
        accepted.select(
            community=pl.lit(context.community),
            platform=pl.lit(PLATFORM),
            post_id="post_id",
            thread_id="thread",
            parent_post_id="parent",
            author_key="author_key",
            created_at="created",
            channel="channel",
            title=pl.when(pl.col("parent").is_null()).then(pl.col("title")).otherwise(None),
            body_text="body",
            is_thread_start=pl.col("parent").is_null(),
            n_reactions=pl.col("n_reactions").cast(pl.Int64, strict=False).fill_null(0),
            n_links="links",
            n_attachments=pl.col("n_attachments").cast(pl.Int64, strict=False).fill_null(0),
            is_staff="staff",
            source_file="_file",
            source_row="_row",
        ),
        schema.POSTS,
    )
    quarantine = quarantine_frame(
        context.community, "posts",
        pl.concat([rejected, orphans.rename({"parent_id": "parent"})], how="diagonal_relaxed").rename(
            {"_file": "source_file", "_row": "source_row"}
        ),
        ["post_id", "thread_id", "parent_post_id", "created_at"],
    )
    members = merge_members(schema.empty(schema.MEMBERS), posts, context.community)
    return ForumRead(
        platform=PLATFORM,
        posts=posts,
        members=members,
        quarantine=quarantine,
        accounts=[Account("posts", "row", frame.height, posts.height, quarantine.height)],
        files=[str(path) for path in paths],
    )
