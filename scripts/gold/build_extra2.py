"""A third sample for training: the remaining r/education and r/TEFL posts of the corpus
(none in posts.csv or extra_posts.csv), single-coded into extra2_codes_part{1..4}.csv."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
from build_sample import CORPORA, clip

GOLD = Path(__file__).resolve().parents[2] / "value_pipeline" / "coding" / "gold"


def main() -> None:
    rng = random.Random(20261128)
    used = set(pl.read_csv(GOLD / "posts.csv", infer_schema=False).get_column("post_id"))
    used |= set(pl.read_csv(GOLD / "extra_posts.csv", infer_schema=False).get_column("post_id"))
    rows = []
    for name in ("education", "TEFL"):
        frame = pl.read_csv(CORPORA / f"{name}.csv", infer_schema=False)
        for post in frame.rows(named=True):
            post_id = f"reddit-{name.lower()}-{post['id']}"
            if post_id in used:
                continue
            if post["is_self"] == "True" and not post["selftext"]:
                continue
            rows.append({
                "post_id": post_id, "source": f"r/{name}", "is_thread_start": True, "thread_title": "", "context": "",
                "title": post["title"],
                "body": clip(post["selftext"]) if post["is_self"] == "True" else f"[link to {post['domain']}]",
            })
    # all TEFL self posts left, and as many education link posts as keep the total at 800
    tefl = [r for r in rows if r["source"] == "r/TEFL"]
    education = [r for r in rows if r["source"] == "r/education"]
    chosen = tefl + rng.sample(education, max(0, min(len(education), 800 - len(tefl))))
    rng.shuffle(chosen)
    frame = pl.DataFrame(chosen).with_row_index("n", offset=1)
    frame.write_csv(GOLD / "extra2_posts.csv")
    print(f"{frame.height} posts -> {GOLD / 'extra2_posts.csv'}", frame.group_by("source").len().rows())


if __name__ == "__main__":
    main()
