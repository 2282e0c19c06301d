"""The reply network, aggregated only: its shape, never its members.

A directed tie runs from a reply's author to the author of the post it replies to (self-
replies ignored), for replies written in the quarter. Nodes are everyone who posted in
the quarter or was replied to in it, staff included (they are part of the conversation)
but counted apart where it matters (brokers, who answers newcomers). No function here
returns a member key: the report may show a graph's measures, never the graph.
"""

from __future__ import annotations

import polars as pl

from value_pipeline.participation.tiers import quarter_posts


def reply_edges(posts: pl.DataFrame, quarter) -> pl.DataFrame:
    """Distinct directed ties of the quarter: from_key (who replied), to_key (to whom)."""
    parents = posts.select(parent_post_id=pl.col("post_id"), to_key=pl.col("author_key"))
    return (
        quarter_posts(posts, quarter)
        .filter(pl.col("parent_post_id").is_not_null())
        .join(parents, on="parent_post_id", how="inner")
        .filter(pl.col("author_key") != pl.col("to_key"))
        .select(from_key="author_key", to_key="to_key")
        .unique()
    )


def _nodes(posts: pl.DataFrame, edges: pl.DataFrame, quarter) -> pl.DataFrame:
    """Everyone in the network, with an integer id and whether they are staff."""
    posters = quarter_posts(posts, quarter).group_by("author_key").agg(is_staff=pl.col("is_staff").any())
    targets = edges.select(author_key="to_key").unique()
    staff = posts.group_by("author_key").agg(is_staff=pl.col("is_staff").any())
    return (
        pl.concat([posters.select("author_key"), targets]).unique().sort("author_key")
        .join(staff, on="author_key", how="left")
        .with_columns(is_staff=pl.col("is_staff").fill_null(False))
        .with_row_index("node")
    )


def network_summary(posts: pl.DataFrame, quarter) -> dict:
    """The quarter's reply network in aggregate.

    - `people`: nodes (posted in the quarter, or were replied to in it);
    - `connected`: people with at least one tie; `ties`: connected pairs;
    - `density`: ties over the pairs possible among the people (0-1);
    - `reciprocity`: share of directed ties answered in kind (None without ties);
    - `core_k`, `in_core`: the main k-core (the largest k such that a group of people
      each has at least k ties inside it) and how many people are in it: a dense
      centre of mutual exchange, rather than a hub answering everyone;
    - `brokers`, `staff_brokers`: people whose removal would split a connected group
      into parts that no longer reach each other (articulation points): the bridges
      between otherwise separate groups, and how many of them are staff;
    - `groups`, `largest_group`: connected groups of two or more people, and the size
      of the largest.
    """
    import igraph  # C library: k-cores and articulation points at 50,000 members in well under a second

    edges = reply_edges(posts, quarter)
    nodes = _nodes(posts, edges, quarter)
    people = nodes.height
    empty = {"people": people, "connected": 0, "ties": 0, "density": None, "reciprocity": None, "core_k": None,
             "in_core": 0, "brokers": 0, "staff_brokers": 0, "groups": 0, "largest_group": 0}
    if edges.height == 0:
        return empty | {"density": 0.0 if people > 1 else None}
    ids = nodes.select("author_key", "node")
    indexed = (
        edges.join(ids.rename({"author_key": "from_key", "node": "source"}), on="from_key")
        .join(ids.rename({"author_key": "to_key", "node": "target"}), on="to_key")
    )
    sources, targets = indexed.get_column("source").to_list(), indexed.get_column("target").to_list()
    directed = igraph.Graph(n=people, edges=list(zip(sources, targets, strict=True)), directed=True)
    reciprocity = directed.reciprocity(ignore_loops=True, mode="default")
    graph = directed.as_undirected(mode="collapse")
    ties = graph.ecount()
    degree = graph.degree()
    coreness = graph.coreness()
    core_k = max(coreness)
    brokers = graph.articulation_points()
    is_staff = nodes.get_column("is_staff").to_list()
    component_sizes = [size for size in graph.connected_components().sizes() if size >= 2]
    return {
        "people": people,
        "connected": sum(1 for d in degree if d > 0),
        "ties": ties,
        "density": ties / (people * (people - 1) / 2) if people > 1 else None,
        "reciprocity": reciprocity,
        "core_k": core_k,
        "in_core": sum(1 for c in coreness if c == core_k),
        "brokers": len(brokers),
        "staff_brokers": sum(1 for b in brokers if is_staff[b]),
        "groups": len(component_sizes),
        "largest_group": max(component_sizes, default=0),
    }


def newcomer_responses(posts: pl.DataFrame, quarter) -> dict:
    """Who responds to newcomers: members (not staff) whose first post ever falls in the
    quarter, and whether the first later post by someone else in that thread came from
    staff, from a peer, or never came. Also the median hours to that response."""
    members = posts.filter(~pl.col("is_staff"))
    first = (
        members.sort("created_at", "post_id")
        .group_by("author_key", maintain_order=True)
        .first()
        .filter((pl.col("created_at") >= quarter.start) & (pl.col("created_at") < quarter.end))
        .select("thread_id", newcomer="author_key", first_at="created_at")
    )
    responses = (
        posts.select("thread_id", "author_key", "created_at", "is_staff")
        .join(first, on="thread_id", how="inner")
        .filter((pl.col("created_at") > pl.col("first_at")) & (pl.col("author_key") != pl.col("newcomer")))
        .sort("created_at")
        .group_by("newcomer", maintain_order=True)
        .agg(by_staff=pl.col("is_staff").first(), responded_at=pl.col("created_at").first())
    )
    joined = first.join(responses, on="newcomer", how="left").with_columns(
        hours=(pl.col("responded_at") - pl.col("first_at")).dt.total_seconds() / 3600
    )
    responded = joined.filter(pl.col("responded_at").is_not_null())
    return {
        "newcomers": joined.height,
        "by_staff": responded.filter(pl.col("by_staff")).height,
        "by_peers": responded.filter(~pl.col("by_staff")).height,
        "no_response": joined.height - responded.height,
        "median_hours": float(responded.get_column("hours").median()) if responded.height else None,
    }
