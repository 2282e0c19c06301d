"""The quarterly schedule and the exports sensor through the code location's Definitions,
tick after tick, the way the daemon evaluates them (`evaluate_tick`, the cursor the sensor
stored, dynamic partitions added between ticks, run requests resolved against the job).

test_automation.py covers the single cases (no community yet, a folder that is not a
community, a hand-made cursor); these follow the cron and the cursor over time.
"""

from datetime import datetime, timezone

import dagster as dg
import pytest
from dagster._utils.schedules import (
    cron_string_iterator,  # the daemon's own tick iterator
)

from assets.definitions import build_definitions
from assets.partitions import community_partitions, quarter_partitions
from value_pipeline.periods import Quarter

COMMUNITIES = ["riverside-science", "inquiry-math-pd", "first-year-circle"]


@pytest.fixture
def repo(tmp_path):
    """The code location's repository, as the daemon loads it (jobs and resources resolved)."""
    # Loaded inside a live instance: Dagster looks up the instance's definitions-state
    # storage while loading, and an instance closed by an earlier test would be dangling.
    with dg.instance_for_test():
        return build_definitions(str(tmp_path / "exports"), str(tmp_path / "output")).get_repository_def()


def _apply(instance: dg.DagsterInstance, requests) -> None:
    """What the daemon does with a tick's dynamic partition requests."""
    for request in requests:
        assert isinstance(request, dg.AddDynamicPartitionsRequest)
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))


def test_schedule_ticks_request_the_quarter_just_ended_for_every_community(repo):
    schedule = repo.get_schedule_def("quarterly_reports")
    job = repo.get_job("quarterly_report_job")
    # Every tick from the second quarter of partitions (2025-04-01) to the latest past one
    # (2026-10-01), including the year boundary (2026-01-01 reports 2025-Q4).
    start = datetime(2025, 3, 1, tzinfo=timezone.utc).timestamp()
    ticks = []
    for tick in cron_string_iterator(start, schedule.cron_schedule, schedule.execution_timezone):
        if tick > datetime(2026, 10, 31, tzinfo=timezone.utc):
            break
        ticks.append(tick)
    assert [(t.month, t.day, t.hour, t.minute) for t in ticks][:4] == [(4, 1, 6, 0), (7, 1, 6, 0), (10, 1, 6, 0), (1, 1, 6, 0)]
    assert len(ticks) == 7 and all(t.tzinfo is not None and t.utcoffset().total_seconds() == 0 for t in ticks)

    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(community_partitions.name, COMMUNITIES)
        seen_run_keys = set()
        for tick in ticks:
            quarter = Quarter.containing(tick).previous()
            data = schedule.evaluate_tick(dg.build_schedule_context(instance=instance, scheduled_execution_time=tick, repository_def=repo))
            assert data.skip_message is None
            requests = data.run_requests
            assert [(r.tags["community"], r.tags["quarter"]) for r in requests] == [(c, quarter.label) for c in sorted(COMMUNITIES)]
            # the quarter is the newest quarter partition that exists when the tick fires
            assert quarter_partitions.get_partition_keys(current_time=tick)[-1] == quarter.partition_key
            existing = set(job.partitions_def.get_partition_keys(current_time=tick, dynamic_partitions_store=instance))
            for request, community in zip(requests, sorted(COMMUNITIES), strict=True):
                assert request.partition_key == f"{community}|{quarter.partition_key}"
                assert request.partition_key in existing
                # evaluate_tick resolves each request against the job at the tick's time, as the
                # daemon does before launching (an unknown partition would raise here)
                assert request.tags["dagster/partition/community"] == community
                assert request.tags["dagster/partition/quarter"] == quarter.partition_key
            # one run per community and quarter, ever: a re-evaluated tick launches nothing new
            run_keys = {r.run_key for r in requests}
            assert len(run_keys) == len(COMMUNITIES) and not run_keys & seen_run_keys
            seen_run_keys |= run_keys
            again = schedule.evaluate_tick(dg.build_schedule_context(instance=instance, scheduled_execution_time=tick, repository_def=repo))
            assert {r.run_key for r in again.run_requests} == run_keys


def test_schedule_picks_up_communities_registered_between_evaluations(repo):
    schedule = repo.get_schedule_def("quarterly_reports")
    tick = datetime(2026, 10, 1, 6, tzinfo=timezone.utc)
    with dg.instance_for_test() as instance:
        assert not schedule.evaluate_tick(dg.build_schedule_context(instance=instance, scheduled_execution_time=tick, repository_def=repo)).run_requests
        instance.add_dynamic_partitions(community_partitions.name, ["riverside-science"])
        first = schedule.evaluate_tick(dg.build_schedule_context(instance=instance, scheduled_execution_time=tick, repository_def=repo))
        instance.add_dynamic_partitions(community_partitions.name, ["inquiry-math-pd"])
        second = schedule.evaluate_tick(dg.build_schedule_context(instance=instance, scheduled_execution_time=tick, repository_def=repo))
        assert [r.partition_key for r in first.run_requests] == ["riverside-science|2026-07-01"]
        assert [r.partition_key for r in second.run_requests] == ["inquiry-math-pd|2026-07-01", "riverside-science|2026-07-01"]
        # the community registered after the first evaluation gets a run; the other keeps its run key
        assert first.run_requests[0].run_key in {r.run_key for r in second.run_requests}


def _community(exports, name: str) -> None:
    folder = exports / name
    (folder / "forum").mkdir(parents=True)
    (folder / "community.yaml").write_text(f"name: {name}\ntimezone: UTC\n")
    (folder / "forum" / "posts.csv").write_text("post_id,author,created_at,body_text\n1,a@x.example,2026-05-01 10:00,Hello\n")


def test_sensor_ticks_register_new_folders_and_rerun_only_changed_ones(repo, tmp_path):
    sensor = repo.get_sensor_def("community_exports_sensor")
    job = repo.get_job("community_tables_job")
    # the daemon passes the sensor the code location's resources it asks for (settings)
    resources = {k: v for k, v in repo.get_top_level_resources().items() if k in sensor.required_resource_keys}
    exports = tmp_path / "exports"
    _community(exports, "alpha")
    _community(exports, "beta")
    run_keys: dict[str, set[str]] = {"alpha": set(), "beta": set(), "gamma": set()}

    with dg.instance_for_test() as instance:
        cursor = None

        def tick():
            nonlocal cursor
            # built from the instance's ref, as the daemon does: run requests for dynamic
            # partitions are resolved only when the context can load them
            context = dg.build_sensor_context(instance_ref=instance.get_ref(), cursor=cursor, repository_def=repo, resources=resources)
            data = sensor.evaluate_tick(context)
            added = [key for request in data.dynamic_partitions_requests or [] for key in request.partition_keys]
            _apply(instance, data.dynamic_partitions_requests or [])
            cursor = data.cursor
            requested = [r.partition_key for r in data.run_requests]
            for request in data.run_requests:
                # resolved against community_tables_job after this tick's partitions were added
                assert request.tags["dagster/partition"] == request.tags["community"] == request.partition_key
                assert request.partition_key in job.partitions_def.get_partition_keys(dynamic_partitions_store=instance)
                assert request.run_key not in run_keys[request.partition_key]  # a new state gets a new run key
                run_keys[request.partition_key].add(request.run_key)
            return added, requested

        # first tick: both folders registered as community partitions and read
        assert tick() == (["alpha", "beta"], ["alpha", "beta"])
        assert sorted(instance.get_dynamic_partitions(community_partitions.name)) == ["alpha", "beta"]
        # nothing changed: nothing to do
        assert tick() == ([], [])
        # a new community folder: registered and read, the others left alone
        _community(exports, "gamma")
        assert tick() == (["gamma"], ["gamma"])
        # a new export file in one community: only that community is re-read
        (exports / "beta" / "forum" / "more.csv").write_text("post_id,author,created_at,body_text\n2,b@x.example,2026-06-01 10:00,Hi\n")
        assert tick() == ([], ["beta"])
        # an edited file: re-read again, under a new run key
        posts = exports / "alpha" / "forum" / "posts.csv"
        posts.write_text(posts.read_text() + "3,c@x.example,2026-06-02 10:00,Thanks\n")
        assert tick() == ([], ["alpha"])
        assert tick() == ([], [])
        # a folder that is not a community (no community.yaml) is never registered
        (exports / "drafts").mkdir()
        (exports / "drafts" / "notes.txt").write_text("not an export")
        assert tick() == ([], [])
        assert sorted(instance.get_dynamic_partitions(community_partitions.name)) == ["alpha", "beta", "gamma"]
        assert {name: len(keys) for name, keys in run_keys.items()} == {"alpha": 2, "beta": 2, "gamma": 1}
