"""Each engagement's headline scorecard, kept beside the scorecards as a LatestScorecard row.

An engagement's headline is its newest final scorecard (of a closed period, PRODUCT.md §6)
of its own period kind; provisional scorecards never are.
Rows are kept per period kind, so reads (scorecards.selectors) join the row of the
engagement's current kind and changing an engagement's kind needs no upkeep.

The rows change in the transaction that changes the scorecards:
- `compute_chunk` calls `refresh` after writing a chunk (bulk writes send no signals);
- saving or deleting one scorecard through the ORM refreshes its engagement (receivers below).
Raw SQL bypasses both; the next computation of those engagements puts them right.
"""

from collections.abc import Iterable

from django.db import connection
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


def _copy_newest_sql(engagement_count: int) -> str:
    """Upsert each engagement's newest scorecard of a period kind; unchanged rows stay as they are.

    INSERT ... SELECT, so no scorecard travels to Python and back. The newest period is
    found in the (engagement, period kind, period start) index; only those rows are read.
    """
    latest, scorecards = (
        connection.ops.quote_name(model._meta.db_table) for model in (LatestScorecard, Scorecard)
    )
    ids = ", ".join(["%s"] * engagement_count)
    columns = ", ".join(LATEST_FIELDS)
    return f"""
        INSERT INTO {latest} (engagement_id, period_kind, {columns})
        SELECT s.engagement_id, s.period_kind, {", ".join(f"s.{name}" for name in LATEST_FIELDS)}
        FROM {scorecards} s JOIN (
            SELECT engagement_id, MAX(period_start) AS period_start FROM {scorecards}
            WHERE engagement_id IN ({ids}) AND period_kind = %s AND status = %s
            GROUP BY engagement_id
        ) newest ON s.engagement_id = newest.engagement_id
            AND s.period_start = newest.period_start
        WHERE s.period_kind = %s
        ON CONFLICT (engagement_id, period_kind) DO UPDATE
        SET {", ".join(f"{name} = excluded.{name}" for name in LATEST_FIELDS)}
        WHERE ({", ".join(f"{latest}.{name}" for name in LATEST_FIELDS)})
            IS DISTINCT FROM ({", ".join(f"excluded.{name}" for name in LATEST_FIELDS)})
    """


def refresh(engagement_ids: Iterable[int], period_kind: str) -> None:
    """Copy each engagement's newest scorecard of `period_kind` into its latest row, one statement.

    Engagements without a scorecard of the kind are left alone (see `scorecard_deleted`).
    """
    ids = sorted(set(engagement_ids))
    if ids:
        with connection.cursor() as cursor:
            cursor.execute(
                _copy_newest_sql(len(ids)),
                [*ids, period_kind, Scorecard.Status.FINAL, period_kind],
            )


@receiver(post_save, sender=Scorecard)
def scorecard_saved(sender, instance: Scorecard, update_fields=None, **kwargs) -> None:
    # Signing off saves only frozen_at, which no latest row holds.
    if update_fields is None or not update_fields.isdisjoint({*LATEST_FIELDS, "status"}):
        refresh([instance.engagement_id], instance.period_kind)


@receiver(post_delete, sender=Scorecard)
def scorecard_deleted(sender, instance: Scorecard, **kwargs) -> None:
    same_kind = {"engagement_id": instance.engagement_id, "period_kind": instance.period_kind}
    if Scorecard.objects.filter(**same_kind, status=Scorecard.Status.FINAL).exists():
        refresh([instance.engagement_id], instance.period_kind)
    else:
        LatestScorecard.objects.filter(**same_kind).delete()
