"""The check-in planner: slots inside every attendee's working hours, across DST changes."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from feedback.checkin_planner import DURATION, WorkingHours, checkin_slots, fits, next_due

BERLIN = WorkingHours(zone=ZoneInfo("Europe/Berlin"), starts=time(9), ends=time(17))
KOLKATA = WorkingHours(zone=ZoneInfo("Asia/Kolkata"), starts=time(10), ends=time(18))
LOS_ANGELES = WorkingHours(zone=ZoneInfo("America/Los_Angeles"), starts=time(9), ends=time(17))


def inside(hours: WorkingHours, slot: datetime) -> bool:
    start, end = slot.astimezone(hours.zone), (slot + DURATION).astimezone(hours.zone)
    return (
        start.date() == end.date()
        and start.weekday() < 5
        and hours.starts <= start.time()
        and end.time() <= hours.ends
    )


def local(slot: datetime, hours: WorkingHours) -> str:
    return slot.astimezone(hours.zone).strftime("%a %d %b %H:%M %Z")


@pytest.mark.parametrize(
    "due, expected",
    [
        # Berlin leaves CET (UTC+1) for CEST (UTC+2) on Sunday 29 March 2026; Kolkata stays
        # at UTC+5:30. The common window starts at 09:00 in Berlin either way, an hour
        # earlier in UTC (and in Kolkata) after the change.
        (
            datetime(2026, 3, 26, 6, 0, tzinfo=UTC),
            [
                ("Thu 26 Mar 09:00 CET", "Thu 26 Mar 13:30 IST"),
                ("Fri 27 Mar 09:00 CET", "Fri 27 Mar 13:30 IST"),
                ("Mon 30 Mar 09:00 CEST", "Mon 30 Mar 12:30 IST"),
            ],
        ),
        # Back to CET on Sunday 25 October 2026.
        (
            datetime(2026, 10, 22, 6, 0, tzinfo=UTC),
            [
                ("Thu 22 Oct 09:00 CEST", "Thu 22 Oct 12:30 IST"),
                ("Fri 23 Oct 09:00 CEST", "Fri 23 Oct 12:30 IST"),
                ("Mon 26 Oct 09:00 CET", "Mon 26 Oct 13:30 IST"),
            ],
        ),
    ],
)
def test_slots_for_berlin_and_kolkata_fall_in_both_windows_across_a_dst_change(due, expected):
    slots = checkin_slots(hours=[BERLIN, KOLKATA], due=due)
    assert [(local(s, BERLIN), local(s, KOLKATA)) for s in slots] == expected
    assert all(inside(BERLIN, s) and inside(KOLKATA, s) for s in slots)


def test_the_whole_meeting_fits_the_shorter_end_of_the_window():
    # Kolkata ends at 18:00 IST = 12:30 UTC; after 12:00 UTC no 30 minutes fit that day.
    due = datetime(2026, 3, 26, 12, 1, tzinfo=UTC)
    [first, *_] = checkin_slots(hours=[BERLIN, KOLKATA], due=due)
    assert local(first, BERLIN) == "Fri 27 Mar 09:00 CET"
    assert fits(datetime(2026, 3, 26, 12, 0, tzinfo=UTC), [BERLIN, KOLKATA])
    assert not fits(datetime(2026, 3, 26, 12, 30, tzinfo=UTC), [BERLIN, KOLKATA])


def test_a_slot_is_never_on_anyones_weekend():
    # Saturday 28 March: the Monday after is the next slot.
    slots = checkin_slots(hours=[BERLIN, KOLKATA], due=datetime(2026, 3, 28, tzinfo=UTC))
    assert [s.astimezone(BERLIN.zone).weekday() for s in slots] == [0, 1, 2]


def test_working_hours_that_never_overlap_give_no_slot():
    # Kolkata 10–18 IST is 21:30–05:30 in Los Angeles.
    assert checkin_slots(hours=[KOLKATA, LOS_ANGELES], due=datetime(2026, 3, 2, tzinfo=UTC)) == []
    assert checkin_slots(hours=[], due=datetime(2026, 3, 2, tzinfo=UTC)) == []


def test_the_next_check_in_is_due_a_cadence_after_the_last_never_in_the_past():
    now = datetime(2026, 3, 10, 9, tzinfo=UTC)
    assert next_due(last=None, cadence_days=7, now=now) == now
    assert next_due(last=now - timedelta(days=2), cadence_days=7, now=now) == now + timedelta(
        days=5
    )
    assert next_due(last=now - timedelta(days=30), cadence_days=7, now=now) == now
