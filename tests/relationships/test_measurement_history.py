"""Corrections through measurement_record keep the old value, superseded and linked."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from relationships.measurements import measurement_record
from relationships.models import ImportBatch, Measurement
from tests.factories import SLAFactory

JANUARY = {"period_start": date(2026, 1, 1), "period_end": date(2026, 1, 31)}


@pytest.fixture
def sla(engagement):
    return SLAFactory(engagement=engagement, name="Availability")


def record(sla, user, value):
    return measurement_record(sla=sla, value=Decimal(value), source="manual", user=user, **JANUARY)


@pytest.mark.django_db
def test_recording_the_same_value_again_changes_nothing(sla, provider_manager):
    first = record(sla, provider_manager, "99.7")
    again = record(sla, provider_manager, "99.7")
    assert again.pk == first.pk
    assert Measurement.objects.filter(sla=sla).count() == 1
    assert ImportBatch.objects.latest("pk").unchanged_count == 1


@pytest.mark.django_db
def test_a_different_value_becomes_current_and_supersedes_the_old_one(sla, provider_manager):
    original = record(sla, provider_manager, "99.7")
    correction = record(sla, provider_manager, "98.1")
    original.refresh_from_db()

    assert correction.pk != original.pk
    assert correction.is_current and correction.value == Decimal("98.1")
    assert correction.supersedes == original
    assert original.superseded_by == correction
    assert original.value == Decimal("99.7")
    assert original.superseded_at is not None
    assert original.superseded_at >= original.recorded_at
    assert correction.recorded_by == provider_manager


@pytest.mark.django_db
def test_each_correction_extends_the_chain_and_one_row_stays_current(sla, provider_manager):
    values = ["99.7", "98.1", "99.0"]
    for value in values:
        record(sla, provider_manager, value)
    rows = list(Measurement.objects.filter(sla=sla).order_by("recorded_at", "pk"))
    assert [row.value for row in rows] == [Decimal(value) for value in values]
    assert [row.is_current for row in rows] == [False, False, True]
    assert rows[1].supersedes == rows[0] and rows[2].supersedes == rows[1]


@pytest.mark.django_db
def test_a_viewer_cannot_record_a_measurement(sla, provider_viewer):
    with pytest.raises(PermissionDenied):
        record(sla, provider_viewer, "99.7")
    assert not Measurement.objects.exists()
