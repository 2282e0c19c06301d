"""Survey measures per quarter: item means, agreement, yes-shares, and story coverage.

A survey wave belongs to one quarter: the one holding the median of its submission
times, so a wave that runs across a quarter's end is not split in two. Means and
shares are over the respondents who answered the item ("don't know" and blanks are
missing, not zero); the respondent count travels with every figure so that disclosure
control can suppress small groups.
"""

from __future__ import annotations

import polars as pl

from value_pipeline.periods import Quarter, quarter_label

AGREE_AT = 4  # on a 1-5 agreement scale, 4 (agree) and 5 (strongly agree) count as agreeing
STORY_ITEMS_MIN_WORDS = 3  # a story prompt counts as answered with at least this many words


def wave_quarters(responses: pl.DataFrame) -> pl.DataFrame:
    """Each wave's quarter (`2026-Q1`), from the median submission time of its responses."""
    return responses.group_by("wave").agg(median=pl.col("submitted_at").median()).select(
        "wave", quarter=quarter_label("median")
    )


def quarter_responses(responses: pl.DataFrame, quarter: Quarter) -> pl.DataFrame:
    """Responses of the waves that belong to the quarter."""
    waves = wave_quarters(responses).filter(pl.col("quarter") == quarter.label).get_column("wave")
    return responses.filter(pl.col("wave").is_in(waves.implode()))


def scored_responses(responses: pl.DataFrame, items: pl.DataFrame, quarter: Quarter) -> pl.DataFrame:
    """The quarter's answers to scale items (agreement and yes/no), with `value`:
    the answer, reverse-coded items reversed; blanks and "don't know" left out."""
    return (
        quarter_responses(responses, quarter)
        .filter(pl.col("value_num").is_not_null())
        .join(items.filter(pl.col("kind").is_in(["likert", "yes_no"])), on="item_id", how="inner")
        .with_columns(
            value=pl.when(pl.col("reverse_coded"))
            .then(pl.col("scale_max") + pl.col("scale_min") - pl.col("value_num"))
            .otherwise(pl.col("value_num"))
        )
    )


def summarise_items(scored: pl.DataFrame, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Per scale item (and per `by` group): respondents, mean, share_positive (agree or
    strongly agree; yes for yes/no items) and how many respondents link to members."""
    return (
        scored.group_by("item_id", "kind", "construct", "cycle", "capital", "evidence_type", *by)
        .agg(
            respondents=pl.col("respondent_key").n_unique(),
            mean=pl.col("value").mean(),
            share_positive=pl.when(pl.col("kind").first() == "yes_no")
            .then((pl.col("value") == 1).mean())
            .otherwise((pl.col("value") >= AGREE_AT).mean()),
            linked=pl.col("member_key").drop_nulls().n_unique(),
        )
        .sort("cycle", "item_id", *by)
    )


def item_summaries(responses: pl.DataFrame, items: pl.DataFrame, quarter: Quarter) -> pl.DataFrame:
    """Per scale item answered in the quarter: respondents, mean, and share agreeing/yes.

    `share_positive` is the share answering agree or strongly agree (agreement items)
    or yes (yes/no items), reverse-coded items reversed first.
    """
    return summarise_items(scored_responses(responses, items, quarter))


def story_coverage(responses: pl.DataFrame, items: pl.DataFrame, quarter: Quarter) -> pl.DataFrame:
    """Value-creation stories told in the quarter and the cycles each reaches.

    A story is one respondent's answers to the five story prompts; it reaches a cycle
    when the prompt for that cycle has a substantive answer (a few words, not "n/a").
    Returns one row per story: respondent_key, wave, consent_to_quote, cycles (list).
    """
    story_items = items.filter(pl.col("evidence_type") == "story").select("item_id", "cycle")
    answered = (
        quarter_responses(responses, quarter)
        .join(story_items, on="item_id", how="inner")
        .filter(pl.col("value_text").str.count_matches(r"\S+") >= STORY_ITEMS_MIN_WORDS)
    )
    return (
        answered.group_by("respondent_key", "wave")
        .agg(
            consent_to_quote=pl.col("consent_to_quote").any(),
            cycles=pl.col("cycle").unique().sort(),
            member_key=pl.col("member_key").drop_nulls().first(),
        )
        .sort("respondent_key")
    )
