"""Each engagement's latest scorecard, kept beside the scorecards as a LatestScorecard row.

An engagement's latest scorecard is its newest `period_start` of its own period kind.
Rows are kept per period kind, so reads join the row of the engagement's current kind
and changing an engagement's kind needs no upkeep.

The rows change in the transaction that changes the scorecards:
- `compute_chunk` calls `refresh` after writing a chunk (bulk writes send no signals);
- saving or deleting one scorecard through the ORM refreshes its engagement (receivers below).
Raw SQL bypasses both; the next computation of those engagements puts them right.
"""

from collections.abc import Iterable

from django.db.models import F, FilteredRelation, OuterRef, Q, Subquery
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from scorecards.models import LatestScorecard, Scorecard

# The scorecard's columns copied into its LatestScorecard row.
LATEST_FIELDS = (
    "period_start",
    "band",
    "overall",
    "client_score",
    "provider_score",
    "perception_gap",
    "trend",
)


def latest_of_own_period() -> FilteredRelation:
    """An engagement's latest scorecard row of its own period kind: one LEFT JOIN.

    Annotate it under a name (`.alias(latest=latest_of_own_period())`), then read `latest__overall`.
    """
    return FilteredRelation(
        "latest_scorecards", condition=Q(latest_scorecards__period_kind=F("scorecard_period"))
    )


def refresh(engagement_ids: Iterable[int], period_kind: str) -> None:
    """Make the engagements' latest rows of `period_kind` equal to their newest scorecards.

    Two queries for any number of engagements (a third when one has none left).
    """
    ids = set(engagement_ids)
    if not ids:
        return
    newest_start = (
        Scorecard.objects.filter(engagement_id=OuterRef("engagement_id"), period_kind=period_kind)
        .order_by("-period_start")
        .values("period_start")[:1]
    )
    rows = [
        LatestScorecard(period_kind=period_kind, **values)
        for values in Scorecard.objects.filter(
            engagement_id__in=ids, period_kind=period_kind, period_start=Subquery(newest_start)
        ).values("engagement_id", *LATEST_FIELDS)
    ]
    without_scorecards = ids - {row.engagement_id for row in rows}
    if without_scorecards:
        LatestScorecard.objects.filter(
            engagement_id__in=without_scorecards, period_kind=period_kind
        ).delete()
    LatestScorecard.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["engagement", "period_kind"],
        update_fields=list(LATEST_FIELDS),
    )


@receiver(post_save, sender=Scorecard)
def scorecard_saved(sender, instance: Scorecard, update_fields=None, **kwargs) -> None:
    # Signing off saves only frozen_at, which no latest row holds.
    if update_fields is None or not update_fields.isdisjoint(LATEST_FIELDS):
        refresh([instance.engagement_id], instance.period_kind)


@receiver(post_delete, sender=Scorecard)
def scorecard_deleted(sender, instance: Scorecard, **kwargs) -> None:
    refresh([instance.engagement_id], instance.period_kind)
