"""Period assets, one partition per community x quarter: tiers, the ledger, the report."""


import warnings

import dagster as dg
import polars as pl

from assets.metadata import markdown_table, one_line
from assets.partitions import by_community, community_quarter_partitions, split_key
from assets.resources import PipelineSettings
from assets.retries import retry_transient_only
from value_pipeline.coding.codebook import load_codebook
from value_pipeline.config import load_community_config
from value_pipeline.errors import InputError
from value_pipeline.instrument import load_instrument
from value_pipeline.ledger import build_ledger
from value_pipeline.participation import (
    gini,
    movement,
    newcomer_retention,
    respondents_by_group,
    time_to_first_post,
    transition_matrix,
)
from value_pipeline.participation import member_tiers as compute_member_tiers
from value_pipeline.participation import value_by_tier as compute_value_by_tier
from value_pipeline.privacy import disclosure_violations, scrub_identities
from value_pipeline.report.assemble import assemble_inputs
from value_pipeline.report.render import (
    render_annex_html,
    render_html,
    write_annex_pdf,
    write_pdf,
)
from value_pipeline.stories import quotable_frame, quotable_stories
from value_pipeline.stories import stories as story_table
from value_pipeline.trends import TREND_QUARTERS
from value_pipeline.trends import ledger_history as ledger_history_rows

ALL_TIME = dg.AssetIn(partition_mapping=by_community)


def _config(settings: PipelineSettings, community: str):
    try:
        return load_community_config(settings.community_folder(community))
    except InputError as error:
        raise dg.Failure(description=one_line(error), allow_retries=False) from None


@dg.asset(
    partitions_def=community_quarter_partitions,
    group_name="participation",
    ins={"posts": ALL_TIME, "members": ALL_TIME},
)
@retry_transient_only
def member_tiers(
    context: dg.AssetExecutionContext, settings: PipelineSettings, posts: pl.DataFrame, members: pl.DataFrame
) -> dg.Output[pl.DataFrame]:
    """Each member's participation tier in the quarter (core, active, occasional,
    peripheral, inactive; staff apart), by the onion model's cumulative-share rule
    (cuts from `tiers:` in community.yaml)."""
    community, quarter = split_key(context)
    rules = _config(settings, community).tiers
    tiers = compute_member_tiers(posts, members, quarter, rules)
    counts = tiers.group_by("tier").agg(members=pl.len(), posts=pl.col("n_posts").sum()).sort("posts", descending=True)
    return dg.Output(tiers, metadata={
        "dagster/row_count": tiers.height,
        "tiers": dg.MetadataValue.md(markdown_table(counts)),
        "rules": rules.model_dump(),
        "gini": dg.MetadataValue.float(gini(tiers) if gini(tiers) is not None else float("nan")),
    })


@dg.asset(
    partitions_def=community_quarter_partitions,
    group_name="participation",
    ins={"posts": ALL_TIME, "members": ALL_TIME},
)
@retry_transient_only
def tier_transitions(
    context: dg.AssetExecutionContext, settings: PipelineSettings, posts: pl.DataFrame, members: pl.DataFrame
) -> dg.Output[pl.DataFrame]:
    """Members moving between tiers from the previous quarter to this one (from_tier,
    to_tier, members), with the moves toward the core and away from it, newcomer
    retention and time to first post in the metadata. Counts only: no member's path."""
    community, quarter = split_key(context)
    rules = _config(settings, community).tiers
    matrix = transition_matrix(posts, members, quarter, rules)
    wide = matrix.pivot(on="to_tier", index="from_tier", values="members")
    moves = movement(posts, members, quarter, rules)
    retention = newcomer_retention(posts, quarter)
    waited = time_to_first_post(posts, members, quarter)
    return dg.Output(matrix, metadata={
        "dagster/row_count": matrix.height,
        "matrix": dg.MetadataValue.md(markdown_table(wide)),
        "moves": dg.MetadataValue.md(markdown_table(pl.DataFrame({"move": list(moves), "members": list(moves.values())}))),
        "newcomer_retention": retention,
        "time_to_first_post": waited,
    })


@dg.asset(
    partitions_def=community_quarter_partitions,
    group_name="participation",
    ins={"survey_responses": ALL_TIME, "survey_items": ALL_TIME},
)
@retry_transient_only
def value_by_tier(
    context: dg.AssetExecutionContext, survey_responses: pl.DataFrame, survey_items: pl.DataFrame, member_tiers: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """Survey indicators by tier group (core and active, occasional, periphery) for the
    quarter's waves: what members who rarely post report getting, beside the core.
    Unsuppressed here (the evaluator's view); the report shows the ledger's suppressed form."""
    _community, quarter = split_key(context)
    table = compute_value_by_tier(survey_responses, survey_items, member_tiers, quarter)
    groups = respondents_by_group(survey_responses, member_tiers, quarter)
    preview = table.select("item_id", "cycle", "tier_group", "respondents", "mean", "share_positive")
    return dg.Output(table, metadata={
        "dagster/row_count": table.height,
        "respondents_by_group": groups,
        "preview": dg.MetadataValue.md(markdown_table(preview, max_rows=60)),
    })


@dg.asset(
    partitions_def=community_quarter_partitions,
    group_name="stories",
    ins={"posts": ALL_TIME, "survey_responses": ALL_TIME, "survey_items": ALL_TIME},
)
@retry_transient_only
def stories(
    context: dg.AssetExecutionContext, posts: pl.DataFrame, survey_responses: pl.DataFrame, survey_items: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """Value-creation stories the report may quote: consented in the same wave only,
    scrubbed of names, schools, places, emails, phones, links and handles, each with the
    cycles it crosses; the furthest-reaching first."""
    _community, quarter = split_key(context)
    told = story_table(survey_responses, survey_items, quarter, posts)
    table = quotable_frame(quotable_stories(survey_responses, survey_items, quarter, posts))
    preview = table.select("story", pl.col("cycles").list.eval(pl.element().cast(pl.String)).list.join(","),
                           first_answer=pl.col("answers").list.first().struct.field("text").str.slice(0, 120))
    return dg.Output(table, metadata={
        "dagster/row_count": table.height,
        "stories_told": told.height,
        "consented": table.height,
        "not_consented": told.height - table.height,
        "preview": dg.MetadataValue.md(markdown_table(preview)),
    })


@dg.asset(
    partitions_def=community_quarter_partitions,
    group_name="ledger",
    ins={
        "posts": ALL_TIME, "coded_posts": ALL_TIME, "members": ALL_TIME,
        "survey_responses": ALL_TIME, "survey_items": ALL_TIME,
    },
    check_specs=[
        dg.AssetCheckSpec(
            "disclosure_control", asset="ledger", blocking=True,
            description="No visible count of fewer members than the threshold, no survey mean or share from too few respondents.",
        )
    ],
)
@retry_transient_only
def ledger(
    context: dg.AssetExecutionContext,
    settings: PipelineSettings,
    posts: pl.DataFrame,
    coded_posts: pl.DataFrame,
    members: pl.DataFrame,
    survey_responses: pl.DataFrame,
    survey_items: pl.DataFrame,
    member_tiers: pl.DataFrame,
):
    """The value-creation ledger: one row per indicator, with cycle, capital, evidence type,
    base n and suppression flag. Cycles without data get a 'no evidence collected' row."""
    community, quarter = split_key(context)
    config = _config(settings, community)
    instrument = load_instrument(config.survey.instrument)
    labels = {item.id: item.label or item.text for item in instrument.items}
    table = build_ledger(
        community, quarter, posts, coded_posts, members, survey_responses, survey_items,
        load_codebook(), config.suppression, labels, tiers=member_tiers, rules=config.tiers, scales=instrument.scale_scores,
    )
    preview = table.select("cycle", "indicator", "value", "n", "evidence_type", "suppressed")
    yield dg.Output(
        table,
        metadata={
            "dagster/row_count": table.height,
            "suppressed": table.filter(pl.col("suppressed")).height,
            "cycles_evidenced": sorted({c for c, v in table.select("cycle", "value").iter_rows() if v is not None}),
            "preview": dg.MetadataValue.md(markdown_table(preview, max_rows=400)),
        },
    )
    violations = disclosure_violations(table, config.suppression)
    yield dg.AssetCheckResult(
        check_name="disclosure_control",
        passed=violations.height == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        description="no cell discloses a small group" if violations.height == 0 else f"{violations.height} cells would disclose small groups",
        metadata={"violations": dg.MetadataValue.md(markdown_table(violations)), "thresholds": config.suppression.model_dump()},
    )


# The ledgers of this quarter and the three before it, of the same community; quarters
# before the community's data (or never materialized) are skipped, not an error.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)
    LAST_FOUR_QUARTERS = dg.MultiPartitionMapping({
        "community": dg.DimensionPartitionMapping("community", dg.IdentityPartitionMapping()),
        "quarter": dg.DimensionPartitionMapping(
            "quarter", dg.TimeWindowPartitionMapping(start_offset=-(TREND_QUARTERS - 1), allow_nonexistent_upstream_partitions=True)
        ),
    })


@dg.asset(
    partitions_def=community_quarter_partitions,
    group_name="ledger",
    ins={"ledger": dg.AssetIn(partition_mapping=LAST_FOUR_QUARTERS, metadata={"allow_missing_partitions": True})},
)
@retry_transient_only
def ledger_history(context: dg.AssetExecutionContext, ledger) -> dg.Output[pl.DataFrame]:
    """The headline indicators of this quarter and the three before it (from their
    disclosure-controlled ledgers): the report's trends and change since last quarter."""
    _community, quarter = split_key(context)
    if ledger is None:
        ledgers = []
    elif isinstance(ledger, pl.DataFrame):
        ledgers = [ledger]
    else:
        ledgers = list(ledger.values())
    history = ledger_history_rows(ledgers)
    quarters = sorted(set(history.get_column("quarter").to_list()))
    return dg.Output(history, metadata={
        "dagster/row_count": history.height,
        "quarters": quarters,
        "preview": dg.MetadataValue.md(markdown_table(
            history.pivot(on="quarter", index="indicator", values="value") if history.height else history
        )),
    })


@dg.asset(
    partitions_def=community_quarter_partitions,
    group_name="report",
    ins={"quarantine": ALL_TIME, "row_accounts": ALL_TIME, "coded_posts": ALL_TIME, "coding_agreement": ALL_TIME,
         "survey_items": ALL_TIME, "stories": dg.AssetIn(), "ledger_history": dg.AssetIn()},
    check_specs=[
        dg.AssetCheckSpec(
            "no_identifiers_in_report", asset="report",
            description="The text of the report and of its annex holds no email address, @handle or phone number.",
        )
    ],
)
@retry_transient_only
def report(
    context: dg.AssetExecutionContext,
    settings: PipelineSettings,
    ledger: pl.DataFrame,
    quarantine: pl.DataFrame,
    row_accounts: pl.DataFrame,
    coded_posts: pl.DataFrame,
    coding_agreement: pl.DataFrame,
    survey_items: pl.DataFrame,
    stories: pl.DataFrame,
    ledger_history: pl.DataFrame,
):
    """The quarterly evaluation report as a PDF for the funder, and its technical annex for
    evaluators (participation in detail, every indicator's method) as a second PDF beside
    it: tagged PDF/UA, ledger attached as CSV, written atomically. Paths and page counts
    are in the metadata."""
    community, quarter = split_key(context)
    config = _config(settings, community)
    # Defence in depth: the blocking ledger check ran before this step, but a report must
    # never render a ledger that discloses, whatever the run launched.
    violations = disclosure_violations(ledger, config.suppression)
    if violations.height:
        raise dg.Failure(
            description=f"not rendered: {violations.height} ledger cells would disclose small groups",
            metadata={"violations": dg.MetadataValue.md(markdown_table(violations))},
            allow_retries=False,
        )
    inputs = assemble_inputs(
        community, config, quarter, ledger, quarantine=quarantine, row_accounts=row_accounts, coded_posts=coded_posts,
        coding_agreement=coding_agreement, survey_items=survey_items, stories=stories, history=ledger_history,
    )
    html, annex_html = render_html(inputs), render_annex_html(inputs)
    target, annex_target = settings.report_path(community, quarter.label), settings.annex_path(community, quarter.label)
    result = write_pdf(inputs, target, html)
    annex = write_annex_pdf(inputs, annex_target, annex_html)
    leaked = [name for name, text in (("report", html), ("annex", annex_html)) if text != scrub_identities(text)]
    context.log.info(f"wrote {target} ({result['pages']} pages) and {annex_target} ({annex['pages']} pages)")
    yield dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(target)),
            "pages": result["pages"],
            "size_kb": round(result["bytes"] / 1024, 1),
            "annex_path": dg.MetadataValue.path(str(annex_target)),
            "annex_pages": annex["pages"],
            "refused_urls": len(result["refused_urls"]) + len(annex["refused_urls"]),
            "quarter": quarter.label,
        }
    )
    yield dg.AssetCheckResult(
        check_name="no_identifiers_in_report",
        passed=not leaked,
        severity=dg.AssetCheckSeverity.ERROR,
        description="no identifiers found" if not leaked
        else f"the text of the {' and the '.join(leaked)} contains an email, handle or phone number",
    )
