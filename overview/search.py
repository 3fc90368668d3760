"""Search across the user's engagements, SLAs, goals, issues and check-in notes.

PostgreSQL: full-text search (English stemming, `websearch_to_tsquery`, so any text a person
types is a valid query) over `to_tsvector` of each kind's fields, which the GIN indexes of
migration 0001 hold; SQLite (trying Accord on a bare machine): `icontains` on the same fields.
Tenancy as everywhere: each kind's `restrict(user)` (engagements: `visible_to`).
"""

from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Q

from feedback.models import CheckIn, Issue
from relationships.models import SLA, Engagement, SharedGoal

CONFIG = "english"
# Matches read per kind: more than this says "narrow your search" instead of reading on.
LIMIT = 50


@dataclass(frozen=True)
class Searched:
    """One kind of record searched: its fields, which names it, and where on the engagement
    page it is listed."""

    label: str
    model: type
    fields: tuple[str, ...]
    title: str
    section: str  # the engagement page's section listing it; "{}": the value of `section_by`
    section_by: str | None = None

    def vector(self) -> SearchVector:
        """The document a record is searched as; the GIN index holds exactly this expression."""
        return SearchVector(*self.fields, config=CONFIG)

    def records(self, user):
        if self.model is Engagement:
            return Engagement.objects.visible_to(user)
        return self.model.objects.restrict(user)


SEARCHED = (
    Searched("Engagement", Engagement, ("name",), "name", ""),
    Searched("SLA", SLA, ("name", "description"), "name", "#side-{}", "owner_side"),
    Searched("Goal", SharedGoal, ("title", "description", "target"), "title", "#goals"),
    Searched("Issue", Issue, ("title", "description"), "title", "#side-{}", "responsible_side"),
    Searched("Check-in", CheckIn, ("notes",), "notes", "#checkins"),
)


@dataclass(frozen=True)
class Hit:
    label: str
    text: str
    url: str


@dataclass
class EngagementHits:
    engagement: Engagement
    hits: list[Hit] = field(default_factory=list)


@dataclass(frozen=True)
class SearchResults:
    query: str
    groups: list[EngagementHits]
    truncated: list[str]  # the kinds with more than LIMIT matches

    @property
    def count(self) -> int:
        return sum(len(group.hits) for group in self.groups)


def full_text() -> bool:
    return connection.vendor == "postgresql"


def _matching(searched: Searched, user, query: str):
    records = searched.records(user)
    if full_text():
        return records.alias(document=searched.vector()).filter(
            document=SearchQuery(query, config=CONFIG, search_type="websearch")
        )
    condition = Q()
    for name in searched.fields:
        condition |= Q(**{f"{name}__icontains": query})
    return records.filter(condition)


def search(user, query: str) -> SearchResults:
    """The user's records matching `query`, grouped by engagement (engagements by name).

    One query per kind and one for the engagements: no ORDER BY, so PostgreSQL stops after
    LIMIT + 1 matches from the index however many there are; the matches read are then
    ordered here: by kind, newest first, within an engagement.
    """
    found = []
    truncated = []
    for searched in SEARCHED:
        engagement_field = "pk" if searched.model is Engagement else "engagement_id"
        rows = list(
            _matching(searched, user, query)
            .order_by()
            .values_list(
                "pk", engagement_field, searched.title, searched.section_by or searched.title
            )[: LIMIT + 1]
        )
        if len(rows) > LIMIT:
            truncated.append(searched.label)
            rows = rows[:LIMIT]
        found += [(searched, *row) for row in rows]
    engagements = Engagement.objects.filter(pk__in={row[2] for row in found}).select_related(
        "client", "provider"
    )
    groups = {engagement.pk: EngagementHits(engagement) for engagement in engagements}
    urls = {pk: group.engagement.get_absolute_url() for pk, group in groups.items()}
    for searched, _, engagement_id, text, section in sorted(
        found, key=lambda row: (SEARCHED.index(row[0]), -row[1])
    ):
        url = urls[engagement_id] + searched.section.format(section)
        groups[engagement_id].hits.append(Hit(label=searched.label, text=text, url=url))
    ordered = sorted(groups.values(), key=lambda g: (g.engagement.name.casefold(), g.engagement.pk))
    return SearchResults(query=query, groups=ordered, truncated=truncated)
