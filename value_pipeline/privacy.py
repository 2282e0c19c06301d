"""Protecting the people in the data: scrubbing identities and disclosure control.

Two jobs, both applied before anything reaches a report:
- `scrub_identities` removes emails, @handles, phone numbers and Slack/Discourse
  mention markup from free text (quarantine excerpts, survey answers);
- `apply_disclosure` suppresses ledger cells that could single people out, following
  FRAMEWORK.md's defaults (member counts under 10, survey means under 5 respondents),
  and `disclosure_violations` checks a ledger for anything that slipped through.
"""

from __future__ import annotations

import re

import polars as pl

from value_pipeline.config import Suppression

# (pattern, replacement), applied in order. The patterns are written in the syntax that
# Python's re and polars' Rust regex share (no look-around), so the two versions below
# can never drift apart; `{1}` in a replacement is the first group, kept as it was.
_SCRUB_RULES: list[tuple[str, str]] = [
    (r"(?i)[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}", "[email]"),
    (r"<@[A-Z0-9]+(?:\|[^>]*)?>", "[member]"),  # Slack mention markup
    (r"(^|[\s(\[])@[A-Za-z0-9_.\-]{2,}", "{1}[member]"),  # @handle
    (r"(?:\+?1[\s.\-]?)?\(?\b\d{3}\)?[\s.\-]\d{3}[\s.\-]\d{4}\b", "[phone]"),
    (r"\b\d{3}[\s.\-]\d{4}\b", "[phone]"),  # local 7-digit numbers (555-0142)
]
_COMPILED = [(re.compile(pattern), replacement.replace("{1}", r"\1")) for pattern, replacement in _SCRUB_RULES]


def scrub_identities(text: str | None) -> str | None:
    """Text with emails, @handles, mentions and phone numbers replaced by [email] etc."""
    if text is None:
        return None
    for pattern, replacement in _COMPILED:
        text = pattern.sub(replacement, text)
    return text


def scrub_expr(expr: pl.Expr) -> pl.Expr:
    """The same scrubbing as a polars expression (vectorized over a column)."""
    for pattern, replacement in _SCRUB_RULES:
        expr = expr.str.replace_all(pattern, replacement.replace("{1}", "${1}"))
    return expr


# ---------------------------------------------------------------- disclosure control
PEOPLE_UNITS = ("members", "respondents", "stories")
# Statistics over a group of people (a share of newcomers, the median days members
# waited to post): `n` counts people, so a small group is suppressed like a small count.
PEOPLE_STATISTIC_UNITS = ("member_share", "member_days")


def _too_small(suppression: Suppression) -> pl.Expr:
    """Ledger cells that could single people out under the thresholds."""
    people = pl.col("unit").is_in(PEOPLE_UNITS)
    self_report = pl.col("evidence_type") == "self_report"
    return (
        # a count of people between 1 and min_count - 1
        (people & (pl.col("value") > 0) & (pl.col("value") < suppression.min_count))
        # a statistic describing fewer people than a count may show
        | (pl.col("unit").is_in(PEOPLE_STATISTIC_UNITS) & (pl.col("n") < suppression.min_count))
        # a survey mean from too few respondents
        | (self_report & pl.col("unit").is_in(["mean", "mean_change", "index"]) & (pl.col("n") < suppression.min_respondents_mean))
        # a survey share is a distribution: it needs the larger group
        | (self_report & (pl.col("unit") == "share") & (pl.col("n") < suppression.min_respondents_distribution))
    ).fill_null(False)


def apply_disclosure(ledger: pl.DataFrame, suppression: Suppression) -> pl.DataFrame:
    """Mark and blank the ledger cells that could identify members.

    Suppressed (value and, when under `min_count`, base n blanked): counts of people
    under `min_count` (zero is shown: it discloses no one), statistics over fewer
    people than that (a share of newcomers), survey means from fewer than `min_respondents_mean` respondents, survey
    shares from fewer than `min_respondents_distribution`. Then complementary
    suppression: in a breakdown of people (`group:part` indicators such as
    `members_by_tier:core`, whose total is shown elsewhere), a lone suppressed cell
    takes the next-smallest cell with it, so it cannot be recovered by subtraction.
    """
    if ledger.height == 0:
        return ledger
    marked = ledger.with_columns(suppressed=pl.col("suppressed").fill_null(False) | _too_small(suppression))
    marked = _complementary(marked)
    return marked.with_columns(
        value=pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("value")),
        # a suppressed cell's base would give the small group's size away
        n=pl.when(pl.col("suppressed") & (pl.col("n") < suppression.min_count)).then(None).otherwise(pl.col("n")),
    )


def _breakdowns(indicator: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """The groups a people breakdown cell belongs to: `group:part` cells form one line
    (its total is shown elsewhere); `table:row:column` cells (a transition matrix) form
    a row and a column, each with a known total."""
    parts = indicator.str.split(":")
    n_parts = parts.list.len()
    first = parts.list.first()
    line = pl.when(n_parts == 2).then(first).when(n_parts == 3).then(first + ":row:" + parts.list.get(1, null_on_oob=True))
    column = pl.when(n_parts == 3).then(first + ":column:" + parts.list.get(2, null_on_oob=True))
    return line, column


def _complementary(ledger: pl.DataFrame) -> pl.DataFrame:
    """Suppress a second cell in any people breakdown (a line, or a row or column of a
    table) that has exactly one suppressed cell, until none has: a lone suppressed
    cell could be recovered by subtraction from the total."""
    line, column = _breakdowns(pl.col("indicator"))
    frame = ledger.with_row_index("_row").with_columns(
        _line=pl.when(pl.col("unit").is_in(PEOPLE_UNITS)).then(line),
        _column=pl.when(pl.col("unit").is_in(PEOPLE_UNITS)).then(column),
    )
    while True:
        cells = pl.concat([
            frame.select("_row", "suppressed", "value", _group="_line"),
            frame.select("_row", "suppressed", "value", _group="_column"),
        ]).filter(pl.col("_group").is_not_null())
        lone = cells.group_by("_group").agg(n_suppressed=pl.col("suppressed").sum()).filter(pl.col("n_suppressed") == 1)
        extra = (
            cells.filter(pl.col("_group").is_in(lone.get_column("_group").implode()) & ~pl.col("suppressed") & (pl.col("value") > 0))
            .sort("value", "_row")
            .group_by("_group", maintain_order=True)
            .first()
            .get_column("_row")
        )
        if extra.len() == 0:
            break
        frame = frame.with_columns(suppressed=pl.col("suppressed") | pl.col("_row").is_in(extra.implode()))
    return frame.drop("_row", "_line", "_column")


def disclosure_violations(ledger: pl.DataFrame, suppression: Suppression) -> pl.DataFrame:
    """Ledger rows that would disclose too much if rendered (empty when the ledger is safe)."""
    visible = ledger.filter(~pl.col("suppressed") & pl.col("value").is_not_null())
    return visible.filter(_too_small(suppression)).select("indicator", "value", "n", "unit")


def format_share(value: float | None, n: int | None, coding_below: int) -> str:
    """A percentage for a report: top/bottom-coded ("<5%", ">95%") when the group is small."""
    if value is None:
        return "suppressed"
    percent = 100 * value
    if n is not None and n < coding_below:
        if percent < 5:
            return "<5%"
        if percent > 95:
            return ">95%"
    return f"{percent:.0f}%"


# Spreadsheet formula injection: a cell beginning with one of these is run as a formula
# when a CSV is opened in Excel or Sheets (=HYPERLINK(...), +cmd|..., @SUM(...)).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells that a spreadsheet would run as formulas, prefixed with ' so they stay text.

    Applied to every CSV the pipeline writes for people to open (ledger attachments,
    coding samples); numbers are left alone, so -0.5 stays a number.
    """
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        [
            pl.when(pl.any_horizontal([pl.col(name).str.starts_with(prefix) for prefix in _FORMULA_START]))
            .then(pl.lit("'") + pl.col(name))
            .otherwise(pl.col(name))
            .alias(name)
            for name in text_columns
        ]
    )
