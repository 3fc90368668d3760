"""End to end in headless Chromium against a live server on PostgreSQL.

A provider manager works through the week (portfolio, chart, check-in, survey,
alert, sign-off); then a client manager sees the provider's sign-off.
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import PASSWORD

# available_apps makes the flush between tests TRUNCATE ... CASCADE: knox's own
# token table (left behind by the swapped KNOX_TOKEN_MODEL) references auth_user.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS)),
]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"

# Any drawn pixel on the canvas (alpha > 0) means Chart.js rendered the chart.
CANVAS_HAS_INK = """(canvas) => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) return true; }
  return false;
}"""


def sign_in(browser, live_server, username):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server.url + reverse("login"))
    shot(page, "00-sign-in")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + reverse("portfolio"))
    return page


def shot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_provider_manager_week_and_client_sees_sign_off(
    browser, live_server, provider_manager, client_manager, scored_engagement
):
    engagement_url = live_server.url + reverse("engagement-detail", args=[scored_engagement.pk])
    page = sign_in(browser, live_server, "provider-manager")

    # Portfolio with bands (colour and word).
    assert page.locator("#portfolio .band-watch").first.inner_text() == "Watch"
    shot(page, "01-portfolio")

    # Engagement page: the chart is drawn.
    page.click("text=Service desk")
    page.wait_for_url(engagement_url)
    canvas = page.locator("#score-chart")
    canvas.wait_for()
    assert canvas.evaluate(CANVAS_HAS_INK)
    shot(page, "02-engagement")

    # Log a check-in and see it listed.
    page.click("summary:has-text('Log a check-in')")
    page.fill("#checkin_notes", "Weekly sync from the browser test")
    page.click("form[action$='/checkins/new/'] button[type=submit]")
    page.wait_for_url(engagement_url + "*")
    assert "Weekly sync from the browser test" in page.locator("#checkin-list").inner_text()
    shot(page, "03-checkin-logged")

    # Submit this period's pulse survey.
    page.click("text=Answer this period's pulse survey")
    for fieldset in page.locator("form fieldset").all():
        fieldset.locator("input[type=radio]").nth(3).check()
    shot(page, "04-survey")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".message-success").count() == 1
    shot(page, "05-survey-submitted")

    # Acknowledge the open alert.
    page.goto(engagement_url)
    page.click("#alerts button:has-text('Acknowledge')")
    page.wait_for_url(engagement_url + "*")
    assert "Acknowledged by provider-manager" in page.locator("#alerts").inner_text()

    # Sign off the period's scorecard.
    page.check("#review input[value=signed]")
    page.fill("#review textarea[name=comment]", "Numbers match our service reports.")
    page.click("#review button:has-text('Submit review')")
    page.wait_for_url(engagement_url + "periods/**")  # a review returns to its period's page
    review = page.locator("#review").inner_text()
    assert "Signed by provider-manager" in review
    shot(page, "06-signed-off")
    page.close()

    # The client side sees the same engagement with the provider's sign-off.
    page = sign_in(browser, live_server, "client-manager")
    page.goto(engagement_url)
    review = page.locator("#review").inner_text()
    assert "Signed by provider-manager" in review
    assert "Numbers match our service reports." in review
    shot(page, "07-client-sees-sign-off")

    # Recompute now (eagerly, as in development): the page says once that it is ready.
    page.click("button:has-text('Recompute now')")
    page.wait_for_selector("#run-status:has-text('the new scorecard is ready')")
    assert "queued" not in page.locator("main").inner_text().lower()
    shot(page, "08-recomputed")

    # Phone width: the page does not scroll sideways (wide tables scroll in their own box).
    page.set_viewport_size({"width": 360, "height": 780})
    page.goto(live_server.url + reverse("portfolio"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "09-portfolio-phone")
    page.close()


# ---------------------------------------------------------------- accessibility
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
BLOCKING_IMPACTS = {"serious", "critical"}

# Every <details> opened, so the forms inside are checked too.
AXE_RUN = """async () => {
  document.querySelectorAll('details').forEach((d) => { d.open = true; });
  const results = await axe.run(document, { resultTypes: ['violations'] });
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
  }));
}"""


def blocking_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return [v for v in page.evaluate(AXE_RUN) if v["impact"] in BLOCKING_IMPACTS]


@pytest.fixture
def busy_engagement(scored_engagement, client_admin):
    """The scored engagement with a contact, an issue under review and open action items."""
    from tests.factories import (
        ActionItemFactory,
        ContributionReviewFactory,
        IssueFactory,
        KeyContactFactory,
        SharedGoalFactory,
        SLAFactory,
    )

    engagement = scored_engagement
    KeyContactFactory(engagement=engagement, side="client", name="Dana Client")
    SLAFactory(engagement=engagement, name="Availability", owner_side="provider")
    SharedGoalFactory(engagement=engagement, title="Self-service portal")
    review = ContributionReviewFactory(issue=IssueFactory(engagement=engagement))
    ActionItemFactory(engagement=engagement, review=review, owner_side="client")
    IssueFactory(engagement=engagement, title="Slow handovers")
    return engagement


def test_pages_have_no_serious_accessibility_violations(
    browser, live_server, client_admin, busy_engagement
):
    # axe goes in as an inline script, which the Content-Security-Policy blocks: this test
    # lets it in (test_content_security_policy.py checks the policy on every page).
    page = browser.new_page(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page.goto(live_server.url + reverse("login"))
    found = {"login": blocking_violations(page)}
    page.fill("#id_username", client_admin.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + reverse("portfolio"))
    # Column headers sort from the keyboard, and say which column is sorted.
    page.focus("#portfolio th a:has-text('Overall')")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?sort=overall")
    assert page.locator("#portfolio th[aria-sort=ascending]").inner_text().startswith("Overall")
    pages = {
        "portfolio": reverse("portfolio") + "?sort=-overall",
        "engagement": reverse("engagement-detail", args=[busy_engagement.pk]),
        "survey": reverse("pulse-survey", args=[busy_engagement.pk]),
        "alerts": reverse("alert-list"),
        "scoring": reverse("scoring-config-update", args=[busy_engagement.pk]),
    }
    for name, path in pages.items():
        page.goto(live_server.url + path)
        found[name] = blocking_violations(page)
        shot(page, f"a11y-{name}")
    # The check itself works: an image without a text alternative is caught.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<img src=\\'x.png\\'>')")
    assert "image-alt" in {v["id"] for v in blocking_violations(page)}
    page.close()
    assert {name: v for name, v in found.items() if v} == {}
