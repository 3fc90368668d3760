"""Notices from what the apps below announce (scorecards.signals.events_written): a new
alert, a closed period awaiting a side's review, a change request awaiting a side."""

from datetime import date

from django.dispatch import receiver
from django.urls import reverse

from notices.models import Kind
from notices.services import notice_raise
from relationships.models import Engagement, Side, other_side
from relationships.periods import period_starting
from scorecards import events as event_kinds
from scorecards.models import ScorecardReview
from scorecards.signals import events_written


def _recent(engagement: Engagement, kind: str, start: date) -> bool:
    """Only the period in progress and the one before it are news: a backfill of old
    periods (a new engagement's history, the demo) tells nobody."""
    return (
        start >= engagement.current_period().previous().start
        and kind == engagement.scorecard_period
    )


def _period_link(engagement: Engagement, start: str) -> str:
    return reverse("engagement-period", args=[engagement.pk, start])


def _alert(engagement: Engagement, event) -> None:
    alert = event.payload["alert"]
    start = date.fromisoformat(alert["period_start"])
    if not _recent(engagement, engagement.scorecard_period, start):
        return
    notice_raise(
        kind=Kind.ALERT,
        engagement=engagement,
        key=f"alert:{event.pk}",  # each raise (a reopened alert too) is news once
        subject=f"{engagement.name}: {alert['message']}",
        body=f"Alert raised on {engagement.name} for the period from {start:%d %b %Y}.",
        link=_period_link(engagement, alert["period_start"]),
        data={"alert": alert["id"]},
    )


def _review(engagement: Engagement, event) -> None:
    scorecard = event.payload["scorecard"]
    start = date.fromisoformat(scorecard["period_start"])
    if not _recent(engagement, scorecard["period_kind"], start):
        return
    reviewed = set(
        ScorecardReview.objects.filter(
            scorecard_id=scorecard["id"], stale_at__isnull=True
        ).values_list("side", flat=True)
    )
    title = period_starting(scorecard["period_kind"], start).title
    notice_raise(
        kind=Kind.REVIEW,
        engagement=engagement,
        key=f"review:{scorecard['id']}",
        subject=(
            f"{engagement.name}: {title} is closed, band {scorecard['band']}; "
            "awaiting your side's review"
        ),
        body=(
            f"The scorecard of {title} is final (overall {scorecard['overall']}, band "
            f"{scorecard['band']}). Sign it off or dispute it for your side."
        ),
        link=_period_link(engagement, scorecard["period_start"]),
        sides=[side for side in Side.values if side not in reviewed],
        data={"scorecard": scorecard["id"], "period_start": scorecard["period_start"]},
    )


def _change_request(engagement: Engagement, event) -> None:
    change = event.payload["change_request"]
    deciding = other_side(change["requested_side"])
    notice_raise(
        kind=Kind.CHANGE_REQUEST,
        engagement=engagement,
        key=f"change_request:{change['id']}",
        subject=(
            f"{engagement.name}: the {change['requested_side']} asks to change {change['what']}"
        ),
        body=(
            f"{change['requested_by'] or 'The ' + change['requested_side']} asked for a change to "
            f"{change['what']}; your side decides before "
            f"{change['expires_at'][:10]}."
        ),
        link=reverse("engagement-detail", args=[engagement.pk]) + f"#change-request-{change['id']}",
        sides=[deciding],
        data={"change_request": change["id"]},
    )


HANDLERS = {
    event_kinds.ALERT_RAISED: _alert,
    event_kinds.SCORECARD_COMPUTED: _review,
    "change_request.opened": _change_request,
}


@receiver(events_written, dispatch_uid="notices.events_to_notices")
def events_to_notices(sender, *, events, **kwargs):
    """In the transaction that wrote the events: the notices commit or roll back with them."""
    wanted = [event for event in events if event.kind in HANDLERS]
    if not wanted:
        return
    engagements = Engagement.objects.select_related("client", "provider").in_bulk(
        {event.engagement_id for event in wanted}
    )
    for event in wanted:
        HANDLERS[event.kind](engagements[event.engagement_id], event)
