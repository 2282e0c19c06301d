"""Build the posts of the development gold set for interaction coding (run once, seeded).

450 posts: 320 real Reddit submissions from r/education and r/TEFL (2013, public domain,
../shared/corpora) and 130 posts from the sample content (replies included, with their
thread context). Written to value_pipeline/coding/gold/posts.csv; coders add their codes
in coder_a.csv / coder_b.csv, adjudication in gold.csv.
"""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import yaml

ROOT = Path(__file__).resolve().parents[2]
CORPORA = ROOT.parent / "shared" / "corpora" / "reddit_2013_education_tefl"
CONTENT = ROOT / "scripts" / "sample_content"
OUT = ROOT / "value_pipeline" / "coding" / "gold" / "posts.csv"
MAX_CHARS = 2500


def clip(text: str | None) -> str:
    text = (text or "").strip()
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS].rsplit(" ", 1)[0] + " [...]"


def reddit(rng: random.Random) -> list[dict]:
    rows = []
    plan = {"education": (70, 50), "TEFL": (180, 20)}  # (self posts, link posts)
    for name, (n_self, n_link) in plan.items():
        frame = pl.read_csv(CORPORA / f"{name}.csv", infer_schema=False)
        self_posts = frame.filter((pl.col("is_self") == "True") & (pl.col("selftext").str.len_chars() > 0)).rows(named=True)
        links = frame.filter(pl.col("is_self") != "True").rows(named=True)
        for post in rng.sample(self_posts, min(n_self, len(self_posts))) + rng.sample(links, n_link):
            rows.append({
                "post_id": f"reddit-{name.lower()}-{post['id']}", "source": f"r/{name}", "is_thread_start": True,
                "thread_title": "", "context": "", "title": post["title"],
                "body": clip(post["selftext"]) if post["is_self"] == "True" else f"[link to {post['domain']}]",
            })
    return rows


def sample_content(rng: random.Random, n: int) -> list[dict]:
    rows = []
    for community in sorted(p for p in CONTENT.iterdir() if p.is_dir()):
        for file in sorted(community.glob("threads_*.yaml")):
            for t, thread in enumerate(yaml.safe_load(file.read_text())["threads"]):
                opener = thread["posts"][0]
                for i, post in enumerate(thread["posts"]):
                    parent = thread["posts"][post.get("reply_to", 1) - 1] if i else None
                    context = ""
                    if i:
                        context = f"THREAD OPENER ({'same author' if opener['author'] == post['author'] else 'another member'}): " \
                                  f"{clip(opener['text'])[:700]}"
                        if parent is not opener:
                            context += f"\nREPLYING TO: {clip(parent['text'])[:500]}"
                    rows.append({
                        "post_id": f"{community.name}-{file.stem[-2:]}-{t}-{i + 1}", "source": community.name,
                        "is_thread_start": i == 0, "thread_title": thread.get("title", "") or "",
                        "context": context, "title": (thread.get("title", "") or "") if i == 0 else "",
                        "body": clip(post["text"]),
                    })
    return rng.sample(rows, n)


def main() -> None:
    rng = random.Random(20261126)
    rows = reddit(rng) + sample_content(rng, 130)
    rng.shuffle(rows)
    frame = pl.DataFrame(rows).with_row_index("n", offset=1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(OUT)
    print(f"{frame.height} posts -> {OUT}")


if __name__ == "__main__":
    main()
