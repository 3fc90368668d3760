from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from relationships.models import (
    Engagement,
    EngagementScoped,
    EngagementScopedQuerySet,
    Organization,
    Side,
)
from relationships.periods import Period
from scorecards.fields import FastJSONEncoder, JSONDocumentField

# The version of the scoring model (scorecards.scoring) a scorecard was computed with.
MODEL_VERSION = 1


class Band(models.TextChoices):
    HEALTHY = "healthy", "Healthy"
    WATCH = "watch", "Watch"
    AT_RISK = "at_risk", "At risk"
    INSUFFICIENT_DATA = "insufficient_data", "Insufficient data"


class Scorecard(EngagementScoped):
    class Status(models.TextChoices):
        """PRODUCT.md §6: computed while the period is in progress or closing, or once closed."""

        PROVISIONAL = "provisional", "Provisional"
        FINAL = "final", "Final"

    # Indexed by the unique constraint, which starts with it.
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="scorecards", db_index=False
    )
    period_kind = models.CharField(max_length=8)
    period_start = models.DateField()
    period_end = models.DateField()
    as_of = models.DateField()
    contact = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    reliance = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    transparency = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    dedication = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    alignment = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    sentiment = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    client_score = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    provider_score = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    overall = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    band = models.CharField(max_length=20, choices=Band.choices)
    coverage = models.DecimalField(max_digits=3, decimal_places=2)
    perception_gap = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    trend = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    status = models.CharField(max_length=11, choices=Status.choices, default=Status.FINAL)
    explanation = JSONDocumentField(encoder=FastJSONEncoder, default=dict)
    # The previous period's score that the trend and drop alerts were computed against
    # (also in the explanation): a rerun with the same inputs and previous score is a no-op.
    previous_overall = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    previous_band = models.CharField(max_length=20, blank=True)  # blank: there was none
    model_version = models.PositiveSmallIntegerField(default=MODEL_VERSION)
    config = models.JSONField(encoder=FastJSONEncoder, default=dict)
    # A digest of the inputs, to tell when a frozen period's inputs changed later.
    inputs_digest = models.CharField(max_length=64, blank=True)
    computed_at = models.DateTimeField()
    frozen_at = models.DateTimeField(null=True, blank=True)
    changed_since_signoff_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["engagement", "-period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "period_kind", "period_start"],
                name="one_scorecard_per_engagement_period",
            )
        ]
        indexes = [models.Index(fields=["engagement", "-period_start"])]

    def __str__(self):
        return f"{self.engagement} {self.period_kind} {self.period_start}"

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None

    @property
    def is_final(self) -> bool:
        return self.status == self.Status.FINAL

    @property
    def period(self) -> Period:
        return Period(self.period_kind, self.period_start, self.period_end)


class LatestScorecard(EngagementScoped):
    """The figures of an engagement's headline: its newest final scorecard of one period kind.

    Lists and summaries over many engagements join these small rows once instead of
    searching each engagement's scorecards. Derived data: scorecards.latest keeps it
    equal to the scorecards, in the transaction that writes or deletes them.
    """

    # Indexed by the unique constraint, which starts with it.
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="latest_scorecards", db_index=False
    )
    period_kind = models.CharField(max_length=8)
    period_start = models.DateField()
    band = models.CharField(max_length=20, choices=Band.choices)
    overall = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    client_score = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    provider_score = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    perception_gap = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    trend = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "period_kind"], name="one_latest_scorecard_per_kind"
            )
        ]

    def __str__(self):
        return f"Latest {self.period_kind} scorecard of {self.engagement}: {self.period_start}"


class ScorecardReview(EngagementScoped):
    engagement_path = "scorecard__engagement"

    class Decision(models.TextChoices):
        SIGNED = "signed", "Signed"
        DISPUTED = "disputed", "Disputed"

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="reviews")
    side = models.CharField(max_length=8, choices=Side.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision = models.CharField(max_length=8, choices=Decision.choices)
    comment = models.TextField(max_length=5000, blank=True)
    snapshot = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when a recompute changed the scorecard after this review.
    stale_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["scorecard", "side"],
                condition=Q(stale_at__isnull=True),
                name="one_live_review_per_side",
            )
        ]

    def __str__(self):
        return f"{self.get_decision_display()} by {self.side} on {self.scorecard}"


class Alert(EngagementScoped):
    class Kind(models.TextChoices):
        BAND_DROP = "band_drop", "Band dropped"
        SCORE_DROP = "score_drop", "Score dropped"
        PERCEPTION_GAP = "perception_gap", "Perception gap"
        CONTACT_GAP = "contact_gap", "Contact gap"
        SIDE_RELIANCE_LOW = "side_reliance_low", "Side reliance low"

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="alerts")
    period_kind = models.CharField(max_length=8)
    period_start = models.DateField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Empty where the kind applies to the engagement as a whole.
    side = models.CharField(max_length=8, choices=Side.choices, blank=True, default="")
    message = models.CharField(max_length=500)
    details = models.JSONField(encoder=FastJSONEncoder, default=dict)
    raised_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "period_kind", "period_start", "kind", "side"],
                name="one_alert_per_engagement_period_kind_side",
            )
        ]
        indexes = [models.Index(fields=["engagement", "resolved_at"])]

    def __str__(self):
        return self.message

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class ScorecardRunQuerySet(EngagementScopedQuerySet):
    def restrict(self, user, action: str = "read"):
        """Runs of the user's engagements (`action` on them), and to read, the runs of many
        engagements in which an organisation of the user's was a party."""
        own = Q(engagement__in=Engagement.objects.restrict(user, action))
        if action != "read":
            return self.filter(own)
        parties = ScorecardRunParty.objects.filter(
            organization__in=Organization.objects.of_member(user)
        )
        return self.filter(own | Q(pk__in=parties.values("run_id")))


class ScorecardRun(EngagementScoped):
    """One period's computation: of one engagement (recompute now), or of many (the schedule,
    `compute_scorecards`) with `engagement` empty.

    Who may poll a run of many: the members of the engagements it covered. A member of
    the client or the provider reads an engagement (Engagement.objects.visible_to), so
    those are the members of the organisations that were a party to a covered engagement,
    kept as rows (ScorecardRunParty, run × organisation) written with the run's chunks.
    At most two rows per engagement (20,000 a night for 10,000 engagements, 2.7 MB with
    indexes on PostgreSQL, if each had a provider of its own), and far fewer where a
    provider serves many clients (102 a night with 50 providers). A user belongs to a few
    organisations, so their list of runs is an index lookup of one row per run: 19 ms
    after 31 such nights for a user of all 10,000 engagements. Run × engagement rows
    were as large at best, and the same list had to read every covered engagement of the
    user's (0.3 s, 1.4 s with PostgreSQL's JIT, after 31 nights for a user of 200,
    growing with history). The chunks' JSON lists of ids cannot be searched on SQLite,
    and on PostgreSQL would need one containment test per engagement of the user.

    A run of many is shared by every tenant it covered: its members see its status,
    period and times, never its counts or error, which are about all of them
    (`figures_for_members`), so nobody learns how many engagements Accord holds.
    """

    # What members read of a failed run of many: its error may name other tenants' records.
    SHARED_RUN_ERROR = (
        "Some engagements of this run could not be computed; the next periodic run "
        "computes them again."
    )

    class Trigger(models.TextChoices):
        PERIODIC = "periodic", "Periodic"
        ON_DEMAND = "on_demand", "On demand"
        COMMAND = "command", "Command"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    engagement = models.ForeignKey(
        Engagement, null=True, blank=True, on_delete=models.CASCADE, related_name="runs"
    )
    period_kind = models.CharField(max_length=8, blank=True)
    period_start = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    chunks_failed = models.PositiveIntegerField(default=0)
    engagements_total = models.PositiveIntegerField(default=0)
    scorecards_written = models.PositiveIntegerField(default=0)
    alerts_raised = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # Started when this run finishes: periods of one kind run oldest first, so each
    # period's trend and drop alerts compare with an up-to-date previous period.
    next_run = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="previous_run"
    )

    objects = ScorecardRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "-finished_at"])]

    def __str__(self):
        return f"Run #{self.pk} ({self.trigger}, {self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    def progress_text(self) -> str:
        """Where a recompute stands, in the one sentence the engagement page shows (rendered,
        and after each poll of the run's status)."""
        if self.status == self.Status.SUCCEEDED:
            return "Recompute finished: the new scorecard is ready."
        if self.status == self.Status.FAILED:
            error = self.figures_for_members()["error"]
            return f"The recompute failed: {error or 'see the run log'}."
        return f"Recompute {self.get_status_display().lower()}…"

    def figures_for_members(self) -> dict:
        """The run's counts and error as a member of a covered engagement may read them:
        those of a run of their engagement; none of a run of many (see the class)."""
        failed = self.status == self.Status.FAILED
        if self.engagement_id is None:
            return {
                "scorecards_written": None,
                "alerts_raised": None,
                "error": self.SHARED_RUN_ERROR if failed else "",
            }
        return {
            "scorecards_written": self.scorecards_written,
            "alerts_raised": self.alerts_raised,
            "error": self.error if failed else "",
        }


class ScorecardRunParty(models.Model):
    """An organisation that was the client or the provider of an engagement that a run of
    many engagements covered: its members may poll the run (see ScorecardRun)."""

    # Indexed by the unique constraint, which starts with it.
    run = models.ForeignKey(
        ScorecardRun, on_delete=models.CASCADE, related_name="parties", db_index=False
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "organization"], name="one_party_per_run")
        ]

    def __str__(self):
        return f"{self.run}: {self.organization}"


class ScorecardRunChunk(models.Model):
    """One chunk of a run's engagements: the unit a worker claims, counts attempts on and reports.

    The attempt count lives here, not in the message, so a chunk whose worker keeps
    dying (redelivered by the broker each time) stops after MAX_ATTEMPTS.
    """

    MAX_ATTEMPTS = 5

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    run = models.ForeignKey(ScorecardRun, on_delete=models.CASCADE, related_name="chunks")
    engagement_ids = models.JSONField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "id"]

    def __str__(self):
        return f"Chunk #{self.pk} of {self.run} ({self.status})"


class ScorecardRefresh(models.Model):
    """An engagement's provisional scorecard kept up with writes to its inputs (PRODUCT.md §12).

    `requested` counts the writes that asked for a refresh; `refreshed` is the count the
    last finished refresh read after (so it read every write counted up to then). `queued_at` is set while one refresh of the
    engagement is queued or running, so a burst of writes queues one (scorecards/refresh.py).
    """

    engagement = models.OneToOneField(
        Engagement, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    requested = models.PositiveBigIntegerField(default=0)
    refreshed = models.PositiveBigIntegerField(default=0)
    queued_at = models.DateTimeField(null=True, blank=True)
    # The earliest day the writes not refreshed yet touched: the periods ending before it
    # are not recomputed. NULL once refreshed; date.min for a write to undated inputs.
    since = models.DateField(null=True, blank=True)
    # The last finished refresh: when it began reading the inputs, and when it committed.
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Refresh of engagement #{self.engagement_id} ({self.requested} asked)"


class WebhookSubscription(models.Model):
    class Format(models.TextChoices):
        JSON = "json", "JSON"
        SLACK = "slack", "Slack (Block Kit)"
        TEAMS = "teams", "Microsoft Teams (Adaptive Card)"

    class Event(models.TextChoices):
        SCORECARD_COMPUTED = "scorecard.computed", "Scorecard computed"
        ALERT_RAISED = "alert.raised", "Alert raised"
        CHANGE_REQUEST_OPENED = "change_request.opened", "Change request opened"
        CHANGE_REQUEST_ACCEPTED = "change_request.accepted", "Change request accepted"
        CHANGE_REQUEST_DECLINED = "change_request.declined", "Change request declined"
        CHANGE_REQUEST_WITHDRAWN = "change_request.withdrawn", "Change request withdrawn"
        CHANGE_REQUEST_EXPIRED = "change_request.expired", "Change request expired"
        MEASUREMENT_DISPUTED = "measurement.disputed", "Recorded value disputed"
        # Sent to one subscription when its admin asks for it, never subscribed to.
        TEST = "webhook.test", "Test message"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhooks"
    )
    # Set: only this engagement's events (a channel connected from its page); else every
    # engagement the organisation is a party to.
    engagement = models.ForeignKey(
        Engagement, null=True, blank=True, on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(max_length=500)
    # Fernet-encrypted with settings.FIELD_ENCRYPTION_KEY; never stored in plain text.
    secret_encrypted = models.TextField(editable=False)
    events = models.JSONField(default=list)
    format = models.CharField(max_length=8, choices=Format.choices, default=Format.JSON)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["secret_encrypted"])

    class Meta:
        ordering = ["organization", "id"]

    def __str__(self):
        return f"{self.url} ({self.format})"

    @classmethod
    def subscribable_events(cls) -> list[tuple[str, str]]:
        return [(value, label) for value, label in cls.Event.choices if value != cls.Event.TEST]


class OutboxEvent(EngagementScoped):
    """An event written in the same transaction as the change that raised it.

    The outbox is drained by a periodic task, so an event raised while the
    broker is down is delivered once it is back.
    """

    kind = models.CharField(max_length=32, choices=WebhookSubscription.Event.choices)
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="outbox_events"
    )
    payload = models.JSONField(encoder=FastJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["id"],
                condition=Q(dispatched_at__isnull=True),
                name="outbox_undispatched",
            )
        ]

    def __str__(self):
        return f"{self.kind} #{self.pk}"


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event"], name="one_delivery_per_subscription_event"
            )
        ]
        verbose_name_plural = "webhook deliveries"

    def __str__(self):
        return f"{self.event} → {self.subscription} ({self.status})"
