"""Canonical tables: the data contract every reader produces and every stage reads.

Each table is a polars schema (column name -> dtype). Readers build their frames with
`conform(frame, SCHEMA)`, which selects, orders and casts the columns, so a reader cannot
leak an extra column (a raw username, say) into a canonical table by accident.
"""

from __future__ import annotations

import polars as pl

UTC_TIME = pl.Datetime("us", "UTC")

POSTS = pl.Schema(
    {
        "community": pl.String,
        "platform": pl.String,
        "post_id": pl.String,
        "thread_id": pl.String,
        "parent_post_id": pl.String,  # null for a thread start
        "author_key": pl.String,  # pseudonymous (identity.Pseudonymizer)
        "created_at": UTC_TIME,
        "channel": pl.String,
        "title": pl.String,
        "body_text": pl.String,  # plain text, HTML stripped
        "is_thread_start": pl.Boolean,
        "n_reactions": pl.Int64,
        "n_links": pl.Int64,
        "n_attachments": pl.Int64,
        "is_staff": pl.Boolean,
        "source_file": pl.String,
        "source_row": pl.Int64,
    }
)

MEMBERS = pl.Schema(
    {
        "community": pl.String,
        "author_key": pl.String,
        "joined_at": UTC_TIME,
        "role": pl.String,  # member | staff | moderator | facilitator | bot
        "is_staff": pl.Boolean,
        "posts_read": pl.Int64,  # null where the platform does not report reading
        "days_visited": pl.Int64,
        "last_seen_at": UTC_TIME,
    }
)

SURVEY_RESPONSES = pl.Schema(
    {
        "community": pl.String,
        "wave": pl.String,
        "respondent_key": pl.String,
        "member_key": pl.String,  # the linked author_key; null when not linked
        "submitted_at": UTC_TIME,
        "item_id": pl.String,
        "value_num": pl.Float64,
        "value_text": pl.String,
        "consent_to_quote": pl.Boolean,
        "source_file": pl.String,
        "source_row": pl.Int64,
    }
)

SURVEY_ITEMS = pl.Schema(
    {
        "item_id": pl.String,
        "text": pl.String,
        "construct": pl.String,
        "cycle": pl.Int64,  # 1..5, FRAMEWORK.md; null for consent/identifier items
        "capital": pl.String,  # cycle 2 only: human | social | tangible | reputational | learning
        "scale_min": pl.Float64,
        "scale_max": pl.Float64,
        "reverse_coded": pl.Boolean,
        "evidence_type": pl.String,  # self_report | story
        "kind": pl.String,  # likert | yes_no | open | consent | choice
    }
)

QUARANTINE = pl.Schema(
    {
        "community": pl.String,
        "source_file": pl.String,
        "source_row": pl.Int64,
        "table": pl.String,
        "reason": pl.String,
        "raw": pl.String,  # scrubbed of identities (privacy.scrub_identities)
    }
)

CODED_POSTS = pl.Schema(
    {
        "community": pl.String,
        "post_id": pl.String,
        "code": pl.String,
        "confidence": pl.Float64,
        "coder": pl.String,  # e.g. rules:v1
    }
)

LEDGER = pl.Schema(
    {
        "community": pl.String,
        "quarter": pl.String,  # e.g. 2026-Q1
        "cycle": pl.Int64,
        "capital": pl.String,
        "indicator": pl.String,
        "label": pl.String,  # what a funder reads
        "value": pl.Float64,
        "unit": pl.String,  # count | share | hours | mean
        "n": pl.Int64,  # denominator: members, posts, threads or respondents
        "evidence_type": pl.String,  # behavioural | self_report | story | external
        "source": pl.String,
        "suppressed": pl.Boolean,
        "method_note": pl.String,
    }
)

MEMBER_TIERS = pl.Schema(
    {
        "community": pl.String,
        "quarter": pl.String,
        "author_key": pl.String,
        "tier": pl.String,
        "is_staff": pl.Boolean,
        "n_posts": pl.Int64,
        "posts_read": pl.Int64,
    }
)

TABLES: dict[str, pl.Schema] = {
    "posts": POSTS,
    "members": MEMBERS,
    "survey_responses": SURVEY_RESPONSES,
    "survey_items": SURVEY_ITEMS,
    "quarantine": QUARANTINE,
    "coded_posts": CODED_POSTS,
    "ledger": LEDGER,
    "member_tiers": MEMBER_TIERS,
}


def empty(schema: pl.Schema) -> pl.DataFrame:
    """An empty frame with the table's columns and types."""
    return pl.DataFrame(schema=schema)


def conform(frame: pl.DataFrame | pl.LazyFrame, schema: pl.Schema) -> pl.DataFrame:
    """Select exactly the schema's columns, in order, cast to the schema's types.

    Missing columns are added as nulls; extra columns are dropped.
    """
    lazy = frame.lazy()
    present = set(lazy.collect_schema().names())
    columns = [
        (pl.col(name) if name in present else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in schema.items()
    ]
    return lazy.select(columns).collect()


def check_conforms(frame: pl.DataFrame, schema: pl.Schema) -> list[str]:
    """Differences between a frame's schema and the contract (empty when it conforms)."""
    problems = []
    actual = frame.schema
    for name, dtype in schema.items():
        if name not in actual:
            problems.append(f"missing column {name}")
        elif actual[name] != dtype:
            problems.append(f"column {name} is {actual[name]}, expected {dtype}")
    extra = [name for name in actual if name not in schema]
    if extra:
        problems.append(f"unexpected columns {', '.join(extra)}")
    return problems
