"""Deterministic synthetic exports at any size, for benchmarks (not for reports).

`write(format, out_dir, n_posts, seed)` writes a community export in a real platform
layout: Discourse topic JSON files plus the admin user list, a Slack workspace export
folder, or a generic CSV. Authors follow a Zipf-like skew (a few write most posts),
threads have a geometric number of replies, a fifth of posts carry a link. The text is
drawn from a small phrase bank: enough to exercise parsing, not to be read.

`write_community(format, out_dir, n_posts, n_members, seed)` writes a whole community
folder as `read_community` expects it: community.yaml (two staff), the forum export
(with the member directory: members who never post are in it too) and two Google
Forms survey waves (baseline early in the period, followup later) whose respondents
link to members by email, a few from outside the member list.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

START = datetime(2025, 1, 6, 14, 0, tzinfo=timezone.utc)
SPAN_SECONDS = 540 * 86400  # a year and a half of activity
PHRASES = [
    "does anyone have a good warm-up for fractions", "we tried the card sort with my 7th graders",
    "you could try a number talk first", "sharing the slides from our PD session",
    "I have been thinking about how we grade homework", "hang in there, January is the hardest month",
    "my students finally got the density column to work", "thanks so much, this helped",
    "the rubric has four criteria and a comments column", "reading logs are not working for my class",
]
LINKS = ["https://phet.colorado.edu/en/simulations/density", "https://www.youcubed.org/tasks/", "https://docs.example/d/lesson-plan"]


def default_members(n_posts: int) -> int:
    return max(10, n_posts // 20)


def _authors(n_posts: int, rng: random.Random, n_members: int | None = None) -> tuple[int, list[int]]:
    """Number of members and an author per post, Zipf-skewed (exponent ~1.1)."""
    n_members = n_members or default_members(n_posts)
    weights = [1 / (rank ** 1.1) for rank in range(1, n_members + 1)]
    return n_members, rng.choices(range(n_members), weights=weights, k=n_posts)


def _threads(n_posts: int, rng: random.Random) -> list[int]:
    """Thread sizes (1 + geometric replies, mean ~8 posts) adding up to n_posts."""
    sizes, total = [], 0
    while total < n_posts:
        size = min(1 + int(rng.expovariate(1 / 7)), n_posts - total)
        sizes.append(size)
        total += size
    return sizes


def _text(rng: random.Random) -> tuple[str, str | None]:
    words = " ".join(rng.choice(PHRASES) for _ in range(rng.randint(1, 4)))
    link = rng.choice(LINKS) if rng.random() < 0.2 else None
    return words, link


def write_discourse(out: Path, n_posts: int, seed: int = 7, n_members: int | None = None) -> list[Path]:
    rng = random.Random(seed)
    n_members, authors = _authors(n_posts, rng, n_members)
    forum, members = out / "forum", out / "members"
    forum.mkdir(parents=True, exist_ok=True)
    members.mkdir(parents=True, exist_ok=True)
    post_id, written = 1, 0
    for topic_id, size in enumerate(_threads(n_posts, rng), start=1):
        opened = START + timedelta(seconds=rng.randrange(SPAN_SECONDS))
        posts = []
        for number in range(1, size + 1):
            author = authors[written]
            words, link = _text(rng)
            cooked = f"<p>{words}</p>" + (f'<p><a href="{link}">{link}</a></p>' if link else "")
            created = opened + timedelta(minutes=90 * (number - 1) + rng.randrange(60))
            posts.append({
                "id": post_id, "username": f"teacher{author}", "name": f"Teacher {author}",
                "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "cooked": cooked,
                "post_number": number, "post_type": 1,
                "reply_to_post_number": None if number < 3 or rng.random() < 0.7 else rng.randrange(2, number),
                "reads": rng.randrange(1, 40), "topic_id": topic_id, "staff": author == 0, "moderator": False,
                "admin": author == 0, "user_id": author + 1, "deleted_at": None,
                "actions_summary": [{"id": 2, "count": rng.randrange(0, 6)}],
            })
            post_id += 1
            written += 1
        topic = {"id": topic_id, "title": f"Topic {topic_id}", "category_id": 1 + topic_id % 6,
                 "post_stream": {"posts": posts, "stream": [p["id"] for p in posts]}}
        (forum / f"topic_{topic_id}.json").write_text(json.dumps(topic))
    categories = {"category_list": {"categories": [{"id": i, "name": f"Category {i}"} for i in range(1, 7)]}}
    (forum / "categories.json").write_text(json.dumps(categories))
    users = [{"id": i + 1, "username": f"teacher{i}", "email": f"teacher{i}@district.example", "trust_level": 1,
              "created_at": START.isoformat(), "last_seen_at": (START + timedelta(days=400)).isoformat(),
              "posts_read_count": rng.randrange(0, 500), "days_visited": rng.randrange(1, 200),
              "admin": i == 0, "moderator": False} for i in range(n_members)]
    (members / "users.json").write_text(json.dumps(users))
    return [forum, members]


def write_slack(out: Path, n_posts: int, seed: int = 7, n_members: int | None = None) -> list[Path]:
    rng = random.Random(seed)
    n_members, authors = _authors(n_posts, rng, n_members)
    export = out / "forum" / "slack-export"
    channels = [f"channel-{i}" for i in range(8)]
    days: dict[tuple[str, str], list] = {}
    written = 0
    for size in _threads(n_posts, rng):
        channel = rng.choice(channels)
        opened = START + timedelta(seconds=rng.randrange(SPAN_SECONDS))
        root_ts = f"{opened.timestamp():.6f}"
        for number in range(size):
            author = authors[written]
            words, link = _text(rng)
            moment = opened + timedelta(minutes=45 * number, microseconds=written % 1_000_000)
            ts = root_ts if number == 0 else f"{moment.timestamp():.6f}"
            message = {"type": "message", "user": f"U{author:08d}", "text": words + (f" <{link}>" if link else ""), "ts": ts}
            if size > 1:
                message["thread_ts"] = root_ts
            days.setdefault((channel, moment.strftime("%Y-%m-%d")), []).append(message)
            written += 1
    for (channel, day), messages in days.items():
        folder = export / channel
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{day}.json").write_text(json.dumps(messages))
    (export / "channels.json").write_text(json.dumps([{"id": f"C{i:08d}", "name": name} for i, name in enumerate(channels)]))
    (export / "users.json").write_text(json.dumps([
        {"id": f"U{i:08d}", "name": f"teacher{i}", "profile": {"email": f"teacher{i}@district.example"}}
        for i in range(n_members)
    ]))
    return [export]


def write_generic_csv(out: Path, n_posts: int, seed: int = 7, n_members: int | None = None) -> list[Path]:
    rng = random.Random(seed)
    _, authors = _authors(n_posts, rng, n_members)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "posts.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["post_id", "thread_id", "parent_post_id", "author", "created_at", "channel", "title", "body_text"])
        post_id = written = 0
        for size in _threads(n_posts, rng):
            opened = START + timedelta(seconds=rng.randrange(SPAN_SECONDS))
            root = post_id
            for number in range(size):
                words, link = _text(rng)
                writer.writerow([
                    post_id, root, "" if number == 0 else root, f"teacher{authors[written]}@district.example",
                    (opened + timedelta(minutes=30 * number)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    f"board-{root % 5}", f"Thread {root}" if number == 0 else "", words + (f" {link}" if link else ""),
                ])
                post_id += 1
                written += 1
    return [path]


WRITERS = {"discourse": write_discourse, "slack": write_slack, "generic": write_generic_csv}
LIKERT = ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"]
STORY_PHRASES = [
    "a colleague's card sort for fractions", "the density column lab", "a rubric from the resources channel",
    "I tried it with my 7th graders", "my students explained their thinking more", "I feel less alone in this",
]
# (wave, first submission, days the wave stays open): baseline early, followup in 2025 Q4
WAVES = [("baseline", datetime(2025, 2, 3, 8, 0, tzinfo=timezone.utc), 21),
         ("followup", datetime(2025, 11, 3, 8, 0, tzinfo=timezone.utc), 28)]


def write(fmt: str, out: Path, n_posts: int, seed: int = 7, n_members: int | None = None) -> list[Path]:
    return WRITERS[fmt](Path(out), n_posts, seed, n_members)


def write_surveys(out: Path, n_members: int, seed: int = 7, respondents: int | None = None) -> list[Path]:
    """Google Forms CSVs, one per wave, in the instrument's question order.

    About a tenth of the members answer each wave (at most 5,000), more often the ones
    who post (low member numbers write most posts); two thirds of the followup's
    respondents also answered the baseline, and one in twenty respondents is not in the
    member directory (a different email). Likert answers lean positive; a third of
    respondents tell a story, most of them consenting to be quoted.
    """
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from value_pipeline.instrument import load_instrument

    rng = random.Random(seed + 1)
    items = load_instrument().items
    per_wave = respondents or min(5000, max(20, n_members // 10))
    # respondents favour active members: rank weights ~ 1/sqrt(rank)
    cumulative = list(itertools.accumulate(1 / (rank ** 0.5) for rank in range(1, n_members + 1)))
    folder = out / "surveys"
    folder.mkdir(parents=True, exist_ok=True)
    paths, previous = [], []
    for wave, opened, days in WAVES:
        chosen: dict[int, None] = {}
        for member in rng.sample(previous, k=min(len(previous), per_wave * 2 // 3)):
            chosen[member] = None
        while len(chosen) < min(per_wave, n_members):
            chosen.setdefault(rng.choices(range(n_members), cum_weights=cumulative, k=1)[0], None)
        previous = list(chosen)
        path = folder / f"{wave}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["Timestamp", "Email Address", *[item.text for item in items]])
            for member in chosen:
                email = f"teacher{member}@district.example" if rng.random() >= 0.05 else f"guest{member}@elsewhere.example"
                moment = opened + timedelta(seconds=rng.randrange(days * 86400))
                tells = rng.random() < 0.33
                answers = []
                for item in items:
                    if item.kind == "open":
                        answers.append(rng.choice(STORY_PHRASES) if tells else "")
                    elif item.kind == "consent" or item.scale == "yes_no":
                        answers.append("Yes" if rng.random() < (0.8 if item.kind == "consent" else 0.6) else "No")
                    else:
                        answers.append("" if rng.random() < 0.03 else rng.choices(LIKERT, weights=[1, 2, 4, 6, 3])[0])
                writer.writerow([f"{moment.month}/{moment.day}/{moment.year} {moment.hour}:{moment.minute:02d}:{moment.second:02d}",
                                 email, *answers])
        paths.append(path)
    return paths


def write_community(fmt: str, out: Path, n_posts: int, n_members: int | None = None, seed: int = 7) -> list[Path]:
    """A community folder read_community reads: community.yaml, forum/ (+ members/), surveys/."""
    out = Path(out)
    n_members = n_members or default_members(n_posts)
    out.mkdir(parents=True, exist_ok=True)
    (out / "community.yaml").write_text(
        "# synthetic benchmark community (benchmarks/synthetic.py); every person is fictional\n"
        f"name: Synthetic network ({n_posts:,} posts)\nformal: true\ntimezone: UTC\n"
        "staff:\n- teacher0\n- teacher1\n"
        + ("platform: generic\n" if fmt == "generic" else "")
        + "survey:\n  link_by: email\n"
    )
    target = out / "forum" if fmt == "generic" else out
    paths = write(fmt, target, n_posts, seed, n_members)
    return paths + write_surveys(out, n_members, seed)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("format", choices=sorted(WRITERS))
    parser.add_argument("out")
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--members", type=int, default=None, help="default: posts / 20")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--community", action="store_true", help="a whole community folder, surveys included")
    args = parser.parse_args()
    if args.community:
        print(write_community(args.format, Path(args.out), args.posts, args.members, args.seed))
    else:
        print(write(args.format, Path(args.out), args.posts, args.seed, args.members))
