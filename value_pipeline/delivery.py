"""Delivery: one email per funder per quarter, with its communities' report PDFs attached
(each report with its technical annex, for the funder's evaluator).

Evaluators review the reports first; delivery is a separate step (the Dagster asset
`report_delivery`, its own job). This module never imports Dagster:

- `plan_deliveries` groups communities by funder (each funder gets only its own
  communities' reports, sent to the recipients in their community.yaml);
- `build_message` writes one funder's email (subject naming the quarter and the funder,
  a short plain-text body listing the reports by community name, the PDFs attached);
- `deliver` sends every funder's email over one SMTP connection (`SmtpSettings`);
  `send_email` sends one plain-text email (the operator's run-failure alert).

A report file that is missing is listed in the body as "not available" and returned,
never raised. An SMTP server that cannot be reached, or refuses the login, the sender
or a message, raises `DeliveryError` with a one-line message.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Literal

from value_pipeline.config import CommunityConfig
from value_pipeline.periods import Quarter

SECURITY = ("starttls", "ssl", "none")
LOOPBACK = {"localhost", "127.0.0.1", "::1"}


class DeliveryError(Exception):
    """The reports could not be sent: one line saying why (and what was already sent)."""

    def __init__(self, problem: str):
        super().__init__(" ".join(str(problem).split()))


@dataclass(frozen=True)
class ReportFile:
    """A community's report for the quarter (the file may be missing)."""

    community: str  # folder slug
    name: str  # the community's name, as the funder knows it
    path: Path
    annex: Path | None = None  # the report's technical annex, sent with it when present


@dataclass(frozen=True)
class FunderDelivery:
    """What one funder receives: its recipients and its communities' reports."""

    funder: str
    recipients: tuple[str, ...]
    reports: tuple[ReportFile, ...]


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 25
    security: Literal["starttls", "ssl", "none"] = "none"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "value-pipeline@localhost"
    timeout: float = 30.0

    def __post_init__(self):
        if self.security not in SECURITY:
            raise DeliveryError(f"SMTP security must be one of {', '.join(SECURITY)}, not {self.security!r}")


@dataclass
class Delivered:
    """What was sent to one funder."""

    funder: str
    recipients: list[str]
    attached: list[str]  # file names of the attached PDFs
    communities: list[str]  # names of the communities whose reports are attached
    missing: list[str]  # names of the communities whose report was not available
    message_id: str | None  # None: nothing to attach, so nothing was sent
    refused: dict[str, str] = field(default_factory=dict)  # recipient -> the server's answer

    @property
    def sent(self) -> bool:
        return self.message_id is not None


def plan_deliveries(
    communities: Iterable[tuple[str, CommunityConfig, Path] | tuple[str, CommunityConfig, Path, Path | None]],
) -> list[FunderDelivery]:
    """One delivery per funder from (community slug, its config, its report path[, its
    annex path]) tuples, sorted by funder and community name. Each funder's recipients come from its
    communities' community.yaml; communities naming the same funder with different
    recipients raise DeliveryError (a report must not go to an address one of them left out)."""
    by_funder: dict[str, list[ReportFile]] = {}
    recipients: dict[str, tuple[str, ...]] = {}
    first: dict[str, str] = {}
    for slug, config, path, *annex in communities:
        funder = config.funder
        addresses = tuple(config.funder_details.recipients)
        if funder in recipients and {a.casefold() for a in addresses} != {a.casefold() for a in recipients[funder]}:
            raise DeliveryError(
                f"funder {funder!r} has different recipients in {first[funder]}/community.yaml and "
                f"{slug}/community.yaml: make them the same"
            )
        recipients.setdefault(funder, addresses)
        first.setdefault(funder, slug)
        by_funder.setdefault(funder, []).append(ReportFile(
            community=slug, name=config.name, path=Path(path), annex=Path(annex[0]) if annex and annex[0] else None,
        ))
    return [
        FunderDelivery(
            funder=funder,
            recipients=recipients[funder],
            reports=tuple(sorted(by_funder[funder], key=lambda r: (r.name.casefold(), r.community))),
        )
        for funder in sorted(by_funder, key=str.casefold)
    ]


def subject(funder: str, quarter: Quarter) -> str:
    return f"Community evaluation reports, {quarter.label} ({quarter.months}): {funder}"


def build_message(delivery: FunderDelivery, quarter: Quarter, sender: str) -> tuple[EmailMessage, Delivered]:
    """One funder's email, and what it carries. Reports whose file is missing (or
    unreadable) are listed in the body as not available."""
    attachments: list[tuple[ReportFile, bytes]] = []
    annexes: dict[str, tuple[str, bytes]] = {}  # community slug -> the annex's file name and bytes
    missing: list[ReportFile] = []
    for report in delivery.reports:
        try:
            attachments.append((report, report.path.read_bytes()))
        except OSError:
            missing.append(report)
            continue
        if report.annex is not None:
            try:
                annexes[report.community] = (report.annex.name, report.annex.read_bytes())
            except OSError:
                pass  # the report goes without it; the body says so

    def listed(report: ReportFile) -> str:
        if report.community in annexes:
            return f"- {report.name}: {report.path.name}, with its technical annex {annexes[report.community][0]}"
        return f"- {report.name}: {report.path.name}" + (" (technical annex not available)" if report.annex else "")

    lines = [
        f"Dear colleagues at {delivery.funder},",
        "",
        f"Attached are the quarterly evaluation reports for {quarter.label} ({quarter.months}):",
        "",
        *[listed(report) for report, _ in attachments],
        *[f"- {report.name}: not available" for report in missing],
        "",
        *(["Each technical annex gives the participation figures in detail and how every indicator is measured, "
           "for your evaluator.", ""] if annexes else []),
        "This message was sent by the evaluation pipeline (value_pipeline).",
    ]
    message = EmailMessage()
    message["Subject"] = subject(delivery.funder, quarter)
    message["From"] = sender
    message["To"] = ", ".join(delivery.recipients)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=_domain(sender))
    message.set_content("\n".join(lines) + "\n")
    attached = []
    for report, content in attachments:
        message.add_attachment(content, maintype="application", subtype="pdf", filename=report.path.name)
        attached.append(report.path.name)
        if report.community in annexes:
            name, annex = annexes[report.community]
            message.add_attachment(annex, maintype="application", subtype="pdf", filename=name)
            attached.append(name)
    outcome = Delivered(
        funder=delivery.funder,
        recipients=list(delivery.recipients),
        attached=attached,
        communities=[report.name for report, _ in attachments],
        missing=[report.name for report in missing],
        message_id=message["Message-ID"],
    )
    return message, outcome


def deliver(
    deliveries: Sequence[FunderDelivery],
    quarter: Quarter,
    smtp: SmtpSettings,
    *,
    tls_context: ssl.SSLContext | None = None,
) -> list[Delivered]:
    """Send each funder its email over one SMTP connection.

    A funder with no recipients, or none of whose reports exist, gets no email (its
    `Delivered.message_id` is None). Raises DeliveryError when the server cannot be
    reached or refuses the login, the sender, every recipient or a message; the error
    names the funders already sent to. `tls_context` defaults to the system's CAs.
    """
    planned = [build_message(delivery, quarter, smtp.sender) for delivery in deliveries]
    to_send = []
    for message, outcome in planned:
        if outcome.recipients and outcome.attached:
            to_send.append((message, outcome))
        else:
            outcome.message_id = None
    if to_send:
        _send(smtp, to_send, tls_context)
    return [outcome for _, outcome in planned]


def send_email(
    smtp: SmtpSettings, recipients: Sequence[str], subject: str, body: str, *, tls_context: ssl.SSLContext | None = None
) -> str:
    """Send one plain-text email (an operator alert, say); returns its Message-ID."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = smtp.sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=_domain(smtp.sender))
    message.set_content(body.rstrip("\n") + "\n")
    outcome = Delivered(funder="", recipients=list(recipients), attached=[], communities=[], missing=[],
                        message_id=message["Message-ID"])
    _send(smtp, [(message, outcome)], tls_context)
    return message["Message-ID"]


def _send(smtp: SmtpSettings, messages: Sequence[tuple[EmailMessage, Delivered]], tls_context: ssl.SSLContext | None) -> None:
    """Send the messages over one connection, recording refused recipients in each outcome."""
    done: list[str] = []
    try:
        with _connect(smtp, tls_context) as server:
            for message, outcome in messages:
                outcome.refused = {
                    address: _answer(code, text) for address, (code, text) in server.send_message(message).items()
                }
                done.append(outcome.funder or outcome.message_id or "")
    except DeliveryError as error:
        raise DeliveryError(f"{error}{_already(done)}") from None
    except smtplib.SMTPRecipientsRefused as error:
        answers = "; ".join(f"{address}: {_answer(*answer)}" for address, answer in error.recipients.items())
        raise DeliveryError(f"SMTP server {_where(smtp)} refused every recipient ({answers}){_already(done)}") from None
    except smtplib.SMTPResponseException as error:
        raise DeliveryError(
            f"SMTP server {_where(smtp)} refused the message: {_answer(error.smtp_code, error.smtp_error)}{_already(done)}"
        ) from None
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryError(f"SMTP server {_where(smtp)} failed: {_reason(error)}{_already(done)}") from None


def _connect(smtp: SmtpSettings, tls_context: ssl.SSLContext | None) -> smtplib.SMTP:
    """An SMTP connection, secured and logged in as the settings say."""
    if smtp.username and smtp.security == "none" and smtp.host not in LOOPBACK:
        raise DeliveryError(
            f"refusing to send the SMTP password to {_where(smtp)} unencrypted: set security to starttls or ssl"
        )
    context = tls_context or ssl.create_default_context()
    try:
        if smtp.security == "ssl":
            server: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
        else:
            server = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryError(f"cannot reach SMTP server {_where(smtp)}: {_reason(error)}") from None
    try:
        server.ehlo()
        if smtp.security == "starttls":
            if not server.has_extn("starttls"):
                raise DeliveryError(f"SMTP server {_where(smtp)} does not offer STARTTLS (security: starttls)")
            server.starttls(context=context)
            server.ehlo()
        if smtp.username:
            server.login(smtp.username, smtp.password or "")
    except DeliveryError:
        _close(server)
        raise
    except smtplib.SMTPAuthenticationError as error:
        _close(server)
        raise DeliveryError(
            f"SMTP server {_where(smtp)} refused the login of {smtp.username!r}: {_answer(error.smtp_code, error.smtp_error)}"
        ) from None
    except (smtplib.SMTPException, OSError) as error:
        _close(server)
        raise DeliveryError(f"SMTP server {_where(smtp)} failed before sending: {_reason(error)}") from None
    return server


def _close(server: smtplib.SMTP) -> None:
    try:
        server.quit()
    except (smtplib.SMTPException, OSError):
        server.close()


def _where(smtp: SmtpSettings) -> str:
    return f"{smtp.host}:{smtp.port}"


def _domain(sender: str) -> str:
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    return address.rsplit("@", 1)[-1] if "@" in address else "localhost"


def _answer(code, text) -> str:
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(text.split())}"


def _reason(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(error, socket.gaierror):
        return "unknown host"
    text = " ".join(str(error).split())
    return text or type(error).__name__


def _already(done: list[str]) -> str:
    return f" (already sent to: {', '.join(done)})" if done else " (nothing was sent)"
