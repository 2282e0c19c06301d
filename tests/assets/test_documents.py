"""Reports, member summaries and portfolios across communities and quarters, as Dagster
runs them on the sample exports: trends, funder separation, nothing from one community
in another's documents, no suppressed value visible."""

import re

import dagster as dg
import polars as pl
import pytest
from pypdf import PdfReader
from support import SAMPLE_EXPORTS

from assets.definitions import build_definitions
from assets.documents import funder_slug
from assets.partitions import community_partitions, community_quarter_key
from value_pipeline.config import load_community_config
from value_pipeline.participation import tier_labels
from value_pipeline.periods import Quarter

RIVERSIDE, MATH, CIRCLE = "riverside-science", "inquiry-math-pd", "first-year-circle"
RUNS = [(RIVERSIDE, Quarter(2026, 2)), (RIVERSIDE, Quarter(2026, 3)), (MATH, Quarter(2026, 3)), (CIRCLE, Quarter(2026, 1))]


def _text(path) -> str:
    return " ".join("\n".join(page.extract_text() for page in PdfReader(path).pages).split())


@pytest.fixture(scope="module")
def produced(tmp_path_factory):
    output = tmp_path_factory.mktemp("output")
    defs = build_definitions(str(SAMPLE_EXPORTS), str(output))
    settings = defs.resources["settings"]
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(community_partitions.name, [RIVERSIDE, MATH, CIRCLE])
        for community in (RIVERSIDE, MATH, CIRCLE):
            assert defs.resolve_job_def("community_tables_job").execute_in_process(instance=instance, partition_key=community).success
        for community, quarter in RUNS:
            assert defs.resolve_job_def("quarterly_report_job").execute_in_process(
                instance=instance, partition_key=community_quarter_key(community, quarter)).success
        portfolio = {}
        for quarter in (Quarter(2026, 3), Quarter(2026, 1)):
            result = defs.resolve_job_def("portfolio_job").execute_in_process(instance=instance, partition_key=quarter.partition_key)
            assert result.success
            portfolio[quarter] = result.get_asset_materialization_events()[0].materialization.metadata["portfolios"].value
        yield settings, output, portfolio


def _roster(community: str) -> list[str]:
    roster = (SAMPLE_EXPORTS.parent / "scripts" / "sample_content" / community / "roster.yaml").read_text()
    names = [n.strip() for n in re.findall(r"name: (.+)", roster) if " " in n.strip()]
    return re.findall(r"handle: (\S+)", roster) + names


def test_a_report_shows_trends_and_change_since_last_quarter(produced):
    settings, _, _ = produced
    text = _text(settings.report_path(RIVERSIDE, "2026-Q3"))
    assert "Trends over the last 2 quarters" in text and "2026-Q2 2026-Q3 Change" in text
    assert "since 2026-Q2" in text
    first = _text(settings.report_path(RIVERSIDE, "2026-Q2"))
    assert "No earlier quarter of this community has been reported" in first


def test_each_funder_portfolio_holds_its_own_communities_only(produced):
    settings, _, portfolio = produced
    names = {c: load_community_config(SAMPLE_EXPORTS / c).name for c in (RIVERSIDE, MATH, CIRCLE)}
    tri_county = _text(settings.portfolio_path(funder_slug("Tri-County STEM Foundation"), "2026-Q3"))
    assert names[RIVERSIDE] in tri_county and names[MATH] in tri_county and names[CIRCLE] not in tri_county
    harwell = _text(settings.portfolio_path(funder_slug("Harwell Family Foundation"), "2026-Q1"))
    assert names[CIRCLE] in harwell and names[RIVERSIDE] not in harwell and names[MATH] not in harwell
    assert portfolio[Quarter(2026, 3)]["Tri-County STEM Foundation"]["missing"] == []
    # a funder none of whose communities was reported that quarter gets no portfolio
    assert "Harwell Family Foundation" not in portfolio[Quarter(2026, 3)]
    assert "Tri-County STEM Foundation" not in portfolio[Quarter(2026, 1)]


def test_nothing_of_one_community_appears_in_another_ones_documents(produced):
    settings, _, _ = produced
    others = {RIVERSIDE: [MATH, CIRCLE], MATH: [RIVERSIDE, CIRCLE]}
    for community, foreign in others.items():
        for path in (settings.report_path(community, "2026-Q3"), settings.annex_path(community, "2026-Q3"),
                     settings.member_summary_path(community, "2026-Q3")):
            text = _text(path)
            for other in foreign:
                assert load_community_config(SAMPLE_EXPORTS / other).name not in text
                for identity in _roster(other) + _roster(community):
                    assert identity not in text, (path.name, identity)
            assert not re.search(r"[\w.]+@[\w.-]+\.\w+", text)


def test_the_report_and_its_annex_split_the_sections(produced):
    settings, _, _ = produced
    report, annex = settings.report_path(RIVERSIDE, "2026-Q3"), settings.annex_path(RIVERSIDE, "2026-Q3")
    report_text, annex_text = _text(report), _text(annex)
    for heading in ("Summary", "Trends over the last", "Value creation, cycle by cycle", "Participation and the peripheral majority",
                    "Value-creation stories", "Appendix A. Methods", "Appendix B. Data quality"):
        assert heading in report_text
    for heading in ("Participation in detail", "Forums and chats compared", "The reply network", "Moving toward the core?",
                    "How each indicator is measured"):
        assert heading in annex_text and heading not in report_text
    assert "were written in one kind of space" in annex_text  # a forum-only community: nothing to compare
    assert PdfReader(annex).metadata.title.endswith("technical annex, 2026-Q3")
    assert any(name.endswith(".csv") for name in PdfReader(annex).attachments)


def test_suppressed_tier_counts_are_not_visible(produced):
    settings, output, _ = produced
    ledger = pl.read_parquet(output / "storage" / "ledger" / RIVERSIDE / "2026-07-01.parquet")
    tiers = pl.read_parquet(output / "storage" / "member_tiers" / RIVERSIDE / "2026-07-01.parquet")
    suppressed = [row["indicator"].split(":")[1] for row in ledger.filter(pl.col("suppressed")).iter_rows(named=True)
                  if row["indicator"].startswith("members_by_tier:")]
    assert suppressed  # the sample's small core and active tiers
    text = _text(settings.report_path(RIVERSIDE, "2026-Q3"))
    labels = tier_labels(load_community_config(SAMPLE_EXPORTS / RIVERSIDE).tiers)
    for tier in suppressed:
        true_count = tiers.filter(pl.col("tier") == tier).height
        assert f"{labels[tier]} suppressed" in text
        assert f"{labels[tier]} {true_count} " not in text


def test_member_summary_is_one_page_and_quotes_no_one(produced):
    settings, _, _ = produced
    path = settings.member_summary_path(RIVERSIDE, "2026-Q3")
    assert len(PdfReader(path).pages) == 1
    text = _text(path)
    assert "What we created together" in text and "suppressed" not in text
    assert "“" not in text  # no quotation: stories are counted, never quoted, for members
