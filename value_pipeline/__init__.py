"""value_pipeline: the domain core.

Plain Python over polars frames: readers for platform exports, validation, interaction
coding, participation and survey measures, the value-creation ledger and report
rendering. It never imports dagster; the Dagster layer lives in the `assets` package.
"""

__version__ = "0.1.0"
