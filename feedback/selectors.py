"""Derived figures of the feedback domain, for the dashboard, the API and the scorecards.

Date ranges are inclusive and in engagement-local dates (the `*_on` fields).
Each figure is one query feeding a pure function, so the arithmetic can be
checked against hand-computed examples. Per-side results are dicts keyed by
"client" and "provider"; a side without data maps to None figures.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, F, Max, Prefetch, Q

from feedback.models import ActionItem, CheckIn, ContributionReview, Feedback, Issue
from relationships.models import Engagement, Side


@dataclass(frozen=True)
class Ratio:
    """`hits` of `total`, and the share as a percentage (None when total is 0)."""

    hits: int
    total: int

    @property
    def percent(self) -> float | None:
        return 100 * self.hits / self.total if self.total else None


# ---------------------------------------------------------------- contact
def days_since_last_checkin(*, engagement: Engagement, as_of: date) -> int | None:
    """Days from the last check-in on or before `as_of` to `as_of`; None if there was none."""
    last = CheckIn.objects.filter(engagement=engagement, occurred_on__lte=as_of).aggregate(
        last=Max("occurred_on")
    )["last"]
    return (as_of - last).days if last else None


def contact_score(*, held: int, days: int, cadence_days: int) -> float:
    """PRODUCT.md §3 contact: 100 × min(1, held ÷ max(1, floor(days ÷ cadence)))."""
    expected = max(1, days // cadence_days)
    return 100 * min(1.0, held / expected)


def cadence_adherence(*, engagement: Engagement, start: date, end: date) -> float | None:
    """Contact score over [start, end], counted from the engagement's start at the earliest.

    None when the range lies wholly before the engagement or after its end.
    """
    start = max(start, engagement.start_date)
    if engagement.end_date:
        end = min(end, engagement.end_date)
    if end < start:
        return None
    held = (
        CheckIn.objects.filter(engagement=engagement, occurred_on__range=(start, end))
        .values("occurred_on")
        .distinct()
        .count()
    )
    days = (end - start + timedelta(days=1)).days
    return contact_score(held=held, days=days, cadence_days=engagement.checkin_cadence_days)


# ---------------------------------------------------------------- feedback balance
def appreciation_share(*, engagement: Engagement, start: date, end: date) -> dict[str, Ratio]:
    """Per giving side: appreciations of all feedback it gave in the range."""
    rows = (
        Feedback.objects.filter(engagement=engagement, created_on__range=(start, end))
        .values("from_side")
        .annotate(total=Count("id"), hits=Count("id", filter=Q(kind=Feedback.Kind.APPRECIATION)))
    )
    return _ratios_by_side(rows, "from_side")


# ---------------------------------------------------------------- disclosure
@dataclass(frozen=True)
class Disclosure:
    """Issues a side was responsible for: how many it raised itself and how quickly."""

    raised_by_self: Ratio
    mean_lag: timedelta | None  # mean of raised − detected


def disclosure_by_side(*, engagement: Engagement, start: date, end: date) -> dict[str, Disclosure]:
    """Per responsible side, over issues raised on a date in the range (transparency)."""
    issues = Issue.objects.filter(engagement=engagement, raised_on__range=(start, end)).only(
        "responsible_side", "raised_by_side", "detected_at", "raised_at"
    )
    by_side: dict[str, list[Issue]] = {side: [] for side in Side.values}
    for issue in issues:
        by_side[issue.responsible_side].append(issue)
    return {side: _disclosure(items) for side, items in by_side.items()}


def _disclosure(issues: list[Issue]) -> Disclosure:
    lags = [issue.disclosure_lag for issue in issues]
    return Disclosure(
        raised_by_self=Ratio(
            hits=sum(issue.raised_by_responsible_side for issue in issues), total=len(issues)
        ),
        mean_lag=sum(lags, timedelta()) / len(lags) if lags else None,
    )


# ---------------------------------------------------------------- follow-through
def on_time_completion(*, engagement: Engagement, start: date, end: date) -> dict[str, Ratio]:
    """Per owner side: action items due in the range completed on or before their due date.

    Cancelled items are left out (PRODUCT.md §3 dedication); pass end = as_of
    for a scorecard period.
    """
    rows = (
        ActionItem.objects.filter(
            engagement=engagement, cancelled=False, due_date__range=(start, end)
        )
        .values("owner_side")
        .annotate(
            total=Count("id"),
            hits=Count(
                "id",
                filter=Q(completed_on__isnull=False, completed_on__lte=F("due_date")),
            ),
        )
    )
    return _ratios_by_side(rows, "owner_side")


# ---------------------------------------------------------------- reviews
def reviews_with_completeness(queryset=None):
    """Reviews annotated with `complete` (each side committed to an action), in one query.

    The list form of ContributionReview.is_complete, for pages that show many reviews.
    """
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


def _ratios_by_side(rows, side_field: str) -> dict[str, Ratio]:
    found = {row[side_field]: Ratio(hits=row["hits"], total=row["total"]) for row in rows}
    return {side: found.get(side, Ratio(0, 0)) for side in Side.values}


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
