"""Field rules for SLA measurements, shared by the single and the bulk API.

Each rule is one function from a raw value (JSON or CSV text) to a clean value,
raising FieldError with a message a person can act on. The single-measurement
serializer wraps these functions as fields; the bulk endpoint applies them
column by column, so both give the same answer for the same bad input.
"""

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from relationships.measurements import MAX_VALUE, MeasurementRow

FIELDS = ("sla", "period_start", "period_end", "value", "source")
_FIELD_SET = frozenset(FIELDS)
REQUIRED = frozenset({"sla", "period_start", "period_end", "value"})
MAX_SOURCE_LENGTH = 100
MAX_DECIMALS = 6
_QUANTUM = Decimal(1).scaleb(-MAX_DECIMALS)
EARLIEST_PERIOD = date(2000, 1, 1)
# Values may be recorded for periods that have not ended yet, but not years ahead.
MAX_DAYS_AHEAD = 366

Errors = dict[tuple[int, str], list[str]]
_MISSING = object()


class FieldError(ValueError):
    pass


def clean_sla(raw) -> int:
    if isinstance(raw, bool):
        raise FieldError("Give the SLA's id as a whole number.")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and raw.strip().isdigit():
        value = int(raw)
    else:
        raise FieldError("Give the SLA's id as a whole number.")
    if not 0 < value < 2**63:
        raise FieldError("Give the SLA's id as a positive whole number.")
    return value


def clean_date(raw) -> date:
    if isinstance(raw, date):
        return raw
    if not isinstance(raw, str):
        raise FieldError("Give a date as YYYY-MM-DD.")
    try:
        value = date.fromisoformat(raw.strip())
    except ValueError:
        raise FieldError(f"'{raw[:40]}' is not a date; use YYYY-MM-DD.") from None
    if value < EARLIEST_PERIOD:
        raise FieldError(f"Dates before {EARLIEST_PERIOD.isoformat()} are not accepted.")
    return value


def clean_value(raw) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
        raise FieldError("Give the value as a number.")
    try:
        # repr of a float is its shortest round-trip form, i.e. the number as written in JSON.
        value = Decimal(repr(raw) if isinstance(raw, float) else str(raw).strip())
    except InvalidOperation:
        raise FieldError(f"'{str(raw)[:40]}' is not a number.") from None
    if not value.is_finite():
        raise FieldError("The value must be a finite number (not NaN or Infinity).")
    if abs(value) >= MAX_VALUE:
        raise FieldError("The value must be between -1e12 and 1e12.")
    if value != value.quantize(_QUANTUM):
        raise FieldError(f"The value may have at most {MAX_DECIMALS} decimal places.")
    return value


def clean_source(raw) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise FieldError("Give the source as text.")
    if "\x00" in raw:
        raise FieldError("The source cannot contain NUL characters.")
    if len(raw) > MAX_SOURCE_LENGTH:
        raise FieldError(f"The source may have at most {MAX_SOURCE_LENGTH} characters.")
    return raw.strip()


CLEANERS: dict[str, Callable] = {
    "sla": clean_sla,
    "period_start": clean_date,
    "period_end": clean_date,
    "value": clean_value,
    "source": clean_source,
}


def period_errors(period_start: date, period_end: date, today: date) -> dict[str, str]:
    """Rules across the two dates of one row, by the field to blame."""
    if period_end < period_start:
        return {"period_end": "The period end cannot be before the period start."}
    if period_end > today + timedelta(days=MAX_DAYS_AHEAD):
        return {"period_end": "The period cannot end more than a year from today."}
    return {}


def unknown_fields(keys: Iterable[str]) -> list[str]:
    return sorted(set(keys) - _FIELD_SET)


def clean_rows(rows: list, *, today: date) -> tuple[list[MeasurementRow], Errors]:
    """Validate raw rows column by column; errors keyed by (row index, field)."""
    errors: Errors = {}
    columns: dict[str, list] = {name: [_MISSING] * len(rows) for name in FIELDS}
    columns["source"] = [""] * len(rows)  # optional: "" records the batch's source
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            errors[(index, "non_field_errors")] = ["Each row must be an object with named fields."]
            continue
        if not row.keys() <= _FIELD_SET:
            for name in unknown_fields(row):
                errors[(index, name)] = [f"Unknown field; the fields are {', '.join(FIELDS)}."]
        for name in FIELDS:
            if name in row:
                columns[name][index] = row[name]
            elif name in REQUIRED:
                errors[(index, name)] = ["This field is required."]
    for name, cleaner in CLEANERS.items():
        _clean_column(columns[name], name, cleaner, errors)
    bad_rows = {index for index, _ in errors}
    checked: dict[tuple[date, date], dict[str, str]] = {}  # a batch repeats its periods too
    for index, period in enumerate(
        zip(columns["period_start"], columns["period_end"], strict=True)
    ):
        if index not in bad_rows:
            if period not in checked:
                checked[period] = period_errors(*period, today)
            for name, message in checked[period].items():
                errors[(index, name)] = [message]
    if errors:
        return [], errors
    return list(
        map(MeasurementRow._make, zip(*(columns[name] for name in FIELDS), strict=True))
    ), errors


def _clean_column(column: list, name: str, cleaner: Callable, errors: Errors) -> None:
    """Clean the raw values in place; a text seen before (a batch repeats its dates,
    sources and often its values) gets the same outcome without cleaning it again."""
    seen: dict[str, object] = {}
    for index, raw in enumerate(column):
        if raw is _MISSING:
            continue
        text = raw.__class__ is str
        outcome = seen.get(raw, _MISSING) if text else _MISSING
        if outcome is _MISSING:
            try:
                outcome = cleaner(raw)
            except FieldError as exc:
                outcome = exc
            if text:
                seen[raw] = outcome
        if outcome.__class__ is FieldError:
            errors[(index, name)] = [str(outcome)]
        else:
            column[index] = outcome
