"""Trust scoring model, version 1 (PRODUCT.md §3), as pure functions.

No database, no clock: `today` arrives inside the inputs (as `as_of`). The
arithmetic is exact (fractions) so that bands and alerts are decided on
unrounded values and "rounded half up" means exactly that. Every score is
explained twice: in sentences for people, and as the inputs it was computed
from, serialised, which `recompute_from_explanation` deserialises and scores again.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction

from feedback.survey_report import (
    BLIND_SPOT,
    HIDDEN_STRENGTH,
    mirror_gap_of_sums,
    rnps,
    statement_label,
)
from relationships.models import other_side
from relationships.periods import Period
from relationships.scoring_config import DIMENSIONS, ScoringConfigValues
from scorecards.inputs import (
    GOAL_ORDER,
    SLA_ORDER,
    EngagementInputs,
    GoalInput,
    PreviousScore,
    PulseInput,
    SlaInput,
    deserialise,
    serialise,
)
from scorecards.models import MODEL_VERSION, Alert, Band

SIDES = ("client", "provider")
# Dimensions that have a score per side and make up the per-side score.
SIDED_DIMENSIONS = ("reliance", "transparency", "dedication")
BAND_ORDER = {Band.HEALTHY: 2, Band.WATCH: 1, Band.AT_RISK: 0}

ONE = Fraction(1)
ZERO = Fraction(0)


# ---------------------------------------------------------------- dates
def as_of_date(period: Period, today: date, engagement_end: date | None) -> date:
    """The earliest of the period's last day, today and the engagement's end."""
    return min(d for d in (period.end, today, engagement_end) if d is not None)


def contact_span(period: Period, engagement_start: date, as_of: date) -> tuple[date, date]:
    """From the later of P's first day and the engagement's start, to as_of (inclusive)."""
    return max(period.start, engagement_start), as_of


# ---------------------------------------------------------------- dimension formulas
# Each formula works on the integers it is defined on and builds one Fraction at the end:
# exact, without creating (and reducing) a Fraction for every intermediate step.
def checkins_expected(span_days: int, cadence_days: int) -> int:
    """How many days with a check-in the cadence asks for over the contact span."""
    return max(1, span_days // cadence_days)


def contact_score(span_days: int, cadence_days: int, held: int) -> Fraction:
    expected = checkins_expected(span_days, cadence_days)
    # 100 × min(1, held ÷ expected)
    return Fraction(100 * min(held, expected), expected)


def reliance_side_score(slas: Iterable[tuple[Decimal, int, int]]) -> Fraction | None:
    """slas: (weight, met, measurements) of one side's SLAs; None when the side has none."""
    # 100 × Σ(weight × met ÷ measurements) ÷ Σ weight
    rows = [(*w.as_integer_ratio(), met, n) for w, met, n in slas if n > 0]
    attained, attained_denominator = ratio_sum((w * met, d * n) for w, d, met, n in rows)
    total_weight, total_weight_denominator = ratio_sum((w, d) for w, d, _, _ in rows)
    if total_weight == 0:
        return None
    return Fraction(100 * attained * total_weight_denominator, attained_denominator * total_weight)


def ratio_score(hits: int, total: int) -> Fraction | None:
    return Fraction(100 * hits, total) if total else None


def goal_expected(start: date, due: date, as_of: date) -> Fraction:
    if due <= start:
        return ONE if as_of >= due else ZERO
    # (as_of − start) ÷ (due − start) in days, clamped to 0…1
    length = (due - start).days
    return Fraction(min(max((as_of - start).days, 0), length), length)


def goal_actual(achieved_on: date | None, latest_percent: int | None, as_of: date) -> Fraction:
    if achieved_on is not None and achieved_on <= as_of:
        return ONE
    return Fraction(latest_percent or 0, 100)


def alignment_score(goals: Iterable[tuple[Fraction, Fraction]]) -> Fraction | None:
    """100 × the mean goal score over (expected, actual) of each goal; None without goals.

    goal score = min(1, actual ÷ expected), 1 when expected is 0.
    """
    scores = [_goal_score(expected, actual) for expected, actual in goals]
    if not scores:
        return None
    numerator, denominator = ratio_sum(scores)
    return Fraction(100 * numerator, denominator * len(scores))


def _goal_score(expected: Fraction, actual: Fraction) -> tuple[int, int]:
    """min(1, actual ÷ expected), 1 when expected is 0, as (numerator, denominator)."""
    if expected == 0:
        return 1, 1
    actual_numerator, actual_denominator = actual.as_integer_ratio()
    expected_numerator, expected_denominator = expected.as_integer_ratio()
    score, score_denominator = (
        actual_numerator * expected_denominator,
        actual_denominator * expected_numerator,
    )
    return min(score, score_denominator), score_denominator


def sentiment_view(respondents: int, answer_total: int) -> Fraction | None:
    """Mean over responses of (mean answer − 1) ÷ 4 × 100, from the side's answer total."""
    if respondents <= 0:
        return None
    # mean answer = answer_total ÷ answers; (mean answer − 1) ÷ 4 × 100 over that denominator
    answers = 6 * respondents
    return Fraction(25 * (answer_total - answers), answers)


def mean(values: Iterable[Fraction | None]) -> Fraction | None:
    """The mean of the values that are not None; None when there are none."""
    present = [value.as_integer_ratio() for value in values if value is not None]
    if not present:
        return None
    numerator, denominator = ratio_sum(present)
    return Fraction(numerator, denominator * len(present))


def weighted_mean(
    scores: Mapping[str, Fraction | None], weights: Mapping[str, int]
) -> Fraction | None:
    """Σ weight × score ÷ Σ weight over the scores with data (None if those weights sum to 0).

    `weights` are integers (`integer_weights`): only the scores' denominators multiply up.
    """
    present = [
        (weights[name], *s.as_integer_ratio()) for name, s in scores.items() if s is not None
    ]
    total_weight = sum([weight for weight, _, _ in present])
    if total_weight == 0:
        return None
    numerator, denominator = ratio_sum((w * n, d) for w, n, d in present)
    return Fraction(numerator, denominator * total_weight)


def ratio_sum(terms: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """Σ numerator ÷ denominator over the terms, exactly, as one integer pair (0, 1 if none).

    Nothing is reduced on the way: the one Fraction each formula builds at the end does it.
    """
    numerator, denominator = 0, 1
    for term_numerator, term_denominator in terms:
        numerator = numerator * term_denominator + term_numerator * denominator
        denominator *= term_denominator
    return numerator, denominator


@functools.lru_cache(maxsize=4096)
def exact(number: float) -> Fraction:
    """A configured number as the decimal a person typed (0.1 is 1/10, not its float).

    Cached: the same few limits are parsed for every engagement (saves ~20 µs a scorecard,
    a tenth of scoring it).
    """
    return Fraction(str(number))


def integer_weights(config: ScoringConfigValues) -> dict[str, int]:
    """The exact weights times their common denominator (cached per set of weights; read only).

    Weighted means and coverage are ratios of weight sums, which scaling every weight by
    the same factor leaves unchanged; integer weights keep those sums cheap.
    """
    return _integer_weights(tuple(config.weights.items()))


# Cached: saves ~25 µs a scorecard (a seventh of scoring it); engagements share weights.
@functools.lru_cache(maxsize=1024)
def _integer_weights(weights: tuple[tuple[str, float], ...]) -> dict[str, int]:
    exact_weights = [(name, exact(weight)) for name, weight in weights]
    scale = math.lcm(*(weight.denominator for _, weight in exact_weights))
    return {name: int(weight * scale) for name, weight in exact_weights}


def band_for(overall: Fraction | None, coverage: Fraction, config: ScoringConfigValues) -> str:
    if coverage < exact(config.min_coverage) or overall is None:
        return Band.INSUFFICIENT_DATA
    if overall >= exact(config.healthy_at):
        return Band.HEALTHY
    if overall >= exact(config.watch_at):
        return Band.WATCH
    return Band.AT_RISK


def round_half_up(value: Fraction | None, places: int) -> Decimal | None:
    if value is None:
        return None
    numerator, denominator = value.as_integer_ratio()
    return _round_ratio(numerator, denominator, places)


def _round_ratio(numerator: int, denominator: int, places: int) -> Decimal:
    """numerator ÷ denominator (denominator > 0) rounded half up to `places` decimals."""
    # floor(|n/d| × 10^places + 1/2) in integers: called ~30 times per scorecard.
    magnitude = (2 * abs(numerator) * 10**places + denominator) // (2 * denominator)
    return Decimal(magnitude if numerator >= 0 else -magnitude).scaleb(-places)


# ---------------------------------------------------------------- result
@dataclass
class ScoreResult:
    dimensions: dict[str, Fraction | None]
    side_dimensions: dict[str, dict[str, Fraction | None]]
    sides: dict[str, Fraction | None]
    sentiment_views: dict[str, Fraction | None]
    overall: Fraction | None
    coverage: Fraction
    band: str
    perception_gap: Fraction | None
    trend: Fraction | None
    explanation: dict = field(default_factory=dict)

    def stored_fields(self) -> dict:
        fields = {name: round_half_up(self.dimensions[name], 1) for name in DIMENSIONS}
        fields.update(
            client_score=round_half_up(self.sides["client"], 1),
            provider_score=round_half_up(self.sides["provider"], 1),
            overall=round_half_up(self.overall, 1),
            band=self.band,
            coverage=round_half_up(self.coverage, 2),
            perception_gap=round_half_up(self.perception_gap, 1),
            trend=round_half_up(self.trend, 1),
        )
        return fields


def _combine(
    dimensions: dict[str, Fraction | None],
    side_dimensions: dict[str, dict[str, Fraction | None]],
    sentiment_views: dict[str, Fraction | None],
    config: ScoringConfigValues,
    previous_overall: Fraction | None,
) -> ScoreResult:
    weights = integer_weights(config)
    overall = weighted_mean(dimensions, weights)
    with_data = sum([weights[name] for name, score in dimensions.items() if score is not None])
    coverage = Fraction(with_data, sum(weights.values()))
    sides = {side: weighted_mean(side_dimensions[side], weights) for side in SIDES}
    client_view, provider_view = [sentiment_views.get(side) for side in SIDES]
    gap = (
        abs(client_view - provider_view)
        if client_view is not None and provider_view is not None
        else None
    )
    trend = (
        overall - previous_overall if overall is not None and previous_overall is not None else None
    )
    return ScoreResult(
        dimensions=dimensions,
        side_dimensions=side_dimensions,
        sides=sides,
        sentiment_views=sentiment_views,
        overall=overall,
        coverage=coverage,
        band=band_for(overall, coverage, config),
        perception_gap=gap,
        trend=trend,
    )


# ---------------------------------------------------------------- the model
def score_engagement(
    inputs: EngagementInputs,
    config: ScoringConfigValues,
    previous: PreviousScore | None = None,
    *,
    data: dict | None = None,
) -> ScoreResult:
    """Score one engagement for one period, with its explanation; the one scoring path.
    data: serialise(inputs, config, previous), if the caller has it already."""
    as_of = inputs.as_of
    contact = inputs.contact
    if contact.span_start > as_of:
        raise ValueError("The engagement starts after as_of: no scorecard for this period.")
    slas = sorted(inputs.slas, key=SLA_ORDER)
    side_dimensions: dict[str, dict[str, Fraction | None]] = {}
    views: dict[str, Fraction | None] = {}
    for side in SIDES:
        issues = inputs.transparency.get(side)
        items = inputs.dedication.get(side)
        side_dimensions[side] = {
            "reliance": reliance_side_score(
                (s.weight, s.met, s.measurements) for s in slas if s.side == side
            ),
            "transparency": ratio_score(issues.hits, issues.total) if issues else None,
            "dedication": ratio_score(items.hits, items.total) if items else None,
        }
        pulse = inputs.pulse.get(side)
        views[side] = sentiment_view(pulse.respondents, pulse.answer_total) if pulse else None
    goals = [
        (
            g,
            goal_expected(g.start_date, g.due_date, as_of),
            goal_actual(g.achieved_on, g.latest_percent, as_of),
        )
        for g in sorted(inputs.goals, key=GOAL_ORDER)
    ]
    dimensions = {
        "reliance": mean([side_dimensions[side]["reliance"] for side in SIDES]),
        "contact": contact_score(
            (as_of - contact.span_start).days + 1, contact.cadence_days, contact.held
        ),
        "transparency": mean([side_dimensions[side]["transparency"] for side in SIDES]),
        "dedication": mean([side_dimensions[side]["dedication"] for side in SIDES]),
        "alignment": alignment_score((expected, actual) for _, expected, actual in goals),
        "sentiment": mean(views.values()),
    }
    previous_overall = (
        Fraction(previous.overall) if previous and previous.overall is not None else None
    )
    result = _combine(dimensions, side_dimensions, views, config, previous_overall)
    data = serialise(inputs, config, previous) if data is None else data
    result.explanation = _explain(inputs, config, previous, result, slas, goals, data)
    return result


def recompute_from_explanation(explanation: dict) -> dict:
    """The stored score fields, rescored from nothing but a stored explanation's data."""
    return score_engagement(*deserialise(explanation["data"])).stored_fields()


# ---------------------------------------------------------------- explanation
def _fmt(value: Fraction | None) -> str:
    # str() of these Decimals is what formatting them gives, with less machinery.
    return "no data" if value is None else str(round_half_up(value, 1))


def _percent(value: Fraction) -> str:
    """round_half_up(value × 100, 0) as text, without building the product."""
    numerator, denominator = value.as_integer_ratio()
    return str(_round_ratio(100 * numerator, denominator, 0))


def _plain(number: Decimal) -> str:
    """A stored decimal without trailing zeros (24.000000 → "24")."""
    return f"{number.normalize():f}"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_text(day: date) -> str:
    """A date as the pages show dates (Django's "j M Y" in en-GB): "2 Dec 2026". Fixed
    month names, not the locale's, so the text is the same wherever it is computed."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def count_text(number: int, noun: str) -> str:
    """A count with its noun in the singular or the plural: "1 day", "3 days"."""
    return f"{number} {noun if number == 1 else noun + 's'}"


# The sentences of the two "hits of total" dimensions: with counts, and without any.
_RATIO_SENTENCES = {
    "transparency": (
        "The {side} side raised {hits} of the {total} it was responsible for.",
        "issue",
        "No issues with the {side} side responsible were raised in this period.",
    ),
    "dedication": (
        "The {side} side completed {hits} of its {total} due so far on time.",
        "action item",
        "No {side} action items were due in this period so far.",
    ),
}


def _survey_sentences(side: str, pulse: PulseInput) -> list[str]:
    """What the survey's optional answers add to the words (PRODUCT.md §8; not scored):
    the side's relationship NPS, and where its view of itself parts from the other's."""
    other = other_side(side)
    sentences = []
    if pulse.nps and (nps := rnps(*pulse.nps)):
        sample = "; a small sample" if nps.small_sample else ""
        sentences.append(
            f"The {side}'s relationship NPS for the {other} is {nps.score:+.0f} "
            f"({count_text(nps.promoters, 'promoter')}, {count_text(nps.passives, 'passive')}, "
            f"{count_text(nps.detractors, 'detractor')}; 90% interval {nps.low:+.0f} to "
            f"{nps.high:+.0f}{sample})."
        )
    notable = 0
    for name, sums in sorted(pulse.mirror.items()):
        gap = mirror_gap_of_sums(*sums)
        if gap.category in (BLIND_SPOT, HIDDEN_STRENGTH):
            notable += 1
            sentences.append(
                f"{gap.label} of the {side} on '{statement_label(name)}': it expected "
                f"{_fmt(gap.prediction)}, the {other} rated it {_fmt(gap.rating)}."
            )
    if pulse.mirror and not notable:
        sentences.append(
            f"The {side}'s predictions of how the {other} rates it are within a point of "
            f"the {other}'s ratings on {count_text(len(pulse.mirror), 'statement')}."
        )
    return sentences


def _explain(
    inputs: EngagementInputs,
    config: ScoringConfigValues,
    previous: PreviousScore | None,
    result: ScoreResult,
    slas: list[SlaInput],
    goals: list[tuple[GoalInput, Fraction, Fraction]],
    data: dict,
) -> dict:
    """The score in sentences, with the serialised inputs it was computed from as its data."""
    as_of = inputs.as_of
    contact = inputs.contact
    span_days = (as_of - contact.span_start).days + 1
    expected = checkins_expected(span_days, contact.cadence_days)
    text: dict[str, list[str]] = {name: [] for name in DIMENSIONS}
    every = "day" if contact.cadence_days == 1 else f"{contact.cadence_days} days"
    text["contact"].append(
        f"{count_text(contact.held, 'day')} with a check-in from {day_text(contact.span_start)} "
        f"to {day_text(as_of)} ({count_text(span_days, 'day')}); a check-in every {every} "
        f"means {expected} expected."
    )
    reliance_text = text["reliance"]
    for s in slas:
        op = "≥" if s.direction == "higher_is_better" else "≤"
        disputed = ""
        if s.disputed:  # "met 3 of 4, 1 value disputed by the provider."
            disputed = f", {count_text(s.disputed, 'value')} disputed by the {s.side}"
        reliance_text.append(
            f"{s.side} SLA '{s.name}' (target {op} {_plain(s.target)} "
            f"{s.unit}, weight {_plain(s.weight)}) met {s.met} of {s.measurements}{disputed}."
        )
    sides_with_slas = {s.side for s in slas}
    for side in SIDES:
        if side not in sides_with_slas:
            reliance_text.append(f"No {side} SLA has measurements in this period.")
        for name, (counted, noun, none) in _RATIO_SENTENCES.items():
            counts = getattr(inputs, name).get(side)
            text[name].append(
                counted.format(side=side, hits=counts.hits, total=count_text(counts.total, noun))
                if counts
                else none.format(side=side)
            )
        p = inputs.pulse.get(side)
        if not inputs.final:
            text["sentiment"].append(f"The {side} view is published when the period closes.")
        elif p is None:
            # Says the same for none and for too few: below the threshold, nothing shows.
            text["sentiment"].append(
                f"Fewer than {count_text(inputs.survey_threshold, f'{side} response')}: not shown "
                "(anonymity threshold)."
            )
        else:
            text["sentiment"].append(
                f"The {side} view is {_fmt(result.sentiment_views[side])} from "
                f"{count_text(p.respondents, 'response')}."
            )
            text["sentiment"].extend(_survey_sentences(side, p))
    for g, exp, act in goals:
        text["alignment"].append(
            f"Goal '{g.title}': expected {_percent(exp)}% by {day_text(as_of)}, "
            f"actual {_percent(act)}%" + (" (achieved)." if act == 1 and g.achieved_on else ".")
        )
    if not goals:
        text["alignment"].append("No shared goals are in progress in this period.")
    weights = config.weights
    dimensions = {
        name: {
            "score": _float(result.dimensions[name]),
            "weight": weights[name],
            "text": text[name],
        }
        for name in DIMENSIONS
    }
    for name in SIDED_DIMENSIONS:
        dimensions[name]["sides"] = {
            side: _float(result.side_dimensions[side][name]) for side in SIDES
        }
    dimensions["sentiment"]["views"] = {
        side: _float(result.sentiment_views[side]) for side in SIDES
    }
    missing = [name for name in DIMENSIONS if result.dimensions[name] is None]
    summary = [
        f"Overall {_fmt(result.overall)} ({result.band.replace('_', ' ')}), coverage "
        f"{round_half_up(result.coverage, 2)}"
        + (f"; no data for {', '.join(missing)}." if missing else ".")
    ]
    if result.trend is not None:
        summary.append(f"Change since the previous period: {round_half_up(result.trend, 1):+}.")
    if result.perception_gap is not None:
        summary.append(f"Client and provider views differ by {_fmt(result.perception_gap)} points.")
    return {
        "model_version": MODEL_VERSION,
        "engagement": inputs.name,
        "summary": summary,
        "dimensions": dimensions,
        "sides": {
            side: {
                "score": _float(result.sides[side]),
                "text": [
                    f"{name}: {_fmt(result.side_dimensions[side][name])}"
                    for name in SIDED_DIMENSIONS
                ],
            }
            for side in SIDES
        },
        "data": data,
    }


def _float(value: Fraction | None) -> float | None:
    if value is None:
        return None
    # The same correctly rounded division float(value) does, with fewer calls around it.
    numerator, denominator = value.as_integer_ratio()
    return numerator / denominator


# ---------------------------------------------------------------- alerts
@dataclass(frozen=True)
class AlertSpec:
    kind: str
    side: str  # "" when the alert is about the engagement as a whole
    message: str
    details: dict


def alerts_for(
    inputs: EngagementInputs, result: ScoreResult, previous: PreviousScore | None
) -> list[AlertSpec]:
    """The alerts this scorecard supports (PRODUCT.md §3). Only contact_gap is live; the
    others are decided on closed periods, never on a provisional figure (PRODUCT.md §6)."""
    alerts: list[AlertSpec] = []
    name = inputs.name
    final = inputs.final
    if (
        final
        and previous is not None
        and previous.band in BAND_ORDER
        and result.band in BAND_ORDER
        and BAND_ORDER[result.band] < BAND_ORDER[previous.band]
    ):
        alerts.append(
            AlertSpec(
                Alert.Kind.BAND_DROP,
                "",
                f"{name} dropped from {previous.band.replace('_', ' ')} to "
                f"{result.band.replace('_', ' ')}.",
                {"previous_band": previous.band, "band": result.band},
            )
        )
    if final and result.trend is not None and result.trend <= -10:
        alerts.append(
            AlertSpec(
                Alert.Kind.SCORE_DROP,
                "",
                f"{name}'s overall score fell by {_fmt(-result.trend)} points.",
                {"trend": _float(result.trend), "overall": _float(result.overall)},
            )
        )
    if final and result.perception_gap is not None and result.perception_gap >= 25:
        alerts.append(
            AlertSpec(
                Alert.Kind.PERCEPTION_GAP,
                "",
                f"Client and provider see {name} {_fmt(result.perception_gap)} points apart.",
                {
                    "perception_gap": _float(result.perception_gap),
                    "views": {s: _float(v) for s, v in result.sentiment_views.items()},
                },
            )
        )
    contact = inputs.contact
    last = contact.last_checkin_on
    if last is None or (inputs.as_of - last).days > 2 * contact.cadence_days:
        alerts.append(
            AlertSpec(
                Alert.Kind.CONTACT_GAP,
                "",
                f"No check-in on {name} since {day_text(last)}."
                if last
                else f"{name} has never had a check-in.",
                {
                    "last_checkin_on": last.isoformat() if last else None,
                    "days_since": (inputs.as_of - last).days if last else None,
                    "cadence_days": contact.cadence_days,
                },
            )
        )
    for side in SIDES:
        reliance = result.side_dimensions[side]["reliance"]
        if final and reliance is not None and reliance < 50:
            alerts.append(
                AlertSpec(
                    Alert.Kind.SIDE_RELIANCE_LOW,
                    side,
                    f"The {side} side of {name} met its SLAs only {_fmt(reliance)}% (weighted).",
                    {"reliance": _float(reliance)},
                )
            )
    return alerts
