"""The what-if page in headless Chromium on a live server (PostgreSQL): a viewer follows
"What if?" from the terms, tries other weights and band limits and reads the back-test,
at a laptop's width and a phone's, where nothing scrolls sideways.

Screenshots go to tests/screenshots/what-if/ (or to $SCREENSHOT_DIR).
"""

import pytest
from django.conf import settings
from django.urls import reverse

from tests.dashboard.browser import DOCUMENT_WIDTH, shooter, sign_in
from tests.scorecards.test_backtest import history  # noqa: F401 (a fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS)),
]

shot = shooter("what-if")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_viewer_tries_other_weights_and_reads_the_back_test(
    browser, live_server, client_viewer, history, width  # noqa: F811
):
    page = sign_in(browser, live_server, client_viewer, width)
    page.goto(live_server.url + history.get_absolute_url())
    page.click("#terms a:has-text('What if?')")
    page.wait_for_url(live_server.url + reverse("what-if", args=[history.pk]))
    assert page.input_value("#id_weight_reliance") == "30.0"
    shot(page, f"form-{width}")
    page.fill("#id_weight_reliance", "60")
    page.fill("#id_weight_contact", "5")
    page.fill("#id_weight_sentiment", "25")
    page.fill("#id_healthy_at", "70")
    page.fill("#id_watch_at", "60")
    page.click("button:has-text('Back-test')")
    page.wait_for_selector("#backtest")
    rows = page.locator("#backtest tbody tr")
    assert rows.count() == 13
    assert page.locator("#backtest .band-change").count() >= 1
    assert "Provisional" in rows.first.inner_text()
    assert page.evaluate(DOCUMENT_WIDTH) <= width
    shot(page, f"backtest-{width}")
    # A bad value: the field says why, and what was typed stays.
    page.fill("#id_watch_at", "90")
    page.click("button:has-text('Back-test')")
    page.wait_for_selector("#id_watch_at_error")
    assert page.input_value("#id_watch_at") == "90"
    assert page.input_value("#id_weight_reliance") == "60"
    assert page.evaluate(DOCUMENT_WIDTH) <= width
    shot(page, f"error-{width}")
    page.close()
