"""A period is scored under the terms in force when it ended (PRODUCT.md §7): a change
agreed later applies from the period in progress on, and a closed period computed again
(a late value, a backfill) keeps the target and the weights it was scored under."""

from datetime import date
from decimal import Decimal

import pytest

from relationships.models import ScoringConfig
from scorecards.compute import compute_chunk, load_inputs
from scorecards.models import Scorecard
from tests.factories import EngagementFactory, MeasurementFactory, SLAFactory

MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)
# March is closed from 6 April (5 grace days); April is then in progress.
APRIL_10, MAY_10 = date(2026, 4, 10), date(2026, 5, 10)

pytestmark = pytest.mark.django_db


def _target_change(sla, target, *, on, day, hour=12):
    with on(day, hour):
        sla.target = Decimal(target)
        sla.save()


def _availability(engagement, on):
    """An SLA with target 99 since 1 March and two values in March and in April: 98.5 and
    99.5, so one of two meets 99 and both meet 98."""
    with on(MARCH):
        sla = SLAFactory(engagement=engagement, name="Availability", target=Decimal("99"))
    for month in (MARCH, APRIL):
        for day, value in ((2, "98.5"), (3, "99.5")):
            MeasurementFactory(sla=sla, period_start=month.replace(day=day), value=Decimal(value))
    return sla


def _sla_input(engagement, period_start, today):
    (sla,) = load_inputs([engagement], "month", period_start, today)[engagement.pk].slas
    return sla.target, sla.met, sla.measurements


def test_a_target_agreed_after_a_period_ended_does_not_reach_it(engagement, on):
    sla = _availability(engagement, on)
    _target_change(sla, "98", on=on, day=date(2026, 4, 3))
    assert _sla_input(engagement, MARCH, APRIL_10) == (Decimal("99"), 1, 2)
    assert _sla_input(engagement, APRIL, APRIL_10) == (Decimal("98"), 2, 2)


def test_a_target_agreed_during_a_period_applies_to_it(engagement, on):
    sla = _availability(engagement, on)
    _target_change(sla, "98", on=on, day=date(2026, 3, 20))
    assert _sla_input(engagement, MARCH, APRIL_10) == (Decimal("98"), 2, 2)


def test_recomputing_a_closed_period_after_a_change_rewrites_nothing(engagement, on):
    sla = _availability(engagement, on)
    with on(APRIL_10):
        compute_chunk([engagement.pk], "month", MARCH, APRIL_10)
    march = Scorecard.objects.get(engagement=engagement, period_start=MARCH)
    _target_change(sla, "98", on=on, day=date(2026, 4, 12))
    with on(date(2026, 4, 13)):
        result = compute_chunk([engagement.pk], "month", MARCH, date(2026, 4, 13))
    assert result.scorecards_written == 0
    march.refresh_from_db()
    assert Decimal(march.explanation["data"]["reliance"][0]["target"]) == 99


def test_the_periods_end_is_counted_in_the_engagements_time_zone(client_org, provider_org, on):
    auckland = EngagementFactory(
        client=client_org,
        provider=provider_org,
        name="Auckland desk",
        start_date=date(2026, 1, 1),
        status="active",
        time_zone="Pacific/Auckland",
    )
    utc = EngagementFactory(
        client=client_org, provider=provider_org, name="London desk", start_date=date(2026, 1, 1)
    )
    slas = [_availability(engagement, on) for engagement in (auckland, utc)]
    # 31 March 12:00 UTC is already 1 April in Auckland: its March had ended.
    for sla in slas:
        _target_change(sla, "98", on=on, day=date(2026, 3, 31))
    assert _sla_input(auckland, MARCH, APRIL_10) == (Decimal("99"), 1, 2)
    assert _sla_input(utc, MARCH, APRIL_10) == (Decimal("98"), 2, 2)


def test_an_sla_agreed_after_the_period_counts_its_values_under_its_first_terms(engagement, on):
    with on(date(2026, 4, 3)):
        sla = SLAFactory(engagement=engagement, name="Availability", target=Decimal("99"))
    MeasurementFactory(sla=sla, period_start=date(2026, 3, 2), value=Decimal("98.5"))
    _target_change(sla, "98", on=on, day=date(2026, 4, 4))
    assert _sla_input(engagement, MARCH, APRIL_10) == (Decimal("99"), 0, 1)


def _weights(engagement, reliance, *, on, day):
    with on(day):
        config, _ = ScoringConfig.objects.get_or_create(engagement=engagement)
        config.weights = {"reliance": reliance}
        config.save()


def test_weights_agreed_after_a_period_ended_do_not_reach_it(engagement, on):
    _availability(engagement, on)
    _weights(engagement, 50, on=on, day=MARCH)
    _weights(engagement, 90, on=on, day=date(2026, 4, 3))
    with on(MAY_10):
        compute_chunk([engagement.pk], "month", MARCH, MAY_10)
        compute_chunk([engagement.pk], "month", APRIL, MAY_10)
    configs = dict(
        Scorecard.objects.filter(engagement=engagement).values_list("period_start", "config")
    )
    assert configs[MARCH]["weights"]["reliance"] == 50
    assert configs[APRIL]["weights"]["reliance"] == 90


def test_a_period_ended_before_the_engagement_had_its_own_configuration_used_the_defaults(
    engagement, on
):
    _availability(engagement, on)
    _weights(engagement, 90, on=on, day=date(2026, 4, 3))
    with on(APRIL_10):
        compute_chunk([engagement.pk], "month", MARCH, APRIL_10)
    march = Scorecard.objects.get(engagement=engagement, period_start=MARCH)
    assert march.config["weights"]["reliance"] == 30
