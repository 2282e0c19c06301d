"""Delivery core: one email per funder, against a real SMTP server (aiosmtpd) on 127.0.0.1."""

import pytest
from smtp_server import authenticator, free_port, local_smtp, tls_contexts

from value_pipeline.config import CommunityConfig
from value_pipeline.delivery import (
    DeliveryError,
    SmtpSettings,
    deliver,
    plan_deliveries,
    send_email,
)
from value_pipeline.periods import Quarter

QUARTER = Quarter(2026, 1)
TRI = ["grants@tricounty-stem.example", "evaluation@tricounty-stem.example"]
HARWELL = ["programs@harwell-foundation.example"]
COMMUNITIES = {
    "riverside-science": ("Riverside USD Science Teachers Forum", "Tri-County STEM Foundation", TRI),
    "inquiry-math-pd": ("Inquiry Math Fellows 2026", "Tri-County STEM Foundation", TRI),
    "first-year-circle": ("First Year Teachers Circle", "Harwell Family Foundation", HARWELL),
}


def _config(slug: str) -> CommunityConfig:
    name, funder, recipients = COMMUNITIES[slug]
    return CommunityConfig.model_validate({"name": name, "funder": {"name": funder, "recipients": recipients}})


def _pdf(folder, slug: str):
    path = folder / slug / f"{slug}_{QUARTER.label}.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.7\n% fake report " + slug.encode() + b"\n%%EOF\n")
    return path


def _plan(folder, write=("riverside-science", "inquiry-math-pd", "first-year-circle")):
    paths = {slug: (_pdf(folder, slug) if slug in write else folder / slug / f"{slug}_{QUARTER.label}.pdf") for slug in COMMUNITIES}
    return plan_deliveries((slug, _config(slug), paths[slug]) for slug in COMMUNITIES)


def _smtp(server, **settings) -> SmtpSettings:
    return SmtpSettings(host=server.host, port=server.port, sender="reports@evaluation.example", timeout=10, **settings)


def test_each_funder_gets_only_its_own_communities_reports(tmp_path):
    with local_smtp() as server:
        delivered = deliver(_plan(tmp_path), QUARTER, _smtp(server))
    assert [d.funder for d in delivered] == ["Harwell Family Foundation", "Tri-County STEM Foundation"]
    assert all(d.sent and not d.missing and not d.refused for d in delivered)
    assert len(server.messages) == 2
    by_funder = {m.message["Subject"].split(": ")[-1]: m for m in server.messages}
    tri, harwell = by_funder["Tri-County STEM Foundation"], by_funder["Harwell Family Foundation"]

    assert sorted(tri.rcpt_tos) == sorted(TRI) and harwell.rcpt_tos == HARWELL
    assert tri.mail_from == "reports@evaluation.example"
    assert "2026-Q1" in tri.message["Subject"] and "Tri-County STEM Foundation" in tri.message["Subject"]
    assert tri.message["Message-ID"] == delivered[1].message_id

    assert set(tri.attachments()) == {"riverside-science_2026-Q1.pdf", "inquiry-math-pd_2026-Q1.pdf"}
    assert set(harwell.attachments()) == {"first-year-circle_2026-Q1.pdf"}
    kind, content = tri.attachments()["inquiry-math-pd_2026-Q1.pdf"]
    assert kind == "application/pdf" and content == (tmp_path / "inquiry-math-pd" / "inquiry-math-pd_2026-Q1.pdf").read_bytes()
    assert "Inquiry Math Fellows 2026" in tri.body() and "Riverside USD Science Teachers Forum" in tri.body()
    assert "First Year Teachers Circle" in harwell.body()

    # Nothing of another funder's communities anywhere in a message: names, slugs, file contents.
    for word in ("First Year Teachers Circle", "first-year-circle", "Harwell"):
        assert word not in tri.text() and word.encode() not in tri.raw
    for word in ("Riverside", "riverside-science", "Inquiry Math", "inquiry-math-pd", "Tri-County"):
        assert word not in harwell.text() and word.encode() not in harwell.raw


def test_missing_reports_are_listed_as_not_available(tmp_path):
    plan = _plan(tmp_path, write=("riverside-science",))
    with local_smtp() as server:
        delivered = {d.funder: d for d in deliver(plan, QUARTER, _smtp(server))}
    tri = delivered["Tri-County STEM Foundation"]
    assert tri.attached == ["riverside-science_2026-Q1.pdf"] and tri.missing == ["Inquiry Math Fellows 2026"]
    # A funder none of whose reports exist gets no email.
    harwell = delivered["Harwell Family Foundation"]
    assert not harwell.sent and harwell.missing == ["First Year Teachers Circle"]
    assert len(server.messages) == 1
    body = server.messages[0].body()
    assert "Inquiry Math Fellows 2026: not available" in body
    assert "Riverside USD Science Teachers Forum: riverside-science_2026-Q1.pdf" in body
    assert set(server.messages[0].attachments()) == {"riverside-science_2026-Q1.pdf"}


def test_each_report_goes_with_its_technical_annex(tmp_path):
    riverside, math = _pdf(tmp_path, "riverside-science"), _pdf(tmp_path, "inquiry-math-pd")
    annex = riverside.with_name("riverside-science_2026-Q1_annex.pdf")
    annex.write_bytes(b"%PDF-1.7\n% fake annex\n%%EOF\n")
    plan = plan_deliveries([
        ("riverside-science", _config("riverside-science"), riverside, annex),
        ("inquiry-math-pd", _config("inquiry-math-pd"), math, math.with_name("inquiry-math-pd_2026-Q1_annex.pdf")),
    ])
    with local_smtp() as server:
        (tri,) = deliver(plan, QUARTER, _smtp(server))
    # sorted by community name; each annex right after its report
    assert tri.attached == ["inquiry-math-pd_2026-Q1.pdf", "riverside-science_2026-Q1.pdf", "riverside-science_2026-Q1_annex.pdf"]
    message = server.messages[0]
    assert message.attachments()["riverside-science_2026-Q1_annex.pdf"][1] == annex.read_bytes()
    body = " ".join(message.body().split())
    assert "riverside-science_2026-Q1.pdf, with its technical annex riverside-science_2026-Q1_annex.pdf" in body
    assert "inquiry-math-pd_2026-Q1.pdf (technical annex not available)" in body


def test_a_funder_without_recipients_is_not_sent_to(tmp_path):
    config = CommunityConfig(name="Lone Community", funder="Quiet Trust")
    plan = plan_deliveries([("lone", config, _pdf(tmp_path, "lone"))])
    with local_smtp() as server:
        (outcome,) = deliver(plan, QUARTER, _smtp(server))
    assert not outcome.sent and outcome.attached == ["lone_2026-Q1.pdf"] and server.messages == []


def test_one_funder_with_different_recipients_is_refused(tmp_path):
    other = CommunityConfig.model_validate(
        {"name": "Inquiry Math Fellows 2026", "funder": {"name": "Tri-County STEM Foundation", "recipients": ["someone@else.example"]}}
    )
    with pytest.raises(DeliveryError, match="different recipients in riverside-science/community.yaml and inquiry-math-pd"):
        plan_deliveries([("riverside-science", _config("riverside-science"), tmp_path / "a.pdf"),
                         ("inquiry-math-pd", other, tmp_path / "b.pdf")])


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # aiosmtpd, implicit TLS
@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_and_login(tmp_path, security):
    server_tls, client_tls = tls_contexts(tmp_path)
    options = (
        {"tls_context": server_tls, "require_starttls": True} if security == "starttls"
        # aiosmtpd only counts STARTTLS as TLS for AUTH; this connection is TLS from the start.
        else {"ssl_context": server_tls, "auth_require_tls": False}
    )
    with local_smtp(auth_required=True, authenticator=authenticator("reports", "s3cret"), **options) as server:
        smtp = _smtp(server, security=security, username="reports", password="s3cret")
        delivered = deliver(_plan(tmp_path), QUARTER, smtp, tls_context=client_tls)
        assert len(server.messages) == 2 and all(d.sent for d in delivered)
        with pytest.raises(DeliveryError, match="refused the login of 'reports'") as error:
            deliver(_plan(tmp_path), QUARTER, _smtp(server, security=security, username="reports", password="wrong"),
                    tls_context=client_tls)
        assert "nothing was sent" in str(error.value) and len(server.messages) == 2
    assert "s3cret" not in repr(smtp)


def test_starttls_refuses_an_untrusted_certificate(tmp_path):
    server_tls, _ = tls_contexts(tmp_path)
    with local_smtp(tls_context=server_tls) as server, pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        deliver(_plan(tmp_path), QUARTER, _smtp(server, security="starttls"))
    assert server.messages == []


def test_an_unreachable_server_is_one_clear_line(tmp_path):
    port = free_port()  # nothing listens there
    with pytest.raises(DeliveryError) as error:
        deliver(_plan(tmp_path), QUARTER, SmtpSettings(host="127.0.0.1", port=port, timeout=5))
    message = str(error.value)
    assert message == f"cannot reach SMTP server 127.0.0.1:{port}: connection refused (nothing was sent)"


def test_no_password_in_clear_to_a_remote_server(tmp_path):
    smtp = SmtpSettings(host="smtp.example", port=25, security="none", username="u", password="p")
    with pytest.raises(DeliveryError, match="refusing to send the SMTP password to smtp.example:25 unencrypted"):
        deliver(_plan(tmp_path), QUARTER, smtp)


def test_unknown_security_is_refused():
    with pytest.raises(DeliveryError, match="starttls, ssl, none"):
        SmtpSettings(security="tls")


def test_send_email(tmp_path):
    with local_smtp() as server:
        message_id = send_email(_smtp(server), ["ops@evaluation.example"], "run failed", "Job: x\n")
    (received,) = server.messages
    assert received.rcpt_tos == ["ops@evaluation.example"] and received.message["Message-ID"] == message_id
    assert received.body().splitlines() == ["Job: x"]
