"""Coding a community: agreement with its hand codes, and a community model only where it wins."""

import subprocess
import sys

import polars as pl
from support import SAMPLE_EXPORTS

from value_pipeline.coding.community import (
    MIN_HAND_CODED,
    agreement_frame,
    code_community,
)
from value_pipeline.coding.rules import code_posts
from value_pipeline.ingest import read_community


def _posts():
    return read_community(SAMPLE_EXPORTS / "riverside-science").posts


def _write_codes(folder, codes: pl.DataFrame):
    (folder / "coding").mkdir(parents=True, exist_ok=True)
    codes.select("post_id", human_code="code").write_csv(folder / "coding" / "sheet_1.csv")


def test_without_hand_codes_agreement_is_not_measured(tmp_path):
    result = code_community(_posts(), tmp_path)
    assert result.coder == "model:v1" and result.agreement is None and result.hand_coded == 0
    row = agreement_frame(result).row(0, named=True)
    assert row["kappa"] is None and row["development_kappa"] >= 0.70


def test_a_few_hand_codes_measure_the_default_coder(tmp_path):
    posts = _posts()
    human = code_community(posts, None).coded.head(40).select("post_id", "code")
    _write_codes(tmp_path, human)
    result = code_community(posts, tmp_path)
    assert result.hand_coded == 40 and result.agreement.kappa == 1.0  # the hand codes agree with it exactly
    assert result.coder == "model:v1"


def test_a_community_model_replaces_the_default_only_when_it_wins(tmp_path):
    posts = _posts()
    # "hand codes" that follow the rule coder: a model trained on them beats the shipped
    # model at predicting them, so it is chosen
    human = code_posts(posts).head(MIN_HAND_CODED + 40).select("post_id", "code")
    _write_codes(tmp_path, human)
    result = code_community(posts, tmp_path)
    assert result.hand_coded == MIN_HAND_CODED + 40
    assert result.coder == "model:riverside-science-v1", result.note
    assert result.coded.height == posts.height


def test_cli_code_and_agreement(tmp_path):
    out = tmp_path / "auto.csv"
    run = subprocess.run([sys.executable, "-m", "assets.cli", "code", str(SAMPLE_EXPORTS / "inquiry-math-pd"), "--out", str(out)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    auto = pl.read_csv(out)
    assert auto.columns == ["post_id", "code", "confidence"] and auto.height == 259
    human = tmp_path / "human.csv"
    auto.head(80).select("post_id", human_code="code").write_csv(human)
    report = subprocess.run([sys.executable, "-m", "assets.cli", "agreement", str(human), str(out)], capture_output=True, text=True)
    assert report.returncode == 0, report.stderr
    assert "Cohen's kappa       1.000" in report.stdout and "Shaffer's rho" in report.stdout and "ACCEPTABLE" in report.stdout


def test_the_community_threshold_decides_what_is_acceptable(tmp_path):
    posts = _posts()
    coded = code_community(posts, None).coded.head(60).select("post_id", "code")
    # one hand code in ten disagrees: kappa near 0.9, acceptable at 0.65, not at 0.95
    human = coded.with_row_index().with_columns(
        code=pl.when(pl.col("index") % 10 == 0).then(pl.lit("other")).otherwise(pl.col("code"))
    ).drop("index")
    _write_codes(tmp_path, human)
    lenient = agreement_frame(code_community(posts, tmp_path)).row(0, named=True)
    strict = agreement_frame(code_community(posts, tmp_path, threshold=0.95)).row(0, named=True)
    assert 0.65 < lenient["kappa"] < 0.95 and lenient["acceptable"] and lenient["threshold"] == 0.65
    assert not strict["acceptable"] and strict["threshold"] == 0.95
    assert agreement_frame(code_community(posts, None, threshold=0.8)).row(0, named=True)["threshold"] == 0.8
