"""Scorecard runs: planning periods, splitting a run in chunks, counting them and closing it.

The database is the source of truth: a run and its chunks are rows, each chunk
counts its own attempts, and the last chunk to report closes the run, so no
chord (and no result backend) is needed. A chunk lost for good is recomputed
by the next periodic run, which always covers the current and previous period
and fills any missing recent one. The Celery tasks in scorecards.tasks wrap this.
"""

import logging
import threading
from datetime import date, timedelta

from celery import group
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from relationships.models import Engagement
from relationships.periods import PERIOD_KINDS, Period, period_starting, recent_periods
from scorecards import compute
from scorecards.models import Scorecard, ScorecardRun, ScorecardRunChunk, ScorecardRunParty
from scorecards.webhooks import outbox

logger = logging.getLogger(__name__)

# Periods the periodic run looks back over for missing scorecards.
FILL_PERIODS = 12
# Longer than any run takes; an unfinished run older than this lost a chunk for good.
ABANDON_AFTER = timedelta(hours=6)
PLANNING_LOCK = 4_201_001  # pg_advisory_xact_lock key of periodic planning
UNFINISHED = (ScorecardRun.Status.QUEUED, ScorecardRun.Status.RUNNING)
NOTHING_COMPUTED = compute.ChunkResult()  # what a failed chunk adds to its run's counts
PARTIES_BATCH = 5000  # engagement ids per query (SQLite takes 32,766 parameters at most)


def chunk_compute(chunk_id: int) -> None:
    """Compute one chunk of a run; a chunk already done or failed is left alone."""
    claimed = ScorecardRunChunk.objects.filter(
        pk=chunk_id, status=ScorecardRunChunk.Status.PENDING
    ).update(attempts=F("attempts") + 1)
    if not claimed:
        return
    chunk = ScorecardRunChunk.objects.select_related("run").get(pk=chunk_id)
    if chunk.attempts > ScorecardRunChunk.MAX_ATTEMPTS:
        # Counted in the database: also stops a chunk whose worker dies every time.
        fail_chunk(chunk_id, f"Gave up after {ScorecardRunChunk.MAX_ATTEMPTS} attempts.")
        return
    run = chunk.run
    # Scorecards and the chunk's "done" commit together: a crash in between loses neither.
    with transaction.atomic():
        result = compute.compute_chunk(
            chunk.engagement_ids, run.period_kind, run.period_start, in_run=True
        )
        _finish_chunk(chunk_id, ScorecardRunChunk.Status.DONE, run_id=run.pk, result=result)


def fail_chunk(chunk_id: int, error: str) -> None:
    logger.error("Scorecard chunk %s failed: %s", chunk_id, error)
    _finish_chunk(chunk_id, ScorecardRunChunk.Status.FAILED, error)


def _finish_chunk(
    chunk_id: int,
    status: str,
    error: str = "",
    *,
    run_id: int | None = None,
    result: compute.ChunkResult = NOTHING_COMPUTED,
) -> None:
    """Mark the chunk finished once, count it and its results on its run, and close the run
    after the last one."""
    now = timezone.now()
    # No savepoint inside the chunk task's transaction: any error there undoes the chunk.
    with transaction.atomic(savepoint=False):
        finished = ScorecardRunChunk.objects.filter(
            pk=chunk_id, status=ScorecardRunChunk.Status.PENDING
        ).update(status=status, error=error[:5000], finished_at=now)
        if not finished:
            return
        if run_id is None:
            run_id = ScorecardRunChunk.objects.values_list("run_id", flat=True).get(pk=chunk_id)
        counter = "chunks_done" if status == ScorecardRunChunk.Status.DONE else "chunks_failed"
        ScorecardRun.objects.filter(pk=run_id).update(
            **{counter: F(counter) + 1},
            scorecards_written=F("scorecards_written") + result.scorecards_written,
            alerts_raised=F("alerts_raised") + result.alerts_raised,
        )
        if error:
            ScorecardRun.objects.filter(pk=run_id, error="").update(error=error[:5000])
        _close_if_complete(run_id, now)


def _close_if_complete(run_id: int, now) -> None:
    """Close the run once every chunk reported, and start the run chained after it.

    Only the update that finds the counts complete matches: exactly one closer.
    """
    closed = ScorecardRun.objects.filter(
        pk=run_id, status__in=UNFINISHED, chunks_total=F("chunks_done") + F("chunks_failed")
    ).update(
        status=Case(
            When(chunks_failed__gt=0, then=Value(ScorecardRun.Status.FAILED)),
            default=Value(ScorecardRun.Status.SUCCEEDED),
        ),
        finished_at=now,
    )
    if not closed:
        return
    outbox.enqueue_drain()  # the events of all its chunks, in one drain
    next_run_id = ScorecardRun.objects.values_list("next_run_id", flat=True).get(pk=run_id)
    if next_run_id:
        transaction.on_commit(lambda: _start_chained(next_run_id))


_chain = threading.local()


def _start_chained(run_id: int) -> None:
    """Start the run chained after one that closed.

    Where tasks run in-process (no broker), the closing run is itself inside the start
    of the run before it: starting the next one here would nest a chain of a hundred
    weeks a hundred runs deep and exhaust the stack. So a start inside a chained start
    is queued, and the outermost one starts the queued runs one after the other.
    """
    if getattr(_chain, "queued", None) is not None:
        _chain.queued.append(run_id)
        return
    _chain.queued = [run_id]
    try:
        while _chain.queued:
            start_run(_chain.queued.pop(0))
    finally:
        _chain.queued = None


def start_run(
    run_id: int, engagement_ids: list[int] | None = None, *, dispatch: bool = True
) -> ScorecardRun:
    """Split a run into chunks (once) and, with dispatch, queue its unfinished chunks on commit.

    Without engagement_ids: the run's engagement, or every active engagement of
    the run's period kind. A redelivered message re-queues only what is
    unfinished. dispatch=False leaves the chunks queued, for a chained start or
    for the caller to run in-process.
    """
    from scorecards.tasks import compute_chunk_task  # the tasks module wraps this one

    with transaction.atomic():
        run = ScorecardRun.objects.select_for_update().get(pk=run_id)
        if run.status not in UNFINISHED:
            return run
        if not run.chunks_total:
            _split(run, engagement_ids or _engagements_to_score(run))
        if dispatch:
            pending = _pending_chunk_ids(run)
            run.status = ScorecardRun.Status.RUNNING
            run.started_at = run.started_at or timezone.now()
            run.save(update_fields=["status", "started_at"])
            if pending:
                transaction.on_commit(
                    lambda: group(
                        compute_chunk_task.si(chunk_id=pk) for pk in pending
                    ).apply_async()
                )
            _close_if_complete(run.pk, run.started_at)  # a run with nothing to compute
    run.refresh_from_db()
    return run


def run_in_process(run: ScorecardRun):
    """Compute a run's pending chunks here, one by one, through the chunk task's code path.

    Yields (chunks finished, chunks in all) after each chunk, for progress output.
    """
    from scorecards.tasks import compute_chunk_task  # the tasks module wraps this one

    ScorecardRun.objects.filter(pk=run.pk).update(
        status=ScorecardRun.Status.RUNNING, started_at=timezone.now()
    )
    chunk_ids = _pending_chunk_ids(run)
    for index, chunk_id in enumerate(chunk_ids, start=1):
        compute_chunk_task.apply(kwargs={"chunk_id": chunk_id}, throw=False)
        yield index, len(chunk_ids)
    _close_if_complete(run.pk, timezone.now())  # a run with nothing to compute


def _pending_chunk_ids(run: ScorecardRun) -> list[int]:
    return list(
        run.chunks.filter(status=ScorecardRunChunk.Status.PENDING).values_list("pk", flat=True)
    )


def _split(run: ScorecardRun, ids: list[int]) -> None:
    size = settings.SCORECARD_CHUNK_SIZE
    ScorecardRunChunk.objects.bulk_create(
        [
            ScorecardRunChunk(run=run, engagement_ids=ids[i : i + size])
            for i in range(0, len(ids), size)
        ]
    )
    if run.engagement_id is None:  # a run of many: who may poll it (see ScorecardRun)
        parties = set()
        for i in range(0, len(ids), PARTIES_BATCH):
            for pair in Engagement.objects.filter(pk__in=ids[i : i + PARTIES_BATCH]).values_list(
                "client_id", "provider_id"
            ):
                parties.update(pair)
        ScorecardRunParty.objects.bulk_create(
            [ScorecardRunParty(run=run, organization_id=pk) for pk in sorted(parties)]
        )
    run.chunks_total = (len(ids) + size - 1) // size
    run.engagements_total = len(ids)
    run.save(update_fields=["chunks_total", "engagements_total"])


def _engagements_to_score(run: ScorecardRun) -> list[int]:
    if run.engagement_id:
        return [run.engagement_id]
    period = period_starting(run.period_kind, run.period_start)
    return list(
        Engagement.objects.filter(
            status=Engagement.Status.ACTIVE,
            scorecard_period=run.period_kind,
            start_date__lte=period.end,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def queue_periodic_runs(*, today: date) -> list[ScorecardRun]:
    """Plan and queue the periodic runs; a second beat meanwhile queues nothing twice."""
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Two beats (or a redelivered message) plan one after the other, never both at once.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PLANNING_LOCK])
        # A run whose chunks never all reported (a message lost for good) is closed here;
        # its period is planned again below like any other.
        ScorecardRun.objects.filter(
            status__in=UNFINISHED, created_at__lt=now - ABANDON_AFTER
        ).update(
            status=ScorecardRun.Status.FAILED,
            finished_at=now,
            error="Abandoned: not finished in time; a later run recomputes its period.",
        )
        busy = set(
            ScorecardRun.objects.filter(
                trigger=ScorecardRun.Trigger.PERIODIC, status__in=UNFINISHED
            ).values_list("period_kind", "period_start")
        )
        wanted = {
            key: ids for key, ids in periods_to_compute(today=today).items() if key not in busy
        }
        return create_runs(wanted, trigger=ScorecardRun.Trigger.PERIODIC)


def create_runs(
    wanted: dict[tuple[str, date], list[int]], *, trigger: str, dispatch: bool = True
) -> list[ScorecardRun]:
    """One run per (period kind, period start) → engagement ids, oldest period first.

    With dispatch, the runs of one period kind are chained: the oldest starts now,
    each next one when the one before it finishes. The whole chain is written before
    anything is dispatched (on commit): a run that finishes at once, eagerly without a
    broker or on a quick worker, must already know the run after it.
    """
    planned, previous_of_kind = [], {}
    with transaction.atomic():
        for (kind, start), ids in sorted(wanted.items(), key=lambda item: (item[0][1], item[0][0])):
            run = ScorecardRun.objects.create(trigger=trigger, period_kind=kind, period_start=start)
            before = previous_of_kind.get(kind)
            if dispatch and before is not None:
                ScorecardRun.objects.filter(pk=before.pk).update(next_run=run)
            planned.append((run, ids, dispatch and before is None))
            previous_of_kind[kind] = run
        return [start_run(run.pk, ids, dispatch=head) for run, ids, head in planned]


def chain_runs(
    engagement: Engagement, periods: list[Period], *, trigger: str, requested_by
) -> list[ScorecardRun]:
    """Runs of one engagement's periods, oldest first, each to start when the one before it
    finishes; none is started here (start_run the first)."""
    runs, next_run = [], None
    for period in sorted(periods, reverse=True):  # newest first: each links to the next
        next_run = ScorecardRun.objects.create(
            trigger=trigger,
            engagement=engagement,
            period_kind=period.kind,
            period_start=period.start,
            requested_by=requested_by,
            next_run=next_run,
        )
        runs.append(next_run)
    return runs[::-1]


def periods_to_compute(
    *, today: date, engagement_ids: list[int] | None = None
) -> dict[tuple[str, date], list[int]]:
    """(period kind, start) → engagement ids: current and previous period, plus missing ones.

    A period is missing when an engagement that had started by then has no
    scorecard for it; a frozen period has one, so it is never refilled.
    """
    active = Engagement.objects.filter(status=Engagement.Status.ACTIVE)
    if engagement_ids is not None:
        active = active.filter(pk__in=engagement_ids)
    engagements = list(active.values_list("pk", "scorecard_period", "start_date", "end_date"))
    periods = {kind: recent_periods(kind, today, FILL_PERIODS) for kind in PERIOD_KINDS}
    oldest = min(recent[-1].start for recent in periods.values())
    stored = set(
        Scorecard.objects.filter(engagement__in=active, period_start__gte=oldest).values_list(
            "engagement_id", "period_kind", "period_start"
        )
    )
    wanted: dict[tuple[str, date], list[int]] = {}
    for pk, kind, start_date, end_date in engagements:
        for index, period in enumerate(periods[kind]):
            if not has_days_to_score(period, start_date, end_date):
                continue
            if index < 2 or (pk, kind, period.start) not in stored:
                wanted.setdefault((kind, period.start), []).append(pk)
    return wanted


def has_days_to_score(period: Period, start_date: date, end_date: date | None) -> bool:
    return start_date <= period.end and (end_date is None or end_date >= period.start)
