"""Celery tasks that compute scorecards: wrappers of scorecards.runs, each takes ids and is
safe to run twice. They ack late and are rejected when their worker is lost (settings)."""

from celery import Task, shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from scorecards import refresh, runs

TRANSIENT_ERRORS = (OperationalError, InterfaceError)


class ChunkTask(Task):
    """Records a chunk that gives up (retries exhausted, or a non-transient error) on its run."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        chunk_id = kwargs.get("chunk_id", args[0] if args else None)
        if chunk_id is not None:
            runs.fail_chunk(chunk_id, f"{type(exc).__name__}: {exc}")


@shared_task(
    name="scorecards.compute_chunk",
    base=ChunkTask,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=3,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def compute_chunk_task(chunk_id: int) -> None:
    runs.chunk_compute(chunk_id)


@shared_task(
    name="scorecards.compute_period",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    max_retries=3,
)
def compute_period_task(run_id: int) -> None:
    """Fan a run's period out in chunks of SCORECARD_CHUNK_SIZE engagements, as a group."""
    runs.start_run(run_id)


@shared_task(name="scorecards.compute_periodic")
def compute_periodic_task() -> list[int]:
    """Queue the current and previous period of every active engagement, and fill gaps."""
    return [run.pk for run in runs.queue_periodic_runs(today=timezone.localdate())]


@shared_task(
    name="scorecards.refresh_scorecards",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    max_retries=3,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def refresh_scorecards_task(engagement_ids: list[int]) -> None:
    """Bring the provisional scorecards of engagements written to up to date (PRODUCT.md §12)."""
    refresh.scorecards_refresh(engagement_ids)


@shared_task(name="scorecards.refresh_pending")
def refresh_pending_task() -> int:
    """Queue the refreshes a broker outage (or a lost message) left unsent."""
    return refresh.refresh_pending()
