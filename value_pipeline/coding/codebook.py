"""The codebook as data: codes, their order (tie-break) and their signals."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from value_pipeline.errors import InputError, describe_validation_error

# The nine primary codes of the reference codebook, in tie-break order.
REFERENCE_CODES = (
    "question", "answer", "practice_report", "resource_share", "reflection",
    "support", "celebration", "social", "other",
)


class Signal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pattern: str
    weight: float


class Code(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    cycle: int | None = None
    capital: str | None = None
    description: str
    signals: list[Signal] = Field(default_factory=list)


class Codebook(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    version: int
    codes: list[Code]

    @model_validator(mode="after")
    def _reference_codes(self) -> "Codebook":
        ids = tuple(code.id for code in self.codes)
        if ids[: len(REFERENCE_CODES)] != REFERENCE_CODES:
            raise ValueError(f"the first codes must be the nine reference codes in order: {', '.join(REFERENCE_CODES)}")
        return self

    @property
    def ids(self) -> list[str]:
        return [code.id for code in self.codes]

    def names(self) -> dict[str, str]:
        return {code.id: code.name for code in self.codes}


def load_codebook(path: str | Path | None = None) -> Codebook:
    """The shipped codebook, or one an evaluator edited (by path)."""
    if path is None:
        text = (resources.files("value_pipeline") / "coding" / "codebook.yaml").read_text(encoding="utf-8")
        where = "value_pipeline/coding/codebook.yaml"
    else:
        text = Path(path).read_text(encoding="utf-8")
        where = str(path)
    try:
        return Codebook.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as error:
        raise InputError(where, f"invalid codebook YAML: {error}") from error
    except ValidationError as error:
        raise InputError(where, f"invalid codebook: {describe_validation_error(error)}") from error
