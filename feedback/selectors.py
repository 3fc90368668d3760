"""Read-side queries of the feedback domain, for the dashboard and the API."""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction

from django.db.models import Avg, Count, F, Prefetch, Q, Sum, prefetch_related_objects

from feedback import checkin_planner
from feedback.models import (
    MIRROR_FIELDS,
    PULSE_FIELDS,
    PULSE_QUESTIONS,
    TEXT_FIELDS,
    ActionItem,
    ContributionReview,
    PulseResponse,
)
from feedback.survey_report import BLIND_SPOT, MirrorGap, Rnps, distribution, mirror_gap, rnps
from relationships.models import Engagement, KeyContact, ScoringConfig, Side, other_side
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
    """What may be shown of one side's answers to a period's survey."""

    respondents: int
    answer_total: int  # sum over responses of the six answers
    means: dict[str, float]  # per question

    @property
    def overall(self) -> float:
        return sum(self.means.values()) / len(self.means)


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
            **{name: Avg(name) for name in PULSE_FIELDS},
        )
        .order_by()
    )
    sides: dict[int, dict[str, PublishedSide]] = {pk: {} for pk in states}
    for row in rows:
        engagement_id = row["engagement_id"]
        if row["respondents"] >= thresholds[engagement_id]:
            sides[engagement_id][row["side"]] = PublishedSide(
                respondents=row["respondents"],
                answer_total=row["answer_total"],
                means={name: float(row[name]) for name in PULSE_FIELDS},
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
            "labels": [rating.field.replace("_", " ").capitalize() for rating, _ in self.rows],
            "rating_label": f"{self.rater.label} rating",
            "prediction_label": f"{self.rater.other_label} prediction",
            "ratings": [float(rating.mean) for rating, _ in self.rows],
            "predictions": [
                float(line.gap.prediction) if line and line.gap else None for _, line in self.rows
            ],
        }


def _mean(values: list[int]) -> Fraction:
    return Fraction(sum(values), len(values))


def _anonymous_order(texts: list[str]) -> list[str]:
    # By a hash of the text: stable between reads, unrelated to who wrote it or when.
    return sorted(texts, key=lambda text: hashlib.sha256(text.encode()).hexdigest())


def survey_report(
    engagement: Engagement, period: Period, today: date | None = None
) -> SurveyReport:
    """The survey report of `period`. Three queries (four without the scoring configuration)."""
    publication = survey_publications([engagement], period, today)[engagement.pk]
    threshold = publication.threshold
    rows = list(
        PulseResponse.objects.current()
        .filter(
            engagement=engagement,
            period_kind=period.kind,
            period_start=period.start,
            side__in=list(publication.sides),
        )
        .values("side", *PULSE_FIELDS, *MIRROR_FIELDS, "nps", *TEXT_FIELDS)
        .order_by()
    )
    by_side = {side: [row for row in rows if row["side"] == side] for side in publication.sides}
    labels = dict(Side.choices)
    sides = {}
    for side, answers in by_side.items():
        other = other_side(side)
        other_answers = by_side.get(other)
        mirror = []
        for field, question in PULSE_QUESTIONS if other_answers else ():
            predictions = [row[f"mirror_{field}"] for row in answers]
            predictions = [value for value in predictions if value is not None]
            gap = (
                mirror_gap(
                    rating=_mean([row[field] for row in other_answers]),
                    prediction=_mean(predictions),
                )
                if len(predictions) >= threshold
                else None
            )
            mirror.append(MirrorLine(field=field, question=question, gap=gap))
        scores = [row["nps"] for row in answers if row["nps"] is not None]
        sides[side] = SideReport(
            side=side,
            label=labels[side],
            other_label=labels[other],
            respondents=len(answers),
            statements=[
                StatementRating(
                    field=field,
                    question=question,
                    mean=_mean([row[field] for row in answers]),
                    distribution=distribution([row[field] for row in answers]),
                )
                for field, question in PULSE_QUESTIONS
            ],
            rnps=rnps(scores) if len(scores) >= threshold else None,
            texts={
                field: _anonymous_order([row[field] for row in answers if row[field]])
                for field in TEXT_FIELDS
            },
            mirror=mirror,
        )
    return SurveyReport(
        engagement=engagement,
        period=period,
        state=publication.state,
        threshold=threshold,
        sides=sides,
    )


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
