"""Rules for typed input that the API and the dashboard forms share.

- Numbers, ids, dates and times are written with the ASCII digits 0-9. Python reads
  other digits too (`int("٣")` is 3, `Decimal("３")` is 3, `"²".isdigit()` is true but
  `int("²")` fails), so without this rule "٣" would name record 3 and "²" would crash.
- Dates and times lie in one range, EARLIEST_DATE to LATEST_DATE. A time is checked
  by its date in UTC and in the time zone it is read in (the engagement's), so no
  conversion between zones can leave the years 1 to 9999 that Python's datetime holds.

core.forms.AccordForm and core.api.base's input serializers apply both to every field
of those kinds; code that reads such values by hand calls these functions.
"""

from datetime import UTC, date, datetime, timedelta, tzinfo

from django.core.exceptions import ValidationError
from django.utils import timezone

MAX_ID = 2**63 - 1  # the largest id any of our databases stores
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2099, 12, 31)
DATE_RANGE_MESSAGE = f"Enter a date from {EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()}."
MOMENT_RANGE_MESSAGE = (
    f"Enter a time from {EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()} "
    "(in UTC and in the engagement's time zone)."
)
ASCII_DIGITS_MESSAGE = "Write numbers, ids, dates and times with the digits 0-9."
# A wall-clock date this far outside the range is refused before any conversion:
# no time zone is a day or more away from UTC.
_MARGIN = timedelta(days=1)


def has_non_ascii(raw) -> bool:
    """True when raw is text (or a list or dict of texts) with characters beyond ASCII.

    For fields that take a number, an id, a date or a time: their valid input is ASCII.
    """
    if isinstance(raw, str):
        return not raw.isascii()
    if isinstance(raw, list | tuple):
        return any(has_non_ascii(item) for item in raw)
    if isinstance(raw, dict):
        return any(has_non_ascii(item) for item in raw.values())
    return False


def whole_number(text: str) -> int | None:
    """The whole number text writes with the ASCII digits 0-9 alone (spaces around
    allowed); None for anything else."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() else None


def validate_date(value: date) -> None:
    """ValidationError unless the date is within EARLIEST_DATE..LATEST_DATE."""
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValidationError(DATE_RANGE_MESSAGE, code="date_range")


def validate_moment(value: datetime, tz: tzinfo | None = None) -> None:
    """ValidationError unless the time's date is within the range both in UTC and in tz
    (default: the current time zone). A naive time is wall-clock time in tz."""
    tz = tz or timezone.get_current_timezone()
    if not EARLIEST_DATE - _MARGIN <= value.date() <= LATEST_DATE + _MARGIN:
        raise ValidationError(MOMENT_RANGE_MESSAGE, code="date_range")
    aware = timezone.make_aware(value, tz) if timezone.is_naive(value) else value
    for zone in (UTC, tz):
        if not EARLIEST_DATE <= aware.astimezone(zone).date() <= LATEST_DATE:
            raise ValidationError(MOMENT_RANGE_MESSAGE, code="date_range")
