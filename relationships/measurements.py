"""Recording SLA measurements: one at a time or in bulk, with correction history."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
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


class MeasurementRow(NamedTuple):
    """One validated value to record (a tuple: cheap to build by the ten thousand)."""

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
    """Record one value; a different value for the same SLA and period start corrects it.

    Field errors are keyed by field name, as a form or serializer expects.
    """
    try:
        measurements_import(
            rows=[MeasurementRow(sla.pk, period_start, period_end, Decimal(value), source)],
            actor=user,
            source=source or "manual",
        )
    except ValidationError as exc:
        raise ValidationError(
            {key.split(".", 1)[-1]: messages for key, messages in exc.message_dict.items()}
        ) from None
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
    unwritable = {row.sla_id for row in rows} - slas.keys()
    if (
        unwritable
        and SLA.objects.filter(
            pk__in=unwritable, engagement__in=Engagement.objects.visible_to(actor)
        ).exists()
    ):
        # The actor sees the SLA (a viewer, or the engagement is not active): forbidden, not absent.
        raise PermissionDenied(
            "Only managers and admins of an active engagement's parties can record values."
        )
    for index, row in enumerate(rows):
        if row.sla_id not in slas:
            errors[f"rows[{index}].sla"] = [
                f"SLA {row.sla_id} does not exist or you cannot record values for it."
            ]
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        # Plain tuples, not model instances: at 10,000 rows instantiation dominates.
        existing = {
            (sla_id, period_start): (pk, period_end, value)
            for pk, sla_id, period_start, period_end, value in Measurement.objects.current()
            .filter(sla_id__in=slas.keys(), period_start__in={row.period_start for row in rows})
            .select_for_update()
            .values_list("id", "sla_id", "period_start", "period_end", "value")
        }
        result = ImportResult()
        to_create: list[tuple[MeasurementRow, int | None]] = []
        for row in rows:
            old = existing.get((row.sla_id, row.period_start))
            if old is None:
                result.created += 1
            elif old[1] == row.period_end and old[2] == row.value:
                result.unchanged += 1
                continue
            else:
                result.corrected += 1
            to_create.append((row, old[0] if old else None))
        now = timezone.now()
        result.batch = ImportBatch.objects.create(
            actor=actor,
            source=source,
            row_count=len(rows),
            created_count=result.created,
            corrected_count=result.corrected,
            unchanged_count=result.unchanged,
        )
        _supersede([old_pk for _, old_pk in to_create if old_pk is not None], now=now)
        try:
            _insert(to_create, actor=actor, batch=result.batch, source=source, now=now)
        except IntegrityError as exc:
            # Another writer recorded the same SLA and period at the same moment.
            raise ValidationError(
                {"rows": "Another import changed these measurements at the same time; retry."}
            ) from exc
    return result


_COLUMNS = (
    "sla_id",
    "period_start",
    "period_end",
    "value",
    "source",
    "supersedes_id",
    "recorded_by_id",
    "recorded_at",
    "import_batch_id",
)


def _insert(to_create, *, actor, batch: ImportBatch, source: str, now) -> None:
    """Insert new measurement rows in one statement, whatever their number."""
    if not to_create:
        return
    table = connection.ops.quote_name(Measurement._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(name) for name in _COLUMNS)
    actor_id = actor.pk if actor is not None else None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array literal per column: one statement, no 65,535-parameter limit.
            cursor.execute(
                f"INSERT INTO {table} ({columns}) "
                "SELECT u.*, %s, %s, %s FROM unnest("
                "%s::bigint[], %s::date[], %s::date[], %s::numeric[], %s::varchar[], %s::bigint[]"
                ") AS u",
                [
                    actor_id,
                    now,
                    batch.pk,
                    _pg_array(row.sla_id for row, _ in to_create),
                    _pg_array(row.period_start for row, _ in to_create),
                    _pg_array(row.period_end for row, _ in to_create),
                    _pg_array(row.value for row, _ in to_create),
                    _pg_text_array(row.source or source for row, _ in to_create),
                    _pg_array(old_pk for _, old_pk in to_create),
                ],
            )
        else:
            ops = connection.ops
            recorded_at = ops.adapt_datetimefield_value(now)
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(_COLUMNS))})",
                [
                    (
                        row.sla_id,
                        ops.adapt_datefield_value(row.period_start),
                        ops.adapt_datefield_value(row.period_end),
                        ops.adapt_decimalfield_value(row.value, 18, 6),
                        row.source or source,
                        old_pk,
                        actor_id,
                        recorded_at,
                        batch.pk,
                    )
                    for row, old_pk in to_create
                ],
            )


def _supersede(pks: list[int], *, now) -> None:
    if not pks:
        return
    if connection.vendor != "postgresql":
        Measurement.objects.filter(pk__in=pks).update(superseded_at=now)
        return
    with connection.cursor() as cursor:
        # ANY(array) rather than IN (10,000 parameters), which PostgreSQL plans slowly.
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(Measurement._meta.db_table)} "
            "SET superseded_at = %s WHERE id = ANY(%s::bigint[])",
            [now, _pg_array(pks)],
        )


def _pg_array(values) -> str:
    """A PostgreSQL array literal of numbers or dates, parsed far faster than ARRAY[...]."""
    return "{" + ",".join("NULL" if value is None else str(value) for value in values) + "}"


def _pg_text_array(values) -> str:
    quoted = (value.replace("\\", "\\\\").replace('"', '\\"') for value in values)
    return "{" + ",".join(f'"{value}"' for value in quoted) + "}"
