"""What the catalogue lists: every published achievement (its newest published version, so the
words are the ones credentials carry) and every active pathway. Drafts and retired achievements
are never listed (a retired one can no longer be earned, so HR should not plan on it).

The filters run over the versions' documents in Python: the EU elements live in JSON
alignments, and a catalogue of a few thousand entries filters in milliseconds.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..i18n import current_language
from ..achievements.document import EQF_FRAMEWORK
from ..credentials import eu_elements
from ..db.models import Achievement, AchievementVersion, Issuer, Pathway, PathwayComponent
from ..public import credentials
from ..public import words

__all__ = ["CatalogueEntry", "Filters", "Listing", "PathwayEntry", "PathwayView", "achievement_entry", "listing", "pathway_view"]

PAGE_SIZE = 20


@dataclass(frozen=True)
class CatalogueEntry:
    achievement_id: str
    issuer_id: str
    issuer_name: str
    name: str
    description: str | None
    #: the OB 3.0 achievementType (the entry is cached across requests: words are made when shown)
    achievement_type: str | None
    provider: str | None
    eqf_level: int | None
    field_of_study: str | None
    credits: float | None
    hours: float | None
    #: the EU elements in words, in the Recommendation's order
    elements: list[tuple[str, str]]

    @property
    def kind(self) -> str:
        """What kind of credential it is, in the reader's language."""
        return words.achievement_kind(self.achievement_type)


@dataclass(frozen=True)
class PathwayEntry:
    pathway_id: str
    issuer_id: str
    issuer_name: str
    name: str
    #: how many components complete it
    needed: int
    components: int


@dataclass(frozen=True)
class Filters:
    text: str = ""
    level: int | None = None
    field: str = ""
    provider: str = ""
    min_credits: float | None = None
    max_credits: float | None = None
    issuer_id: str | None = None

    def matches(self, entry: CatalogueEntry) -> bool:
        if self.level is not None and entry.eqf_level != self.level:
            return False
        if self.field and (entry.field_of_study or "").casefold() != self.field.casefold():
            return False
        if self.provider and (entry.provider or "").casefold() != self.provider.casefold():
            return False
        if self.min_credits is not None and (entry.credits is None or entry.credits < self.min_credits):
            return False
        if self.max_credits is not None and (entry.credits is None or entry.credits > self.max_credits):
            return False
        if self.text:
            haystack = " ".join(filter(None, (entry.name, entry.description, entry.provider, entry.issuer_name, entry.field_of_study))).casefold()
            return all(word in haystack for word in self.text.casefold().split())
        return True


@dataclass(frozen=True)
class Listing:
    achievements: list[CatalogueEntry]
    pathways: list[PathwayEntry]
    #: the achievements that match, before paging
    total: int
    page: int
    pages: int
    #: what the filters offer (every value present in the catalogue, not only on this page)
    levels: list[int]
    fields: list[str]
    providers: list[str]


def _eqf_level(document: dict[str, Any]) -> int | None:
    for alignment in document.get("alignment") or []:
        if isinstance(alignment, dict) and (alignment.get("targetFramework") == EQF_FRAMEWORK or alignment.get("targetType") == "ext:EQF"):
            try:
                return int(str(alignment.get("targetCode")))
            except ValueError:
                return None
    return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) else None


@dataclass(frozen=True)
class _Facts:
    """What the catalogue reads from a published version: immutable like the version itself."""

    name: str
    description: str | None
    achievement_type: str | None
    provider: str | None
    eqf_level: int | None
    field_of_study: str | None
    credits: float | None
    hours: float | None


def _facts(document: dict[str, Any]) -> _Facts:
    creator = document.get("creator")
    provider = creator.get("name") if isinstance(creator, dict) and isinstance(creator.get("name"), str) else None
    field = document.get("fieldOfStudy")
    description = document.get("description")
    return _Facts(
        name=str(document.get("name") or ""),
        description=description if isinstance(description, str) else None,
        achievement_type=kind if isinstance(kind := document.get("achievementType"), str) and kind else None,
        provider=provider,
        eqf_level=_eqf_level(document),
        field_of_study=field if isinstance(field, str) and field else None,
        credits=_number(document.get("creditsAvailable")),
        hours=_number(eu_elements.read(document).get(eu_elements.WORKLOAD)),
    )


#: (Version id, reader's language) -> its facts. A published version never changes, so what was
#: read from it once holds; the list then loads only the ids of what is published, not every document.
_FACTS: OrderedDict[tuple[str, str], _Facts] = OrderedDict()
_FACTS_KEPT = 50_000
#: (Version id, reader's language) -> the list's entry (the facts and the issuer's name at the time).
_ENTRIES: OrderedDict[tuple[str, str], CatalogueEntry] = OrderedDict()


def _in_language(document: dict[str, Any], translations: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    """The achievement as the reader reads it: its translation into the page's language when it
    has one (name, description, criteria), else its own text."""
    return (translations or {}).get(current_language()) or document


def _entry(achievement_id: str, issuer_id: str, issuer_name: str, facts: _Facts, elements: list[tuple[str, str]] | None = None) -> CatalogueEntry:
    return CatalogueEntry(
        achievement_id=achievement_id, issuer_id=issuer_id, issuer_name=issuer_name, name=facts.name, description=facts.description,
        achievement_type=facts.achievement_type, provider=facts.provider or issuer_name, eqf_level=facts.eqf_level, field_of_study=facts.field_of_study,
        credits=facts.credits, hours=facts.hours, elements=elements or [],
    )


def entry_of(achievement_id: str, issuer_id: str, issuer_name: str, document: dict[str, Any]) -> CatalogueEntry:
    """An entry with its EU elements in words (an achievement's own page)."""
    return _entry(achievement_id, issuer_id, issuer_name, _facts(document), credentials.elements(document))


def _published(issuer_id: str | None = None, *columns: Any) -> Any:
    query = (
        select(Achievement.id, Achievement.issuer_id, Issuer.name, *columns)
        .join(AchievementVersion, and_(AchievementVersion.achievement_id == Achievement.id, AchievementVersion.version == Achievement.version))
        .join(Issuer, Issuer.id == Achievement.issuer_id)
        .where(Achievement.status == "published")
    )
    return query.where(Achievement.issuer_id == issuer_id) if issuer_id is not None else query


async def entries(session: AsyncSession, *, issuer_id: str | None = None) -> list[CatalogueEntry]:
    """Every published achievement (of one issuer), by name; without their elements in words."""
    rows = (await session.execute(_published(issuer_id, AchievementVersion.id))).all()
    language = current_language()
    unknown = [version_id for *_, version_id in rows if (version_id, language) not in _FACTS]
    for start in range(0, len(unknown), 500):
        chunk = unknown[start : start + 500]
        read = select(AchievementVersion.id, AchievementVersion.document, AchievementVersion.translations).where(AchievementVersion.id.in_(chunk))
        for version_id, document, translations in await session.execute(read):
            _FACTS[(version_id, language)] = _facts(_in_language(document, translations))
    found = []
    for a_id, i_id, i_name, version_id in rows:
        entry = _ENTRIES.get((version_id, language))
        if entry is None or entry.issuer_name != i_name:  # the issuer renamed
            facts = _FACTS.get((version_id, language)) or _Facts("", None, None, None, None, None, None, None)
            entry = _ENTRIES[(version_id, language)] = _entry(a_id, i_id, i_name, facts)
        found.append(entry)
    for kept in (_FACTS, _ENTRIES):
        while len(kept) > _FACTS_KEPT:
            kept.popitem(last=False)
    return sorted(found, key=_by_name)


def _by_name(entry: CatalogueEntry) -> tuple[str, str]:
    return entry.name.casefold(), entry.achievement_id


async def pathways(session: AsyncSession, *, issuer_id: str | None = None) -> list[PathwayEntry]:
    query = select(Pathway, Issuer.name).join(Issuer, Issuer.id == Pathway.issuer_id).where(Pathway.status == "active")
    if issuer_id is not None:
        query = query.where(Pathway.issuer_id == issuer_id)
    rows = (await session.execute(query.order_by(Pathway.name, Pathway.id))).all()
    counts: dict[str, int] = {}
    if rows:
        for (pathway_id,) in await session.execute(select(PathwayComponent.pathway_id).where(PathwayComponent.pathway_id.in_([p.id for p, _ in rows]))):
            counts[pathway_id] = counts.get(pathway_id, 0) + 1
    out = []
    for pathway, issuer_name in rows:
        total = counts.get(pathway.id, 0)
        needed = pathway.min_count if pathway.rule == "at_least" and pathway.min_count else total
        out.append(PathwayEntry(pathway.id, pathway.issuer_id, issuer_name, pathway.name, needed, total))
    return out


async def listing(session: AsyncSession, *, filters: Filters, page: int = 1) -> Listing:
    every = await entries(session, issuer_id=filters.issuer_id)
    matching = [e for e in every if filters.matches(e)]
    pages = max(1, math.ceil(len(matching) / PAGE_SIZE))
    page = min(max(page, 1), pages)
    text = filters.text.casefold().split()
    listed_pathways = [p for p in await pathways(session, issuer_id=filters.issuer_id) if all(w in p.name.casefold() for w in text)]
    return Listing(
        achievements=matching[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        pathways=listed_pathways,
        total=len(matching),
        page=page,
        pages=pages,
        levels=sorted({e.eqf_level for e in every if e.eqf_level is not None}),
        fields=sorted({e.field_of_study for e in every if e.field_of_study}, key=str.casefold),
        providers=sorted({e.provider for e in every if e.provider}, key=str.casefold),
    )


async def achievement_entry(session: AsyncSession, achievement_id: str) -> CatalogueEntry | None:
    row = (await session.execute(_published(None, AchievementVersion.document, AchievementVersion.translations).where(Achievement.id == achievement_id))).first()
    if row is None:
        return None
    a_id, i_id, i_name, document, translations = row
    return entry_of(a_id, i_id, i_name, _in_language(document, translations))


@dataclass(frozen=True)
class PathwayView:
    pathway: PathwayEntry
    #: its courses, in the pathway's order (None: the achievement is no longer published)
    components: list[tuple[str, CatalogueEntry | None]]
    #: what completing it earns
    leads_to: CatalogueEntry | None
    leads_to_id: str


async def pathway_view(session: AsyncSession, pathway_id: str) -> PathwayView | None:
    row = (await session.execute(select(Pathway, Issuer.name).join(Issuer, Issuer.id == Pathway.issuer_id).where(Pathway.id == pathway_id, Pathway.status == "active"))).first()
    if row is None:
        return None
    pathway, issuer_name = row
    components: Sequence[PathwayComponent] = (
        await session.scalars(select(PathwayComponent).where(PathwayComponent.pathway_id == pathway_id).order_by(PathwayComponent.position, PathwayComponent.achievement_id))
    ).all()
    ids = [c.achievement_id for c in components] + [pathway.achievement_id]
    found = {
        a_id: entry_of(a_id, i_id, i_name, _in_language(doc, translations))
        for a_id, i_id, i_name, doc, translations in await session.execute(
            _published(None, AchievementVersion.document, AchievementVersion.translations).where(Achievement.id.in_(ids))
        )
    }
    needed = pathway.min_count if pathway.rule == "at_least" and pathway.min_count else len(components)
    entry = PathwayEntry(pathway.id, pathway.issuer_id, issuer_name, pathway.name, needed, len(components))
    return PathwayView(entry, [(c.achievement_id, found.get(c.achievement_id)) for c in components], found.get(pathway.achievement_id), pathway.achievement_id)
