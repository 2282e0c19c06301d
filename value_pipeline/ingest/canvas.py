"""Canvas LMS discussion topics (the "full topic" view) -> canonical posts and members.

The export is the response of `GET /api/v1/courses/:course_id/discussion_topics/:topic_id/view`
(or `/groups/:group_id/...`), saved as JSON, one file per discussion topic. Its layout is
documented in Canvas's API reference ("Discussion Topics: Get the full topic",
https://canvas.instructure.com/doc/api/discussion_topics.html, from
app/controllers/discussion_topics_api_controller.rb#view) and built by
DiscussionTopic::MaterializedView:

- `participants`: everyone who wrote or edited an entry: id, display_name,
  avatar_image_url, html_url (no emails, no logins);
- `view`: the threaded entries. Each entry has id, user_id, parent_id, created_at,
  updated_at, message (HTML), and where enabled rating_count / rating_sum (likes),
  editor_id, attachment / attachments; `replies` nests the entries answering it.
  Deleted entries stay in the tree as `{"deleted": true}` stubs without user_id and
  message, so their replies keep their place;
- `new_entries`: because the view is cached, entries created or edited since it was
  built come as a flat list (with parent_id) when `include_new_entries=1` was asked for;
- `unread_entries`, `forced_entries`, `entry_ratings`: the exporting user's read state
  (about one person, so not used).
Ids are numbers, or strings when the request asked for string ids; both are read as
strings.

How the canonical tables are made:
- Threads. The topic itself (its title and prompt) is not in /view, and no post is
  invented for it: each top-level entry starts a thread (`thread_id` = its id), and the
  entries nested under it, at any depth, are its replies with `parent_post_id` from
  `parent_id` (the nesting when parent_id is absent). The entries of a topic are
  answers to one prompt, so they are separate conversations in the sense the pipeline
  counts (who starts, who replies, who answers whom).
- `new_entries` are merged by parent_id; an entry that is in both the view and
  new_entries is taken from new_entries (it is the newer copy) and the view's copy is
  quarantined as superseded.
- Deleted entries are quarantined as "excluded: deleted entry". A reply under a deleted
  entry is kept and replies to its nearest surviving ancestor (Canvas shows it in place
  under the deleted stub); replies in a thread whose top-level entry was deleted or
  quarantined have no thread start and are quarantined.
- channel: `forum_options: {channels: {<file name or stem>: <name>}}` or
  `{channel: <name>}` in community.yaml, else the file's stem (the file does not name
  its topic). Entries have no subject, so `title` is null (the topic title would make
  every entry look like the prompt's question to the coder).
- author_key: the Canvas user id (`user_id`, platform canvas): /view has no emails, so
  Canvas authors do not link to survey answers by email.
- is_staff: members listed in community.yaml `staff` (by Canvas user id or display
  name), and anyone who edited someone else's entry (`editor_id` different from
  `user_id`): Canvas lets only users with the moderate-discussions permission (teachers,
  TAs, designers) do that.
- n_reactions: `rating_sum` (likes); n_links: `<a href>` in the message; n_attachments:
  the attachment objects plus images embedded in the message.
- Members are the authors of accepted entries (the view has no roster), joined at their
  first entry; member files are not read by this reader (a note says so).
- source_row: the entry's 0-based position in the file, the view depth-first, then
  new_entries.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from value_pipeline import schema
from value_pipeline.errors import InputError
from value_pipeline.ingest.common import (
    Account,
    ForumRead,
    ReadContext,
    merge_members,
    quarantine_frame,
    read_json,
    split_by_reason,
    utc_datetime,
)
from value_pipeline.ingest.detect import Sniff
from value_pipeline.text import html_links_series, html_to_text_series

PLATFORM = "canvas"
KIND = "forum"

_ENTRY_COLUMNS = {
    "id": pl.String, "user_id": pl.String, "parent_id": pl.String, "nest_parent": pl.String,
    "created_at": pl.String, "message": pl.String, "deleted": pl.Boolean, "editor_id": pl.String,
    "rating_sum": pl.Int64, "n_files": pl.Int64, "malformed": pl.Boolean, "from_new": pl.Boolean,
    "_file": pl.String, "_file_index": pl.Int64, "_row": pl.Int64, "_channel": pl.String,
}


def looks_like(sniff: Sniff) -> bool:
    """A JSON object with Canvas's /view keys: a `view` list and a `participants` list."""
    if not sniff.looks_like_json or not sniff.head_text.lstrip().startswith("{"):
        return False
    data = sniff.json
    return (
        isinstance(data, dict)
        and isinstance(data.get("view"), list)
        and isinstance(data.get("participants"), list)
    )


def read(paths: list[Path], context: ReadContext) -> ForumRead:
    """Read Canvas discussion /view responses (one per topic) into canonical posts and members."""
    community = context.community
    records: list[dict] = []
    participants: dict[str, str] = {}
    for index, path in enumerate(paths):
        path = Path(path)
        data = read_json(path)
        if not isinstance(data, dict) or not isinstance(data.get("view"), list):
            raise InputError(path, "not a Canvas discussion view: expected an object with a 'view' list of entries")
        for person in data.get("participants") or []:
            if isinstance(person, dict) and _id(person.get("id")):
                participants[_id(person.get("id"))] = str(person.get("display_name") or "")
        channel = _channel(path, context.options)
        records += _walk(data, path, index, channel)

    frame = pl.DataFrame(records, schema=_ENTRY_COLUMNS, orient="row") if records else pl.DataFrame(schema=_ENTRY_COLUMNS)
    staff_ids = _staff_ids(frame, participants, context.staff)
    posts, quarantine, account = _posts(frame, staff_ids, community, context.pseudonymizer)
    members = merge_members(schema.empty(schema.MEMBERS), posts, community)
    notes = []
    if context.member_files:
        notes.append("the Canvas reader does not read member files: members are the authors of discussion entries")
    return ForumRead(
        platform=PLATFORM,
        posts=posts,
        members=members,
        quarantine=quarantine,
        accounts=[account],
        files=[str(path) for path in paths],
        notes=notes,
    )


def _id(value) -> str | None:
    """Canvas ids are numbers or strings (string-id requests); null, "" and 0 mean none."""
    if value is None or isinstance(value, bool) or isinstance(value, (dict, list)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return None if text in ("", "0") else text


def _channel(path: Path, options: dict) -> str:
    channels = options.get("channels") if isinstance(options.get("channels"), dict) else {}
    return str(channels.get(path.name) or channels.get(path.stem) or options.get("channel") or path.stem)


def _walk(data: dict, path: Path, file_index: int, channel: str) -> list[dict]:
    """Entries of one /view response in document order: the view depth-first, then new_entries."""
    rows: list[dict] = []
    new_entries = data.get("new_entries") or []
    if not isinstance(new_entries, list):
        raise InputError(path, "'new_entries' is not a list of entries")
    # A stack pops from its end: new_entries go below the view so they come after it.
    stack = [(entry, None, True) for entry in reversed(new_entries)]
    stack += [(entry, None, False) for entry in reversed(data["view"])]
    while stack:
        entry, nest_parent, from_new = stack.pop()
        row = {
            "nest_parent": nest_parent, "from_new": from_new, "_file": str(path),
            "_file_index": file_index, "_row": len(rows), "_channel": channel,
        }
        if not isinstance(entry, dict):
            rows.append(row | {"malformed": True})
            continue
        replies = entry.get("replies")
        if replies is not None and not isinstance(replies, list):
            raise InputError(path, f"entry {entry.get('id')}: 'replies' is not a list of entries")
        attachments = entry.get("attachments")
        n_files = len(attachments) if isinstance(attachments, list) else int(isinstance(entry.get("attachment"), dict))
        message = entry.get("message") if isinstance(entry.get("message"), str) else None
        rating = entry.get("rating_sum")
        rows.append(
            row
            | {
                "id": _id(entry.get("id")),
                "user_id": _id(entry.get("user_id")),
                "parent_id": _id(entry.get("parent_id")),
                "created_at": entry.get("created_at") if isinstance(entry.get("created_at"), str) else None,
                "message": message,
                "deleted": bool(entry.get("deleted")),
                "editor_id": _id(entry.get("editor_id")),
                "rating_sum": rating if isinstance(rating, int) and not isinstance(rating, bool) else 0,
                "n_files": n_files,
                "malformed": False,
            }
        )
        own_id = _id(entry.get("id"))
        stack += [(reply, own_id, from_new) for reply in reversed(replies or [])]
    return [{name: row.get(name) for name in _ENTRY_COLUMNS} for row in rows]


def _staff_ids(frame: pl.DataFrame, participants: dict[str, str], staff: frozenset[str]) -> list[str]:
    """Canvas user ids of staff: listed in community.yaml (id or display name) or editors of others' entries."""
    listed = {name.strip().lower() for name in staff}
    by_config = [uid for uid, name in participants.items() if uid.lower() in listed or name.strip().lower() in listed]
    by_config += [uid for uid in frame.get_column("user_id").drop_nulls().unique().to_list() if uid.lower() in listed]
    editors = (
        frame.filter(
            ~pl.col("deleted").fill_null(False)
            & pl.col("editor_id").is_not_null()
            & pl.col("user_id").is_not_null()
            & (pl.col("editor_id") != pl.col("user_id"))
        )
        .get_column("editor_id")
        .unique()
        .to_list()
    )
    return sorted(set(by_config) | set(editors))


def _posts(frame: pl.DataFrame, staff_ids: list[str], community: str, pseudonymizer):
    frame = frame.with_columns(
        body=html_to_text_series(frame.get_column("message")).fill_null(""),
        links=html_links_series(frame.get_column("message")).fill_null(0),
        images=pl.col("message").str.count_matches(r"(?i)<img\b").fill_null(0),
        created=utc_datetime("created_at"),
        author_key=pseudonymizer.key_series("user_id", frame.get_column("user_id"), PLATFORM),
        parent=pl.coalesce("parent_id", "nest_parent"),
    )
    # One copy per entry id: within a file the new_entries copy (newer) wins, across files the first file.
    frame = _rank_by_order(frame)
    reason = (
        pl.when(pl.col("malformed")).then(pl.lit("not an entry object"))
        .when(pl.col("id").is_null()).then(pl.lit("missing entry id"))
        .when(pl.col("_dup") & pl.col("_superseded")).then(pl.lit("superseded by its newer copy in new_entries"))
        .when(pl.col("_dup")).then(pl.lit("duplicate entry id (already read)"))
        .when(pl.col("deleted")).then(pl.lit("excluded: deleted entry"))
        .when(pl.col("user_id").is_null()).then(pl.lit("missing author (user_id)"))
        .when(pl.col("created").is_null()).then(pl.lit("missing or unreadable created_at"))
        .otherwise(None)
    )
    frame = frame.with_columns(reason=reason)

    # Threads: follow parent ids through every kept entry (deleted ones included).
    nodes = frame.filter(pl.col("id").is_not_null() & ~pl.col("_dup"))
    walked = _walk_ancestors(nodes.select("id", "parent", ok=pl.col("reason").is_null()))
    frame = frame.join(walked, on="id", how="left").with_columns(
        is_thread_start=pl.col("parent").is_null()
    )
    structural = (
        pl.when(pl.col("reason").is_not_null()).then(pl.col("reason"))
        .when(pl.col("is_thread_start")).then(None)
        .when(pl.col("missing")).then(pl.lit("reply to a post not in the export"))
        .when(pl.col("cycle")).then(pl.lit("reply chain loops back on itself (corrupt parent ids)"))
        .when(~pl.col("root_ok")).then(pl.lit("reply in a thread whose first entry was deleted or quarantined"))
        .otherwise(None)
    )
    frame = frame.with_columns(reason=structural)
    accepted, rejected = split_by_reason(frame)
    posts = accepted.select(
        community=pl.lit(community),
        platform=pl.lit(PLATFORM),
        post_id=pl.col("id"),
        thread_id=pl.when(pl.col("is_thread_start")).then(pl.col("id")).otherwise(pl.col("root")),
        parent_post_id=pl.when(pl.col("is_thread_start")).then(None).otherwise(pl.col("eff_parent")),
        author_key=pl.col("author_key"),
        created_at=pl.col("created"),
        channel=pl.col("_channel"),
        title=pl.lit(None, pl.String),
        body_text=pl.col("body"),
        is_thread_start=pl.col("is_thread_start"),
        n_reactions=pl.col("rating_sum").fill_null(0),
        n_links=pl.col("links"),
        n_attachments=pl.col("n_files").fill_null(0) + pl.col("images"),
        is_staff=pl.col("user_id").is_in(staff_ids).fill_null(False),
        source_file=pl.col("_file"),
        source_row=pl.col("_row"),
    )
    posts = schema.conform(posts, schema.POSTS)
    quarantine = quarantine_frame(
        community, "posts",
        rejected.rename({"_file": "source_file", "_row": "source_row"}),
        ["id", "parent", "created_at", "deleted", "body"],
    )
    account = Account("posts", "entry", frame.height, posts.height, quarantine.height)
    return posts, quarantine, account


def _rank_by_order(frame: pl.DataFrame) -> pl.DataFrame:
    """Mark later copies of an entry id (`_dup`), and whether a newer new_entries copy replaced it."""
    order = frame.with_columns(_pos=pl.int_range(pl.len())).sort(
        ["_file_index", "from_new", "_row"], descending=[False, True, False], nulls_last=True
    )
    order = order.with_columns(
        _dup=pl.col("id").is_not_null() & (pl.int_range(pl.len()).over("id") > 0),
        _superseded=(~pl.col("from_new"))
        & (pl.col("_file_index") == pl.col("_file_index").first().over("id"))
        & pl.col("from_new").first().over("id"),
    )
    return order.sort("_pos").drop("_pos")


def _walk_ancestors(nodes: pl.DataFrame) -> pl.DataFrame:
    """Per entry id: its thread root, the nearest accepted ancestor, and chain problems.

    `nodes` has id, parent and ok (accepted so far). Walks one level per step with a
    join, so the cost grows with the depth of the deepest thread, not with its size.
    Returns id, root, root_ok, eff_parent (nearest ok ancestor), missing, cycle.
    """
    lookup = nodes.select(anc="id", next="parent", anc_ok="ok")
    walk = nodes.select(
        "id",
        anc=pl.col("parent"),
        root=pl.when(pl.col("parent").is_null()).then(pl.col("id")),
        eff_parent=pl.lit(None, pl.String),
        missing=pl.lit(False),
        cycle=pl.lit(False),
    )
    for _ in range(nodes.height + 1):
        active = pl.col("anc").is_not_null() & pl.col("root").is_null() & ~pl.col("missing") & ~pl.col("cycle")
        if walk.filter(active).height == 0:
            break
        walk = walk.join(lookup, on="anc", how="left")
        found = pl.col("anc_ok").is_not_null()
        walk = walk.with_columns(
            missing=pl.col("missing") | (active & ~found),
            eff_parent=pl.when(active & found & pl.col("eff_parent").is_null() & pl.col("anc_ok"))
            .then(pl.col("anc")).otherwise(pl.col("eff_parent")),
            root=pl.when(active & found & pl.col("next").is_null()).then(pl.col("anc")).otherwise(pl.col("root")),
            anc=pl.when(active & found).then(pl.col("next")).otherwise(pl.col("anc")),
        ).drop("next", "anc_ok")
        # Back at itself, or stepping onto an entry already known to loop: a cycle.
        looping = walk.filter(pl.col("cycle") | (pl.col("anc") == pl.col("id"))).get_column("id").implode()
        walk = walk.with_columns(
            cycle=pl.col("cycle") | (pl.col("anc") == pl.col("id")) | (pl.col("anc").is_in(looping) & pl.col("root").is_null())
        )
    ok = nodes.select(root="id", root_ok="ok")
    return walk.join(ok, on="root", how="left").select(
        "id", "root", root_ok=pl.col("root_ok").fill_null(False), eff_parent="eff_parent", missing="missing", cycle="cycle"
    )
