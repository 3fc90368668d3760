"""PRODUCT.md §9 end to end: PostgreSQL, Redis, a real Celery worker and a real SMTP server.

An alert raised by a run reaches the managers of both sides by e-mail once, not the
viewers who chose the digest; the weekly digest arrives once at 08:00 local time for two
members in different time zones, also when the digest beat runs twice."""

import time
from datetime import UTC, datetime
from unittest import mock

import pytest
from django.conf import settings
from django.db import transaction

from accord.celery import app
from notices.models import Channel, Digest, Kind, Notice
from notices.services import PreferenceEntry, notice_raise, preferences_set
from notices.tasks import digests_due_task
from scorecards.models import Alert, ScorecardRun
from scorecards.services import request_recompute
from tests.notices.conftest import html_of, text_of

transactional = pytest.mark.django_db(transaction=True, available_apps=settings.INSTALLED_APPS)
pytestmark = [pytest.mark.slow, pytest.mark.real_broker, transactional]


def wait_for(condition, what: str, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"waited {seconds} s for {what}")


def worker_idle() -> bool:
    """Nothing queued for the worker and nothing running on it: a duplicate task enqueued
    by the test has been handled by now."""
    with app.connection_for_write() as connection:
        queued = connection.default_channel.client.llen("celery")
    active = app.control.inspect(timeout=1).active() or {}
    return queued == 0 and active and not any(active.values())


def test_an_alert_raised_by_a_run_reaches_the_managers_of_both_sides_once(
    smtp, worker, engagement, client_manager, provider_manager, client_viewer, provider_viewer
):
    # The viewers chose the weekly digest for alerts (their role's default, chosen here).
    for viewer in (client_viewer, provider_viewer):
        preferences_set(user=viewer, entries=[PreferenceEntry(None, Kind.ALERT, Channel.WEEKLY)])
    # No check-in ever: the run of the period in progress raises a contact gap alert.
    with transaction.atomic():
        [run] = request_recompute(engagement=engagement, user=client_manager)
    wait_for(lambda: len(smtp.messages) >= 2, "two e-mails")
    wait_for(lambda: ScorecardRun.objects.get(pk=run.pk).status == "succeeded", "the run to finish")
    alert = Alert.objects.get(engagement=engagement, kind="contact_gap")

    # A second run: the alert is still open, nothing is raised again; a task delivered twice
    # (as after a lost acknowledgement) finds its notice sent.
    with transaction.atomic():
        [again] = request_recompute(engagement=engagement, user=provider_manager)
    wait_for(lambda: ScorecardRun.objects.get(pk=again.pk).status == "succeeded", "the second run")
    from notices.tasks import notice_email_task

    for notice in Notice.objects.filter(channel=Channel.IMMEDIATE):
        notice_email_task.delay(notice_id=notice.pk)
    wait_for(worker_idle, "the worker to finish its queue")

    assert sorted(recipients for recipients, _ in smtp.messages) == [
        [client_manager.email],
        [provider_manager.email],
    ]
    [message] = smtp.to(client_manager.email)
    assert alert.message in message["Subject"]
    unsubscribe = str(message["List-Unsubscribe"]).strip()
    assert unsubscribe.startswith(f"<{settings.SITE_URL}/notices/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = f"{settings.SITE_URL}/engagements/{engagement.pk}/periods/"
    text, html = text_of(message), html_of(message)
    assert link in text and link in html
    assert "Why you got this" in text and "Why you got this" in html
    # No external images or fonts: nothing is fetched when the e-mail is opened.
    assert "<img" not in html and "@import" not in html and "<link" not in html
    # The viewers have it in their inbox, for their digest.
    for viewer in (client_viewer, provider_viewer):
        notice = Notice.objects.get(user=viewer, kind=Kind.ALERT)
        assert notice.channel == Channel.WEEKLY and notice.emailed_at is None
    assert Notice.objects.filter(kind=Kind.ALERT).count() == 4


def test_the_weekly_digest_arrives_once_at_eight_local_time_in_each_zone(
    smtp, worker, engagement, client_viewer, provider_viewer
):
    preferences_set(user=client_viewer, entries=[], time_zone="Europe/Berlin")
    preferences_set(user=provider_viewer, entries=[], time_zone="America/New_York")
    thursday = datetime(2026, 11, 26, 12, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=thursday):
        notice_raise(
            kind=Kind.SURVEY,
            engagement=engagement,
            key="survey:test",
            subject="The survey of November 2026 closes on 30 Nov",
            link=f"/engagements/{engagement.pk}/survey/",
        )

    def beat(hour: int, minute: int = 0) -> None:
        # The beat task itself, at a fixed moment on Monday 30 November 2026; it enqueues
        # the digests due to the real worker.
        moment = datetime(2026, 11, 30, hour, minute, tzinfo=UTC)
        with mock.patch("django.utils.timezone.now", return_value=moment):
            digests_due_task.apply()

    beat(6, 55)  # 07:55 in Berlin, 01:55 in New York: nobody's 08:00 yet
    assert not Digest.objects.exists()
    beat(7)  # 08:00 in Berlin
    beat(7, 1)  # a second beat (or a second beat process)
    wait_for(lambda: len(smtp.messages) == 1, "the Berlin digest")
    beat(13)  # 08:00 in New York
    beat(13)
    wait_for(lambda: len(smtp.messages) == 2, "the New York digest")
    wait_for(worker_idle, "the worker to finish its queue")

    assert [len(smtp.to(user.email)) for user in (client_viewer, provider_viewer)] == [1, 1]
    digests = Digest.objects.order_by("sent_at")
    assert [(d.user_id, d.frequency, str(d.date)) for d in digests] == [
        (client_viewer.pk, "weekly", "2026-11-30"),
        (provider_viewer.pk, "weekly", "2026-11-30"),
    ]
    [message] = smtp.to(provider_viewer.email)
    assert "weekly digest" in message["Subject"].lower()
    assert "The survey of November 2026 closes on 30 Nov" in text_of(message)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
