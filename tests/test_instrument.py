"""The instrument: matching questions (exactly, then fuzzily), answer labels in several languages."""

import pytest
from pydantic import ValidationError

from value_pipeline.ingest import generic_survey
from value_pipeline.instrument import Scale, load_instrument, normalize_text

INSTRUMENT = load_instrument()


def test_questions_match_by_id_exact_text_and_similar_text():
    useful = INSTRUMENT.item("imm_useful").text
    assert INSTRUMENT.match_column("imm_useful", None) == "imm_useful"
    assert INSTRUMENT.match_column(None, useful.upper() + "  ") == "imm_useful"
    # a changed word and a typo still match
    assert INSTRUMENT.match_column(None, "Taking part in this community has been usefull for my teaching.") == "imm_useful"
    # nothing like any item, and short headings, stay unmatched
    assert INSTRUMENT.match_column(None, "Which grade levels do you teach?") is None
    assert INSTRUMENT.match_column(None, "Q7") is None


def test_an_ambiguous_question_stays_unmatched():
    # equally close to the two student-outcome items: better unmatched than wrong
    text = "Changes I made because of the community have improved my students"
    assert INSTRUMENT.match_column(None, text) is None


def test_labels_are_accent_and_case_insensitive():
    assert normalize_text("Très  d'ACCORD!") == "tres d accord"
    assert normalize_text("Stimme überhaupt nicht zu") == "stimme uberhaupt nicht zu"


def test_a_scale_may_not_give_one_answer_two_meanings():
    with pytest.raises(ValidationError, match="two points"):
        Scale(min=1, max=2, labels=["No", "Yes"], aliases=[["Nope"], ["no"]])


def test_answers_in_other_languages_numbered_labels_and_dont_know(tmp_path, context):
    useful, enjoy, relevant, adapted = (INSTRUMENT.item(i).text for i in ("imm_useful", "imm_enjoy", "imm_relevant", "app_adapted"))
    path = tmp_path / "followup.csv"
    path.write_text(
        f'submitted_at,email,"{useful}","{enjoy}","{relevant}","{adapted}"\n'
        "2026-09-10 19:00,a@s.example,Totalmente de acuerdo,Tout à fait d'accord,Stimme nicht zu,Sí\n"
        "2026-09-10 19:05,b@s.example,5 - Strongly agree,Strongly disagree (1),No sé,Não\n"
        "2026-09-10 19:10,c@s.example,Ne sais pas,-99,Neutral,Oui\n"
    )
    result = generic_survey.read([path], context())
    rows = {(row["source_row"], row["item_id"]): row["value_num"] for row in result.responses.iter_rows(named=True)}
    first, second, third = sorted({k for k, _ in rows})
    assert rows[(first, "imm_useful")] == 5 and rows[(first, "imm_enjoy")] == 5 and rows[(first, "imm_relevant")] == 2
    assert rows[(first, "app_adapted")] == 1
    assert rows[(second, "imm_useful")] == 5 and rows[(second, "imm_enjoy")] == 1 and rows[(second, "app_adapted")] == 0
    assert (second, "imm_relevant") not in rows  # "No sé" is missing, not zero
    assert (third, "imm_useful") not in rows and (third, "imm_enjoy") not in rows  # don't know, -99
    assert rows[(third, "imm_relevant")] == 3 and rows[(third, "app_adapted")] == 1
    assert result.quarantine.height == 0 and all(account.balanced for account in result.accounts)
