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
from value_pipeline.config import Suppression, TierRules
from value_pipeline.instrument import ScaleScore
from value_pipeline.participation import (
    GROUP_LABELS,
    MOVE_LABELS,
    gini,
    interaction_mix,
    lorenz_curve,
    member_tiers,
    members_writing_half,
    mix_by_space,
    movement,
    network_summary,
    newcomer_responses,
    newcomer_retention,
    quarter_posts,
    reflection_depth,
    resource_sharing,
    respondents_by_group,
    responsiveness_by_channel,
    tier_counts,
    tier_labels,
    time_to_first_post,
    top_share,
    transition_matrix,
    value_by_tier,
)
from value_pipeline.participation.mix import SPACE_LABELS
from value_pipeline.participation.responsiveness import ALL_CHANNELS
from value_pipeline.periods import Quarter, quarters_with_data
from value_pipeline.privacy import apply_disclosure
from value_pipeline.scales import (
    change_by_tier,
    paired_change,
    reliability,
    response_rates,
    scale_scores,
    waves_in_order,
    waves_of_quarter,
)
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
    "questions_asked", "questions_replied_share", "questions_answered_share", "hours_to_first_reply_median",
    "hours_to_first_reply_p90", "resources_shared", "prompted_shares", "unprompted_shares", "unprompted_share_of_sharing",
    "support_posts", "celebration_posts", "practice_reports", "threads_with_reflection", "threads_with_discussion",
    "interaction_mix:", "interaction_mix_by_space:", "responsiveness:",
)
# Breakdowns shown as tables and charts in the report's participation section, not in
# the cycle tables (their headline figures are separate rows).
BREAKDOWNS = (
    "interaction_mix:", "interaction_mix_by_space:", "members_by_tier:", "lorenz:", "responsiveness:",
    "tier_transition:", "tier_movement:", "survey_by_tier.", "respondents_by_tier:", "stories_told", "stories_quotable",
    "scale.", "change.", "change_by_tier.", "response_rate:",
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
    posts: pl.DataFrame, coded: pl.DataFrame, tiers: pl.DataFrame, quarter: Quarter, codebook: Codebook,
    rules: TierRules | None = None, members: pl.DataFrame | None = None,
) -> list[dict]:
    """Behavioural indicators from the forum (cycles 1, 2 and the weak cycle-3 signal)."""
    coder = coded.get_column("coder").first() if coded.height else "none"
    rows = activity_indicators(posts, tiers, quarter, rules)
    rows += inequality_indicators(tiers)
    rows += responsiveness_indicators(posts, coded, quarter, coder)
    rows += mix_indicators(posts, coded, quarter, codebook, coder)
    rows += network_indicators(posts, quarter)
    if members is not None:
        rows += trajectory_indicators(posts, members, quarter, rules)
    return rows


def activity_indicators(posts: pl.DataFrame, tiers: pl.DataFrame, quarter: Quarter, rules: TierRules | None) -> list[dict]:
    """Posts, threads, posting members and the tiers (cycle 1)."""
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
    labels = tier_labels(rules)
    for tier, count in tier_counts(tiers).items():
        rows.append(_row(f"members_by_tier:{tier}", labels[tier], count, "members", population, 1,
                         "behavioural", "forum+members", "onion-model tiers; see methods"))
    return rows


def inequality_indicators(tiers: pl.DataFrame) -> list[dict]:
    """How unevenly posts are spread over members (cycle 1), and the Lorenz curve."""
    population = tiers.filter(pl.col("tier") != "staff").height
    half = members_writing_half(tiers)
    rows = [
        _row("top10_post_share", "Share of member posts written by the top 10% of members", top_share(tiers, 0.1),
             "share", population, 1, "behavioural", "forum", "members ranked by posts in the quarter"),
        _row("top1_post_share", "Share of member posts written by the top 1% of members", top_share(tiers, 0.01),
             "share", population, 1, "behavioural", "forum", "at least one member; members ranked by posts"),
        _row("members_writing_half_share", "Fewest members who write half of member posts (share of members)",
             None if half is None else half / population, "share", population, 1, "behavioural", "forum",
             "smallest group of members whose posts add up to half, as a share of all members"),
        _row("gini_posts", "Inequality of posting (Gini, 0-1)", gini(tiers), "index", population, 1,
             "behavioural", "forum", "over all members, non-posters included"),
    ]
    for share_members, share_posts in lorenz_curve(tiers)[1:-1]:
        rows.append(_row(f"lorenz:{round(100 * share_members)}", f"Posts written by the least active {share_members:.0%} of members",
                         share_posts, "share", population, 1, "behavioural", "forum", "Lorenz curve of member posts"))
    return rows


def responsiveness_indicators(posts: pl.DataFrame, coded: pl.DataFrame, quarter: Quarter, coder: str) -> list[dict]:
    """Replies and answers to questions, time to first reply, unanswered threads: for
    all channels (cycle 1 headline rows) and per channel (`responsiveness:<channel>:...`)."""
    table = responsiveness_by_channel(posts, coded, quarter)
    rows = []
    for channel in table.iter_rows(named=True):
        overall = channel["channel"] == ALL_CHANNELS
        prefix = "" if overall else f"responsiveness:{channel['channel'].replace(':', '-')}:"
        where = "" if overall else f" in {channel['channel']}"
        questions = channel["questions"]
        rows += [
            _row(f"{prefix}questions_asked", f"Questions asked{where}", questions, "threads", None, 1, "behavioural",
                 "forum", f"thread openers coded question ({coder})"),
            _row(f"{prefix}questions_replied_share", f"Questions that got a reply from someone else{where}",
                 channel["replied"] / questions if questions else None, "share", questions, 1, "behavioural", "forum",
                 "a reply by someone other than the asker, at any time"),
            _row(f"{prefix}questions_answered_share", f"Questions that got an answer{where}",
                 channel["answered"] / questions if questions else None, "share", questions, 1, "behavioural", "forum",
                 f"a reply by someone else coded answer ({coder})"),
            _row(f"{prefix}hours_to_first_reply_median", f"Median time to first reply{where}", channel["median_hours"], "hours",
                 channel["replied"], 1, "behavioural", "forum", "questions that got a reply"),
            _row(f"{prefix}hours_to_first_reply_p90", f"Time to first reply, 90th percentile{where}", channel["p90_hours"],
                 "hours", channel["replied"], 1, "behavioural", "forum", "questions that got a reply"),
            _row(f"{prefix}unanswered_threads", f"Conversations left without a reply{where}", channel["unanswered_threads"],
                 "threads", channel["threads"], 1, "behavioural", "forum", "threads opened in the quarter that no one but the opener posted in"),
        ]
    return rows


def mix_indicators(posts: pl.DataFrame, coded: pl.DataFrame, quarter: Quarter, codebook: Codebook, coder: str) -> list[dict]:
    """The interaction mix, sharing, reflection depth, support and celebration, and
    forums vs chats when the community has both."""
    in_quarter = quarter_posts(posts, quarter)
    mix = interaction_mix(posts, coded, quarter, codebook.ids)
    names = codebook.names()
    rows = [
        _row(f"interaction_mix:{code}", names[code], count, "posts", in_quarter.height, 1,
             "behavioural", "forum", f"primary code per post ({coder})")
        for code, count, _share in mix.iter_rows()
    ]
    counts = dict(mix.select("code", "posts").iter_rows())
    shared_links = (
        in_quarter.join(coded.select("post_id", "code"), on="post_id")
        .filter(pl.col("code").is_in(["answer", "resource_share"]) & ((pl.col("n_links") + pl.col("n_attachments")) > 0))
        .height
    )
    sharing = resource_sharing(posts, coded, quarter)
    depth = reflection_depth(posts, coded, quarter)
    rows += [
        _row("celebration_posts", "Posts celebrating a success", counts.get("celebration", 0), "posts",
             in_quarter.height, 1, "behavioural", "forum", f"coded celebration ({coder})"),
        _row("median_posts_per_thread", "Posts per conversation (median)", depth["median_posts"], "posts",
             depth["threads"], 1, "behavioural", "forum", "threads opened in the quarter, all their posts"),
        _row("median_reply_depth", "Deepest reply level per conversation (median)", depth["median_depth"], "levels",
             depth["threads"], 1, "behavioural", "forum", "1 = replies to the opener only; 2 = replies to replies"),
        _row("resources_shared", "Posts sharing a link or file (answers and unprompted shares)", shared_links, "posts",
             in_quarter.height, 2, "behavioural", "forum", "posts coded answer or resource_share that carry a link or attachment", capital="tangible"),
        _row("prompted_shares", "Resources shared in answer to a question", sharing["prompted"], "posts",
             in_quarter.height, 2, "behavioural", "forum", f"answers carrying a link or file ({coder})", capital="tangible"),
        _row("unprompted_shares", "Unprompted resource shares", sharing["unprompted"], "posts",
             in_quarter.height, 2, "behavioural", "forum", f"coded resource_share ({coder})", capital="tangible"),
        _row("unprompted_share_of_sharing", "Share of resource sharing that was unprompted", sharing["unprompted_share"],
             "share", sharing["prompted"] + sharing["unprompted"], 2, "behavioural", "forum",
             "unprompted shares over all shares (prompted + unprompted)", capital="tangible"),
        _row("threads_with_reflection", "Conversations with reflection on practice", depth["with_reflection"], "share",
             depth["threads"], 2, "behavioural", "forum", f"threads holding a post coded reflection ({coder})", capital="human"),
        _row("threads_with_discussion", "Conversations where two or more people reflect (critical discussion)",
             depth["with_discussion"], "share", depth["threads"], 2, "behavioural", "forum",
             f"threads with reflection posts by at least two authors ({coder})", capital="learning"),
        _row("support_posts", "Posts offering or seeking emotional support", counts.get("support", 0), "posts",
             in_quarter.height, 2, "behavioural", "forum", f"coded support ({coder})", capital="social"),
        _row("practice_reports", "Posts reporting trying something in class", counts.get("practice_report", 0),
             "posts", in_quarter.height, 3, "behavioural", "forum",
             f"weak signal: posts coded practice_report ({coder}); applied value rests on surveys and stories"),
    ]
    by_space = mix_by_space(posts, coded, quarter, codebook.ids)
    if by_space.get_column("space").n_unique() > 1:
        space_posts = dict(by_space.group_by("space").agg(pl.col("posts").sum()).iter_rows())
        for space, code, _count, share in by_space.iter_rows():
            rows.append(_row(f"interaction_mix_by_space:{space}:{code}", f"{names[code]}: {SPACE_LABELS[space]}", share,
                             "share", space_posts[space], 1, "behavioural", "forum",
                             f"share of the space's posts ({coder}); chats are Slack, Teams, Mastodon and X"))
    return rows


def network_indicators(posts: pl.DataFrame, quarter: Quarter) -> list[dict]:
    """The reply network in aggregate, and who responds to newcomers (social capital)."""
    net = network_summary(posts, quarter)
    people = net["people"]
    newcomers = newcomer_responses(posts, quarter)
    arrived = newcomers["newcomers"]
    rows = [
        _row("connected_members", "People linked to others by replies", net["connected"], "members",
             people, 2, "behavioural", "forum", "replied to, or were replied to by, another person (staff included)", capital="social"),
        _row("reply_reciprocity", "Reciprocity of replies", net["reciprocity"], "share", net["ties"], 2,
             "behavioural", "forum", "share of reply directions answered in kind", capital="social"),
        _row("network_density", "Density of the reply network (0-1)", net["density"], "index", people, 2,
             "behavioural", "forum", "pairs linked by a reply over all pairs of people who took part", capital="social"),
        _row("network_core_k", "Ties each member of the dense centre has inside it (main k-core)", net["core_k"], "ties",
             people, 2, "behavioural", "forum", "the largest k for which a group each has k ties within it", capital="social"),
        _row("network_core_share", "Share of people in the dense centre (main k-core)",
             net["in_core"] / people if people and net["core_k"] else None, "member_share", people, 2, "behavioural",
             "forum", "people in the main k-core over all who took part", capital="social"),
        _row("network_broker_share", "Share of people who bridge otherwise separate groups",
             net["brokers"] / people if people and net["ties"] else None, "member_share", people, 2, "behavioural",
             "forum", "articulation points: removing one splits a connected group", capital="social"),
        _row("network_staff_broker_share", "Bridging people who are staff", net["staff_brokers"] / net["brokers"] if net["brokers"] else None,
             "member_share", net["brokers"], 2, "behavioural", "forum", "brokers who are staff or facilitators", capital="social"),
        _row("network_largest_group_share", "Share of people in the largest connected group",
             net["largest_group"] / people if people and net["ties"] else None, "member_share", people, 2,
             "behavioural", "forum", f"{net['groups']} connected groups of two or more", capital="social"),
        _row("newcomers", "Newcomers (first post this quarter)", arrived, "members", arrived, 2,
             "behavioural", "forum", "members whose first post ever was in the quarter", capital="social"),
        _row("newcomers_answered_by_peers", "Newcomers whose first post got its first response from a peer",
             newcomers["by_peers"] / arrived if arrived else None, "member_share", arrived, 2, "behavioural", "forum",
             "the first later post by someone else in the newcomer's thread was by a member", capital="social"),
        _row("newcomers_answered_by_staff", "Newcomers whose first post got its first response from staff",
             newcomers["by_staff"] / arrived if arrived else None, "member_share", arrived, 2, "behavioural", "forum",
             "the first later post by someone else in the newcomer's thread was by staff or a facilitator", capital="social"),
        _row("newcomers_without_response", "Newcomers whose first post got no response",
             newcomers["no_response"] / arrived if arrived else None, "member_share", arrived, 2, "behavioural", "forum",
             "no later post by anyone else in that thread", capital="social"),
    ]
    return rows


def trajectory_indicators(posts: pl.DataFrame, members: pl.DataFrame, quarter: Quarter, rules: TierRules | None) -> list[dict]:
    """Tier moves since the previous quarter, newcomer retention, time to first post."""
    matrix = transition_matrix(posts, members, quarter, rules)
    labels = tier_labels(rules) | {"joined": "Joined this quarter"}
    moves = movement(posts, members, quarter, rules)
    tracked = sum(moves.values())
    rows = [
        _row(f"tier_transition:{source}:{target}", f"{labels[source]} -> {labels[target]}", count, "members", tracked, 1,
             "behavioural", "forum+members", f"tier in {quarter.previous().label} -> tier in {quarter.label}")
        for source, target, count in matrix.iter_rows()
    ]
    rows += [
        _row(f"tier_movement:{move}", MOVE_LABELS[move], count, "members", tracked, 1, "behavioural", "forum+members",
             "tiers ranked core > active > occasional > peripheral > no recorded activity")
        for move, count in moves.items()
    ]
    retention = newcomer_retention(posts, quarter)
    waited = time_to_first_post(posts, members, quarter)
    rows += [
        _row("newcomer_retention", "Newcomers of last quarter who posted again this quarter", retention["share"],
             "member_share", retention["cohort"], 1, "behavioural", "forum",
             f"members whose first post was in {quarter.previous().label}"),
        _row("days_to_first_post_median", "Days from joining to first post (median)", waited["median_days"], "member_days",
             waited["first_posters"], 1, "behavioural", "forum+members", "members whose first post was this quarter, joining date known"),
    ]
    return rows


def scale_indicators(
    responses: pl.DataFrame, items: pl.DataFrame, scales: list[ScaleScore], tiers: pl.DataFrame, quarter: Quarter
) -> list[dict]:
    """For the quarter's (latest) wave: each scale's mean, alpha and omega; each item's
    response rate; and, when an earlier wave exists, paired change on each scale
    (overall and by tier group) for respondents who answered both."""
    waves = waves_of_quarter(responses, quarter)
    if not waves or not scales:
        return []
    order = waves_in_order(responses)
    wave = max(waves, key=order.index)
    earlier = order[order.index(wave) - 1] if order.index(wave) > 0 else None
    scores = scale_scores(responses, items, scales)
    rows = []
    for scale in scales:
        in_wave = scores.filter((pl.col("scale") == scale.id) & (pl.col("wave") == wave))
        fit = reliability(responses, items, scale, wave)
        common = {"cycle": scale.cycle, "evidence_type": "self_report", "source": "survey", "capital": scale.capital}
        rows += [
            _row(f"scale.{scale.id}.mean", scale.label, in_wave.get_column("score").mean() if in_wave.height else None, "mean",
                 in_wave.height, method_note=f"mean of {len(scale.items)} items (at least {scale.required} answered), {wave} wave", **common),
            _row(f"scale.{scale.id}.alpha", f"{scale.label}: Cronbach's alpha", fit["alpha"], "index", fit["complete"],
                 method_note="respondents who answered every item", **common),
            _row(f"scale.{scale.id}.omega", f"{scale.label}: McDonald's omega", fit["omega"], "index", fit["complete"],
                 method_note="one-factor model; needs three or more items", **common),
        ]
        if earlier is None:
            continue
        change = paired_change(scores, scale.id, earlier, wave)
        note = f"{earlier} to {wave}, respondents who answered both (paired)"
        rows += [
            _row(f"change.{scale.id}.{statistic}", f"{scale.label}: {name}", change[statistic], unit, change["n"], method_note=note, **common)
            for statistic, name, unit in CHANGE_STATISTICS
        ]
        for group in change_by_tier(scores, tiers, scale.id, earlier, wave).iter_rows(named=True):
            rows += [
                _row(f"change_by_tier.{scale.id}.{group['tier_group']}.{statistic}", f"{scale.label}: {name} ({GROUP_LABELS[group['tier_group']]})",
                     group[statistic], unit, group["n"], method_note=f"{note}; tier in {quarter.label}", **common)
                for statistic, name, unit in CHANGE_STATISTICS
            ]
    labels = dict(items.select("item_id", "text").iter_rows())
    cycles = dict(items.select("item_id", "cycle").iter_rows())
    for item, answered, respondents, rate in response_rates(responses, items, wave).select("item_id", "answered", "respondents", "rate").iter_rows():
        rows.append(_row(f"response_rate:{item}", labels.get(item, item), rate, "share", respondents, cycles.get(item) or 1,
                         "self_report", "survey", f"{answered} of the {wave} wave's respondents answered"))
    return rows


CHANGE_STATISTICS = (
    ("mean_difference", "change in mean", "mean_change"),
    ("ci_low", "95% interval, lower", "mean_change"),
    ("ci_high", "95% interval, upper", "mean_change"),
    ("effect_size", "effect size (d)", "index"),
)


def value_by_tier_indicators(
    responses: pl.DataFrame, items: pl.DataFrame, tiers: pl.DataFrame, labels: dict[str, str], quarter: Quarter
) -> list[dict]:
    """Survey indicators per tier group (`survey_by_tier.<item>.<group>.agree|mean`), and
    respondents per group, so the periphery's value is visible beside the core's."""
    rows = []
    groups = respondents_by_group(responses, tiers, quarter)
    total = sum(groups.values())
    if total == 0:
        return rows
    for group, count in groups.items():
        rows.append(_row(f"respondents_by_tier:{group}", GROUP_LABELS[group], count, "respondents", total, 1,
                         "self_report", "survey+forum", "respondents placed by their tier in the quarter"))
    for summary in value_by_tier(responses, items, tiers, quarter).iter_rows(named=True):
        item, group = summary["item_id"], summary["tier_group"]
        label = f"{labels.get(item, item)} ({GROUP_LABELS[group]})"
        note = f"{GROUP_LABELS[group].lower()}; linked respondents only"
        if summary["kind"] == "yes_no":
            rows.append(_row(f"survey_by_tier.{item}.{group}.yes", label, summary["share_positive"], "share",
                             summary["respondents"], summary["cycle"], "self_report", "survey+forum", f"share answering yes; {note}", summary["capital"]))
        else:
            rows.append(_row(f"survey_by_tier.{item}.{group}.agree", label, summary["share_positive"], "share",
                             summary["respondents"], summary["cycle"], "self_report", "survey+forum", f"share agreeing; {note}", summary["capital"]))
            rows.append(_row(f"survey_by_tier.{item}.{group}.mean", label + " (mean, 1-5)", summary["mean"], "mean",
                             summary["respondents"], summary["cycle"], "self_report", "survey+forum", f"mean on the 1-5 scale; {note}", summary["capital"]))
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
        consented = stories.filter(pl.col("consent_to_quote")).height
        rows.append(_row("stories_told", "Value-creation stories told", stories.height, "stories", stories.height, 1,
                         "story", "survey stories", "respondents who answered the story prompts"))
        rows.append(_row("stories_quotable", "Stories their tellers allowed us to quote", consented, "stories",
                         stories.height, 1, "story", "survey stories", "consent recorded in the same survey wave"))
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
    rules: TierRules | None = None,
    scales: list[ScaleScore] | None = None,
) -> pl.DataFrame:
    """The quarter's ledger for one community, with disclosure control applied."""
    tiers = tiers if tiers is not None else member_tiers(posts, members, quarter, rules)
    rows = forum_indicators(posts, coded, tiers, quarter, codebook, rules, members)
    rows += survey_indicators(responses, items, item_labels, quarter)
    rows += value_by_tier_indicators(responses, items, tiers, item_labels, quarter)
    rows += scale_indicators(responses, items, scales or [], tiers, quarter)
    evidenced = {row["cycle"] for row in rows if row["value"] is not None}
    for cycle in CYCLE_NAMES:
        if cycle not in evidenced:
            rows.append(_row(NO_EVIDENCE, "No evidence collected", None, "none", None, cycle, "none", "none",
                             "no survey wave, story or forum indicator covered this cycle in the quarter"))
    ledger = pl.DataFrame(rows, schema={k: v for k, v in schema.LEDGER.items() if k not in ("community", "quarter")})
    ledger = ledger.with_columns(community=pl.lit(community), quarter=pl.lit(quarter.label))
    ledger = apply_disclosure(ledger, suppression)
    return schema.conform(ledger, schema.LEDGER)
