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
DEFAULT_C = 1.0
CHUNK_POSTS = 100_000
DENSE_FACTOR = 0.3  # rule scores and flags, standardized, then damped beside the tf-idf
SOFTMAX_SHARPNESS = 3.0  # SVM margins are small numbers: sharpen before the softmax


def _tokens(frame: pl.DataFrame) -> pl.DataFrame:
    """(row, token, count): the words, word pairs and word beginnings (4 and 6 letters,
    a cheap stand-in for stemming: "frustrated", "frustrating" share "p6:frustr") of each
    post's text, with how often each occurs. Built on the exploded word column, so every
    step is a plain columnar operation."""
    words = frame.select("row", word=pl.col("text").str.extract_all(TOKEN)).explode("word").drop_nulls("word")
    same_post = pl.col("row").shift(-1) == pl.col("row")
    length = pl.col("word").str.len_chars()
    tokens = pl.concat([
        words.select("row", token=pl.col("word")),
        words.select("row", token=pl.when(same_post).then(pl.col("word") + "_" + pl.col("word").shift(-1))),
        words.select("row", token=pl.when(length > 4).then("p4:" + pl.col("word").str.slice(0, 4))),
        words.select("row", token=pl.when(length > 6).then("p6:" + pl.col("word").str.slice(0, 6))),
    ]).drop_nulls("token")
    return tokens.group_by("row", "token").agg(count=pl.len())


# Token keys for coding at scale: each token is a 64-bit hash, a word pair combines its
# words' hashes, so no pair string is ever built. The vocabulary's keys are computed the
# same way when a model is loaded (hashes are stable within one polars version).
_WORD, _PAIR, _PREFIX4, _PREFIX6 = 11, 13, 17, 19


def _token_occurrences(frame: pl.DataFrame) -> pl.DataFrame:
    """(row, key) for every token occurrence (repeats kept: the sparse matrix counts them)."""
    words = frame.select("row", word=pl.col("text").str.extract_all(TOKEN)).explode("word").drop_nulls("word")
    words = words.with_columns(hashed=pl.col("word").hash(_WORD))
    same_post = pl.col("row").shift(-1) == pl.col("row")
    length = pl.col("word").str.len_chars()
    return pl.concat([
        words.select("row", key=pl.col("hashed")),
        words.select("row", key=pl.when(same_post).then(_pair_key(pl.col("hashed"), pl.col("hashed").shift(-1)))),
        words.select("row", key=pl.when(length > 4).then(pl.col("word").str.slice(0, 4).hash(_PREFIX4))),
        words.select("row", key=pl.when(length > 6).then(pl.col("word").str.slice(0, 6).hash(_PREFIX6))),
    ]).drop_nulls("key")


def _pair_key(first: pl.Expr, second: pl.Expr) -> pl.Expr:
    # arithmetic on the two words' hashes (wrapping u64): hashing a list per row is 80x slower
    return (first * 0x9E3779B97F4A7C15) ^ (second + _PAIR)


def _vocabulary_keys(tokens: pl.Expr) -> pl.Expr:
    """The key of each vocabulary token string, matching `_token_occurrences`."""
    parts = tokens.str.split_exact("_", 1)
    first, second = parts.struct.field("field_0"), parts.struct.field("field_1")
    return (
        pl.when(tokens.str.starts_with("p4:")).then(tokens.str.slice(3).hash(_PREFIX4))
        .when(tokens.str.starts_with("p6:")).then(tokens.str.slice(3).hash(_PREFIX6))
        .when(second.is_not_null()).then(_pair_key(first.hash(_WORD), second.hash(_WORD)))
        .otherwise(tokens.hash(_WORD))
    )


def _tfidf(tokens: pl.DataFrame, idf: pl.DataFrame, on: str = "token") -> pl.DataFrame:
    """(row, token, value): sublinear tf x idf, l2-normalised per post over known tokens."""
    return (
        tokens.join(idf, on=on, how="inner")
        .with_columns(value=(1.0 + pl.col("count").cast(pl.Float64).log()) * pl.col("idf"))
        .with_columns(value=pl.col("value") / (pl.col("value") ** 2).sum().over("row").sqrt())
        .select("row", on, "value")
    )


def _dense_names(codebook: Codebook) -> list[str]:
    return [*FLAGS, *(f"score_{code}" for code in codebook.ids)]


@dataclass
class LinearCoder:
    """A fitted linear coder: per-token idf and weights, dense-feature weights, intercepts."""

    name: str
    codes: list[str]
    vocabulary: pl.DataFrame  # token, idf, then one weight column per code
    dense_names: list[str]
    dense_weights: np.ndarray  # len(dense_names) x len(codes)
    dense_mean: np.ndarray
    dense_scale: np.ndarray
    intercepts: np.ndarray  # len(codes)
    dense_factor: float = DENSE_FACTOR
    training: dict = field(default_factory=dict)

    @property
    def coder(self) -> str:
        return f"model:{self.name}"

    def _keyed_vocabulary(self) -> pl.DataFrame:
        """The vocabulary with each token's hash key and matrix column, prepared once."""
        if "key" not in self.vocabulary.columns:
            # two tokens sharing a key (vanishingly rare) would double a post's rows
            self.vocabulary = (
                self.vocabulary.with_columns(key=_vocabulary_keys(pl.col("token")))
                .unique("key", keep="first", maintain_order=True)
                .with_row_index("column")
            )
            self._idf = self.vocabulary.get_column("idf").to_numpy()
            self._weights = self.vocabulary.select(self.codes).to_numpy()
        return self.vocabulary

    def scores(self, posts: pl.DataFrame, codebook: Codebook | None = None) -> pl.DataFrame:
        """Per post, the model's decision score for every code (columns named by code)."""
        codebook = codebook or load_codebook()
        features = post_features(posts, codebook).with_row_index("row")
        vocabulary = self._keyed_vocabulary()
        # Words are scored a chunk of posts at a time: memory bounded by the chunk.
        words = np.vstack([
            self._word_scores(chunk, vocabulary) for chunk in features.select("row", "text").iter_slices(CHUNK_POSTS)
        ]) if features.height else np.zeros((0, len(self.codes)))
        dense = features.select(
            [((pl.col(n).cast(pl.Float64) - m) / s * self.dense_factor).alias(n)
             for n, m, s in zip(self.dense_names, self.dense_mean, self.dense_scale, strict=True)]
        )
        total = dense.to_numpy() @ self.dense_weights + self.intercepts + words
        return features.select("community", "post_id").with_columns(
            [pl.Series(code, total[:, i]) for i, code in enumerate(self.codes)]
        )

    def _word_scores(self, chunk: pl.DataFrame, vocabulary: pl.DataFrame) -> np.ndarray:
        """The words' part of each code's score for the chunk's posts (rows x codes): the
        l2-normalised sublinear tf-idf vectors times the weight matrix. polars finds each
        token's vocabulary column; scipy's sparse matrix sums repeated tokens into counts
        and does the products in C."""
        from scipy import sparse

        cells = _token_occurrences(chunk).join(vocabulary.select("key", "column"), on="key", how="inner")
        first = int(chunk.get_column("row").min())
        counts = sparse.csr_matrix(
            (np.ones(cells.height), (cells.get_column("row").to_numpy() - first, cells.get_column("column").to_numpy())),
            shape=(chunk.height, vocabulary.height),
        )
        counts.data = (1.0 + np.log(counts.data)) * self._idf[counts.indices]
        norms = np.sqrt(counts.multiply(counts).sum(axis=1)).A1
        norms[norms == 0] = 1.0
        return (sparse.diags(1.0 / norms) @ counts @ self._weights)

    def code(self, posts: pl.DataFrame, codebook: Codebook | None = None) -> pl.DataFrame:
        """coded_posts: the highest-scoring code; confidence is a softmax over the scores."""
        if posts.height == 0:
            return schema.empty(schema.CODED_POSTS)
        scored = self.scores(posts, codebook)
        top = pl.max_horizontal(self.codes)
        total = pl.sum_horizontal([((pl.col(code) - top) * SOFTMAX_SHARPNESS).exp() for code in self.codes])
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
        self.vocabulary.drop("key", "column", strict=False).write_parquet(folder / f"{self.name}_vocabulary.parquet", compression="zstd")
        meta = {
            "name": self.name, "codes": self.codes, "dense_names": self.dense_names,
            "dense_weights": self.dense_weights.tolist(), "dense_mean": self.dense_mean.tolist(),
            "dense_scale": self.dense_scale.tolist(), "intercepts": self.intercepts.tolist(),
            "dense_factor": self.dense_factor, "training": self.training,
        }
        (folder / f"{self.name}.json").write_text(json.dumps(meta, indent=1) + "\n")

    @classmethod
    def load(cls, folder: Path, name: str) -> "LinearCoder":
        meta = json.loads((Path(folder) / f"{name}.json").read_text())
        return cls(
            name=meta["name"], codes=meta["codes"],
            vocabulary=pl.read_parquet(Path(folder) / f"{name}_vocabulary.parquet"),
            dense_names=meta["dense_names"], dense_weights=np.array(meta["dense_weights"]),
            dense_mean=np.array(meta["dense_mean"]), dense_scale=np.array(meta["dense_scale"]),
            intercepts=np.array(meta["intercepts"]), dense_factor=meta.get("dense_factor", DENSE_FACTOR),
            training=meta.get("training", {}),
        )


SHIPPED = "v1"


def shipped_model() -> LinearCoder | None:
    """The model trained on the development gold set, if it ships with this install."""
    folder = Path(str(resources.files("value_pipeline") / "coding" / "models"))
    return LinearCoder.load(folder, SHIPPED) if (folder / f"{SHIPPED}.json").exists() else None


# ---------------------------------------------------------------- training
def train(
    posts: pl.DataFrame, labels: pl.DataFrame, name: str, codebook: Codebook | None = None, c: float = DEFAULT_C,
) -> LinearCoder:
    """Fit the model on `labels` (post_id, code) for posts in `posts` (which may hold
    context posts too: they shape thread features but are not training rows).

    A linear SVM (one code against the rest, classes weighted by their rarity, so rare
    codes such as celebration are not drowned by questions) over the tf-idf of the
    tokens and the standardized rule scores and thread flags.
    """
    from scipy import sparse
    from sklearn.svm import LinearSVC

    codebook = codebook or load_codebook()
    features = post_features(posts, codebook).join(labels.select("post_id", label="code"), on="post_id", how="inner")
    features = features.with_row_index("row")
    tokens = _tokens(features)
    n = features.height
    idf = (
        tokens.group_by("token").agg(df=pl.len())
        .filter(pl.col("df") >= MIN_DOC_FREQ)
        .with_columns(idf=((1.0 + n) / (1.0 + pl.col("df"))).log() + 1.0)
        .sort("token")
        .with_row_index("column")
    )
    cells = _tfidf(tokens, idf.select("token", "idf")).join(idf.select("token", "column"), on="token")
    words = sparse.csr_matrix(
        (cells.get_column("value").to_numpy(), (cells.get_column("row").to_numpy(), cells.get_column("column").to_numpy())),
        shape=(n, idf.height),
    )
    dense_names = _dense_names(codebook)
    dense = features.select([pl.col(name).cast(pl.Float64) for name in dense_names]).to_numpy()
    mean, scale = dense.mean(axis=0), dense.std(axis=0)
    scale[scale == 0] = 1.0
    matrix = sparse.hstack([words, sparse.csr_matrix((dense - mean) / scale * DENSE_FACTOR)]).tocsr()
    model = LinearSVC(C=c, class_weight="balanced", max_iter=50_000, random_state=0)  # reproducible fits
    model.fit(matrix, features.get_column("label").to_numpy())
    classes = list(model.classes_)
    coef = np.zeros((len(codebook.ids), matrix.shape[1]))
    intercepts = np.full(len(codebook.ids), -1e3)  # a code absent from training never wins
    for i, code in enumerate(codebook.ids):
        if code in classes:
            coef[i] = model.coef_[classes.index(code)]
            intercepts[i] = model.intercept_[classes.index(code)]
    n_words = idf.height
    vocabulary = idf.select("token", "idf").with_columns(
        [pl.Series(code, coef[i, :n_words]) for i, code in enumerate(codebook.ids)]
    )
    return LinearCoder(
        name=name, codes=list(codebook.ids), vocabulary=vocabulary, dense_names=dense_names,
        dense_weights=coef[:, n_words:].T.copy(), dense_mean=mean, dense_scale=scale, intercepts=intercepts,
        training={"posts": n, "vocabulary": n_words, "c": c, "classes": classes, "codebook_version": codebook.version},
    )
