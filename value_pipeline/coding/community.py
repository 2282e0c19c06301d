"""Coding one community: which coder, and how well it agrees with the community's own
hand-coded posts.

Hand codes live in the community folder, `coding/*.csv` (sheets written by
`value-pipeline sample` and filled in by evaluators: post_id and human_code). With them:
- the default coder's agreement with the hand codes is measured (kappa, alpha, rho);
- with at least MIN_HAND_CODED posts, a community model is trained on the development
  gold set plus the community's codes and cross-validated on the community's codes; it
  replaces the default only where its cross-validated kappa is higher.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from value_pipeline.coding.agreement import (
    KAPPA_THRESHOLD,
    Agreement,
    agreement,
    read_codes,
)
from value_pipeline.coding.codebook import load_codebook
from value_pipeline.coding.coder import default_coder
from value_pipeline.coding.gold_set import gold_posts
from value_pipeline.coding.model import train

MIN_HAND_CODED = 100
FOLDS = 5


@dataclass
class CommunityCoding:
    coded: pl.DataFrame
    coder: str
    agreement: Agreement | None  # of the chosen coder with the hand codes (cross-validated for a community model)
    hand_coded: int
    note: str
    threshold: float = KAPPA_THRESHOLD


def hand_codes(folder: Path) -> pl.DataFrame | None:
    """Every hand-coded post in the community's coding/ folder (post_id, code), or None."""
    files = sorted((folder / "coding").glob("*.csv")) if (folder / "coding").is_dir() else []
    if not files:
        return None
    codes = pl.concat([read_codes(path) for path in files]).unique("post_id", keep="last")
    return codes if codes.height else None


def code_community(posts: pl.DataFrame, folder: Path | None = None, threshold: float = KAPPA_THRESHOLD) -> CommunityCoding:
    """Code a community's posts with the best coder its hand codes support."""
    default = default_coder()
    coded = default(posts)
    coder = coded.get_column("coder").first() if coded.height else "none"
    human = hand_codes(folder) if folder is not None else None
    if human is None:
        return CommunityCoding(coded, coder, None, 0, "no hand-coded posts: agreement on this community not measured", threshold)
    human = human.join(posts.select("post_id"), on="post_id", how="semi")
    measured = agreement(human, coded, population=posts.height, threshold=threshold)
    if human.height < MIN_HAND_CODED:
        return CommunityCoding(coded, coder, measured, human.height,
                               f"{human.height} hand-coded posts (a community model needs {MIN_HAND_CODED})", threshold)
    community_kappa, community_agreement = _cross_validate(posts, human, threshold)
    if community_kappa <= measured.kappa:
        return CommunityCoding(coded, coder, measured, human.height,
                               f"community model (cross-validated kappa {community_kappa:.2f}) does not beat {coder}", threshold)
    gold_frame, gold = gold_posts()
    model = train(pl.concat([gold_frame, posts.select(gold_frame.columns)]), pl.concat([gold.select("post_id", "code"), human]),
                  name=f"{posts.get_column('community').first()}-v1")
    return CommunityCoding(model.code(posts), model.coder, community_agreement, human.height,
                           f"community model chosen: cross-validated kappa {community_kappa:.2f} vs {measured.kappa:.2f} for {coder}",
                           threshold)


def _cross_validate(posts: pl.DataFrame, human: pl.DataFrame, threshold: float) -> tuple[float, Agreement]:
    gold_frame, gold = gold_posts()
    frame = pl.concat([gold_frame, posts.select(gold_frame.columns)])
    ids = human.get_column("post_id").to_list()
    folds = np.random.default_rng(0).permutation(len(ids)) % FOLDS
    predictions = []
    for fold in range(FOLDS):
        held = [post for post, f in zip(ids, folds, strict=True) if f == fold]
        labels = pl.concat([gold.select("post_id", "code"), human.filter(~pl.col("post_id").is_in(held))])
        model = train(frame, labels, "cv", load_codebook())
        predictions.append(model.code(posts).filter(pl.col("post_id").is_in(held)).select("post_id", "code"))
    result = agreement(human, pl.concat(predictions), population=posts.height, threshold=threshold)
    return result.kappa, result


def agreement_frame(result: CommunityCoding) -> pl.DataFrame:
    """The coding agreement as a one-row table (stored, and read by the report)."""
    from value_pipeline.coding.model import shipped_model

    shipped = shipped_model()
    measured = result.agreement
    return pl.DataFrame(
        [{
            "coder": result.coder,
            "hand_coded": result.hand_coded,
            "kappa": measured.kappa if measured else None,
            "alpha": measured.alpha if measured else None,
            "rho": measured.rho if measured else None,
            "percent_agreement": measured.percent_agreement if measured else None,
            "threshold": result.threshold,
            "acceptable": measured.acceptable if measured else None,
            "development_kappa": shipped.training.get("cv_kappa") if shipped else None,
            "note": result.note,
        }],
        schema={"coder": pl.String, "hand_coded": pl.Int64, "kappa": pl.Float64, "alpha": pl.Float64, "rho": pl.Float64,
                "percent_agreement": pl.Float64, "threshold": pl.Float64, "acceptable": pl.Boolean,
                "development_kappa": pl.Float64, "note": pl.String},
    )
