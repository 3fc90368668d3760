"""The governance map and contact continuity on the engagement page; tiers of key contacts
and check-ins; each tier's meeting cadence is a term (relationships.change_requests)."""

from datetime import UTC, date, datetime
from unittest import mock

import pytest

from feedback.selectors import governance_map
from relationships.models import KeyContact
from relationships.services import key_contact_change
from tests.dashboard.conftest import page_text
from tests.factories import CheckInFactory, KeyContactFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 30)
LONG_AGO = date(2025, 6, 1)


@pytest.fixture
def mapped(engagement):
    """Executive and management on the client side, management only on the provider
    side; the client's steward changed in March 2026."""
    engagement.start_date = LONG_AGO
    engagement.executive_cadence_days = 90
    engagement.management_cadence_days = 30
    engagement.save()
    for side, role, name, start, end in (
        ("client", "executive_sponsor", "Carol", LONG_AGO, None),
        ("client", "relationship_steward", "Alice", LONG_AGO, date(2026, 3, 14)),
        ("client", "relationship_steward", "Bob", date(2026, 3, 15), None),
        ("provider", "relationship_steward", "Erin", LONG_AGO, None),
        ("provider", "account_manager", "Finn", LONG_AGO, None),
    ):
        KeyContactFactory(
            engagement=engagement, side=side, role=role, name=name, start_date=start, end_date=end
        )
    # Management last met 40 days before "today" (cadence 30: overdue); executive 60 days
    # before (cadence 90: not); a check-in of no tier counts for none.
    CheckInFactory(
        engagement=engagement, occurred_at=datetime(2026, 10, 21, 9, tzinfo=UTC), tier="management"
    )
    CheckInFactory(
        engagement=engagement, occurred_at=datetime(2026, 10, 1, 9, tzinfo=UTC), tier="executive"
    )
    CheckInFactory(engagement=engagement, occurred_at=datetime(2026, 11, 29, 9, tzinfo=UTC))
    return engagement


def test_contacts_take_their_role_tier_unless_told(engagement, client_manager):
    sponsor = KeyContactFactory(engagement=engagement, role="executive_sponsor")
    lead = KeyContactFactory(engagement=engagement, role="delivery_lead")
    assert (sponsor.tier, lead.tier) == ("executive", "operational")
    steward = key_contact_change(
        engagement=engagement,
        side="client",
        role="relationship_steward",
        tier="executive",
        user=client_manager,
        name="Sam",
        start_date=date(2026, 2, 1),
    )
    assert KeyContact.objects.get(pk=steward.pk).tier == "executive"


def test_the_map_pairs_sides_by_tier_with_gaps_and_last_meetings(mapped, django_assert_num_queries):
    with django_assert_num_queries(2):
        tiers = governance_map(mapped, TODAY)
    executive, management, operational = tiers
    assert [c.name for c in executive.contacts["client"]] == ["Carol"]
    assert executive.gaps == ["provider"]
    assert [c.name for c in management.contacts["client"]] == ["Bob"]  # Alice has left
    assert [c.name for c in management.contacts["provider"]] == ["Finn", "Erin"]
    assert management.gaps == []
    assert operational.gaps == ["client", "provider"]
    assert executive.last_met == date(2026, 10, 1) and not executive.overdue
    assert management.last_met == date(2026, 10, 21) and management.overdue
    assert operational.last_met is None and not operational.overdue  # no cadence agreed


def test_the_engagement_page_shows_the_map_and_continuity(client, client_viewer, mapped):
    client.force_login(client_viewer)
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        response = client.get(mapped.get_absolute_url())
    assert response.status_code == 200
    text = page_text(response)
    assert "Governance map" in text
    assert "Executive tier: nobody on the provider side." in text
    assert "Operational tier: nobody on the client or the provider side." in text
    assert "every 30 days" in text and "21 Oct 2026 overdue" in text
    assert "Executive: every 90 days; Management: every 30 days; Operational: no cadence" in text
    # Continuity beside the scorecard: the client's steward changed (1 of 2 roles kept),
    # the provider kept both.
    assert "Contact continuity" in text
    assert "from 1 Dec 2025 to 30 Nov 2026" in text
    assert (
        "Client (Northwind Retail): 50% 1 of 2 roles kept; changed hands or left: "
        "Relationship steward" in text
    )
    assert "Provider (Contoso Services): 100% 2 of 2 roles kept" in text
