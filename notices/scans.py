"""The daily scans (the `notices.scan` beat task): what Accord notices by the calendar,
each in the engagement's own time zone. Each notice's key names its event, so a scan that
runs again (hourly, or twice) tells nobody twice."""

from datetime import timedelta

from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from feedback.models import ActionItem
from notices.models import Kind
from notices.services import notice_raise
from relationships.models import Engagement

DUE_SOON_DAYS = 3
SURVEY_CLOSING_DAYS = 2


def action_items_scan() -> int:
    """An open action item with an owner, due within 3 days or overdue: to its owner."""
    raised = 0
    horizon = timezone.now().date() + timedelta(days=DUE_SOON_DAYS + 1)
    items = ActionItem.objects.filter(
        completed_at__isnull=True,
        cancelled=False,
        owner__isnull=False,
        due_date__lte=horizon,
        engagement__status=Engagement.Status.ACTIVE,
    ).select_related("engagement")
    for item in items:
        engagement = item.engagement
        today = engagement.today()
        if item.due_date > today + timedelta(days=DUE_SOON_DAYS):
            continue
        overdue = item.due_date < today
        when = "overdue since" if overdue else "due"
        raised += notice_raise(
            kind=Kind.ACTION_ITEM,
            engagement=engagement,
            key=f"action_item:{item.pk}:{'overdue' if overdue else 'due'}:{item.due_date}",
            subject=f"{engagement.name}: your action item is {when} {item.due_date:%d %b}",
            body=item.description[:500],
            link=reverse("engagement-detail", args=[engagement.pk]) + "#action-items",
            recipients=[item.owner_id],
            data={"action_item": item.pk},
        )
    return raised


def checkin_cadence_scan() -> int:
    """An active engagement whose last check-in (or its start) is further back than its
    cadence: to both sides, once for each last check-in."""
    raised = 0
    engagements = Engagement.objects.filter(status=Engagement.Status.ACTIVE).annotate(
        last_checkin=Max("checkins__occurred_on")
    )
    for engagement in engagements:
        today = engagement.today()
        since = engagement.last_checkin or engagement.start_date
        if (today - since).days <= engagement.checkin_cadence_days or since > today:
            continue
        raised += notice_raise(
            kind=Kind.CHECKIN_CADENCE,
            engagement=engagement,
            key=f"checkin_cadence:{engagement.pk}:{since}",
            subject=(
                f"{engagement.name}: no check-in for {(today - since).days} days "
                f"(the cadence is {engagement.checkin_cadence_days})"
            ),
            body="Plan a check-in with the other side and log it.",
            link=reverse("checkin-create", args=[engagement.pk]),
        )
    return raised


def survey_scan() -> int:
    """The survey of the period in progress: once when it opens, once 2 days before it closes."""
    raised = 0
    for engagement in Engagement.objects.filter(status=Engagement.Status.ACTIVE):
        today = engagement.today()
        if today < engagement.start_date:
            continue
        period = engagement.current_period(today)
        closing = (period.end - today).days <= SURVEY_CLOSING_DAYS
        moment = "closing" if closing else "open"
        raised += notice_raise(
            kind=Kind.SURVEY,
            engagement=engagement,
            key=f"survey:{engagement.pk}:{period.kind}:{period.start}:{moment}",
            subject=(
                f"{engagement.name}: the survey of {period.title} closes on {period.end:%d %b}"
                if closing
                else f"{engagement.name}: the survey of {period.title} is open"
            ),
            body="Six questions about the relationship; answers are shown only in aggregate.",
            link=reverse("pulse-survey", args=[engagement.pk]),
        )
    return raised


def notices_scan() -> int:
    return action_items_scan() + checkin_cadence_scan() + survey_scan()
