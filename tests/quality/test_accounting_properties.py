"""Property-based: whatever rows a reader is fed, every row is accepted or quarantined,
ids stay unique and every accepted reply's parent is an accepted post of its thread."""

import csv
import io

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from value_pipeline.ingest import generic, google_forms, moodle
from value_pipeline.instrument import load_instrument

IDS = st.sampled_from([str(i) for i in range(1, 13)] + ["", "x7", "0"])
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
TIMES = st.one_of(
    st.sampled_from(["2026-03-01 10:00:00", "2026-03-02T11:30:00Z", "2026-03-03T08:00:00+02:00", "1767650000",
                     "not a date", "", "2099-01-01 00:00:00", "1970-01-01 00:00:00"]),
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S")),
)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _csv(header, rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _assert_forum_invariants(result):
    for account in result.accounts:
        assert account.read == account.accepted + account.quarantined, account
    posts = result.posts
    assert posts.get_column("post_id").is_duplicated().sum() == 0
    replies = posts.filter(pl.col("parent_post_id").is_not_null())
    parents = posts.select(parent_post_id="post_id", parent_thread="thread_id")
    joined = replies.join(parents, on="parent_post_id", how="left")
    assert joined.get_column("parent_thread").null_count() == 0, "a reply points at a missing post"
    assert (joined.get_column("parent_thread") == joined.get_column("thread_id")).all()
    assert (posts.get_column("is_thread_start") == posts.get_column("parent_post_id").is_null()).all()


ROW = st.tuples(IDS, IDS, st.emails() | st.sampled_from(["", "teacher_x"]), TIMES, TEXT)


@SETTINGS
@given(rows=st.lists(ROW, max_size=25))
def test_generic_reader_accounts_for_every_row(tmp_path_factory, context, rows):
    path = tmp_path_factory.mktemp("generic") / "posts.csv"
    path.write_text(_csv(["post_id", "parent_post_id", "author", "created_at", "body_text"], rows), encoding="utf-8")
    result = generic.read([path], context(timezone="Europe/Madrid"))
    assert result.accounts[0].read == len(rows)
    _assert_forum_invariants(result)


MOODLE_ROW = st.tuples(IDS, st.sampled_from(["1", "2", ""]), IDS, st.sampled_from(["101", "102", ""]), TIMES, TEXT,
                       st.sampled_from(["0", "1", ""]))


@SETTINGS
@given(rows=st.lists(MOODLE_ROW, max_size=25))
def test_moodle_reader_accounts_for_every_row(tmp_path_factory, context, rows):
    header = ["id", "discussion", "parent", "userid", "userfullname", "created", "modified", "mailed", "subject", "message",
              "messageformat", "messagetrust", "attachment", "totalscore", "mailnow", "deleted"]
    body = [[i, d, p, u, "Name", t, "", "1", "Subject", f"<p>{m}</p>", "1", "0", "", "0", "0", deleted]
            for i, d, p, u, t, m, deleted in rows]
    path = tmp_path_factory.mktemp("moodle") / "Forum.csv"
    path.write_text(_csv(header, body), encoding="utf-8")
    result = moodle.read([path], context())
    assert result.accounts[0].read == len(rows)
    _assert_forum_invariants(result)


ANSWERS = st.sampled_from(["Strongly agree", "Agree", "agree ", "3", "7", "-1", "Don't know", "", "Agreeish", "Yes", "No"])


@SETTINGS
@given(rows=st.lists(st.tuples(st.sampled_from(["a@x.example", "b@x.example", "c@x.example", ""]), TIMES, ANSWERS, ANSWERS),
                     max_size=20))
def test_survey_reader_accounts_for_every_row_and_answer(tmp_path_factory, context, rows):
    instrument = load_instrument()
    header = ["Timestamp", "Email Address", instrument.item("imm_useful").text, instrument.item("app_adapted").text]
    body = [[time.replace("-", "/"), email, a, b] for email, time, a, b in rows]
    path = tmp_path_factory.mktemp("forms") / "baseline.csv"
    path.write_text(_csv(header, body), encoding="utf-8")
    result = google_forms.read([path], context())
    respondent_rows, answers = result.accounts
    assert respondent_rows.read == len(rows) and respondent_rows.balanced and answers.balanced
    frame = result.responses
    key = pl.concat_str("wave", "respondent_key", "item_id")
    assert frame.select(key).to_series().is_duplicated().sum() == 0
    scaled = frame.filter(pl.col("value_num").is_not_null())
    assert scaled.filter(pl.col("item_id") == "imm_useful").get_column("value_num").is_between(1, 5).all()
    assert scaled.filter(pl.col("item_id") == "app_adapted").get_column("value_num").is_in([0.0, 1.0]).all()
