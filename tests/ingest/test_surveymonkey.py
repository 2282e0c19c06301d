"""SurveyMonkey "All individual responses" exports (CSV and XLSX), on fixtures built from the documented layout."""

import zipfile
from pathlib import Path

import polars as pl
import pytest
from support import SAMPLES, needs_samples

from value_pipeline.errors import InputError
from value_pipeline.ingest import surveymonkey
from value_pipeline.ingest.detect import Sniff

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "surveymonkey"
CSV = FIXTURES / "baseline_survey.csv"
XLSX = FIXTURES / "baseline_survey.xlsx"
QUALTRICS = SAMPLES / "qualtrics" / "qualtRics" / "sample.csv"
FORMS = SAMPLES / "google_forms" / "autistica" / "form_responses.csv"
LIMESURVEY = FIXTURES.parent / "limesurvey" / "results-survey482915.csv"
# Everything in the fixtures that identifies a person: none of it may reach an output.
IDENTITIES = [
    "ana.lima@school.example", "ben.okafor@school.example", "chidi.eze@school.example",
    "Ana", "Lima", "Okafor", "Chidi", "Eze", "203.0.113.24", "203.0.113.57", "203.0.113.90", "198.51.100.7",
]
MATRIX = "How much do you agree or disagree with each statement about the community?"


def _read(context, path=CSV, **settings):
    return surveymonkey.read([path], context(timezone="America/New_York", **settings))


def _answers(result, key):
    rows = result.responses.filter(pl.col("respondent_key") == key)
    return dict(rows.select("item_id", pl.coalesce(pl.col("value_num").cast(pl.String), "value_text")).iter_rows())


def _all_text(*frames: pl.DataFrame) -> str:
    return "\n".join(
        str(value) for frame in frames for row in frame.cast({c: pl.String for c in frame.columns}).iter_rows() for value in row
    )


@pytest.mark.parametrize("path", [CSV, XLSX], ids=["csv", "xlsx"])
def test_matrix_rows_single_choice_and_open_answers_are_matched(path, context, pseudonymizer):
    result = _read(context, path)
    ana = pseudonymizer.key("email", "ana.lima@school.example")
    # Ana answered twice: her later response (21 Sept) counts. Matrix rows are matched by
    # their statement, one-answer questions by their text; labels become scale values.
    assert _answers(result, ana) == {
        "imm_useful": "5.0", "imm_enjoy": "5.0", "soc_trust": "4.0", "app_used": "1.0", "consent_quote": "1.0",
        "story_activity": "The fractions card sort, and the replies on how to differentiate it.",
        f"unmapped:{MATRIX} - The community's monthly live sessions are worth my time.": "Agree",
        "unmapped:How did you first hear about the community?": "A colleague at my school",
    }
    submitted = result.responses.filter(pl.col("respondent_key") == ana).get_column("submitted_at").unique()
    assert submitted.len() == 1
    assert str(submitted[0]) == "2026-09-21 12:10:47+00:00"  # 08:10:47 AM EDT
    assert result.responses.filter(pl.col("respondent_key") == ana).get_column("consent_to_quote").all()
    ben = pseudonymizer.key("email", "ben.okafor@school.example")
    assert _answers(result, ben)["unmapped:How did you first hear about the community? - Other (please specify)"] == "A district newsletter"
    assert _answers(result, ben)["app_used"] == "0.0"
    assert result.responses.get_column("wave").unique().to_list() == ["baseline"]
    assert result.platform == "surveymonkey"


def test_unmapped_questions_become_extra_items(context):
    result = _read(context)
    assert result.extra_items.get_column("item_id").to_list() == [
        f"unmapped:{MATRIX} - The community's monthly live sessions are worth my time.",
        "unmapped:How did you first hear about the community?",
        "unmapped:How did you first hear about the community? - Other (please specify)",
    ]
    assert result.extra_items.get_column("cycle").null_count() == 3
    assert len(result.unmatched_columns) == 3


def test_csv_and_xlsx_of_the_same_export_read_the_same(context):
    csv, xlsx = _read(context, CSV), _read(context, XLSX)
    assert csv.responses.drop("source_file").equals(xlsx.responses.drop("source_file"))
    assert csv.quarantine.drop("source_file").equals(xlsx.quarantine.drop("source_file"))
    assert [a.as_dict() for a in csv.accounts] == [a.as_dict() for a in xlsx.accounts]


def test_row_problems_are_quarantined_with_reasons_and_accounts_balance(context):
    result = _read(context)
    reasons = dict(result.quarantine.select("source_row", "reason").iter_rows())
    assert reasons == {
        2: "superseded by a later submission from the same respondent",  # Ana's first response
        4: "missing or unreadable submission time",  # the test run: no End Date
        5: "unrecognised answer for a scale item (imm_enjoy)",  # "Mostly agree" is on no agree scale in any language
    }
    rows, answers = result.accounts
    assert (rows.read, rows.accepted, rows.quarantined) == (5, 3, 2)
    assert answers.balanced and answers.quarantined == 1
    assert all(account.balanced for account in result.accounts)


def test_responses_from_a_test_collector_are_excluded(context):
    result = _read(context, options={"test_collectors": [431877555]})
    reasons = dict(result.quarantine.select("source_row", "reason").iter_rows())
    assert reasons[4] == "excluded: survey preview or test response"


def test_numerical_value_export_and_a_link_column(tmp_path, context, pseudonymizer):
    survey = tmp_path / "followup.csv"
    survey.write_text(
        "Respondent ID,Collector ID,Start Date,End Date,IP Address,Email Address,First Name,Last Name,Custom Data 1,"
        f'"{MATRIX}",,"May we quote your story, without your name or school, in reports to the programme\'s funder?"\r\n'
        ",,,,,,,,,Taking part in the community has been useful for my teaching.,I enjoy taking part in the community.,Response\r\n"
        "120000000001,431877002,03/02/2027 09:00:00 AM,03/02/2027 09:05:00 AM,203.0.113.24,,,,sam_k,4,5,1\r\n",
        encoding="utf-8",
    )
    result = _read(context, survey, link_column="Custom Data 1", link_by="username")
    sam = pseudonymizer.key("username", "sam_k", "surveymonkey")
    assert _answers(result, sam) == {"imm_useful": "4.0", "imm_enjoy": "5.0", "consent_quote": "1.0"}
    assert str(result.responses.get_column("submitted_at")[0]) == "2027-03-02 14:05:00+00:00"  # EST
    assert result.responses.get_column("wave").unique().to_list() == ["followup"]


def test_contact_information_and_identity_questions_are_never_answers(tmp_path, context):
    survey = tmp_path / "contact.csv"
    survey.write_text(
        "Respondent ID,Collector ID,Start Date,End Date,IP Address,Email Address,First Name,Last Name,Custom Data 1,"
        "Contact information,,,What is your email address?,Where should we send your certificate?,"
        "How often do you email colleagues about teaching?\r\n"
        ",,,,,,,,,Name,Email Address,Phone Number,Open-Ended Response,Open-Ended Response,Response\r\n"
        "120000000002,431877002,03/02/2027 09:00:00 AM,03/02/2027 09:05:00 AM,203.0.113.57,,,,,"
        "Dee Park,dee.park@school.example,555-0142,dee.park@school.example, dee.park@school.example ,Weekly\r\n",
        encoding="utf-8",
    )
    result = _read(context, survey)
    assert result.responses.get_column("item_id").to_list() == ["unmapped:How often do you email colleagues about teaching?"]
    text = _all_text(result.responses, result.quarantine, result.extra_items)
    assert "Dee" not in text and "dee.park" not in text and "555-0142" not in text
    assert any("5 identity column(s) not read" in note for note in result.notes)
    assert result.unmatched_columns == ["contact.csv: How often do you email colleagues about teaching?"]


def test_no_raw_identity_in_any_output(context):
    for path in (CSV, XLSX):
        result = _read(context, path)
        text = _all_text(result.responses, result.quarantine, result.extra_items)
        leaked = [value for value in IDENTITIES if value in text]
        assert leaked == []


@needs_samples(QUALTRICS)
def test_looks_like_recognises_its_own_files_only():
    assert surveymonkey.looks_like(Sniff(CSV))
    assert surveymonkey.looks_like(Sniff(XLSX))
    for other in (QUALTRICS, FORMS, LIMESURVEY):
        assert not surveymonkey.looks_like(Sniff(other))


def test_looks_like_is_false_for_other_zips_and_broken_workbooks(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("channels.json", "[]")
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(broken, "w") as handle:
        handle.writestr("xl/workbook.xml", "<not a workbook")
    assert not surveymonkey.looks_like(Sniff(archive))
    assert not surveymonkey.looks_like(Sniff(broken))
    assert not surveymonkey.looks_like(Sniff(tmp_path))


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("Respondent ID,Collector ID,Start Date,IP Address,Q1\r\n,,,,Response\r\n1,2,x,y,z\r\n", "missing column End Date"),
        ("Respondent ID,Collector ID,Start Date,End Date\r\n", "expected two header rows"),
        ("Respondent ID,Collector ID,Start Date,End Date\r\n,,,\r\n1,2,x,y\r\n", "no question columns"),
        ("id,submitdate,lastpage\r\n1,,1\r\n", "not a SurveyMonkey export"),
    ],
    ids=["no end date column", "one header row", "no questions", "another format"],
)
def test_structural_problems_are_one_line_errors_naming_the_file(tmp_path, context, content, problem):
    survey = tmp_path / "wave.csv"
    survey.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as raised:
        _read(context, survey)
    message = str(raised.value)
    assert message.startswith(str(survey)) and problem in message and "\n" not in message


def test_damaged_workbooks_are_one_line_errors(tmp_path, context):
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(XLSX.read_bytes()[:2000])
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(broken, "w") as handle:
        handle.writestr("xl/workbook.xml", "<not a workbook")
    for path, problem in ((truncated, "binary data"), (broken, "not a readable XLSX workbook")):
        with pytest.raises(InputError) as raised:
            _read(context, path)
        message = str(raised.value)
        assert message.startswith(str(path)) and problem in message and "\n" not in message


def test_workbook_date_and_number_cells_read_like_the_csv(tmp_path, context, pseudonymizer):
    from datetime import datetime

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Respondent ID", "Collector ID", "Start Date", "End Date", "Email Address", "I enjoy taking part in the community."])
    sheet.append([None, None, None, None, None, "Response"])
    sheet.append([120000000003, 431877002, datetime(2027, 1, 5, 9, 0), datetime(2027, 1, 5, 21, 30, 15), "rui@school.example", 4.0])
    path = tmp_path / "endline.xlsx"
    workbook.save(path)
    result = _read(context, path)
    assert _answers(result, pseudonymizer.key("email", "rui@school.example")) == {"imm_enjoy": "4.0"}
    assert str(result.responses.get_column("submitted_at")[0]) == "2027-01-06 02:30:15+00:00"  # 9:30:15 PM EST
    assert result.quarantine.height == 0
