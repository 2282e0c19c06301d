"""Parquet per asset partition, on local disk or any fsspec path (s3://, gs://).

A small UPathIOManager rather than dagster-polars: dagster-polars 0.27 cannot read its
own Parquet back on polars 2 (DESIGN.md, known incompatibilities), and this is all we use.
"""

from __future__ import annotations

import polars as pl
from dagster import Failure, InputContext, OutputContext, UPathIOManager
from upath import UPath


class PolarsParquetIOManager(UPathIOManager):
    """Stores each asset partition as one Parquet file: <base>/<asset>/<partition...>.parquet."""

    extension = ".parquet"

    def dump_to_path(self, context: OutputContext, obj: pl.DataFrame, path: UPath) -> None:
        if not isinstance(obj, pl.DataFrame):
            raise TypeError(f"{context.asset_key.to_user_string()} returned {type(obj).__name__}, expected a polars DataFrame")
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a crashed run never leaves a half-written partition.
        partial = path.with_name(path.name + ".part")
        with partial.open("wb") as handle:
            obj.write_parquet(handle)
        partial.rename(path)

    def load_from_path(self, context: InputContext, path: UPath) -> pl.DataFrame:
        with path.open("rb") as handle:
            return pl.read_parquet(handle)

    def load_input(self, context: InputContext):
        try:
            return super().load_input(context)
        except FileNotFoundError as error:
            # An upstream partition that was never stored will not appear on a retry: fail
            # at once (the jobs' retry policy is for transient errors), saying what is missing.
            name = context.asset_key.to_user_string() if context.has_asset_key else context.name
            partitions = ", ".join(context.asset_partition_keys) if context.has_asset_partitions else "-"
            raise Failure(
                description=f"{name} is not stored for partition {partitions}: materialize it first ({error.filename or error})",
                allow_retries=False,
            ) from None
