"""LimeSurvey response exports (CSV, code or full-text headings), on a fixture built from the documented layout."""

from pathlib import Path

import polars as pl
import pytest
from support import SAMPLES, needs_samples

from value_pipeline.errors import InputError
from value_pipeline.ingest import limesurvey
from value_pipeline.ingest.detect import Sniff

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "limesurvey"
EXPORT = FIXTURES / "results-survey482915.csv"
QUALTRICS = SAMPLES / "qualtrics" / "qualtRics" / "sample.csv"
FORMS = SAMPLES / "google_forms" / "autistica" / "form_responses.csv"
SURVEYMONKEY = FIXTURES.parent / "surveymonkey" / "baseline_survey.csv"
# The fixture's questions carry LimeSurvey's default codes: community.yaml maps them.
ITEMS = {
    "G01Q01[SQ001]": "imm_useful", "G01Q01[SQ002]": "hum_skills", "G01Q01[SQ003]": "soc_isolation",
    "G01Q02": "app_adapted", "G02Q04": "story_activity", "G02Q05": "consent_quote",
}
IDENTITIES = [
    "dana.reyes@school.example", "eli.novak@school.example", "farah.haddad@school.example",
    "Dana", "Reyes", "Novak", "Farah", "Haddad", "Lindqvist", "x7Kq2mPz", "Qa93LmTe", "R5tWz8Nc", "Hb2Vn6Ys",
    "192.0.2.15", "192.0.2.33", "192.0.2.48", "192.0.2.71",
]
HEADER = '"id","submitdate","lastpage","startlanguage","seed","startdate","datestamp","token","email"'


def _read(context, path=EXPORT, options=None, **settings):
    settings.setdefault("waves", {path.name: "midpoint"})
    return limesurvey.read([path], context(timezone="Europe/Berlin", options={"items": ITEMS, **(options or {})}, **settings))


def _answers(result, key):
    rows = result.responses.filter(pl.col("respondent_key") == key)
    return dict(rows.select("item_id", pl.coalesce(pl.col("value_num").cast(pl.String), "value_text")).iter_rows())


def _all_text(*frames: pl.DataFrame) -> str:
    return "\n".join(
        str(value) for frame in frames for row in frame.cast({c: pl.String for c in frame.columns}).iter_rows() for value in row
    )


def test_codes_become_scale_values_and_respondents_are_keyed_by_email(context, pseudonymizer):
    result = _read(context)
    dana = pseudonymizer.key("email", "dana.reyes@school.example")
    # Dana answered twice (same access code): her later response counts.
    assert _answers(result, dana) == {
        "imm_useful": "5.0", "hum_skills": "5.0", "soc_isolation": "4.0",  # A5, A5, A4
        "app_adapted": "1.0", "consent_quote": "1.0",  # Y, Y
        "story_activity": "The exit-ticket template, which I now use every Friday.",
        "unmapped:G01Q03": "A2",  # unmapped questions keep their codes
    }
    times = result.responses.filter(pl.col("respondent_key") == dana).get_column("submitted_at").unique()
    assert [str(t) for t in times] == ["2026-10-08 05:30:12+00:00"]  # 07:30:12 CEST
    assert result.responses.filter(pl.col("respondent_key") == dana).get_column("consent_to_quote").all()
    farah = pseudonymizer.key("email", "farah.haddad@school.example")
    assert _answers(result, farah)["app_adapted"] == "0.0" and _answers(result, farah)["consent_quote"] == "0.0"
    assert result.responses.get_column("wave").unique().to_list() == ["midpoint"]
    assert result.extra_items.get_column("item_id").to_list() == ["unmapped:G01Q03"]
    assert result.unmatched_columns == ["results-survey482915.csv: G01Q03"]


def test_incomplete_responses_are_kept_and_timed_by_their_last_action(context, pseudonymizer):
    result = _read(context)
    eli = result.responses.filter(pl.col("respondent_key") == pseudonymizer.key("email", "eli.novak@school.example"))
    assert dict(eli.select("item_id", "value_num").iter_rows()) == {"imm_useful": 2.0, "hum_skills": 3.0}
    assert str(eli.get_column("submitted_at")[0]) == "2026-10-06 06:14:03+00:00"  # datestamp 08:14:03 CEST
    assert any("1 incomplete response(s) kept" in note for note in result.notes)


def test_a_token_without_email_keys_the_respondent_and_never_leaves(context, pseudonymizer):
    result = _read(context)
    token_key = pseudonymizer.key("token", "Hb2Vn6Ys", "limesurvey")
    gus = pseudonymizer.key("response", f"token:{token_key}", "limesurvey")
    assert _answers(result, gus)["imm_useful"] == "3.0"


def test_row_and_answer_problems_are_quarantined_and_accounts_balance(context):
    result = _read(context)
    reasons = dict(result.quarantine.select("source_row", "reason").iter_rows())
    assert reasons == {
        1: "superseded by a later submission from the same respondent",  # Dana's first response
        3: "unrecognised answer for a scale item (hum_skills)",  # A6: an option beyond the 5-point scale
    }
    assert '"answer":"A6"' in result.quarantine.filter(pl.col("source_row") == 3).get_column("raw")[0]
    rows, answers = result.accounts
    assert (rows.read, rows.accepted, rows.quarantined) == (5, 4, 1)
    assert (answers.read, answers.accepted, answers.quarantined) == (22, 21, 1)
    assert all(account.balanced for account in result.accounts)


def test_answer_codes_option_maps_codes_per_item(context, pseudonymizer):
    # A reversed answer list on one item; "A6" mapped to a value off the scale is quarantined as such.
    codes = {"hum_skills": {"A6": -99}, "soc_isolation": {f"A{n}": 6 - n for n in range(1, 6)}}
    result = _read(context, options={"answer_codes": codes})
    dana = pseudonymizer.key("email", "dana.reyes@school.example")
    assert _answers(result, dana)["soc_isolation"] == "2.0"  # A4 reversed
    assert _answers(result, dana)["imm_useful"] == "5.0"  # other items keep A<n> = n
    reasons = result.quarantine.get_column("reason").to_list()
    assert "answer outside the item's scale (hum_skills)" in reasons


def test_without_a_mapping_default_codes_stay_unmapped_but_item_like_codes_match(tmp_path, context, pseudonymizer):
    result = limesurvey.read([EXPORT], context(timezone="Europe/Berlin"))
    assert result.responses.get_column("item_id").str.starts_with("unmapped:").all()
    survey = tmp_path / "endline.csv"
    survey.write_text(
        f'{HEADER},"G01Q01[immuseful]","G01Q01[IMMENJOY]","appused"\r\n'
        '"7","2027-03-01 10:00:00","2","en","1","2027-03-01 09:50:00","2027-03-01 10:00:00","","kim@school.example","A4","A3","Y"\r\n',
        encoding="utf-8",
    )
    result = limesurvey.read([survey], context(timezone="Europe/Berlin"))
    kim = pseudonymizer.key("email", "kim@school.example")
    assert _answers(result, kim) == {"imm_useful": "4.0", "imm_enjoy": "3.0", "app_used": "1.0"}
    assert result.responses.get_column("wave").unique().to_list() == ["endline"]


def test_full_question_text_headings_with_semicolons_and_full_answers(tmp_path, context, pseudonymizer):
    survey = tmp_path / "baseline.csv"
    survey.write_text(
        "\ufeff" + ";".join(f'"{h}"' for h in [
            "Response ID", "Date submitted", "Last page", "Start language", "Seed", "Date started", "Date last action",
            "IP address", "Access code", "Email address",
            "How much do you agree with each statement? [Taking part in the community has been useful for my teaching.]",
            "How much do you agree with each statement? [The live sessions are worth my time.]",
            "In the last three months, I used a resource or idea from the community in my class.",
            "What is your email address?",
        ]) + "\r\n"
        + ";".join(f'"{v}"' for v in [
            "3", "2026-09-30 21:15:00", "2", "en", "9", "2026-09-30 21:05:00", "2026-09-30 21:15:00",
            "192.0.2.99", "Zt4Rw9Qp", "lee@school.example", "Strongly agree", "Agree", "Yes", "lee@school.example",
        ]) + "\r\n\r\n",
        encoding="utf-8",
    )
    assert limesurvey.looks_like(Sniff(survey))
    result = limesurvey.read([survey], context(timezone="Europe/Berlin"))
    lee = pseudonymizer.key("email", "lee@school.example")
    assert _answers(result, lee) == {
        "imm_useful": "5.0", "app_used": "1.0",
        "unmapped:How much do you agree with each statement? [The live sessions are worth my time.]": "Agree",
    }
    assert str(result.responses.get_column("submitted_at")[0]) == "2026-09-30 19:15:00+00:00"
    text = _all_text(result.responses, result.quarantine, result.extra_items)
    assert "lee@" not in text and "Zt4Rw9Qp" not in text and "192.0.2.99" not in text


def test_an_undated_survey_has_no_submission_times(tmp_path, context):
    survey = tmp_path / "wave.csv"
    survey.write_text(
        '"id","submitdate","lastpage","startlanguage","seed","G01Q01[SQ001]"\r\n'
        '"1","1980-01-01 00:00:00","2","en","4","A4"\r\n',
        encoding="utf-8",
    )
    result = limesurvey.read([survey], context(options={"items": ITEMS}))
    assert result.quarantine.get_column("reason").to_list() == ["missing or unreadable submission time"]
    assert any("not date-stamped" in note for note in result.notes)
    assert all(account.balanced for account in result.accounts)


def test_a_question_answered_with_emails_is_an_identity_not_an_answer(tmp_path, context):
    survey = tmp_path / "wave.csv"
    survey.write_text(
        f'{HEADER},"G01Q01[SQ001]","G03Q01"\r\n'
        '"1","2027-03-01 10:00:00","2","en","1","2027-03-01 09:50:00","2027-03-01 10:00:00","","","A4","pat@school.example"\r\n'
        '"2","2027-03-01 11:00:00","2","en","1","2027-03-01 10:50:00","2027-03-01 11:00:00","","","A3",""\r\n',
        encoding="utf-8",
    )
    result = _read(context, survey)
    assert result.responses.get_column("item_id").unique().to_list() == ["imm_useful"]
    assert result.unmatched_columns == [] and result.extra_items.height == 0
    assert any("1 identity column(s) not read" in note for note in result.notes)
    # without email or token, respondents are told apart by file and response id: ids
    # restart at 1 in every survey, so two waves' response 1 are two people
    other = tmp_path / "other_wave.csv"
    other.write_bytes(survey.read_bytes())
    both = limesurvey.read([survey, other], context(options={"items": ITEMS}))
    assert both.responses.get_column("respondent_key").n_unique() == 4


def test_no_raw_identity_in_any_output(context):
    result = _read(context)
    text = _all_text(result.responses, result.quarantine, result.extra_items)
    assert [value for value in IDENTITIES if value in text] == []


@needs_samples(QUALTRICS)
def test_looks_like_recognises_its_own_files_only():
    assert limesurvey.looks_like(Sniff(EXPORT))
    for other in (QUALTRICS, FORMS, SURVEYMONKEY, SURVEYMONKEY.with_suffix(".xlsx")):
        assert not limesurvey.looks_like(Sniff(other))


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('"id","lastpage","token","G01Q01"\r\n"1","2","abc","A1"\r\n', "not a LimeSurvey export"),
        ("", "empty"),
    ],
    ids=["no submitdate", "empty file"],
)
def test_structural_problems_are_one_line_errors_naming_the_file(tmp_path, context, content, problem):
    survey = tmp_path / "wave.csv"
    survey.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as raised:
        _read(context, survey)
    message = str(raised.value)
    assert message.startswith(str(survey)) and problem in message and "\n" not in message


def test_a_malformed_answer_codes_option_is_a_one_line_error(context):
    with pytest.raises(InputError, match="answer_codes must map answer codes to numbers"):
        _read(context, options={"answer_codes": {"A1": "one"}})
