"""End to end in headless Chromium against a live server on PostgreSQL.

A provider manager works through the week (portfolio, chart, check-in, survey,
alert, sign-off); then a client manager sees the provider's sign-off.
"""

import time
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from relationships.models import Engagement
from sampledata.management.commands.seed_demo import PASSWORD as DEMO_PASSWORD
from scorecards.models import Alert, Scorecard
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


def sign_in(browser, live_server, username, password=PASSWORD):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server.url + reverse("login"))
    shot(page, "00-sign-in")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
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
    # Wait for the answer's page itself: a load state awaited right after the click can be
    # the survey page's own, before the navigation has begun.
    with page.expect_navigation():
        page.click("main form button[type=submit]")
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
    page.wait_for_url(engagement_url + "periods/**")  # the review returns to its period's page
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


# ---------------------------------------------------------------- the demo, early in a month
# 2 December with the default 5 grace days: November is closing, so October is the latest
# closed month; December is in progress.
DEMO_NOW = datetime(2026, 12, 2, 10, tzinfo=UTC)
OCTOBER, NOVEMBER, DECEMBER = date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)
DROP_ALERTS = (
    Alert.Kind.BAND_DROP,
    Alert.Kind.SCORE_DROP,
    Alert.Kind.PERCEPTION_GAP,
    Alert.Kind.SIDE_RELIANCE_LOW,
)


@pytest.fixture
def demo_on_2_december(monkeypatch):
    """The demo seeded on DEMO_NOW, and the application (the live server's thread too: it
    reads the same module) believing the clock started then."""
    started = time.monotonic()
    monkeypatch.setattr(
        timezone, "now", lambda: DEMO_NOW + timedelta(seconds=time.monotonic() - started)
    )
    call_command("seed_demo", stdout=StringIO())


def portfolio_cells(page, name: str) -> dict[str, str]:
    headers = [h.inner_text().strip() for h in page.locator("#portfolio thead th").all()]
    row = page.locator("#portfolio tbody tr", has_text=name)
    cells = [row.locator("th").inner_text()] + [td.inner_text() for td in row.locator("td").all()]
    return dict(zip(headers, cells, strict=True))


def test_demo_early_in_a_month_headlines_the_last_closed_month(
    browser, live_server, demo_on_2_december
):
    engagements = {e.name: e for e in Engagement.objects.filter(client__name="Lumen Retail")}
    monthly = [e for e in engagements.values() if e.scorecard_period == "month"]
    assert len(monthly) == 2
    page = sign_in(browser, live_server, "lumen-manager", password=DEMO_PASSWORD)
    shot(page, "demo-01-portfolio")

    # The portfolio: each monthly engagement's headline is October's final scorecard; December
    # so far stands beside it. Days since the last check-in are counted from 2 December, so
    # the live server's thread runs on the patched clock.
    assert "so far" in page.locator("#portfolio thead").inner_text()
    for engagement in monthly:
        scorecards = {s.period_start: s for s in engagement.scorecards.all()}
        october, november, december = (scorecards[m] for m in (OCTOBER, NOVEMBER, DECEMBER))
        assert october.is_final and not november.is_final and not december.is_final
        assert october.overall != november.overall  # so the headline tells them apart
        cells = portfolio_cells(page, engagement.name)
        assert "October 2026" in cells["Band"]
        assert cells["Band"].startswith(october.get_band_display())
        assert cells["Overall"] == str(october.overall)
        assert cells["This period so far"] == f"{december.overall} as of 2 Dec"
        last = engagement.checkins.latest("occurred_on").occurred_on
        assert cells["Days since check-in"] == str((date(2026, 12, 2) - last).days)
    quarterly = engagements["Lumen · Bluefin legacy migration"]
    assert "Q3 2026" in portfolio_cells(page, quarterly.name)["Band"]

    # The engagement page: October is the headline, December beside it marked provisional,
    # and October awaits the client's signature (the provider signed).
    service_desk = engagements["Lumen · Bluefin service desk"]
    october = service_desk.scorecards.get(period_start=OCTOBER)
    december = service_desk.scorecards.get(period_start=DECEMBER)
    page.click(f"text={service_desk.name}")
    page.wait_for_url(live_server.url + service_desk.get_absolute_url())
    assert page.locator("#scorecard-heading").inner_text() == "Latest closed period: October 2026"
    assert page.locator("#scorecard .summary .figure").first.inner_text() == str(october.overall)
    so_far = " ".join(page.locator("#provisional").inner_text().split())
    assert so_far.startswith("Provisional December 2026 so far")
    assert "as of 2 Dec" in so_far
    assert f"{december.overall - october.overall:+.1f} so far against October 2026" in so_far
    review = page.locator("#review").inner_text()
    assert "Signed by Sofia Brandt" in review and "Not reviewed yet." in review
    assert page.locator("#review button:has-text('Submit review')").count() == 1
    shot(page, "demo-02-engagement")

    # December's own page: in progress, its review not open yet.
    page.click("#provisional a")
    page.wait_for_url("**/periods/2026-12-01/")
    assert "In progress" in page.locator(".page-header").inner_text()
    assert "has not closed yet" in page.locator("#review").inner_text()
    assert page.locator("#review form").count() == 0
    shot(page, "demo-03-december")

    # No drop alert from a provisional period, on the pages or anywhere. Each alert links
    # to its period's page.
    labels = [Alert.Kind(kind).label for kind in DROP_ALERTS]
    shown = 0
    for engagement in monthly:
        page.goto(live_server.url + engagement.get_absolute_url())
        for alert in page.locator("#alerts li").all():
            if any(label in alert.inner_text() for label in labels):
                shown += 1
                link = alert.locator("a[href*='/periods/']").get_attribute("href")
                assert date.fromisoformat(link.rstrip("/").rsplit("/", 1)[1]) <= OCTOBER
    assert shown  # the demo shows drop alerts, of closed periods
    periods = ("engagement_id", "period_kind", "period_start")
    provisional = Scorecard.objects.filter(status=Scorecard.Status.PROVISIONAL)
    drops = Alert.objects.filter(kind__in=DROP_ALERTS)
    assert drops.exists()
    assert set(provisional.values_list(*periods)).isdisjoint(drops.values_list(*periods))
    page.close()
