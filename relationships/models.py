import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, F, OuterRef, Q, Subquery, Value, When
from django.urls import reverse
from django.utils import timezone
from knox.models import AbstractAuthToken
from simple_history.models import HistoricalRecords

from relationships import names
from relationships.periods import (
    CLOSED,
    PERIOD_KINDS,
    Period,
    closed_from,
    period_containing,
    period_state,
)
from relationships.scoring_config import DEFAULTS, ScoringConfigValues, config_values


class Side(models.TextChoices):
    CLIENT = "client", "Client"
    PROVIDER = "provider", "Provider"


def other_side(side: str) -> str:
    return Side.PROVIDER if side == Side.CLIENT else Side.CLIENT


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    VIEWER = "viewer", "Viewer"


WRITER_ROLES = (Role.ADMIN, Role.MANAGER)


class Tier(models.TextChoices):
    """The tiers of the governance map (PRODUCT.md §11): each pairs the two sides'
    contacts and meets at its own cadence."""

    EXECUTIVE = "executive", "Executive"
    MANAGEMENT = "management", "Management"
    OPERATIONAL = "operational", "Operational"


def validate_time_zone(value: str) -> None:
    if value not in _TIME_ZONES:
        raise ValidationError(f"'{value}' is not a known IANA time zone, such as Europe/Berlin.")


_TIME_ZONES = frozenset(available_timezones()) | {"UTC"}


def _member_organization_ids(user, roles=Role.values):
    # By user_id: the schema generator asks as an anonymous user, whose pk is None.
    return Membership.objects.filter(user_id=user.pk, role__in=roles).values("organization_id")


# Room for a 200-character name whose NFKC form is longer; small enough for an index entry.
NAME_KEY_LENGTH = 600


class OrganizationQuerySet(models.QuerySet):
    """Organisations by the user's role in them; with EngagementQuerySet and Access, the
    only code that reads membership roles."""

    def of_member(self, user):
        return self.filter(pk__in=_member_organization_ids(user))

    def writable_by(self, user):
        """Where the user is a manager or an admin: they may propose engagements for it."""
        return self.filter(pk__in=_member_organization_ids(user, WRITER_ROLES))

    def administered_by(self, user):
        return self.filter(pk__in=_member_organization_ids(user, [Role.ADMIN]))

    def bulk_create(self, objs, *args, **kwargs):
        # bulk_create skips save(), which keys each name.
        objs = list(objs)
        for organization in objs:
            organization.name_key = organization.name_key or names.organization_name_key(
                organization.name
            )
        return super().bulk_create(objs, *args, **kwargs)

    def counterparts_of(self, organizations):
        """The other parties of the engagements, in any status, of `organizations` (a
        queryset): the organisations they may propose to. The directory of all
        organisations is not public, so a proposal reaches no one else."""
        return self.filter(
            Q(pk__in=Engagement.objects.filter(client__in=organizations).values("provider_id"))
            | Q(pk__in=Engagement.objects.filter(provider__in=organizations).values("client_id"))
        )


class Organization(models.Model):
    name = models.CharField(max_length=200)
    # The name as look-alikes share it (relationships.names): unique, so no two
    # organisations read the same. Look-alikes that existed before (migration 0009)
    # keep apart with a marked key until renamed; check relationships.W001 lists them.
    name_key = models.CharField(max_length=NAME_KEY_LENGTH, unique=True, editable=False, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        key = names.organization_name_key(self.name)
        if not self._kept_apart(key):
            self.name_key = key
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_key"}
        super().save(*args, **kwargs)

    def clean(self):
        self.name = names.tidy_name(self.name or "")
        problems = names.organization_name_problems(self.name)
        key = names.organization_name_key(self.name)
        if len(key) > NAME_KEY_LENGTH:
            problems.append("The name is too long.")
        elif key and self.look_alikes(key).exists():
            problems.append(names.LOOK_ALIKE)
        if problems:
            raise ValidationError({"name": problems})

    def look_alikes(self, key: str):
        """Other organisations whose name has this key (kept apart by a migration or not)."""
        return Organization.objects.filter(
            Q(name_key=key) | Q(name_key__startswith=key + names.LOOK_ALIKE_MARK)
        ).exclude(pk=self.pk)

    def _kept_apart(self, key: str) -> bool:
        """A look-alike migration 0009 found keeps its marked key until it is renamed."""
        return (
            self.name_key.startswith(key + names.LOOK_ALIKE_MARK)
            and Organization.objects.filter(name_key=key).exclude(pk=self.pk).exists()
        )

    def require_admin(self, user) -> None:
        if not Organization.objects.administered_by(user).filter(pk=self.pk).exists():
            raise PermissionDenied(f"Only an admin of {self} can do this.")


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["organization", "user", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_org")
        ]
        indexes = [models.Index(fields=["user", "organization"])]

    def __str__(self):
        return f"{self.user} · {self.organization} ({self.role})"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class Invitation(models.Model):
    """An admin's invitation for a person to join their organisation, by emailed token.

    Only the token's hash is stored; the raw token travels in the email link.
    """

    VALID_FOR = timedelta(days=7)

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["token_hash"])

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.email} → {self.organization}"

    @staticmethod
    def new_token() -> tuple[str, str]:
        raw = secrets.token_urlsafe(32)
        return raw, hash_token(raw)

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.accepted_at is None and self.revoked_at is None and now < self.expires_at

    def is_for(self, user) -> bool:
        """Whether the invitation was sent to the user's e-mail address."""
        return bool(user.email) and names.email_key(user.email) == names.email_key(self.email)


@functools.cache
def _zone(name: str) -> ZoneInfo:
    """ZoneInfo keeps only a few zones strongly cached; scoring reads a thousand engagements'."""
    return ZoneInfo(name)


class EngagementQuerySet(models.QuerySet):
    """Engagements by what the user may do on them: the tenancy rule of Accord.

    Every view and API queryset starts from `visible_to`. A user who belongs to both
    parties acts for the client (as `Engagement.access_for` does), so `writable_by` and
    `administered_by` agree with the access value row by row.
    """

    def visible_to(self, user):
        """Engagements where one of the user's organisations is the client or the provider."""
        if not user.is_authenticated:
            return self.none()
        org_ids = _member_organization_ids(user)
        return self.filter(Q(client_id__in=org_ids) | Q(provider_id__in=org_ids))

    def _acting_as(self, user, roles):
        if not user.is_authenticated:
            return self.none()
        acting = _member_organization_ids(user, roles)
        return self.filter(
            Q(client_id__in=acting)
            | (Q(provider_id__in=acting) & ~Q(client_id__in=_member_organization_ids(user)))
        )

    def writable_by(self, user):
        """Active engagements where the user is a manager or an admin of their side."""
        return self._acting_as(user, WRITER_ROLES).filter(status=Engagement.Status.ACTIVE)

    def administered_by(self, user):
        """Active engagements where the user is an admin of their side."""
        return self._acting_as(user, [Role.ADMIN]).filter(status=Engagement.Status.ACTIVE)

    def restrict(self, user, action: str = "read"):
        """The engagements where the user's access allows `action` (read, write, administer)."""
        restriction = {
            "read": self.visible_to,
            "write": self.writable_by,
            "administer": self.administered_by,
        }[action]
        return restriction(user)


def acting_side(user, engagement_path: str = "") -> Case:
    """The side the user acts for in each engagement of a query (the engagement reached by
    `engagement_path`), as Engagement.access_for decides: the client's when a member of it."""
    client_id = f"{engagement_path}__client_id" if engagement_path else "client_id"
    return Case(
        When(**{f"{client_id}__in": _member_organization_ids(user)}, then=Value(Side.CLIENT)),
        default=Value(Side.PROVIDER),
        output_field=models.CharField(),
    )


@dataclass(frozen=True)
class Access:
    """What one user may do on one engagement, from one membership query.

    `side` and `role` are the user's in the engagement (the client's membership first);
    `counterpart_role` is their role in the party that did not propose it, which is
    what accepting a proposal takes.
    """

    side: str | None
    role: str | None
    status: str
    counterpart_role: str | None = None

    @property
    def writable(self) -> bool:
        """Records can be added only while both parties have agreed to the engagement."""
        return self.status == Engagement.Status.ACTIVE

    @property
    def can_read(self) -> bool:
        return self.side is not None

    @property
    def can_write(self) -> bool:
        """Record, review, acknowledge, recompute: managers and admins of an active engagement."""
        return self.role in WRITER_ROLES and self.writable

    @property
    def can_administer(self) -> bool:
        """Change the scoring: admins of either party while the engagement is active."""
        return self.role == Role.ADMIN and self.writable

    @property
    def can_archive(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def can_accept(self) -> bool:
        """An admin of the party that did not propose accepts a proposed engagement."""
        return self.counterpart_role == Role.ADMIN and self.status == Engagement.Status.PROPOSED

    def require(self, action: str) -> "Access":
        """This access if it allows `action` (read, write, administer, archive, accept);
        PermissionDenied saying why otherwise."""
        if getattr(self, f"can_{action}"):
            return self
        if action == "write" and self.role in WRITER_ROLES:
            raise PermissionDenied(f"This engagement is {self.status}; records cannot be added.")
        raise PermissionDenied(REFUSALS[action])


REFUSALS = {
    "read": "You are not a member of either party of this engagement.",
    "write": "Only managers and admins of the engagement's parties can do this.",
    "administer": "Only an admin of either party can change the scoring.",
    "archive": "Only an admin of either party can archive an engagement.",
    "accept": "Only an admin of the counterpart can accept this proposal.",
}


DECLINE_REASON_MAX = 2000


class Engagement(models.Model):
    class Phase(models.TextChoices):
        PILOT = "pilot", "Pilot"
        ACTIVE = "active", "Active"
        EXPANDING = "expanding", "Expanding"
        WINDING_DOWN = "winding_down", "Winding down"
        ENDED = "ended", "Ended"

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        ACTIVE = "active", "Active"
        # The counterpart's admin said no, with a reason: read-only, kept for both sides.
        DECLINED = "declined", "Declined"
        ARCHIVED = "archived", "Archived"

    class PeriodKind(models.TextChoices):
        WEEK = "week", "Week"
        MONTH = "month", "Month"
        QUARTER = "quarter", "Quarter"

    name = models.CharField(max_length=200)
    client = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="engagements_as_client"
    )
    provider = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="engagements_as_provider"
    )
    phase = models.CharField(max_length=16, choices=Phase.choices, default=Phase.PILOT)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_by_side = models.CharField(max_length=8, choices=Side.choices, default=Side.CLIENT)
    proposed_at = models.DateTimeField(default=timezone.now)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    declined_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    declined_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(max_length=DECLINE_REASON_MAX, blank=True, default="")
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    scorecard_period = models.CharField(
        max_length=8, choices=PeriodKind.choices, default=PeriodKind.MONTH
    )
    checkin_cadence_days = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    # The meeting cadence of each tier of the governance map: terms, agreed by both sides
    # like the check-in cadence; empty until agreed.
    executive_cadence_days = models.PositiveSmallIntegerField(
        "Executive meetings (days)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    management_cadence_days = models.PositiveSmallIntegerField(
        "Management meetings (days)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    operational_cadence_days = models.PositiveSmallIntegerField(
        "Operational meetings (days)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = EngagementQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(client=F("provider")),
                name="engagement_client_is_not_provider",
                violation_error_message="The client and the provider must be different organisations.",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="engagement_ends_after_start",
                violation_error_message="The end date cannot be before the start date.",
            ),
            models.CheckConstraint(
                condition=Q(checkin_cadence_days__gte=1) & Q(checkin_cadence_days__lte=365),
                name="engagement_cadence_1_to_365",
                violation_error_message="The check-in cadence must be between 1 and 365 days.",
            ),
            models.CheckConstraint(
                condition=Q(scorecard_period__in=PERIOD_KINDS),
                name="engagement_period_kind_known",
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{tier}_cadence_days__isnull": True})
                    | Q(**{f"{tier}_cadence_days__gte": 1, f"{tier}_cadence_days__lte": 365}),
                    name=f"engagement_{tier}_cadence_1_to_365",
                    violation_error_message="A meeting cadence must be between 1 and 365 days.",
                )
                for tier in Tier.values
            ),
        ]
        indexes = [
            models.Index(fields=["client", "status"]),
            models.Index(fields=["provider", "status"]),
            models.Index(fields=["status"]),
            # Lists sort by name: a page is read off this index, not sorted from every row.
            models.Index(fields=["name", "id"]),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("engagement-detail", args=[self.pk])

    @property
    def tz(self) -> ZoneInfo:
        return _zone(self.time_zone)

    def local_date(self, moment: datetime) -> date:
        """The date of a timestamp in the engagement's time zone."""
        return timezone.localtime(moment, self.tz).date()

    def today(self) -> date:
        return self.local_date(timezone.now())

    def organization_of(self, side: str) -> Organization:
        return self.client if side == Side.CLIENT else self.provider

    def organization_id_of(self, side: str) -> int:
        return self.client_id if side == Side.CLIENT else self.provider_id

    def side_of_organization(self, organization_id: int) -> str | None:
        if organization_id == self.client_id:
            return Side.CLIENT
        if organization_id == self.provider_id:
            return Side.PROVIDER
        return None

    def access_for(self, user) -> Access:
        """What the user may do on this engagement (see Access)."""
        roles = {}
        if user.is_authenticated:
            for organization_id, role in Membership.objects.filter(
                user_id=user.pk, organization_id__in=[self.client_id, self.provider_id]
            ).values_list("organization_id", "role"):
                roles[self.side_of_organization(organization_id)] = role
        side = Side.CLIENT if Side.CLIENT in roles else (Side.PROVIDER if roles else None)
        return Access(
            side=side,
            role=roles.get(side),
            status=self.status,
            counterpart_role=roles.get(other_side(self.proposed_by_side)),
        )

    def members_among(self, user_ids, side: str | None = None) -> set[int]:
        """The ids among user_ids of members of the engagement's parties (or of one side)."""
        if not user_ids:
            return set()
        organizations = (
            [self.organization_id_of(side)] if side else [self.client_id, self.provider_id]
        )
        return set(
            Membership.objects.filter(
                user_id__in=user_ids, organization_id__in=organizations
            ).values_list("user_id", flat=True)
        )

    def current_period(self, today: date | None = None) -> Period:
        return period_containing(self.scorecard_period, today or self.today())

    def periods(self, today: date | None = None) -> list[Period]:
        """Every period of the engagement's kind from the one it started in to the one in
        progress, newest first."""
        periods = [self.current_period(today)]
        while periods[-1].start > self.start_date:
            periods.append(periods[-1].previous())
        return periods

    def period_starting(self, start: date) -> Period:
        """The engagement's period that starts on `start`, from the one it starts in to the one
        in progress; ValueError saying which day would be, or why there is no such period."""
        kind, current = self.scorecard_period, self.current_period()
        if start > current.end:  # first: a date far ahead may have no period to name
            raise ValueError(
                f"{start.isoformat()} is after the period in progress, {current.title}, "
                f"which starts on {current.start.isoformat()}; later periods have not begun."
            )
        period = period_containing(kind, start)
        if period.start != start:
            raise ValueError(
                f"{start.isoformat()} is not the first day of a {kind}; the {kind} "
                f"containing it starts on {period.start.isoformat()}."
            )
        if period.end < self.start_date:
            raise ValueError(
                f"{period.title} ends before the engagement starts on "
                f"{self.start_date.isoformat()}; its first period starts on "
                f"{period_containing(kind, self.start_date).start.isoformat()}."
            )
        return period

    def scoring_config_values(self) -> ScoringConfigValues:
        """The scoring configuration the next computation uses: its own, or the defaults."""
        stored = getattr(self, "scoring_config", None)
        return config_values() if stored is None else stored.values()

    def period_state(self, period: Period, today: date | None = None) -> str:
        """In progress, closing or closed (relationships.periods), in this engagement's time
        zone, with its grace days; an engagement that ends closes its last period early."""
        return period_state(
            period,
            today=today or self.today(),
            grace_days=self.scoring_config_values().grace_days,
            last_day=self.end_date,
        )

    def period_closed_from(self, period: Period) -> date:
        """The first day on which the period is closed, in the engagement's time zone."""
        return closed_from(
            period, grace_days=self.scoring_config_values().grace_days, last_day=self.end_date
        )

    def latest_closed_period(self, today: date | None = None) -> Period:
        """The most recent period that is closed: the one before the current period, or the
        one before that while it is still closing."""
        today = today or self.today()
        period = self.current_period(today).previous()
        while self.period_state(period, today) != CLOSED:
            period = period.previous()
        return period

    def start_of(self, day: date) -> datetime:
        """The moment `day` begins in the engagement's time zone."""
        return datetime.combine(day, time.min, tzinfo=self.tz)

    def survey_threshold_for(self, period: Period) -> int:
        return ScoringConfig.survey_thresholds([self], period)[self.pk]

    def clean(self):
        if self.client_id and self.client_id == self.provider_id:
            raise ValidationError(
                {"provider": "The client and the provider must be different organisations."}
            )
        if self.end_date and self.start_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "The end date cannot be before the start date."})


class EngagementScopedQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "read"):
        """The records of the engagements where the user's access allows `action`."""
        engagements = Engagement.objects.restrict(user, action)
        return self.filter(**{f"{self.model.engagement_path}__in": engagements})


class EngagementScoped(models.Model):
    """A record of one engagement, which the user reaches through their access to it."""

    # The lookup from the record to its engagement.
    engagement_path = "engagement"

    objects = EngagementScopedQuerySet.as_manager()

    class Meta:
        abstract = True

    def _engagement_link(self) -> tuple[models.Model, str]:
        """The object holding the engagement's foreign key, and the key's name."""
        *hops, name = self.engagement_path.split("__")
        holder = self
        for hop in hops:
            holder = getattr(holder, hop)
        return holder, name

    def owning_engagement(self) -> Engagement:
        holder, name = self._engagement_link()
        return getattr(holder, name)

    def belongs_to(self, engagement: Engagement) -> bool:
        holder, name = self._engagement_link()
        # By id: the engagement itself need not be loaded.
        return getattr(holder, f"{name}_id") == engagement.pk

    def access_for(self, user) -> Access:
        return self.owning_engagement().access_for(user)


# A key contact's working day unless they say otherwise.
KEY_CONTACT_WORK_STARTS, KEY_CONTACT_WORK_ENDS = time(9), time(17)


class KeyContact(EngagementScoped):
    class ContactRole(models.TextChoices):
        RELATIONSHIP_STEWARD = "relationship_steward", "Relationship steward"
        EXECUTIVE_SPONSOR = "executive_sponsor", "Executive sponsor"
        DELIVERY_LEAD = "delivery_lead", "Delivery lead"
        ACCOUNT_MANAGER = "account_manager", "Account manager"
        TECHNICAL_LEAD = "technical_lead", "Technical lead"

    # The tier a role sits in unless the contact says otherwise.
    ROLE_TIERS = {
        ContactRole.EXECUTIVE_SPONSOR: Tier.EXECUTIVE,
        ContactRole.RELATIONSHIP_STEWARD: Tier.MANAGEMENT,
        ContactRole.ACCOUNT_MANAGER: Tier.MANAGEMENT,
        ContactRole.DELIVERY_LEAD: Tier.OPERATIONAL,
        ContactRole.TECHNICAL_LEAD: Tier.OPERATIONAL,
    }

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="contacts")
    side = models.CharField(max_length=8, choices=Side.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    role = models.CharField(max_length=32, choices=ContactRole.choices)
    # Blank on input: the role's usual tier (ROLE_TIERS), set on save.
    tier = models.CharField(max_length=12, choices=Tier.choices, blank=True)
    start_date = models.DateField(default=date.today)
    end_date = models.DateField(null=True, blank=True)
    # Where and when the contact works, for planning check-ins (feedback.checkin_planner).
    # A contact saved without a zone takes the engagement's.
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone])
    work_starts = models.TimeField(
        default=KEY_CONTACT_WORK_STARTS, blank=True, help_text="Local time the working day starts."
    )
    work_ends = models.TimeField(
        default=KEY_CONTACT_WORK_ENDS, blank=True, help_text="Local time the working day ends."
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["side", "role", "-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="contact_ends_after_start",
                violation_error_message="The end date cannot be before the start date.",
            ),
            models.CheckConstraint(
                condition=Q(work_ends__gt=F("work_starts")),
                name="contact_works_ends_after_start",
                violation_error_message="The working day must end after it starts.",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_role_display()}, {self.side})"

    def save(self, *args, **kwargs):
        if not self.tier:
            self.tier = self.ROLE_TIERS.get(self.role, Tier.OPERATIONAL)

        if not self.time_zone:
            self.time_zone = self.engagement.time_zone
        super().save(*args, **kwargs)

    @property
    def tz(self) -> ZoneInfo:
        return _zone(self.time_zone or self.engagement.time_zone)

    def is_current(self, on: date) -> bool:
        return self.start_date <= on and (self.end_date is None or self.end_date >= on)


class SLA(EngagementScoped):
    class Direction(models.TextChoices):
        HIGHER_IS_BETTER = "higher_is_better", "Higher is better"
        LOWER_IS_BETTER = "lower_is_better", "Lower is better"

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="slas")
    owner_side = models.CharField(max_length=8, choices=Side.choices)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=32)
    direction = models.CharField(max_length=16, choices=Direction.choices)
    target = models.DecimalField(max_digits=18, decimal_places=6)
    weight = models.DecimalField(
        max_digits=8, decimal_places=3, default=1, validators=[MinValueValidator(0.001)]
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "SLA"
        ordering = ["owner_side", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "name"],
                name="sla_name_unique_in_engagement",
                violation_error_message="This engagement already has an SLA with this name.",
            ),
            models.CheckConstraint(
                condition=Q(weight__gt=0),
                name="sla_weight_positive",
                violation_error_message="The weight must be greater than 0.",
            ),
        ]

    def __str__(self):
        return self.name

    @classmethod
    def meets_target_q(cls, *, target=None, direction: str | None = None) -> Q:
        """On SLAs joined to their measurements: the measurement meets its SLA's target, or
        the `target` (and `direction`) proposed for it instead of its own."""
        target = F("target") if target is None else target
        at_least = Q(measurements__value__gte=target)
        at_most = Q(measurements__value__lte=target)
        if direction is not None:
            return at_least if direction == cls.Direction.HIGHER_IS_BETTER else at_most
        return (
            Q(direction=cls.Direction.HIGHER_IS_BETTER) & at_least
            | Q(direction=cls.Direction.LOWER_IS_BETTER) & at_most
        )


class ScoringConfig(EngagementScoped):
    """An engagement's own weights, band limits, survey threshold and grace days.

    One of the terms (relationships.change_requests): on an active engagement an admin of
    one side asks, an admin of the other accepts; the history records who agreed.
    Engagements without one use the model's defaults.
    """

    engagement = models.OneToOneField(
        Engagement, on_delete=models.CASCADE, related_name="scoring_config"
    )
    weights = models.JSONField(default=dict, blank=True)
    band_limits = models.JSONField(default=dict, blank=True)
    survey_threshold = models.PositiveSmallIntegerField(default=DEFAULTS.survey_threshold)
    grace_days = models.PositiveSmallIntegerField(default=DEFAULTS.grace_days)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    # Moved here from the scorecards app; the tables kept their names.
    history = HistoricalRecords(table_name="scorecards_historicalscoringconfig")

    class Meta:
        db_table = "scorecards_scoringconfig"
        constraints = [
            models.CheckConstraint(
                condition=Q(survey_threshold__gte=1),
                name="survey_threshold_at_least_1",
                violation_error_message="The survey threshold must be at least 1.",
            ),
            models.CheckConstraint(
                condition=Q(grace_days__lte=14),
                name="grace_days_at_most_14",
                violation_error_message="The grace days must be from 0 to 14.",
            ),
        ]

    def __str__(self):
        return f"Scoring configuration of {self.engagement}"

    def values(self) -> ScoringConfigValues:
        return config_values(
            self.weights, self.band_limits, self.survey_threshold, self.grace_days
        )

    @classmethod
    def survey_thresholds(cls, engagements, period: Period) -> dict[int, int]:
        """The survey threshold in force for `period`, per engagement: the one agreed before
        the period began (PRODUCT.md §7), so a change never reaches a period already under
        way; the default where none was.
        """
        engagements = list(engagements)
        starts = {e.pk: e.start_of(period.start) for e in engagements}
        thresholds = dict.fromkeys(starts, DEFAULTS.survey_threshold)
        if not starts:
            return thresholds
        rows = (
            cls.history.filter(engagement_id__in=starts, history_date__lt=max(starts.values()))
            .order_by("engagement_id", "history_date", "history_id")
            .values_list("engagement_id", "history_date", "history_type", "survey_threshold")
        )
        for engagement_id, moment, kind, threshold in rows:
            if moment < starts[engagement_id]:
                thresholds[engagement_id] = (
                    DEFAULTS.survey_threshold if kind == "-" else threshold
                )
        return thresholds


class ImportBatch(models.Model):
    """A set of measurements written at once: the audit entry for all its rows."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=100)
    row_count = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    corrected_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "import batches"

    def __str__(self):
        return f"Import #{self.pk} ({self.source}, {self.row_count} rows)"


class MeasurementQuerySet(EngagementScopedQuerySet):
    def current(self):
        return self.filter(superseded_at__isnull=True)

    def with_open_dispute(self):
        """Each value with `open_dispute_id`, its open dispute's id (or None), in the query."""
        return self.annotate(
            open_dispute_id=Subquery(
                MeasurementDispute.objects.filter(
                    measurement_id=OuterRef("pk"), status=MeasurementDispute.Status.OPEN
                ).values("pk")[:1]
            )
        )


class Measurement(EngagementScoped):
    """One SLA value for a period. A correction supersedes the row and keeps it."""

    engagement_path = "sla__engagement"

    # No index of its own: the (sla, period_start) index serves every lookup by SLA,
    # and a plain sla index tempts the planner into reading every period of an SLA.
    sla = models.ForeignKey(
        SLA, on_delete=models.CASCADE, related_name="measurements", db_index=False
    )
    period_start = models.DateField()
    period_end = models.DateField()
    value = models.DecimalField(max_digits=18, decimal_places=6)
    source = models.CharField(max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    import_batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="measurements"
    )
    # The row this one corrected; that row carries superseded_at.
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    superseded_at = models.DateTimeField(null=True, blank=True)
    # The recorder's side in the engagement when they recorded it; blank when unknown
    # (rows older than the mark whose recorder is no longer a member).
    recorded_by_side = models.CharField(max_length=8, choices=Side.choices, blank=True)

    objects = MeasurementQuerySet.as_manager()

    class Meta:
        ordering = ["sla", "period_start", "recorded_at"]
        constraints = [
            # Period first: a batch of one period for many SLAs (the usual import) then
            # writes to a few pages of this index instead of one page per SLA.
            models.UniqueConstraint(
                fields=["period_start", "sla"],
                condition=Q(superseded_at__isnull=True),
                name="one_current_measurement_per_sla_period",
                violation_error_message="This SLA already has a current value for this period.",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="measurement_period_ends_after_start",
                violation_error_message="The period end cannot be before the period start.",
            ),
        ]
        indexes = [
            # Covering (PostgreSQL): a period's attainment per SLA is read off the index
            # alone, without visiting the table; SQLite ignores `include`.
            models.Index(
                fields=["sla", "period_start"],
                include=["value", "superseded_at"],
                name="measurement_sla_period",
            )
        ]

    def __str__(self):
        return f"{self.sla} {self.period_start}: {self.value}"

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None

    @property
    def recorded_by_owner(self) -> bool:
        """Whether the side that owns the SLA recorded it (PRODUCT.md §7: others' are marked)."""
        return self.recorded_by_side == self.sla.owner_side


class MeasurementDispute(EngagementScoped):
    """The owning side's objection to a value the other side recorded for its SLA.

    The value keeps counting while the dispute is open; it ends `corrected` when a
    correction supersedes the value (the recorder's side accepting the proposed one, or
    recording another), or `withdrawn` by the disputing side.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CORRECTED = "corrected", "Corrected"
        WITHDRAWN = "withdrawn", "Withdrawn"

    engagement_path = "sla__engagement"

    measurement = models.ForeignKey(
        Measurement, on_delete=models.CASCADE, related_name="disputes", db_index=False
    )
    # The measurement's SLA, kept on the dispute so that scoring counts a period's open
    # disputes per SLA from the small partial index below, never reading measurements.
    sla = models.ForeignKey(SLA, on_delete=models.CASCADE, related_name="+", db_index=False)
    side = models.CharField(max_length=8, choices=Side.choices)  # the disputing (owning) side
    disputed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField()
    corrected_value = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["measurement"],
                condition=Q(status="open"),
                name="one_open_dispute_per_measurement",
                violation_error_message="This value is already disputed.",
            ),
        ]
        indexes = [
            models.Index(fields=["sla"], condition=Q(status="open"), name="open_dispute_sla"),
            models.Index(fields=["measurement"], name="dispute_measurement"),
        ]

    def __str__(self):
        return f"Dispute of {self.measurement} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class SharedGoal(EngagementScoped):
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="goals")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    target = models.CharField(max_length=200, blank=True, help_text="What achieved looks like.")
    start_date = models.DateField()
    due_date = models.DateField()
    achieved_on = models.DateField(null=True, blank=True)
    cancelled = models.BooleanField(default=False)
    client_contact = models.ForeignKey(
        KeyContact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    provider_contact = models.ForeignKey(
        KeyContact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["due_date", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(due_date__gte=F("start_date")),
                name="goal_due_after_start",
                violation_error_message="The due date cannot be before the start date.",
            ),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        for side, contact in (
            (Side.CLIENT, self.client_contact),
            (Side.PROVIDER, self.provider_contact),
        ):
            if contact and (contact.engagement_id != self.engagement_id or contact.side != side):
                raise ValidationError(
                    {f"{side}_contact": f"Choose a {side} contact of this engagement."}
                )


class GoalProgress(EngagementScoped):
    engagement_path = "goal__engagement"

    goal = models.ForeignKey(SharedGoal, on_delete=models.CASCADE, related_name="progress")
    date = models.DateField()
    percent = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    note = models.TextField(blank=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "goal progress"
        ordering = ["goal", "-date", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__gte=0) & Q(percent__lte=100),
                name="goal_progress_0_to_100",
                violation_error_message="Progress must be between 0 and 100 percent.",
            ),
        ]
        indexes = [models.Index(fields=["goal", "date"])]

    def __str__(self):
        return f"{self.goal}: {self.percent}% on {self.date}"


class ApiToken(AbstractAuthToken):
    """A named API token of one user (knox stores only its hash); deleting it revokes it."""

    # Writing last_used_at on every request would turn each read into a write.
    LAST_USED_RESOLUTION = timedelta(minutes=1)

    name = models.CharField(max_length=100)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Creation and revocation are audited; the hash never leaves this table.
    history = HistoricalRecords(excluded_fields=["digest", "last_used_at"])

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"{self.name} ({self.user})"

    def touch(self, now: datetime | None = None) -> None:
        now = now or timezone.now()
        if self.last_used_at is None or now - self.last_used_at >= self.LAST_USED_RESOLUTION:
            self.last_used_at = now
            ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)


CHANGE_REQUEST_VALID_FOR = timedelta(days=30)


class ChangeRequest(EngagementScoped):
    """A change to the terms of an active engagement, asked by one side; it applies when
    the other side accepts it (PRODUCT.md §7). The services live in
    relationships.change_requests; the request keeps the values it replaced."""

    class Subject(models.TextChoices):
        SLA = "sla", "SLA"
        GOAL = "goal", "Shared goal"
        SCORING_CONFIG = "scoring_config", "Scoring configuration"
        ENGAGEMENT = "engagement", "Check-in cadence and period kind"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"
        EXPIRED = "expired", "Expired"

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="change_requests"
    )
    subject = models.CharField(max_length=16, choices=Subject.choices)
    # The SLA or goal changed; for a new one, set when it is accepted (and so created).
    sla = models.ForeignKey(
        SLA, null=True, blank=True, on_delete=models.CASCADE, related_name="change_requests"
    )
    goal = models.ForeignKey(
        "SharedGoal",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="change_requests",
    )
    # What the request changes, e.g. "sla:12", "sla-new:<name key>", "scoring_config":
    # at most one open request per thing.
    thing = models.CharField(max_length=NAME_KEY_LENGTH + 20)
    # Only the changed term fields, as JSON (decimals and dates as text, contacts by id).
    proposed = models.JSONField(default=dict)
    # The term fields of the thing when the request was made, and when it was accepted.
    current = models.JSONField(default=dict, blank=True)
    replaced = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_side = models.CharField(max_length=8, choices=Side.choices)
    requested_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(max_length=DECLINE_REASON_MAX, blank=True, default="")
    # The first day of the period in progress when it was accepted: it applies from there.
    applies_from = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "thing"],
                condition=Q(status="open"),
                name="one_open_change_request_per_thing",
                violation_error_message="There is already an open change request for this.",
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"], condition=Q(status="open"), name="change_request_open"
            ),
            models.Index(fields=["engagement", "status"]),
        ]

    def __str__(self):
        return f"Change request #{self.pk}: {self.subject_label}"

    def save(self, *args, **kwargs):
        if self.expires_at is None:
            self.expires_at = self.requested_at + CHANGE_REQUEST_VALID_FOR
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return f"{reverse('engagement-detail', args=[self.engagement_id])}#change-request-{self.pk}"

    @property
    def is_new(self) -> bool:
        """A request that creates an SLA or a goal, rather than changing one."""
        return "-new:" in self.thing

    @property
    def is_open(self) -> bool:
        """Open and not past its expiry, whether or not the expiry task has run."""
        return self.status == self.Status.OPEN and timezone.now() < self.expires_at

    @property
    def subject_label(self) -> str:
        if self.subject == self.Subject.SCORING_CONFIG:
            return "scoring configuration"
        if self.subject == self.Subject.ENGAGEMENT:
            return "check-in cadence and period kind"
        what, name_field = (
            ("SLA", "name")
            if self.subject == self.Subject.SLA
            else (
                "shared goal",
                "title",
            )
        )
        name = self.proposed.get(name_field) if self.is_new else self.current.get(name_field)
        return f"{'new ' if self.is_new else ''}{what} “{name}”"

    def changes(self) -> list[tuple[str, str, str]]:
        """(what, current, proposed) for display; current is the value when requested."""
        from relationships.terms import change_rows

        return change_rows(self.subject, self.current, self.proposed)

    def replaced_changes(self) -> list[tuple[str, str, str]]:
        """After acceptance: (what, replaced, accepted), the values it replaced."""
        from relationships.terms import change_rows

        if self.replaced is None:
            return []
        return change_rows(self.subject, self.replaced, self.proposed)

    # ---- who may do what: the one place, which the services call too
    def refusal(self, user, action: str, access: Access | None = None) -> str | None:
        """Why `user` may not `action` (accept, decline, withdraw, comment) this request
        now, or None if they may. `access`: the user's on the engagement, if known."""
        access = access or self.engagement.access_for(user)
        if not access.can_read:
            return REFUSALS["read"]
        if access.role not in WRITER_ROLES:
            return "Only managers and admins of the engagement's parties can do this."
        if access.status != Engagement.Status.ACTIVE:
            return f"This engagement is {access.status}; its change requests are closed."
        if not self.is_open:
            state = self.Status.EXPIRED if self.status == self.Status.OPEN else self.status
            return f"This change request is {state}, no longer open."
        own_side = access.side == self.requested_side
        if action in ("accept", "decline"):
            if own_side:
                return (
                    f"The {other_side(self.requested_side)} decides on a request of the "
                    f"{self.requested_side}; your side asked for this one."
                )
            if (
                action == "accept"
                and self.subject == self.Subject.SCORING_CONFIG
                and access.role != Role.ADMIN
            ):
                return "A change to the scoring configuration needs an admin of the other side."
        elif action == "withdraw" and not own_side:
            return "Only the side that asked for a change can withdraw it; decline it instead."
        return None

    def may_accept(self, user, access: Access | None = None) -> bool:
        return self.refusal(user, "accept", access) is None

    def may_decline(self, user, access: Access | None = None) -> bool:
        return self.refusal(user, "decline", access) is None

    def may_withdraw(self, user, access: Access | None = None) -> bool:
        return self.refusal(user, "withdraw", access) is None

    def may_comment(self, user, access: Access | None = None) -> bool:
        return self.refusal(user, "comment", access) is None


CHANGE_REQUEST_COMMENT_MAX = 5000


class ChangeRequestComment(EngagementScoped):
    engagement_path = "change_request__engagement"

    change_request = models.ForeignKey(
        ChangeRequest, on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    side = models.CharField(max_length=8, choices=Side.choices)
    body = models.TextField(max_length=CHANGE_REQUEST_COMMENT_MAX)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["change_request", "created_at", "id"]

    def __str__(self):
        return f"Comment on change request #{self.change_request_id}"
