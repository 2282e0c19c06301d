"""Errors a user can act on.

`InputError` is raised for bad input (a file we cannot read, a missing column, a folder
without exports). Its message is one line that names the file and the problem; the CLI
and the Dagster layer print that line, never a traceback.
"""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input: a one-line message naming the file and the problem."""

    def __init__(self, path: str | Path | None, problem: str):
        self.path = str(path) if path is not None else None
        self.problem = " ".join(str(problem).split())  # always one line
        super().__init__(f"{self.path}: {self.problem}" if self.path else self.problem)


def describe_validation_error(error) -> str:
    """One line from a pydantic ValidationError: where the first problem is, and what."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "file"
    more = f" ({error.error_count()} problems in all)" if error.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"
