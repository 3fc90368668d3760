"""A scorecard run drains the outbox once, when it closes, not once per chunk."""

from unittest import mock

import pytest

from scorecards import compute
from scorecards.models import OutboxEvent, ScorecardRun
from scorecards.runs import start_run
from scorecards.tasks import compute_chunk_task
from scorecards.webhooks.outbox import DRAIN_BATCH, drain_outbox
from tests.factories import EngagementFactory
from tests.scorecards.conftest import MARCH, populate

DRAIN_ENQUEUE = "scorecards.webhooks.outbox.drain_outbox.apply_async"


@pytest.mark.django_db
def test_a_run_of_three_chunks_enqueues_one_drain_when_it_closes(
    settings, rich_engagement, django_capture_on_commit_callbacks
):
    settings.SCORECARD_CHUNK_SIZE = 1
    engagements = [rich_engagement, *(populate(EngagementFactory()) for _ in range(2))]
    run = ScorecardRun.objects.create(trigger="command", period_kind="month", period_start=MARCH)
    run = start_run(run.pk, [e.pk for e in engagements], dispatch=False)
    chunks = list(run.chunks.order_by("pk"))
    with mock.patch(DRAIN_ENQUEUE) as enqueue:
        for number, chunk in enumerate(chunks, start=1):
            with django_capture_on_commit_callbacks(execute=True):
                compute_chunk_task.apply(kwargs={"chunk_id": chunk.pk}, throw=True)
            # Events of finished chunks wait until the run closes.
            assert enqueue.call_count == (1 if number == len(chunks) else 0)
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert OutboxEvent.objects.filter(kind="scorecard.computed").count() == 3


@pytest.mark.django_db
def test_a_chunk_computed_outside_a_run_enqueues_its_drain(
    rich_engagement, django_capture_on_commit_callbacks
):
    with mock.patch(DRAIN_ENQUEUE) as enqueue:
        with django_capture_on_commit_callbacks(execute=True):
            compute.compute_chunk([rich_engagement.pk], "month", MARCH)
    assert enqueue.call_count == 1


@pytest.mark.django_db
def test_a_drain_that_takes_a_full_batch_enqueues_another(
    settings, engagement, django_capture_on_commit_callbacks
):
    OutboxEvent.objects.bulk_create(
        OutboxEvent(kind="scorecard.computed", engagement=engagement, payload={})
        for _ in range(DRAIN_BATCH + 1)
    )
    with mock.patch(DRAIN_ENQUEUE) as enqueue:
        with django_capture_on_commit_callbacks(execute=True):
            drain_outbox()
        assert enqueue.call_count == 1  # the one event left over
        with django_capture_on_commit_callbacks(execute=True):
            drain_outbox()
        assert enqueue.call_count == 1
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()
