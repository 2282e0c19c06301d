"""Two more documents from the same disclosure-controlled ledgers:

- the funder's portfolio report: every community the funder supports, side by side, for
  one quarter (headline per cycle, reach, evidence coverage);
- the member-facing summary: one page a community can share with its members, "what we
  created together this quarter", with no member quoted and no small count shown.

Both read only ledger rows (already suppressed) and render through the report's safe
pipeline: autoescaped templates, bundled files only, atomic tagged PDF.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from value_pipeline.ledger import CYCLE_NAMES
from value_pipeline.periods import Quarter
from value_pipeline.privacy import spreadsheet_safe
from value_pipeline.report.render import (
    EVIDENCE_LABELS,
    EVIDENCE_TYPES,
    _environment,
    format_value,
    headline,
    html_to_pdf,
)

# What the portfolio compares besides the cycle headlines: reach and responsiveness.
PORTFOLIO_FIGURES = ("members_total", "posting_members", "questions_replied_share", "resources_shared")


@dataclass
class PortfolioCommunity:
    community: str
    name: str
    ledger: pl.DataFrame
    coding_below: int = 50


@dataclass
class PortfolioInputs:
    funder: str
    quarter: Quarter
    communities: list[PortfolioCommunity]
    missing: list[str] = field(default_factory=list)  # communities of the funder with no ledger this quarter


def _rows(ledger: pl.DataFrame, coding_below: int) -> list[dict]:
    rows = ledger.to_dicts()
    for row in rows:
        row["display"] = format_value(row, coding_below)
    return rows


def _shown(row: dict | None) -> bool:
    return bool(row) and not row["suppressed"] and row["value"] is not None


def portfolio_context(inputs: PortfolioInputs) -> dict:
    """One row per community: the reach figures, the headline of each cycle, and how many
    indicators each evidence type contributed (the matrix, condensed)."""
    communities = []
    labels = {}
    for member in sorted(inputs.communities, key=lambda c: c.name.lower()):
        rows = _rows(member.ledger, member.coding_below)
        by_indicator = {row["indicator"]: row for row in rows}
        for name in PORTFOLIO_FIGURES:
            if name in by_indicator:
                labels[name] = by_indicator[name]["label"]
        headlines = [headline(rows, cycle) for cycle in CYCLE_NAMES]
        evidenced = {
            evidence: sorted({row["cycle"] for row in rows if row["evidence_type"] == evidence and _shown(row)})
            for evidence in EVIDENCE_TYPES
        }
        communities.append({
            "community": member.community,
            "name": member.name,
            "figures": [by_indicator.get(name) for name in PORTFOLIO_FIGURES],
            "headlines": headlines,
            "cycles_evidenced": sum(1 for h in headlines if h),
            "evidenced": evidenced,
        })
    # Each column names its most common headline indicator once, in the header; a cell
    # says what it shows only when its community's headline differs.
    column_labels = []
    for index in range(len(CYCLE_NAMES)):
        labels_here = [c["headlines"][index]["label"] for c in communities if c["headlines"][index]]
        column_labels.append(max(sorted(set(labels_here)), key=labels_here.count) if labels_here else "")
    return {
        "title": f"{inputs.funder}: portfolio, {inputs.quarter.label}",
        "column_labels": column_labels,
        "funder": inputs.funder,
        "quarter": inputs.quarter,
        "communities": communities,
        "figure_labels": [labels.get(name, name) for name in PORTFOLIO_FIGURES],
        "cycle_names": CYCLE_NAMES,
        "evidence_types": EVIDENCE_TYPES,
        "evidence_labels": EVIDENCE_LABELS,
        "missing": sorted(inputs.missing),
        "data_as_of": inputs.quarter.last_day.date().isoformat(),
    }


def render_portfolio_html(inputs: PortfolioInputs) -> str:
    return _environment().get_template("portfolio.html.j2").render(**portfolio_context(inputs))


def write_portfolio_pdf(inputs: PortfolioInputs, target: Path) -> dict:
    """The funder's portfolio PDF, with every community's ledger attached as one CSV."""
    ledgers = [member.ledger for member in inputs.communities if member.ledger.height]
    csv = spreadsheet_safe(pl.concat(ledgers, how="vertical_relaxed")).write_csv() if ledgers else ""
    name = f"portfolio_ledgers_{inputs.quarter.label}.csv"
    attachment = (name, csv, "The value-creation ledgers of every community in this portfolio (CSV)")
    return html_to_pdf(render_portfolio_html(inputs), target, [attachment], dated=inputs.quarter.last_day)


# What members see: plain figures of shared activity and what members reported, each
# shown only when its ledger row is shown (never suppressed values, never small counts).
MEMBER_FIGURES = (
    ("posting_members", "members wrote in the community"),
    ("questions_asked", "questions were asked"),
    ("questions_replied_share", "of questions got a reply from a colleague"),
    ("resources_shared", "posts shared a resource, link or file"),
    ("threads_with_reflection", "of conversations included reflection on practice"),
    ("celebration_posts", "posts celebrated a success"),
    ("support_posts", "posts offered encouragement or support"),
)
MEMBER_SURVEY = (
    ("survey.imm_useful.agree", "found the community useful for their teaching"),
    ("survey.soc_isolation.agree", "feel less isolated in their work"),
    ("survey.tan_resources.agree", "obtained resources they could use"),
    ("survey.app_adapted.yes", "adapted something from the community to their own class"),
    ("survey.real_learning.agree", "saw an improvement in their students' learning"),
)


@dataclass
class MemberSummaryInputs:
    community: str
    name: str
    quarter: Quarter
    ledger: pl.DataFrame
    coding_below: int = 50
    min_count: int = 10


def member_summary_context(inputs: MemberSummaryInputs) -> dict:
    rows = _rows(inputs.ledger, inputs.coding_below)
    by_indicator = {row["indicator"]: row for row in rows}
    figures = [{"display": by_indicator[name]["display"], "text": text}
               for name, text in MEMBER_FIGURES if _shown(by_indicator.get(name)) and by_indicator[name]["value"]]
    survey = [{"display": by_indicator[name]["display"], "text": text, "n": by_indicator[name]["n"]}
              for name, text in MEMBER_SURVEY if _shown(by_indicator.get(name))]
    stories = by_indicator.get("stories_told")
    return {
        "title": f"{inputs.name}: what we created together, {inputs.quarter.label}",
        "inputs": inputs,
        "quarter": inputs.quarter,
        "figures": figures,
        "survey": survey,
        "respondents": max((item["n"] or 0 for item in survey), default=0),
        "stories": stories["display"] if _shown(stories) and stories["value"] else None,
        "data_as_of": inputs.quarter.last_day.date().isoformat(),
    }


def render_member_summary_html(inputs: MemberSummaryInputs) -> str:
    return _environment().get_template("member_summary.html.j2").render(**member_summary_context(inputs))


def write_member_summary_pdf(inputs: MemberSummaryInputs, target: Path) -> dict:
    return html_to_pdf(render_member_summary_html(inputs), target)
