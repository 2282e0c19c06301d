#!/usr/bin/env python3
"""Turn the hand-written sample content into realistic native platform exports.

Input:  scripts/sample_content/<slug>/roster.yaml, threads_*.yaml, stories.yaml
        (format: scripts/sample_content/FORMAT.md) and the survey instrument
        value_pipeline/instruments/default.yaml.
Output: sample_exports/<slug>/ with community.yaml, forum/, members/ and surveys/, each
        file in the layout the real platform writes:

    riverside-science  Discourse JSON API responses + Qualtrics CSV (America/Chicago)
    first-year-circle  Slack workspace export (zip) + Google Forms CSV (America/New_York)
    inquiry-math-pd    Moodle forum export CSVs + participants CSV + Qualtrics CSV (America/Denver)

The YAML holds what people wrote; this script adds everything a platform adds: ids,
timestamps (thread `date` is local time, replies add `after_hours`), reactions, reading
activity, members who never post ("lurkers"), survey answers and a few rows a reader
must quarantine (a Discourse whisper and deleted post, a Qualtrics preview and a
superseded partial response).

Run from the project root:  python scripts/make_sample_exports.py
The output is deterministic: every random draw comes from a `random.Random` seeded with
a fixed seed plus a purpose label (and usually a person's handle), so adding a thread
does not reshuffle unrelated people; there are no wall-clock times; zip entries carry a
fixed date. sample_exports/ is deleted and rewritten byte-identically on every run.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import math
import random
import re
import shutil
import sys
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "scripts" / "sample_content"
OUT = ROOT / "sample_exports"
INSTRUMENT = ROOT / "value_pipeline" / "instruments" / "default.yaml"
SEED = 20260214
UTC = timezone.utc

COMMUNITIES: dict[str, dict] = {
    "riverside-science": {
        "name": "Riverside USD Science Teachers Forum",
        "platform": "discourse",
        "formal": True,
        "funder": "Tri-County STEM Foundation",
        "timezone": "America/Chicago",
        "lurkers": 60,
        "survey": "qualtrics",
        "numeric_agree": False,  # Qualtrics "export choice text"
        "waves": {"baseline": ("2026-02-09", "2026-02-27"), "followup": ("2026-09-08", "2026-09-25")},
        "host": "forum.riverside-usd.example",
    },
    "first-year-circle": {
        "name": "First Year Teachers Circle",
        "platform": "slack",
        "formal": False,
        "funder": "Harwell Family Foundation",
        "timezone": "America/New_York",
        "lurkers": 70,
        "survey": "google_forms",
        "waves": {"baseline": ("2025-09-22", "2025-10-10"), "followup": ("2026-03-02", "2026-03-18")},
        "workspace": "firstyearcircle",
    },
    "inquiry-math-pd": {
        "name": "Inquiry Math Fellows 2026",
        "platform": "moodle",
        "formal": True,
        "funder": "Tri-County STEM Foundation",
        "timezone": "America/Denver",
        "lurkers": 12,
        "survey": "qualtrics",
        "numeric_agree": True,  # Qualtrics "export numeric values" for agree5 items
        "waves": {"baseline": ("2026-02-03", "2026-02-14"), "followup": ("2026-08-03", "2026-08-14")},
    },
}

# Who receives each funder's quarterly reports (value_pipeline/delivery.py); fictional addresses.
FUNDER_RECIPIENTS: dict[str, list[str]] = {
    "Tri-County STEM Foundation": ["grants@tricounty-stem.example", "evaluation@tricounty-stem.example"],
    "Harwell Family Foundation": ["programs@harwell-foundation.example"],
}

STAFF_ROLES = {"staff", "moderator", "facilitator"}
NAMED_LURKERS = 12  # lurker_01..lurker_12 may be named in stories.yaml


# --------------------------------------------------------------------------- helpers


def rng(*parts: object) -> random.Random:
    """A random stream for one purpose; string seeds are stable across runs and machines."""
    return random.Random("/".join(str(p) for p in (SEED, *parts)))


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def slugify(text: str) -> str:
    """Discourse-style slug: lowercase words joined by '-', apostrophes dropped."""
    text = ascii_fold(text).lower().replace("'", "").replace("\u2019", "")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "topic"


def as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip())


def parse_local(value) -> datetime:
    """A thread `date` (local wall-clock time, minutes) as a naive datetime."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, 12, 0)
    text = str(value).strip()
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            pass
    raise ValueError(f"unreadable thread date {value!r}")


def to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    return local.replace(tzinfo=tz).astimezone(UTC)


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def iso_z(moment: datetime) -> str:
    """Discourse's UTC timestamp style: 2026-01-22T02:48:12.345Z."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def write_text(path: Path, text: str, newline: str = "\n") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline=newline) as handle:
        handle.write(text)


def write_json(path: Path, data, indent: int = 2, ascii_only: bool = False) -> None:
    write_text(path, json.dumps(data, indent=indent, ensure_ascii=ascii_only) + "\n")


def csv_text(rows: list[list[str]], lineterminator: str = "\n") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=lineterminator)
    writer.writerows(rows)
    return buffer.getvalue()


def gravatar(email: str, size: int) -> str:
    digest = hashlib.md5(email.strip().lower().encode()).hexdigest()
    return f"https://secure.gravatar.com/avatar/{digest}.jpg?s={size}&d=identicon"


# ------------------------------------------------------------------- the content model


@dataclass
class Person:
    handle: str
    name: str
    email: str
    role: str
    joined: date
    school: str = ""
    subject: str = ""
    lurker: bool = False  # generated member who never posts
    lurker_id: str | None = None  # lurker_01..lurker_12, for stories.yaml
    posts: list["Post"] = field(default_factory=list)
    joined_at: datetime | None = None  # UTC instant of sign-up / enrolment / workspace join
    returned: bool = True  # False: signed up, never came back (lurkers only)

    @property
    def first(self) -> str:
        return self.name.split(" ", 1)[0]

    @property
    def last(self) -> str:
        return self.name.split(" ", 1)[1] if " " in self.name else ""

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_lurker(self) -> bool:
        return self.lurker


@dataclass
class Post:
    thread: "Thread"
    number: int  # 1-based position in the YAML thread
    author: str
    text: str
    code: str
    reactions: int
    reply_to: int | None
    at: datetime  # UTC


@dataclass
class Thread:
    channel: str
    title: str | None
    opened: datetime  # UTC
    source: str
    posts: list[Post] = field(default_factory=list)


@dataclass
class Community:
    slug: str
    cfg: dict
    tz: ZoneInfo
    people: list[Person]
    threads: list[Thread]
    stories: list[dict]
    export_at: datetime  # when the evaluator pulled the exports (UTC)

    @property
    def by_handle(self) -> dict[str, Person]:
        return {p.handle: p for p in self.people}

    @property
    def posts(self) -> list[Post]:
        return sorted((p for t in self.threads for p in t.posts), key=lambda p: p.at)

    @property
    def first_post(self) -> datetime:
        return min(t.opened for t in self.threads)

    @property
    def last_post(self) -> datetime:
        return max(p.at for t in self.threads for p in t.posts)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)


# --------------------------------------------------------------------------- loading


def load_thread(raw: dict, tz: ZoneInfo, source: str, draws: random.Random) -> Thread:
    """One YAML thread with UTC times: `date` is local; each reply adds after_hours (default 2)."""
    nominal = to_utc(parse_local(raw["date"]), tz)
    thread = Thread(channel=str(raw["channel"]), title=raw.get("title"), opened=nominal, source=source)
    previous = None
    for number, post in enumerate(raw.get("posts") or [], 1):
        if number > 1:
            hours = post.get("after_hours")
            nominal += timedelta(hours=2.0 if hours is None else float(hours))
        at = nominal + timedelta(seconds=draws.randint(0, 59), milliseconds=draws.randint(0, 999))
        if previous is not None and at <= previous:
            at = previous + timedelta(seconds=draws.randint(20, 90))
        previous = at
        reply_to = post.get("reply_to")
        thread.posts.append(
            Post(
                thread=thread,
                number=number,
                author=str(post["author"]),
                text=str(post.get("text") or "").strip(),
                code=str(post.get("code") or "other"),
                reactions=int(post.get("reactions") or 0),
                reply_to=int(reply_to) if reply_to is not None else None,
                at=at,
            )
        )
    thread.opened = thread.posts[0].at if thread.posts else thread.opened
    return thread


def load_community(slug: str, cfg: dict) -> Community:
    """Roster, all threads_*.yaml (sorted by name), stories.yaml if present, plus lurkers."""
    folder = CONTENT / slug
    tz = ZoneInfo(cfg["timezone"])
    roster = yaml.safe_load((folder / "roster.yaml").read_text(encoding="utf-8"))["members"]
    people = [
        Person(
            handle=str(m["handle"]),
            name=str(m["name"]),
            email=str(m["email"]),
            role=str(m.get("role") or "member"),
            joined=as_date(m["joined"]),
            school=str(m.get("school") or ""),
            subject=str(m.get("subject") or ""),
        )
        for m in roster
    ]
    threads: list[Thread] = []
    for path in sorted(folder.glob("threads_*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for index, raw in enumerate(data.get("threads") or []):
            if raw.get("posts"):
                threads.append(load_thread(raw, tz, f"{path.name}#{index + 1}", rng(slug, "times", path.name, index)))
    threads.sort(key=lambda t: t.opened)
    stories_path = folder / "stories.yaml"
    stories = []
    if stories_path.is_file():
        stories = (yaml.safe_load(stories_path.read_text(encoding="utf-8")) or {}).get("stories") or []

    by_handle = {p.handle: p for p in people}
    for thread in threads:
        for post in thread.posts:
            if post.author not in by_handle:
                sys.exit(f"{slug}/{thread.source}: author {post.author!r} is not in roster.yaml")
            by_handle[post.author].posts.append(post)

    last_local = max(p.at for t in threads for p in t.posts).astimezone(tz).date()
    last_wave = max(as_date(end) for _, end in cfg["waves"].values())
    export_day = max(last_local, last_wave) + timedelta(days=3)
    export_at = to_utc(datetime(export_day.year, export_day.month, export_day.day, 9, 30), tz)
    community = Community(slug, cfg, tz, people, threads, stories, export_at)
    community.people += make_lurkers(community)
    set_join_times(community)
    known = set(community.by_handle) | {p.lurker_id for p in community.people if p.lurker_id}
    for story in stories:
        if story.get("respondent") not in known:
            sys.exit(f"{slug}/stories.yaml: respondent {story.get('respondent')!r} is neither in the roster nor a lurker id")
    return community


# --------------------------------------------------------------------------- lurkers

FIRST_NAMES = [
    "Abigail", "Adrian", "Aisha", "Alejandra", "Alicia", "Amanda", "Andre", "Angela", "Anthony", "Ashley",
    "Beatriz", "Brandon", "Brenda", "Caleb", "Camila", "Carlos", "Carmen", "Cassandra", "Charles", "Chloe",
    "Christina", "Claire", "Courtney", "Crystal", "Darius", "Deborah", "Denise", "Derek", "Destiny", "Diana",
    "Dominic", "Ebony", "Edward", "Emily", "Esther", "Ethan", "Fernando", "Fiona", "Gloria", "Grace",
    "Hector", "Imani", "Irene", "Isabel", "Jacob", "Janelle", "Jasmine", "Jason", "Jennifer", "Jerome",
    "Joanna", "Jonathan", "Jorge", "Julia", "Justin", "Karen", "Katherine", "Kenji", "Kimberly", "Kristen",
    "Lakshmi", "Latoya", "Laura", "Leah", "Lindsey", "Lorena", "Madison", "Malik", "Maria", "Mariana",
    "Matthew", "Maya", "Melissa", "Michelle", "Monique", "Natalie", "Nicole", "Omar", "Paige", "Paula",
    "Rebecca", "Ricardo", "Samantha", "Sandra", "Shauna", "Simone", "Stephanie", "Steven", "Tamika", "Teresa",
    "Terrence", "Theresa", "Valerie", "Vanessa", "Vivian", "Whitney", "Xavier", "Yesenia", "Yvonne", "Zachary",
]
LAST_NAMES = [
    "Abbott", "Acosta", "Adams", "Aguilar", "Alexander", "Baird", "Banks", "Barrera", "Bishop", "Bowman",
    "Boyd", "Burke", "Calloway", "Campos", "Carver", "Castillo", "Chang", "Choi", "Clarke", "Cortez",
    "Crawford", "Dawson", "Dominguez", "Duncan", "Ellis", "Espinoza", "Farrell", "Ferguson", "Fleming", "Flores",
    "Garner", "Gibson", "Gonzales", "Gordon", "Gutierrez", "Hale", "Hammond", "Hawkins", "Herrera", "Hoang",
    "Holloway", "Hopkins", "Ibarra", "Jacobs", "Jimenez", "Kaur", "Keller", "Khan", "Lambert", "Lawson",
    "Lopez", "Lowe", "Maddox", "Marquez", "McBride", "McKenzie", "Meyer", "Molina", "Monroe", "Navarro",
    "Nolan", "Norris", "Olson", "Osei", "Pacheco", "Palmer", "Pham", "Porter", "Powell", "Ramos",
    "Randall", "Rhodes", "Rios", "Rivers", "Rojas", "Salazar", "Sanders", "Schmidt", "Serrano", "Shah",
    "Shaw", "Simmons", "Soto", "Stanley", "Sullivan", "Tanaka", "Tate", "Tran", "Valdez", "Vaughn",
    "Wade", "Walsh", "Warren", "Watts", "Weaver", "Wheeler", "Wilkins", "Woods", "Yates", "Zimmerman",
]
RIVERSIDE_TAGS = ["bio", "chem", "phys", "6sci", "7sci", "8sci", "es", "env", "sci", "hs", "ms", "ap"]
INQUIRY_TAGS = ["3", "4", "5", "6", "7", "8", "3rd", "4th", "5th", "6th", "mth6", "math7", "mth8"]
FYC_TITLES = [
    "Kindergarten, first year", "1st grade, first year", "2nd grade, first year", "3rd grade, second year",
    "4th grade, first year", "5th grade, first year", "6th grade math, first year", "7th grade ELA, first year",
    "8th grade science, second year", "High school biology, first year", "Algebra 1, first year",
    "World history, first year", "Special education, first year", "ESL K-5, first year", "Art K-8, second year",
    "High school English, first year", "Middle school band, first year", "Chemistry, second year",
]
FYC_SUBJECT_WORDS = ["math", "sci", "ela", "sped", "k2", "art", "hist", "bio", "esl", "music"]


def make_lurkers(community: Community) -> list[Person]:
    """Members who never post: realistic names, handles like the roster's, .example emails.

    Join dates are drawn from the roster's (non-staff) join dates with a few days' jitter,
    so lurkers arrive in the same waves as posters. The first 12 get lurker_01..lurker_12.
    """
    slug, cfg = community.slug, community.cfg
    draws = rng(slug, "lurkers")
    roster = community.people
    handles = {p.handle for p in roster}
    emails = {p.email.lower() for p in roster}
    member_domains = sorted({p.email.split("@")[1] for p in roster if not p.is_staff})
    joined_pool = sorted(p.joined for p in roster if not p.is_staff)
    earliest, latest = joined_pool[0], community.last_post.astimezone(community.tz).date()
    names = set()
    lurkers = []
    while len(lurkers) < cfg["lurkers"]:
        first, last = draws.choice(FIRST_NAMES), draws.choice(LAST_NAMES)
        if (first, last) in names or any(p.name == f"{first} {last}" for p in roster):
            continue
        f, l = first.lower(), re.sub(r"[^a-z]", "", last.lower())
        if slug == "riverside-science":
            handle = f"{f[0]}{l}_{draws.choice(RIVERSIDE_TAGS)}"
            email = f"{f[0]}{l}@{member_domains[0]}"
        elif slug == "inquiry-math-pd":
            handle = f"{f[0]}{l}_{draws.choice(INQUIRY_TAGS)}"
            email = f"{f[0]}{l}@{draws.choice(member_domains)}"
        else:
            style = draws.randrange(4)
            handle = [f"{f}.{l}", f"{f}.{l[0]}", f"{f}_{draws.choice(FYC_SUBJECT_WORDS)}", f"{f[0]}{l}"][style]
            email = f"{f[0]}{l}@{draws.choice(member_domains)}"
        if handle in handles or email in emails:
            continue
        names.add((first, last))
        handles.add(handle)
        emails.add(email)
        joined = draws.choice(joined_pool) + timedelta(days=draws.randint(-4, 6))
        joined = min(max(joined, earliest), latest)
        index = len(lurkers) + 1
        lurkers.append(
            Person(
                handle=handle,
                name=f"{first} {last}",
                email=email,
                role="member",
                joined=joined,
                school="",
                subject=draws.choice(FYC_TITLES) if slug == "first-year-circle" else "",
                lurker=True,
                lurker_id=f"lurker_{index:02d}" if index <= NAMED_LURKERS else None,
            )
        )
    for lurker in draws.sample(lurkers, k=round(len(lurkers) * 0.25)):
        lurker.returned = False  # signed up, never came back
    return lurkers


def set_join_times(community: Community) -> None:
    """Sign-up instant: the joined date at a plausible local hour, never after a first post."""
    for person in community.people:
        draws = rng(community.slug, "joined", person.handle)
        local = datetime(person.joined.year, person.joined.month, person.joined.day, draws.randint(7, 21), draws.randint(0, 59), draws.randint(0, 59))
        joined_at = to_utc(local, community.tz)
        if person.posts:
            first = min(p.at for p in person.posts)
            if joined_at > first:
                joined_at = first - timedelta(minutes=draws.randint(8, 180))
        person.joined_at = joined_at


# ---------------------------------------------------------------- reading activity


def reading_activity(community: Community) -> dict[str, dict]:
    """Per person: last_seen, days_visited, posts_read, topics_entered, seconds read.

    Posters read most of what was posted after they joined. About 75% of lurkers read
    (5-400 posts, last seen in the last two months of the range); the rest never came
    back after signing up (nothing read, one visit, last seen = sign-up).
    """
    posts = community.posts
    times = [p.at for p in posts]
    end, export_at = community.last_post, community.export_at
    activity = {}
    for person in community.people:
        draws = rng(community.slug, "reading", person.handle)
        available = sum(1 for t in times if t >= person.joined_at)
        topics = sum(1 for t in community.threads if t.posts[-1].at >= person.joined_at)
        if person.posts:
            last_post = max(p.at for p in person.posts)
            if end - last_post < timedelta(days=60):
                last_seen = export_at - timedelta(hours=draws.uniform(2, 24 * 20))
            else:
                last_seen = last_post + timedelta(hours=draws.uniform(1, 24 * 40))
            last_seen = max(last_seen, last_post + timedelta(minutes=5))
            read = max(len(person.posts), int(available * draws.uniform(0.5, 0.97)))
            span = max(1, (last_seen - person.joined_at).days + 1)
            post_days = len({p.at.astimezone(community.tz).date() for p in person.posts})
            days = min(span, max(post_days, int(span * draws.uniform(0.2, 0.6))))
        elif person.returned:
            window_start = max(person.joined_at, end - timedelta(days=60))
            last_seen = window_start + (end - window_start) * draws.random() if end > window_start else person.joined_at + timedelta(hours=1)
            read = min(available, draws.randint(5, 400)) if available >= 5 else available
            span = max(1, (last_seen - person.joined_at).days + 1)
            days = max(2, min(span, read // 3 + draws.randint(1, 4)))
        else:
            last_seen, read, days = person.joined_at, 0, 1
        entered = min(topics, max(1 if read else 0, int(read / draws.uniform(2.5, 5.0))))
        activity[person.handle] = {
            "last_seen": last_seen,
            "days_visited": days,
            "posts_read": read,
            "topics_entered": entered,
            "seconds_read": int(read * draws.uniform(8, 28)),
        }
    return activity


# ------------------------------------------------------------------ text formatting

_MD_LINK = r"\[([^\]]+)\]\((https?://[^)\s]+)\)"
_BARE_URL = r"https?://[^\s<>\"')\]]+"
_LINK = re.compile(f"{_MD_LINK}|{_BARE_URL}")


def find_links(text: str) -> list[tuple[int, int, str, str | None, str]]:
    """(start, end, url, label or None, trailing punctuation) for every link in plain text."""
    found = []
    for match in _LINK.finditer(text):
        if match.group(1):
            found.append((match.start(), match.end(), match.group(2), match.group(1), ""))
            continue
        url, trail = match.group(0), ""
        while url and url[-1] in ".,;:!?":
            url, trail = url[:-1], url[-1] + trail
        found.append((match.start(), match.end(), url, None, trail))
    return found


def links_in(text: str) -> list[str]:
    return [url for _, _, url, _, _ in find_links(text)]


def inline_html(line: str, link_attrs: str) -> str:
    """Escape a line of text and turn URLs and [label](url) into <a href> links."""
    out, pos = [], 0
    for start, end, url, label, trail in find_links(line):
        out.append(html.escape(line[pos:start], quote=False))
        shown = html.escape(label if label else url, quote=False)
        out.append(f'<a href="{html.escape(url)}"{link_attrs}>{shown}</a>{html.escape(trail, quote=False)}')
        pos = end
    out.append(html.escape(line[pos:], quote=False))
    return "".join(out)


def text_to_html(text: str, link_attrs: str = "") -> str:
    """Markdown-ish plain text -> HTML as Discourse cooks it and Moodle's editor stores it.

    Blank lines separate paragraphs (<p>); single line breaks become <br>; runs of
    "- item" / "1. item" lines become <ul>/<ol> lists.
    """
    parts = []
    for block in re.split(r"\n\s*\n", text.strip()):
        runs: list[tuple[str, list[str]]] = []
        for line in block.split("\n"):
            bullet = re.match(r"^\s*[-*•]\s+(.*)$", line)
            numbered = re.match(r"^\s*\d+[.)]\s+(.*)$", line)
            kind = "ul" if bullet else "ol" if numbered else "p"
            content = (bullet or numbered).group(1) if kind != "p" else line.strip()
            if runs and runs[-1][0] == kind:
                runs[-1][1].append(content)
            else:
                runs.append((kind, [content]))
        for kind, lines in runs:
            if kind == "p":
                parts.append("<p>" + "<br>\n".join(inline_html(line, link_attrs) for line in lines) + "</p>")
            else:
                items = "".join(f"<li>{inline_html(line, link_attrs)}</li>\n" for line in lines)
                parts.append(f"<{kind}>\n{items}</{kind}>")
    return "\n".join(parts)


def slack_markup(text: str) -> str:
    """Plain text -> Slack message text: &, <, > escaped; links as <url> or <url|label>."""
    out, pos = [], 0
    for start, end, url, label, trail in find_links(text):
        out.append(_slack_escape(text[pos:start]))
        out.append(f"<{_slack_escape(url)}|{_slack_escape(label)}>" if label else f"<{_slack_escape(url)}>")
        out.append(_slack_escape(trail))
        pos = end
    out.append(_slack_escape(text[pos:]))
    return "".join(out)


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fancy_title(title: str) -> str:
    """Discourse's fancy_title: HTML-escaped with typographic quotes and dashes."""
    text = html.escape(title, quote=False)
    text = text.replace(" -- ", " &ndash; ").replace("...", "&hellip;")
    text = re.sub(r"(^|[\s(])'", r"\1&lsquo;", text).replace("'", "&rsquo;")
    text = re.sub(r'(^|[\s(])"', r"\1&ldquo;", text).replace('"', "&rdquo;")
    return text


def human_age(delta: timedelta) -> str:
    """Discourse admin list ages: 5m, 3h, 12d, 4mon, 1y."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return "< 1m"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    days = seconds // 86400
    if days < 30:
        return f"{days}d"
    if days < 365:
        return f"{days // 30}mon"
    return f"{days // 365}y"


# ------------------------------------------------------------------------ Discourse

CATEGORY_DESCRIPTIONS = {
    "District Announcements": "News, PD dates and deadlines from the district science office. Replies welcome.",
    "Teachers' Lounge": "Introductions, celebrations, venting and everything that is not a lesson plan.",
    "Labs & Demos": "Lab procedures, demos, safety notes and what actually worked with real students.",
    "Help Desk": "Stuck on something? Tech, materials, scheduling or a tricky class: ask here.",
    "Assessment & Grading": "Rubrics, retakes, CER scoring, common assessments and grading workload.",
    "NGSS Units & Planning": "Unit storylines, phenomena, pacing and the OpenSciEd pilot.",
}
CATEGORY_COLORS = ["0088CC", "F7941D", "3AB54A", "BF1E2E", "652D90", "25AAE2", "12A89D", "ED207B", "8C6238", "92278F"]


def discourse_posts(community: Community) -> tuple[list[dict], dict[int, list[dict]]]:
    """Every post Discourse would hold, topic by topic, plus the two planted non-member rows.

    Returns (topics, posts by topic index). Each post is a plain dict with the person,
    time, text, reactions, post_type, deleted_at and the YAML number it came from.
    """
    staff_by_role = {p.role: p for p in community.people if p.is_staff}
    moderator = staff_by_role.get("moderator") or staff_by_role.get("staff")
    admin = staff_by_role.get("staff") or moderator
    by_topic: dict[int, list[dict]] = {}
    for index, thread in enumerate(community.threads):
        by_topic[index] = [
            {"person": post.author, "at": post.at, "text": post.text, "reactions": post.reactions,
             "post_type": 1, "deleted_at": None, "yaml_number": post.number, "reply_to_yaml": post.reply_to}
            for post in thread.posts
        ]
    # A moderator whisper (post_type 4, seen only by staff) in the busiest working topic.
    working = [i for i, t in enumerate(community.threads) if t.posts[0].code not in {"social", "other"}]
    busiest = max(working or range(len(community.threads)), key=lambda i: (len(community.threads[i].posts), -i))
    posts = by_topic[busiest]
    middle = len(posts) // 2
    after, before = posts[middle - 1]["at"], posts[middle]["at"]
    posts.insert(middle, {
        "person": moderator.handle, "at": after + (before - after) / 2,
        "text": f"@{admin.handle} heads up, this thread is getting a lot of traffic. All civil so far and I'd like to "
                "leave it open, but it might be worth pinning or pointing to from the next PD agenda. Your call.",
        "reactions": 0, "post_type": 4, "deleted_at": None, "yaml_number": None, "reply_to_yaml": None,
    })
    # A member's accidental double post, removed by the moderator a few minutes later.
    candidates = [
        i for i, thread in enumerate(community.threads)
        if i != busiest and len(thread.posts) >= 4 and thread.posts[0].at > community.first_post + timedelta(days=30)
        and not community.by_handle[thread.posts[1].author].is_staff
    ]
    target = candidates[0] if candidates else (busiest + 1) % len(community.threads)
    posts = by_topic[target]
    original = posts[1]
    gap = (posts[2]["at"] - original["at"]) if len(posts) > 2 else timedelta(hours=1)
    at = original["at"] + min(timedelta(seconds=47), gap / 3)
    posts.insert(2, {
        **original, "at": at, "reactions": 0, "yaml_number": None,
        "deleted_at": at + min(timedelta(minutes=11), gap / 3),
    })
    return community.threads, by_topic


def write_discourse(community: Community, out: Path) -> None:
    """Discourse JSON API responses, as an admin fetches them.

    forum/categories.json      GET /categories.json  ({"category_list": {"categories": [...]}})
    forum/topic_<id>.json      GET /t/<id>.json, one per topic, with every post in
                               post_stream.posts and every id in post_stream.stream
    members/users.json         GET /admin/users/list/active.json (a list of users with
                               email, created_at, last_seen_at and reading counts)
    Shapes follow discourse_api's fixtures (topic.json, categories.json, user_list.json).
    """
    forum, members_dir = out / "forum", out / "members"
    people = community.by_handle
    activity = reading_activity(community)
    threads, by_topic = discourse_posts(community)

    # Ids: users in sign-up order, topics in creation order, posts globally by time.
    ordered_people = sorted(community.people, key=lambda p: (p.joined_at, p.handle))
    user_ids = {p.handle: i for i, p in enumerate(ordered_people, 1)}
    channels = list(dict.fromkeys(t.channel for t in threads))
    category_ids = {name: 5 + i for i, name in enumerate(channels)}
    topic_ids = {i: 12 + i for i in range(len(threads))}
    everything = sorted(
        ((i, post) for i, posts in by_topic.items() for post in posts), key=lambda item: (item[1]["at"], item[0])
    )
    for post_id, (_, post) in enumerate(everything, 48):
        post["id"] = post_id
    post_counts = {h: 0 for h in people}
    for posts in by_topic.values():
        for post in posts:
            if post["post_type"] == 1 and not post["deleted_at"]:
                post_counts[post["person"]] += 1

    def trust_level(person: Person) -> int:
        if person.role in {"staff", "moderator"}:
            return 4
        n, seen = post_counts[person.handle], activity[person.handle]
        if n >= 15:
            return 3
        if n >= 3 or (seen["days_visited"] >= 15 and seen["posts_read"] >= 100):
            return 2
        if seen["topics_entered"] >= 5 and seen["posts_read"] >= 30 and seen["seconds_read"] >= 600:
            return 1
        return 1 if n else 0

    def avatar(person: Person) -> str:
        color = CATEGORY_COLORS[int(hashlib.md5(person.handle.encode()).hexdigest(), 16) % len(CATEGORY_COLORS)].lower()
        return f"/letter_avatar_proxy/v4/letter/{person.handle[0]}/{color}/{{size}}.png"

    def user_ref(person: Person) -> dict:
        return {"id": user_ids[person.handle], "username": person.handle, "name": person.name, "avatar_template": avatar(person)}

    category_stats = {name: {"topics": 0, "posts": 0} for name in channels}
    for index, thread in enumerate(threads):
        draws = rng(community.slug, "discourse-topic", thread.source)
        topic_id, slug = topic_ids[index], slugify(thread.title or thread.channel)
        posts = sorted(by_topic[index], key=lambda p: p["at"])
        numbers = {}
        for number, post in enumerate(posts, 1):
            post["post_number"] = number
            if post["yaml_number"] is not None:
                numbers[post["yaml_number"]] = number
        for post in posts:
            target = post["reply_to_yaml"]
            post["reply_to_post_number"] = None if target in (None, 1) else numbers.get(target)
        regular = [p for p in posts if p["post_type"] == 1 and not p["deleted_at"]]
        members_then = sum(1 for p in community.people if p.joined_at <= posts[0]["at"])
        views = int(len(regular) * draws.uniform(2, 4) + members_then * draws.uniform(0.35, 0.9)) + 1
        json_posts = []
        for post in posts:
            person = people[post["person"]]
            reads = max(1, int(views * draws.uniform(0.45, 0.75) * (0.97 ** (post["post_number"] - 1))))
            replies = sum(1 for p in posts if p["reply_to_post_number"] == post["post_number"])
            avg_time = draws.randint(4, 75)
            record = {
                "id": post["id"],
                "name": person.name,
                "username": person.handle,
                "avatar_template": avatar(person),
                "created_at": iso_z(post["at"]),
                "cooked": text_to_html(post["text"], ' rel="noopener nofollow ugc"'),
                "post_number": post["post_number"],
                "post_type": post["post_type"],
                "updated_at": iso_z(post["deleted_at"] or post["at"]),
                "reply_count": replies,
                "reply_to_post_number": post["reply_to_post_number"],
                "quote_count": 0,
                "incoming_link_count": 0,
                "reads": reads,
                "readers_count": reads - 1,
                "score": round(replies * 5 + post["reactions"] * 15 + reads * 0.2 + avg_time * 0.05, 3),
                "yours": False,
                "topic_id": topic_id,
                "topic_slug": slug,
                "display_username": person.name,
                "primary_group_name": None,
                "flair_name": None,
                "version": 1,
                "can_edit": False,
                "can_delete": False,
                "can_recover": False,
                "can_wiki": False,
                "read": True,
                "user_title": None,
                "bookmarked": False,
                "actions_summary": [{"id": 2, "count": post["reactions"]}] if post["reactions"] else [],
                "moderator": person.role == "moderator",
                "admin": person.role == "staff",
                "staff": person.role in {"staff", "moderator"},
                "user_id": user_ids[person.handle],
                "hidden": False,
                "trust_level": trust_level(person),
                "deleted_at": iso_z(post["deleted_at"]) if post["deleted_at"] else None,
                "user_deleted": False,
                "edit_reason": None,
                "can_view_edit_history": True,
                "wiki": False,
                "avg_time": avg_time,
            }
            if post["post_type"] == 4:
                record["cooked"] = re.sub(
                    r"@(\w+)", lambda m: f'<a class="mention" href="/u/{m.group(1)}">@{m.group(1)}</a>', record["cooked"], count=1
                )
            urls = list(dict.fromkeys(links_in(post["text"])))
            if urls:
                record["link_counts"] = [
                    {"url": url, "internal": False, "reflection": False, "clicks": draws.randint(0, max(1, reads // 4))}
                    for url in urls
                ]
            json_posts.append(record)
        participants: dict[str, int] = {}
        for post in regular:
            participants[post["person"]] = participants.get(post["person"], 0) + 1
        opener, last = people[regular[0]["person"]], people[regular[-1]["person"]]
        topic = {
            "post_stream": {"posts": json_posts, "stream": [p["id"] for p in posts]},
            "timeline_lookup": [[1, 0]],
            "id": topic_id,
            "title": thread.title or thread.channel,
            "fancy_title": fancy_title(thread.title or thread.channel),
            "posts_count": len(regular),
            "created_at": iso_z(regular[0]["at"]),
            "views": views,
            "reply_count": len(regular) - 1,
            "like_count": sum(p["reactions"] for p in regular),
            "last_posted_at": iso_z(regular[-1]["at"]),
            "visible": True,
            "closed": False,
            "archived": False,
            "has_summary": False,
            "archetype": "regular",
            "slug": slug,
            "category_id": category_ids[thread.channel],
            "word_count": sum(len(p["text"].split()) for p in regular),
            "deleted_at": None,
            "user_id": user_ids[opener.handle],
            "featured_link": None,
            "pinned_globally": False,
            "pinned_at": None,
            "pinned_until": None,
            "pinned": False,
            "highest_post_number": len(posts),
            "deleted_by": None,
            "has_deleted": any(p["deleted_at"] for p in posts),
            "actions_summary": [],
            "chunk_size": 20,
            "bookmarked": False,
            "draft": None,
            "draft_key": f"topic_{topic_id}",
            "draft_sequence": 0,
            "details": {
                "can_edit": False,
                "notification_level": 1,
                "participants": [
                    {**user_ref(people[h]), "post_count": n, "primary_group_name": None, "flair_name": None}
                    for h, n in sorted(participants.items(), key=lambda kv: (-kv[1], kv[0]))
                ],
                "created_by": user_ref(opener),
                "last_poster": user_ref(last),
            },
        }
        category_stats[thread.channel]["topics"] += 1
        category_stats[thread.channel]["posts"] += len(regular)
        write_json(forum / f"topic_{topic_id}.json", topic)

    categories = {
        "featured_users": [],
        "category_list": {
            "can_create_category": False,
            "can_create_topic": True,
            "draft": None,
            "draft_key": "new_topic",
            "draft_sequence": 0,
            "categories": [
                {
                    "id": category_ids[name],
                    "name": name,
                    "color": CATEGORY_COLORS[i % len(CATEGORY_COLORS)],
                    "text_color": "FFFFFF",
                    "slug": slugify(name),
                    "topic_count": category_stats[name]["topics"],
                    "post_count": category_stats[name]["posts"],
                    "position": i + 1,
                    "description": CATEGORY_DESCRIPTIONS.get(name, f"Discussion: {name}."),
                    "description_text": CATEGORY_DESCRIPTIONS.get(name, f"Discussion: {name}."),
                    "topic_url": f"/t/about-the-{slugify(name)}-category/{category_ids[name] - 3}",
                    "read_restricted": False,
                    "permission": 1,
                    "notification_level": 1,
                    "has_children": False,
                    "subcategory_ids": [],
                }
                for i, name in enumerate(channels)
            ],
        },
    }
    write_json(forum / "categories.json", categories)

    users = []
    for person in ordered_people:
        seen = activity[person.handle]
        emailed = community.export_at - timedelta(hours=rng(community.slug, "emailed", person.handle).uniform(6, 24 * 7))
        users.append({
            "id": user_ids[person.handle],
            "username": person.handle,
            "name": person.name,
            "uploaded_avatar_id": None,
            "avatar_template": avatar(person),
            "email": person.email,
            "active": True,
            "admin": person.role == "staff",
            "moderator": person.role == "moderator",
            "last_seen_at": iso_z(seen["last_seen"]),
            "last_emailed_at": iso_z(emailed),
            "created_at": iso_z(person.joined_at),
            "last_seen_age": human_age(community.export_at - seen["last_seen"]),
            "last_emailed_age": human_age(community.export_at - emailed),
            "created_at_age": human_age(community.export_at - person.joined_at),
            "username_lower": person.handle.lower(),
            "trust_level": trust_level(person),
            "trust_level_locked": False,
            "flag_level": 0,
            "title": None,
            "suspended_at": None,
            "suspended_till": None,
            "suspended": None,
            "silenced": False,
            "time_read": human_age(timedelta(seconds=seen["seconds_read"])),
            "staged": False,
            "days_visited": seen["days_visited"],
            "posts_read_count": seen["posts_read"],
            "topics_entered": seen["topics_entered"],
            "post_count": post_counts[person.handle],
        })
    users.sort(key=lambda u: (u["last_seen_at"], u["id"]), reverse=True)  # the admin list's order
    write_json(members_dir / "users.json", users)


# ---------------------------------------------------------------------------- Slack

SLACK_PURPOSES = {
    "general": "Announcements, introductions and anything for the whole circle.",
    "classroom-management": "Routines, procedures, behavior plans and the days nothing worked.",
    "lesson-ideas": "Share and borrow lessons, activities and resources that worked.",
    "vent-and-celebrate": "Bad days, small wins and everything in between. No judgment.",
    "grading-and-admin": "Gradebooks, report cards, IEP paperwork, parent emails and other admin.",
}
EMOJI = {
    "question": ["eyes", "+1", "raised_hands", "thinking_face"],
    "answer": ["+1", "pray", "100", "bulb", "white_check_mark", "raised_hands"],
    "practice_report": ["tada", "clap", "muscle", "fire", "100"],
    "resource_share": ["star-struck", "fire", "pray", "bookmark", "clap", "+1"],
    "reflection": ["heart", "sparkling_heart", "100", "pray"],
    "support": ["heart", "hugging_face", "muscle", "sparkling_heart", "pray"],
    "celebration": ["tada", "clap", "confetti_ball", "trophy", "heart_eyes", "raised_hands"],
    "social": ["wave", "joy", "heart", "laughing", "raised_hands"],
    "other": ["+1", "eyes", "white_check_mark", "pray"],
}
STATE_TZ = {
    "Alabama": "America/Chicago", "Arizona": "America/Phoenix", "California": "America/Los_Angeles",
    "Colorado": "America/Denver", "Illinois": "America/Chicago", "Indiana": "America/Indiana/Indianapolis",
    "Iowa": "America/Chicago", "Kansas": "America/Chicago", "Kentucky": "America/New_York",
    "Louisiana": "America/Chicago", "Missouri": "America/Chicago", "Nevada": "America/Los_Angeles",
    "New Mexico": "America/Denver", "Oklahoma": "America/Chicago", "Oregon": "America/Los_Angeles",
    "Tennessee": "America/Chicago", "Texas": "America/Chicago", "Washington": "America/Los_Angeles",
    "Wisconsin": "America/Chicago",
}
TZ_NAMES = {
    "America/New_York": "Eastern", "America/Indiana/Indianapolis": "Eastern", "America/Chicago": "Central",
    "America/Denver": "Mountain", "America/Phoenix": "Mountain", "America/Los_Angeles": "Pacific",
}
POLLS = [
    (14, "How are you feeling going into week 3?", ["Surviving", "Actually kind of great", "Ask me after Friday", "Send snacks"]),
    (88, "Report cards: how far along are you?", ["Done!", "Halfway", "Haven't opened the gradebook", "What report cards?"]),
    (158, "What should our next Zoom drop-in be about?", ["Parent conferences", "Spring testing prep", "Sub plans that work", "Just hanging out"]),
]


def slack_json(data) -> bytes:
    """Slack's export encoding: 4-space indent, \\uXXXX escapes and escaped slashes."""
    return (json.dumps(data, indent=4, ensure_ascii=True).replace("/", "\\/") + "\n").encode()


def write_slack(community: Community, out: Path) -> None:
    """A Slack workspace export (Settings > Import/Export data > Export), as one zip.

    Entries follow slack-export-viewer's export: channels.json, users.json,
    integration_logs.json and <channel>/<YYYY-MM-DD>.json, one file per channel per
    local day holding that day's messages. Thread replies carry the parent's thread_ts
    and are filed under their own day. Members' channel_join events in #general, three
    polls from a bot, and reactions as [{"name", "users", "count"}].
    """
    slug, tz = community.slug, community.tz
    ids = rng(slug, "slack-ids")
    used: set[str] = set()

    def new_id(prefix: str) -> str:
        while True:
            value = prefix + "".join(ids.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(8))
            if value not in used:
                used.add(value)
                return value

    team = new_id("T0")
    people = sorted(community.people, key=lambda p: (p.joined_at, p.handle))
    user_ids = {p.handle: new_id("U0") for p in people}
    bot_user, bot_id, app_id = new_id("U0"), new_id("B0"), new_id("A0")
    owner = next(p for p in community.people if p.is_staff)  # the first facilitator in the roster
    created_at = min(p.joined_at for p in people)
    ts_used: set[str] = set()

    def ts_for(moment: datetime, draws: random.Random) -> str:
        while True:
            value = f"{epoch(moment)}.{draws.randint(0, 999999):06d}"
            if value not in ts_used:
                ts_used.add(value)
                return value

    def user_tz(person: Person) -> str:
        match = re.search(r"\(([^)]+)\)\s*$", person.school)
        if person.is_lurker:
            return rng(slug, "tz", person.handle).choice(
                ["America/New_York"] * 6 + ["America/Chicago"] * 3 + ["America/Denver", "America/Los_Angeles"]
            )
        return STATE_TZ.get(match.group(1), "America/New_York") if match else community.cfg["timezone"]

    def profile(person: Person) -> dict:
        draws = rng(slug, "slack-profile", person.handle)
        avatar_hash = "g" + hashlib.md5(person.email.encode()).hexdigest()[:11]
        return {
            "title": person.subject if not person.is_staff else f"Mentor, {person.school}",
            "phone": "",
            "skype": "",
            "real_name": person.name,
            "real_name_normalized": ascii_fold(person.name),
            "display_name": person.handle,
            "display_name_normalized": person.handle,
            "fields": None,
            "status_text": draws.choice(["", "", "", "grading :memo:", "on a field trip", "out sick :face_with_thermometer:"]),
            "status_emoji": "",
            "avatar_hash": avatar_hash,
            "email": person.email,
            "first_name": person.first,
            "last_name": person.last,
            **{f"image_{size}": gravatar(person.email, size) for size in (24, 32, 48, 72, 192, 512)},
            "team": team,
        }

    users = []
    for person in people:
        name = user_tz(person)
        zone = ZoneInfo(name)
        offset = community.export_at.astimezone(zone).utcoffset()
        daylight = bool(community.export_at.astimezone(zone).dst())
        users.append({
            "id": user_ids[person.handle],
            "team_id": team,
            "name": person.handle,
            "deleted": False,
            "color": hashlib.md5(person.handle.encode()).hexdigest()[:6],
            "real_name": person.name,
            "tz": name,
            "tz_label": f"{TZ_NAMES.get(name, 'Eastern')} {'Daylight' if daylight else 'Standard'} Time",
            "tz_offset": int(offset.total_seconds()),
            "profile": profile(person),
            "is_admin": person.is_staff,
            "is_owner": person is owner,
            "is_primary_owner": person is owner,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": False,
            "updated": epoch(person.joined_at + (community.export_at - person.joined_at) * rng(slug, "updated", person.handle).random()),
            "is_app_user": False,
        })
    users.append({
        "id": bot_user,
        "team_id": team,
        "name": "pollybot",
        "deleted": False,
        "color": "9f69e7",
        "real_name": "Polly",
        "profile": {
            "title": "", "phone": "", "skype": "", "real_name": "Polly", "real_name_normalized": "Polly",
            "display_name": "", "display_name_normalized": "", "fields": None, "status_text": "", "status_emoji": "",
            "avatar_hash": "a1b2c3d4e5f6", "api_app_id": app_id, "always_active": True, "bot_id": bot_id,
            "first_name": "Polly", "last_name": "",
            "image_72": "https://avatars.slack-edge.com/2019-01-10/polly_72.png", "team": team,
        },
        "is_admin": False, "is_owner": False, "is_primary_owner": False, "is_restricted": False,
        "is_ultra_restricted": False, "is_bot": True, "updated": epoch(created_at) + 86400 * 3, "is_app_user": False,
    })

    def user_profile(person: Person) -> dict:
        return {
            "avatar_hash": "g" + hashlib.md5(person.email.encode()).hexdigest()[:11],
            "image_72": gravatar(person.email, 72),
            "first_name": person.first,
            "real_name": person.name,
            "display_name": person.handle,
            "team": team,
            "name": person.handle,
            "is_restricted": False,
            "is_ultra_restricted": False,
        }

    channels = list(dict.fromkeys(["general", *(t.channel for t in community.threads)]))
    messages: dict[str, list[dict]] = {name: [] for name in channels}
    posters_by_channel: dict[str, set[str]] = {name: set() for name in channels}
    everyone = [user_ids[p.handle] for p in people]
    for thread in community.threads:
        draws = rng(slug, "slack-thread", thread.source)
        stamps = [ts_for(post.at, draws) for post in thread.posts]
        opener = None
        for post, ts in zip(thread.posts, stamps, strict=True):
            person = community.by_handle[post.author]
            posters_by_channel[thread.channel].add(person.handle)
            message = {
                "client_msg_id": str(uuid.UUID(int=draws.getrandbits(128), version=4)),
                "type": "message",
                "text": slack_markup(post.text),
                "user": user_ids[person.handle],
                "ts": ts,
                "team": team,
                "user_team": team,
                "source_team": team,
                "user_profile": user_profile(person),
            }
            if post.number == 1:
                opener = message
            else:
                message["thread_ts"] = stamps[0]
                message["parent_user_id"] = opener["user"]
            if post.reactions:
                present = [user_ids[p.handle] for p in people if p.joined_at <= post.at]
                message["reactions"] = slack_reactions(post, user_ids[person.handle], present, draws)
            messages[thread.channel].append(message)
        if len(thread.posts) > 1:
            repliers = list(dict.fromkeys(user_ids[p.author] for p in thread.posts[1:]))
            opener.update({
                "thread_ts": stamps[0],
                "reply_count": len(thread.posts) - 1,
                "reply_users_count": len(repliers),
                "latest_reply": stamps[-1],
                "reply_users": repliers,
                "is_locked": False,
                "subscribed": False,
                "replies": [{"user": user_ids[p.author], "ts": ts} for p, ts in zip(thread.posts[1:], stamps[1:], strict=True)],
            })

    # channel_join events in #general: everyone on the day they joined.
    joins = rng(slug, "slack-joins")
    for person in people:
        uid = user_ids[person.handle]
        join = {"user": uid, "inviter": user_ids[owner.handle], "type": "message", "subtype": "channel_join",
                "text": f"<@{uid}> has joined the channel", "ts": ts_for(person.joined_at, joins)}
        if person is owner:
            del join["inviter"]
        messages["general"].append(join)
    bot_join_at = created_at + timedelta(days=3, hours=2)
    messages["general"].append({"user": bot_user, "inviter": user_ids[owner.handle], "type": "message",
                                "subtype": "channel_join", "text": f"<@{bot_user}> has joined the channel",
                                "ts": ts_for(bot_join_at, joins)})
    first_local = community.first_post.astimezone(tz).date()
    for days, question, options in POLLS:
        day = first_local + timedelta(days=days)
        at = to_utc(datetime(day.year, day.month, day.day, 15, 5 + days % 40, days % 60), tz)
        numbers = [":one:", ":two:", ":three:", ":four:"]
        votes = rng(slug, "poll", days)
        lines = [f"*{question}*"] + [f"{numbers[i]} {option} `{votes.randint(0, 9)}`" for i, option in enumerate(options)]
        messages["general"].append({
            "type": "message", "subtype": "bot_message", "text": "\n".join(lines) + f"\nPoll by <@{user_ids[owner.handle]}>",
            "ts": ts_for(at, votes), "username": "pollybot", "bot_id": bot_id,
            "icons": {"image_48": "https://avatars.slack-edge.com/2019-01-10/polly_48.png"},
        })

    members_draw = rng(slug, "slack-members")
    channel_rows = []
    for index, name in enumerate(channels):
        if name == "general":
            members = everyone
        else:
            members = [
                user_ids[p.handle] for p in people
                if p.is_staff or p.handle in posters_by_channel[name] or members_draw.random() < 0.6
            ]
        created = created_at + timedelta(minutes=7 * index)
        channel_rows.append({
            "id": new_id("C0"),
            "name": name,
            "created": str(epoch(created)),
            "creator": user_ids[owner.handle],
            "is_archived": False,
            "is_general": name == "general",
            "members": sorted(members),
            "topic": {"value": "", "creator": "", "last_set": "0"},
            "purpose": {"value": SLACK_PURPOSES.get(name, f"Talk about {name.replace('-', ' ')}."),
                        "creator": user_ids[owner.handle], "last_set": str(epoch(created))},
        })
    integration_logs = [
        {"user_id": user_ids[owner.handle], "user_name": owner.handle, "date": str(epoch(bot_join_at)),
         "change_type": "added", "app_type": "Polly", "app_id": app_id, "scope": "bot,chat:write,commands",
         "channel": channel_rows[0]["id"]},
        {"user_id": user_ids[owner.handle], "user_name": owner.handle, "date": str(epoch(created_at + timedelta(days=1))),
         "change_type": "added", "service_id": str(10_000_000_000 + ids.randint(0, 9_999_999_999)),
         "service_type": "Google Drive", "scope": "incoming-webhook"},
    ]
    integration_logs.sort(key=lambda e: e["date"], reverse=True)

    entries: dict[str, bytes] = {
        "channels.json": slack_json(channel_rows),
        "integration_logs.json": slack_json(integration_logs),
        "users.json": slack_json(users),
    }
    for name in channels:
        days: dict[str, list[dict]] = {}
        for message in messages[name]:
            moment = datetime.fromtimestamp(float(message["ts"]), UTC).astimezone(tz)
            days.setdefault(moment.strftime("%Y-%m-%d"), []).append(message)
        for day, day_messages in days.items():
            entries[f"{name}/{day}.json"] = slack_json(sorted(day_messages, key=lambda m: m["ts"]))
    stamp = community.export_at.astimezone(tz)
    path = out / "forum" / f"{slug}-slack-export.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        folders_done = set()
        for name in sorted(entries):
            folder = name.split("/")[0] + "/" if "/" in name else None
            if folder and folder not in folders_done:
                folders_done.add(folder)
                info = zipfile.ZipInfo(folder, date_time=stamp.timetuple()[:6])
                info.external_attr = (0o40755 << 16) | 0x10
                archive.writestr(info, b"")
            info = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, entries[name])


def slack_reactions(post: Post, author: str, everyone: list[str], draws: random.Random) -> list[dict]:
    """Split a post's reaction count over 1-3 plausible emoji, each from distinct members."""
    names = draws.sample(EMOJI.get(post.code, EMOJI["other"]), k=min(3, len(EMOJI.get(post.code, EMOJI["other"]))))
    kinds = 1 if post.reactions <= 2 else draws.randint(1, min(3, post.reactions))
    counts = [1] * kinds
    for _ in range(post.reactions - kinds):
        counts[0 if draws.random() < 0.6 else draws.randrange(kinds)] += 1
    others = [u for u in everyone if u != author]
    return [{"name": names[i], "users": draws.sample(others, k=min(n, len(others))), "count": n} for i, n in enumerate(counts)]


# ---------------------------------------------------------------------------- Moodle

MOODLE_COLUMNS = [
    "id", "discussion", "parent", "userid", "userfullname", "created", "modified", "mailed", "subject", "message",
    "messageformat", "messagetrust", "attachment", "totalscore", "mailnow", "deleted", "privatereplyto",
    "privatereplytofullname", "wordcount", "charcount",
]
HUMAN_READABLE_FORUMS = {"Cafe (social forum)"}


def php_csv(rows: list[list]) -> str:
    """CSV as PHP's fputcsv writes it (Moodle's exporters): quote fields with , " space or newline."""
    lines = []
    for row in rows:
        cells = []
        for value in row:
            text = "" if value is None else str(value)
            if re.search(r'[,"\s\\]', text):
                text = '"' + text.replace('"', '""') + '"'
            cells.append(text)
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def moodle_date(moment: datetime, tz: ZoneInfo) -> str:
    """Moodle's human-readable date (strftimedaydatetime): Tuesday, 3 February 2026, 7:42 PM."""
    local = moment.astimezone(tz)
    hour = local.hour % 12 or 12
    return f"{local:%A}, {local.day} {local:%B} {local.year}, {hour}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"


def write_moodle(community: Community, out: Path) -> None:
    """Moodle forum exports (Forum > Export, CSV) plus the course participants list.

    forum/<forum name>.csv   one file per forum, Moodle's export columns (id, discussion,
                             parent, userid, userfullname, created, modified, ... wordcount,
                             charcount); ':' in a forum name becomes ' -' in the file name.
                             Dates are epoch seconds, except the Cafe forum, exported with
                             "human-readable dates" in the exporter's (community) timezone.
    members/participants.csv id,username,email,firstname,lastname,role,firstaccess,lastaccess
                             for every enrolled user, posters or not.
    """
    tz = community.tz
    activity = reading_activity(community)
    ordered = sorted(community.people, key=lambda p: (p.joined_at, p.handle))
    user_ids = {p.handle: 212 + i for i, p in enumerate(ordered)}
    post_ids = {id(post): 1041 + i for i, post in enumerate(community.posts)}
    rows_by_forum: dict[str, list[list]] = {}
    for index, thread in enumerate(community.threads):
        discussion = 311 + index
        by_number = {post.number: post for post in thread.posts}
        human = thread.channel in HUMAN_READABLE_FORUMS
        for post in thread.posts:
            draws = rng(community.slug, "moodle-post", thread.source, post.number)
            person = community.by_handle[post.author]
            parent = 0 if post.number == 1 else post_ids[id(by_number.get(post.reply_to or 1, thread.posts[0]))]
            modified = post.at + (timedelta(seconds=draws.randint(40, 1700)) if draws.random() < 0.12 else timedelta())
            message = text_to_html(post.text)
            plain = html.unescape(re.sub(r"<[^>]+>", " ", message))
            rows_by_forum.setdefault(thread.channel, []).append([
                post_ids[id(post)], discussion, parent, user_ids[person.handle], person.name,
                moodle_date(post.at, tz) if human else epoch(post.at),
                moodle_date(modified, tz) if human else epoch(modified),
                1, thread.title if post.number == 1 else f"Re: {thread.title}", message, 1, 0, "", 0, 0, 0, 0, "",
                len(plain.split()), len(re.sub(r"\s", "", plain)),
            ])
    for forum, rows in rows_by_forum.items():
        write_text(out / "forum" / f"{forum.replace(':', ' -')}.csv", php_csv([MOODLE_COLUMNS, *sorted(rows)]))

    participants = [["id", "username", "email", "firstname", "lastname", "role", "firstaccess", "lastaccess"]]
    for person in ordered:
        seen = activity[person.handle]["last_seen"]
        participants.append([
            user_ids[person.handle], person.handle, person.email, person.first, person.last,
            "teacher" if person.is_staff else "student", epoch(person.joined_at), epoch(max(seen, person.joined_at)),
        ])
    write_text(out / "members" / "participants.csv", php_csv(participants))


# --------------------------------------------------------------------------- surveys

ITEM_OFFSETS = {  # how agreeable each positive item is relative to the person's latent score
    "imm_useful": 0.3, "imm_enjoy": 0.35, "imm_relevant": 0.2, "hum_skills": 0.1, "hum_efficacy": -0.1,
    "hum_enthusiasm": 0.0, "hum_inspiration": 0.1, "soc_relationships": -0.2, "soc_trust": 0.2,
    "soc_isolation": 0.0, "tan_resources": 0.15, "rep_recognition": -0.7, "learn_identity": -0.3,
    "learn_ways": -0.05, "app_changed": -0.25, "real_engagement": -0.4, "real_learning": -0.55,
    "refr_success": -0.65,
}
PERSONAL_DOMAINS = ["gmail.example", "yahoo.example", "outlook.example", "icloud.example", "hotmail.example"]
QUALTRICS_BUILTIN = [
    ("StartDate", "Start Date", "startDate"), ("EndDate", "End Date", "endDate"), ("Status", "Response Type", "status"),
    ("IPAddress", "IP Address", "ipAddress"), ("Progress", "Progress", "progress"),
    ("Duration (in seconds)", "Duration (in seconds)", "duration"), ("Finished", "Finished", "finished"),
    ("RecordedDate", "Recorded Date", "recordedDate"), ("ResponseId", "Response ID", "_recordId"),
    ("RecipientLastName", "Recipient Last Name", "recipientLastName"),
    ("RecipientFirstName", "Recipient First Name", "recipientFirstName"),
    ("RecipientEmail", "Recipient Email", "recipientEmail"),
    ("ExternalReference", "External Data Reference", "externalDataReference"),
    ("LocationLatitude", "Location Latitude", "locationLatitude"),
    ("LocationLongitude", "Location Longitude", "locationLongitude"),
    ("DistributionChannel", "Distribution Channel", "distributionChannel"),
    ("UserLanguage", "User Language", "userLanguage"),
]
STORY_ITEMS = {"story_activity": "activity", "story_produced": "produced", "story_used": "used",
               "story_difference": "difference", "story_success": "success"}


@dataclass
class Response:
    person: Person | None
    email: str
    submitted: datetime  # UTC, when the last page was submitted
    duration: int  # seconds
    answers: dict[str, str]  # item id -> exported cell
    progress: int = 100
    recorded: datetime | None = None  # Qualtrics RecordedDate (partials: when they expired)
    preview: bool = False


def load_items() -> tuple[list[dict], dict]:
    data = yaml.safe_load(INSTRUMENT.read_text(encoding="utf-8"))
    return data["items"], data["scales"]


def wave_window(community: Community, wave: str) -> tuple[datetime, datetime]:
    start, end = (as_date(d) for d in community.cfg["waves"][wave])
    return (to_utc(datetime(start.year, start.month, start.day, 6, 0), community.tz),
            to_utc(datetime(end.year, end.month, end.day, 23, 30), community.tz))


def survey_respondents(community: Community, wave: str) -> list[Person]:
    """A seeded sample: ~80%/65% of posters and ~45%/35% of lurkers (baseline/followup).

    Only members who had joined by the wave's close are invited (staff who run the
    community are not); everyone with a story in this wave responds.
    """
    _, close = wave_window(community, wave)
    story_people = {s["respondent"] for s in community.stories if s.get("wave") == wave}
    rates = {"baseline": (0.80, 0.45)}.get(wave, (0.65, 0.35))
    chosen = []
    for person in community.people:
        draw = rng(community.slug, "respond", wave, person.handle).random()
        lurker_like = not any(p.at <= close for p in person.posts)
        rate = rates[1] if lurker_like else rates[0]
        if not person.returned:
            rate /= 2
        invited = person.joined_at <= close and person.role not in {"staff", "facilitator"}
        if person.handle in story_people or person.lurker_id in story_people or (invited and draw < rate):
            chosen.append(person)
    return chosen


def answer_person(community: Community, person: Person, wave: str, items: list[dict], scales: dict,
                  google: bool, numeric_agree: bool) -> dict[str, str]:
    """One respondent's cells. Likert answers come from a latent score (activity + trait +
    a followup gain for active members, noise sd 0.8); barrier items run the other way
    for lurkers; yes/no items are more often yes for active members and at followup."""
    _, close = wave_window(community, wave)
    trait = rng(community.slug, "trait", person.handle).gauss(0, 0.45)
    draws = rng(community.slug, "answers", wave, person.handle)
    # Engagement (all posts) sets the level; having posted by this wave's close earns
    # the followup gain (0.5 on the latent scale; about +0.4 once answers are rounded and
    # clipped to 1..5).
    activity = min(1.0, math.log1p(len(person.posts)) / math.log1p(20))
    active = any(p.at <= close for p in person.posts)
    followup = wave != "baseline"
    latent = 2.85 + 1.0 * activity + trait + (0.5 if followup and active else 0.1 if followup else 0.0)
    stories = {s["wave"]: s for s in community.stories if s.get("respondent") in (person.handle, person.lurker_id)}
    story = stories.get(wave)
    labels_agree = scales["agree5"]["labels"]
    answers: dict[str, str] = {}
    for item in items:
        item_id, scale = item["id"], item.get("scale")
        kind = item.get("kind", "likert")
        if kind == "open":
            answers[item_id] = str((story or {}).get(STORY_ITEMS.get(item_id, ""), "") or "").strip()
            continue
        if kind == "consent":
            if story is not None:
                yes = bool(story.get("consent_to_quote"))
            else:
                yes = draws.random() < 0.6
            answers[item_id] = "Yes" if yes else "No"
            continue
        if scale == "yes_no":
            base = 0.25 + 0.45 * activity + (0.15 if followup and active else 0.05 if followup else 0.0)
            if item_id == "app_adapted":
                base *= 0.8
            answers[item_id] = "" if draws.random() < 0.04 else ("Yes" if draws.random() < min(0.95, base) else "No")
            continue
        roll = draws.random()
        if roll < 0.05:
            answers[item_id] = ""
            continue
        if roll < 0.07:
            answers[item_id] = "Don't know" if google else ""
            continue
        if item_id.startswith("bar_"):
            mean = {
                "bar_time": 3.7 + (0.4 if not active else 0.0) - 0.2 * activity,
                "bar_contribute": 2.2 + (1.3 if not active else 0.0) - 0.6 * activity - (0.2 if followup and active else 0.0),
                "bar_platform": 1.9 + (0.5 if not active else 0.0) - 0.3 * activity,
            }.get(item_id, 2.5)
            value = mean - 0.3 * trait + draws.gauss(0, 0.8)
        else:
            value = latent + ITEM_OFFSETS.get(item_id, 0.0) + draws.gauss(0, 0.8)
        point = int(min(5, max(1, round(value))))
        answers[item_id] = str(point) if numeric_agree else labels_agree[point - 1]
    return answers


def survey_time(community: Community, wave: str, draws: random.Random) -> datetime:
    """A submission time: most answers in the first days after the invitation and a reminder."""
    open_, close = wave_window(community, wave)
    days = (close.astimezone(community.tz).date() - open_.astimezone(community.tz).date()).days
    roll = draws.random()
    if roll < 0.45:
        day = draws.choice([0, 0, 1, 1, 2])
    elif roll < 0.75:
        day = min(days, 7 + draws.choice([0, 0, 1, 2]))
    else:
        day = draws.randint(0, days)
    local_day = open_.astimezone(community.tz).date() + timedelta(days=day)
    hour = draws.choice([6, 7, 7, 12, 15, 15, 16, 16, 17, 19, 20, 20, 21, 21, 22])
    local = datetime(local_day.year, local_day.month, local_day.day, hour, draws.randint(0, 59), draws.randint(0, 59))
    return min(to_utc(local, community.tz), close)


def survey_email(community: Community, person: Person, wave: str) -> str:
    """The email the respondent gave: their member email, or (about 10%) a personal one."""
    draws = rng(community.slug, "survey-email", wave, person.handle)
    if draws.random() >= 0.10:
        return person.email
    first, last = (re.sub(r"[^a-z]", "", ascii_fold(part).lower()) for part in (person.first, person.last))
    return f"{first}.{last}{draws.randint(1, 99)}@{draws.choice(PERSONAL_DOMAINS)}"


def build_responses(community: Community, wave: str, items: list[dict], scales: dict, google: bool) -> list[Response]:
    numeric = bool(community.cfg.get("numeric_agree"))
    responses = []
    for person in survey_respondents(community, wave):
        draws = rng(community.slug, "response", wave, person.handle)
        answers = answer_person(community, person, wave, items, scales, google, numeric)
        has_story = any(answers.get(i) for i in STORY_ITEMS)
        submitted = survey_time(community, wave, draws)
        duration = draws.randint(180, 700) + (draws.randint(300, 1400) if has_story else 0)
        response = Response(person, survey_email(community, person, wave), submitted, duration, answers)
        # A few Qualtrics partials: closed when the session expired, later items blank.
        if not google and not has_story and draws.random() < 0.04:
            cut = draws.randint(5, len(items) - 8)
            for item in items[cut:]:
                response.answers[item["id"]] = ""
            response.progress = int(100 * cut / len(items))
            response.duration = draws.randint(60, 300)
            _, close = wave_window(community, wave)
            response.recorded = min(submitted + timedelta(days=7), close)
        responses.append(response)
    return responses


def write_qualtrics(community: Community, wave: str, responses: list[Response], items: list[dict], path: Path) -> None:
    """A Qualtrics response export (Data & Analysis > Export > CSV), current layout.

    Three header rows like qualtRics' sample.csv: column ids (built-in columns, then one
    column per question named by its export tag = the instrument item id), the question
    texts, and the ImportId JSON row that alone carries the timezone of the dates.
    Dates are local "YYYY-MM-DD HH:MM:SS"; Status 0 = IP Address, 1 = Survey Preview.
    """
    tz_name = community.cfg["timezone"]
    ids = [b[0] for b in QUALTRICS_BUILTIN] + [item["id"] for item in items]
    labels = [b[1] for b in QUALTRICS_BUILTIN] + [item["text"] for item in items]
    imports = []
    for _, _, import_id in QUALTRICS_BUILTIN:
        info = {"ImportId": import_id}
        if import_id in {"startDate", "endDate", "recordedDate"}:
            info["timeZone"] = tz_name
        imports.append(json.dumps(info, separators=(",", ":")))
    for number, item in enumerate(items, 1):
        suffix = "_TEXT" if item.get("kind") == "open" else ""
        imports.append(json.dumps({"ImportId": f"QID{number}{suffix}"}, separators=(",", ":")))

    def local(moment: datetime) -> str:
        return moment.astimezone(community.tz).strftime("%Y-%m-%d %H:%M:%S")

    rows = []
    for response in sorted(responses, key=lambda r: (r.recorded or r.submitted, r.email)):
        draws = rng(community.slug, "qualtrics-id", wave, response.email, local(response.submitted))
        response_id = "R_" + "".join(draws.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(15))
        person = response.person
        finished = response.progress == 100
        rows.append([
            local(response.submitted - timedelta(seconds=response.duration)),
            local(response.submitted),
            "1" if response.preview else "0",
            "",
            str(response.progress),
            str(response.duration),
            "1" if finished else "0",
            local(response.recorded or response.submitted),
            response_id,
            person.last if person else "",
            person.first if person else "",
            response.email,
            "",
            "",
            "",
            "preview" if response.preview else "email",
            "EN",
            *[response.answers.get(item["id"], "") for item in items],
        ])
    write_text(path, csv_text([ids, labels, imports, *rows]))


def write_google_forms(community: Community, responses: list[Response], items: list[dict], path: Path) -> None:
    """Google Forms responses downloaded from the linked Sheet (File > Download > CSV).

    Like the autistica sample: "Timestamp" (M/D/YYYY H:MM:SS in the form owner's
    timezone, no zone), "Email Address" (the form collects emails), then one column per
    question headed by its exact text; answers as the choice labels; CRLF line endings.
    """
    header = ["Timestamp", "Email Address", *[item["text"] for item in items]]
    rows = []
    for response in sorted(responses, key=lambda r: (r.submitted, r.email)):
        local = response.submitted.astimezone(community.tz)
        stamp = f"{local.month}/{local.day}/{local.year} {local.hour}:{local:%M:%S}"
        rows.append([stamp, response.email, *[response.answers.get(item["id"], "") for item in items]])
    write_text(path, csv_text([header, *rows], lineterminator="\r\n"))


def write_surveys(community: Community, out: Path) -> None:
    """Both waves, with the planted rows the Qualtrics reader must quarantine (riverside)."""
    items, scales = load_items()
    google = community.cfg["survey"] == "google_forms"
    for wave in ("baseline", "followup"):
        responses = build_responses(community, wave, items, scales, google)
        path = out / "surveys" / f"{wave}.csv"
        if google:
            write_google_forms(community, responses, items, path)
            continue
        if community.slug == "riverside-science" and wave == "baseline":
            # The coordinator previewed the survey on launch morning (Status 1, channel preview).
            open_, _ = wave_window(community, wave)
            draws = rng(community.slug, "preview")
            preview_person = Person("preview", "", "", "member", open_.date())
            answers = answer_person(community, preview_person, wave, items, scales, False, False)
            responses.append(Response(None, "", open_ + timedelta(hours=1, minutes=draws.randint(0, 40)),
                                      draws.randint(90, 200), answers, preview=True))
        if community.slug == "riverside-science" and wave == "followup":
            # Someone started on the first day, stalled (recorded as a partial when the
            # session expired a week later), then submitted in full after the reminder.
            repeat = next(r for r in sorted(responses, key=lambda r: r.person.handle)
                          if r.progress == 100 and not r.person.is_lurker and not any(r.answers.get(i) for i in STORY_ITEMS))
            open_, close = wave_window(community, wave)
            draws = rng(community.slug, "repeat")
            started = open_ + timedelta(hours=13, minutes=draws.randint(0, 50))
            cut = 9
            partial_answers = {k: (v if i < cut else "") for i, (k, v) in enumerate(repeat.answers.items())}
            responses.append(Response(repeat.person, repeat.email, started, draws.randint(100, 240), partial_answers,
                                      progress=int(100 * cut / len(items)), recorded=started + timedelta(days=7)))
            local_close = close.astimezone(community.tz)
            resubmit = to_utc(datetime(local_close.year, local_close.month, local_close.day, 19, 12, 40), community.tz) - timedelta(days=3)
            repeat.submitted = max(resubmit, started + timedelta(days=8))
            repeat.recorded = None
        write_qualtrics(community, wave, responses, items, path)


# ----------------------------------------------------------------- community.yaml


def write_community_yaml(community: Community, out: Path) -> None:
    """community.yaml as an evaluator writes it (validated by value_pipeline/config.py)."""
    cfg = community.cfg
    staff = [p.handle for p in community.people if p.is_staff]
    # No `platform:` key: the pipeline detects each export's format from its content.
    data = {
        "name": cfg["name"],
        "formal": cfg["formal"],
        "funder": {"name": cfg["funder"], "recipients": FUNDER_RECIPIENTS[cfg["funder"]]},
        "timezone": cfg["timezone"],
        "staff": staff,
        "survey": {"link_by": "email"},
    }
    header = (f"# {cfg['name']}: sample community generated by scripts/make_sample_exports.py\n"
              "# from scripts/sample_content/. Every person, email and school is fictional.\n")
    write_text(out / "community.yaml", header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


# ----------------------------------------------------------------------------- main

WRITERS = {"discourse": write_discourse, "slack": write_slack, "moodle": write_moodle}


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir()
    for slug, cfg in COMMUNITIES.items():
        community = load_community(slug, cfg)
        out = OUT / slug
        write_community_yaml(community, out)
        WRITERS[cfg["platform"]](community, out)
        write_surveys(community, out)
        posts = sum(len(t.posts) for t in community.threads)
        roster = sum(1 for p in community.people if not p.is_lurker)
        print(f"{slug}: {len(community.threads)} threads, {posts} posts, {roster} roster + "
              f"{cfg['lurkers']} lurkers, {len(community.stories)} stories -> {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
