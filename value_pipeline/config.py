"""community.yaml: what an evaluator says about a community folder.

Validated with pydantic so a typo in the file is a clear one-line error, not a
KeyError three stages later.
"""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from value_pipeline.errors import InputError, describe_validation_error


class Suppression(BaseModel):
    """Disclosure thresholds (FRAMEWORK.md defaults; a funder may ask for stricter ones)."""

    model_config = ConfigDict(extra="forbid")

    min_count: int = Field(10, ge=1, description="smallest member count shown")
    min_respondents_mean: int = Field(5, ge=1, description="smallest n for a survey mean")
    min_respondents_distribution: int = Field(10, ge=1, description="smallest n for a distribution")
    percent_coding_below: int = Field(50, ge=1, description="top/bottom-code percentages under this n")

    def stricter(self, funder: "FunderSuppression") -> "Suppression":
        """These thresholds with a funder's applied: each threshold the funder sets counts
        when it is stricter (higher); a funder never loosens the community's thresholds."""
        asked = funder.model_dump(exclude_none=True)
        return self.model_copy(update={key: max(getattr(self, key), value) for key, value in asked.items()})


class FunderSuppression(BaseModel):
    """Disclosure thresholds a funder asks for; unset ones leave the community's in force."""

    model_config = ConfigDict(extra="forbid")

    min_count: int | None = Field(None, ge=1, description="smallest member count shown")
    min_respondents_mean: int | None = Field(None, ge=1, description="smallest n for a survey mean")
    min_respondents_distribution: int | None = Field(None, ge=1, description="smallest n for a distribution")
    percent_coding_below: int | None = Field(None, ge=1, description="top/bottom-code percentages under this n")


EMAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]+")


class Funder(BaseModel):
    """Who funds the community, who receives its reports, and any stricter thresholds it asks for.

    In community.yaml `funder:` is either the funder's name or a mapping:
        funder:
          name: Tri-County STEM Foundation
          recipients: [grants@tricounty-stem.example]
          suppression: {min_count: 15}
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="the funder's name, as the report prints it")
    recipients: list[str] = Field(default_factory=list, description="email addresses the quarterly reports are sent to")
    suppression: FunderSuppression = Field(default_factory=FunderSuppression)

    @field_validator("name")
    @classmethod
    def _stripped(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the funder's name is empty")
        return value.strip()

    @field_validator("recipients", mode="before")
    @classmethod
    def _one_address_alone(cls, value):
        return [value] if isinstance(value, str) else value

    @field_validator("recipients")
    @classmethod
    def _addresses(cls, values: list[str]) -> list[str]:
        cleaned = []
        for value in values:
            address = value.strip()
            if not EMAIL.fullmatch(address):
                raise ValueError(f"not an email address: {value!r}")
            if address.lower() not in {a.lower() for a in cleaned}:
                cleaned.append(address)
        return cleaned


class SurveyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: str | None = Field(None, description="override format detection")
    instrument: str = "default"
    link_by: str = Field("email", description="email | username: how respondents link to members")
    link_column: str | None = Field(None, description="column holding the identifier; detected when absent")
    waves: dict[str, str] = Field(default_factory=dict, description="file name -> wave; default: the file's stem")
    options: dict = Field(default_factory=dict, description="settings of the survey format's reader")


class TierRules(BaseModel):
    """How members are placed in participation tiers each quarter (onion model).

    Members are ranked by their posts in the quarter; the core are those who together
    write the first `core_share` of member posts, the active the next part up to
    `active_share`, the occasional the rest. Members tied on post count share a tier,
    placed by the middle of the share of posts their group covers.
    Members who post at most `peripheral_max_posts` times and are not core or active
    count as peripheral when the platform shows they read (0: only non-posters).
    """

    model_config = ConfigDict(extra="forbid")

    # Defaults 50% / 80%: with the classic onion cuts (80% / 95%) a small community whose
    # tail is one-post members has no occasional tier at all; set them here if wanted.
    core_share: float = Field(0.5, gt=0.0, lt=1.0, description="cumulative share of posts written by the core")
    active_share: float = Field(0.8, gt=0.0, le=1.0, description="cumulative share written by the core and the active")
    peripheral_max_posts: int = Field(0, ge=0, description="readers posting at most this often count as peripheral")

    @model_validator(mode="after")
    def _ordered(self) -> "TierRules":
        if self.active_share <= self.core_share:
            raise ValueError(f"active_share ({self.active_share}) must be above core_share ({self.core_share})")
        return self


class CodingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kappa_threshold: float = Field(
        0.65, ge=0.0, le=1.0,
        description="below this Cohen's kappa with the hand codes, the report flags every figure that depends on codes",
    )


class CommunityConfig(BaseModel):
    """One community.yaml.

    `funder:` may be the funder's name or a mapping (see `Funder`); either way
    `config.funder` is the name and `config.funder_details` the whole `Funder`.
    `suppression:` holds the community's thresholds (`config.community_suppression`);
    `config.suppression` is what is in force: each threshold the larger (stricter) of
    the community's and the funder's.
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    platform: str | None = Field(None, description="override forum format detection")
    formal: bool = True
    funder_details: Funder = Field(
        default_factory=lambda: Funder(name="unspecified"), alias="funder",
        description="the funder's name, or {name, recipients, suppression}",
    )
    timezone: str = "UTC"
    staff: list[str] = Field(default_factory=list, description="usernames or emails of staff/facilitators")
    survey: SurveyConfig = Field(default_factory=SurveyConfig)
    community_suppression: Suppression = Field(
        default_factory=Suppression, alias="suppression",
        description="the community's disclosure thresholds (a funder's stricter ones override them)",
    )
    coding: CodingConfig = Field(default_factory=CodingConfig)
    tiers: TierRules = Field(default_factory=TierRules)
    consent_source: str = Field("survey", description="where consent to quote is recorded")
    forum_options: dict = Field(default_factory=dict, description="settings of the forum format's reader (e.g. a column mapping)")

    @field_validator("funder_details", mode="before")
    @classmethod
    def _funder_name_alone(cls, value):
        return {"name": value} if isinstance(value, str) else value

    @property
    def funder(self) -> str:
        """The funder's name."""
        return self.funder_details.name

    @property
    def suppression(self) -> Suppression:
        """The disclosure thresholds in force: the community's, made stricter by the funder's."""
        return self.community_suppression.stricter(self.funder_details.suppression)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown timezone {value!r}") from error
        return value


def load_community_config(folder: str | Path) -> CommunityConfig:
    """Read and validate `<folder>/community.yaml`."""
    path = Path(folder) / "community.yaml"
    if not path.is_file():
        raise InputError(path, "community.yaml is missing: every community folder needs one (see README)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise InputError(path, f"not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise InputError(path, "expected a mapping of settings (name, platform, timezone, ...)")
    try:
        return CommunityConfig.model_validate(data)
    except ValidationError as error:
        raise InputError(path, describe_validation_error(error)) from error
