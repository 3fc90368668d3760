"""Bad data is refused twice: by validation (a clear message) and by the database."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from relationships.models import SLA, Engagement, GoalProgress, KeyContact, Measurement, SharedGoal
from tests.factories import MeasurementFactory, SharedGoalFactory, SLAFactory


def another_engagement(engagement, **changes):
    fields = {
        "name": "Second engagement",
        "client": engagement.client,
        "provider": engagement.provider,
        "start_date": date(2026, 1, 1),
    }
    return Engagement(**(fields | changes))


def engagement_with_itself_as_provider(engagement):
    return another_engagement(engagement, provider=engagement.client)


def engagement_ending_before_start(engagement):
    return another_engagement(engagement, start_date=date(2026, 3, 1), end_date=date(2026, 2, 1))


def engagement_with_cadence_zero(engagement):
    return another_engagement(engagement, checkin_cadence_days=0)


def contact_ending_before_start(engagement):
    return KeyContact(
        engagement=engagement,
        side="client",
        name="Ada",
        role="delivery_lead",
        start_date=date(2026, 3, 1),
        end_date=date(2026, 2, 1),
    )


def goal_due_before_start(engagement):
    return SharedGoal(
        engagement=engagement,
        title="Backwards goal",
        start_date=date(2026, 3, 1),
        due_date=date(2026, 2, 1),
    )


def sla_with_weight_zero(engagement):
    return SLA(
        engagement=engagement,
        owner_side="provider",
        name="Availability",
        unit="%",
        direction="higher_is_better",
        target=Decimal("99.5"),
        weight=Decimal("0"),
    )


def sla_with_duplicate_name(engagement):
    SLAFactory(engagement=engagement, name="P1 response")
    return SLA(
        engagement=engagement,
        owner_side="client",
        name="P1 response",
        unit="min",
        direction="lower_is_better",
        target=Decimal("60"),
    )


def progress_of_140_percent(engagement):
    return GoalProgress(
        goal=SharedGoalFactory(engagement=engagement), date=date(2026, 2, 1), percent=140
    )


def measurement_ending_before_start(engagement):
    return Measurement(
        sla=SLAFactory(engagement=engagement),
        period_start=date(2026, 2, 1),
        period_end=date(2026, 1, 31),
        value=Decimal("99"),
    )


def second_current_measurement(engagement):
    first = MeasurementFactory(sla=SLAFactory(engagement=engagement))
    return Measurement(
        sla=first.sla,
        period_start=first.period_start,
        period_end=first.period_end,
        value=Decimal("12"),
    )


BAD_DATA = [
    (engagement_with_itself_as_provider, "client and the provider must be different"),
    (engagement_ending_before_start, "end date cannot be before the start date"),
    (engagement_with_cadence_zero, "greater than or equal to 1"),
    (contact_ending_before_start, "end date cannot be before the start date"),
    (goal_due_before_start, "due date cannot be before the start date"),
    (sla_with_weight_zero, "greater than or equal to 0.001"),
    (sla_with_duplicate_name, "already has an SLA with this name"),
    (progress_of_140_percent, "less than or equal to 100"),
    (measurement_ending_before_start, "period end cannot be before the period start"),
    (second_current_measurement, "already has a current value for this period"),
]
IDS = [build.__name__ for build, _ in BAD_DATA]


@pytest.mark.django_db
@pytest.mark.parametrize(("build", "message"), BAD_DATA, ids=IDS)
def test_validation_refuses_bad_data_with_a_clear_message(engagement, build, message):
    candidate = build(engagement)
    with pytest.raises(ValidationError) as refused:
        candidate.full_clean()
    assert message in str(refused.value.message_dict)


@pytest.mark.django_db
@pytest.mark.parametrize(("build", "message"), BAD_DATA, ids=IDS)
def test_database_refuses_bad_data_when_validation_is_bypassed(
    require_postgres, engagement, build, message
):
    candidate = build(engagement)
    model = type(candidate)
    before = model.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        candidate.save()
    assert model.objects.count() == before


@pytest.mark.django_db
def test_superseded_measurements_do_not_count_against_the_one_current_row(engagement):
    first = MeasurementFactory(sla=SLAFactory(engagement=engagement))
    Measurement.objects.filter(pk=first.pk).update(superseded_at=first.recorded_at)
    correction = Measurement(
        sla=first.sla,
        period_start=first.period_start,
        period_end=first.period_end,
        value=Decimal("1"),
        supersedes=first,
    )
    correction.full_clean()
    correction.save()
    assert Measurement.objects.filter(sla=first.sla).count() == 2
