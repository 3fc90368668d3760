"""The engagement page follows the provisional scorecard (PRODUCT.md §12): a write refreshes it
and the open page shows the new figures, "updated just now", without a reload; its poll is
a 304 while nothing changed."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from relationships.measurements import measurement_record
from tests.dashboard.test_browser import sign_in
from tests.factories import SLAFactory

pytestmark = pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS))


def _record(sla, value: str, user):
    today = datetime.now(UTC).date()
    measurement_record(
        sla=sla,
        period_start=today,
        period_end=today,
        value=Decimal(value),
        source="probe",
        user=user,
    )


def test_the_poll_answers_the_paragraph_then_304_until_a_write_refreshes_it(
    client, engagement, client_manager
):
    sla = SLAFactory(engagement=engagement, target=Decimal("90"))
    _record(sla, "95", client_manager)  # refreshed at once (tasks run in-process here)
    client.force_login(client_manager)
    url = reverse("engagement-provisional", args=[engagement.pk])
    first = client.get(url)
    assert first.status_code == 200 and 'id="provisional"' in first.content.decode()
    assert "Updated <time" in first.content.decode() and "just now" in first.content.decode()
    assert client.get(url, headers={"If-None-Match": first["ETag"]}).status_code == 304
    _record(sla, "50", client_manager)  # misses the target: the scorecard changes
    changed = client.get(url, headers={"If-None-Match": first["ETag"]})
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]


@pytest.mark.browser
def test_the_open_engagement_page_shows_the_refreshed_scorecard_without_a_reload(
    browser, live_server, engagement, client_manager
):
    sla = SLAFactory(engagement=engagement, target=Decimal("90"))
    _record(sla, "95", client_manager)
    page = sign_in(browser, live_server, client_manager.username)
    page.goto(live_server.url + reverse("engagement-detail", args=[engagement.pk]))
    before = page.inner_text("#provisional")
    assert "Updated just now" in before
    page.evaluate("window.notReloaded = true")
    _record(sla, "50", client_manager)  # another side's tool, say, posts a value that misses
    page.wait_for_function(
        "(before) => document.querySelector('#provisional').innerText !== before",
        arg=before,
        timeout=30_000,
    )
    assert page.evaluate("window.notReloaded") is True
    assert "Updated just now" in page.inner_text("#provisional")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"/tmp/live-provisional-{width}.png", full_page=False)
