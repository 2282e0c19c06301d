import polars as pl

from value_pipeline.config import Suppression
from value_pipeline.privacy import (
    apply_disclosure,
    disclosure_violations,
    format_share,
    scrub_expr,
    scrub_identities,
)


def test_scrub_removes_emails_handles_mentions_and_phones():
    text = "Email jo.smith@lincoln-ms.example or ping @jsmith_sci, <@U123|bob>, call (303) 555-0142 or 555-0188."
    scrubbed = scrub_identities(text)
    assert scrubbed == "Email [email] or ping [member], [member], call [phone] or [phone]."


def test_polars_scrub_matches_python_scrub():
    texts = ["a@b.example x", "hi @sam_t!", "no identifiers, 3,500 pages on 2026-01-14", "(719) 555-0187", None]
    scrubbed = pl.DataFrame({"t": texts}).select(scrub_expr(pl.col("t"))).to_series().to_list()
    assert scrubbed == [scrub_identities(t) for t in texts]


def _ledger(rows):
    base = {"cycle": 1, "capital": None, "label": "x", "source": "s", "method_note": "m", "suppressed": False}
    return pl.DataFrame([{**base, **row} for row in rows])


def test_small_member_counts_and_small_survey_groups_are_suppressed():
    ledger = _ledger([
        {"indicator": "posting_members", "value": 7.0, "unit": "members", "n": 40, "evidence_type": "behavioural"},
        {"indicator": "members_total", "value": 40.0, "unit": "members", "n": 40, "evidence_type": "behavioural"},
        {"indicator": "zero", "value": 0.0, "unit": "members", "n": 40, "evidence_type": "behavioural"},
        {"indicator": "survey.a.mean", "value": 4.1, "unit": "mean", "n": 4, "evidence_type": "self_report"},
        {"indicator": "survey.b.mean", "value": 3.9, "unit": "mean", "n": 5, "evidence_type": "self_report"},
        {"indicator": "survey.b.agree", "value": 0.6, "unit": "share", "n": 9, "evidence_type": "self_report"},
        {"indicator": "posts", "value": 3.0, "unit": "posts", "n": 3, "evidence_type": "behavioural"},
    ])
    result = apply_disclosure(ledger, Suppression())
    suppressed = dict(result.select("indicator", "suppressed").iter_rows())
    assert suppressed == {
        "posting_members": True, "members_total": False, "zero": False,
        "survey.a.mean": True, "survey.b.mean": False, "survey.b.agree": True, "posts": False,
    }
    assert result.filter(pl.col("suppressed")).get_column("value").null_count() == 3
    assert disclosure_violations(result, Suppression()).height == 0
    assert disclosure_violations(ledger, Suppression()).height == 3


def test_complementary_suppression_hides_a_second_tier():
    ledger = _ledger([
        {"indicator": "members_by_tier:core", "value": 4.0, "unit": "members", "n": 60, "evidence_type": "behavioural"},
        {"indicator": "members_by_tier:active", "value": 12.0, "unit": "members", "n": 60, "evidence_type": "behavioural"},
        {"indicator": "members_by_tier:peripheral", "value": 30.0, "unit": "members", "n": 60, "evidence_type": "behavioural"},
        {"indicator": "members_by_tier:inactive", "value": 14.0, "unit": "members", "n": 60, "evidence_type": "behavioural"},
    ])
    result = apply_disclosure(ledger, Suppression())
    hidden = result.filter(pl.col("suppressed")).get_column("indicator").to_list()
    # core (4) is under 10; the next smallest, active (12), goes too, so 60 - shown != core
    assert sorted(hidden) == ["members_by_tier:active", "members_by_tier:core"]


def test_a_transition_matrix_is_protected_by_row_and_by_column():
    # from\to      core  active
    #   core        12     3       (row total and column totals are shown elsewhere)
    #   active      15    20
    cells = {("core", "core"): 12.0, ("core", "active"): 3.0, ("active", "core"): 15.0, ("active", "active"): 20.0}
    ledger = _ledger([
        {"indicator": f"tier_transition:{a}:{b}", "value": v, "unit": "members", "n": 50, "evidence_type": "behavioural"}
        for (a, b), v in cells.items()
    ])
    hidden = apply_disclosure(ledger, Suppression()).filter(pl.col("suppressed")).get_column("indicator").to_list()
    # core->active (3) is small; its row takes core->core (12), its column takes active->active (20),
    # and then active->core (15) goes with them: every row and column has two hidden cells
    assert sorted(hidden) == sorted(f"tier_transition:{a}:{b}" for a, b in cells)


def test_statistics_over_few_people_are_suppressed_with_their_base():
    ledger = _ledger([
        {"indicator": "newcomer_retention", "value": 0.5, "unit": "member_share", "n": 6, "evidence_type": "behavioural"},
        {"indicator": "days_to_first_post_median", "value": 3.5, "unit": "member_days", "n": 12, "evidence_type": "behavioural"},
        {"indicator": "questions_replied_share", "value": 0.5, "unit": "share", "n": 6, "evidence_type": "behavioural"},
    ])
    result = {row["indicator"]: row for row in apply_disclosure(ledger, Suppression()).iter_rows(named=True)}
    assert result["newcomer_retention"]["suppressed"] and result["newcomer_retention"]["n"] is None
    assert not result["days_to_first_post_median"]["suppressed"] and result["days_to_first_post_median"]["n"] == 12
    assert not result["questions_replied_share"]["suppressed"]  # six questions are threads, not people


def test_percentages_are_top_and_bottom_coded_for_small_groups():
    assert format_share(0.97, 30, 50) == ">95%"
    assert format_share(0.02, 30, 50) == "<5%"
    assert format_share(0.97, 80, 50) == "97%"
    assert format_share(None, 30, 50) == "suppressed"


def test_csv_cells_that_spreadsheets_would_run_become_text():
    from value_pipeline.privacy import spreadsheet_safe

    frame = pl.DataFrame({"label": ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "@SUM(1)", "fine", None],
                          "value": [-0.5, 1.0, 2.0, 3.0, 4.0]})
    safe = spreadsheet_safe(frame)
    assert safe.get_column("label").to_list() == [
        '\'=HYPERLINK("http://evil.example","x")', "'+cmd|' /C calc'!A0", "'@SUM(1)", "fine", None,
    ]
    assert safe.get_column("value").to_list() == [-0.5, 1.0, 2.0, 3.0, 4.0]
