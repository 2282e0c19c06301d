"""The ledger: every cycle present, evidence types right, disclosure applied."""

from datetime import datetime, timezone

import polars as pl
import pytest
from forum_fixtures import MEMBERS, POSTS

from value_pipeline import schema
from value_pipeline.coding.codebook import load_codebook
from value_pipeline.coding.rules import code_posts
from value_pipeline.config import Suppression
from value_pipeline.instrument import load_instrument
from value_pipeline.ledger import NO_EVIDENCE, build_ledger
from value_pipeline.periods import Quarter
from value_pipeline.privacy import disclosure_violations

INSTRUMENT = load_instrument()
LABELS = {item.id: item.label or item.text for item in INSTRUMENT.items}


def _responses(n_respondents: int, quarter_day: datetime):
    rows = []
    for i in range(n_respondents):
        for item, value in (("imm_useful", 4.0 + (i % 2)), ("app_adapted", float(i % 3 == 0)), ("refr_success", 3.0)):
            rows.append({"community": "c", "wave": "followup", "respondent_key": f"r{i}", "member_key": None,
                         "submitted_at": quarter_day, "item_id": item, "value_num": value, "consent_to_quote": False})
        rows.append({"community": "c", "wave": "followup", "respondent_key": f"r{i}", "submitted_at": quarter_day,
                     "item_id": "story_used", "value_text": "I used the card sort with my 7th graders", "consent_to_quote": True})
    return schema.conform(pl.DataFrame(rows), schema.SURVEY_RESPONSES)


def _ledger(responses, quarter=None):
    return build_ledger("c", quarter or Quarter(2026, 1), POSTS, code_posts(POSTS), MEMBERS, responses, INSTRUMENT.items_frame(),
                        load_codebook(), Suppression(), LABELS)


def test_forum_only_quarter_says_no_evidence_for_cycles_4_and_5():
    ledger = _ledger(schema.empty(schema.SURVEY_RESPONSES))
    assert schema.check_conforms(ledger, schema.LEDGER) == []
    no_evidence = ledger.filter(pl.col("indicator") == NO_EVIDENCE).get_column("cycle").to_list()
    assert no_evidence == [4, 5]
    # forum evidence never claims cycles 4-5, and its only cycle-3 figure is the weak signal
    behavioural = ledger.filter(pl.col("evidence_type") == "behavioural")
    assert set(behavioural.get_column("cycle")) <= {1, 2, 3}
    assert behavioural.filter(pl.col("cycle") == 3).get_column("indicator").to_list() == ["practice_reports"]
    assert ledger.filter(pl.col("indicator") == "posts").get_column("value").item() == 12


def test_small_member_counts_are_suppressed_in_the_ledger():
    ledger = _ledger(schema.empty(schema.SURVEY_RESPONSES))
    posting = ledger.filter(pl.col("indicator") == "posting_members")
    assert posting.get_column("suppressed").item() and posting.get_column("value").item() is None


def test_survey_quarter_evidences_every_cycle_with_self_report_and_stories():
    ledger = _ledger(_responses(12, datetime(2026, 3, 10, tzinfo=timezone.utc)))
    assert ledger.filter(pl.col("indicator") == NO_EVIDENCE).height == 0
    useful = ledger.filter(pl.col("indicator") == "survey.imm_useful.agree")
    assert useful.get_column("value").item() == 1.0 and useful.get_column("n").item() == 12
    adapted = ledger.filter(pl.col("indicator") == "survey.app_adapted.yes")
    assert adapted.get_column("value").item() == 4 / 12 and adapted.get_column("cycle").item() == 3
    stories = ledger.filter(pl.col("indicator") == "stories_reaching_cycle_3")
    assert stories.get_column("value").item() == 12 and stories.get_column("evidence_type").item() == "story"


def test_too_few_respondents_suppresses_survey_figures():
    ledger = _ledger(_responses(4, datetime(2026, 3, 10, tzinfo=timezone.utc)))
    # every survey figure is suppressed, except respondent counts of zero (they disclose no one)
    survey = ledger.filter((pl.col("evidence_type") == "self_report") & ~((pl.col("unit") == "respondents") & (pl.col("value") == 0)))
    assert survey.height > 0 and survey.get_column("suppressed").all()
    assert survey.get_column("value").null_count() == survey.height
    # and no suppressed row gives away the small group's size as its base
    assert survey.get_column("n").null_count() == survey.height


def test_participation_figures_are_ledger_rows_with_cycle_and_evidence():
    ledger = _ledger(schema.empty(schema.SURVEY_RESPONSES))
    rows = {row["indicator"]: row for row in ledger.iter_rows(named=True)}
    expected_cycle = {
        "top1_post_share": 1, "members_writing_half_share": 1, "lorenz:50": 1, "questions_answered_share": 1,
        "responsiveness:science:questions_asked": 1, "responsiveness:general:unanswered_threads": 1,
        "median_reply_depth": 1, "tier_transition:joined:core": 1, "tier_movement:moved_up": 1, "newcomer_retention": 1,
        "days_to_first_post_median": 1, "network_density": 2, "network_broker_share": 2, "newcomers_answered_by_peers": 2,
        "threads_with_reflection": 2, "unprompted_share_of_sharing": 2,
    }
    for indicator, cycle in expected_cycle.items():
        assert rows[indicator]["cycle"] == cycle and rows[indicator]["evidence_type"] == "behavioural", indicator
    assert rows["network_density"]["capital"] == "social" and rows["threads_with_reflection"]["capital"] == "human"
    # fixture: 6 members, ana alone writes half: one member of six
    assert rows["members_writing_half_share"]["value"] == 1 / 6
    assert rows["lorenz:50"]["value"] == 0.1
    assert rows["network_density"]["value"] == 0.5
    # four newcomers: a share of four people is suppressed, base included
    assert rows["newcomers_answered_by_peers"]["suppressed"] and rows["newcomers_answered_by_peers"]["n"] is None
    assert disclosure_violations(ledger, Suppression()).height == 0


def test_value_by_tier_rows_carry_the_items_cycle():
    responses = _responses(12, datetime(2026, 3, 10, tzinfo=timezone.utc)).with_columns(
        member_key=pl.when(pl.col("respondent_key").is_in(["r0", "r1", "r2"])).then(pl.lit("ana")).otherwise(pl.lit("eve"))
    )
    ledger = _ledger(responses)
    rows = {row["indicator"]: row for row in ledger.iter_rows(named=True)}
    # r0-r2 link to ana (core), the other nine to eve (peripheral)
    periphery = rows["survey_by_tier.imm_useful.periphery.mean"]
    assert periphery["n"] == 9 and periphery["cycle"] == 1 and not periphery["suppressed"]
    assert periphery["value"] == pytest.approx(sum(4 + i % 2 for i in range(3, 12)) / 9)  # r3..r11 answer 4 + (i % 2)
    assert rows["survey_by_tier.imm_useful.periphery.agree"]["suppressed"]  # a share needs 10
    assert rows["survey_by_tier.app_adapted.core_active.yes"]["suppressed"]
    assert rows["respondents_by_tier:periphery"]["suppressed"] and rows["respondents_by_tier:unlinked"]["value"] == 0


def test_scale_rows_and_paired_change_between_waves():
    def wave(name, day, shift):
        # 12 respondents answer the three immediate-value items: 3, 4, 3 (+ shift in the followup)
        return schema.conform(pl.DataFrame([
            {"community": "c", "wave": name, "respondent_key": f"r{i}", "submitted_at": day, "item_id": item,
             "value_num": value + shift + (i % 2), "consent_to_quote": False}
            for i in range(12) for item, value in (("imm_useful", 3.0), ("imm_enjoy", 3.0), ("imm_relevant", 2.0))
        ]), schema.SURVEY_RESPONSES)

    responses = pl.concat([wave("baseline", datetime(2026, 1, 20, tzinfo=timezone.utc), 0.0),
                           wave("followup", datetime(2026, 3, 10, tzinfo=timezone.utc), 1.0)])
    ledger = build_ledger("c", Quarter(2026, 1), POSTS, code_posts(POSTS), MEMBERS, responses,
                          INSTRUMENT.items_frame(), load_codebook(), Suppression(), LABELS, scales=INSTRUMENT.scale_scores)
    rows = {row["indicator"]: row for row in ledger.iter_rows(named=True)}
    # followup scores: (4 + 4 + 3) / 3 for even respondents, (5 + 5 + 4) / 3 for odd: mean 12.5 / 3
    assert rows["scale.immediate_value.mean"]["value"] == pytest.approx(12.5 / 3) and rows["scale.immediate_value.mean"]["n"] == 12
    assert rows["scale.immediate_value.alpha"]["value"] == pytest.approx(1.0)  # items move together exactly
    # everyone rose by exactly 1: mean change +1, no spread, so no effect size
    change = rows["change.immediate_value.mean_difference"]
    assert change["value"] == pytest.approx(1.0) and change["n"] == 12 and change["cycle"] == 1
    assert rows["change.immediate_value.ci_low"]["value"] == pytest.approx(1.0)
    assert rows["change.immediate_value.effect_size"]["value"] is None
    assert rows["response_rate:imm_useful"]["value"] == 1.0 and rows["response_rate:hum_skills"]["value"] == 0.0
    assert "scale.human_capital.mean" in rows and rows["scale.human_capital.mean"]["value"] is None  # nobody answered it
    assert all(row["evidence_type"] == "self_report" for name, row in rows.items() if name.startswith(("scale.", "change.")))
