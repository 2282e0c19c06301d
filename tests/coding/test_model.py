"""The learned coder: its fast hashed scoring equals the tf-idf it was trained on, it
round-trips through its files, and it beats the rules on the gold set."""

import warnings

import numpy as np
import polars as pl
import pytest

from value_pipeline.coding.agreement import agreement
from value_pipeline.coding.codebook import load_codebook
from value_pipeline.coding.gold_set import gold_posts
from value_pipeline.coding.model import (
    LinearCoder,
    _tfidf,
    _tokens,
    shipped_model,
    train,
)
from value_pipeline.coding.rules import code_posts, post_features


@pytest.fixture(scope="module")
def gold():
    return gold_posts()


@pytest.fixture(scope="module")
def small_model(gold):
    posts, codes = gold
    return train(posts, codes.head(300), "test")


def test_hashed_scoring_equals_the_training_tfidf(gold, small_model):
    posts, _ = gold
    model = small_model
    features = post_features(posts, load_codebook()).with_row_index("row")
    vocabulary = model.vocabulary.select("token", "idf", *model.codes)
    words = (
        _tfidf(_tokens(features), vocabulary.select("token", "idf"))
        .join(vocabulary.drop("idf"), on="token")
        .group_by("row")
        .agg([(pl.col("value") * pl.col(code)).sum().alias(code) for code in model.codes])
    )
    words = features.select("row").join(words, on="row", how="left").fill_null(0.0).sort("row")
    dense = features.select(
        [((pl.col(n).cast(pl.Float64) - m) / s * model.dense_factor).alias(n)
         for n, m, s in zip(model.dense_names, model.dense_mean, model.dense_scale, strict=True)]
    ).to_numpy()
    expected = words.select(model.codes).to_numpy() + dense @ model.dense_weights + model.intercepts
    assert np.allclose(model.scores(posts).select(model.codes).to_numpy(), expected, atol=1e-9)


def test_save_and_load_give_the_same_codes(gold, small_model, tmp_path):
    posts, _ = gold
    small_model.save(tmp_path)
    loaded = LinearCoder.load(tmp_path, "test")
    assert loaded.code(posts).equals(small_model.code(posts))
    assert loaded.coder == "model:test"


def test_the_shipped_model_is_installed_and_codes_every_code(gold):
    posts, codes = gold
    model = shipped_model()
    assert model is not None and model.coder == "model:v1"
    coded = model.code(posts).join(codes.select("post_id"), on="post_id", how="semi")
    assert set(coded.get_column("code")) == set(load_codebook().ids)
    assert coded.get_column("confidence").is_between(0, 1).all()
    assert model.training["cv_kappa"] >= 0.70


def test_cross_validated_model_beats_the_rules_on_the_gold_set(gold):
    """Recomputes what scripts/gold/train_model.py reports, on the gold set alone (the
    shipped model also trains on the single-coded Reddit posts and the sample content)."""
    warnings.filterwarnings("ignore")
    posts, codes = gold
    ids = codes.get_column("post_id").to_list()
    folds = np.random.default_rng(0).permutation(len(ids)) % 5
    predicted = []
    for fold in range(5):
        held = [post for post, f in zip(ids, folds, strict=True) if f == fold]
        model = train(posts, codes.filter(~pl.col("post_id").is_in(held)).select("post_id", "code"), "cv")
        predicted.append(model.code(posts).filter(pl.col("post_id").is_in(held)).select("post_id", "code"))
    model_kappa = agreement(codes, pl.concat(predicted)).kappa
    rules_kappa = agreement(codes, code_posts(posts).select("post_id", "code")).kappa
    assert model_kappa > rules_kappa + 0.03
