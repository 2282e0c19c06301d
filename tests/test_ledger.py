"""The ledger: every cycle present, evidence types right, disclosure applied."""

from datetime import datetime, timezone

import polars as pl
from test_participation import MEMBERS, POSTS

from value_pipeline import schema
from value_pipeline.coding.codebook import load_codebook
from value_pipeline.coding.rules import code_posts
from value_pipeline.config import Suppression
from value_pipeline.instrument import load_instrument
from value_pipeline.ledger import NO_EVIDENCE, build_ledger
from value_pipeline.periods import Quarter

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
    survey = ledger.filter(pl.col("evidence_type") == "self_report")
    assert survey.height > 0 and survey.get_column("suppressed").all()
    assert survey.get_column("value").null_count() == survey.height
