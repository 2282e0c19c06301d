"""X/Twitter account archives and hashtag-collection CSVs -> canonical posts and members.

Two layouts, read together (all twitter paths of a community in one call, so a reply in
one member's archive links to a tweet in another's or in a collection CSV):

(a) The account archive ("Download an archive of your data"; its own `README.txt`
    describes the files; `data/manifest.js` lists them). A zip, the unpacked folder, or
    the loose files. `data/tweets.js` (older archives: `data/tweet.js`; large ones add
    `tweets-part1.js`, ...) is JavaScript: `window.YTD.tweets.part0 = [` then JSON,
    items `{"tweet": {id_str, created_at "Wed Oct 10 20:19:24 +0000 2018", full_text,
    in_reply_to_status_id_str, in_reply_to_screen_name, entities {urls, user_mentions,
    hashtags, media}, extended_entities {media}, favorite_count, retweet_count, ...}}`
    (numbers are strings). The tweets do not name their author: `data/account.js`
    (`window.YTD.account.part0 = [{"account": {email, username, accountId, createdAt,
    accountDisplayName}}]`) does, so a loose tweets.js needs account.js beside it.
(b) Hashtag-collection CSVs from TAGS (Martin Hawksey's Twitter Archiving Google Sheet:
    id_str, from_user, text, created_at, time, geo_coordinates, user_lang,
    in_reply_to_user_id_str, in_reply_to_screen_name, from_user_id_str,
    in_reply_to_status_id_str, source, profile_image_url, user_followers_count,
    user_friends_count, user_location, status_url, entities_str) and similar collectors
    (rtweet's status_id/screen_name/reply_to_status_id/status_url/is_retweet, twarc's
    id/user_screen_name/tweet_url): the column names are matched by alias.

Ids mangled by spreadsheets. Tweet ids have 18-19 digits, beyond a double's 15-17, so
a sheet re-saved by Excel or Sheets turns 1234567890123456789 into `1.23457E+18` or
`1234567890123460000`. An id is treated as mangled when it is not plain digits
(scientific notation, a decimal point, separators) or when it has 17+ digits of which
at most 16 are significant and the last two or more are zeros (a real id ends in 00 1%
of the time, in 000 0.1%: those are recovered from status_url like the rest). The
tweet's id comes from `status_url` (`.../status/<id>` or TAGS' `.../statuses/<id>`)
whenever it is there, else from a clean id_str; a row with a mangled id and no
status_url is quarantined ("id mangled by a spreadsheet, no status_url to recover
it"): a mangled id is never used as a key. A mangled `in_reply_to_status_id_str` has
no URL to recover it from. Decision: when it still has 15+ significant digits, the
true parent lies within 10^4 of it (under a millisecond of Twitter's snowflake ids),
so the reply is linked to the one tweet in the export inside that window written by
`in_reply_to_screen_name` (or to the tweet with exactly that id: real ids can end in
zeros); otherwise (scientific notation, no unique match) the reply is quarantined
("reply whose parent id was mangled by a spreadsheet"). It is not kept as a thread
start: that would count a reply as a conversation started.

Mapping:
- author: the screen name (kind "username", platform twitter); an archive's account
  with an email is keyed by the email instead (the archive gives it; it links to
  surveys), and so are that account's tweets in collection CSVs (matched by username).
- posts: retweets ("RT @..." or is_retweet) are "excluded: retweet". Replies link by
  in_reply_to_status_id_str; a parent in none of the files (usually someone else's
  tweet) quarantines the reply ("reply to a post not in the export").
- body: full_text/text with t.co links expanded to their expanded_url, media links
  removed (counted as attachments), HTML entities decoded, every @mention -> "@member"
  and twitter.com/<user>/status/<id> links -> twitter.com/i/web/status/<id>.
- n_links: entities.urls (else URLs in the text); n_attachments: media;
  n_reactions: favorite_count (0 where a collector does not record it).
- created_at: created_at is UTC (Twitter's form or ISO); a collector's `time` column
  (the sheet's local time) is used only when created_at is missing, in the community
  timezone (formats ISO and TAGS' dd/mm/yyyy, or `forum_options: time_format`).
- channel: the community hashtag (`forum_options: hashtag: ukedchat`) as "#ukedchat"
  when the tweet carries it (a collection CSV is the hashtag's: always), else the CSV's
  name for collection rows and "twitter" for archive tweets.
- members: each archive's account (joined = createdAt) merged with tweet authors; no
  reading activity exists in either layout.
Not read: note-tweet.js (the full text of tweets over 280 characters; tweets.js holds
the truncated text), deleted-tweets.js, community-tweet.js, likes, DMs.
"""

from __future__ import annotations

import bisect
import html
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path, PurePosixPath

import polars as pl

from value_pipeline import schema
from value_pipeline.errors import InputError
from value_pipeline.ingest.common import (
    Account,
    ForumRead,
    ReadContext,
    community_hashtags,
    link_threads,
    local_datetime,
    merge_members,
    quarantine_frame,
    read_text,
    read_zip_member,
    split_by_reason,
)
from value_pipeline.ingest.detect import Sniff
from value_pipeline.text import count_urls

PLATFORM = "twitter"
KIND = "forum"

_YTD = re.compile(r"^\s*window\.YTD\.([A-Za-z_]+)\.part\d+\s*=\s*")
_TWEETS_FILE = re.compile(r"^tweets?(?:-part\d+)?\.js$")
MAX_JS_BYTES = 512 * 2**20
# The collector columns this reader uses, by canonical role: the first alias present wins.
ALIASES = {
    "id": ["id_str", "status_id", "tweet_id", "id"],
    "author": ["from_user", "screen_name", "user_screen_name"],
    "text": ["text", "full_text"],
    "created_at": ["created_at"],
    "time": ["time", "parsed_created_at"],
    "reply_id": ["in_reply_to_status_id_str", "reply_to_status_id", "in_reply_to_status_id"],
    "reply_user": ["in_reply_to_screen_name", "reply_to_screen_name"],
    "status_url": ["status_url", "tweet_url"],
    "entities": ["entities_str"],
    "favorites": ["favorite_count", "like_count"],
    "is_retweet": ["is_retweet"],
}
TWITTER_MARKERS = {"id_str", "from_user", "status_url", "tweet_url", "in_reply_to_status_id_str",
                   "in_reply_to_screen_name", "reply_to_status_id", "entities_str", "user_screen_name"}
TIME_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M"]
RECOVERY_MAX_UNIT = 10**4  # a mangled parent id is matched only when this precise (< 1 ms)
_NULL_IDS = ["", "NA", "N/A", "null", "None", "nan", "NaN", "0"]
_STATUS_LINK = r"https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/[A-Za-z0-9_]+/status(?:es)?/(\d+)"
_MENTION = r"(^|[^A-Za-z0-9_@])@[A-Za-z0-9_]+"


# ------------------------------------------------------------------ detection
def looks_like(sniff: Sniff) -> bool:
    """An X/Twitter archive (folder, zip, tweets.js/account.js) or a hashtag-collection CSV."""
    try:
        if sniff.is_dir:
            return any(_is_ytd(_head(path)) for path in _tweet_files_in(sniff.path)[:1])
        if sniff.zip_names:
            names = [n for n in sniff.zip_names if _TWEETS_FILE.match(PurePosixPath(n).name)]
            if not names:
                return False
            with zipfile.ZipFile(sniff.path) as archive, archive.open(names[0]) as handle:
                return _is_ytd(handle.read(256))
        head = sniff.head_text.lstrip()
        if head.startswith("window.YTD."):
            return bool(re.match(r"window\.YTD\.(tweets?|account)\.part\d+\s*=", head))
        return _is_collection_header(sniff.header)
    except (OSError, zipfile.BadZipFile, InputError, RuntimeError):
        return False


def _head(path: Path, size: int = 256) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


def _is_ytd(head: bytes) -> bool:
    return bool(re.match(rb"\s*window\.YTD\.tweets?\.part\d+\s*=", head.lstrip(b"\xef\xbb\xbf")))


def _tweet_files_in(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*.js") if _TWEETS_FILE.match(path.name))


def _is_collection_header(header: list[str]) -> bool:
    columns = {name.strip().lower() for name in header}
    roles = [bool(columns & set(ALIASES[role])) for role in ("id", "author", "text")]
    timed = bool(columns & {"created_at", "time", "parsed_created_at"})
    return all(roles) and timed and bool(columns & TWITTER_MARKERS)


# ------------------------------------------------------------------ archives
@dataclass
class _Archive:
    where: str
    tweets: list[tuple[str, bytes | Path]] = field(default_factory=list)  # (source name, content)
    account: tuple[str, bytes | Path] | None = None


def _decode(where: str, content: bytes | Path) -> str:
    if isinstance(content, Path):
        try:
            size = content.stat().st_size
        except OSError as error:
            raise InputError(where, f"cannot read: {error.strerror}") from error
        if size > MAX_JS_BYTES:
            raise InputError(where, f"the file is {size // 2**20} MB, over the {MAX_JS_BYTES // 2**20} MB limit")
        content = content.read_bytes()
    if not content.strip():
        raise InputError(where, "the file is empty")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(where, f"not UTF-8 text (byte {error.start}): expected an archive data file") from error


def parse_ytd(where: str, content: bytes | Path) -> tuple[str, list]:
    """(data type, items) of an archive data file: `window.YTD.<type>.partN = [ ... ]`."""
    text = _decode(where, content)
    match = _YTD.match(text)
    if not match:
        raise InputError(where, "not an X/Twitter archive data file (expected 'window.YTD.<name>.part0 = [')")
    try:
        data = json.loads(text[match.end():])
    except json.JSONDecodeError as error:
        raise InputError(where, f"not valid JSON after the window.YTD assignment: {error.msg} at line {error.lineno}") from error
    except RecursionError as error:
        raise InputError(where, "JSON nested too deeply to be an export") from error
    if not isinstance(data, list):
        raise InputError(where, "the archive data is not a list")
    return match.group(1), data


def _zip_archives(path: Path) -> dict[str, _Archive]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise InputError(path, f"not a readable zip: {error}") from error
    found: dict[str, _Archive] = {}
    with archive:
        for info in archive.infolist():
            name = PurePosixPath(info.filename)
            if name.is_absolute() or ".." in name.parts:
                raise InputError(path, f"unsafe path in zip: {info.filename}")
            if info.is_dir() or not (_TWEETS_FILE.match(name.name) or name.name == "account.js"):
                continue
            if info.file_size > MAX_JS_BYTES:
                raise InputError(path, f"{info.filename} expands to more than {MAX_JS_BYTES // 2**20} MB")
            content = read_zip_member(archive, info, path, MAX_JS_BYTES)
            where = f"{path}!{name.parent.as_posix()}"
            group = found.setdefault(where, _Archive(where))
            source = f"{path}!{info.filename}"
            if name.name == "account.js":
                group.account = (source, content)
            else:
                group.tweets.append((source, content))
    return found


def _collect(paths: list[Path], member_files: list[Path]) -> tuple[list[_Archive], list[Path]]:
    """(archives, collection CSVs) among the paths; loose .js files grouped by folder."""
    groups: dict[str, _Archive] = {}
    csvs: list[Path] = []
    for path in paths:
        if path.is_dir():
            tweet_files = _tweet_files_in(path)
            if not tweet_files:
                raise InputError(path, "not an X/Twitter archive: no data/tweets.js in the folder")
            for file in [*tweet_files, *path.rglob("account.js")]:
                _add(groups.setdefault(str(file.parent), _Archive(str(file.parent))), file)
        elif path.is_file() and zipfile.is_zipfile(path):
            found = _zip_archives(path)
            if not any(group.tweets for group in found.values()):
                raise InputError(path, "not an X/Twitter archive: no data/tweets.js in the zip")
            groups.update(found)
        elif path.is_file() and Sniff(path).head_text.lstrip().startswith("window.YTD."):
            _add(groups.setdefault(str(path.parent), _Archive(str(path.parent))), path)
        elif path.is_file():
            csvs.append(path)
        else:
            raise InputError(path, "no such file or folder")
    for file in member_files:  # an archive's account.js may sit in members/
        if file.is_file() and file.name == "account.js" and str(file.parent) not in groups:
            groups[str(file.parent)] = _Archive(str(file.parent), [], (str(file), file))
    for group in groups.values():  # loose tweets.js: its account.js beside it
        sibling = Path(group.where) / "account.js"
        if group.tweets and group.account is None and "!" not in group.where and sibling.is_file():
            group.account = (str(sibling), sibling)
    # Tweets still without an account take the one account given alone, when there is
    # exactly one of each (otherwise whose tweets are whose would be a guess).
    lone = [group for group in groups.values() if group.account and not group.tweets]
    unnamed = [group for group in groups.values() if group.tweets and group.account is None]
    if len(unnamed) == 1 and len(lone) == 1:
        unnamed[0].account = lone[0].account
        del groups[lone[0].where]
    return list(groups.values()), csvs


def _add(group: _Archive, file: Path) -> None:
    if file.name == "account.js":
        group.account = (str(file), file)
    elif (str(file), file) not in group.tweets:
        group.tweets.append((str(file), file))


def _account(group: _Archive) -> dict | None:
    if group.account is None:
        return None
    where, content = group.account
    kind, items = parse_ytd(where, content)
    entry = items[0] if items and isinstance(items[0], dict) else {}
    account = entry.get("account", entry) if isinstance(entry, dict) else {}
    if kind != "account" or not isinstance(account, dict) or not account.get("username"):
        raise InputError(where, "not an archive account.js: no account with a username")
    return account


def _archive_records(group: _Archive) -> tuple[dict | None, list[dict]]:
    account = _account(group)
    if group.tweets and account is None:
        raise InputError(group.tweets[0][0], "no account.js beside it: the archive's tweets do not name their author")
    records = []
    for where, content in group.tweets:
        kind, items = parse_ytd(where, content)
        if kind not in {"tweets", "tweet"}:
            raise InputError(where, f"not a tweets file (window.YTD.{kind})")
        for row, item in enumerate(items):
            tweet = item.get("tweet", item) if isinstance(item, dict) else None
            if not isinstance(tweet, dict):
                records.append({"_file": where, "_row": row, "malformed": True})
                continue
            entities = tweet.get("entities") if isinstance(tweet.get("entities"), dict) else {}
            media = (tweet.get("extended_entities") or {}).get("media") if isinstance(tweet.get("extended_entities"), dict) else None
            text = tweet.get("full_text") if isinstance(tweet.get("full_text"), str) else tweet.get("text")
            records.append({
                "_file": where, "_row": row, "malformed": False, "kind": "archive",
                "id_raw": _string(tweet.get("id_str") or tweet.get("id")),
                "reply_raw": _string(tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id")),
                "reply_user": _string(tweet.get("in_reply_to_screen_name")),
                "author": account["username"],
                "created_raw": _string(tweet.get("created_at")),
                "favorites": _string(tweet.get("favorite_count")),
                "retweet": isinstance(text, str) and text.startswith("RT @"),
                **_tweet_text(text, {**entities, **({"media": media} if isinstance(media, list) else {})}),
            })
    return account, records


def _string(value) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


def _tweet_text(text, entities) -> dict:
    """Body (t.co links expanded, media links removed, entities decoded), links, media, hashtags."""
    text = text if isinstance(text, str) else ""
    if not isinstance(entities, dict):
        return {"text": html.unescape(text).strip(), "n_links": count_urls(text), "n_media": 0, "hashtags": []}
    urls = [u for u in entities.get("urls") or [] if isinstance(u, dict)]
    media = [m for m in entities.get("media") or [] if isinstance(m, dict)]
    for url in urls:
        if isinstance(url.get("url"), str) and isinstance(url.get("expanded_url"), str):
            text = text.replace(url["url"], url["expanded_url"])
    for item in media:
        if isinstance(item.get("url"), str):
            text = text.replace(item["url"], "")
    hashtags = [str(h.get("text", "")).lower() for h in entities.get("hashtags") or [] if isinstance(h, dict)]
    return {"text": html.unescape(text).strip(), "n_links": len(urls), "n_media": len(media), "hashtags": hashtags}


def _entities_text(row: dict) -> dict:
    """_tweet_text for a collector row whose entities are a JSON string (TAGS' entities_str)."""
    entities = None
    if row.get("entities"):
        try:
            entities = json.loads(row["entities"])
        except (json.JSONDecodeError, RecursionError):
            entities = None
    return _tweet_text(row.get("text"), entities)


# ------------------------------------------------------------------ collection CSVs
def _collection(path: Path, hashtags: list[str]) -> pl.DataFrame:
    text = read_text(path)
    try:
        frame = pl.read_csv(io.StringIO(text), infer_schema=False, truncate_ragged_lines=False)
    except pl.exceptions.PolarsError as error:
        raise InputError(path, f"not a readable CSV: {str(error).splitlines()[0]}") from error
    frame = frame.rename({name: name.strip().lower() for name in frame.columns})
    chosen = {role: next((a for a in aliases if a in frame.columns), None) for role, aliases in ALIASES.items()}
    missing = [ALIASES[role][0] for role in ("id", "author", "text") if chosen[role] is None]
    if chosen["created_at"] is None and chosen["time"] is None:
        missing.append("created_at")
    if missing:
        raise InputError(path, f"not a hashtag-collection CSV: missing column(s) {', '.join(missing)}")
    columns = {role: (pl.col(name) if name else pl.lit(None, pl.String)).alias(role) for role, name in chosen.items()}
    frame = frame.select(*columns.values()).with_columns(
        _file=pl.lit(str(path)), _row=pl.int_range(pl.len(), dtype=pl.Int64), malformed=pl.lit(False), kind=pl.lit("csv"),
        channel=pl.lit(f"#{hashtags[0]}" if hashtags else path.stem),
    )
    parsed = frame.select(pl.struct("text", "entities").map_elements(
        _entities_text,
        return_dtype=pl.Struct({"text": pl.String, "n_links": pl.Int64, "n_media": pl.Int64, "hashtags": pl.List(pl.String)}),
    ).alias("parsed")).unnest("parsed")
    return frame.drop("text").hstack(parsed).select(
        "_file", "_row", "malformed", "kind", "channel", "hashtags",
        id_raw="id", reply_raw="reply_id", reply_user="reply_user", author="author", created_raw="created_at",
        time_raw="time", status_url="status_url", favorites="favorites", text="text", n_links="n_links", n_media="n_media",
        retweet=pl.col("text").str.starts_with("RT @").fill_null(False)
        | pl.col("is_retweet").str.to_lowercase().is_in(["true", "1", "yes"]).fill_null(False),
    )


# ------------------------------------------------------------------ ids
def _blank(column: str) -> pl.Expr:
    return pl.col(column).is_null() | pl.col(column).str.strip_chars().is_in(_NULL_IDS)


def mangled_id(column: str) -> pl.Expr:
    """An id a spreadsheet has rounded: not plain digits, or 17+ digits ending in 00 with <= 16 significant."""
    value = pl.col(column).str.strip_chars()
    digits = value.str.contains(r"^\d+$")
    significant = value.str.strip_chars_end("0").str.len_chars()
    zeros = value.str.len_chars() - significant
    rounded = digits & (value.str.len_chars() >= 17) & (significant <= 16) & (zeros >= 2)
    return ~_blank(column) & (~digits | rounded)


def _recover_parents(rows: pl.DataFrame, posts: pl.DataFrame) -> dict[int, str]:
    """Rows (by _key) whose mangled-looking parent id is a tweet in the export, or lies
    within its precision of exactly one tweet by the replied-to author."""
    if rows.height == 0:
        return {}
    known = sorted((int(pid), (author or "").lower()) for pid, author in posts.select("post_id", "author").iter_rows())
    ids = [pid for pid, _ in known]
    recovered = {}
    for key, raw, reply_user in rows.select("_key", "reply_raw", "reply_user").iter_rows():
        window = _precision(raw)
        if window is None:
            continue
        value, unit = window
        low, high = bisect.bisect_left(ids, value - unit), bisect.bisect_right(ids, value + unit)
        candidates = [pid for pid, author in known[low:high] if not reply_user or author == reply_user.lower()]
        if value in candidates:  # a real id that merely ends in zeros
            candidates = [value]
        if len(candidates) == 1:
            recovered[key] = str(candidates[0])
    return recovered


def _precision(raw: str) -> tuple[int, int] | None:
    """(value, unit of its last significant digit) of a mangled id, when precise enough to match."""
    text = (raw or "").strip().replace(",", "")
    if re.fullmatch(r"\d+", text):
        value, significant = int(text), len(text.rstrip("0"))
    else:
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
        if not number.is_finite() or number <= 0:
            return None
        value, significant = int(number), len(number.normalize().as_tuple().digits)
    unit = 10 ** max(len(str(value)) - significant, 0)
    return (value, unit) if unit <= RECOVERY_MAX_UNIT else None


# ------------------------------------------------------------------ reading
FRAME_SCHEMA = {
    "_file": pl.String, "_row": pl.Int64, "malformed": pl.Boolean, "kind": pl.String, "channel": pl.String,
    "hashtags": pl.List(pl.String), "id_raw": pl.String, "reply_raw": pl.String, "reply_user": pl.String,
    "author": pl.String, "created_raw": pl.String, "time_raw": pl.String, "status_url": pl.String,
    "favorites": pl.String, "text": pl.String, "n_links": pl.Int64, "n_media": pl.Int64, "retweet": pl.Boolean,
}


def read(paths: list[Path], context: ReadContext) -> ForumRead:
    """Read X/Twitter archives and hashtag-collection CSVs into canonical posts and members."""
    community, pseudonymizer = context.community, context.pseudonymizer
    hashtags = community_hashtags(context.options)
    archives, csvs = _collect([Path(path) for path in paths], list(context.member_files))
    accounts, frames = [], []
    for group in archives:
        account, records = _archive_records(group)
        if account is not None:
            accounts.append({**account, "_file": group.account[0] if group.account else group.where})
        if records:
            frame = pl.DataFrame(records, schema={k: v for k, v in FRAME_SCHEMA.items() if k != "channel"})
            frames.append(frame.with_columns(
                channel=_hashtag_channel(hashtags, pl.lit(PLATFORM))
            ))
    for path in csvs:
        frames.append(_collection(path, hashtags).with_columns(channel=_hashtag_channel(hashtags, pl.col("channel"))))
    raw = pl.concat([frame.select(list(FRAME_SCHEMA)) for frame in frames]) if frames else pl.DataFrame(schema=FRAME_SCHEMA)

    keys = _Keys(accounts, pseudonymizer, context.staff)
    posts, post_quarantine, post_account = _posts(raw, keys, community, context)
    members, member_quarantine, member_account = _members(accounts, keys, posts, community)
    return ForumRead(
        platform=PLATFORM,
        posts=posts,
        members=members,
        quarantine=pl.concat([post_quarantine, member_quarantine]),
        accounts=[post_account, member_account],
        files=[str(path) for path in paths],
    )


def _hashtag_channel(hashtags: list[str], otherwise: pl.Expr) -> pl.Expr:
    expr = otherwise
    for tag in reversed(hashtags):
        expr = pl.when(pl.col("hashtags").list.contains(tag).fill_null(False)).then(pl.lit(f"#{tag}")).otherwise(expr)
    return expr


class _Keys:
    """Screen name -> author_key (the archive's email where known) and staff flag."""

    def __init__(self, accounts: list[dict], pseudonymizer, staff):
        self.pseudonymizer = pseudonymizer
        self.emails = {str(a["username"]).lower(): a["email"] for a in accounts if a.get("username") and a.get("email")}
        self.staff = {name.strip().lower().lstrip("@") for name in staff}

    def key(self, username: str) -> str | None:
        email = self.emails.get(username.lower())
        return self.pseudonymizer.key("email", email) if email else self.pseudonymizer.key("username", username.lstrip("@"), PLATFORM)

    def is_staff(self, username: str) -> bool:
        name = username.lower().lstrip("@")
        return name in self.staff or self.emails.get(name, "").lower() in self.staff

    def frame(self, usernames: pl.Series) -> pl.DataFrame:
        unique = [u for u in usernames.drop_nulls().unique().to_list() if u.strip()]
        return pl.DataFrame(
            {"author": unique, "author_key": [self.key(u) for u in unique], "is_staff": [self.is_staff(u) for u in unique]},
            schema={"author": pl.String, "author_key": pl.String, "is_staff": pl.Boolean},
        )


def _created(context: ReadContext) -> pl.Expr:
    text = pl.col("created_raw").str.strip_chars()
    utc = pl.coalesce(
        text.str.to_datetime("%a %b %d %H:%M:%S %z %Y", strict=False).dt.convert_time_zone("UTC"),
        text.str.to_datetime("%Y-%m-%dT%H:%M:%S%#z", strict=False).dt.convert_time_zone("UTC"),
        text.str.strip_suffix("Z").str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False).dt.replace_time_zone("UTC"),
        text.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False).dt.replace_time_zone("UTC"),
    ).dt.cast_time_unit("us")
    formats = [context.options["time_format"], *TIME_FORMATS] if context.options.get("time_format") else TIME_FORMATS
    return pl.coalesce(utc, local_datetime("time_raw", formats, context.timezone))


def _posts(raw: pl.DataFrame, keys: _Keys, community: str, context: ReadContext):
    frame = raw.with_columns(_key=pl.int_range(pl.len(), dtype=pl.Int64)).join(keys.frame(raw.get_column("author")), on="author", how="left", maintain_order="left")
    url_id = pl.col("status_url").str.extract(r"/status(?:es)?/(\d+)", 1)
    id_mangled = mangled_id("id_raw")
    frame = frame.with_columns(
        post_id=pl.coalesce(url_id, pl.when(~id_mangled & ~_blank("id_raw")).then(pl.col("id_raw").str.strip_chars())),
        id_mangled=id_mangled,
        created=_created(context),
        favorites=pl.col("favorites").str.strip_chars().cast(pl.Int64, strict=False),
    ).with_columns(
        duplicate=pl.col("post_id").is_not_null() & (pl.int_range(pl.len()).over("post_id") > 0),
    ).with_columns(
        reason=pl.when(pl.col("malformed")).then(pl.lit("not a tweet object"))
        .when(pl.col("post_id").is_null() & pl.col("id_mangled")).then(pl.lit("id mangled by a spreadsheet, no status_url to recover it"))
        .when(pl.col("post_id").is_null()).then(pl.lit("missing tweet id"))
        .when(pl.col("author_key").is_null()).then(pl.lit("missing author"))
        .when(pl.col("created").is_null()).then(pl.lit("missing or unreadable created_at"))
        .when(pl.col("duplicate")).then(pl.lit("duplicate tweet id (already read)"))
        .when(pl.col("retweet")).then(pl.lit("excluded: retweet"))
        .otherwise(None)
    )
    accepted, rejected = split_by_reason(frame)
    # Parents: a clean id as is. A mangled-looking one precise enough to match (see above)
    # is first looked up as written among the id_str of every row read: one row by the
    # replied-to author written the same way (the same rounding, or a real id ending in
    # zeros) is the parent, even a quarantined one; else it is matched by its precision.
    reply_mangled = mangled_id("reply_raw")
    written = pl.col("reply_raw").str.strip_chars()
    precise = [v for v in accepted.filter(reply_mangled).select(written).to_series().unique().to_list() if _precision(v)]
    as_written = (
        frame.with_columns(reply_text=pl.col("id_raw").str.strip_chars())
        .filter(pl.col("reply_text").is_in(precise))
        .group_by("reply_text")
        .agg(
            written_id=pl.col("post_id").first(), written_ok=pl.col("reason").is_null().first(),
            written_author=pl.col("author").str.to_lowercase().first(), n=pl.len(),
        )
        .filter(pl.col("n") == 1)
    )
    accepted = accepted.with_columns(reply_text=written).join(as_written, on="reply_text", how="left", maintain_order="left")
    same_author = pl.col("reply_user").is_null() | (pl.col("reply_user").str.to_lowercase() == pl.col("written_author"))
    accepted = accepted.with_columns(written_ok=pl.when(same_author).then(pl.col("written_ok")))
    unmatched = accepted.filter(reply_mangled & pl.col("written_ok").is_null())
    recovered = _recover_parents(unmatched, accepted)
    by_precision = pl.col("_key").replace_strict(recovered, default=None, return_dtype=pl.String)
    accepted = accepted.with_columns(
        parent_id=pl.when(_blank("reply_raw")).then(None)
        .when(~reply_mangled).then(pl.col("reply_raw").str.strip_chars())
        .when(pl.col("written_ok")).then(pl.col("written_id"))
        .otherwise(by_precision),
        reason=pl.when(~reply_mangled).then(None)
        .when(~pl.col("written_ok").fill_null(True)).then(pl.lit("reply to a quarantined post"))
        .when(pl.col("written_ok").is_null() & by_precision.is_null())
        .then(pl.lit("reply whose parent id was mangled by a spreadsheet (cannot be linked)")),
    )
    accepted, unlinkable = split_by_reason(accepted)
    linked, orphans = link_threads(accepted, frame.get_column("post_id").drop_nulls())
    text = (
        pl.col("text").fill_null("")
        .str.replace_all(_STATUS_LINK, "https://twitter.com/i/web/status/${1}")
        .str.replace_all(_MENTION, "${1}@member")
    )
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
        body_text=text,
        is_thread_start=pl.col("parent_id").is_null(),
        n_reactions=pl.col("favorites").fill_null(0),
        n_links=pl.col("n_links").fill_null(0),
        n_attachments=pl.col("n_media").fill_null(0),
        is_staff=pl.col("is_staff").fill_null(False),
        source_file=pl.col("_file"),
        source_row=pl.col("_row"),
    )
    posts = schema.conform(posts, schema.POSTS)
    rows = pl.concat([rejected, unlinkable, orphans], how="diagonal").with_columns(body=text)
    quarantine = quarantine_frame(
        community, "posts", rows.rename({"_file": "source_file", "_row": "source_row"}),
        ["id_raw", "reply_raw", "created_raw", "body"],
    )
    return posts, quarantine, Account("posts", "tweet", raw.height, posts.height, quarantine.height)


def _members(accounts: list[dict], keys: _Keys, posts: pl.DataFrame, community: str):
    frame = pl.DataFrame(
        [
            {
                "author_key": keys.key(str(a["username"])),
                "is_staff": keys.is_staff(str(a["username"])),
                "joined": _string(a.get("createdAt")),
                "source_file": a["_file"],
            }
            for a in accounts
        ],
        schema={"author_key": pl.String, "is_staff": pl.Boolean, "joined": pl.String, "source_file": pl.String},
    ).with_columns(source_row=pl.lit(0, pl.Int64))
    frame = frame.with_columns(
        reason=pl.when(pl.int_range(pl.len()).over("author_key") > 0)
        .then(pl.lit("duplicate archive of the same account (already read)"))
        .otherwise(None)
    )
    accepted, rejected = split_by_reason(frame)
    listed = accepted.select(
        community=pl.lit(community),
        author_key="author_key",
        joined_at=pl.col("joined").str.to_datetime(time_zone="UTC", strict=False),
        role=pl.when(pl.col("is_staff")).then(pl.lit("staff")).otherwise(pl.lit("member")),
        is_staff="is_staff",
    )
    members = merge_members(listed, posts, community)
    quarantine = quarantine_frame(community, "members", rejected, ["joined"])
    return members, quarantine, Account("members", "account", frame.height, accepted.height, quarantine.height)
