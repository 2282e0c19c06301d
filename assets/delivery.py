"""Delivery: the reports of a quarter emailed to each funder, and run-failure alerts.

- `report_delivery` (partitioned by quarter, group "delivery") sends each funder one
  email with its communities' report PDFs for the quarter (value_pipeline/delivery.py).
  It runs only in its own job, `deliver_reports_job`: evaluators review the reports
  first, then deliver. Neither `value-pipeline run` nor `quarterly_report_job` sends mail.
- `run_failure_email` emails the operator (VALUE_PIPELINE_ALERT_TO) when any run fails:
  job, partition, the error in one line and a link to the run in the Dagster UI.

Both send through `SmtpResource`, configured from the environment by `smtp_from_env()`:

| variable | meaning | default |
|---|---|---|
| VALUE_PIPELINE_SMTP_HOST | SMTP server | localhost |
| VALUE_PIPELINE_SMTP_SECURITY | starttls, ssl or none | none |
| VALUE_PIPELINE_SMTP_PORT | port | 587 for starttls, 465 for ssl, 25 for none |
| VALUE_PIPELINE_SMTP_USER | login (read when a run starts) | no login |
| VALUE_PIPELINE_SMTP_PASSWORD | password (read when a run starts; never shown in the UI) | none |
| VALUE_PIPELINE_SMTP_SENDER | From: address | value-pipeline@localhost |
| VALUE_PIPELINE_ALERT_TO | operator address(es) for run failures, comma-separated | unset: no alerts |
| VALUE_PIPELINE_UI_URL | base URL of the Dagster UI, for the link in alerts | http://127.0.0.1:3000 |
"""

import os
import warnings

import dagster as dg

from assets.metadata import markdown_table, one_line
from assets.partitions import quarter_partitions
from assets.resources import PipelineSettings
from value_pipeline.config import load_community_config
from value_pipeline.delivery import (
    Delivered,
    DeliveryError,
    FunderDelivery,
    SmtpSettings,
    deliver,
    plan_deliveries,
    send_email,
)
from value_pipeline.errors import InputError
from value_pipeline.periods import Quarter

ENV_PREFIX = "VALUE_PIPELINE_SMTP_"
ALERT_TO_ENV = "VALUE_PIPELINE_ALERT_TO"
UI_URL_ENV = "VALUE_PIPELINE_UI_URL"
DEFAULT_UI_URL = "http://127.0.0.1:3000"
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}

# Delivery reads every community's report of its quarter. The mapping is marked beta; it
# is the documented way to depend on one dimension of a multi-partitioned asset.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)
    by_quarter = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="quarter")


class SmtpResource(dg.ConfigurableResource):
    """The SMTP server reports and alerts are sent through (see `smtp_from_env`)."""

    host: str = "localhost"
    port: int = 25
    security: str = "none"  # starttls | ssl | none
    username: str | None = None
    password: str | None = None
    sender: str = "value-pipeline@localhost"
    timeout: float = 30.0

    def settings(self) -> SmtpSettings:
        """The core's settings; raises DeliveryError for an unknown `security`."""
        return SmtpSettings(
            host=self.host, port=self.port, security=self.security.strip().lower(),  # type: ignore[arg-type]
            username=self.username or None, password=self.password, sender=self.sender, timeout=self.timeout,
        )

    def deliver(self, deliveries: list[FunderDelivery], quarter: Quarter) -> list[Delivered]:
        return deliver(deliveries, quarter, self.settings())

    def send_email(self, recipients: list[str], subject: str, body: str) -> str:
        return send_email(self.settings(), recipients, subject, body)


def smtp_from_env(environ: dict[str, str] | None = None) -> SmtpResource:
    """An SmtpResource from VALUE_PIPELINE_SMTP_* (defaults: an MTA on localhost:25, no
    login), so the code location loads without any of them. The login and password are
    `dg.EnvVar`s, read when a run starts and never shown in the UI; they are wired in
    only when set, since an EnvVar that is unset fails every run that uses the resource."""
    env = os.environ if environ is None else environ
    security = env.get(f"{ENV_PREFIX}SECURITY", "").strip().lower() or "none"
    port = env.get(f"{ENV_PREFIX}PORT", "").strip()
    if port and not port.isdigit():
        raise ValueError(f"{ENV_PREFIX}PORT must be a port number, not {port!r}")
    return SmtpResource(
        host=env.get(f"{ENV_PREFIX}HOST", "").strip() or "localhost",
        port=int(port) if port else DEFAULT_PORTS.get(security, 25),
        security=security,
        username=dg.EnvVar(f"{ENV_PREFIX}USER") if env.get(f"{ENV_PREFIX}USER") else None,
        password=dg.EnvVar(f"{ENV_PREFIX}PASSWORD") if env.get(f"{ENV_PREFIX}PASSWORD") else None,
        sender=env.get(f"{ENV_PREFIX}SENDER", "").strip() or "value-pipeline@localhost",
    )


@dg.asset(
    partitions_def=quarter_partitions,
    group_name="delivery",
    deps=[dg.AssetDep("report", partition_mapping=by_quarter)],
    description=(
        "Emails each funder its communities' report PDFs for the quarter (one email per funder, "
        "to the recipients in community.yaml). Run deliver_reports_job after reviewing the reports."
    ),
)
def report_delivery(
    context: dg.AssetExecutionContext, settings: PipelineSettings, smtp: SmtpResource
) -> dg.MaterializeResult:
    """Every community folder with a report PDF for the quarter, grouped by funder and sent."""
    quarter = Quarter.parse(context.partition_key)
    found, without_report, broken = [], [], []
    for folder in settings.community_folders():
        path = settings.report_path(folder.name, quarter.label)
        if not path.is_file():
            without_report.append(folder.name)
            continue
        try:
            found.append((folder.name, load_community_config(folder), path, settings.annex_path(folder.name, quarter.label)))
        except InputError as error:
            broken.append(one_line(error))
    if broken:
        more = f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""
        raise dg.Failure(description=f"nothing sent: {broken[0]}{more}", allow_retries=False)
    if not found:
        raise dg.Failure(
            description=f"nothing sent: no report for {quarter.label} under {settings.output_dir}/reports "
                        "(run quarterly_report_job for this quarter first)",
            allow_retries=False,
        )
    try:
        plan = plan_deliveries(found)
        for delivery in plan:
            if not delivery.recipients:
                context.log.warning(
                    f"{delivery.funder}: not sent, no recipients in community.yaml "
                    f"(funder: {{name: ..., recipients: [...]}}) of {', '.join(r.community for r in delivery.reports)}"
                )
        delivered = smtp.deliver(plan, quarter)
    except DeliveryError as error:
        raise dg.Failure(description=one_line(error), allow_retries=False) from None
    for outcome in delivered:
        if outcome.sent:
            context.log.info(f"{outcome.funder}: sent {len(outcome.attached)} reports to {len(outcome.recipients)} recipients")
        for address, answer in outcome.refused.items():
            context.log.warning(f"{outcome.funder}: the server refused recipient {address}: {answer}")
    summary = [
        {
            "funder": outcome.funder,
            "recipients": len(outcome.recipients),
            "communities": outcome.communities,
            "attachments": outcome.attached,
            "not_available": outcome.missing,
            "refused": len(outcome.refused),
            "message_id": outcome.message_id,
        }
        for outcome in delivered
    ]
    return dg.MaterializeResult(
        metadata={
            "quarter": quarter.label,
            "emails_sent": sum(outcome.sent for outcome in delivered),
            "deliveries": dg.MetadataValue.json(summary),
            "summary": dg.MetadataValue.md(_summary_table(summary)),
            "not_sent": [outcome.funder for outcome in delivered if not outcome.sent],
            "without_report": without_report,
        }
    )


def _summary_table(summary: list[dict]) -> str:
    import polars as pl

    rows = [
        {**row, "communities": ", ".join(row["communities"]), "attachments": ", ".join(row["attachments"]),
         "not_available": ", ".join(row["not_available"]), "message_id": row["message_id"] or "not sent"}
        for row in summary
    ]
    return markdown_table(pl.DataFrame(rows)) if rows else "_none_"


deliver_reports_job = dg.define_asset_job(
    "deliver_reports_job",
    selection=dg.AssetSelection.assets(report_delivery),
    partitions_def=quarter_partitions,
    description="Email each funder its communities' reports for a quarter (after the evaluators have reviewed them).",
)


@dg.run_failure_sensor(
    name="run_failure_email",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=f"Emails the operator ({ALERT_TO_ENV}) when a run fails; skips when {ALERT_TO_ENV} is unset.",
)
def run_failure_email(context: dg.RunFailureSensorContext, smtp: SmtpResource):
    recipients = [address.strip() for address in os.environ.get(ALERT_TO_ENV, "").split(",") if address.strip()]
    if not recipients:
        return dg.SkipReason(f"{ALERT_TO_ENV} is not set: no failure email")
    run = context.dagster_run
    partition = run.tags.get("dagster/partition") or "none"
    error = failure_summary(context)
    link = f"{os.environ.get(UI_URL_ENV, '').strip().rstrip('/') or DEFAULT_UI_URL}/runs/{run.run_id}"
    subject = f"[value-pipeline] {run.job_name} failed" + (f" ({partition})" if partition != "none" else "")
    body = "\n".join([
        f"A run of {run.job_name} failed.",
        "",
        f"Job:       {run.job_name}",
        f"Partition: {partition}",
        f"Error:     {error}",
        f"Run id:    {run.run_id}",
        "",
        f"See the run in the Dagster UI: {link}",
    ])
    try:
        message_id = smtp.send_email(recipients, subject, body)
    except DeliveryError as failure:
        # The sensor tick shows this line; the run itself already failed.
        raise RuntimeError(f"could not email the failure of run {run.run_id}: {failure}") from None
    context.log.info(f"emailed the failure of run {run.run_id} to {len(recipients)} recipient(s) ({message_id})")


def failure_summary(context: dg.RunFailureSensorContext) -> str:
    """The run's error in one line: the first failed step's message (a dg.Failure's
    description, else the exception's last line), else the run failure's message."""
    steps = context.get_step_failure_events()
    for event in steps:
        data = event.step_failure_data
        description = getattr(data.user_failure_data, "description", None) if data else None
        message = description or (data.error.message.strip().splitlines()[-1] if data and data.error and data.error.message.strip() else "")
        if message:
            more = f" (and {len(steps) - 1} more failed steps)" if len(steps) > 1 else ""
            return one_line(f"{event.step_key}: {message}") + more
    return one_line(context.failure_event.message or "the run failed")

