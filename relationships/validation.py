"""Field rules for SLA measurements, shared by the single and the bulk API and the
dashboard's forms, and the reading of a CSV of them (the bulk API's and the upload's).

Each rule is one function from a raw value (JSON or CSV text) to a clean value,
raising FieldError with a message a person can act on. The single-measurement
serializer wraps these functions as fields; the bulk endpoint and the dashboard
apply them column by column, so all give the same answer for the same bad input.
"""

import csv
import io
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from core.inputs import ASCII_DIGITS_MESSAGE, has_non_ascii, validate_date, whole_number
from relationships.measurements import MAX_VALUE, MeasurementRow

FIELDS = ("sla", "period_start", "period_end", "value", "source")
_FIELD_SET = frozenset(FIELDS)
REQUIRED = frozenset({"sla", "period_start", "period_end", "value"})
MAX_SOURCE_LENGTH = 100
MAX_DECIMALS = 6
_QUANTUM = Decimal(1).scaleb(-MAX_DECIMALS)
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
    elif isinstance(raw, str) and (value := whole_number(raw)) is not None:
        pass
    else:
        raise FieldError("Give the SLA's id as a whole number (digits 0-9).")
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
        validate_date(value)
    except ValueError:
        raise FieldError(f"'{raw[:40]}' is not a date; use YYYY-MM-DD.") from None
    except ValidationError as exc:
        raise FieldError(exc.messages[0]) from None
    return value


def clean_value(raw) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
        raise FieldError("Give the value as a number.")
    if has_non_ascii(raw):
        raise FieldError(ASCII_DIGITS_MESSAGE)
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


def rows_from_csv(body: bytes) -> list[dict[str, str]]:
    """The rows of a CSV of measurements, as raw values by column name.

    UTF-8 text (a byte order mark allowed); a header naming the columns of FIELDS once
    each (source optional); then one row per line with a value for every column. Quoting
    is strict: a quote left open is an error, not the rest of the file read as one value.
    FieldError says what is wrong and on which line.
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FieldError("The CSV is not UTF-8 text.") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip() for name in next(reader, [])]
        if REQUIRED - set(header) or unknown_fields(header) or len(set(header)) != len(header):
            raise FieldError(
                f"The CSV header must name the columns {', '.join(FIELDS)} "
                "(source optional), each once."
            )
        rows = []
        for line in reader:
            if not line:
                continue
            if len(line) != len(header):
                raise FieldError(
                    f"CSV line {reader.line_num} has {len(line)} fields; the header has "
                    f"{len(header)}."
                )
            rows.append(dict(zip(header, line, strict=True)))
    except csv.Error as exc:
        raise FieldError(
            f"Malformed CSV at line {reader.line_num}: {exc}. A value that starts with a "
            "quote must end with one."
        ) from None
    return rows


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
