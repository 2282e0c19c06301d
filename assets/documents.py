"""The documents beside each community's report: the member-facing one-page summary
(community x quarter) and the funder's portfolio (quarter: every community it funds)."""

import re
import warnings

import dagster as dg
import polars as pl

from assets.metadata import one_line
from assets.partitions import (
    community_quarter_partitions,
    quarter_partitions,
    split_key,
)
from assets.resources import PipelineSettings
from assets.retries import retry_transient_only
from value_pipeline.config import load_community_config
from value_pipeline.errors import InputError
from value_pipeline.periods import Quarter
from value_pipeline.privacy import disclosure_violations
from value_pipeline.report.portfolio import (
    MemberSummaryInputs,
    PortfolioCommunity,
    PortfolioInputs,
    write_member_summary_pdf,
    write_portfolio_pdf,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)
    EVERY_COMMUNITY = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="quarter")


def funder_slug(name: str) -> str:
    """A file-name-safe form of a funder's name."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "funder"


@dg.asset(
    partitions_def=community_quarter_partitions,
    group_name="report",
)
@retry_transient_only
def member_summary(context: dg.AssetExecutionContext, settings: PipelineSettings, ledger: pl.DataFrame) -> dg.MaterializeResult:
    """A one-page summary the community can share with its members ("what we created
    together this quarter"): shared activity and what members reported, from the
    disclosure-controlled ledger, with no one named or quoted."""
    community, quarter = split_key(context)
    try:
        config = load_community_config(settings.community_folder(community))
    except InputError as error:
        raise dg.Failure(description=one_line(error), allow_retries=False) from None
    violations = disclosure_violations(ledger, config.suppression)
    if violations.height:
        raise dg.Failure(description=f"not rendered: {violations.height} ledger cells would disclose small groups", allow_retries=False)
    target = settings.member_summary_path(community, quarter.label)
    result = write_member_summary_pdf(
        MemberSummaryInputs(community, config.name, quarter, ledger,
                            coding_below=config.suppression.percent_coding_below, min_count=config.suppression.min_count),
        target,
    )
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(target)), "pages": result["pages"]})


@dg.asset(
    partitions_def=quarter_partitions,
    group_name="portfolio",
    # After the quarterly schedule's reports: once every community's ledger for the
    # quarter has updated since 08:00 on the quarter's first day.
    automation_condition=dg.AutomationCondition.on_cron("0 8 1 1,4,7,10 *"),
    ins={"ledger": dg.AssetIn(partition_mapping=EVERY_COMMUNITY, metadata={"allow_missing_partitions": True})},
)
@retry_transient_only
def portfolio_report(context: dg.AssetExecutionContext, settings: PipelineSettings, ledger) -> dg.MaterializeResult:
    """One PDF per funder for the quarter: every community it funds side by side (reach,
    headline per cycle, evidence coverage). Communities without a ledger this quarter are
    listed as missing, never silently left out."""
    quarter = Quarter.parse(context.partition_key)
    ledgers = [] if ledger is None else [ledger] if isinstance(ledger, pl.DataFrame) else list(ledger.values())
    by_community = {frame.get_column("community").first(): frame for frame in ledgers if frame.height}
    funders: dict[str, PortfolioInputs] = {}
    for folder in settings.community_folders():
        try:
            config = load_community_config(folder)
        except InputError as error:
            context.log.warning(f"portfolio leaves out {folder.name}: {one_line(error)}")
            continue
        name = config.funder
        portfolio = funders.setdefault(name, PortfolioInputs(funder=name, quarter=quarter, communities=[]))
        frame = by_community.get(folder.name)
        if frame is None:
            portfolio.missing.append(config.name)
            continue
        if disclosure_violations(frame, config.suppression).height:
            raise dg.Failure(description=f"not rendered: the ledger of {folder.name} would disclose small groups", allow_retries=False)
        portfolio.communities.append(PortfolioCommunity(folder.name, config.name, frame, config.suppression.percent_coding_below))
    written = {}
    for name, portfolio in sorted(funders.items()):
        if not portfolio.communities:
            continue
        target = settings.portfolio_path(funder_slug(name), quarter.label)
        result = write_portfolio_pdf(portfolio, target)
        written[name] = {"path": str(target), "communities": len(portfolio.communities), "pages": result["pages"],
                         "missing": portfolio.missing}
        context.log.info(f"wrote {target} ({len(portfolio.communities)} communities)")
    return dg.MaterializeResult(metadata={
        "portfolios": written,
        "funders": len(written),
    })
