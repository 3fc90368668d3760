"""Refresh on write with a real worker, broker and database (PRODUCT.md §12): a burst of
writes costs at most two recomputes and the last write is read; a write made while the
broker is down is refreshed once it is back, by the periodic tasks.

Recomputes are counted (the worker's log of refresh tasks), never timed.
"""

import re
from datetime import UTC, datetime

from rest_framework.test import APIClient

from scorecards.models import Scorecard, ScorecardRefresh
from tests.factories import SLAFactory
from tests.reliability.faults_summary import FAULTS
from tests.reliability.fleet import FLEET_MARKS, wait_until

pytestmark = FLEET_MARKS
REFRESHED = re.compile(r"Task scorecards\.refresh_scorecards\[[^\]]+\] succeeded")


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def _record_today(api, sla, value="99"):
    today = str(datetime.now(UTC).date())
    row = {"sla": sla.pk, "period_start": today, "period_end": today, "value": value}
    response = api.post("/api/v1/measurements/bulk/", {"rows": [row]}, format="json")
    assert response.status_code == 201, response.content


def _provisional(engagement) -> Scorecard | None:
    return Scorecard.objects.filter(
        engagement=engagement, period_start=engagement.current_period().start
    ).first()


def test_a_burst_of_50_writes_costs_at_most_2_recomputes_and_the_last_is_read(
    fleet, engagement, client_manager, tmp_path
):
    slas = [SLAFactory(engagement=engagement, name=f"Probe {n:02}") for n in range(50)]
    go = tmp_path / "go"
    # The first refresh is held mid-computation until the other 49 writes are made; a long
    # visibility timeout, so the held message is not handed out again meanwhile.
    worker = fleet.worker(
        "worker", concurrency=1, FAULTS_HOLD_UNTIL=str(go), CELERY_VISIBILITY_TIMEOUT="600"
    )
    fleet.wait_ready(worker)
    api = _api(client_manager)
    _record_today(api, slas[0])
    fleet.wait_for_progress(
        lambda progress: any(pk == engagement.pk for _, _, pk in progress),
        "the first refresh to read the inputs",
        timeout=60,
    )
    for sla in slas[1:]:
        _record_today(api, sla)  # each counted on the row; none queues a refresh of its own
    go.touch()

    def all_read():
        done = ScorecardRefresh.objects.filter(
            engagement=engagement, requested=50, refreshed=50, queued_at__isnull=True
        ).exists()
        return done and fleet.broker.idle()

    wait_until(all_read, "the refreshes to read all 50 writes", 120, fleet.logs)
    reliance = _provisional(engagement).explanation["data"]["reliance"]
    assert {sla["sla_id"] for sla in reliance} == {sla.pk for sla in slas}  # the last one too
    recomputes = len(REFRESHED.findall(fleet.logs[0].read_text()))
    assert 1 <= recomputes <= 2, fleet.logs[0].read_text()[-3000:]


def test_a_write_while_the_broker_is_down_is_refreshed_by_the_periodic_tasks(
    broker, fleet, engagement, client_manager
):
    sla = SLAFactory(engagement=engagement)
    broker.stop()
    FAULTS["broker stopped"] += 1
    api = _api(client_manager)
    _record_today(api, sla)  # the write succeeds; its refresh cannot be queued
    row = ScorecardRefresh.objects.get(engagement=engagement)
    assert (row.requested, row.refreshed, row.queued_at) == (1, 0, None)
    assert _provisional(engagement) is None

    broker.start()
    fleet.worker("worker")
    fleet.beat("beat", every=1)

    def refreshed():
        scorecard = _provisional(engagement)
        return scorecard and [s["sla_id"] for s in scorecard.explanation["data"]["reliance"]]

    assert wait_until(refreshed, "the provisional scorecard to read the write", 90, fleet.logs) == [
        sla.pk
    ]
    wait_until(
        lambda: ScorecardRefresh.objects.filter(engagement=engagement, refreshed=1).exists(),
        "refresh_pending to send the refresh",
        90,
        fleet.logs,
    )
