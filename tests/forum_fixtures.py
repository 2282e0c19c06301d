"""A small hand-built community used by the participation and ledger tests.

Q1 2026 (times in hours after Monday 2 Feb 15:00 UTC), threads t1-t5:
  t1 [science]  a1 ana (0) <- b1 ben (2), s1 staff (3)
  t2 [science]  a2 ana (5) <- c1 cy (30) <- a3 ana (31)
  t3 [general]  a4 ana (40)
  t4 [general]  a5 ana (50) <- b2 ben (51) <- c2 cy (52)
  t5 [general]  d1 dee (60) <- s2 staff (70)
Member posts: ana 5, ben 2, cy 2, dee 1 (10); staff 2. eve reads, fay does not.
"""

from datetime import datetime, timedelta, timezone

import polars as pl

from value_pipeline import schema
from value_pipeline.periods import Quarter

Q1 = Quarter(2026, 1)
Q2 = Quarter(2026, 2)
T0 = datetime(2026, 2, 2, 15, 0, tzinfo=timezone.utc)
JOINED = datetime(2026, 1, 5, tzinfo=timezone.utc)


def make_posts(rows, channels: dict[str, str] | None = None, platform: str = "discourse"):
    """rows: (post_id, thread_id, parent, author, hours after T0, is_staff); channels: thread -> channel."""
    channels = channels or {}
    return schema.conform(pl.DataFrame([
        {"community": "c", "platform": platform, "post_id": p, "thread_id": t, "parent_post_id": parent, "author_key": a,
         "created_at": T0 + timedelta(hours=h), "is_thread_start": parent is None, "body_text": "", "n_links": 0,
         "n_attachments": 0, "n_reactions": 0, "is_staff": staff, "channel": channels.get(t)}
        for p, t, parent, a, h, staff in rows
    ], schema_overrides={"channel": pl.String, "parent_post_id": pl.String}), schema.POSTS)


def make_members(rows, joined_at: datetime = JOINED):
    """rows: (author, is_staff, posts_read or None)."""
    return schema.conform(pl.DataFrame([
        {"community": "c", "author_key": a, "joined_at": joined_at, "is_staff": s, "posts_read": r,
         "role": "staff" if s else "member"}
        for a, s, r in rows
    ], schema_overrides={"posts_read": pl.Int64}), schema.MEMBERS)


def make_coded(codes: dict[str, str]) -> pl.DataFrame:
    return pl.DataFrame({"post_id": list(codes), "code": list(codes.values())}, schema={"post_id": pl.String, "code": pl.String})


POST_ROWS = [
    ("a1", "t1", None, "ana", 0, False), ("b1", "t1", "a1", "ben", 2, False), ("s1", "t1", "a1", "staff", 3, True),
    ("a2", "t2", None, "ana", 5, False), ("c1", "t2", "a2", "cy", 30, False), ("a3", "t2", "c1", "ana", 31, False),
    ("a4", "t3", None, "ana", 40, False), ("a5", "t4", None, "ana", 50, False), ("b2", "t4", "a5", "ben", 51, False),
    ("c2", "t4", "b2", "cy", 52, False), ("d1", "t5", None, "dee", 60, False), ("s2", "t5", "d1", "staff", 70, True),
]
CHANNELS = {"t1": "science", "t2": "science", "t3": "general", "t4": "general", "t5": "general"}
POSTS = make_posts(POST_ROWS, CHANNELS)
MEMBERS = make_members([("ana", False, 300), ("ben", False, 50), ("cy", False, 20), ("dee", False, 5),
                        ("eve", False, 12), ("fay", False, 0), ("staff", True, 900)])
