"""The next check-in slots inside every attendee's working hours: pure, on zoneinfo.

Each attendee works Monday to Friday between two local times in their own zone. A slot
is a start on a fixed grid (every STEP, in UTC) whose whole meeting falls inside every
attendee's working day on a working day of theirs; daylight-saving changes are read
from each zone, so the same local hours map to different UTC times across them.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DURATION = timedelta(minutes=30)
STEP = timedelta(minutes=30)
HORIZON = timedelta(days=28)  # how far ahead a common slot is looked for
SLOTS = 3
WEEKEND = (5, 6)  # Saturday, Sunday


@dataclass(frozen=True)
class WorkingHours:
    zone: ZoneInfo
    starts: time
    ends: time

    @classmethod
    def of(cls, contact) -> "WorkingHours":
        """A key contact's (relationships.KeyContact: tz, work_starts, work_ends)."""
        return cls(zone=contact.tz, starts=contact.work_starts, ends=contact.work_ends)

    def covers(self, start: datetime, end: datetime) -> bool:
        """The meeting from `start` to `end` (aware) lies inside one working day of theirs."""
        local_start, local_end = start.astimezone(self.zone), end.astimezone(self.zone)
        return (
            local_start.date() == local_end.date()
            and local_start.weekday() not in WEEKEND
            and self.starts <= local_start.time()
            and local_end.time() <= self.ends
        )


def next_due(*, last: datetime | None, cadence_days: int, now: datetime) -> datetime:
    """When the next check-in is due: a cadence after the last one, never in the past."""
    return now if last is None else max(now, last + timedelta(days=cadence_days))


def fits(start: datetime, hours: Iterable[WorkingHours], duration: timedelta = DURATION) -> bool:
    return all(h.covers(start, start + duration) for h in hours)


def _first_on_grid(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    midnight = datetime.combine(moment.date(), time(), tzinfo=UTC)
    steps = -(-(moment - midnight) // STEP)  # rounded up
    return midnight + steps * STEP


def checkin_slots(
    *,
    hours: Iterable[WorkingHours],
    due: datetime,
    count: int = SLOTS,
    duration: timedelta = DURATION,
) -> list[datetime]:
    """The earliest slot of each of the next `count` days (UTC) on which all attendees
    work at a common time, from `due` on; fewer when the horizon runs out, none when
    their working hours never overlap."""
    hours = list(hours)
    if not hours:
        return []
    slots: list[datetime] = []
    days_taken: set[date] = set()
    start, last = _first_on_grid(due), due + HORIZON
    while start <= last and len(slots) < count:
        if start.date() not in days_taken and fits(start, hours, duration):
            slots.append(start)
            days_taken.add(start.date())
            start = datetime.combine(start.date() + timedelta(days=1), time(), tzinfo=UTC)
            continue
        start += STEP
    return slots
