"""Recording SLA measurements: one at a time or in bulk, with correction history."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from relationships.models import (
    SLA,
    WRITER_ROLES,
    Engagement,
    ImportBatch,
    Measurement,
    Membership,
)

MAX_VALUE = Decimal("1e12")
MAX_BULK_ROWS = 10_000


@dataclass(frozen=True)
class MeasurementRow:
    sla_id: int
    period_start: date
    period_end: date
    value: Decimal
    source: str = ""


@dataclass
class ImportResult:
    batch: ImportBatch | None = None
    created: int = 0
    corrected: int = 0
    unchanged: int = 0


def measurement_record(
    *, sla: SLA, period_start: date, period_end: date, value: Decimal, source: str, user
) -> Measurement:
    """Record one value; a different value for the same SLA and period start corrects it."""
    measurements_import(
        rows=[MeasurementRow(sla.pk, period_start, period_end, Decimal(value), source)],
        actor=user,
        source=source or "manual",
    )
    return Measurement.objects.current().get(sla=sla, period_start=period_start)


def writable_slas(*, actor, sla_ids: Iterable[int]) -> dict[int, SLA]:
    """The SLAs among sla_ids the actor may record values for, in one query."""
    org_ids = Membership.objects.filter(user=actor, role__in=WRITER_ROLES).values("organization_id")
    return {
        sla.pk: sla
        for sla in SLA.objects.filter(
            pk__in=set(sla_ids), engagement__status=Engagement.Status.ACTIVE
        ).filter(Q(engagement__client_id__in=org_ids) | Q(engagement__provider_id__in=org_ids))
    }


def measurements_import(*, rows: Sequence[MeasurementRow], actor, source: str) -> ImportResult:
    """Upsert measurements by (SLA, period start), atomically, in a constant number of queries.

    Rows must already be validated field by field (see relationships.validation).
    An unchanged value is a no-op; a changed value supersedes the current row and
    keeps it. The rows reference one ImportBatch, their audit entry, so the audit
    costs no query per row.
    """
    if len(rows) > MAX_BULK_ROWS:
        raise ValidationError({"rows": f"At most {MAX_BULK_ROWS} rows per batch."})
    keys = [(row.sla_id, row.period_start) for row in rows]
    seen: dict[tuple[int, date], int] = {}
    errors: dict[str, list[str]] = {}
    for index, key in enumerate(keys):
        if key in seen:
            errors[f"rows[{index}].period_start"] = [
                f"Duplicates row {seen[key]}: one value per SLA and period start in a batch."
            ]
        seen.setdefault(key, index)
    slas = writable_slas(actor=actor, sla_ids={row.sla_id for row in rows})
    for index, row in enumerate(rows):
        if row.sla_id not in slas:
            errors[f"rows[{index}].sla"] = [
                f"SLA {row.sla_id} does not exist or you cannot record values for it."
            ]
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        existing = {
            (m.sla_id, m.period_start): m
            for m in Measurement.objects.current()
            .filter(sla_id__in=slas.keys(), period_start__in={row.period_start for row in rows})
            .only("id", "sla_id", "period_start", "period_end", "value")
            .select_for_update()
        }
        now = timezone.now()
        to_create: list[Measurement] = []
        to_supersede: list[int] = []
        result = ImportResult()
        for row in rows:
            old = existing.get((row.sla_id, row.period_start))
            if old is not None and old.value == row.value and old.period_end == row.period_end:
                result.unchanged += 1
                continue
            if old is not None:
                to_supersede.append(old.pk)
                result.corrected += 1
            else:
                result.created += 1
            to_create.append(
                Measurement(
                    sla_id=row.sla_id,
                    period_start=row.period_start,
                    period_end=row.period_end,
                    value=row.value,
                    source=row.source or source,
                    recorded_by=actor,
                    recorded_at=now,
                    supersedes_id=old.pk if old is not None else None,
                )
            )
        result.batch = ImportBatch.objects.create(
            actor=actor,
            source=source,
            row_count=len(rows),
            created_count=result.created,
            corrected_count=result.corrected,
            unchanged_count=result.unchanged,
        )
        for measurement in to_create:
            measurement.import_batch = result.batch
        if to_supersede:
            Measurement.objects.filter(pk__in=to_supersede).update(superseded_at=now)
        try:
            Measurement.objects.bulk_create(to_create)
        except IntegrityError as exc:
            # Another writer recorded the same SLA and period at the same moment.
            raise ValidationError(
                {"rows": "Another import changed these measurements at the same time; retry."}
            ) from exc
    return result
