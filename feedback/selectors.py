"""Read-side queries of the feedback domain, for the dashboard and the API."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import Avg, Count, F, Prefetch, Q, Sum, prefetch_related_objects

from feedback.models import PULSE_FIELDS, ActionItem, ContributionReview, PulseResponse
from relationships.models import Engagement, ScoringConfig, Side
from relationships.periods import CLOSED, Period


def reviews_with_completeness(queryset=None):
    """Reviews annotated with `complete`: each side has committed to an action, in one query."""
    queryset = ContributionReview.objects.all() if queryset is None else queryset
    live = Q(action_items__cancelled=False)
    return queryset.annotate(
        client_actions=Count("action_items", filter=live & Q(action_items__owner_side="client")),
        provider_actions=Count(
            "action_items", filter=live & Q(action_items__owner_side="provider")
        ),
    ).annotate(
        complete=Q(client_actions__gt=0) & Q(provider_actions__gt=0),
    )


def contribution_reviews(engagement: Engagement) -> list[ContributionReview]:
    """The engagement's contribution reviews with completeness and live action items by side.

    Each review's `sides` lists (side, label, its live action items).
    """
    live_items = ActionItem.objects.filter(cancelled=False).select_related("owner")
    reviews = list(
        reviews_with_completeness(ContributionReview.objects.filter(issue__engagement=engagement))
        .select_related("issue")
        .prefetch_related(Prefetch("action_items", live_items))
    )
    for review in reviews:
        items = review.action_items.all()
        review.sides = [
            (side, label, [item for item in items if item.owner_side == side])
            for side, label in Side.choices
        ]
    return reviews


# ---------------------------------------------------------------- pulse survey
@dataclass(frozen=True)
class PublishedSide:
    """What may be shown of one side's answers to a period's survey."""

    respondents: int
    answer_total: int  # sum over responses of the six answers
    means: dict[str, float]  # per question

    @property
    def overall(self) -> float:
        return sum(self.means.values()) / len(self.means)


@dataclass(frozen=True)
class SurveyPublication:
    """A period's survey for one engagement: its state, the threshold in force, and the
    sides whose figures are published (absent: not published, for whatever reason)."""

    state: str
    threshold: int
    sides: dict[str, PublishedSide]


def survey_publications(
    engagements: Iterable[Engagement], period: Period, today: date | None = None
) -> dict[int, SurveyPublication]:
    """The one rule of what a survey shows (PRODUCT.md §8), per engagement: figures only for
    a closed period, whose answers can no longer change, and only for a side with at least
    the threshold in force for that period (agreed before it began). So no figure about a
    side below the threshold exists, and no two reads differ by one respondent.

    `today` None means each engagement's own date. Two queries (three if the engagements
    come without their scoring configurations).
    """
    engagements = list(engagements)
    # Each engagement's grace days decide its period's state.
    prefetch_related_objects(engagements, "scoring_config")
    thresholds = ScoringConfig.survey_thresholds(engagements, period)
    states = {e.pk: e.period_state(period, today) for e in engagements}
    closed = [pk for pk, state in states.items() if state == CLOSED]
    answers = sum((F(name) for name in PULSE_FIELDS[1:]), F(PULSE_FIELDS[0]))
    rows = (
        PulseResponse.objects.current()
        .filter(engagement_id__in=closed, period_kind=period.kind, period_start=period.start)
        .values("engagement_id", "side")
        .annotate(
            respondents=Count("respondent_id", distinct=True),
            answer_total=Sum(answers),
            **{name: Avg(name) for name in PULSE_FIELDS},
        )
        .order_by()
    )
    sides: dict[int, dict[str, PublishedSide]] = {pk: {} for pk in states}
    for row in rows:
        engagement_id = row["engagement_id"]
        if row["respondents"] >= thresholds[engagement_id]:
            sides[engagement_id][row["side"]] = PublishedSide(
                respondents=row["respondents"],
                answer_total=row["answer_total"],
                means={name: float(row[name]) for name in PULSE_FIELDS},
            )
    return {
        pk: SurveyPublication(state=states[pk], threshold=thresholds[pk], sides=sides[pk])
        for pk in states
    }


def survey_publication(engagement: Engagement, period: Period) -> SurveyPublication:
    return survey_publications([engagement], period)[engagement.pk]

