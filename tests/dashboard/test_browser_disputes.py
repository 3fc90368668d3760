"""End to end in headless Chromium: the provider disputes a value the client recorded for its
SLA from the period page; the review lists it and the explanation says so; the client accepts
the proposed correction, and both update."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from relationships.measurements import MeasurementRow, measurements_import
from relationships.models import Measurement
from scorecards.compute import compute_chunk
from tests.factories import PASSWORD, SLAFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS)),
]

SHOTS = Path("/work/shots/disputes")
NOVEMBER = date(2026, 11, 1)
DISPUTED = "met 3 of 4, 1 value disputed by the provider."


def record(user, sla, days_and_values):
    measurements_import(
        rows=[
            MeasurementRow(sla.pk, date(2026, 11, day), date(2026, 11, day), Decimal(value))
            for day, value in days_and_values
        ],
        actor=user,
        source="test",
    )


def signed_in_page(browser, live_server, username):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server.url + reverse("login"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + reverse("portfolio"))
    return page


def shots(page, name):
    """The page at 1280 and 390 px wide; nothing may overflow at 390."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") == 390
    page.screenshot(path=str(SHOTS / f"{name}-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_provider_disputes_a_client_value_and_the_client_accepts_the_correction(
    browser, live_server, engagement, provider_manager, client_manager
):
    sla = SLAFactory(engagement=engagement, owner_side="provider", name="Availability")
    record(provider_manager, sla, [(2, "99.9"), (3, "99.8"), (4, "99.7")])
    record(client_manager, sla, [(20, "97")])
    value = Measurement.objects.get(recorded_by_side="client")

    def recompute():
        compute_chunk([engagement.pk], "month", NOVEMBER)

    recompute()
    url = live_server.url + reverse("engagement-period", args=[engagement.pk, "2026-11-01"])

    provider = signed_in_page(browser, live_server, "provider-manager")
    provider.goto(url)
    row = provider.locator(f"#value-{value.pk}")
    assert "recorded by the client" in row.inner_text()
    assert "met 3 of 4." in provider.locator("#scorecard").text_content()
    row.locator("summary").click()
    provider.fill(f"#dispute-{value.pk}-reason", "Our probe saw 99.6 that day.")
    provider.fill(f"#dispute-{value.pk}-value", "99.6")
    shots(provider, "1-dispute-form")
    row.locator("button[type=submit]").click()
    provider.wait_for_url(url + "#disputes")
    listed = provider.locator("#dispute-list").inner_text()
    assert "Our probe saw 99.6 that day." in listed and "Open" in listed
    recompute()
    provider.reload()
    assert DISPUTED in provider.locator("#scorecard").text_content()
    shots(provider, "2-disputed")

    client = signed_in_page(browser, live_server, "client-manager")
    client.goto(url)
    assert DISPUTED in client.locator("#scorecard").text_content()
    client.locator("#dispute-list button:has-text('Accept 99.6')").click()
    client.wait_for_url(url + "#disputes")
    assert "Corrected" in client.locator("#dispute-list").inner_text()
    recompute()
    client.reload()
    reliance = client.locator("#scorecard").text_content()
    assert "met 4 of 4." in reliance and "disputed by" not in reliance
    shots(client, "3-corrected")
