"""Notices (PRODUCT.md §9): what Accord tells a member, how each member wants to hear of
each kind, and the digests sent to them.

A notice is one row per member and event (`key` names the event: the same alert raised
twice in a run is one notice), so sending it twice is impossible by construction; the
e-mail and the digest are claimed by conditional UPDATEs (notices/delivery.py).
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import Q

from relationships.models import WRITER_ROLES, Engagement, validate_time_zone

# Kept in the inbox this long; the `notices.prune` beat task deletes older ones.
KEPT_FOR = timedelta(days=90)


class Kind(models.TextChoices):
    ALERT = "alert", "New alerts"
    REVIEW = "review", "A closed period awaiting my side's review"
    CHANGE_REQUEST = "change_request", "A change request awaiting my side"
    ACTION_ITEM = "action_item", "An action item I own due in 3 days or overdue"
    CHECKIN_CADENCE = "checkin_cadence", "Check-ins slipping past the cadence"
    SURVEY = "survey", "The survey: open, and 2 days before it closes"


class Channel(models.TextChoices):
    IMMEDIATE = "immediate", "E-mail at once"
    DAILY = "daily", "Daily digest"
    WEEKLY = "weekly", "Weekly digest"
    INBOX = "inbox", "Inbox only"


# PRODUCT.md §9: managers and admins hear of alerts, reviews and change requests by e-mail
# at once (and read everything in the weekly digest); viewers get the weekly digest.
AT_ONCE_FOR_WRITERS = frozenset({Kind.ALERT, Kind.REVIEW, Kind.CHANGE_REQUEST})


def default_channel(kind: str, role: str | None) -> str:
    if role in WRITER_ROLES and kind in AT_ONCE_FOR_WRITERS:
        return Channel.IMMEDIATE
    return Channel.WEEKLY


class Profile(models.Model):
    """A member's own settings: the time zone their digests arrive in (08:00 there)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_profile"
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])

    def __str__(self):
        return f"{self.user} ({self.time_zone})"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


class Preference(models.Model):
    """How a member hears of one kind of notice: for one engagement, or (engagement empty)
    for all of them. No row: the default of their role (`default_channel`)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_preferences"
    )
    engagement = models.ForeignKey(
        Engagement, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)

    class Meta:
        ordering = ["user", "engagement", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "engagement", "kind"],
                condition=Q(engagement__isnull=False),
                name="one_notice_preference_per_engagement_kind",
            ),
            models.UniqueConstraint(
                fields=["user", "kind"],
                condition=Q(engagement__isnull=True),
                name="one_notice_preference_for_all_per_kind",
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.kind} · {self.channel}"


class Notice(models.Model):
    """One thing Accord tells one member: in their inbox, and by e-mail at once or in a
    digest as their preference said when it was raised (`channel`)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices"
    )
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Names the event (e.g. "alert:41:2026-03-31T02:15:00"): one notice per member and key.
    key = models.CharField(max_length=200)
    subject = models.CharField(max_length=200)
    body = models.TextField(max_length=2000, blank=True)
    link = models.CharField(max_length=500)
    # What the notice is about, for the e-mail's extras (e.g. {"scorecard": 12}).
    data = models.JSONField(default=dict, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    # The immediate e-mail: claimed by a worker (a lease), then sent; or skipped with a reason.
    email_claimed_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_skipped = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="one_notice_per_member_and_key")
        ]
        indexes = [
            models.Index(fields=["user", "read_at"]),
            models.Index(fields=["user", "created_at"]),
            models.Index(fields=["created_at"]),
        ]

    def __str__(self):
        return self.subject


class Digest(models.Model):
    """A member's daily or weekly digest of one date (their local date; the Monday for a
    weekly one). The row exists once per (member, kind, date); a worker claims it by a
    conditional UPDATE, so two beats or a retry never send it twice."""

    class Frequency(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_digests"
    )
    frequency = models.CharField(max_length=8, choices=Frequency.choices)
    date = models.DateField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Nothing to say (never an empty digest), or the member has no address.
    skipped = models.CharField(max_length=40, blank=True, default="")
    notice_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "frequency", "date"], name="one_digest_per_member_kind_date"
            )
        ]

    def __str__(self):
        return f"{self.frequency} digest of {self.date} for {self.user}"
