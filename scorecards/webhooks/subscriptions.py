"""Webhook subscriptions: saving one (its URL checked, its events known, its secret
encrypted), and the Slack and Teams channels an engagement's admins connect from its page,
with their test message, which travels the delivery path of every event."""

import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from relationships.models import Access, Engagement
from relationships.people import person_name
from scorecards import events
from scorecards.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from scorecards.webhooks import outbox
from scorecards.webhooks.addresses import validate_webhook_url
from scorecards.webhooks.signing import encrypt_secret


def subscription_save(
    *, subscription: WebhookSubscription, secret: str | None = None
) -> WebhookSubscription:
    """Validate and save; a new secret is stored encrypted, never in plain text."""
    validate_webhook_url(subscription.url)
    engagement = subscription.engagement
    if engagement and subscription.organization_id not in (
        engagement.client_id,
        engagement.provider_id,
    ):
        raise ValidationError({"engagement": "Choose an engagement of the organisation."})
    events = subscription.events
    known = [value for value, _ in WebhookSubscription.subscribable_events()]
    if not events or not isinstance(events, list) or not set(events) <= set(known):
        raise ValidationError({"events": f"Choose one or more of {', '.join(known)}."})
    subscription.events = sorted(set(events))
    if secret is not None:
        subscription.secret_encrypted = encrypt_secret(secret)
    if not subscription.secret_encrypted:
        raise ValidationError({"secret": "A secret is required to sign deliveries."})
    subscription.save()
    return subscription


# ---------------------------------------------------------------- an engagement's channels
CHANNEL_FORMATS = (WebhookSubscription.Format.SLACK, WebhookSubscription.Format.TEAMS)


def engagement_channels(engagement: Engagement, access: Access):
    """The Slack and Teams webhooks the user's side connected to this engagement."""
    return WebhookSubscription.objects.filter(
        engagement=engagement,
        organization_id=engagement.organization_id_of(access.side),
        format__in=CHANNEL_FORMATS,
    ).order_by("id")


def _require_channel_admin(subscription: WebhookSubscription, user) -> None:
    access = subscription.engagement.access_for(user).require("administer")
    if subscription.organization_id != subscription.engagement.organization_id_of(access.side):
        raise PermissionDenied("Only the admins of the side that connected it may change it.")


def engagement_channel_add(
    *, engagement: Engagement, user, format: str, url: str, events: list[str]
) -> WebhookSubscription:
    """Connect a Slack or Teams incoming webhook to this engagement's events, for the
    user's side; Slack and Teams ignore the signature, so its secret is generated."""
    access = engagement.access_for(user).require("administer")
    if format not in CHANNEL_FORMATS:
        raise ValidationError({"format": "Choose Slack or Microsoft Teams."})
    subscription = WebhookSubscription(
        organization=engagement.organization_of(access.side),
        engagement=engagement,
        url=url.strip(),
        events=list(events),
        format=format,
        created_by=user,
    )
    return subscription_save(subscription=subscription, secret=secrets.token_urlsafe(32))


def engagement_channel_remove(*, subscription: WebhookSubscription, user) -> None:
    _require_channel_admin(subscription, user)
    subscription.delete()


@transaction.atomic
def webhook_test_send(*, subscription: WebhookSubscription, user) -> WebhookDelivery:
    """A test message to one subscription, through the outbox's delivery (the address
    checked again, the same retries); the drain never hands it to other subscriptions."""
    _require_channel_admin(subscription, user)
    now = timezone.now()
    event = OutboxEvent.objects.create(
        engagement=subscription.engagement,
        kind=WebhookSubscription.Event.TEST,
        payload=events.webhook_test(subscription.engagement, subscription, person_name(user)),
        dispatched_at=now,
    )
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event=event, next_attempt_at=now
    )
    transaction.on_commit(lambda: outbox.send(outbox.deliver_webhook, delivery.pk))
    return delivery
