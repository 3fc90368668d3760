"""Contact continuity (relationships.continuity), computed by hand.

The window is the twelve months ending 30 Nov 2026: 1 Dec 2025 to 30 Nov 2026; its
fourth month is March 2026.
"""

from datetime import date

import pytest

from relationships.continuity import Holding, contact_continuity, window_start
from relationships.models import KeyContact
from relationships.selectors import contact_continuity as continuity_of_engagement
from relationships.services import key_contact_change
from tests.factories import EngagementFactory, KeyContactFactory, UserFactory

ON = date(2026, 11, 30)
LONG_AGO = date(2025, 6, 1)


def held(role, person, start, end=None):
    return Holding(role=role, person=person, start=start, end=end)


def test_the_window_is_the_twelve_months_ending_on_the_day():
    assert window_start(ON) == date(2025, 12, 1)
    assert window_start(date(2028, 2, 29)) == date(2027, 3, 1)


def test_a_steward_changed_in_month_four_breaks_one_role_of_three():
    client = contact_continuity(
        [
            held("relationship_steward", "alice", LONG_AGO, date(2026, 3, 14)),
            held("relationship_steward", "bob", date(2026, 3, 15)),
            held("executive_sponsor", "carol", LONG_AGO),
            held("delivery_lead", "dan", LONG_AGO),
        ],
        on=ON,
    )
    assert client.kept == ("delivery_lead", "executive_sponsor")
    assert client.changed == ("relationship_steward",)
    assert client.roles == 3
    assert client.share == pytest.approx(2 / 3)


def test_no_change_keeps_every_role():
    provider = contact_continuity(
        [held("relationship_steward", "erin", LONG_AGO), held("account_manager", "finn", LONG_AGO)],
        on=ON,
    )
    assert provider.kept == ("account_manager", "relationship_steward")
    assert provider.share == 1.0


@pytest.mark.parametrize(
    ("holdings", "kept"),
    [
        # Filled in the window's sixth month and kept since: nobody left it.
        ([held("technical_lead", "gia", date(2026, 5, 1))], True),
        # Left in the window with nobody after them: a vacancy.
        ([held("technical_lead", "gia", LONG_AGO, date(2026, 8, 31))], False),
        # The same person again after a month with nobody: a gap.
        (
            [
                held("technical_lead", "gia", LONG_AGO, date(2026, 4, 30)),
                held("technical_lead", "gia", date(2026, 6, 1)),
            ],
            False,
        ),
        # The same person recorded twice, back to back: kept.
        (
            [
                held("technical_lead", "gia", LONG_AGO, date(2026, 4, 30)),
                held("technical_lead", "gia", date(2026, 5, 1)),
            ],
            True,
        ),
        # Handed over on the window's first day: the predecessor held it only before.
        (
            [
                held("technical_lead", "hal", LONG_AGO, date(2025, 11, 30)),
                held("technical_lead", "gia", date(2025, 12, 1)),
            ],
            True,
        ),
        # Handed over on its second day: two people in the window.
        (
            [
                held("technical_lead", "hal", LONG_AGO, date(2025, 12, 1)),
                held("technical_lead", "gia", date(2025, 12, 2)),
            ],
            False,
        ),
    ],
)
def test_what_keeps_a_role(holdings, kept):
    result = contact_continuity(holdings, on=ON)
    assert result.roles == 1
    assert result.kept == (("technical_lead",) if kept else ())


def test_roles_outside_the_window_do_not_count():
    result = contact_continuity(
        [
            held("technical_lead", "hal", LONG_AGO, date(2025, 11, 30)),  # ended before
            held("delivery_lead", "ivy", date(2026, 12, 1)),  # starts after
        ],
        on=ON,
    )
    assert result.roles == 0 and result.share is None


@pytest.mark.django_db
def test_the_selector_reads_both_sides_in_one_query(django_assert_num_queries, client_manager):
    engagement = EngagementFactory(
        client=client_manager.memberships.get().organization,
        start_date=LONG_AGO,
        status="active",
    )
    carol = UserFactory(username="carol")
    for side, role, name, user in (
        ("client", "relationship_steward", "Alice", None),
        ("client", "executive_sponsor", "Carol", carol),
        ("client", "delivery_lead", "Dan", None),
        ("provider", "relationship_steward", "Erin", None),
        ("provider", "account_manager", "Finn", None),
    ):
        KeyContactFactory(
            engagement=engagement, side=side, role=role, name=name, user=user, start_date=LONG_AGO
        )
    # The client's steward changes in the window's fourth month, as the dashboard does it.
    key_contact_change(
        engagement=engagement,
        side="client",
        role="relationship_steward",
        user=client_manager,
        name="Bob",
        start_date=date(2026, 3, 15),
    )
    # A correction of Carol's recorded name is the same person (her account).
    KeyContact.objects.filter(name="Carol").update(name="Carol Diaz")
    with django_assert_num_queries(1):
        continuity = continuity_of_engagement(engagement, ON)
    assert continuity["client"].changed == ("relationship_steward",)
    assert continuity["client"].share == pytest.approx(2 / 3)
    assert continuity["provider"].share == 1.0
    assert continuity["provider"].changed == ()
