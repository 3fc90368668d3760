"""Recording SLA measurements: one at a time or in bulk, with correction history."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from itertools import zip_longest
from typing import NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from relationships.models import (
    SLA,
    Engagement,
    ImportBatch,
    Measurement,
    MeasurementDispute,
    acting_side,
)
from relationships.signals import engagement_inputs_changed

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


def writable_sla_sides(*, actor, sla_ids: Collection[int]) -> dict[int, str]:
    """The SLAs among sla_ids the actor may record values for (any SLA of an engagement
    they write to, whichever side owns it), each with the side the actor records for;
    in one query."""
    return {pk: side for pk, (side, _) in _writable_slas(actor, sla_ids).items()}


def _writable_slas(actor, sla_ids: Collection[int]) -> dict[int, tuple[str, int]]:
    """writable_sla_sides with each SLA's engagement: (side, engagement id) by SLA id."""
    return {
        pk: (side, engagement_id)
        for pk, side, engagement_id in SLA.objects.filter(
            _sla_among(sla_ids), engagement__in=Engagement.objects.writable_by(actor)
        )
        .order_by()  # SLA's default ordering would sort 10,000 rows for nothing
        .values_list("pk", acting_side(actor, "engagement"), "engagement_id")
    }


def _sla_among(sla_ids: Collection[int]) -> Q:
    if connection.vendor == "postgresql":
        # One array parameter: a list of 10,000 literals costs more to build and plan.
        return Q(pk__in=RawSQL("SELECT unnest(%s::bigint[])", [_pg_array(sla_ids)]))
    return Q(pk__in=sla_ids)


def _current_values(
    keys: Collection[tuple[int, date]], *, before: ImportBatch
) -> dict[tuple[int, date], tuple]:
    """(id, period end, value) of the current row of each (SLA, period start) that an
    earlier write recorded, locked until the end of the transaction."""
    # No ordering: Measurement's default one joins the SLAs, and FOR UPDATE would lock them.
    current = (
        Measurement.objects.current().exclude(import_batch=before).order_by().select_for_update()
    )
    if connection.vendor == "postgresql":
        # Exactly the batch's pairs, as two arrays; matching every SLA with every period
        # start (two IN lists) reads far more of the index.
        table = connection.ops.quote_name(Measurement._meta.db_table)
        current = current.filter(
            RawSQL(
                f"({table}.sla_id, {table}.period_start) IN "
                "(SELECT * FROM unnest(%s::bigint[], %s::date[]))",
                [_pg_array(sla for sla, _ in keys), _pg_array(start for _, start in keys)],
                output_field=BooleanField(),
            )
        )
    else:
        current = current.filter(
            sla_id__in={sla for sla, _ in keys}, period_start__in={start for _, start in keys}
        )
    return {
        (sla_id, period_start): (pk, period_end, value)
        for pk, sla_id, period_start, period_end, value in current.values_list(
            "id", "sla_id", "period_start", "period_end", "value"
        )
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
    sla_ids = {row.sla_id for row in rows}
    writable_slas = _writable_slas(actor, sla_ids)
    writable = {pk: side for pk, (side, _) in writable_slas.items()}
    unwritable = sla_ids - writable.keys()
    if (
        unwritable
        and SLA.objects.filter(
            _sla_among(unwritable), engagement__in=Engagement.objects.visible_to(actor)
        ).exists()
    ):
        # The actor sees the SLA (a viewer, or the engagement is not active): forbidden, not absent.
        raise PermissionDenied(
            "Only managers and admins of an active engagement's parties can record values."
        )
    for index, row in enumerate(rows):
        if row.sla_id not in writable:
            errors[f"rows[{index}].sla"] = [
                f"SLA {row.sla_id} does not exist or you cannot record values for it."
            ]
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        now = timezone.now()
        batch = ImportBatch.objects.create(actor=actor, source=source, row_count=len(rows))
        insert = partial(_insert, actor=actor, sides=writable, batch=batch, source=source, now=now)
        result = ImportResult(batch=batch, created=_insert_new(rows, insert))
        if result.created < len(rows):
            existing = _current_values(keys, before=batch)
            corrections = [
                (row, old[0])
                for row, key in zip(rows, keys, strict=True)
                if (old := existing.get(key)) and (old[1], old[2]) != (row.period_end, row.value)
            ]
            old_pks = [old_pk for _, old_pk in corrections]
            _supersede(old_pks, now=now)
            _end_disputes(old_pks, actor=actor, now=now)
            result.corrected = insert([row for row, _ in corrections], supersedes=old_pks)
            result.unchanged = len(existing) - len(corrections)
            if result.created + result.corrected + result.unchanged < len(rows):
                # Another import superseded a value between our insert and our read.
                raise ValidationError(
                    {"rows": "Another import changed these measurements at the same time; retry."}
                )
        batch.created_count = result.created
        batch.corrected_count = result.corrected
        batch.unchanged_count = result.unchanged
        batch.save(update_fields=["created_count", "corrected_count", "unchanged_count"])
        if result.created or result.corrected:
            engagement_inputs_changed.send(
                sender=Measurement,
                engagement_ids={engagement_id for _, engagement_id in writable_slas.values()},
                since=min(row.period_start for row in rows),
            )
    return result


def _insert_new(rows: Sequence[MeasurementRow], insert) -> int:
    """Insert the rows whose (SLA, period start) has no current value yet; their number.

    Only the other pairs then need reading, comparing and superseding. Skipping a pair
    by reading for its current value first costs less than the unique index's check
    (ON CONFLICT), but misses a value that another import has not committed yet: that
    rare clash undoes the attempt (a savepoint), and the index decides instead.
    """
    try:
        with transaction.atomic():
            return insert(rows, read_first=True)
    except IntegrityError:
        return insert(rows)


_COLUMNS = (
    "sla_id",
    "period_start",
    "period_end",
    "value",
    "source",
    "supersedes_id",
    "recorded_by_side",
    "recorded_by_id",
    "recorded_at",
    "import_batch_id",
)
# Inferred as the index of one_current_measurement_per_sla_period (PostgreSQL and SQLite).
_UNLESS_CURRENT = "ON CONFLICT (sla_id, period_start) WHERE superseded_at IS NULL DO NOTHING"
_UNLESS_READ = (
    "WHERE NOT EXISTS (SELECT 1 FROM {table} m WHERE m.superseded_at IS NULL "
    "AND m.sla_id = u.sla_id AND m.period_start = u.period_start)"
)


def _insert(
    rows: Sequence[MeasurementRow],
    supersedes: Sequence[int] = (),
    *,
    actor,
    sides: dict[int, str],
    batch: ImportBatch,
    source: str,
    now,
    read_first: bool = False,
) -> int:
    """Insert the rows in one statement, whatever their number, but none for an (SLA,
    period start) that has a current value already; the number inserted. supersedes
    holds the id each row corrects, if any (all or none); sides the side the actor
    records each SLA's values for. read_first (PostgreSQL):
    skip those found by reading, not by the unique index (see _insert_new)."""
    if not rows:
        return 0
    table = connection.ops.quote_name(Measurement._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(name) for name in _COLUMNS)
    actor_id = actor.pk if actor is not None else None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array literal per column: one statement, no 65,535-parameter limit.
            # unnest pads a shorter array (no supersedes) with NULLs.
            cursor.execute(
                f"INSERT INTO {table} ({columns}) "
                "SELECT u.*, %s, %s, %s FROM unnest("
                "%s::bigint[], %s::date[], %s::date[], %s::numeric[], %s::varchar[], %s::bigint[], "
                "%s::varchar[]"
                ") AS u (sla_id, period_start, period_end, value, source, supersedes_id, "
                "recorded_by_side) "
                + (_UNLESS_READ.format(table=table) if read_first else _UNLESS_CURRENT),
                [
                    actor_id,
                    now,
                    batch.pk,
                    _pg_array(row.sla_id for row in rows),
                    _pg_array(row.period_start for row in rows),
                    _pg_array(row.period_end for row in rows),
                    _pg_array(row.value for row in rows),
                    _pg_text_array(row.source or source for row in rows),
                    _pg_array(supersedes),
                    _pg_text_array(sides[row.sla_id] for row in rows),
                ],
            )
        else:
            ops = connection.ops
            recorded_at = ops.adapt_datetimefield_value(now)
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(_COLUMNS))}) "
                + _UNLESS_CURRENT,
                [
                    (
                        row.sla_id,
                        ops.adapt_datefield_value(row.period_start),
                        ops.adapt_datefield_value(row.period_end),
                        ops.adapt_decimalfield_value(row.value, 18, 6),
                        row.source or source,
                        old_pk,
                        sides[row.sla_id],
                        actor_id,
                        recorded_at,
                        batch.pk,
                    )
                    for row, old_pk in zip_longest(rows, supersedes)
                ],
            )
        return cursor.rowcount


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


def _end_disputes(superseded_pks: list[int], *, actor, now) -> None:
    """A correction ends the open dispute of the value it supersedes: the value it was
    about no longer counts (PRODUCT.md §7)."""
    if not superseded_pks:
        return
    open_disputes = MeasurementDispute.objects.filter(status=MeasurementDispute.Status.OPEN)
    if connection.vendor == "postgresql":
        # As _supersede: one array, not 10,000 parameters.
        open_disputes = open_disputes.filter(
            measurement_id__in=RawSQL("SELECT unnest(%s::bigint[])", [_pg_array(superseded_pks)])
        )
    else:
        open_disputes = open_disputes.filter(measurement_id__in=superseded_pks)
    open_disputes.update(
        status=MeasurementDispute.Status.CORRECTED, resolved_by=actor, resolved_at=now
    )


def _pg_array(values) -> str:
    """A PostgreSQL array literal of numbers or dates, parsed far faster than ARRAY[...]."""
    return "{" + ",".join(map(str, values)) + "}"


def _pg_text_array(values) -> str:
    quoted = (value.replace("\\", "\\\\").replace('"', '\\"') for value in values)
    return "{" + ",".join(f'"{value}"' for value in quoted) + "}"
