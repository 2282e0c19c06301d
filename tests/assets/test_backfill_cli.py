"""A backfill of four quarters for one community, from the command line.

Dagster's own CLI does it: `dagster job backfill` takes a range of the job's partition
keys, and the keys of quarterly_report_job (community x quarter) are listed community by
community, quarter by quarter, so one community's quarters are a contiguous range:

    dagster job backfill -w workspace.yaml -j quarterly_report_job --noprompt \\
        --from 'inquiry-math-pd|2025-10-01' --to 'inquiry-math-pd|2026-07-01'

(`--partitions 'c|2025-10-01,c|2026-01-01,...'` names them one by one.) `dagster asset
materialize --partition-range` cannot: it needs a single-run backfill policy. The CLI
records the backfill and submits one run per partition to the instance's run coordinator:
with `make ui` running, the daemon launches them from the queue; this test's instance
launches them at once (DefaultRunCoordinator), so no daemon is needed.

The four quarters are the sample exports' last four (2025-Q4 to 2026-Q3), fixed so the
test does not depend on today's date.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

import dagster as dg
from support import PROJECT, SAMPLE_EXPORTS

from assets.definitions import build_definitions
from assets.partitions import community_partitions
from value_pipeline.periods import Quarter

COMMUNITY = "inquiry-math-pd"
QUARTERS = [Quarter(2025, 4), Quarter(2026, 1), Quarter(2026, 2), Quarter(2026, 3)]
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
RUNS_TIMEOUT = 300  # four report runs side by side on two shared cores


def test_cli_backfills_four_quarters_of_one_community(tmp_path, monkeypatch):
    exports, output, home = tmp_path / "exports", tmp_path / "output", tmp_path / "dagster_home"
    shutil.copytree(SAMPLE_EXPORTS / COMMUNITY, exports / COMMUNITY)
    home.mkdir()
    (home / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\n"
        "run_coordinator:\n  module: dagster.core.run_coordinator\n  class: DefaultRunCoordinator\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    env = {name: value for name, value in os.environ.items() if not name.startswith("VALUE_PIPELINE_")}
    env.update(DAGSTER_HOME=str(home), VALUE_PIPELINE_EXPORTS=str(exports), VALUE_PIPELINE_OUTPUT=str(output),
               VALUE_PIPELINE_SECRET=os.environ.get("VALUE_PIPELINE_SECRET", "test-only-secret"))

    with dg.DagsterInstance.get() as instance:
        # What the exports sensor does for a new folder: register the community, read it.
        instance.add_dynamic_partitions(community_partitions.name, [COMMUNITY])
        defs = build_definitions(str(exports), str(output))
        tables = defs.resolve_job_def("community_tables_job").execute_in_process(
            run_config=QUIET, instance=instance, partition_key=COMMUNITY
        )
        assert tables.success

        started = time.monotonic()
        keys = [f"{COMMUNITY}|{quarter.partition_key}" for quarter in QUARTERS]
        log_path = tmp_path / "backfill.log"
        with open(log_path, "w", encoding="utf-8") as log:
            # its own session: the code server it starts, and the runs, are ended with it
            cli = subprocess.Popen(
                [sys.executable, "-m", "dagster", "job", "backfill", "-w", "workspace.yaml", "-j", "quarterly_report_job",
                 "--from", keys[0], "--to", keys[-1], "--noprompt"],
                cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        try:
            assert cli.wait(timeout=RUNS_TIMEOUT) == 0, log_path.read_text()[-3000:]
            printed = log_path.read_text()
            backfill_id = re.search(r"Launched backfill job `(\w+)`", printed).group(1)
            listed = re.search(r"Partitions:(.*?)\n\n", printed, re.S).group(1).split()
            assert listed == keys  # the range is exactly this community's four quarters

            backfill = instance.get_backfill(backfill_id)
            assert list(backfill.partition_names) == keys
            deadline = time.monotonic() + RUNS_TIMEOUT
            while True:
                runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
                if len(runs) == len(keys) and all(run.is_finished for run in runs):
                    break
                assert time.monotonic() < deadline, f"backfill runs not finished: {[(r.run_id, r.status) for r in runs]}"
                time.sleep(2)
            elapsed = time.monotonic() - started
        finally:
            try:
                os.killpg(cli.pid, signal.SIGKILL)  # the code server, if still up
            except ProcessLookupError:
                pass

        assert sorted(run.tags["dagster/partition"] for run in runs) == keys
        failed = [(run.tags["dagster/partition"], run.run_id) for run in runs if run.status != dg.DagsterRunStatus.SUCCESS]
        assert not failed, f"failed runs (logs in {home}): {failed}"
        assert all(run.job_name == "quarterly_report_job" for run in runs)
        for quarter in QUARTERS:
            pdf = output / "reports" / COMMUNITY / f"{COMMUNITY}_{quarter.label}.pdf"
            assert pdf.is_file() and pdf.read_bytes()[:5] == b"%PDF-", pdf
        print(f"\nCLI backfill of {len(keys)} quarters: {elapsed:.0f} s")
