"""Ingest: a community folder's exports -> canonical tables, with blocking structural checks."""


import dagster as dg
import polars as pl

from assets.metadata import markdown_table, one_line
from assets.partitions import community_partitions
from assets.resources import PipelineSettings
from assets.retries import retry_transient_only
from value_pipeline.coding.community import agreement_frame, code_community
from value_pipeline.config import load_community_config
from value_pipeline.errors import InputError
from value_pipeline.ingest import read_community
from value_pipeline.ledger import reporting_quarters
from value_pipeline.quality.structural import (
    CheckOutcome,
    accounts_frame,
    check_accounts,
    check_members,
    check_posts,
    check_survey_responses,
)

CANONICAL = ["posts", "members", "survey_responses", "survey_items", "quarantine", "row_accounts"]


def _check_result(asset: str, outcome: CheckOutcome) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=outcome.name,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=outcome.description,
        metadata={"failing_ids": outcome.failing_ids, "problems": outcome.counts},
    )


@dg.multi_asset(
    partitions_def=community_partitions,
    group_name="ingest",
    outs={
        "posts": dg.AssetOut(description="Forum posts and replies, one row each, authors pseudonymized (canonical posts table)."),
        "members": dg.AssetOut(description="Members with join dates, roles and reading activity where the platform records it."),
        "survey_responses": dg.AssetOut(description="Survey answers in long form, respondents linked to members where possible."),
        "survey_items": dg.AssetOut(description="The survey instrument's items: construct, cycle, capital, scale, evidence type."),
        "quarantine": dg.AssetOut(description="Every row set aside by a reader, with its file, row and reason."),
        "row_accounts": dg.AssetOut(description="Rows read, accepted and quarantined per table: the balance sheet of ingest."),
    },
    check_specs=[
        dg.AssetCheckSpec("posts_contract", asset="posts", blocking=True,
                          description="Posts follow the canonical schema: unique ids, authors, times and parents present."),
        dg.AssetCheckSpec("members_contract", asset="members", blocking=True,
                          description="One row per member key."),
        dg.AssetCheckSpec("survey_responses_contract", asset="survey_responses", blocking=True,
                          description="One answer per respondent, wave and item; answers inside their scale."),
        dg.AssetCheckSpec("row_accounting", asset="row_accounts", blocking=True,
                          description="Every row read is accepted or quarantined: read = accepted + quarantined."),
    ],
)
@retry_transient_only
def canonical_tables(context: dg.AssetExecutionContext, settings: PipelineSettings):
    """Read every export in the community's folder (format detected from content) into the
    canonical tables of DESIGN.md. Bad input fails the run with one line naming the file."""
    community = context.partition_key
    try:
        data = read_community(settings.community_folder(community))
    except InputError as error:
        raise dg.Failure(
            description=one_line(error), metadata={"file": error.path or "", "problem": error.problem}, allow_retries=False
        ) from None
    summary = data.summary()
    reasons = pl.DataFrame(summary["quarantine_by_reason"], schema={"table": pl.String, "reason": pl.String, "rows": pl.Int64})
    accounts = accounts_frame(data.accounts)
    common = {
        "platforms": ", ".join(data.platforms),
        "quarters": [q.label for q in reporting_quarters(data.posts, data.survey_responses)],
    }
    yield dg.Output(
        data.posts, output_name="posts",
        metadata={
            **common,
            "dagster/row_count": data.posts.height,
            "threads": data.posts.get_column("thread_id").n_unique(),
            "authors": data.posts.get_column("author_key").n_unique(),
            "first_post": str(data.posts.get_column("created_at").min()),
            "last_post": str(data.posts.get_column("created_at").max()),
            "posts_by_channel": dg.MetadataValue.md(markdown_table(data.posts.group_by("channel").len().sort("len", descending=True))),
            # Identities never reach the tables; the preview shows structure, not post text.
            "preview": dg.MetadataValue.md(markdown_table(
                data.posts.sort("created_at").select("created_at", "channel", "title", "is_thread_start", "n_links", "n_reactions").head(10)
            )),
            "notes": "; ".join(data.notes) or "none",
        },
    )
    yield dg.Output(
        data.members, output_name="members",
        metadata={
            "dagster/row_count": data.members.height,
            "staff": data.members.filter(pl.col("is_staff")).height,
            "with_reading_data": data.members.filter(pl.col("posts_read").is_not_null()).height,
        },
    )
    responses = data.survey_responses
    yield dg.Output(
        responses, output_name="survey_responses",
        metadata={
            "dagster/row_count": responses.height,
            "respondents": responses.get_column("respondent_key").n_unique(),
            "linked_to_members": responses.get_column("member_key").drop_nulls().n_unique(),
            "waves": ", ".join(sorted(responses.get_column("wave").unique().to_list())),
            "unmatched_questions": dg.MetadataValue.md("\n".join(f"- {q}" for q in data.unmatched_questions) or "none"),
        },
    )
    yield dg.Output(data.survey_items, output_name="survey_items", metadata={"dagster/row_count": data.survey_items.height})
    yield dg.Output(
        data.quarantine, output_name="quarantine",
        metadata={"dagster/row_count": data.quarantine.height, "by_reason": dg.MetadataValue.md(markdown_table(reasons))},
    )
    yield dg.Output(
        accounts, output_name="row_accounts",
        metadata={"accounts": dg.MetadataValue.md(markdown_table(accounts)), "balanced": bool(summary["balanced"])},
    )
    yield _check_result("posts", check_posts(data.posts))
    yield _check_result("members", check_members(data.members))
    yield _check_result("survey_responses", check_survey_responses(data.survey_responses, data.survey_items))
    yield _check_result("row_accounts", check_accounts(data.accounts))


@dg.multi_asset(
    partitions_def=community_partitions,
    group_name="coding",
    outs={
        "coded_posts": dg.AssetOut(description="One primary interaction code per post (CODEBOOK.md's nine codes), with a confidence and the coder."),
        "coding_agreement": dg.AssetOut(description="How far the coder agrees with the community's hand-coded posts (kappa, alpha, rho)."),
    },
)
@retry_transient_only
def coded_posts(context: dg.AssetExecutionContext, settings: PipelineSettings, posts: pl.DataFrame):
    """Code every post with the best coder the community's hand codes support (the
    shipped model by default), and measure agreement where hand codes exist."""
    community = context.partition_key
    try:
        folder = settings.community_folder(community)
        result = code_community(posts, folder, load_community_config(folder).coding.kappa_threshold)
    except InputError as error:
        raise dg.Failure(description=one_line(error), allow_retries=False) from None
    coded = result.coded
    counts = coded.group_by("code").len().sort("len", descending=True)
    yield dg.Output(
        coded,
        output_name="coded_posts",
        metadata={
            "dagster/row_count": coded.height,
            # accounting for this stage: every post read gets exactly one code
            "posts_read": posts.height,
            "posts_coded": coded.get_column("post_id").n_unique(),
            "balanced": posts.height == coded.height == coded.get_column("post_id").n_unique(),
            "coder": result.coder,
            "codes": dg.MetadataValue.md(markdown_table(counts)),
            "mean_confidence": round(float(coded.get_column("confidence").mean() or 0), 3),
        },
    )
    table = agreement_frame(result)
    yield dg.Output(
        table,
        output_name="coding_agreement",
        metadata={
            "coder": result.coder,
            "hand_coded_posts": result.hand_coded,
            "kappa": round(result.agreement.kappa, 3) if result.agreement else "not measured",
            "note": result.note,
            "per_code": dg.MetadataValue.md(markdown_table(result.agreement.per_code)) if result.agreement else "_none_",
        },
    )
