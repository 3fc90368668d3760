from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from feedback.models import CheckIn
from relationships.change_requests import terms_change
from relationships.measurements import measurement_record
from relationships.models import ChangeRequest, Measurement, ScoringConfig
from scorecards.compute import compute_chunk
from scorecards.models import Alert, OutboxEvent, Scorecard
from scorecards.services import (
    alert_acknowledge,
    scorecard_review,
)
from tests.factories import CheckInFactory
from tests.scorecards.conftest import APRIL_10, MARCH
from tests.terms import agreed


def _compute(engagement):
    compute_chunk([engagement.pk], "month", MARCH, APRIL_10)
    return Scorecard.objects.get(engagement=engagement, period_start=MARCH)


def _correct_a_measurement(engagement, user):
    measurement = Measurement.objects.current().filter(sla__engagement=engagement).first()
    measurement_record(
        sla=measurement.sla,
        period_start=measurement.period_start,
        period_end=measurement.period_end,
        value=Decimal("0") if measurement.sla.direction == "higher_is_better" else Decimal("999"),
        source="correction",
        user=user,
    )


@pytest.mark.django_db
def test_both_signatures_freeze_the_period_and_later_runs_skip_it(
    rich_engagement, client_manager, provider_admin
):
    scorecard = _compute(rich_engagement)
    review = scorecard_review(scorecard=scorecard, user=client_manager, decision="signed")
    assert review.side == "client" and review.snapshot["overall"] == float(scorecard.overall)
    scorecard.refresh_from_db()
    assert scorecard.frozen_at is None
    scorecard_review(scorecard=scorecard, user=provider_admin, decision="signed", comment="Fair.")
    scorecard.refresh_from_db()
    assert scorecard.frozen_at is not None
    before = Scorecard.objects.filter(pk=scorecard.pk).values().get()

    _correct_a_measurement(rich_engagement, client_manager)
    result = compute_chunk([rich_engagement.pk], "month", MARCH, APRIL_10)
    assert result.skipped_frozen == 1 and result.scorecards_written == 0
    after = Scorecard.objects.filter(pk=scorecard.pk).values().get()
    assert after["changed_since_signoff_at"] is not None
    assert {k: v for k, v in after.items() if k != "changed_since_signoff_at"} == {
        k: v for k, v in before.items() if k != "changed_since_signoff_at"
    }
    with pytest.raises(ValidationError):
        scorecard_review(scorecard=scorecard, user=client_manager, decision="disputed", comment="x")


@pytest.mark.django_db
def test_a_changed_recompute_marks_a_signature_stale(rich_engagement, client_manager):
    scorecard = _compute(rich_engagement)
    review = scorecard_review(scorecard=scorecard, user=client_manager, decision="signed")
    compute_chunk([rich_engagement.pk], "month", MARCH, APRIL_10)
    review.refresh_from_db()
    assert review.stale_at is None  # nothing changed

    _correct_a_measurement(rich_engagement, client_manager)
    compute_chunk([rich_engagement.pk], "month", MARCH, APRIL_10)
    review.refresh_from_db()
    assert review.stale_at is not None
    assert OutboxEvent.objects.filter(kind="scorecard.computed").count() == 2


@pytest.mark.django_db
def test_review_rules(rich_engagement, client_viewer, provider_manager, outsider):
    scorecard = _compute(rich_engagement)
    with pytest.raises(ValidationError) as error:
        scorecard_review(scorecard=scorecard, user=provider_manager, decision="disputed")
    assert "comment" in error.value.message_dict
    with pytest.raises(ValidationError):
        scorecard_review(scorecard=scorecard, user=provider_manager, decision="maybe")
    for user in (client_viewer, outsider):
        with pytest.raises(PermissionDenied):
            scorecard_review(scorecard=scorecard, user=user, decision="signed")
    first = scorecard_review(
        scorecard=scorecard, user=provider_manager, decision="disputed", comment="SLA data late."
    )
    second = scorecard_review(scorecard=scorecard, user=provider_manager, decision="signed")
    first.refresh_from_db()
    assert first.stale_at is not None and second.stale_at is None


@pytest.mark.django_db
def test_alerts_are_raised_resolved_reopened_and_acknowledged(engagement, client_manager):
    _compute(engagement)
    alert = Alert.objects.get(engagement=engagement, kind="contact_gap")
    assert alert.is_open
    assert OutboxEvent.objects.get(kind="alert.raised").payload["alert"]["id"] == alert.pk

    checkin = CheckInFactory(
        engagement=engagement, occurred_at=datetime(2026, 3, 30, 9, tzinfo=UTC)
    )
    _compute(engagement)
    alert.refresh_from_db()
    assert alert.resolved_at is not None  # resolved, not deleted

    alert_acknowledge(alert=alert, user=client_manager)
    CheckIn.objects.filter(pk=checkin.pk).delete()
    _compute(engagement)
    alert.refresh_from_db()
    assert alert.is_open and alert.acknowledged_at is None  # reopened, to acknowledge again
    assert OutboxEvent.objects.filter(kind="alert.raised").count() == 2

    alert_acknowledge(alert=alert, user=client_manager)
    alert.refresh_from_db()
    assert alert.acknowledged_by == client_manager and alert.acknowledged_at is not None
    assert Alert.objects.filter(engagement=engagement).count() == 1


@pytest.mark.django_db
def test_viewers_cannot_acknowledge(engagement, client_viewer):
    _compute(engagement)
    with pytest.raises(PermissionDenied):
        alert_acknowledge(alert=Alert.objects.get(), user=client_viewer)


@pytest.mark.django_db
def test_scoring_config_is_admin_only_validated_audited_and_applied(
    rich_engagement, client_admin, provider_manager, provider_admin, on
):
    with pytest.raises(PermissionDenied):
        terms_change(
            engagement=rich_engagement,
            user=provider_manager,
            subject="scoring_config",
            values={"weights": {}},
        )
    with pytest.raises(ValidationError) as error:
        terms_change(
            engagement=rich_engagement,
            user=client_admin,
            subject="scoring_config",
            values={"weights": {"luck": 5}, "survey_threshold": 0},
        )
    assert set(error.value.message_dict) == {"weights", "survey_threshold"}
    assert not ScoringConfig.objects.exists() and not ChangeRequest.objects.exists()

    with on(datetime(2026, 3, 20).date()):  # agreed within March: in force for it
        agreed(
            engagement=rich_engagement,
            subject="scoring_config",
            values={"weights": {"sentiment": 0}, "survey_threshold": 5},
            asker=client_admin,
            accepter=provider_admin,
        )
    config = ScoringConfig.objects.get()
    assert config.history.get().history_user == provider_admin
    scorecard = _compute(rich_engagement)
    assert scorecard.config["weights"]["sentiment"] == 0
    assert scorecard.config["survey_threshold"] == 5
    # Asking for the values in force is refused, and records nothing.
    with pytest.raises(ValidationError, match="Nothing to change"):
        terms_change(
            engagement=rich_engagement,
            user=client_admin,
            subject="scoring_config",
            values={"band_limits": {}},
        )
    config.refresh_from_db()
    assert config.survey_threshold == 5 and config.history.count() == 1
    agreed(
        engagement=rich_engagement,
        subject="scoring_config",
        values={"band_limits": {"watch_at": 40}},
        asker=provider_admin,
        accepter=client_admin,
    )
    assert config.history.count() == 2
