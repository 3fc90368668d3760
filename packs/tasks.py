"""Celery tasks of review packs: wrappers of packs.portfolio taking ids, safe to run twice."""

from celery import Task, shared_task
from django.conf import settings

from packs import portfolio
from scorecards.tasks import TRANSIENT_ERRORS


class PortfolioChunkTask(Task):
    """Records a chunk that gives up (retries exhausted, or another error) on its job."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        chunk_id = kwargs.get("chunk_id", args[0] if args else None)
        if chunk_id is not None:
            portfolio.chunk_fail(chunk_id, f"{type(exc).__name__}: {exc}")


@shared_task(
    name="packs.portfolio_chunk",
    base=PortfolioChunkTask,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    max_retries=3,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def portfolio_chunk_task(chunk_id: int) -> None:
    portfolio.chunk_make(chunk_id)
