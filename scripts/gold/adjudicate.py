"""Merge the two coders' codes into the gold set (value_pipeline/coding/gold/gold.csv).

Where the coders agree, their code stands; the disagreements were adjudicated by reading
(the decisions and reasons are listed below, so the gold set can be audited).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

GOLD = Path(__file__).resolve().parents[2] / "value_pipeline" / "coding" / "gold"
ADJUDICATED = {
    "reddit-tefl-16zege": ("other", "organising the subreddit's FAQ: a post about the community itself"),
    "reddit-education-12her3": ("question", "the body's point is 'my question is this': teachers' views on their pay"),
    "reddit-tefl-m8iku": ("reflection", "the 'where do you work' prompt is a frame; the post is lessons drawn from experience"),
    "reddit-education-tq20m": ("support", "a parent's vent asking to be heard; the policy argument serves the vent"),
    "reddit-tefl-1gz45y": ("question", "'has anyone gone through this program? good for beginners?': sharing and asking equal, question ranks higher"),
}


def main() -> None:
    def coder(name: str) -> pl.DataFrame:
        return pl.concat([pl.read_csv(GOLD / f"coder_{name}_part{i}.csv", infer_schema=False) for i in (1, 2)])

    a, b = coder("a"), coder("b")
    merged = a.select("n", "post_id", code_a="code").join(b.select("post_id", code_b="code"), on="post_id")
    disagreements = set(merged.filter(pl.col("code_a") != pl.col("code_b")).get_column("post_id"))
    missing = disagreements - ADJUDICATED.keys()
    if missing:
        raise SystemExit(f"adjudicate these first: {sorted(missing)}")
    decisions = pl.DataFrame(
        [{"post_id": k, "adjudicated": v[0], "reason": v[1]} for k, v in ADJUDICATED.items()],
        schema={"post_id": pl.String, "adjudicated": pl.String, "reason": pl.String},
    )
    gold = (
        merged.join(decisions, on="post_id", how="left")
        .with_columns(
            code=pl.when(pl.col("code_a") == pl.col("code_b")).then(pl.col("code_a")).otherwise(pl.col("adjudicated")),
            adjudication=pl.when(pl.col("code_a") != pl.col("code_b")).then(pl.col("reason")).otherwise(pl.lit("")),
        )
        .select(pl.col("n").cast(pl.Int64), "post_id", "code", "code_a", "code_b", "adjudication")
        .sort("n")
    )
    gold.write_csv(GOLD / "gold.csv")
    print(f"{gold.height} posts, {len(disagreements)} adjudicated -> {GOLD / 'gold.csv'}")


if __name__ == "__main__":
    main()
