"""Saving a webhook subscription: its URL checked, its events known, its secret encrypted."""

from django.core.exceptions import ValidationError

from scorecards.models import WebhookSubscription
from scorecards.webhooks.addresses import validate_webhook_url
from scorecards.webhooks.signing import encrypt_secret


def subscription_save(
    *, subscription: WebhookSubscription, secret: str | None = None
) -> WebhookSubscription:
    """Validate and save; a new secret is stored encrypted, never in plain text."""
    validate_webhook_url(subscription.url)
    events, known = subscription.events, WebhookSubscription.Event.values
    if not events or not isinstance(events, list) or not set(events) <= set(known):
        raise ValidationError({"events": f"Choose one or more of {', '.join(known)}."})
    subscription.events = sorted(set(events))
    if secret is not None:
        subscription.secret_encrypted = encrypt_secret(secret)
    if not subscription.secret_encrypted:
        raise ValidationError({"secret": "A secret is required to sign deliveries."})
    subscription.save()
    return subscription
