"""Bad input to any reader gives one clear line naming the file and the problem."""

import json
import os
import subprocess
import sys

import pytest

from value_pipeline.errors import InputError
from value_pipeline.ingest import read_community

COMMUNITY_YAML = "name: Demo\ntimezone: America/Chicago\n"


def _community(tmp_path, files: dict[str, bytes | str], community_yaml: str | None = COMMUNITY_YAML):
    folder = tmp_path / "demo"
    folder.mkdir()
    if community_yaml is not None:
        (folder / "community.yaml").write_text(community_yaml)
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder


CASES = {
    "empty file": ({"forum/topic.json": b""}, "forum/topic.json", "empty"),
    "truncated JSON": ({"forum/topic.json": '{"post_stream": {"posts": [{"id": 1'}, "forum/topic.json", "not valid JSON"),
    "binary data": ({"forum/topic.json": b"\x89PNG\r\n\x1a\n\x00\x00\x00binary"}, "forum/topic.json", "binary data"),
    "unknown format": ({"forum/notes.txt": "hello, this is not an export"}, "forum/notes.txt", "not a supported forum format"),
    "csv missing columns": ({"forum/f.csv": "id,discussion,parent,userid,message\n1,1,0,2,hi\n"}, "forum/f.csv", "missing column(s) created, subject"),
    "no forum export": ({"surveys/x.csv": "Timestamp,Q\n"}, "forum", "no forum export found"),
    "unknown survey file": ({"forum/t.json": json.dumps({"category_list": {"categories": []}}), "surveys/w.csv": "a,b\n1,2\n"},
                            "surveys/w.csv", "not a supported survey format"),
}


@pytest.mark.parametrize("case", CASES)
def test_one_line_error_names_the_file(case, tmp_path, pseudonymizer):
    files, culprit, problem = CASES[case]
    folder = _community(tmp_path, files)
    with pytest.raises(InputError) as raised:
        read_community(folder, pseudonymizer)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(str(folder / culprit))
    assert problem in message


def test_missing_and_invalid_community_yaml(tmp_path, pseudonymizer):
    with pytest.raises(InputError, match="community.yaml is missing"):
        read_community(_community(tmp_path, {}, community_yaml=None), pseudonymizer)
    (tmp_path / "demo" / "community.yaml").write_text("name: Demo\ntimezone: Mars/Olympus\n")
    with pytest.raises(InputError, match="timezone: Value error, unknown timezone 'Mars/Olympus'"):
        read_community(tmp_path / "demo", pseudonymizer)


def test_cli_prints_one_line_and_exits_2(tmp_path):
    folder = _community(tmp_path, {"forum/topic.json": '{"post_stream": '})
    result = subprocess.run(
        [sys.executable, "-m", "assets.cli", "ingest", str(folder), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, env={**os.environ, "VALUE_PIPELINE_SECRET": "s3cret"},
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith("value-pipeline: ") and "topic.json: not valid JSON" in lines[0]
    assert not (tmp_path / "out").exists()
