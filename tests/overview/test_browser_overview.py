"""End to end in headless Chromium (PostgreSQL): a provider admin with five clients reads
the organisation page and how the clients see it, compares three engagements on one chart,
and finds an issue by a word of its title from the header's search box; every page at a
laptop's and a phone's width without sideways scrolling."""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.dashboard.test_browser import CANVAS_HAS_INK
from tests.dashboard.test_phone_width import DOCUMENT_WIDTH
from tests.factories import PASSWORD
from tests.overview.conftest import AFTER_MARCH_CLOSED

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS)),
]

SHOTS = Path(os.environ.get("SCREENSHOT_DIR") or "/tmp")
# Chart.js follows a resize a frame or two later.
FITS = "() => document.documentElement.scrollWidth <= window.innerWidth"


def at_both_widths(page, name):
    """Screenshots at 1280 and 390 px; the page never scrolls sideways."""
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_function(FITS, timeout=5000)
        assert page.evaluate(DOCUMENT_WIDTH) <= width, (name, width)
        page.screenshot(path=str(SHOTS / f"orgs-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_provider_admin_reads_the_organisation_compares_and_searches(
    browser, live_server, on, five_clients, provider_org, provider_admin
):
    with on(AFTER_MARCH_CLOSED):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(live_server.url + reverse("login"))
        page.fill("#id_username", provider_admin.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(live_server.url + reverse("portfolio"))

        # The organisation page, from the header.
        page.click(".user-box a:has-text('Contoso Services')")
        page.wait_for_url(live_server.url + reverse("organisation-detail", args=[provider_org.pk]))
        groups = page.locator("#counterparts h3")
        assert groups.count() == 5
        assert groups.nth(2).inner_text().startswith("Northwind Retail 2 engagements")
        view = page.locator("#view-client")
        assert view.locator("h2").inner_text() == "How our clients see us"
        promises = view.locator("tr:has-text('They deliver what they promise.') td")
        assert promises.all_inner_texts() == ["3.0", "2"]
        assert page.locator("#org-overall").inner_text() == "68.0"
        assert page.locator("main a:has-text('Members')").get_attribute("href") == (
            f"/organizations/{provider_org.pk}/members/"
        )
        at_both_widths(page, "organisation")

        # Compare three of them.
        page.click(".site-nav a:has-text('Compare')")
        for name in ("Service desk", "Store network", "Warehouse apps"):
            page.check(f".compare-choice:has(label:text-is('{name}')) input")
        page.click(".compare-form button[type=submit]")
        page.wait_for_selector("#compared")
        headings = page.locator("#compared thead th").all_inner_texts()
        assert headings == ["Service desk", "Store network", "Warehouse apps"]
        overall = page.locator("#compared tr:has(th:text-is('Overall')) td")
        assert overall.all_inner_texts() == ["80.0", "40.0", "90.0"]
        canvas = page.locator("#compare-chart")
        canvas.wait_for()
        assert canvas.evaluate(CANVAS_HAS_INK)
        at_both_widths(page, "compare")

        # Search from the header for a word of an issue's title; the hit opens its engagement.
        page.fill("#site-search-q", "firmware")
        page.press("#site-search-q", "Enter")
        page.wait_for_selector("#search-summary")
        results = page.locator("#search-results")
        assert results.locator("h2").all_inner_texts()[0].startswith("Store network")
        hit = results.locator("a:has-text('Tills offline after the firmware upgrade')")
        at_both_widths(page, "search")
        hit.click()
        page.wait_for_url(f"**{five_clients['Store network'].get_absolute_url()}#side-provider")
        page.close()
