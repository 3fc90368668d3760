"""Computing and storing one period's scorecards for a chunk of engagements.

The database side of the scoring model: `load_inputs` reads everything the
model needs with a fixed number of set-based queries (aggregates per
engagement and side in the database), `compute_chunk` scores each engagement
with the pure model and writes scorecards, alerts, stale signatures and outbox
events in one transaction, so nothing partial is ever visible.
"""

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import astuple, dataclass
from datetime import date

import orjson
from django.db import connection, transaction
from django.db.models import Case, Count, F, Max, OuterRef, Q, Subquery, Value, When
from django.db.models.fields import DateField
from django.utils import timezone

from core.memory import collector_paused
from feedback.models import ActionItem, CheckIn, Issue
from feedback.selectors import PublishedSide, survey_publications
from relationships.disputes import open_disputes_count
from relationships.models import SLA, Engagement, GoalProgress, SharedGoal, other_side
from relationships.periods import CLOSED, Period, period_starting
from relationships.scoring_config import ScoringConfigValues
from relationships.terms_in_force import SlaTerms, scoring_configs_in_force, sla_terms_in_force
from scorecards import events, latest, scoring, signals
from scorecards.fields import dumps
from scorecards.inputs import (
    ContactInput,
    EngagementInputs,
    GoalInput,
    PreviousScore,
    PulseInput,
    RatioInput,
    SlaInput,
    serialise,
)
from scorecards.models import MODEL_VERSION, Alert, OutboxEvent, Scorecard, ScorecardReview
from scorecards.webhooks import outbox

# The Scorecard columns that hold the model's results (scoring.stored_fields() keys).
SCORE_FIELDS = (
    "contact",
    "reliance",
    "transparency",
    "dedication",
    "alignment",
    "sentiment",
    "client_score",
    "provider_score",
    "overall",
    "band",
    "coverage",
    "perception_gap",
    "trend",
)
# Everything a recompute writes; it rewrites a row only when its inputs, configuration,
# model or previous score changed (see _computed_from).
WRITTEN_FIELDS = (
    *SCORE_FIELDS,
    "period_end",
    "as_of",
    "explanation",
    "previous_overall",
    "previous_band",
    "model_version",
    "config",
    "inputs_digest",
    "computed_at",
    "status",
)


@dataclass(frozen=True)
class ChunkResult:
    scorecards_written: int = 0
    alerts_raised: int = 0
    skipped_frozen: int = 0


# ---------------------------------------------------------------- reading inputs
def _as_of_by_engagement(
    engagements: Iterable[Engagement], period: Period, today: date | None
) -> dict[int, date]:
    """as_of per engagement; engagements with nothing to score in P are left out.

    Nothing to score: the engagement starts after as_of, or as_of is before P
    (the engagement ended before the period, or the period lies in the future).
    """
    as_of = {}
    for engagement in engagements:
        day = scoring.as_of_date(period, today or engagement.today(), engagement.end_date)
        if engagement.start_date <= day and day >= period.start:
            as_of[engagement.pk] = day
    return as_of


def _up_to_as_of(as_of: dict[int, date], field: str, engagement_path: str = "engagement_id") -> Q:
    """`field` <= each engagement's own as_of, as one condition.

    Engagements of a chunk share a few as_of values at most (end dates, time
    zones), so the condition has one term per distinct value, not per engagement.
    """
    by_day: dict[date, list[int]] = defaultdict(list)
    for engagement_id, day in as_of.items():
        by_day[day].append(engagement_id)
    condition = Q(pk__in=[])
    for day, ids in sorted(by_day.items()):
        condition |= Q(**{f"{engagement_path}__in": ids, f"{field}__lte": day})
    return condition


def _as_of_expression(as_of: dict[int, date], engagement_path: str) -> Case:
    by_day: dict[date, list[int]] = defaultdict(list)
    for engagement_id, day in as_of.items():
        by_day[day].append(engagement_id)
    return Case(
        *[
            When(**{f"{engagement_path}__in": ids}, then=Value(day))
            for day, ids in sorted(by_day.items())
        ],
        output_field=DateField(),
    )


def _by_engagement(rows, make) -> dict[int, list]:
    """(engagement_id, *fields) rows → make(*fields), grouped by engagement, in row order."""
    grouped = defaultdict(list)
    for engagement_id, *fields in rows:
        grouped[engagement_id].append(make(*fields))
    return grouped


def sla_attainment(ids, period: Period, terms: dict[int, SlaTerms] | None = None):
    """(engagement_id, SlaInput fields...) of the engagements' SLAs with current measurements
    whose period start is in P, in explanation order. `terms`: by SLA id, the terms in force
    for P where they differ from today's (relationships.terms_in_force); P's values meet those."""
    # Filtered before annotating: the counts cover the join's current measurements in P
    # only, and SLAs without any drop out. Counting a key column (never null) keeps the
    # measurements read off the covering (sla, period_start) index alone. Grouped by the
    # SLA's key alone (PostgreSQL): grouping by its details made it sort every measurement.
    terms = terms or {}
    rows = (
        SLA.objects.filter(
            engagement_id__in=ids,
            measurements__superseded_at__isnull=True,
            measurements__period_start__range=(period.start, period.end),
        )
        .annotate(
            measured=Count("measurements__period_start"),
            met=Count("measurements__period_start", filter=_meets_terms_in_force(terms)),
            # A subquery per SLA on the open disputes' own index (grouped by the SLA's
            # key, not by it): the measurements stay read off their covering index.
            disputed=open_disputes_count("pk", period),
        )
        .values_list(
            "engagement_id",
            "pk",
            "name",
            "owner_side",
            "direction",
            "target",
            "weight",
            "unit",
            "measured",
            "met",
            "disputed",
        )
        .order_by("engagement_id", "owner_side", "name", "pk")
    )
    if not terms:
        return rows
    # Columns 2 to 7 are the SLA's terms (SlaTerms' fields, in its order); then the counts.
    rows = [
        (*row[:2], *astuple(terms[row[1]]), *row[8:]) if row[1] in terms else row for row in rows
    ]
    return sorted(rows, key=lambda row: (row[0], row[3], row[2], row[1]))


def _meets_terms_in_force(terms: dict[int, SlaTerms]) -> Q:
    """On SLAs joined to their measurements: the measurement meets the target in force."""
    if not terms:
        return SLA.meets_target_q()
    meets = ~Q(pk__in=list(terms)) & SLA.meets_target_q()
    for pk, sla in terms.items():
        meets |= Q(pk=pk) & SLA.meets_target_q(target=sla.target, direction=sla.direction)
    return meets


def _checkin_dates(as_of, period: Period) -> dict[int, set[date]]:
    rows = (
        CheckIn.objects.filter(_up_to_as_of(as_of, "occurred_on"), occurred_on__gte=period.start)
        .values_list("engagement_id", "occurred_on")
        .distinct()
    )
    dates = defaultdict(set)
    for engagement_id, day in rows:
        dates[engagement_id].add(day)
    return dates


def _last_checkins(as_of) -> dict[int, date]:
    return dict(
        CheckIn.objects.filter(_up_to_as_of(as_of, "occurred_on"))
        .values("engagement_id")
        .annotate(last=Max("occurred_on"))
        .values_list("engagement_id", "last")
    )


def _ratios(queryset, side_field: str, hits: Q) -> dict[int, dict[str, RatioInput]]:
    ratios = defaultdict(dict)
    rows = (
        queryset.values("engagement_id", side_field)
        .annotate(hits=Count("id", filter=hits), total=Count("id"))
        .values_list("engagement_id", side_field, "hits", "total")
        .order_by()
    )
    for engagement_id, side, hit_count, total in rows:
        ratios[engagement_id][side] = RatioInput(hit_count, total)
    return ratios


def _transparency(as_of, period: Period):
    issues = Issue.objects.filter(_up_to_as_of(as_of, "raised_on"), raised_on__gte=period.start)
    return _ratios(issues, "responsible_side", Q(raised_by_side=F("responsible_side")))


def _dedication(as_of, period: Period):
    items = ActionItem.objects.filter(
        _up_to_as_of(as_of, "due_date"), due_date__gte=period.start, cancelled=False
    )
    return _ratios(items, "owner_side", Q(completed_on__lte=F("due_date")))


def _goals(as_of, period: Period) -> dict[int, list[GoalInput]]:
    latest_percent = (
        GoalProgress.objects.filter(goal=OuterRef("pk"), date__lte=OuterRef("as_of"))
        .order_by("-date", "-created_at", "-id")
        .values("percent")[:1]
    )
    rows = (
        SharedGoal.objects.filter(_up_to_as_of(as_of, "start_date"), cancelled=False)
        .filter(
            Q(due_date__gte=period.start)
            | Q(achieved_on__isnull=True)
            | Q(achieved_on__gte=period.start)
        )
        .annotate(as_of=_as_of_expression(as_of, "engagement_id"))
        .annotate(latest_percent=Subquery(latest_percent))
        .values_list(
            "engagement_id",
            "id",
            "title",
            "start_date",
            "due_date",
            "achieved_on",
            "latest_percent",
        )
        .order_by("engagement_id", "due_date", "id")
    )
    return _by_engagement(rows, GoalInput)


def load_inputs(
    engagements: Iterable[Engagement], period_kind: str, period_start: date, today: date | None
) -> dict[int, EngagementInputs]:
    """Everything the model reads for these engagements and period, in ten queries.

    `today` None means each engagement's own date in its time zone. Engagements
    with nothing to score in the period are absent from the result.
    """
    engagements = list(engagements)
    period = period_starting(period_kind, period_start)
    as_of = _as_of_by_engagement(engagements, period, today)
    if not as_of:
        return {}
    ids = list(as_of)
    scored = [engagement for engagement in engagements if engagement.pk in as_of]
    slas = _by_engagement(sla_attainment(ids, period, sla_terms_in_force(scored, period)), SlaInput)
    checkin_dates = _checkin_dates(as_of, period)
    last_checkins = _last_checkins(as_of)
    transparency = _transparency(as_of, period)
    dedication = _dedication(as_of, period)
    goals = _goals(as_of, period)
    surveys = survey_publications(scored, period, today)
    inputs = {}
    for engagement in engagements:
        if engagement.pk not in as_of:
            continue
        day = as_of[engagement.pk]
        span_start, span_end = scoring.contact_span(period, engagement.start_date, day)
        inputs[engagement.pk] = EngagementInputs(
            name=engagement.name,
            as_of=day,
            contact=ContactInput(
                span_start=span_start,
                cadence_days=engagement.checkin_cadence_days,
                held=len([d for d in checkin_dates[engagement.pk] if span_start <= d <= span_end]),
                last_checkin_on=last_checkins.get(engagement.pk),
            ),
            slas=tuple(slas[engagement.pk]),
            transparency=transparency[engagement.pk],
            dedication=dedication[engagement.pk],
            goals=tuple(goals[engagement.pk]),
            pulse=_pulse(surveys[engagement.pk].sides),
            final=surveys[engagement.pk].state == CLOSED,
            survey_threshold=surveys[engagement.pk].threshold,
        )
    return inputs


def _pulse(published: dict[str, PublishedSide]) -> dict[str, PulseInput]:
    """The published sides' survey inputs; a side's mirror needs the other side published."""
    pulse = {}
    for side, answers in published.items():
        rating = published.get(other_side(side))
        pulse[side] = PulseInput(
            respondents=answers.respondents,
            answer_total=answers.answer_total,
            nps=answers.nps,
            mirror=answers.mirror(rating) if rating else {},
        )
    return pulse


# ---------------------------------------------------------------- digests and values
def inputs_digest(data: dict) -> str:
    """A fingerprint of what a scorecard was computed from: its serialised inputs and
    configuration (`serialise`'s result, the explanation's data), without the previous
    score they name."""
    fingerprint = {**data, "previous": None}
    return hashlib.sha256(orjson.dumps(fingerprint, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _computed_from(scorecard: Scorecard, digest: str, previous) -> bool:
    """Whether the stored scorecard came from exactly these inputs, model and previous score.

    Scoring is a pure function of those, so such a scorecard would be rewritten unchanged.
    """
    recorded_previous = (
        PreviousScore(overall=scorecard.previous_overall, band=scorecard.previous_band)
        if scorecard.previous_band
        else None
    )
    return (
        scorecard.inputs_digest == digest
        and scorecard.model_version == MODEL_VERSION
        and recorded_previous == previous
    )


def _differs(existing: Scorecard, new: Scorecard, fields) -> bool:
    return any(getattr(existing, name) != getattr(new, name) for name in fields)


# ---------------------------------------------------------------- computing a chunk
def chunk_engagements(engagement_ids: Iterable[int]) -> list[Engagement]:
    """The chunk's engagements with what scoring and the events read of them, in id order."""
    return list(
        Engagement.objects.filter(pk__in=list(engagement_ids))
        .select_related("client", "provider", "scoring_config")
        .order_by("pk")
    )


@collector_paused()
def compute_chunk(
    engagement_ids: Iterable[int],
    period_kind: str,
    period_start: date,
    today: date | None = None,
    in_run: bool = False,
) -> ChunkResult:
    """Score one period for a chunk of engagements and store everything in one transaction.

    Idempotent: a rerun over unchanged inputs writes nothing and raises no
    event. Frozen (jointly signed) scorecards are left as they are; if their
    inputs changed since, they are flagged "changed since sign-off". in_run: a
    chunk of a run, whose close delivers the events (see scorecards.runs).
    """
    period = period_starting(period_kind, period_start)
    engagements = chunk_engagements(engagement_ids)
    inputs = load_inputs(engagements, period_kind, period.start, today)
    engagements = [engagement for engagement in engagements if engagement.pk in inputs]
    if not engagements:
        return ChunkResult()
    ids = [engagement.pk for engagement in engagements]
    previous = {
        engagement_id: PreviousScore(overall=overall, band=band)
        for engagement_id, overall, band in Scorecard.objects.filter(
            engagement_id__in=ids, period_kind=period.kind, period_start=period.previous().start
        ).values_list("engagement_id", "overall", "band")
    }
    # No savepoint inside a chunk task's transaction: any error there undoes the chunk.
    with transaction.atomic(savepoint=False):
        # Serialises concurrent computations of the same engagements; NO KEY so
        # that records being added to the engagements (FK checks) are not blocked.
        list(
            Engagement.objects.select_for_update(no_key=True)
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        existing = {
            scorecard.engagement_id: scorecard
            for scorecard in Scorecard.objects.filter(
                engagement_id__in=ids, period_kind=period.kind, period_start=period.start
            ).defer("explanation")  # kilobytes each, and not needed
        }
        configs = scoring_configs_in_force(engagements, period)
        writer = _ChunkWriter(period, existing, in_run=in_run)
        for engagement in engagements:
            pk = engagement.pk
            writer.add(engagement, inputs[pk], previous.get(pk), configs[pk])
        return writer.save()


# PostgreSQL array types of the columns _upsert writes; the other columns are numeric.
_ARRAY_TYPES = {
    "engagement_id": "bigint",
    "period_kind": "varchar",
    "period_start": "date",
    "period_end": "date",
    "as_of": "date",
    "band": "varchar",
    "status": "varchar",
    "explanation": "text",
    "previous_band": "varchar",
    "model_version": "integer",
    "config": "jsonb",
    "inputs_digest": "varchar",
    "computed_at": "timestamptz",
}
_JSON_COLUMNS = ("explanation", "config")


def _upsert(scorecards: list[Scorecard]) -> None:
    """Insert or update the chunk's scorecards in one statement, and set their ids.

    PostgreSQL: one array per column (INSERT ... SELECT FROM unnest), so neither Django nor
    the server handles 25 parameters per row (figures: benchmarks/RESULTS.md); elsewhere
    bulk_create's upsert, the same rows.
    """
    if not scorecards:
        return
    if connection.vendor != "postgresql":
        Scorecard.objects.bulk_create(
            scorecards,
            update_conflicts=True,
            unique_fields=["engagement", "period_kind", "period_start"],
            update_fields=list(WRITTEN_FIELDS),
        )
        return
    columns = ("engagement_id", "period_kind", "period_start", *WRITTEN_FIELDS)
    arrays = [
        [dumps(getattr(s, name)) if name in _JSON_COLUMNS else getattr(s, name) for s in scorecards]
        for name in columns
    ]
    casts = ", ".join(f"%s::{_ARRAY_TYPES.get(name, 'numeric')}[]" for name in columns)
    table = connection.ops.quote_name(Scorecard._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({casts}) "
            "ON CONFLICT (engagement_id, period_kind, period_start) DO UPDATE SET "
            + ", ".join(f"{name} = excluded.{name}" for name in WRITTEN_FIELDS)
            + " RETURNING engagement_id, id",
            arrays,
        )
        ids = dict(cursor.fetchall())
    for scorecard in scorecards:
        scorecard.pk = ids[scorecard.engagement_id]
        scorecard._state.adding = False


class _ChunkWriter:
    """Collects one chunk's scorecards and alerts, then writes them in a fixed number of queries."""

    def __init__(self, period: Period, existing: dict[int, Scorecard], in_run: bool):
        self.period = period
        self.existing = existing
        self.in_run = in_run
        self.now = timezone.now()
        self.engagements: dict[int, Engagement] = {}
        self.scorecards: list[Scorecard] = []
        self.changed_values: set[int] = set()  # engagements whose stored values changed
        self.alert_specs: dict[int, list] = {}
        self.frozen_changed: list[int] = []
        self.skipped_frozen = 0

    def add(
        self,
        engagement: Engagement,
        inputs: EngagementInputs,
        previous: PreviousScore | None,
        config: ScoringConfigValues,
    ) -> None:
        # Serialised once: the digest, then (if it changed) the explanation's data.
        data = serialise(inputs, config, previous)
        digest = inputs_digest(data)
        current = self.existing.get(engagement.pk)
        if current is not None and current.is_frozen:
            self.skipped_frozen += 1
            if current.inputs_digest != digest and current.changed_since_signoff_at is None:
                self.frozen_changed.append(current.pk)
            return
        if current is not None and _computed_from(current, digest, previous):
            return  # the same inputs, configuration, model and previous score: nothing to do
        self.engagements[engagement.pk] = engagement
        result = scoring.score_engagement(inputs, config, previous, data=data)
        scorecard = Scorecard(
            engagement=engagement,
            period_kind=self.period.kind,
            period_start=self.period.start,
            period_end=self.period.end,
            as_of=inputs.as_of,
            explanation=result.explanation,
            previous_overall=previous.overall if previous else None,
            previous_band=previous.band if previous else "",
            model_version=MODEL_VERSION,
            config=config.as_dict(),
            inputs_digest=digest,
            computed_at=self.now,
            status=Scorecard.Status.FINAL if inputs.final else Scorecard.Status.PROVISIONAL,
            **result.stored_fields(),
        )
        self.alert_specs[engagement.pk] = scoring.alerts_for(inputs, result, previous)
        if current is None or _differs(current, scorecard, SCORE_FIELDS):
            self.changed_values.add(engagement.pk)
        self.scorecards.append(scorecard)

    def save(self) -> ChunkResult:
        if self.frozen_changed:
            Scorecard.objects.filter(pk__in=self.frozen_changed).update(
                changed_since_signoff_at=self.now
            )
        _upsert(self.scorecards)
        latest.refresh([s.engagement_id for s in self.scorecards], self.period.kind)
        changed = [s for s in self.scorecards if s.engagement_id in self.changed_values]
        stale_ids = [
            self.existing[s.engagement_id].pk for s in changed if s.engagement_id in self.existing
        ]
        if stale_ids:
            ScorecardReview.objects.filter(
                scorecard_id__in=stale_ids,
                decision=ScorecardReview.Decision.SIGNED,
                stale_at__isnull=True,
            ).update(stale_at=self.now)
        raised = self._save_alerts(list(self.engagements))
        written = OutboxEvent.objects.bulk_create(
            [
                OutboxEvent(
                    kind=events.SCORECARD_COMPUTED,
                    engagement_id=s.engagement_id,
                    payload=events.scorecard_computed(self.engagements[s.engagement_id], s),
                )
                # The event announces a headline: a closed period's (PRODUCT.md §6).
                for s in changed
                if s.is_final
            ]
            + [
                OutboxEvent(
                    kind=events.ALERT_RAISED,
                    engagement_id=alert.engagement_id,
                    payload=events.alert_raised(self.engagements[alert.engagement_id], alert),
                )
                for alert in raised
            ]
        )
        if written:
            signals.events_written.send(sender=OutboxEvent, events=written)
        if written and not self.in_run:
            # Deliver right after commit; a run drains once, when it closes; the periodic
            # drain is the fallback.
            outbox.enqueue_drain()
        return ChunkResult(len(changed), len(raised), self.skipped_frozen)

    def _save_alerts(self, scored_ids: list[int]) -> list[Alert]:
        """Raise new alerts, reopen re-raised ones, resolve the ones no longer supported."""
        existing = {
            (a.engagement_id, a.kind, a.side): a
            for a in Alert.objects.filter(
                engagement_id__in=scored_ids,
                period_kind=self.period.kind,
                period_start=self.period.start,
            )
        }
        writes, raised, supported = [], [], set()
        for engagement_id, specs in self.alert_specs.items():
            for spec in specs:
                key = (engagement_id, spec.kind, spec.side)
                supported.add(key)
                alert = existing.get(key)
                still_open = alert is not None and alert.is_open
                if still_open and (alert.message, alert.details) == (spec.message, spec.details):
                    continue
                new = Alert(
                    engagement_id=engagement_id,
                    period_kind=self.period.kind,
                    period_start=self.period.start,
                    kind=spec.kind,
                    side=spec.side,
                    message=spec.message[:500],
                    details=spec.details,
                    raised_at=alert.raised_at if still_open else self.now,
                    resolved_at=None,
                    # A reopened alert needs acknowledging again.
                    acknowledged_at=alert.acknowledged_at if still_open else None,
                    acknowledged_by_id=alert.acknowledged_by_id if still_open else None,
                )
                writes.append(new)
                if not still_open:
                    raised.append(new)
        Alert.objects.bulk_create(
            writes,
            update_conflicts=True,
            unique_fields=["engagement", "period_kind", "period_start", "kind", "side"],
            update_fields=[
                "message",
                "details",
                "raised_at",
                "resolved_at",
                "acknowledged_at",
                "acknowledged_by",
            ],
        )
        no_longer_supported = [
            alert.pk for key, alert in existing.items() if alert.is_open and key not in supported
        ]
        if no_longer_supported:
            Alert.objects.filter(pk__in=no_longer_supported).update(resolved_at=self.now)
        return raised
