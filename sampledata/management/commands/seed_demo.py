"""A small, realistic demo that runs to today: four organisations, four engagements with
six to nine months of history, and a proposal awaiting acceptance.

    python manage.py seed_demo

Lumen Retail is the client of two providers (Bluefin IT Services, Cobalt Data
Works); Cobalt is in turn the client of Arcadia Cloud Hosting. Each engagement has
its own SLAs, goals, issues and feedback (sampledata.demo_content). Records run up
to yesterday in each engagement's time zone, so the period in progress has partial
data; every period since each engagement's start is scored, final once closed and
provisional before (PRODUCT.md §6); the latest closed period is signed by one side
and awaits the other, and earlier ones are signed (one disputed).

Every record is written through the same services the dashboard and the API use,
so the demo obeys the product's rules. Deterministic for a given moment
(random.Random(42), dates relative to each engagement's today); idempotent: when the
demo exists, it only prints the guide again. It runs in one transaction, so a
failure leaves nothing half made.
"""

import logging
import random
import re
from collections import deque
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from django.test.utils import override_settings
from django.utils import timezone

from feedback import services as feedback_services
from feedback.models import PULSE_FIELDS, Feedback
from notices.models import Notice
from notices.scans import notices_scan
from relationships.change_requests import (
    change_request_comment,
    change_request_decline,
    terms_change,
)
from relationships.disputes import measurement_dispute
from relationships.measurements import MeasurementRow, measurement_record, measurements_import
from relationships.models import (
    SLA,
    ChangeRequest,
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
from relationships.periods import CLOSED, IN_PROGRESS, Period, period_starting
from relationships.services import (
    engagement_accept,
    engagement_propose,
    invitation_accept,
    organization_create,
)
from sampledata.demo_content import (
    AGREEMENT,
    DECLINED_WEIGHTS,
    DISPUTED_VALUE,
    ORGANIZATIONS,
    PROFILES,
    PROPOSAL,
    SIGN_COMMENTS,
    SURVEY_TEXTS,
    TARGET_REQUEST,
    Profile,
)
from scorecards.models import Scorecard, ScorecardReview, ScorecardRun
from scorecards.runs import create_runs, run_in_process
from scorecards.services import alert_acknowledge, scorecard_review

PASSWORD = "accord-demo-2026"
# The demo's marker: when this organisation exists, the demo is already there.
MARKER_ORGANIZATION = "Lumen Retail"


class Command(BaseCommand):
    help = (
        "Create a small, realistic demo data set up to yesterday (idempotent), score every "
        "period of it and print its logins."
    )

    def handle(self, *args, **options):
        if Organization.objects.filter(name=MARKER_ORGANIZATION).exists():
            self.stdout.write("The demo data is already present; nothing changed.")
        else:
            with transaction.atomic():
                demo = Demo(random.Random(42), timezone.now())
                demo.build()
                compute_every_period()
                demo.sign_off()
                demo.settle_alerts()
                leave_notices()
            final, provisional = (
                Scorecard.objects.filter(status=status).count()
                for status in (Scorecard.Status.FINAL, Scorecard.Status.PROVISIONAL)
            )
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo data created: every period since each engagement started is "
                    f"scored ({final} final, {provisional} provisional)."
                )
            )
        self.print_guide()

    def print_guide(self):
        """The logins with the organisation and side of each, and what awaits whom."""
        self.stdout.write(f"\nEvery demo login uses the password: {PASSWORD}")
        self.stdout.write(f"  {'admin':<16} — superuser, the Django admin at /admin/")
        for name, (prefix, people) in ORGANIZATIONS.items():
            organization = Organization.objects.filter(name=name).first()
            if organization is None:
                continue
            parties = parties_of(organization)
            for role, first, last in people:
                self.stdout.write(
                    f"  {f'{prefix}-{role}':<16} — {name} ({parties}) {role}, {first} {last}"
                )
        self.stdout.write("\nEngagements (client → provider):")
        for engagement in demo_engagements():
            self.stdout.write(f"  {engagement.name}: {engagement.client} → {engagement.provider}")
            self.stdout.write(f"    {awaiting(engagement)}")


def parties_of(organization: Organization) -> str:
    """ "client", "provider", or both with the counterparts: the side each login acts on."""
    engagements = (
        Engagement.objects.filter(Q(client=organization) | Q(provider=organization))
        .exclude(status=Engagement.Status.ARCHIVED)
        .select_related("client", "provider")
    )
    as_client = sorted({e.provider.name for e in engagements if e.client_id == organization.pk})
    as_provider = sorted({e.client.name for e in engagements if e.provider_id == organization.pk})
    if as_client and as_provider:
        return f"provider to {', '.join(as_provider)}; client of {', '.join(as_client)}"
    return "client" if as_client else "provider"


def demo_engagements():
    names = [profile.name for profile in PROFILES] + [PROPOSAL[2]]
    return (
        Engagement.objects.filter(name__in=names)
        .exclude(status=Engagement.Status.ARCHIVED)
        .select_related("client", "provider")
        .order_by("pk")
    )


def logins_of(engagement: Engagement, side: str, roles=(Role.ADMIN, Role.MANAGER)) -> str:
    usernames = Membership.objects.filter(
        organization_id=engagement.organization_id_of(side), role__in=roles
    ).values_list("user__username", flat=True)
    return " or ".join(sorted(usernames))


def awaiting(engagement: Engagement) -> str:
    """What the engagement awaits today, and from whom."""
    if engagement.status == Engagement.Status.PROPOSED:
        side = other_side(engagement.proposed_by_side)
        return (
            f"Proposed by {engagement.organization_of(engagement.proposed_by_side)}; awaits "
            f"acceptance by {engagement.organization_of(side)}'s admin: "
            f"{logins_of(engagement, side, roles=(Role.ADMIN,))}."
        )
    period = engagement.latest_closed_period()
    scorecard = engagement.scorecards.filter(
        period_kind=period.kind, period_start=period.start
    ).first()
    if scorecard is None or not scorecard.is_final:
        # A demo seeded before the period closed, served without the nightly run.
        return (
            f"{period.title} has closed; its final scorecard comes with the next run "
            "(python manage.py compute_scorecards --sync)."
        )
    signed = set(
        scorecard.reviews.filter(
            stale_at__isnull=True, decision=ScorecardReview.Decision.SIGNED
        ).values_list("side", flat=True)
    )
    if scorecard.is_frozen:
        return f"{period.title}, the latest closed period, is signed by both sides."
    waiting = [side for side in Side.values if side not in signed]
    who = "; ".join(
        f"the {side} ({engagement.organization_of(side)}): {logins_of(engagement, side)}"
        for side in waiting
    )
    done = f"signed by the {signed.pop()} and " if signed else ""
    return f"{period.title}, the latest closed period, is {done}awaiting {who}."


def compute_every_period() -> None:
    """Score every period of each active engagement since its start, oldest first (each
    period's trend reads the one before), as runs of the command, in this process."""
    wanted: dict[tuple[str, date], list[int]] = {}
    for engagement in Engagement.objects.filter(status=Engagement.Status.ACTIVE).order_by("pk"):
        for period in engagement.periods():
            wanted.setdefault((period.kind, period.start), []).append(engagement.pk)
    # Celery logs each task it runs; the command prints a summary instead.
    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
    for run in create_runs(wanted, trigger=ScorecardRun.Trigger.COMMAND, dispatch=False):
        deque(run_in_process(run), maxlen=0)
        run.refresh_from_db()
        if run.status != ScorecardRun.Status.SUCCEEDED:
            raise CommandError(f"Scoring {run.period_kind} from {run.period_start}: {run.error}")


def leave_notices() -> None:
    """The demo's inboxes: the notices its runs and change requests raised, and what the
    daily scans find today (action items due, check-ins slipping, the survey open). Kept
    in the inbox only: the demo e-mails nobody."""
    notices_scan()
    Notice.objects.filter(emailed_at__isnull=True).update(email_skipped="demo")


class Demo:
    def __init__(self, rng: random.Random, now: datetime):
        self.rng = rng
        self.now = now
        self.people: dict[str, dict[str, object]] = {}  # organisation → role → user
        self.engagements: list[tuple[Profile, Engagement]] = []
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
                self.engagements.append((profile, self.engagement(profile, organizations)))
        self.agreement(next(e for p, e in self.engagements if p is AGREEMENT))
        # A proposal waiting for the counterpart's admin, to show acceptance: from an
        # organisation that already works with it (a proposal goes only to such a
        # counterpart, or to a new organisation invited by e-mail).
        proposer, counterpart, name, phase, starts_in_days = PROPOSAL
        engagement_propose(
            proposer=self.people[proposer][Role.ADMIN],
            own_organization=organizations[proposer],
            own_side=Side.CLIENT,
            counterpart=organizations[counterpart],
            name=name,
            phase=phase,
            start_date=self.now.date() + timedelta(days=starts_in_days),
        )

    def agreement(self, engagement: Engagement) -> None:
        """Terms under discussion and a disputed value (demo_content.AGREEMENT)."""
        client, provider = (
            self.people[engagement.organization_of(side).name] for side in Side.values
        )
        name, target, comment = TARGET_REQUEST
        asked = terms_change(
            engagement=engagement,
            user=client[Role.MANAGER],
            subject=ChangeRequest.Subject.SLA,
            sla=engagement.slas.get(name=name),
            values={"target": target},
        ).change_request
        change_request_comment(change_request=asked, user=provider[Role.MANAGER], body=comment)
        weights, reason = DECLINED_WEIGHTS
        asked = terms_change(
            engagement=engagement,
            user=provider[Role.ADMIN],
            subject=ChangeRequest.Subject.SCORING_CONFIG,
            values={"weights": weights},
        ).change_request
        change_request_decline(change_request=asked, user=client[Role.ADMIN], reason=reason)
        name, value, source, reason = DISPUTED_VALUE
        sla = engagement.slas.get(name=name)
        day = engagement.latest_closed_period(self.today(engagement)).end
        monitored = sla.measurements.current().get(period_start=day).value
        recorded = measurement_record(
            sla=sla,
            period_start=day,
            period_end=day,
            value=Decimal(value),
            source=source,
            user=client[Role.MANAGER],
        )
        measurement_dispute(
            measurement=recorded,
            user=provider[Role.MANAGER],
            reason=reason,
            corrected_value=monitored,
        )

    # ---------------------------------------------------------------- the calendar
    def today(self, engagement: Engagement) -> date:
        return engagement.local_date(self.now)

    def moment(self, engagement, day: date, hour: int) -> datetime | None:
        """A local time on `day`, or None unless it was before today (the demo runs up to
        yesterday in the engagement's time zone)."""
        moment = timezone.make_aware(
            datetime.combine(day, time(hour, self.rng.choice((0, 15, 30, 45)))), engagement.tz
        )
        return moment if moment < engagement.start_of(self.today(engagement)) else None

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

    def engagement(self, profile: Profile, organizations: dict[str, Organization]) -> Engagement:
        client, provider = self.people[profile.client], self.people[profile.provider]
        today = timezone.localtime(self.now, ZoneInfo(profile.time_zone)).date()
        start = today - timedelta(days=profile.started_days_ago)
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
            end_date=today + timedelta(days=profile.ends_in_days) if profile.ends_in_days else None,
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
        goals = self.goals(engagement, profile, contacts, provider[Role.MANAGER])
        # History from the start, so every period of the engagement has data.
        self.checkins(engagement, profile, sides, start)
        self.feedback(engagement, profile, sides, slas, goals, start)
        self.issues(engagement, profile, sides, start)
        self.pulse(engagement, profile, sides)
        return engagement

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
        # A change of key contact, kept as history: the first technical lead moved on.
        handover = start + (self.today(engagement) - start) / 2
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
    def slas(self, engagement, profile: Profile, sides) -> list[SLA]:
        slas = [
            SLA.objects.create(
                engagement=engagement,
                owner_side=spec.owner_side,
                name=spec.name,
                unit=spec.unit,
                direction=spec.direction,
                target=Decimal(spec.target),
                weight=Decimal(spec.weight),
            )
            for spec in profile.slas
        ]
        today = self.today(engagement)
        for side in Side.values:
            chance = profile.met[0 if side == Side.CLIENT else 1]
            rows = [
                MeasurementRow(
                    sla_id=sla.pk,
                    period_start=first,
                    period_end=last,
                    value=self.value(spec.met if self.rng.random() < chance else spec.missed),
                    source=spec.source,
                )
                for sla, spec in zip(slas, profile.slas, strict=True)
                if spec.owner_side == side
                for first, last in self.measured_spans(spec.every, engagement.start_date, today)
            ]
            measurements_import(
                rows=rows, actor=sides[side][Role.MANAGER], source="demo monitoring export"
            )
        # One correction, so the measurement history shows how corrections are kept.
        first = slas[0]
        latest = first.measurements.current().order_by("-period_start").first()
        measurements_import(
            rows=[
                MeasurementRow(
                    first.pk,
                    latest.period_start,
                    latest.period_end,
                    latest.value - Decimal("0.05"),
                    f"{profile.slas[0].source} (corrected)",
                )
            ],
            actor=sides[first.owner_side][Role.MANAGER],
            source="manual correction",
        )
        return slas

    @staticmethod
    def measured_spans(every: str, start: date, today: date) -> Iterator[tuple[date, date]]:
        """(first, last day) of each day, or each Monday-to-Sunday week, from the engagement's
        start that ended before today."""
        if every == "week":
            start += timedelta(days=-start.weekday() % 7)  # the first Monday
        length = timedelta(days=7 if every == "week" else 1)
        while start + length <= today:
            yield start, start + length - timedelta(days=1)
            start += length

    def value(self, bounds: tuple[float, float]) -> Decimal:
        low, high = bounds
        if isinstance(low, int) and isinstance(high, int):
            return Decimal(self.rng.randint(low, high))
        return Decimal(str(round(self.rng.uniform(low, high), 2)))

    def goals(self, engagement, profile: Profile, stewards, reporter) -> list[SharedGoal]:
        today = self.today(engagement)
        goals = []
        for spec in profile.goals:
            goal = SharedGoal.objects.create(
                engagement=engagement,
                title=spec.title,
                target=spec.target,
                start_date=today + timedelta(days=spec.start),
                due_date=today + timedelta(days=spec.due),
                achieved_on=today + timedelta(days=spec.achieved)
                if spec.achieved is not None
                else None,
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
                for days_ago, percent in spec.progress
            )
            goals.append(goal)
        return goals

    # ---------------------------------------------------------------- what happened
    def checkins(self, engagement, profile: Profile, sides, start):
        last_day = self.today(engagement) - timedelta(days=profile.checkin_lapse_days + 1)
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

    def follow_through(self, engagement, profile: Profile, sides, items):
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

    def feedback(self, engagement, profile: Profile, sides, slas, goals, start):
        day = start + timedelta(days=3)
        while True:
            created_at = self.moment(engagement, day, self.rng.randint(9, 17))
            if created_at is None:
                break
            side = self.rng.choice(Side.values)
            kind = "appreciation" if self.rng.random() < 0.6 else "improvement"
            texts = profile.feedback[side][kind]
            text, suggestion = (
                (self.rng.choice(texts), "") if kind == "appreciation" else self.rng.choice(texts)
            )
            about = self.rng.random()
            # Backdated, so written as a record (the service stamps "now"), after the
            # same validation the service runs.
            feedback = Feedback(
                engagement=engagement,
                author=sides[side][Role.MANAGER],
                from_side=side,
                kind=kind,
                text=text,
                suggested_action=suggestion,
                sla=self.rng.choice(slas) if about < 0.3 else None,
                goal=self.rng.choice(goals[:3]) if 0.3 <= about < 0.45 else None,
                created_at=created_at,
            )
            feedback.set_local_dates()
            feedback.full_clean()
            feedback.save()
            day += timedelta(days=self.rng.randint(7, 16))

    def issues(self, engagement, profile: Profile, sides, start):
        day = start + timedelta(days=self.rng.randint(2, 8))
        cutoff = engagement.start_of(self.today(engagement))
        while day < self.today(engagement):
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
            if detected_at is None or detected_at + lag >= cutoff:
                break
            issue = feedback_services.issue_raise(
                engagement=engagement,
                user=sides[raiser][Role.MANAGER],
                title=self.rng.choice(profile.issues[responsible]),
                description="Found during routine operations.",
                severity=self.rng.choice(("low", "medium", "high", "critical")),
                responsible_side=responsible,
                detected_at=detected_at,
                raised_at=detected_at + lag,
            )
            resolved_at = issue.raised_at + timedelta(days=self.rng.randint(1, 12))
            if resolved_at < cutoff:
                feedback_services.issue_resolve(
                    issue=issue, user=sides[responsible][Role.MANAGER], resolved_at=resolved_at
                )
            if issue.severity in ("high", "critical"):
                self.review(engagement, profile, sides, issue)
            day += timedelta(days=self.rng.randint(10, 22))

    def review(self, engagement, profile: Profile, sides, issue):
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

    def pulse(self, engagement, profile: Profile, sides):
        """Everyone answered the survey of each period before it closed; in the period in
        progress only the managers have, so far. The client manager changed their mind once
        (the first answer is kept, superseded). Besides the six statements people predict
        the other side's ratings, recommend (or not) and leave a few texts."""
        yesterday = self.today(engagement) - timedelta(days=1)
        changed_mind = False
        for period in engagement.periods():
            if period.start > yesterday:
                continue  # begun today: nobody has answered yet
            in_progress = engagement.period_state(period) == IN_PROGRESS
            roles = (Role.MANAGER,) if in_progress else (Role.ADMIN, Role.MANAGER, Role.VIEWER)
            day = min(period.end, yesterday)
            ratings = {
                side: [self.answers(profile.mood[0 if side == Side.CLIENT else 1]) for _ in roles]
                for side in sides
            }
            # The survey's extra answers draw on their own generator, so that the rest of
            # the demo is the same as before they existed.
            extras = random.Random(f"{profile.name}|{period.start}")
            for side, users in sides.items():
                for role, answers in zip(roles, ratings[side], strict=True):
                    feedback_services.pulse_submit(
                        engagement=engagement,
                        user=users[role],
                        answers={
                            **answers,
                            **self.survey_extras(
                                extras, profile, side, ratings[other_side(side)], answers
                            ),
                        },
                        today=day,
                    )
            if not changed_mind:
                feedback_services.pulse_submit(
                    engagement=engagement,
                    user=sides[Side.CLIENT][Role.MANAGER],
                    answers=self.answers(profile.mood[0]),
                    today=day,
                )
                changed_mind = True

    def answers(self, mood: float) -> dict[str, int]:
        return {field: min(5, max(1, round(self.rng.gauss(mood, 0.6)))) for field in PULSE_FIELDS}

    @staticmethod
    def survey_extras(rng, profile: Profile, side: str, their_ratings, own: dict) -> dict:
        """One respondent's mirror, recommendation and texts. The mirror is about what the
        other side's people answered, give or take a point; a side with a blind spot
        predicts the best rating where the other side rated it lowest."""
        totals = {field: sum(answers[field] for answers in their_ratings) for field in PULSE_FIELDS}
        lowest = min(PULSE_FIELDS, key=lambda field: (totals[field], field))
        extras = {}
        for field in PULSE_FIELDS:
            guess = round(totals[field] / len(their_ratings)) + rng.choice((-1, 0, 0, 0, 1))
            if side in profile.blind_spot_sides and field == lowest:
                guess = 5
            extras[f"mirror_{field}"] = min(5, max(1, guess))
        mean = sum(own.values()) / len(own)
        extras["nps"] = min(10, max(0, round((mean - 1) * 2.5 + rng.choice((-1, 0, 1)))))
        start, stop, keep = rng.choice(SURVEY_TEXTS[side])
        extras.update(start_doing=start, stop_doing=stop, continue_doing=keep)
        return extras

    # ---------------------------------------------------------------- sign-off
    def sign_off(self):
        """Each closed period is signed by both sides, a few days after it closed, except the
        latest, which one side has signed and the other has not yet; a period the client
        disputed stays open to a new review."""
        for profile, engagement in self.engagements:
            closed = [p for p in engagement.periods() if engagement.period_state(p) == CLOSED]
            for back, period in enumerate(closed):
                scorecard = engagement.scorecards.get(
                    period_kind=period.kind, period_start=period.start
                )
                signers = [other_side(profile.awaiting_side)] if back == 0 else Side.values
                moments = []
                for side in signers:
                    disputed = side == Side.CLIENT and back == profile.disputed_periods_back
                    review = scorecard_review(
                        scorecard=scorecard,
                        user=self.people[engagement.organization_of(side).name][Role.MANAGER],
                        decision=ScorecardReview.Decision.DISPUTED
                        if disputed
                        else ScorecardReview.Decision.SIGNED,
                        comment=profile.dispute
                        if disputed
                        else self.rng.choice(SIGN_COMMENTS[side]),
                    )
                    moments.append(self.signed_at(engagement, period))
                    ScorecardReview.objects.filter(pk=review.pk).update(created_at=moments[-1])
                Scorecard.objects.filter(pk=scorecard.pk, frozen_at__isnull=False).update(
                    frozen_at=max(moments)
                )

    def settle_alerts(self):
        """The alerts of a closed period were raised by the nightly run after it closed;
        those before the latest closed period have been acknowledged since, by a manager of
        the side they name (either side's for the engagement's)."""
        for _, engagement in self.engagements:
            latest = engagement.latest_closed_period()
            for alert in engagement.alerts.order_by("period_start", "kind", "side"):
                period = period_starting(alert.period_kind, alert.period_start)
                if engagement.period_state(period) != CLOSED:
                    continue  # raised by today's run
                closed = engagement.start_of(engagement.period_closed_from(period))
                raised_at = min(closed + timedelta(hours=2), self.now)
                if period.start < latest.start:
                    side = alert.side or self.rng.choice(Side.values)
                    user = self.people[engagement.organization_of(side).name][Role.MANAGER]
                    alert_acknowledge(alert=alert, user=user)
                    acknowledged_at = raised_at + timedelta(days=self.rng.randint(0, 2), hours=7)
                    alert.acknowledged_at = min(acknowledged_at, self.now)
                alert.raised_at = raised_at
                alert.save(update_fields=["raised_at", "acknowledged_at"])

    def signed_at(self, engagement: Engagement, period: Period) -> datetime:
        """A working hour in the days after the period closed; never later than now."""
        day = engagement.period_closed_from(period) + timedelta(days=self.rng.randint(0, 4))
        moment = timezone.make_aware(
            datetime.combine(day, time(self.rng.randint(9, 16), self.rng.choice((0, 30)))),
            engagement.tz,
        )
        return min(moment, self.now)
