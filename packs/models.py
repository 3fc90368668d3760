"""Review packs (PRODUCT.md §10): each stored once per content, and a portfolio's packs of
a quarter made in the background as one zip."""

from django.conf import settings
from django.db import models

from relationships.models import Engagement, EngagementScoped, Organization
from relationships.periods import QUARTER, Period, period_starting


class ReviewPack(EngagementScoped):
    """A rendered pack of one period (or one quarter of a monthly engagement), kept so that
    asking again returns the same file.

    `key` is a digest of everything the pack shows but its generation time (the
    scorecards' digests, their sign-offs, the layout's version): a correction or a new
    signature makes a new pack; the old one stays for whoever kept its link.
    """

    # Indexed by the unique constraint, which starts with it.
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="review_packs", db_index=False
    )
    period_kind = models.CharField(max_length=8)  # "quarter" for a monthly engagement's quarter
    period_start = models.DateField()
    key = models.CharField(max_length=64)
    # The digest of the scorecard shown (the last month's in a quarter pack).
    digest = models.CharField(max_length=64, blank=True)
    file = models.FileField(upload_to="packs/%Y/%m/")
    size = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["engagement", "-period_start", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "period_kind", "period_start", "key"],
                name="one_review_pack_per_content",
            )
        ]

    def __str__(self):
        return f"Review pack of {self.engagement_id} {self.period_kind} {self.period_start}"


class PortfolioPack(models.Model):
    """An organisation's packs of one quarter, in one zip made by Celery workers.

    The work is split in chunks of engagements (PortfolioPackChunk) that workers claim by
    a conditional UPDATE, as scorecard runs do; the last chunk to finish writes the zip.
    Only the organisation's admins ask for one and read it.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        ZIPPING = "zipping", "Making the zip"
        SUCCEEDED = "succeeded", "Ready"
        FAILED = "failed", "Failed"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="portfolio_packs"
    )
    quarter_start = models.DateField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    engagements_total = models.PositiveIntegerField(default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    packs_made = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    file = models.FileField(upload_to="portfolio-packs/%Y/%m/", blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Packs of {self.organization} from {self.quarter_start} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def zip_stored(self) -> bool:
        """Whether its zip is made and still in storage (MEDIA_ROOT holds only what can be
        made again)."""
        return bool(self.file) and self.file.storage.exists(self.file.name)

    @property
    def quarter(self) -> Period:
        return period_starting(QUARTER, self.quarter_start)

    @property
    def percent_done(self) -> int:
        if self.is_finished:
            return 100
        return 100 * self.chunks_done // self.chunks_total if self.chunks_total else 0


class PortfolioPackChunk(models.Model):
    """Some engagements of a portfolio pack: the unit a worker claims and retries."""

    MAX_ATTEMPTS = 5

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    job = models.ForeignKey(PortfolioPack, on_delete=models.CASCADE, related_name="chunks")
    engagement_ids = models.JSONField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The packs this chunk made, by engagement id: the zip collects them.
    pack_ids = models.JSONField(default=list)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "id"]

    def __str__(self):
        return f"Chunk #{self.pk} of {self.job} ({self.status})"
