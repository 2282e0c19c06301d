"""Helpers that turn core results into metadata an evaluator reads in the Dagster UI."""

from __future__ import annotations

import polars as pl

MAX_ROWS = 40


def markdown_table(frame: pl.DataFrame, max_rows: int = MAX_ROWS) -> str:
    """A small frame as a Markdown table (the UI renders it); long frames are cut with a note."""
    if frame.height == 0:
        return "_none_"
    shown = frame.head(max_rows)
    header = "| " + " | ".join(shown.columns) + " |"
    rule = "|" + "|".join("---" for _ in shown.columns) + "|"
    rows = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in shown.iter_rows()]
    more = [f"\n_{frame.height - max_rows} more rows not shown_"] if frame.height > max_rows else []
    return "\n".join([header, rule, *rows, *more])


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def one_line(error: Exception) -> str:
    return " ".join(str(error).split())
