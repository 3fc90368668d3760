"""In headless Chromium on a live server (PostgreSQL): the client's admin opens the members
page from the header and changes a manager to viewer; that person can no longer write (the
engagement page offers nothing to record, a form page refuses). The members page and the
engagement page's governance map at a laptop's and a phone's width, nothing scrolling
sideways; screenshots in $SCREENSHOT_DIR (default tests/screenshots/governance/)."""

from datetime import UTC, date, datetime

import pytest
from django.conf import settings
from django.urls import reverse

from relationships.models import Membership
from relationships.services import invitation_create
from tests.dashboard.browser import DOCUMENT_WIDTH, shooter, sign_in
from tests.factories import CheckInFactory, KeyContactFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS)),
]

shot = shooter("governance", prefix="governance-")


def test_an_admin_makes_a_manager_a_viewer_who_then_cannot_write(
    browser, live_server, engagement, client_org, client_admin, client_manager, client_viewer
):
    manager_page = sign_in(browser, live_server, client_manager)
    manager_page.goto(live_server.url + engagement.get_absolute_url())
    # A writer, for now: the page offers to recompute and to record.
    assert manager_page.locator("button:has-text('Recompute now')").count() > 0
    assert manager_page.locator("#record").count() == 1

    page = sign_in(browser, live_server, client_admin)
    page.click(f"a[href='{reverse('organization-members', args=[client_org.pk])}']")
    target = Membership.objects.get(user=client_manager)
    row = page.locator(f"#member-{target.pk}")
    row.locator("select").select_option("viewer")
    row.locator("button:has-text('Change role')").click()
    page.wait_for_selector(".message-success")
    assert "is now viewer" in page.locator(".message-success").inner_text()
    assert page.locator(f"#member-{target.pk} select").input_value() == "viewer"
    target.refresh_from_db()
    assert target.role == "viewer"
    page.close()

    # The same signed-in session, on its next request, reads only.
    manager_page.goto(live_server.url + engagement.get_absolute_url())
    assert manager_page.locator("button:has-text('Recompute now')").count() == 0
    assert manager_page.locator("#record").count() == 0
    response = manager_page.goto(live_server.url + reverse("checkin-create", args=[engagement.pk]))
    assert response.status == 403
    manager_page.close()


def test_members_and_governance_map_fit_a_laptop_and_a_phone(
    browser, live_server, engagement, client_org, client_admin, client_manager, client_viewer
):
    client_manager.first_name, client_manager.last_name = "Alexandra", "Konstantinopoulou"
    client_manager.email = "alexandra.konstantinopoulou@northwind-retail.example.com"
    client_manager.last_login = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    client_manager.save()
    invitation_create(
        organization=client_org,
        email="maximilian.oberhausen-waldenfels@northwind-retail.example.com",
        role="manager",
        invited_by=client_admin,
        send=False,
    )
    engagement.executive_cadence_days = 90
    engagement.save()
    for side, role, name in (
        ("client", "executive_sponsor", "Carol Diaz"),
        ("client", "relationship_steward", "Bob Okafor"),
        ("provider", "relationship_steward", "Maximilian Oberhausen-Waldenfels"),
        ("provider", "delivery_lead", "Erin Walsh"),
    ):
        KeyContactFactory(
            engagement=engagement, side=side, role=role, name=name, start_date=date(2026, 1, 1)
        )
    CheckInFactory(
        engagement=engagement, tier="executive", occurred_at=datetime(2026, 2, 2, 10, tzinfo=UTC)
    )
    widths = {}
    for width in (1280, 390):
        page = sign_in(browser, live_server, client_admin, width)
        page.goto(live_server.url + reverse("organization-members", args=[client_org.pk]))
        widths["members", width] = page.evaluate(DOCUMENT_WIDTH)
        shot(page, f"members-{width}")
        page.goto(live_server.url + engagement.get_absolute_url() + "#governance")
        widths["engagement", width] = page.evaluate(DOCUMENT_WIDTH)
        assert "Executive tier: nobody on the provider side" in page.inner_text("#governance")
        assert page.locator("#continuity").count() == 1
        shot(page, f"map-{width}", "#governance")
        shot(page, f"continuity-{width}", "#scorecard")
        page.close()
    assert {key: w for key, w in widths.items() if w > key[1]} == {}
