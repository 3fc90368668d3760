"""Webhooks: subscriptions' secrets and URLs, the outbox drain and signed deliveries.

The scorecard computation writes OutboxEvent rows in its own transaction (see
`record_event`). `drain_outbox` (every minute from beat, and right after such a
commit) turns each event into one WebhookDelivery per matching subscription of the
engagement's two parties, then `deliver_webhook` POSTs it, signed, retrying with
exponential backoff. Every step is idempotent, so a broker outage or a repeated
task delays deliveries but never loses or duplicates them.
"""

import base64
import hashlib
import hmac
import ipaddress
import logging
import socket
import time
from datetime import timedelta
from urllib.parse import urlsplit

import orjson
import requests
from celery import shared_task
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from relationships.models import Engagement
from scorecards.models import OutboxEvent, WebhookDelivery, WebhookSubscription

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
FIRST_RETRY_SECONDS = 30  # then 60, 120, 240, 480
DRAIN_BATCH = 500
USER_AGENT = "Accord-Webhooks/1"
Event = WebhookSubscription.Event
Format = WebhookSubscription.Format


# ---------------------------------------------------------------- secrets
def _fernet() -> Fernet:
    key = settings.FIELD_ENCRYPTION_KEY
    if not key:
        # Development and tests only: settings refuse to start without a key when DEBUG is off.
        key = base64.urlsafe_b64encode(hashlib.sha256(settings.SECRET_KEY.encode()).digest())
    return Fernet(key)


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_secret(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A webhook secret cannot be decrypted: FIELD_ENCRYPTION_KEY changed"
        ) from None


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Accord-Signature value: HMAC-SHA256 over "{timestamp}.{body}"."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


# ---------------------------------------------------------------- URLs
def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


def validate_webhook_url(url: str) -> None:
    """https only, and every address the host resolves to must be public.

    Checked when a subscription is saved and again before each delivery, so a
    host re-pointed at an internal address later is still refused.
    """
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE_URLS
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValidationError({"url": "This is not a valid URL."}) from None
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise ValidationError({"url": "Webhook URLs must use https://."})
    if not parts.hostname:
        raise ValidationError({"url": "The URL has no host."})
    if parts.username or parts.password:
        raise ValidationError({"url": "Put credentials in the secret, not in the URL."})
    if allow_private:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port)}
    except (socket.gaierror, UnicodeError):
        raise ValidationError({"url": f"The host {parts.hostname} cannot be resolved."}) from None
    if not all(_is_public(address) for address in addresses):
        raise ValidationError(
            {"url": "The host resolves to a private, loopback, link-local or reserved address."}
        )


# ---------------------------------------------------------------- message formats
def _summary(kind: str, payload: dict) -> tuple[str, str, list[tuple[str, str]], str]:
    """Title, text, facts and link of an event, shared by the Slack and Teams formats."""
    engagement = payload.get("engagement") or {}
    parties = f"{engagement.get('client', '?')} ↔ {engagement.get('provider', '?')}"
    if kind == Event.ALERT_RAISED:
        alert = payload.get("alert") or {}
        facts = [
            ("Engagement", str(engagement.get("name", ""))),
            ("Alert", str(alert.get("kind", "")).replace("_", " ")),
            ("Side", str(alert.get("side") or "both")),
            ("Period", str(alert.get("period_start", ""))),
        ]
        return (
            f"Alert: {engagement.get('name', '')}",
            str(alert.get("message", "")),
            facts,
            str(alert.get("url", "")),
        )
    card = payload.get("scorecard") or {}
    facts = [
        ("Overall", _number(card.get("overall"))),
        ("Band", str(card.get("band", "")).replace("_", " ")),
        ("Client", _number(card.get("client_score"))),
        ("Provider", _number(card.get("provider_score"))),
        ("Trend", _number(card.get("trend"), signed=True)),
        ("Perception gap", _number(card.get("perception_gap"))),
        ("Coverage", _number(card.get("coverage"))),
    ]
    period = f"{card.get('period_start', '')} – {card.get('period_end', '')}"
    return (
        f"Scorecard: {engagement.get('name', '')}",
        f"{parties}, {card.get('period_kind', 'period')} {period}",
        facts,
        str(card.get("url", "")),
    )


def _number(value, signed: bool = False) -> str:
    if value is None:
        return "no data"
    return f"{float(value):+.1f}" if signed else f"{float(value):g}"


def render(kind: str, payload: dict, format: str) -> dict:
    """The body a subscription in `format` receives for an event."""
    if format == Format.JSON:
        return payload
    title, text, facts, url = _summary(kind, payload)
    if format == Format.SLACK:
        blocks = [
            {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": text or title}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in facts
                ],
            },
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Accord · <{url}|Open>"}]},
        ]
        return {"text": f"{title}: {text}", "blocks": blocks}
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": title,
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
            },
            {"type": "TextBlock", "text": text, "wrap": True, "isSubtle": True},
            {"type": "FactSet", "facts": [{"title": n, "value": v} for n, v in facts]},
        ],
        "actions": [{"type": "Action.OpenUrl", "title": "Open in Accord", "url": url}]
        if url
        else [],
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


# ---------------------------------------------------------------- subscriptions
def subscription_save(
    *, subscription: WebhookSubscription, secret: str | None = None
) -> WebhookSubscription:
    """Validate and save; a new secret is stored encrypted, never in plain text."""
    validate_webhook_url(subscription.url)
    events = subscription.events
    if not events or not isinstance(events, list) or not set(events) <= set(Event.values):
        raise ValidationError({"events": f"Choose one or more of {', '.join(Event.values)}."})
    subscription.events = sorted(set(events))
    if secret is not None:
        subscription.secret_encrypted = encrypt_secret(secret)
    if not subscription.secret_encrypted:
        raise ValidationError({"secret": "A secret is required to sign deliveries."})
    subscription.save()
    return subscription


# ---------------------------------------------------------------- outbox
def record_event(*, engagement: Engagement, kind: str, payload: dict) -> OutboxEvent:
    """Write an event in the caller's transaction; it is drained once that commits."""
    event = OutboxEvent.objects.create(engagement=engagement, kind=kind, payload=payload)
    enqueue_drain()
    return event


def enqueue_drain() -> None:
    """Drain the outbox after the current transaction commits; beat covers a broker outage."""
    transaction.on_commit(lambda: _send(drain_outbox))


def _send(task, *args, countdown: float | None = None) -> None:
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
        _send(deliver_webhook, delivery_id)
    return len(due)


# ---------------------------------------------------------------- delivery
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
        validate_webhook_url(subscription.url)
        body = orjson.dumps(render(event.kind, event.payload, subscription.format))
        timestamp = str(int(time.time()))
        response = requests.post(
            subscription.url,
            data=body,
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
            allow_redirects=False,
            stream=True,  # read only the start of the answer: the receiver is not trusted
        )
        with response:
            code = response.status_code
            excerpt = next(response.iter_content(500), b"").decode(errors="replace")
        retryable = code >= 500 or code == 429
        if not 200 <= code < 300:
            error = f"HTTP {code}: {excerpt}"
    except ValidationError as exc:
        retryable, error = False, "; ".join(exc.messages)
    except requests.RequestException as exc:
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
        _send(deliver_webhook, delivery.pk, countdown=countdown)
