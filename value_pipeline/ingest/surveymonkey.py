"""SurveyMonkey "All individual responses" export (CSV or XLSX) -> survey_responses.

Analyze results > Save as > Export file > All individual responses, as CSV or XLSX
(documented in SurveyMonkey's help centre, "Export all individual responses", which
cannot be reached from here: the layout below is written from that documentation as
known, and checked against the header rows of a real export quoted in public code). The
download is a zip: unpack it and put the CSV or XLSX file in surveys/. TWO header rows:
- row 1: the respondent metadata columns `Respondent ID`, `Collector ID`, `Start Date`,
  `End Date`, `IP Address`, `Email Address`, `First Name`, `Last Name`,
  `Custom Data 1` (and any custom variables), then each question's text, written ONLY
  above the question's first column: the further columns of a multi-column question
  (matrix rows, checkbox choices, "Other (please specify)", contact-information fields)
  have an empty row-1 cell;
- row 2: empty under the metadata columns; under the questions `Response` (a single
  answer), `Open-Ended Response` (a text box), or the column's own label: the matrix
  row (statement), the checkbox choice, `Other (please specify)`, `Email Address`...
A matrix question is matched statement by statement: a column with its own row-2 label
is matched to an instrument item by that label, else (one-column questions) by the
question text; `Response` columns are matched by the question text. Columns the
instrument does not know are kept as `unmapped:<question>` or
`unmapped:<question> - <label>` (a checkbox question gives one per choice, holding the
choice when ticked). Contact-information fields, questions asking for an email, phone
number or name, and unmapped columns whose answers are mostly email addresses are
identities: they are never read as answers (a note counts them).

Times are `MM/DD/YYYY hh:mm:ss AM` in the account's timezone with no zone given (the
community's timezone from community.yaml); `End Date` is the submission time, so a
response without one (abandoned, or a test run) is quarantined for its missing time.
Answers are labels ("Agree") in the "Actual answer text" export, or numbers in the
"Numerical value" export: those are the answer choices' positions (or the weights set in
SurveyMonkey) and are taken as the instrument's scale values, so choices must be listed
in the scale's order (Strongly disagree first) and yes/no questions need weights No=0,
Yes=1 or the text export. `Email Address` identifies the respondent (or the column named
by `link_column`, e.g. `Custom Data 1`). SurveyMonkey has no preview status: responses
from collectors listed in the survey option `test_collectors` (Collector IDs) are
excluded as test responses. Only English headings are recognised.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
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
from value_pipeline.instrument import normalize_text

PLATFORM = "surveymonkey"
KIND = "survey"
TIME_FORMATS = ["%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%Y-%m-%d %H:%M:%S"]
EMAIL_COLUMNS = ("Email Address", "Email")
FINGERPRINT = ("Respondent ID", "Collector ID")
GENERIC_LABELS = {"response", "open ended response"}  # normalized row-2 labels of one-answer columns
# Row-2 labels of SurveyMonkey's "Contact Information" question: identities, never answers.
CONTACT_LABELS = {
    "name", "first name", "last name", "company", "address", "address 2", "city town", "state province",
    "zip postal code", "country", "email address", "email", "phone number", "phone",
}
# A question asking for an identity: it ends with "email (address)", "phone (number)" or "(full/user) name".
_IDENTITY_TEXT = re.compile(r"(?i)\b(e-?mail( address)?|phone( number)?|(full |first |last |user)?name)\s*[?:.]?\s*$")
EMAIL_VALUE = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"
XLSX_TIME_FORMAT = "%m/%d/%Y %I:%M:%S %p"  # datetime cells are written back in the CSV's form
MAX_XLSX_BYTES = 256 * 2**20


def looks_like(sniff: Sniff) -> bool:
    """Two header rows starting `Respondent ID`, `Collector ID`, in a CSV or an XLSX workbook."""
    try:
        if "xl/workbook.xml" in sniff.zip_names:
            rows = _xlsx_rows(sniff.path, limit=2)
        else:
            rows = sniff.csv_rows
    except Exception:  # a broken workbook is some other reader's (or no reader's) problem
        return False
    return _is_surveymonkey(rows)


def _is_surveymonkey(rows: list[list]) -> bool:
    if len(rows) < 2:
        return False
    first = [str(cell or "").strip() for cell in rows[0]]
    return all(name in first for name in FINGERPRINT)


@dataclass
class _Question:
    text: str
    columns: list[tuple[int, str]] = field(default_factory=list)  # (column index, row-2 label)


def _cell(value) -> str | None:
    """An XLSX cell as the CSV export would have written it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.strftime(XLSX_TIME_FORMAT)
    if isinstance(value, date):
        return value.strftime("%m/%d/%Y")
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    return str(value)


def _xlsx_rows(path: Path, limit: int | None = None) -> list[list[str | None]]:
    """The first worksheet's rows as text (openpyxl, read-only: the workbook is streamed)."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True, max_row=limit):
            rows.append([_cell(value) for value in row])
        return rows
    finally:
        workbook.close()


def _load(path: Path) -> tuple[list[str], list[str], pl.DataFrame]:
    """(row-1 cells, row-2 cells, the response rows as string columns c0..cN)."""
    if zipfile.is_zipfile(path):
        if path.stat().st_size > MAX_XLSX_BYTES:
            raise InputError(path, f"the workbook is over the {MAX_XLSX_BYTES // 2**20} MB limit")
        try:
            rows = _xlsx_rows(path)
        except Exception as error:  # openpyxl raises many types for a damaged or foreign zip
            raise InputError(path, f"not a readable XLSX workbook: {type(error).__name__}: {error}") from error
        width = max((len(row) for row in rows), default=0)
        rows = [row + [None] * (width - len(row)) for row in rows]
        frame = pl.DataFrame(rows, schema={f"c{i}": pl.String for i in range(width)}, orient="row")
    else:
        text = read_text(path)
        try:
            frame = pl.read_csv(io.StringIO(text), has_header=False, infer_schema=False, truncate_ragged_lines=True)
        except pl.exceptions.PolarsError as error:
            raise InputError(path, f"not a readable CSV: {str(error).splitlines()[0]}") from error
        frame.columns = [f"c{i}" for i in range(frame.width)]
    if frame.height < 2:
        raise InputError(path, "not a SurveyMonkey export: expected two header rows")
    first, second = ([(value or "").strip() for value in row] for row in frame.head(2).rows())
    return first, second, frame.slice(2)


def _columns(path: Path, first: list[str], second: list[str]) -> tuple[dict[str, int], list[_Question], list[str]]:
    """Metadata columns {name: index}, the questions with their columns, and notes."""
    if not _is_surveymonkey([first, second]):
        raise InputError(path, "not a SurveyMonkey export: the first header row has no Respondent ID and Collector ID")
    meta: dict[str, int] = {}
    questions: list[_Question] = []
    notes = []
    for i, (text, label) in enumerate(zip(first, second, strict=True)):
        if not label:
            if text and questions:
                notes.append(f"{path.name}: column {text[:60]!r} has no second header row and is not read")
            if text:
                meta.setdefault(text, i)
            continue
        if text:
            questions.append(_Question(text))
        elif not questions:
            raise InputError(path, f"column {i + 1} is labelled {label[:40]!r} in the second header row but belongs to no question")
        questions[-1].columns.append((i, label))
    if "End Date" not in meta:
        raise InputError(path, "not a SurveyMonkey export: missing column End Date")
    if not questions:
        raise InputError(path, "no question columns: expected question texts in row 1 and Response or answer labels in row 2")
    return meta, questions, notes


def _is_identity(question: _Question, label: str) -> bool:
    """A Contact Information field, or a one-answer question asking for an email, phone or name."""
    labels = {normalize_text(text) for _, text in question.columns}
    if labels & {"email address", "email", "phone number"} and normalize_text(label) in CONTACT_LABELS:
        return True
    return normalize_text(label) in GENERIC_LABELS and bool(_IDENTITY_TEXT.search(question.text))


def _email_columns(body: pl.DataFrame, names: list[str]) -> list[str]:
    """Columns whose answers are mostly bare email addresses: identities, whatever the question says."""
    if not names or body.height == 0:
        return []
    shares = body.select(pl.col(name).str.strip_chars().str.contains(EMAIL_VALUE).mean() for name in names).row(0)
    return [name for name, share in zip(names, shares, strict=True) if share is not None and share >= 0.5]


def read(paths: list[Path], context: ReadContext) -> SurveyRead:
    """Read SurveyMonkey individual-response exports (CSV or XLSX), one file per wave."""
    instrument, community, pseudonymizer = context.instrument, context.community, context.pseudonymizer
    timezone, link_by, link_column, waves = context.timezone, context.link_by, context.link_column, context.waves
    test_collectors = [str(value) for value in (context.options or {}).get("test_collectors", [])]
    responses, quarantines, accounts, unmatched, extras, notes = [], [], [], [], {}, []
    for path in paths:
        first, second, body = _load(path)
        meta, questions, file_notes = _columns(path, first, second)
        notes += file_notes
        link_index = meta.get(link_column) if link_column else None
        if link_column and link_index is None:
            link_index = next((i for q in questions for i, label in q.columns if link_column in (q.text, label)), None)
            if link_index is None:
                notes.append(f"{path.name}: link column {link_column!r} not found: respondents are not linked")

        matched: dict[str, str] = {}  # body column -> item id (or unmapped:...)
        file_extras: dict[str, str] = {}
        dropped = []
        for question in questions:
            for i, label in question.columns:
                if i == link_index:
                    continue
                generic = normalize_text(label) in GENERIC_LABELS
                item_id = instrument.match_column(None, question.text if generic else label)
                if item_id is None and not generic and len(question.columns) == 1:
                    item_id = instrument.match_column(None, question.text)
                if item_id and item_id not in matched.values():
                    matched[f"c{i}"] = item_id
                    continue
                if _is_identity(question, label):
                    dropped.append(label if not generic else question.text)
                    continue
                name = question.text if generic else f"{question.text} - {label}"
                key = f"{UNMAPPED}{name}"
                suffix = 2
                while key in file_extras:
                    key, suffix = f"{UNMAPPED}{name} ({suffix})", suffix + 1
                matched[f"c{i}"] = key
                file_extras[key] = name
        for name in _email_columns(body, [n for n, item in matched.items() if item.startswith(UNMAPPED)]):
            dropped.append(file_extras.pop(matched.pop(name)))
        if dropped:
            notes.append(f"{path.name}: {len(dropped)} identity column(s) not read (names, emails, phone numbers)")
        unmatched += [f"{path.name}: {name[:70]}" for name in file_extras.values()]
        extras |= file_extras

        def column(name: str, meta=meta) -> pl.Expr:
            return pl.col(f"c{meta[name]}") if name in meta else pl.lit(None, pl.String)

        if link_column:
            identifier = pl.col(f"c{link_index}") if link_index is not None else pl.lit(None, pl.String)
        else:
            identifier = next((column(name) for name in EMAIL_COLUMNS if name in meta), pl.lit(None, pl.String))
        # Blank lines (a spreadsheet's trailing rows) are not responses.
        body = body.with_row_index("_index").filter(~pl.all_horizontal(pl.exclude("_index").is_null()))
        wide = body.select(
            _file=pl.lit(str(path)),
            _row=(pl.col("_index") + 2).cast(pl.Int64),  # rows 0 and 1 are the headers
            submitted_raw=column("End Date"),
            identifier=identifier,
            response_id=column("Respondent ID"),
            is_preview=column("Collector ID").str.strip_chars().is_in(test_collectors).fill_null(False),
            **{item_id: pl.col(name) for name, item_id in matched.items()},
        )
        frame, quarantine, file_accounts = to_responses(
            wide, instrument=instrument, extra_items=unmapped_items(file_extras), community=community,
            wave=wave_for(path, waves or {}), platform=PLATFORM, link_by=link_by, time_formats=TIME_FORMATS,
            timezone=timezone, pseudonymizer=pseudonymizer,
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
        notes=notes,
        extra_items=unmapped_items(extras),
    )
