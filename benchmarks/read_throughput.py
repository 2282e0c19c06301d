"""Read throughput of the readers: rows/s and MB/s, with peak memory.

    .venv/bin/python benchmarks/read_throughput.py                 # 10k and 100k posts
    .venv/bin/python benchmarks/read_throughput.py --posts 1000000 # the issue's size

For each format (Discourse JSON, Slack export, generic CSV) it writes a synthetic export
of the given size once (benchmarks/synthetic.py, cached under --work), then times the
reader in a fresh process, so each figure has its own peak memory (max RSS) and no
warm cache from another reader. Results are printed as a table and written as JSON.
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
FORMATS = ("discourse", "slack", "generic")


def _size_bytes(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        total += sum(f.stat().st_size for f in files)
    return total


def measure(fmt: str, root: Path) -> dict:
    """Run one reader over one export (called in a child process)."""
    sys.path.insert(0, str(HERE.parent))
    from value_pipeline.identity import Pseudonymizer
    from value_pipeline.ingest import discourse, generic, slack
    from value_pipeline.ingest.common import ReadContext

    context = ReadContext(community="bench", pseudonymizer=Pseudonymizer(b"benchmark"))
    if fmt == "discourse":
        paths = sorted((root / "forum").glob("*.json"))
        context.member_files = [root / "members" / "users.json"]
        reader, inputs = discourse, paths + context.member_files
    elif fmt == "slack":
        paths = [root / "forum" / "slack-export"]
        reader, inputs = slack, paths
    else:
        paths = [root / "posts.csv"]
        reader, inputs = generic, paths
    started = time.perf_counter()
    result = reader.read(paths, context)
    seconds = time.perf_counter() - started
    size = _size_bytes(inputs)
    rows = sum(account.read for account in result.accounts if account.table == "posts")
    return {
        "format": fmt,
        "posts_read": rows,
        "posts_accepted": result.posts.height,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
        "megabytes": round(size / 2**20, 1),
        "mb_per_second": round(size / 2**20 / seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, action="append", help="export sizes (repeatable; default 10k and 100k)")
    parser.add_argument("--format", action="append", choices=FORMATS)
    parser.add_argument("--work", default="/tmp/value_pipeline_bench", help="where synthetic exports are cached")
    parser.add_argument("--json", default=None, help="write the results here too")
    parser.add_argument("--child", nargs=2, metavar=("FORMAT", "ROOT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], Path(args.child[1]))))
        return

    sys.path.insert(0, str(HERE))
    import synthetic

    sizes = args.posts or [10_000, 100_000]
    results = []
    for posts in sizes:
        for fmt in args.format or FORMATS:
            root = Path(args.work) / f"{fmt}_{posts}"
            if not (root / ".complete").exists():
                started = time.perf_counter()
                synthetic.write(fmt, root, posts)
                (root / ".complete").write_text("")
                print(f"generated {fmt} with {posts:,} posts in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            child = subprocess.run(
                [sys.executable, __file__, "--child", fmt, str(root)], capture_output=True, text=True, check=True
            )
            result = json.loads(child.stdout.strip().splitlines()[-1])
            results.append(result)
            print(f"{fmt:10} {result['posts_read']:>10,} posts  {result['seconds']:>7.1f} s  "
                  f"{result['rows_per_second']:>9,} rows/s  {result['mb_per_second']:>6.1f} MB/s  "
                  f"({result['megabytes']} MB)  peak {result['peak_rss_mb']:,} MB")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
