"""Build a second, single-coded training sample: 600 more r/TEFL and r/education posts
(seeded; none of them in the gold set). Written to value_pipeline/coding/gold/extra_posts.csv;
the codes go to extra_codes_part{1..4}.csv. Used to train the shipped model, never to
evaluate it (evaluation uses the double-coded gold set's held-out split only)."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
from build_sample import CORPORA, clip

ROOT = Path(__file__).resolve().parents[2]
GOLD = ROOT / "value_pipeline" / "coding" / "gold"


def main() -> None:
    rng = random.Random(20261127)
    used = set(pl.read_csv(GOLD / "posts.csv", infer_schema=False).get_column("post_id"))
    rows = []
    plan = {"education": (14, 200), "TEFL": (386, 0)}
    for name, (n_self, n_link) in plan.items():
        frame = pl.read_csv(CORPORA / f"{name}.csv", infer_schema=False)
        candidates = [r for r in frame.rows(named=True) if f"reddit-{name.lower()}-{r['id']}" not in used]
        self_posts = [r for r in candidates if r["is_self"] == "True" and r["selftext"]]
        links = [r for r in candidates if r["is_self"] != "True"]
        for post in rng.sample(self_posts, min(n_self, len(self_posts))) + rng.sample(links, n_link):
            rows.append({
                "post_id": f"reddit-{name.lower()}-{post['id']}", "source": f"r/{name}", "is_thread_start": True,
                "thread_title": "", "context": "", "title": post["title"],
                "body": clip(post["selftext"]) if post["is_self"] == "True" else f"[link to {post['domain']}]",
            })
    rng.shuffle(rows)
    frame = pl.DataFrame(rows).with_row_index("n", offset=1)
    frame.write_csv(GOLD / "extra_posts.csv")
    print(f"{frame.height} posts -> {GOLD / 'extra_posts.csv'}")


if __name__ == "__main__":
    main()
