"""Qualtrics TSV exports (UTF-16 LE with BOM, tab-separated), current and legacy layouts.

The fixtures in tests/fixtures/qualtrics hold one teacher-community survey as Qualtrics
writes it: `..._baseline.csv` (current layout, UTF-8 with BOM) and `..._baseline.tsv`, the
same rows as TSV; `..._followup_legacy.tsv` in the legacy V1..V10 layout.
"""

import polars as pl
import pytest
from support import PROJECT, SAMPLES, needs_samples

from value_pipeline.errors import InputError
from value_pipeline.ingest import google_forms, qualtrics, redcap
from value_pipeline.ingest.detect import Sniff

FIXTURES = PROJECT / "tests" / "fixtures" / "qualtrics"
CSV = FIXTURES / "Community value survey_baseline.csv"
TSV = FIXTURES / "Community value survey_baseline.tsv"
LEGACY_TSV = FIXTURES / "Community value survey_followup_legacy.tsv"


def test_fixtures_are_utf16_tab_separated():
    for path in (TSV, LEGACY_TSV):
        data = path.read_bytes()
        assert data.startswith(b"\xff\xfe") and "\t".encode("utf-16-le") in data


def test_tsv_reads_exactly_like_the_csv_of_the_same_responses(context):
    from_csv = qualtrics.read([CSV], context())
    from_tsv = qualtrics.read([TSV], context())
    assert from_tsv.responses.drop("source_file").equals(from_csv.responses.drop("source_file"))
    assert from_tsv.quarantine.drop("source_file").equals(from_csv.quarantine.drop("source_file"))
    assert from_tsv.extra_items.equals(from_csv.extra_items)
    assert [a.as_dict() for a in from_tsv.accounts] == [a.as_dict() for a in from_csv.accounts]


def test_tsv_answers_times_and_keys(context, pseudonymizer):
    result = qualtrics.read([TSV], context(timezone="Asia/Tokyo"))  # the ImportId row's timeZone wins
    ana = result.responses.filter(pl.col("respondent_key") == pseudonymizer.key("email", "ana.ruiz@district.example"))
    answers = {item: (num if num is not None else text) for item, num, text in ana.select("item_id", "value_num", "value_text").iter_rows()}
    assert answers == {
        "imm_useful": 4.0, "app_used": 1.0, "consent_quote": 1.0,
        "story_activity": "The fractions lesson, with the\nnumber-line cards",  # quoted newline and comma inside a TSV cell
        "unmapped:Q5": "Lesson plans,Assessment ideas",
    }
    assert str(ana.get_column("submitted_at")[0]) == "2026-09-15 00:31:22+00:00"  # 19:31:22 in Chicago (CDT)
    assert ana.get_column("consent_to_quote").all()


def test_tsv_quarantine_reasons_and_balanced_accounts(context):
    result = qualtrics.read([TSV], context())
    assert {a.unit: (a.read, a.accepted, a.quarantined) for a in result.accounts} == {
        "baseline respondent row": (4, 3, 1), "baseline answer": (15, 14, 1),
    }
    assert dict(result.quarantine.select("source_row", "reason").iter_rows()) == {
        4: "excluded: survey preview or test response",
        6: "unrecognised answer for a scale item (imm_useful)",
    }


def test_legacy_layout_as_tsv(context, pseudonymizer):
    result = qualtrics.read([LEGACY_TSV], context(timezone="America/Chicago"))
    assert result.responses.get_column("wave").unique().to_list() == ["followup"]
    ben = result.responses.filter(pl.col("respondent_key") == pseudonymizer.key("email", "ben.ode@district.example"))
    assert dict(ben.select("item_id", "value_num").iter_rows()) == {"imm_useful": 4.0, "app_used": 0.0}
    assert str(ben.get_column("submitted_at")[0]) == "2026-12-09 14:04:00+00:00"  # EndDate 08:04 CST
    assert result.quarantine.get_column("reason").to_list() == ["excluded: survey preview or test response"]
    assert all(account.balanced for account in result.accounts)
    assert result.extra_items.height == 0  # the legacy trailing empty column is not a question


def test_no_raw_identity_in_any_output(context):
    text = ""
    for path in (TSV, LEGACY_TSV):
        result = qualtrics.read([path], context())
        text += result.responses.write_csv() + result.quarantine.write_csv() + result.extra_items.write_csv()
        text += "\n".join(result.unmatched_columns)
    for identity in ("ana.ruiz", "ben.ode", "cy.zed", "Ruiz", "Ode", "192.0.2.", "R_1aBcDeFgHiJkLmN", "R_2pReViEwXyZ0001"):
        assert identity not in text


def test_detection_of_tsv_exports():
    for path in (TSV, LEGACY_TSV, CSV):
        sniff = Sniff(path)
        assert qualtrics.looks_like(sniff), path
        assert not google_forms.looks_like(sniff) and not redcap.looks_like(sniff)


@needs_samples(SAMPLES / "qualtrics")
def test_sample_csvs_still_detected_and_read(context):
    for name in ("sample.csv", "sample_legacy.csv"):
        path = SAMPLES / "qualtrics" / "qualtRics" / name
        assert qualtrics.looks_like(Sniff(path))
        assert qualtrics.read([path], context()).responses.height == 2


@needs_samples(SAMPLES / "google_forms")
def test_detection_false_on_google_forms():
    assert not qualtrics.looks_like(Sniff(SAMPLES / "google_forms" / "autistica" / "form_responses.csv"))


def test_a_tsv_without_the_import_id_row_is_a_one_line_error(tmp_path, context):
    lines = TSV.read_bytes().decode("utf-16").splitlines(keepends=True)
    broken = tmp_path / "broken.tsv"
    broken.write_bytes(b"\xff\xfe" + "".join(lines[:2]).encode("utf-16-le"))  # two header rows, no ImportId row, no data
    with pytest.raises(InputError) as raised:
        qualtrics.read([broken], context())
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(str(broken)) and "not a Qualtrics export" in message
