"""Scorecard periods: ISO weeks, calendar months and quarters, across year boundaries."""

from datetime import date

import pytest

from relationships.periods import (
    CLOSED,
    CLOSING,
    IN_PROGRESS,
    MONTH,
    Period,
    period_containing,
    period_starting,
    period_state,
    recent_periods,
)


@pytest.mark.parametrize(
    ("kind", "day", "start", "end", "label"),
    [
        ("week", date(2026, 1, 1), date(2025, 12, 29), date(2026, 1, 4), "2026-W01"),
        ("week", date(2027, 1, 1), date(2026, 12, 28), date(2027, 1, 3), "2026-W53"),
        ("week", date(2026, 3, 9), date(2026, 3, 9), date(2026, 3, 15), "2026-W11"),
        ("month", date(2026, 2, 14), date(2026, 2, 1), date(2026, 2, 28), "2026-02"),
        ("month", date(2028, 2, 29), date(2028, 2, 1), date(2028, 2, 29), "2028-02"),
        ("month", date(2026, 12, 31), date(2026, 12, 1), date(2026, 12, 31), "2026-12"),
        ("quarter", date(2026, 5, 20), date(2026, 4, 1), date(2026, 6, 30), "2026-Q2"),
        ("quarter", date(2026, 12, 31), date(2026, 10, 1), date(2026, 12, 31), "2026-Q4"),
    ],
)
def test_the_period_containing_a_day(kind, day, start, end, label):
    period = period_containing(kind, day)
    assert (period.start, period.end, period.label) == (start, end, label)
    assert period.start <= day <= period.end
    assert period.days == (end - start).days + 1


@pytest.mark.parametrize(
    ("kind", "day", "previous_start", "next_start"),
    [
        ("week", date(2026, 1, 1), date(2025, 12, 22), date(2026, 1, 5)),
        ("month", date(2026, 1, 15), date(2025, 12, 1), date(2026, 2, 1)),
        ("month", date(2026, 12, 15), date(2026, 11, 1), date(2027, 1, 1)),
        ("quarter", date(2026, 2, 1), date(2025, 10, 1), date(2026, 4, 1)),
        ("quarter", date(2026, 11, 1), date(2026, 7, 1), date(2027, 1, 1)),
    ],
)
def test_previous_and_next_cross_year_boundaries(kind, day, previous_start, next_start):
    period = period_containing(kind, day)
    assert period.previous().start == previous_start
    assert period.previous().next() == period
    assert period.next().start == next_start


def test_recent_periods_are_newest_first_and_contiguous():
    periods = recent_periods("month", date(2026, 2, 10), 3)
    assert [p.label for p in periods] == ["2026-02", "2026-01", "2025-12"]
    for newer, older in zip(periods, periods[1:], strict=False):
        assert older.next() == newer


def test_a_period_starts_only_on_its_first_day():
    assert period_starting("quarter", date(2026, 7, 1)) == Period(
        "quarter", date(2026, 7, 1), date(2026, 9, 30)
    )
    with pytest.raises(ValueError, match="not the first day of a week"):
        period_starting("week", date(2026, 1, 1))


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown period kind"):
        period_containing("fortnight", date(2026, 1, 1))


@pytest.mark.parametrize(
    "today, grace_days, last_day, state",
    [
        (date(2026, 3, 31), 5, None, IN_PROGRESS),
        (date(2026, 4, 1), 5, None, CLOSING),
        (date(2026, 4, 5), 5, None, CLOSING),
        (date(2026, 4, 6), 5, None, CLOSED),
        (date(2026, 4, 1), 0, None, CLOSED),
        # An engagement that ends on 10 March closes its last period 5 days after that.
        (date(2026, 3, 12), 5, date(2026, 3, 10), CLOSING),
        (date(2026, 3, 16), 5, date(2026, 3, 10), CLOSED),
        (date(2026, 4, 6), 5, date(2026, 12, 31), CLOSED),
    ],
)
def test_a_period_is_in_progress_then_closing_for_the_grace_days_then_closed(
    today, grace_days, last_day, state
):
    march = period_containing(MONTH, date(2026, 3, 1))
    assert period_state(march, today=today, grace_days=grace_days, last_day=last_day) == state


@pytest.mark.django_db
def test_a_period_closes_at_midnight_in_the_engagement_time_zone(on, engagement):
    engagement.time_zone = "Pacific/Auckland"  # UTC+13 in March
    february = period_containing(MONTH, date(2026, 2, 1))
    with on(date(2026, 3, 5), hour=10):  # 5 March 23:00 in Auckland: still closing
        assert engagement.period_state(february) == CLOSING
        assert engagement.latest_closed_period().label == "2026-01"
    with on(date(2026, 3, 5), hour=11):  # 6 March 00:00 in Auckland
        assert engagement.period_state(february) == CLOSED
        assert engagement.latest_closed_period() == february
