"""Quarters: the reporting period of every period table and report.

A quarter is named like `2026-Q1` in reports and keyed by its first day
(`2026-01-01`) in Dagster's time-window partitions. Quarters are UTC calendar quarters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import polars as pl


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1..4

    @classmethod
    def parse(cls, text: str) -> "Quarter":
        """`2026-Q1`, or a date inside the quarter (`2026-01-01`, the partition key)."""
        text = text.strip()
        if "-Q" in text.upper():
            year, number = text.upper().split("-Q")
            quarter = cls(int(year), int(number))
        else:
            day = date.fromisoformat(text[:10])
            quarter = cls(day.year, (day.month - 1) // 3 + 1)
        if not 1 <= quarter.number <= 4:
            raise ValueError(f"not a quarter: {text}")
        return quarter

    @classmethod
    def containing(cls, moment: date | datetime) -> "Quarter":
        return cls(moment.year, (moment.month - 1) // 3 + 1)

    @property
    def label(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, 3 * self.number - 2, 1, tzinfo=timezone.utc)

    @property
    def end(self) -> datetime:
        """Exclusive end: the first instant of the next quarter."""
        return self.next().start

    @property
    def last_day(self) -> datetime:
        """The first instant of the quarter's last day: what a report on it is dated by."""
        return self.end - timedelta(days=1)

    @property
    def partition_key(self) -> str:
        return self.start.date().isoformat()

    @property
    def months(self) -> str:
        names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        first = 3 * self.number - 3
        return f"{names[first]}-{names[first + 2]} {self.year}"

    def next(self) -> "Quarter":
        return Quarter(self.year + self.number // 4, self.number % 4 + 1)

    def previous(self) -> "Quarter":
        return Quarter(self.year - (self.number == 1), (self.number - 2) % 4 + 1)

    def __str__(self) -> str:
        return self.label


def in_quarter(column: str, quarter: Quarter) -> pl.Expr:
    """Rows whose timestamp column falls inside the quarter."""
    return (pl.col(column) >= quarter.start) & (pl.col(column) < quarter.end)


def quarter_label(column: str) -> pl.Expr:
    """`2026-Q1` for each timestamp in a column."""
    return pl.format("{}-Q{}", pl.col(column).dt.year(), pl.col(column).dt.quarter())


def quarters_with_data(*timestamps: pl.Series) -> list[Quarter]:
    """Every quarter from the first to the last timestamp given (gaps included)."""
    values = [s.drop_nulls() for s in timestamps if s is not None and s.drop_nulls().len()]
    if not values:
        return []
    first = Quarter.containing(min(s.min() for s in values))
    last = Quarter.containing(max(s.max() for s in values))
    quarters = [first]
    while quarters[-1] < last:
        quarters.append(quarters[-1].next())
    return quarters
