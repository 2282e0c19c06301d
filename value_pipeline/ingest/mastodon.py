"""Mastodon account archives (one per member) -> canonical posts and members.

The layout follows Mastodon's own exporter (Settings > Import and export > "Request
your archive"; written by `app/services/backup_service.rb` in mastodon/mastodon, the
objects by `app/serializers/activitypub/*`): a zip (Mastodon 4.2 and later) or a
tar.gz (earlier releases) holding
- `outbox.json`: an ActivityStreams `OrderedCollection` whose `orderedItems` are the
  account's activities. `Create` wraps a `Note` (a `Question` for polls) with `id`,
  `published`, `content` (HTML), `inReplyTo`, `url`, `attachment[]` (`Document` media,
  and a `Link` preview card in recent releases), `tag[]` (`Mention` with `name`
  "@user" or "@user@domain" and `href`, `Hashtag`, `Emoji`), `sensitive`, `summary`
  (the content warning), `to`/`cc` (the visibility) and, from Mastodon 4.x, `likes` /
  `shares` collections with `totalItems`. `Announce` is a boost of someone's post;
- `actor.json`: the account (`preferredUsername`, `id`, `published` = joined,
  `type` "Person", or "Service" for a bot account);
- `likes.json` / `bookmarks.json`: collections of the URIs the account favourited or
  bookmarked; `media_attachments/`, `avatar.*`, `header.*` (not read).
A path may be the zip, the tar.gz, the unpacked folder (or a folder holding several
unpacked archives, one per sub-folder), or the loose JSON files (grouped by folder).

How the reader maps it:
- author: the archive's actor, keyed as `preferredUsername@host` (kind "username",
  platform mastodon; the host is the actor id's). Without actor.json the actor URI in
  the outbox (`https://host/users/name`) gives the same key. Mastodon archives carry
  no email, so members link to surveys only by that handle (`link_by: username`).
- posts: each `Create` of a Note/Question. `Announce` (boost) is quarantined as
  "excluded: boost" (not the member's words); direct messages (addressed neither to
  the public nor to followers) as "excluded: direct message"; a bot account's posts
  as "excluded: bot account". Followers-only and unlisted posts are kept.
- ids: `host:status-id` from the Note id (e.g. `teachers.example:111234`). The URI
  itself is not used because it contains the username. A reply's `inReplyTo` (a URI or
  the `/@user/ID` url form) maps to the same form, so replies link across archives.
- threading: inReplyTo -> parent; the thread is the root of the reply chain. All the
  archives of a community are read together (ONE_EXPORT_PER_PATH is False on purpose:
  each path is still one archive, but a reply in Ben's archive to Ana's post can only
  be linked when Ana's archive is read in the same call). A reply whose parent is in
  none of the archives (usually another account's post) is quarantined ("reply to a
  post not in the export"), as are replies below it: the thread has no start here.
- body: content HTML -> text; every mention becomes "@member" (by the Note's Mention
  tags, then any remaining `@user@domain` or `@user`), `/@user/` and `/users/user/`
  in links become `/@member/` and `/users/member/`; the content warning (`summary`)
  is kept as the first paragraph, poll options as "- option" lines.
- n_links: links in the content other than mention and hashtag links; n_attachments:
  media attachments (not preview cards); n_reactions: favourites (`likes.totalItems`),
  or, in archives too old to carry it, the number of read archives' likes.json
  entries for the post. Boost counts (`shares`) are not reactions.
- channel: the community hashtag (`forum_options: hashtag: edchat`, one or a list)
  as "#edchat" when the post carries it, else "mastodon". Posts without the hashtag
  are kept: replies in a hashtag conversation rarely repeat it.
- staff: the handle (`user@host`, `@user@host` or `user`) listed in community.yaml.
- members: one per archive (joined = the actor's `published`), merged with authors.
  Mastodon records no reading, so posts_read/days_visited stay null. bookmarks.json
  is not used: no canonical column holds it.
"""

from __future__ import annotations

import json
import re
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import polars as pl

from value_pipeline import schema
from value_pipeline.errors import InputError
from value_pipeline.ingest.common import (
    Account,
    ForumRead,
    ReadContext,
    community_hashtags,
    link_threads,
    merge_members,
    quarantine_frame,
    read_json,
    read_zip_member,
    split_by_reason,
)
from value_pipeline.ingest.detect import Sniff
from value_pipeline.text import html_links_series, html_to_text_series

PLATFORM = "mastodon"
KIND = "forum"
# Deliberately not True: every path is one archive, but replies between members sit in
# different archives and can only be linked when all archives are read in one call.
ONE_EXPORT_PER_PATH = False

ARCHIVE_FILES = ("outbox.json", "actor.json", "likes.json", "bookmarks.json")
POST_TYPES = {"Note", "Question", "Article", "Page"}
PUBLIC = {"https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"}
MAX_JSON_BYTES = 512 * 2**20

_ACTOR_URI = re.compile(r"^https?://([^/]+)/(?:users/|@|u/|profile/)([^/?#]+)/?$", re.IGNORECASE)
# Handles, as polars (Rust) regexes: in post and profile links, fediverse and bare @handles.
_URL_PROFILE = r"/@[A-Za-z0-9_]+(?:@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)?"
_URL_USERS = r"/users/[A-Za-z0-9_]+"
_FEDI_HANDLE = r"@[A-Za-z0-9_.\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"
_BARE_HANDLE = r"(^|[^A-Za-z0-9_@/.])@[A-Za-z0-9_]+"
# Anchors that are mentions or hashtags (Mastodon: class "u-url mention", "mention hashtag").
_TAG_ANCHOR = (
    r"""(?i)<a\b[^>]*\bhref\s*=\s*["']?https?:[^>]*\bclass\s*=\s*["'][^"'>]*\b(?:mention|hashtag)\b"""
    r"""|<a\b[^>]*\bclass\s*=\s*["'][^"'>]*\b(?:mention|hashtag)\b[^>]*\bhref\s*=\s*["']?https?:"""
)


# ------------------------------------------------------------------ detection
def looks_like(sniff: Sniff) -> bool:
    """A Mastodon archive: a folder, zip or tar.gz with outbox.json, or its loose JSON files."""
    try:
        if sniff.is_dir:
            outboxes = [*sniff.path.glob("outbox.json"), *sniff.path.glob("*/outbox.json")]
            return any(_is_outbox_head(_head(path)) for path in outboxes[:3])
        if sniff.zip_names:
            names = [n for n in sniff.zip_names if PurePosixPath(n).name == "outbox.json"]
            if not names:
                return False
            with zipfile.ZipFile(sniff.path) as archive, archive.open(names[0]) as handle:
                return _is_outbox_head(handle.read(4096))
        if sniff.head_bytes.startswith(b"\x1f\x8b"):
            return _tar_starts_like_archive(sniff.head_bytes)
        if sniff.looks_like_json:
            return _archive_json_kind(sniff.json) is not None
    except (OSError, zipfile.BadZipFile, InputError, RuntimeError):
        return False
    return False


def _head(path: Path, size: int = 4096) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


def _is_outbox_head(head: bytes) -> bool:
    text = head.decode("utf-8", errors="replace")
    return "OrderedCollection" in text and "orderedItems" in text


def _tar_starts_like_archive(head: bytes) -> bool:
    """A gzip whose first tar entry is one Mastodon's exporter writes first."""
    try:
        block = zlib.decompressobj(wbits=31).decompress(head, 1024)
    except zlib.error:
        return False
    if len(block) < 512 or block[257:262] != b"ustar":
        return False
    name = block[:100].split(b"\x00", 1)[0].decode("utf-8", errors="replace")
    prefix = block[345:500].split(b"\x00", 1)[0].decode("utf-8", errors="replace")
    full = f"{prefix}/{name}" if prefix else name
    return PurePosixPath(full).name in ARCHIVE_FILES or "media_attachments/" in full


def _archive_json_kind(data) -> str | None:
    """Which archive file a parsed JSON document is (outbox, actor, likes, bookmarks), if any."""
    if not isinstance(data, dict):
        return None
    items = data.get("orderedItems")
    if data.get("type") == "OrderedCollection" and isinstance(items, list):
        if items and isinstance(items[0], dict) and items[0].get("type") in {"Create", "Announce"}:
            return "outbox.json"
        if data.get("id") in ARCHIVE_FILES:
            return data["id"]
    if data.get("preferredUsername") and data.get("outbox") and data.get("type") in {"Person", "Service", "Group", "Application"}:
        return "actor.json"
    return None


# ------------------------------------------------------------------ loading archives
@dataclass
class _Archive:
    where: str  # shown in source_file: the folder, or "archive.zip!folder"
    files: dict[str, bytes | Path] = field(default_factory=dict)


def _archives(path: Path) -> list[_Archive]:
    if path.is_dir():
        folders = sorted({outbox.parent for outbox in path.rglob("outbox.json")})
        if not folders:
            raise InputError(path, "not a Mastodon archive: no outbox.json in the folder")
        return [
            _Archive(str(folder), {name: folder / name for name in ARCHIVE_FILES if (folder / name).is_file()})
            for folder in folders
        ]
    if not path.is_file():
        raise InputError(path, "no such file or folder")
    if zipfile.is_zipfile(path):
        return _group(path, _zip_members(path))
    with path.open("rb") as handle:
        magic = handle.read(2)
    if magic == b"\x1f\x8b":
        return _group(path, _tar_members(path))
    return []  # a loose JSON file: grouped with its neighbours by the caller


def _safe(export: Path, name: str) -> PurePosixPath:
    posix = PurePosixPath(name)
    if posix.is_absolute() or ".." in posix.parts:
        raise InputError(export, f"unsafe path in archive: {name}")
    return posix


def _zip_members(path: Path) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise InputError(path, f"not a readable zip: {error}") from error
    found: dict[str, bytes] = {}
    with archive:
        for info in archive.infolist():
            name = _safe(path, info.filename)
            if info.is_dir() or name.name not in ARCHIVE_FILES:
                continue
            if info.file_size > MAX_JSON_BYTES:
                raise InputError(path, f"{info.filename} expands to more than {MAX_JSON_BYTES // 2**20} MB")
            try:
                found[name.as_posix()] = read_zip_member(archive, info, path, MAX_JSON_BYTES)
            except (zipfile.BadZipFile, OSError, RuntimeError) as error:
                raise InputError(path, f"cannot read {info.filename} from the zip: {error}") from error
    return found


def _tar_members(path: Path) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                name = _safe(path, member.name)
                if name.name not in ARCHIVE_FILES or not member.isfile():
                    continue
                if member.size > MAX_JSON_BYTES:
                    raise InputError(path, f"{member.name} is more than {MAX_JSON_BYTES // 2**20} MB")
                handle = archive.extractfile(member)
                found[name.as_posix()] = handle.read() if handle else b""
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise InputError(path, f"not a readable tar.gz archive: {error}") from error
    return found


def _group(export: Path, members: dict[str, bytes]) -> list[_Archive]:
    """Archive files by the folder they sit in; each folder with an outbox is one archive."""
    folders: dict[str, _Archive] = {}
    for name, content in members.items():
        posix = PurePosixPath(name)
        folder = posix.parent.as_posix()
        where = f"{export}!{folder}" if folder != "." else str(export)
        folders.setdefault(folder, _Archive(where)).files[posix.name] = content
    archives = [archive for archive in folders.values() if "outbox.json" in archive.files]
    if not archives:
        raise InputError(export, "not a Mastodon archive: no outbox.json inside")
    return archives


def _load(archive: _Archive, name: str):
    content = archive.files.get(name)
    if content is None:
        return None
    if isinstance(content, Path):
        return read_json(content)
    where = f"{archive.where}/{name}" if "!" in archive.where else f"{archive.where}!{name}"
    if not content.strip():
        raise InputError(where, "the file is empty")
    try:
        return json.loads(content.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise InputError(where, f"not UTF-8 text (byte {error.start})") from error
    except json.JSONDecodeError as error:
        raise InputError(where, f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}") from error
    except RecursionError as error:
        raise InputError(where, "JSON nested too deeply to be an export") from error


def _source(archive: _Archive, name: str) -> str:
    content = archive.files.get(name)
    if isinstance(content, Path):
        return str(content)
    return f"{archive.where}/{name}" if "!" in archive.where else f"{archive.where}!{name}"


def _collect(paths: list[Path]) -> list[_Archive]:
    """Every archive among the paths; loose JSON files are grouped by their folder."""
    archives: list[_Archive] = []
    loose: dict[Path, _Archive] = {}
    for path in paths:
        found = _archives(path)
        if found:
            archives += found
            continue
        kind = _archive_json_kind(read_json(path))
        if kind is None:
            raise InputError(path, "not a Mastodon archive file (outbox.json, actor.json, likes.json or bookmarks.json)")
        group = loose.setdefault(path.parent, _Archive(str(path.parent)))
        if kind in group.files:
            raise InputError(path, f"a second {kind} in the same folder: put each member's archive in its own folder")
        group.files[kind] = path
    return archives + list(loose.values())


# ------------------------------------------------------------------ identities and ids
def post_ref(uri) -> str | None:
    """`host:status-id` for a post URI or url (the username in the path is dropped)."""
    if isinstance(uri, dict):
        uri = uri.get("id")
    if not isinstance(uri, str) or not uri.strip():
        return None
    parts = urlsplit(uri.strip())
    segments = [segment for segment in parts.path.split("/") if segment]
    if not parts.netloc or not segments:
        return None
    return f"{parts.netloc.lower()}:{segments[-1]}"


def _actor_handle(actor: dict | None, outbox: dict | None) -> str | None:
    """`user@host` of the archive's account, from actor.json or else the outbox's actor URI."""
    if isinstance(actor, dict) and isinstance(actor.get("preferredUsername"), str):
        host = urlsplit(str(actor.get("id") or "")).netloc.lower()
        if not host:
            host = next(iter(_actor_hosts(outbox)), "")
        return f"{actor['preferredUsername']}@{host}".lower() if host else None
    for uri in _actor_uris(outbox):
        match = _ACTOR_URI.match(uri)
        if match:
            return f"{match.group(2)}@{match.group(1)}".lower()
    return None


def _actor_uris(outbox: dict | None) -> list[str]:
    """The actor URIs the first outbox items name (`actor`, or the Note's `attributedTo`)."""
    items = outbox.get("orderedItems") if isinstance(outbox, dict) else None
    uris = []
    for item in (items or [])[:50]:
        if not isinstance(item, dict):
            continue
        note = item.get("object") if isinstance(item.get("object"), dict) else {}
        uris += [value for value in (item.get("actor"), note.get("attributedTo")) if isinstance(value, str)]
    return uris


def _actor_hosts(outbox: dict | None) -> list[str]:
    return [urlsplit(uri).netloc.lower() for uri in _actor_uris(outbox) if urlsplit(uri).netloc]


def _is_staff(handle: str, staff: frozenset[str] | set[str]) -> bool:
    names = {name.strip().lower().lstrip("@") for name in staff}
    return handle in names or handle.split("@", 1)[0] in names



# ------------------------------------------------------------------ text
def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def mask_handles(expr: pl.Expr, handles: list[str] | None = None) -> pl.Expr:
    """Mentions become "@member": the Note's Mention handles first (one Aho-Corasick pass,
    longest first), then any fediverse or bare @handle left, and the handles in profile and
    post links (`/@user/123` -> `/@member/123`, `/users/user/` -> `/users/member/`)."""
    expr = expr.str.replace_all(_URL_PROFILE, "/@member").str.replace_all(_URL_USERS, "/users/member")
    names = sorted({f"@{h.lstrip('@')}" for h in handles or [] if h and h.lstrip("@")}, key=len, reverse=True)
    if names:
        expr = expr.str.replace_many(names, ["@member"] * len(names), ascii_case_insensitive=True)
    return expr.str.replace_all(_FEDI_HANDLE, "@member").str.replace_all(_BARE_HANDLE, "${1}@member")


def _mention_handles(tags: list) -> list[str]:
    """The handles a Note's Mention tags name: `user@domain` and `user` (and `user@host`
    for a local mention written as `@user`)."""
    handles = []
    for tag in tags:
        if not isinstance(tag, dict) or tag.get("type") != "Mention" or not isinstance(tag.get("name"), str):
            continue
        name = tag["name"].strip().lstrip("@")
        user = name.split("@", 1)[0]
        handles += [name, user]
        host = urlsplit(str(tag.get("href") or "")).netloc
        if "@" not in name and host:
            handles.append(f"{user}@{host}")
    return handles


def _note_fields(note: dict) -> dict:
    """The raw parts of one Note: content HTML, content warning, poll, media, likes, tags."""
    tags = _as_list(note.get("tag"))
    options = [o.get("name") for o in _as_list(note.get("oneOf")) + _as_list(note.get("anyOf")) if isinstance(o, dict)]
    likes = note.get("likes")
    total = likes.get("totalItems") if isinstance(likes, dict) else None
    return {
        "content": note.get("content") if isinstance(note.get("content"), str) else "",
        "summary": note.get("summary") if isinstance(note.get("summary"), str) else None,
        "poll": "\n".join(f"- {name}" for name in options if isinstance(name, str)) or None,
        "n_media": sum(1 for a in _as_list(note.get("attachment")) if isinstance(a, dict) and a.get("type") != "Link"),
        "likes": total if isinstance(total, int) and not isinstance(total, bool) else None,
        "mentions": _mention_handles(tags),
        "hashtags": [
            str(t["name"]).lstrip("#").lower() for t in tags
            if isinstance(t, dict) and t.get("type") == "Hashtag" and isinstance(t.get("name"), str)
        ],
    }


def _is_direct(activity: dict, note: dict) -> bool:
    """Addressed neither to the public nor to followers: a direct message."""
    audience = [str(a) for a in _as_list(note.get("to")) + _as_list(note.get("cc")) + _as_list(activity.get("to")) + _as_list(activity.get("cc"))]
    if not audience:
        return False  # no addressing recorded: treat as public
    return not any(a in PUBLIC or a.endswith("/followers") for a in audience)


# ------------------------------------------------------------------ reading
RECORD_SCHEMA = {
    "_file": pl.String, "_row": pl.Int64, "_archive": pl.Int64, "activity": pl.String, "object_type": pl.String,
    "post_id": pl.String, "parent_id": pl.String, "published": pl.String, "content": pl.String,
    "summary": pl.String, "poll": pl.String, "n_media": pl.Int64, "likes": pl.Int64, "channel": pl.String,
    "direct": pl.Boolean, "embedded": pl.Boolean,
}


def _str(value) -> str | None:
    return value if isinstance(value, str) else None


def _item_record(item, row: int, source: str, archive_index: int, hashtags: list[str], mentions: set[str]) -> dict:
    record = {"_file": source, "_row": row, "_archive": archive_index, "embedded": False, "direct": False}
    if not isinstance(item, dict):
        return record | {"activity": "(not an object)"}
    activity = item.get("type") if isinstance(item.get("type"), str) else "(no type)"
    record["activity"] = activity
    note = item.get("object")
    if activity != "Create" or not isinstance(note, dict):
        return record | {"post_id": post_ref(note) if activity == "Create" else None, "published": _str(item.get("published"))}
    fields = _note_fields(note)
    mentions.update(fields["mentions"])
    channel = next((f"#{tag}" for tag in hashtags if tag in fields["hashtags"]), PLATFORM)
    return record | {
        "embedded": True,
        "object_type": note.get("type") if isinstance(note.get("type"), str) else None,
        "post_id": post_ref(note.get("id")),
        "parent_id": post_ref(note.get("inReplyTo")),
        "published": _str(note.get("published")) or _str(item.get("published")),
        "content": fields["content"],
        "summary": fields["summary"],
        "poll": fields["poll"],
        "n_media": fields["n_media"],
        "likes": fields["likes"],
        "channel": channel,
        "direct": _is_direct(item, note),
    }


def read(paths: list[Path], context: ReadContext) -> ForumRead:
    """Read Mastodon archives (one per member; each path a zip, tar.gz, folder or loose files)."""
    community, pseudonymizer, staff = context.community, context.pseudonymizer, context.staff
    hashtags = community_hashtags(context.options)
    archives = _collect([Path(path) for path in paths])

    records: list[dict] = []
    mentions: set[str] = set()
    actors: list[dict] = []
    liked: list[str] = []
    for index, archive in enumerate(archives):
        outbox = _load(archive, "outbox.json")
        actor = _load(archive, "actor.json")
        likes = _load(archive, "likes.json")
        if isinstance(likes, dict) and isinstance(likes.get("orderedItems"), list):
            liked += [ref for ref in map(post_ref, likes["orderedItems"]) if ref]
        if outbox is None and actor is None:
            continue  # a loose likes.json: its likes are counted, it has no author of its own
        if outbox is not None and not (isinstance(outbox, dict) and isinstance(outbox.get("orderedItems"), list)):
            raise InputError(_source(archive, "outbox.json"), "not a Mastodon outbox: no orderedItems list")
        handle = _actor_handle(actor, outbox)
        if handle is None:
            raise InputError(
                _source(archive, "outbox.json" if outbox is not None else "actor.json"),
                "cannot tell whose archive this is: actor.json is missing and the outbox names no actor",
            )
        is_bot = isinstance(actor, dict) and actor.get("type") == "Service"
        actors.append({
            "author_key": pseudonymizer.key("username", handle, PLATFORM),
            "is_staff": _is_staff(handle, staff),
            "bot": is_bot,
            "joined": actor.get("published") if isinstance(actor, dict) and isinstance(actor.get("published"), str) else None,
            "_file": _source(archive, "actor.json" if actor is not None else "outbox.json"),
            "_archive": index,
        })
        source = _source(archive, "outbox.json")
        for row, item in enumerate((outbox or {}).get("orderedItems") or []):
            records.append(_item_record(item, row, source, index, hashtags, mentions))

    actor_frame = pl.DataFrame(
        actors,
        schema={"author_key": pl.String, "is_staff": pl.Boolean, "bot": pl.Boolean, "joined": pl.String, "_file": pl.String, "_archive": pl.Int64},
    )
    posts, post_quarantine, post_account = _posts(records, actor_frame, liked, sorted(mentions), community)
    members, member_quarantine, member_account = _members(actor_frame, posts, community)
    return ForumRead(
        platform=PLATFORM,
        posts=posts,
        members=members,
        quarantine=pl.concat([post_quarantine, member_quarantine]),
        accounts=[post_account, member_account],
        files=[str(path) for path in paths],
    )


def _bodies(frame: pl.DataFrame, mentions: list[str]) -> pl.DataFrame:
    """Body text and link counts for the whole column at once (no per-post HTML parse)."""
    content = frame.get_column("content").fill_null("")
    parts = pl.DataFrame({
        "summary": html_to_text_series(frame.get_column("summary")),
        "content": html_to_text_series(content),
        "poll": frame.get_column("poll"),
    })
    body = parts.select(
        mask_handles(
            pl.concat_list("summary", "content", "poll").list.eval(pl.element().filter(pl.element().fill_null("") != "")).list.join("\n\n"),
            mentions,
        )
    ).to_series()
    tag_anchors = content.str.count_matches(_TAG_ANCHOR).cast(pl.Int64)
    links = (html_links_series(content) - tag_anchors).clip(lower_bound=0)
    return frame.with_columns(text=body, n_links=links)


def _posts(records: list[dict], actors: pl.DataFrame, liked: list[str], mentions: list[str], community: str):
    frame = pl.DataFrame(records, schema=RECORD_SCHEMA).join(
        actors.select("_archive", "author_key", "is_staff", "bot"), on="_archive", how="left", maintain_order="left"
    )
    frame = _bodies(frame, mentions)
    likes = pl.DataFrame({"post_id": liked}, schema={"post_id": pl.String}).group_by("post_id").agg(archive_likes=pl.len())
    frame = frame.with_columns(created=pl.col("published").str.to_datetime(time_zone="UTC", strict=False))
    is_post = pl.col("embedded") & pl.col("object_type").is_in(list(POST_TYPES))
    frame = frame.with_columns(
        duplicate=is_post & pl.col("post_id").is_not_null()
        & (pl.int_range(pl.len()).over(pl.when(is_post).then(pl.col("post_id"))) > 0)
    ).with_columns(
        reason=pl.when(pl.col("activity") == "(not an object)").then(pl.lit("not an activity object"))
        .when(pl.col("activity") == "Announce").then(pl.lit("excluded: boost"))
        .when(pl.col("activity") != "Create").then(pl.lit("excluded: ") + pl.col("activity") + pl.lit(" activity"))
        .when(~pl.col("embedded")).then(pl.lit("post object not embedded in the activity"))
        .when(~pl.col("object_type").is_in(list(POST_TYPES)).fill_null(True))
        .then(pl.lit("excluded: ") + pl.col("object_type").fill_null("untyped") + pl.lit(" object"))
        .when(pl.col("post_id").is_null()).then(pl.lit("missing post id"))
        .when(pl.col("duplicate")).then(pl.lit("duplicate post (already read)"))
        .when(pl.col("created").is_null()).then(pl.lit("missing or unreadable published time"))
        .when(pl.col("bot")).then(pl.lit("excluded: bot account"))
        .when(pl.col("direct")).then(pl.lit("excluded: direct message"))
        .otherwise(None)
    )
    accepted, rejected = split_by_reason(frame)
    read_ids = frame.get_column("post_id").drop_nulls()
    linked, orphans = link_threads(accepted, read_ids)
    linked = linked.join(likes, on="post_id", how="left", maintain_order="left")
    posts = linked.select(
        community=pl.lit(community),
        platform=pl.lit(PLATFORM),
        post_id=pl.col("post_id"),
        thread_id=pl.col("thread_id"),
        parent_post_id=pl.col("parent_id"),
        author_key=pl.col("author_key"),
        created_at=pl.col("created"),
        channel=pl.col("channel"),
        title=pl.lit(None, pl.String),
        body_text=pl.col("text").fill_null(""),
        is_thread_start=pl.col("parent_id").is_null(),
        n_reactions=pl.coalesce("likes", "archive_likes", pl.lit(0)),
        n_links=pl.col("n_links").fill_null(0),
        n_attachments=pl.col("n_media").fill_null(0),
        is_staff=pl.col("is_staff").fill_null(False),
        source_file=pl.col("_file"),
        source_row=pl.col("_row"),
    )
    posts = schema.conform(posts, schema.POSTS)
    rows = pl.concat([rejected, orphans], how="diagonal").rename({"_file": "source_file", "_row": "source_row"})
    quarantine = quarantine_frame(community, "posts", rows, ["activity", "post_id", "parent_id", "published", "text"])
    return posts, quarantine, Account("posts", "activity", frame.height, posts.height, quarantine.height)


def _members(actors: pl.DataFrame, posts: pl.DataFrame, community: str):
    frame = actors.with_columns(
        reason=pl.when(pl.col("author_key").is_duplicated() & (pl.int_range(pl.len()).over("author_key") > 0))
        .then(pl.lit("duplicate archive of the same account (already read)"))
        .otherwise(None),
        _row=pl.lit(0, pl.Int64),
    )
    accepted, rejected = split_by_reason(frame)
    listed = accepted.select(
        community=pl.lit(community),
        author_key="author_key",
        joined_at=pl.col("joined").str.to_datetime(time_zone="UTC", strict=False),
        role=pl.when(pl.col("bot")).then(pl.lit("bot")).when(pl.col("is_staff")).then(pl.lit("staff")).otherwise(pl.lit("member")),
        is_staff="is_staff",
    )
    members = merge_members(listed, posts, community)
    quarantine = quarantine_frame(
        community, "members", rejected.rename({"_file": "source_file", "_row": "source_row"}), ["joined"]
    )
    return members, quarantine, Account("members", "actor", frame.height, accepted.height, quarantine.height)


# ------------------------------------------------------------------ threads
