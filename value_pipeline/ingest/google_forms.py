"""Google Forms responses (CSV, or the zip the Responses tab downloads) -> survey_responses.

One header row: `Timestamp`, then `Email Address` when the form collects emails, then
one column per question, headed by the question text (so items are matched by text).
Two exports are in use (menu paths as in Google Forms Help, "View & manage form
responses"; the direct download's details below were not checked against a public
sample, none being at hand):
- through the linked Sheet (File > Download > Comma-separated values): times
  `M/D/YYYY H:MM:SS` in the form owner's timezone with no zone given (the community's
  timezone from community.yaml); fields quoted only when needed; checkbox answers joined
  by ", ";
- the direct download (Responses tab > ⋮ > Download responses (.csv)): a zip holding one
  CSV named after the form; times `YYYY/MM/DD h:mm:ss AM GMT-5` (or `GMT+5:30`, or bare
  `GMT`), which carry their own offset; every field quoted; checkbox answers joined by ";".
  The zip is read directly, or the CSV once extracted.
A checkbox answer is kept whole as text, its choices joined by "; " whichever export it
came from. A file does not say which questions are checkboxes, so a column counts as one
when its answers look like it: in the direct download, choices joined by a bare ";" (and
no "; " anywhere in the column); in the Sheet export, answers whose ", "-separated parts
recur across respondents (four in five of them, each chosen by two or more people), which
leaves prose alone. A choice whose own text holds ", " cannot be told apart in the Sheet
export. Answers to open (story) items are never rewritten.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import polars as pl

from value_pipeline.errors import InputError
from value_pipeline.ingest.common import ReadContext, SurveyRead, read_text
from value_pipeline.ingest.detect import SNIFF_BYTES, Sniff
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
# The direct download's time: date, time, optional AM/PM, then GMT with an optional offset.
_DIRECT = r"^(\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d{2}:\d{2})(?: ?([AaPp]\.?[Mm]\.?))? GMT(?:([+-])(\d{1,2})(?::?(\d{2}))?)?$"
MAX_CSV_BYTES = 512 * 2**20  # the largest CSV read out of a zip
SHEET_SEPARATOR, DIRECT_SEPARATOR, CHOICE_SEPARATOR = ", ", ";", "; "
RECURRING_SHARE = 0.8  # of the parts of multi-part answers, in a Sheet export checkbox column


def looks_like(sniff: Sniff) -> bool:
    """A CSV whose first column is Google Forms' `Timestamp`, or a zip holding just one."""
    if sniff.zip_names:
        return _zip_looks_like(sniff.path, sniff.zip_names)
    return _is_forms_header(sniff.header)


def _is_forms_header(header: list[str]) -> bool:
    return bool(header) and header[0].strip() == "Timestamp"


def _zip_member(names: list[str]) -> str | None:
    """The one CSV in a Forms download zip (folders and macOS metadata aside), else None."""
    entries = [name for name in names if not name.endswith("/") and not name.startswith("__MACOSX/")]
    if len(entries) == 1 and entries[0].lower().endswith(".csv"):
        return entries[0]
    return None


def _zip_looks_like(path: Path, names: list[str]) -> bool:
    member = _zip_member(names)
    if member is None:
        return False
    try:
        with zipfile.ZipFile(path) as archive, archive.open(member) as handle:
            head = handle.read(SNIFF_BYTES)
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, NotImplementedError, EOFError, ValueError, zlib.error):
        return False
    text = head.decode("utf-16", errors="ignore") if head.startswith((b"\xff\xfe", b"\xfe\xff")) else head.decode("utf-8-sig", errors="replace")
    first = next(csv.reader(io.StringIO(text.split("\n", 1)[0])), [])
    return _is_forms_header([cell.strip() for cell in first])


def _read_export(path: Path) -> tuple[str, str]:
    """(the CSV text, the name of the CSV) of an extracted CSV or a Forms download zip."""
    if not zipfile.is_zipfile(path):
        return read_text(path), path.name
    try:
        with zipfile.ZipFile(path) as archive:
            member = _zip_member(archive.namelist())
            if member is None:
                raise InputError(path, "not a Google Forms download: the zip must hold exactly one CSV")
            size = archive.getinfo(member).file_size
            if size > MAX_CSV_BYTES:
                raise InputError(path, f"{member} is {size // 2**20} MB, over the {MAX_CSV_BYTES // 2**20} MB limit")
            data = archive.read(member)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError, zlib.error) as error:
        raise InputError(path, f"cannot read the zip: {error}") from error
    # Decode exactly as an extracted CSV would be (encodings, BOM, repairs), errors naming the zip.
    with tempfile.TemporaryDirectory() as folder:
        extracted = Path(folder) / "responses.csv"
        extracted.write_bytes(data)
        try:
            return read_text(extracted), PurePosixPath(member).name
        except InputError as error:
            raise InputError(path, f"{member}: {error.problem}") from None


def _submitted_utc(column: str, timezone: str) -> pl.Expr:
    """The direct download's times with their own GMT offset, as UTC text the shared parser reads."""
    text = pl.col(column).str.strip_chars()
    clock = text.str.extract(_DIRECT, 1)
    meridiem = text.str.extract(_DIRECT, 2).str.replace_all(".", "", literal=True).str.to_uppercase()
    local = pl.when(meridiem.is_not_null()).then(
        (clock + " " + meridiem).str.to_datetime("%Y/%m/%d %I:%M:%S %p", strict=False)
    ).otherwise(clock.str.to_datetime("%Y/%m/%d %H:%M:%S", strict=False))
    sign = pl.when(text.str.extract(_DIRECT, 3) == "-").then(-1).otherwise(1)
    hours = text.str.extract(_DIRECT, 4).cast(pl.Int64, strict=False).fill_null(0)
    minutes = text.str.extract(_DIRECT, 5).cast(pl.Int64, strict=False).fill_null(0)
    offset = pl.duration(hours=hours, minutes=minutes) * sign
    return (local - offset).dt.strftime("%s")


def _is_direct(frame: pl.DataFrame) -> bool:
    """The direct download: its times carry a GMT offset."""
    return bool(frame.select(pl.col("Timestamp").str.strip_chars().str.contains(_DIRECT).any()).item())


def _checkbox_columns(frame: pl.DataFrame, columns: list[str], direct: bool) -> list[str]:
    """The columns whose answers look like checkbox answers (see the module docstring)."""
    found = []
    for column in columns:
        answers = frame.get_column(column).drop_nulls().str.strip_chars()
        answers = answers.filter(answers != "")
        if answers.is_empty():
            continue
        if direct:
            if answers.str.contains(";", literal=True).any() and not answers.str.contains(r";\s").any():
                found.append(column)
            continue
        parts = (
            pl.DataFrame({"answer": answers}).with_row_index("respondent")
            .with_columns(part=pl.col("answer").str.split(SHEET_SEPARATOR))
            .with_columns(n_parts=pl.col("part").list.len())
            .explode("part")
            .with_columns(chosen_by=pl.col("respondent").n_unique().over("part"))
            .filter(pl.col("n_parts") > 1)
        )
        if parts.height and (parts.get_column("chosen_by") >= 2).mean() >= RECURRING_SHARE:
            found.append(column)
    return found


def _join_choices(column: str, direct: bool) -> pl.Expr:
    """A checkbox answer with its choices joined by "; "."""
    separator = DIRECT_SEPARATOR if direct else SHEET_SEPARATOR
    return pl.col(column).str.split(separator).list.eval(pl.element().str.strip_chars()).list.join(CHOICE_SEPARATOR)


def read(paths: list[Path], context: ReadContext) -> SurveyRead:
    """Read Google Forms responses (CSVs, or the Responses tab's zips), one file per wave."""
    instrument, community, pseudonymizer = context.instrument, context.community, context.pseudonymizer
    timezone, link_by, link_column, waves = context.timezone, context.link_by, context.link_column, context.waves
    responses, quarantines, accounts, unmatched, extras = [], [], [], [], {}
    for path in paths:
        text, csv_name = _read_export(path)
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
        direct = _is_direct(body)
        open_items = {item.id for item in instrument.items if item.kind == "open"}
        checkboxes = _checkbox_columns(body, [c for c, item_id in matched.items() if item_id not in open_items], direct)
        body = body.with_columns(_join_choices(column, direct) for column in checkboxes)
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
            # a zip's wave: community.yaml's entry for the zip, else the CSV inside
            wave=wave_for(path if path.name in (waves or {}) else Path(csv_name), waves or {}),
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
