"""The evaluation report: ledger and data-quality facts -> HTML (jinja2) -> PDF (WeasyPrint).

Safety rules (DESIGN.md, report rendering):
- jinja2 autoescapes everything: post and survey text is untrusted;
- WeasyPrint may fetch only the bundled template files (CSS, fonts); any other URL in
  the document, `file:///etc/passwd` or `https://...`, is refused;
- the PDF is written to a temporary file and moved into place, so it appears complete
  or not at all.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import jinja2
import polars as pl

from value_pipeline.config import TierRules
from value_pipeline.ledger import BREAKDOWNS, CYCLE_NAMES, NO_EVIDENCE, depends_on_codes
from value_pipeline.participation import (
    GROUP_LABELS,
    GROUPS,
    MOVE_LABELS,
    MOVES,
    TIERS,
    tier_labels,
)
from value_pipeline.participation.mix import SPACE_LABELS
from value_pipeline.participation.responsiveness import ALL_CHANNELS
from value_pipeline.periods import Quarter
from value_pipeline.privacy import format_share, spreadsheet_safe
from value_pipeline.trends import trend_rows

TEMPLATES = Path(os.environ.get("VALUE_PIPELINE_TEMPLATES", Path(__file__).resolve().parents[2] / "report_templates"))
EVIDENCE_TYPES = ("behavioural", "self_report", "story", "external")
EVIDENCE_LABELS = {
    "behavioural": "Platform behaviour",
    "self_report": "Survey (self-report)",
    "story": "Value-creation stories",
    "external": "External data",
}


@dataclass
class ReportInputs:
    """Everything a community's quarterly report shows; all of it already aggregated."""

    community: str
    name: str
    funder: str
    formal: bool
    platforms: list[str]
    quarter: Quarter
    ledger: pl.DataFrame
    codebook: list[dict]  # id, name, description
    coder: str
    instrument_title: str
    suppression: dict
    accounts: list[dict]
    quarantine_by_reason: list[dict]
    checks: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    coding: dict = field(default_factory=dict)  # the coding_agreement row: coder, kappa, threshold, ...
    tier_rules: TierRules = field(default_factory=TierRules)
    stories: list[dict] = field(default_factory=list)  # quotable (consented, scrubbed) stories only
    unmatched_questions: list[str] = field(default_factory=list)  # survey questions the instrument does not map
    history: pl.DataFrame | None = None  # headline indicators of this and up to 3 earlier quarters (trend rows)
    generated_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


# Indicators the participation section shows in context (inequality, responsiveness,
# conversation, network, newcomers); the cycle tables keep the headline ones only.
PARTICIPATION_DETAIL = frozenset({
    "top1_post_share", "members_writing_half_share", "gini_posts", "questions_answered_share",
    "hours_to_first_reply_p90", "unanswered_threads", "prompted_shares", "unprompted_shares",
    "unprompted_share_of_sharing", "threads_with_discussion", "median_posts_per_thread", "median_reply_depth",
    "reply_reciprocity", "network_density", "network_core_k", "network_core_share", "network_broker_share",
    "network_staff_broker_share", "network_largest_group_share", "newcomers_answered_by_peers",
    "newcomers_answered_by_staff", "newcomers_without_response", "days_to_first_post_median",
})


# Survey items the value-by-tier table shows (the default instrument's ids), one per construct.
BY_TIER_ITEMS = (
    "imm_useful", "hum_efficacy", "hum_enthusiasm", "soc_isolation", "tan_resources", "learn_identity",
    "app_adapted", "app_changed", "real_learning", "refr_success", "bar_time", "bar_contribute",
)


def format_value(row: dict, coding_below: int) -> str:
    """A ledger value as a funder reads it: counts whole, shares as %, hours to one decimal."""
    value, unit = row["value"], row["unit"]
    if row["suppressed"]:
        return "suppressed"
    if value is None:
        return "n/a"
    if unit in ("share", "member_share"):
        return format_share(value, row["n"], coding_below)
    if unit == "hours":
        return f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} days"
    if unit == "member_days":
        return f"{value:.0f} days" if value >= 2 else f"{value * 24:.0f} h"
    if unit in ("mean", "index"):
        return f"{value:.2f}"
    if unit == "mean_change":
        return f"{value:+.2f}"
    if unit in ("posts", "levels") and value != int(value):
        return f"{value:.1f}"
    return f"{value:,.0f}"


@functools.cache
def _environment() -> jinja2.Environment:
    """One environment per process, so each template is compiled once (compiling the report's
    templates took 0.12 s, most of the time to make its HTML); it still reloads a template
    whose file changed."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template, whatever its extension: post text is untrusted
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment


def headline(rows: list[dict], cycle: int) -> dict | None:
    """The row a summary shows for a cycle: the first evidenced, unsuppressed indicator
    in order of preference (surveys for cycles 3-5, behaviour and surveys for 1-2)."""
    preferences = {
        1: ["questions_replied_share", "posting_members", "survey.imm_useful.agree"],
        2: ["survey.hum_efficacy.agree", "resources_shared", "connected_members"],
        3: ["survey.app_adapted.yes", "survey.app_used.yes", "survey.app_changed.agree"],
        4: ["survey.real_engagement.agree", "survey.real_learning.agree"],
        5: ["survey.refr_success.agree"],
    }
    by_indicator = {row["indicator"]: row for row in rows if row["cycle"] == cycle}
    for indicator in preferences[cycle]:
        row = by_indicator.get(indicator)
        if row and not row["suppressed"] and row["value"] is not None:
            return row
    return None


def _highlights(rows: list[dict], coding_below: int) -> list[str]:
    """Plain-language observations, each drawn from an unsuppressed ledger figure."""
    value = {row["indicator"]: row for row in rows if not row["suppressed"] and row["value"] is not None}
    notes = []
    if "questions_replied_share" in value and "hours_to_first_reply_median" in value:
        notes.append(
            f"{format_value(value['questions_replied_share'], coding_below)} of questions got a reply from someone "
            f"other than the asker; half of those within {format_value(value['hours_to_first_reply_median'], coding_below)}."
        )
    if "top10_post_share" in value:
        notes.append(
            f"The most active 10% of members wrote {format_value(value['top10_post_share'], coding_below)} of member posts "
            "(a minority writing most posts is typical of teacher communities)."
        )
    peripheral = value.get("members_by_tier:peripheral")
    if peripheral and peripheral["value"]:
        notes.append(
            f"{format_value(peripheral, coding_below)} members read without posting: their value shows up only in surveys and stories."
        )
    moved_up = value.get("tier_movement:moved_up")
    if moved_up and moved_up["value"]:
        notes.append(
            f"{format_value(moved_up, coding_below)} members moved toward the core since last quarter "
            "(they began reading or posting, or posted more than before)."
        )
    periphery_useful = value.get("survey_by_tier.imm_useful.periphery.agree")
    if periphery_useful:
        notes.append(
            f"{format_value(periphery_useful, coding_below)} of surveyed members who did not post found the community "
            "useful for their teaching: value the forum's activity figures cannot show."
        )
    adapted = value.get("survey.app_adapted.yes")
    if adapted:
        notes.append(
            f"{format_value(adapted, coding_below)} of survey respondents adapted a shared resource or idea to their own class, "
            "the step that embeds community knowledge in practice."
        )
    if "practice_reports" in value and value["practice_reports"]["value"]:
        notes.append(
            f"{format_value(value['practice_reports'], coding_below)} posts reported trying something in class "
            "(a weak signal of applied value; surveys carry the evidence)."
        )
    return notes


def build_context(inputs: ReportInputs) -> dict:
    """The template's context: rows by cycle, the matrix, the tier table, the mix chart."""
    coding_below = inputs.suppression["percent_coding_below"]
    # Ledger order is the order indicators were built in (most telling first); keep it.
    coding = {
        "coder": inputs.coder, "hand_coded": 0, "kappa": None, "alpha": None, "rho": None,
        "threshold": 0.65, "development_kappa": None, "note": "",
    } | (inputs.coding or {})
    weak_coding = coding.get("kappa") is not None and coding["kappa"] < coding.get("threshold", 0.65)
    rows = [
        {**row, "display": format_value(row, coding_below), "flagged": weak_coding and depends_on_codes(row["indicator"])}
        for row in inputs.ledger.sort("cycle", maintain_order=True).to_dicts()
    ]
    means = {row["indicator"].removesuffix(".mean"): row for row in rows if row["indicator"].endswith(".mean")}
    for row in rows:
        mean = means.get(row["indicator"].removesuffix(".agree"))
        if row["indicator"].endswith(".agree") and mean and not mean["suppressed"] and mean["value"] is not None:
            row["display"] += f" (mean {mean['display']})"
    cycles = []
    for number, name in CYCLE_NAMES.items():
        cycle_rows = [
            row for row in rows
            if row["cycle"] == number
            and not row["indicator"].startswith(BREAKDOWNS)
            and not row["indicator"].endswith(".mean")
            and row["indicator"] not in PARTICIPATION_DETAIL  # shown once, in the participation section
        ]
        evidence = [row for row in cycle_rows if row["indicator"] != NO_EVIDENCE]
        cycles.append(
            {
                "number": number,
                "name": name,
                "rows": evidence,
                "evidenced": bool(evidence),
                "headline": headline(rows, number),
                # Posts about trying things in class hint at applied value but never stand
                # for it (FRAMEWORK.md): shown beside the headline, never as one.
                "weak_signal": next(
                    (r for r in evidence if r["indicator"] == "practice_reports" and r["value"] is not None), None
                ),
            }
        )
    matrix = []
    for number, name in CYCLE_NAMES.items():
        cells = []
        for evidence_type in EVIDENCE_TYPES:
            matching = [r for r in rows if r["cycle"] == number and r["evidence_type"] == evidence_type
                        and not r["indicator"].startswith(BREAKDOWNS) and not r["indicator"].endswith(".mean")]
            shown = [r for r in matching if not r["suppressed"] and r["value"] is not None]
            cells.append({"indicators": len(matching), "shown": len(shown)})
        matrix.append({"number": number, "name": name, "cells": cells})
    by_indicator = {row["indicator"]: row for row in rows}
    labels = tier_labels(inputs.tier_rules)
    tiers = [
        {"tier": tier, "label": labels[tier], "display": by_indicator[f"members_by_tier:{tier}"]["display"]}
        for tier in TIERS
        if f"members_by_tier:{tier}" in by_indicator
    ]
    mix = [row for row in rows if row["indicator"].startswith("interaction_mix:")]
    mix_total = sum(row["value"] or 0 for row in mix)
    chart = [
        {
            "label": row["label"],
            "value": row["value"] or 0,
            "share": (row["value"] or 0) / mix_total if mix_total else 0,
        }
        for row in sorted(mix, key=lambda r: -(r["value"] or 0))
    ]
    return {
        "inputs": inputs,
        "title": f"{inputs.name}: value creation, {inputs.quarter.label}",
        "quarter": inputs.quarter,
        "cycles": cycles,
        "matrix": matrix,
        "evidence_types": [EVIDENCE_LABELS[e] for e in EVIDENCE_TYPES],
        "evidence_labels": EVIDENCE_LABELS,
        "tiers": tiers,
        "members_total": by_indicator.get("members_total", {}).get("display", "n/a"),
        "chart": chart,
        "chart_max": max((c["value"] for c in chart), default=0),
        "highlights": _highlights(rows, coding_below),
        "tier_rules": inputs.tier_rules,
        "participation": participation_context(rows, inputs.tier_rules, coding_below),
        "survey_scales": scales_context(rows),
        "story_counts": {name: by_indicator[name] for name in ("stories_told", "stories_quotable") if name in by_indicator},
        "cycle_names": CYCLE_NAMES,
        "definitions": definitions(rows),
        "trends": trends_context(inputs.history, inputs.quarter, coding_below),
        "generated": inputs.generated_at.strftime("%d %B %Y"),
        "coding": coding,
        "weak_coding": weak_coding,
    }


def format_change(value: float | None, unit: str) -> str:
    """A quarter-on-quarter change as a funder reads it: shares in percentage points."""
    if value is None:
        return ""
    if unit in ("share", "member_share"):
        points = round(100 * value)
        return "no change" if points == 0 else f"{points:+d} pts"
    if unit == "hours":
        return f"{value:+.1f} h" if abs(value) < 48 else f"{value / 24:+.1f} days"
    if unit in ("mean", "index", "mean_change"):
        return f"{value:+.2f}"
    return "no change" if round(value) == 0 else f"{value:+,.0f}"


def trends_context(history: pl.DataFrame | None, quarter: Quarter, coding_below: int) -> dict:
    """The trend table (headline indicators over up to four quarters, with sparklines)
    and each indicator's change since last quarter, for the summary headlines."""
    if history is None or history.height == 0:
        return {"quarters": [], "rows": [], "change": {}}
    quarters, rows = trend_rows(history, quarter)
    for row in rows:
        row["displays"] = [format_value(cell, coding_below) if cell else "" for cell in row["cells"]]
        row["change_display"] = format_change(row["change"], row["unit"])
        shown = [(i, cell["value"]) for i, cell in enumerate(row["cells"]) if cell and not cell["suppressed"] and cell["value"] is not None]
        row["points"] = shown if len(shown) >= 2 else []
    return {
        "quarters": quarters,
        "rows": rows,
        "change": {row["indicator"]: row["change_display"] for row in rows if row["change_display"]},
        "previous": quarter.previous().label,
    }


def definitions(rows: list[dict]) -> list[dict]:
    """How each indicator the report shows is measured, one entry per distinct method:
    indicators sharing a method (every survey agreement item, say) are listed together."""
    entries: dict[str, dict] = {}
    for row in rows:
        if row["indicator"].startswith(BREAKDOWNS) or row["indicator"] == NO_EVIDENCE or not row["method_note"]:
            continue
        entry = entries.setdefault(row["method_note"], {"method": row["method_note"], "labels": []})
        if row["label"] not in entry["labels"]:
            entry["labels"].append(row["label"])
    return list(entries.values())


def _pick(by_indicator: dict, names: list[str]) -> list[dict]:
    return [by_indicator[name] for name in names if name in by_indicator]


def participation_context(rows: list[dict], rules: TierRules, coding_below: int = 50) -> dict:
    """The participation section's tables, all read from (disclosure-controlled) ledger rows."""
    by_indicator = {row["indicator"]: row for row in rows}
    lorenz = sorted(
        (int(row["indicator"].split(":")[1]) / 100, row["value"])
        for row in rows if row["indicator"].startswith("lorenz:") and row["value"] is not None
    )
    channels: dict[str, dict] = {}
    for row in rows:
        if row["indicator"].startswith("responsiveness:"):
            _, channel, metric = row["indicator"].split(":", 2)
            channels.setdefault(channel, {"channel": channel})[metric] = row
    overall = {"channel": ALL_CHANNELS} | {
        metric: by_indicator[metric] for metric in (
            "questions_asked", "questions_replied_share", "questions_answered_share",
            "hours_to_first_reply_median", "hours_to_first_reply_p90", "unanswered_threads",
        ) if metric in by_indicator
    }
    spaces = sorted({row["indicator"].split(":")[1] for row in rows if row["indicator"].startswith("interaction_mix_by_space:")})
    space_table = []
    for row in rows:
        if row["indicator"].startswith("interaction_mix_by_space:") and row["indicator"].split(":")[1] == spaces[0]:
            code = row["indicator"].split(":")[2]
            space_table.append({
                "label": row["label"].split(":")[0],
                "cells": [by_indicator.get(f"interaction_mix_by_space:{space}:{code}") for space in spaces],
            })
    labels = tier_labels(rules) | {"joined": "Not yet a member"}
    short = {"core": "Core", "active": "Active", "occasional": "Occasional", "peripheral": "Peripheral",
             "inactive": "Inactive", "non_posting": "No posts, no reading data", "joined": "New this quarter"}
    def nonzero(indicator: str) -> bool:  # present, and either a count above zero or suppressed
        return indicator in by_indicator and by_indicator[indicator]["value"] != 0

    states_to = [t for t in TIERS if any(nonzero(f"tier_transition:{f}:{t}") for f in ("joined", *TIERS))]
    matrix = [
        {"from": short[source], "from_label": labels[source],
         "cells": [by_indicator.get(f"tier_transition:{source}:{target}") for target in states_to]}
        for source in ("joined", *TIERS)
        if any(nonzero(f"tier_transition:{source}:{t}") for t in TIERS)
    ]
    items: dict[str, dict] = {}
    for row in rows:
        if row["indicator"].startswith("survey_by_tier."):
            _, item, group, statistic = row["indicator"].split(".")
            entry = items.setdefault(item, {"item": item, "cycle": row["cycle"], "label": row["label"].rsplit(" (", 1)[0], "groups": {}})
            entry["groups"].setdefault(group, {})[statistic] = row
    # One telling item per construct keeps the table to a page; every item is in the CSV.
    chosen = [item for item in BY_TIER_ITEMS if item in items] or sorted(items)
    value_rows = []
    for entry in sorted((items[item] for item in chosen), key=lambda e: (e["cycle"], chosen.index(e["item"]))):
        cells = []
        for group in GROUPS:
            stats = entry["groups"].get(group, {})
            share = stats.get("agree") or stats.get("yes")
            mean = stats.get("mean")
            shown_share = share is not None and not share["suppressed"] and share["value"] is not None
            shown_mean = mean is not None and not mean["suppressed"] and mean["value"] is not None
            # a mean may be shown from fewer respondents than a percentage (5 vs 10)
            parts = [format_value(share, coding_below)] if shown_share else []
            parts += [f"mean {mean['value']:.2f}"] if shown_mean else []
            cells.append({
                "display": " / ".join(parts) if parts else ("suppressed" if share or mean else ""),
                "n": (share if shown_share else mean if shown_mean else {}).get("n"),
                "suppressed": bool((share or mean) and not parts),
            })
        value_rows.append({"label": entry["label"], "cycle": entry["cycle"], "cells": cells})
    return {
        "inequality": _pick(by_indicator, ["top10_post_share", "top1_post_share", "members_writing_half_share", "gini_posts"]),
        "lorenz": [(0.0, 0.0), *lorenz, (1.0, 1.0)] if lorenz else [],
        "channels": [channels[name] for name in sorted(channels)] + ([overall] if channels else []),
        "overall": overall,
        # How conversations go; reflection, support and celebration are in the cycle tables already.
        "conversation": _pick(by_indicator, [
            "prompted_shares", "unprompted_shares", "unprompted_share_of_sharing", "threads_with_discussion",
            "median_posts_per_thread", "median_reply_depth",
        ]),
        "spaces": [SPACE_LABELS[space] for space in spaces],
        "space_table": space_table,
        "network": _pick(by_indicator, [
            "connected_members", "reply_reciprocity", "network_density", "network_core_k", "network_core_share",
            "network_broker_share", "network_staff_broker_share", "network_largest_group_share",
        ]),
        "newcomers": _pick(by_indicator, [
            "newcomers", "newcomers_answered_by_peers", "newcomers_answered_by_staff", "newcomers_without_response",
            "newcomer_retention", "days_to_first_post_median",
        ]),
        "states_to": [short[t] for t in states_to],
        "matrix": matrix,
        "moves": [by_indicator[f"tier_movement:{move}"] | {"move_label": MOVE_LABELS[move]}
                  for move in MOVES if f"tier_movement:{move}" in by_indicator],
        "has_transitions": any(row["indicator"].startswith("tier_transition:") for row in rows),
        "groups": [GROUP_LABELS[group] for group in GROUPS],
        "group_respondents": [by_indicator.get(f"respondents_by_tier:{group}") for group in (*GROUPS, "unlinked")],
        "value_rows": value_rows,
    }


def scales_context(rows: list[dict]) -> dict:
    """The survey scales table (mean, reliability, paired change) and change by tier,
    read from ledger rows; item response rates for the methods appendix."""
    by_indicator = {row["indicator"]: row for row in rows}
    scale_ids = [row["indicator"].split(".")[1] for row in rows if row["indicator"].startswith("scale.") and row["indicator"].endswith(".mean")]

    def shown(indicator: str) -> dict | None:
        row = by_indicator.get(indicator)
        return row if row and not row["suppressed"] and row["value"] is not None else None

    scales = []
    for scale in scale_ids:
        mean = by_indicator[f"scale.{scale}.mean"]
        change, low, high, effect = (shown(f"change.{scale}.{s}") for s in ("mean_difference", "ci_low", "ci_high", "effect_size"))
        scales.append({
            "label": mean["label"], "cycle": mean["cycle"], "mean": mean,
            "alpha": shown(f"scale.{scale}.alpha"), "omega": shown(f"scale.{scale}.omega"),
            "change": change, "interval": f"[{low['display']}, {high['display']}]" if low and high else "",
            "effect": effect, "pairs": (by_indicator.get(f"change.{scale}.mean_difference") or {}).get("n"),
            "has_change": f"change.{scale}.mean_difference" in by_indicator,
            "by_tier": [
                shown(f"change_by_tier.{scale}.{group}.mean_difference") or by_indicator.get(f"change_by_tier.{scale}.{group}.mean_difference")
                for group in GROUPS
            ],
        })
    compared = next((row["method_note"].split(",")[0] for row in rows if row["indicator"].startswith("change.")), None)
    rates = [row for row in rows if row["indicator"].startswith("response_rate:")]
    shown_rates = [row for row in rates if not row["suppressed"] and row["value"] is not None]
    return {
        "scales": scales,
        "compared": compared,
        "has_change": any(scale["has_change"] for scale in scales),
        "groups": [GROUP_LABELS[group] for group in GROUPS],
        "response_rates": rates,
        "rates": {
            "items": len(shown_rates),
            "low": min(shown_rates, key=lambda r: r["value"])["display"],
            "high": max(shown_rates, key=lambda r: r["value"])["display"],
            "below": [row for row in shown_rates if row["value"] < 0.9],
        } if shown_rates else None,
    }


def render_html(inputs: ReportInputs) -> str:
    """The funder's report as HTML (the PDF's source; also handy for previews)."""
    return _environment().get_template("report.html.j2").render(**build_context(inputs))


def render_annex_html(inputs: ReportInputs) -> str:
    """The evaluator's technical annex as HTML: participation in detail and every
    indicator's method, from the same inputs (and the same disclosure control) as the report."""
    return _environment().get_template("annex.html.j2").render(**build_context(inputs))


class BundledFilesOnly:
    """A WeasyPrint URL fetcher that serves only files inside the templates folder."""

    def __init__(self, root: Path = TEMPLATES):
        from weasyprint.urls import URLFetcher

        self.root = root.resolve()
        self.refused: list[str] = []
        self._fetcher = URLFetcher(allowed_protocols={"file"}, allow_redirects=False)

    def __call__(self, url: str, *args, **kwargs):
        return self.fetch(url)

    def fetch(self, url: str, headers=None):
        from urllib.parse import unquote, urlsplit

        parts = urlsplit(url)
        path = Path(unquote(parts.path)).resolve() if parts.scheme == "file" else None
        if path is None or not path.is_relative_to(self.root) or not path.is_file():
            self.refused.append(url)
            raise ValueError(f"refused to fetch {url!r}: reports load only bundled template files")
        return self._fetcher.fetch(url, headers)


@contextlib.contextmanager
def older_objects_left_out_of_collections():
    """Leave the objects that exist before a render out of garbage collections until it ends.

    Laying out a report makes some 200,000 objects that live until the PDF is written, so
    Python runs full collections during a render, and each one scans every object the
    process holds: in a Dagster step (dagster, polars and the inputs loaded) two of them
    took 0.4-0.7 s of a 3 s render. Frozen objects (`gc.freeze`) are skipped by collections;
    they return to the oldest generation when the render ends, so nothing is kept for
    good. The render's own garbage is collected as usual. (Renders in parallel threads
    would only lose the speed-up, never memory: the first to end unfreezes.)
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@functools.cache
def _font_configuration():
    """One font configuration per process: loading the bundled fonts is a sixth of a render."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def render_document(html: str):
    """Lay out HTML from the templates folder (fetching nothing else) into a WeasyPrint document."""
    import weasyprint  # heavy import: only where a PDF is made

    fetcher = BundledFilesOnly()
    document = weasyprint.HTML(string=html, base_url=str(TEMPLATES) + "/", url_fetcher=fetcher).render(
        font_config=_font_configuration()
    )
    return document, fetcher


def write_document(document, target: Path, attachments: list[tuple[str, str, str]] = (), dated: datetime | None = None) -> dict:
    """Write a laid-out document to `target` as tagged PDF/UA, atomically (a temporary file
    moved into place); `attachments` are (file name, text, description), dated `dated`
    (the data's date, so the same inputs give the same bytes). Returns pages and bytes."""
    import weasyprint

    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(handle)
    try:
        document.write_pdf(
            temporary,
            pdf_variant="pdf/ua-1",
            pdf_tags=True,
            attachments=[
                weasyprint.Attachment(string=text, name=name, description=description, created=dated, modified=dated)
                for name, text, description in attachments
            ],
        )
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes 0600; a report is meant to be shared
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return {"pages": len(document.pages), "bytes": target.stat().st_size}


def html_to_pdf(html: str, target: Path, attachments: list[tuple[str, str, str]] = (), dated: datetime | None = None) -> dict:
    """Lay out `html` and write it to `target` (see `write_document`); returns pages, bytes
    and the URLs the document asked for and was refused."""
    with older_objects_left_out_of_collections():
        document, fetcher = render_document(html)
        return write_document(document, target, attachments, dated=dated) | {"refused_urls": fetcher.refused}


def _ledger_attachment(inputs: ReportInputs) -> tuple[str, str, str]:
    name = f"ledger_{inputs.community}_{inputs.quarter.label}.csv"
    return name, spreadsheet_safe(inputs.ledger).write_csv(), "The value-creation ledger behind this report (CSV)"


def write_pdf(inputs: ReportInputs, target: Path, html: str | None = None) -> dict:
    """Render the funder's report to `target` atomically; returns pages, bytes and refused
    URLs. `html` is `render_html(inputs)` when the caller already has it."""
    html = html if html is not None else render_html(inputs)
    return html_to_pdf(html, target, [_ledger_attachment(inputs)], dated=inputs.generated_at)


def write_annex_pdf(inputs: ReportInputs, target: Path, html: str | None = None) -> dict:
    """Render the technical annex to `target` atomically, like `write_pdf`; the ledger is
    attached to it too, since its definitions refer to the CSV's columns."""
    html = html if html is not None else render_annex_html(inputs)
    return html_to_pdf(html, target, [_ledger_attachment(inputs)], dated=inputs.generated_at)
