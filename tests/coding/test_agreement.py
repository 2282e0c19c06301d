"""The agreement workflow: sampling for hand-coding, reading codes, the statistics."""

import polars as pl
import pytest

from value_pipeline.coding.agreement import (
    agreement,
    coding_sample,
    coding_sheet,
    read_codes,
    shaffer_rho,
    write_coding_sheet,
)
from value_pipeline.errors import InputError


def _codes(pairs):
    return pl.DataFrame({"post_id": [p for p, _ in pairs], "code": [c for _, c in pairs]})


def test_kappa_alpha_and_per_code_scores_on_a_hand_computed_case():
    # 10 posts: the coders differ on two (a question coded answer, a support coded social)
    human = _codes([(str(i), c) for i, c in enumerate(["question"] * 4 + ["answer"] * 3 + ["support"] * 3)])
    auto = _codes([(str(i), c) for i, c in enumerate(["question"] * 3 + ["answer"] * 4 + ["support"] * 2 + ["social"])])
    result = agreement(human, auto)
    # po = 0.8; pe = .4*.3 + .3*.4 + .3*.2 + 0*.1 = 0.30 -> kappa = 0.5/0.7
    assert result.kappa == pytest.approx(0.5 / 0.7)
    assert result.percent_agreement == pytest.approx(0.8)
    scores = {row["code"]: row for row in result.per_code.to_dicts()}
    assert scores["question"]["precision"] == 1.0 and scores["question"]["recall"] == pytest.approx(0.75)
    assert scores["answer"]["precision"] == pytest.approx(0.75) and scores["answer"]["recall"] == 1.0
    assert result.confusion.filter(pl.col("reference") == "support").get_column("social").item() == 1
    assert 0.6 < result.alpha < result.kappa + 0.05  # alpha corrects with pooled margins: close to kappa


def test_shaffer_rho_separates_generalizing_from_lucky_samples():
    reference = ["question", "answer", "support", "social", "reflection"] * 30  # 150 posts
    assert shaffer_rho(reference, 0.85, population=5000) < 0.01
    assert shaffer_rho(reference, 0.66, population=5000) > 0.2
    # with the whole population coded there is little sampling error left
    assert shaffer_rho(reference, 0.72, population=150) < shaffer_rho(reference, 0.72, population=5000)


def test_read_codes_accepts_spreadsheet_edits_and_refuses_unknown_codes(tmp_path):
    sheet = tmp_path / "coded.csv"
    sheet.write_text("post_id,human_code,note\n'12,Practice Report,\n13, question ,\n14,,not coded yet\n")
    assert read_codes(sheet).rows() == [("12", "practice_report"), ("13", "question")]
    bad = tmp_path / "bad.csv"
    bad.write_text("post_id,code\n1,questoin\n")
    with pytest.raises(InputError, match="unknown code"):
        read_codes(bad)


def test_sample_is_stratified_and_the_sheet_hides_the_automated_code(tmp_path):
    posts = pl.DataFrame({
        "post_id": [str(i) for i in range(100)], "thread_id": [str(i // 5 * 5) for i in range(100)],
        "parent_post_id": [None if i % 5 == 0 else str(i // 5 * 5) for i in range(100)],
        "body_text": [f"post {i}" for i in range(100)], "title": [f"T{i}" if i % 5 == 0 else None for i in range(100)],
        "is_thread_start": [i % 5 == 0 for i in range(100)], "channel": ["Labs"] * 100,
    })
    coded = pl.DataFrame({"post_id": [str(i) for i in range(100)], "code": ["answer"] * 90 + ["celebration"] * 6 + ["other"] * 4})
    sample = coding_sample(posts, coded, n=30, seed=3)
    counts = dict(sample.group_by("code").len().iter_rows())
    assert sample.height == 30 and counts["celebration"] == 6 and counts["other"] == 4  # rare codes kept whole
    sheet = coding_sheet(sample, posts)
    assert "code" not in sheet.columns and sheet.get_column("human_code").unique().to_list() == [""]
    reply = sheet.filter(pl.col("post_id") == sample.filter(pl.col("code") != "other").get_column("post_id")[0])
    assert reply.height == 1
    path = tmp_path / "sheet.csv"
    write_coding_sheet(sheet, path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbfpost_id,")
