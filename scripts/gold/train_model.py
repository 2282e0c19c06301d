"""Train the shipped coder (value_pipeline/coding/models/v1.*) and report its cross-validated
agreement with the gold set.

Training data: the double-coded gold set (450 posts), the single-coded extra Reddit posts
(593) and the sample content's intended codes (715 posts not in the gold set; written by
the content's authors). Evaluation: 5-fold cross-validation over the gold set only, the
extra and sample posts always in training; each fold is coded with its thread context,
as in production. Run: .venv/bin/python scripts/gold/train_model.py
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import polars as pl
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from value_pipeline import schema  # noqa: E402
from value_pipeline.coding.agreement import agreement  # noqa: E402
from value_pipeline.coding.gold_set import gold_posts  # noqa: E402
from value_pipeline.coding.model import SHIPPED, train  # noqa: E402
from value_pipeline.coding.rules import code_posts  # noqa: E402
from value_pipeline.text import count_urls  # noqa: E402

GOLD = ROOT / "value_pipeline" / "coding" / "gold"
MODELS = ROOT / "value_pipeline" / "coding" / "models"
CONTENT = ROOT / "scripts" / "sample_content"
FOLDS = 5


def extra_posts() -> tuple[pl.DataFrame, pl.DataFrame]:
    """The single-coded Reddit samples (extra_posts.csv and extra2_posts.csv) with their codes."""
    raw = pl.concat([pl.read_csv(GOLD / name, infer_schema=False) for name in ("extra_posts.csv", "extra2_posts.csv")])
    codes = pl.concat([
        pl.read_csv(path, infer_schema=False).select("post_id", "code")
        for pattern in ("extra_codes_part*.csv", "extra2_codes_part*.csv") for path in sorted(GOLD.glob(pattern))
    ])
    posts = schema.conform(raw.select(
        "post_id", thread_id="post_id", title="title", body_text="body", is_thread_start=pl.lit(True),
        author_key=pl.lit("author"), community=pl.lit("extra"), n_links=pl.col("body").str.count_matches(r"(?i)https?://|\[link to "),
        n_attachments=pl.lit(0), is_staff=pl.lit(False),
    ), schema.POSTS)
    return posts, codes


def sample_content_posts(exclude: set[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The sample content's posts with their intended codes (those also in the gold set left out)."""
    rows = []
    for roster in sorted(CONTENT.glob("*/roster.yaml")):
        roles = {m["handle"]: m["role"] for m in yaml.safe_load(roster.read_text())["members"]}
        for file in sorted(roster.parent.glob("threads_*.yaml")):
            for t, thread in enumerate(yaml.safe_load(file.read_text())["threads"]):
                thread_id = f"content:{roster.parent.name}:{file.stem}:{t}"
                for i, post in enumerate(thread["posts"]):
                    rows.append({
                        "post_id": f"{thread_id}:{i + 1}", "thread_id": thread_id,
                        "parent_post_id": None if i == 0 else f"{thread_id}:{post.get('reply_to', 1)}",
                        "author_key": post["author"], "is_thread_start": i == 0,
                        "title": thread.get("title") if i == 0 else None, "body_text": post["text"].strip(),
                        "n_links": count_urls(post["text"]), "is_staff": roles[post["author"]] != "member", "code": post["code"],
                    })
    frame = pl.DataFrame(rows, infer_schema_length=None).with_columns(community=pl.lit("content"), n_attachments=pl.lit(0))
    labels = frame.filter(~pl.col("body_text").is_in(list(exclude))).select("post_id", "code")
    return schema.conform(frame, schema.POSTS), labels


def main() -> None:
    warnings.filterwarnings("ignore")
    gold_frame, gold = gold_posts()
    gold_texts = set(pl.read_csv(GOLD / "posts.csv", infer_schema=False).get_column("body").str.strip_chars().to_list())
    extra_frame, extra = extra_posts()
    content_frame, content = sample_content_posts(gold_texts)
    posts = pl.concat([gold_frame, extra_frame, content_frame])
    always = pl.concat([extra, content])

    ids = gold.get_column("post_id").to_list()
    folds = np.random.default_rng(0).permutation(len(ids)) % FOLDS
    predictions = []
    for fold in range(FOLDS):
        held_out = [post for post, f in zip(ids, folds, strict=True) if f == fold]
        labels = pl.concat([gold.filter(~pl.col("post_id").is_in(held_out)).select("post_id", "code"), always])
        model = train(posts, labels, "cv")
        coded = model.code(gold_frame).filter(pl.col("post_id").is_in(held_out))
        predictions.append(coded.select("post_id", "code"))
    predicted = pl.concat(predictions)
    rules = code_posts(gold_frame).filter(pl.col("post_id").is_in(ids)).select("post_id", "code")
    model_agreement = agreement(gold.select("post_id", "code"), predicted)
    rules_agreement = agreement(gold.select("post_id", "code"), rules)
    reddit = gold.filter(pl.col("source").str.starts_with("r/"))
    forum = gold.filter(~pl.col("source").str.starts_with("r/"))
    print(f"model, {FOLDS}-fold CV on the gold set: {model_agreement.summary()}")
    print(f"  Reddit posts: kappa {agreement(reddit, predicted).kappa:.3f}; forum posts: kappa {agreement(forum, predicted).kappa:.3f}")
    print(f"rules on the gold set: {rules_agreement.summary()}")
    print(model_agreement.per_code)
    if model_agreement.kappa <= rules_agreement.kappa:
        raise SystemExit("the model does not beat the rules: not shipped")
    final = train(posts, pl.concat([gold.select("post_id", "code"), always]), SHIPPED)
    final.training |= {
        "cv_kappa": round(model_agreement.kappa, 4), "cv_alpha": round(model_agreement.alpha, 4),
        "rules_kappa": round(rules_agreement.kappa, 4), "gold_posts": gold.height,
        "extra_posts": extra.height, "content_posts": content.height,
    }
    final.save(MODELS)
    print(f"shipped {final.coder}: {final.training}")


if __name__ == "__main__":
    main()
