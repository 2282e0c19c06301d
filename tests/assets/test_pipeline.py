"""The whole graph for one community and quarter, on the sample exports, as Dagster runs it."""

import re

import dagster as dg
import polars as pl
import pytest
from pypdf import PdfReader
from support import SAMPLE_EXPORTS

from assets.definitions import build_definitions
from assets.partitions import community_partitions, community_quarter_key
from value_pipeline.periods import Quarter

COMMUNITY = "riverside-science"
QUARTER = Quarter(2026, 3)


@pytest.fixture(scope="module")
def materialized(tmp_path_factory):
    output = tmp_path_factory.mktemp("output")
    defs = build_definitions(str(SAMPLE_EXPORTS), str(output))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(community_partitions.name, [COMMUNITY])
        tables = defs.resolve_job_def("community_tables_job").execute_in_process(instance=instance, partition_key=COMMUNITY)
        quality = defs.resolve_job_def("data_quality_job").execute_in_process(instance=instance, partition_key=COMMUNITY)
        report = defs.resolve_job_def("quarterly_report_job").execute_in_process(
            instance=instance, partition_key=community_quarter_key(COMMUNITY, QUARTER)
        )
        yield defs, output, tables, report, quality


def test_every_asset_and_check_succeeds(materialized):
    _, output, tables, report, quality = materialized
    assert tables.success and report.success and quality.success
    checks = [e for run in (tables, report, quality) for e in run.get_asset_check_evaluations()]
    names = {c.check_name: c.passed for c in checks}
    assert names == {
        "posts_contract": True, "members_contract": True, "survey_responses_contract": True,
        "row_accounting": True, "disclosure_control": True, "no_identifiers_in_report": True,
        "posts_expectations": True, "members_expectations": True, "survey_responses_expectations": True,
        "survey_items_expectations": True,
    }
    materialized_keys = {
        e.asset_key.to_user_string() for run in (tables, report, quality) for e in run.get_asset_materialization_events()
    }
    assert materialized_keys == {
        "posts", "members", "survey_responses", "survey_items", "quarantine", "row_accounts",
        "coded_posts", "coding_agreement", "member_tiers", "tier_transitions", "value_by_tier", "stories", "ledger", "ledger_history",
        "report", "member_summary", "data_quality",
    }
    assert (output / "data_docs" / COMMUNITY / "site" / "index.html").exists()


def test_report_metadata_points_at_a_readable_pdf(materialized):
    _, output, _, report, _ = materialized
    event = next(e for e in report.get_asset_materialization_events() if e.asset_key == dg.AssetKey("report"))
    metadata = event.materialization.metadata
    path = metadata["path"].value
    assert path == str(output / "reports" / COMMUNITY / f"{COMMUNITY}_2026-Q3.pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
    assert metadata["pages"].value == len(PdfReader(path).pages) >= 6
    assert "Riverside USD Science Teachers Forum" in text and "2026-Q3 (Jul-Sep 2026)" in text
    for section in ("Summary", "Cycle 1. Immediate value", "Cycle 5. Reframing value",
                    "Participation and the peripheral majority", "Appendix B. Data quality"):
        assert section in text
    # the participation section: tiers, inequality, the mix and value by tier; the detail is in the annex
    for heading in ("How evenly voice is spread", "What members' posts do: the interaction mix",
                    "What members at each distance from the core report getting"):
        assert heading in text
    assert "Periphery (did not post)" in text
    annex = metadata["annex_path"].value
    assert annex == str(output / "reports" / COMMUNITY / f"{COMMUNITY}_2026-Q3_annex.pdf")
    annex_text = "\n".join(page.extract_text() for page in PdfReader(annex).pages)
    assert metadata["annex_pages"].value == len(PdfReader(annex).pages)
    for heading in ("Do questions get answered?", "Moving toward the core? Tiers from 2026-Q2 to 2026-Q3",
                    "The reply network", "How each indicator is measured"):
        assert heading in annex_text and heading not in text
    assert "From 2026-Q2 to 2026-Q3" in annex_text
    # the follow-up survey wave (September) evidences cycles 3-5 in this quarter
    assert "Adapted a resource or idea to own class" in text
    assert "No evidence collected" not in text


def test_report_names_no_one(materialized):
    _, output, _, _, _ = materialized
    text = "\n".join(page.extract_text() for name in (f"{COMMUNITY}_2026-Q3.pdf", f"{COMMUNITY}_2026-Q3_annex.pdf")
                     for page in PdfReader(output / "reports" / COMMUNITY / name).pages)  # the report and its annex
    roster = (SAMPLE_EXPORTS.parent / "scripts" / "sample_content" / COMMUNITY / "roster.yaml").read_text()
    handles = re.findall(r"handle: (\S+)", roster)
    names = re.findall(r"name: (.+)", roster)
    assert handles and names
    # schools, by full and by everyday name ("Cedar Hollow" for "Cedar Hollow Middle School")
    schools = set(re.findall(r"school: (.+)", roster))
    short = {re.sub(r"\s+(Middle|High|Elementary|Academy|Learning Center|School).*$", "", school) for school in schools}
    schools |= {name for name in short if " " in name}  # "Riverside" alone is also the district the community is named for
    assert schools
    for identity in handles + [n for n in names if " " in n] + sorted(schools):
        assert identity not in text
    assert not re.search(r"[\w.]+@[\w.-]+\.\w+", text)


def test_ledger_partition_is_stored_as_parquet(materialized):
    defs, output, _, _, _ = materialized
    ledger = pl.read_parquet(output / "storage" / "ledger" / COMMUNITY / "2026-07-01.parquet")
    assert ledger.get_column("quarter").unique().to_list() == ["2026-Q3"]
    assert set(ledger.get_column("cycle")) == {1, 2, 3, 4, 5}


def test_report_quotes_consented_scrubbed_stories_only(materialized):
    from value_pipeline.ingest import read_community
    from value_pipeline.stories import stories

    _, output, _, _, _ = materialized
    text = " ".join("\n".join(page.extract_text() for page in PdfReader(output / "reports" / COMMUNITY / f"{COMMUNITY}_2026-Q3.pdf").pages).split())
    assert "Value-creation stories" in text and "Story 1" in text
    tables = read_community(SAMPLE_EXPORTS / COMMUNITY)
    told = stories(tables.survey_responses, tables.survey_items, QUARTER)
    withheld = told.filter(~pl.col("consent_to_quote"))
    assert withheld.height > 0  # the sample has stories whose tellers said no
    for story in withheld.iter_rows(named=True):
        for answer in story["answers"]:
            # the first words of every withheld answer appear nowhere in the report
            opening = " ".join(answer["text"].split()[:8])
            assert opening not in text, opening
