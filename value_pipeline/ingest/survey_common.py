"""What the survey readers share: wide respondent rows -> long survey_responses.

A platform reader only knows its own file layout. It hands over a wide frame with one
row per respondent (all strings) and these columns:
`_file`, `_row`, `submitted_raw`, `identifier` (email/username or null), `response_id`,
`is_preview`, one column per matched instrument item (named by item id), and one per
question the instrument does not know (named `unmapped:<column>`, see `unmapped_items`):
those answers are kept as text (and as a number when they are one), never dropped.
`to_responses` does the rest: parse times, key respondents, unpivot answers, turn
labels into numbers, keep the latest submission per respondent and wave, and account
for every row and every answer.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from value_pipeline import schema
from value_pipeline.identity import Pseudonymizer
from value_pipeline.ingest.common import (
    Account,
    local_datetime,
    quarantine_frame,
    split_by_reason,
)
from value_pipeline.instrument import (
    MISSING_ANSWERS,
    Instrument,
    normalize_expr,
    normalize_text,
    strip_numbering,
)

# compared after normalizing, except codes such as -99, which must match exactly
MISSING_NORMALIZED = {normalize_text(answer) for answer in MISSING_ANSWERS if not answer.lstrip("-").isdigit()}


def wave_for(path: Path, waves: dict[str, str]) -> str:
    """The wave a survey file belongs to: community.yaml's mapping, else a name in the file name."""
    if path.name in waves:
        return waves[path.name]
    stem = path.stem.lower()
    for wave in ("baseline", "midpoint", "followup", "follow-up", "endline"):
        if wave in stem:
            return wave.replace("-", "")
    return path.stem


UNMAPPED = "unmapped:"


def unmapped_items(columns: dict[str, str]) -> pl.DataFrame:
    """survey_items rows for export questions the instrument does not map: {item_id: question}.

    They belong to no cycle, so no indicator uses them until an evaluator maps them in
    the instrument; the answers stay in survey_responses for inspection.
    """
    rows = [
        {"item_id": item_id, "text": question, "construct": "unmapped", "kind": "unmapped", "evidence_type": "self_report"}
        for item_id, question in columns.items()
    ]
    return schema.conform(pl.DataFrame(rows, schema={k: pl.String for k in ("item_id", "text", "construct", "kind", "evidence_type")}), schema.SURVEY_ITEMS)


def to_responses(
    wide: pl.DataFrame,
    *,
    instrument: Instrument,
    extra_items: pl.DataFrame | None = None,
    community: str,
    wave: str,
    platform: str,
    link_by: str,
    time_formats: list[str],
    timezone: str,
    pseudonymizer: Pseudonymizer,
) -> tuple[pl.DataFrame, pl.DataFrame, list[Account]]:
    """Long survey_responses, quarantine and accounts (respondent rows, answers)."""
    extra_items = extra_items if extra_items is not None else schema.empty(schema.SURVEY_ITEMS)
    item_ids = [item.id for item in instrument.items if item.id in wide.columns]
    item_ids += [item for item in extra_items.get_column("item_id").to_list() if item in wide.columns]
    # Respondents who gave an identifier are keyed by it (and so link to forum members);
    # the others by their response id (or file and row), which links to nothing.
    linked = pseudonymizer.key_series(link_by, wide.get_column("identifier"), platform)
    anonymous = pseudonymizer.key_series(
        "response",
        wide.select(pl.coalesce("response_id", pl.col("_file") + ":" + pl.col("_row").cast(pl.String))).to_series(),
        platform,
    )
    rows = wide.with_columns(
        submitted_at=local_datetime("submitted_raw", time_formats, timezone),
        respondent_key=pl.coalesce(linked, anonymous),
    )
    rows = rows.with_columns(
        latest=pl.col("submitted_at") == pl.col("submitted_at").max().over("respondent_key")
    ).with_columns(
        # exactly one row per respondent: the latest; ties broken by file order
        keep=pl.col("latest") & (pl.int_range(pl.len()).over("respondent_key", "latest") == 0),
    )
    rows = rows.with_columns(
        reason=pl.when(pl.col("is_preview")).then(pl.lit("excluded: survey preview or test response"))
        .when(pl.col("submitted_at").is_null()).then(pl.lit("missing or unreadable submission time"))
        .when(~pl.col("keep")).then(pl.lit("superseded by a later submission from the same respondent"))
        .otherwise(None)
    )
    accepted_rows, rejected_rows = split_by_reason(rows)
    row_quarantine = quarantine_frame(
        # A platform's response id leads back to the respondent inside the platform:
        # the quarantine keeps the file, row and time only.
        community, "survey_responses", rejected_rows.rename({"_file": "source_file", "_row": "source_row"}),
        ["submitted_raw"],
    )
    row_account = Account("survey_responses", f"{wave} respondent row", wide.height, accepted_rows.height, row_quarantine.height)

    consent_item = next((item.id for item in instrument.items if item.kind == "consent"), None)
    long = (
        accepted_rows.select("_file", "_row", "respondent_key", "submitted_at", *item_ids)
        .unpivot(index=["_file", "_row", "respondent_key", "submitted_at"], on=item_ids, variable_name="item_id", value_name="answer")
        .with_columns(answer=pl.col("answer").cast(pl.String).str.strip_chars())
        .filter(
            pl.col("answer").is_not_null()
            & ~pl.col("answer").is_in(sorted(MISSING_ANSWERS))
            & ~normalize_expr(pl.col("answer")).is_in(sorted(MISSING_NORMALIZED))
        )
    )
    items = pl.concat([instrument.items_frame(), extra_items]).select("item_id", "kind", "scale_min", "scale_max")
    codes = instrument.answer_codes()
    long = (
        long.join(items, on="item_id", how="left")
        .with_columns(answer_norm=normalize_expr(pl.col("answer")))
        .with_columns(answer_unnumbered=strip_numbering(pl.col("answer_norm")))
        .join(codes, left_on=["item_id", "answer_norm"], right_on=["item_id", "answer"], how="left")
        .join(codes.rename({"code": "code_unnumbered"}), left_on=["item_id", "answer_unnumbered"], right_on=["item_id", "answer"], how="left")
        .with_columns(number=pl.coalesce("code", pl.col("answer").cast(pl.Float64, strict=False), "code_unnumbered"))
        .with_columns(
            reason=pl.when(pl.col("kind").is_in(["open", "unmapped"])).then(None)
            .when(pl.col("number").is_null()).then(pl.lit("unrecognised answer for a scale item"))
            .when((pl.col("number") < pl.col("scale_min")) | (pl.col("number") > pl.col("scale_max")))
            .then(pl.lit("answer outside the item's scale"))
            .otherwise(None)
        )
    )
    accepted, rejected = split_by_reason(long)
    consent = (
        accepted.filter(pl.col("item_id") == consent_item).select("respondent_key", consent=pl.col("number") == 1)
        if consent_item
        else pl.DataFrame(schema={"respondent_key": pl.String, "consent": pl.Boolean})
    )
    responses = accepted.join(consent, on="respondent_key", how="left").select(
        community=pl.lit(community),
        wave=pl.lit(wave),
        respondent_key="respondent_key",
        member_key=pl.lit(None, pl.String),
        submitted_at="submitted_at",
        item_id="item_id",
        value_num=pl.when(pl.col("kind") == "open").then(None).otherwise(pl.col("number")),
        value_text=pl.when(pl.col("kind").is_in(["open", "unmapped"])).then(pl.col("answer")).otherwise(None),
        consent_to_quote=pl.col("consent").fill_null(False),
        source_file="_file",
        source_row="_row",
    )
    responses = schema.conform(responses, schema.SURVEY_RESPONSES)
    answer_quarantine = quarantine_frame(
        community, "survey_answers",
        rejected.rename({"_file": "source_file", "_row": "source_row"}).with_columns(
            reason=pl.col("reason") + pl.lit(" (") + pl.col("item_id") + pl.lit(")")
        ),
        ["item_id", "answer"],
    )
    answer_account = Account("survey_responses", f"{wave} answer", long.height, responses.height, answer_quarantine.height)
    return responses, pl.concat([row_quarantine, answer_quarantine]), [row_account, answer_account]


def link_members(responses: pl.DataFrame, members: pl.DataFrame) -> pl.DataFrame:
    """Set member_key where a respondent's key is a forum member's author_key."""
    known = members.get_column("author_key").implode()
    return responses.with_columns(
        member_key=pl.when(pl.col("respondent_key").is_in(known)).then(pl.col("respondent_key")).otherwise(None)
    )
