"""Read-side queries of the feedback domain, for the dashboard and the API."""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction

from django.db.models import Count, F, Max, Prefetch, Q, Sum, prefetch_related_objects

from feedback import checkin_planner
from feedback.models import (
    MIRROR_FIELDS,
    PULSE_FIELDS,
    PULSE_QUESTIONS,
    TEXT_FIELDS,
    ActionItem,
    CheckIn,
    ContributionReview,
    PulseResponse,
)
from feedback.survey_report import (
    BLIND_SPOT,
    DETRACTOR_UP_TO,
    PROMOTER_FROM,
    MirrorGap,
    Rnps,
    distribution,
    mirror_gap_of_sums,
    rnps,
    statement_label,
)
from relationships.models import Engagement, KeyContact, ScoringConfig, Side, Tier, other_side
from relationships.periods import CLOSED, Period


def reviews_with_completeness(queryset=None):
    """Reviews annotated with `complete`: each side has committed to an action, in one query."""
    queryset = ContributionReview.objects.all() if queryset is None else queryset
    live = Q(action_items__cancelled=False)
    return queryset.annotate(
        client_actions=Count("action_items", filter=live & Q(action_items__owner_side="client")),
        provider_actions=Count(
            "action_items", filter=live & Q(action_items__owner_side="provider")
        ),
    ).annotate(
        complete=Q(client_actions__gt=0) & Q(provider_actions__gt=0),
    )


def contribution_reviews(engagement: Engagement) -> list[ContributionReview]:
    """The engagement's contribution reviews with completeness and live action items by side.

    Each review's `sides` lists (side, label, its live action items).
    """
    live_items = ActionItem.objects.filter(cancelled=False).select_related("owner")
    reviews = list(
        reviews_with_completeness(ContributionReview.objects.filter(issue__engagement=engagement))
        .select_related("issue")
        .prefetch_related(Prefetch("action_items", live_items))
    )
    for review in reviews:
        items = review.action_items.all()
        review.sides = [
            (side, label, [item for item in items if item.owner_side == side])
            for side, label in Side.choices
        ]
    return reviews


# ---------------------------------------------------------------- pulse survey
@dataclass(frozen=True)
class PublishedSide:
    """What may be shown of one side's answers to a period's survey: the six statements'
    totals, and of the optional answers only those at least the threshold gave."""

    respondents: int
    answer_total: int  # sum over responses of the six answers
    rating_totals: dict[str, int]  # per statement, the sum of this side's ratings of the other
    # per statement, this side's predictions of the other's rating of it: (sum, count)
    predictions: dict[str, tuple[int, int]]
    nps: tuple[int, int, int] | None  # (promoters, passives, detractors)

    @property
    def means(self) -> dict[str, float]:
        return {name: total / self.respondents for name, total in self.rating_totals.items()}

    @property
    def overall(self) -> float:
        return self.answer_total / self.respondents / len(self.rating_totals)

    def mirror(self, rating: "PublishedSide") -> dict[str, tuple[int, int, int, int]]:
        """Per statement this side predicted: (its predictions' sum and count, the other side's
        ratings' sum and count), what mirror_gap_of_sums compares."""
        return {
            name: (*prediction, rating.rating_totals[name], rating.respondents)
            for name, prediction in self.predictions.items()
        }


@dataclass(frozen=True)
class SurveyPublication:
    """A period's survey for one engagement: its state, the threshold in force, and the
    sides whose figures are published (absent: not published, for whatever reason)."""

    state: str
    threshold: int
    sides: dict[str, PublishedSide]


def survey_publications(
    engagements: Iterable[Engagement], period: Period, today: date | None = None
) -> dict[int, SurveyPublication]:
    """The one rule of what a survey shows (PRODUCT.md §8), per engagement: figures only for
    a closed period, whose answers can no longer change, and only for a side with at least
    the threshold in force for that period (agreed before it began). So no figure about a
    side below the threshold exists, and no two reads differ by one respondent.

    `today` None means each engagement's own date. Two queries (three if the engagements
    come without their scoring configurations).
    """
    engagements = list(engagements)
    # Each engagement's grace days decide its period's state.
    prefetch_related_objects(engagements, "scoring_config")
    thresholds = ScoringConfig.survey_thresholds(engagements, period)
    states = {e.pk: e.period_state(period, today) for e in engagements}
    closed = [pk for pk, state in states.items() if state == CLOSED]
    answers = sum((F(name) for name in PULSE_FIELDS[1:]), F(PULSE_FIELDS[0]))
    rows = (
        PulseResponse.objects.current()
        .filter(engagement_id__in=closed, period_kind=period.kind, period_start=period.start)
        .values("engagement_id", "side")
        .annotate(
            # One current response per respondent; kept when their account is deleted.
            respondents=Count("id"),
            answer_total=Sum(answers),
            **{f"{name}_sum": Sum(name) for name in PULSE_FIELDS},
            **{f"{name}_sum": Sum(name) for name in MIRROR_FIELDS},
            **{f"{name}_count": Count(name) for name in MIRROR_FIELDS},
            nps_count=Count("nps"),
            promoters=Count("nps", filter=Q(nps__gte=PROMOTER_FROM)),
            detractors=Count("nps", filter=Q(nps__lte=DETRACTOR_UP_TO)),
        )
        .order_by()
    )
    sides: dict[int, dict[str, PublishedSide]] = {pk: {} for pk in states}
    for row in rows:
        threshold = thresholds[row["engagement_id"]]
        if row["respondents"] < threshold:
            continue
        answered = row["nps_count"]
        sides[row["engagement_id"]][row["side"]] = PublishedSide(
            respondents=row["respondents"],
            answer_total=row["answer_total"],
            rating_totals={name: row[f"{name}_sum"] for name in PULSE_FIELDS},
            predictions={
                name: (row[f"mirror_{name}_sum"], row[f"mirror_{name}_count"])
                for name in PULSE_FIELDS
                if row[f"mirror_{name}_count"] >= threshold
            },
            nps=(
                (
                    row["promoters"],
                    answered - row["promoters"] - row["detractors"],
                    row["detractors"],
                )
                if answered >= threshold
                else None
            ),
        )
    return {
        pk: SurveyPublication(state=states[pk], threshold=thresholds[pk], sides=sides[pk])
        for pk in states
    }


def survey_publication(engagement: Engagement, period: Period) -> SurveyPublication:
    return survey_publications([engagement], period)[engagement.pk]


@dataclass(frozen=True)
class StatementRating:
    """How a side rated the other on one statement."""

    field: str
    question: str
    mean: Fraction
    distribution: list[int]  # how many answered 1, 2, 3, 4, 5


@dataclass(frozen=True)
class MirrorLine:
    """A side's prediction of how the other side would rate it on one statement, against
    the rating; `gap` None when fewer than the threshold predicted it."""

    field: str
    question: str
    gap: MirrorGap | None


@dataclass(frozen=True)
class SideReport:
    """One side's published answers: how it rated the other side (`statements`, `rnps`,
    `texts`) and how the other side's rating of it compares with its predictions
    (`mirror`, empty when the other side is not published)."""

    side: str
    label: str
    other_label: str
    respondents: int
    statements: list[StatementRating]
    rnps: Rnps | None  # None when fewer than the threshold answered the question
    texts: dict[str, list[str]]  # per text question, in an order that names nobody
    mirror: list[MirrorLine]

    @property
    def blind_spots(self) -> list[MirrorLine]:
        return [line for line in self.mirror if line.gap and line.gap.category == BLIND_SPOT]


@dataclass(frozen=True)
class SurveyReport:
    """A period's survey report (PRODUCT.md §8): only the sides `survey_publications`
    publishes, and within them only figures at least the threshold answered."""

    engagement: Engagement
    period: Period
    state: str
    threshold: int
    sides: dict[str, SideReport]

    def directions(self) -> list["SurveyDirection"]:
        """Per published side, how it sees the other: its ratings beside the other side's
        predictions of them, its recommendation and its texts."""
        directions = []
        for side, rater in self.sides.items():
            rated = self.sides.get(other_side(side))
            mirror = rated.mirror if rated else [None] * len(rater.statements)
            directions.append(
                SurveyDirection(
                    rater=rater, rated=rated, rows=list(zip(rater.statements, mirror, strict=True))
                )
            )
        return directions

    def blind_spots(self) -> list[tuple[SideReport, MirrorLine]]:
        return [(side, line) for side in self.sides.values() for line in side.blind_spots]


@dataclass(frozen=True)
class SurveyDirection:
    """How `rater` sees the other side; `rated` is the other side's report, None when not
    published, and then `rows` pair each rating with None instead of a mirror line."""

    rater: SideReport
    rated: SideReport | None
    rows: list[tuple[StatementRating, MirrorLine | None]]

    def chart(self) -> dict:
        """The chart's data (a rating and a prediction per statement; null when none)."""
        return {
            "title": f"How the {self.rater.side} sees the {other_side(self.rater.side)}",
            "labels": [statement_label(rating.field) for rating, _ in self.rows],
            "rating_label": f"{self.rater.label} rating",
            "prediction_label": f"{self.rater.other_label} prediction",
            "ratings": [float(rating.mean) for rating, _ in self.rows],
            "predictions": [
                float(line.gap.prediction) if line and line.gap else None for _, line in self.rows
            ],
        }


def _anonymous_order(texts: list[str]) -> list[str]:
    # By a hash of the text: stable between reads, unrelated to who wrote it or when.
    return sorted(texts, key=lambda text: hashlib.sha256(text.encode()).hexdigest())


def survey_report(
    engagement: Engagement, period: Period, today: date | None = None
) -> SurveyReport:
    """The survey report of `period`. Three queries (four without the scoring configuration)."""
    publication = survey_publications([engagement], period, today)[engagement.pk]
    rows = list(
        PulseResponse.objects.current()
        .filter(
            engagement=engagement,
            period_kind=period.kind,
            period_start=period.start,
            side__in=list(publication.sides),
        )
        .values("side", *PULSE_FIELDS, *TEXT_FIELDS)
        .order_by()
    )
    labels = dict(Side.choices)
    sides = {}
    for side, published in publication.sides.items():
        answers = [row for row in rows if row["side"] == side]
        other = publication.sides.get(other_side(side))
        sides[side] = SideReport(
            side=side,
            label=labels[side],
            other_label=labels[other_side(side)],
            respondents=published.respondents,
            statements=[
                StatementRating(
                    field=field,
                    question=question,
                    mean=Fraction(published.rating_totals[field], published.respondents),
                    distribution=distribution([row[field] for row in answers]),
                )
                for field, question in PULSE_QUESTIONS
            ],
            rnps=published.nps and rnps(*published.nps),
            texts={
                field: _anonymous_order([row[field] for row in answers if row[field]])
                for field in TEXT_FIELDS
            },
            mirror=[
                MirrorLine(field=field, question=question, gap=mirror_of(published, other, field))
                for field, question in (PULSE_QUESTIONS if other else ())
            ],
        )
    return SurveyReport(
        engagement=engagement,
        period=period,
        state=publication.state,
        threshold=publication.threshold,
        sides=sides,
    )


def mirror_of(predicting: PublishedSide, rating: PublishedSide, field: str) -> MirrorGap | None:
    """How `predicting` thought the other side would rate it on `field`, against `rating`'s
    actual rating; None when fewer than the threshold predicted it."""
    sums = predicting.mirror(rating).get(field)
    return sums and mirror_gap_of_sums(*sums)


# ---------------------------------------------------------------- governance map
@dataclass(frozen=True)
class GovernanceTier:
    """One tier of the governance map: both sides' current contacts in it, its agreed
    meeting cadence (a term) and its last meeting (the latest check-in of the tier)."""

    tier: str
    label: str
    cadence_days: int | None
    contacts: dict[str, list[KeyContact]]
    last_met: date | None
    on: date

    @property
    def sides(self) -> list[tuple[str, list[KeyContact]]]:
        return [(side, self.contacts[side]) for side in Side.values]

    @property
    def gaps(self) -> list[str]:
        """The sides with nobody in this tier."""
        return [side for side in Side.values if not self.contacts[side]]

    @property
    def overdue(self) -> bool:
        """A cadence is agreed and the tier has not met within it."""
        if self.cadence_days is None:
            return False
        return self.last_met is None or (self.on - self.last_met).days > self.cadence_days


def governance_map(engagement: Engagement, on: date) -> list[GovernanceTier]:
    """The tiers, executive first, in two queries."""
    current = KeyContact.objects.filter(engagement=engagement, start_date__lte=on).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=on)
    )
    contacts = {tier: {side: [] for side in Side.values} for tier in Tier.values}
    for contact in current.order_by("role", "name", "pk"):
        contacts[contact.tier][contact.side].append(contact)
    last_met = dict(
        CheckIn.objects.filter(engagement=engagement, occurred_on__lte=on)
        .exclude(tier="")
        .values("tier")
        .annotate(last=Max("occurred_on"))
        .values_list("tier", "last")
    )
    return [
        GovernanceTier(
            tier=tier,
            label=label,
            cadence_days=getattr(engagement, f"{tier}_cadence_days"),
            contacts=contacts[tier],
            last_met=last_met.get(tier),
            on=on,
        )
        for tier, label in Tier.choices
    ]


# ---------------------------------------------------------------- the next check-in
@dataclass(frozen=True)
class CheckInPlan:
    """The next check-in: when it is due, the current key contacts, the common slots."""

    due: datetime
    due_on: date  # in the engagement's zone
    contacts: list
    slots: list[datetime]

    def local_times(self, slot: datetime) -> list[tuple[str, str]]:
        """The slot in each contact's zone (once per zone, in the contacts' order), as text:
        a template's date filter would turn it back into the page's zone."""
        zones = {contact.time_zone: contact.tz for contact in self.contacts}
        return [(name, f"{slot.astimezone(zone):%a %-d %b, %H:%M}") for name, zone in zones.items()]

    def slot_label(self, slot: datetime) -> str:
        return " · ".join(f"{local} {zone}" for zone, local in self.local_times(slot))

    @property
    def proposals(self) -> list[dict]:
        return [{"iso": slot.isoformat(), "times": self.local_times(slot)} for slot in self.slots]


def checkin_plan(
    engagement: Engagement, now: datetime, *, contacts=None, last_checkin_at=None
) -> CheckInPlan:
    """Slots inside the working hours of every current key contact of both sides, from a
    cadence after the last check-in. A page that has read the current contacts and the
    latest check-in's time already passes them."""
    if contacts is None:
        today = engagement.local_date(now)
        contacts = (
            KeyContact.objects.filter(engagement=engagement, start_date__lte=today)
            .exclude(end_date__lt=today)
            .select_related("engagement", "user")
            .order_by("side", "role", "name")
        )
        latest = engagement.checkins.order_by("-occurred_at").values_list("occurred_at")
        last_checkin_at = next(iter(latest[:1]), (None,))[0]
    contacts = list(contacts)
    due = checkin_planner.next_due(
        last=last_checkin_at, cadence_days=engagement.checkin_cadence_days, now=now
    )
    slots = checkin_planner.checkin_slots(
        hours=[checkin_planner.WorkingHours.of(contact) for contact in contacts], due=due
    )
    return CheckInPlan(due=due, due_on=engagement.local_date(due), contacts=contacts, slots=slots)
