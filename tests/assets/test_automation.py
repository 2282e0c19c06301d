"""The quarterly schedule and the exports sensor, evaluated as ticks."""

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone

import dagster as dg
from support import PROJECT, SAMPLE_EXPORTS

from assets.automation import community_exports_sensor, quarterly_reports
from assets.partitions import community_partitions
from assets.resources import PipelineSettings


def test_definitions_validate():
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT, capture_output=True, text=True, env={**os.environ, "DAGSTER_HOME": ""},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "All code locations passed validation" in result.stderr + result.stdout


def test_schedule_requests_last_quarter_for_every_community():
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=datetime(2026, 10, 1, 6, tzinfo=timezone.utc))
        assert isinstance(quarterly_reports(context), dg.SkipReason)
        instance.add_dynamic_partitions(community_partitions.name, ["b-community", "a-community"])
        requests = quarterly_reports(context)
        assert [r.partition_key for r in requests] == [
            dg.MultiPartitionKey({"community": "a-community", "quarter": "2026-07-01"}),
            dg.MultiPartitionKey({"community": "b-community", "quarter": "2026-07-01"}),
        ]
        assert requests[0].tags["quarter"] == "2026-Q3"


def test_sensor_registers_new_folders_and_reruns_changed_ones(tmp_path):
    exports = tmp_path / "exports"
    shutil.copytree(SAMPLE_EXPORTS / "inquiry-math-pd", exports / "inquiry-math-pd")
    (exports / "not-a-community").mkdir()
    settings = PipelineSettings(exports_dir=str(exports), output_dir=str(tmp_path / "out"))
    with dg.instance_for_test() as instance:
        first = community_exports_sensor(dg.build_sensor_context(instance=instance), settings=settings)
        assert [r.partition_key for r in first.run_requests] == ["inquiry-math-pd"]
        assert first.dynamic_partitions_requests[0].partition_keys == ["inquiry-math-pd"]
        cursor = json.dumps({"inquiry-math-pd": first.run_requests[0].run_key.split(":")[1]})
        instance.add_dynamic_partitions(community_partitions.name, ["inquiry-math-pd"])
        unchanged = community_exports_sensor(dg.build_sensor_context(instance=instance, cursor=cursor), settings=settings)
        assert unchanged.run_requests == [] and unchanged.dynamic_partitions_requests == []
        survey = exports / "inquiry-math-pd" / "surveys" / "followup.csv"
        survey.write_text(survey.read_text() + "\n")
        changed = community_exports_sensor(dg.build_sensor_context(instance=instance, cursor=cursor), settings=settings)
        assert [r.partition_key for r in changed.run_requests] == ["inquiry-math-pd"]
