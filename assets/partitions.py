"""Partitions: communities (dynamic, registered by the exports sensor) and quarters.

All-time tables (posts, members, survey responses, coded posts) are partitioned by
community; period tables (tiers, ledger, report) by community x quarter. Build multi
keys with MultiPartitionKey: Dagster orders dimensions by name.
"""

from __future__ import annotations

import warnings

import dagster as dg

from value_pipeline.periods import Quarter

FIRST_QUARTER = "2025-01-01"

community_partitions = dg.DynamicPartitionsDefinition(name="community")
quarter_partitions = dg.TimeWindowPartitionsDefinition(
    start=FIRST_QUARTER,
    cron_schedule="0 0 1 */3 *",  # the first instant of each calendar quarter, UTC
    fmt="%Y-%m-%d",
    timezone="UTC",
)
community_quarter_partitions = dg.MultiPartitionsDefinition(
    {"community": community_partitions, "quarter": quarter_partitions}
)
# Period assets read all-time tables of their community. The mapping is marked beta;
# it is the documented way to map one dimension of a multi-partition to its own asset.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)
    by_community = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="community")


def community_quarter_key(community: str, quarter: Quarter) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"community": community, "quarter": quarter.partition_key})


def split_key(context: dg.AssetExecutionContext) -> tuple[str, Quarter]:
    """(community slug, Quarter) of a community x quarter run."""
    keys = context.partition_key.keys_by_dimension
    return keys["community"], Quarter.parse(keys["quarter"])
