"""Generic survey export: any CSV or Parquet with one row per respondent.

Columns are matched to instrument items by item id (e.g. `imm_useful`) or by question
text, like every survey reader; the other columns are kept as unmapped questions. The
submission time, respondent identifier and response id are found by common names, or
mapped in community.yaml:

```yaml
survey:
  platform: generic_survey
  options:
    columns: {submitted_at: "Completed on", respondent: "Work email", response_id: "Ref"}
    time_format: "%d.%m.%Y %H:%M"
```
A file is recognised without `platform:` when at least two of its columns are items of
the default instrument.
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl

from value_pipeline.errors import InputError
from value_pipeline.ingest.common import ReadContext, SurveyRead, read_text
from value_pipeline.ingest.detect import Sniff
from value_pipeline.ingest.survey_common import (
    UNMAPPED,
    to_responses,
    unmapped_items,
    wave_for,
)
from value_pipeline.instrument import load_instrument

PLATFORM = "generic_survey"
KIND = "survey"
TIME_COLUMNS = ("submitted_at", "Submitted at", "timestamp", "Timestamp", "date", "Date", "completed", "Completed")
RESPONDENT_COLUMNS = ("email", "Email", "E-mail", "respondent", "Respondent", "username", "Username")
ID_COLUMNS = ("response_id", "Response ID", "id", "ID")
TIME_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M:%S"]


def looks_like(sniff: Sniff) -> bool:
    """A table with at least two columns that are items of the default instrument."""
    columns = sniff.columns
    if len(columns) < 3:
        return False
    instrument = load_instrument()
    return sum(instrument.match_column(column, column) is not None for column in columns) >= 2


def _load(path: Path) -> pl.DataFrame:
    sniff = Sniff(path)
    try:
        if sniff.is_parquet:
            return pl.read_parquet(path).cast(pl.String)
        first = sniff.head_text.split("\n", 1)[0]
        separator = max((",", ";", "\t"), key=first.count)
        return pl.read_csv(io.StringIO(read_text(path)), infer_schema=False, separator=separator)
    except pl.exceptions.PolarsError as error:
        raise InputError(path, f"not a readable table: {str(error).splitlines()[0]}") from error


def _pick(columns: list[str], mapped: str | None, candidates: tuple[str, ...]) -> str | None:
    if mapped:
        return mapped if mapped in columns else None
    return next((c for c in candidates if c in columns), None)


def read(paths: list[Path], context: ReadContext) -> SurveyRead:
    """Read generic survey tables, one file per wave."""
    options = context.options or {}
    mapping = options.get("columns") or {}
    instrument = context.instrument
    responses, quarantines, accounts, unmatched, extras = [], [], [], [], {}
    for path in paths:
        body = _load(path)
        time_column = _pick(body.columns, mapping.get("submitted_at"), TIME_COLUMNS)
        if time_column is None:
            raise InputError(path, "no submission time column (map it under survey.options.columns.submitted_at)")
        respondent = _pick(body.columns, mapping.get("respondent") or context.link_column, RESPONDENT_COLUMNS)
        response_id = _pick(body.columns, mapping.get("response_id"), ID_COLUMNS)
        special = {time_column, respondent, response_id}
        matched, file_extras = {}, {}
        for column in body.columns:
            if column in special:
                continue
            item_id = instrument.match_column(column, column)
            if item_id and item_id not in matched.values():
                matched[column] = item_id
            else:
                unmatched.append(f"{path.name}: {column[:70]}")
                matched[column] = f"{UNMAPPED}{column}"
                file_extras[f"{UNMAPPED}{column}"] = column
        extras |= file_extras
        wide = body.with_row_index("_index").select(
            _file=pl.lit(str(path)),
            _row=(pl.col("_index") + 1).cast(pl.Int64),
            submitted_raw=pl.col(time_column),
            identifier=pl.col(respondent) if respondent else pl.lit(None, pl.String),
            response_id=pl.col(response_id) if response_id else pl.lit(None, pl.String),
            is_preview=pl.lit(False),
            **{item_id: pl.col(column) for column, item_id in matched.items()},
        )
        formats = [options["time_format"]] if options.get("time_format") else TIME_FORMATS
        frame, quarantine, file_accounts = to_responses(
            wide, instrument=instrument, extra_items=unmapped_items(file_extras), community=context.community,
            wave=wave_for(path, context.waves), platform=PLATFORM, link_by=context.link_by,
            time_formats=formats, timezone=context.timezone, pseudonymizer=context.pseudonymizer,
        )
        responses.append(frame)
        quarantines.append(quarantine)
        accounts += file_accounts
    return SurveyRead(
        platform=PLATFORM,
        responses=pl.concat(responses),
        quarantine=pl.concat(quarantines),
        accounts=accounts,
        unmatched_columns=unmatched,
        files=[str(path) for path in paths],
        extra_items=unmapped_items(extras),
    )
