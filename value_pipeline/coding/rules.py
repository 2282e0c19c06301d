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

`post_features` exposes the scores and the position flags, which the learned coder
(model.py) uses as features beside the words.
"""

from __future__ import annotations

import polars as pl

from value_pipeline import schema
from value_pipeline.coding.codebook import Codebook, load_codebook
from value_pipeline.text import URL_PATTERN

MIN_SCORE = 1.0  # below this no code has real evidence: fall back to the position default
FLAGS = (
    "is_start", "own_thread", "starter_asks", "starter_struggles", "starter_celebrates",
    "has_link", "asks", "is_staff", "log_words",
)


def _signal_score(text: pl.Expr, code) -> pl.Expr:
    """Weighted count of a code's signals in `text`, which is already lowercase (so the
    patterns run case-sensitive: markedly faster than case-insensitive matching)."""
    terms = [
        pl.when(text.str.contains(signal.pattern)).then(signal.weight).otherwise(0.0)
        for signal in code.signals
    ]
    return pl.sum_horizontal(terms) if terms else pl.lit(0.0)


def prepare_posts(posts: pl.DataFrame) -> pl.DataFrame:
    """The columns coding uses, from canonical posts or any table with post_id and
    body_text (missing thread structure means each post stands alone)."""
    columns = set(posts.columns)
    if not {"post_id", "body_text"} <= columns:
        raise ValueError("posts to code need post_id and body_text")

    def have(name, default):
        return pl.col(name) if name in columns else default

    frame = posts.select(
        community=have("community", pl.lit("")).cast(pl.String),
        post_id=pl.col("post_id").cast(pl.String),
        thread_id=have("thread_id", pl.col("post_id")).cast(pl.String),
        parent_post_id=have("parent_post_id", pl.lit(None, pl.String)).cast(pl.String),
        author_key=have("author_key", pl.lit(None, pl.String)).cast(pl.String),
        title=have("title", pl.lit(None, pl.String)).cast(pl.String),
        body_text=pl.col("body_text").cast(pl.String),
        n_links=have("n_links", pl.col("body_text").cast(pl.String).str.count_matches(URL_PATTERN)).cast(pl.Int64),
        n_attachments=have("n_attachments", pl.lit(0)).cast(pl.Int64),
        is_staff=have("is_staff", pl.lit(False)).cast(pl.Boolean),
        is_thread_start=have("is_thread_start", pl.lit(None, pl.Boolean)).cast(pl.Boolean),
    )
    return frame.with_columns(
        thread_id=pl.coalesce("thread_id", "post_id"),
        is_thread_start=pl.coalesce("is_thread_start", pl.col("parent_post_id").is_null()),
        n_links=pl.col("n_links").fill_null(0),
        n_attachments=pl.col("n_attachments").fill_null(0),
        is_staff=pl.col("is_staff").fill_null(False),
    )


def post_features(posts: pl.DataFrame, codebook: Codebook) -> pl.DataFrame:
    """Per post: `text` (title + body, lowercase), a rule score per code (`score_<code>`)
    and the thread-position flags of FLAGS."""
    frame = prepare_posts(posts)
    starts = frame.filter(pl.col("is_thread_start")).select(
        "thread_id",
        starter_key=pl.col("author_key"),
        starter_text=(pl.col("title").fill_null("") + "\n" + pl.col("body_text").fill_null("")).str.to_lowercase(),
    ).unique("thread_id", keep="first")
    frame = frame.join(starts, on="thread_id", how="left")
    by_id = {code.id: code for code in codebook.codes}
    text = pl.col("text")
    starter = pl.col("starter_text").fill_null("")
    start = pl.col("is_thread_start")
    reply = ~start
    own_thread = reply & (pl.col("author_key") == pl.col("starter_key")).fill_null(False)
    frame = frame.with_columns(
        text=(pl.col("title").fill_null("") + "\n" + pl.col("body_text").fill_null("")).str.to_lowercase()
    ).with_columns(
        is_start=start,
        own_thread=own_thread,
        starter_asks=reply & (_signal_score(starter, by_id["question"]) >= 1.0),
        starter_struggles=reply & (_signal_score(starter, by_id["support"]) >= 1.5),
        starter_celebrates=reply & (_signal_score(starter, by_id["celebration"]) >= 2.0),
        has_link=(pl.col("n_links") + pl.col("n_attachments")) > 0,
        asks=text.str.contains(r"\?"),
        words=text.str.count_matches(r"\S+"),
    )
    f = pl.col
    position = {
        "question": pl.when(f("is_start") & f("asks")).then(1.5).when(~f("is_start") & ~f("own_thread")).then(-1.0).otherwise(0.0),
        "answer": pl.when(f("is_start")).then(-5.0)
        .when(f("own_thread")).then(-2.0)
        .when(f("starter_asks")).then(1.2 + pl.when(f("has_link")).then(1.0).otherwise(0.0))
        .otherwise(0.0),
        "practice_report": pl.lit(0.0),
        "resource_share": pl.when(f("is_start") & f("has_link") & ~f("asks")).then(2.5)
        .when(f("starter_asks") & ~f("own_thread")).then(-2.0)
        .otherwise(0.0),
        "reflection": pl.when(f("words") > 120).then(0.8).otherwise(0.0),
        "support": pl.when(f("starter_struggles") & ~f("own_thread")).then(1.5).otherwise(0.0),
        "celebration": pl.when(f("starter_celebrates") & ~f("own_thread")).then(1.0).otherwise(0.0),
        "social": pl.when(f("own_thread") & (f("words") < 25)).then(0.5).when(f("words") < 8).then(0.5).otherwise(0.0),
        "other": pl.when(f("is_start") & f("is_staff") & ~f("asks")).then(0.8).otherwise(0.0),
    }
    return frame.with_columns(
        [(_signal_score(text, code) + position.get(code.id, pl.lit(0.0))).alias(f"score_{code.id}") for code in codebook.codes]
        + [pl.col("words").cast(pl.Float64).log1p().alias("log_words")]
    )


def code_posts(posts: pl.DataFrame, codebook: Codebook | None = None) -> pl.DataFrame:
    """coded_posts for every post: post_id, code, confidence, coder."""
    codebook = codebook or load_codebook()
    if posts.height == 0:
        return schema.empty(schema.CODED_POSTS)
    scored = post_features(posts, codebook)
    ids = codebook.ids
    columns = [f"score_{code}" for code in ids]
    best = pl.concat_list(columns).list.arg_max()  # first maximum: the codebook order breaks ties
    top = pl.max_horizontal(columns)
    mass = pl.sum_horizontal([pl.col(c).clip(lower_bound=0) for c in columns])
    fallback = (
        pl.when(pl.col("starter_asks") & ~pl.col("own_thread")).then(pl.lit("answer"))
        .when(pl.col("is_start") & pl.col("asks")).then(pl.lit("question"))
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
