"""Structural checks on the canonical tables: cheap polars tests that block a run.

Each check returns a `CheckOutcome`: passed or not, a one-line description, and the
ids of failing rows (a few, for the UI). They guard the data contract: later stages
may rely on unique ids, present authors, parents that exist and balanced accounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import polars as pl

from value_pipeline import schema
from value_pipeline.ingest.common import Account
from value_pipeline.quality.expectations import ROLES

MAX_FAILING_IDS = 20


@dataclass
class CheckOutcome:
    name: str
    passed: bool
    description: str
    failing_ids: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def _outcome(name: str, problems: dict[str, pl.Series], ok_text: str) -> CheckOutcome:
    counts = {problem: ids.len() for problem, ids in problems.items() if ids.len()}
    failing = [str(i) for ids in problems.values() for i in ids.head(MAX_FAILING_IDS).to_list()][:MAX_FAILING_IDS]
    if not counts:
        return CheckOutcome(name, True, ok_text, [], {})
    description = "; ".join(f"{n} {problem}" for problem, n in counts.items())
    return CheckOutcome(name, False, description, failing, counts)


def check_posts(posts: pl.DataFrame, now: datetime | None = None) -> CheckOutcome:
    """Posts: the contract's columns, unique ids, authors and times present, parents that
    exist in the same thread, thread starts without parents, nothing in the future."""
    now = now or datetime.now(timezone.utc)
    contract = schema.check_conforms(posts, schema.POSTS)
    if contract:
        return CheckOutcome("posts_contract", False, "; ".join(contract))
    ids = posts.select("post_id", "thread_id")
    parents = posts.filter(pl.col("parent_post_id").is_not_null()).join(
        ids.rename({"post_id": "parent_post_id", "thread_id": "parent_thread"}), on="parent_post_id", how="left"
    )
    problems = {
        "duplicate post ids": posts.filter(pl.col("post_id").is_duplicated()).get_column("post_id").unique(),
        "posts without id, author or time": posts.filter(
            pl.any_horizontal(pl.col("post_id", "author_key", "created_at", "thread_id").is_null())
        ).get_column("source_row").cast(pl.String),
        "replies whose parent is missing": parents.filter(pl.col("parent_thread").is_null()).get_column("post_id"),
        "replies whose parent is in another thread": parents.filter(
            pl.col("parent_thread").is_not_null() & (pl.col("parent_thread") != pl.col("thread_id"))
        ).get_column("post_id"),
        "thread starts with a parent": posts.filter(pl.col("is_thread_start") & pl.col("parent_post_id").is_not_null()).get_column("post_id"),
        "posts dated in the future": posts.filter(pl.col("created_at") > now).get_column("post_id"),
    }
    return _outcome("posts_contract", problems, f"{posts.height} posts: ids unique, authors and parents present")


def check_members(members: pl.DataFrame) -> CheckOutcome:
    """Members: the contract's columns, one row per author_key, no null keys."""
    contract = schema.check_conforms(members, schema.MEMBERS)
    if contract:
        return CheckOutcome("members_contract", False, "; ".join(contract))
    problems = {
        "duplicate member keys": members.filter(pl.col("author_key").is_duplicated()).get_column("author_key").unique(),
        "members without a key": members.filter(pl.col("author_key").is_null()).get_column("role"),
        "members with a role outside the contract": members.filter(~pl.col("role").is_in(list(ROLES))).get_column("author_key"),
    }
    return _outcome("members_contract", problems, f"{members.height} members, one row each")


def check_survey_responses(responses: pl.DataFrame, items: pl.DataFrame) -> CheckOutcome:
    """Survey responses: the contract, one answer per respondent, wave and item, known
    items, numeric answers inside their item's scale."""
    contract = schema.check_conforms(responses, schema.SURVEY_RESPONSES)
    if contract:
        return CheckOutcome("survey_responses_contract", False, "; ".join(contract))
    key = pl.concat_str("wave", "respondent_key", "item_id", separator="/")
    scaled = responses.join(items.select("item_id", "scale_min", "scale_max"), on="item_id", how="left")
    problems = {
        "duplicate answers (respondent, wave, item)": responses.filter(key.is_duplicated()).select(key).to_series().unique(),
        "answers to unknown items": responses.join(items, on="item_id", how="anti").get_column("item_id").unique(),
        "answers outside the item's scale": scaled.filter(
            (pl.col("value_num") < pl.col("scale_min")) | (pl.col("value_num") > pl.col("scale_max"))
        ).select(key).to_series(),
        "answers without a submission time": responses.filter(pl.col("submitted_at").is_null()).select(key).to_series(),
    }
    return _outcome(
        "survey_responses_contract", problems,
        f"{responses.height} answers from {responses.get_column('respondent_key').n_unique()} respondents, all in scale",
    )


def check_accounts(accounts: list[Account] | pl.DataFrame) -> CheckOutcome:
    """Every row read was accepted or quarantined: read = accepted + quarantined."""
    rows = accounts.to_dicts() if isinstance(accounts, pl.DataFrame) else [a.as_dict() for a in accounts]
    unbalanced = [f"{r['table']}/{r['unit']}: read {r['read']} != {r['accepted']} + {r['quarantined']}"
                  for r in rows if r["read"] != r["accepted"] + r["quarantined"]]
    if unbalanced:
        return CheckOutcome("row_accounting", False, "; ".join(unbalanced), unbalanced)
    read = sum(r["read"] for r in rows)
    return CheckOutcome("row_accounting", True, f"{read} rows read, every one accepted or quarantined")


def accounts_frame(accounts: list[Account]) -> pl.DataFrame:
    """The row accounts as a table (stored beside the canonical tables)."""
    return pl.DataFrame(
        [a.as_dict() for a in accounts],
        schema={"table": pl.String, "unit": pl.String, "read": pl.Int64, "accepted": pl.Int64,
                "quarantined": pl.Int64, "balanced": pl.Boolean},
    )
