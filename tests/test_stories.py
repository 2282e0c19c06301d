"""Value-creation stories: assembled per respondent, quoted only with consent, scrubbed."""

from datetime import datetime, timezone

import polars as pl
import pytest
from forum_fixtures import POSTS, Q1

from value_pipeline import schema
from value_pipeline.instrument import load_instrument
from value_pipeline.stories import (
    quotable_frame,
    quotable_stories,
    scrub_personal_details,
    stories,
)

ITEMS = load_instrument().items_frame()
IN_Q1 = datetime(2026, 3, 10, tzinfo=timezone.utc)
PROMPTS = ["story_activity", "story_produced", "story_used", "story_difference", "story_success"]


def _story_rows(respondent, answers, consent, member=None, wave="followup"):
    return [
        {"community": "c", "wave": wave, "respondent_key": respondent, "member_key": member, "submitted_at": IN_Q1,
         "item_id": item, "value_text": text, "consent_to_quote": consent}
        for item, text in zip(PROMPTS, answers, strict=False) if text is not None
    ]


FULL = ["I asked Colleen about number talks in the Module 2 thread.", "Two concrete moves for quiet kids.",
        "I used silent thumbs at Lincoln Middle School every day.", "More kids explain their thinking now.",
        "Yes: a loud room can be a good day."]
RESPONSES = schema.conform(pl.DataFrame(
    _story_rows("r_full", FULL, True)
    + _story_rows("r_secret", ["My private story about Ms. Rivera at Oak Elementary.", "Something personal to me.",
                               "I used it with my own class right away.", "It helped my students a lot.", None], False)
    + _story_rows("r_short", ["I read the forum threads.", "ok", None, None, None], True)
    + _story_rows("r_link", ["My thread https://forum.example/t/zeros/t4 got great replies.", "Ideas for grading fairly.",
                             None, None, None], True, member="ana"),
    schema_overrides={"member_key": pl.String},
), schema.SURVEY_RESPONSES)


def test_a_story_crosses_the_cycles_whose_prompts_have_substance():
    told = {row["respondent_key"]: row for row in stories(RESPONSES, ITEMS, Q1).iter_rows(named=True)}
    assert told["r_full"]["cycles"] == [1, 2, 3, 4, 5]
    assert told["r_secret"]["cycles"] == [1, 2, 3, 4] and not told["r_secret"]["consent_to_quote"]
    assert told["r_short"]["cycles"] == [1]  # "ok" is not a substantive answer


def test_only_consented_stories_are_quoted_furthest_reaching_first_and_scrubbed():
    quoted = quotable_stories(RESPONSES, ITEMS, Q1, POSTS)
    assert [story["cycles"] for story in quoted] == [[1, 2, 3, 4, 5], [1, 2], [1]]
    text = " ".join(answer["text"] for story in quoted for answer in story["answers"])
    assert "private story" not in text and "Rivera" not in text and "Oak Elementary" not in text  # no consent
    assert "Colleen" not in text and "Lincoln Middle School" not in text
    assert quoted[0]["answers"][0]["text"] == "I asked [name] about number talks in the Module 2 thread."
    assert quoted[0]["answers"][2]["text"] == "I used silent thumbs at [school] every day."
    assert [s["cycles"] for s in quotable_stories(RESPONSES, ITEMS, Q1, POSTS, limit=1)] == [[1, 2, 3, 4, 5]]


def test_a_linked_thread_is_named_by_channel_and_only_its_starters_own_title():
    posts = POSTS.with_columns(title=pl.when(pl.col("post_id") == "a5").then(pl.lit("Grading zeros, with Ben")).otherwise(None))
    linked = next(story for story in quotable_stories(RESPONSES, ITEMS, Q1, posts) if story["threads"])
    # ana (the teller) opened t4: its title is her own words, scrubbed; the link itself is removed
    assert linked["threads"] == [{"channel": "general", "posts": 3, "title": "Grading zeros, with [name]"}]
    assert "[link]" in linked["answers"][0]["text"]
    other = RESPONSES.with_columns(member_key=pl.lit(None, pl.String))
    unowned = next(story for story in quotable_stories(other, ITEMS, Q1, posts) if story["threads"])
    assert unowned["threads"][0]["title"] is None  # someone else's words are never quoted


def test_stories_of_another_quarter_and_the_stored_form():
    from value_pipeline.periods import Quarter

    assert quotable_stories(RESPONSES, ITEMS, Quarter(2026, 2)) == []
    frame = quotable_frame(quotable_stories(RESPONSES, ITEMS, Q1))
    assert frame.get_column("story").to_list() == [1, 2, 3] and frame.schema["answers"] == pl.List(pl.Struct(
        {"cycle": pl.Int64, "prompt": pl.String, "text": pl.String}))


@pytest.mark.parametrize("text, scrubbed", [
    ("Email jo.smith@lincoln-ms.example or call (303) 555-0142.", "Email [email] or call [phone]."),
    ("Jenny's string bank and Kelly's class next door.", "[name]'s string bank and [name]'s class next door."),
    ("a real discussion with Gary, Sunita and Marco.", "a real discussion with [name]."),
    ("My principal at St. Mary's Academy, Mr. Okafor, loved it.", "My principal at [school], [name], loved it."),
    ("I'm coming back next year at Cypress Bend, in September.", "I'm coming back next year at [place], in September."),
    ("Mark asked me, and May was hard. Grace said yes.", "[name] asked me, and May was hard. [name] said yes."),
    ("See https://forum.example/t/zeros/123 or ask @jsmith_sci", "See [link] or ask [member]"),
    ("I teach Math and Science in 6th period.", "I teach Math and Science in 6th period."),
])
def test_scrubbing(text, scrubbed):
    assert scrub_personal_details(text) == scrubbed


def test_a_nickname_before_a_known_surname_is_a_name():
    # "Beto" is in no first-name list; "Morales" is a surname: together, a person
    assert scrub_personal_details("an owl pellet order split with Beto Morales at Lincoln Middle.") == \
        "an owl pellet order split with [name] at [school]."
    # a capitalized phrase whose second word is no surname stays
    assert scrub_personal_details("We used Google Classroom this term.") == "We used Google Classroom this term."
