"""Value-creation stories: one member's case followed through the cycles.

A story is a respondent's answers to the five story prompts of a survey wave (activity,
what it produced, how it was used, what difference it made, whether it changed what
counts as success); it crosses a cycle when that prompt has a substantive answer. A
story may point to forum threads (a link in an answer); where the member consented,
the report may name the thread's channel and, when the member started it, its title.

Nothing here is quoted without consent: `quotable_stories` keeps only stories whose
teller answered yes to the consent question in the same wave, and every quoted text is
scrubbed of personal details first (`scrub_personal_details`): emails, phone numbers,
links, handles and credentials by scrubadub's detectors, and names and schools by the
detectors below, which err toward removing too much.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import lru_cache

import polars as pl

from value_pipeline.periods import Quarter
from value_pipeline.privacy import scrub_identities
from value_pipeline.surveys import STORY_ITEMS_MIN_WORDS, quarter_responses

# ---------------------------------------------------------------- scrubbing
SCHOOL = re.compile(
    r"\b(?:(?:St\.|Saint|[A-Z][\w'’.-]*)\s+){1,5}"
    r"(?:Elementary|Middle|High|Junior High|Primary|Secondary|Charter|Academy|Prep|School|College|University|"
    r"Institute|ISD|USD|CUSD|Unified|School District|District|Schools|Learning Center|Center|Centre|Campus)\b(?:\s+School)?"
)
HONORIFIC = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Coach|Sra|Sr|Srta|Mme|Mlle|Frau|Herr)\.?\s+[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?"
)
# A capitalized place after at/in/from ("coming back next year at Cypress Bend"): most
# often a school or a town, which together with a story can identify its teller.
PLACE = re.compile(r"\b(?:at|in|from)\s+((?:[A-Z][\w'’-]+\s+){0,3}[A-Z][\w'’-]+)")
NOT_PLACES = frozenset("""
january february march april may june july august september october november december monday tuesday wednesday
thursday friday saturday sunday module unit week grade period class english spanish french german math science
history reading writing music art ap ib ela esl ell pe i the a my our their this that google zoom slack canvas
moodle discourse teams desmos kahoot
""".split())
CAPITALIZED = re.compile(r"\b[A-Z][a-zà-ÿ'’-]+\b")
# Capitalized words that are also first names but are far more often ordinary words in
# teachers' writing: never taken as names on their own.
COMMON_WORDS = frozenset("""
art april august autumn bill bay beau bell bond brook brown chase chance christian clay cliff cole dale dawn dean
december del don dusty earl ellis ever faith fall field ford forest frank gene gay gray grace green guy hall harmony
hope hunter ivy jack jade january joy july june king lane lee major march mark mason math may miles misty moon
neil noble north ocean page paris park pearl penny price rich river robin rock rose ruby rusty sage said sandy
scott september sky spring star sterling stone storm summer sunny taylor true van victor violet wade ward west
will winter wood young english spanish french german science history reading writing music
""".split())
# A common word used as a name: followed by what people do in a story.
ACTING = re.compile(r"\s+(?:asked|said|told|shared|posted|wrote|suggested|replied|answered|explained|showed|sent|helped|taught|recommended)\b")
LABELS = {
    "email": "[email]", "phone": "[phone]", "url": "[link]", "twitter": "[handle]", "name": "[name]",
    "school": "[school]", "place": "[place]", "credential": "[credential]", "credit_card": "[number]", "social_security_number": "[number]",
}


def _faker_names(attributes: tuple[str, ...]) -> set[str]:
    """Names in Latin script from the given attributes of every Faker person provider."""
    import faker.providers.person as providers

    names: set[str] = set()
    for module in pkgutil.iter_modules(providers.__path__):
        try:
            provider = importlib.import_module(f"faker.providers.person.{module.name}").Provider
        except (ImportError, AttributeError):
            continue
        for attribute in attributes:
            values = provider.__dict__.get(attribute)
            if isinstance(values, (dict, tuple, list, set, frozenset)):
                names.update(n for n in values if isinstance(n, str) and re.fullmatch(r"[A-Z][a-zà-ÿ'-]+", n))
    return names


def _ordinary_words() -> set[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return {w.capitalize() for w in COMMON_WORDS | set(ENGLISH_STOP_WORDS)}


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """First names in Latin script from Faker's person providers (86 locales, ~19,000
    names): the gazetteer behind name detection, available offline."""
    names = _faker_names(("first_names", "first_names_male", "first_names_female", "first_names_nonbinary"))
    return frozenset(n for n in names - _ordinary_words() if len(n) >= 3)


@lru_cache(maxsize=1)
def last_names() -> frozenset[str]:
    """Surnames in Latin script from Faker's person providers: a capitalized word before a
    known surname is a name even when it is no known first name ("Beto Morales")."""
    ordinary = _ordinary_words() | {w.capitalize() for w in NOT_PLACES}
    return frozenset(n for n in _faker_names(("last_names",)) - ordinary if len(n) >= 3)


def _name_spans(text: str) -> list[tuple[int, int]]:
    """Known first names (with a following capitalized surname), a capitalized word before
    a known surname, and every capitalized word in a list with one ("Gary, Sunita and Marco")."""
    names, surnames = first_names(), last_names()
    words = list(CAPITALIZED.finditer(text))
    spans = []
    for i, word in enumerate(words):
        token = re.sub(r"['’]s?$", "", word.group())  # Kelly's -> Kelly
        acting = token.lower() in COMMON_WORDS and ACTING.match(text, word.end())  # "Mark asked", "Grace said"
        following = words[i + 1] if i + 1 < len(words) else None
        before_surname = (
            following is not None and text[word.end():following.start()] == " "
            and re.sub(r"['’]s?$", "", following.group()) in surnames
            and token.lower() not in COMMON_WORDS | NOT_PLACES
        )
        if token not in names and not acting and not before_surname:
            continue
        end = word.start() + len(token)  # keep the possessive: [name]'s class
        following = words[i + 1] if i + 1 < len(words) else None
        if following and text[end:following.start()] == " " and following.group().lower() not in COMMON_WORDS:
            end = following.end()  # a surname
        spans.append((word.start(), end))
    # lists of names: capitalized words joined by ", " / " and " / " & " to a detected name
    joined = re.compile(r"^(?:,\s*|\s+and\s+|\s*&\s*|,\s+and\s+)$")
    changed = True
    while changed:
        changed = False
        covered = {start for start, _ in spans}
        for i, word in enumerate(words):
            if word.start() in covered or word.group().lower() in COMMON_WORDS:
                continue
            neighbours = [words[j] for j in (i - 1, i + 1) if 0 <= j < len(words)]
            for other in neighbours:
                if other.start() in covered:
                    between = text[min(word.end(), other.end()):max(word.start(), other.start())]
                    if joined.match(between):
                        spans.append((word.start(), word.end()))
                        changed = True
                        break
            if changed:
                break
    return spans


@lru_cache(maxsize=1)
def _scrubber():
    """scrubadub with its default detectors for phone numbers (phonenumbers), URLs,
    Twitter-style handles, credentials, card and social security numbers. Its email
    detector is left out: it reads "principal at St. Mary's" as an obfuscated address;
    plain addresses are caught exactly by `scrub_identities`."""
    import scrubadub

    scrubber = scrubadub.Scrubber(locale="en_US")
    scrubber.remove_detector("email")
    return scrubber


SCHOOL_TYPE = re.compile(
    r"\s+(?:Elementary|Middle|High|Junior High|Primary|Secondary|Charter|Academy|Prep|School|College|University|"
    r"Institute|Learning Center|Center|Centre|Campus)\b.*$"
)


def _places_in(text: str) -> set[str]:
    """School and place names the detectors find in one text, with a school's short name
    ("Cedar Hollow" of "Cedar Hollow Middle School")."""
    found = set()
    for match in SCHOOL.finditer(text):
        found.add(match.group())
        short = SCHOOL_TYPE.sub("", match.group())
        if short != match.group() and short.split()[0].lower() not in NOT_PLACES | {"st.", "saint"}:
            found.add(short)
    for match in PLACE.finditer(text):
        if match.group(1).split()[0].lower() not in NOT_PLACES:
            found.add(match.group(1))
    return {name for name in found if len(name) >= 4}


def known_places(texts: list[str | None], posts: pl.DataFrame | None = None) -> frozenset[str]:
    """Every school and place name found in a community's stories and posts: a school
    named once as "at Cedar Hollow" is then masked wherever it appears ("Cedar Hollow
    uses it with her students"). Posts are searched with polars (vectorized)."""
    found: set[str] = set()
    for text in texts:
        if text:
            found |= _places_in(text)
    if posts is not None and posts.height:
        pattern = PLACE.pattern.replace("’", "'")  # polars regex: the same pattern
        candidates = (
            posts.lazy().select(pl.col("body_text").str.extract_all(pattern).alias("m")).explode("m")
            .drop_nulls().unique().collect().get_column("m").to_list()
        )
        found |= {name for candidate in candidates for name in _places_in(candidate)}
    return frozenset(found)


def scrub_personal_details(text: str | None, places: frozenset[str] = frozenset()) -> str | None:
    """`text` with emails, phone numbers, links, handles, credentials, names, schools and
    places replaced by [email], [phone], [link], [handle], [credential], [name],
    [school], [place]; `places` are names known from elsewhere in the community
    (`known_places`), masked wherever they appear."""
    if text is None:
        return None
    text = scrub_identities(text)  # plain emails, @handles and phone numbers first: exact forms
    spans: list[tuple[int, int, str]] = [
        (filth.beg, filth.end, LABELS.get(filth.type, "[removed]")) for filth in _scrubber().iter_filth(text)
    ]
    spans += [(m.start(), m.end(), "[school]") for m in SCHOOL.finditer(text)]
    spans += [(m.start(), m.end(), "[name]") for m in HONORIFIC.finditer(text)]
    spans += [
        (m.start(1), m.end(1), "[place]") for m in PLACE.finditer(text)
        if m.group(1).split()[0].lower() not in NOT_PLACES and not re.search(r"\s\d", text[m.end(1):m.end(1) + 3])
    ]
    spans += [(start, end, "[name]") for start, end in _name_spans(text)]
    for place in places:
        spans += [(m.start(), m.end(), "[place]") for m in re.finditer(rf"\b{re.escape(place)}\b", text)]
    # merge overlaps: the earliest span wins, stretched over whatever overlaps it
    merged: list[tuple[int, int, str]] = []
    for start, end, label in sorted(spans, key=lambda s: (s[0], -s[1])):
        if merged and start < merged[-1][1]:
            previous = merged[-1]
            merged[-1] = (previous[0], max(previous[1], end), previous[2])
        else:
            merged.append((start, end, label))
    out, position = [], 0
    for start, end, label in merged:
        out += [text[position:start], label]
        position = end
    out.append(text[position:])
    return re.sub(r"(\[name\])(?:[\s,&]+(?:and\s+)?\[name\])+", r"\1", "".join(out))


# ---------------------------------------------------------------- assembling stories
URL = re.compile(r"https?://\S+")


def _thread_references(text: pl.Expr) -> pl.Expr:
    """Ids a story's links could carry: the path segments and query values of its URLs
    (a Discourse topic /t/slug/123, a Moodle discuss.php?d=77, a Canvas topic id)."""
    return (
        text.str.extract_all(URL.pattern).list.join(" ")
        .str.replace_all(r"https?://", " ")
        .str.extract_all(r"[A-Za-z0-9_.-]+")
        .list.unique()
    )


def stories(responses: pl.DataFrame, items: pl.DataFrame, quarter: Quarter, posts: pl.DataFrame | None = None) -> pl.DataFrame:
    """The stories told in the quarter's waves, one row each: respondent_key, member_key,
    wave, consent_to_quote, cycles (crossed, sorted), answers (list of {cycle, prompt,
    text}, unscrubbed: use `quotable_stories` for anything shown) and threads (forum
    thread ids the answers link to, when posts are given)."""
    story_items = items.filter(pl.col("evidence_type") == "story").select("item_id", "cycle", prompt="text")
    answered = (
        quarter_responses(responses, quarter)
        .join(story_items, on="item_id", how="inner")
        .filter(pl.col("value_text").str.count_matches(r"\S+") >= STORY_ITEMS_MIN_WORDS)
        .sort("respondent_key", "wave", "cycle")
    )
    told = answered.group_by("respondent_key", "wave", maintain_order=True).agg(
        member_key=pl.col("member_key").drop_nulls().first(),
        consent_to_quote=pl.col("consent_to_quote").any(),
        cycles=pl.col("cycle").unique().sort(),
        answers=pl.struct("cycle", "prompt", text=pl.col("value_text")),
        references=_thread_references(pl.col("value_text").str.join(" ")),
    )
    if posts is None or posts.height == 0:
        return told.with_columns(threads=pl.lit([], pl.List(pl.String))).drop("references")
    known = posts.select("thread_id").unique()
    linked = (
        told.select("respondent_key", "wave", reference="references").explode("reference")
        .join(known, left_on="reference", right_on="thread_id", how="semi")
        .group_by("respondent_key", "wave").agg(threads=pl.col("reference").unique().sort())
    )
    return told.join(linked, on=["respondent_key", "wave"], how="left").with_columns(
        threads=pl.col("threads").fill_null([])
    ).drop("references")


def quotable_stories(
    responses: pl.DataFrame, items: pl.DataFrame, quarter: Quarter, posts: pl.DataFrame | None = None, limit: int | None = None
) -> list[dict]:
    """Stories the report may quote: consented only, every answer scrubbed, the furthest-
    reaching first (most cycles, then the longest). Each: cycles, answers [{cycle,
    prompt, text}] and threads [{channel, posts, title}]: a linked thread's title only
    when the teller started it (their own words); other members' posts are never quoted."""
    told = stories(responses, items, quarter, posts).filter(pl.col("consent_to_quote"))
    told = told.with_columns(
        length=pl.col("answers").list.eval(pl.element().struct.field("text").str.len_chars()).list.sum(),
        reach=pl.col("cycles").list.len(),
    ).sort(["reach", "length", "respondent_key"], descending=[True, True, False])
    if limit is not None:
        told = told.head(limit)
    # Place and school names from every story told this quarter (consented or not) and the
    # community's posts: detection only, nothing of it is quoted.
    every_answer = stories(responses, items, quarter).get_column("answers").to_list()
    places = known_places([answer["text"] for answers in every_answer for answer in answers], posts)
    quoted = []
    for story in told.iter_rows(named=True):
        threads = []
        for thread_id in story["threads"]:
            thread = posts.filter(pl.col("thread_id") == thread_id)
            opener = thread.filter(pl.col("is_thread_start")).head(1)
            own = opener.height and story["member_key"] is not None and opener.get_column("author_key").item() == story["member_key"]
            threads.append({
                "channel": thread.get_column("channel").drop_nulls().first() if thread.height else None,
                "posts": thread.height,
                "title": scrub_personal_details(opener.get_column("title").item(), places) if own else None,
            })
        quoted.append({
            "cycles": story["cycles"],
            "answers": [
                {"cycle": answer["cycle"], "prompt": answer["prompt"], "text": scrub_personal_details(answer["text"], places)}
                for answer in story["answers"]
            ],
            "threads": threads,
        })
    return quoted


STORY_SCHEMA = {
    "story": pl.Int64,
    "cycles": pl.List(pl.Int64),
    "answers": pl.List(pl.Struct({"cycle": pl.Int64, "prompt": pl.String, "text": pl.String})),
    "threads": pl.List(pl.Struct({"channel": pl.String, "posts": pl.Int64, "title": pl.String})),
}


def quotable_frame(quoted: list[dict]) -> pl.DataFrame:
    """`quotable_stories` as a table (one row per story, numbered from 1), for storage."""
    return pl.DataFrame(
        [{"story": number, **story} for number, story in enumerate(quoted, start=1)], schema=STORY_SCHEMA
    )
