from datetime import date
from io import StringIO
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as KombuOperationalError

from relationships.periods import period_containing
from scorecards import compute
from scorecards.models import Scorecard, ScorecardRun, ScorecardRunChunk
from scorecards.runs import periods_to_compute, start_run
from scorecards.services import BrokerUnavailable, request_recompute
from scorecards.tasks import compute_chunk_task
from tests.factories import EngagementFactory
from tests.scorecards.conftest import MARCH, populate


def _run(engagements, **fields):
    run = ScorecardRun.objects.create(
        trigger=ScorecardRun.Trigger.COMMAND, period_kind="month", period_start=MARCH, **fields
    )
    return start_run(run.pk, [e.pk for e in engagements], dispatch=False)


@pytest.mark.django_db
def test_a_run_computes_its_chunks_and_closes(settings, rich_engagement):
    settings.SCORECARD_CHUNK_SIZE = 2
    engagements = [rich_engagement, *(populate(EngagementFactory()) for _ in range(2))]
    run = _run(engagements)
    assert (run.chunks_total, run.engagements_total, run.status) == (2, 3, "queued")
    for chunk in run.chunks.all():
        compute_chunk_task.apply(kwargs={"chunk_id": chunk.pk}, throw=False)
        compute_chunk_task.apply(kwargs={"chunk_id": chunk.pk}, throw=False)  # redelivered: no-op
    run.refresh_from_db()
    assert (run.status, run.chunks_done, run.scorecards_written) == ("succeeded", 2, 3)
    assert run.finished_at is not None
    assert Scorecard.objects.filter(period_start=MARCH).count() == 3


@pytest.mark.django_db
def test_a_failed_chunk_is_recorded_on_the_run(rich_engagement):
    run = _run([rich_engagement])
    chunk = run.chunks.get()
    with mock.patch.object(compute, "compute_chunk", side_effect=ValueError("bad data")):
        compute_chunk_task.apply(kwargs={"chunk_id": chunk.pk}, throw=False)
    run.refresh_from_db()
    chunk.refresh_from_db()
    assert chunk.status == "failed" and "bad data" in chunk.error
    assert (run.status, run.chunks_failed, run.chunks_done) == ("failed", 1, 0)
    assert "ValueError: bad data" in run.error
    assert not Scorecard.objects.exists()


@pytest.mark.django_db
def test_transient_database_errors_are_retried_a_bounded_number_of_times(rich_engagement):
    assert compute_chunk_task.autoretry_for == (OperationalError, InterfaceError)
    assert compute_chunk_task.max_retries == 3
    run = _run([rich_engagement])
    chunk = run.chunks.get()
    failing = mock.patch.object(compute, "compute_chunk", side_effect=OperationalError("gone"))
    with failing:  # the last retry: Celery gives up and the chunk is recorded as failed
        compute_chunk_task.apply(
            kwargs={"chunk_id": chunk.pk}, retries=compute_chunk_task.max_retries, throw=False
        )
    chunk.refresh_from_db()
    assert chunk.status == "failed" and "OperationalError: gone" in chunk.error


@pytest.mark.django_db
def test_a_chunk_that_keeps_crashing_stops_after_its_attempts(rich_engagement):
    run = _run([rich_engagement])
    chunk = run.chunks.get()
    # As if the worker died mid-task every time and the broker redelivered it.
    ScorecardRunChunk.objects.filter(pk=chunk.pk).update(attempts=ScorecardRunChunk.MAX_ATTEMPTS)
    with mock.patch.object(compute, "compute_chunk") as compute_chunk:
        compute_chunk_task.apply(kwargs={"chunk_id": chunk.pk}, throw=False)
    compute_chunk.assert_not_called()
    run.refresh_from_db()
    assert run.status == "failed" and "Gave up" in run.error


@pytest.mark.django_db
def test_periodic_covers_current_previous_and_missing_periods_but_not_frozen(engagement):
    today = date(2026, 4, 10)
    weekly = EngagementFactory(scorecard_period="week", start_date=date(2026, 3, 30))
    EngagementFactory(status="proposed")
    Scorecard.objects.create(
        engagement=engagement,
        period_kind="month",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 1, 31),
        as_of=date(2026, 1, 31),
        band="watch",
        coverage=1,
        computed_at="2026-02-01T00:00Z",
        frozen_at="2026-02-02T00:00Z",
    )
    wanted = periods_to_compute(today=today)
    assert wanted == {
        ("month", date(2026, 4, 1)): [engagement.pk],
        ("month", date(2026, 3, 1)): [engagement.pk],
        ("month", date(2026, 2, 1)): [engagement.pk],
        ("week", date(2026, 4, 6)): [weekly.pk],
        ("week", date(2026, 3, 30)): [weekly.pk],
    }


@pytest.mark.django_db
def test_recompute_now_queues_the_current_period(
    rich_engagement, client_manager, client_viewer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        (run,) = request_recompute(engagement=rich_engagement, user=client_manager)
    run.refresh_from_db()
    period = period_containing("month", rich_engagement.today())
    assert (run.status, run.period_start, run.trigger) == ("succeeded", period.start, "on_demand")
    assert Scorecard.objects.filter(engagement=rich_engagement, period_start=period.start).exists()
    with pytest.raises(PermissionDenied):
        request_recompute(engagement=rich_engagement, user=client_viewer)


@pytest.mark.django_db
def test_recompute_now_without_a_broker_fails_clearly(
    rich_engagement, client_manager, django_capture_on_commit_callbacks
):
    from scorecards.tasks import compute_period_task

    down = mock.patch.object(
        compute_period_task, "apply_async", side_effect=KombuOperationalError("refused")
    )
    with down, pytest.raises(BrokerUnavailable):
        with django_capture_on_commit_callbacks(execute=True):
            request_recompute(engagement=rich_engagement, user=client_manager)
    run = ScorecardRun.objects.get()
    assert run.status == "failed" and "refused" in run.error


@pytest.mark.django_db
def test_command_computes_a_period_in_process(rich_engagement):
    out = StringIO()
    call_command(
        "compute_scorecards",
        "--period-start",
        "2026-03-15",
        "--engagement",
        str(rich_engagement.pk),
        "--sync",
        stdout=out,
    )
    assert "month from 2026-03-01, 1 engagements" in out.getvalue()
    assert "chunk 1/1 done" in out.getvalue() and "1 scorecards written" in out.getvalue()
    assert Scorecard.objects.get().period_start == MARCH
    assert ScorecardRun.objects.get().trigger == "command"


@pytest.mark.django_db
def test_command_rejects_unknown_engagements():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No engagement with id 999"):
        call_command("compute_scorecards", "--engagement", "999", "--sync", stdout=StringIO())


@pytest.mark.django_db
def test_a_second_beat_queues_nothing_twice_and_abandoned_runs_are_closed(engagement):
    from datetime import timedelta

    from django.utils import timezone

    from scorecards.runs import queue_periodic_runs

    today = date(2026, 4, 10)
    # The test's transaction never commits, so the first runs stay queued like in-flight ones.
    first = queue_periodic_runs(today=today)
    assert {run.period_start for run in first} == {date(2026, m, 1) for m in (1, 2, 3, 4)}
    assert queue_periodic_runs(today=today) == []

    ScorecardRun.objects.update(created_at=timezone.now() - timedelta(hours=7))
    again = queue_periodic_runs(today=today)
    assert len(again) == 4
    assert ScorecardRun.objects.filter(status="failed", error__startswith="Abandoned").count() == 4


@pytest.mark.django_db
def test_periodic_runs_of_a_kind_run_oldest_first_so_trends_compare_fresh_scores(
    django_capture_on_commit_callbacks,
):
    from scorecards.runs import queue_periodic_runs

    engagement = populate(EngagementFactory(start_date=date(2026, 2, 1)))
    with django_capture_on_commit_callbacks(execute=True):
        runs = queue_periodic_runs(today=date(2026, 4, 10))
    assert [run.period_start for run in runs] == [date(2026, m, 1) for m in (2, 3, 4)]
    assert set(ScorecardRun.objects.values_list("status", flat=True)) == {"succeeded"}
    february, march = (
        Scorecard.objects.get(engagement=engagement, period_start=date(2026, m, 1)) for m in (2, 3)
    )
    assert march.trend == march.overall - february.overall


@pytest.mark.django_db
def test_only_the_engagements_parties_can_poll_its_runs(
    rich_engagement, client_manager, provider_viewer, outsider
):
    from scorecards.services import visible_run

    run = ScorecardRun.objects.create(
        trigger="on_demand", engagement=rich_engagement, period_kind="month", period_start=MARCH
    )
    periodic = ScorecardRun.objects.create(
        trigger="periodic", period_kind="month", period_start=MARCH
    )
    assert visible_run(run_id=run.pk, user=provider_viewer) == run
    for user, run_id in ((outsider, run.pk), (client_manager, periodic.pk)):
        with pytest.raises(ScorecardRun.DoesNotExist):
            visible_run(run_id=run_id, user=user)


@pytest.mark.django_db
def test_a_chunk_task_takes_the_same_statements_for_10_and_50_engagements(require_postgres):
    # Its fixed cost repeats for every chunk of every run: claim, read, write, finish.
    # PostgreSQL only: SQLite splits bulk inserts into batches of 999 parameters.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.scorecards.conftest import make_engagements

    counts = []
    for size in (10, 50):
        run = _run(make_engagements(size))
        chunk = run.chunks.get()
        with CaptureQueriesContext(connection) as captured:
            compute_chunk_task.apply(kwargs={"chunk_id": chunk.pk}, throw=True)
        run.refresh_from_db()
        assert (run.status, run.scorecards_written) == ("succeeded", size)
        counts.append(len(captured.captured_queries))
    # 27 since the survey thresholds, the SLA terms and the scoring configuration in force
    # are read off their history; 28 since the notices read the events' engagements once.
    assert counts == [28, 28]


@pytest.mark.django_db(transaction=True)
def test_command_without_sync_in_eager_mode_runs_every_period_it_plans():
    """Without a broker, tasks run in-process (eagerly, as the autouse fixture sets): every
    run the command plans must finish.

    Several periods of one kind are chained (the next starts when the one before it
    closes); the chain must be linked before the first run is dispatched, or a run that
    finishes at once (eagerly here, or on a quick worker) never starts the next.
    """
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    EngagementFactory(start_date=today - timedelta(days=70), scorecard_period="week")
    EngagementFactory(start_date=today - timedelta(days=100), scorecard_period="month")
    out = StringIO()
    call_command("compute_scorecards", stdout=out)
    runs = list(ScorecardRun.objects.values_list("period_kind", "period_start", "status"))
    assert len(runs) > 4  # several periods of each kind: a chain, not one run per kind
    assert [run for run in runs if run[2] != "succeeded"] == []
    assert Scorecard.objects.count() == len(runs)
    assert "queued" not in out.getvalue().lower()


@pytest.mark.django_db(transaction=True)
def test_compute_scorecards_runs_its_chain_of_periods_to_the_end(engagement, on):
    """Outside a test transaction each run is sent as its transaction commits, as in
    production: the first must not finish before the chain after it is linked."""
    with on(date(2026, 5, 10)):
        call_command("compute_scorecards", stdout=StringIO())
    runs = ScorecardRun.objects.order_by("period_start")
    assert [run.period_start.month for run in runs] == [1, 2, 3, 4, 5]
    assert {run.status for run in runs} == {"succeeded"}


@pytest.mark.django_db
def test_a_chain_of_periods_without_a_broker_fails_as_a_whole(
    rich_engagement, client_manager, on, django_capture_on_commit_callbacks
):
    from scorecards.tasks import compute_period_task

    down = mock.patch.object(
        compute_period_task, "apply_async", side_effect=KombuOperationalError("refused")
    )
    with on(date(2026, 5, 10)), down, pytest.raises(BrokerUnavailable):
        with django_capture_on_commit_callbacks(execute=True):
            request_recompute(engagement=rich_engagement, user=client_manager, period_start=MARCH)
    runs = ScorecardRun.objects.order_by("period_start")
    assert [run.period_start.month for run in runs] == [3, 4, 5]
    assert {run.status for run in runs} == {"failed"}  # none is left queued for hours
