"""Survey instruments as data: items, scales, and matching export columns to items.

An instrument YAML (value_pipeline/instruments/<id>.yaml) maps each item to its
construct, cycle, capital, scale and evidence type. Evaluators can read and adjust it;
the code only interprets it.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cached_property
from importlib import resources
from pathlib import Path

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from value_pipeline import schema
from value_pipeline.errors import InputError, describe_validation_error

# "Don't know", blank and refusal answers are missing, never zero; the common forms in
# English, Spanish, French, German, Portuguese, Italian and Dutch (compared normalized).
MISSING_ANSWERS = {
    "", "don't know", "dont know", "do not know", "not sure", "n/a", "na", "prefer not to say", "-99",
    "no se", "no lo se", "ns nc", "ns", "prefiero no responder", "ne sais pas", "je ne sais pas", "sans opinion",
    "weiss nicht", "keine angabe", "nao sei", "prefiro nao responder", "non so", "non saprei", "weet niet",
    "geen mening",
}
# Question texts may differ from the instrument's by a word or a typo: matched when the
# similarity (rapidfuzz token_sort_ratio, 0-100) reaches this, and clearly beats the runner-up.
FUZZY_MATCH_AT = 88
FUZZY_MARGIN = 4


class Scale(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min: float
    max: float
    labels: list[str] = Field(default_factory=list)
    # other words for each scale point (other languages, other wordings), aligned with labels
    aliases: list[list[str]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _aliases_align(self) -> "Scale":
        if self.aliases and len(self.aliases) != len(self.labels):
            raise ValueError(f"aliases has {len(self.aliases)} entries for {len(self.labels)} labels: give one list per label")
        seen: dict[str, int] = {}
        for point, forms in enumerate(zip(self.labels, self.aliases or [[]] * len(self.labels), strict=True)):
            for form in {normalize_text(text) for text in [forms[0], *forms[1]]}:
                if seen.setdefault(form, point) != point:
                    raise ValueError(f"answer {form!r} stands for two points of the scale")
        return self


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    id: str
    text: str
    label: str | None = None
    construct_: str = Field(alias="construct")
    cycle: int | None = Field(None, ge=1, le=5)
    capital: str | None = None
    scale: str | None = None
    kind: str = "likert"  # likert | open | consent
    evidence_type: str = "self_report"
    reverse_coded: bool = False


class ScaleScore(BaseModel):
    """A multi-item scale: its score is the mean of a respondent's answers to its items
    (reverse-coded items reversed), given at least `min_items` of them."""

    model_config = ConfigDict(extra="forbid")
    id: str
    label: str
    cycle: int = Field(ge=1, le=5)
    capital: str | None = None
    items: list[str] = Field(min_length=2)
    min_items: int | None = Field(None, ge=1, description="default: half the items, rounded up")

    @property
    def required(self) -> int:
        return self.min_items or -(-len(self.items) // 2)


class Instrument(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    version: int
    title: str
    scales: dict[str, Scale]
    items: list[Item]
    scale_scores: list[ScaleScore] = Field(default_factory=list)

    @model_validator(mode="after")
    def _scales_exist(self) -> "Instrument":
        for item in self.items:
            if item.scale is not None and item.scale not in self.scales:
                raise ValueError(f"item {item.id} uses unknown scale {item.scale}")
            if item.cycle == 2 and item.evidence_type == "self_report" and not item.capital:
                raise ValueError(f"item {item.id} is cycle 2 but names no capital")
        by_id = {item.id: item for item in self.items}
        for score in self.scale_scores:
            unknown = [item for item in score.items if item not in by_id]
            if unknown:
                raise ValueError(f"scale score {score.id} uses unknown items {unknown}")
            kinds = {by_id[item].scale for item in score.items}
            if len(kinds) != 1 or None in kinds:
                raise ValueError(f"scale score {score.id} mixes answer scales ({sorted(map(str, kinds))}): its items must share one")
            if score.required > len(score.items):
                raise ValueError(f"scale score {score.id} needs {score.required} items but has {len(score.items)}")
        return self

    def item(self, item_id: str) -> Item:
        return self._by_id[item_id]

    @cached_property
    def _by_id(self) -> dict[str, Item]:
        return {item.id: item for item in self.items}

    @cached_property
    def _by_text(self) -> dict[str, str]:
        return {normalize_text(item.text): item.id for item in self.items}

    def match_column(self, column_id: str | None, question_text: str | None) -> str | None:
        """The item a survey column answers: by item id, else by question text: exactly
        (normalized), then fuzzily (a changed word, a typo), when one item clearly wins."""
        if column_id:
            base = column_id.strip()
            if base in self._by_id:
                return base
        if not question_text:
            return None
        text = normalize_text(question_text)
        if text in self._by_text:
            return self._by_text[text]
        return self._fuzzy_match(text)

    def _fuzzy_match(self, text: str) -> str | None:
        from rapidfuzz import fuzz, process

        if len(text) < 12:  # short headings ("Q3", "Email") are not questions to guess at
            return None
        best = process.extract(text, list(self._by_text), scorer=fuzz.token_sort_ratio, limit=2)
        if not best or best[0][1] < FUZZY_MATCH_AT:
            return None
        if len(best) > 1 and best[0][1] - best[1][1] < FUZZY_MARGIN:
            return None  # two items about equally close: better unmatched than wrong
        return self._by_text[best[0][0]]

    def items_frame(self) -> pl.DataFrame:
        """The survey_items canonical table."""
        rows = []
        for item in self.items:
            scale = self.scales.get(item.scale) if item.scale else None
            rows.append(
                {
                    "item_id": item.id,
                    "text": item.text,
                    "construct": item.construct_,
                    "cycle": item.cycle,
                    "capital": item.capital,
                    "scale_min": scale.min if scale else None,
                    "scale_max": scale.max if scale else None,
                    "reverse_coded": item.reverse_coded,
                    "evidence_type": item.evidence_type,
                    "kind": "yes_no" if item.scale == "yes_no" and item.kind == "likert" else item.kind,
                }
            )
        return schema.conform(pl.DataFrame(rows), schema.SURVEY_ITEMS)

    def answer_codes(self) -> pl.DataFrame:
        """(item_id, answer label normalized, value) for every labelled scale point."""
        rows = []
        for item in self.items:
            if not item.scale:
                continue
            scale = self.scales[item.scale]
            for offset, label in enumerate(scale.labels):
                aliases = scale.aliases[offset] if scale.aliases else []
                for form in {normalize_text(text) for text in [label, *aliases]}:
                    rows.append({"item_id": item.id, "answer": form, "code": scale.min + offset})
        return pl.DataFrame(rows, schema={"item_id": pl.String, "answer": pl.String, "code": pl.Float64})


def normalize_text(text: str) -> str:
    """Case-, accent-, punctuation- and space-insensitive form of a question or answer
    label ("Très d'accord" -> "tres d accord")."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z]+", " ", plain.lower()).strip()


def normalize_expr(expr: pl.Expr) -> pl.Expr:
    """`normalize_text` as a polars expression."""
    return (
        expr.str.normalize("NFKD").str.replace_all(r"\p{M}", "")
        .str.to_lowercase().str.replace_all(r"[^0-9a-z]+", " ").str.strip_chars()
    )


def strip_numbering(expr: pl.Expr) -> pl.Expr:
    """An answer label without the scale number platforms add ("5 - Strongly agree",
    "Strongly agree (5)", "5. Strongly agree"), already normalized."""
    return expr.str.replace(r"^\d+ ", "").str.replace(r" \d+$", "")


def load_instrument(name_or_path: str = "default") -> Instrument:
    """Load a shipped instrument by id, or an instrument YAML by path."""
    path = Path(name_or_path)
    if path.suffix in {".yaml", ".yml"}:
        text = path.read_text(encoding="utf-8")
        where = path
    else:
        resource = resources.files("value_pipeline") / "instruments" / f"{name_or_path}.yaml"
        if not resource.is_file():
            raise InputError(None, f"unknown survey instrument {name_or_path!r}")
        text = resource.read_text(encoding="utf-8")
        where = Path(str(resource))
    try:
        return Instrument.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as error:
        raise InputError(where, f"invalid instrument YAML: {error}") from error
    except ValidationError as error:
        raise InputError(where, f"invalid instrument: {describe_validation_error(error)}") from error
