from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from ..schemas_common import ApiModel

Name = Annotated[str, StringConstraints(min_length=1, max_length=512)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Rule = Literal["all", "at_least"]


class ComponentIn(ApiModel):
    achievement_id: Id
    issuer_id: Id | None = Field(
        default=None, description="another issuer on this service whose published achievement this pathway accepts (default: this issuer)"
    )


class PathwayCreate(ApiModel):
    name: Name
    achievement_id: Id = Field(description="the issuer's published achievement that completing the pathway earns")
    components: list[ComponentIn] = Field(min_length=1, max_length=100)
    rule: Rule = Field(default="all", description="all components, or at least min_count of them")
    min_count: Annotated[int, Field(ge=1, le=100)] | None = Field(default=None, description="with rule at_least: how many components")
    evaluate_existing: bool = Field(
        default=False,
        description="also evaluate the credentials awarded before the pathway existed (a job; see evaluation_job). "
        "Without it only later awards complete the pathway",
    )


class PathwayUpdate(ApiModel):
    name: Name | None = None
    components: list[ComponentIn] | None = Field(default=None, min_length=1, max_length=100, description="affects later evaluations only")
    rule: Rule | None = None
    min_count: Annotated[int, Field(ge=1, le=100)] | None = None
    status: Literal["active", "archived"] | None = Field(default=None, description="an archived pathway completes for nobody")


class ComponentOut(BaseModel):
    issuer_id: str
    achievement_id: str
    name: str | None = Field(description="the achievement's name (its latest published version)")


class JobLink(BaseModel):
    id: str
    url: str = Field(description="where to follow it (GET): evaluated learners are `processed`, pathway credentials issued now `awarded`, learners who had it already `duplicates`")


class PathwayOut(BaseModel):
    id: str
    issuer_id: str
    name: str
    achievement_id: str
    rule: Rule
    min_count: int | None
    status: Literal["active", "archived"]
    components: list[ComponentOut]
    evaluation_job: JobLink | None = Field(description="the evaluation of earlier awards, when asked for on creation")
    created_at: datetime
    updated_at: datetime


class PathwayList(BaseModel):
    items: list[PathwayOut]
