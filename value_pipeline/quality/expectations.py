"""Great Expectations suites for the canonical tables, and the Data Docs site.

The cheap structural checks (quality/structural.py, polars) block a run; these suites
document every expectation the data should meet, content warnings included, and render
them as Data Docs an evaluator opens in a browser. Great Expectations costs seconds to
import, so it is imported here, inside the functions, and nowhere else.

Each expectation carries `meta.severity`: "structural" (the contract later stages rely
on; the blocking polars checks enforce the same rules) or "warning" (worth a look, never
blocking: posts without a channel, empty bodies, members who never visited...).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl

EARLIEST_PLAUSIBLE = datetime(1995, 1, 1, tzinfo=timezone.utc)  # before any teacher forum export
KNOWN_WAVES = ("baseline", "midpoint", "followup", "endline")
ROLES = ("member", "staff", "moderator", "facilitator", "guest", "bot")
KINDS = ("likert", "yes_no", "open", "consent", "choice", "unmapped")
EVIDENCE_TYPES = ("self_report", "story", "behavioural", "external")
CAPITALS = ("human", "social", "tangible", "reputational", "learning")
ID_COLUMNS = {
    "posts": ["post_id"],
    "members": ["author_key"],
    "survey_responses": ["wave", "respondent_key", "item_id"],
    "survey_items": ["item_id"],
}
MAX_FAILING_IDS = 20


@dataclass
class ExpectationOutcome:
    expectation: str
    column: str
    severity: str
    success: bool
    unexpected: int
    failing_ids: list[str] = field(default_factory=list)


@dataclass
class SuiteOutcome:
    table: str
    expectations: list[ExpectationOutcome]

    @property
    def success(self) -> bool:
        return all(e.success for e in self.expectations)

    @property
    def structural_success(self) -> bool:
        return all(e.success for e in self.expectations if e.severity == "structural")

    def failures(self) -> list[ExpectationOutcome]:
        return [e for e in self.expectations if not e.success]


@dataclass
class ValidationOutcome:
    suites: dict[str, SuiteOutcome]
    docs_index: Path | None


def _suites(tables: dict[str, pl.DataFrame], now: datetime, waves: tuple[str, ...]):
    """{table: [(expectation, severity)]}: the suites, built from the data's own id sets."""
    import great_expectations as gx

    e = gx.expectations
    latest = now + timedelta(days=1)  # a day of slack for clocks and timezones
    item_ids = tables["survey_items"].get_column("item_id").drop_nulls().unique().to_list()

    def time_range(column: str):
        return e.ExpectColumnValuesToBeBetween(column=column, min_value=EARLIEST_PLAUSIBLE, max_value=latest)

    return {
        "posts": [
            (e.ExpectColumnValuesToNotBeNull(column="post_id"), "structural"),
            (e.ExpectColumnValuesToBeUnique(column="post_id"), "structural"),
            (e.ExpectColumnValuesToNotBeNull(column="thread_id"), "structural"),
            (e.ExpectColumnValuesToNotBeNull(column="author_key"), "structural"),
            (e.ExpectColumnValuesToNotBeNull(column="created_at"), "structural"),
            (time_range("created_at"), "structural"),
            # parents: a column the frame carries (a value set of every post id would be
            # copied by GE for each metric: fine for 300 posts, ruinous for a million)
            (e.ExpectColumnValuesToBeInSet(column="parent_in_export", value_set=[True]), "structural"),
            (e.ExpectColumnValuesToBeNull(column="parent_post_id", row_condition="is_thread_start==True",
                                          condition_parser="pandas"), "structural"),
            (e.ExpectColumnValuesToNotBeNull(column="parent_post_id", row_condition="is_thread_start==False",
                                             condition_parser="pandas"), "structural"),
            (e.ExpectColumnValuesToNotBeNull(column="channel"), "warning"),
            (e.ExpectColumnValueLengthsToBeBetween(column="body_text", min_value=1), "warning"),
            (e.ExpectColumnValuesToBeBetween(column="n_links", min_value=0), "warning"),
            (e.ExpectColumnValuesToBeBetween(column="n_reactions", min_value=0), "warning"),
        ],
        "members": [
            (e.ExpectColumnValuesToNotBeNull(column="author_key"), "structural"),
            (e.ExpectColumnValuesToBeUnique(column="author_key"), "structural"),
            (e.ExpectColumnValuesToBeInSet(column="role", value_set=list(ROLES)), "structural"),
            (time_range("joined_at"), "warning"),
            (e.ExpectColumnValuesToBeBetween(column="posts_read", min_value=0), "warning"),
            (e.ExpectColumnValuesToBeBetween(column="days_visited", min_value=0), "warning"),
            (e.ExpectColumnPairValuesAToBeGreaterThanB(column_A="last_seen_at", column_B="joined_at", or_equal=True,
                                                       ignore_row_if="either_value_is_missing"), "warning"),
        ],
        "survey_responses": [
            (e.ExpectColumnValuesToNotBeNull(column="respondent_key"), "structural"),
            (e.ExpectColumnValuesToBeInSet(column="item_id", value_set=item_ids), "structural"),
            (e.ExpectCompoundColumnsToBeUnique(column_list=["wave", "respondent_key", "item_id"]), "structural"),
            (time_range("submitted_at"), "structural"),
            (e.ExpectColumnPairValuesAToBeGreaterThanB(column_A="value_num", column_B="scale_min", or_equal=True,
                                                       ignore_row_if="either_value_is_missing"), "structural"),
            (e.ExpectColumnPairValuesAToBeGreaterThanB(column_A="scale_max", column_B="value_num", or_equal=True,
                                                       ignore_row_if="either_value_is_missing"), "structural"),
            (e.ExpectColumnValuesToBeInSet(column="wave", value_set=list(waves)), "warning"),
        ],
        "survey_items": [
            (e.ExpectColumnValuesToBeUnique(column="item_id"), "structural"),
            (e.ExpectColumnValuesToNotBeNull(column="item_id"), "structural"),
            (e.ExpectColumnValuesToBeInSet(column="cycle", value_set=[1, 2, 3, 4, 5]), "structural"),
            (e.ExpectColumnValuesToBeInSet(column="kind", value_set=list(KINDS)), "structural"),
            (e.ExpectColumnValuesToBeInSet(column="evidence_type", value_set=list(EVIDENCE_TYPES)), "structural"),
            (e.ExpectColumnValuesToBeInSet(column="capital", value_set=list(CAPITALS)), "structural"),
            (e.ExpectColumnPairValuesAToBeGreaterThanB(column_A="scale_max", column_B="scale_min", or_equal=True,
                                                       ignore_row_if="either_value_is_missing"), "structural"),
        ],
    }


def _frames(tables: dict[str, pl.DataFrame]):
    """The tables as pandas frames (what Great Expectations validates); survey answers
    carry their item's scale so in-scale expectations can compare columns."""
    items = tables["survey_items"].select("item_id", "scale_min", "scale_max")
    responses = tables["survey_responses"].join(items, on="item_id", how="left")
    posts = tables["posts"].with_columns(
        parent_in_export=pl.col("parent_post_id").is_null() | pl.col("parent_post_id").is_in(tables["posts"].get_column("post_id").implode())
    )
    return {
        "posts": posts.to_pandas(),
        "members": tables["members"].to_pandas(),
        "survey_responses": responses.to_pandas(),
        "survey_items": tables["survey_items"].to_pandas(),
    }


def validate(
    tables: dict[str, pl.DataFrame],
    docs_root: Path,
    now: datetime | None = None,
    waves: tuple[str, ...] = KNOWN_WAVES,
) -> ValidationOutcome:
    """Run the four suites and update the Data Docs site under `docs_root`.

    `tables` holds the canonical posts, members, survey_responses and survey_items of one
    community. The Great Expectations project (suites, results, docs) lives in
    `docs_root`, so every run's results accumulate in the site's history.
    """
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # nothing leaves this machine
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    now = now or datetime.now(timezone.utc)
    docs_root.mkdir(parents=True, exist_ok=True)
    # An ephemeral project (in-memory stores: a file project re-reads its YAML hundreds of
    # times a run) with one Data Docs site written to disk.
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    for existing in list(context.get_site_names()):
        context.delete_data_docs_site(existing)
    context.add_data_docs_site(
        site_name="value_pipeline",
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_root / "site")},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            # Validation results only: the suites themselves show inside each result page,
            # and rendering them again doubles the build time.
            "site_section_builders": {"expectations": "0", "profiling": "0"},
        },
    )
    source = context.data_sources.add_or_update_pandas("community")
    frames = _frames(tables)
    outcomes: dict[str, SuiteOutcome] = {}
    validations = []
    for table, expectations in _suites(tables, now, waves).items():
        asset = next((a for a in source.assets if a.name == table), None) or source.add_dataframe_asset(table)
        batch = next((b for b in asset.batch_definitions if b.name == "whole"), None) or asset.add_batch_definition_whole_dataframe("whole")
        suite = gx.ExpectationSuite(name=table)
        for expectation, severity in expectations:
            expectation.meta = {"severity": severity}
            suite.add_expectation(expectation)
        suite = context.suites.add_or_update(suite)
        validations.append(
            (table, context.validation_definitions.add_or_update(gx.ValidationDefinition(name=table, data=batch, suite=suite)))
        )
    for table, validation in validations:
        # A checkpoint per table (each validates its own frame); running it stores the
        # result in the project, and the site is rebuilt once at the end.
        checkpoint = context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=f"{table}_checkpoint",
                validation_definitions=[validation],
                actions=[],
                result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ID_COLUMNS[table]},
            )
        )
        run = checkpoint.run(batch_parameters={"dataframe": frames[table]})
        result = next(iter(run.run_results.values()))
        outcomes[table] = SuiteOutcome(table, [_outcome(r, table) for r in result.results])
    context.build_data_docs()
    index = docs_root / "site" / "index.html"
    return ValidationOutcome(outcomes, index if index.exists() else None)


def _outcome(result, table: str) -> ExpectationOutcome:
    config = result.expectation_config
    details = result.result or {}
    ids = details.get("unexpected_index_list") or []
    columns = ID_COLUMNS[table]
    failing = ["/".join(str(row.get(c)) for c in columns) if isinstance(row, dict) else str(row) for row in ids]
    kwargs = config.kwargs
    columns_named = kwargs.get("column_list") or [kwargs[k] for k in ("column_A", "column_B") if kwargs.get(k)]
    column = kwargs.get("column") or ", ".join(str(name) for name in columns_named)
    return ExpectationOutcome(
        expectation=config.type,
        column=column,
        severity=(config.meta or {}).get("severity", "warning"),
        success=bool(result.success),
        unexpected=int(details.get("unexpected_count") or 0),
        failing_ids=failing[:MAX_FAILING_IDS],
    )
