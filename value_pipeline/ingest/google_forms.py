"""Google Forms responses (CSV) -> survey_responses.

One header row: `Timestamp`, then `Email Address` when the form collects emails, then
one column per question, headed by the question text (so items are matched by text).
Two exports are in use:
- through the linked Sheet (File > Download > CSV): `M/D/YYYY H:MM:SS` in the form
  owner's timezone with no zone given (the community's timezone from community.yaml);
- the direct download from the Responses tab: `YYYY/MM/DD h:mm:ss AM GMT-5`, which
  carries its own offset.
Checkbox answers are joined by ", " and kept as text.
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

PLATFORM = "google_forms"
KIND = "survey"
TIME_FORMATS = ["%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S"]
EMAIL_COLUMNS = ("Email Address", "Email address", "Username")
_DIRECT = r"^(\d{4}/\d{2}/\d{2} \d{1,2}:\d{2}:\d{2} [AP]M) GMT([+-]\d{1,2})(?::?(\d{2}))?$"


def looks_like(sniff: Sniff) -> bool:
    """A CSV whose first column is Google Forms' `Timestamp`."""
    return _is_forms_header(sniff.header)


def _is_forms_header(header: list[str]) -> bool:
    return bool(header) and header[0].strip() == "Timestamp"


def _submitted_utc(column: str, timezone: str) -> pl.Expr:
    """The direct download's times with their own GMT offset, as UTC text the shared parser reads."""
    text = pl.col(column).str.strip_chars()
    local = text.str.extract(_DIRECT, 1).str.to_datetime("%Y/%m/%d %I:%M:%S %p", strict=False)
    hours = text.str.extract(_DIRECT, 2).cast(pl.Int64, strict=False)
    minutes = text.str.extract(_DIRECT, 3).cast(pl.Int64, strict=False).fill_null(0)
    offset = pl.duration(hours=hours.abs(), minutes=minutes) * hours.sign()
    return (local - offset).dt.strftime("%s")


def read(paths: list[Path], context: ReadContext) -> SurveyRead:
    """Read Google Forms response CSVs, one file per wave."""
    instrument, community, pseudonymizer = context.instrument, context.community, context.pseudonymizer
    timezone, link_by, link_column, waves = context.timezone, context.link_by, context.link_column, context.waves
    responses, quarantines, accounts, unmatched, extras = [], [], [], [], {}
    for path in paths:
        text = read_text(path)
        try:
            body = pl.read_csv(io.StringIO(text), infer_schema=False, truncate_ragged_lines=True)
        except pl.exceptions.PolarsError as error:
            raise InputError(path, f"not a readable CSV: {str(error).splitlines()[0]}") from error
        if not _is_forms_header(body.columns):
            raise InputError(path, "not a Google Forms export: the first column must be Timestamp")
        matched, file_extras = {}, {}
        for column in body.columns[1:]:
            item_id = instrument.match_column(None, column)
            if item_id and item_id not in matched.values():
                matched[column] = item_id
            elif column not in (*EMAIL_COLUMNS, link_column):
                unmatched.append(f"{path.name}: {column[:70]}")
                matched[column] = f"{UNMAPPED}{column}"
                file_extras[f"{UNMAPPED}{column}"] = column
        extras |= file_extras
        id_column = link_column or next((c for c in EMAIL_COLUMNS if c in body.columns), None)
        wide = body.with_row_index("_index").select(
            _file=pl.lit(str(path)),
            _row=(pl.col("_index") + 1).cast(pl.Int64),  # row 0 is the header
            submitted_raw=pl.coalesce(_submitted_utc("Timestamp", timezone), pl.col("Timestamp")),
            identifier=pl.col(id_column) if id_column in body.columns else pl.lit(None, pl.String),
            response_id=pl.lit(None, pl.String),
            is_preview=pl.lit(False),
            **{item_id: pl.col(column) for column, item_id in matched.items()},
        )
        frame, quarantine, file_accounts = to_responses(
            wide, instrument=instrument, extra_items=unmapped_items(file_extras), community=community,
            wave=wave_for(path, waves or {}),
            platform=PLATFORM, link_by=link_by, time_formats=TIME_FORMATS, timezone=timezone,
            pseudonymizer=pseudonymizer,
        )
        responses.append(frame)
        quarantines.append(quarantine)
        accounts += file_accounts
    return SurveyRead(
        platform=PLATFORM,
        responses=pl.concat(responses) if responses else None,
        quarantine=pl.concat(quarantines) if quarantines else None,
        accounts=accounts,
        unmatched_columns=unmatched,
        files=[str(path) for path in paths],
        extra_items=unmapped_items(extras),
    )
