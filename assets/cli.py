"""`value-pipeline`: the command line.

- `value-pipeline run`: the main job. Registers every community folder under the
  exports dir, reads and codes each community, then builds the report of every quarter
  that has data, all as Dagster runs recorded in DAGSTER_HOME (so `dagster dev` shows
  them). Prints where the PDFs are.
- `value-pipeline ingest FOLDER --out DIR`: read one community folder into canonical
  Parquet tables plus summary.json (row accounts, quarantine by reason), no Dagster.

Bad input never prints a traceback: one line on stderr naming the file and the problem,
exit status 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

from value_pipeline.errors import InputError
from value_pipeline.identity import SECRET_ENV

EXIT_BAD_INPUT = 2
EXIT_RUN_FAILED = 1
# Runs log to DAGSTER_HOME (the UI shows them); the terminal gets one line per result.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def _fail(message: str, status: int = EXIT_BAD_INPUT) -> int:
    print(f"value-pipeline: {' '.join(message.split())}", file=sys.stderr)
    return status


def _run_failure(result) -> str:
    """One line on why a run failed: a failed blocking check, else the failing step."""
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed and evaluation.severity.value == "ERROR":
            return f"check {evaluation.check_name} on {evaluation.asset_key.to_user_string()} failed: {evaluation.description}"
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            description = getattr(event.step_failure_data.user_failure_data, "description", None)
            return f"{event.step_key}: {description or error.message.strip().splitlines()[-1]}"
    return "the run failed (see the Dagster UI for its logs)"


def _prepare_dagster_home(home: Path) -> None:
    """Create DAGSTER_HOME with telemetry off: member data is sensitive, and runs send nothing."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")


def _setup(args: argparse.Namespace):
    """Definitions, settings and the communities to process, with DAGSTER_HOME ready."""
    from assets.definitions import build_definitions

    exports = Path(args.exports).resolve()
    output = Path(args.output).resolve()
    if not exports.is_dir():
        raise InputError(exports, "exports folder not found")
    os.environ.setdefault("DAGSTER_HOME", str(output / "dagster_home"))
    _prepare_dagster_home(Path(os.environ["DAGSTER_HOME"]))
    logging.getLogger("dagster").setLevel(logging.WARNING)
    defs = build_definitions(str(exports), str(output))
    settings = defs.resources["settings"]
    communities = [folder.name for folder in settings.community_folders()]
    if args.community:
        communities = [c for c in communities if c in args.community]
    if not communities:
        raise InputError(exports, "no community folder with a community.yaml found")
    if not os.environ.get(SECRET_ENV):
        warnings.warn(
            f"{SECRET_ENV} is not set: member keys use the development secret (fine for the samples, never for real data)",
            stacklevel=1,
        )
        warnings.filterwarnings("ignore", message=f"{SECRET_ENV} is not set")
    return defs, settings, communities, output


def command_validate(args: argparse.Namespace) -> int:
    """Run the Great Expectations suites of communities whose tables exist (data_quality_job)."""
    import dagster as dg

    defs, settings, communities, _ = _setup(args)
    failures = []
    with dg.DagsterInstance.get() as instance:
        job = defs.resolve_job_def("data_quality_job")
        for community in communities:
            result = job.execute_in_process(run_config=QUIET, instance=instance, partition_key=community, raise_on_error=False)
            if result.success:
                warned = [c.check_name for c in result.get_asset_check_evaluations() if not c.passed]
                note = f" (warnings: {', '.join(warned)})" if warned else ""
                print(f"{community}: data docs {settings.data_docs_dir(community) / 'site' / 'index.html'}{note}")
            else:
                failures.append(f"{community} data quality: {_run_failure(result)}")
    for failure in failures:
        print(f"value-pipeline: {failure}", file=sys.stderr)
    return EXIT_RUN_FAILED if failures else 0


def command_run(args: argparse.Namespace) -> int:
    """Tables for every community, then reports, with validation alongside in a child process."""
    import subprocess

    import dagster as dg

    from assets.partitions import (
        community_partitions,
        community_quarter_key,
        quarter_partitions,
    )
    from value_pipeline.periods import Quarter

    defs, settings, communities, output = _setup(args)
    started = time.perf_counter()
    complete = {Quarter.parse(key) for key in quarter_partitions.get_partition_keys()}
    written, failures, ready = [], [], {}
    validation = None
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions(community_partitions.name, communities)
        tables_job = defs.resolve_job_def("community_tables_job")
        report_job = defs.resolve_job_def("quarterly_report_job")
        for community in communities:
            print(f"{community}: reading exports and coding posts")
            result = tables_job.execute_in_process(
                run_config=QUIET, instance=instance, partition_key=community, raise_on_error=False
            )
            if not result.success:
                failures.append(f"{community}: {_run_failure(result)}")
                continue
            # The ingest step records the quarters the community has data for.
            recorded = next(
                m for m in result.get_asset_materialization_events() if m.asset_key == dg.AssetKey("posts")
            ).materialization.metadata["quarters"].value
            ready[community] = [q for q in map(Quarter.parse, recorded) if q in complete]
        if ready and not args.skip_validation:
            # Great Expectations takes seconds to import and its findings never gate a
            # report: validate in a child process while this one renders reports.
            command = [sys.executable, "-m", "assets.cli", "validate", "--exports", str(settings.exports_dir),
                       "--output", str(output), *[arg for c in ready for arg in ("--community", c)]]
            validation = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for community, quarters in ready.items():
            print(f"{community}: reports")
            for quarter in quarters:
                if args.quarter and quarter.label not in args.quarter:
                    continue
                result = report_job.execute_in_process(
                    run_config=QUIET, instance=instance,
                    partition_key=community_quarter_key(community, quarter), raise_on_error=False,
                )
                if result.success:
                    path = settings.report_path(community, quarter.label)
                    written.append(path)
                    print(f"  {quarter.label}: {path} (technical annex: {settings.annex_path(community, quarter.label).name})")
                else:
                    failures.append(f"{community} {quarter.label}: {_run_failure(result)}")
        # Each funder's portfolio, once every community's report for the quarter is done.
        portfolio_job = defs.resolve_job_def("portfolio_job")
        rendered = sorted({q for quarters in ready.values() for q in quarters if not args.quarter or q.label in args.quarter})
        if rendered:
            print("portfolios")
        for quarter in rendered:
            result = portfolio_job.execute_in_process(
                run_config=QUIET, instance=instance, partition_key=quarter.partition_key, raise_on_error=False
            )
            if result.success:
                for event in result.get_asset_materialization_events():
                    for funder, item in event.materialization.metadata["portfolios"].value.items():
                        print(f"  {quarter.label} {funder}: {item['path']}")
            else:
                failures.append(f"portfolio {quarter.label}: {_run_failure(result)}")
    if validation is not None:
        out, err = validation.communicate()
        print("\n" + out.rstrip())
        failures += [line.removeprefix("value-pipeline: ") for line in err.splitlines() if line.startswith("value-pipeline: ")
                     and "warning:" not in line]
    elapsed = time.perf_counter() - started
    print(f"\n{len(written)} reports written under {output / 'reports'} in {elapsed:.1f} s")
    print(f"Dagster runs recorded in DAGSTER_HOME={os.environ['DAGSTER_HOME']}")
    for failure in failures:
        print(f"value-pipeline: {failure}", file=sys.stderr)
    return EXIT_RUN_FAILED if failures else 0


def command_ingest(args: argparse.Namespace) -> int:
    from value_pipeline.ingest import read_export
    from value_pipeline.quality.structural import accounts_frame

    out = Path(args.out)
    data = read_export(args.path, timezone=args.timezone, platform=args.platform)
    out.mkdir(parents=True, exist_ok=True)
    tables = {
        "posts": data.posts, "members": data.members, "survey_responses": data.survey_responses,
        "survey_items": data.survey_items, "quarantine": data.quarantine, "row_accounts": accounts_frame(data.accounts),
    }
    for name, frame in tables.items():
        partial = out / f".{name}.parquet.part"
        frame.write_parquet(partial)
        partial.replace(out / f"{name}.parquet")
    summary = {**data.summary(), "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    rows = summary["rows"]
    print(f"{data.slug} ({', '.join(data.platforms)}): {rows['posts']} posts, {rows['members']} members, {rows['survey_responses']} survey answers, "
          f"{rows['quarantine']} rows quarantined; balanced: {summary['balanced']}; written to {out}")
    return 0 if summary["balanced"] else EXIT_RUN_FAILED


def _posts_to_code(path: str, timezone: str = "UTC"):
    """Canonical posts from a posts table (Parquet or CSV with post_id and body_text) or
    from any supported export."""
    import polars as pl

    from value_pipeline.ingest import read_export
    from value_pipeline.ingest.detect import Sniff

    source = Path(path)
    sniff = Sniff(source) if source.is_file() else None
    if sniff is not None and {"post_id", "body_text"} <= set(sniff.columns):
        try:
            table = pl.read_parquet(source) if sniff.is_parquet else pl.read_csv(source, infer_schema=False)
        except (OSError, pl.exceptions.PolarsError) as error:
            raise InputError(source, f"not a readable posts table: {str(error).splitlines()[0]}") from error
        for flag in ("is_thread_start", "is_staff"):
            if flag in table.columns and table.schema[flag] == pl.String:
                table = table.with_columns(pl.col(flag).str.to_lowercase().is_in(["true", "1", "yes", "t"]))
        return table
    return read_export(source, timezone=timezone).posts


def command_code(args: argparse.Namespace) -> int:
    from value_pipeline.coding.coder import default_coder

    posts = _posts_to_code(args.input, args.timezone)
    coder = default_coder(args.coder)
    coded = coder(posts)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.part")
    coded.select("post_id", "code", "confidence").write_csv(partial)
    partial.replace(out)
    counts = coded.group_by("code").len().sort("len", descending=True)
    summary = ", ".join(f"{code} {n}" for code, n in counts.iter_rows())
    print(f"{coded.height} posts coded by {coded.get_column('coder').first() if coded.height else '-'} -> {out} ({summary})")
    return 0


def command_sample(args: argparse.Namespace) -> int:
    from value_pipeline.coding.agreement import (
        coding_sample,
        coding_sheet,
        write_coding_sheet,
    )
    from value_pipeline.coding.coder import default_coder

    posts = _posts_to_code(args.input, args.timezone)
    coded = default_coder(args.coder)(posts)
    sample = coding_sample(posts, coded, n=args.n, seed=args.seed)
    write_coding_sheet(coding_sheet(sample, posts), Path(args.out))
    print(f"{sample.height} posts to hand-code -> {args.out} (fill in human_code; codes: see CODEBOOK)")
    return 0


def command_agreement(args: argparse.Namespace) -> int:
    from value_pipeline.coding.agreement import agreement, read_codes

    human, auto = read_codes(args.human), read_codes(args.auto)
    population = args.population or auto.height
    result = agreement(human, auto, population=population, threshold=args.threshold)
    print(f"Agreement of {args.auto} with {args.human} (reference) on {result.n} posts")
    print(f"  Cohen's kappa       {result.kappa:.3f}   (threshold {result.threshold:.2f})")
    print(f"  Krippendorff alpha  {result.alpha:.3f}")
    print(f"  percent agreement   {result.percent_agreement:.1%}")
    if result.rho is not None:
        verdict = "generalizes" if result.rho < 0.05 else "does not generalize"
        print(f"  Shaffer's rho       {result.rho:.3f}   (population {population}: the kappa {verdict} at the threshold)")
    print("\nPer code (the second coding scored against the first):")
    for code, support, precision, recall, f1 in result.per_code.iter_rows():
        print(f"  {code:16} n={support:<4} precision {precision:.2f}  recall {recall:.2f}  F1 {f1:.2f}")
    print("\nConfusion matrix (rows: reference; columns: second coding):")
    short = [code[:5] for code in result.codes]
    print("  " + " " * 16 + " ".join(f"{s:>5}" for s in short))
    for row in result.confusion.iter_rows():
        print(f"  {row[0]:16}" + " ".join(f"{v:>5}" for v in row[1:]))
    print(f"\n{'ACCEPTABLE' if result.acceptable else 'BELOW THRESHOLD'}: {result.summary()}")
    return 0


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"value-pipeline: warning: {' '.join(str(message).split())}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    from assets.resources import default_exports_dir, default_output_dir

    warnings.showwarning = _one_line_warning

    parser = argparse.ArgumentParser(prog="value-pipeline", description="Value-creation evaluation of teacher communities.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the main job: every community's reports for every quarter with data")
    run.add_argument("--exports", default=default_exports_dir(), help="folder of community folders (default: sample_exports)")
    run.add_argument("--output", default=default_output_dir(), help="where reports and tables go (default: output)")
    run.add_argument("--community", action="append", help="only this community (repeatable)")
    run.add_argument("--quarter", action="append", help="only this quarter, e.g. 2026-Q1 (repeatable)")
    run.add_argument("--skip-validation", action="store_true", help="skip the Great Expectations suites and Data Docs")
    run.set_defaults(handler=command_run)
    validate = commands.add_parser("validate", help="run the Great Expectations suites and write Data Docs")
    validate.add_argument("--exports", default=default_exports_dir())
    validate.add_argument("--output", default=default_output_dir())
    validate.add_argument("--community", action="append", help="only this community (repeatable)")
    validate.set_defaults(handler=command_validate)
    code = commands.add_parser("code", help="code every post of an export or a posts table: post_id, code, confidence")
    code.add_argument("input", help="any supported export, or a Parquet/CSV of posts with post_id and body_text")
    code.add_argument("--out", required=True)
    code.add_argument("--coder", default="default", help="default | rules | model (the shipped model)")
    code.add_argument("--timezone", default="UTC")
    code.set_defaults(handler=command_code)
    sample = commands.add_parser("sample", help="a stratified sample of posts to hand-code, as a spreadsheet CSV")
    sample.add_argument("input", help="any supported export, or a Parquet/CSV of posts")
    sample.add_argument("--out", required=True)
    sample.add_argument("--n", type=int, default=200)
    sample.add_argument("--seed", type=int, default=1)
    sample.add_argument("--coder", default="default")
    sample.add_argument("--timezone", default="UTC")
    sample.set_defaults(handler=command_sample)
    agree = commands.add_parser("agreement", help="agreement statistics of two codings (kappa, alpha, F1, confusion, rho)")
    agree.add_argument("human", help="the reference coding: CSV with post_id and human_code (or code)")
    agree.add_argument("auto", help="the coding to score: CSV with post_id and code")
    agree.add_argument("--population", type=int, help="posts the sample stands for (default: rows of AUTO)")
    agree.add_argument("--threshold", type=float, default=0.65)
    agree.set_defaults(handler=command_agreement)
    ingest = commands.add_parser(
        "ingest", help="read a community folder, or any single supported export, into canonical Parquet tables and summary.json"
    )
    ingest.add_argument("path", help="a community folder (with community.yaml) or one export: file, folder or zip")
    ingest.add_argument("--out", required=True, help="folder for <table>.parquet and summary.json")
    ingest.add_argument("--timezone", default="UTC", help="timezone of zone-less times in a single export (default UTC)")
    ingest.add_argument("--platform", help="skip format detection: the export's platform name")
    ingest.set_defaults(handler=command_ingest)
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except InputError as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        return _fail("interrupted", 130)


if __name__ == "__main__":
    sys.exit(main())
