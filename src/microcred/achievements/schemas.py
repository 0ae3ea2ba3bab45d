from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from ..credentials.ob3 import ACHIEVEMENT_TYPES, ALIGNMENT_TARGET_TYPES, RESULT_TYPES
from ..i18n.languages import SUPPORTED
from ..schemas_common import ApiModel, HttpUrl, Signable, Text

Name = Annotated[str, StringConstraints(min_length=1, max_length=512)]
Short = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


def _one_of(known: frozenset[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if value not in known and not value.startswith("ext:"):
            raise ValueError(f"unknown {what} {value!r}: use an OB 3.0 value or an 'ext:' extension")
        return value

    return AfterValidator(check)


def _supported(value: str) -> str:
    if value not in SUPPORTED:
        raise ValueError(f"not a language this service writes credentials in: use one of {', '.join(SUPPORTED)}")
    return value


#: A language credentials can be written in: its BCP 47 primary tag.
Language = Annotated[
    str, AfterValidator(_supported), Field(json_schema_extra={"enum": list(SUPPORTED)}, description="a BCP 47 language code")
]


class TranslationIn(ApiModel):
    """The achievement's texts in another language: a credential awarded in that language
    carries these (and says so in ``inLanguage``). Every text the achievement states needs its
    translation before it is published."""

    name: Name
    description: Text | None = None
    criteria_narrative: Text | None = Field(default=None, description="the criteria's narrative in this language")


class CriteriaIn(ApiModel):
    narrative: Text | None = None
    url: HttpUrl | None = Field(default=None, description="a page describing the criteria")


class AlignmentIn(ApiModel):
    target_name: Name
    target_url: HttpUrl
    target_framework: Name | None = None
    target_code: Short | None = None
    target_description: Text | None = None
    target_type: Annotated[str, _one_of(ALIGNMENT_TARGET_TYPES, "targetType")] | None = None


class ResultDescriptionIn(ApiModel):
    id: Annotated[str, StringConstraints(pattern=r"^urn:uuid:[0-9a-f-]{36}$")] | None = Field(
        default=None, description="assigned when absent; awards name it to give a grade"
    )
    name: Name
    result_type: Annotated[str, _one_of(RESULT_TYPES, "resultType")]
    allowed_values: list[Short] | None = None
    value_min: Short | None = None
    value_max: Short | None = None
    required_value: Short | None = None


class ProviderIn(ApiModel):
    """The training provider that ran the course (the issuer assesses and awards)."""

    id: HttpUrl = Field(description="the provider's web address, used as its identifier")
    name: Name


class AchievementFields(ApiModel):
    """Everything an achievement may say. Drafts may leave fields out; publishing needs every EU
    mandatory micro-credential element (see docs/microcredential-elements.md)."""

    name: Name | None = None
    description: Text | None = None
    criteria: CriteriaIn | None = None
    learning_outcomes: list[Short] | None = Field(default=None, description="EU element: learning outcomes")
    image: HttpUrl | None = None
    assessed: bool | None = Field(
        default=None, description="individually assessed: a diploma; not assessed: a certificate of participation"
    )
    achievement_type: Annotated[str, _one_of(ACHIEVEMENT_TYPES, "achievementType")] | None = None
    alignments: list[AlignmentIn] | None = None
    result_descriptions: list[ResultDescriptionIn] | None = None
    credits_available: Annotated[float, Field(ge=0, le=1000), Signable] | None = Field(default=None, description="ECTS credits")
    notional_workload_hours: Annotated[float, Field(gt=0, le=100_000), Signable] | None = None
    eqf_level: Annotated[int, Field(ge=1, le=8)] | None = Field(default=None, description="EU element: EQF level 1-8")
    assessment_type: Short | None = None
    participation_form: Short | None = None
    quality_assurance: Short | None = None
    supervision: Literal[
        "unsupervised-no-identity-verification",
        "supervised-no-identity-verification",
        "supervised-with-identity-verification",
    ] | None = None
    prerequisites: Short | None = None
    stackability: Literal["stand-alone", "stackable"] | None = None
    further_information: Short | None = None
    language: Language | None = Field(
        default=None,
        description="the language the name, description and criteria are written in (default: the issuer's default language)",
    )
    translations: dict[Language, TranslationIn] | None = Field(
        default=None,
        description="the name, description and criteria in other languages, by language code: "
        "credentials awarded in one of them carry its text",
    )
    in_language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")] | None = Field(
        default=None,
        description="deprecated: use language. A more precise tag for it (e.g. nl-BE); when language is not given, "
        "a supported language here is taken as it",
    )
    tags: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] | None = None
    field_of_study: Short | None = None
    human_code: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    provider: ProviderIn | None = None


class AchievementCreate(AchievementFields):
    name: Name
    status: Literal["draft", "published"] = "draft"


class AchievementUpdate(AchievementFields):
    status: Literal["draft", "published"] | None = None


class AchievementOut(BaseModel):
    id: str
    issuer_id: str
    status: Literal["draft", "published", "retired"] = Field(
        description="retired: awards no new credentials; those issued stay valid and its versions stay served"
    )
    version: int = Field(description="the latest published version (0: never published)")
    definition: dict[str, Any]
    missing_elements: list[str] = Field(description="EU elements still missing; publishing needs none")
    document: dict[str, Any] | None = Field(description="the OB 3.0 Achievement of the latest published version")
    created_at: datetime
    updated_at: datetime


class AchievementList(BaseModel):
    items: list[AchievementOut]


class VersionOut(BaseModel):
    version: int
    published_at: datetime
    document: dict[str, Any] = Field(description="the OB 3.0 Achievement credentials awarded with this version embed")


class VersionList(BaseModel):
    items: list[VersionOut]


class FieldChangeOut(BaseModel):
    key: str = Field(description="the OB 3.0 term, or alignment:<element> for an EU element")
    label: str
    before: str = Field(description="the value in the first version, in words (empty: not stated)")
    after: str
    changed: bool


class VersionDiff(BaseModel):
    """Two versions side by side: every field either states, in form order."""

    from_version: int
    to_version: int
    fields: list[FieldChangeOut]


class AchievementPreview(BaseModel):
    """What a credential for the current definition would look like: never signed, never stored."""

    preview: Literal[True] = True
    signed: Literal[False] = False
    missing_elements: list[str] = Field(description="EU elements still missing; publishing needs none")
    document: dict[str, Any] = Field(description="the unsigned credential a sample learner would get: no proof, no status entry")
