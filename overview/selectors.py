"""Reads across engagements: an organisation's roll-up and engagements side by side.

Tenancy is the engagements' own (`Engagement.objects.visible_to`); an organisation's page is
for its members (`Organization.objects.of_member`).
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from statistics import fmean

from django.db.models import Q
from django.http import Http404

from feedback.models import PULSE_QUESTIONS
from feedback.selectors import survey_publications
from relationships.models import Engagement, Organization, Side, other_side
from relationships.periods import period_starting
from relationships.scoring_config import DIMENSIONS
from scorecards.models import Band, Scorecard
from scorecards.selectors import (
    closed_history,
    latest_of_own_period_only,
    with_latest_scorecard,
)

# How the organisation's counterparts on a side see it, as its members say it.
VIEW_TITLES = {
    Side.CLIENT: "How our clients see us",
    Side.PROVIDER: "How our providers see us",
}
SURVEYED = (Engagement.Status.ACTIVE, Engagement.Status.ARCHIVED)
COMPARE_LIMIT = 4
COMPARE_PERIODS = 12


def member_organization(user, pk) -> Organization:
    """The organisation with this id if the user is one of its members; Http404 otherwise
    (to anyone else it may as well not exist)."""
    try:
        return Organization.objects.of_member(user).get(pk=pk)
    except (Organization.DoesNotExist, ValueError, TypeError):
        raise Http404("No such organisation.") from None


def _mean(values) -> float | None:
    values = [float(value) for value in values if value is not None]
    return round(fmean(values), 1) if values else None


def _band_counts(engagements) -> list[tuple[str, str, int]]:
    """(band, label, engagements) for every band, and engagements with no scorecard yet."""
    counts = defaultdict(int)
    for engagement in engagements:
        counts[engagement.latest_band or ""] += 1
    return [(value, label, counts[value]) for value, label in Band.choices] + [
        ("", "No scorecard yet", counts[""])
    ]


@dataclass(frozen=True)
class CounterpartGroup:
    """The organisation's engagements with one counterpart, with their bands counted."""

    counterpart: Organization
    engagements: list[Engagement]
    bands: list[tuple[str, str, int]]
    overall: float | None  # mean of the latest closed overall scores


@dataclass(frozen=True)
class StatementFigure:
    """A survey statement: the mean of the counterparts' published ratings, one per
    engagement, and how many engagements stand behind it."""

    field: str
    question: str
    mean: float | None
    engagements: int


@dataclass(frozen=True)
class CounterpartView:
    """How the counterparts on `side` see the organisation: across the engagements where they
    are that side, their published view of each one's latest closed period."""

    side: str
    title: str
    engagements: int  # where the counterparts are on `side`
    statements: list[StatementFigure]

    @property
    def published(self) -> int:
        return max((figure.engagements for figure in self.statements), default=0)


@dataclass(frozen=True)
class OrganisationRollup:
    organization: Organization
    engagements: list[Engagement]
    groups: list[CounterpartGroup]
    bands: list[tuple[str, str, int]]
    overall: float | None  # mean of the engagements' latest closed overall scores
    trend: float | None  # mean of their trends
    views: list[CounterpartView]


def organisation_engagements(user, organization: Organization) -> list[Engagement]:
    """The organisation's engagements the user sees, with their latest closed scorecard's
    figures (`latest_*`), parties and scoring configuration, in one query."""
    return list(
        with_latest_scorecard(
            Engagement.objects.visible_to(user)
            .filter(Q(client=organization) | Q(provider=organization))
            .select_related("client", "provider", "scoring_config")
        ).order_by("name", "pk")
    )


def counterpart_views(organization: Organization, engagements) -> list[CounterpartView]:
    """Per side the counterparts take, the published survey view of the organisation
    (`feedback.selectors.survey_publications`: closed periods, sides at the threshold), of
    each engagement's latest closed period. Two queries per distinct period, not per
    engagement."""
    by_period = defaultdict(list)
    for engagement in engagements:
        # A proposal never accepted has had no survey.
        if engagement.status in SURVEYED:
            by_period[engagement.latest_closed_period()].append(engagement)
    ratings = {side: defaultdict(list) for side in Side.values}  # side -> field -> means
    counted = defaultdict(int)
    for period, group in by_period.items():
        publications = survey_publications(group, period)
        for engagement in group:
            side = other_side(engagement.side_of_organization(organization.pk))
            counted[side] += 1
            published = publications[engagement.pk].sides.get(side)
            if published:
                for field, mean in published.means.items():
                    ratings[side][field].append(mean)
    return [
        CounterpartView(
            side=side,
            title=VIEW_TITLES[side],
            engagements=counted[side],
            statements=[
                StatementFigure(
                    field=field,
                    question=question,
                    mean=_mean(ratings[side][field]),
                    engagements=len(ratings[side][field]),
                )
                for field, question in PULSE_QUESTIONS
            ],
        )
        for side in Side.values
        if counted[side]
    ]


def organisation_rollup(user, organization: Organization) -> OrganisationRollup:
    """The organisation page and its API: engagements grouped by counterpart, bands counted,
    the latest closed overall and trend, and how the counterparts see the organisation.
    A fixed number of queries whatever the number of engagements (see counterpart_views)."""
    engagements = organisation_engagements(user, organization)
    by_counterpart = defaultdict(list)
    for engagement in engagements:
        side = engagement.side_of_organization(organization.pk)
        by_counterpart[engagement.organization_of(other_side(side))].append(engagement)
    groups = [
        CounterpartGroup(
            counterpart=counterpart,
            engagements=members,
            bands=_band_counts(members),
            overall=_mean(e.latest_overall for e in members),
        )
        for counterpart, members in sorted(
            by_counterpart.items(), key=lambda item: (item[0].name.casefold(), item[0].pk)
        )
    ]
    return OrganisationRollup(
        organization=organization,
        engagements=engagements,
        groups=groups,
        bands=_band_counts(engagements),
        overall=_mean(e.latest_overall for e in engagements),
        trend=_mean(e.latest_trend for e in engagements),
        views=counterpart_views(organization, engagements),
    )


# ---------------------------------------------------------------- compare
@dataclass(frozen=True)
class ComparedEngagement:
    engagement: Engagement
    scorecard: Scorecard | None  # the latest closed period's
    history: list[tuple]  # (period start, overall) of the last closed periods, oldest first


def engagements_compared(engagements) -> list[ComparedEngagement]:
    """The engagements (already the user's) with their latest closed scorecard and the
    overall scores of their last COMPARE_PERIODS closed periods. Two queries."""
    engagements = list(engagements)
    ids = [engagement.pk for engagement in engagements]
    latest = {
        scorecard.engagement_id: scorecard
        for scorecard in latest_of_own_period_only(Scorecard.objects.filter(engagement_id__in=ids))
    }
    history = closed_history(ids, COMPARE_PERIODS)
    return [
        ComparedEngagement(
            engagement=engagement,
            scorecard=latest.get(engagement.pk),
            history=history[engagement.pk],
        )
        for engagement in engagements
    ]


# The side-by-side table's figures of the latest closed scorecard: (label, field).
COMPARED_FIGURES = (
    ("Overall", "overall"),
    ("Client side", "client_score"),
    ("Provider side", "provider_score"),
    *((name.capitalize(), name) for name in DIMENSIONS),
    ("Perception gap", "perception_gap"),
)


def figure_rows(compared: list[ComparedEngagement]) -> list[tuple[str, list]]:
    """(figure, each engagement's value of it; None without a closed scorecard)."""
    return [
        (label, [getattr(item.scorecard, name, None) for item in compared])
        for label, name in COMPARED_FIGURES
    ]


def chart_rows(chart: dict) -> list[tuple[str, list]]:
    """The chart's numbers as table rows: (period, each engagement's overall)."""
    return [
        (label, [line["values"][index] for line in chart["lines"]])
        for index, label in enumerate(chart["labels"])
    ]


def compare_chart(compared: list[ComparedEngagement]) -> dict:
    """The chart's data: one line per engagement over the union of their periods (null where
    an engagement has no closed scorecard), labelled as the periods are named when the
    engagements share a period kind, else by their first day."""
    starts = sorted({start for item in compared for start, _ in item.history})
    kinds = {item.engagement.scorecard_period for item in compared}
    if len(kinds) == 1:
        kind = kinds.pop()
        labels = [period_starting(kind, start).label for start in starts]
    else:
        labels = [start.isoformat() for start in starts]
    return {
        "labels": labels,
        "lines": [
            {
                "label": item.engagement.name,
                "values": [_number(dict(item.history).get(start)) for start in starts],
            }
            for item in compared
        ],
    }


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)
