"""Which export format a file is, from its content (not its name).

A `Sniff` looks at a path once and caches what readers need to recognise their format:
the first bytes as text, the first CSV rows (delimiter sniffed), the parsed JSON top
level, the names inside a zip. Each reader module's `looks_like(sniff)` answers for its
own format; `value_pipeline.ingest.formats` asks them in order. `platform:` in
community.yaml overrides detection.
"""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
from functools import cached_property
from pathlib import Path, PurePosixPath

from value_pipeline.errors import InputError
from value_pipeline.ingest.common import read_json, utf16_without_bom

SNIFF_BYTES = 64 * 1024
JSON_SNIFF_LIMIT = 512 * 2**20  # parse JSON for detection up to this size


class Sniff:
    """Cached looks at one export path (file, folder or zip)."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @property
    def is_dir(self) -> bool:
        return self.path.is_dir()

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower()

    @cached_property
    def head_bytes(self) -> bytes:
        if not self.path.is_file():
            return b""
        with self.path.open("rb") as handle:
            return handle.read(SNIFF_BYTES)

    @cached_property
    def head_text(self) -> str:
        """The first bytes as text (UTF-16 by BOM, else UTF-8 with replacement)."""
        data = self.head_bytes
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16", errors="ignore")
        utf16 = utf16_without_bom(data)
        if utf16:
            return data[: len(data) - len(data) % 2].decode(utf16, errors="ignore")
        return data.decode("utf-8-sig", errors="replace")

    @property
    def is_binary(self) -> bool:
        data = self.head_bytes[:2048]
        utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff")) or utf16_without_bom(self.head_bytes)
        return b"\x00" in data and not utf16

    @cached_property
    def csv_rows(self) -> list[list[str]]:
        """The first three CSV/TSV rows (delimiter sniffed among , ; and tab)."""
        text = self.head_text
        if not text.strip() or self.looks_like_json or self.is_binary or self.is_parquet:
            return []
        sample = text[:8192]
        try:
            dialect = csv.Sniffer().sniff(sample.split("\n", 1)[0] or sample, delimiters=",;\t")
            delimiter = dialect.delimiter
        except csv.Error:
            delimiter = ","
        try:
            reader = csv.reader(io.StringIO(text), delimiter=delimiter)
            return list(itertools.islice(reader, 3))
        except csv.Error:
            return []

    @property
    def header(self) -> list[str]:
        return [cell.strip() for cell in self.csv_rows[0]] if self.csv_rows else []

    @property
    def is_parquet(self) -> bool:
        return self.head_bytes[:4] == b"PAR1"

    @cached_property
    def parquet_columns(self) -> list[str]:
        """Column names of a Parquet file (read from its footer only)."""
        if not self.is_parquet:
            return []
        import polars as pl

        try:
            return list(pl.read_parquet_schema(self.path))
        except (OSError, pl.exceptions.PolarsError):
            return []

    @property
    def columns(self) -> list[str]:
        """Column names of a tabular file: the Parquet schema or the CSV header."""
        return self.parquet_columns if self.is_parquet else self.header

    @property
    def looks_like_json(self) -> bool:
        return self.head_text.lstrip().startswith(("{", "["))

    @cached_property
    def json(self):
        """The parsed JSON, or None when the file is not JSON. Broken JSON raises InputError."""
        if not self.path.is_file() or not self.looks_like_json:
            return None
        if self.path.stat().st_size > JSON_SNIFF_LIMIT:
            return None
        return read_json(self.path)

    @cached_property
    def zip_names(self) -> list[str]:
        """Names inside a zip file (empty for anything else)."""
        if not self.path.is_file() or not zipfile.is_zipfile(self.path):
            return []
        try:
            with zipfile.ZipFile(self.path) as archive:
                return archive.namelist()
        except (zipfile.BadZipFile, OSError) as error:
            raise InputError(self.path, f"not a readable zip: {error}") from error

    def contains(self, name: str) -> bool:
        """A folder or zip that holds a file of this name (at any depth)."""
        if self.is_dir:
            return any(self.path.rglob(name))
        return any(PurePosixPath(entry).name == name for entry in self.zip_names)


def describe_unknown(path: Path, kind: str = "export") -> InputError:
    """The error for a path no reader recognises, saying what it looks like instead."""
    hint = "set platform: in community.yaml if it is a supported export"
    if path.is_dir():
        names = sorted(p.name for p in path.iterdir())[:5]
        found = ", ".join(names) if names else "nothing"
        return InputError(path, f"a folder holding no supported {kind} export (found: {found})")
    sniff = Sniff(path)
    if path.is_file() and path.stat().st_size == 0:
        return InputError(path, "the file is empty")
    if not sniff.head_bytes.strip():
        return InputError(path, "the file is empty (only whitespace)")
    if sniff.head_bytes.startswith(b"PK\x03\x04") and not sniff.zip_names:
        return InputError(path, "a damaged or truncated zip (an interrupted download?)")
    if sniff.is_binary and not sniff.zip_names:
        return InputError(path, "binary data, not an export we can read")
    first = sniff.head_text.splitlines()[0][:80] if sniff.head_text.strip() else ""
    return InputError(path, f"not a supported {kind} format (starts with {first!r}); {hint}")
