"""Where exports are read from and results written to.

Defaults put everything beside the code (sample_exports/ in, output/ out) so a fresh
clone works; production sets VALUE_PIPELINE_EXPORTS / VALUE_PIPELINE_OUTPUT.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def default_exports_dir() -> str:
    return os.environ.get("VALUE_PIPELINE_EXPORTS", str(PROJECT_ROOT / "sample_exports"))


def default_output_dir() -> str:
    return os.environ.get("VALUE_PIPELINE_OUTPUT", str(PROJECT_ROOT / "output"))


class PipelineSettings(dg.ConfigurableResource):
    """Folders the pipeline reads and writes."""

    exports_dir: str
    output_dir: str

    def community_folder(self, community: str) -> Path:
        return Path(self.exports_dir) / community

    def report_path(self, community: str, quarter_label: str) -> Path:
        return Path(self.output_dir) / "reports" / community / f"{community}_{quarter_label}.pdf"

    def annex_path(self, community: str, quarter_label: str) -> Path:
        """The report's technical annex, beside it."""
        return Path(self.output_dir) / "reports" / community / f"{community}_{quarter_label}_annex.pdf"

    def member_summary_path(self, community: str, quarter_label: str) -> Path:
        return Path(self.output_dir) / "reports" / community / f"{community}_{quarter_label}_members.pdf"

    def portfolio_path(self, funder_slug: str, quarter_label: str) -> Path:
        return Path(self.output_dir) / "reports" / "portfolios" / f"{funder_slug}_{quarter_label}.pdf"

    def data_docs_dir(self, community: str) -> Path:
        return Path(self.output_dir) / "data_docs" / community

    def community_folders(self) -> list[Path]:
        """Every folder under the exports dir that has a community.yaml."""
        root = Path(self.exports_dir)
        if not root.is_dir():
            return []
        return sorted(p for p in root.iterdir() if p.is_dir() and (p / "community.yaml").is_file())
