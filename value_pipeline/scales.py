"""Survey scales: scores, reliability, item response rates and change between waves.

A scale score (instrument `scale_scores`) is a respondent's mean over the scale's items,
reverse-coded items reversed, when they answered at least `min_items` of them ("don't
know" and blanks are missing, never zero). Reliability says whether the items measure
one thing: Cronbach's alpha and McDonald's omega (from a one-factor model), both over
respondents who answered every item. Change is paired: only respondents who have a
score in both waves count, so a wave-to-wave difference is not a difference between two
different groups of people.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from value_pipeline.instrument import ScaleScore
from value_pipeline.surveys import wave_quarters


def waves_in_order(responses: pl.DataFrame) -> list[str]:
    """Survey waves ordered by the median time of their submissions."""
    return (
        responses.group_by("wave").agg(median=pl.col("submitted_at").median())
        .sort("median", "wave").get_column("wave").to_list()
    )


def waves_of_quarter(responses: pl.DataFrame, quarter) -> list[str]:
    """The waves that belong to the quarter (see surveys.wave_quarters)."""
    return wave_quarters(responses).filter(pl.col("quarter") == quarter.label).get_column("wave").sort().to_list()


def scored_items(responses: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """Answers to scale items with `value` reverse-coded where the item says so:
    respondent_key, member_key, wave, item_id, value."""
    scale_items = items.filter(pl.col("kind").is_in(["likert", "yes_no"])).select("item_id", "reverse_coded", "scale_min", "scale_max")
    return responses.filter(pl.col("value_num").is_not_null()).join(scale_items, on="item_id", how="inner").select(
        "respondent_key", "member_key", "wave", "item_id",
        value=pl.when(pl.col("reverse_coded")).then(pl.col("scale_min") + pl.col("scale_max") - pl.col("value_num"))
        .otherwise(pl.col("value_num")),
    )


def scale_scores(responses: pl.DataFrame, items: pl.DataFrame, scales: list[ScaleScore]) -> pl.DataFrame:
    """Per respondent, wave and scale: score (mean of the answered items) and answered,
    for respondents who answered at least the scale's required number of items."""
    answers = scored_items(responses, items)
    membership = pl.DataFrame(
        [{"scale": scale.id, "item_id": item, "required": scale.required} for scale in scales for item in scale.items],
        schema={"scale": pl.String, "item_id": pl.String, "required": pl.Int64},
    )
    return (
        answers.join(membership, on="item_id", how="inner")
        .group_by("respondent_key", "wave", "scale")
        .agg(member_key=pl.col("member_key").drop_nulls().first(), score=pl.col("value").mean(),
             answered=pl.len(), required=pl.col("required").first())
        .filter(pl.col("answered") >= pl.col("required"))
        .drop("required")
        .sort("scale", "wave", "respondent_key")
    )


def item_matrix(responses: pl.DataFrame, items: pl.DataFrame, scale: ScaleScore, wave: str) -> np.ndarray:
    """Respondents (rows) who answered every item of the scale in the wave, by item
    (columns, in the scale's order), reverse coding applied."""
    answers = scored_items(responses.filter(pl.col("wave") == wave), items).filter(pl.col("item_id").is_in(scale.items))
    if answers.height == 0:
        return np.empty((0, len(scale.items)))
    wide = answers.pivot(on="item_id", index="respondent_key", values="value", aggregate_function="first")
    missing = [item for item in scale.items if item not in wide.columns]
    if missing:
        return np.empty((0, len(scale.items)))
    return wide.select(scale.items).drop_nulls().to_numpy().astype(float)


def cronbach_alpha(matrix: np.ndarray) -> float | None:
    """Cronbach's alpha: k/(k-1) * (1 - sum of item variances / variance of the total).
    None with fewer than two items or two respondents, or when totals do not vary."""
    n, k = matrix.shape
    if k < 2 or n < 2:
        return None
    total_variance = matrix.sum(axis=1).var(ddof=1)
    if total_variance == 0:
        return None
    return float(k / (k - 1) * (1 - matrix.var(axis=0, ddof=1).sum() / total_variance))


def mcdonald_omega(matrix: np.ndarray) -> float | None:
    """McDonald's omega (total) from a one-factor model of the standardized items
    (scikit-learn's maximum-likelihood FactorAnalysis): (sum of loadings)^2 /
    ((sum of loadings)^2 + sum of unique variances). Unlike alpha it does not assume
    every item measures the construct equally well. None with fewer than three items
    (a one-factor model is not identified), more items than respondents, or an item
    that does not vary."""
    from sklearn.decomposition import FactorAnalysis

    n, k = matrix.shape
    if k < 3 or n <= k:
        return None
    spread = matrix.std(axis=0, ddof=1)
    if (spread == 0).any():
        return None
    standardized = (matrix - matrix.mean(axis=0)) / spread
    model = FactorAnalysis(n_components=1, random_state=0).fit(standardized)
    loadings = np.abs(model.components_.ravel())  # the sign of a single factor is arbitrary
    common = loadings.sum() ** 2
    return float(common / (common + model.noise_variance_.sum()))


def reliability(responses: pl.DataFrame, items: pl.DataFrame, scale: ScaleScore, wave: str) -> dict:
    """complete (respondents who answered every item), alpha and omega for one wave."""
    matrix = item_matrix(responses, items, scale, wave)
    return {"complete": matrix.shape[0], "alpha": cronbach_alpha(matrix), "omega": mcdonald_omega(matrix)}


def response_rates(responses: pl.DataFrame, items: pl.DataFrame, wave: str) -> pl.DataFrame:
    """Per scale or story item: respondents of the wave who answered it, and the rate
    (a low rate flags a question people skip or do not understand)."""
    in_wave = responses.filter(pl.col("wave") == wave)
    respondents = in_wave.get_column("respondent_key").n_unique()
    asked = items.filter(pl.col("kind").is_in(["likert", "yes_no", "open"])).select("item_id")
    answered = (
        in_wave.filter(pl.col("value_num").is_not_null() | (pl.col("value_text").str.strip_chars().str.len_chars() > 0))
        .group_by("item_id").agg(answered=pl.col("respondent_key").n_unique())
    )
    return asked.join(answered, on="item_id", how="left").with_columns(
        answered=pl.col("answered").fill_null(0).cast(pl.Int64), respondents=pl.lit(respondents, pl.Int64),
    ).with_columns(rate=pl.col("answered") / pl.col("respondents") if respondents else pl.lit(None, pl.Float64))


def _paired_statistics(differences: np.ndarray) -> dict:
    """n, mean difference, its 95% confidence interval (t distribution) and Cohen's d_z
    (mean difference over the standard deviation of the differences)."""
    from scipy import stats

    n = len(differences)
    if n == 0:
        return {"n": 0, "mean_difference": None, "ci_low": None, "ci_high": None, "effect_size": None}
    mean = float(differences.mean())
    if n < 2:
        return {"n": n, "mean_difference": mean, "ci_low": None, "ci_high": None, "effect_size": None}
    sd = float(differences.std(ddof=1))
    margin = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return {
        "n": n, "mean_difference": mean, "ci_low": mean - margin, "ci_high": mean + margin,
        "effect_size": mean / sd if sd > 1e-9 else None,  # identical changes: no spread, no standardized size
    }


def paired_differences(scores: pl.DataFrame, scale: str, earlier: str, later: str) -> pl.DataFrame:
    """respondent_key, member_key, difference (later - earlier) for respondents with a
    score on `scale` in both waves."""
    before = scores.filter((pl.col("scale") == scale) & (pl.col("wave") == earlier)).select("respondent_key", before="score")
    after = scores.filter((pl.col("scale") == scale) & (pl.col("wave") == later)).select("respondent_key", "member_key", after="score")
    return after.join(before, on="respondent_key", how="inner").select(
        "respondent_key", "member_key", difference=pl.col("after") - pl.col("before")
    )


def paired_change(scores: pl.DataFrame, scale: str, earlier: str, later: str) -> dict:
    """Wave-to-wave change on a scale for respondents who answered both waves: n, mean
    difference, 95% confidence interval and effect size (Cohen's d_z)."""
    differences = paired_differences(scores, scale, earlier, later)
    return _paired_statistics(differences.get_column("difference").to_numpy())


def change_by_tier(scores: pl.DataFrame, tiers: pl.DataFrame, scale: str, earlier: str, later: str) -> pl.DataFrame:
    """Paired change per tier group (the member's tier in the later wave's quarter):
    tier_group, n, mean_difference, ci_low, ci_high, effect_size."""
    from value_pipeline.participation.value_by_tier import GROUPS, TIER_GROUPS

    differences = paired_differences(scores, scale, earlier, later).join(
        tiers.select(member_key="author_key", tier="tier"), on="member_key", how="inner"
    ).with_columns(tier_group=pl.col("tier").replace_strict(TIER_GROUPS, default=None)).drop_nulls("tier_group")
    rows = []
    for group in GROUPS:
        values = differences.filter(pl.col("tier_group") == group).get_column("difference").to_numpy()
        rows.append({"tier_group": group, **_paired_statistics(values)})
    return pl.DataFrame(rows, schema={"tier_group": pl.String, "n": pl.Int64, "mean_difference": pl.Float64,
                                      "ci_low": pl.Float64, "ci_high": pl.Float64, "effect_size": pl.Float64})
