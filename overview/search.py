"""Search across the user's engagements, SLAs, goals, issues and check-in notes.

PostgreSQL: full-text search (English stemming, `websearch_to_tsquery`, so any text a person
types is a valid query) over `to_tsvector` of each kind's fields, which the GIN indexes of
migration 0001 hold; SQLite (trying Accord on a bare machine): `icontains` on the same fields.
Tenancy as everywhere: each kind's `restrict(user)` (engagements: `visible_to`).
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import F, IntegerField, Q, Value

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


def _matches(searched: Searched, index: int, user, query: str):
    """(kind's index, pk, engagement id, text, section value) of the kind's matches, the same
    columns for every kind so that they make one UNION ALL."""
    return (
        _matching(searched, user, query)
        .order_by()
        .annotate(
            searched_kind=Value(index, output_field=IntegerField()),
            searched_engagement=F("pk" if searched.model is Engagement else "engagement_id"),
            searched_text=F(searched.title),
            searched_section=F(searched.section_by) if searched.section_by else Value(""),
        )
        .values_list(
            "searched_kind", "pk", "searched_engagement", "searched_text", "searched_section"
        )
    )


def matches(user, query: str):
    """Every kind's matches (`_matches`) in one UNION ALL, at most LIMIT + 1 of each kind
    where the database takes a LIMIT inside a UNION (PostgreSQL; not SQLite)."""
    parts = [_matches(searched, index, user, query) for index, searched in enumerate(SEARCHED)]
    if connection.features.supports_slicing_ordering_in_compound:
        parts = [part[: LIMIT + 1] for part in parts]
    return parts[0].union(*parts[1:], all=True)


def search(user, query: str) -> SearchResults:
    """The user's records matching `query`, grouped by engagement (engagements by name).

    Two queries: every kind's matches in one UNION ALL, then their engagements. On
    PostgreSQL each kind reads at most LIMIT + 1 matches, without ORDER BY, so it stops
    early from its index however many there are (SQLite takes no LIMIT inside a UNION: it
    reads them all, and the limit applies here); the matches are then ordered here: by
    kind, newest first, within an engagement.
    """
    by_kind = defaultdict(list)
    for row in matches(user, query):
        by_kind[row[0]].append(row)
    found = []
    truncated = []
    for index, searched in enumerate(SEARCHED):
        rows = sorted(by_kind[index], key=lambda row: -row[1])
        if len(rows) > LIMIT:
            truncated.append(searched.label)
        found += rows[:LIMIT]
    engagements = Engagement.objects.filter(pk__in={row[2] for row in found}).select_related(
        "client", "provider"
    )
    groups = {engagement.pk: EngagementHits(engagement) for engagement in engagements}
    urls = {pk: group.engagement.get_absolute_url() for pk, group in groups.items()}
    for index, _, engagement_id, text, section in found:
        searched = SEARCHED[index]
        url = urls[engagement_id] + searched.section.format(section)
        groups[engagement_id].hits.append(Hit(label=searched.label, text=text, url=url))
    ordered = sorted(groups.values(), key=lambda g: (g.engagement.name.casefold(), g.engagement.pk))
    return SearchResults(query=query, groups=ordered, truncated=truncated)
