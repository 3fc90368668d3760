"""Celery tasks of the relationships app: small wrappers of its services, safe to run twice."""

from datetime import datetime

from celery import shared_task

from relationships.change_requests import change_requests_expire


@shared_task(name="relationships.expire_change_requests")
def expire_change_requests(now: str | None = None) -> int:
    """Expire the change requests open for 30 days (hourly, from beat); `now`: an ISO
    timestamp to expire as of, else the present."""
    return change_requests_expire(now=datetime.fromisoformat(now) if now else None)
