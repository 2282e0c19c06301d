"""report_delivery and the run-failure email, through the code location's Definitions,
against a real SMTP server (aiosmtpd) on 127.0.0.1."""

import dagster as dg
import pytest
from smtp_server import authenticator, free_port, local_smtp
from support import SAMPLE_EXPORTS

from assets.definitions import build_definitions
from assets.delivery import SmtpResource, run_failure_email, smtp_from_env
from value_pipeline.periods import Quarter

QUARTER = Quarter(2026, 1)
TRI = ["grants@tricounty-stem.example", "evaluation@tricounty-stem.example"]
HARWELL = ["programs@harwell-foundation.example"]
SMTP_ENV = ["HOST", "PORT", "SECURITY", "USER", "PASSWORD", "SENDER"]


@pytest.fixture
def smtp_env(monkeypatch):
    """Point VALUE_PIPELINE_SMTP_* at a server: smtp_env(server, USER=..., PASSWORD=...)."""
    for name in SMTP_ENV:
        monkeypatch.delenv(f"VALUE_PIPELINE_SMTP_{name}", raising=False)
    for name in ("VALUE_PIPELINE_ALERT_TO", "VALUE_PIPELINE_UI_URL"):
        monkeypatch.delenv(name, raising=False)

    def point(host: str, port: int, **more):
        monkeypatch.setenv("VALUE_PIPELINE_SMTP_HOST", host)
        monkeypatch.setenv("VALUE_PIPELINE_SMTP_PORT", str(port))
        monkeypatch.setenv("VALUE_PIPELINE_SMTP_SECURITY", "none")
        monkeypatch.setenv("VALUE_PIPELINE_SMTP_SENDER", "reports@evaluation.example")
        for name, value in more.items():
            monkeypatch.setenv(f"VALUE_PIPELINE_SMTP_{name}", value)

    return point


def _definitions(output, reports=("riverside-science", "inquiry-math-pd", "first-year-circle")):
    """The code location on the sample exports, with small fake PDFs where the report asset writes them."""
    defs = build_definitions(str(SAMPLE_EXPORTS), str(output))
    settings = defs.resources["settings"]
    for community in reports:
        path = settings.report_path(community, QUARTER.label)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.7\n% fake " + community.encode() + b"\n%%EOF\n")
    return defs


def _deliver(defs, instance):
    return defs.resolve_job_def("deliver_reports_job").execute_in_process(
        instance=instance, partition_key=QUARTER.partition_key, raise_on_error=False
    )


def _failure(result) -> str:
    (event,) = [e for e in result.all_events if e.is_step_failure]
    return event.step_failure_data.user_failure_data.description


def test_delivery_runs_only_in_its_own_job(tmp_path):
    defs = build_definitions(str(SAMPLE_EXPORTS), str(tmp_path))
    with dg.instance_for_test():  # loading definitions looks up the live instance's state storage
        keys = {job: {k.to_user_string() for k in defs.resolve_job_def(job).asset_layer.executable_asset_keys}
                for job in ("deliver_reports_job", "quarterly_report_job", "community_tables_job")}
    assert keys["deliver_reports_job"] == {"report_delivery"}
    assert "report_delivery" not in keys["quarterly_report_job"] | keys["community_tables_job"]
    graph = defs.resolve_asset_graph()
    assert dg.AssetKey("report") in graph.get(dg.AssetKey("report_delivery")).parent_keys
    assert graph.get(dg.AssetKey("report_delivery")).group_name == "delivery"


def test_report_delivery_sends_each_funder_its_reports(tmp_path, smtp_env):
    login = {"auth_required": True, "auth_require_tls": False, "authenticator": authenticator("pipeline", "pw-from-env")}
    with pytest.warns(UserWarning, match="AUTH while not requiring TLS"), local_smtp(**login) as server:
        # The login and password reach the resource as dg.EnvVar, read when the run starts.
        smtp_env(server.host, server.port, USER="pipeline", PASSWORD="pw-from-env")
        defs = _definitions(tmp_path)
        with dg.instance_for_test() as instance:
            result = _deliver(defs, instance)
    assert result.success
    (materialization,) = result.asset_materializations_for_node("report_delivery")
    metadata = materialization.metadata
    assert metadata["quarter"].value == "2026-Q1" and metadata["emails_sent"].value == 2
    deliveries = {d["funder"]: d for d in metadata["deliveries"].value}
    assert deliveries["Tri-County STEM Foundation"]["recipients"] == 2
    assert deliveries["Tri-County STEM Foundation"]["communities"] == ["Inquiry Math Fellows 2026", "Riverside USD Science Teachers Forum"]
    assert deliveries["Tri-County STEM Foundation"]["attachments"] == ["inquiry-math-pd_2026-Q1.pdf", "riverside-science_2026-Q1.pdf"]
    assert deliveries["Harwell Family Foundation"]["attachments"] == ["first-year-circle_2026-Q1.pdf"]
    assert not any(address in str(metadata) for address in TRI + HARWELL)  # counts, never addresses

    received = {tuple(sorted(m.rcpt_tos)): m for m in server.messages}
    assert set(received) == {tuple(sorted(TRI)), tuple(HARWELL)}
    tri, harwell = received[tuple(sorted(TRI))], received[tuple(HARWELL)]
    assert set(tri.attachments()) == {"inquiry-math-pd_2026-Q1.pdf", "riverside-science_2026-Q1.pdf"}
    assert set(harwell.attachments()) == {"first-year-circle_2026-Q1.pdf"}
    assert tri.message["Message-ID"] == deliveries["Tri-County STEM Foundation"]["message_id"]
    assert "First Year Teachers Circle" not in tri.text() and "Riverside" not in harwell.text()


def test_only_communities_with_a_report_are_delivered(tmp_path, smtp_env):
    with local_smtp() as server:
        smtp_env(server.host, server.port)
        defs = _definitions(tmp_path, reports=("riverside-science",))
        with dg.instance_for_test() as instance:
            result = _deliver(defs, instance)
    assert result.success
    metadata = result.asset_materializations_for_node("report_delivery")[0].metadata
    assert metadata["emails_sent"].value == 1
    assert metadata["without_report"].value == ["first-year-circle", "inquiry-math-pd"]
    (message,) = server.messages
    assert sorted(message.rcpt_tos) == sorted(TRI) and set(message.attachments()) == {"riverside-science_2026-Q1.pdf"}


def test_no_report_for_the_quarter_is_a_clear_failure(tmp_path, smtp_env):
    smtp_env("127.0.0.1", free_port())
    defs = _definitions(tmp_path, reports=())
    with dg.instance_for_test() as instance:
        result = _deliver(defs, instance)
    assert not result.success
    assert _failure(result).startswith("nothing sent: no report for 2026-Q1 under")


def test_an_unreachable_server_fails_the_run_with_one_line(tmp_path, smtp_env):
    port = free_port()
    smtp_env("127.0.0.1", port)
    defs = _definitions(tmp_path)
    with dg.instance_for_test() as instance:
        result = _deliver(defs, instance)
    assert not result.success
    assert _failure(result) == f"cannot reach SMTP server 127.0.0.1:{port}: connection refused (nothing was sent)"


def test_smtp_settings_from_the_environment():
    default = smtp_from_env({})
    assert (default.host, default.port, default.security, default.username, default.password) == ("localhost", 25, "none", None, None)
    tls = smtp_from_env({"VALUE_PIPELINE_SMTP_HOST": "smtp.example", "VALUE_PIPELINE_SMTP_SECURITY": "STARTTLS",
                         "VALUE_PIPELINE_SMTP_USER": "u", "VALUE_PIPELINE_SMTP_PASSWORD": "p"})
    assert (tls.host, tls.port, tls.security) == ("smtp.example", 587, "starttls")
    assert tls.username == dg.EnvVar("VALUE_PIPELINE_SMTP_USER") and tls.password == dg.EnvVar("VALUE_PIPELINE_SMTP_PASSWORD")
    assert smtp_from_env({"VALUE_PIPELINE_SMTP_SECURITY": "ssl"}).port == 465
    with pytest.raises(ValueError, match="PORT must be a port number"):
        smtp_from_env({"VALUE_PIPELINE_SMTP_PORT": "twenty-five"})


def _failed_run(tmp_path, smtp_env, instance):
    """A real failed run: delivery with no SMTP server listening."""
    smtp_env("127.0.0.1", free_port())
    result = _deliver(_definitions(tmp_path), instance)
    assert not result.success
    return result


def test_failure_sensor_emails_the_operator(tmp_path, smtp_env, monkeypatch):
    with dg.instance_for_test() as instance, local_smtp() as server:
        result = _failed_run(tmp_path, smtp_env, instance)
        monkeypatch.setenv("VALUE_PIPELINE_ALERT_TO", "ops@evaluation.example, oncall@evaluation.example")
        monkeypatch.setenv("VALUE_PIPELINE_UI_URL", "https://dagster.evaluation.example/")
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_email", dagster_event=result.get_run_failure_event(), dagster_instance=instance,
            dagster_run=result.dagster_run,
            resources={"smtp": SmtpResource(host=server.host, port=server.port, sender="pipeline@evaluation.example")},
        )
        assert run_failure_email(context) is None
    (alert,) = server.messages
    run_id = result.run_id
    assert sorted(alert.rcpt_tos) == ["oncall@evaluation.example", "ops@evaluation.example"]
    assert alert.message["Subject"] == "[value-pipeline] deliver_reports_job failed (2026-01-01)"
    body = alert.body()
    assert "Job:       deliver_reports_job" in body and "Partition: 2026-01-01" in body
    assert "Error:     report_delivery: cannot reach SMTP server 127.0.0.1:" in body and "connection refused" in body
    assert f"Run id:    {run_id}" in body
    assert f"https://dagster.evaluation.example/runs/{run_id}" in body
    assert "Traceback" not in body


def test_failure_sensor_skips_without_an_operator_address(tmp_path, smtp_env):
    with dg.instance_for_test() as instance, local_smtp() as server:
        result = _failed_run(tmp_path, smtp_env, instance)
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_email", dagster_event=result.get_run_failure_event(), dagster_instance=instance,
            dagster_run=result.dagster_run, resources={"smtp": SmtpResource(host=server.host, port=server.port)},
        )
        skipped = run_failure_email(context)
    assert isinstance(skipped, dg.SkipReason) and "VALUE_PIPELINE_ALERT_TO is not set" in skipped.skip_message
    assert server.messages == []
