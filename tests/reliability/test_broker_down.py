"""Broker down: Accord keeps serving, says "recompute now" cannot be queued, loses no
webhook event, and catches up once the broker is back.

The broker is a redis-server of the test's own, stopped and started again; the
machine's shared Redis is never touched.
"""

from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO

from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from feedback.models import CheckIn
from relationships.periods import recent_periods
from scorecards.models import (
    OutboxEvent,
    Scorecard,
    ScorecardRun,
    WebhookDelivery,
    WebhookSubscription,
)
from scorecards.webhooks.subscriptions import subscription_save
from tests.factories import CheckInFactory, EngagementFactory
from tests.reliability.faults_summary import FAULTS, LOST
from tests.reliability.fleet import FLEET_MARKS, wait_until
from tests.scorecards.conftest import Receiver

pytestmark = FLEET_MARKS


def _periods_since(start_date) -> list:
    today = datetime.now(UTC).date()
    return sorted(p.start for p in recent_periods("month", today, 12) if p.end >= start_date)


def test_with_the_broker_down_nothing_is_lost_and_the_next_run_catches_up(
    broker,
    fleet,
    client,
    client_org,
    provider_org,
    client_admin,
    client_manager,
    settings,
    request,
):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    receiver = Receiver()
    request.addfinalizer(receiver.close)
    today = datetime.now(UTC).date()
    first_month = recent_periods("month", today, 4)[-1]
    engagement = EngagementFactory(
        client=client_org, provider=provider_org, start_date=first_month.start
    )
    CheckInFactory(engagement=engagement, occurred_at=datetime.now(UTC) - timedelta(days=1))
    subscription_save(
        subscription=WebhookSubscription(
            organization=client_org,
            url=receiver.url,
            events=["scorecard.computed", "alert.raised"],
            created_by=client_admin,
        ),
        secret="s" * 32,
    )
    api = APIClient()
    api.force_authenticate(client_manager)
    client.force_login(client_manager)
    assert client.get("/healthz").status_code == 200

    broker.stop()
    FAULTS["broker stopped"] += 1

    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json()["broker"]["ok"] is False and health.json()["database"]["ok"] is True
    # Pages, API reads, API writes and form posts do not need the broker.
    page = reverse("engagement-detail", args=[engagement.pk])
    assert client.get(reverse("portfolio")).status_code == 200
    assert client.get(page).status_code == 200
    assert api.get(f"/api/v1/engagements/{engagement.pk}/").status_code == 200
    assert api.get("/api/v1/scorecards/").status_code == 200
    checkin = {"engagement": engagement.pk, "occurred_at": datetime.now(UTC).isoformat()}
    assert api.post("/api/v1/checkins/", checkin, format="json").status_code == 201
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).astimezone(engagement.tz)
    form = {"occurred_at": f"{an_hour_ago:%Y-%m-%dT%H:%M}", "kind": "informal", "notes": "Coffee."}
    assert client.post(reverse("checkin-create", args=[engagement.pk]), form).status_code == 302
    assert CheckIn.objects.filter(engagement=engagement).count() == 3

    # "Recompute now" cannot be queued: the API and the dashboard button answer 503 and say so.
    refused = api.post(f"/api/v1/engagements/{engagement.pk}/recompute/")
    assert refused.status_code == 503
    assert "job queue is unreachable" in refused.json()["detail"]
    button = client.post(reverse("engagement-recompute", args=[engagement.pk]))
    assert button.status_code == 503 and "job queue is unreachable" in button.content.decode()
    assert set(ScorecardRun.objects.values_list("status", flat=True)) == {"failed"}

    # Scorecards computed in-process meanwhile raise webhook events: they wait in the outbox.
    call_command(
        "compute_scorecards",
        f"--period-start={first_month.start}",
        f"--engagement={engagement.pk}",
        "--sync",
        stdout=StringIO(),
    )
    waiting = set(OutboxEvent.objects.values_list("pk", flat=True))
    assert waiting and not OutboxEvent.objects.filter(dispatched_at__isnull=False).exists()

    # The broker comes back, with a worker and beat (every second instead of daily).
    broker.start()
    fleet.worker("worker", WEBHOOK_ALLOW_PRIVATE_URLS="true")
    beat = fleet.beat("beat", every=1)
    periods = _periods_since(engagement.start_date)

    def caught_up():
        scored = set(Scorecard.objects.values_list("period_start", flat=True))
        deliveries = WebhookDelivery.objects.all()
        return (
            scored == set(periods)
            and not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()
            and deliveries.count() == OutboxEvent.objects.count()
            and not deliveries.exclude(status="succeeded").exists()
        )

    wait_until(caught_up, "the outbox to drain and the missed periods to fill", 90, fleet.logs)
    fleet.stop(beat)

    delivered = Counter(
        int(request["headers"]["X-Accord-Delivery"]) for request in receiver.requests
    )
    events_delivered = set(
        WebhookDelivery.objects.filter(pk__in=delivered).values_list("event_id", flat=True)
    )
    stored = Counter(Scorecard.objects.values_list("period_start", flat=True))
    LOST["webhook events raised while the broker was down, undelivered"] += len(
        waiting - events_delivered
    )
    LOST["webhook deliveries sent twice"] += sum(n - 1 for n in delivered.values())
    LOST["missed periods not filled"] += len(set(periods) - set(stored))
    assert waiting <= events_delivered
    assert set(delivered.values()) == {1}
    assert stored == dict.fromkeys(periods, 1)
    filled = ScorecardRun.objects.filter(trigger="periodic", status="succeeded")
    assert set(filled.values_list("period_start", flat=True)) >= set(periods[1:])
    assert client.get("/healthz").json()["last_successful_scorecard_run"]["id"] is not None
