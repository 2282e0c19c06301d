"""Qualtrics response export (CSV or TSV) -> survey_responses.

Qualtrics offers the response data as CSV (UTF-8, comma-separated) and as TSV
(Data & Analysis > Export & Import > Export data > TSV: UTF-16 LE with a byte-order
mark, tab-separated, documented as carrying the same header rows as the CSV; see
Qualtrics' "Understanding Your Dataset": "CSV and TSV files come with 3 rows of
headers"). The encoding is recognised by its BOM (`read_text`), the separator from the
first line. Two header layouts are in use, in either file type:
- current (3 header rows): column ids (`Q1`, `QID5`, or the question's export tag),
  the question text in the export language, and an `{"ImportId": ...}` JSON row that
  alone carries the timezone of the date columns (`"timeZone"`);
- legacy (2 header rows): `V1..V10` then question ids, and a row of names
  (`ResponseID`, `EmailAddress`, `Status`, `EndDate`...), often with a BOM and a
  trailing empty column.
Status 1 (survey preview), 2 (survey test) and the spam statuses are not responses:
they are quarantined as excluded. Answers may be labels or numeric codes. The response
id (`R_...`) leads back to the respondent inside Qualtrics, so it is keyed as soon as it
is read: only its key reaches the quarantine.
"""

from __future__ import annotations

import io
import json
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

PLATFORM = "qualtrics"
KIND = "survey"
TIME_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%d.%m.%Y %H:%M"]
# Status codes (and their labels) that are not real responses.
NOT_RESPONSES = {"1", "2", "8", "9", "12", "survey preview", "survey test", "spam", "preview spam"}
EMAIL_COLUMNS = ("RecipientEmail", "EmailAddress", "Email", "email")
# Qualtrics' own columns (current and legacy): metadata and identities, never answers.
BUILT_IN = {
    "StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)", "Finished", "RecordedDate",
    "ResponseId", "ResponseID", "RecipientLastName", "RecipientFirstName", "RecipientEmail", "ExternalReference",
    "ExternalDataReference", "LocationLatitude", "LocationLongitude", "LocationAccuracy", "DistributionChannel",
    "UserLanguage", "ResponseSet", "Name", "EmailAddress", "Q_RecaptchaScore", "Q_RelevantIDDuplicate",
}


def looks_like(sniff: Sniff) -> bool:
    """A Qualtrics export: an ImportId third row, or the legacy V1.. / ResponseID header."""
    return _is_qualtrics(sniff.csv_rows)


def _is_qualtrics(rows: list[list[str]]) -> bool:
    if len(rows) >= 3 and rows[2] and rows[2][0].startswith('{"ImportId"'):
        return True
    return len(rows) >= 2 and rows[0][:1] == ["V1"] and "ResponseID" in rows[1]


def _separator(text: str) -> str:
    """Tab for a TSV export, else comma: whichever the first line (the column ids) holds more of."""
    first = text.split("\n", 1)[0]
    return "\t" if first.count("\t") > first.count(",") else ","


def _header_rows(path: Path, text: str, separator: str) -> tuple[list[str], list[str], list[dict], int]:
    """(column ids, question texts, import ids, number of header rows)."""
    try:
        frame = pl.read_csv(
            io.StringIO(text), has_header=False, infer_schema=False, n_rows=3, truncate_ragged_lines=True,
            separator=separator,
        )
    except pl.exceptions.PolarsError as error:
        raise InputError(path, f"not a readable CSV: {str(error).splitlines()[0]}") from error
    rows = [[value or "" for value in row] for row in frame.rows()]
    if not _is_qualtrics(rows):
        raise InputError(path, "not a Qualtrics export: expected an ImportId header row or the legacy V1/ResponseID header")
    if rows[0][:1] == ["V1"]:
        # Legacy: the second row names the built-in columns; items keep their ids.
        ids = [rows[1][i] if rows[0][i].startswith("V") and rows[0][i][1:].isdigit() else rows[0][i] for i in range(len(rows[0]))]
        return ids, rows[1], [{} for _ in ids], 2
    imports = []
    for cell in rows[2]:
        try:
            imports.append(json.loads(cell) if cell else {})
        except json.JSONDecodeError:
            imports.append({})
    return rows[0], rows[1], imports, 3


def read(paths: list[Path], context: ReadContext) -> SurveyRead:
    """Read Qualtrics CSV or TSV exports, one file per wave."""
    instrument, community, pseudonymizer = context.instrument, context.community, context.pseudonymizer
    timezone, link_by, link_column, waves = context.timezone, context.link_by, context.link_column, context.waves
    responses, quarantines, accounts, unmatched, extras = [], [], [], [], {}
    for path in paths:
        text = read_text(path)
        separator = _separator(text)
        ids, questions, imports, n_header = _header_rows(path, text, separator)
        try:
            body = pl.read_csv(
                io.StringIO(text), has_header=False, infer_schema=False, truncate_ragged_lines=True, separator=separator,
            )
        except pl.exceptions.PolarsError as error:
            kind = "TSV" if separator == "\t" else "CSV"
            raise InputError(path, f"not a readable {kind}: {str(error).splitlines()[0]}") from error
        # Header rows are sliced off after parsing: question texts may hold quoted newlines.
        body = body.slice(n_header)
        body = body.select(body.columns[: len(ids)])
        names = [f"c{i}" for i in range(body.width)]
        body.columns = names
        zones = {info.get("timeZone") for info in imports if isinstance(info, dict) and info.get("timeZone")}
        zone = zones.pop() if len(zones) == 1 else timezone

        matched: dict[str, str] = {}
        file_extras: dict[str, str] = {}
        for i, (column_id, question) in enumerate(zip(ids, questions, strict=False)):
            item_id = instrument.match_column(column_id, question)
            if item_id and item_id not in matched.values():
                matched[names[i]] = item_id
            elif column_id and column_id not in BUILT_IN and column_id != link_column and not item_id:
                unmatched.append(f"{path.name}: {column_id} {question[:60]}")
                matched[names[i]] = f"{UNMAPPED}{column_id}"
                file_extras[f"{UNMAPPED}{column_id}"] = question or column_id
        extras |= file_extras

        def column(*candidates: str, ids=ids, names=names) -> pl.Expr:
            """The first of the named built-in columns present in this file."""
            for candidate in candidates:
                if candidate in ids:
                    return pl.col(names[ids.index(candidate)])
            return pl.lit(None, pl.String)

        identifier = column(link_column) if link_column else column(*EMAIL_COLUMNS)
        status = column("Status").str.strip_chars().str.to_lowercase()
        channel = column("DistributionChannel").str.strip_chars().str.to_lowercase()
        wide = body.with_row_index("_index").select(
            _file=pl.lit(str(path)),
            _row=(pl.col("_index") + n_header).cast(pl.Int64),
            submitted_raw=pl.coalesce(column("RecordedDate"), column("EndDate")),
            identifier=identifier,
            response_id=column("ResponseId", "ResponseID"),
            is_preview=status.is_in(list(NOT_RESPONSES)).fill_null(False) | channel.is_in(["preview", "test"]).fill_null(False),
            **{item_id: pl.col(name) for name, item_id in matched.items()},
        )
        # The response id leads back to the respondent in Qualtrics: only its key goes on.
        wide = wide.with_columns(response_id=pseudonymizer.key_series("response_id", wide.get_column("response_id"), PLATFORM))
        wave = wave_for(path, waves or {})
        frame, quarantine, file_accounts = to_responses(
            wide, instrument=instrument, extra_items=unmapped_items(file_extras), community=community, wave=wave, platform=PLATFORM,
            link_by=link_by, time_formats=TIME_FORMATS, timezone=zone, pseudonymizer=pseudonymizer,
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
