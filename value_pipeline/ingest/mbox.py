"""Mailing-list archives in mbox format -> canonical posts and members.

What this reads (each path a file, a folder or a zip; `.gz` files are decompressed):
- an mbox file (RFC 4155, "application/mbox"): messages one after another, each
  starting with a `From <sender> <date>` separator line, then RFC 5322 headers and a
  MIME body. Lines of the body that begin with "From " are escaped as ">From "
  (mboxo) or every ">*From " gains one ">" (mboxrd); the escaping is undone here.
- Google Groups archives (a Google Vault export of a group is zip files of mbox files,
  per Vault's "export contents" help page; a member's Gmail Takeout is an mbox), with
  `List-ID`, `X-Original-Sender` and, when the group rewrites senders for DMARC,
  `From: 'Ana' via Group <group@googlegroups.com>`.
- Mailman archives: Mailman 2 Pipermail monthly `YYYY-Month.txt(.gz)` files (headers
  cut down to From/Date/Subject/In-Reply-To/References/Message-ID, senders written
  `ana at school.example (Ana Ruiz)`, attachments replaced by "-------------- next
  part --------------" notices) and Mailman 3 / HyperKitty `.mbox.gz` downloads.
Messages are parsed with Python's `mailbox` and `email` packages (EmailMessage with
compat32 header handling, for speed; headers decoded with email.header/email.utils);
the formats are documented in RFC 4155 (mbox), RFC 5322 (headers, threading ids),
RFC 2045-2047 and 2231 (MIME, encoded words), RFC 3834 (Auto-Submitted), RFC 2919
(List-Id), RFC 3676 (the "-- " signature separator) and Mailman's archiver docs.

All paths given to `read` are one archive (ONE_EXPORT_PER_PATH is False on purpose):
Pipermail writes one mailbox per month and threads cross months; a cross-post sits in
two lists' mailboxes and must be found as a duplicate.

One row per message: post_id is a SHA-256 digest (16 hex) of the Message-ID, so ids
are stable across runs and files, and no Message-ID (which can embed a sender's
address or host) reaches an output column. A message without a Message-ID gets an id
derived from its Date, From and Subject ("derived-..."), noted in the result.

Threading: the parent is the In-Reply-To message when it is in the export, else the
last References id that is in the export (the deepest ancestor present, so a reply
whose direct parent is missing attaches to the nearest ancestor in the archive). A
message with neither header but a "Re:"/"AW:"/"Fwd:" subject is matched by subject
(prefixes and "[list]" tags stripped) to the earliest earlier message of the same list.
thread_id is the root message's post_id. A message that says it is a reply (threading
headers, or a reply prefix on its subject) but has no ancestor in the export is
quarantined as "reply to a post not in the export", and so are replies below it: this
reader does not guess a thread start for it. Forwards ("Fwd:") with no ancestor in the
export start a thread (mail clients add the forwarded message's id to References).

Row rules: an automated message (Auto-Submitted other than "no", a delivery report or
bounce, a digest, mail from MAILER-DAEMON/postmaster/no-reply or a list's -bounces,
-request or -owner address, Precedence junk or auto_reply, or Precedence bulk without
list headers) is "excluded: automated message". Precedence bulk/list alone is not
enough: list servers (Mailman, Google Groups, Yahoo Groups) stamp it on every post. A
missing or unparseable Date (or one in the future or before 1971: a wrong clock), a
missing From address, and a second copy of a Message-ID (cross-posts, Takeout
duplicates) are quarantined with their reasons. Dates carry their offset and are
converted to UTC; a zone-less date is read in the community's timezone, "-0000" as UTC.

Author: the From address, keyed as an email (it links list members to survey
respondents); when the list rewrote From to its own address, X-Original-From,
X-Original-Sender or Reply-To gives the sender. Display names never leave the reader.
Staff: a From address listed in community.yaml's staff (email entries; a username
cannot be matched to an address).
Channel: the list label from List-Id (`<teachers-list.lists.example>` -> teachers-list),
else the mailbox file's name (for generic names such as Pipermail's "2026-January" or
"messages", the folder or zip holding it). Title: the subject of thread
starts, without reply prefixes and list tags.

Body: text/plain preferred over text/html (converted to text); transfer encodings are
decoded by the email package; the declared charset is tried after UTF-8 (Latin-1 and
ASCII labels read as Windows-1252, as browsers do), falling back to Windows-1252 and
Latin-1, so no body fails to decode. Quoted text ("> " lines, "On <date>, <name> wrote:"
blocks, Outlook "-----Original Message-----" and From:/Sent: blocks, Gmail/Outlook
HTML quote containers), signatures after "-- " and list footers are removed so the
text is the author's own words; if nothing would be left, the text is kept whole.
Attachments (MIME parts with a filename or attachment disposition, non-text parts,
attached messages, Pipermail's scrubbed-attachment notices) are counted, never read.

Not handled: MMDF and Maildir folders, single .eml files, HTML archive pages, S/MIME
encrypted bodies (they count as attachments with empty text). mbox has no member list:
members are the authors seen.
"""

from __future__ import annotations

import gzip
import hashlib
import mailbox
import re
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email import policy
from email.errors import HeaderParseError
from email.header import decode_header
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path, PurePosixPath

import polars as pl

from value_pipeline import schema
from value_pipeline.errors import InputError
from value_pipeline.ingest.common import (
    Account,
    ForumRead,
    ReadContext,
    members_from_posts,
    quarantine_frame,
    split_by_reason,
)
from value_pipeline.ingest.detect import Sniff
from value_pipeline.text import count_urls, html_links_series, html_to_text_series

PLATFORM = "mbox"
KIND = "forum"
# Not True: a list's archive often comes as several mailboxes (Pipermail writes one per
# month) and threads cross them; cross-posts appear in two lists' mailboxes. Reading all
# of a community's mbox paths together keeps those threads and finds those duplicates.
ONE_EXPORT_PER_PATH = False

MAX_MAILBOX_BYTES = 8 * 2**30  # one decompressed mailbox
MAX_TOTAL_BYTES = 32 * 2**30  # everything decompressed from one zip
EARLIEST = datetime(1971, 1, 1, tzinfo=timezone.utc)  # 1970 dates come from unset clocks
SNIFF_FILES = 40  # files or zip members looked at by looks_like
HEAD_BYTES = 8192

_FROM_LINE = re.compile(r"From \S+.*\d{1,2}:\d{2}")
_HEADER_NAMES = re.compile(r"^(from|date|subject|message-id|received|return-path|delivered-to|x-gm-thrid)[ \t]*:", re.I | re.M)
_MAILBOX_SUFFIXES = (".mbox", ".mbx", ".mbox.gz", ".txt", ".txt.gz", ".gz", "")
_MONTH_ARCHIVE = re.compile(
    r"\d{4}-(january|february|march|april|may|june|july|august|september|october|november|december)"
    r"|\d{4}(-\d{2})?|messages|mbox|inbox|archive|all mail.*",
    re.I,
)
_CONTAINER_NAMES = {"forum", "forums", "export", "exports", "takeout", "groups", "mbox", ""}
_MBOXRD_ESCAPE = re.compile(rb"^>(>*From )", re.M)
_MSGID = re.compile(r"<([^<>\s]+)>")
_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?P<kind>re|aw|sv|antw|fwd?|wg|tr)\s*(?:\[\d+\]|\(\d+\))?\s*:|\[[^\]\n]{1,60}\])\s*", re.I
)
_REPLY_PREFIXES = {"re", "aw", "sv", "antw"}
_DIGEST_SUBJECT = re.compile(r"\bdigest\b(?:,?\s+vol|\s+for\s)", re.I)
_ROBOT_LOCALS = {"mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply", "mailman", "listserv"}
_ROBOT_SUFFIXES = ("-bounces", "-request", "-owner")
_SIGNATURE_TYPES = {"application/pgp-signature", "application/pkcs7-signature", "application/x-pkcs7-signature"}
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_ANGLE_ADDRESS = re.compile(r"<\s*([^<>@\s\"]+@[^<>@\s\"]+)\s*>")
_OBFUSCATED = re.compile(r"\b([\w.+'-]+) at ([\w-]+(?:\.[\w-]+)+)\b")

# Quoted text and what mail clients put around it.
_ATTRIBUTION = re.compile(
    r"^(?:On\b.{0,240}\bwrote\s?:|Am\b.{0,240}\bschrieb\b.{0,120}:|Le\b.{0,240}\ba\s+écrit\s?:"
    r"|El\b.{0,240}\bescribió\s?:|Op\b.{0,240}\bschreef\b.{0,120}:)\s*$",
    re.I,
)
_WRAPPED_START = re.compile(r"^(?:On|Am|Le|El|Op)\s", re.I)  # attribution lines wrapped in two
_GENERIC_ATTRIBUTION = re.compile(r"^.{1,120}\bwrote\s?:\s*$", re.I)
_ORIGINAL_MESSAGE = re.compile(r"^\s*-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine)\s*-{2,}\s*$", re.I)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(?:From|Von|De)\s*:\*?\s+\S")
_OUTLOOK_SENT = re.compile(r"^\s*\*?(?:Sent|Date|Gesendet|Datum|Envoyé)\s*:\*?\s+\S")
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_GOOGLE_FOOTER = re.compile(r"^You received this message because you are subscribed to the Google Groups", re.I)
_NEXT_PART = "-------------- next part --------------"
_HTML_QUOTE_MARKERS = re.compile(
    r"<div[^>]*\bclass=[\"']?(?:gmail_quote|moz-cite-prefix|yahoo_quoted)\b"
    r"|<blockquote[^>]*\b(?:type=[\"']?cite|class=[\"']?gmail_quote)"
    r"|<div[^>]*\bid=[\"']?(?:appendonsend|divRplyFwdMsg)\b"
    r"|<hr[^>]*\bid=[\"']?stopSpelling",
    re.I,
)
_BLANK_LINES = re.compile(r"\n\s*\n+")
_SURROGATES = re.compile("[\udc80-\udcff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# ----------------------------------------------------------------------- detection
def looks_like(sniff: Sniff) -> bool:
    """An mbox file (plain or gzip), or a folder or zip holding one, by its first bytes."""
    try:
        if sniff.is_dir:
            return any(_is_mbox_head(_file_head(path)) for path in _candidates(sniff.path)[:SNIFF_FILES])
        if sniff.zip_names:
            with zipfile.ZipFile(sniff.path) as archive:
                names = _ordered([n for n in sniff.zip_names if not n.endswith("/")])[:SNIFF_FILES]
                return any(_is_mbox_head(_zip_head(archive, name)) for name in names)
        return _is_mbox_head(_gunzip_head(sniff.head_bytes))
    except (InputError, OSError, zipfile.BadZipFile, EOFError, zlib.error, RuntimeError, ValueError):
        return False


def _is_mbox_head(data: bytes) -> bool:
    """A "From " separator line with a time in it, then at least one mail header."""
    text = data.decode("latin-1").replace("\r\n", "\n").lstrip("\n")
    first, _, rest = text.partition("\n")
    if not first.startswith("From ") or not _FROM_LINE.match(first):
        return False
    return bool(_HEADER_NAMES.search(rest.split("\n\n", 1)[0]))


def _gunzip_head(data: bytes) -> bytes:
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, HEAD_BYTES)
    except zlib.error:
        return b""


def _file_head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return _gunzip_head(handle.read(HEAD_BYTES))


def _zip_head(archive: zipfile.ZipFile, name: str) -> bytes:
    with archive.open(name) as handle:
        return _gunzip_head(handle.read(HEAD_BYTES))


def _ordered(names: list[str]) -> list[str]:
    """Likely mailbox names first (the content decides; this only orders the looking)."""
    return sorted(names, key=lambda name: (not name.lower().endswith(_MAILBOX_SUFFIXES[:-1]), name))


def _candidates(folder: Path) -> list[Path]:
    files = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]
    by_name = {p.relative_to(folder).as_posix(): p for p in files}
    return [by_name[name] for name in _ordered(list(by_name))]


# ------------------------------------------------------------------------ sources
@dataclass
class _Mailbox:
    source: str  # what source_file says: the path, or zip!member
    path: Path  # a plain mbox file on disk (a temporary copy for zip members and .gz)
    channel: str  # channel when messages carry no List-Id


def _channel_hint(name: str, container: str) -> str:
    stem = name
    for suffix in (".gz", ".mbox", ".mbx", ".txt"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    if _MONTH_ARCHIVE.fullmatch(stem) and container.lower() not in _CONTAINER_NAMES:
        return container
    return stem or container


def _copy_limited(source, target: Path, where: str, budget: list[int]) -> None:
    """Stream-copy with a size cap (a zip or gzip bomb stops with an InputError)."""
    written = 0
    with target.open("wb") as out:
        while chunk := source.read(1 << 20):
            written += len(chunk)
            budget[0] -= len(chunk)
            if written > MAX_MAILBOX_BYTES or budget[0] < 0:
                raise InputError(where, "expands to more than the size limit for a mailbox (a zip or gzip bomb?)")
            out.write(chunk)


def _temporary(tmp: Path) -> Path:
    with tempfile.NamedTemporaryFile(dir=tmp, suffix=".mbox", delete=False) as handle:
        return Path(handle.name)


def _plain_copy(path: Path, where: str, tmp: Path, budget: list[int]) -> Path:
    """The mailbox as a plain file: itself, or a decompressed temporary copy of a .gz."""
    with path.open("rb") as handle:
        magic = handle.read(2)
    if magic != b"\x1f\x8b":
        return path
    target = _temporary(tmp)
    try:
        with gzip.open(path, "rb") as source:
            _copy_limited(source, target, where, budget)
    except (OSError, EOFError, zlib.error) as error:
        raise InputError(where, f"not a readable gzip file: {error}") from error
    return target


def _mailboxes(path: Path, tmp: Path, notes: list[str]) -> list[_Mailbox]:
    """The mailboxes of one export path (file, folder or zip)."""
    budget = [MAX_TOTAL_BYTES]
    if path.is_dir():
        found, skipped = [], 0
        for file in _candidates(path):
            if _is_mbox_head(_file_head(file)):
                container = file.parent.name if file.parent != path else path.name
                found.append(_Mailbox(str(file), _plain_copy(file, str(file), tmp, budget), _channel_hint(file.name, container)))
            else:
                skipped += 1
        if not found:
            raise InputError(path, "no mbox file in the folder (none starts with a 'From ' separator line)")
        if skipped:
            notes.append(f"{path}: {skipped} file(s) that are not mailboxes were skipped")
        return found
    try:
        size = path.stat().st_size
    except OSError as error:
        raise InputError(path, f"cannot read: {error.strerror}") from error
    if size == 0:
        raise InputError(path, "the file is empty")
    if zipfile.is_zipfile(path):
        return _zip_mailboxes(path, tmp, notes, budget)
    if not _is_mbox_head(_file_head(path)):
        raise InputError(path, "not an mbox file: it does not start with a 'From ' separator line and mail headers")
    return [_Mailbox(str(path), _plain_copy(path, str(path), tmp, budget), _channel_hint(path.name, path.parent.name))]


def _zip_mailboxes(path: Path, tmp: Path, notes: list[str], budget: list[int]) -> list[_Mailbox]:
    found, skipped = [], 0
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise InputError(path, f"not a readable zip: {error}") from error
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            name = PurePosixPath(info.filename)
            if info.is_dir():
                continue
            if name.is_absolute() or ".." in name.parts:
                raise InputError(path, f"unsafe path in zip: {info.filename}")
            where = f"{path}!{info.filename}"
            try:
                if not _is_mbox_head(_zip_head(archive, info.filename)):
                    skipped += 1
                    continue
                target = _temporary(tmp)
                with archive.open(info) as member:
                    compressed = member.read(2) == b"\x1f\x8b"
                with archive.open(info) as member:
                    if compressed:
                        with gzip.GzipFile(fileobj=member) as unzipped:
                            _copy_limited(unzipped, target, where, budget)
                    else:
                        _copy_limited(member, target, where, budget)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error, RuntimeError) as error:
                raise InputError(where, f"cannot read from the zip: {error}") from error
            container = name.parent.name or path.stem
            found.append(_Mailbox(where, target, _channel_hint(name.name, container)))
    if not found:
        raise InputError(path, "no mbox file in the zip (none starts with a 'From ' separator line)")
    if skipped:
        notes.append(f"{path}: {skipped} file(s) in the zip that are not mailboxes were skipped")
    return found


# ------------------------------------------------------------------------ reading
def read(paths: list[Path], context: ReadContext) -> ForumRead:
    """Read mbox archives (files, folders or zips of them) into canonical posts and members."""
    notes: list[str] = []
    records: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="value-pipeline-mbox-") as tmp:
        boxes = [box for path in paths for box in _mailboxes(Path(path), Path(tmp), notes)]
        for box in boxes:
            records += _read_mailbox(box)
    posts, quarantine, account, more_notes = _posts(records, context)
    return ForumRead(
        platform=PLATFORM,
        posts=posts,
        members=members_from_posts(posts, context.community),
        quarantine=quarantine,
        accounts=[account],
        files=[str(path) for path in paths],
        notes=notes + more_notes,
    )


def _read_mailbox(box: _Mailbox) -> list[dict]:
    try:
        mbox = mailbox.mbox(box.path, create=False)
    except OSError as error:
        raise InputError(box.source, f"cannot read: {error.strerror}") from error
    # compat32 headers with the modern message class: get_body and friends work, and
    # parsing is ~10x faster than policy.default, whose header objects are built on
    # every access. Headers are decoded with email.header and email.utils instead.
    parser = BytesParser(_class=EmailMessage, policy=policy.compat32)
    records = []
    try:
        for row, key in enumerate(mbox.iterkeys()):
            data = mbox.get_bytes(key, from_=True)
            envelope, _, message = data.partition(b"\n")
            try:
                record = _message_record(parser.parsebytes(_MBOXRD_ESCAPE.sub(rb"\1", message)), envelope)
            except Exception as error:  # a message the email package cannot take apart
                record = {"_error": f"unreadable message ({type(error).__name__})"}
            records.append({**record, "_file": box.source, "_row": row, "_default_channel": box.channel})
    except OSError as error:
        raise InputError(box.source, f"cannot read: {error.strerror}") from error
    finally:
        mbox.close()
    return records


# ---------------------------------------------------------------- one message
Headers = dict[str, str]  # lowercase name -> first value, unfolded, 8-bit bytes decoded


def _headers(message: EmailMessage) -> Headers:
    """The message's headers, read once: the first value of each name."""
    headers: Headers = {}
    for name, value in message.raw_items():
        name = name.lower()
        if name in headers or not isinstance(value, str):
            continue
        if not value.isascii() and _SURROGATES.search(value):  # raw 8-bit bytes in a header
            value = _decode_bytes(value.encode("ascii", "surrogateescape"), None)
        headers[name] = re.sub(r"\s*\r?\n[ \t]+", " ", value).strip()
    return headers


def _decoded(value: str | None) -> str | None:
    """RFC 2047 encoded words (=?utf-8?q?...?=, =?iso-8859-1?b?...?=) decoded, each word
    with the same charset fallback as bodies (an unknown or wrong charset never fails)."""
    if value is None or "=?" not in value:
        return value
    try:
        chunks = decode_header(value)
    except (HeaderParseError, ValueError, UnicodeError):
        return value
    text = "".join(
        _decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk for chunk, charset in chunks
    )
    return " ".join(text.split())


def _address(value: str | None) -> str | None:
    """The addr-spec of an address header, also in Pipermail's "ana at school.example" form."""
    if not value:
        return None
    bracketed = _ANGLE_ADDRESS.findall(value)  # the common "Name <addr>" form, without a parser
    address = bracketed[-1] if bracketed else value.strip()
    if not _EMAIL.match(address):
        _, address = parseaddr(value)
    if not _EMAIL.match(address or ""):
        _, address = parseaddr(_OBFUSCATED.sub(r"\1@\2", value))
    address = (address or "").strip().lower()
    return address if _EMAIL.match(address) else None


def _ids(value: str | None) -> list[str]:
    return _MSGID.findall(value or "")


def _subject(subject: str) -> tuple[str, bool, bool]:
    """(subject without reply/forward prefixes and [list] tags, was a reply, was a forward)."""
    reply = forward = False
    while match := _SUBJECT_PREFIX.match(subject):
        kind = (match.group("kind") or "").lower()
        reply |= kind in _REPLY_PREFIXES
        forward |= kind in {"fw", "fwd", "wg", "tr"}
        subject = subject[match.end():]
    return " ".join(subject.split()), reply, forward


def _date(value: str | None) -> tuple[datetime | None, datetime | None]:
    """(UTC time, None) for a date with an offset; (None, wall time) for a zone-less one."""
    if not value:
        return None, None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None, None
    if parsed.tzinfo is not None:
        return parsed.astimezone(timezone.utc).replace(tzinfo=None), None
    # -0000 means "UTC, local zone unknown" (RFC 5322); no zone at all is local time.
    if re.search(r"-0000\b|\b(?:UT|GMT|UTC|Z)\b", value):
        return parsed, None
    return None, parsed


def _automated(message: EmailMessage, headers: Headers, envelope: bytes, address: str | None, subject: str) -> str | None:
    auto = headers.get("auto-submitted", "").lower()
    if auto and not auto.startswith("no"):
        return "auto-submitted"
    if message.get_content_type() == "multipart/report":
        return "delivery report"
    if message.get_content_type() == "multipart/digest" or _DIGEST_SUBJECT.search(subject):
        return "digest"
    # The envelope sender of list mail is often the list's -bounces address, so only
    # MAILER-DAEMON there marks a bounce; the From address is checked in full.
    sender = envelope[5:].split(b" ", 1)[0].decode("latin-1").lower() if envelope.startswith(b"From ") else ""
    if sender.split("@", 1)[0] in {"mailer-daemon", "<>"}:
        return "bounce"
    local = (address or "").split("@", 1)[0]
    if local in _ROBOT_LOCALS or local.endswith(_ROBOT_SUFFIXES):
        return "mail system or list robot"
    if "x-autoreply" in headers or "x-autorespond" in headers:
        return "auto-reply"
    precedence = headers.get("precedence", "").lower()
    if precedence in {"junk", "auto_reply"}:
        return "precedence " + precedence
    has_list_headers = any(name in headers for name in ("list-id", "list-post", "mailing-list"))
    if precedence == "bulk" and not has_list_headers:
        return "bulk mail"
    return None


def _list_label(list_id: str | None) -> str | None:
    """`K-12 Teachers <teachers-list.lists.district.example>` -> teachers-list (RFC 2919)."""
    if not list_id:
        return None
    match = re.search(r"<([^<>\s]+)>", list_id)
    label = (match.group(1) if match else list_id.strip()).split(".", 1)[0].strip()
    return label or None


def _author(headers: Headers, list_label: str | None) -> str | None:
    """The sender's address; the original sender when the list rewrote From (DMARC)."""
    address = _address(headers.get("from"))
    list_post = headers.get("list-post", "").lower()
    rewritten = address is not None and (
        f"mailto:{address}" in list_post or (list_label is not None and address.split("@", 1)[0] == list_label.lower())
    )
    if rewritten:
        for name in ("x-original-from", "x-original-sender", "reply-to"):
            original = _address(headers.get(name))
            if original and original != address and f"mailto:{original}" not in list_post:
                return original
    return address


def _message_record(message: EmailMessage, envelope: bytes) -> dict:
    headers = _headers(message)
    subject_text = _decoded(headers.get("subject")) or ""
    title, is_reply, is_forward = _subject(subject_text)
    list_label = _list_label(headers.get("list-id"))
    address = _author(headers, list_label)
    date_text = headers.get("date") or None
    utc, local = _date(date_text)
    raw_id = headers.get("message-id", "").strip()
    # a bare id without angle brackets (some old mailers) is still an id
    message_ids = _ids(raw_id) or ([raw_id] if raw_id and " " not in raw_id else [])
    return {
        "_message_id": message_ids[0] if message_ids else None,
        "_in_reply_to": (_ids(headers.get("in-reply-to")) or [None])[0],
        "_references": _ids(headers.get("references")),
        "_subject": subject_text,
        "_title": title or None,
        "_subject_key": title.lower(),
        "_is_reply": is_reply,
        "_is_forward": is_forward,
        "_address": address,
        "_date_text": date_text,
        "_utc": utc,
        "_local": local,
        "_list": list_label,
        "_automated": _automated(message, headers, envelope, address, subject_text),
        **_body(message),
        "_error": None,
    }


# ------------------------------------------------------------------------- bodies
def _decode_bytes(data: bytes, declared: str | None) -> str:
    """Text of a body in its declared charset, falling back when it is wrong or missing.

    UTF-8 is tried first (Latin-1 text is almost never valid UTF-8, so a correct guess is
    safe and a mislabelled UTF-8 body is rescued); Latin-1 and ASCII labels read as
    Windows-1252, as browsers do; Latin-1 itself decodes any byte.
    """
    declared = (declared or "").strip().strip('"').lower()
    if declared in {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii", "ansi_x3.4-1968"}:
        declared = "cp1252"
    order = [declared, "utf-8"] if declared.startswith(("utf-16", "utf-32")) else ["utf-8", declared]
    for encoding in [*order, "cp1252"]:
        if not encoding:
            continue
        try:
            return data.decode(encoding).replace("\x00", "")
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1").replace("\x00", "")


def _part_text(part: EmailMessage) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # broken transfer encoding: keep the raw payload
        payload = None
    if payload is None:
        payload = part.get_payload()
        if not isinstance(payload, str):
            return ""
        payload = payload.encode("ascii", "surrogateescape")
    return _decode_bytes(payload, part.get_content_charset())


def _body(message: EmailMessage) -> dict:
    """The body fields of a record: own words of a text/plain body (with its links), or
    the HTML of an HTML-only body up to its quoted part (turned to text for all rows at
    once in `_html_bodies`), and the attachment count."""
    part, text = None, ""
    for preference in (("plain",), ("html",)):  # an empty text/plain gives way to the HTML
        try:
            candidate = message.get_body(preferencelist=preference)
        except Exception:  # a structure get_body cannot walk
            candidate = None
        if candidate is not None:
            text = _part_text(candidate)
            if text.strip():
                part = candidate
                break
    if part is None and not message.is_multipart() and message.get_content_maintype() == "multipart":
        part, text = message, _part_text(message)  # a multipart without its boundary: the payload is the text
    attachments = _count_attachments(message, part) if part is not message else 0
    fields = {"_body": "", "_links": 0, "_attachments": attachments, "_html": None, "_html_full": None}
    if part is None:
        return fields
    if part.get_content_type() == "text/html":
        marker = _HTML_QUOTE_MARKERS.search(text)
        return fields | {"_html": text[: marker.start()] if marker else text, "_html_full": text if marker else None}
    own, scrubbed = _own_words(text)
    return fields | {"_body": own, "_links": count_urls(own), "_attachments": attachments + scrubbed}


def _html_bodies(frame: pl.DataFrame) -> pl.DataFrame:
    """Own words and links of HTML-only bodies: markup stripped for the whole column at
    once, then quotes and signatures cut line by line (as for plain text)."""
    html = frame.filter(pl.col("_html").is_not_null()).select("_index", "_html", "_html_full")
    if html.height == 0:
        return frame
    texts = html_to_text_series(html.get_column("_html"))
    whole = html_to_text_series(html.get_column("_html_full").fill_null(html.get_column("_html")))
    own = [_own_words(text)[0] or full for text, full in zip(texts, whole, strict=True)]
    anchors = html_links_series(html.get_column("_html")).to_list()
    bodies = pl.DataFrame(
        {
            "_index": html.get_column("_index"),
            "_body": own,
            "_links": [max(n, count_urls(text)) for n, text in zip(anchors, own, strict=True)],
        },
        schema={"_index": pl.UInt32, "_body": pl.String, "_links": pl.Int64},
    )
    return frame.update(bodies, on="_index")


def _count_attachments(part: EmailMessage, body: EmailMessage | None, related: bool = False) -> int:
    if part is body:
        return 0
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        return 1  # an attached message (a forward as attachment): one attachment, not opened
    if part.is_multipart():
        inside = related or content_type == "multipart/related"
        return sum(_count_attachments(child, body, inside) for child in part.iter_parts())
    if content_type in _SIGNATURE_TYPES:
        return 0
    try:
        named = part.get_filename() is not None
    except Exception:
        named = True
    if part.get_content_disposition() == "attachment" or named:
        return 1
    # Unnamed text parts are body alternatives or list footers; images inside
    # multipart/related are pieces of an HTML body (logos), not attachments.
    return int(part.get_content_maintype() != "text" and not related)


def _own_words(text: str) -> tuple[str, int]:
    """(the author's own words, attachments Pipermail scrubbed from the text)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text, scrubbed = _pipermail_parts(text)
    text = _cut_footer(text)
    kept = _tidy(text)
    own = _tidy(_strip_quotes(_cut_signature(text)))
    return own or kept, scrubbed


def _pipermail_parts(text: str) -> tuple[str, int]:
    """Pipermail replaces attachments by "next part" notices: count them, drop them."""
    if _NEXT_PART not in text:
        return text, 0
    head, *parts = text.split(_NEXT_PART)
    scrubbed = sum(1 for part in parts if not part.lstrip().startswith("An HTML attachment was scrubbed"))
    return head, scrubbed


def _cut_footer(text: str) -> str:
    lines = text.split("\n")
    for index, line in enumerate(lines):
        following = " ".join(lines[index + 1 : index + 3]).lower()
        if _UNDERSCORES.match(line) and "mailing list" in following:
            return "\n".join(lines[:index])
        if _GOOGLE_FOOTER.match(line.strip()):
            start = index - 1 if index and lines[index - 1].strip() in {"--", "-- "} else index
            return "\n".join(lines[:start])
    return text


def _cut_signature(text: str) -> str:
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if line in {"--", "-- "}:
            return "\n".join(lines[:index])
    return text


def _strip_quotes(text: str) -> str:
    """Remove "> " lines and attribution lines; cut unprefixed quoted originals."""
    lines = text.split("\n")
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        joined = f"{line} {lines[index + 1].strip()}" if index + 1 < len(lines) else line
        span = 1 if _ATTRIBUTION.match(line) else 2 if _WRAPPED_START.match(line) and _ATTRIBUTION.match(joined) else 0
        if span:
            if _next_is_quoted(lines, index + span):
                index += span
                continue
            break  # an unprefixed quote (top posting): everything below is the original
        if _GENERIC_ATTRIBUTION.match(line) and _next_is_quoted(lines, index + 1):
            index += 1
            continue
        if _ORIGINAL_MESSAGE.match(line):
            break
        if _OUTLOOK_FROM.match(line) and any(_OUTLOOK_SENT.match(lines[j]) for j in range(index + 1, min(index + 4, len(lines)))):
            if kept and _UNDERSCORES.match(kept[-1]):
                kept.pop()
            break
        if not line.startswith(">"):
            kept.append(lines[index])
        index += 1
    return "\n".join(kept)


def _next_is_quoted(lines: list[str], start: int) -> bool:
    for line in lines[start:]:
        if line.strip():
            return line.lstrip().startswith(">")
    return False


def _tidy(text: str) -> str:
    text = _CONTROL.sub("", text)
    lines = (line.rstrip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


# ------------------------------------------------------------------ posts frame
_COLUMNS = {
    "_message_id": pl.String, "_in_reply_to": pl.String, "_references": pl.List(pl.String),
    "_subject": pl.String, "_title": pl.String, "_subject_key": pl.String, "_is_reply": pl.Boolean,
    "_is_forward": pl.Boolean, "_address": pl.String, "_date_text": pl.String, "_utc": pl.Datetime("us"),
    "_local": pl.Datetime("us"), "_list": pl.String, "_automated": pl.String, "_body": pl.String,
    "_links": pl.Int64, "_attachments": pl.Int64, "_html": pl.String, "_html_full": pl.String, "_error": pl.String, "_file": pl.String, "_row": pl.Int64,
    "_default_channel": pl.String,
}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _posts(records: list[dict], context: ReadContext):
    frame = _html_bodies(pl.DataFrame(records, schema=_COLUMNS).with_row_index("_index"))
    staff = sorted({name.strip().lower() for name in context.staff})
    derived_id = (
        pl.lit("derived|") + pl.col("_date_text").fill_null("") + "|" + pl.col("_address").fill_null("")
        + "|" + pl.col("_subject").fill_null("")
    )
    frame = frame.with_columns(
        post_id=pl.when(pl.col("_message_id").is_not_null())
        .then(pl.col("_message_id").map_elements(_digest, return_dtype=pl.String))
        .otherwise(pl.lit("derived-") + derived_id.map_elements(_digest, return_dtype=pl.String)),
        author_key=context.pseudonymizer.key_series("email", frame.get_column("_address")),
        is_staff=pl.col("_address").is_in(staff).fill_null(False),
        channel=pl.coalesce("_list", "_default_channel"),
        created=pl.coalesce(
            pl.col("_utc").dt.replace_time_zone("UTC"),
            pl.col("_local")
            .dt.replace_time_zone(context.timezone, ambiguous="earliest", non_existent="null")
            .dt.convert_time_zone("UTC"),
        ),
    )
    frame = frame.with_columns(
        reason=pl.when(pl.col("_error").is_not_null()).then(pl.col("_error"))
        .when(pl.col("_automated").is_not_null()).then(pl.lit("excluded: automated message"))
        .when(pl.col("created").is_null()).then(pl.lit("missing or unreadable Date header"))
        .when(pl.col("created") > pl.lit(datetime.now(timezone.utc) + timedelta(days=1)))
        .then(pl.lit("Date header in the future (the sender's clock was wrong)"))
        .when(pl.col("created") < pl.lit(EARLIEST))
        .then(pl.lit("Date header before 1971 (an unset clock)"))
        .when(pl.col("_address").is_null()).then(pl.lit("missing author (no From address)"))
        .otherwise(None)
    )
    # The first copy of a Message-ID among readable messages wins; later copies
    # (cross-posts, Takeout duplicates) are quarantined, not merged.
    first_copy = pl.int_range(pl.len()).over(pl.when(pl.col("reason").is_null()).then(pl.col("post_id"))) == 0
    frame = frame.with_columns(
        reason=pl.when(pl.col("reason").is_null() & ~first_copy)
        .then(pl.lit("duplicate Message-ID (already read)"))
        .otherwise(pl.col("reason"))
    )
    accepted, rejected = split_by_reason(frame)
    threads, notes = _threads(accepted)
    accepted = accepted.join(threads, on="_index", how="left")
    accepted, orphans = split_by_reason(accepted.with_columns(reason=pl.col("thread_reason")))

    posts = schema.conform(
        accepted.select(
            community=pl.lit(context.community),
            platform=pl.lit(PLATFORM),
            post_id="post_id",
            thread_id="thread_id",
            parent_post_id="parent_post_id",
            author_key="author_key",
            created_at="created",
            channel="channel",
            title=pl.when(pl.col("parent_post_id").is_null()).then(pl.col("_title")),
            body_text="_body",
            is_thread_start=pl.col("parent_post_id").is_null(),
            n_reactions=pl.lit(0),
            n_links="_links",
            n_attachments="_attachments",
            is_staff="is_staff",
            source_file="_file",
            source_row="_row",
        ).sort("source_file", "source_row"),
        schema.POSTS,
    )
    quarantined = pl.concat([rejected, orphans.select(rejected.columns)]).sort("_index")
    quarantine = quarantine_frame(
        context.community,
        "posts",
        quarantined.select(
            source_file="_file",
            source_row="_row",
            reason="reason",
            post_id="post_id",
            date="_date_text",
            subject="_title",
            automated="_automated",
            text=pl.when(pl.col("_automated").is_null()).then(pl.col("_body").str.slice(0, 120)),
        ),
        ["post_id", "date", "subject", "automated", "text"],
    )
    derived = accepted.filter(pl.col("_message_id").is_null()).height
    if derived:
        notes.append(
            f"{derived} message(s) without a Message-ID: their post ids are derived from Date, From and Subject"
        )
    account = Account("posts", "message", frame.height, posts.height, quarantine.height)
    return posts, quarantine, account, notes


def _threads(accepted: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """Parent and root of each accepted message (threading walks id graphs: Python)."""
    rows = accepted.select(
        "_index", "_message_id", "_in_reply_to", "_references", "_is_reply", "_is_forward",
        "channel", "_subject_key", "created", "post_id",
    ).rows()
    count = len(rows)
    position = {row[1]: i for i, row in enumerate(rows) if row[1] is not None}
    order = sorted(range(count), key=lambda i: (rows[i][8], rows[i][0]))
    rank = {i: r for r, i in enumerate(order)}
    by_subject: dict[tuple, list[int]] = {}
    for i in order:
        by_subject.setdefault((rows[i][6], rows[i][7]), []).append(i)

    parent: list[int | None] = [None] * count
    orphan = [False] * count
    by_ancestor = by_subject_match = 0
    for i, (_, own, in_reply_to, references, is_reply, is_forward, channel, subject, _, _) in enumerate(rows):
        claimed = [mid for mid in [in_reply_to, *(references or [])] if mid and mid != own]
        if in_reply_to in position and in_reply_to != own:
            parent[i] = position[in_reply_to]
        else:
            parent[i] = next((position[m] for m in reversed(references or []) if m in position and m != own), None)
            by_ancestor += parent[i] is not None and in_reply_to is not None
        if parent[i] is None and not claimed and (is_reply or is_forward) and subject:
            first = by_subject[(channel, subject)][0]  # the earliest message with this subject
            if rank[first] < rank[i]:
                parent[i] = first
                by_subject_match += 1
        if parent[i] is None and not is_forward and (claimed or is_reply):
            orphan[i] = True

    _break_cycles(parent, rank)
    root: list[int | None] = [None] * count
    for i in range(count):
        path, j = [], i
        while root[j] is None and parent[j] is not None:
            path.append(j)
            j = parent[j]
        top = root[j] if root[j] is not None else j
        for k in [*path, j]:
            root[k] = top
    post_ids = [row[9] for row in rows]
    threads = pl.DataFrame(
        {
            "_index": [row[0] for row in rows],
            "thread_id": [post_ids[root[i]] for i in range(count)],
            "parent_post_id": [post_ids[parent[i]] if parent[i] is not None else None for i in range(count)],
            "thread_reason": ["reply to a post not in the export" if orphan[root[i]] else None for i in range(count)],
        },
        schema={"_index": pl.UInt32, "thread_id": pl.String, "parent_post_id": pl.String, "thread_reason": pl.String},
    )
    notes = []
    if by_ancestor:
        notes.append(f"{by_ancestor} repl(ies) attached to an earlier ancestor: the message they answer is not in the export")
    if by_subject_match:
        notes.append(f"{by_subject_match} repl(ies) without In-Reply-To/References placed by their subject")
    return threads, notes


def _break_cycles(parent: list[int | None], rank: dict[int, int]) -> None:
    """Headers can loop (A answers B, B answers A): the earliest message of a loop starts it."""
    state = [0] * len(parent)  # 0 unseen, 1 on the current walk, 2 done
    for i in range(len(parent)):
        path, j = [], i
        while j is not None and state[j] == 0:
            state[j] = 1
            path.append(j)
            j = parent[j]
        if j is not None and state[j] == 1:
            loop = path[path.index(j):]
            parent[min(loop, key=rank.__getitem__)] = None
        for k in path:
            state[k] = 2
