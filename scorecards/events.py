"""Payloads of the events Accord sends to webhook subscribers (written to the outbox).

Plain JSON: numbers as floats or null, dates in ISO format, and a link to the
engagement's page.
"""

from core import links
from relationships.models import Engagement
from scorecards.models import Alert, Scorecard, WebhookSubscription

SCORECARD_COMPUTED = WebhookSubscription.Event.SCORECARD_COMPUTED.value
ALERT_RAISED = WebhookSubscription.Event.ALERT_RAISED.value

_SCORECARD_NUMBERS = (
    "overall",
    "client_score",
    "provider_score",
    "coverage",
    "trend",
    "perception_gap",
)


def _number(value) -> float | None:
    return None if value is None else float(value)


def engagement_url(engagement_id: int) -> str:
    """The engagement's page on this site: the one link an event or a message carries."""
    return links.site_url() + Engagement(pk=engagement_id).get_absolute_url()


def payload(kind: str, engagement: Engagement, subject: str, fields: dict) -> dict:
    """The event's kind, its engagement, and its subject (a scorecard, an alert, a change
    request, a dispute) with a link."""
    return {
        "event": kind,
        "engagement": {
            "id": engagement.pk,
            "name": engagement.name,
            "client": engagement.client.name,
            "provider": engagement.provider.name,
        },
        subject: {**fields, "url": engagement_url(engagement.pk)},
    }


def scorecard_computed(engagement: Engagement, scorecard: Scorecard) -> dict:
    fields = {
        "id": scorecard.pk,
        "period_kind": scorecard.period_kind,
        "period_start": scorecard.period_start.isoformat(),
        "period_end": scorecard.period_end.isoformat(),
        "band": scorecard.band,
        **{name: _number(getattr(scorecard, name)) for name in _SCORECARD_NUMBERS},
    }
    return payload(SCORECARD_COMPUTED, engagement, "scorecard", fields)


def alert_raised(engagement: Engagement, alert: Alert) -> dict:
    fields = {
        "id": alert.pk,
        "kind": alert.kind,
        "side": alert.side,
        "message": alert.message,
        "period_start": alert.period_start.isoformat(),
    }
    return payload(ALERT_RAISED, engagement, "alert", fields)


def webhook_test(engagement: Engagement, subscription: WebhookSubscription, sent_by: str) -> dict:
    """The test message an admin sends to one subscription: who asked, and what it receives."""
    labels = dict(WebhookSubscription.Event.choices)
    fields = {
        "sent_by": sent_by,
        "events": [labels[event] for event in subscription.events if event in labels],
    }
    return payload(WebhookSubscription.Event.TEST.value, engagement, "test", fields)
