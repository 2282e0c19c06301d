"""Participation: who takes part and how, quarter by quarter (forum data, cycles 1 and 2).

One module per question, each metric one small function over canonical frames and a
Quarter, returning a number, a dict or a small frame; `value_pipeline.ledger` turns
them into indicators:
- tiers: the onion model (core, active, occasional, peripheral, inactive);
- inequality: top 10% / 1% shares, Gini, the fewest members writing half, Lorenz curve;
- responsiveness: replies and answers to questions, time to first reply, by channel;
- mix: the interaction mix, prompted vs unprompted sharing, reflection depth, forums vs chats;
- network: the reply network in aggregate (density, reciprocity, k-core, brokers), newcomers;
- trajectories: tier transitions between quarters, newcomer retention, time to first post;
- value_by_tier: survey indicators by tier, so the periphery's value is visible.
Staff and facilitators are kept apart from members throughout.
"""

from value_pipeline.participation.inequality import (
    gini,
    lorenz_curve,
    members_writing_half,
    top_share,
)
from value_pipeline.participation.mix import (
    interaction_mix,
    mix_by_space,
    reflection_depth,
    reply_depth,
    resource_sharing,
    thread_shapes,
)
from value_pipeline.participation.network import (
    network_summary,
    newcomer_responses,
    reply_edges,
)
from value_pipeline.participation.responsiveness import (
    responsiveness,
    responsiveness_by_channel,
    thread_responses,
)
from value_pipeline.participation.tiers import (
    TIER_LABELS,
    TIER_RANK,
    TIERS,
    member_tiers,
    members_only,
    quarter_posts,
    tier_counts,
    tier_labels,
)
from value_pipeline.participation.trajectories import (
    MOVE_LABELS,
    MOVES,
    movement,
    newcomer_retention,
    tier_pairs,
    time_to_first_post,
    transition_matrix,
)
from value_pipeline.participation.value_by_tier import (
    GROUP_LABELS,
    GROUPS,
    respondent_groups,
    respondents_by_group,
    value_by_tier,
)

__all__ = [
    "GROUPS", "GROUP_LABELS", "MOVES", "MOVE_LABELS", "TIERS", "TIER_LABELS", "TIER_RANK",
    "gini", "interaction_mix", "lorenz_curve", "member_tiers", "members_only", "members_writing_half", "mix_by_space",
    "movement", "network_summary", "newcomer_responses", "newcomer_retention", "quarter_posts", "reflection_depth",
    "reply_depth", "reply_edges", "resource_sharing", "respondent_groups", "respondents_by_group", "responsiveness",
    "responsiveness_by_channel", "thread_responses", "thread_shapes", "tier_counts", "tier_labels", "tier_pairs",
    "time_to_first_post", "top_share", "transition_matrix", "value_by_tier",
]
