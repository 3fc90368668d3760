from datetime import UTC, date, datetime, timedelta

import pytest

from feedback import selectors
from feedback.models import ContributionReview
from feedback.selectors import Ratio
from tests.factories import (
    ActionItemFactory,
    CheckInFactory,
    ContributionReviewFactory,
    FeedbackFactory,
    IssueFactory,
)

pytestmark = pytest.mark.django_db


def at(day: int, hour: int = 10, month: int = 1) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


# ---------------------------------------------------------------- contact
def test_days_since_last_checkin(engagement):
    for day in (3, 9, 20):
        CheckInFactory(engagement=engagement, occurred_at=at(day))
    # As of 15 January the 20 January check-in has not happened yet: 15 − 9 = 6.
    assert selectors.days_since_last_checkin(engagement=engagement, as_of=date(2026, 1, 15)) == 6
    assert selectors.days_since_last_checkin(engagement=engagement, as_of=date(2026, 1, 20)) == 0
    assert selectors.days_since_last_checkin(engagement=engagement, as_of=date(2026, 1, 2)) is None


def test_contact_score_formula():
    # 31 days at a 7-day cadence: expected floor(31 / 7) = 4.
    assert selectors.contact_score(held=3, days=31, cadence_days=7) == 75
    assert selectors.contact_score(held=6, days=31, cadence_days=7) == 100
    # Fewer days than the cadence still expects one check-in.
    assert selectors.contact_score(held=0, days=3, cadence_days=7) == 0


def test_cadence_adherence_counts_distinct_local_dates(engagement):
    engagement.checkin_cadence_days = 5
    engagement.save()
    # Two on 5 January count once; 31 January 23:00 UTC is still January in UTC.
    for moment in (at(5, 9), at(5, 15), at(12), at(31, 23), at(1, month=2)):
        CheckInFactory(engagement=engagement, occurred_at=moment)
    # January: 31 days ÷ 5 = 6 expected, 3 distinct dates held → 50.
    january = selectors.cadence_adherence(
        engagement=engagement, start=date(2026, 1, 1), end=date(2026, 1, 31)
    )
    assert january == pytest.approx(50)


def test_cadence_adherence_starts_at_the_engagement_start(engagement):
    engagement.start_date = date(2026, 1, 20)
    engagement.save()
    CheckInFactory(engagement=engagement, occurred_at=at(22))
    # Span 20–31 January = 12 days ÷ 7 → 1 expected, 1 held.
    assert selectors.cadence_adherence(
        engagement=engagement, start=date(2026, 1, 1), end=date(2026, 1, 31)
    ) == pytest.approx(100)
    assert (
        selectors.cadence_adherence(
            engagement=engagement, start=date(2025, 12, 1), end=date(2025, 12, 31)
        )
        is None
    )


def test_cadence_adherence_uses_the_local_date(engagement):
    engagement.time_zone = "Asia/Tokyo"
    engagement.save()
    # 31 January 20:00 UTC is 1 February 05:00 in Tokyo: not a January check-in.
    CheckInFactory(engagement=engagement, occurred_at=at(31, 20))
    assert selectors.cadence_adherence(
        engagement=engagement, start=date(2026, 1, 1), end=date(2026, 1, 31)
    ) == pytest.approx(0)


# ---------------------------------------------------------------- feedback balance
def test_appreciation_share_per_side(engagement):
    for side, kind, day in [
        ("client", "appreciation", 5),
        ("client", "improvement", 6),
        ("client", "appreciation", 7),
        ("client", "appreciation", 8),
        ("provider", "improvement", 9),
        ("provider", "appreciation", 2),  # outside the range
    ]:
        FeedbackFactory(
            engagement=engagement,
            from_side=side,
            kind=kind,
            suggested_action="Do this" if kind == "improvement" else "",
            created_at=at(day),
        )
    share = selectors.appreciation_share(
        engagement=engagement, start=date(2026, 1, 3), end=date(2026, 1, 31)
    )
    assert share == {"client": Ratio(3, 4), "provider": Ratio(0, 1)}
    assert share["client"].percent == 75
    assert share["provider"].percent == 0


def test_appreciation_share_without_feedback_has_no_figure(engagement):
    share = selectors.appreciation_share(
        engagement=engagement, start=date(2026, 1, 1), end=date(2026, 1, 31)
    )
    assert share["client"].percent is None


# ---------------------------------------------------------------- disclosure
def test_disclosure_by_responsible_side(engagement):
    for responsible, raised_by, lag_hours, day in [
        ("provider", "provider", 2, 5),
        ("provider", "client", 48, 10),
        ("provider", "provider", 10, 12),
        ("client", "client", 0, 15),
        ("client", "client", 1, 2),  # raised before the range
    ]:
        IssueFactory(
            engagement=engagement,
            responsible_side=responsible,
            raised_by_side=raised_by,
            detected_at=at(day) - timedelta(hours=lag_hours),
            raised_at=at(day),
        )
    result = selectors.disclosure_by_side(
        engagement=engagement, start=date(2026, 1, 3), end=date(2026, 1, 31)
    )
    assert result["provider"].raised_by_self == Ratio(2, 3)
    assert result["provider"].mean_lag == timedelta(hours=20)  # (2 + 48 + 10) / 3
    assert result["client"].raised_by_self.percent == 100
    assert result["client"].mean_lag == timedelta(0)


def test_disclosure_without_issues(engagement):
    result = selectors.disclosure_by_side(
        engagement=engagement, start=date(2026, 1, 1), end=date(2026, 1, 31)
    )
    assert result["client"].raised_by_self.percent is None
    assert result["client"].mean_lag is None


# ---------------------------------------------------------------- follow-through
def test_on_time_completion_per_owner_side(engagement):
    due = date(2026, 1, 15)
    for side, completed, cancelled in [
        ("provider", at(14), False),  # early
        ("provider", at(15, 23), False),  # on the due date
        ("provider", at(16), False),  # late
        ("provider", None, False),  # open
        ("provider", None, True),  # cancelled: left out
        ("client", at(10), False),
    ]:
        ActionItemFactory(
            engagement=engagement,
            owner_side=side,
            due_date=due,
            completed_at=completed,
            cancelled=cancelled,
        )
    ActionItemFactory(engagement=engagement, owner_side="client", due_date=date(2026, 2, 1))
    result = selectors.on_time_completion(
        engagement=engagement, start=date(2026, 1, 1), end=date(2026, 1, 31)
    )
    assert result == {"provider": Ratio(2, 4), "client": Ratio(1, 1)}
    assert result["provider"].percent == 50


# ---------------------------------------------------------------- reviews
def test_review_completeness_in_one_query(engagement, django_assert_num_queries):
    complete, one_sided, cancelled_side = (
        ContributionReviewFactory(issue=IssueFactory(engagement=engagement)) for _ in range(3)
    )
    for review, sides in [
        (complete, [("client", False), ("provider", False)]),
        (one_sided, [("provider", False), ("provider", False)]),
        (cancelled_side, [("client", True), ("provider", False)]),
    ]:
        for side, cancelled in sides:
            ActionItemFactory(
                engagement=engagement, review=review, owner_side=side, cancelled=cancelled
            )
    with django_assert_num_queries(1):
        flags = {
            review.pk: review.complete
            for review in selectors.reviews_with_completeness(ContributionReview.objects.all())
        }
    assert flags == {complete.pk: True, one_sided.pk: False, cancelled_side.pk: False}
    assert [r.is_complete() for r in (complete, one_sided, cancelled_side)] == [True, False, False]
