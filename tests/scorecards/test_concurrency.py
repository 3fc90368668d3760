"""Computations of the same period at the same time, and a real worker end to end (PostgreSQL)."""

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection

from relationships.models import ScoringConfig
from relationships.periods import period_containing
from scorecards.compute import compute_chunk
from scorecards.models import Alert, OutboxEvent, Scorecard, ScorecardRun
from tests.factories import CheckInFactory, EngagementFactory, MeasurementFactory, SLAFactory
from tests.scorecards.conftest import APRIL_10, MARCH, make_engagements

# available_apps makes the flush after each test TRUNCATE ... CASCADE: knox's own
# token table (swapped for relationships.ApiToken) still references auth_user.
transactional = pytest.mark.django_db(transaction=True, available_apps=settings.INSTALLED_APPS)


@transactional
def test_two_computations_at_once_leave_one_scorecard_per_engagement(require_postgres):
    engagements = make_engagements(6)
    ids = [e.pk for e in engagements]
    barrier = threading.Barrier(2)
    errors = []

    def compute():
        try:
            barrier.wait(timeout=10)
            compute_chunk(ids, "month", MARCH, APRIL_10)
        except Exception as exc:  # reported below: a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=compute) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert Scorecard.objects.filter(period_start=MARCH).count() == len(ids)
    assert sorted(Scorecard.objects.values_list("engagement_id", flat=True)) == ids
    # The second computation found the first one's rows: no duplicate events.
    assert OutboxEvent.objects.filter(kind="scorecard.computed").count() == len(ids)


def _wait_for_runs(timeout: float = 90) -> list[ScorecardRun]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = list(ScorecardRun.objects.all())
        if runs and all(run.status in ("succeeded", "failed") for run in runs):
            return runs
        time.sleep(0.5)
    pytest.fail(f"runs did not finish: {list(ScorecardRun.objects.values('status', 'error'))}")


@pytest.mark.slow
@pytest.mark.real_broker
@transactional
def test_periodic_run_on_a_real_worker(worker, settings):
    from scorecards.tasks import compute_periodic_task

    today = datetime.now(UTC).date()
    current = period_containing("month", today)
    previous = current.previous()
    quiet = EngagementFactory(start_date=previous.start)  # no check-ins ever
    busy = EngagementFactory(start_date=previous.start)
    # No grace days: the previous month is closed whatever day of the month this runs on.
    for engagement in (quiet, busy):
        ScoringConfig.objects.create(engagement=engagement, grace_days=0)
    CheckInFactory(engagement=busy, occurred_at=datetime.now(UTC) - timedelta(hours=1))
    sla = SLAFactory(engagement=busy, owner_side="provider", target=Decimal("99"))
    for period in (previous, current):
        MeasurementFactory(sla=sla, period_start=period.start, value=Decimal("90"))

    compute_periodic_task.delay()
    runs = _wait_for_runs()

    assert {(run.period_start, run.status) for run in runs} == {
        (previous.start, "succeeded"),
        (current.start, "succeeded"),
    }
    assert Scorecard.objects.count() == 4
    assert set(Scorecard.objects.values_list("engagement_id", "period_start")) == {
        (e.pk, p.start) for e in (quiet, busy) for p in (current, previous)
    }
    alerts = set(Alert.objects.values_list("engagement_id", "period_start", "kind", "side"))
    assert (quiet.pk, current.start, "contact_gap", "") in alerts
    # Decided on the closed month only; contact_gap is live.
    assert (busy.pk, previous.start, "side_reliance_low", "provider") in alerts
    assert (busy.pk, current.start, "side_reliance_low", "provider") not in alerts
    assert (busy.pk, current.start, "contact_gap", "") not in alerts
    statuses = dict(Scorecard.objects.values_list("period_start", "status").distinct())
    assert statuses == {previous.start: "final", current.start: "provisional"}
    # Every final scorecard and every new alert went to the outbox, for the webhooks.
    assert OutboxEvent.objects.filter(kind="scorecard.computed").count() == 2
    assert OutboxEvent.objects.filter(kind="alert.raised").count() == len(alerts)
