"""Open Badges 3.0 documents (VC 2.0 shaped) as pydantic models, plus our micro-credential block.

https://www.imsglobal.org/spec/ob/v3p0/#data-model

Models are built with snake_case names and serialize to the spec's camelCase (both names are
accepted on input). Every model forbids unknown fields: a property that no bundled context
defines would be dropped silently by JSON-LD when signing, so it must not get this far.
``to_jsonld()`` is the only way a credential leaves this module: it re-validates, drops empty
values, and writes exactly the ``@context`` entries whose terms the document uses.

The models are for building credentials and reading our own. A signed credential must be
verified as the dict it arrived as: re-serializing it normalises datetimes to whole UTC seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Self, get_origin

from pydantic import (
    AfterValidator,
    AllowInfNan,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    StrictFloat,
    StrictInt,
    StringConstraints,
    ValidationError,
    model_serializer,
    model_validator,
)
from pydantic.alias_generators import to_camel

from .errors import ContextError, MalformedError
from .loader import CONTEXTS, DocumentLoader
from .timeutil import format_datetime

__all__ = [
    "ACHIEVEMENT_TYPES",
    "ALIGNMENT_TARGET_TYPES",
    "IDENTIFIER_TYPES",
    "RESULT_TYPES",
    "Achievement",
    "AchievementCredential",
    "AchievementSubject",
    "Address",
    "Alignment",
    "CredentialSchema",
    "CredentialStatus",
    "Criteria",
    "EndorsementCredential",
    "EndorsementSubject",
    "Evidence",
    "GeoCoordinates",
    "IdentifierEntry",
    "IdentityObject",
    "Image",
    "MicroCredentialElements",
    "OpenBadgeCredential",
    "Profile",
    "Proof",
    "RefreshService",
    "Related",
    "Result",
    "ResultDescription",
    "ResultStatus",
    "RubricCriterionLevel",
    "Supervision",
    "TermsOfUse",
    "hashed_email_identifier",
    "identity_hash",
]

# --- vocabularies (spec appendix B.1.28-B.1.32); "ext:..." extends the extensible ones ----------

ACHIEVEMENT_TYPES = frozenset(
    (
        "Achievement",
        "ApprenticeshipCertificate",
        "Assessment",
        "Assignment",
        "AssociateDegree",
        "Award",
        "Badge",
        "BachelorDegree",
        "Certificate",
        "CertificateOfCompletion",
        "Certification",
        "CommunityService",
        "Competency",
        "Course",
        "CoCurricular",
        "Degree",
        "Diploma",
        "DoctoralDegree",
        "Fieldwork",
        "GeneralEducationDevelopment",
        "JourneymanCertificate",
        "LearningProgram",
        "License",
        "Membership",
        "ProfessionalDoctorate",
        "QualityAssuranceCredential",
        "MasterCertificate",
        "MasterDegree",
        "MicroCredential",
        "ResearchDoctorate",
        "SecondarySchoolDiploma",
    )
)
IDENTIFIER_TYPES = frozenset(
    (
        "name",
        "sourcedId",
        "systemId",
        "productId",
        "userName",
        "accountId",
        "emailAddress",
        "nationalIdentityNumber",
        "isbn",
        "issn",
        "lisSourcedId",
        "oneRosterSourcedId",
        "sisSourcedId",
        "ltiContextId",
        "ltiDeploymentId",
        "ltiToolId",
        "ltiPlatformId",
        "ltiUserId",
        "identifier",
    )
)
RESULT_TYPES = frozenset(
    (
        "GradePointAverage",
        "LetterGrade",
        "Percent",
        "PerformanceLevel",
        "PredictedScore",
        "RawScore",
        "Result",
        "RubricCriterion",
        "RubricCriterionLevel",
        "RubricScore",
        "ScaledScore",
        "Status",
    )
)
ALIGNMENT_TARGET_TYPES = frozenset(
    (
        "ceasn:Competency",
        "ceterms:Credential",
        "CFItem",
        "CFRubric",
        "CFRubricCriterion",
        "CFRubricCriterionLevel",
        "CTDL",
    )
)
ResultStatus = Literal["Completed", "Enrolled", "Failed", "InProgress", "OnHold", "Provisional", "Withdrew"]
#: EU Recommendation, Annex I, optional element 2.
Supervision = Literal[
    "unsupervised-no-identity-verification",
    "supervised-no-identity-verification",
    "supervised-with-identity-verification",
]

_EXT_TERM = re.compile(r"^ext:[A-Za-z0-9.|_-]+$")
_HASH = re.compile(r"^(sha256\$[0-9a-fA-F]{64}|md5\$[0-9a-fA-F]{32})$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S")
_OB_CONTEXT = re.compile(r"^https://purl\.imsglobal\.org/spec/ob/v3p0/context(-3\.\d\.\d)?\.json$")


# --- field types ----------------------------------------------------------------------------------


def _absolute_uri(value: str) -> str:
    # A relative IRI would be resolved against a base by JSON-LD, or dropped: never what was meant.
    if not _SCHEME.match(value):
        raise ValueError(f"{value!r} is not an absolute URI")
    return value


def _vocabulary(known: frozenset[str]) -> AfterValidator:
    def check(value: str) -> str:
        if value not in known and not _EXT_TERM.match(value):
            raise ValueError(f"{value!r} is not in the vocabulary and does not start with 'ext:'")
        return value

    return AfterValidator(check)


def _utc_seconds(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(microsecond=0)


def _non_negative(value: float) -> float:
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _positive(value: float) -> float:
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Uri = Annotated[str, AfterValidator(_absolute_uri)]
Text = Annotated[str, StringConstraints(min_length=1)]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,4}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$")]
#: A DateTimeZ held as whole seconds in UTC, written ``YYYY-MM-DDTHH:MM:SSZ``.
DateTimeZ = Annotated[AwareDatetime, AfterValidator(_utc_seconds), PlainSerializer(format_datetime, return_type=str)]
# int stays int: 2 and 2.0 are different RDF literals (xsd:integer / xsd:double).
_Number = StrictInt | Annotated[StrictFloat, AllowInfNan(False)]
NonNegativeNumber = Annotated[_Number, AfterValidator(_non_negative)]
PositiveNumber = Annotated[_Number, AfterValidator(_positive)]
TypeList = Annotated[list[Text], BeforeValidator(_as_list), Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _one_or_many(cls, data: Any) -> Any:
        # Compact JSON-LD writes a one-item set as the bare item; read both, always write a list.
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        for name, field in cls.model_fields.items():
            if get_origin(field.annotation) is not list:
                continue
            for key in {name, field.alias or name}:
                if key in data and isinstance(data[key], (Mapping, str)):
                    data[key] = [data[key]]
        return data


class _Typed(_Model):
    """A node whose ``type`` is a set that must contain one of each group in ``_required_types``."""

    _required_types: ClassVar[tuple[tuple[str, ...], ...]] = ()
    if TYPE_CHECKING:
        type: list[str]  # each subclass declares it after its id, so that id is written first

    @model_validator(mode="after")
    def _check_type(self) -> Self:
        for group in self._required_types:
            if not set(group) & set(self.type):
                raise ValueError(f"type must include {' or '.join(map(repr, group))}")
        return self


# --- supporting classes ---------------------------------------------------------------------------


class Image(_Model):
    id: Uri
    type: Literal["Image"] = "Image"
    caption: str | None = None


class GeoCoordinates(_Model):
    type: Literal["GeoCoordinates"] = "GeoCoordinates"
    latitude: Annotated[_Number, Field(ge=-90, le=90)]
    longitude: Annotated[_Number, Field(ge=-180, le=180)]


class Address(_Typed):
    _required_types = (("Address",),)
    type: TypeList = Field(default_factory=lambda: ["Address"])
    address_country: str | None = None
    address_country_code: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    address_region: str | None = None
    address_locality: str | None = None
    street_address: str | None = None
    post_office_box_number: str | None = None
    postal_code: str | None = None
    geo: GeoCoordinates | None = None


class IdentifierEntry(_Model):
    type: Literal["IdentifierEntry"] = "IdentifierEntry"
    identifier: Text
    identifier_type: Annotated[str, _vocabulary(IDENTIFIER_TYPES)]


class Profile(_Typed):
    """An issuer, a training provider (``creator``/``source``) or an endorser."""

    _required_types = (("Profile",),)
    id: Uri
    type: TypeList = Field(default_factory=lambda: ["Profile"])
    name: str | None = None
    url: Uri | None = None
    phone: str | None = None
    description: str | None = None
    endorsement: list[EndorsementCredential] = []
    image: Image | None = None
    email: str | None = None
    address: Address | None = None
    other_identifier: list[IdentifierEntry] = []
    official: str | None = None
    parent_org: Profile | None = None
    family_name: str | None = None
    given_name: str | None = None
    additional_name: str | None = None
    patronymic_name: str | None = None
    honorific_prefix: str | None = None
    honorific_suffix: str | None = None
    family_name_prefix: str | None = None
    date_of_birth: date | None = None


class Alignment(_Typed):
    """E.g. the EQF level: ``targetFramework`` "European Qualifications Framework", ``targetCode`` "5"."""

    _required_types = (("Alignment",),)
    type: TypeList = Field(default_factory=lambda: ["Alignment"])
    target_code: str | None = None
    target_description: str | None = None
    target_name: Text
    target_framework: str | None = None
    target_type: Annotated[str, _vocabulary(ALIGNMENT_TARGET_TYPES)] | None = None
    target_url: Uri


class Criteria(_Model):
    id: Uri | None = None
    narrative: str | None = None

    @model_validator(mode="after")
    def _say_something(self) -> Self:
        if self.id is None and not self.narrative:
            raise ValueError("criteria need an id (a criteria page) or a narrative")
        return self


class Related(_Typed):
    _required_types = (("Related",),)
    id: Uri
    type: TypeList = Field(default_factory=lambda: ["Related"])
    in_language: LanguageCode | None = None
    version: str | None = None


class RubricCriterionLevel(_Typed):
    _required_types = (("RubricCriterionLevel",),)
    id: Uri
    type: TypeList = Field(default_factory=lambda: ["RubricCriterionLevel"])
    alignment: list[Alignment] = []
    description: str | None = None
    level: str | None = None
    name: Text
    points: str | None = None


class ResultDescription(_Typed):
    _required_types = (("ResultDescription",),)
    id: Uri
    type: TypeList = Field(default_factory=lambda: ["ResultDescription"])
    alignment: list[Alignment] = []
    allowed_value: list[str] = []
    name: Text
    required_level: Uri | None = None
    required_value: str | None = None
    result_type: Annotated[str, _vocabulary(RESULT_TYPES)]
    rubric_criterion_level: list[RubricCriterionLevel] = []
    value_max: str | None = None
    value_min: str | None = None


class Result(_Typed):
    _required_types = (("Result",),)
    type: TypeList = Field(default_factory=lambda: ["Result"])
    achieved_level: Uri | None = None
    alignment: list[Alignment] = []
    result_description: Uri | None = None
    status: ResultStatus | None = None
    value: str | None = None


class Evidence(_Typed):
    _required_types = (("Evidence",),)
    id: Uri | None = None
    type: TypeList = Field(default_factory=lambda: ["Evidence"])
    narrative: str | None = None
    name: str | None = None
    description: str | None = None
    genre: str | None = None
    audience: str | None = None


class IdentityObject(_Model):
    """A learner identifier, by default a salted hash (spec B.1.12)."""

    type: Literal["IdentityObject"] = "IdentityObject"
    hashed: bool
    identity_hash: Text
    identity_type: Annotated[str, _vocabulary(IDENTIFIER_TYPES)]
    salt: str | None = None

    @model_validator(mode="after")
    def _check_hash(self) -> Self:
        if self.hashed and not _HASH.match(self.identity_hash):
            raise ValueError("a hashed identityHash must be 'sha256$' + 64 hex digits (or 'md5$' + 32)")
        return self

    def matches(self, identity: str) -> bool:
        """Whether ``identity`` (e.g. the email a learner gives) is the one this object names."""
        if not self.hashed:
            return hmac.compare_digest(self.identity_hash.encode(), identity.encode())
        algorithm, _, digest = self.identity_hash.partition("$")
        data = (identity + (self.salt or "")).encode("utf-8")
        expected = hashlib.new(algorithm, data).hexdigest()
        return hmac.compare_digest(expected, digest.lower())


class MicroCredentialElements(_Typed):
    """EU micro-credential elements that OB 3.0 has no property for (our extension).

    Context https://w3id.org/microcred/v1, schema ``schemas/microcred_v1_extension_schema.json``.
    The other elements map to OB 3.0 properties (see /work/shared/microcredential-elements.md).
    """

    _required_types = (("MicroCredentialElements",),)
    type: TypeList = Field(default_factory=lambda: ["MicroCredentialElements"])
    assessment_type: Text
    participation_form: Text
    quality_assurance: Text
    supervision: Supervision | None = None
    prerequisites: Text | None = None
    stackability: Literal["stand-alone", "stackable"] | None = None
    notional_workload_hours: PositiveNumber | None = None
    further_information: Text | None = None


class Achievement(_Typed):
    _required_types = (("Achievement",),)
    id: Uri
    type: TypeList = Field(default_factory=lambda: ["Achievement"])
    alignment: list[Alignment] = []
    achievement_type: Annotated[str, _vocabulary(ACHIEVEMENT_TYPES)] | None = None
    creator: Profile | None = None
    credits_available: NonNegativeNumber | None = None
    criteria: Criteria
    description: Text
    endorsement: list[EndorsementCredential] = []
    field_of_study: str | None = None
    human_code: str | None = None
    image: Image | None = None
    in_language: LanguageCode | None = None
    name: Text
    other_identifier: list[IdentifierEntry] = []
    related: list[Related] = []
    result_description: list[ResultDescription] = []
    specialization: str | None = None
    tag: list[str] = []
    version: str | None = None
    micro_credential: MicroCredentialElements | None = None


class AchievementSubject(_Typed):
    _required_types = (("AchievementSubject",),)
    id: Uri | None = None
    type: TypeList = Field(default_factory=lambda: ["AchievementSubject"])
    activity_end_date: DateTimeZ | None = None
    activity_start_date: DateTimeZ | None = None
    credits_earned: NonNegativeNumber | None = None
    achievement: Achievement
    identifier: list[IdentityObject] = []
    image: Image | None = None
    license_number: str | None = None
    narrative: str | None = None
    result: list[Result] = []
    role: str | None = None
    source: Profile | None = None
    term: str | None = None

    @model_validator(mode="after")
    def _check_subject(self) -> Self:
        if self.id is None and not self.identifier:
            raise ValueError("credentialSubject needs an id or at least one identifier")
        described = {rd.id for rd in self.achievement.result_description}
        for result in self.result:
            if result.result_description is not None and result.result_description not in described:
                raise ValueError(
                    f"result refers to resultDescription {result.result_description!r}, "
                    "which the achievement does not describe"
                )
        return self


class EndorsementSubject(_Typed):
    _required_types = (("EndorsementSubject",),)
    id: Uri
    type: TypeList = Field(default_factory=lambda: ["EndorsementSubject"])
    endorsement_comment: str | None = None


class CredentialSchema(_Model):
    id: Uri
    type: Text = "1EdTechJsonSchemaValidator2019"


class CredentialStatus(_Model):
    """A status entry; the fields past ``type`` are BitstringStatusListEntry's (VC 2.0 context)."""

    id: Uri | None = None
    type: Text
    status_purpose: str | None = None
    status_list_index: str | None = None
    status_list_credential: Uri | None = None
    status_size: StrictInt | None = None
    status_reference: Uri | None = None


class RefreshService(_Model):
    id: Uri
    type: Text


class TermsOfUse(_Model):
    id: Uri | None = None
    type: Text


class Proof(_Model):
    """A Data Integrity proof as read; ``created`` stays the exact string that was signed."""

    id: Uri | None = None
    type: Text
    cryptosuite: str | None = None
    created: str | None = None
    expires: str | None = None
    verification_method: Uri | None = None
    proof_purpose: str | None = None
    proof_value: str | None = None
    challenge: str | None = None
    domain: str | None = None
    nonce: str | None = None
    previous_proof: str | list[str] | None = None


# --- credentials ----------------------------------------------------------------------------------


class _Credential(_Typed):
    """What AchievementCredential and EndorsementCredential share: VC 2.0 plus JSON-LD I/O."""

    id: Uri
    type: TypeList
    name: Text
    description: str | None = None
    issuer: Profile | Uri
    valid_from: DateTimeZ
    valid_until: DateTimeZ | None = None
    awarded_date: DateTimeZ | None = None
    evidence: list[Evidence] = []
    credential_schema: list[CredentialSchema] = []
    credential_status: CredentialStatus | None = None
    refresh_service: RefreshService | None = None
    terms_of_use: list[TermsOfUse] = []
    proof: list[Proof] = []

    @model_validator(mode="before")
    @classmethod
    def _read_context(cls, data: Any) -> Any:
        # An embedded credential (an endorsement) carries its own @context; we write our own.
        if isinstance(data, Mapping) and "@context" in data:
            problem = _context_problem(data["@context"])
            if problem:
                raise ValueError(problem)
            data = {key: value for key, value in data.items() if key != "@context"}
        return data

    @model_serializer(mode="wrap")
    def _write_context(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        body = _prune(handler(self))
        return {"@context": _contexts_for(body), **body}

    def to_jsonld(self) -> dict[str, Any]:
        """The credential as compact JSON-LD, ready to sign; re-validated, so edits made after
        construction cannot slip through (raises ``ValueError``, e.g. for a subject without id)."""
        document = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        type(self).model_validate(document)
        return document

    @classmethod
    def from_jsonld(cls, document: Mapping[str, Any]) -> Self:
        """Read a credential; raises ContextError or MalformedError (with a JSON pointer)."""
        if not isinstance(document, Mapping):
            raise MalformedError("a credential must be a JSON object")
        if "@context" not in document:
            raise ContextError("the credential has no @context", pointer="/@context")
        problem = _context_problem(document["@context"])
        if problem:
            raise ContextError(problem, pointer="/@context")
        try:
            return cls.model_validate(document)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise MalformedError(f"{cls.__name__}: {first['msg']}", pointer=_pointer(first["loc"])) from exc


class EndorsementCredential(_Credential):
    _required_types = (("VerifiableCredential",), ("EndorsementCredential",))
    type: TypeList = Field(default_factory=lambda: ["VerifiableCredential", "EndorsementCredential"])
    credential_subject: EndorsementSubject


class AchievementCredential(_Credential):
    _required_types = (("VerifiableCredential",), ("AchievementCredential", "OpenBadgeCredential"))
    type: TypeList = Field(default_factory=lambda: ["VerifiableCredential", "OpenBadgeCredential"])
    image: Image | None = None
    credential_subject: AchievementSubject
    endorsement: list[EndorsementCredential] = []


OpenBadgeCredential = AchievementCredential

Profile.model_rebuild()
Achievement.model_rebuild()
AchievementSubject.model_rebuild()
AchievementCredential.model_rebuild()


# --- identity hashes ------------------------------------------------------------------------------


def identity_hash(identity: str, salt: str) -> str:
    """OB 3.0 IdentityHash: ``'sha256$'`` + hex SHA-256 of the UTF-8 bytes of identity + salt.

    The spec (B.7, IdentityHash) normalises nothing: the identity is hashed exactly as given.
    """
    return "sha256$" + hashlib.sha256((identity + salt).encode("utf-8")).hexdigest()


def hashed_email_identifier(email: str, *, salt: str | None = None) -> IdentityObject:
    """A salted, hashed ``emailAddress`` IdentityObject, so the credential does not reveal the email.

    Only surrounding whitespace is stripped; case is kept, because whoever checks the hash
    hashes the address as the learner gives it, and the spec defines no normalisation.
    """
    address = email.strip()
    if "@" not in address:
        raise ValueError(f"{email!r} is not an email address")
    salt = secrets.token_hex(16) if salt is None else salt
    return IdentityObject(
        hashed=True, identity_hash=identity_hash(address, salt), identity_type="emailAddress", salt=salt
    )


# --- JSON-LD helpers ------------------------------------------------------------------------------


@cache
def _defined_terms(url: str) -> frozenset[str]:
    """Terms a bundled context defines, type-scoped ones included (``id``/``type`` excepted)."""
    terms: set[str] = set()
    stack = [DocumentLoader().document(url)["@context"]]
    while stack:
        context = stack.pop()
        for term, definition in context.items():
            if not term.startswith("@") and term not in ("id", "type"):
                terms.add(term)
            if isinstance(definition, dict) and isinstance(definition.get("@context"), dict):
                stack.append(definition["@context"])
    return frozenset(terms)


def _used_terms(document: Any, found: set[str]) -> set[str]:
    """Property names and ``type`` values used in a compact document (embedded @contexts skipped)."""
    if isinstance(document, list):
        for item in document:
            _used_terms(item, found)
    elif isinstance(document, dict):
        for key, value in document.items():
            if key == "@context":
                continue
            found.add(key)
            if key == "type":
                found.update(v for v in _as_list(value) if isinstance(v, str))
            _used_terms(value, found)
    return found


def _contexts_for(document: Mapping[str, Any]) -> list[str]:
    """VC 2.0 and OB 3.0.3, then each optional context only if the document uses one of its terms."""
    used = _used_terms(dict(document), set())
    optional = [CONTEXTS.OB_EXTENSIONS, CONTEXTS.MICROCRED_V1]
    return [CONTEXTS.VC_V2, CONTEXTS.OB_V3, *(url for url in optional if used & _defined_terms(url))]


def _context_problem(context: Any) -> str | None:
    if not isinstance(context, list) or len(context) < 2:
        return "@context must be a list of at least two contexts"
    if context[0] != CONTEXTS.VC_V2:
        return f"the first @context must be {CONTEXTS.VC_V2}"
    if not isinstance(context[1], str) or not _OB_CONTEXT.match(context[1]):
        return "the second @context must be an Open Badges 3.0 context"
    loader = DocumentLoader()
    for url in context[1:]:
        if not isinstance(url, str) or not loader.knows(url):
            return f"@context {url!r} is not a context microcred bundles"
    return None


def _prune(value: Any) -> Any:
    """Drop empty lists (pydantic's exclude_none already dropped None)."""
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v != []}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def _pointer(loc: tuple[int | str, ...]) -> str:
    """JSON pointer from a pydantic error location, minus union-branch tags such as 'Profile'."""
    tags = {"str", "int", "float", "bool", "list", "dict"}
    parts = [
        str(part) for part in loc if isinstance(part, int) or not (part in tags or "[" in part or part[:1].isupper())
    ]
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)
