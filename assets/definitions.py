"""The Dagster code location (loaded by workspace.yaml)."""

from __future__ import annotations

import dagster as dg
from upath import UPath

from assets.automation import (
    community_exports_sensor,
    community_tables_job,
    data_quality_job,
    portfolio_job,
    quarterly_report_job,
    quarterly_reports,
)
from assets.delivery import (
    deliver_reports_job,
    report_delivery,
    run_failure_email,
    smtp_from_env,
)
from assets.documents import member_summary, portfolio_report
from assets.ingest import canonical_tables, coded_posts
from assets.io import PolarsParquetIOManager
from assets.period import (
    ledger,
    ledger_history,
    member_tiers,
    report,
    stories,
    tier_transitions,
    value_by_tier,
)
from assets.quality import data_quality
from assets.resources import PipelineSettings, default_exports_dir, default_output_dir


def build_definitions(exports_dir: str | None = None, output_dir: str | None = None) -> dg.Definitions:
    """Definitions reading `exports_dir` and writing under `output_dir` (tests point these elsewhere)."""
    exports_dir = exports_dir or default_exports_dir()
    output_dir = output_dir or default_output_dir()
    return dg.Definitions(
        assets=[canonical_tables, coded_posts, data_quality, member_tiers, tier_transitions, value_by_tier, stories, ledger, ledger_history, report,
                member_summary, portfolio_report,
                report_delivery],
        jobs=[community_tables_job, data_quality_job, quarterly_report_job, portfolio_job, deliver_reports_job],
        schedules=[quarterly_reports],
        sensors=[community_exports_sensor, run_failure_email],
        # In-process by default: a process per step costs ~2.5 s on 2 cores, and one run
        # per partition already gives concurrency through the run queue.
        executor=dg.in_process_executor,
        resources={
            "settings": PipelineSettings(exports_dir=exports_dir, output_dir=output_dir),
            "io_manager": PolarsParquetIOManager(base_path=UPath(output_dir) / "storage"),
            "smtp": smtp_from_env(),  # VALUE_PIPELINE_SMTP_* (assets/delivery.py)
        },
    )


defs = build_definitions()
