"""Google Forms' direct download (Responses tab > Download responses (.csv)): a zip of one CSV.

tests/fixtures/google_forms holds one teacher-community survey three ways: the zip as
downloaded (direct_zip), its CSV extracted (direct_csv: every field quoted, times with a
GMT offset, checkbox choices joined by ";"), and the linked Sheet's CSV export (sheet:
quoted only where needed, local times without a zone, checkbox choices joined by ", ").
"""

import io
import zipfile

import polars as pl
import pytest
from support import PROJECT, SAMPLES, needs_samples

from value_pipeline.errors import InputError
from value_pipeline.ingest import google_forms, qualtrics, redcap
from value_pipeline.ingest.detect import Sniff

FIXTURES = PROJECT / "tests" / "fixtures" / "google_forms"
ZIP = FIXTURES / "direct_zip" / "Riverside teachers survey.csv.zip"
DIRECT = FIXTURES / "direct_csv" / "Riverside teachers survey.csv"
SHEET = FIXTURES / "sheet" / "Riverside teachers survey (Responses) - Form Responses 1.csv"
RESOURCES = "unmapped:Which kinds of community resources have you used this term?"
WAVES = {ZIP.name: "baseline", DIRECT.name: "baseline", SHEET.name: "baseline"}


def _read(path, context, timezone="America/Chicago"):
    return google_forms.read([path], context(timezone=timezone, waves=WAVES))


def _by_respondent(result, key):
    rows = result.responses.filter(pl.col("respondent_key") == key)
    return {item: (num if num is not None else text) for item, num, text in rows.select("item_id", "value_num", "value_text").iter_rows()}


def test_the_zip_reads_exactly_like_its_extracted_csv(context):
    from_zip, from_csv = _read(ZIP, context), _read(DIRECT, context)
    assert from_zip.responses.drop("source_file").equals(from_csv.responses.drop("source_file"))
    assert from_zip.quarantine.drop("source_file").equals(from_csv.quarantine.drop("source_file"))
    assert from_zip.responses.get_column("source_file").unique().to_list() == [str(ZIP)]


def test_direct_download_times_carry_their_own_offset(context, pseudonymizer):
    # The community's timezone (Tokyo here) does not matter: each time says GMT-5 or GMT-6.
    result = _read(ZIP, context, timezone="Asia/Tokyo")
    times = dict(result.responses.group_by("respondent_key").agg(pl.col("submitted_at").first()).iter_rows())
    assert str(times[pseudonymizer.key("email", "ben.ode@district.example")]) == "2026-09-15 13:02:10+00:00"  # 8:02:10 AM GMT-5
    assert str(times[pseudonymizer.key("email", "ana.ruiz@district.example")]) == "2026-11-03 00:00:00+00:00"  # 6:00 PM GMT-6


def test_checkbox_answers_are_kept_whole_with_one_separator_in_both_exports(context, pseudonymizer):
    direct, sheet = _read(ZIP, context), _read(SHEET, context)
    cy = pseudonymizer.key("email", "cy.zed@school.example")
    assert _by_respondent(direct, cy)[RESOURCES] == "Lesson plans; Classroom management tips; Assessment ideas"
    # the same answers from the Sheet export (joined by ", " there) come out the same
    assert direct.responses.drop("source_file").equals(sheet.responses.drop("source_file"))
    # prose is never rewritten: the open story answer keeps its own "; "
    assert _by_respondent(direct, cy)["story_activity"] == "Co-planning with a peer; we swapped lessons"


def test_quarantine_reasons_and_balanced_accounts(context):
    result = _read(ZIP, context)
    assert {a.unit: (a.read, a.accepted, a.quarantined) for a in result.accounts} == {
        "baseline respondent row": (5, 3, 2), "baseline answer": (17, 16, 1),
    }
    assert dict(result.quarantine.select("source_row", "reason").iter_rows()) == {
        1: "superseded by a later submission from the same respondent",  # Ana answered again in November
        5: "missing or unreadable submission time",  # 2026/09/31 is no day
        3: "unrecognised answer for a scale item (imm_useful)",  # "Maybe"
    }


def test_no_raw_identity_in_any_output(context):
    for path in (ZIP, DIRECT, SHEET):
        result = _read(path, context)
        text = result.responses.write_csv() + result.quarantine.write_csv() + result.extra_items.write_csv()
        for identity in ("ana.ruiz", "ben.ode", "cy.zed", "dee.lane", "@"):
            assert identity not in text


@pytest.mark.parametrize(("stamp", "utc"), [
    ("2026/09/14 7:31:22 PM GMT-5", "2026-09-15 00:31:22+00:00"),
    ("2026/09/14 12:05:00 AM GMT-5", "2026-09-14 05:05:00+00:00"),
    ("2026/9/4 7:31:22 AM GMT+5:30", "2026-09-04 02:01:22+00:00"),
    ("2026/09/14 7:31:22 PM GMT", "2026-09-14 19:31:22+00:00"),
    ("2026/09/14 19:31:22 GMT+1", "2026-09-14 18:31:22+00:00"),
])
def test_direct_download_time_formats(stamp, utc):
    frame = pl.DataFrame({"Timestamp": [stamp]}).select(
        pl.from_epoch(google_forms._submitted_utc("Timestamp", "UTC").cast(pl.Int64)).dt.replace_time_zone("UTC")
    )
    assert str(frame.item()) == utc


def test_detection_reads_inside_the_zip(tmp_path):
    for path in (ZIP, DIRECT, SHEET):
        sniff = Sniff(path)
        assert google_forms.looks_like(sniff), path
        assert not qualtrics.looks_like(sniff) and not redcap.looks_like(sniff)
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as archive:
        archive.writestr("a.csv", DIRECT.read_bytes())
        archive.writestr("b.csv", DIRECT.read_bytes())
    other = tmp_path / "other.csv.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("other.csv", "id,name\n1,x\n")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(ZIP.read_bytes()[:60])
    for path in (two, other, broken):
        assert not google_forms.looks_like(Sniff(path)), path


@needs_samples(SAMPLES)
@pytest.mark.parametrize("sample", ["qualtrics/qualtRics/sample.csv", "qualtrics/qualtRics/sample_legacy.csv",
                                    "slack/slack-export-viewer/testarchive.zip"])
def test_detection_is_false_on_other_formats(sample):
    assert not google_forms.looks_like(Sniff(SAMPLES / sample))


@needs_samples(SAMPLES / "google_forms")
def test_sheet_export_checkbox_column_of_the_real_sample(context):
    result = google_forms.read([SAMPLES / "google_forms" / "autistica" / "form_responses.csv"], context(timezone="Europe/London"))
    connection = result.responses.filter(pl.col("item_id") == "unmapped:Q2: Do you have a personal connection to autism?")
    answers = connection.get_column("value_text")
    assert "I know someone who is autistic; I have another personal connection to autism" in answers.to_list()
    assert not answers.str.contains(", I ").any()
    # the long free-text question keeps its commas
    needs = result.responses.filter(pl.col("item_id").str.starts_with("unmapped:Q1:")).get_column("value_text")
    assert needs.str.contains(", ").any() and not needs.str.contains("; ").any()


def test_structural_problems_are_one_line_errors(tmp_path, context):
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as archive:
        archive.writestr("a.csv", DIRECT.read_bytes())
        archive.writestr("b.csv", DIRECT.read_bytes())
    not_forms = tmp_path / "export.csv.zip"
    with zipfile.ZipFile(not_forms, "w") as archive:
        archive.writestr("export.csv", "id,name\n1,x\n")
    binary = tmp_path / "binary.csv.zip"
    with zipfile.ZipFile(binary, "w") as archive:
        archive.writestr("binary.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    for path, problem in ((two, "the zip must hold exactly one CSV"),
                          (not_forms, "not a Google Forms export: the first column must be Timestamp"),
                          (binary, "binary.csv: binary data")):
        with pytest.raises(InputError) as raised:
            google_forms.read([path], context())
        message = str(raised.value)
        assert "\n" not in message and message.startswith(str(path)) and problem in message


def test_zip_member_name_gives_the_wave(tmp_path, context):
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("Riverside teachers survey - followup.csv", DIRECT.read_bytes())
    path = tmp_path / "Riverside teachers survey - followup.csv.zip"
    path.write_bytes(data.getvalue())
    result = google_forms.read([path], context())
    assert result.responses.get_column("wave").unique().to_list() == ["followup"]
