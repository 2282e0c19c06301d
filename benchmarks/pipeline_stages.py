"""Every stage of the pipeline up to the ledger (and one report), timed at scale.

    .venv/bin/python benchmarks/pipeline_stages.py                       # 10k, 100k and 1M posts
    .venv/bin/python benchmarks/pipeline_stages.py --posts 1000000 --members 50000

For each size it writes one synthetic community folder (benchmarks/synthetic.py
`write_community`, deterministic, cached under --work): a Slack workspace export with its
member directory (by default; `--format generic` for a CSV dump) and two Google Forms
survey waves linked to members by email. Then, in ONE fresh process per size, it calls
the functions the Dagster assets call, in their order (not Dagster itself):

- read: `read_community` (readers, plausibility, survey linking) and the ingest
  asset's summary and row accounts (assets/ingest.py canonical_tables);
- contract: the blocking polars checks of canonical_tables (quality/structural.py);
- code: `code_community` and `agreement_frame`, as coded_posts does (the shipped model);
- participation: member_tiers, tier_transitions and value_by_tier for one quarter
  (assets/period.py);
- ledger: `build_ledger` for that quarter and the disclosure check;
- render: stories, ledger history, `assemble_inputs` and `write_pdf` (one report PDF;
  not part of the budget up to the ledger).
The Great Expectations suites (`quality.expectations.validate`, Data Docs included) run
after the contract checks in a child process reading the tables from Parquet, as
`value-pipeline run` validates in a child process beside the reports: their time and
peak memory are reported apart from the budget (`--gx inline` runs them in the main
process instead, counting their memory in its peak; `--gx skip` not at all).

The floor is what polars alone takes to read the same input files (every message file,
the member directory, the survey CSVs) and count posts per author, in its own fresh
process; ratio = total to the ledger / floor. Peak memory is the process's max RSS.
Load average (`uptime`) is printed beside each size: the machine may be busy.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUARTER = "2025-Q4"  # a full quarter of forum activity holding the followup survey wave
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
BUDGET = ("read", "contract", "code", "participation", "ledger")


def _peak_mb() -> float:
    """This process's max RSS (ru_maxrss): for the stages process, started by the small
    parent process."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _own_peak_mb() -> float:
    """Max RSS of this process's own memory (VmHWM): a child started by the big stages
    process inherits that process's ru_maxrss through fork and exec, VmHWM starts afresh."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return _peak_mb()


def _load() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def members_for(posts: int) -> int:
    return min(50_000, max(10, posts // 20))


def community_folder(work: Path, fmt: str, posts: int, members: int) -> Path:
    sys.path.insert(0, str(HERE))
    import synthetic

    folder = work / f"community_{fmt}_{posts}_{members}"
    if not (folder / ".complete").exists():
        started = time.perf_counter()
        synthetic.write_community(fmt, folder, posts, members)
        (folder / ".complete").write_text("")
        print(f"generated {fmt} community: {posts:,} posts, {members:,} members in "
              f"{time.perf_counter() - started:.0f} s", file=sys.stderr)
    return folder


# ---------------------------------------------------------------- the floor (child process)

def floor(folder: Path, fmt: str) -> dict:
    """polars alone: read the input files and count posts per author."""
    import polars as pl

    started = time.perf_counter()
    if fmt == "slack":
        export = folder / "forum" / "slack-export"
        days = sorted(p for p in export.glob("*/*.json"))
        messages = pl.concat([pl.read_json(path) for path in days], how="diagonal_relaxed")
        pl.read_json(export / "users.json")
        pl.read_json(export / "channels.json")
        counts = messages.group_by("user").agg(pl.len())
    else:
        counts = pl.scan_csv(folder / "forum" / "posts.csv", infer_schema=False).group_by("author").agg(pl.len()).collect()
    for survey in sorted((folder / "surveys").glob("*.csv")):
        pl.read_csv(survey, infer_schema=False)
    seconds = time.perf_counter() - started
    return {"floor_s": seconds, "authors": counts.height, "floor_peak_mb": _own_peak_mb()}


# ---------------------------------------------------------------- the stages (child process)

def _great_expectations(tables: dict, waves: tuple[str, ...], docs: Path) -> dict:
    from value_pipeline.quality.expectations import validate

    started = time.perf_counter()
    outcome = validate(tables, docs, waves=waves)
    failed = {name: [f.expectation for f in suite.failures()] for name, suite in outcome.suites.items()}
    return {"gx_s": time.perf_counter() - started, "gx_failed": failed}


def gx_child(stored: Path) -> dict:
    """In a fresh process, as the CLI validates in one: read the stored tables, run the suites."""
    sys.path.insert(0, str(HERE.parent))
    import polars as pl

    started = time.perf_counter()
    tables = {name: pl.read_parquet(stored / f"{name}.parquet") for name in GX_TABLES}
    waves = tuple(json.loads((stored / "waves.json").read_text()))
    result = _great_expectations(tables, waves, stored / "data_docs")
    result["gx_process_s"] = time.perf_counter() - started  # reading the tables + importing GX + the suites
    result["gx_peak_mb"] = _own_peak_mb()
    return result


GX_TABLES = ("posts", "members", "survey_responses", "survey_items")


def stages(folder: Path, gx: str) -> dict:
    sys.path.insert(0, str(HERE.parent))
    import polars as pl

    from value_pipeline.coding.codebook import load_codebook
    from value_pipeline.coding.community import agreement_frame, code_community
    from value_pipeline.identity import Pseudonymizer
    from value_pipeline.ingest import read_community
    from value_pipeline.instrument import load_instrument
    from value_pipeline.ledger import build_ledger, reporting_quarters
    from value_pipeline.participation import (
        member_tiers,
        movement,
        newcomer_retention,
        respondents_by_group,
        time_to_first_post,
        transition_matrix,
        value_by_tier,
    )
    from value_pipeline.periods import Quarter
    from value_pipeline.privacy import disclosure_violations
    from value_pipeline.quality.expectations import KNOWN_WAVES
    from value_pipeline.quality.structural import (
        accounts_frame,
        check_accounts,
        check_members,
        check_posts,
        check_survey_responses,
    )
    from value_pipeline.report.assemble import assemble_inputs
    from value_pipeline.report.render import write_pdf
    from value_pipeline.stories import quotable_frame, quotable_stories
    from value_pipeline.trends import ledger_history

    times: dict[str, float] = {}
    out: dict = {}
    quarter = Quarter.parse(QUARTER)
    scratch = Path(tempfile.mkdtemp(prefix="vp_stages_"))

    started = time.perf_counter()
    data = read_community(folder, Pseudonymizer(b"benchmark"))
    summary = data.summary()
    accounts = accounts_frame(data.accounts)
    quarters = [q.label for q in reporting_quarters(data.posts, data.survey_responses)]
    times["read"] = time.perf_counter() - started
    config = data.config
    out["rows"] = summary["rows"]
    out["quarters"] = quarters
    out["linked_respondents"] = data.survey_responses.get_column("member_key").drop_nulls().n_unique()
    out["respondents"] = data.survey_responses.get_column("respondent_key").n_unique()

    started = time.perf_counter()
    checks = [check_posts(data.posts), check_members(data.members),
              check_survey_responses(data.survey_responses, data.survey_items), check_accounts(data.accounts)]
    times["contract"] = time.perf_counter() - started
    out["contract"] = {c.name: c.passed for c in checks}
    out["peak_after_contract_mb"] = _peak_mb()

    waves = tuple(sorted({*KNOWN_WAVES, *config.survey.waves.values()}))
    tables = {"posts": data.posts, "members": data.members, "survey_responses": data.survey_responses,
              "survey_items": data.survey_items}
    if gx == "child":
        # The tables as Dagster's IO manager would store them, then the suites in a child
        # process (polars' thread pool is not fork-safe: a fresh interpreter, like the CLI).
        for name, frame in tables.items():
            frame.write_parquet(scratch / f"{name}.parquet")
        (scratch / "waves.json").write_text(json.dumps(waves))
        result = _child("--gx-child", str(scratch))
        out.update({k: v for k, v in result.items() if k != "gx_s"})
        times["gx"] = result["gx_s"]
    elif gx == "inline":
        result = _great_expectations(tables, waves, scratch / "data_docs")
        out["gx_failed"] = result["gx_failed"]
        times["gx"] = result["gx_s"]

    started = time.perf_counter()
    coding = code_community(data.posts, folder, config.coding.kappa_threshold)
    agreement = agreement_frame(coding)
    coded = coding.coded
    times["code"] = time.perf_counter() - started
    out["coder"] = coding.coder

    started = time.perf_counter()
    tiers = member_tiers(data.posts, data.members, quarter, config.tiers)
    transition_matrix(data.posts, data.members, quarter, config.tiers)
    movement(data.posts, data.members, quarter, config.tiers)
    newcomer_retention(data.posts, quarter)
    time_to_first_post(data.posts, data.members, quarter)
    value_by_tier(data.survey_responses, data.survey_items, tiers, quarter)
    groups = respondents_by_group(data.survey_responses, tiers, quarter)
    times["participation"] = time.perf_counter() - started
    out["tiers"] = dict(tiers.group_by("tier").len().sort("tier").iter_rows())
    out["respondents_by_group"] = groups

    started = time.perf_counter()
    instrument = load_instrument(config.survey.instrument)
    labels = {item.id: item.label or item.text for item in instrument.items}
    ledger = build_ledger(
        folder.name, quarter, data.posts, coded, data.members, data.survey_responses, data.survey_items,
        load_codebook(), config.suppression, labels, tiers=tiers, rules=config.tiers, scales=instrument.scale_scores,
    )
    violations = disclosure_violations(ledger, config.suppression)
    times["ledger"] = time.perf_counter() - started
    out["ledger_rows"] = ledger.height
    out["ledger_evidenced"] = ledger.filter(pl.col("value").is_not_null()).height
    out["disclosure_violations"] = violations.height
    out["peak_to_ledger_mb"] = _peak_mb()

    started = time.perf_counter()
    quotable = quotable_frame(quotable_stories(data.survey_responses, data.survey_items, quarter, data.posts))
    history = ledger_history([ledger])
    inputs = assemble_inputs(
        folder.name, config, quarter, ledger, quarantine=data.quarantine, row_accounts=accounts, coded_posts=coded,
        coding_agreement=agreement, survey_items=data.survey_items, stories=quotable, history=history,
    )
    result = write_pdf(inputs, scratch / f"{folder.name}_{quarter.label}.pdf")
    times["render"] = time.perf_counter() - started
    out["pages"] = result["pages"]

    out["times"] = times
    out["to_ledger_s"] = sum(times[name] for name in BUDGET)
    out["peak_mb"] = _peak_mb()
    return out


# ---------------------------------------------------------------- the parent

def _child(*args: str) -> dict:
    run = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if run.returncode:
        sys.stderr.write(run.stderr)
        raise SystemExit(f"child {' '.join(args)} failed ({run.returncode})")
    return json.loads(run.stdout.strip().splitlines()[-1])


def _table(results: list[dict], gx: str) -> str:
    head = ("| posts | members | load (1/5/15 min, before / after) | read | contract | code | participation | ledger "
            f"| **to ledger** | floor | ratio | peak MB | GX ({gx}) | GX child peak MB | render |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        t = r["times"]
        lines.append(
            f"| {r['posts']:,} | {r['members']:,} | {r['load']} | {t['read']:.1f} | {t['contract']:.2f} | {t['code']:.1f} "
            f"| {t['participation']:.2f} | {t['ledger']:.1f} | **{r['to_ledger_s']:.1f}** | {r['floor_s']:.2f} "
            f"| {r['to_ledger_s'] / r['floor_s']:.1f}x | {r['peak_to_ledger_mb']:,.0f} "
            f"| {t.get('gx', float('nan')):.1f} | {r.get('gx_peak_mb', float('nan')):,.0f} | {t['render']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, action="append", help="community sizes (repeatable; default 10k, 100k and 1M)")
    parser.add_argument("--members", type=int, default=None, help="default: posts / 20, at most 50,000")
    parser.add_argument("--format", default="slack", choices=("slack", "generic"))
    parser.add_argument("--gx", default="child", choices=("child", "inline", "skip"))
    parser.add_argument("--work", default="/tmp/value_pipeline_bench")
    parser.add_argument("--json", default=None, help="write the results here too")
    parser.add_argument("--child", nargs=2, metavar=("FOLDER", "GX"), help=argparse.SUPPRESS)
    parser.add_argument("--floor", nargs=2, metavar=("FOLDER", "FORMAT"), help=argparse.SUPPRESS)
    parser.add_argument("--gx-child", metavar="STORED", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.gx_child:
        print(json.dumps(gx_child(Path(args.gx_child))))
        return
    if args.child:
        print(json.dumps(stages(Path(args.child[0]), args.child[1])))
        return
    if args.floor:
        print(json.dumps(floor(Path(args.floor[0]), args.floor[1])))
        return

    results = []
    for posts in args.posts or DEFAULT_SIZES:
        members = args.members or members_for(posts)
        folder = community_folder(Path(args.work), args.format, posts, members)
        base = _child("--floor", str(folder), args.format)
        load = _load()
        result = _child("--child", str(folder), args.gx)
        result.update(base, posts=posts, members=members, load=f"{load} / {_load()}", format=args.format)
        results.append(result)
        t = result["times"]
        print(f"{posts:>9,} posts {members:>6,} members  " + "  ".join(f"{k} {v:.2f}s" for k, v in t.items())
              + f"  | to ledger {result['to_ledger_s']:.1f}s, floor {result['floor_s']:.2f}s "
              f"({result['to_ledger_s'] / result['floor_s']:.1f}x), peak {result['peak_to_ledger_mb']:,.0f} MB "
              f"(whole process {result['peak_mb']:,.0f} MB, GX child {result.get('gx_peak_mb', float('nan')):,.0f} MB)  "
              f"load {result['load']}", flush=True)
        print(f"   rows {result['rows']}, respondents {result['respondents']} ({result['linked_respondents']} linked), "
              f"tiers {result['tiers']}, ledger {result['ledger_rows']} rows ({result['ledger_evidenced']} with a value), "
              f"contract {result['contract']}, GX failed {result.get('gx_failed', result.get('gx_error'))}", flush=True)
    print()
    print(_table(results, args.gx))
    by_size = {r["posts"]: r for r in results}
    if 100_000 in by_size and 1_000_000 in by_size:
        growth = by_size[1_000_000]["to_ledger_s"] / by_size[100_000]["to_ledger_s"]
        print(f"\n100k -> 1M: total to ledger x{growth:.1f} for x10 posts ({'sub-linear or linear' if growth <= 10 else 'super-linear'})")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
