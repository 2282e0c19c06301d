"""REDCap records export (raw CSV) with the project's data dictionary -> survey_responses.

The layout followed is REDCap's own (Data Exports > "CSV / Microsoft Excel (raw data)",
and the API's `content=record&rawOrLabel=raw&exportSurveyFields=true`; the dictionary
from Project Setup > Data Dictionary > "Download the current Data Dictionary", or the
API's `content=metadata`). The dictionary's column names and the API's survey fields
(`redcap_survey_identifier`, `<form>_timestamp`) were checked against public copies of
REDCap's documentation; the rest follows REDCap's documented behaviour. No public sample
export was at hand: the test fixtures are built from this description.

The records export has one header row of variable names and one row per record (per
record and event in longitudinal projects, per instance of a repeating instrument):
- the record id field first (the dictionary's first field, usually `record_id`);
- REDCap's own columns: `redcap_event_name` (longitudinal: the event's unique name, e.g.
  `baseline_arm_1`), `redcap_repeat_instrument`/`redcap_repeat_instance`,
  `redcap_data_access_group`, `redcap_survey_identifier` (from the participant list);
- per survey instrument `<form>_timestamp`: the completion time (`YYYY-MM-DD HH:MM:SS`,
  server time), or the literal `[not completed]` for a partial response;
- the fields, as raw codes: radio/dropdown choice codes, yes/no and true/false as 1/0,
  and a checkbox field as one `<field>___<code>` column per choice holding 0/1;
- per instrument `<form>_complete`: 0 incomplete, 1 unverified, 2 complete.
The delimiter may be a comma (default), tab, semicolon, pipe or caret.

The data dictionary (one row per field; columns "Variable / Field Name", "Form Name",
"Field Type", "Field Label", "Choices, Calculations, OR Slider Labels", "Text Validation
Type OR Show Slider Number", "Identifier?", ...; choices written `1, Agree | 2, ...`) is
needed to read the codes. It is found, in this order: `data_dictionary` in the survey
options (a path relative to the surveys folder or the community folder); a dictionary
among the files given (it sits in surveys/ and is recognised by its header, never read as
responses); a dictionary beside the records export.

Reading:
- Only the fields of survey instruments (those with a `<form>_timestamp` column) are
  answers; data-entry forms, `descriptive`, `calc`, `file` and `signature` fields, fields
  flagged as identifiers ("Identifier?" = y) and email fields are never read as answers.
- Fields match instrument items by field name = item id, else by the field label's text.
  Codes become their choice labels (yes/no: 1 Yes, 0 No), which the instrument's scale
  turns into numbers (code 4 "Agree" -> 4 on agree5). A code the dictionary does not list
  becomes the text "unknown code <n>": quarantined as unrecognised for a scale item, kept
  as text for an unmapped one. A checkbox field becomes one answer, the checked labels
  joined by "; " (none checked: no answer).
- The respondent is the record's email (a text field validated as email, or an email
  given as the survey identifier), keyed as an email so it links to forum members; else
  the record id, keyed with platform redcap. Neither ever leaves the reader.
- Longitudinal exports: each event is a wave (`events` in the survey options maps event
  names, with or without the `_arm_N` suffix, to waves; otherwise the event name without
  that suffix). Other exports: the file's wave (community.yaml `waves`, or its name).
- Rows with `[not completed]` are partial responses, quarantined as
  "excluded: survey not completed" unless `keep_incomplete: true`, which keeps them with
  the wave's latest completion time as their time (REDCap exports no time for a partial
  response). Rows with no answer to any survey field (another event's or instrument's
  row) are quarantined as "excluded: no survey answers in this row".
Not handled: the "labels" export (question text as headers, answers as labels; refused
with a one-line error), SPSS/SAS/Stata/R exports, and the EAV API format.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from value_pipeline.errors import InputError
from value_pipeline.ingest.common import (
    Account,
    ReadContext,
    SurveyRead,
    quarantine_frame,
    read_text,
    require_columns,
)
from value_pipeline.ingest.detect import Sniff
from value_pipeline.ingest.survey_common import (
    UNMAPPED,
    to_responses,
    unmapped_items,
    wave_for,
)
from value_pipeline.text import html_to_text

PLATFORM = "redcap"
KIND = "survey"
TIME_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
NOT_COMPLETED = "[not completed]"
DELIMITERS = [",", "\t", ";", "|", "^"]  # the delimiters REDCap offers for CSV exports
VARIABLE = re.compile(r"^[a-z][a-z0-9_]*$")  # REDCap variable names
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
NOT_ANSWERS = {"descriptive", "calc", "file", "signature"}
CHOICE_TYPES = {"radio", "dropdown", "checkbox"}

# The dictionary's columns, as downloaded (Data Dictionary page) and as the API names them.
DICTIONARY_COLUMNS = {
    "name": ("Variable / Field Name", "field_name"),
    "form": ("Form Name", "form_name"),
    "type": ("Field Type", "field_type"),
    "label": ("Field Label", "field_label"),
    "choices": ("Choices, Calculations, OR Slider Labels", "select_choices_or_calculations"),
    "validation": ("Text Validation Type OR Show Slider Number", "text_validation_type_or_show_slider_number"),
    "identifier": ("Identifier?", "identifier"),
}
REQUIRED = ("name", "form", "type", "label")


@dataclass
class Field:
    """One row of the data dictionary."""

    name: str
    form: str
    type: str
    label: str
    choices: dict[str, str] = field(default_factory=dict)  # code -> label
    validation: str = ""
    identifier: bool = False

    @property
    def is_email(self) -> bool:
        return self.type == "text" and self.validation.lower() == "email"


# ---- detection


def looks_like(sniff: Sniff) -> bool:
    """A REDCap records export (variable-name header with REDCap's own columns) or data dictionary."""
    header = sniff.header
    if len(header) == 1:  # the pipe and caret delimiters REDCap offers are not sniffed
        header = re.split(r"[|^]", header[0])
    return _is_dictionary(header) or _is_records(header) or _is_labels_export(header)


def _is_dictionary(header: list[str]) -> bool:
    present = set(header)
    return any(all(DICTIONARY_COLUMNS[key][variant] in present for key in REQUIRED) for variant in (0, 1))


def _is_records(header: list[str]) -> bool:
    cells = [cell for cell in header if cell]
    if len(cells) < 2 or not all(VARIABLE.match(cell) for cell in cells):
        return False
    return any(cell.startswith("redcap_") or cell.endswith("_complete") for cell in cells[1:])


def _is_labels_export(header: list[str]) -> bool:
    """REDCap's export with labels: "Complete?" columns and REDCap's own column labels."""
    return "Complete?" in header and bool({"Survey Timestamp", "Survey Identifier", "Event Name", "Record ID"} & set(header))


# ---- the data dictionary


def _dictionary_path(data_paths: list[Path], dictionaries: list[Path], options: dict) -> Path:
    named = options.get("data_dictionary")
    if named:
        if not isinstance(named, str):
            raise InputError(None, "survey options: data_dictionary must be a path to the REDCap data dictionary CSV")
        folder = data_paths[0].parent
        candidates = [folder / named, folder.parent / named, Path(named)]
        found = next((path for path in candidates if path.is_file()), None)
        if found is None:
            raise InputError(folder / named, "the data dictionary named in the survey options does not exist")
        if not _is_dictionary(Sniff(found).header):
            raise InputError(found, "not a REDCap data dictionary: expected the columns Variable / Field Name, Form Name, Field Type, Field Label")
        return found
    if len(dictionaries) > 1:
        raise InputError(dictionaries[1], "a second REDCap data dictionary: keep one, or name the one to use as data_dictionary in the survey options")
    if dictionaries:
        return dictionaries[0]
    beside = sorted(
        {
            path
            for folder in {path.parent for path in data_paths}
            for path in folder.iterdir()
            if path.is_file() and path not in data_paths and path.suffix.lower() in {".csv", ".tsv", ".txt"}
            and _is_dictionary(Sniff(path).header)
        }
    )
    if len(beside) == 1:
        return beside[0]
    if len(beside) > 1:
        raise InputError(beside[1], "a second REDCap data dictionary beside the export: name the one to use as data_dictionary in the survey options")
    raise InputError(
        data_paths[0],
        "a REDCap raw export needs the project's data dictionary (Project Setup > Data Dictionary > Download): "
        "put its CSV beside the export or name it as data_dictionary in the survey options",
    )


def _parse_choices(text: str | None) -> dict[str, str]:
    """`1, Strongly disagree | 2, Disagree` -> {"1": "Strongly disagree", "2": "Disagree"}."""
    choices = {}
    for part in (text or "").split("|"):
        code, comma, label = part.partition(",")
        if comma and code.strip():
            choices[code.strip()] = html_to_text(label.strip())
    return choices


def _load_dictionary(path: Path) -> list[Field]:
    text = read_text(path)
    try:
        frame = pl.read_csv(io.StringIO(text), infer_schema=False, separator=_separator(text))
    except pl.exceptions.PolarsError as error:
        raise InputError(path, f"not a readable data dictionary CSV: {str(error).splitlines()[0]}") from error
    variant = 0 if DICTIONARY_COLUMNS["name"][0] in frame.columns else 1
    names = {key: columns[variant] for key, columns in DICTIONARY_COLUMNS.items()}
    require_columns(path, frame.columns, [names[key] for key in REQUIRED], "REDCap data dictionary")
    frame = frame.select(
        **{key: (pl.col(column) if column in frame.columns else pl.lit(None, pl.String)).str.strip_chars() for key, column in names.items()}
    ).filter(pl.col("name").is_not_null() & (pl.col("name") != ""))
    fields, seen = [], set()
    for row in frame.iter_rows(named=True):
        name = row["name"].lower()
        if name in seen:
            raise InputError(path, f"the field {name} is defined twice")
        seen.add(name)
        kind = (row["type"] or "").lower()
        fields.append(
            Field(
                name=name,
                form=(row["form"] or "").lower(),
                type=kind,
                label=html_to_text(row["label"] or "") or name,
                choices=_parse_choices(row["choices"]) if kind in CHOICE_TYPES else {},
                validation=row["validation"] or "",
                identifier=(row["identifier"] or "").lower() in {"y", "yes", "1"},
            )
        )
    if not fields:
        raise InputError(path, "the data dictionary lists no fields")
    return fields


# ---- reading


def _separator(text: str) -> str:
    """The delimiter of a REDCap CSV: the one the header line holds most of."""
    first = text.split("\n", 1)[0]
    counts = {delimiter: first.count(delimiter) for delimiter in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _checkbox_column(name: str, code: str) -> str:
    """REDCap's column for one checkbox choice: `field___code`, the code lowercased, '-' and '.' as '_'."""
    return f"{name}___{re.sub(r'[^a-z0-9_]', '_', code.lower())}"


def _answer(spec: Field, columns: set[str], yes_no_item: bool) -> pl.Expr | None:
    """The answer to one field as text (choice labels for codes), or None when not exported."""
    if spec.type == "checkbox":
        parts = [(label, _checkbox_column(spec.name, code)) for code, label in spec.choices.items()]
        parts = [(label, column) for label, column in parts if column in columns]
        if not parts:
            return None
        joined = pl.concat_str(
            [pl.when(pl.col(column).str.strip_chars() == "1").then(pl.lit(label)) for label, column in parts],
            separator="; ", ignore_nulls=True,
        )
        return pl.when(joined != "").then(joined)
    if spec.name not in columns:
        return None
    value = pl.col(spec.name).str.strip_chars()
    if spec.type in {"radio", "dropdown"}:
        mapping = spec.choices
    elif spec.type == "yesno" or (spec.type == "truefalse" and yes_no_item):
        mapping = {"1": "Yes", "0": "No"}
    elif spec.type == "truefalse":
        mapping = {"1": "True", "0": "False"}
    else:
        return pl.when(value != "").then(value)
    labelled = value.replace_strict(mapping, default=None, return_dtype=pl.String)
    return pl.when(value != "").then(pl.coalesce(labelled, pl.lit("unknown code ") + value))


def _options(context: ReadContext) -> tuple[dict, dict[str, str], bool, str]:
    options = context.options or {}
    events = options.get("events") or {}
    if not isinstance(events, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in events.items()):
        raise InputError(None, "survey options: events must map REDCap event names to waves (baseline_arm_1: baseline)")
    keep = options.get("keep_incomplete", False)
    if not isinstance(keep, bool):
        raise InputError(None, "survey options: keep_incomplete must be true or false")
    timezone = options.get("timezone") or context.timezone
    try:
        ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InputError(None, f"survey options: unknown timezone {timezone!r}") from error
    return options, events, keep, str(timezone)


def read(paths: list[Path], context: ReadContext) -> SurveyRead:
    """Read REDCap raw records exports (and find their data dictionary)."""
    options, events, keep_incomplete, timezone = _options(context)
    headers = {path: Sniff(path).header for path in paths}
    for path in paths:
        if _is_labels_export(headers[path]):
            raise InputError(path, "a REDCap export with labels: export the raw data (CSV / Microsoft Excel (raw data)) with its data dictionary instead")
    dictionaries = [path for path in paths if _is_dictionary(headers[path])]
    data_paths = [path for path in paths if path not in dictionaries]
    if not data_paths:
        raise InputError(paths[0] if paths else None, "a REDCap data dictionary, but no records export beside it to read")
    dictionary_path = _dictionary_path(data_paths, dictionaries, options)
    fields = _load_dictionary(dictionary_path)
    notes = [f"REDCap data dictionary: {dictionary_path.name}"]
    responses, quarantines, accounts, unmatched, extras = [], [], [], [], {}
    for path in data_paths:
        file_read = _read_file(path, fields, dictionary_path, context, events, keep_incomplete, timezone)
        responses += file_read["responses"]
        quarantines += file_read["quarantine"]
        accounts += file_read["accounts"]
        unmatched += file_read["unmatched"]
        extras |= file_read["extras"]
        notes += file_read["notes"]
    return SurveyRead(
        platform=PLATFORM,
        responses=pl.concat(responses),
        quarantine=pl.concat(quarantines),
        accounts=accounts,
        unmatched_columns=unmatched,
        files=[str(path) for path in paths],
        notes=notes,
        extra_items=unmapped_items(extras),
    )


def _read_file(path, fields, dictionary_path, context, events, keep_incomplete, timezone) -> dict:
    instrument = context.instrument
    text = read_text(path)
    try:
        body = pl.read_csv(io.StringIO(text), infer_schema=False, separator=_separator(text))
    except pl.exceptions.PolarsError as error:
        raise InputError(path, f"not a readable CSV: {str(error).splitlines()[0]}") from error
    columns = set(body.columns)
    record = fields[0].name  # REDCap's first field is always the record id
    if record not in columns:
        raise InputError(path, f"does not match the data dictionary {dictionary_path.name}: no {record} column (the record id field)")
    forms = {f.form for f in fields}
    stamps = {form: f"{form}_timestamp" for form in forms if f"{form}_timestamp" in columns}
    if not stamps:
        raise InputError(path, "no survey timestamp columns (<instrument>_timestamp): export again with the survey identifier and timestamp fields included")

    # Which columns the dictionary explains; anything else is reported, never read.
    known = {record} | {c for c in columns if c.startswith("redcap_")} | set(stamps.values())
    known |= {f"{form}_complete" for form in forms}
    for f in fields:
        known |= {f.name} | {_checkbox_column(f.name, code) for code in f.choices if f.type == "checkbox"}
    if not any(f.name in columns or any(c.startswith(f"{f.name}___") for c in columns) for f in fields[1:]):
        raise InputError(path, f"the data dictionary {dictionary_path.name} does not describe this export: none of its fields are columns here")
    notes = []
    unknown = sorted(columns - known)
    if unknown:
        notes.append(f"{path.name}: columns not in the data dictionary were not read: {', '.join(unknown[:10])}")
    skipped_forms = sorted({f.form for f in fields[1:] if f.form not in stamps and f.type not in NOT_ANSWERS})
    if skipped_forms:
        notes.append(f"{path.name}: data-entry instruments (no survey timestamp) were not read: {', '.join(skipped_forms)}")

    # Answers: survey instruments' fields, matched to instrument items or kept unmapped.
    link_column = context.link_column if context.link_column in columns else None
    answers: dict[str, pl.Expr] = {}
    unmatched, extras = [], {}
    for f in fields[1:]:
        if f.form not in stamps or f.type in NOT_ANSWERS or f.identifier or f.is_email or f.name == link_column:
            continue
        item_id = instrument.match_column(f.name, f.label)
        if item_id in answers:
            item_id = None
        yes_no_item = bool(item_id) and instrument.item(item_id).scale == "yes_no"
        expr = _answer(f, columns, yes_no_item)
        if expr is None:
            continue
        if item_id is None:
            item_id = f"{UNMAPPED}{f.name}"
            unmatched.append(f"{path.name}: {f.name} {f.label[:60]}")
            extras[item_id] = f.label
        answers[item_id] = expr

    # The respondent: an email (a field validated as email, or the survey identifier), else the record id.
    emails = [pl.col(f.name) for f in fields if f.is_email and f.name in columns]
    if "redcap_survey_identifier" in columns:
        survey_id = pl.col("redcap_survey_identifier").str.strip_chars()
        if emails or body.select(survey_id.str.contains(EMAIL).any()).item():
            emails.append(pl.when(survey_id.str.contains(EMAIL)).then(survey_id))
    if link_column:
        identifier, link_by = pl.col(link_column), context.link_by
    elif emails:
        identifier, link_by = pl.coalesce([e.str.strip_chars().replace("", None) for e in emails]), "email"
    else:
        identifier, link_by = pl.col(record), "record"
    record_key = context.pseudonymizer.key_series("record", body.get_column(record).str.strip_chars(), PLATFORM)

    # Completion: any survey instrument "[not completed]" makes the row a partial response.
    stamp_values = [pl.col(column).str.strip_chars() for column in stamps.values()]
    completed = pl.max_horizontal([pl.when((v != "") & (v != NOT_COMPLETED)).then(v) for v in stamp_values])
    not_completed = pl.any_horizontal([(v == NOT_COMPLETED).fill_null(False) for v in stamp_values])
    has_answers = pl.any_horizontal([e.is_not_null() for e in answers.values()]) if answers else pl.lit(False)

    if "redcap_event_name" in columns:
        event = pl.col("redcap_event_name").str.strip_chars()
        stripped = event.str.replace(r"_arm_\d+$", "")
        wave = pl.coalesce(
            event.replace_strict(events, default=None, return_dtype=pl.String),
            stripped.replace_strict(events, default=None, return_dtype=pl.String),
            pl.when(stripped != "").then(stripped),
            pl.lit(wave_for(path, context.waves or {})),
        )
    else:
        wave = pl.lit(wave_for(path, context.waves or {}))

    wide = (
        body.with_columns(_record_key=record_key)
        .with_row_index("_index")
        .select(
            _file=pl.lit(str(path)),
            _row=(pl.col("_index") + 1).cast(pl.Int64),  # row 0 is the header
            _wave=wave,
            _not_completed=not_completed,
            _has_answers=has_answers,
            submitted_raw=completed,
            # one identity per record: an email given in any of its rows (events, instances)
            identifier=identifier.drop_nulls().first().over(record),
            response_id=pl.col("_record_key"),
            is_preview=pl.lit(False),
            **answers,
        )
    )
    wide = wide.with_columns(
        reason=pl.when(pl.col("_not_completed") & pl.lit(not keep_incomplete)).then(pl.lit("excluded: survey not completed"))
        .when(~pl.col("_has_answers") & pl.col("submitted_raw").is_null() & ~pl.col("_not_completed"))
        .then(pl.lit("excluded: no survey answers in this row"))
        .otherwise(None)
    )
    if keep_incomplete:
        # REDCap keeps no time for a partial response: it takes the wave's latest completion.
        kept = wide.filter(pl.col("_not_completed") & pl.col("submitted_raw").is_null()).height
        wide = wide.with_columns(submitted_raw=pl.coalesce("submitted_raw", pl.col("submitted_raw").max().over("_wave")))
        if kept:
            notes.append(f"{path.name}: {kept} incomplete response(s) kept, timed at their wave's latest completion")

    responses, quarantines, accounts = [], [], []
    file_extras = unmapped_items(extras)
    for wave_name in wide.get_column("_wave").unique(maintain_order=True).to_list():
        rows = wide.filter(pl.col("_wave") == wave_name)
        excluded = rows.filter(pl.col("reason").is_not_null())
        candidates = rows.filter(pl.col("reason").is_null()).drop("reason", "_wave", "_not_completed", "_has_answers")
        excluded_quarantine = quarantine_frame(
            context.community, "survey_responses",
            excluded.rename({"_file": "source_file", "_row": "source_row"}),
            ["response_id", "submitted_raw"],
        )
        frame, quarantine, (row_account, answer_account) = to_responses(
            candidates, instrument=instrument, extra_items=file_extras, community=context.community, wave=wave_name,
            platform=PLATFORM, link_by=link_by, time_formats=TIME_FORMATS, timezone=timezone,
            pseudonymizer=context.pseudonymizer,
        )
        responses.append(frame)
        quarantines += [excluded_quarantine, quarantine]
        accounts += [
            Account(row_account.table, row_account.unit, rows.height, row_account.accepted,
                    row_account.quarantined + excluded_quarantine.height),
            answer_account,
        ]
    return {
        "responses": responses, "quarantine": quarantines, "accounts": accounts,
        "unmatched": unmatched, "extras": extras, "notes": notes,
    }

