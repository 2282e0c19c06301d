"""The REDCap reader on hand-made raw exports and data dictionaries (no public sample exists).

tests/fixtures/redcap/longitudinal: a longitudinal project (baseline and follow-up events)
with an enrolment data-entry form (name, email) and a value_survey survey; its data
dictionary sits beside the export. tests/fixtures/redcap/classroom: a classic project
without emails, exported tab-delimited, its dictionary kept in another folder.
"""

import shutil

import polars as pl
import pytest
from support import PROJECT, SAMPLES, needs_samples

from value_pipeline.errors import InputError
from value_pipeline.ingest import (
    formats,
    google_forms,
    qualtrics,
    read_community,
    redcap,
)
from value_pipeline.ingest.detect import Sniff

FIXTURES = PROJECT / "tests" / "fixtures" / "redcap"
LONGITUDINAL = FIXTURES / "longitudinal" / "TeacherCommunityValu_DATA_2026-12-15_1012.csv"
DICTIONARY = FIXTURES / "longitudinal" / "TeacherCommunityValu_DataDictionary_2026-12-15.csv"
CLASSROOM = FIXTURES / "classroom" / "ClassroomPractice_DATA_2026-11-02_0931.csv"
CLASSROOM_DICTIONARY = FIXTURES / "classroom_dictionary" / "ClassroomPractice_DataDictionary_2026-11-02.csv"
CLASSROOM_OPTIONS = {"data_dictionary": "../classroom_dictionary/ClassroomPractice_DataDictionary_2026-11-02.csv"}


def _answers(result, wave, key):
    rows = result.responses.filter((pl.col("wave") == wave) & (pl.col("respondent_key") == key))
    return {item: (num if num is not None else text) for item, num, text in rows.select("item_id", "value_num", "value_text").iter_rows()}


def test_longitudinal_export_events_become_waves_and_codes_become_scale_points(context, pseudonymizer):
    result = redcap.read([LONGITUDINAL], context(timezone="America/Chicago"))  # the dictionary is found beside it
    ana = pseudonymizer.key("email", "ana.ruiz@district.example")
    assert _answers(result, "baseline", ana) == {
        "imm_useful": 4.0,  # code 4 "Agree" on a 1-based field
        "imm_enjoy": 4.0,  # code 3 "Agree" on a 0-based field, matched by its label
        "app_used": 1.0,  # yes/no: 1 Yes
        "story_activity": "The fractions lesson, with the\nnumber-line cards a colleague shared",  # label held HTML
        "consent_quote": 1.0,
        "unmapped:resources_used": "Lesson plans; Classroom management tips",  # checkbox columns, one answer
        "unmapped:hours_week": 3.0,
    }
    # the follow-up row has no email (it lives on the enrolment form): the record's email links it
    assert _answers(result, "followup", ana)["imm_useful"] == 5.0
    assert str(result.responses.filter((pl.col("respondent_key") == ana) & (pl.col("wave") == "baseline"))
               .get_column("submitted_at")[0]) == "2026-09-15 00:31:22+00:00"  # 19:31:22 CDT
    # an email given as the survey identifier links too; a record without one is keyed by its record id
    cy = pseudonymizer.key("email", "cy.zed@school.example")
    assert _answers(result, "baseline", cy)["unmapped:resources_used"] == "None of these"  # code -1: resources_used____1
    dee = pseudonymizer.key("response", pseudonymizer.key("record", "4", "redcap"), "redcap")
    assert _answers(result, "baseline", dee)["imm_useful"] == 4.0
    # descriptive and calc fields are not questions; the enrolment form is data entry, not a survey
    assert set(result.extra_items.get_column("item_id")) == {"unmapped:resources_used", "unmapped:hours_week"}
    assert any("data-entry instruments (no survey timestamp) were not read: enrolment" in note for note in result.notes)


def test_every_row_is_accepted_or_quarantined_with_a_reason(context):
    result = redcap.read([LONGITUDINAL], context(timezone="America/Chicago"))
    assert {a.unit: (a.read, a.accepted, a.quarantined) for a in result.accounts} == {
        "baseline respondent row": (4, 3, 1), "baseline answer": (19, 18, 1),
        "followup respondent row": (3, 1, 2), "followup answer": (6, 6, 0),
    }
    assert all(account.balanced for account in result.accounts)
    reasons = dict(result.quarantine.select("source_row", "reason").iter_rows())
    assert reasons == {
        3: "excluded: survey not completed",  # [not completed]
        4: "unrecognised answer for a scale item (imm_useful)",  # code 9 is not in the dictionary
        5: "excluded: no survey answers in this row",  # an event row without the survey
        7: "missing or unreadable submission time",  # entered by staff: no survey timestamp
    }


def test_dictionary_among_the_files_is_used_not_read_as_responses(context):
    alone = redcap.read([LONGITUDINAL], context(timezone="America/Chicago"))
    for paths in ([DICTIONARY, LONGITUDINAL], [LONGITUDINAL, DICTIONARY]):
        together = redcap.read(paths, context(timezone="America/Chicago"))
        assert together.responses.equals(alone.responses)
        assert together.quarantine.equals(alone.quarantine)
        assert not together.responses.get_column("source_file").str.contains("DataDictionary").any()


def test_events_option_maps_waves_and_keep_incomplete_keeps_partial_responses(context, pseudonymizer):
    options = {"events": {"baseline_arm_1": "2026-autumn", "followup": "2026-winter"}, "keep_incomplete": True}
    result = redcap.read([LONGITUDINAL], context(timezone="America/Chicago", options=options))
    assert set(result.responses.get_column("wave")) == {"2026-autumn", "2026-winter"}
    ben = result.responses.filter(pl.col("respondent_key") == pseudonymizer.key("email", "ben.ode@district.example"))
    assert ben.select("item_id", "value_num").rows() == [("imm_useful", 3.0)]
    # no time for a partial response: the wave's latest completion stands in, and a note says so
    assert str(ben.get_column("submitted_at")[0]) == "2026-09-16 17:00:00+00:00"
    assert any("1 incomplete response(s) kept" in note for note in result.notes)
    assert "excluded: survey not completed" not in result.quarantine.get_column("reason").to_list()


def test_record_ids_are_keyed_when_there_is_no_email(context, pseudonymizer):
    result = redcap.read([CLASSROOM], context(options=CLASSROOM_OPTIONS, timezone="America/Chicago",
                                              waves={CLASSROOM.name: "midpoint"}))
    t101 = pseudonymizer.key("record", "T-101", "redcap")
    # T-101 answered twice: the later submission stands, the earlier is quarantined as superseded
    assert _answers(result, "midpoint", t101) == {
        "imm_relevant": 4.0, "app_adapted": 1.0, "unmapped:grades": "3-5", "unmapped:shared": "True",
    }
    assert result.quarantine.get_column("reason").to_list() == ["superseded by a later submission from the same respondent"]
    assert result.responses.get_column("respondent_key").n_unique() == 2
    assert all(account.balanced for account in result.accounts)


def test_no_raw_identity_leaves_the_reader(context):
    outputs = []
    for paths, options in (([LONGITUDINAL], {}), ([CLASSROOM], CLASSROOM_OPTIONS)):
        result = redcap.read(paths, context(options=options))
        outputs += [result.responses.write_csv(), result.quarantine.write_csv(), result.extra_items.write_csv(),
                    "\n".join(result.notes), "\n".join(result.unmatched_columns)]
    text = "\n".join(outputs)
    for identity in ("ana.ruiz", "ben.ode", "cy.zed", "Ana", "Ben", "Dee", "T-101", "T-102", "district.example"):
        assert identity not in text


def test_all_rows_of_a_wave_excluded_still_balances(tmp_path, context):
    shutil.copy(DICTIONARY, tmp_path / DICTIONARY.name)
    data = tmp_path / "partial_DATA.csv"
    lines = LONGITUDINAL.read_text(encoding="utf-8").splitlines()
    data.write_text(lines[0] + "\n2,baseline_arm_1,,Ben,ben.ode@district.example,2,2,[not completed],3,,,0,0,0,0,,,,,0\n", encoding="utf-8")
    result = redcap.read([data], context())
    assert result.responses.height == 0
    assert [(a.unit, a.read, a.accepted, a.quarantined) for a in result.accounts] == [
        ("baseline respondent row", 1, 0, 1), ("baseline answer", 0, 0, 0),
    ]


def test_detection_recognises_exports_and_dictionaries_only():
    for path in (LONGITUDINAL, DICTIONARY, CLASSROOM, CLASSROOM_DICTIONARY):
        assert redcap.looks_like(Sniff(path)), path
        assert not qualtrics.looks_like(Sniff(path)) and not google_forms.looks_like(Sniff(path))
    others = [*(PROJECT / "tests" / "fixtures" / "qualtrics").iterdir(), *(PROJECT / "tests" / "fixtures" / "google_forms").rglob("*.*")]
    for path in others:
        assert not redcap.looks_like(Sniff(path)), path


@needs_samples(SAMPLES)
@pytest.mark.parametrize("sample", ["qualtrics/qualtRics/sample.csv", "qualtrics/qualtRics/sample_legacy.csv",
                                    "google_forms/autistica/form_responses.csv", "slack/slack-export-viewer/testarchive.zip"])
def test_detection_is_false_on_other_formats(sample):
    assert not redcap.looks_like(Sniff(SAMPLES / sample))


def _one_line_error(paths, context, **settings) -> str:
    with pytest.raises(InputError) as raised:
        redcap.read(paths, context(**settings))
    message = str(raised.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_structural_problems_are_one_line_errors(tmp_path, context):
    alone = tmp_path / "alone"
    alone.mkdir()
    data = shutil.copy(LONGITUDINAL, alone / LONGITUDINAL.name)
    message = _one_line_error([data], context)
    assert message.startswith(str(data)) and "needs the project's data dictionary" in message

    message = _one_line_error([DICTIONARY], context)
    assert message.startswith(str(DICTIONARY)) and "no records export" in message

    message = _one_line_error([CLASSROOM, DICTIONARY], context)  # another project's dictionary
    assert message.startswith(str(CLASSROOM)) and "no record_id column" in message

    second = shutil.copy(DICTIONARY, alone / "copy_DataDictionary.csv")
    message = _one_line_error([LONGITUDINAL, DICTIONARY, second], context)
    assert message.startswith(str(second)) and "a second REDCap data dictionary" in message

    message = _one_line_error([CLASSROOM], context, options={"data_dictionary": "missing.csv"})
    assert "missing.csv: the data dictionary named in the survey options does not exist" in message

    no_stamps = alone / "no_stamps_DATA.csv"
    frame = pl.read_csv(LONGITUDINAL, infer_schema=False).drop("value_survey_timestamp")
    frame.write_csv(no_stamps)
    message = _one_line_error([no_stamps, DICTIONARY], context)
    assert message.startswith(str(no_stamps)) and "no survey timestamp columns" in message


def test_labels_export_is_recognised_and_refused(tmp_path, context):
    labels = tmp_path / "TeacherCommunityValu_DATA_LABELS_2026-12-15_1012.csv"
    labels.write_text('"Record ID","Event Name","Survey Identifier","Survey Timestamp",'
                      '"Taking part in the community has been useful for my teaching.","Complete?"\n'
                      '"1","Baseline (Arm 1: Arm 1)","","2026-09-14 19:31:22","Agree","Complete"\n', encoding="utf-8")
    assert redcap.looks_like(Sniff(labels))
    message = _one_line_error([labels, DICTIONARY], context)
    assert message.startswith(str(labels)) and "export the raw data" in message


@needs_samples(SAMPLES / "slack")
def test_a_community_folder_reads_the_dictionary_beside_the_export(tmp_path, pseudonymizer, monkeypatch):
    # Until the registry lists redcap, put it first among the survey formats for this test.
    monkeypatch.setattr(formats, "SURVEY_FORMATS", [redcap, *[m for m in formats.SURVEY_FORMATS if m is not redcap]])
    folder = tmp_path / "riverside"
    (folder / "surveys").mkdir(parents=True)
    (folder / "community.yaml").write_text("name: Riverside\ntimezone: America/Chicago\n")
    shutil.copytree(SAMPLES / "slack" / "slack-export-viewer" / "export", folder / "forum" / "export")
    shutil.copy(LONGITUDINAL, folder / "surveys" / LONGITUDINAL.name)
    shutil.copy(DICTIONARY, folder / "surveys" / DICTIONARY.name)
    data = read_community(folder, pseudonymizer)
    assert data.files[str(folder / "surveys" / DICTIONARY.name)] == "redcap"
    assert set(data.survey_responses.get_column("wave")) == {"baseline", "followup"}
    assert not data.survey_responses.get_column("source_file").str.contains("DataDictionary").any()
    assert data.summary()["balanced"]


@pytest.mark.parametrize("delimiter", [";", "|", "^"])
def test_every_delimiter_redcap_offers_reads_alike(delimiter, tmp_path, context):
    data = tmp_path / LONGITUDINAL.name
    pl.read_csv(LONGITUDINAL, infer_schema=False).write_csv(data, separator=delimiter)
    shutil.copy(DICTIONARY, tmp_path / DICTIONARY.name)
    assert redcap.looks_like(Sniff(data))
    expected = redcap.read([LONGITUDINAL], context()).responses.drop("source_file")
    assert redcap.read([data], context()).responses.drop("source_file").equals(expected)


def test_no_other_formats_fixture_is_claimed_by_these_readers():
    """REDCap, Qualtrics and Google Forms detection stays False on every other format's fixtures."""
    mine = {"redcap", "qualtrics", "google_forms"}
    for path in sorted((PROJECT / "tests" / "fixtures").rglob("*")):
        if path.is_file() and path.relative_to(PROJECT / "tests" / "fixtures").parts[0] not in mine:
            sniff = Sniff(path)
            assert not any(module.looks_like(sniff) for module in (redcap, qualtrics, google_forms)), path
