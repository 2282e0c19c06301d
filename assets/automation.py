"""Jobs, the quarterly schedule and the exports sensor.

- `community_tables_job` (partitioned by community) reads a community's exports and
  codes its posts; the exports sensor runs it whenever a community's files change
  (and registers new community folders as partitions).
- `quarterly_report_job` (community x quarter) builds tiers, ledger and report; the
  quarterly schedule runs it for every community for the quarter just ended.
"""


import hashlib
import json
from datetime import datetime, timezone

import dagster as dg

from assets.partitions import (
    community_partitions,
    community_quarter_key,
    community_quarter_partitions,
    quarter_partitions,
)
from assets.resources import PipelineSettings
from assets.retries import TRANSIENT_RETRIES
from value_pipeline.periods import Quarter

# Every run of a community's partition carries this tag, however it was launched (UI,
# backfill, schedule, sensor); the run queue allows one run per community at a time.
COMMUNITY_TAG = "community"


def _tagged_by_community(partitions_def: dg.PartitionsDefinition) -> dg.PartitionedConfig:
    """No run config, and the `community` tag for each partition's runs."""

    def community_of(partition_key: str) -> str:
        if partitions_def is community_partitions:
            return partition_key
        return community_quarter_partitions.get_partition_key_from_str(partition_key).keys_by_dimension["community"]

    return dg.PartitionedConfig(
        partitions_def,
        run_config_for_partition_key_fn=lambda _key: {},
        tags_for_partition_key_fn=lambda key: {COMMUNITY_TAG: community_of(key)},
    )


community_tables_job = dg.define_asset_job(
    "community_tables_job",
    selection=dg.AssetSelection.groups("ingest", "coding"),
    partitions_def=community_partitions,
    config=_tagged_by_community(community_partitions),
    op_retry_policy=TRANSIENT_RETRIES,
    description="Read a community's exports into canonical tables and code its posts.",
)

data_quality_job = dg.define_asset_job(
    "data_quality_job",
    selection=dg.AssetSelection.groups("quality"),
    partitions_def=community_partitions,
    config=_tagged_by_community(community_partitions),
    op_retry_policy=TRANSIENT_RETRIES,
    description="Great Expectations suites and Data Docs for a community's tables (runs after them, never blocks reports).",
)

quarterly_report_job = dg.define_asset_job(
    "quarterly_report_job",
    selection=dg.AssetSelection.groups("participation", "stories", "ledger", "report"),
    config=_tagged_by_community(community_quarter_partitions),
    op_retry_policy=TRANSIENT_RETRIES,
    description="Tiers, value-creation ledger and PDF report for one community and quarter.",
)


portfolio_job = dg.define_asset_job(
    "portfolio_job",
    selection=dg.AssetSelection.groups("portfolio"),
    partitions_def=quarter_partitions,
    op_retry_policy=TRANSIENT_RETRIES,
    description="Each funder's portfolio report for a quarter: every community it funds, side by side.",
)


def last_complete_quarter(now: datetime) -> Quarter:
    """The quarter that ended most recently before `now`."""
    return Quarter.containing(now).previous()


@dg.schedule(
    job=quarterly_report_job,
    cron_schedule="0 6 1 1,4,7,10 *",  # 06:00 UTC on the first day of each quarter
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Each quarter, a report per community for the quarter just ended.",
)
def quarterly_reports(context: dg.ScheduleEvaluationContext):
    now = context.scheduled_execution_time or datetime.now(timezone.utc)
    quarter = last_complete_quarter(now)
    communities = context.instance.get_dynamic_partitions(community_partitions.name)
    if not communities:
        return dg.SkipReason("no community registered yet: the exports sensor registers community folders")
    return [
        dg.RunRequest(
            run_key=f"{community}:{quarter.label}",
            partition_key=community_quarter_key(community, quarter),
            tags={COMMUNITY_TAG: community, "quarter": quarter.label},
        )
        for community in sorted(communities)
    ]


def folder_fingerprint(folder) -> str:
    """A hash of every file's path, size and modification time under a community folder."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(folder)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


@dg.sensor(
    job=community_tables_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Registers new community folders and re-reads a community when its export files change.",
)
def community_exports_sensor(context: dg.SensorEvaluationContext, settings: PipelineSettings):
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    known = set(context.instance.get_dynamic_partitions(community_partitions.name))
    folders = {folder.name: folder for folder in settings.community_folders()}
    new = sorted(set(folders) - known)
    fingerprints = {name: folder_fingerprint(folder) for name, folder in folders.items()}
    changed = sorted(name for name, fingerprint in fingerprints.items() if seen.get(name) != fingerprint)
    context.update_cursor(json.dumps(fingerprints, sort_keys=True))
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_key=f"{name}:{fingerprints[name]}", partition_key=name, tags={COMMUNITY_TAG: name})
            for name in changed
        ],
        dynamic_partitions_requests=[community_partitions.build_add_request(new)] if new else [],
    )
