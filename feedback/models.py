import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from relationships.models import (
    SLA,
    Engagement,
    EngagementScoped,
    EngagementScopedQuerySet,
    KeyContact,
    SharedGoal,
    Side,
    Tier,
)


class LocalDateMixin(models.Model):
    """Keeps `<field>_on`, the engagement-local date of a timestamp, beside it.

    Scorecards count records by the date in the engagement's time zone; storing
    that date lets the counts be plain indexed range queries.
    """

    local_dates: dict[str, str] = {}

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.set_local_dates()
        super().save(*args, **kwargs)

    def set_local_dates(self, engagement: Engagement | None = None):
        engagement = engagement or self.engagement
        for moment_field, date_field in self.local_dates.items():
            moment = getattr(self, moment_field)
            setattr(self, date_field, engagement.local_date(moment) if moment else None)


class CheckIn(EngagementScoped, LocalDateMixin):
    class Kind(models.TextChoices):
        SYNC = "sync", "Sync"
        REVIEW = "review", "Review"
        EXECUTIVE = "executive", "Executive"
        INFORMAL = "informal", "Informal"

    local_dates = {"occurred_at": "occurred_on"}

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="checkins")
    occurred_at = models.DateTimeField()
    occurred_on = models.DateField(editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SYNC)
    # The governance tier that met, if the check-in was one tier's meeting.
    tier = models.CharField(max_length=12, choices=Tier.choices, blank=True, default="")
    attendee_users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    attendee_contacts = models.ManyToManyField(KeyContact, blank=True, related_name="checkins")
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["engagement", "occurred_on"])]

    def __str__(self):
        return f"{self.get_kind_display()} check-in on {self.occurred_on}"


class CheckInInvitation(EngagementScoped):
    """A planned check-in sent as a calendar invitation (feedback.invitations).

    Its `uid` is the invitation's identity in every calendar, so sending it again updates
    the same event instead of adding another; `sent_at` is claimed by the task that sends it.
    """

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="checkin_invitations"
    )
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    attendee_contacts = models.ManyToManyField(KeyContact, related_name="checkin_invitations")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="checkin_invitation_ends_after_start",
                violation_error_message="A check-in must end after it starts.",
            ),
        ]

    def __str__(self):
        return f"Check-in invitation for {self.starts_at:%Y-%m-%d %H:%M} UTC"


class Feedback(EngagementScoped, LocalDateMixin):
    class Kind(models.TextChoices):
        APPRECIATION = "appreciation", "Appreciation"
        IMPROVEMENT = "improvement", "Improvement"

    local_dates = {"created_at": "created_on"}

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="feedback")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_side = models.CharField(max_length=8, choices=Side.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    text = models.TextField(max_length=10000)
    suggested_action = models.TextField(max_length=10000, blank=True)
    sla = models.ForeignKey(SLA, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    goal = models.ForeignKey(
        SharedGoal, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_on = models.DateField(editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "feedback"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="improvement") | ~Q(suggested_action=""),
                name="improvement_has_suggested_action",
                violation_error_message="Improvement feedback needs a concrete suggested action.",
            ),
        ]
        indexes = [models.Index(fields=["engagement", "created_on"])]

    def __str__(self):
        return f"{self.get_kind_display()} from {self.from_side}"

    def clean(self):
        if self.kind == self.Kind.IMPROVEMENT and not self.suggested_action.strip():
            raise ValidationError(
                {"suggested_action": "Improvement feedback needs a concrete suggested action."}
            )
        if self.sla_id and self.sla.engagement_id != self.engagement_id:
            raise ValidationError({"sla": "Choose an SLA of this engagement."})
        if self.goal_id and self.goal.engagement_id != self.engagement_id:
            raise ValidationError({"goal": "Choose a goal of this engagement."})


class Issue(EngagementScoped, LocalDateMixin):
    """A problem in the relationship: who was responsible, who raised it, and how soon."""

    class Severity(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"
        CRITICAL = "critical", "Critical"

    local_dates = {"raised_at": "raised_on"}

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="issues")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=20000)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.MEDIUM)
    responsible_side = models.CharField(max_length=8, choices=Side.choices)
    raised_by_side = models.CharField(max_length=8, choices=Side.choices)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    detected_at = models.DateTimeField()
    raised_at = models.DateTimeField()
    raised_on = models.DateField(editable=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(raised_at__gte=F("detected_at")),
                name="issue_raised_after_detected",
                violation_error_message="An issue cannot be raised before it was detected.",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=F("raised_at")),
                name="issue_resolved_after_raised",
                violation_error_message="An issue cannot be resolved before it was raised.",
            ),
        ]
        indexes = [models.Index(fields=["engagement", "raised_on"])]

    def __str__(self):
        return self.title

    @property
    def disclosure_lag(self):
        """How long the problem was known before it was shared."""
        return self.raised_at - self.detected_at

    @property
    def raised_by_responsible_side(self) -> bool:
        return self.raised_by_side == self.responsible_side

    def clean(self):
        if self.detected_at and self.raised_at and self.raised_at < self.detected_at:
            raise ValidationError(
                {"raised_at": "An issue cannot be raised before it was detected."}
            )
        if self.resolved_at and self.raised_at and self.resolved_at < self.raised_at:
            raise ValidationError(
                {"resolved_at": "An issue cannot be resolved before it was raised."}
            )


class ContributionReview(EngagementScoped):
    """After an issue: what each side will do so it does not happen again."""

    engagement_path = "issue__engagement"

    issue = models.OneToOneField(Issue, on_delete=models.CASCADE, related_name="review")
    summary = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Review of {self.issue}"

    @property
    def engagement(self):
        return self.issue.engagement


class ActionItem(EngagementScoped, LocalDateMixin):
    local_dates = {"completed_at": "completed_on"}

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="action_items"
    )
    review = models.ForeignKey(
        ContributionReview,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="action_items",
    )
    checkin = models.ForeignKey(
        CheckIn, null=True, blank=True, on_delete=models.CASCADE, related_name="action_items"
    )
    owner_side = models.CharField(max_length=8, choices=Side.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    description = models.TextField(max_length=5000)
    due_date = models.DateField()
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_on = models.DateField(null=True, blank=True, editable=False)
    cancelled = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(review__isnull=True) | Q(checkin__isnull=True),
                name="action_item_has_one_origin",
                violation_error_message="An action item comes from a review or a check-in, not both.",
            ),
        ]
        indexes = [models.Index(fields=["engagement", "due_date"])]

    def __str__(self):
        return self.description[:60]

    @property
    def is_open(self) -> bool:
        return self.completed_at is None and not self.cancelled

    @property
    def completed_on_time(self) -> bool:
        return self.completed_on is not None and self.completed_on <= self.due_date

    def clean(self):
        if self.review_id and self.review.issue.engagement_id != self.engagement_id:
            raise ValidationError({"review": "Choose a review of this engagement."})
        if self.checkin_id and self.checkin.engagement_id != self.engagement_id:
            raise ValidationError({"checkin": "Choose a check-in of this engagement."})
        if self.owner_id and self.owner_side in Side.values:
            if not self.engagement.members_among([self.owner_id], side=self.owner_side):
                raise ValidationError(
                    {"owner": f"The owner must be a member of the {self.owner_side} organisation."}
                )


LIKERT = [MinValueValidator(1), MaxValueValidator(5)]

# The standard pulse questions of PRODUCT.md §2, in order: (field, question).
PULSE_QUESTIONS = (
    ("hear_often", "We hear from the other side often enough."),
    ("deliver_promises", "They deliver what they promise."),
    ("raise_problems_early", "They raise problems early and plainly."),
    ("follow_through", "They follow through on what they commit to."),
    ("same_goals", "We are working towards the same goals."),
    ("trust_overall", "I trust this relationship overall."),
)
PULSE_FIELDS = tuple(field for field, _ in PULSE_QUESTIONS)
# The optional mirror of each statement (PRODUCT.md §8): "how do you think they will rate you?"
MIRROR_FIELDS = tuple(f"mirror_{field}" for field in PULSE_FIELDS)
NPS_RANGE = [MinValueValidator(0), MaxValueValidator(10)]
NPS_QUESTION = "How likely are you to recommend {counterpart} as a partner to a peer?"
# The three optional texts: (field, question), each up to TEXT_LIMIT characters.
SURVEY_TEXTS = (
    ("start_doing", "What should they start doing?"),
    ("stop_doing", "What should they stop doing?"),
    ("continue_doing", "What should they continue doing?"),
)
TEXT_FIELDS = tuple(field for field, _ in SURVEY_TEXTS)
TEXT_LIMIT = 2000
SURVEY_ANSWER_FIELDS = (*PULSE_FIELDS, *MIRROR_FIELDS, "nps", *TEXT_FIELDS)


class PulseResponseQuerySet(EngagementScopedQuerySet):
    def current(self):
        return self.filter(superseded_at__isnull=True)


class PulseResponse(EngagementScoped):
    """One person's answers for an engagement and scorecard period.

    Shown to nobody but the respondent: not registered in the admin, not in the
    audit trail. A second submission in a period supersedes the first. Kept when the
    respondent's account is deleted, so a published figure never changes (PRODUCT.md §8).
    """

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="pulse_responses"
    )
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="pulse_responses",
    )
    side = models.CharField(max_length=8, choices=Side.choices)
    period_kind = models.CharField(max_length=8)
    period_start = models.DateField()
    hear_often = models.PositiveSmallIntegerField(validators=LIKERT)
    deliver_promises = models.PositiveSmallIntegerField(validators=LIKERT)
    raise_problems_early = models.PositiveSmallIntegerField(validators=LIKERT)
    follow_through = models.PositiveSmallIntegerField(validators=LIKERT)
    same_goals = models.PositiveSmallIntegerField(validators=LIKERT)
    trust_overall = models.PositiveSmallIntegerField(validators=LIKERT)
    mirror_hear_often = models.PositiveSmallIntegerField(null=True, blank=True, validators=LIKERT)
    mirror_deliver_promises = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=LIKERT
    )
    mirror_raise_problems_early = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=LIKERT
    )
    mirror_follow_through = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=LIKERT
    )
    mirror_same_goals = models.PositiveSmallIntegerField(null=True, blank=True, validators=LIKERT)
    mirror_trust_overall = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=LIKERT
    )
    nps = models.PositiveSmallIntegerField(null=True, blank=True, validators=NPS_RANGE)
    start_doing = models.TextField(blank=True, max_length=TEXT_LIMIT)
    stop_doing = models.TextField(blank=True, max_length=TEXT_LIMIT)
    continue_doing = models.TextField(blank=True, max_length=TEXT_LIMIT)
    submitted_at = models.DateTimeField(default=timezone.now)
    superseded_at = models.DateTimeField(null=True, blank=True)

    objects = PulseResponseQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "respondent", "period_start"],
                condition=Q(superseded_at__isnull=True),
                name="one_current_pulse_response",
            ),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{field}__gte": 1}) & Q(**{f"{field}__lte": 5}),
                    name=f"pulse_{field}_1_to_5",
                    violation_error_message="Answers must be between 1 and 5.",
                )
                for field in PULSE_FIELDS
            ],
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{field}__isnull": True})
                    | Q(**{f"{field}__gte": 1}) & Q(**{f"{field}__lte": 5}),
                    name=f"pulse_{field}_1_to_5",
                    violation_error_message="Predictions must be between 1 and 5.",
                )
                for field in MIRROR_FIELDS
            ],
            models.CheckConstraint(
                condition=Q(nps__isnull=True) | Q(nps__lte=10),
                name="pulse_nps_0_to_10",
                violation_error_message="The recommendation must be between 0 and 10.",
            ),
        ]
        indexes = [models.Index(fields=["engagement", "period_start"])]

    def __str__(self):
        return f"Pulse response #{self.pk}"

    @property
    def answers(self) -> list[int]:
        return [getattr(self, field) for field in PULSE_FIELDS]

    @property
    def mean_answer(self) -> float:
        return sum(self.answers) / len(PULSE_FIELDS)
