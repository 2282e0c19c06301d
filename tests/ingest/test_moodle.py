"""The Moodle forum export reader on a small hand-made export (no public sample exists)."""

import polars as pl
import pytest

from value_pipeline.errors import InputError
from value_pipeline.ingest import moodle

HEADER = ("id,discussion,parent,userid,userfullname,created,modified,mailed,subject,message,messageformat,"
          "messagetrust,attachment,totalscore,mailnow,deleted,privatereplyto,privatereplytofullname,wordcount,charcount")


def _write(path, rows):
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_discussions_nest_by_parent_and_dates_parse(tmp_path, context):
    forum = _write(tmp_path / "Module 1 - Rich tasks.csv", [
        '11,5,0,101,Ana Ruiz,1770076920,1770076920,1,Week 1 task,"<p>Try the <a href=""https://youcubed.org/x"">task</a></p>",1,0,,0,0,0,0,,4,20',
        '12,5,11,102,Ben Ode,1770080520,1770080520,1,Re: Week 1 task,<p>We tried it in 4th period</p>,1,0,,0,0,0,0,,6,27',
        '13,5,12,101,Ana Ruiz,"Tuesday, 3 February 2026, 7:42 PM",,1,Re: Week 1 task,<p>How did it go?</p>,1,0,,0,0,0,0,,4,15',
    ])
    users = tmp_path / "participants.csv"
    users.write_text("id,username,email,firstname,lastname,role\n101,aruiz,ana@district.example,Ana,Ruiz,teacher\n"
                     "102,bode,ben@district.example,Ben,Ode,student\n103,cz,cz@district.example,Cy,Zed,student\n")
    result = moodle.read([forum], context(member_files=[users], timezone="America/Denver"))
    posts = result.posts.sort("post_id")
    assert posts.get_column("parent_post_id").to_list() == [None, "11", "12"]
    assert posts.get_column("channel").unique().to_list() == ["Module 1 - Rich tasks"]
    assert posts.get_column("title").to_list() == ["Week 1 task", None, None]
    # 7:42 PM in Denver (MST, UTC-7) is 02:42 UTC the next day
    assert str(posts.get_column("created_at")[2]) == "2026-02-04 02:42:00+00:00"
    assert posts.get_column("n_links").to_list() == [1, 0, 0]
    # the facilitator role marks staff; the silent participant is still a member
    assert posts.filter(pl.col("is_staff")).height == 2
    assert result.members.height == 3
    assert "Ana" not in posts.write_csv() and "aruiz" not in result.members.write_csv()


def test_bad_rows_are_quarantined_with_reasons(tmp_path, context):
    forum = _write(tmp_path / "forum.csv", [
        "1,1,0,7,X,1770076920,,1,Hi,<p>hello</p>,1,0,,0,0,0,0,,1,5",
        "1,1,0,7,X,1770076920,,1,Hi,<p>hello again</p>,1,0,,0,0,0,0,,1,5",
        "2,1,1,8,Y,not a date,,1,Re: Hi,<p>yo</p>,1,0,,0,0,0,0,,1,2",
        "3,1,99,8,Y,1770076930,,1,Re: Hi,<p>orphan</p>,1,0,,0,0,0,0,,1,2",
        "4,1,2,7,X,1770076940,,1,Re: Hi,<p>reply to the undated post</p>,1,0,,0,0,0,0,,1,2",
    ])
    result = moodle.read([forum], context())
    assert result.posts.height == 1
    assert sorted(result.quarantine.get_column("reason").to_list()) == [
        "duplicate post id (already read)", "missing or unreadable created date",
        "reply to a post not in the export", "reply to a quarantined post",
    ]
    assert result.accounts[0].balanced


def test_missing_columns_name_the_file(tmp_path, context):
    bad = tmp_path / "forum.csv"
    bad.write_text("id,subject,message\n1,a,b\n")
    with pytest.raises(InputError) as error:
        moodle.read([bad], context())
    assert str(error.value).startswith(str(bad))
    assert "missing column(s) discussion, parent, userid, created" in str(error.value)


def test_json_export_reads_like_the_csv(tmp_path, context):
    import json

    from value_pipeline.ingest.detect import Sniff

    csv_file = _write(tmp_path / "Module 1.csv", [
        '11,5,0,101,Ana Ruiz,1770076920,1770076920,1,Week 1 task,<p>Try the task</p>,1,0,,0,0,0,0,,4,20',
        '12,5,11,102,Ben Ode,1770080520,1770080520,1,Re: Week 1 task,<p>We tried it</p>,1,0,,0,0,0,0,,3,12',
    ])
    rows = pl.read_csv(csv_file, infer_schema=False).to_dicts()
    for wrapped in (rows, [rows]):  # both shapes Moodle versions write
        json_file = tmp_path / "Module 1.json"
        json_file.write_text(json.dumps(wrapped))
        assert moodle.looks_like(Sniff(json_file))
        from_json = moodle.read([json_file], context()).posts.drop("source_file")
        from_csv = moodle.read([csv_file], context()).posts.drop("source_file")
        assert from_json.equals(from_csv)


def test_member_roles_are_the_canonical_ones(tmp_path, context):
    forum = _write(tmp_path / "f.csv", ["11,5,0,101,A,1770076920,,1,T,<p>x</p>,1,0,,0,0,0,0,,1,1"])
    users = tmp_path / "participants.csv"
    users.write_text("id,username,email,role\n101,a,a@d.example,teacher\n102,b,b@d.example,student\n")
    members = moodle.read([forum], context(member_files=[users])).members
    assert sorted(members.get_column("role").to_list()) == ["facilitator", "member"]
