"""A failing structural check stops that community's report, and no other community's."""

import shutil

import dagster as dg
from support import SAMPLE_EXPORTS

from assets.definitions import build_definitions
from assets.partitions import community_partitions, community_quarter_key
from value_pipeline.periods import Quarter

QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def test_a_blocked_community_does_not_stop_the_others(tmp_path):
    exports = tmp_path / "exports"
    shutil.copytree(SAMPLE_EXPORTS / "inquiry-math-pd", exports / "inquiry-math-pd")
    broken = exports / "broken"
    (broken / "forum").mkdir(parents=True)
    (broken / "community.yaml").write_text("name: Broken Example\ntimezone: UTC\n")
    # The file's thread ids contradict its reply links: a structural failure.
    (broken / "forum" / "posts.csv").write_text(
        "post_id,thread_id,parent_post_id,author,created_at,body_text\n"
        "1,1,,ana@x.example,2026-05-01 10:00,Does anyone have a density lab?\n"
        "2,7,1,ben@x.example,2026-05-01 11:00,Try the ziploc one.\n"
    )
    defs = build_definitions(str(exports), str(tmp_path / "out"))
    quarter = Quarter(2026, 2)
    with dg.instance_for_test() as instance:
        # resolved inside the instance's context: Dagster keeps its state storage there
        tables = defs.resolve_job_def("community_tables_job")
        reports = defs.resolve_job_def("quarterly_report_job")
        instance.add_dynamic_partitions(community_partitions.name, ["broken", "inquiry-math-pd"])
        blocked = tables.execute_in_process(run_config=QUIET, instance=instance, partition_key="broken", raise_on_error=False)
        fine = tables.execute_in_process(run_config=QUIET, instance=instance, partition_key="inquiry-math-pd")
        assert not blocked.success and fine.success
        failed = [c for c in blocked.get_asset_check_evaluations() if not c.passed]
        assert [(c.check_name, c.description) for c in failed] == [("posts_contract", "1 replies whose parent is in another thread")]
        # nothing downstream of the failed check ran for the broken community
        assert dg.AssetKey("coded_posts") not in {e.asset_key for e in blocked.get_asset_materialization_events()}
        broken_report = reports.execute_in_process(
            run_config=QUIET, instance=instance, partition_key=community_quarter_key("broken", quarter), raise_on_error=False
        )
        fine_report = reports.execute_in_process(
            run_config=QUIET, instance=instance, partition_key=community_quarter_key("inquiry-math-pd", quarter)
        )
        assert not broken_report.success and fine_report.success
    assert (tmp_path / "out" / "reports" / "inquiry-math-pd" / "inquiry-math-pd_2026-Q2.pdf").exists()
    assert not (tmp_path / "out" / "reports" / "broken").exists()
