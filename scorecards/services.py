"""Scorecard actions people take: recompute now, review (sign or dispute), acknowledge.

Keyword-only functions that check the actor's right to act and raise
ValidationError (field errors), PermissionDenied or BrokerUnavailable; the
dashboard and the API turn those into 4xx and 503 answers.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from relationships.models import Engagement
from relationships.periods import Period, period_containing
from scorecards.compute import SCORE_FIELDS
from scorecards.models import (
    Alert,
    Scorecard,
    ScorecardReview,
    ScorecardRun,
)
from scorecards.runs import chain_runs


class BrokerUnavailable(Exception):
    """The task queue cannot be reached; callers answer 503 and nothing was queued."""

    message = "The job queue is unavailable right now; nothing was queued. Try again shortly."

    def __str__(self):
        return self.message


# ---------------------------------------------------------------- recompute now
def request_recompute(
    *, engagement: Engagement, user, period_start: date | None = None
) -> list[ScorecardRun]:
    """Queue a recompute of one period of the engagement and of every later one up to the
    period in progress, oldest first; returns their runs, the requested period's first.

    `period_start`: the first day of a past period that is not frozen; the period in
    progress if None. Later periods follow because each one's trend and drop alerts
    compare with the period before it: recomputing the oldest period of an imported
    history brings every later one up to date, in order. Each run starts when the one
    before it finishes; the first is sent once the surrounding transaction commits. If
    the broker cannot be reached, the runs are marked failed and BrokerUnavailable raised.
    """
    from scorecards.tasks import compute_period_task

    engagement.access_for(user).require("write")
    first = (
        engagement.current_period()
        if period_start is None
        else recomputable_period(engagement=engagement, period_start=period_start)
    )
    runs = chain_runs(
        engagement,
        engagement_periods_from(engagement, first),
        trigger=ScorecardRun.Trigger.ON_DEMAND,
        requested_by=user,
    )

    def send():
        try:
            compute_period_task.apply_async(args=[runs[0].pk], retry=False)
        except (KombuOperationalError, OSError) as exc:
            ScorecardRun.objects.filter(pk__in=[run.pk for run in runs]).update(
                status=ScorecardRun.Status.FAILED,
                finished_at=timezone.now(),
                error=f"Broker unavailable: {exc}"[:5000],
            )
            raise BrokerUnavailable() from exc

    transaction.on_commit(send)
    for run in runs:
        run.refresh_from_db()  # outside a transaction it was sent (or, eagerly, even computed)
    return runs


def recomputable_period(*, engagement: Engagement, period_start: date) -> Period:
    """The engagement's period starting on `period_start` if it may be recomputed: begun,
    with days of the engagement, not frozen. Otherwise a ValidationError saying why."""
    try:
        period = engagement.period_starting(period_start)
    except ValueError as exc:
        raise ValidationError({"period_start": str(exc)}) from None
    if engagement.end_date and period.start > engagement.end_date:
        last = period_containing(period.kind, engagement.end_date)
        raise ValidationError(
            {
                "period_start": f"{period.title} begins after the engagement ended on "
                f"{engagement.end_date.isoformat()}; its last period starts on "
                f"{last.start.isoformat()}."
            }
        )
    if engagement.scorecards.filter(
        period_kind=period.kind, period_start=period.start, frozen_at__isnull=False
    ).exists():
        raise ValidationError(
            {
                "period_start": f"Both sides signed the scorecard of {period.title}, so it is "
                "frozen: a recompute leaves it as signed. Corrections to its inputs show on "
                "it as changed since sign-off."
            }
        )
    return period


# The most periods one recompute chains: ten years of weeks, one worker for about a minute.
RECOMPUTE_AT_MOST = 520


def engagement_periods_from(engagement: Engagement, first: Period) -> list[Period]:
    """`first` and each later period of the engagement up to the one in progress (or its
    last, if it ended before), oldest first; RECOMPUTE_AT_MOST of them at most."""
    last = engagement.current_period()
    if engagement.end_date:
        last = min(last, period_containing(last.kind, engagement.end_date))
    periods = [first]
    while periods[-1] < last and len(periods) < RECOMPUTE_AT_MOST:
        periods.append(periods[-1].next())
    return periods


# ---------------------------------------------------------------- joint review
def stored_values(scorecard: Scorecard) -> dict:
    """The scorecard's stored scores as JSON (the snapshot a reviewer signs)."""
    values = {}
    for name in SCORE_FIELDS:
        value = getattr(scorecard, name)
        values[name] = value if value is None or isinstance(value, str) else float(value)
    return values


@transaction.atomic
def scorecard_review(
    *, scorecard: Scorecard, user, decision: str, comment: str = ""
) -> ScorecardReview:
    """A manager or admin signs or disputes a scorecard for their side.

    A new review replaces the side's earlier one. Once each side has a live
    signature, the period is frozen: later runs leave it unchanged.
    """
    scorecard = (
        Scorecard.objects.select_for_update().select_related("engagement").get(pk=scorecard.pk)
    )
    side = scorecard.engagement.access_for(user).require("write").side
    comment = (comment or "").strip()
    if decision not in ScorecardReview.Decision.values:
        raise ValidationError({"decision": "Choose signed or disputed."})
    if decision == ScorecardReview.Decision.DISPUTED and not comment:
        raise ValidationError({"comment": "Say what you dispute, so the other side can respond."})
    if len(comment) > 5000:
        raise ValidationError({"comment": "Keep the comment under 5000 characters."})
    if scorecard.is_frozen:
        raise ValidationError({"decision": "Both sides have signed this scorecard; it is frozen."})
    if not scorecard.is_final:
        raise ValidationError(
            {
                "decision": "This period has not closed yet: its scorecard is provisional. "
                "The review opens when the period closes."
            }
        )
    now = timezone.now()
    scorecard.reviews.filter(side=side, stale_at__isnull=True).update(stale_at=now)
    review = ScorecardReview(
        scorecard=scorecard,
        side=side,
        user=user,
        decision=decision,
        comment=comment,
        snapshot=stored_values(scorecard),
    )
    review._history_user = user
    review.save()
    signed_sides = set(
        scorecard.reviews.filter(
            stale_at__isnull=True, decision=ScorecardReview.Decision.SIGNED
        ).values_list("side", flat=True)
    )
    if len(signed_sides) == 2:
        scorecard.frozen_at = now
        scorecard.save(update_fields=["frozen_at"])
    return review


# ---------------------------------------------------------------- alerts
def alert_acknowledge(*, alert: Alert, user) -> Alert:
    """Record who saw the alert first; acknowledging again changes nothing."""
    alert.engagement.access_for(user).require("write")
    updated = Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=user
    )
    if updated:
        alert.refresh_from_db(fields=["acknowledged_at", "acknowledged_by"])
    return alert


# ---------------------------------------------------------------- reading
def visible_run(*, run_id, user) -> ScorecardRun:
    """A run the user may poll: one that covered any of their engagements
    (ScorecardRun.DoesNotExist otherwise)."""
    return ScorecardRun.objects.restrict(user).get(pk=run_id)
