"""Celery tasks of notices: wrappers that take ids, safe to run twice (each send is claimed
by a conditional UPDATE in notices.delivery)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from notices import delivery, scans
from notices.models import KEPT_FOR, Digest, Notice

RETRIED = (delivery.TemporaryFailure, OperationalError, InterfaceError)
RETRY = {
    "autoretry_for": RETRIED,
    "retry_backoff": 30,
    "retry_backoff_max": 3600,
    "retry_jitter": True,
    "max_retries": 10,
}


@shared_task(name="notices.email_send", **RETRY)
def notice_email_task(notice_id: int) -> str:
    return delivery.notice_email_send(notice_id)


@shared_task(name="notices.digest_send", **RETRY)
def digest_send_task(digest_id: int) -> str:
    return delivery.digest_send(digest_id)


@shared_task(name="notices.email_unsent")
def emails_unsent_task() -> int:
    """Beat, every few minutes: e-mails at once the broker could not take when raised."""
    unsent = delivery.emails_unsent()
    for notice_id in unsent:
        notice_email_task.delay(notice_id=notice_id)
    return len(unsent)


@shared_task(name="notices.digests_due")
def digests_due_task() -> int:
    """Beat, every few minutes: enqueue the digests whose 08:00 has come."""
    due = delivery.digests_plan()
    for digest_id in due:
        digest_send_task.delay(digest_id=digest_id)
    return len(due)


@shared_task(name="notices.scan")
def notices_scan_task() -> int:
    """Beat, hourly: action items due, check-ins slipping, surveys open or closing."""
    return scans.notices_scan()


@shared_task(name="notices.prune")
def notices_prune_task() -> int:
    """Beat, daily: notices are kept 90 days (digests' rows as long)."""
    cutoff = timezone.now() - KEPT_FOR
    Digest.objects.filter(date__lt=cutoff.date()).delete()
    deleted, _ = Notice.objects.filter(created_at__lt=cutoff).delete()
    return deleted
