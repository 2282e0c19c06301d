"""What every reader shares: its result type, row accounting and quarantine.

A reader turns one export into canonical frames. Every row it reads ends in exactly one
place: accepted into a canonical table, or quarantined with a reason. `Account` keeps
the balance (read = accepted + quarantined) for each unit a reader counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
import polars as pl

from value_pipeline import schema
from value_pipeline.errors import InputError

if TYPE_CHECKING:
    from value_pipeline.identity import Pseudonymizer
    from value_pipeline.instrument import Instrument
from value_pipeline.privacy import scrub_expr
from value_pipeline.text import repair_mojibake

MAX_RAW_CHARS = 300  # quarantined rows keep a scrubbed excerpt, enough to find the row


@dataclass
class ReadContext:
    """What a reader needs besides its files: who the community is and how to key people.

    Every reader has the signature `read(paths: list[Path], context: ReadContext)`.
    Forum readers may use `member_files` (member lists found in members/); survey
    readers use `instrument` and the linking settings. `options` holds the format's own
    settings from community.yaml (e.g. the generic CSV's column mapping).
    """

    community: str
    pseudonymizer: "Pseudonymizer"
    timezone: str = "UTC"
    staff: frozenset[str] = frozenset()
    member_files: list[Path] = field(default_factory=list)
    instrument: "Instrument | None" = None
    link_by: str = "email"
    link_column: str | None = None
    waves: dict[str, str] = field(default_factory=dict)
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Account:
    """Row accounting for one unit (e.g. forum posts, survey rows, survey answers)."""

    table: str
    unit: str
    read: int
    accepted: int
    quarantined: int

    @property
    def balanced(self) -> bool:
        return self.read == self.accepted + self.quarantined

    def as_dict(self) -> dict:
        return {
            "table": self.table,
            "unit": self.unit,
            "read": self.read,
            "accepted": self.accepted,
            "quarantined": self.quarantined,
            "balanced": self.balanced,
        }


@dataclass
class ForumRead:
    """A forum reader's output: canonical posts and members, plus what it rejected."""

    platform: str
    posts: pl.DataFrame
    members: pl.DataFrame
    quarantine: pl.DataFrame
    accounts: list[Account] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class SurveyRead:
    """A survey reader's output: long survey responses, plus what it rejected."""

    platform: str
    responses: pl.DataFrame
    quarantine: pl.DataFrame
    accounts: list[Account] = field(default_factory=list)
    unmatched_columns: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra_items: pl.DataFrame | None = None  # survey_items for questions the instrument does not map


def quarantine_frame(
    community: str, table: str, rows: pl.DataFrame, raw_columns: list[str]
) -> pl.DataFrame:
    """Quarantine rows: `rows` has source_file, source_row, reason and the raw columns to keep.

    The raw excerpt is JSON of the named columns, scrubbed of emails, handles and phone
    numbers, so the quarantine never becomes a side door for identities.
    """
    if rows.height == 0:
        return schema.empty(schema.QUARANTINE)
    present = [name for name in raw_columns if name in rows.columns]
    raw = rows.select(
        scrub_expr(pl.struct([pl.col(name).cast(pl.String) for name in present]).struct.json_encode())
        .str.slice(0, MAX_RAW_CHARS)
        .alias("raw")
    )
    frame = pl.concat(
        [rows.select("source_file", "source_row", "reason"), raw], how="horizontal"
    ).with_columns(community=pl.lit(community), table=pl.lit(table))
    return schema.conform(frame, schema.QUARANTINE)


def split_by_reason(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a frame with a nullable `reason` column into (accepted, rejected)."""
    return frame.filter(pl.col("reason").is_null()), frame.filter(pl.col("reason").is_not_null())


MAX_JSON_BYTES = 512 * 2**20


def read_json(path: Path, max_bytes: int = MAX_JSON_BYTES):
    """Parse a JSON file, turning every failure into a one-line InputError."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise InputError(path, f"cannot read: {error.strerror}") from error
    if size > max_bytes:
        raise InputError(path, f"the file is {size // 2**20} MB, over the {max_bytes // 2**20} MB limit")
    return parse_json(path, path.read_bytes())


def parse_json(path: Path | str, data: bytes):
    """Parse JSON bytes read from `path` (UTF-8 with or without BOM, or UTF-16 by BOM)."""
    if not data.strip():
        raise InputError(path, "the file is empty")
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    if b"\x00" in data[:4096] and not utf16:
        raise InputError(path, "binary data, not a JSON export")
    if utf16:
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError as error:
            raise InputError(path, f"not valid UTF-16 text (byte {error.start})") from error
    elif data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return orjson.loads(data)  # 3x the standard library's speed on topic files
    except orjson.JSONDecodeError as error:
        if "depth" in error.msg:
            raise InputError(path, "JSON nested too deeply to be an export") from error
        if "utf-8" in error.msg.lower():
            raise InputError(path, f"not UTF-8 text (at byte {error.pos}): expected a JSON export") from error
        raise InputError(path, f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}") from error


def read_text(path: Path) -> str:
    """Read a text export (CSV/TSV): UTF-8 (with or without BOM), UTF-16 (by BOM), or a
    legacy 8-bit encoding (Windows-1252); double-encoded text is repaired."""
    return repair_mojibake(_decode_text(path))


def _decode_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(path, f"cannot read: {error.strerror}") from error
    if not data.strip():
        raise InputError(path, "the file is empty" if not data else "the file is empty (only whitespace)")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    utf16 = utf16_without_bom(data)
    if utf16:
        return data.decode(utf16)
    if b"\x00" in data[:4096]:
        raise InputError(path, "binary data, not a text export")
    # A stray NUL further on (text pasted from a PDF) stays in its row; the plausibility
    # step quarantines the rows that hold one, so one bad row does not sink the file.
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Spreadsheet tools still save Windows-1252; it decodes every byte but five.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError as error:
            raise InputError(path, f"unknown text encoding (byte {error.start})") from error


def utf16_without_bom(data: bytes) -> str | None:
    """"utf-16-le"/"utf-16-be" for UTF-16 text saved without a byte-order mark (every other
    byte of ASCII-heavy text is NUL), else None."""
    head = data[:4096]
    if len(head) < 8 or len(head) % 2:
        head = head[: len(head) - len(head) % 2]
    if len(head) < 8:
        return None
    odd_nul, even_nul = head[1::2].count(0), head[0::2].count(0)
    half = len(head) // 2
    if odd_nul > 0.9 * half and even_nul < 0.1 * half:
        return "utf-16-le"
    if even_nul > 0.9 * half and odd_nul < 0.1 * half:
        return "utf-16-be"
    return None


def require_columns(path: Path, columns: list[str], required: list[str], what: str) -> None:
    missing = [name for name in required if name not in columns]
    if missing:
        raise InputError(path, f"not a {what}: missing column(s) {', '.join(missing)}")


def members_from_posts(posts: pl.DataFrame, community: str) -> pl.DataFrame:
    """Members known only from their posts (no member list): joined at their first post."""
    return schema.conform(
        posts.group_by("author_key")
        .agg(joined_at=pl.col("created_at").min(), is_staff=pl.col("is_staff").any())
        .with_columns(
            community=pl.lit(community),
            role=pl.when(pl.col("is_staff")).then(pl.lit("staff")).otherwise(pl.lit("member")),
        ),
        schema.MEMBERS,
    )


def merge_members(listed: pl.DataFrame, posts: pl.DataFrame, community: str) -> pl.DataFrame:
    """The member list, plus authors who posted but are missing from it."""
    return pl.concat([schema.conform(listed, schema.MEMBERS), members_from_posts(posts, community)]).unique(
        "author_key", keep="first", maintain_order=True
    )


def local_datetime(column: str, formats: list[str], timezone: str) -> pl.Expr:
    """Parse a column of times into UTC: ISO 8601 with an offset (or Z) as given, epoch
    seconds, or local wall-clock times in any of `formats` in `timezone`.

    Unparseable values become null (the reader quarantines them). Ambiguous local times
    at a DST change take the earlier instant.
    """
    text = pl.col(column).cast(pl.String).str.strip_chars()
    with_offset = (
        pl.when(text.str.contains(r"(Z|[+-]\d{2}:?\d{2})$"))
        .then(text.str.replace(r"Z$", "+00:00").str.to_datetime("%+", strict=False, time_zone="UTC", time_unit="us"))
    )
    epoch = pl.from_epoch(
        pl.when(text.str.contains(r"^\d{9,11}$")).then(text.cast(pl.Int64, strict=False)), time_unit="s"
    ).dt.replace_time_zone("UTC")
    local = pl.coalesce(*[text.str.to_datetime(fmt, strict=False, time_unit="us") for fmt in formats])
    wall = local.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC")
    return pl.coalesce(with_offset, epoch.dt.cast_time_unit("us"), wall)


def utc_datetime(column: str) -> pl.Expr:
    """Times from platforms that write UTC: ISO 8601 with `Z` or an offset, `... UTC`,
    zone-less ISO (read as UTC) or a bare date. Unreadable values become null."""
    raw = pl.col(column).cast(pl.String).str.strip_chars()
    text = raw.str.replace(r"\s*(?:Z|UTC)$", "+00:00").str.replace(r"^(\d{4}-\d\d-\d\d) ", "${1}T")
    return pl.coalesce(
        text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%z", time_zone="UTC", strict=False, time_unit="us"),
        text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us").dt.replace_time_zone("UTC"),
        text.str.to_datetime("%Y-%m-%dT%H:%M", strict=False, time_unit="us").dt.replace_time_zone("UTC"),
        raw.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
    )


MAX_CHAIN_ROUNDS = 64  # pointer doubling: 2**64 exceeds any reply chain


def link_threads(posts: pl.DataFrame, read_ids: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Give each post its thread (the root of its reply chain); split off replies that
    cannot be placed.

    `posts` has unique `post_id` and `parent_id` (null for a thread start). Chains are
    followed by pointer doubling (a join per round), so a chain of n replies takes
    log2(n) joins. Returns (posts with `thread_id`, orphans with `reason`): a reply whose
    parent was never read, whose parent was quarantined, or whose chain does not reach a
    thread start here (a deeper reply in such a thread, or a reply loop).
    """
    known = posts.get_column("post_id").implode()
    starts = posts.filter(pl.col("parent_id").is_null()).get_column("post_id").implode()
    state = posts.select(
        "post_id",
        ptr=pl.when(pl.col("parent_id").is_null()).then(pl.col("post_id"))
        .when(pl.col("parent_id").is_in(known)).then(pl.col("parent_id"))
        .otherwise(None),
    )
    for _ in range(MAX_CHAIN_ROUNDS):
        step = state.join(
            state.select(ptr="post_id", up="ptr"), on="ptr", how="left", maintain_order="left"
        ).select("post_id", ptr="up")
        if step.equals(state):
            break
        state = step
    frame = posts.join(state.rename({"ptr": "thread_id"}), on="post_id", how="left", maintain_order="left")
    placed = pl.col("thread_id").is_in(starts).fill_null(False)
    orphans = frame.filter(~placed).with_columns(
        # a pointer that settled on a non-start post is a loop; a missing ancestor leaves null
        reason=pl.when(pl.col("thread_id").is_not_null()).then(pl.lit("reply chain loops back on itself"))
        .when(pl.col("parent_id").is_in(known)).then(pl.lit("reply in a thread whose first post is not in the export"))
        .when(pl.col("parent_id").is_in(read_ids.implode())).then(pl.lit("reply to a quarantined post"))
        .otherwise(pl.lit("reply to a post not in the export"))
    )
    return frame.filter(placed), orphans


def community_hashtags(options: dict | None) -> list[str]:
    """The community hashtag(s) from forum_options (`hashtag: edchat` or a list), lowercase, no '#'."""
    value = (options or {}).get("hashtag") or (options or {}).get("hashtags")
    values = [value] if isinstance(value, str) else list(value or [])
    return [str(tag).strip().lstrip("#").lower() for tag in values if str(tag).strip().lstrip("#")]


MAX_ZIP_MEMBER_BYTES = 512 * 2**20


def read_zip_member(archive, info, path: Path | str, limit: int = MAX_ZIP_MEMBER_BYTES) -> bytes:
    """One member of a zip export, safely: a member whose declared size is over `limit`
    is refused, and one that expands past its declared size (a zip bomb lying in its
    directory) fails zipfile's own size and CRC checks, reported as one line."""
    import zipfile
    import zlib

    if info.file_size > limit:
        raise InputError(path, f"{info.filename} expands to {info.file_size // 2**20} MB, over the {limit // 2**20} MB limit")
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as error:
        raise InputError(path, f"{info.filename}: unreadable zip member ({error})") from error
