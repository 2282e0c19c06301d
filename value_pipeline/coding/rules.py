"""The rule-based coder (`rules:v<codebook version>`): one primary code per post.

Each code's score is the weighted count of its codebook signals in the post's text,
plus thread-position rules the reference codebook's tie-breaks call for:
- a reply to a question, by someone other than the asker, is a candidate answer;
- the asker's own reply in their thread is dialogue (thanks, follow-up), not an answer;
- an opening post with a link and no ask is unprompted sharing; a link in a reply
  answering a question is prompted sharing (an answer);
- replies to a struggle are often support, replies to a success often celebration.
The primary code is the highest score; ties go to the code higher in the codebook.
Confidence is the top score's share of all positive score mass, a rough but monotone
guide to how clear-cut the post was.
"""

from __future__ import annotations

import polars as pl

from value_pipeline import schema
from value_pipeline.coding.codebook import Codebook, load_codebook

MIN_SCORE = 1.0  # below this no code has real evidence: fall back to the position default


def _signal_score(text: pl.Expr, code) -> pl.Expr:
    terms = [
        pl.when(text.str.contains(f"(?i){signal.pattern}")).then(signal.weight).otherwise(0.0)
        for signal in code.signals
    ]
    return pl.sum_horizontal(terms) if terms else pl.lit(0.0)


def _thread_context(posts: pl.DataFrame) -> pl.DataFrame:
    """Per post: the thread opener's author and whether the opener asks or struggles."""
    starts = posts.filter(pl.col("is_thread_start")).select(
        "thread_id",
        starter_key=pl.col("author_key"),
        starter_text=(pl.col("title").fill_null("") + "\n" + pl.col("body_text").fill_null("")).str.to_lowercase(),
    )
    return posts.join(starts, on="thread_id", how="left")


def code_posts(posts: pl.DataFrame, codebook: Codebook | None = None) -> pl.DataFrame:
    """coded_posts for every post: post_id, code, confidence, coder."""
    codebook = codebook or load_codebook()
    if posts.height == 0:
        return schema.empty(schema.CODED_POSTS)
    frame = _thread_context(posts.select(
        "community", "post_id", "thread_id", "author_key", "is_thread_start", "title", "body_text",
        pl.col("n_links").fill_null(0), pl.col("n_attachments").fill_null(0), pl.col("is_staff").fill_null(False),
    ))
    text = (pl.col("title").fill_null("") + "\n" + pl.col("body_text").fill_null("")).str.to_lowercase()
    by_id = {code.id: code for code in codebook.codes}
    starter = pl.col("starter_text").fill_null("")
    starter_asks = _signal_score(starter, by_id["question"]) >= 1.0
    starter_struggles = _signal_score(starter, by_id["support"]) >= 1.5
    starter_celebrates = _signal_score(starter, by_id["celebration"]) >= 2.0
    start = pl.col("is_thread_start")
    reply = ~start
    own_thread = reply & (pl.col("author_key") == pl.col("starter_key")).fill_null(False)
    asks = text.str.contains(r"\?")
    has_link = (pl.col("n_links") + pl.col("n_attachments")) > 0
    words = text.str.count_matches(r"\S+")

    position = {
        "question": pl.when(start & asks).then(1.5).when(reply & ~own_thread).then(-1.0).otherwise(0.0),
        "answer": pl.when(start).then(-5.0)
        .when(own_thread).then(-2.0)
        .when(starter_asks).then(1.2 + pl.when(has_link).then(1.0).otherwise(0.0))
        .otherwise(0.0),
        "practice_report": pl.lit(0.0),
        "resource_share": pl.when(start & has_link & ~asks).then(2.5)
        .when(reply & starter_asks & ~own_thread).then(-2.0)
        .otherwise(0.0),
        "reflection": pl.when(words > 120).then(0.8).otherwise(0.0),
        "support": pl.when(reply & starter_struggles & ~own_thread).then(1.5).otherwise(0.0),
        "celebration": pl.when(reply & starter_celebrates & ~own_thread).then(1.0).otherwise(0.0),
        "social": pl.when(own_thread & (words < 25)).then(0.5).when(words < 8).then(0.5).otherwise(0.0),
        "other": pl.when(start & pl.col("is_staff") & ~asks).then(0.8).otherwise(0.0),
    }
    scores = [
        (_signal_score(text, code) + position.get(code.id, pl.lit(0.0))).alias(code.id)
        for code in codebook.codes
    ]
    scored = frame.with_columns(scores)
    ids = codebook.ids
    best = pl.concat_list(ids).list.arg_max()  # first maximum: the codebook order breaks ties
    top = pl.max_horizontal(ids)
    mass = pl.sum_horizontal([pl.col(code).clip(lower_bound=0) for code in ids])
    fallback = (
        pl.when(reply & starter_asks & ~own_thread).then(pl.lit("answer"))
        .when(start & asks).then(pl.lit("question"))
        .otherwise(pl.lit("social"))
    )
    coded = scored.select(
        "community",
        "post_id",
        code=pl.when(top >= MIN_SCORE).then(best.replace_strict(dict(enumerate(ids)), return_dtype=pl.String))
        .otherwise(fallback),
        confidence=pl.when(top >= MIN_SCORE).then((top / (mass + 1.0)).clip(0.2, 0.95)).otherwise(0.2),
        coder=pl.lit(f"rules:v{codebook.version}"),
    )
    return schema.conform(coded, schema.CODED_POSTS)
