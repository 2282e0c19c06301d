"""Microsoft Teams channel messages (Microsoft Graph JSON) -> canonical posts and members.

The layout is Microsoft Graph v1.0's, as its reference documents it
(learn.microsoft.com/graph/api/channel-list-messages, chatmessage-list-replies,
team-list-members, channel-list; resource pages chatMessage, chatMessageAttachment,
conversationMember). An export folder holds saved responses, any mix, any file names:
- `GET /teams/{id}/channels/{id}/messages` pages (with or without `$expand=replies`):
  `{"@odata.context", "@odata.nextLink", "value": [chatMessage]}`; expanded roots carry
  their replies in `replies`. Pages of `/messages/{id}/replies` hold replies only;
  a single `GET /messages/{id}` (one chatMessage object) or a bare list of messages is
  read too. The same message in two files (an expanded reply and its replies page) is
  read once: the copy with the latest `lastModifiedDateTime` wins, the other is
  quarantined as a duplicate. Roots whose expanded replies were cut short
  (`replies@odata.nextLink`) are counted in the notes;
- optionally `GET /teams/{id}/members` (or a channel's members) pages:
  aadUserConversationMember objects with `userId`, `email` and `roles` ("owner",
  "guest"), in forum/ or members/;
- optionally `GET /teams/{id}/channels` pages (`id`, `displayName`) for channel names.

chatMessage fields used: id, replyToId (null for a thread root; a reply carries its
root's id: Teams channel threads are one level deep), messageType ("message"; system
events are "systemEventMessage", or "unknownFutureValue" with an `eventDetail` unless
the request asked `Prefer: include-unknown-enum-members`), createdDateTime (ISO 8601,
UTC), lastModifiedDateTime, deletedDateTime, subject, body {contentType "html" | "text",
content}, from {user {id, displayName, userIdentityType} | application (a bot)},
attachments, mentions, reactions, channelIdentity {teamId, channelId}.

Canonical mapping:
- post_id is "<channelId>:<message id>" (message ids are unique within a channel only);
  thread_id is the root's post_id; a reply's parent is its root. When a message lacks
  `channelIdentity`, the channel comes from its root or from the page's `@odata.context`;
- author_key: the member's email where a members page gives one for the `from.user.id`
  (kind "email": links to surveys), else the Entra ID (AAD) object id (kind
  "aad_user_id", platform teams). Display names are never read as identities;
- is_staff: the user id listed in `forum_options: {staff_user_ids: [...]}`, the id or
  the member-list email listed in community.yaml `staff`, or a team "owner" in a members
  page (owners run the team; `forum_options: {owners_are_staff: false}` turns that off).
  Without any of these, is_staff is False: display names are never compared;
- channel: `forum_options: {channels: {channelId: name}}`, else the name from a channels
  page, else the channelId;
- body_text: HTML bodies through text.html_to_text, after every `<at id="n">Name</at>`
  mention (adjacent parts of one person's mention together) became "@member" and the
  quoted message of a quote-reply (`<blockquote itemtype="http://schema.skype.com/Reply">`,
  which names the quoted author) was dropped; text bodies have the mentions' texts
  replaced. n_links: `<a href>` links plus URLs written out in the text;
  n_attachments: attachments other than quoted-message references and cards, plus inline
  images (`hostedContents`); n_reactions: the number of reactions;
- source_row is the message's ordinal in its file (a root, then its expanded replies).

Quarantined: system events ("excluded: system event (<kind>)"), deleted messages
(`deletedDateTime`: "excluded: deleted message"), messages from an application
("excluded: bot message"), messages without a user, unreadable times, duplicates, and
replies whose root is not among the accepted posts ("reply to a post not in the
export", with "(its thread start was excluded)" when the root was read but excluded,
e.g. deleted: Teams keeps such replies under a placeholder, but a thread without its
start cannot be placed). Members: the members pages (role "staff" for staff, "guest" for
guests, else "member"; joined_at is the first post, as Graph gives no join date and no
reading activity for channels), merged with the authors seen.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

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
)
from value_pipeline.ingest.detect import Sniff
from value_pipeline.text import count_urls, html_links, html_to_text

PLATFORM = "teams"
KIND = "forum"
GRAPH_TIME = "%Y-%m-%dT%H:%M:%S%.f%#z"
_CONTEXT_CHANNEL = re.compile(r"channels\('([^']+)'\)")
_CONTEXT_ROOT = re.compile(r"messages\('([^']+)'\)/replies")
_AT_RUN = re.compile(r"<at\b[^>]*>.*?</at>(?:(?:\s|&nbsp;|&#160;)*<at\b[^>]*>.*?</at>)*", re.IGNORECASE | re.DOTALL)
_AT_ID = re.compile(r"<at\b[^>]*\bid=[\"']?(\d+)", re.IGNORECASE)
_QUOTED_REPLY = re.compile(
    r"<blockquote\b[^>]*itemtype=[\"']http://schema\.skype\.com/Reply[\"'][^>]*>.*?</blockquote>",
    re.IGNORECASE | re.DOTALL,
)
_ANCHOR = re.compile(r"<a\b[^>]*>.*?</a>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_HOSTED_IMAGE = re.compile(r"<img\b[^>]*\bsrc=[\"'][^\"']*/hostedContents/", re.IGNORECASE)
NOT_FILES = {"messagereference", "forwardedmessagereference", "meetingreference"}
MESSAGE_KEYS = {"messageType", "createdDateTime"}


# ------------------------------------------------------------------------- detection
def looks_like(sniff: Sniff) -> bool:
    """A saved Graph response of Teams channel messages, members or channels."""
    if sniff.is_dir or not sniff.looks_like_json:
        return False
    head = sniff.head_text
    if '"@odata.context"' not in head and '"messageType"' not in head:
        return False  # cheap refusal before parsing (other JSON formats, NDJSON dumps)
    return _page_kind(sniff.json) is not None


def _page_kind(data) -> str | None:
    """"messages", "members" or "channels" for a Graph response this reader understands."""
    if isinstance(data, list):
        items = data
        context = ""
    elif isinstance(data, dict):
        if MESSAGE_KEYS <= data.keys() and "body" in data:
            return "messages"  # a single chatMessage
        items = data.get("value")
        context = str(data.get("@odata.context") or "")
        if not isinstance(items, list):
            return None
    else:
        return None
    first = next((item for item in items if isinstance(item, dict)), None)
    if first is None:
        if "teams(" in context and re.search(r"/(messages|replies)(\(|$|/)", context):
            return "messages"  # an empty page of a channel
        return None
    if MESSAGE_KEYS <= first.keys() and ("body" in first or "replyToId" in first):
        return "messages"
    if "userId" in first and "roles" in first:
        return "members"
    if "membershipType" in first and "displayName" in first:
        return "channels"
    return None


# ---------------------------------------------------------------------------- reading
def read(paths: list[Path], context: ReadContext) -> ForumRead:
    """Read saved Graph responses (message, reply, member and channel pages)."""
    options = context.options or {}
    message_records: list[dict] = []
    member_records: list[dict] = []
    channel_names: dict[str, str] = {}
    more_replies = 0
    for path in [*paths, *context.member_files]:
        path = Path(path)
        data = read_json(path)
        kind = _page_kind(data)
        if kind is None:
            raise InputError(path, "not a Microsoft Graph response of Teams channel messages, members or channels")
        items = data if isinstance(data, list) else ([data] if "value" not in data else data["value"])
        page_channel, page_root = _context_ids(data)
        if kind == "channels":
            channel_names |= {
                str(c["id"]): str(c["displayName"]) for c in items if isinstance(c, dict) and c.get("id") and c.get("displayName")
            }
        elif kind == "members":
            member_records += [
                {**_member_record(item), "_file": str(path), "_row": row} for row, item in enumerate(items)
            ]
        else:
            message_records += _message_records(items, page_channel, page_root, str(path))
            more_replies += sum(1 for item in items if isinstance(item, dict) and item.get("replies@odata.nextLink"))
    channel_names |= {str(k): str(v) for k, v in (options.get("channels") or {}).items()}

    identities = _identities(member_records, message_records, context)
    posts, post_quarantine, post_account = _posts(message_records, identities, channel_names, context)
    members, member_quarantine, member_account = _members(member_records, identities, posts, context)
    return ForumRead(
        platform=PLATFORM,
        posts=posts,
        members=members,
        quarantine=pl.concat([post_quarantine, member_quarantine]),
        accounts=[post_account, member_account],
        files=[str(path) for path in [*paths, *context.member_files]],
        notes=[
            f"{more_replies} threads have more replies than their expanded page holds (replies@odata.nextLink): "
            "save their /messages/{id}/replies pages to include them"
        ] if more_replies else [],
    )


def _context_ids(data) -> tuple[str | None, str | None]:
    """(channel id, root message id of a replies page) from a page's @odata.context."""
    context = str(data.get("@odata.context") or "") if isinstance(data, dict) else ""
    channel, root = _CONTEXT_CHANNEL.search(context), _CONTEXT_ROOT.search(context)
    return (unquote(channel.group(1)) if channel else None, unquote(root.group(1)) if root else None)


def _message_records(items: list, page_channel: str | None, page_root: str | None, source: str) -> list[dict]:
    """Flatten a page: each root, then its expanded replies (which inherit its channel)."""
    records = []
    row = 0
    for item in items:
        page_parent = {"id": page_root, "channel_id": page_channel} if page_root else None
        record = _message_record(item, page_channel, page_parent, source, row)
        records.append(record)
        row += 1
        replies = item.get("replies") if isinstance(item, dict) else None
        for reply in replies if isinstance(replies, list) else []:
            records.append(_message_record(reply, page_channel, record, source, row))
            row += 1
    return records


def _text(value) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _message_record(message, page_channel: str | None, root: dict | None, source: str, row: int) -> dict:
    if not isinstance(message, dict):
        return {"_malformed": True, "_file": source, "_row": row}
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    user = sender.get("user") if isinstance(sender.get("user"), dict) else {}
    identity = message.get("channelIdentity") if isinstance(message.get("channelIdentity"), dict) else {}
    body = message.get("body") if isinstance(message.get("body"), dict) else {}
    content = body.get("content") if isinstance(body.get("content"), str) else ""
    is_html = str(body.get("contentType") or "").lower() == "html"
    mentions = [m for m in message.get("mentions") or [] if isinstance(m, dict)]
    attachments = [a for a in message.get("attachments") or [] if isinstance(a, dict)]
    event = message.get("eventDetail") if isinstance(message.get("eventDetail"), dict) else None
    reply_to = message.get("replyToId")
    if root is not None and not reply_to:
        reply_to = root.get("id")
    if is_html:
        cleaned = _QUOTED_REPLY.sub("", _mentions_to_member(content, mentions))
        text = html_to_text(cleaned)
        # <a href> links, plus URLs written out in the text outside any link
        links = html_links(cleaned) + count_urls(_TAG.sub(" ", _ANCHOR.sub(" ", cleaned)))
    else:
        cleaned = content
        for mention in mentions:
            if _text(mention.get("mentionText")):
                cleaned = cleaned.replace(mention["mentionText"], "@member")
        text, links = html_to_text(cleaned) if "<" in cleaned else cleaned.strip(), count_urls(cleaned)
    files = sum(
        1 for a in attachments
        if str(a.get("contentType") or "").lower() not in NOT_FILES
        and not str(a.get("contentType") or "").lower().startswith("application/vnd.microsoft.card")
    )
    return {
        "id": _scalar_text(message.get("id")),
        "reply_to": _scalar_text(reply_to),
        "message_type": _text(message.get("messageType")),
        "event": _event_name(event),
        "created": _text(message.get("createdDateTime")),
        "modified": _text(message.get("lastModifiedDateTime")),
        "deleted": _text(message.get("deletedDateTime")),
        "subject": _text(message.get("subject")),
        "user_id": _text(user.get("id")),
        "application": isinstance(sender.get("application"), dict),
        "channel_id": _text(identity.get("channelId")) or (root or {}).get("channel_id") or page_channel,
        "text": text,
        "n_links": links,
        "n_files": files + len(_HOSTED_IMAGE.findall(content)) if is_html else files,
        "n_reactions": sum(1 for r in message.get("reactions") or [] if isinstance(r, dict)),
        "_malformed": False,
        "_file": source,
        "_row": row,
    }


def _scalar_text(value) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return str(value)
    return _text(value)


def _event_name(event: dict | None) -> str | None:
    """'#microsoft.graph.membersAddedEventMessageDetail' -> 'membersAdded'."""
    if event is None:
        return None
    name = str(event.get("@odata.type") or "event").rsplit(".", 1)[-1]
    return name.removesuffix("EventMessageDetail") or "event"


def _mentions_to_member(html: str, mentions: list[dict]) -> str:
    """Each run of adjacent `<at>` elements naming one person becomes one "@member"."""
    if "<at" not in html.lower():
        return html
    people = {}
    for mention in mentions:
        mentioned = mention.get("mentioned") if isinstance(mention.get("mentioned"), dict) else {}
        who = next(
            (v.get("id") for v in mentioned.values() if isinstance(v, dict) and v.get("id")), None
        )
        people[str(mention.get("id"))] = who or f"mention-{mention.get('id')}"

    def replace(match: re.Match) -> str:
        ids = _AT_ID.findall(match.group(0)) or ["?"]
        distinct = list(dict.fromkeys(people.get(i, f"mention-{i}") for i in ids))
        return " ".join("@member" for _ in distinct)

    return _AT_RUN.sub(replace, html)


def _member_record(item) -> dict:
    if not isinstance(item, dict):
        return {"user_id": None, "email": None, "owner": False, "guest": False}
    roles = [str(role).lower() for role in item.get("roles") or [] if isinstance(role, str)]
    return {
        "user_id": _text(item.get("userId")),
        "email": _text(item.get("email")),
        "owner": "owner" in roles,
        "guest": "guest" in roles,
    }


# -------------------------------------------------------------------------- building
def _identities(member_records: list[dict], message_records: list[dict], context: ReadContext) -> pl.DataFrame:
    """Graph user id -> author_key (email from a members page where given), staff flag, role."""
    pseudonymizer = context.pseudonymizer
    options = context.options or {}
    owners_are_staff = options.get("owners_are_staff", True) is not False
    staff_ids = {str(v).strip().lower() for v in options.get("staff_user_ids") or []}
    staff_listed = {str(v).strip().lower() for v in context.staff}
    listed = {}
    for member in member_records:
        if member.get("user_id") and member["user_id"].lower() not in listed:
            listed[member["user_id"].lower()] = member
    user_ids = {m["user_id"].lower() for m in member_records if m.get("user_id")}
    user_ids |= {str(r["user_id"]).lower() for r in message_records if r.get("user_id")}
    rows = []
    for user_id in sorted(user_ids):
        member = listed.get(user_id, {})
        email = member.get("email")
        owner = bool(member.get("owner"))
        staff = (
            user_id in staff_ids
            or user_id in staff_listed
            or (email is not None and email.lower() in staff_listed)
            or (owner and owners_are_staff)
        )
        rows.append(
            {
                "user_key": user_id,
                "author_key": pseudonymizer.key("email", email) if email else pseudonymizer.key("aad_user_id", user_id, PLATFORM),
                "is_staff": staff,
                "role": "staff" if staff else ("guest" if member.get("guest") else "member"),
            }
        )
    return pl.DataFrame(
        rows, schema={"user_key": pl.String, "author_key": pl.String, "is_staff": pl.Boolean, "role": pl.String}
    )


_RECORD_SCHEMA = {
    "id": pl.String, "reply_to": pl.String, "message_type": pl.String, "event": pl.String, "created": pl.String,
    "modified": pl.String, "deleted": pl.String, "subject": pl.String, "user_id": pl.String,
    "application": pl.Boolean, "channel_id": pl.String, "text": pl.String, "n_links": pl.Int64,
    "n_files": pl.Int64, "n_reactions": pl.Int64, "_malformed": pl.Boolean, "_file": pl.String, "_row": pl.Int64,
}


def _posts(records: list[dict], identities: pl.DataFrame, channel_names: dict[str, str], context: ReadContext):
    community = context.community
    frame = pl.DataFrame(records, schema=_RECORD_SCHEMA).with_columns(
        user_key=pl.col("user_id").str.to_lowercase(),
        created_at=pl.col("created").str.to_datetime(GRAPH_TIME, time_zone="UTC", strict=False, time_unit="us"),
        modified_at=pl.col("modified").str.to_datetime(GRAPH_TIME, time_zone="UTC", strict=False, time_unit="us"),
    )
    frame = frame.join(identities, on="user_key", how="left").with_columns(
        post_id=pl.when(pl.col("channel_id").is_not_null())
        .then(pl.col("channel_id") + ":" + pl.col("id"))
        .otherwise(pl.col("id")),
        root_id=pl.when(pl.col("channel_id").is_not_null())
        .then(pl.col("channel_id") + ":" + pl.coalesce("reply_to", "id"))
        .otherwise(pl.coalesce("reply_to", "id")),
        is_thread_start=pl.col("reply_to").is_null() | (pl.col("reply_to") == pl.col("id")),
        _order=pl.int_range(pl.len(), dtype=pl.Int64),
    )
    # Of several copies of one message, keep the latest modified (the first read on ties).
    latest = (
        frame.filter(pl.col("post_id").is_not_null())
        .sort(["modified_at", "_order"], descending=[True, False], nulls_last=True)
        .group_by("post_id", maintain_order=True)
        .agg(keep=pl.col("_order").first())
    )
    frame = frame.join(latest, on="post_id", how="left").with_columns(
        duplicate=pl.col("keep").is_not_null() & (pl.col("keep") != pl.col("_order"))
    )
    message_type = pl.col("message_type").fill_null("")
    system = (message_type != "message") | pl.col("event").is_not_null()
    frame = frame.with_columns(
        reason=pl.when(pl.col("_malformed")).then(pl.lit("not a message object"))
        .when(pl.col("id").is_null()).then(pl.lit("missing message id"))
        .when(pl.col("duplicate")).then(pl.lit("duplicate message (a newer or identical copy was read)"))
        .when(pl.col("created_at").is_null()).then(pl.lit("missing or unreadable createdDateTime"))
        .when(system).then(
            pl.lit("excluded: system event (")
            + pl.coalesce("event", pl.when(message_type != "").then(message_type), pl.lit("unknown"))
            + pl.lit(")")
        )
        .when(pl.col("deleted").is_not_null()).then(pl.lit("excluded: deleted message"))
        .when(pl.col("application")).then(pl.lit("excluded: bot message"))
        .when(pl.col("user_id").is_null()).then(pl.lit("missing author (no from.user)"))
        .otherwise(None)
    )
    accepted, rejected = split_by_reason(frame)
    starts = accepted.filter(pl.col("is_thread_start")).get_column("post_id").implode()
    excluded_starts = rejected.filter(pl.col("is_thread_start")).get_column("post_id").implode()
    orphan = ~pl.col("is_thread_start") & ~pl.col("root_id").is_in(starts)
    orphans = accepted.filter(orphan).with_columns(
        reason=pl.when(pl.col("root_id").is_in(excluded_starts))
        .then(pl.lit("reply to a post not in the export (its thread start was excluded)"))
        .otherwise(pl.lit("reply to a post not in the export"))
    )
    accepted = accepted.filter(~orphan)
    channel = pl.col("channel_id").replace_strict(channel_names, default=pl.col("channel_id"), return_dtype=pl.String)
    posts = accepted.select(
        community=pl.lit(community),
        platform=pl.lit(PLATFORM),
        post_id="post_id",
        thread_id="root_id",
        parent_post_id=pl.when(pl.col("is_thread_start")).then(None).otherwise(pl.col("root_id")),
        author_key="author_key",
        created_at="created_at",
        channel=channel,
        title=pl.when(pl.col("is_thread_start")).then(pl.col("subject")).otherwise(None),
        body_text=pl.col("text").fill_null(""),
        is_thread_start="is_thread_start",
        n_reactions="n_reactions",
        n_links="n_links",
        n_attachments="n_files",
        is_staff=pl.col("is_staff").fill_null(False),
        source_file="_file",
        source_row="_row",
    )
    posts = schema.conform(posts, schema.POSTS)
    quarantine_rows = pl.concat([rejected, orphans.select(rejected.columns)]).sort("_file", "_row")
    quarantine = quarantine_frame(
        community, "posts",
        quarantine_rows.rename({"_file": "source_file", "_row": "source_row"}).with_columns(
            text=pl.col("text").str.slice(0, 160)
        ),
        ["id", "reply_to", "message_type", "event", "created", "deleted", "channel_id", "text"],
    )
    account = Account("posts", "message", frame.height, posts.height, quarantine.height)
    return posts, quarantine, account


def _members(member_records: list[dict], identities: pl.DataFrame, posts: pl.DataFrame, context: ReadContext):
    community = context.community
    frame = pl.DataFrame(
        member_records,
        schema={"user_id": pl.String, "email": pl.String, "owner": pl.Boolean, "guest": pl.Boolean,
                "_file": pl.String, "_row": pl.Int64},
    ).with_columns(user_key=pl.col("user_id").str.to_lowercase())
    frame = frame.join(identities, on="user_key", how="left").with_columns(
        reason=pl.when(pl.col("user_id").is_null()).then(pl.lit("member without a userId"))
        .when(pl.col("user_key").is_duplicated() & (pl.int_range(pl.len()).over("user_key") > 0))
        .then(pl.lit("duplicate member (already read)"))
        .otherwise(None)
    )
    accepted, rejected = split_by_reason(frame)
    first_post = posts.group_by("author_key").agg(first=pl.col("created_at").min())
    listed = (
        accepted.join(first_post, on="author_key", how="left")
        .select(
            community=pl.lit(community),
            author_key="author_key",
            joined_at="first",
            role="role",
            is_staff="is_staff",
        )
    )
    members = merge_members(listed, posts, community)
    quarantine = quarantine_frame(
        community, "members",
        rejected.rename({"_file": "source_file", "_row": "source_row"}).with_columns(owner=pl.col("owner").cast(pl.String)),
        ["owner"],
    )
    account = Account("members", "member", frame.height, accepted.height, quarantine.height)
    return members, quarantine, account
