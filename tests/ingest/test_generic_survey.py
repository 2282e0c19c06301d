"""The generic survey reader: item ids or question texts as columns, one row per respondent."""

import polars as pl
import pytest

from value_pipeline.errors import InputError
from value_pipeline.ingest import generic_survey
from value_pipeline.ingest.detect import Sniff
from value_pipeline.ingest.formats import detect
from value_pipeline.instrument import load_instrument


def test_item_id_columns_are_detected_and_read(tmp_path, context, pseudonymizer):
    path = tmp_path / "followup.csv"
    useful = load_instrument().item("imm_useful").text
    path.write_text(
        f'submitted_at,email,"{useful}",app_adapted,favourite_thread\n'
        "2026-09-10 19:00,ana@school.example,Agree,Yes,the zeros debate\n"
        "2026-09-11 08:00,ben@school.example,5,No,\n"
    )
    assert generic_survey.looks_like(Sniff(path))
    assert detect(path, "survey") is generic_survey
    result = generic_survey.read([path], context(timezone="America/Chicago"))
    ana = result.responses.filter(pl.col("respondent_key") == pseudonymizer.key("email", "ana@school.example"))
    assert dict(ana.select("item_id", pl.coalesce(pl.col("value_num").cast(pl.String), "value_text")).iter_rows()) == {
        "imm_useful": "4.0", "app_adapted": "1.0", "unmapped:favourite_thread": "the zeros debate",
    }
    assert str(ana.get_column("submitted_at")[0]) == "2026-09-11 00:00:00+00:00"
    assert result.responses.get_column("wave").unique().to_list() == ["followup"]
    assert all(account.balanced for account in result.accounts)


def test_without_a_time_column_the_error_says_what_to_map(tmp_path, context):
    path = tmp_path / "w.csv"
    path.write_text("email,imm_useful,imm_enjoy\na@b.example,4,5\n")
    with pytest.raises(InputError, match="no submission time column"):
        generic_survey.read([path], context())
