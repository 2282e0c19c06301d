"""Coding throughput: posts per second of the shipped model and of the rules, at any size.

    .venv/bin/python benchmarks/code_throughput.py --posts 1000000

Uses the synthetic generic export of benchmarks/synthetic.py (cached under --work) and
times each coder in a fresh process, with its peak memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def measure(coder: str, csv: Path) -> dict:
    sys.path.insert(0, str(HERE.parent))
    import polars as pl

    from value_pipeline.coding.coder import default_coder

    raw = pl.read_csv(csv, infer_schema=False)
    posts = raw.select(
        "post_id", "thread_id", pl.col("parent_post_id").replace("", None), author_key="author",
        title=pl.col("title").replace("", None), body_text="body_text",
    )
    code = default_coder(coder)
    started = time.perf_counter()
    coded = code(posts)
    seconds = time.perf_counter() - started
    return {
        "coder": coded.get_column("coder").first(), "posts": coded.height, "seconds": round(seconds, 1),
        "posts_per_second": round(coded.height / seconds), "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--work", default="/tmp/value_pipeline_bench")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], Path(args.child[1]))))
        return
    sys.path.insert(0, str(HERE))
    import synthetic

    root = Path(args.work) / f"generic_{args.posts}"
    if not (root / ".complete").exists():
        synthetic.write("generic", root, args.posts)
        (root / ".complete").write_text("")
    for coder in ("model", "rules"):
        child = subprocess.run([sys.executable, __file__, "--child", coder, str(root / "posts.csv")],
                               capture_output=True, text=True, check=True)
        result = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"{result['coder']:10} {result['posts']:>10,} posts  {result['seconds']:>6.1f} s  "
              f"{result['posts_per_second']:>9,} posts/s  peak {result['peak_rss_mb']:,} MB")


if __name__ == "__main__":
    main()
