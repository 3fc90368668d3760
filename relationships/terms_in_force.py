"""The terms in force for a period (PRODUCT.md §7).

An accepted change applies from the period in progress on, and a closed period keeps the
terms it was scored under, even when it is computed again (a late value in its grace days,
a backfill). So a period is scored under its terms as they stood when it ended: the SLAs'
and the scoring configuration's history read as of the first moment after the period's
last day, in the engagement's time zone. For the period in progress that is today's terms;
only changes made since a period ended are set aside for it.

The survey threshold has its own rule (it applies to periods that begin after it was
agreed): `ScoringConfig.survey_thresholds`.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Subquery

from relationships.models import SLA, Engagement, ScoringConfig
from relationships.periods import Period
from relationships.scoring_config import ScoringConfigValues, config_values


@dataclass(frozen=True)
class SlaTerms:
    """What scoring reads of an SLA's terms."""

    name: str
    owner_side: str
    direction: str
    target: Decimal
    weight: Decimal
    unit: str


_SLA_TERMS = ("name", "owner_side", "direction", "target", "weight", "unit")
_CONFIG_TERMS = ("weights", "band_limits", "survey_threshold", "grace_days")


def period_ended_at(engagement: Engagement, period: Period) -> datetime:
    """The first moment after the period's last day, in the engagement's time zone."""
    return engagement.start_of(period.end + timedelta(days=1))


def _states_at_period_end(history, engagements: Iterable[Engagement], period: Period, fields):
    """{object id: (engagement id, history type, values)} of the objects of `history` (a
    simple-history manager of a model with an `engagement` key) changed since the period
    ended, each as it stood then; history type None for one created since, with the values
    it was created with."""
    ends = {engagement.pk: period_ended_at(engagement, period) for engagement in engagements}
    if not ends:
        return {}
    changed_since = history.filter(
        engagement_id__in=list(ends), history_date__gte=min(ends.values())
    ).values("id")
    rows = (
        history.filter(id__in=Subquery(changed_since))
        .order_by("id", "history_date", "history_id")
        .values_list("id", "engagement_id", "history_date", "history_type", *fields)
    )
    by_object = defaultdict(list)
    for row in rows:
        by_object[row[0]].append(row)
    states = {}
    for object_id, versions in by_object.items():
        engagement_id = versions[0][1]
        end = ends[engagement_id]
        if versions[-1][2] < end:
            continue  # unchanged since this engagement's period ended (another time zone's did)
        before = [version for version in versions if version[2] < end]
        kind, values = (before[-1][3], before[-1][4:]) if before else (None, versions[0][4:])
        states[object_id] = (engagement_id, kind, values)
    return states


def sla_terms_in_force(engagements: Iterable[Engagement], period: Period) -> dict[int, SlaTerms]:
    """By SLA id, the terms of the engagements' SLAs changed since the period ended, as they
    stood when it ended; SLAs absent from the result are in force as they are now. An SLA
    created since counts its values for the period under the terms it was created with."""
    return {
        sla_id: SlaTerms(*values)
        for sla_id, (_, _, values) in _states_at_period_end(
            SLA.history, engagements, period, _SLA_TERMS
        ).items()
    }


def scoring_configs_in_force(
    engagements: Iterable[Engagement], period: Period
) -> dict[int, ScoringConfigValues]:
    """By engagement id, the scoring configuration the period is scored under: as it stood
    when the period ended (the defaults if there was none then)."""
    engagements = list(engagements)
    configs = {engagement.pk: engagement.scoring_config_values() for engagement in engagements}
    states = _states_at_period_end(ScoringConfig.history, engagements, period, _CONFIG_TERMS)
    for engagement_id, kind, values in states.values():
        existed = kind is not None and kind != "-"
        configs[engagement_id] = config_values(*values) if existed else config_values()
    return configs
