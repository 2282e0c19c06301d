"""The mbox reader on a hand-built mailing-list archive (no public sample exists).

tests/fixtures/mbox/teachers-list.mbox is a Mailman list archive of 12 messages:
0 thread start by the math coach (staff), 1 ISO-8859-1 reply under quoted text,
2 multipart/alternative top-posted reply, 3 thread start with an encoded-word subject
and an HTML-only base64 body, 4 reply with a PDF attachment, 5 reply whose parent is
not in the archive but whose thread root is, 6 reply to a thread not in the archive,
7 a second copy of 4, 8 a bounce, 9 thread start without Message-ID (and an mboxrd
">From" line), 10 reply without threading headers and with a wrong charset, 11 a
message with an unreadable Date.
"""

import gzip
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest
from support import PROJECT, SAMPLES

from value_pipeline.errors import InputError
from value_pipeline.ingest import mbox
from value_pipeline.ingest.detect import Sniff

FIXTURE = PROJECT / "tests" / "fixtures" / "mbox" / "teachers-list.mbox"
STAFF = frozenset({"m.okafor@district.example"})
PEOPLE = {
    "emails": ["m.okafor@district.example", "heloise.dube@ecole.example", "sam.whitfield@lincoln.example",
               "praman@district.example", "jlee@westside.example", "ana.ruiz@school.example",
               "ben.okoro@district.example", "old.teacher@district.example"],
    "names": ["Maria Okafor", "Héloïse Dubé", "Dubé", "Sam Whitfield", "Priya Raman", "Jordan Lee",
              "Ruiz, Ana", "Ana Ruiz", "Ben Okoro", "Okoro", "Whitfield"],
    "handles": ["m.okafor", "heloise.dube", "sam.whitfield", "praman", "jlee", "ana.ruiz", "ben.okoro"],
}


@pytest.fixture
def archive(context):
    return mbox.read([FIXTURE], context(staff=STAFF))


def _row(result, row: int) -> dict:
    return result.posts.filter(pl.col("source_row") == row).row(0, named=True)


def _write_mbox(path: Path, *messages: str, envelope: str = "From teacher@school.example Mon Jan  5 10:00:00 2026") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{envelope}\n{message.strip()}\n\n" for message in messages), encoding="utf-8")
    return path


def _message(mid: str | None, sender: str, subject: str, body: str, date: str = "Mon, 05 Jan 2026 10:00:00 -0600",
             extra: str = "") -> str:
    headers = [f"From: {sender}", f"Subject: {subject}", f"Date: {date}"]
    if mid:
        headers.append(f"Message-ID: <{mid}>")
    return "\n".join(headers) + ("\n" + extra.strip() if extra.strip() else "") + "\n\n" + body


# ------------------------------------------------------------------ a normal export
def test_threads_and_parents(archive):
    first, heloise, sam, priya, jordan, ana = (_row(archive, i) for i in range(6))
    weeding, reply = _row(archive, 9), _row(archive, 10)
    # In-Reply-To gives the parent; thread_id is the root's id
    assert first["is_thread_start"] and first["parent_post_id"] is None and first["thread_id"] == first["post_id"]
    assert heloise["parent_post_id"] == first["post_id"] and heloise["thread_id"] == first["post_id"]
    assert sam["parent_post_id"] == heloise["post_id"] and sam["thread_id"] == first["post_id"]
    assert jordan["parent_post_id"] == priya["post_id"] and priya["is_thread_start"]
    # the direct parent is not in the archive: the deepest ancestor present (References) is
    assert ana["parent_post_id"] == first["post_id"] and not ana["is_thread_start"]
    # no Message-ID: a derived id; a header-less "RE:" reply finds it by subject
    assert weeding["post_id"].startswith("derived-") and weeding["is_thread_start"]
    assert reply["parent_post_id"] == weeding["post_id"] and reply["thread_id"] == weeding["post_id"]
    # parent_post_id is null exactly for thread starts
    assert archive.posts.filter(pl.col("is_thread_start") != pl.col("parent_post_id").is_null()).height == 0


def test_times_titles_channel_staff(archive):
    times = dict(archive.posts.select("source_row", "created_at").iter_rows())
    assert times[0] == datetime(2026, 1, 12, 14, 15, tzinfo=timezone.utc)  # 08:15 -0600
    assert times[1] == datetime(2026, 1, 12, 15, 40, 12, tzinfo=timezone.utc)  # 16:40:12 +0100
    assert times[2] == datetime(2026, 1, 13, 12, 5, 33, tzinfo=timezone.utc)  # 07:05:33 -0500
    titles = dict(archive.posts.select("source_row", "title").iter_rows())
    # the RFC 2047 subject decoded; list tag and reply prefixes stripped; replies have no title
    assert titles == {0: "Fractions on a number line: what works?", 1: None, 2: None,
                      3: "Café science night — volunteers?", 4: None, 5: None, 9: "Classroom library weeding", 10: None}
    assert archive.posts.get_column("channel").unique().to_list() == ["teachers-list"]  # from List-Id
    assert archive.posts.filter(pl.col("is_staff")).get_column("source_row").to_list() == [0]
    assert archive.posts.get_column("platform").unique().to_list() == ["mbox"]
    assert archive.posts.get_column("n_reactions").unique().to_list() == [0]


def test_bodies_are_own_words_in_plain_text(archive):
    body = dict(archive.posts.select("source_row", "body_text").iter_rows())
    # ISO-8859-1 body (a Windows-1252 apostrophe too); the quoted text and attribution are gone
    assert body[1].startswith("Bonjour Maria! In my class Zoë and François ran a number-line relay")
    assert "It’s noisy" in body[1] and ">" not in body[1] and "wrote:" not in body[1]
    # multipart/alternative: the text/plain part, top-posted reply without the quoted original
    assert body[2].startswith("Love the relay idea.") and body[2].endswith("https://padlet.example/lincoln/fractions")
    # HTML-only (base64): markup and style removed
    assert "<" not in body[3] and "p {margin" not in body[3] and "Our Café Science Night is on 5 February." in body[3]
    # the signature after "-- " and the Mailman footer are not the author's words
    assert body[0].endswith("with mixed\nresults.") and "Math Coach" not in body[0] and "mailing list" not in body[0]
    # mboxrd ">From " escaping is undone, so the line is not taken for a quote
    assert "\nFrom the district office: books older than 2005" in body[9]
    # declared UTF-8 but written in Windows-1252: decoded without a crash or U+FFFD
    assert body[10] == "Never Charlotte’s Web — we read it every décembre.\nMerci Ben!"


def test_links_and_attachments(archive):
    links = dict(archive.posts.select("source_row", "n_links").iter_rows())
    attachments = dict(archive.posts.select("source_row", "n_attachments").iter_rows())
    assert links == {0: 1, 1: 0, 2: 1, 3: 1, 4: 0, 5: 0, 9: 0, 10: 0}
    # the PDF is counted (never read); the HTML alternative of message 2 is not an attachment
    assert attachments == {0: 0, 1: 0, 2: 0, 3: 0, 4: 1, 5: 0, 9: 0, 10: 0}


# --------------------------------------------------------------- row-level problems
def test_problem_rows_are_quarantined_with_reasons(archive):
    reasons = dict(archive.quarantine.select("source_row", "reason").iter_rows())
    assert reasons == {
        6: "reply to a post not in the export",
        7: "duplicate Message-ID (already read)",
        8: "excluded: automated message",
        11: "missing or unreadable Date header",
    }
    (account,) = archive.accounts
    assert (account.read, account.accepted, account.quarantined) == (12, 8, 4) and account.balanced
    assert archive.quarantine.get_column("table").unique().to_list() == ["posts"]
    assert any("without a Message-ID" in note for note in archive.notes)
    # members are the authors seen (no member list in mbox): the seven people with an accepted post
    assert archive.members.height == 7
    assert archive.members.filter(pl.col("is_staff")).get_column("role").to_list() == ["staff"]


def test_no_identity_leaves_the_reader(archive, pseudonymizer):
    text = "\n".join(frame.write_csv() for frame in (archive.posts, archive.members, archive.quarantine))
    for kind in ("emails", "names", "handles"):
        for value in PEOPLE[kind]:
            assert value.lower() not in text.lower(), f"{kind}: {value}"
    assert "@" not in text  # no address and no Message-ID (ids are digests)
    # authors are keyed by email, so list members link to survey respondents
    assert pseudonymizer.key("email", "Heloise.Dube@ecole.example") in archive.posts.get_column("author_key").to_list()


# ------------------------------------------------------------------------ detection
def test_detection_from_content(tmp_path):
    assert mbox.looks_like(Sniff(FIXTURE))
    renamed = tmp_path / "archive.dat"  # the name does not matter, the content does
    renamed.write_bytes(FIXTURE.read_bytes())
    assert mbox.looks_like(Sniff(renamed))
    compressed = tmp_path / "teachers-list.mbox.gz"
    compressed.write_bytes(gzip.compress(FIXTURE.read_bytes()))
    assert mbox.looks_like(Sniff(compressed))
    folder = tmp_path / "list"
    folder.mkdir()
    (folder / "README.txt").write_text("exported by the list admin\n")
    (folder / "2026-January.txt").write_bytes(FIXTURE.read_bytes())
    assert mbox.looks_like(Sniff(folder))
    bundle = tmp_path / "takeout.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("Takeout/Groups/teachers-list/messages.mbox", FIXTURE.read_bytes())
    assert mbox.looks_like(Sniff(bundle))


def test_other_formats_are_not_mbox(tmp_path):
    moodle = tmp_path / "forum.csv"
    moodle.write_text("id,discussion,parent,userid,userfullname,created,subject,message\n"
                      "1,1,0,7,Ana Ruiz,1770076920,From the office,<p>hello</p>\n")
    eml = tmp_path / "one.eml"  # a single message has no "From " separator line
    eml.write_text(_message("a@x.example", "a@x.example", "Hi", "hello"))
    prose = tmp_path / "notes.txt"
    prose.write_text("From now on we meet at 3:30 in room 12.\nBring your rubrics.\n")
    empty = tmp_path / "empty.mbox"
    empty.write_bytes(b"")
    binary = tmp_path / "photo.mbox"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    for path in (moodle, eml, prose, empty, binary, tmp_path / "missing.mbox"):
        assert not mbox.looks_like(Sniff(path)), path
    slack = SAMPLES / "slack" / "slack-export-viewer"
    for path in (slack / "export" / "channels.json", slack / "export", slack / "testarchive.zip"):
        if path.exists():
            assert not mbox.looks_like(Sniff(path)), path


# ------------------------------------------------------------- structural problems
@pytest.mark.parametrize(
    "name, content, problem",
    [
        ("empty.mbox", b"", "the file is empty"),
        ("notes.mbox", b"Dear colleagues,\nsee you Monday.\n", "not an mbox file"),
        ("broken.mbox.gz", b"\x1f\x8b\x08\x00garbage", "not an mbox file"),
    ],
)
def test_structural_problems_give_one_line(tmp_path, context, name, content, problem):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as raised:
        mbox.read([path], context())
    message = str(raised.value)
    assert message.startswith(str(path)) and problem in message and "\n" not in message


def test_folder_or_zip_without_a_mailbox(tmp_path, context):
    folder = tmp_path / "forum"
    folder.mkdir()
    (folder / "notes.txt").write_text("nothing here\n")
    with pytest.raises(InputError, match="no mbox file in the folder"):
        mbox.read([folder], context())
    bundle = tmp_path / "bundle.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("notes.txt", "nothing here\n")
    with pytest.raises(InputError, match="no mbox file in the zip"):
        mbox.read([bundle], context())


def test_zip_with_parent_directory_entries_is_refused(tmp_path, context):
    bundle = tmp_path / "bundle.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("list/messages.mbox", FIXTURE.read_bytes())
        archive.writestr("../evil.mbox", FIXTURE.read_bytes())
    with pytest.raises(InputError, match="unsafe path in zip"):
        mbox.read([bundle], context())


# ----------------------------------------------------------- archive layouts
PIPERMAIL_JANUARY = """From ana at school.example  Mon Jan 26 15:00:00 2026
From: ana at school.example (Ana Ruiz)
Date: Mon, 26 Jan 2026 09:00:00 -0600
Subject: [teachers-list] Exit tickets that are quick to mark
Message-ID: <ana-0126@school.example>

What do you use for exit tickets? I want something I can sort in two minutes.

-------------- next part --------------
An HTML attachment was scrubbed...
URL: <https://lists.district.example/pipermail/teachers-list/attachments/20260126/1a2b/attachment.html>

"""
PIPERMAIL_FEBRUARY = """From sam.whitfield at lincoln.example  Mon Feb  2 14:30:00 2026
From: sam.whitfield at lincoln.example (Sam Whitfield)
Date: Mon, 2 Feb 2026 09:30:00 -0500
Subject: [teachers-list] Exit tickets that are quick to mark
In-Reply-To: <ana-0126@school.example>
References: <ana-0126@school.example>
Message-ID: <sam-0202@lincoln.example>

Three smiley faces on a sticky note by the door. Template attached.

-------------- next part --------------
A non-text attachment was scrubbed...
Name: exit-ticket.pdf
Type: application/pdf
Size: 48213 bytes
Desc: not available
URL: <https://lists.district.example/pipermail/teachers-list/attachments/20260202/9f8e/exit-ticket.pdf>

"""


def test_pipermail_monthly_archives_thread_across_months(tmp_path, context, pseudonymizer):
    folder = tmp_path / "teachers-list"
    folder.mkdir()
    (folder / "2026-January.txt.gz").write_bytes(gzip.compress(PIPERMAIL_JANUARY.encode()))
    (folder / "2026-February.txt").write_text(PIPERMAIL_FEBRUARY)
    result = mbox.read([folder], context())
    posts = result.posts.sort("created_at")
    assert posts.height == 2 and result.accounts[0].balanced
    start, reply = posts.rows(named=True)
    assert reply["parent_post_id"] == start["post_id"] and reply["thread_id"] == start["post_id"]
    # "ana at school.example (Ana Ruiz)" is an email address, keyed as one
    assert start["author_key"] == pseudonymizer.key("email", "ana@school.example")
    # no List-Id in Pipermail archives: the folder names the list, not "2026-January"
    assert posts.get_column("channel").unique().to_list() == ["teachers-list"]
    # scrubbed attachments: the PDF counts, the HTML alternative does not; notices are not text
    assert posts.get_column("n_attachments").to_list() == [0, 1]
    assert reply["body_text"] == "Three smiley faces on a sticky note by the door. Template attached."
    assert posts.get_column("source_file").to_list() == [
        str(folder / "2026-January.txt.gz"), str(folder / "2026-February.txt")]


def test_several_mailboxes_are_read_as_one_archive(tmp_path, context):
    """Threads cross the files of one archive; a cross-posted copy is a duplicate."""
    january = _write_mbox(tmp_path / "a" / "2026-January.txt", PIPERMAIL_JANUARY.split("\n", 1)[1])
    february = _write_mbox(tmp_path / "b" / "2026-February.txt", PIPERMAIL_FEBRUARY.split("\n", 1)[1],
                           PIPERMAIL_JANUARY.split("\n", 1)[1])
    result = mbox.read([january, february], context())
    assert result.posts.height == 2 and result.posts.filter(~pl.col("is_thread_start")).height == 1
    assert result.quarantine.get_column("reason").to_list() == ["duplicate Message-ID (already read)"]
    assert result.accounts[0].read == 3 and result.accounts[0].balanced


def test_zip_of_a_google_group_with_rewritten_senders(tmp_path, context, pseudonymizer):
    """Google Groups rewrites From for DMARC; X-Original-Sender keeps the member's address."""
    groups = ("List-ID: <k12-science.googlegroups.com>\n"
              "List-Post: <https://groups.google.com/group/k12-science/post>, <mailto:k12-science@googlegroups.com>\n"
              "Mailing-list: list k12-science@googlegroups.com; contact k12-science+owners@googlegroups.com\n"
              "Precedence: list")
    footer = ("\n\n-- \nYou received this message because you are subscribed to the Google Groups \"K-12 Science\" group.\n"
              "To unsubscribe from this group and stop receiving emails from it, send an email to "
              "k12-science+unsubscribe@googlegroups.com.\n")
    mailbox_text = "".join(
        f"From 1790000000000000{i}@xxx Mon Jan 05 10:00:00 +0000 2026\n{message.strip()}\n\n"
        for i, message in enumerate([
            _message("start@mail.gmail.example", "'Dana Wu' via K-12 Science <k12-science@googlegroups.com>",
                     "Owl pellet lab", "Where do you order owl pellets?" + footer,
                     extra=groups + "\nX-Original-Sender: dana.wu@school.example\nReply-To: Dana Wu <dana.wu@school.example>"),
            _message("reply@mail.gmail.example", "Eli Park <eli.park@school.example>", "Re: Owl pellet lab",
                     "Carolina Biological, about $3 each.\n\nOn Mon, Jan 5, 2026 at 10:00 AM 'Dana Wu' via K-12 Science <\n"
                     "k12-science@googlegroups.com> wrote:\n\n> Where do you order owl pellets?" + footer,
                     date="Mon, 05 Jan 2026 11:00:00 -0600",
                     extra=groups + "\nIn-Reply-To: <start@mail.gmail.example>\nReferences: <start@mail.gmail.example>"),
        ])
    )
    bundle = tmp_path / "takeout-20260201.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("Takeout/Groups/k12-science/messages.mbox", mailbox_text)
        archive.writestr("Takeout/archive_browser.html", "<html>Takeout</html>")
    result = mbox.read([bundle], context())
    posts = result.posts.sort("created_at")
    assert posts.get_column("author_key").to_list() == [
        pseudonymizer.key("email", "dana.wu@school.example"), pseudonymizer.key("email", "eli.park@school.example")]
    assert posts.get_column("channel").unique().to_list() == ["k12-science"]
    assert posts.get_column("body_text").to_list() == ["Where do you order owl pellets?", "Carolina Biological, about $3 each."]
    assert posts.get_column("source_file").to_list() == [f"{bundle}!Takeout/Groups/k12-science/messages.mbox"] * 2
    assert any("not mailboxes were skipped" in note for note in result.notes)


def test_zone_less_dates_use_the_community_timezone(tmp_path, context):
    path = _write_mbox(
        tmp_path / "list.mbox",
        _message("a@x.example", "a@school.example", "Local", "no zone", date="Mon, 5 Jan 2026 10:00:00"),
        _message("b@x.example", "b@school.example", "Unknown zone", "-0000", date="Mon, 5 Jan 2026 10:00:00 -0000"),
    )
    result = mbox.read([path], context(timezone="America/Denver"))
    assert result.posts.get_column("created_at").to_list() == [
        datetime(2026, 1, 5, 17, 0, tzinfo=timezone.utc),  # 10:00 in Denver (UTC-7)
        datetime(2026, 1, 5, 10, 0, tzinfo=timezone.utc),  # -0000: UTC, local zone unknown
    ]


def test_threading_edge_cases(tmp_path, context):
    path = _write_mbox(
        tmp_path / "list.mbox",
        # a reply to a message not in the archive, and a reply to that reply: both quarantined
        _message("r1@x.example", "a@school.example", "Re: Old thread", "me too",
                 extra="In-Reply-To: <gone@x.example>\nReferences: <gone@x.example>"),
        _message("r2@x.example", "b@school.example", "Re: Old thread", "and me",
                 extra="In-Reply-To: <r1@x.example>\nReferences: <gone@x.example> <r1@x.example>"),
        # a forward cites the forwarded message, which is not in the archive: a thread start
        _message("f1@x.example", "c@school.example", "Fwd: District PD calendar", "FYI, the spring PD dates",
                 extra="References: <district-newsletter@x.example>"),
        # headers that loop: the earlier message starts the thread
        _message("l1@x.example", "a@school.example", "Loop", "first", date="Mon, 05 Jan 2026 09:00:00 -0600",
                 extra="In-Reply-To: <l2@x.example>"),
        _message("l2@x.example", "b@school.example", "Re: Loop", "second", date="Mon, 05 Jan 2026 09:30:00 -0600",
                 extra="In-Reply-To: <l1@x.example>"),
        # a "Re:" with no headers and nothing to match: a reply to a post not in the export
        _message("s1@x.example", "c@school.example", "Re: Something else", "yes"),
        # a message with no From address
        _message("n1@x.example", "undisclosed-recipients:;", "Hello", "who sent this?"),
    )
    result = mbox.read([path], context())
    reasons = dict(result.quarantine.select("source_row", "reason").iter_rows())
    assert reasons == {0: "reply to a post not in the export", 1: "reply to a post not in the export",
                       5: "reply to a post not in the export", 6: "missing author (no From address)"}
    starts = dict(result.posts.select("source_row", "is_thread_start").iter_rows())
    assert starts == {2: True, 3: True, 4: False}
    assert _row(result, 4)["thread_id"] == _row(result, 3)["post_id"]
    assert result.accounts[0].balanced


def test_automated_messages_are_excluded(tmp_path, context):
    path = _write_mbox(
        tmp_path / "list.mbox",
        _message("v1@x.example", "Ana <ana@school.example>", "Out of office", "Back on Monday.",
                 extra="Auto-Submitted: auto-replied"),
        _message("d1@x.example", "teachers-list-request@lists.example", "teachers-list Digest, Vol 3, Issue 12",
                 "Today's Topics: ...", extra="Precedence: list"),
        _message("w1@x.example", "teachers-list-owner@lists.example", "Welcome to teachers-list", "Welcome!"),
        _message("n1@x.example", "News <news@vendor.example>", "Spring sale", "20% off", extra="Precedence: bulk"),
        # list servers stamp Precedence on every post: that alone is not automation
        _message("p1@x.example", "Ana <ana@school.example>", "Field trip forms", "Due Friday.",
                 extra="Precedence: bulk\nList-Id: <teachers-list.lists.example>"),
    )
    result = mbox.read([path], context())
    assert result.quarantine.get_column("reason").unique().to_list() == ["excluded: automated message"]
    assert result.quarantine.height == 4 and result.posts.get_column("source_row").to_list() == [4]


@pytest.mark.parametrize(
    "text, own",
    [
        # bottom posting under "> " lines
        ("> Can we swap duty days?\n\nYes, I can take Thursday.", "Yes, I can take Thursday."),
        # generic attribution followed by quoted lines
        ("Ana Ruiz wrote:\n> Can we swap duty days?\nYes.", "Yes."),
        # Outlook: a From/Sent block and the original below it
        ("Thanks, I will print these.\n\n________________________________\nFrom: Ana Ruiz\nSent: Monday, January 5, 2026\n"
         "To: teachers-list\nSubject: Rubrics\n\nHere are the rubrics.", "Thanks, I will print these."),
        ("Agreed.\n\n-----Original Message-----\nFrom: Ana\nHere are the rubrics.", "Agreed."),
        # German client, wrapped attribution
        ("Danke!\n\nAm Mo., 5. Jan. 2026 um 10:00 Uhr schrieb Ana Ruiz <\nana@school.example>:\n> Hallo", "Danke!"),
        # a line ending in "wrote:" that is not followed by a quote is the author's own
        ("Here is what my student wrote:\nI like fractions now.", "Here is what my student wrote:\nI like fractions now."),
        # only a quote: the text is kept whole rather than left empty
        ("> Can we swap duty days?", "> Can we swap duty days?"),
    ],
)
def test_quoted_text_is_stripped(text, own):
    assert mbox._own_words(text)[0] == own


def test_malformed_messages_are_read_or_quarantined_never_raised(tmp_path, context):
    envelope = b"From x@school.example Mon Jan  5 10:00:00 2026\r\n"
    head = b"From: Ana <ana@school.example>\r\nDate: Mon, 5 Jan 2026 10:00:00 +0000\r\n"
    messages = [
        # an unknown charset in an encoded word, raw 8-bit Latin-1 in another header
        head + b"Subject: =?x-unknown?q?Caf=E9?= menu\r\nKeywords: caf\xe9\r\nMessage-ID: <1@x.example>\r\n\r\nhello\r\n",
        # a Message-ID without angle brackets
        head + b"Subject: Bare id\r\nMessage-ID: 2@x.example\r\n\r\nx\r\n",
        # multipart without a boundary: the payload is the text
        head + b"Subject: No boundary\r\nMessage-ID: <3@x.example>\r\nContent-Type: multipart/mixed\r\n\r\nplain words\r\n",
        # an empty text/plain alternative gives way to the HTML; its "-- " signature is cut
        head + b"Subject: Empty plain\r\nMessage-ID: <4@x.example>\r\nContent-Type: multipart/alternative; boundary=AA\r\n\r\n"
        b"--AA\r\nContent-Type: text/plain\r\n\r\n\r\n--AA\r\nContent-Type: text/html\r\n\r\n"
        b"<p>Only <a href='https://x.example'>HTML</a> here</p><div class=moz-signature>-- <br>Ana Ruiz</div>\r\n--AA--\r\n",
        # base64 that is not base64, control bytes in the body
        head + b"Subject: Junk\r\nMessage-ID: <5@x.example>\r\nContent-Transfer-Encoding: base64\r\n\r\n!!not base64\x01\r\n",
        # an attached message counts as one attachment and is not opened
        head + b"Subject: Forwarded\r\nMessage-ID: <6@x.example>\r\nContent-Type: multipart/mixed; boundary=ZZ\r\n\r\n"
        b"--ZZ\r\nContent-Type: text/plain\r\n\r\nsee below\r\n--ZZ\r\nContent-Type: message/rfc822\r\n\r\n"
        b"From: c@d.example\r\nSubject: inner\r\n\r\ninner body\r\n--ZZ--\r\n",
        # a day that does not exist, a clock in the future, an unset clock
        b"From: ana@school.example\r\nDate: Mon, 32 Jan 2026 10:00:00 +0000\r\nSubject: Bad day\r\n\r\nx\r\n",
        b"From: ana@school.example\r\nDate: Thu, 1 Jan 2099 10:00:00 +0000\r\nSubject: Future\r\n\r\nx\r\n",
        b"From: ana@school.example\r\nDate: Thu, 1 Jan 1970 00:00:00 +0000\r\nSubject: Epoch\r\n\r\nx\r\n",
    ]
    path = tmp_path / "odd.mbox"
    path.write_bytes(b"".join(envelope + message + b"\r\n" for message in messages))
    result = mbox.read([path], context())
    posts = {row["source_row"]: row for row in result.posts.iter_rows(named=True)}
    assert posts[0]["title"] == "Café menu"
    assert posts[1]["post_id"] == mbox._digest("2@x.example")
    assert posts[2]["body_text"] == "plain words"
    assert (posts[3]["body_text"], posts[3]["n_links"]) == ("Only HTML here", 1)
    assert posts[4]["body_text"] == "!!not base64"
    assert (posts[5]["body_text"], posts[5]["n_attachments"]) == ("see below", 1)
    assert result.quarantine.get_column("reason").to_list() == [
        "missing or unreadable Date header",
        "Date header in the future (the sender's clock was wrong)",
        "Date header before 1971 (an unset clock)",
    ]
    assert result.accounts[0].balanced
