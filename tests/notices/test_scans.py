"""The daily scans: action items due or overdue, check-ins slipping past the cadence, the
survey open and closing; each told once however often the scan runs (a fixed clock)."""

from datetime import UTC, date, datetime

import pytest

from notices.models import Kind, Notice
from notices.tasks import notices_scan_task
from tests.factories import ActionItemFactory, CheckInFactory

pytestmark = pytest.mark.django_db


def kinds_of(user) -> list[str]:
    return sorted(Notice.objects.filter(user=user).values_list("key", flat=True))


def test_an_action_item_due_in_three_days_then_overdue_reaches_its_owner(
    engagement, client_manager, client_viewer, on
):
    item = ActionItemFactory(
        engagement=engagement, owner_side="client", owner=client_manager, due_date=date(2026, 5, 14)
    )
    ActionItemFactory(  # done: nothing to say
        engagement=engagement,
        owner_side="client",
        owner=client_manager,
        due_date=date(2026, 5, 12),
        cancelled=True,
    )
    with on(date(2026, 5, 10)):
        notices_scan_task.apply()
    assert not Notice.objects.filter(kind=Kind.ACTION_ITEM).exists()  # 4 days ahead
    with on(date(2026, 5, 11)):
        notices_scan_task.apply()
        notices_scan_task.apply()
    with on(date(2026, 5, 15)):
        notices_scan_task.apply()
    items = Notice.objects.filter(kind=Kind.ACTION_ITEM).order_by("created_at")
    assert [(n.user, n.key) for n in items] == [
        (client_manager, f"action_item:{item.pk}:due:2026-05-14"),
        (client_manager, f"action_item:{item.pk}:overdue:2026-05-14"),
    ]
    assert "overdue since 14 May" in items[1].subject


def test_check_ins_slipping_past_the_cadence_reach_both_sides_once(
    engagement, client_manager, provider_manager, on
):
    CheckInFactory(engagement=engagement, occurred_at=datetime(2026, 5, 1, 10, tzinfo=UTC))
    with on(date(2026, 5, 8)):  # 7 days: on cadence
        notices_scan_task.apply()
    assert not Notice.objects.filter(kind=Kind.CHECKIN_CADENCE).exists()
    with on(date(2026, 5, 9)):
        notices_scan_task.apply()
    with on(date(2026, 5, 10)):
        notices_scan_task.apply()
    slipping = Notice.objects.filter(kind=Kind.CHECKIN_CADENCE)
    assert sorted(n.user_id for n in slipping) == sorted([client_manager.pk, provider_manager.pk])
    assert "no check-in for 8 days (the cadence is 7)" in slipping[0].subject


def test_the_survey_is_announced_when_open_and_two_days_before_it_closes(
    engagement, client_viewer, on
):
    for day in (3, 4, 28, 29, 30):
        with on(date(2026, 5, day)):
            notices_scan_task.apply()
    assert sorted(Notice.objects.filter(kind=Kind.SURVEY).values_list("key", flat=True)) == [
        f"survey:{engagement.pk}:month:2026-05-01:closing",
        f"survey:{engagement.pk}:month:2026-05-01:open",
    ]
