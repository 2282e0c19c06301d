"""Survey readers (Qualtrics, Google Forms) on the real samples, matched to a small instrument."""

import polars as pl
import pytest
from support import SAMPLES, needs_samples

from value_pipeline.ingest import google_forms, qualtrics
from value_pipeline.instrument import Instrument, load_instrument

QUALTRICS = SAMPLES / "qualtrics" / "qualtRics"
FORMS = SAMPLES / "google_forms" / "autistica"


def _instrument(items):
    return Instrument.model_validate({
        "id": "t", "version": 1, "title": "test",
        "scales": {"choice": {"min": 1, "max": 3, "labels": ["One", "Two", "Three"]}, "yes_no": {"min": 0, "max": 1, "labels": ["No", "Yes"]}},
        "items": items,
    })


QUALTRICS_ITEMS = _instrument([
    {"id": "mc", "text": "This is a multiple choice question.", "construct": "c", "cycle": 1, "scale": "choice"},
    {"id": "free", "text": "This is a free text question.", "construct": "story", "cycle": 1, "kind": "open", "evidence_type": "story"},
])


@needs_samples(QUALTRICS)
@pytest.mark.parametrize("name", ["sample.csv", "sample_legacy.csv"])
def test_qualtrics_current_and_legacy_layouts_match_items_by_question_text(name, context):
    result = qualtrics.read([QUALTRICS / name], context(instrument=QUALTRICS_ITEMS, timezone="Europe/Zurich"))
    answers = dict(result.responses.select("item_id", pl.coalesce(pl.col("value_num").cast(pl.String), "value_text")).iter_rows())
    assert answers == {"mc": "2.0", "free": "Hello World!"}
    submitted = result.responses.get_column("submitted_at")[0]
    # 2017-07-18 08:28:48 in Zurich (CEST, UTC+2), no zone in the ImportId row of this sample
    assert str(submitted) == "2017-07-18 06:28:48+00:00"
    assert all(account.balanced for account in result.accounts)


@needs_samples(FORMS)
def test_google_forms_sheet_export_with_newlines_in_cells(context):
    instrument = _instrument([
        {"id": "consent", "text": "I understand that the information I provide in this form will be made publicly available.",
         "construct": "consent", "kind": "consent", "scale": "yes_no"},
        {"id": "needs", "text": "Q1: What information would you like us to know about your needs, priorities, desires and concerns for the citizen science platform?",
         "construct": "story", "kind": "open", "evidence_type": "story"},
    ])
    result = google_forms.read([FORMS / "form_responses.csv"], context(instrument=instrument, timezone="Europe/London"))
    rows, answers = result.accounts
    assert rows.read == 42 and rows.accepted == 42
    assert answers.balanced
    consent = result.responses.filter(pl.col("item_id") == "consent")
    assert consent.height == 42 and consent.get_column("value_num").unique().to_list() == [1.0]
    # blank open answers are missing, not empty strings
    assert result.responses.filter(pl.col("item_id") == "needs").get_column("value_text").str.len_chars().min() > 0
    # M/D/YYYY with no zone: the community's timezone (BST in August)
    assert str(result.responses.sort("source_row").get_column("submitted_at")[0]) == "2019-08-21 12:10:31+00:00"
    assert len(result.unmatched_columns) == 2


def test_labels_missing_answers_and_out_of_scale_values(tmp_path, context, pseudonymizer):
    instrument = load_instrument()
    survey = tmp_path / "followup.csv"
    header = ["Timestamp", "Email Address", instrument.item("imm_useful").text, instrument.item("app_adapted").text]
    survey.write_text(
        ",".join(f'"{h}"' for h in header) + "\r\n"
        + '9/8/2026 19:02:11,ana@school.example,Strongly agree,Yes\r\n'
        + "9/9/2026 08:15:00,ben@school.example,Don't know,\r\n"
        + "9/9/2026 09:00:00,cy@school.example,7,No\r\n"
        + "9/10/2026 10:00:00,ana@school.example,Agree,Yes\r\n",
        encoding="utf-8",
    )
    result = google_forms.read([survey], context(instrument=instrument, timezone="America/New_York"))
    assert {r.unit: (r.read, r.accepted, r.quarantined) for r in result.accounts} == {
        "followup respondent row": (4, 3, 1), "followup answer": (4, 3, 1),
    }
    reasons = sorted(result.quarantine.get_column("reason").to_list())
    assert reasons == ["answer outside the item's scale (imm_useful)", "superseded by a later submission from the same respondent"]
    ana = result.responses.filter(pl.col("respondent_key") == pseudonymizer.key("email", "ana@school.example"))
    assert dict(ana.select("item_id", "value_num").iter_rows()) == {"imm_useful": 4.0, "app_adapted": 1.0}
    assert result.responses.get_column("wave").unique().to_list() == ["followup"]


@needs_samples(QUALTRICS)
def test_questions_the_instrument_does_not_map_are_kept_not_dropped(context):
    result = qualtrics.read([QUALTRICS / "sample.csv"], context())  # the default instrument knows none of them
    answers = dict(result.responses.select("item_id", "value_text").iter_rows())
    assert answers == {"unmapped:Q1": "2", "unmapped:Q2": "Hello World!"}
    items = result.extra_items
    assert items.get_column("item_id").to_list() == ["unmapped:Q1", "unmapped:Q2", "unmapped:Q2 - Topics"]
    assert items.get_column("cycle").null_count() == 3  # no indicator uses them until mapped
    # Qualtrics' own columns (names, emails, IP, location) never become answers
    assert not result.responses.get_column("item_id").str.contains("Recipient|IPAddress|Location").any()
