"""End to end in headless Chromium: three people on each side answer the survey, the
period closes (a fixed "today"), and the period page's survey report shows the provider's
blind spot, drawn as paired bars with a table beside."""

from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from feedback.models import PULSE_FIELDS, PulseResponse
from tests.dashboard.test_browser import CANVAS_HAS_INK, shot
from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS)),
]

SHOTS = Path("/work/shots/survey2")
NO_OVERFLOW = "() => document.documentElement.scrollWidth <= window.innerWidth"


def fits(page):
    """Nothing wider than the phone's viewport, once the charts have followed the resize
    (Chart.js redraws on a resize observer, a frame or two later)."""
    page.wait_for_function(NO_OVERFLOW, timeout=5000)


def answer_survey(browser, live_server, engagement, username, *, rating, mirror, text):
    """Sign in as `username` and answer: every statement `rating`, every mirror `mirror`,
    the recommendation 2 × rating, and a "continue" text."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server.url + reverse("login"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + reverse("portfolio"))
    page.goto(live_server.url + reverse("pulse-survey", args=[engagement.pk]))
    for field in PULSE_FIELDS:
        page.check(f"#id_{field}_{rating - 1}")
        page.check(f"#id_mirror_{field}_{mirror - 1}")
    page.check(f"#id_nps_{2 * rating}")
    page.fill("#id_continue_doing", text)
    page.click("form[action$='/survey/'] button[type=submit]")
    page.wait_for_selector(".message-success")
    return page


def test_three_per_side_answer_and_the_closed_period_shows_a_blind_spot(
    browser, live_server, on, engagement, client_viewer
):
    # The client rates the provider 3 and predicts 4, which the provider gives it (agreed
    # strengths); the provider predicts 5 where the client gives it 3: blind spots, d = 2.
    people = [(engagement.client, f"client-{i}", 3, 4) for i in range(3)]
    people += [(engagement.provider, f"provider-{i}", 4, 5) for i in range(3)]
    with on(date(2026, 3, 10)):
        for organization, username, rating, mirror in people:
            MembershipFactory(user=UserFactory(username=username), organization=organization)
            page = answer_survey(
                browser,
                live_server,
                engagement,
                username,
                rating=rating,
                mirror=mirror,
                text=f"Keep the weekly call ({username[:6]})",
            )
        page.goto(live_server.url + reverse("pulse-survey", args=[engagement.pk]))
        assert page.locator("#id_mirror_trust_overall_4").is_checked()  # their own answers
        page.set_viewport_size({"width": 390, "height": 900})
        fits(page)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "survey-page-390.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=str(SHOTS / "survey-page-1280.png"), full_page=True)
    assert PulseResponse.objects.current().count() == 6

    with on(date(2026, 4, 10)):  # March has closed
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(live_server.url + reverse("login"))
        page.fill("#id_username", client_viewer.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(live_server.url + reverse("portfolio"))
        page.goto(
            live_server.url
            + reverse("engagement-period", args=[engagement.pk, "2026-03-01"])
            + "#survey"
        )
        survey = page.locator("#survey")
        assert survey.locator(".mirror-blind_spot").count() == 6  # the provider's
        assert survey.locator(".mirror-agreed_strength").count() == 6  # the client's
        assert "How the client sees the provider" in survey.inner_text()
        assert "Keep the weekly call (provid)" in survey.inner_text()
        for side in ("client", "provider"):
            canvas = page.locator(f"#survey-chart-{side}")
            canvas.wait_for()
            assert canvas.evaluate(CANVAS_HAS_INK)
        survey.screenshot(path=str(SHOTS / "period-survey-chart-1280.png"))
        shot(page, "20-period-survey-report")
        page.set_viewport_size({"width": 390, "height": 900})
        fits(page)
        page.screenshot(path=str(SHOTS / "period-page-390.png"), full_page=True)

        # The engagement page sums the blind spots up.
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(live_server.url + reverse("engagement-detail", args=[engagement.pk]))
        spots = page.locator("#blind-spots")
        assert spots.locator("li").count() == 6
        assert "Provider side on “They deliver what they promise.”" in spots.inner_text()
        spots.screenshot(path=str(SHOTS / "engagement-blind-spots-1280.png"))
