"""A proposed engagement's page: the proposal first, with Accept and Decline for the
counterpart's admin; no empty scorecard, history or logs; a declined proposal shows both
sides who declined it and why."""

from datetime import date

import pytest
from django.urls import reverse

from relationships.models import Engagement
from tests.dashboard.conftest import page_text, signed_in
from tests.factories import EngagementFactory

# The sections of an engagement that records exist for; none while it is only proposed.
RECORD_SECTIONS = ("scorecard", "history", "review", "alerts", "record", "contribution-reviews")
RECORD_SECTIONS += ("checkins", "feedback")


@pytest.fixture
def proposed(client_org, provider_org, client_manager):
    """Proposed by the client side: the provider's admin accepts or declines."""
    return EngagementFactory(
        client=client_org,
        provider=provider_org,
        name="Data platform",
        status="proposed",
        proposed_by=client_manager,
        proposed_by_side="client",
        start_date=date(2026, 3, 1),
    )


def decline_url(engagement):
    return reverse("engagement-decline", args=[engagement.pk])


def test_counterpart_admin_meets_the_proposal_first_and_no_empty_sections(proposed, provider_admin):
    html = signed_in(provider_admin).get(proposed.get_absolute_url()).text
    main = html.split('<main id="main"')[1]
    # The proposal is the page's first section, before the terms it accepts.
    assert main.index('id="proposal"') < main.index('id="terms"') < main.index('id="side-client"')
    assert main.index("<section") == main.index('<section class="card proposal" id="proposal"')
    assert "Proposal awaiting your acceptance" in html
    assert f'action="{reverse("engagement-accept", args=[proposed.pk])}"' in html
    assert f'action="{decline_url(proposed)}"' in html
    for section in RECORD_SECTIONS:
        assert f'id="{section}"' not in html, section
    assert "computed every night" not in html
    assert "No open issues" not in html and "No check-ins yet" not in html


def test_proposer_sees_it_awaits_the_counterpart_without_buttons(
    proposed, client_manager, provider_org
):
    response = signed_in(client_manager).get(proposed.get_absolute_url())
    assert f"Awaiting acceptance by {provider_org.name}" in page_text(response)
    assert "Accept engagement" not in response.text
    assert decline_url(proposed) not in response.text
    assert "computed every night" not in response.text


def test_counterpart_admin_declines_with_a_reason_both_sides_read(
    proposed, provider_admin, client_manager, provider_org
):
    provider_admin.first_name, provider_admin.last_name = "Pat", "Provider"
    provider_admin.save()
    response = signed_in(provider_admin).post(
        decline_url(proposed), {"reason": "  We cannot staff it before June.  "}
    )
    assert (response.status_code, response.url) == (302, proposed.get_absolute_url())
    proposed.refresh_from_db()
    assert (proposed.status, proposed.declined_by, proposed.decline_reason) == (
        "declined",
        provider_admin,
        "We cannot staff it before June.",
    )
    for user in (client_manager, provider_admin):
        text = page_text(signed_in(user).get(proposed.get_absolute_url()))
        assert f"Pat Provider of {provider_org.name} declined this proposal on" in text
        assert "We cannot staff it before June." in text
        assert "Accept engagement" not in text
    # Declined is final: neither accepted nor declined again.
    again = signed_in(provider_admin).post(decline_url(proposed), {"reason": "Again"})
    assert again.status_code == 400
    assert "This engagement is declined, not proposed." in page_text(again)
    accept = signed_in(provider_admin).post(reverse("engagement-accept", args=[proposed.pk]))
    assert accept.status_code == 302
    proposed.refresh_from_db()
    assert (proposed.status, proposed.decline_reason) == (
        "declined",
        "We cannot staff it before June.",
    )


@pytest.mark.parametrize("reason", ["", "   ", "x" * 2001])
def test_decline_without_a_sensible_reason_is_400_and_changes_nothing(
    proposed, provider_admin, reason
):
    response = signed_in(provider_admin).post(decline_url(proposed), {"reason": reason})
    assert response.status_code == 400
    assert 'id="decline_reason_error"' in response.text
    assert '<details class="decline" open>' in response.text
    proposed.refresh_from_db()
    assert (proposed.status, proposed.declined_at, proposed.decline_reason) == (
        "proposed",
        None,
        "",
    )


@pytest.mark.parametrize(
    "who, status", [("client_admin", 403), ("provider_manager", 403), ("outsider", 404)]
)
def test_only_the_counterpart_admin_declines(request, proposed, who, status):
    response = signed_in(request.getfixturevalue(who)).post(
        decline_url(proposed), {"reason": "No thanks"}
    )
    assert response.status_code == status
    assert Engagement.objects.get(pk=proposed.pk).status == "proposed"


def test_an_active_engagement_without_a_closed_period_says_when_the_first_closes(
    client_manager, client_org, provider_org
):
    from django.utils import timezone

    today = timezone.localdate()
    engagement = EngagementFactory(
        client=client_org, provider=provider_org, status="active", start_date=today
    )
    text = page_text(signed_in(client_manager).get(engagement.get_absolute_url()))
    first = engagement.current_period(today)
    closes = engagement.period_closed_from(first)
    assert (
        f"No period has closed yet. The first, {first.title}, closes on "
        f"{closes.day} {closes:%b %Y}" in text
    )
    assert "computed every night" not in text


def test_a_proposals_period_page_does_not_promise_scorecards(proposed, provider_admin):
    start = proposed.current_period(date(2026, 3, 1)).start
    response = signed_in(provider_admin).get(
        reverse("engagement-period", args=[proposed.pk, start.isoformat()])
    )
    assert response.status_code == 200
    assert "computed every night" not in response.text
    assert "None are computed unless the engagement is accepted." in page_text(response)
