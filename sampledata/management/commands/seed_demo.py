"""A small, realistic demo: four organisations, five engagements, six to nine months of history.

    python manage.py seed_demo

Lumen Retail is the client of two providers (Bluefin IT Services, Cobalt Data
Works); Cobalt is in turn the client of Arcadia Cloud Hosting. Every record is
written through the same services the dashboard and the API use, so the demo
obeys the product's rules. Deterministic for a given day (random.Random(42),
dates relative to today); idempotent: when the demo exists, it only prints
the logins again. It runs in one transaction, so a failure leaves nothing half made.
"""

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from feedback import services as feedback_services
from feedback.models import PULSE_FIELDS, Feedback
from relationships.measurements import MeasurementRow, measurements_import
from relationships.models import (
    SLA,
    Engagement,
    GoalProgress,
    KeyContact,
    Membership,
    Organization,
    Role,
    SharedGoal,
    Side,
    other_side,
)
from relationships.services import (
    engagement_accept,
    engagement_propose,
    invitation_accept,
    organization_create,
)

PASSWORD = "accord-demo-2026"
# The demo's marker: when this organisation exists, the demo is already there.
MARKER_ORGANIZATION = "Lumen Retail"

# Organisation name → (login prefix, [(role, first name, last name)]).
ORGANIZATIONS = {
    "Lumen Retail": (
        "lumen",
        [
            ("admin", "Maya", "Lindqvist"),
            ("manager", "Omar", "Haddad"),
            ("viewer", "Ines", "Costa"),
        ],
    ),
    "Bluefin IT Services": (
        "bluefin",
        [("admin", "Ravi", "Menon"), ("manager", "Sofia", "Brandt"), ("viewer", "Tom", "Okafor")],
    ),
    "Cobalt Data Works": (
        "cobalt",
        [("admin", "Lena", "Fischer"), ("manager", "Jun", "Park"), ("viewer", "Ada", "Nwosu")],
    ),
    "Arcadia Cloud Hosting": (
        "arcadia",
        [("admin", "Noah", "Reyes"), ("manager", "Priya", "Shah"), ("viewer", "Eli", "Novak")],
    ),
}


@dataclass(frozen=True)
class Profile:
    """How an engagement behaves: drives misses, openness, follow-through and moods."""

    name: str
    client: str
    provider: str
    phase: str
    period: str
    time_zone: str
    started_days_ago: int
    ends_in_days: int | None = None
    met: tuple[float, float] = (0.85, 0.85)  # chance an SLA is met: client, provider
    self_raised: tuple[float, float] = (0.7, 0.7)  # chance a side raises its own issue
    on_time: tuple[float, float] = (0.7, 0.7)  # chance a side completes an action on time
    mood: tuple[float, float] = (3.8, 3.8)  # mean pulse answer: client view, provider view
    checkin_lapse_days: int = 0  # no check-ins in this many recent days


PROFILES = (
    Profile(
        "Lumen · Bluefin service desk",
        "Lumen Retail",
        "Bluefin IT Services",
        phase=Engagement.Phase.ACTIVE,
        period="month",
        time_zone="Europe/London",
        started_days_ago=200,
        met=(0.9, 0.88),
        self_raised=(0.8, 0.85),
        on_time=(0.8, 0.85),
        mood=(4.2, 4.1),
    ),
    Profile(
        "Lumen · Cobalt data platform",
        "Lumen Retail",
        "Cobalt Data Works",
        phase=Engagement.Phase.EXPANDING,
        period="month",
        time_zone="America/New_York",
        started_days_ago=195,
        met=(0.85, 0.6),
        self_raised=(0.75, 0.35),
        on_time=(0.75, 0.45),
        # The perception gap: the client is far less happy than the provider thinks.
        mood=(1.9, 4.4),
    ),
    Profile(
        "Cobalt · Arcadia hosting",
        "Cobalt Data Works",
        "Arcadia Cloud Hosting",
        phase=Engagement.Phase.PILOT,
        period="week",
        time_zone="Asia/Singapore",
        started_days_ago=185,
        met=(0.7, 0.8),
        self_raised=(0.6, 0.6),
        on_time=(0.55, 0.65),
        mood=(3.2, 3.6),
        checkin_lapse_days=38,
    ),
    Profile(
        "Lumen · Bluefin legacy migration",
        "Lumen Retail",
        "Bluefin IT Services",
        phase=Engagement.Phase.WINDING_DOWN,
        period="quarter",
        time_zone="UTC",
        started_days_ago=290,
        ends_in_days=75,
        met=(0.8, 0.75),
        self_raised=(0.5, 0.7),
        on_time=(0.6, 0.7),
        mood=(3.4, 3.7),
    ),
)

# (owner side, name, unit, direction, target, weight, (met range), (missed range))
SLAS = (
    (
        Side.PROVIDER,
        "Availability",
        "%",
        "higher_is_better",
        "99.5",
        "2",
        (99.5, 99.99),
        (97.8, 99.4),
    ),
    (Side.PROVIDER, "P1 response", "minutes", "lower_is_better", "60", "1", (18, 60), (65, 150)),
    (
        Side.CLIENT,
        "Approvals within 2 business days",
        "%",
        "higher_is_better",
        "90",
        "1",
        (90, 100),
        (55, 89),
    ),
    (
        Side.CLIENT,
        "Knowledge-transfer sessions held",
        "sessions",
        "higher_is_better",
        "1",
        "1",
        (1, 3),
        (0, 0),
    ),
)

FEEDBACK = {
    Side.CLIENT: {
        "appreciation": [
            "The weekend cut-over went without a single ticket on Monday. Thank you.",
            "Your team flagged the certificate expiry two weeks ahead — exactly what we need.",
            "The new runbook made our on-call rotation much calmer.",
        ],
        "improvement": [
            (
                "Incident updates arrive in bursts instead of every 30 minutes.",
                "Post a status update every 30 minutes during P1s, even if nothing changed.",
            ),
            (
                "The monthly report mixes planned and unplanned downtime.",
                "Split planned and unplanned downtime into two rows in the report.",
            ),
        ],
    },
    Side.PROVIDER: {
        "appreciation": [
            "Approvals came back the same day all month; that kept the release on track.",
            "Thanks for joining the knowledge-transfer sessions with so many questions prepared.",
            "Your product owner's clear priorities made sprint planning quick.",
        ],
        "improvement": [
            (
                "Change requests arrive without acceptance criteria.",
                "Add acceptance criteria to every change request before it is sent.",
            ),
            (
                "Test data for UAT is usually two days late.",
                "Share the UAT data set at the sprint review, not at the start of UAT.",
            ),
        ],
    },
}

ISSUES = {
    Side.PROVIDER: [
        "Backup job silently skipped two nights",
        "P1 ticket sat unassigned over the weekend",
        "Patch window overran into business hours",
        "Monitoring alert routed to a departed engineer",
    ],
    Side.CLIENT: [
        "Firewall change approved a week late",
        "Requirements for the loyalty export changed after sign-off",
        "Test accounts were not provisioned before UAT",
        "Vendor access badge expired during the migration",
    ],
}


class Command(BaseCommand):
    help = "Create a small, realistic demo data set (idempotent) and print its logins."

    def handle(self, *args, **options):
        if Organization.objects.filter(name=MARKER_ORGANIZATION).exists():
            self.stdout.write("The demo data is already present; nothing changed.")
        else:
            with transaction.atomic():
                Demo(random.Random(42), timezone.now()).build()
            self.stdout.write(self.style.SUCCESS("Demo data created."))
            # The current, previous and any missing recent periods, as the nightly run does.
            call_command("compute_scorecards", "--sync", stdout=self.stdout)
        self.print_logins()

    def print_logins(self):
        self.stdout.write(f"\nEvery demo login uses the password: {PASSWORD}")
        self.stdout.write("  admin  (superuser, Django admin at /admin/)")
        for organization, (prefix, people) in ORGANIZATIONS.items():
            logins = ", ".join(f"{prefix}-{role}" for role, _, _ in people)
            self.stdout.write(f"  {organization}: {logins}")


class Demo:
    def __init__(self, rng: random.Random, now: datetime):
        self.rng = rng
        self.now = now
        # Everything happened at least an hour ago, whatever the engagement's time zone.
        self.latest = now - timedelta(hours=1)
        self.today = now.date()
        self.people: dict[str, dict[str, object]] = {}  # organisation → role → user
        # Every demo login shares the password: hashing it once saves seconds.
        self.password_hash = make_password(PASSWORD)

    def build(self):
        User = get_user_model()
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@demo.accord.example", PASSWORD)
        for name in ORGANIZATIONS:
            self.people[name] = self.users(name)
        # Lumen signs up; every other organisation joins Accord when a client proposes
        # to it, as in the product: the proposal invites its admin by e-mail (kept in
        # memory here, not sent), who follows the link.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            mail.outbox = []
            organizations = {MARKER_ORGANIZATION: self.organization(MARKER_ORGANIZATION)}
            for profile in PROFILES:
                self.engagement(profile, organizations)
        # A proposal waiting for Arcadia's admin, to show acceptance: from Cobalt, which
        # already works with Arcadia (a proposal goes only to such a counterpart, or to
        # a new organisation invited by e-mail).
        engagement_propose(
            proposer=self.people["Cobalt Data Works"][Role.ADMIN],
            own_organization=organizations["Cobalt Data Works"],
            own_side=Side.CLIENT,
            counterpart=organizations["Arcadia Cloud Hosting"],
            name="Cobalt · Arcadia disaster-recovery site",
            phase=Engagement.Phase.PILOT,
            start_date=self.today + timedelta(days=30),
        )

    # ---------------------------------------------------------------- parties
    def users(self, name: str) -> dict[str, object]:
        prefix, people = ORGANIZATIONS[name]
        User = get_user_model()
        users = {}
        for role, first, last in people:
            user = User(
                username=f"{prefix}-{role}",
                first_name=first,
                last_name=last,
                email=f"{first.lower()}.{last.lower()}@{prefix}.demo.accord.example",
            )
            user.password = self.password_hash
            user.save()
            users[role] = user
        return users

    def organization(self, name: str) -> Organization:
        """An organisation its admin creates on Accord, with its other members."""
        users = self.people[name]
        organization = organization_create(name=name, creator=users[Role.ADMIN])
        self.add_members(organization, users)
        return organization

    def add_members(self, organization: Organization, users: dict[str, object]):
        Membership.objects.bulk_create(
            Membership(user=users[role], organization=organization, role=role)
            for role in (Role.MANAGER, Role.VIEWER)
        )

    def engagement(self, profile: Profile, organizations: dict[str, Organization]):
        client, provider = self.people[profile.client], self.people[profile.provider]
        start = self.today - timedelta(days=profile.started_days_ago)
        known = organizations.get(profile.provider)
        engagement = engagement_propose(
            proposer=client[Role.ADMIN],
            own_organization=organizations[profile.client],
            own_side=Side.CLIENT,
            # A counterpart the client works with by id; a new one by name, inviting its admin.
            counterpart=known,
            counterpart_name="" if known else profile.provider,
            counterpart_admin_email="" if known else provider[Role.ADMIN].email,
            name=profile.name,
            phase=profile.phase,
            start_date=start,
            end_date=self.today + timedelta(days=profile.ends_in_days)
            if profile.ends_in_days
            else None,
            time_zone=profile.time_zone,
            scorecard_period=profile.period,
        )
        if known is None:
            token = re.search(r"/invitations/([^/\s]+)/", mail.outbox[-1].body)[1]
            invitation_accept(raw_token=token, user=provider[Role.ADMIN])
            self.add_members(engagement.provider, provider)
            organizations[profile.provider] = engagement.provider
        engagement = engagement_accept(engagement=engagement, user=provider[Role.ADMIN])
        sides = {Side.CLIENT: client, Side.PROVIDER: provider}
        contacts = self.contacts(engagement, sides, start)
        slas = self.slas(engagement, profile, sides)
        self.goals(engagement, contacts, provider[Role.MANAGER])
        # History from the start, so every period of the engagement has data.
        self.checkins(engagement, profile, sides, start)
        self.feedback(engagement, sides, slas, start)
        self.issues(engagement, profile, sides, start)
        self.pulse(engagement, profile, sides)

    def contacts(self, engagement, sides, start) -> dict[str, KeyContact]:
        def contact(side, user, role, since, until=None, name=""):
            return KeyContact.objects.create(
                engagement=engagement,
                side=side,
                user=user,
                name=name or user.get_full_name(),
                email=user.email if user else "",
                role=role,
                start_date=since,
                end_date=until,
            )

        roles = KeyContact.ContactRole
        stewards = {}
        for side, users in sides.items():
            contact(side, users[Role.ADMIN], roles.EXECUTIVE_SPONSOR, start)
            stewards[side] = contact(side, users[Role.MANAGER], roles.RELATIONSHIP_STEWARD, start)
        contact(Side.PROVIDER, sides[Side.PROVIDER][Role.VIEWER], roles.DELIVERY_LEAD, start)
        # A change of key contact, kept as history: the first delivery lead moved on.
        handover = start + (self.today - start) / 2
        contact(
            Side.PROVIDER,
            None,
            roles.TECHNICAL_LEAD,
            start,
            until=handover,
            name="Dana Whitfield",
        )
        return stewards

    # ---------------------------------------------------------------- agreements
    def slas(self, engagement, profile, sides) -> list[SLA]:
        slas = []
        for side, name, unit, direction, target, weight, met, missed in SLAS:
            sla = SLA.objects.create(
                engagement=engagement,
                owner_side=side,
                name=name,
                unit=unit,
                direction=direction,
                target=Decimal(target),
                weight=Decimal(weight),
            )
            slas.append((sla, met, missed))
        start = engagement.start_date
        first_monday = start + timedelta(days=-start.weekday() % 7)
        for side in Side.values:
            chance = profile.met[0 if side == Side.CLIENT else 1]
            rows = [
                MeasurementRow(
                    sla_id=sla.pk,
                    period_start=week,
                    period_end=week + timedelta(days=6),
                    value=self.value(met if self.rng.random() < chance else missed, unit=sla.unit),
                    source="monitoring" if side == Side.PROVIDER else "service portal",
                )
                for sla, met, missed in slas
                if sla.owner_side == side
                for week in self.weeks(first_monday)
            ]
            measurements_import(
                rows=rows, actor=sides[side][Role.MANAGER], source="demo weekly export"
            )
        # One correction, so the measurement history shows how corrections are kept.
        availability = slas[0][0]
        latest = availability.measurements.current().order_by("-period_start").first()
        measurements_import(
            rows=[
                MeasurementRow(
                    availability.pk,
                    latest.period_start,
                    latest.period_end,
                    latest.value - Decimal("0.05"),
                    "monitoring (corrected)",
                )
            ],
            actor=sides[Side.PROVIDER][Role.MANAGER],
            source="manual correction",
        )
        return [sla for sla, _, _ in slas]

    def weeks(self, monday: date) -> Iterator[date]:
        while monday + timedelta(days=6) < self.today:
            yield monday
            monday += timedelta(days=7)

    def value(self, bounds: tuple[float, float], unit: str) -> Decimal:
        low, high = bounds
        if unit == "sessions":
            return Decimal(self.rng.randint(int(low), int(high)))
        return Decimal(str(round(self.rng.uniform(low, high), 2)))

    def goals(self, engagement, stewards, reporter):
        today = self.today
        # (title, start, due, achieved on, progress points as (days ago, percent))
        goals = (
            (
                "Move the service desk to the new ticketing tool",
                -170,
                -40,
                -45,
                ((140, 20), (100, 55), (60, 90)),
            ),
            ("Cut P1 incidents by half", -120, 60, None, ((90, 5), (60, 12), (20, 20))),
            ("Self-service password resets for all stores", -80, 100, None, ((50, 25), (15, 45))),
            ("Shared capacity plan for next year", 20, 200, None, ()),
        )
        for title, start, due, achieved, progress in goals:
            goal = SharedGoal.objects.create(
                engagement=engagement,
                title=title,
                target="Agreed by both steering groups",
                start_date=today + timedelta(days=start),
                due_date=today + timedelta(days=due),
                achieved_on=today + timedelta(days=achieved) if achieved is not None else None,
                client_contact=stewards[Side.CLIENT],
                provider_contact=stewards[Side.PROVIDER],
            )
            GoalProgress.objects.bulk_create(
                GoalProgress(
                    goal=goal,
                    date=today - timedelta(days=days_ago),
                    percent=percent,
                    note=f"{percent}% done",
                    reporter=reporter,
                )
                for days_ago, percent in progress
            )

    # ---------------------------------------------------------------- what happened
    def moment(self, engagement, day: date, hour: int) -> datetime | None:
        """A local time on `day`, or None if it has not happened yet."""
        moment = timezone.make_aware(
            datetime.combine(day, time(hour, self.rng.choice((0, 15, 30, 45)))), engagement.tz
        )
        return moment if moment <= self.latest else None

    def checkins(self, engagement, profile, sides, start):
        last_day = self.today - timedelta(days=profile.checkin_lapse_days + 1)
        attendees = [sides[Side.CLIENT][Role.MANAGER], sides[Side.PROVIDER][Role.MANAGER]]
        contacts = list(engagement.contacts.filter(end_date__isnull=True))
        day, count = start + timedelta(days=self.rng.randint(0, 3)), 0
        while day <= last_day:
            occurred_at = self.moment(engagement, day, self.rng.randint(9, 16))
            if occurred_at and self.rng.random() < 0.9:
                count += 1
                kind = "review" if count % 4 == 0 else "executive" if count % 13 == 0 else "sync"
                items = []
                if kind == "review":
                    items = [
                        {
                            "owner_side": side,
                            "description": f"Follow up on the {kind} notes ({side})",
                            "due_date": day + timedelta(days=14),
                            "owner": sides[side][Role.MANAGER],
                        }
                        for side in Side.values
                    ]
                checkin = feedback_services.checkin_log(
                    engagement=engagement,
                    user=sides[Side.PROVIDER][Role.MANAGER],
                    occurred_at=occurred_at,
                    kind=kind,
                    notes=f"{kind.title()} meeting: open tickets, upcoming changes, risks.",
                    attendee_users=attendees,
                    attendee_contacts=contacts,
                    action_items=items,
                )
                self.follow_through(engagement, profile, sides, checkin.action_items.all())
            if self.rng.random() < 0.25:
                informal = self.moment(engagement, day + timedelta(days=2), 12)
                if informal and day + timedelta(days=2) <= last_day:
                    feedback_services.checkin_log(
                        engagement=engagement,
                        user=sides[Side.CLIENT][Role.MANAGER],
                        occurred_at=informal,
                        kind="informal",
                        notes="Lunch with the delivery team.",
                    )
            day += timedelta(days=engagement.checkin_cadence_days + self.rng.choice((-1, 0, 0, 1)))

    def follow_through(self, engagement, profile, sides, items):
        """Complete items on time, late or not at all, as the side's habits say."""
        for item in items:
            roll = self.rng.random()
            on_time = profile.on_time[0 if item.owner_side == Side.CLIENT else 1]
            user = sides[item.owner_side][Role.MANAGER]
            if roll < 0.05:
                feedback_services.action_item_cancel(item=item, user=user)
                continue
            if roll < on_time:
                day = item.due_date - timedelta(days=self.rng.randint(0, 5))
            elif roll < on_time + (1 - on_time) / 2:
                day = item.due_date + timedelta(days=self.rng.randint(2, 12))
            else:
                continue  # still open
            completed_at = self.moment(engagement, day, 17)
            if completed_at:
                feedback_services.action_item_complete(
                    item=item, user=user, completed_at=completed_at
                )

    def feedback(self, engagement, sides, slas, start):
        day = start + timedelta(days=3)
        while True:
            created_at = self.moment(engagement, day, self.rng.randint(9, 17))
            if created_at is None:
                break
            side = self.rng.choice(Side.values)
            kind = "appreciation" if self.rng.random() < 0.6 else "improvement"
            texts = FEEDBACK[side][kind]
            text, suggestion = (
                (self.rng.choice(texts), "") if kind == "appreciation" else self.rng.choice(texts)
            )
            # Backdated, so written as a record (the service stamps "now"), after the
            # same validation the service runs.
            feedback = Feedback(
                engagement=engagement,
                author=sides[side][Role.MANAGER],
                from_side=side,
                kind=kind,
                text=text,
                suggested_action=suggestion,
                sla=self.rng.choice(slas) if self.rng.random() < 0.3 else None,
                created_at=created_at,
            )
            feedback.set_local_dates()
            feedback.full_clean()
            feedback.save()
            day += timedelta(days=self.rng.randint(7, 16))

    def issues(self, engagement, profile, sides, start):
        day = start + timedelta(days=self.rng.randint(2, 8))
        while day < self.today:
            responsible = Side.PROVIDER if self.rng.random() < 0.6 else Side.CLIENT
            index = 0 if responsible == Side.CLIENT else 1
            raised_by_self = self.rng.random() < profile.self_raised[index]
            raiser = responsible if raised_by_self else other_side(responsible)
            detected_at = self.moment(engagement, day, self.rng.randint(8, 12))
            # Owned problems are shared within hours; others are found days later.
            lag = (
                timedelta(hours=self.rng.randint(1, 20))
                if raised_by_self
                else timedelta(days=self.rng.randint(2, 9))
            )
            if detected_at is None or detected_at + lag > self.latest:
                break
            issue = feedback_services.issue_raise(
                engagement=engagement,
                user=sides[raiser][Role.MANAGER],
                title=self.rng.choice(ISSUES[responsible]),
                description="Found during routine operations.",
                severity=self.rng.choice(("low", "medium", "high", "critical")),
                responsible_side=responsible,
                detected_at=detected_at,
                raised_at=detected_at + lag,
            )
            resolved_at = issue.raised_at + timedelta(days=self.rng.randint(1, 12))
            if resolved_at <= self.latest:
                feedback_services.issue_resolve(
                    issue=issue, user=sides[responsible][Role.MANAGER], resolved_at=resolved_at
                )
            if issue.severity in ("high", "critical"):
                self.review(engagement, profile, sides, issue)
            day += timedelta(days=self.rng.randint(10, 22))

    def review(self, engagement, profile, sides, issue):
        review = feedback_services.review_create(
            issue=issue,
            user=sides[issue.responsible_side][Role.MANAGER],
            summary="What each of us will do so this does not happen again.",
        )
        raised_on = engagement.local_date(issue.raised_at)
        items = [
            feedback_services.action_item_add(
                engagement=engagement,
                user=sides[side][Role.MANAGER],
                owner_side=side,
                owner=sides[side][Role.MANAGER],
                description=description,
                due_date=raised_on + timedelta(days=self.rng.randint(7, 21)),
                review=review,
            )
            for side, description in (
                (issue.responsible_side, "Add a check to the runbook and rehearse it"),
                (
                    other_side(issue.responsible_side),
                    "Tell the other side as soon as we notice symptoms",
                ),
            )
        ]
        self.follow_through(engagement, profile, sides, items)

    def pulse(self, engagement, profile, sides):
        # The survey period is the engagement's, so it starts by its local date.
        today = engagement.local_date(self.now)
        period = engagement.current_period(today)
        for _ in range(3):
            day = min(period.end, today)
            for side, users in sides.items():
                mood = profile.mood[0 if side == Side.CLIENT else 1]
                for user in users.values():
                    feedback_services.pulse_submit(
                        engagement=engagement, user=user, answers=self.answers(mood), today=day
                    )
            period = period.previous()
        # Someone changed their mind this period: the first answer is kept, superseded.
        feedback_services.pulse_submit(
            engagement=engagement,
            user=sides[Side.CLIENT][Role.VIEWER],
            answers=self.answers(profile.mood[0]),
            today=today,
        )

    def answers(self, mood: float) -> dict[str, int]:
        return {field: min(5, max(1, round(self.rng.gauss(mood, 0.6)))) for field in PULSE_FIELDS}
