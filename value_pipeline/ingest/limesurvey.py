"""LimeSurvey response export (CSV) -> survey_responses.

Responses > Export > Export responses, format CSV (LimeSurvey manual, "Export
responses", as known, not reachable from here; checked against the writer in the source,
application/helpers/admin/export/CsvWriter.php and Writer.php, and the field map that
names the built-in columns). One header row, a UTF-8 BOM, every value double-quoted, the
field separator chosen in the export dialog (comma, semicolon or tab: all read). The
file is named results-survey<id>.csv: name its wave in community.yaml (survey.waves).
Headings come in three styles, all read:
- "Question code": the response table's own columns `id`, `submitdate`, `lastpage`,
  `startlanguage`, `seed`, then `startdate` and `datestamp` (date-stamped surveys),
  `ipaddr`, `refurl`, `token` and participant fields (`firstname`, `lastname`,
  `email`, `attribute_1`...), then one column per question code, `G01Q01`, with one
  per subquestion for arrays and multiple choice, `G01Q02[SQ001]` (`G01Q02_SQ001` with
  the Expression Manager codes), plus `[other]`/`[comment]` columns and timings;
- "Full question text": `Response ID`, `Date submitted`, `Last page`, `Start language`,
  `Seed`, `Date started`, `Date last action`, `IP address`, `Referrer URL`, `Access
  code`/`Token`, `First name`, `Last name`, `Email address`, then the question text,
  with ` [subquestion text]` appended for a subquestion (English headings only);
- "Question code & question text": `G01Q01. Question text`.
Abbreviated headings are truncated and so match no item; they are kept as unmapped.

Matching columns to instrument items, in order: the survey option `items`
({heading or code: item id}, for codes like `G01Q02[SQ001]` that name no item); the
heading, subquestion code or question code equal to an item id, ignoring case and
underscores (a subquestion coded `immuseful` is `imm_useful`); the subquestion text,
else the question text. Other questions are kept as `unmapped:<heading>` (or
`unmapped:<code>`), except identities: questions asking for an email, phone number or
name, and columns whose answers are mostly email addresses, are not read (a note counts
them); participant fields, `ipaddr` and `refurl` are never read as answers.

Answers are codes ("Answer codes") or labels ("Full answers"). Codes of items with a
scale become numbers: first through the survey option `answer_codes` ({code: number},
or {item id: {code: number}} for one item); else `A<n>`/`AO<n>` is n (the answer
option's position: list the options in the scale's order) on scales starting at 1, and
`Y`/`N` (LimeSurvey's Yes/No question) is 1/0 on 0..1 scales. Other codes (`A1` on a
yes/no item without a mapping; `A6` on a 1..5 scale, an added "Don't know" option) are
quarantined as unrecognised, showing the code. Numbers ("1".."5" of the 5-point array)
pass as numbers, and labels are read through the scale's labels as on every platform.
Unmapped questions keep their codes as text.

Incomplete responses (empty `submitdate`) are kept, as the Qualtrics reader keeps
partial responses: their answers count, timed by `datestamp` (last action), else
`startdate`. A survey that is not date-stamped writes `1980-01-01 00:00:00` as every
submitdate: that is no time, and such responses are quarantined for their missing time.
Times are the server's local time with no zone (the community's timezone). The
respondent is `email` (or the column named by `link_column`); a `token` (access code)
is keyed, never kept, so a participant's repeated responses replace each other without
linking to forum members. `.lss`/`.lsa` survey archives are not read.
"""

from __future__ import annotations

import csv
import io
import re
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
from value_pipeline.instrument import Instrument

PLATFORM = "limesurvey"
KIND = "survey"
TIME_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%m/%d/%Y %H:%M:%S"]
UNDATED = "1980-01-01 00:00:00"  # submitdate of every completed response in a survey without datestamps
# The response table's own columns and the participant-table fields: metadata and identities.
BUILT_IN = {
    "id", "submitdate", "lastpage", "startlanguage", "seed", "startdate", "datestamp", "ipaddr", "refurl",
    "token", "firstname", "lastname", "email", "emailstatus", "language", "tid", "participant_id", "sent",
    "remindersent", "remindercount", "completed", "usesleft", "validfrom", "validuntil", "optout", "interviewtime",
}
# "Full question text" headings of the built-in columns (lower case), old and new spellings.
FULL_NAMES = {
    "response id": "id", "date submitted": "submitdate", "completed": "submitdate", "last page": "lastpage",
    "start language": "startlanguage", "seed": "seed", "date started": "startdate", "date last action": "datestamp",
    "ip address": "ipaddr", "ip-address": "ipaddr", "referrer url": "refurl", "referring url": "refurl",
    "token": "token", "access code": "token", "token id": "token", "first name": "firstname", "last name": "lastname",
    "email address": "email", "email": "email", "total time": "interviewtime",
}
_CODE = re.compile(r"^([A-Za-z][A-Za-z0-9]*)(?:\[([^\]]+)\])?(?:\[([^\]]+)\])?$")
_EM_CODE = re.compile(r"^([A-Za-z][A-Za-z0-9]*)_([A-Za-z0-9_]+)$")
_TIMING = re.compile(r"^(interviewtime|\d+X\d+(X\d+\w*)?time|groupTime\d+|[A-Za-z][A-Za-z0-9]*Time)$")
_FULL_TIMING = re.compile(r"(?i)^(total time|group time: .*|question time: .*)$")
EMAIL_VALUE = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"
_SUBQUESTION = re.compile(r"^(.*\S)\s*\[([^\[\]]+)\]$")
_CODE_TEXT = re.compile(r"^(\S+)\. (.*)$", re.S)
# A question asking for an identity: it ends with "email (address)", "phone (number)" or "(full/user) name".
_IDENTITY_TEXT = re.compile(r"(?i)\b(e-?mail( address)?|phone( number)?|(full |first |last |user)?name)\s*[?:.]?\s*$")


def looks_like(sniff: Sniff) -> bool:
    """A CSV whose header holds LimeSurvey's id/submitdate/lastpage columns (any heading style)."""
    return _style(sniff.header) is not None


def _style(header: list[str]) -> str | None:
    """'code', 'codetext' or 'full' when the header is a LimeSurvey export's, else None."""
    names = [name.strip() for name in header]
    if {"id", "submitdate", "lastpage"} <= set(names):
        return "code"
    prefixes = {_CODE_TEXT.match(name).group(1) for name in names if _CODE_TEXT.match(name)}
    if {"id", "submitdate", "lastpage"} <= prefixes:
        return "codetext"
    lower = {name.lower() for name in names}
    if {"response id", "last page"} <= lower and lower & {"date submitted", "completed"}:
        return "full"
    return None


def _separator(text: str) -> str:
    line = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(line, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _normal_id(value: str) -> str:
    return re.sub(r"[^0-9a-z]", "", value.lower())


class _Heading:
    """One column heading: its built-in code (if any), question code parts and texts."""

    def __init__(self, heading: str, style: str):
        self.heading = heading
        self.builtin: str | None = None
        self.code = self.sub_code = self.question = self.sub_text = None
        code, text = heading, None
        if style == "codetext" and _CODE_TEXT.match(heading):
            code, text = _CODE_TEXT.match(heading).groups()
        elif style == "full":
            code, text = None, heading
        if code is not None:
            if code in BUILT_IN or code.startswith("attribute_") or _TIMING.match(code):
                self.builtin = code
            else:
                parts = _CODE.match(code) or _EM_CODE.match(code)
                self.code = code
                self.sub_code = parts.group(2) if parts and parts.lastindex and parts.lastindex >= 2 else None
        if text is not None:
            if style == "full" and (text.lower() in FULL_NAMES or _FULL_TIMING.match(text)):
                self.builtin = FULL_NAMES.get(text.lower(), "interviewtime")
            sub = _SUBQUESTION.match(text)
            self.question, self.sub_text = (sub.group(1), sub.group(2)) if sub else (text, None)

    @property
    def key(self) -> str:
        """The name of its unmapped item."""
        return self.code or self.heading

    @property
    def text(self) -> str:
        return f"{self.question} [{self.sub_text}]" if self.sub_text else (self.question or self.heading)

    def match(self, instrument: Instrument, mapping: dict[str, str], ids: dict[str, str]) -> str | None:
        for name in (self.heading, self.code):
            if name and name in mapping:
                return mapping[name]
        codes = [self.code, self.sub_code] if self.sub_code else [self.code]
        for code in filter(None, codes):
            item = instrument.match_column(code, None) or ids.get(_normal_id(code))
            if item:
                return item
        if self.sub_text:
            return instrument.match_column(None, self.sub_text)
        return instrument.match_column(None, self.question) if self.question else None


def _answer_codes(path: Path | None, options: dict) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """The `answer_codes` option as (codes for every item, codes per item id)."""
    shared, per_item = {}, {}
    raw = options.get("answer_codes") or {}
    if not isinstance(raw, dict):
        raise InputError(path, "survey option answer_codes must map answer codes to numbers")
    try:
        for code, value in raw.items():
            if isinstance(value, dict):
                per_item[str(code)] = {str(c): float(v) for c, v in value.items()}
            else:
                shared[str(code)] = float(value)
    except (TypeError, ValueError) as error:
        raise InputError(path, f"survey option answer_codes must map answer codes to numbers ({error})") from error
    return shared, per_item


def _numbers(column: str, item_id: str, instrument: Instrument, shared: dict, per_item: dict) -> pl.Expr:
    """A scale item's answer codes turned into numbers (as text); labels and numbers pass."""
    value = pl.col(column).str.strip_chars()
    item = instrument.item(item_id) if item_id in {i.id for i in instrument.items} else None
    scale = instrument.scales.get(item.scale) if item and item.scale else None
    if scale is None or (item and item.kind == "open"):
        return value
    codes = {**shared, **per_item.get(item_id, {})}
    candidates = []
    if codes:
        candidates.append(value.replace_strict({k: str(v) for k, v in codes.items()}, default=None, return_dtype=pl.String))
    if scale.min >= 1:
        # A<n> beyond the scale (an added "Don't know" option, say) stays a code: unrecognised.
        position = value.str.extract(r"^AO?0*(\d+)$", 1)
        in_scale = position.cast(pl.Float64, strict=False).is_between(scale.min, scale.max)
        candidates.append(pl.when(in_scale).then(position))
    if scale.min == 0 and scale.max == 1:
        candidates.append(pl.when(value == "Y").then(pl.lit("1")).when(value == "N").then(pl.lit("0")))
    return pl.coalesce(*candidates, value)


def _email_columns(body: pl.DataFrame, names: list[str]) -> list[str]:
    """Columns whose answers are mostly bare email addresses: identities, whatever the heading says."""
    if not names or body.height == 0:
        return []
    shares = body.select(pl.col(name).str.strip_chars().str.contains(EMAIL_VALUE).mean() for name in names).row(0)
    return [name for name, share in zip(names, shares, strict=True) if share is not None and share >= 0.5]


def _load(path: Path) -> tuple[list[str], pl.DataFrame]:
    text = read_text(path)
    try:
        frame = pl.read_csv(
            io.StringIO(text), has_header=False, infer_schema=False, truncate_ragged_lines=True, separator=_separator(text)
        )
    except pl.exceptions.PolarsError as error:
        raise InputError(path, f"not a readable CSV: {str(error).splitlines()[0]}") from error
    header = [(value or "").strip() for value in frame.row(0)]
    names = [f"c{i}" for i in range(frame.width)]
    frame.columns = names
    # Quoted empty values are empty strings: make them missing, like unquoted ones.
    body = frame.slice(1).with_columns(
        pl.when(pl.col(name).str.strip_chars() == "").then(None).otherwise(pl.col(name)).alias(name) for name in names
    )
    return header, body


def read(paths: list[Path], context: ReadContext) -> SurveyRead:
    """Read LimeSurvey response CSVs, one file per wave."""
    instrument, community, pseudonymizer = context.instrument, context.community, context.pseudonymizer
    timezone, link_by, link_column, waves = context.timezone, context.link_by, context.link_column, context.waves
    options = context.options or {}
    mapping = {str(k): str(v) for k, v in (options.get("items") or {}).items()}
    ids = {_normal_id(item.id): item.id for item in instrument.items}
    responses, quarantines, accounts, unmatched, extras, notes = [], [], [], [], {}, []
    for path in paths:
        shared, per_item = _answer_codes(path, options)
        header, body = _load(path)
        style = _style(header)
        if style is None:
            raise InputError(path, "not a LimeSurvey export: expected the id, submitdate and lastpage columns")
        headings = [_Heading(name, style) for name in header]
        builtin = {h.builtin: f"c{i}" for i, h in reversed(list(enumerate(headings))) if h.builtin}
        link_name = None
        if link_column:
            link_name = next((f"c{i}" for i, h in enumerate(headings) if link_column in (h.heading, h.code)), None)
            if link_name is None:
                notes.append(f"{path.name}: link column {link_column!r} not found: respondents are not linked")

        matched: dict[str, str] = {}
        file_extras: dict[str, str] = {}
        dropped = []
        for i, heading in enumerate(headings):
            name = f"c{i}"
            if heading.builtin or name == link_name or not heading.heading:
                continue
            item_id = heading.match(instrument, mapping, ids)
            if item_id and item_id not in matched.values():
                matched[name] = item_id
            elif _IDENTITY_TEXT.search(heading.sub_text or heading.question or ""):
                dropped.append(heading.heading)
            else:
                key = f"{UNMAPPED}{heading.key}"
                if key in file_extras:
                    key = f"{key} ({i + 1})"
                matched[name] = key
                file_extras[key] = heading.text
        for name in _email_columns(body, [n for n, item in matched.items() if item.startswith(UNMAPPED)]):
            dropped.append(file_extras.pop(matched.pop(name)))
        if dropped:
            notes.append(f"{path.name}: {len(dropped)} identity column(s) not read (names, emails, phone numbers)")
        unmatched += [
            f"{path.name}: {key.removeprefix(UNMAPPED)}" + (f" {text[:60]}" if text != key.removeprefix(UNMAPPED) else "")
            for key, text in file_extras.items()
        ]
        extras |= file_extras

        def column(code: str, builtin=builtin) -> pl.Expr:
            return pl.col(builtin[code]) if code in builtin else pl.lit(None, pl.String)

        if link_column:
            identifier = pl.col(link_name) if link_name else pl.lit(None, pl.String)
        else:
            identifier = column("email")
        token = column("token").str.strip_chars()
        submitted = column("submitdate").str.strip_chars()
        body = body.with_row_index("_index").filter(~pl.all_horizontal(pl.exclude("_index").is_null()))
        # A token is an identity: only its key goes on (as the response id that keys the respondent).
        tokens = body.select(token).to_series() if "token" in builtin else pl.Series([None] * body.height, dtype=pl.String)
        token_keys = pseudonymizer.key_series("token", tokens, PLATFORM)
        wide = body.with_columns(_token_key=token_keys).select(
            _file=pl.lit(str(path)),
            _row=(pl.col("_index") + 1).cast(pl.Int64),  # row 0 is the header
            submitted_raw=pl.coalesce(
                pl.when(submitted != UNDATED).then(submitted), column("datestamp"), column("startdate")
            ),
            identifier=identifier,
            response_id=pl.when(pl.col("_token_key").is_not_null())
            .then(pl.lit("token:") + pl.col("_token_key"))
            .otherwise(pl.lit(f"{path.name}:") + column("id")),  # ids restart at 1 in every survey
            is_preview=pl.lit(False),
            _complete=submitted.is_not_null() & (submitted != UNDATED),
            _undated=submitted == UNDATED,
            **{
                item_id: _numbers(name, item_id, instrument, shared, per_item)
                for name, item_id in matched.items()
            },
        )
        incomplete = wide.filter(~pl.col("_complete") & ~pl.col("_undated").fill_null(False)).height
        if incomplete:
            notes.append(f"{path.name}: {incomplete} incomplete response(s) kept (no submitdate), timed by their last action")
        if wide.get_column("_undated").any():
            notes.append(f"{path.name}: the survey is not date-stamped (submitdate {UNDATED}): its responses have no time")
        frame, quarantine, file_accounts = to_responses(
            wide.drop("_complete", "_undated"), instrument=instrument, extra_items=unmapped_items(file_extras),
            community=community, wave=wave_for(path, waves or {}), platform=PLATFORM, link_by=link_by,
            time_formats=TIME_FORMATS, timezone=timezone, pseudonymizer=pseudonymizer,
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
