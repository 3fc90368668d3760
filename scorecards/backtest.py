"""What-if and back-test (PRODUCT.md §7): other terms tried on an engagement's past.

Reads only; nothing here writes. A scoring back-test rescores each stored scorecard
from the inputs stored with it (its explanation's data), so it shows exactly what the
same record would have scored under the other weights and band limits. An SLA target
back-test counts the SLA's current values of each closed period under its own target
and under the proposed one.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from django.core.exceptions import ValidationError
from django.db.models import Count, Q

from relationships.models import SLA, Engagement
from relationships.periods import Period
from relationships.scoring_config import (
    BAND_LIMITS,
    ScoringConfigValues,
    config_values,
    setting_problem,
)
from scorecards.inputs import deserialise
from scorecards.models import Scorecard
from scorecards.scoring import round_half_up, score_engagement
from scorecards.selectors import scorecard_history

# How many closed periods a back-test looks at (PRODUCT.md §7).
CLOSED_PERIODS = 12


# ---------------------------------------------------------------- scoring configuration
@dataclass(frozen=True)
class ScoringBacktestRow:
    """A period's stored overall and band beside those rescored under another configuration."""

    period: Period
    status: str  # Scorecard.Status: final, or provisional ("so far")
    stored_overall: Decimal | None
    stored_band: str
    overall: Decimal | None  # rescored
    band: str  # rescored
    difference: Decimal | None  # rescored − stored overall

    @property
    def band_changed(self) -> bool:
        return self.band != self.stored_band

    @property
    def is_final(self) -> bool:
        return self.status == Scorecard.Status.FINAL


def whatif_config(
    *, engagement: Engagement, weights: dict, band_limits: dict
) -> ScoringConfigValues:
    """The configuration in force with these weights and band limits instead; names left
    out keep their values. ValidationError keyed `weights` or `band_limits`, by the rules of
    the scoring configuration (relationships.scoring_config)."""
    current = engagement.scoring_config_values()
    proposed = {
        "weights": {**current.weights, **weights},
        "band_limits": {
            **{name: getattr(current, name) for name in BAND_LIMITS},
            **band_limits,
        },
    }
    errors = {
        name: problem
        for name, value in proposed.items()
        if (problem := setting_problem(name, value))
    }
    if errors:
        raise ValidationError(errors)
    return config_values(
        **proposed, survey_threshold=current.survey_threshold, grace_days=current.grace_days
    )


def backtest_scorecards(engagement: Engagement) -> list[Scorecard]:
    """The newest provisional scorecard (if newer than every final one), then the last
    `CLOSED_PERIODS` final ones, newest first: two queries."""
    history = scorecard_history(engagement).only(
        "engagement",
        "period_kind",
        "period_start",
        "period_end",
        "status",
        "overall",
        "band",
        "explanation",
    )
    finals = list(history.filter(status=Scorecard.Status.FINAL)[:CLOSED_PERIODS])
    provisional = (
        history.filter(status=Scorecard.Status.PROVISIONAL)
        .filter(period_start__gt=finals[0].period_start if finals else date.min)
        .first()
    )
    return [provisional, *finals] if provisional else finals


def scoring_backtest(*, engagement: Engagement, config: ScoringConfigValues) -> list:
    """Each back-tested period's stored overall and band beside those rescored under
    `config` from the scorecard's stored inputs, newest first (ScoringBacktestRow)."""
    return [rescored(scorecard, config) for scorecard in backtest_scorecards(engagement)]


def rescored(scorecard: Scorecard, config: ScoringConfigValues) -> ScoringBacktestRow:
    """The scorecard beside its stored inputs scored under `config` (the previous score
    it stored kept: it moves only the trend)."""
    overall, band = None, ""
    data = scorecard.explanation.get("data")
    if data is not None:  # every computed scorecard stores its inputs
        inputs, _, previous = deserialise(data)
        fields = score_engagement(inputs, config, previous).stored_fields()
        overall, band = fields["overall"], fields["band"]
    both = None not in (overall, scorecard.overall)
    return ScoringBacktestRow(
        period=scorecard.period,
        status=scorecard.status,
        stored_overall=scorecard.overall,
        stored_band=scorecard.band,
        overall=overall,
        band=band,
        difference=overall - scorecard.overall if both else None,
    )


# ---------------------------------------------------------------- SLA target
@dataclass(frozen=True)
class SlaBacktestRow:
    """A closed period's values of one SLA, and how many met its target now and proposed."""

    period: Period
    measured: int
    met_now: int
    met_proposed: int

    @property
    def percent_now(self) -> Decimal | None:
        return _percent(self.met_now, self.measured)

    @property
    def percent_proposed(self) -> Decimal | None:
        return _percent(self.met_proposed, self.measured)


def _percent(met: int, measured: int) -> Decimal | None:
    return round_half_up(Fraction(100 * met, measured), 1) if measured else None


def closed_periods(engagement: Engagement, count: int = CLOSED_PERIODS) -> list[Period]:
    """The engagement's last `count` closed periods, newest first (fewer if it started later)."""
    periods: list[Period] = []
    period = engagement.latest_closed_period()
    while len(periods) < count and period.end >= engagement.start_date:
        periods.append(period)
        period = period.previous()
    return periods


def sla_target_backtest(*, sla: SLA, target: Decimal, direction: str | None = None) -> list:
    """The SLA's attainment in each of its engagement's last closed periods, newest first,
    under its own target and under `target` (and `direction`, its own if None), from its
    current values whose period starts in each: one query (SlaBacktestRow)."""
    if direction is not None and direction not in SLA.Direction.values:
        raise ValidationError({"direction": f"Use one of {', '.join(SLA.Direction.values)}."})
    periods = closed_periods(sla.engagement)
    if not periods:
        return []
    current = Q(measurements__superseded_at__isnull=True)
    proposed = SLA.meets_target_q(target=target, direction=direction or sla.direction)
    counts = {}
    for index, period in enumerate(periods):
        within = current & Q(measurements__period_start__range=(period.start, period.end))
        counts |= {
            f"measured_{index}": Count("measurements__period_start", filter=within),
            f"now_{index}": Count(
                "measurements__period_start", filter=within & SLA.meets_target_q()
            ),
            f"proposed_{index}": Count("measurements__period_start", filter=within & proposed),
        }
    figures = SLA.objects.filter(pk=sla.pk).aggregate(**counts)
    return [
        SlaBacktestRow(
            period=period,
            measured=figures[f"measured_{index}"],
            met_now=figures[f"now_{index}"],
            met_proposed=figures[f"proposed_{index}"],
        )
        for index, period in enumerate(periods)
    ]
