"""The production instance's run queue, limits and retries, and the jobs' step retries.

The instance configs are validated by Dagster's own schema (with dummy connection settings:
nothing connects here); the Postgres round trip is in test_postgres.py.
"""

import importlib
import shutil
import uuid

import dagster as dg
import pytest
import yaml
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config
from dagster._core.instance.ref import ConfigurableClassData
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._core.storage.dagster_run import DagsterRun
from dagster._utils.tags import TagConcurrencyLimitsCounter
from dagster_postgres import (
    PostgresEventLogStorage,
    PostgresRunStorage,
    PostgresScheduleStorage,
)
from support import PROJECT, SAMPLE_EXPORTS

import assets.ingest
from assets.automation import COMMUNITY_TAG, TRANSIENT_RETRIES
from assets.definitions import build_definitions
from assets.partitions import community_partitions, community_quarter_key
from value_pipeline.periods import Quarter

DEPLOY = PROJECT / "deploy"
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
DUMMY_PG = {
    "VALUE_PIPELINE_PG_HOST": "db.invalid",
    "VALUE_PIPELINE_PG_PORT": "6543",
    "VALUE_PIPELINE_PG_USER": "someone",
    "VALUE_PIPELINE_PG_PASSWORD": "not-a-password",
    "VALUE_PIPELINE_PG_DB": "dagster_prod",
}
ONE_RUN_PER_COMMUNITY = [{"key": COMMUNITY_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1}]


def load_instance_config(name: str, tmp_path, monkeypatch) -> dict:
    """deploy/<name> as $DAGSTER_HOME/dagster.yaml, validated against Dagster's instance schema."""
    for key, value in DUMMY_PG.items():
        monkeypatch.setenv(key, value)
    shutil.copy(DEPLOY / name, tmp_path / "dagster.yaml")
    config, custom_class = dagster_instance_config(str(tmp_path))
    assert custom_class is None
    return config


@pytest.fixture(autouse=True)
def _live_instance():
    """Resolving jobs over dynamic partitions needs a live Dagster instance: without one,
    Dagster can reach for an instance an earlier test already closed (its SQLite file gone)."""
    with dg.instance_for_test():
        yield


@pytest.mark.parametrize("name, max_runs", [("dagster.yaml", 4), ("dagster-k8s.yaml", 20)])
def test_instance_config_queues_runs_one_per_community_and_retries_crashed_runs(name, max_runs, tmp_path, monkeypatch):
    config = load_instance_config(name, tmp_path, monkeypatch)
    # Runs, event logs and schedules in Postgres, every connection setting from the environment.
    storages = {"run_storage": PostgresRunStorage, "event_log_storage": PostgresEventLogStorage,
                "schedule_storage": PostgresScheduleStorage}
    for section, storage_class in storages.items():
        assert getattr(importlib.import_module(config[section]["module"]), config[section]["class"]) is storage_class
        resolved = process_config(storage_class.config_type(), config[section]["config"])
        assert resolved.success, resolved.errors
        assert resolved.value["postgres_db"] == {
            "hostname": "db.invalid", "port": 6543, "username": "someone", "password": "not-a-password",
            "db_name": "dagster_prod", "params": {}, "scheme": "postgresql+psycopg2",
        }
    # The queue: the coordinator Dagster builds from this config holds these limits.
    section = config["run_coordinator"]
    coordinator = ConfigurableClassData(section["module"], section["class"], yaml.safe_dump(section["config"])).rehydrate(
        QueuedRunCoordinator
    )
    queue = coordinator.get_run_queue_config()
    assert queue.max_concurrent_runs == max_runs
    assert list(queue.tag_concurrency_limits) == ONE_RUN_PER_COMMUNITY
    # Whole runs are retried only when they failed outside their steps.
    assert config["run_retries"] == {"enabled": True, "max_retries": 2, "retry_on_asset_or_op_failure": False}
    assert config["run_monitoring"]["enabled"] is True


def test_every_community_run_carries_the_tag_the_queue_limits():
    """However a run is launched (UI, backfill, schedule, sensor), Dagster takes its tags from
    the job's partitioned config: each carries its community, so the queue serialises them."""
    defs = build_definitions(str(SAMPLE_EXPORTS), "/nonexistent")
    quarter = Quarter(2026, 2)
    keys = {
        "community_tables_job": ["riverside-science", "inquiry-math-pd"],
        "data_quality_job": ["riverside-science", "inquiry-math-pd"],
        "quarterly_report_job": [community_quarter_key("riverside-science", quarter), community_quarter_key("inquiry-math-pd", quarter)],
    }
    runs = {}
    for job_name, (first, second) in keys.items():
        job = defs.resolve_job_def(job_name)
        assert job.get_tags_for_partition_key(first, None)[COMMUNITY_TAG] == "riverside-science"
        assert job.get_tags_for_partition_key(second, None)[COMMUNITY_TAG] == "inquiry-math-pd"
        runs[job_name] = [DagsterRun(job_name=job_name, run_id=uuid.uuid4().hex, tags=job.get_tags_for_partition_key(key, None))
                          for key in (first, second)]
    # Dagster's own counter, as the queue daemon uses it: with riverside-science's tables
    # being read, its report waits; inquiry-math-pd's does not.
    in_progress = [runs["community_tables_job"][0]]
    counter = TagConcurrencyLimitsCounter(ONE_RUN_PER_COMMUNITY, in_progress)
    assert counter.is_blocked(runs["quarterly_report_job"][0])
    assert counter.is_blocked(runs["data_quality_job"][0])
    assert not counter.is_blocked(runs["quarterly_report_job"][1])


def test_jobs_retry_failed_steps_with_backoff():
    defs = build_definitions(str(SAMPLE_EXPORTS), "/nonexistent")
    for job_name in ("community_tables_job", "data_quality_job", "quarterly_report_job"):
        assert defs.resolve_job_def(job_name).op_retry_policy == TRANSIENT_RETRIES
    assert TRANSIENT_RETRIES.max_retries == 3 and TRANSIENT_RETRIES.backoff == dg.Backoff.EXPONENTIAL


def _step_events(result, event_type: str) -> list[str]:
    return [event.step_key for event in result.all_events if event.event_type_value == event_type]


def test_a_transient_failure_is_retried_and_the_run_succeeds(tmp_path, monkeypatch):
    real_read = assets.ingest.read_community
    calls = []

    def flaky_read(folder, *args, **kwargs):
        calls.append(folder)
        if len(calls) == 1:
            raise ConnectionResetError("connection reset by peer")  # e.g. a network file system
        return real_read(folder, *args, **kwargs)

    monkeypatch.setattr(assets.ingest, "read_community", flaky_read)
    defs = build_definitions(str(SAMPLE_EXPORTS), str(tmp_path / "out"))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(community_partitions.name, ["inquiry-math-pd"])
        result = defs.resolve_job_def("community_tables_job").execute_in_process(
            run_config=QUIET, instance=instance, partition_key="inquiry-math-pd"
        )
    assert result.success
    assert len(calls) == 2
    assert _step_events(result, "STEP_UP_FOR_RETRY") == ["canonical_tables"]
    assert result.dagster_run.tags[COMMUNITY_TAG] == "inquiry-math-pd"


def test_a_fault_in_the_code_fails_at_once_with_its_traceback(tmp_path, monkeypatch):
    """A programming error fails the same way every time: no retries, and the step's error
    names it and keeps the original traceback as its cause."""
    calls = []

    def broken_read(folder, *args, **kwargs):
        calls.append(folder)
        return {}["posts"]  # KeyError, as a bug in a reader would raise

    monkeypatch.setattr(assets.ingest, "read_community", broken_read)
    defs = build_definitions(str(SAMPLE_EXPORTS), str(tmp_path / "out"))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(community_partitions.name, ["inquiry-math-pd"])
        result = defs.resolve_job_def("community_tables_job").execute_in_process(
            run_config=QUIET, instance=instance, partition_key="inquiry-math-pd", raise_on_error=False
        )
    assert not result.success
    assert len(calls) == 1
    assert _step_events(result, "STEP_UP_FOR_RETRY") == []
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE").event_specific_data.error
    assert failure.message.startswith("dagster._core.definitions.events.Failure: KeyError: 'posts'.")
    assert "not retried" in failure.message
    assert failure.cause is not None and "broken_read" in "".join(failure.cause.stack)


def test_every_retried_asset_retries_transient_errors_only():
    defs = build_definitions(str(SAMPLE_EXPORTS), "/nonexistent")
    graph = defs.resolve_asset_graph()
    computed = {key.to_user_string(): graph.get(key).assets_def for key in graph.materializable_asset_keys}
    unwrapped = sorted(
        name for name, definition in computed.items()
        if not getattr(definition.op.compute_fn.decorated_fn, "retries_transient_only", False)
    )
    # Delivery runs in its own job without retries: an email is never sent twice.
    assert unwrapped == ["report_delivery"]
    assert defs.resolve_job_def("deliver_reports_job").op_retry_policy is None


def test_bad_input_fails_at_once_without_retries(tmp_path):
    community = tmp_path / "exports" / "bad-zone"
    (community / "forum").mkdir(parents=True)
    (community / "community.yaml").write_text("name: Bad Zone\ntimezone: Mars/Olympus_Mons\n")
    (community / "forum" / "posts.csv").write_text(
        "post_id,thread_id,parent_post_id,author,created_at,body_text\n1,1,,ana@x.example,2026-05-01 10:00,Hello\n"
    )
    defs = build_definitions(str(tmp_path / "exports"), str(tmp_path / "out"))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(community_partitions.name, ["bad-zone"])
        tables = defs.resolve_job_def("community_tables_job").execute_in_process(
            run_config=QUIET, instance=instance, partition_key="bad-zone", raise_on_error=False
        )
        # Its report cannot find the tables that were never stored: no retry either.
        report = defs.resolve_job_def("quarterly_report_job").execute_in_process(
            run_config=QUIET, instance=instance, partition_key=community_quarter_key("bad-zone", Quarter(2026, 2)),
            raise_on_error=False,
        )
    assert not tables.success and not report.success
    assert _step_events(tables, "STEP_UP_FOR_RETRY") == [] and _step_events(report, "STEP_UP_FOR_RETRY") == []
    assert _step_events(tables, "STEP_FAILURE") == ["canonical_tables"]
    failure = next(e for e in tables.all_events if e.event_type_value == "STEP_FAILURE")
    assert "unknown timezone 'Mars/Olympus_Mons'" in failure.event_specific_data.error.message
    failure = next(e for e in report.all_events if e.event_type_value == "STEP_FAILURE")
    assert "is not stored for partition bad-zone: materialize it first" in failure.event_specific_data.error.message
