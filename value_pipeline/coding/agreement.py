"""The agreement workflow of quantitative ethnography: sample, hand-code, compare.

1. `coding_sample` draws a stratified sample of posts for hand-coding (every code the
   automated coder assigns is represented, rare ones included) and `write_coding_sheet`
   writes it as a CSV an evaluator opens in a spreadsheet.
2. `read_codes` reads the filled-in sheet (or any CSV with post_id and a code column).
3. `agreement` compares two codings of the same posts: Cohen's kappa, Krippendorff's
   alpha, per-code precision, recall and F1 (the second coding scored against the first),
   the confusion matrix, and Shaffer's rho: the chance that a sample this size would show
   this kappa if the true agreement over all the community's posts were only at the
   threshold. rho < 0.05 means the sample's kappa generalizes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from value_pipeline.coding.codebook import REFERENCE_CODES
from value_pipeline.coding.rules import prepare_posts
from value_pipeline.errors import InputError
from value_pipeline.privacy import spreadsheet_safe

KAPPA_THRESHOLD = 0.65
RHO_SIMULATIONS = 2000
CONTEXT_CHARS = 400


# ---------------------------------------------------------------- sampling
def coding_sample(posts: pl.DataFrame, coded: pl.DataFrame, n: int = 200, seed: int = 1) -> pl.DataFrame:
    """A stratified sample of `n` posts: an equal share per automated code (all of a
    rare code when it has fewer), the rest spread in proportion; shuffled, so coders do
    not see the strata."""
    frame = posts.select("post_id").join(coded.select("post_id", "code"), on="post_id", how="inner")
    if frame.height <= n:
        return frame.sample(fraction=1.0, shuffle=True, seed=seed)
    sizes = frame.group_by("code").len().sort("code")
    share = n // max(sizes.height, 1)
    take = {code: min(count, share) for code, count in sizes.iter_rows()}
    remaining = n - sum(take.values())
    spare = {code: count - take[code] for code, count in sizes.iter_rows()}
    total_spare = sum(spare.values())
    for code in sorted(spare, key=lambda c: -spare[c]):
        extra = min(spare[code], round(remaining * spare[code] / total_spare)) if total_spare else 0
        take[code] += extra
    # rounding: trim or top up against the largest strata
    while sum(take.values()) > n:
        code = max(take, key=lambda c: take[c])
        take[code] -= 1
    for code in sorted(spare, key=lambda c: -spare[c]):
        while sum(take.values()) < n and take[code] < dict(sizes.iter_rows())[code]:
            take[code] += 1
    parts = [
        frame.filter(pl.col("code") == code).sample(n=count, seed=seed) for code, count in take.items() if count
    ]
    return pl.concat(parts).sample(fraction=1.0, shuffle=True, seed=seed)


def coding_sheet(sample: pl.DataFrame, posts: pl.DataFrame) -> pl.DataFrame:
    """The hand-coding sheet: each post with its thread's opener and the post it replies
    to (excerpts), a blank `human_code` and `note`; no automated code (coders must not
    see it)."""
    posts = prepare_posts(posts).with_columns(
        channel=posts.get_column("channel").cast(pl.String) if "channel" in posts.columns else pl.lit(None, pl.String)
    )
    sample = sample.select("post_id").join(posts, on="post_id", how="left")
    excerpt = pl.col("body_text").str.slice(0, CONTEXT_CHARS)
    openers = posts.filter(pl.col("is_thread_start")).select(
        "thread_id", thread_title=pl.col("title"), thread_opener=excerpt
    )
    parents = posts.select(parent_post_id="post_id", replying_to=excerpt)
    return (
        sample.join(openers, on="thread_id", how="left")
        .join(parents, on="parent_post_id", how="left")
        .with_columns(
            thread_opener=pl.when(pl.col("is_thread_start")).then(None).otherwise(pl.col("thread_opener")),
            replying_to=pl.when(pl.col("parent_post_id").is_in(openers.get_column("thread_id").implode()))
            .then(None).otherwise(pl.col("replying_to")),
            human_code=pl.lit("", pl.String),
            note=pl.lit("", pl.String),
        )
        .select("post_id", "channel", "thread_title", "thread_opener", "replying_to", "title", "body_text", "human_code", "note")
    )


def write_coding_sheet(sheet: pl.DataFrame, path: Path) -> None:
    """Write the sheet as a spreadsheet-safe CSV (with a BOM, so Excel reads UTF-8)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xef\xbb\xbf" + spreadsheet_safe(sheet).write_csv().encode("utf-8"))


def read_codes(path: str | Path, codes: tuple[str, ...] = REFERENCE_CODES) -> pl.DataFrame:
    """post_id, code from a coding CSV: the column `human_code`, `code` or `primary_code`.

    Blank codes (posts not yet coded) are skipped; an unknown code or a post coded twice
    is an error naming the file and the rows.
    """
    path = Path(path)
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except (OSError, pl.exceptions.PolarsError) as error:
        raise InputError(path, f"not a readable CSV: {str(error).splitlines()[0]}") from error
    column = next((c for c in ("human_code", "code", "primary_code") if c in frame.columns), None)
    if "post_id" not in frame.columns or column is None:
        raise InputError(path, "a coding file needs a post_id column and a human_code (or code) column")
    coded = frame.select(
        pl.col("post_id").str.strip_chars().str.strip_prefix("'"),
        code=pl.col(column).str.strip_chars().str.to_lowercase().str.replace_all(r"[\s-]+", "_"),
    ).filter(pl.col("code").is_not_null() & (pl.col("code") != ""))
    unknown = coded.filter(~pl.col("code").is_in(list(codes)))
    if unknown.height:
        sample = ", ".join(f"{p}={c}" for p, c in unknown.head(3).iter_rows())
        raise InputError(path, f"{unknown.height} unknown code(s) ({sample}); codes are: {', '.join(codes)}")
    twice = coded.filter(pl.col("post_id").is_duplicated()).get_column("post_id").unique()
    if twice.len():
        raise InputError(path, f"{twice.len()} post(s) coded twice, e.g. {twice[0]}")
    return coded


# ---------------------------------------------------------------- statistics
@dataclass
class Agreement:
    n: int
    kappa: float
    alpha: float
    percent_agreement: float
    per_code: pl.DataFrame  # code, support, precision, recall, f1
    confusion: pl.DataFrame  # first-coding code x second-coding code
    rho: float | None
    threshold: float = KAPPA_THRESHOLD
    codes: tuple[str, ...] = field(default_factory=lambda: REFERENCE_CODES)

    @property
    def acceptable(self) -> bool:
        """Kappa at or above the threshold, and (when known) a rho that says it generalizes."""
        return self.kappa >= self.threshold and (self.rho is None or self.rho < 0.05)

    def summary(self) -> str:
        rho = f", rho {self.rho:.3f}" if self.rho is not None else ""
        return f"n={self.n}, kappa {self.kappa:.3f}, alpha {self.alpha:.3f}, agreement {self.percent_agreement:.1%}{rho}"


def cohen_kappa(first: list[str], second: list[str]) -> float:
    from sklearn.metrics import cohen_kappa_score

    if len(set(first) | set(second)) == 1:
        return 1.0
    return float(cohen_kappa_score(first, second))


def agreement(
    first: pl.DataFrame,
    second: pl.DataFrame,
    population: int | None = None,
    threshold: float = KAPPA_THRESHOLD,
    codes: tuple[str, ...] = REFERENCE_CODES,
    seed: int = 1,
) -> Agreement:
    """Agreement between two codings (post_id, code) on the posts both coded.

    `first` is the reference (the human coder); precision and recall score `second`
    against it. `population` is the number of posts the sample stands for (the
    community's posts); with it, Shaffer's rho is computed.
    """
    import krippendorff
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    pairs = first.select("post_id", a="code").join(second.select("post_id", b="code"), on="post_id", how="inner")
    if pairs.height == 0:
        raise InputError(None, "the two codings share no post_id")
    a, b = pairs.get_column("a").to_list(), pairs.get_column("b").to_list()
    index = {code: i for i, code in enumerate(codes)}
    alpha = float(krippendorff.alpha(
        reliability_data=np.array([[index[x] for x in a], [index[y] for y in b]], dtype=float),
        level_of_measurement="nominal",
    )) if len(set(a) | set(b)) > 1 else 1.0
    precision, recall, f1, support = precision_recall_fscore_support(a, b, labels=list(codes), zero_division=0)
    per_code = pl.DataFrame({
        "code": list(codes), "support": support.astype(int), "precision": precision, "recall": recall, "f1": f1,
    })
    matrix = confusion_matrix(a, b, labels=list(codes))
    confusion = pl.DataFrame({"reference": list(codes), **{code: matrix[:, i] for i, code in enumerate(codes)}})
    kappa = cohen_kappa(a, b)
    rho = shaffer_rho(a, kappa, population, threshold, seed) if population else None
    return Agreement(
        n=pairs.height, kappa=kappa, alpha=alpha, percent_agreement=float(np.mean(np.array(a) == np.array(b))),
        per_code=per_code, confusion=confusion, rho=rho, threshold=threshold, codes=codes,
    )


def shaffer_rho(
    reference: list[str],
    observed_kappa: float,
    population: int,
    threshold: float = KAPPA_THRESHOLD,
    seed: int = 1,
    simulations: int = RHO_SIMULATIONS,
) -> float:
    """Shaffer's rho, by Monte Carlo (Shaffer 2017; the method of the rhoR package).

    Simulates codesets of `population` posts whose true kappa is exactly the threshold
    (a second coder who copies the first with probability `threshold` and otherwise draws
    from the same code distribution, so chance-corrected agreement equals the threshold),
    draws samples the size of ours, and returns the share of samples whose kappa reaches
    the observed one: the probability of our result if the population's agreement were
    only at the threshold.
    """
    rng = np.random.default_rng(seed)
    n = len(reference)
    labels, counts = np.unique(np.array(reference), return_counts=True)
    base_rate, k = counts / counts.sum(), len(labels)
    population = max(population, n)

    def kappas(first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """Cohen's kappa of every row pair at once."""
        observed = (first == second).mean(axis=1)
        share_first = (first[..., None] == np.arange(k)).mean(axis=1)
        share_second = (second[..., None] == np.arange(k)).mean(axis=1)
        expected = (share_first * share_second).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(expected < 1, (observed - expected) / (1 - expected), 1.0)

    def codesets(count: int, size: int) -> tuple[np.ndarray, np.ndarray]:
        first = rng.choice(k, size=(count, size), p=base_rate)
        copy = rng.random((count, size)) < threshold
        return first, np.where(copy, first, rng.choice(k, size=(count, size), p=base_rate))

    if population > 20 * n:
        # a population much larger than the sample behaves like an infinite one
        first, second = codesets(simulations, n)
    else:
        # finite population: keep codesets whose own kappa is the threshold (as rhoR
        # does), then draw our sample size from each
        first, second = codesets(simulations * 4, population)
        exact = np.abs(kappas(first, second) - threshold) < 0.02
        first, second = first[exact][:simulations], second[exact][:simulations]
        rows = np.argsort(rng.random(first.shape), axis=1)[:, :n]
        first, second = np.take_along_axis(first, rows, 1), np.take_along_axis(second, rows, 1)
    simulated = kappas(first, second)
    return float(np.mean(simulated >= observed_kappa))
