"""Data quality: structural checks on canonical tables (cheap, polars) and quarantine."""
