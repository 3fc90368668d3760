"""Worker faults on a real broker and database: nothing is lost, nothing is duplicated.

Real `celery worker` and `celery beat` processes (tests/reliability/fleet.py) run on the test
database and on a redis-server of the test's own, and inject the faults the tests name.
"""

from collections import Counter
from datetime import UTC, datetime, timedelta

import yaml

from relationships.periods import period_containing
from scorecards.compute import compute_chunk
from scorecards.models import OutboxEvent, Scorecard, ScorecardRun, ScorecardRunChunk
from scorecards.tasks import compute_period_task
from tests.factories import CheckInFactory, EngagementFactory
from tests.reliability.faults_summary import FAULTS, LOST
from tests.reliability.fleet import FLEET_MARKS, ROOT, Fleet, wait_until
from tests.scorecards.conftest import MARCH, make_engagements

PERIODIC_SENT = "Sending due task compute-scorecards"
pytestmark = FLEET_MARKS


def finished_runs(count: int, fleet: Fleet, timeout: float = 90) -> list[ScorecardRun]:
    def all_finished():
        runs = list(ScorecardRun.objects.order_by("pk"))
        done = [run for run in runs if run.status in ("succeeded", "failed")]
        finished = len(runs) >= count and len(done) == len(runs)
        return runs if finished and fleet.broker.idle() else None

    return wait_until(all_finished, f"{count} runs to finish", timeout, fleet.logs)


def new_run(period_start=MARCH) -> ScorecardRun:
    return ScorecardRun.objects.create(
        trigger=ScorecardRun.Trigger.COMMAND, period_kind="month", period_start=period_start
    )


def assert_one_complete_scorecard_each(engagement_ids, periods, *, proof: str) -> None:
    """Exactly one scorecard per engagement and period, each as a clean computation gives it.

    Counted in the summary as lost before the assertions, so a failure still reports it.
    """
    stored = Counter(Scorecard.objects.values_list("engagement_id", "period_start"))
    wanted = {(pk, start) for pk in engagement_ids for start in periods}
    LOST[f"scorecards missing ({proof})"] += len(wanted - set(stored))
    LOST[f"scorecards duplicated ({proof})"] += sum(n - 1 for n in stored.values())
    events = Counter(
        OutboxEvent.objects.filter(kind="scorecard.computed").values_list(
            "engagement_id", "payload__scorecard__period_start"
        )
    )
    LOST[f"scorecard events sent twice ({proof})"] += sum(n - 1 for n in events.values())
    assert set(stored) == wanted and set(stored.values()) == {1}
    # The event announces final scorecards only (closed periods), each once.
    final = Scorecard.objects.filter(status=Scorecard.Status.FINAL)
    announced = {(pk, start.isoformat()) for pk, start in final.values_list(
        "engagement_id", "period_start"
    )}
    assert set(events) == announced and set(events.values()) <= {1}
    for start in periods:
        # A clean recompute finds every stored row already right: nothing partial was kept.
        assert compute_chunk(engagement_ids, "month", start).scorecards_written == 0
    assert not Scorecard.objects.filter(explanation={}).exists()


def test_killed_workers_leave_one_complete_scorecard_per_engagement(fleet):
    engagements = make_engagements(6)
    ids = [e.pk for e in engagements]
    run = new_run()
    fleet.worker("first", SCORECARD_CHUNK_SIZE="3", FAULTS_SLOW_SECONDS="0.8")
    compute_period_task.delay(run.pk)

    # Fault 1: SIGKILL the pool process scoring a chunk after its first engagement.
    (_, victim, engagement), *_ = fleet.wait_for_progress(list, "a chunk to start")
    (victims_chunk,) = [
        ids for ids in run.chunks.values_list("engagement_ids", flat=True) if engagement in ids
    ]
    before = len(fleet.progress())
    fleet.kill(victim, "worker pool process killed mid-chunk")
    # Celery sees the lost process and requeues the message at once (reject_on_worker_lost).
    fleet.wait_for_progress(
        lambda seen: [line for line in seen[before:] if line[2] in victims_chunk],
        "the killed chunk to start again",
    )
    # Whatever ran so far, each chunk's scorecards are all there or none are.
    for chunk_ids in run.chunks.values_list("engagement_ids", flat=True):
        assert Scorecard.objects.filter(engagement_id__in=chunk_ids).count() in (0, len(chunk_ids))

    # Fault 2: SIGKILL the whole worker while that chunk is half done again; its message
    # stays unacknowledged on the broker.
    first = fleet.processes[0]
    fleet.kill(first.pid, "whole worker killed mid-chunk", group=True)
    first.wait()
    assert run.chunks.filter(status="pending").exists()

    # A new worker gets the unacknowledged chunks back once the visibility timeout passes.
    fleet.worker("second", SCORECARD_CHUNK_SIZE="3")
    (run,) = finished_runs(1, fleet)

    assert (run.status, run.chunks_total, run.chunks_done, run.chunks_failed) == (
        "succeeded",
        2,
        2,
        0,
    )
    assert run.scorecards_written == len(ids)
    assert max(run.chunks.values_list("attempts", flat=True)) >= 2
    assert_one_complete_scorecard_each(ids, [MARCH], proof="killed workers")


def test_two_workers_and_two_runs_of_one_period_write_each_scorecard_once(fleet):
    engagements = make_engagements(6)
    ids = [e.pk for e in engagements]
    runs = [new_run(), new_run()]
    fleet.wait_ready(
        *(
            fleet.worker(name, SCORECARD_CHUNK_SIZE="2", FAULTS_SLOW_SECONDS="0.3")
            for name in ("left", "right")
        )
    )
    compute_period_task.delay(runs[0].pk)
    compute_period_task.delay(runs[0].pk)  # delivered twice, as after a lost acknowledgement
    compute_period_task.delay(runs[1].pk)
    FAULTS["duplicate compute_period message"] += 1

    runs = finished_runs(2, fleet)

    assert [(r.status, r.chunks_total, r.chunks_done) for r in runs] == [("succeeded", 3, 3)] * 2
    # Which worker took which chunk is the broker's choice and not asserted (on a busy machine
    # one worker may take them all). Whoever scored: the first write of each scorecard won and
    # every later computation found it done.
    assert sum(run.scorecards_written for run in runs) == len(ids)
    assert_one_complete_scorecard_each(ids, [MARCH], proof="two workers")


def test_chunks_that_crash_every_time_stop_after_bounded_attempts(fleet):
    healthy, raising, dying, database_down = make_engagements(4)
    run = new_run()
    fleet.worker(
        "crashing",
        concurrency=4,  # one process per chunk: the crash loops run side by side
        SCORECARD_CHUNK_SIZE="1",
        FAULTS_RAISE_ON=str(raising.pk),
        FAULTS_DIE_ON=str(dying.pk),
        FAULTS_DB_ERROR_ON=str(database_down.pk),
        # The worker itself lives: it requeues a dead process's chunk at once. A visibility
        # timeout this short would also restore that message while its requeued copy runs,
        # and two copies claiming at once made the count of claims 7 now and then.
        CELERY_VISIBILITY_TIMEOUT="300",
    )
    compute_period_task.delay(run.pk)

    (run,) = finished_runs(1, fleet, timeout=120)

    attempts = Counter(engagement for _, _, engagement in fleet.progress())
    FAULTS["chunk raising every time"] += attempts[raising.pk]
    FAULTS["pool process dying every time"] += attempts[dying.pk]
    FAULTS["transient database error every time"] += attempts[database_down.pk]
    chunks = {chunk.engagement_ids[0]: chunk for chunk in run.chunks.all()}
    assert (run.status, run.chunks_done, run.chunks_failed) == ("failed", 1, 3)
    assert chunks[healthy.pk].status == "done"
    assert "RuntimeError" in chunks[raising.pk].error and attempts[raising.pk] == 1
    # Celery retries transient errors (max_retries=3); the attempt count in the database bounds
    # even duplicated deliveries.
    assert "OperationalError" in chunks[database_down.pk].error
    assert 2 <= attempts[database_down.pk] <= ScorecardRunChunk.MAX_ATTEMPTS
    # A process that dies is redelivered each time until the chunk's attempts run out.
    assert f"Gave up after {ScorecardRunChunk.MAX_ATTEMPTS}" in chunks[dying.pk].error
    assert attempts[dying.pk] == ScorecardRunChunk.MAX_ATTEMPTS
    assert chunks[dying.pk].attempts == ScorecardRunChunk.MAX_ATTEMPTS + 1
    assert run.error  # the run says why
    assert list(Scorecard.objects.values_list("engagement_id", flat=True)) == [healthy.pk]


def test_a_second_beat_dispatches_nothing_twice(fleet):
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    commands = {name: service.get("command") for name, service in compose["services"].items()}
    beats = [
        compose["services"][name]
        for name, command in commands.items()
        if "beat" in (command if isinstance(command, list) else str(command).split())
    ]
    assert len(beats) == 1 and beats[0]["deploy"]["replicas"] == 1  # the deployment's guarantee

    # And even a second beat is harmless: planning is serialised and compute is keyed.
    today = datetime.now(UTC).date()
    current = period_containing("month", today)
    previous = current.previous()
    engagements = [EngagementFactory(start_date=previous.start) for _ in range(3)]
    for engagement in engagements:
        CheckInFactory(engagement=engagement, occurred_at=datetime.now(UTC) - timedelta(days=1))
    fleet.worker("worker")
    beats = [fleet.beat(name, every=0.5) for name in ("beat-a", "beat-b")]
    dispatches = wait_until(
        lambda: (
            all(log.read_text().count(PERIODIC_SENT) >= 4 for log in fleet.logs[1:])
            and [log.read_text().count(PERIODIC_SENT) for log in fleet.logs[1:]]
        ),
        "both beats to dispatch",
        logs=fleet.logs,
    )
    for beat in beats:
        fleet.stop(beat)
    FAULTS["second beat dispatching compute_periodic"] += dispatches[1]

    runs = finished_runs(2, fleet)

    assert {run.status for run in runs} == {"succeeded"}
    # Never two runs of one period in flight at once: each starts after the last one finished.
    for start in (previous.start, current.start):
        of_period = [run for run in runs if run.period_start == start]
        assert of_period
        for earlier, later in zip(of_period, of_period[1:], strict=False):
            assert later.created_at >= earlier.finished_at
    assert_one_complete_scorecard_each(
        [e.pk for e in engagements], [previous.start, current.start], proof="two beats"
    )
