"""Disputed values (PRODUCT.md §7): the side that owns an SLA objects to a value the other
side recorded for it; the value keeps counting until a correction supersedes it (the
recorder's side accepting the proposed value, or recording another) or the dispute is
withdrawn."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from relationships.measurements import MAX_VALUE, measurement_record
from relationships.models import (
    Access,
    Engagement,
    Measurement,
    MeasurementDispute,
    other_side,
)
from relationships.periods import Period
from relationships.signals import engagement_inputs_changed, terms_event

REASON_MAX = 2000


# ---------------------------------------------------------------- who may do what
def recorded_by_other_side(measurement: Measurement) -> bool:
    """Recorded by the side that does not own the SLA: marked, and open to dispute."""
    return measurement.recorded_by_side == other_side(measurement.sla.owner_side)


def may_dispute(measurement: Measurement, access: Access) -> bool:
    """The managers and admins of the side that owns the SLA dispute its values."""
    return access.can_write and access.side == measurement.sla.owner_side


def require_disputer(measurement: Measurement, access: Access) -> None:
    """PermissionDenied, saying why, unless the access may dispute the measurement's values."""
    if not may_dispute(measurement, access.require("write")):
        raise PermissionDenied(
            f"Only the {measurement.sla.owner_side} side, which owns this SLA, "
            "can dispute its values."
        )


def may_withdraw(dispute: MeasurementDispute, access: Access) -> bool:
    """The disputing side's managers and admins withdraw."""
    return access.can_write and access.side == dispute.side


def may_accept(dispute: MeasurementDispute, access: Access) -> bool:
    """The other side's (the recorder's) managers and admins accept a proposed value."""
    return access.can_write and access.side == other_side(dispute.side)


# ---------------------------------------------------------------- services
def measurement_dispute(
    *, measurement: Measurement, user, reason: str, corrected_value: Decimal | None = None
) -> MeasurementDispute:
    """Open a dispute of a current value recorded by the side that does not own its SLA;
    only a manager or admin of the owning side may."""
    sla = measurement.sla
    access = measurement.access_for(user)
    require_disputer(measurement, access)
    errors = {}
    if not measurement.is_current:
        errors["measurement"] = "This value has been corrected since; dispute the current one."
    elif not recorded_by_other_side(measurement):
        errors["measurement"] = "Only a value recorded by the other side can be disputed."
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "Say why the value is wrong."
    elif len(reason) > REASON_MAX:
        errors["reason"] = f"At most {REASON_MAX} characters."
    if corrected_value is not None:
        if not corrected_value.is_finite() or abs(corrected_value) >= MAX_VALUE:
            errors["corrected_value"] = "A finite number, |value| < 1e12."
        elif corrected_value == measurement.value:
            errors["corrected_value"] = "The corrected value is the disputed value itself."
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            dispute = MeasurementDispute.objects.create(
                measurement=measurement,
                sla=sla,
                side=access.side,
                disputed_by=user,
                reason=reason,
                corrected_value=corrected_value,
            )
            # An open dispute is counted in the period's scorecard.
            engagement_inputs_changed.send(
                sender=MeasurementDispute, engagement_ids=[sla.engagement_id]
            )
            terms_event.send(
                sender=MeasurementDispute,
                engagement=sla.engagement,
                event="measurement.disputed",
                subject="dispute",
                fields=dispute_fields(dispute),
            )
    except IntegrityError:
        raise ValidationError({"measurement": "This value is already disputed."}) from None
    return dispute


def dispute_fields(dispute: MeasurementDispute) -> dict:
    """The dispute as the outbox event describes it (JSON values)."""
    measurement = dispute.measurement
    return {
        "id": dispute.pk,
        "measurement": measurement.pk,
        "sla": dispute.sla_id,
        "sla_name": dispute.sla.name,
        "period_start": measurement.period_start.isoformat(),
        "value": str(measurement.value),
        "recorded_by_side": measurement.recorded_by_side,
        "side": dispute.side,
        "reason": dispute.reason,
        "corrected_value": _text(dispute.corrected_value),
        "status": dispute.status,
        "created_at": dispute.created_at.isoformat(),
    }


def _text(number: Decimal | None) -> str | None:
    return None if number is None else str(number)


def _open_for_update(dispute: MeasurementDispute) -> MeasurementDispute:
    """The dispute locked, if it is still open (another request may have ended it)."""
    locked = MeasurementDispute.objects.select_for_update().get(pk=dispute.pk)
    if not locked.is_open:
        raise ValidationError({"status": f"This dispute is {locked.get_status_display().lower()}."})
    return locked


def measurement_dispute_withdraw(*, dispute: MeasurementDispute, user) -> MeasurementDispute:
    """The disputing side withdraws its dispute; the value stands as recorded."""
    if not may_withdraw(dispute, dispute.access_for(user).require("write")):
        raise PermissionDenied(f"Only the {dispute.side} side, which disputed it, can withdraw it.")
    with transaction.atomic():
        dispute = _open_for_update(dispute)
        dispute.status = MeasurementDispute.Status.WITHDRAWN
        dispute.resolved_by = user
        dispute.resolved_at = timezone.now()
        dispute.save(update_fields=["status", "resolved_by", "resolved_at"])
        engagement_inputs_changed.send(
            sender=MeasurementDispute, engagement_ids=[dispute.sla.engagement_id]
        )
    return dispute


def measurement_correction_accept(*, dispute: MeasurementDispute, user) -> MeasurementDispute:
    """The recorder's side accepts the proposed value: it is recorded as a correction of the
    disputed one (kept in its history), which ends the dispute `corrected`."""
    if not may_accept(dispute, dispute.access_for(user).require("write")):
        raise PermissionDenied("Only the side that recorded the value can accept a correction.")
    with transaction.atomic():
        dispute = _open_for_update(dispute)
        if dispute.corrected_value is None:
            raise ValidationError(
                {"corrected_value": "This dispute proposes no value; record a correction instead."}
            )
        measurement = dispute.measurement
        measurement_record(
            sla=dispute.sla,
            period_start=measurement.period_start,
            period_end=measurement.period_end,
            value=dispute.corrected_value,
            source=f"Correction accepted (dispute {dispute.pk})",
            user=user,
        )
        dispute.refresh_from_db()
    return dispute


# ---------------------------------------------------------------- reads
def values_recorded_by_other_sides(engagement: Engagement, period: Period) -> QuerySet:
    """The engagement's current values with period start in P recorded by the side that does
    not own their SLA, each with its open dispute's id."""
    return (
        Measurement.objects.current()
        .filter(sla__engagement=engagement, period_start__range=(period.start, period.end))
        .exclude(recorded_by_side="")
        .exclude(recorded_by_side=F("sla__owner_side"))
        .select_related("sla", "recorded_by")
        .with_open_dispute()
        .order_by("sla__owner_side", "sla__name", "period_start")
    )


def disputes_in_period(engagement: Engagement, period: Period) -> QuerySet:
    """The disputes of the engagement's values whose period start is in P, with what a list
    of them shows, newest first."""
    return MeasurementDispute.objects.filter(
        sla__engagement=engagement,
        measurement__period_start__range=(period.start, period.end),
    ).select_related("sla", "measurement__recorded_by", "disputed_by", "resolved_by")


def open_disputes_count(sla_ref: str, period: Period) -> Subquery:
    """The number of open disputes of the SLA (`sla_ref`, an OuterRef path to its id) whose
    value's period start is in P: an annotation, from the open disputes' partial index.
    An open dispute's value is current, since a correction ends it."""
    counted = (
        MeasurementDispute.objects.filter(
            Q(sla_id=OuterRef(sla_ref), status=MeasurementDispute.Status.OPEN),
            measurement__period_start__range=(period.start, period.end),
        )
        .order_by()
        .values(n=_RowCount("pk"))
    )
    return Subquery(counted, output_field=IntegerField())


class _RowCount(Func):
    """COUNT(...) in a subquery without GROUP BY: one row, 0 when nothing matches. Not an
    aggregate to Django, so the outer query groups by the SLA's key alone, not by the
    subquery (which would run it once per joined measurement)."""

    function = "COUNT"
    output_field = IntegerField()
