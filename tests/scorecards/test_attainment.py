"""Reliance counts measurements in the database: the boundaries of "meeting target"."""

from datetime import date
from decimal import Decimal

from relationships.measurements import MeasurementRow, measurements_import
from scorecards.compute import load_inputs
from tests.factories import MeasurementFactory, SLAFactory

MARCH = date(2026, 3, 1)


def reliance_rows(engagement):
    inputs = load_inputs([engagement], "month", MARCH, date(2026, 4, 10))[engagement.pk]
    return {s.name: (s.met, s.measurements) for s in inputs.slas}


def test_a_value_exactly_on_target_meets_it_in_both_directions(engagement):
    higher = SLAFactory(engagement=engagement, name="Availability", target=Decimal("99.5"))
    lower = SLAFactory(
        engagement=engagement,
        name="P1 response",
        direction="lower_is_better",
        target=Decimal("60"),
        owner_side="provider",
    )
    for day, up, down in ((1, "99.5", "60"), (2, "99.499999", "60.000001"), (3, "100", "0")):
        MeasurementFactory(sla=higher, period_start=date(2026, 3, day), value=Decimal(up))
        MeasurementFactory(sla=lower, period_start=date(2026, 3, day), value=Decimal(down))
    assert reliance_rows(engagement) == {"Availability": (2, 3), "P1 response": (2, 3)}


def test_only_current_values_with_a_period_start_in_the_period_count(engagement, client_manager):
    sla = SLAFactory(
        engagement=engagement, name="Approvals", owner_side="client", target=Decimal("90")
    )
    MeasurementFactory(
        sla=sla, period_start=date(2026, 2, 28), period_end=date(2026, 3, 6), value=Decimal("10")
    )
    MeasurementFactory(sla=sla, period_start=date(2026, 4, 1), value=Decimal("10"))
    MeasurementFactory(sla=sla, period_start=date(2026, 3, 31), value=Decimal("95"))
    # A miss, corrected to a hit: only the correction counts.
    measurements_import(
        rows=[MeasurementRow(sla.pk, date(2026, 3, 2), date(2026, 3, 2), Decimal("50"), "")],
        actor=client_manager,
        source="test",
    )
    measurements_import(
        rows=[MeasurementRow(sla.pk, date(2026, 3, 2), date(2026, 3, 2), Decimal("91"), "")],
        actor=client_manager,
        source="test",
    )
    assert reliance_rows(engagement) == {"Approvals": (2, 2)}


def test_an_inactive_sla_still_counts_its_measurements(engagement):
    sla = SLAFactory(engagement=engagement, name="Retired KPI", active=False, target=Decimal("1"))
    MeasurementFactory(sla=sla, period_start=MARCH, value=Decimal("0"))
    assert reliance_rows(engagement) == {"Retired KPI": (0, 1)}
