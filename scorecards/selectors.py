"""Reads of scorecards that the dashboard pages and the API share.

Each engagement's latest scorecard is read from its LatestScorecard row of the
engagement's own period kind (kept by scorecards.latest): one small join, whatever
the length of the history.
"""

from django.db.models import (
    Count,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber

from feedback.models import CheckIn
from relationships.models import Engagement, Side
from relationships.scoring_config import DIMENSIONS
from scorecards.models import Alert, Scorecard, ScorecardReview


def latest_of_own_period() -> FilteredRelation:
    """An engagement's latest scorecard row of its own period kind: one LEFT JOIN.

    Annotate it under a name (`.alias(latest=latest_of_own_period())`), then read `latest__overall`.
    """
    return FilteredRelation(
        "latest_scorecards", condition=Q(latest_scorecards__period_kind=F("scorecard_period"))
    )


def latest_of_own_period_only(scorecards: QuerySet) -> QuerySet:
    """The scorecards that are their engagement's latest of its own period kind.

    Joins the latest rows instead of searching each engagement's scorecards per row,
    so the cost does not grow with the length of the history.
    """
    return scorecards.filter(
        period_kind=F("engagement__scorecard_period"),
        engagement__latest_scorecards__period_kind=F("period_kind"),
        engagement__latest_scorecards__period_start=F("period_start"),
    )


def newest_provisional_only(scorecards: QuerySet) -> QuerySet:
    """The scorecards that are their engagement's newest provisional one of its own kind."""
    newest = (
        Scorecard.objects.filter(
            engagement_id=OuterRef("engagement_id"),
            period_kind=OuterRef("period_kind"),
            status=Scorecard.Status.PROVISIONAL,
        )
        .order_by("-period_start")
        .values("period_start")[:1]
    )
    return scorecards.filter(
        period_kind=F("engagement__scorecard_period"),
        status=Scorecard.Status.PROVISIONAL,
        period_start=Subquery(newest),
    )


def with_latest_scorecard(engagements: QuerySet) -> QuerySet:
    """Engagements with their latest scorecard's figures as `latest_*` (None without one).

    The join stays available as `latest` for filters and sorts.
    """
    return engagements.alias(latest=latest_of_own_period()).annotate(
        latest_period_start=F("latest__period_start"),
        latest_band=F("latest__band"),
        latest_overall=F("latest__overall"),
        latest_client=F("latest__client_score"),
        latest_provider=F("latest__provider_score"),
        latest_trend=F("latest__trend"),
        latest_gap=F("latest__perception_gap"),
    )


def engagements_with_latest_scores(user) -> QuerySet:
    """The user's engagements with their headline scorecard, open alerts and last check-in.

    One query for a page of any length: the latest scorecard is one small joined row,
    the alerts and check-in are subqueries evaluated only for the page's rows.
    """
    open_alerts = (
        Alert.objects.filter(engagement=OuterRef("pk"), resolved_at__isnull=True)
        .order_by()
        .values("engagement")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return with_latest_scorecard(
        Engagement.objects.visible_to(user).select_related("client", "provider")
    ).annotate(
        open_alerts=Coalesce(Subquery(open_alerts, output_field=IntegerField()), 0),
        last_checkin_on=Subquery(
            CheckIn.objects.filter(engagement=OuterRef("pk"))
            .order_by("-occurred_on")
            .values("occurred_on")[:1]
        ),
    )


def closed_history(engagement_ids, periods: int) -> dict[int, list[tuple]]:
    """(period start, overall) of the last `periods` closed periods of each engagement, oldest
    first, in one query."""
    ranked = (
        Scorecard.objects.filter(
            engagement_id__in=engagement_ids,
            period_kind=F("engagement__scorecard_period"),
            status=Scorecard.Status.FINAL,
        )
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("engagement_id")], order_by=F("period_start").desc()
            )
        )
        .filter(rank__lte=periods)
        .order_by("engagement_id", "period_start")
        .values_list("engagement_id", "period_start", "overall")
    )
    history: dict[int, list] = {pk: [] for pk in engagement_ids}
    for engagement_id, period_start, overall in ranked:
        history[engagement_id].append((period_start, overall))
    return history


def overall_history(engagement_ids, periods: int) -> dict[int, list]:
    """The last `periods` closed periods' overall scores of each engagement, oldest first,
    in one query."""
    return {
        pk: [overall for _, overall in rows]
        for pk, rows in closed_history(engagement_ids, periods).items()
    }


def newest_provisional(engagement_ids) -> dict[int, Scorecard]:
    """Each engagement's newest provisional scorecard of its own kind (scores only), if any:
    shown beside the headline as "so far". One query, over these engagements only."""
    rows = newest_provisional_only(Scorecard.objects.filter(engagement_id__in=engagement_ids)).only(
        "engagement_id", "period_kind", "period_start", "period_end", "as_of", "overall"
    )
    return {scorecard.engagement_id: scorecard for scorecard in rows}


def scorecard_history(engagement: Engagement) -> QuerySet:
    """The engagement's scorecards of its own period kind, newest period first."""
    return engagement.scorecards.filter(period_kind=engagement.scorecard_period).order_by(
        "-period_start"
    )


def score_history(engagement: Engagement) -> list[tuple]:
    """(period start, overall, client, provider, status) per period, oldest first, for the
    chart."""
    rows = scorecard_history(engagement).order_by("period_start")
    return list(
        rows.values_list("period_start", "overall", "client_score", "provider_score", "status")
    )


def dimensions_of(scorecard: Scorecard) -> list[dict]:
    """The six dimensions with score, weight, per-side scores and the "why" lines."""
    explained = scorecard.explanation.get("dimensions", {})
    rows = []
    for name in DIMENSIONS:
        detail = explained.get(name, {})
        rows.append(
            {
                "name": name,
                "label": name.capitalize(),
                "score": getattr(scorecard, name),
                "weight": detail.get("weight"),
                "sides": detail.get("sides") or detail.get("views") or {},
                "why": detail.get("text", []),
            }
        )
    return rows


def reviews_by_side(scorecard: Scorecard) -> dict[str, dict]:
    """Each side's live review (if any) and its superseded (stale) reviews."""
    reviews = {side: {"live": None, "stale": []} for side in Side.values}
    for review in scorecard.reviews.all():
        if review.stale_at is None:
            reviews[review.side]["live"] = review
        else:
            reviews[review.side]["stale"].append(review)
    return reviews


# The sign-off states of a final scorecard, as the review pack's cover names them.
AWAITING_REVIEW = "awaiting review"
SIGNED_BY_ONE = "signed by one side"
SIGNED_BY_BOTH = "signed by both"
DISPUTED = "disputed"


def signoff_state(reviews: dict[str, dict]) -> str:
    """Where the joint review of a scorecard stands, from `reviews_by_side`: disputed if a
    side's live review disputes it, else how many sides signed."""
    live = [each["live"] for each in reviews.values() if each["live"] is not None]
    if any(review.decision == ScorecardReview.Decision.DISPUTED for review in live):
        return DISPUTED
    return (AWAITING_REVIEW, SIGNED_BY_ONE, SIGNED_BY_BOTH)[len(live)]
