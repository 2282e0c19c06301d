"""The value-creation ledger: one row per indicator per community per quarter.

Every figure a report shows is a ledger row, with its cycle (FRAMEWORK.md), capital
(cycle 2), evidence type, denominator and source, so a reader can always tell how
strong the evidence is. Forum data evidences cycle 1 and the social and tangible
capital of cycle 2; the only forum figure in cycle 3 is the count of practice reports,
marked as the weak signal it is. Cycles 3-5 otherwise come from surveys and stories.
A cycle with no indicator in the quarter gets an explicit "no evidence collected" row,
never a zero.
"""

from __future__ import annotations

import polars as pl

from value_pipeline import schema
from value_pipeline.coding.codebook import Codebook
from value_pipeline.config import Suppression
from value_pipeline.participation import (
    TIER_LABELS,
    gini,
    interaction_mix,
    member_tiers,
    quarter_posts,
    reply_ties,
    responsiveness,
    tier_counts,
    top_share,
)
from value_pipeline.periods import Quarter, quarters_with_data
from value_pipeline.privacy import apply_disclosure
from value_pipeline.surveys import item_summaries, story_coverage, wave_quarters

CYCLE_NAMES = {
    1: "Immediate value",
    2: "Potential value",
    3: "Applied value",
    4: "Realized value",
    5: "Reframing value",
}
NO_EVIDENCE = "no_evidence_collected"
# Indicators computed from interaction codes: a report flags them when the coder's
# agreement with the community's hand codes is below the threshold.
CODE_DEPENDENT = (
    "questions_asked", "questions_replied_share", "hours_to_first_reply_median", "hours_to_first_reply_p90",
    "resources_shared", "unprompted_shares", "support_posts", "practice_reports", "interaction_mix:",
)


def depends_on_codes(indicator: str) -> bool:
    return indicator.startswith(CODE_DEPENDENT)


def reporting_quarters(posts: pl.DataFrame, responses: pl.DataFrame) -> list[Quarter]:
    """Quarters a community has data for: every quarter from its first to its last post,
    plus the quarter of each survey wave (its median submission)."""
    quarters = set(quarters_with_data(posts.get_column("created_at")))
    if responses.height:
        quarters |= {Quarter.parse(label) for label in wave_quarters(responses).get_column("quarter").drop_nulls()}
    return sorted(quarters)


def _row(indicator, label, value, unit, n, cycle, evidence_type, source, method_note, capital=None):
    return {
        "cycle": cycle, "capital": capital, "indicator": indicator, "label": label,
        "value": None if value is None else float(value), "unit": unit,
        "n": None if n is None else int(n), "evidence_type": evidence_type,
        "source": source, "suppressed": False, "method_note": method_note,
    }


def forum_indicators(
    posts: pl.DataFrame, coded: pl.DataFrame, tiers: pl.DataFrame, quarter: Quarter, codebook: Codebook
) -> list[dict]:
    """Behavioural indicators from the forum (cycles 1, 2 and the weak cycle-3 signal)."""
    coder = coded.get_column("coder").first() if coded.height else "none"
    in_quarter = quarter_posts(posts, quarter)
    population = tiers.filter(pl.col("tier") != "staff").height
    member_posts = in_quarter.filter(~pl.col("is_staff"))
    rows = [
        _row("posts", "Posts written", in_quarter.height, "posts", in_quarter.height, 1, "behavioural", "forum",
             "all posts and replies in the quarter, staff included"),
        _row("threads_started", "Conversations started", in_quarter.filter(pl.col("is_thread_start")).height,
             "threads", None, 1, "behavioural", "forum", "thread-opening posts"),
        _row("posting_members", "Members who posted", member_posts.get_column("author_key").n_unique(),
             "members", population, 1, "behavioural", "forum", "distinct non-staff authors"),
        _row("members_total", "Members (joined by quarter end)", population, "members", population, 1,
             "behavioural", "members", "member list plus anyone who posted; staff excluded"),
        _row("staff_posts", "Posts by staff and facilitators", in_quarter.filter(pl.col("is_staff")).height,
             "posts", in_quarter.height, 1, "behavioural", "forum", "shown apart from members"),
    ]
    for tier, count in tier_counts(tiers).items():
        rows.append(_row(f"members_by_tier:{tier}", TIER_LABELS[tier], count, "members", population, 1,
                         "behavioural", "forum+members", "onion-model tiers; see methods"))
    rows += [
        _row("top10_post_share", "Share of member posts written by the top 10% of members", top_share(tiers, 0.1),
             "share", population, 1, "behavioural", "forum", "members ranked by posts in the quarter"),
        _row("gini_posts", "Inequality of posting (Gini, 0-1)", gini(tiers), "index", population, 1,
             "behavioural", "forum", "over all members, non-posters included"),
    ]
    answered = responsiveness(posts, coded, quarter)
    rows += [
        _row("questions_asked", "Questions asked", answered["questions"], "threads", None, 1, "behavioural",
             "forum", f"thread openers coded question ({coder})"),
        _row("questions_replied_share", "Questions that got a reply from another member", answered["replied"] / answered["questions"] if answered["questions"] else None,
             "share", answered["questions"], 1, "behavioural", "forum", "a reply by someone other than the asker, at any time"),
        _row("hours_to_first_reply_median", "Median hours to first reply", answered["median_hours"], "hours",
             answered["replied"], 1, "behavioural", "forum", "questions that got a reply"),
        _row("hours_to_first_reply_p90", "Hours to first reply, 90th percentile", answered["p90_hours"], "hours",
             answered["replied"], 1, "behavioural", "forum", "questions that got a reply"),
    ]
    mix = interaction_mix(posts, coded, quarter, codebook.ids)
    names = codebook.names()
    for code, count, _share in mix.iter_rows():
        rows.append(_row(f"interaction_mix:{code}", names[code], count, "posts", in_quarter.height, 1,
                         "behavioural", "forum", f"primary code per post ({coder})"))
    counts = dict(mix.select("code", "posts").iter_rows())
    shared_links = (
        in_quarter.join(coded.select("post_id", "code"), on="post_id")
        .filter(pl.col("code").is_in(["answer", "resource_share"]) & ((pl.col("n_links") + pl.col("n_attachments")) > 0))
        .height
    )
    ties = reply_ties(posts, quarter)
    rows += [
        _row("resources_shared", "Posts sharing a link or file (answers and unprompted shares)", shared_links, "posts",
             in_quarter.height, 2, "behavioural", "forum", "posts coded answer or resource_share that carry a link or attachment", capital="tangible"),
        _row("unprompted_shares", "Unprompted resource shares", counts.get("resource_share", 0), "posts",
             in_quarter.height, 2, "behavioural", "forum", f"coded resource_share ({coder})", capital="tangible"),
        _row("support_posts", "Posts offering or seeking emotional support", counts.get("support", 0), "posts",
             in_quarter.height, 2, "behavioural", "forum", f"coded support ({coder})", capital="social"),
        _row("connected_members", "Members linked to others by replies", ties["connected_members"], "members",
             population, 2, "behavioural", "forum", "replied to, or were replied to by, another person (staff included)", capital="social"),
        _row("reply_reciprocity", "Reciprocity of replies", ties["reciprocity"], "share", ties["ties"], 2,
             "behavioural", "forum", "share of reply directions answered in kind", capital="social"),
        _row("practice_reports", "Posts reporting trying something in class", counts.get("practice_report", 0),
             "posts", in_quarter.height, 3, "behavioural", "forum",
             f"weak signal: posts coded practice_report ({coder}); applied value rests on surveys and stories"),
    ]
    return rows


def survey_indicators(responses: pl.DataFrame, items: pl.DataFrame, labels: dict[str, str], quarter: Quarter) -> list[dict]:
    """Self-report indicators (every cycle) and story coverage, from the quarter's survey waves."""
    rows = []
    for summary in item_summaries(responses, items, quarter).iter_rows(named=True):
        item, cycle, capital = summary["item_id"], summary["cycle"], summary["capital"]
        label = labels.get(item, item)
        linked = f"{summary['linked']} of {summary['respondents']} respondents linked to forum members"
        if summary["kind"] == "yes_no":
            rows.append(_row(f"survey.{item}.yes", label, summary["share_positive"], "share",
                             summary["respondents"], cycle, "self_report", "survey", f"share answering yes; {linked}", capital))
        else:
            rows.append(_row(f"survey.{item}.agree", label, summary["share_positive"], "share",
                             summary["respondents"], cycle, "self_report", "survey", f"share agreeing or strongly agreeing; {linked}", capital))
            rows.append(_row(f"survey.{item}.mean", label + " (mean, 1-5)", summary["mean"], "mean",
                             summary["respondents"], cycle, "self_report", "survey", f"mean on the 1-5 scale; {linked}", capital))
    stories = story_coverage(responses, items, quarter)
    if stories.height:
        reached = stories.explode("cycles").group_by("cycles").len()
        reached = dict(reached.iter_rows())
        for cycle in CYCLE_NAMES:
            rows.append(_row(f"stories_reaching_cycle_{cycle}", f"Value-creation stories reaching cycle {cycle}",
                             reached.get(cycle, 0), "stories", stories.height, cycle, "story", "survey stories",
                             "five-prompt stories with a substantive answer for this cycle"))
    return rows


def build_ledger(
    community: str,
    quarter: Quarter,
    posts: pl.DataFrame,
    coded: pl.DataFrame,
    members: pl.DataFrame,
    responses: pl.DataFrame,
    items: pl.DataFrame,
    codebook: Codebook,
    suppression: Suppression,
    item_labels: dict[str, str],
    tiers: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The quarter's ledger for one community, with disclosure control applied."""
    tiers = tiers if tiers is not None else member_tiers(posts, members, quarter)
    rows = forum_indicators(posts, coded, tiers, quarter, codebook)
    rows += survey_indicators(responses, items, item_labels, quarter)
    evidenced = {row["cycle"] for row in rows if row["value"] is not None}
    for cycle in CYCLE_NAMES:
        if cycle not in evidenced:
            rows.append(_row(NO_EVIDENCE, "No evidence collected", None, "none", None, cycle, "none", "none",
                             "no survey wave, story or forum indicator covered this cycle in the quarter"))
    ledger = pl.DataFrame(rows, schema={k: v for k, v in schema.LEDGER.items() if k not in ("community", "quarter")})
    ledger = ledger.with_columns(community=pl.lit(community), quarter=pl.lit(quarter.label))
    ledger = apply_disclosure(ledger, suppression)
    return schema.conform(ledger, schema.LEDGER)
