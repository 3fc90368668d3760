"""Events about the terms of an engagement and its records (PRODUCT.md §7), from
relationships.signals.terms_event to the webhook outbox."""

from django.dispatch import receiver

from relationships.signals import terms_event
from scorecards.events import payload
from scorecards.models import OutboxEvent
from scorecards.signals import events_written
from scorecards.webhooks import outbox


@receiver(terms_event, dispatch_uid="scorecards.terms_event_to_outbox")
def terms_event_to_outbox(sender, *, engagement, event, subject, fields, **kwargs):
    """Written in the transaction of the change: the event commits or rolls back with it."""
    written = OutboxEvent.objects.create(
        kind=event, engagement=engagement, payload=payload(event, engagement, subject, fields)
    )
    events_written.send(sender=OutboxEvent, events=[written])
    outbox.enqueue_drain()
