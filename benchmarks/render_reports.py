"""Render benchmark: one community's quarterly report, and a funder portfolio of many.

Reads the tables the main job stored (run `make demo` first, or pass --output), then
1. renders each stored community-quarter's report --runs times in one process (after one
   warm-up render, as a long-lived Dagster code server would; round-robin over the
   reports, so that the machine's drift hits them alike) and prints the median; its
   technical annex is timed alike, in the same rounds;
2. renders a portfolio of --communities communities: that many quarterly reports with
   their annexes (the stored ones, cycled under new names) plus the funder's portfolio
   PDF, over --workers processes, and prints the wall time.

    .venv/bin/python benchmarks/render_reports.py --runs 5 --communities 50
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import polars as pl

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from value_pipeline.config import load_community_config  # noqa: E402
from value_pipeline.periods import Quarter  # noqa: E402
from value_pipeline.report.assemble import assemble_inputs  # noqa: E402
from value_pipeline.report.portfolio import (  # noqa: E402
    PortfolioCommunity,
    PortfolioInputs,
    write_portfolio_pdf,
)
from value_pipeline.report.render import (  # noqa: E402
    ReportInputs,
    write_annex_pdf,
    write_pdf,
)
from value_pipeline.trends import ledger_history  # noqa: E402


def stored_inputs(output: Path, exports: Path) -> list[ReportInputs]:
    """ReportInputs for every community-quarter whose ledger the main job stored."""
    storage = output / "storage"
    found = []
    for ledger_path in sorted((storage / "ledger").glob("*/*.parquet")):
        community, quarter = ledger_path.parent.name, Quarter.parse(ledger_path.stem)

        def table(asset: str, per_quarter: bool = False, community=community, quarter=quarter) -> pl.DataFrame:
            if per_quarter:
                return pl.read_parquet(storage / asset / community / f"{quarter.partition_key}.parquet")
            return pl.read_parquet(storage / asset / f"{community}.parquet")

        earlier = sorted(p for p in ledger_path.parent.glob("*.parquet") if p.stem <= ledger_path.stem)[-4:]
        found.append(assemble_inputs(
            community, load_community_config(exports / community), quarter, pl.read_parquet(ledger_path),
            quarantine=table("quarantine"), row_accounts=table("row_accounts"), coded_posts=table("coded_posts"),
            coding_agreement=table("coding_agreement"), survey_items=table("survey_items"),
            stories=table("stories", per_quarter=True), history=ledger_history(pl.read_parquet(p) for p in earlier),
        ))
    return found


def _timed(write, inputs: ReportInputs, target: Path) -> float:
    """Seconds to render one document (wall time: a render is single-threaded and CPU-bound)."""
    started = time.perf_counter()
    write(inputs, target)
    return time.perf_counter() - started


def _render_both(job: tuple[ReportInputs, Path]) -> float:
    inputs, target = job
    return _timed(write_pdf, inputs, target) + _timed(write_annex_pdf, inputs, target.with_name(f"{target.stem}_annex.pdf"))


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", type=Path, default=PROJECT / "output", help="the main job's output folder")
    parser.add_argument("--exports", type=Path, default=PROJECT / "sample_exports")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--communities", type=int, default=50)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    reports = stored_inputs(args.output, args.exports)
    if not reports:
        print(f"no stored ledgers under {args.output / 'storage'}: run `make demo` first", file=sys.stderr)
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="render-bench-"))
    _render_both((reports[0], scratch / "warmup.pdf"))  # imports, fonts, templates
    print(f"One community's quarterly report and its technical annex ({args.runs} runs each, after one warm-up render):\n")
    print("| report | pages | median s | min s | max s | annex pages | annex median s |\n|---|---|---|---|---|---|---|")
    from pypdf import PdfReader

    # Round-robin over the reports, run after run: this machine's speed drifts by minutes,
    # and drift should hit every report alike rather than whichever came last.
    times: dict[int, list[float]] = {i: [] for i in range(len(reports))}
    annex_times: dict[int, list[float]] = {i: [] for i in range(len(reports))}
    for _ in range(args.runs):
        for i, inputs in enumerate(reports):
            times[i].append(_timed(write_pdf, inputs, scratch / f"one-{i}.pdf"))
            annex_times[i].append(_timed(write_annex_pdf, inputs, scratch / f"one-{i}_annex.pdf"))
    medians, annex_medians = [], []
    for i, inputs in enumerate(reports):
        pages = len(PdfReader(scratch / f"one-{i}.pdf").pages)
        annex_pages = len(PdfReader(scratch / f"one-{i}_annex.pdf").pages)
        medians.append(statistics.median(times[i]))
        annex_medians.append(statistics.median(annex_times[i]))
        print(f"| {inputs.community} {inputs.quarter.label} | {pages} | {medians[-1]:.2f} | {min(times[i]):.2f} | "
              f"{max(times[i]):.2f} | {annex_pages} | {annex_medians[-1]:.2f} |")
    print(f"\nmedian over reports: {statistics.median(medians):.2f} s (technical annex: {statistics.median(annex_medians):.2f} s)")

    latest = max(r.quarter for r in reports)
    pool = [r for r in reports if r.quarter == latest] or reports
    members = [
        replace(pool[i % len(pool)], community=f"community-{i + 1:02d}", name=f"{pool[i % len(pool)].name} ({i + 1})")
        for i in range(args.communities)
    ]
    started = time.perf_counter()
    # spawn, not fork: forking a process that has run polars' thread pool can deadlock
    with ProcessPoolExecutor(max_workers=args.workers, mp_context=multiprocessing.get_context("spawn")) as executor:
        list(executor.map(_render_both, [(m, scratch / f"{m.community}.pdf") for m in members]))
    reports_done = time.perf_counter() - started
    portfolio = PortfolioInputs(members[0].funder, members[0].quarter,
                                [PortfolioCommunity(m.community, m.name, m.ledger) for m in members])
    result = write_portfolio_pdf(portfolio, scratch / "portfolio.pdf")
    total = time.perf_counter() - started
    print(f"\nPortfolio of {args.communities} communities on {args.workers} processes: {args.communities} reports and annexes in "
          f"{reports_done:.1f} s, plus the {result['pages']}-page portfolio: {total:.1f} s in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
