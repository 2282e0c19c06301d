"""The learned coder (`model:<name>`): a linear model over words, rule scores and thread position.

Features, all computed with polars expressions:
- the words and word pairs of the post (title + body, lowercase), present or not;
- the rule coder's score for each code and the thread-position flags (rules.py);
Training (scikit-learn's multinomial logistic regression) happens once per training set;
the fitted weights are plain tables, so coding is a vectorized join and sum in polars:
a million posts code in seconds, and nothing but polars is needed at run time.

The shipped model (`models/model_v1.*`) is trained on the development gold set and the
sample content (see scripts/gold/train_model.py); a community with enough hand-coded
posts gets its own model, used only where cross-validation shows it beats the default.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import polars as pl

from value_pipeline import schema
from value_pipeline.coding.codebook import Codebook, load_codebook
from value_pipeline.coding.rules import FLAGS, post_features

TOKEN = r"[a-z][a-z']*[a-z]|[a-z]|\?|!|https?://"
MIN_DOC_FREQ = 2
MIN_WEIGHT = 1e-4  # token weights smaller than this are dropped from the shipped table


def _tokens(frame: pl.DataFrame) -> pl.DataFrame:
    """(row, token): the distinct words and word pairs of each post's text, plus the
    title's words marked `t:` (a title like "Help!" or "[Rant]" says what the post does)."""
    words = pl.col("text").str.extract_all(TOKEN)
    pairs = words.list.eval(pl.element() + "_" + pl.element().shift(-1)).list.drop_nulls()
    title = pl.col("title").fill_null("").str.to_lowercase().str.extract_all(TOKEN).list.eval(pl.lit("t:") + pl.element())
    return (
        frame.select(pl.col("row"), tokens=pl.concat_list(words, pairs, title))
        .explode("tokens")
        .drop_nulls("tokens")
        .unique()
        .rename({"tokens": "token"})
    )


def _dense_names(codebook: Codebook) -> list[str]:
    return [*FLAGS, *(f"score_{code}" for code in codebook.ids)]


@dataclass
class LinearCoder:
    name: str
    codes: list[str]
    token_weights: pl.DataFrame  # token, code, weight
    dense_names: list[str]
    dense_weights: np.ndarray  # len(dense_names) x len(codes)
    dense_mean: np.ndarray
    dense_scale: np.ndarray
    intercepts: np.ndarray  # len(codes)
    training: dict = field(default_factory=dict)

    @property
    def coder(self) -> str:
        return f"model:{self.name}"

    def scores(self, posts: pl.DataFrame, codebook: Codebook | None = None) -> pl.DataFrame:
        """Per post, the model's score for every code (columns named by code)."""
        codebook = codebook or load_codebook()
        features = post_features(posts, codebook).with_row_index("row")
        words = (
            _tokens(features)
            .join(self.token_weights, on="token", how="inner")
            .group_by("row", "code")
            .agg(pl.col("weight").sum())
            .pivot(on="code", index="row", values="weight")
        )
        dense = features.select(
            [((pl.col(n).cast(pl.Float64) - m) / s).alias(n) for n, m, s in zip(self.dense_names, self.dense_mean, self.dense_scale, strict=True)]
        )
        linear = dense.to_numpy() @ self.dense_weights + self.intercepts
        base = pl.DataFrame({code: linear[:, i] for i, code in enumerate(self.codes)}).with_row_index("row")
        totals = _add_word_scores(base, words, self.codes)
        return features.select("row", "community", "post_id").join(totals, on="row").sort("row").drop("row")

    def code(self, posts: pl.DataFrame, codebook: Codebook | None = None) -> pl.DataFrame:
        """coded_posts: the highest-scoring code, its softmax probability as confidence."""
        if posts.height == 0:
            return schema.empty(schema.CODED_POSTS)
        scored = self.scores(posts, codebook)
        top = pl.max_horizontal(self.codes)
        total = pl.sum_horizontal([(pl.col(code) - top).exp() for code in self.codes])
        coded = scored.select(
            "community",
            "post_id",
            code=pl.concat_list(self.codes).list.arg_max().replace_strict(dict(enumerate(self.codes)), return_dtype=pl.String),
            confidence=(1.0 / total),
            coder=pl.lit(self.coder),
        )
        return schema.conform(coded, schema.CODED_POSTS)

    # ------------------------------------------------------------ storage
    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.token_weights.write_parquet(folder / f"{self.name}_tokens.parquet")
        meta = {
            "name": self.name, "codes": self.codes, "dense_names": self.dense_names,
            "dense_weights": self.dense_weights.tolist(), "dense_mean": self.dense_mean.tolist(),
            "dense_scale": self.dense_scale.tolist(), "intercepts": self.intercepts.tolist(), "training": self.training,
        }
        (folder / f"{self.name}.json").write_text(json.dumps(meta, indent=1) + "\n")

    @classmethod
    def load(cls, folder: Path, name: str) -> "LinearCoder":
        meta = json.loads((Path(folder) / f"{name}.json").read_text())
        return cls(
            name=meta["name"], codes=meta["codes"],
            token_weights=pl.read_parquet(Path(folder) / f"{name}_tokens.parquet"),
            dense_names=meta["dense_names"], dense_weights=np.array(meta["dense_weights"]),
            dense_mean=np.array(meta["dense_mean"]), dense_scale=np.array(meta["dense_scale"]),
            intercepts=np.array(meta["intercepts"]), training=meta.get("training", {}),
        )


def _add_word_scores(base: pl.DataFrame, words: pl.DataFrame, codes: list[str]) -> pl.DataFrame:
    joined = base.join(words.rename({c: f"{c}_words" for c in codes if c in words.columns}), on="row", how="left")
    return joined.select(
        "row", *[(pl.col(code) + (pl.col(f"{code}_words").fill_null(0.0) if f"{code}_words" in joined.columns else 0.0)).alias(code) for code in codes]
    )


SHIPPED = "v1"


def shipped_model() -> LinearCoder | None:
    """The model trained on the development gold set, if it ships with this install."""
    folder = Path(str(resources.files("value_pipeline") / "coding" / "models"))
    return LinearCoder.load(folder, SHIPPED) if (folder / f"{SHIPPED}.json").exists() else None


# ---------------------------------------------------------------- training
def train(
    posts: pl.DataFrame, labels: pl.DataFrame, name: str, codebook: Codebook | None = None, c: float = 1.0,
    sample_weight: pl.Series | None = None, class_weight: str | None = None,
) -> LinearCoder:
    """Fit the model on `labels` (post_id, code) for posts in `posts` (which may hold
    context posts too: they shape thread features but are not training rows)."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    codebook = codebook or load_codebook()
    features = post_features(posts, codebook).join(labels.select("post_id", label="code"), on="post_id", how="inner")
    features = features.with_row_index("row")
    tokens = _tokens(features)
    frequent = tokens.group_by("token").len().filter(pl.col("len") >= MIN_DOC_FREQ).select("token").with_row_index("column")
    cells = tokens.join(frequent, on="token", how="inner")
    words = sparse.csr_matrix(
        (np.ones(cells.height), (cells.get_column("row").to_numpy(), cells.get_column("column").to_numpy())),
        shape=(features.height, frequent.height),
    )
    dense_names = _dense_names(codebook)
    dense = features.select([pl.col(n).cast(pl.Float64) for n in dense_names]).to_numpy()
    mean, scale = dense.mean(axis=0), dense.std(axis=0)
    scale[scale == 0] = 1.0
    matrix = sparse.hstack([words, sparse.csr_matrix((dense - mean) / scale)]).tocsr()
    y = features.get_column("label").to_numpy()
    model = LogisticRegression(C=c, max_iter=5000, class_weight=class_weight)
    model.fit(matrix, y, sample_weight=None if sample_weight is None else sample_weight.to_numpy())
    classes = list(model.classes_)
    # every codebook code gets a column; a code absent from training never wins
    coef = np.full((len(codebook.ids), matrix.shape[1]), 0.0)
    intercepts = np.full(len(codebook.ids), -1e3)
    for i, code in enumerate(codebook.ids):
        if code in classes:
            coef[i] = model.coef_[classes.index(code)]
            intercepts[i] = model.intercept_[classes.index(code)]
    n_words = frequent.height
    token_weights = (
        pl.DataFrame({"token": frequent.get_column("token").to_list()})
        .with_columns([pl.Series(code, coef[i, :n_words]) for i, code in enumerate(codebook.ids)])
        .unpivot(index="token", variable_name="code", value_name="weight")
        .filter(pl.col("weight").abs() >= MIN_WEIGHT)
    )
    return LinearCoder(
        name=name, codes=list(codebook.ids), token_weights=token_weights, dense_names=dense_names,
        dense_weights=coef[:, n_words:].T.copy(), dense_mean=mean, dense_scale=scale, intercepts=intercepts,
        training={"posts": features.height, "vocabulary": n_words, "c": c},
    )
