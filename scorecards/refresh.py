"""Provisional scorecards that follow writes to their inputs (PRODUCT.md §12).

A service that writes an engagement's inputs sends
`relationships.signals.engagement_inputs_changed`. Once the write commits,
`refresh_request` counts it on the engagement's ScorecardRefresh row, with the earliest
day it touched, and, in the same statement, claims the row unless a refresh is queued
already; it queues one refresh for the rows it claimed, to start no sooner than a window
(SCORECARD_REFRESH_SECONDS) after the engagement's previous refresh started. The refresh
(`scorecards.refresh_scorecards`) computes, through `compute_chunk` (the periodic run's
own code), the periods not yet closed that end on or after that day: values posted for
today leave the closing month alone. Then it releases the rows no write counted on
meanwhile; the others are queued again, to start a window after this refresh started. So
a burst of writes causes one recompute per engagement at once, then at most one per
window, and the last write is always read.

Nothing here raises into a write: with the broker down the claim is released, the write
stays counted, and `refresh_pending` (a beat task, every minute) queues what was counted
but not refreshed; the nightly periodic run recomputes the period in progress anyway.
"""

import logging
import math
from collections import defaultdict
from datetime import date, timedelta
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, Value, When
from django.dispatch import receiver
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from relationships.models import Engagement
from relationships.periods import CLOSED
from relationships.signals import engagement_inputs_changed
from scorecards.compute import compute_chunk
from scorecards.models import ScorecardRefresh

logger = logging.getLogger(__name__)

# A refresh queued this long ago and not finished was lost (a message gone with its broker):
# the next write, or refresh_pending, queues it again.
STALE_AFTER = timedelta(minutes=10)


@receiver(engagement_inputs_changed, dispatch_uid="scorecards.refresh_on_write")
def inputs_changed(sender, *, engagement_ids, since: date | None = None, **kwargs) -> None:
    ids = sorted(set(engagement_ids))
    if ids:
        # robust: a failure here is logged; the write it follows has committed already.
        transaction.on_commit(partial(refresh_request, ids, since=since), robust=True)


def refresh_request(engagement_ids: list[int], *, since: date | None = None) -> None:
    """Count a committed write on each engagement, and the earliest day it touched (none
    given: every day); queue a refresh of those with none queued."""
    now, stale = _moments()
    since = connection.ops.adapt_datefield_value(since or date.min)
    table = connection.ops.quote_name(ScorecardRefresh._meta.db_table)
    # One statement: counts the write, and claims the row (queued_at = now) unless a refresh
    # is queued already. Sorted ids: concurrent writers lock the rows in one order.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (engagement_id, requested, refreshed, queued_at, since) VALUES "
            + ", ".join(["(%s, 1, 0, %s, %s)"] * len(engagement_ids))
            + f" ON CONFLICT (engagement_id) DO UPDATE SET requested = {table}.requested + 1, "
            f"queued_at = CASE WHEN {table}.queued_at IS NULL OR {table}.queued_at < %s "
            f"THEN excluded.queued_at ELSE {table}.queued_at END, "
            f"since = CASE WHEN {table}.since IS NULL OR excluded.since < {table}.since "
            f"THEN excluded.since ELSE {table}.since END "
            "RETURNING engagement_id, queued_at = %s",
            [value for pk in engagement_ids for value in (pk, now, since)] + [stale, now],
        )
        claimed = sorted(pk for pk, ours in cursor.fetchall() if ours)
    queue(claimed)


def _moments():
    """Now, and the moment before which a queued refresh counts as lost, as SQL parameters."""
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    return adapt(now), adapt(now - STALE_AFTER)


def queue(engagement_ids: list[int]) -> None:
    """Send the refresh of claimed rows, each to start a window after its engagement's
    previous refresh started (at once if that is past), in messages of SCORECARD_CHUNK_SIZE
    engagements; if the broker is unreachable, release the claims (a later write or
    refresh_pending sends)."""
    from scorecards.tasks import refresh_scorecards_task  # the tasks module wraps this one

    if not engagement_ids:
        return
    now, window = timezone.now(), settings.SCORECARD_REFRESH_SECONDS
    # A refresh sets `started_at` alike on every engagement of its message: few groups.
    waits = defaultdict(list)
    for pk, started in (
        ScorecardRefresh.objects.filter(pk__in=engagement_ids)
        .order_by("pk")
        .values_list("pk", "started_at")
    ):
        wait = window - (now - started).total_seconds() if started else 0
        waits[math.ceil(wait * 10) / 10 if wait > 0 else None].append(pk)  # never early
    size = settings.SCORECARD_CHUNK_SIZE
    for countdown, pks in waits.items():
        for start in range(0, len(pks), size):
            ids = pks[start : start + size]
            try:
                refresh_scorecards_task.apply_async(args=[ids], countdown=countdown, retry=False)
            except (KombuOperationalError, OSError) as exc:
                logger.warning("Could not queue the refresh of engagements %s: %s", ids, exc)
                ScorecardRefresh.objects.filter(pk__in=ids).update(queued_at=None)


def scorecards_refresh(engagement_ids: list[int]) -> None:
    """Recompute the engagements' periods not closed yet that their writes touched, then
    release their rows, or queue them again if a write was counted meanwhile. Safe to run
    twice."""
    seen, since = {}, {}
    for pk, requested, earliest in ScorecardRefresh.objects.filter(
        pk__in=engagement_ids
    ).values_list("pk", "requested", "since"):
        seen[pk], since[pk] = requested, earliest or date.min
    started = timezone.now()  # every write counted in `seen` committed before this
    for (kind, period_start), ids in open_periods(since).items():
        for start in range(0, len(ids), settings.SCORECARD_CHUNK_SIZE):
            compute_chunk(ids[start : start + settings.SCORECARD_CHUNK_SIZE], kind, period_start)
    with transaction.atomic():
        counted = dict(
            ScorecardRefresh.objects.select_for_update()
            .filter(pk__in=list(seen))
            .order_by("pk")
            .values_list("pk", "requested")
        )
        finished = timezone.now()
        done = [pk for pk, requested in counted.items() if requested == seen[pk]]
        again = [pk for pk in counted if pk not in done]
        ScorecardRefresh.objects.filter(pk__in=done).update(
            queued_at=None,
            refreshed=F("requested"),
            since=None,
            started_at=started,
            finished_at=finished,
        )
        # Written to meanwhile: still claimed (and `since` kept, the earliest of both
        # refreshes' days), refreshed once more a window after this one started.
        if again:
            ScorecardRefresh.objects.filter(pk__in=again).update(
                queued_at=finished,
                refreshed=Case(*[When(pk=pk, then=Value(seen[pk])) for pk in again]),
                started_at=started,
                finished_at=finished,
            )
    queue(again)


def open_periods(since: dict[int, date]) -> dict[tuple[str, date], list[int]]:
    """(period kind, start) → the active engagements among these (engagement id → earliest
    day touched) whose period it is, ends on or after that day and is not closed: the one in
    progress, and the one before while it is closing (PRODUCT.md §6)."""
    periods = defaultdict(list)
    engagements = (
        Engagement.objects.filter(pk__in=list(since), status=Engagement.Status.ACTIVE)
        .select_related("scoring_config")  # its grace days: the periods' states
        .order_by("pk")
    )
    for engagement in engagements:
        today = engagement.today()
        current = engagement.current_period(today)
        for period in (current.previous(), current):
            if (
                period.end >= since[engagement.pk]
                and engagement.period_state(period, today) != CLOSED
            ):
                periods[(period.kind, period.start)].append(engagement.pk)
    return dict(periods)


def refresh_pending() -> int:
    """Queue a refresh of every engagement with writes counted but not refreshed and no
    refresh queued (or one queued so long ago it was lost); the number queued."""
    table = connection.ops.quote_name(ScorecardRefresh._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET queued_at = %s WHERE requested > refreshed "
            "AND (queued_at IS NULL OR queued_at < %s) RETURNING engagement_id",
            list(_moments()),
        )
        claimed = sorted(pk for (pk,) in cursor.fetchall())
    queue(claimed)
    return len(claimed)
