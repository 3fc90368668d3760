"""Large, deterministic data for benchmarks.

    python manage.py generate_data --engagements 1000 --slas-per-engagement 10 --days 365

All engagements share one client organisation, `Bench Client`, whose manager
`bench` sees every one of them; providers are spread over `--providers`
organisations. Each engagement has a latent health that drives its SLA misses,
check-in adherence, openness about issues, follow-through and survey answers, so
the scorecards come out spread over the bands. The same seed and sizes always give
the same rows (ids included, on an empty database).

On PostgreSQL every table is written with COPY from an in-memory CSV buffer; on
other databases with bulk_create (slow, for tests only).
"""

import csv
import io
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.db.models import Q
from tqdm import tqdm

from feedback.models import (
    PULSE_FIELDS,
    TEXT_FIELDS,
    ActionItem,
    CheckIn,
    ContributionReview,
    Feedback,
    Issue,
    PulseResponse,
)
from relationships.models import (
    SLA,
    Engagement,
    GoalProgress,
    ImportBatch,
    KeyContact,
    Measurement,
    Membership,
    Organization,
    SharedGoal,
)
from relationships.names import organization_name_key
from relationships.periods import MONTH, period_containing

CLIENT_NAME = "Bench Client"
BENCH_USERNAME = "bench"
BENCH_PASSWORD = "accord-bench-password"
SOURCE = "generate_data"
COPY_BATCH_ROWS = 50_000
# The survey's optional texts, left blank: written, as their columns have no database default.
SURVEY_TEXTS_UNANSWERED = ("",) * len(TEXT_FIELDS)
DOMAIN_APPS = ("relationships", "feedback", "scorecards")

TIME_ZONES = (
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Sydney",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Europe/London",
    "UTC",
    "America/Sao_Paulo",
    "Pacific/Auckland",
)
SERVICES = (
    "Service desk",
    "Cloud operations",
    "Payroll processing",
    "Field service",
    "Application support",
    "Data centre",
    "Logistics",
    "Customer care",
    "Finance back office",
    "Network operations",
)
HIGHER, LOWER = SLA.Direction.HIGHER_IS_BETTER, SLA.Direction.LOWER_IS_BETTER


@dataclass(frozen=True)
class SlaTemplate:
    name: str
    unit: str
    direction: str
    target: float
    spread: float  # how far a miss lands from the target (higher is better)
    ceiling: float | None = None  # the best possible value (higher is better)


SLA_TEMPLATES = {
    "provider": (
        SlaTemplate("Availability", "%", HIGHER, 99.5, 2.0, 100.0),
        SlaTemplate("P1 response", "min", LOWER, 60, 0),
        SlaTemplate("Change success rate", "%", HIGHER, 95, 10.0, 100.0),
        SlaTemplate("Ticket backlog", "tickets", LOWER, 40, 0),
        SlaTemplate("First-time fix rate", "%", HIGHER, 80, 15.0, 100.0),
    ),
    "client": (
        SlaTemplate("Requirements sign-off", "days", LOWER, 5, 0),
        SlaTemplate("Test environment availability", "%", HIGHER, 98, 5.0, 100.0),
        SlaTemplate("Access requests approved", "hours", LOWER, 24, 0),
        SlaTemplate("Decision turnaround", "days", LOWER, 3, 0),
        SlaTemplate("Deliverables reviewed on time", "%", HIGHER, 90, 15.0, 100.0),
    ),
}
ISSUE_TITLES = (
    "Missed P1 escalation",
    "Late test environment",
    "Release rolled back",
    "Unplanned outage",
    "Backlog growing",
    "Access requests stuck",
    "Requirements changed late",
    "Invoice dispute",
    "Key person left",
    "Security finding not shared",
)
APPRECIATION = (
    "Thanks for staying late to get the release out.",
    "The new runbook made the weekend change painless.",
    "Quick sign-off on the scope change helped us a lot.",
    "Great root-cause write-up after the outage.",
)
IMPROVEMENT = (
    ("Status reports arrive after the meeting.", "Send the report the day before the sync."),
    ("Escalations reach us through the wrong channel.", "Use the agreed P1 bridge number."),
    ("Test data is often missing.", "Refresh test data every Monday."),
    ("Decisions wait for the steering committee.", "Delegate decisions under 10k to the leads."),
)
GOAL_TITLES = (
    "Reduce P1 incidents by half",
    "Automate monthly reporting",
    "Move payroll to the new platform",
    "Joint innovation backlog",
    "Cut onboarding time to 5 days",
    "Self-service password reset",
    "ISO 27001 certification",
)


def _local(day: date, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    """A wall-clock time in the engagement's zone, as the UTC moment stored."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz).astimezone(UTC)


def _local_date(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


@dataclass
class Plan:
    """What the later tables need to know about one generated engagement."""

    index: int
    id: int
    tz: ZoneInfo
    health: float
    start: date
    cadence: int
    users: dict[str, list[int]]  # by side: members who answer surveys and own actions
    writers: dict[str, int]  # by side: the manager who records values
    stewards: dict[str, int] = field(default_factory=dict)  # by side: key contact id
    slas: list[tuple[int, str]] = field(default_factory=list)  # (id, owner side)
    checkins: list[tuple[int, date, datetime]] = field(default_factory=list)


class TableWriter:
    """Writes rows (tuples in `columns` order) fast; keeps rows/s per table."""

    def __init__(self, stdout, progress: bool):
        self.postgres = connection.vendor == "postgresql"
        self.stdout = stdout
        self.progress = progress
        self.stats: list[tuple[str, int, float]] = []
        self._next_ids: dict[type[models.Model], int] = {}

    def next_id(self, model) -> int:
        """Ids are assigned here, so rows can reference each other before they are written."""
        if model not in self._next_ids:
            top = model.objects.aggregate(top=models.Max("pk"))["top"]
            self._next_ids[model] = (top or 0) + 1
        value = self._next_ids[model]
        self._next_ids[model] = value + 1
        return value

    def write(self, model, columns, rows, *, total=None) -> int:
        started = time.perf_counter()
        extras_columns, extras = _defaults_for_other_columns(model, columns)
        columns = (*columns, *extras_columns)
        bar = tqdm(
            total=total,
            desc=model._meta.db_table,
            unit=" rows",
            unit_scale=True,
            disable=not self.progress,
            leave=False,
        )
        count = 0
        rows = iter(rows)
        while batch := list(islice(rows, COPY_BATCH_ROWS)):
            if extras:
                batch = [row + extras for row in batch]
            if self.postgres:
                self._copy(model, columns, batch)
            else:
                model.objects.bulk_create(
                    [model(**dict(zip(columns, row, strict=True))) for row in batch],
                    batch_size=500,
                )
            count += len(batch)
            bar.update(len(batch))
        bar.close()
        if self.postgres and count:
            table = model._meta.db_table
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'(SELECT max(id) FROM "{table}"))'
                )
        elapsed = time.perf_counter() - started
        self.stats.append((model._meta.db_table, count, elapsed))
        self.stdout.write(
            f"{model._meta.db_table:<40} {count:>10,} rows {elapsed:>7.1f} s "
            f"{count / elapsed if elapsed else 0:>10,.0f} rows/s"
        )
        return count

    def _copy(self, model, columns, batch):
        buffer = io.StringIO()
        csv.writer(buffer).writerows(batch)
        buffer.seek(0)
        # Empty unquoted fields are NULL in CSV COPY; text columns that cannot be
        # NULL read them as empty strings instead.
        fields = {f.column: f for f in model._meta.concrete_fields}
        not_null_text = [
            c
            for c in columns
            if not fields[c].null and isinstance(fields[c], models.CharField | models.TextField)
        ]
        force = ""
        if not_null_text:
            force = f", FORCE_NOT_NULL ({', '.join(_q(c) for c in not_null_text)})"
        sql = (
            f"COPY {_q(model._meta.db_table)} ({', '.join(_q(c) for c in columns)}) "
            f"FROM STDIN WITH (FORMAT csv{force})"
        )
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(sql, buffer)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _defaults_for_other_columns(model, columns) -> tuple[tuple[str, ...], tuple]:
    """Columns the generator does not fill get their field default (or NULL).

    Keeps the generator working when a teammate adds a field with a default.
    """
    names, values = [], []
    for f in model._meta.concrete_fields:
        if f.column in columns or f.primary_key:
            continue
        if f.has_default():
            names.append(f.column)
            values.append(f.get_default())
        elif f.null:
            names.append(f.column)
            values.append(None)
        else:
            raise CommandError(f"generate_data does not know how to fill {model.__name__}.{f.name}")
    return tuple(names), tuple(values)


class Generator:
    def __init__(self, *, seed, engagements, slas_per_engagement, days, providers, end, writer):
        self.seed = seed
        self.engagements = engagements
        self.slas_per_engagement = slas_per_engagement
        self.days = [end - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
        self.window_start, self.end = self.days[0], end
        self.providers = max(1, min(providers, engagements))
        self.w = writer
        self.plans: list[Plan] = []
        self.users: dict[str, list[int]] = {}  # by organisation key
        self.created_at = datetime(end.year, end.month, end.day, tzinfo=UTC)

    def rng(self, table: str, index: int = 0) -> random.Random:
        """One stream per table and engagement: a table's rows do not depend on another's."""
        return random.Random(f"{self.seed}/{table}/{index}")

    def run(self):
        self.organizations_and_people()
        self.engagement_rows()
        self.contacts()
        self.sla_rows()
        self.measurements()
        self.goals()
        self.checkins()
        self.issues_and_reviews()
        self.feedback()
        self.pulse()

    # ------------------------------------------------------------ organisations
    def organizations_and_people(self):
        User = get_user_model()
        password = make_password(BENCH_PASSWORD, salt=f"accordbench{self.seed}")
        orgs, users, memberships = [], [], []

        def person(username, org_id, role, first, last):
            user_id = self.w.next_id(User)
            users.append(
                (
                    user_id,
                    password,
                    None,
                    False,
                    username,
                    first,
                    last,
                    f"{username}@bench.example",
                    False,
                    True,
                    self.created_at,
                )
            )
            memberships.append((self.w.next_id(Membership), user_id, org_id, role, self.created_at))
            return user_id

        client_id = self.w.next_id(Organization)
        orgs.append((client_id, CLIENT_NAME, organization_name_key(CLIENT_NAME), self.created_at))
        self.client_id = client_id
        self.bench_id = person(BENCH_USERNAME, client_id, "manager", "Bench", "Manager")
        client_people = [self.bench_id]
        for n in range(1, 12):
            role = "admin" if n == 1 else ("manager" if n <= 4 else "viewer")
            client_people.append(person(f"bench-client-{n:02d}", client_id, role, "Client", f"{n}"))
        self.users["client"] = client_people
        self.provider_ids = []
        for p in range(1, self.providers + 1):
            org_id = self.w.next_id(Organization)
            name = f"Bench Provider {p:02d}"
            orgs.append((org_id, name, organization_name_key(name), self.created_at))
            self.provider_ids.append(org_id)
            self.users[f"p{p}"] = [
                person(
                    f"bench-p{p:02d}-{n}",
                    org_id,
                    "admin" if n == 1 else ("manager" if n == 2 else "viewer"),
                    f"Provider {p}",
                    f"{n}",
                )
                for n in range(1, 7)
            ]
        self.w.write(Organization, ("id", "name", "name_key", "created_at"), orgs)
        self.w.write(
            User,
            (
                "id",
                "password",
                "last_login",
                "is_superuser",
                "username",
                "first_name",
                "last_name",
                "email",
                "is_staff",
                "is_active",
                "date_joined",
            ),
            users,
        )
        self.w.write(
            Membership, ("id", "user_id", "organization_id", "role", "created_at"), memberships
        )

    # ------------------------------------------------------------ engagements
    def engagement_rows(self):
        rows = []
        phases = ("active", "active", "active", "expanding", "pilot", "winding_down")
        for i in range(self.engagements):
            r = self.rng("engagement", i)
            provider_index = i % self.providers
            provider_people = self.users[f"p{provider_index + 1}"]
            tz_name = TIME_ZONES[i % len(TIME_ZONES)]
            start = self.window_start - timedelta(days=r.randint(0, 365))
            cadence = 7 if r.random() < 0.8 else 14
            # Skewed towards healthy, with a tail of troubled engagements.
            health = _clamp(r.betavariate(5, 2), 0.05, 0.99)
            plan = Plan(
                index=i,
                id=self.w.next_id(Engagement),
                tz=ZoneInfo(tz_name),
                health=health,
                start=start,
                cadence=cadence,
                users={"client": self.users["client"], "provider": provider_people},
                writers={"client": self.bench_id, "provider": provider_people[1]},
            )
            self.plans.append(plan)
            proposed = datetime(start.year, start.month, start.day, 9, tzinfo=UTC) - timedelta(
                days=14
            )
            rows.append(
                (
                    plan.id,
                    f"{SERVICES[i % len(SERVICES)]} {i + 1:04d}",
                    self.client_id,
                    self.provider_ids[provider_index],
                    r.choice(phases),
                    "active",
                    self.bench_id,
                    "client",
                    proposed,
                    provider_people[0],
                    proposed + timedelta(days=3),
                    None,
                    None,
                    start,
                    None,
                    tz_name,
                    MONTH,
                    cadence,
                    proposed,
                )
            )
        self.w.write(
            Engagement,
            (
                "id",
                "name",
                "client_id",
                "provider_id",
                "phase",
                "status",
                "proposed_by_id",
                "proposed_by_side",
                "proposed_at",
                "accepted_by_id",
                "accepted_at",
                "archived_by_id",
                "archived_at",
                "start_date",
                "end_date",
                "time_zone",
                "scorecard_period",
                "checkin_cadence_days",
                "created_at",
            ),
            rows,
        )

    def contacts(self):
        roles = {
            "client": ("relationship_steward", "executive_sponsor"),
            "provider": ("relationship_steward", "delivery_lead"),
        }
        rows = []
        for plan in self.plans:
            r = self.rng("contact", plan.index)
            for side, side_roles in roles.items():
                people = plan.users[side]
                for role in side_roles:
                    user_id = r.choice(people)
                    start = plan.start
                    if role == "relationship_steward" and r.random() < 0.1:
                        # A steward handed over: the old contact is kept with an end date.
                        handover = start + timedelta(days=r.randint(30, 200))
                        rows.append(
                            self._contact(
                                plan,
                                side,
                                r.choice(people),
                                role,
                                start,
                                handover - timedelta(days=1),
                            )
                        )
                        start = handover
                    rows.append(self._contact(plan, side, user_id, role, start, None))
                    if role == "relationship_steward":
                        plan.stewards[side] = rows[-1][0]
        self.w.write(
            KeyContact,
            (
                "id",
                "engagement_id",
                "side",
                "user_id",
                "name",
                "email",
                "role",
                "tier",
                "time_zone",
                "start_date",
                "end_date",
            ),
            rows,
        )

    def _contact(self, plan, side, user_id, role, start, end):
        return (
            self.w.next_id(KeyContact),
            plan.id,
            side,
            user_id,
            f"Contact {user_id}",
            f"contact{user_id}@bench.example",
            role,
            KeyContact.ROLE_TIERS[role],
            plan.tz.key,  # the engagement's, as a contact saved without a zone gets
            start,
            end,
        )

    def sla_rows(self):
        rows = []
        self.sla_specs: dict[int, tuple[SlaTemplate, float]] = {}  # id → template, quality
        for plan in self.plans:
            r = self.rng("sla", plan.index)
            client_count = self.slas_per_engagement // 2
            sides = ["client"] * client_count + ["provider"] * (
                self.slas_per_engagement - client_count
            )
            for n, side in enumerate(sides):
                templates = SLA_TEMPLATES[side]
                k = n if side == "client" else n - client_count
                template = templates[k % len(templates)]
                name = template.name if k < len(templates) else f"{template.name} #{k + 1}"
                sla_id = self.w.next_id(SLA)
                quality = _clamp(plan.health + r.gauss(0, 0.08), 0.3, 0.995)
                self.sla_specs[sla_id] = (template, quality)
                plan.slas.append((sla_id, side))
                rows.append(
                    (
                        sla_id,
                        plan.id,
                        side,
                        name,
                        "",
                        template.unit,
                        template.direction,
                        template.target,
                        r.choice((1, 1, 1, 2, 3)),
                        r.random() > 0.03,
                        self.created_at,
                    )
                )
        self.w.write(
            SLA,
            (
                "id",
                "engagement_id",
                "owner_side",
                "name",
                "description",
                "unit",
                "direction",
                "target",
                "weight",
                "active",
                "created_at",
            ),
            rows,
        )

    # ------------------------------------------------------------ measurements
    def measurements(self):
        batch = ImportBatch.objects.create(source=SOURCE, actor_id=self.bench_id)
        self.import_batch_id = batch.pk
        recorded = [
            datetime(d.year, d.month, d.day, tzinfo=UTC) + timedelta(days=1, hours=2)
            for d in self.days
        ]
        total = self.engagements * self.slas_per_engagement * len(self.days)
        count = self.w.write(
            Measurement,
            (
                "id",
                "sla_id",
                "period_start",
                "period_end",
                "value",
                "source",
                "recorded_by_id",
                "recorded_by_side",
                "recorded_at",
                "import_batch_id",
                "supersedes_id",
                "superseded_at",
            ),
            self._measurement_rows(recorded),
            total=total,
        )
        ImportBatch.objects.filter(pk=batch.pk).update(row_count=count, created_count=count)

    def _measurement_rows(self, recorded):
        next_id = self.w.next_id(Measurement)
        month_of = [d.replace(day=1) for d in self.days]
        batch_id = self.import_batch_id
        for plan in self.plans:
            for sla_id, side in plan.slas:
                r = self.rng("measurement", sla_id)
                random_ = r.random
                template, quality = self.sla_specs[sla_id]
                target, spread = template.target, template.spread
                higher = template.direction == HIGHER
                room = (template.ceiling or target) - target
                writer = plan.writers[side]
                month, month_quality = None, quality
                for d, day in enumerate(self.days):
                    if month_of[d] != month:
                        # Months differ: an incident month or a good run moves the trend.
                        month = month_of[d]
                        month_quality = _clamp(quality + r.gauss(0, 0.07), 0.2, 1.0)
                    met = random_() < month_quality
                    if higher:
                        value = (
                            target + room * random_()
                            if met
                            else target - spread * (0.01 + random_())
                        )
                    else:
                        value = (
                            target * (0.3 + 0.7 * random_()) if met else target * (1.01 + random_())
                        )
                    value = round(value, 2)
                    if random_() < 0.002:
                        # A correction: the first value is kept, superseded.
                        yield (
                            next_id,
                            sla_id,
                            day,
                            day,
                            round(value * 0.9, 2),
                            SOURCE,
                            writer,
                            side,
                            recorded[d],
                            batch_id,
                            None,
                            recorded[d] + timedelta(hours=5),
                        )
                        supersedes = next_id
                        next_id += 1
                        row_recorded = recorded[d] + timedelta(hours=5)
                    else:
                        supersedes, row_recorded = None, recorded[d]
                    yield (
                        next_id,
                        sla_id,
                        day,
                        day,
                        value,
                        SOURCE,
                        writer,
                        side,
                        row_recorded,
                        batch_id,
                        supersedes,
                        None,
                    )
                    next_id += 1
        self.w._next_ids[Measurement] = next_id

    # ------------------------------------------------------------ goals
    def goals(self):
        goals, progress = [], []
        for plan in self.plans:
            r = self.rng("goal", plan.index)
            for title in r.sample(GOAL_TITLES, 5):
                goal_id = self.w.next_id(SharedGoal)
                start = self.window_start + timedelta(
                    days=r.randint(-120, max(-120, len(self.days) - 30))
                )
                due = start + timedelta(days=r.randint(90, 365))
                pace = 0.6 + 0.6 * plan.health + r.gauss(0, 0.1)
                achieved = None
                if due <= self.end and r.random() < 0.4 + 0.5 * plan.health:
                    achieved = max(start, due - timedelta(days=r.randint(-20, 30)))
                    achieved = achieved if achieved <= self.end else None
                cancelled = r.random() < 0.05
                goals.append(
                    (
                        goal_id,
                        plan.id,
                        title,
                        "",
                        "",
                        start,
                        due,
                        achieved,
                        cancelled,
                        plan.stewards["client"],
                        plan.stewards["provider"],
                        self.created_at,
                    )
                )
                last = min(self.end, achieved or due)
                day, percent = start + timedelta(days=30), 0
                while day <= last:
                    elapsed = (day - start).days / max(1, (due - start).days)
                    percent = max(percent, min(100, round(100 * elapsed * pace + r.gauss(0, 5))))
                    reporter = r.choice(plan.users[r.choice(("client", "provider"))])
                    progress.append(
                        (
                            self.w.next_id(GoalProgress),
                            goal_id,
                            day,
                            percent,
                            "",
                            reporter,
                            datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
                        )
                    )
                    day += timedelta(days=30)
        self.w.write(
            SharedGoal,
            (
                "id",
                "engagement_id",
                "title",
                "description",
                "target",
                "start_date",
                "due_date",
                "achieved_on",
                "cancelled",
                "client_contact_id",
                "provider_contact_id",
                "created_at",
            ),
            goals,
        )
        self.w.write(
            GoalProgress,
            ("id", "goal_id", "date", "percent", "note", "reporter_id", "created_at"),
            progress,
        )

    # ------------------------------------------------------------ feedback app
    def checkins(self):
        checkins, attendees, actions = [], [], []
        for plan in self.plans:
            r = self.rng("checkin", plan.index)
            adherence = _clamp(0.45 + 0.55 * plan.health + r.gauss(0, 0.05), 0.2, 1.0)
            block = max(plan.start, self.window_start)
            while block <= self.end:
                held = r.random() < adherence
                extra = r.random() < 0.12
                for kind in (("sync",) if held else ()) + (("informal",) if extra else ()):
                    day = min(self.end, block + timedelta(days=r.randint(0, plan.cadence - 1)))
                    if kind == "sync" and day.day <= 7:
                        kind = "executive" if day.month % 3 == 0 else "review"
                    moment = _local(day, r.randint(8, 17), r.choice((0, 15, 30, 45)), plan.tz)
                    checkin_id = self.w.next_id(CheckIn)
                    plan.checkins.append((checkin_id, day, moment))
                    checkins.append(
                        (
                            checkin_id,
                            plan.id,
                            moment,
                            day,
                            kind,
                            f"{kind.title()} check-in.",
                            plan.writers["client"],
                            moment,
                        )
                    )
                    for side in ("client", "provider"):
                        attendees.append(
                            (
                                self.w.next_id(CheckIn.attendee_contacts.through),
                                checkin_id,
                                plan.stewards[side],
                            )
                        )
                    for _ in range(r.choice((0, 0, 1, 1, 2))):
                        actions.append(self._action(r, plan, day, moment, checkin_id=checkin_id))
                block += timedelta(days=plan.cadence)
        self.w.write(
            CheckIn,
            (
                "id",
                "engagement_id",
                "occurred_at",
                "occurred_on",
                "kind",
                "notes",
                "recorded_by_id",
                "created_at",
            ),
            checkins,
        )
        self.w.write(
            CheckIn.attendee_contacts.through, ("id", "checkin_id", "keycontact_id"), attendees
        )
        self._actions = actions

    def _action(self, r, plan, day, moment, *, checkin_id=None, review_id=None, side=None):
        side = side or r.choice(("client", "provider"))
        due = day + timedelta(days=r.randint(5, 21))
        cancelled = r.random() < 0.04
        completed = None
        if not cancelled:
            if r.random() < _clamp(0.3 + 0.65 * plan.health, 0.1, 0.97):
                done_on = max(day, due - timedelta(days=r.randint(0, 4)))
            elif r.random() < 0.7:
                done_on = due + timedelta(days=r.randint(1, 12))
            else:
                done_on = None  # still open
            if done_on and done_on <= self.end:
                completed = (_local(done_on, r.randint(9, 18), 0, plan.tz), done_on)
        return (
            self.w.next_id(ActionItem),
            plan.id,
            review_id,
            checkin_id,
            side,
            r.choice(plan.users[side]),
            "Follow up on the agreed change.",
            due,
            completed[0] if completed else None,
            completed[1] if completed else None,
            cancelled,
            plan.writers["client"],
            moment,
        )

    def issues_and_reviews(self):
        issues, reviews = [], []
        actions = self._actions
        months = sorted({d.replace(day=1) for d in self.days})
        for plan in self.plans:
            r = self.rng("issue", plan.index)
            openness = _clamp(0.35 + 0.6 * plan.health + r.gauss(0, 0.05), 0.1, 1.0)
            for month in months:
                for _ in range(r.choice((0, 0, 1, 1, 1, 2, 2, 3))):
                    day = month + timedelta(days=r.randint(0, 27))
                    if not (self.window_start <= day <= self.end):
                        continue
                    responsible = "provider" if r.random() < 0.65 else "client"
                    raised_by = (
                        responsible
                        if r.random() < openness
                        else ("client" if responsible == "provider" else "provider")
                    )
                    raised = _local(day, r.randint(8, 18), r.randint(0, 59), plan.tz)
                    # Raised by the responsible side: soon; by the other side: much later.
                    lag = (0.5, 48) if raised_by == responsible else (24, 240)
                    lag_hours = r.uniform(*lag)
                    resolved_on = day + timedelta(days=r.randint(1, 20))
                    resolved = raised + timedelta(days=(resolved_on - day).days, hours=2)
                    severity = r.choice(("low", "medium", "medium", "high", "critical"))
                    issue_id = self.w.next_id(Issue)
                    issues.append(
                        (
                            issue_id,
                            plan.id,
                            r.choice(ISSUE_TITLES),
                            "",
                            severity,
                            responsible,
                            raised_by,
                            r.choice(plan.users[raised_by]),
                            raised - timedelta(hours=lag_hours),
                            raised,
                            day,
                            resolved if resolved_on <= self.end else None,
                            raised,
                        )
                    )
                    if severity in ("high", "critical") or r.random() < 0.2:
                        review_id = self.w.next_id(ContributionReview)
                        reviewed = raised + timedelta(days=2)
                        review_day = _local_date(reviewed, plan.tz)
                        reviews.append(
                            (
                                review_id,
                                issue_id,
                                "What each side will change.",
                                plan.writers["client"],
                                reviewed,
                            )
                        )
                        for side in ("client", "provider"):
                            actions.append(
                                self._action(
                                    r, plan, review_day, reviewed, review_id=review_id, side=side
                                )
                            )
        self.w.write(
            Issue,
            (
                "id",
                "engagement_id",
                "title",
                "description",
                "severity",
                "responsible_side",
                "raised_by_side",
                "raised_by_id",
                "detected_at",
                "raised_at",
                "raised_on",
                "resolved_at",
                "created_at",
            ),
            issues,
        )
        self.w.write(
            ContributionReview,
            ("id", "issue_id", "summary", "created_by_id", "created_at"),
            reviews,
        )
        self.w.write(
            ActionItem,
            (
                "id",
                "engagement_id",
                "review_id",
                "checkin_id",
                "owner_side",
                "owner_id",
                "description",
                "due_date",
                "completed_at",
                "completed_on",
                "cancelled",
                "created_by_id",
                "created_at",
            ),
            actions,
        )

    def feedback(self):
        rows = []
        for plan in self.plans:
            r = self.rng("feedback", plan.index)
            for day in self.days:
                if day < plan.start or r.random() > 0.1:
                    continue  # about three entries a month
                side = r.choice(("client", "provider"))
                moment = _local(day, r.randint(8, 19), r.randint(0, 59), plan.tz)
                other_slas = [sla_id for sla_id, owner in plan.slas if owner != side]
                sla_id = r.choice(other_slas) if other_slas and r.random() < 0.3 else None
                if r.random() < 0.55:
                    kind, text, action = "appreciation", r.choice(APPRECIATION), ""
                else:
                    kind, (text, action) = "improvement", r.choice(IMPROVEMENT)
                rows.append(
                    (
                        self.w.next_id(Feedback),
                        plan.id,
                        r.choice(plan.users[side]),
                        side,
                        kind,
                        text,
                        action,
                        sla_id,
                        None,
                        moment,
                        day,
                    )
                )
        self.w.write(
            Feedback,
            (
                "id",
                "engagement_id",
                "author_id",
                "from_side",
                "kind",
                "text",
                "suggested_action",
                "sla_id",
                "goal_id",
                "created_at",
                "created_on",
            ),
            rows,
        )

    def pulse(self):
        rows = []
        months = sorted({d.replace(day=1) for d in self.days})
        for plan in self.plans:
            r = self.rng("pulse", plan.index)
            # Each side sees the relationship a little differently: the perception gap.
            views = {side: _clamp(plan.health + r.gauss(0, 0.12), 0, 1) for side in plan.users}
            for month in months:
                period = period_containing(MONTH, month)
                last_day = min(period.end, self.end)
                first_day = max(period.start, self.window_start)
                for side, people in plan.users.items():
                    for respondent in r.sample(people, min(len(people), r.randint(3, 5))):
                        day = first_day + timedelta(days=r.randint(0, (last_day - first_day).days))
                        submitted = _local(day, r.randint(8, 18), r.randint(0, 59), plan.tz)
                        mood = 1 + 4 * views[side]
                        answers = [
                            int(_clamp(round(mood + r.gauss(0, 0.7)), 1, 5)) for _ in PULSE_FIELDS
                        ]
                        # (answers, submitted, superseded at) of each response, oldest first.
                        responses = [(answers, submitted, None)]
                        if r.random() < 0.03:
                            # Answered twice: the first response is kept, superseded.
                            later = submitted + timedelta(minutes=10)
                            first = [min(5, a + 1) for a in answers]
                            responses = [(first, submitted, later), (answers, later, None)]
                        rows.extend(
                            (
                                self.w.next_id(PulseResponse),
                                plan.id,
                                respondent,
                                side,
                                MONTH,
                                period.start,
                                *values,
                                *SURVEY_TEXTS_UNANSWERED,
                                at,
                                superseded_at,
                            )
                            for values, at, superseded_at in responses
                        )
        self.w.write(
            PulseResponse,
            (
                "id",
                "engagement_id",
                "respondent_id",
                "side",
                "period_kind",
                "period_start",
                *PULSE_FIELDS,
                *TEXT_FIELDS,
                "submitted_at",
                "superseded_at",
            ),
            rows,
        )


def domain_models():
    for label in DOMAIN_APPS:
        yield from apps.get_app_config(label).get_models(include_auto_created=True)


def generated_users():
    return get_user_model().objects.filter(
        Q(username=BENCH_USERNAME) | Q(username__startswith="bench-")
    )


def reset() -> None:
    """Remove every row of the domain tables (not only generated ones) and the bench users."""
    tables = [model._meta.db_table for model in domain_models()]
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(_q(t) for t in tables)} RESTART IDENTITY CASCADE")
        else:
            # Foreign keys are checked at commit, so the order does not matter.
            for table in tables:
                cursor.execute(f"DELETE FROM {_q(table)}")
        generated_users().delete()


class Command(BaseCommand):
    help = "Generate large deterministic data for benchmarks (see benchmarks/README.md)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--engagements", type=int, default=100)
        parser.add_argument("--slas-per-engagement", type=int, default=10)
        parser.add_argument("--days", type=int, default=90, help="days of daily measurements")
        parser.add_argument("--providers", type=int, default=50)
        parser.add_argument(
            "--end",
            type=date.fromisoformat,
            default=None,
            help="last day with data, YYYY-MM-DD (default: yesterday)",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="first delete ALL rows of the relationships/feedback/scorecards tables",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        today = datetime.now(UTC).date()
        end = options["end"] or today - timedelta(days=1)
        if end > today:
            raise CommandError("--end cannot be in the future.")
        for name in ("engagements", "slas_per_engagement", "days", "providers"):
            if options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1.")
        if options["reset"]:
            reset()
        elif Organization.objects.filter(name=CLIENT_NAME).exists():
            raise CommandError("Generated data exists already; pass --reset to replace it.")

        writer = TableWriter(self.stdout, progress=not options["no_progress"])
        started = time.perf_counter()
        with transaction.atomic():
            if writer.postgres:
                with connection.cursor() as cursor:
                    # A scratch load: losing it in a crash only means running it again.
                    cursor.execute("SET LOCAL synchronous_commit = off")
                    cursor.execute("SELECT current_setting('is_superuser') = 'on'")
                    if cursor.fetchone()[0]:
                        # Skip the per-row foreign key triggers (most of a COPY's cost):
                        # the rows reference each other correctly by construction.
                        cursor.execute("SET LOCAL session_replication_role = replica")
            Generator(
                seed=options["seed"],
                engagements=options["engagements"],
                slas_per_engagement=options["slas_per_engagement"],
                days=options["days"],
                providers=options["providers"],
                end=end,
                writer=writer,
            ).run()
        if writer.postgres:
            with connection.cursor() as cursor:
                # Fresh statistics, so the first benchmark queries get the real plans.
                cursor.execute("ANALYZE")
        elapsed = time.perf_counter() - started
        rows = sum(count for _, count, _ in writer.stats)
        self.stdout.write(
            self.style.SUCCESS(
                f"{'total':<40} {rows:>10,} rows {elapsed:>7.1f} s {rows / elapsed:>10,.0f} rows/s"
            )
        )
        self.stdout.write(
            f"Sign in as '{BENCH_USERNAME}' with password '{BENCH_PASSWORD}' "
            f"(manager of {CLIENT_NAME}, sees all {options['engagements']} engagements); "
            f"data from {end - timedelta(days=options['days'] - 1)} to {end}."
        )
