"""Trends: the headline indicators across quarters, and change since last quarter."""

import polars as pl

from value_pipeline.periods import Quarter
from value_pipeline.trends import change, ledger_history, trend_rows


def _ledger(quarter: str, rows: dict[str, tuple]) -> pl.DataFrame:
    """rows: indicator -> (value, unit, suppressed)."""
    return pl.DataFrame([
        {"community": "c", "quarter": quarter, "cycle": 1, "capital": None, "indicator": indicator, "label": indicator.title(),
         "value": None if suppressed else value, "unit": unit, "n": 40, "evidence_type": "behavioural", "source": "posts",
         "suppressed": suppressed, "method_note": ""}
        for indicator, (value, unit, suppressed) in rows.items()
    ])


LEDGERS = [
    _ledger("2026-Q1", {"posting_members": (30, "members", False), "questions_replied_share": (0.80, "share", False),
                        "members_by_tier:core": (3, "members", True)}),
    _ledger("2026-Q2", {"posting_members": (24, "members", False), "questions_replied_share": (0.90, "share", False),
                        "survey.imm_useful.agree": (None, "share", True)}),
    _ledger("2026-Q3", {"posting_members": (27, "members", False), "questions_replied_share": (0.85, "share", False),
                        "survey.imm_useful.agree": (0.61, "share", False)}),
]


def test_history_keeps_the_trend_indicators_of_every_quarter_oldest_first():
    history = ledger_history(reversed(LEDGERS))
    assert history.get_column("quarter").unique(maintain_order=True).to_list() == ["2026-Q1", "2026-Q2", "2026-Q3"]
    assert "members_by_tier:core" not in history.get_column("indicator").to_list()  # breakdowns stay in their report


def test_change_since_last_quarter_is_in_the_indicators_unit():
    quarters, rows = trend_rows(ledger_history(LEDGERS), Quarter(2026, 3))
    assert quarters == ["2026-Q1", "2026-Q2", "2026-Q3"]
    by_indicator = {row["indicator"]: row for row in rows}
    assert by_indicator["posting_members"]["change"] == 3
    assert round(by_indicator["questions_replied_share"]["change"], 6) == -0.05
    # last quarter's value was suppressed: no change, or 0.61 minus it could be recovered
    assert by_indicator["survey.imm_useful.agree"]["change"] is None
    assert [cell and cell["value"] for cell in by_indicator["survey.imm_useful.agree"]["cells"]] == [None, None, 0.61]


def test_a_quarter_without_history_and_windows_of_four():
    assert trend_rows(ledger_history([]), Quarter(2026, 3)) == ([], [])
    later = LEDGERS + [_ledger("2026-Q4", {"posting_members": (20, "members", False)}),
                       _ledger("2027-Q1", {"posting_members": (22, "members", False)})]
    quarters, rows = trend_rows(ledger_history(later), Quarter(2027, 1))
    assert quarters == ["2026-Q2", "2026-Q3", "2026-Q4", "2027-Q1"]
    assert change(None, {"value": 1.0, "unit": "members", "suppressed": False}) is None
