"""Outbox delivery: the drain that turns events into deliveries, and each signed POST.

The scorecard computation writes OutboxEvent rows in its own transaction (see
`scorecards.compute`). `drain_outbox` (every minute from beat, and right after
such a commit) turns each event into one WebhookDelivery per matching subscription of
the engagement's two parties, then `deliver_webhook` POSTs it, signed, retrying
with exponential backoff. Every step is idempotent, so a broker outage or a repeated
task delays deliveries but never loses or duplicates them.
"""

import logging
import time
from datetime import timedelta

import orjson
import urllib3
from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from scorecards.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from scorecards.webhooks.addresses import webhook_destination
from scorecards.webhooks.formats import render
from scorecards.webhooks.signing import decrypt_secret, sign

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
FIRST_RETRY_SECONDS = 30  # then 60, 120, 240, 480
DRAIN_BATCH = 500
USER_AGENT = "Accord-Webhooks/1"


def enqueue_drain() -> None:
    """Drain the outbox after the current transaction commits; beat covers a broker outage."""
    transaction.on_commit(lambda: send(drain_outbox))


def send(task, *args, countdown: float | None = None) -> None:
    try:
        task.apply_async(args, countdown=countdown)
    except Exception as exc:  # any broker failure: the periodic drain enqueues it again
        logger.warning("Could not enqueue %s%s: %s", task.name, args, exc)


@shared_task(name="scorecards.drain_outbox")
def drain_outbox() -> int:
    """Create deliveries for undispatched events and enqueue every delivery that is due."""
    now = timezone.now()
    with transaction.atomic():
        events = OutboxEvent.objects.filter(dispatched_at__isnull=True).select_related("engagement")
        if connection.features.has_select_for_update_skip_locked:
            # Concurrent drains take disjoint events instead of waiting on each other.
            events = events.select_for_update(skip_locked=True, of=("self",))
        events = list(events.order_by("id")[:DRAIN_BATCH])
        party_ids = {e.engagement.client_id for e in events} | {
            e.engagement.provider_id for e in events
        }
        subscriptions: dict[int, list[WebhookSubscription]] = {}
        for subscription in WebhookSubscription.objects.filter(
            active=True, organization_id__in=party_ids
        ):
            subscriptions.setdefault(subscription.organization_id, []).append(subscription)
        deliveries = [
            WebhookDelivery(subscription=subscription, event=event, next_attempt_at=now)
            for event in events
            for party in (event.engagement.client_id, event.engagement.provider_id)
            for subscription in subscriptions.get(party, [])
            if event.kind in subscription.events
            and subscription.engagement_id in (None, event.engagement_id)
        ]
        WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        OutboxEvent.objects.filter(pk__in=[e.pk for e in events]).update(dispatched_at=now)
        if len(events) == DRAIN_BATCH:
            enqueue_drain()  # a full batch: more events may wait (a run writes thousands)
    due = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
        ).values_list("pk", flat=True)[:DRAIN_BATCH]
    )
    for delivery_id in due:
        send(deliver_webhook, delivery_id)
    return len(due)


def _claim(delivery_id: int) -> WebhookDelivery | None:
    """Take a due delivery for one attempt; a duplicate task finds nothing to do."""
    now = timezone.now()
    with transaction.atomic():
        deliveries = WebhookDelivery.objects.select_related("subscription", "event")
        if connection.features.has_select_for_update_skip_locked:
            deliveries = deliveries.select_for_update(skip_locked=True, of=("self",))
        delivery = deliveries.filter(
            pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
        ).first()
        if delivery is None:
            return None
        delivery.attempts += 1
        # A lease: while this attempt runs, the drain does not hand the delivery out again.
        delivery.next_attempt_at = now + timedelta(seconds=4 * settings.WEBHOOK_TIMEOUT_SECONDS)
        delivery.save(update_fields=["attempts", "next_attempt_at"])
    return delivery


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=FIRST_RETRY_SECONDS * 2 ** (attempts - 1))


@shared_task(name="scorecards.deliver_webhook")
def deliver_webhook(delivery_id: int) -> str | None:
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    subscription, event = delivery.subscription, delivery.event
    code, error = None, ""
    try:
        if not subscription.active:
            raise ValidationError("The subscription was deactivated before delivery.")
        destination = webhook_destination(subscription.url)
        body = orjson.dumps(render(event.kind, event.payload, subscription.format))
        timestamp = str(int(time.time()))
        code, answer = destination.post(
            body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "X-Accord-Event": event.kind,
                "X-Accord-Delivery": str(delivery.pk),
                "X-Accord-Timestamp": timestamp,
                "X-Accord-Signature": sign(
                    decrypt_secret(subscription.secret_encrypted), timestamp, body
                ),
            },
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        )
        retryable = code >= 500 or code == 429
        if 300 <= code < 400:
            error = f"HTTP {code}: redirects are not followed; subscribe the final URL."
        elif not 200 <= code < 300:
            error = f"HTTP {code}: {answer.decode(errors='replace')}"
    except ValidationError as exc:
        retryable, error = False, "; ".join(exc.messages)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        retryable, error = True, f"{type(exc).__name__}: {exc}"[:1000]
    _finish(delivery, code=code, error=error, retryable=retryable)
    return delivery.status


def _finish(delivery: WebhookDelivery, *, code: int | None, error: str, retryable: bool) -> None:
    now = timezone.now()
    delivery.response_code = code
    delivery.last_error = error
    if not error:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    elif retryable and delivery.attempts < MAX_ATTEMPTS:
        delivery.next_attempt_at = now + retry_delay(delivery.attempts)
    else:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.next_attempt_at = None
    delivery.save(
        update_fields=["status", "response_code", "last_error", "next_attempt_at", "delivered_at"]
    )
    logger.info(
        "Webhook delivery %s: %s after %s attempt(s), HTTP %s %s",
        delivery.pk,
        delivery.status,
        delivery.attempts,
        code,
        error[:200],
    )
    if delivery.status == WebhookDelivery.Status.PENDING:
        countdown = (delivery.next_attempt_at - now).total_seconds()
        send(deliver_webhook, delivery.pk, countdown=countdown)
