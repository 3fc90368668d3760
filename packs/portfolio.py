"""An organisation's review packs of a quarter, made in the background as one zip.

Like scorecard runs (scorecards/runs.py) the job and its chunks are rows: a worker
claims a chunk by a conditional UPDATE (so a redelivered or retried task makes its packs
once), the job counts finished chunks, and the worker that finishes the last one claims
the zip by another conditional UPDATE and writes it. Packs come from the same store as
a single download (packs.services.stored_pack), so asking again costs no rendering.
"""

import io
import logging
import zipfile
from datetime import date

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import slugify

from packs.models import PortfolioPack, PortfolioPackChunk, ReviewPack
from packs.selectors import NoPack, pack_scope
from packs.services import stored_pack
from relationships.models import Engagement, Organization
from relationships.periods import MONTH, QUARTER, period_containing, period_starting

logger = logging.getLogger(__name__)

CHUNK_SIZE = 20  # engagements a worker renders per task (about 20 × 0.1 s)


def portfolio_pack_request(
    *, organization: Organization, user, quarter_start: date
) -> PortfolioPack:
    """An organisation's admin asks for all its engagements' packs of a closed quarter;
    the job is queued once the transaction commits."""
    from packs.tasks import portfolio_chunk_task

    organization.require_admin(user)
    try:
        quarter = period_starting(QUARTER, quarter_start)
    except ValueError as exc:
        raise ValidationError({"quarter_start": str(exc)}) from None
    if quarter.end >= timezone.localdate():
        raise ValidationError(
            {"quarter_start": f"{quarter.title} has not ended yet: ask for its packs once it has."}
        )
    ids = list(
        Engagement.objects.filter(Q(client=organization) | Q(provider=organization))
        .filter(start_date__lte=quarter.end)
        .exclude(status__in=[Engagement.Status.PROPOSED, Engagement.Status.DECLINED])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    chunks = [ids[i : i + CHUNK_SIZE] for i in range(0, len(ids), CHUNK_SIZE)]
    with transaction.atomic():
        job = PortfolioPack.objects.create(
            organization=organization,
            quarter_start=quarter.start,
            requested_by=user,
            engagements_total=len(ids),
            chunks_total=len(chunks),
        )
        made = PortfolioPackChunk.objects.bulk_create(
            PortfolioPackChunk(job=job, engagement_ids=chunk) for chunk in chunks
        )
        if not made:  # nothing to pack: an empty zip, at once
            zip_write(job.pk)
        chunk_ids = [chunk.pk for chunk in made]
        transaction.on_commit(
            lambda: [portfolio_chunk_task.delay(chunk_id) for chunk_id in chunk_ids]
        )
    job.refresh_from_db()
    return job


def quarter_scopes(engagement: Engagement, quarter_start: date) -> list[tuple[date, bool]]:
    """(start, quarter?) of the packs of an engagement for a quarter: the quarter pack of a
    monthly engagement; else each of its periods that starts in the quarter."""
    if engagement.scorecard_period == MONTH:
        return [(quarter_start, True)]
    quarter = period_starting(QUARTER, quarter_start)
    period = period_containing(engagement.scorecard_period, quarter.start)
    starts = []
    while period.start <= quarter.end:
        if period.start >= quarter.start:
            starts.append((period.start, False))
        period = period.next()
    return starts


def chunk_make(chunk_id: int) -> None:
    """Make the packs of one chunk's engagements; a chunk already finished is left alone."""
    claimed = PortfolioPackChunk.objects.filter(
        pk=chunk_id, status=PortfolioPackChunk.Status.PENDING
    ).update(attempts=F("attempts") + 1)
    if not claimed:
        return
    chunk = PortfolioPackChunk.objects.select_related("job").get(pk=chunk_id)
    job = chunk.job
    PortfolioPack.objects.filter(pk=job.pk, status=PortfolioPack.Status.QUEUED).update(
        status=PortfolioPack.Status.RUNNING, started_at=timezone.now()
    )
    if chunk.attempts > PortfolioPackChunk.MAX_ATTEMPTS:
        chunk_fail(chunk_id, f"Gave up after {PortfolioPackChunk.MAX_ATTEMPTS} attempts.")
        return
    engagements = Engagement.objects.filter(pk__in=chunk.engagement_ids).select_related(
        "client", "provider", "scoring_config"
    )
    pack_ids = []
    for engagement in engagements.order_by("pk"):
        for start, quarter in quarter_scopes(engagement, job.quarter_start):
            try:
                scope = pack_scope(engagement, start, quarter=quarter)
                pack_ids.append(stored_pack(engagement=engagement, scope=scope).pk)
            except NoPack:
                continue  # no closed, final scorecard there: nothing to sign, no pack
    _chunk_finish(chunk_id, PortfolioPackChunk.Status.DONE, pack_ids=pack_ids)


def chunk_fail(chunk_id: int, error: str) -> None:
    logger.error("Portfolio pack chunk %s failed: %s", chunk_id, error)
    _chunk_finish(chunk_id, PortfolioPackChunk.Status.FAILED, error=error)


def _chunk_finish(chunk_id: int, status: str, *, pack_ids=(), error: str = "") -> None:
    """Mark the chunk finished once, count it on its job, and write the zip after the last."""
    with transaction.atomic():
        finished = PortfolioPackChunk.objects.filter(
            pk=chunk_id, status=PortfolioPackChunk.Status.PENDING
        ).update(status=status, pack_ids=list(pack_ids), error=error[:5000])
        if not finished:
            return
        job_id = PortfolioPackChunk.objects.values_list("job_id", flat=True).get(pk=chunk_id)
        PortfolioPack.objects.filter(pk=job_id).update(
            chunks_done=F("chunks_done") + 1, packs_made=F("packs_made") + len(pack_ids)
        )
    zip_write(job_id)


def zip_write(job_id: int) -> None:
    """Write the job's zip once every chunk has finished; only the caller whose UPDATE
    claims it writes it."""
    claimed = PortfolioPack.objects.filter(
        pk=job_id,
        status__in=[PortfolioPack.Status.QUEUED, PortfolioPack.Status.RUNNING],
        chunks_done=F("chunks_total"),
    ).update(status=PortfolioPack.Status.ZIPPING)
    if not claimed:
        return
    job = PortfolioPack.objects.select_related("organization").get(pk=job_id)
    chunks = list(job.chunks.order_by("pk"))
    pack_ids = [pack_id for chunk in chunks for pack_id in chunk.pack_ids]
    packs = ReviewPack.objects.filter(pk__in=pack_ids).select_related("engagement")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for pack in packs.order_by("engagement_id", "period_start"):
            with pack.file.open("rb") as stored:
                name = pack.file.name.rsplit("/", 1)[-1]
                archive.writestr(f"{pack.engagement_id}-{name}", stored.read())
    failed = [chunk for chunk in chunks if chunk.status == PortfolioPackChunk.Status.FAILED]
    quarter = job.quarter
    job.file.save(
        f"accord-{slugify(job.organization.name) or job.organization_id}-{quarter.label}-packs.zip",
        ContentFile(buffer.getvalue()),
        save=False,
    )
    job.status = PortfolioPack.Status.FAILED if failed else PortfolioPack.Status.SUCCEEDED
    job.error = (
        f"{len(failed)} of {len(chunks)} parts failed; the zip holds the packs of the others."
        if failed
        else ""
    )
    job.finished_at = timezone.now()
    job.save(update_fields=["file", "status", "error", "finished_at"])
