"""The rule-based coder: thread-position rules on tiny threads, and a floor on the sample content."""


import polars as pl
import yaml
from support import PROJECT

from value_pipeline import schema
from value_pipeline.coding.codebook import REFERENCE_CODES, load_codebook
from value_pipeline.coding.rules import code_posts
from value_pipeline.text import count_urls


def _thread(posts, staff=()):
    """posts: (author, text) in order; the first opens the thread, the rest reply to it."""
    rows = [
        {"community": "c", "post_id": f"p{i}", "thread_id": "t", "parent_post_id": None if i == 0 else "p0",
         "author_key": author, "is_thread_start": i == 0, "title": None, "body_text": text,
         "n_links": count_urls(text), "n_attachments": 0, "is_staff": author in staff}
        for i, (author, text) in enumerate(posts)
    ]
    return schema.conform(pl.DataFrame(rows), schema.POSTS)


def _codes(posts, staff=()):
    return code_posts(_thread(posts, staff)).sort("post_id").get_column("code").to_list()


def test_question_answers_and_the_askers_thanks():
    codes = _codes([
        ("ana", "Does anyone have a density column demo that doesn't turn into mud? Any tips?"),
        ("ben", "You could try adding the layers with a turkey baster down the side. I use dish soap first."),
        ("ana", "thanks!!"),
    ])
    assert codes == ["question", "answer", "social"]


def test_unprompted_link_is_resource_share_and_reports_of_trying_are_practice():
    assert _codes([("ana", "Found this great PhET sim for gas laws, free: https://phet.colorado.edu/en/simulations/gas-properties")]) == ["resource_share"]
    codes = _codes([
        ("ana", "Sharing my card sort for ecosystems in case it helps anyone: https://docs.example/cards"),
        ("ben", "Used your card sort with my 5th graders today. They argued about the decomposers for 20 minutes, it went great."),
    ])
    assert codes == ["resource_share", "practice_report"]


def test_support_celebration_and_announcements():
    assert _codes([
        ("ana", "I'm so exhausted and overwhelmed, I cried in my car after 6th period today."),
        ("ben", "Hang in there. You are not alone, January of year one is the worst."),
    ]) == ["support", "support"]
    assert _codes([("ana", "My students finally nailed the lab report format, so proud of them!!")]) == ["celebration"]
    assert _codes([("lead", "Reminder: registration is open for the March PD session, deadline Friday.")], staff=("lead",)) == ["other"]


def test_every_post_gets_one_code_with_a_confidence():
    coded = code_posts(_thread([("a", "hi everyone, I'm new here"), ("b", "welcome!")]))
    assert coded.height == 2 and coded.get_column("code").is_in(REFERENCE_CODES).all()
    assert coded.get_column("confidence").is_between(0.0, 1.0).all()
    assert coded.get_column("coder").unique().to_list() == [f"rules:v{load_codebook().version}"]


def _sample_content_posts():
    rows = []
    for roster_file in sorted((PROJECT / "scripts" / "sample_content").glob("*/roster.yaml")):
        community = roster_file.parent
        roles = {m["handle"]: m["role"] for m in yaml.safe_load(roster_file.read_text())["members"]}
        for file in sorted(community.glob("threads_*.yaml")):
            for t, thread in enumerate(yaml.safe_load(file.read_text())["threads"]):
                thread_id = f"{community.name}/{file.stem}/{t}"
                for i, post in enumerate(thread["posts"]):
                    rows.append({
                        "community": community.name, "post_id": f"{thread_id}/{i + 1}", "thread_id": thread_id,
                        "parent_post_id": None if i == 0 else f"{thread_id}/{post.get('reply_to', 1)}",
                        "author_key": post["author"], "is_thread_start": i == 0,
                        "title": thread.get("title") if i == 0 else None, "body_text": post["text"],
                        "n_links": count_urls(post["text"]), "n_attachments": 0,
                        "is_staff": roles[post["author"]] != "member", "intended": post["code"],
                    })
    return pl.DataFrame(rows, infer_schema_length=None)


def cohen_kappa(a: pl.Series, b: pl.Series) -> float:
    observed = (a == b).mean()
    labels = set(a) | set(b)
    expected = sum((a == label).mean() * (b == label).mean() for label in labels)
    return (observed - expected) / (1 - expected)


def test_agreement_floor_on_the_sample_content():
    """A regression floor, not a validation: the intended codes were written by the
    content's authors, not by independent coders (issue 5 builds the real gold set)."""
    posts = _sample_content_posts()
    coded = code_posts(schema.conform(posts, schema.POSTS)).join(posts.select("post_id", "intended"), on="post_id")
    assert coded.height == posts.height > 800
    assert set(coded.get_column("code")) == set(REFERENCE_CODES)
    assert cohen_kappa(coded.get_column("intended"), coded.get_column("code")) >= 0.50
