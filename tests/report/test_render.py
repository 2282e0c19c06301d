"""Report rendering: structure, escaping of untrusted text, no fetching, atomic PDF."""

import gc
from datetime import datetime, timezone

import polars as pl
import pytest
from pypdf import PdfReader
from test_ledger import _ledger, _responses

from value_pipeline.coding.codebook import load_codebook
from value_pipeline.config import Suppression
from value_pipeline.periods import Quarter
from value_pipeline.report.portfolio import (
    MemberSummaryInputs,
    PortfolioCommunity,
    PortfolioInputs,
    render_member_summary_html,
    render_portfolio_html,
    write_portfolio_pdf,
)
from value_pipeline.report.render import (
    TEMPLATES,
    BundledFilesOnly,
    ReportInputs,
    older_objects_left_out_of_collections,
    render_annex_html,
    render_html,
    write_annex_pdf,
    write_pdf,
)

HOSTILE = 'Ms <img src="file:///etc/passwd"> {{ 7*7 }} <script>x()</script> https://evil.example/a.png'


def _inputs(name="Riverside Science", ledger=None):
    return ReportInputs(
        community="riverside", name=name, funder="Gulf Coast STEM Foundation", formal=True,
        platforms=["discourse"], quarter=Quarter(2026, 1),
        ledger=ledger if ledger is not None else _ledger(_responses(12, datetime(2026, 3, 10, tzinfo=timezone.utc))),
        codebook=[{"id": c.id, "name": c.name, "description": c.description} for c in load_codebook().codes],
        coder="rules:v1", instrument_title="Community value survey", suppression=Suppression().model_dump(),
        accounts=[{"table": "posts", "unit": "post", "read": 14, "accepted": 12, "quarantined": 2, "balanced": True}],
        quarantine_by_reason=[{"table": "posts", "reason": HOSTILE, "rows": 2}],
        generated_at=datetime(2026, 4, 1, tzinfo=timezone.utc),
    )


def test_untrusted_text_renders_inert():
    html = render_html(_inputs(name=HOSTILE))
    assert "<img src=" not in html and "<script>" not in html
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
    assert "{{ 7*7 }}" in html and "49" not in html.split("Appendix A")[0].split("</h1>")[0]


def test_fetcher_serves_only_bundled_files():
    fetcher = BundledFilesOnly()
    assert fetcher.fetch((TEMPLATES / "report.css").as_uri()) is not None
    for url in ("file:///etc/passwd", "https://evil.example/a.png", (TEMPLATES / ".." / "pyproject.toml").as_uri()):
        with pytest.raises(ValueError, match="refused"):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 3


def test_pdf_has_sections_figures_and_the_ledger_attached(tmp_path):
    target = tmp_path / "out" / "report.pdf"
    result = write_pdf(_inputs(), target)
    assert target.exists() and result["pages"] >= 5 and result["refused_urls"] == []
    assert not list(target.parent.glob("*.part"))
    reader = PdfReader(target)
    text = "\n".join(page.extract_text() for page in reader.pages)
    for heading in ("Summary", "Value creation, cycle by cycle", "Participation and the peripheral majority",
                    "Appendix A. Methods", "Appendix B. Data quality", "Cycle 5. Reframing value"):
        assert heading in text
    assert "Riverside Science" in text and "2026-Q1" in text
    assert "100%" in text  # every respondent found the community useful
    assert reader.metadata.title == "Riverside Science: value creation, 2026-Q1"
    assert reader.attachments and any(name.endswith(".csv") for name in reader.attachments)
    outline = [item.title for item in reader.outline if not isinstance(item, list)]
    assert "Summary" in outline and "Appendix B. Data quality" in outline


def test_hostile_urls_in_text_are_not_fetched(tmp_path):
    result = write_pdf(_inputs(name=HOSTILE), tmp_path / "r.pdf")
    assert result["refused_urls"] == []  # escaped text is never a URL to fetch


def test_forum_only_quarter_never_passes_post_counts_off_as_applied_value():
    from value_pipeline import schema

    html = render_html(_inputs(ledger=_ledger(schema.empty(schema.SURVEY_RESPONSES))))
    summary = html.split('id="summary"')[1].split('id="cycles"')[0]
    assert "No member-reported evidence" in summary and "Weak forum signal only" in summary
    assert summary.count("No evidence collected") == 2  # cycles 4 and 5


def test_participation_section_reads_only_ledger_rows():
    from value_pipeline.report.render import build_context

    responses = _responses(24, datetime(2026, 3, 10, tzinfo=timezone.utc))
    ledger = _ledger(responses.with_columns(member_key=pl.lit("eve")))  # every respondent linked to a reader
    context = build_context(_inputs(ledger=ledger))
    section = context["participation"]
    assert [c["channel"] for c in section["channels"]] == ["general", "science", "(all channels)"]
    assert section["lorenz"][0] == (0.0, 0.0) and section["lorenz"][-1] == (1.0, 1.0) and len(section["lorenz"]) == 11
    # everyone was new in Q1: the only transition row is "joined", and its cells are small, so suppressed
    assert [row["from"] for row in section["matrix"]] == ["New this quarter"]
    assert all(cell is None or cell["suppressed"] or cell["value"] == 0 for cell in section["matrix"][0]["cells"])
    useful = next(row for row in section["value_rows"] if row["label"].startswith("Finds the community useful"))
    periphery = useful["cells"][2]
    assert periphery["display"] == ">95% / mean 4.50" and periphery["n"] == 24  # 100% of 24 is top-coded
    assert useful["cells"][0]["display"] == ""  # no core respondent: no cell, not a zero
    html = render_html(_inputs(ledger=ledger))
    assert "Periphery (did not post)" in html and "Moving toward the core?" not in html
    assert "Moving toward the core?" in render_annex_html(_inputs(ledger=ledger))  # the detail is in the annex
    # the cycle tables leave the breakdowns to this section
    cycle_rows = [row["indicator"] for cycle in context["cycles"] for row in cycle["rows"]]
    assert not any(indicator.startswith(("lorenz:", "tier_transition:", "survey_by_tier.")) for indicator in cycle_rows)


def _text(path) -> str:
    return " ".join("\n".join(page.extract_text() for page in PdfReader(path).pages).split())


PORTFOLIO_LEDGER = _ledger(_responses(12, datetime(2026, 3, 10, tzinfo=timezone.utc)))


def test_portfolio_lists_communities_side_by_side_and_names_the_missing(tmp_path):
    portfolio = PortfolioInputs("Gulf Coast STEM Foundation", Quarter(2026, 1), [
        PortfolioCommunity("riverside", "Riverside Science", PORTFOLIO_LEDGER), PortfolioCommunity("bayou", "Bayou Math Circle", PORTFOLIO_LEDGER),
    ], missing=["Delta Readers"])
    result = write_portfolio_pdf(portfolio, tmp_path / "portfolio.pdf")
    text = _text(tmp_path / "portfolio.pdf")
    assert result["refused_urls"] == []
    assert text.index("Bayou Math Circle") < text.index("Riverside Science")  # alphabetical, not a ranking
    assert "No report this quarter for: Delta Readers" in text
    assert "Headline figure per cycle" in text and "Where the evidence comes from" in text


def test_untrusted_names_render_inert_in_portfolio_and_member_summary():
    html = render_portfolio_html(PortfolioInputs(HOSTILE, Quarter(2026, 1), [PortfolioCommunity("x", HOSTILE, PORTFOLIO_LEDGER)]))
    summary = render_member_summary_html(MemberSummaryInputs("x", HOSTILE, Quarter(2026, 1), PORTFOLIO_LEDGER))
    for document in (html, summary):
        assert "<img src=" not in document and "<script>" not in document and "&lt;script&gt;" in document


def test_member_summary_shows_no_suppressed_figure():
    suppressed = PORTFOLIO_LEDGER.with_columns(suppressed=True, value=None)
    summary = render_member_summary_html(MemberSummaryInputs("x", "Riverside", Quarter(2026, 1), suppressed))
    assert "too few of us took part" in summary and "suppressed" not in summary


def test_the_same_inputs_give_the_same_pdf(tmp_path):
    first, second = write_pdf(_inputs(), tmp_path / "a.pdf"), write_pdf(_inputs(), tmp_path / "b.pdf")
    assert first["pages"] == second["pages"]
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()


def test_objects_frozen_for_a_render_are_released_after_it_even_on_error():
    assert gc.get_freeze_count() == 0
    with older_objects_left_out_of_collections():
        assert gc.get_freeze_count() > 0  # the process's objects are out of collections
    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), older_objects_left_out_of_collections():
        raise RuntimeError("layout failed")
    assert gc.get_freeze_count() == 0


def _fonts(path) -> set[str]:
    fonts = set()
    for page in PdfReader(path).pages:
        for font in page["/Resources"].get("/Font", {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return fonts


def test_documents_use_only_the_shipped_font(tmp_path):
    """No glyph falls back to a system font: the PDF must look the same on every machine."""
    inputs = _inputs()
    write_pdf(inputs, tmp_path / "report.pdf")
    write_annex_pdf(inputs, tmp_path / "annex.pdf")
    write_portfolio_pdf(PortfolioInputs("Gulf Coast STEM Foundation", Quarter(2026, 1),
                                        [PortfolioCommunity("riverside", "Riverside Science", inputs.ledger)]),
                        tmp_path / "portfolio.pdf")
    for name in ("report.pdf", "annex.pdf", "portfolio.pdf"):
        fonts = _fonts(tmp_path / name)
        assert fonts and all(font.startswith("Open-Sans") for font in fonts), (name, fonts)


def test_annex_renders_untrusted_text_inert_and_names_its_report(tmp_path):
    html = render_annex_html(_inputs(name=HOSTILE))
    assert "<img src=" not in html and "<script>" not in html
    result = write_annex_pdf(_inputs(), tmp_path / "annex.pdf")
    assert result["refused_urls"] == []
    text = "\n".join(page.extract_text() for page in PdfReader(tmp_path / "annex.pdf").pages)
    assert "TECHNICAL ANNEX" in text.upper() and "How each indicator is measured" in text
    assert "Appendix A. Methods" not in text  # the methods stay in the report
