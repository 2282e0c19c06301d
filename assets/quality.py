"""Data quality: the Great Expectations suites of each community, and their Data Docs.

A separate asset, not part of ingest: Great Expectations takes seconds to import, and
its findings are warnings for evaluators, not gates (the blocking structural checks run
inside ingest). It is materialized automatically after a community's tables change.
"""

import dagster as dg
import polars as pl

from assets.metadata import markdown_table
from assets.partitions import community_partitions
from assets.resources import PipelineSettings
from assets.retries import retry_transient_only
from value_pipeline.config import load_community_config
from value_pipeline.quality.expectations import KNOWN_WAVES, validate

TABLES = ("posts", "members", "survey_responses", "survey_items")


@dg.asset(
    partitions_def=community_partitions,
    group_name="quality",
    automation_condition=dg.AutomationCondition.eager(),
    check_specs=[
        dg.AssetCheckSpec(f"{table}_expectations", asset="data_quality",
                          description=f"The Great Expectations suite for {table} (failing rows' ids in the metadata).")
        for table in TABLES
    ],
)
@retry_transient_only
def data_quality(
    context: dg.AssetExecutionContext,
    settings: PipelineSettings,
    posts: pl.DataFrame,
    members: pl.DataFrame,
    survey_responses: pl.DataFrame,
    survey_items: pl.DataFrame,
):
    """Validate the community's canonical tables against their expectation suites and
    rebuild the Data Docs site (open its index.html in a browser)."""
    community = context.partition_key
    config = load_community_config(settings.community_folder(community))
    waves = tuple(sorted({*KNOWN_WAVES, *config.survey.waves.values()}))
    tables = {"posts": posts, "members": members, "survey_responses": survey_responses, "survey_items": survey_items}
    outcome = validate(tables, settings.data_docs_dir(community), waves=waves)
    summary = pl.DataFrame(
        [
            {"table": name, "expectations": len(suite.expectations), "failed": len(suite.failures()),
             "structural_ok": suite.structural_success}
            for name, suite in outcome.suites.items()
        ]
    )
    docs = str(outcome.docs_index) if outcome.docs_index else ""
    yield dg.MaterializeResult(
        metadata={
            "data_docs": dg.MetadataValue.url(f"file://{docs}") if docs else "not built",
            "data_docs_path": dg.MetadataValue.path(docs),
            "suites": dg.MetadataValue.md(markdown_table(summary)),
        }
    )
    for name, suite in outcome.suites.items():
        failures = pl.DataFrame(
            [
                {"expectation": f.expectation, "column": f.column, "severity": f.severity, "rows": f.unexpected,
                 "failing ids": ", ".join(f.failing_ids)}
                for f in suite.failures()
            ],
            schema={"expectation": pl.String, "column": pl.String, "severity": pl.String, "rows": pl.Int64, "failing ids": pl.String},
        )
        yield dg.AssetCheckResult(
            check_name=f"{name}_expectations",
            passed=suite.success,
            # Warnings: structural rules block in ingest already; these inform, never gate.
            severity=dg.AssetCheckSeverity.WARN,
            description=f"{len(suite.expectations) - len(suite.failures())} of {len(suite.expectations)} expectations met",
            metadata={
                "failures": dg.MetadataValue.md(markdown_table(failures)),
                "failing_ids": [i for f in suite.failures() for i in f.failing_ids][:50],
                "data_docs": dg.MetadataValue.path(docs),
            },
        )
