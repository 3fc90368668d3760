"""Pages at a phone's width (390 px) and a laptop's (1280 px), in headless Chromium on a
live server (PostgreSQL): nothing scrolls sideways, the portfolio's band and overall are on
screen, a proposal is read first, and the recompute's status line follows its run.

Screenshots of each page at both widths go to tests/screenshots/widths/ (or to
$SCREENSHOT_DIR) for a person to look at.
"""

from datetime import date

import pytest
from django.conf import settings
from django.urls import reverse

from scorecards.models import ScorecardRun
from tests.dashboard.browser import DOCUMENT_WIDTH, shooter, sign_in
from tests.factories import (
    ActionItemFactory,
    CheckInFactory,
    ContributionReviewFactory,
    EngagementFactory,
    FeedbackFactory,
    IssueFactory,
    KeyContactFactory,
    SharedGoalFactory,
    SLAFactory,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS)),
]

shot = shooter("widths")
WIDTHS = (390, 1280)


@pytest.fixture
def phone_world(scored_engagement, client_manager, provider_org):
    """The scored engagement with what makes pages wide: long names and addresses, an SLA
    table, goals, a contribution review, check-ins, feedback and an open alert."""
    engagement = scored_engagement
    client_manager.first_name, client_manager.last_name = "Alexandra", "Konstantinopoulou"
    client_manager.save()
    provider_org.name = "Bluefin IT Services International Holdings"
    provider_org.save()
    KeyContactFactory(
        engagement=engagement,
        side="provider",
        name="Maximilian Oberhausen-Waldenfels",
        email="maximilian.oberhausen-waldenfels@bluefin-it-services.example.com",
    )
    for side in ("client", "provider"):
        SLAFactory(engagement=engagement, owner_side=side, name=f"{side} first-response time")
    SharedGoalFactory(engagement=engagement, title="Move the service desk to the new tool")
    review = ContributionReviewFactory(issue=IssueFactory(engagement=engagement))
    ActionItemFactory(engagement=engagement, review=review, owner_side="client")
    IssueFactory(engagement=engagement, title="Slow handovers between the two service desks")
    CheckInFactory(engagement=engagement, notes="Monthly review of the backlog and the SLAs")
    FeedbackFactory(engagement=engagement, text="Thanks for the quick turnaround.")
    return engagement


def test_no_page_scrolls_sideways_at_phone_or_laptop_width(
    browser, live_server, client_manager, phone_world
):
    period_start = phone_world.scorecards.order_by("-period_start").first().period_start
    pages = {
        "portfolio": reverse("portfolio"),
        "engagement": phone_world.get_absolute_url(),
        "period": reverse("engagement-period", args=[phone_world.pk, period_start.isoformat()]),
        "alerts": reverse("alert-list"),
        "members": reverse("organization-members", args=[phone_world.client_id]),
    }
    widths = {}
    for width in WIDTHS:
        page = sign_in(browser, live_server, client_manager, width)
        for name, path in pages.items():
            page.goto(live_server.url + path)
            widths[name, width] = page.evaluate(DOCUMENT_WIDTH)
            shot(page, f"{name}-{width}")
        # A record form, loaded into the engagement page when its section is opened.
        page.goto(live_server.url + pages["engagement"])
        page.click("#record summary:has-text('Log a check-in')")
        page.locator("#checkin_occurred_at").wait_for()
        widths["record form", width] = page.evaluate(DOCUMENT_WIDTH)
        shot(page, f"record-form-{width}", "#record")
        if width == 390:
            # The headline columns of the portfolio are on screen, not behind a scroll.
            page.goto(live_server.url + pages["portfolio"])
            for cell in ("td:has(.band)", "td.num"):
                box = page.locator(f"#portfolio tbody tr >> {cell}").first.bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= width, (cell, box)
            # The alerts' Acknowledge button too.
            page.goto(live_server.url + pages["alerts"])
            box = page.locator("#alert-table button:has-text('Acknowledge')").first.bounding_box()
            assert box["x"] + box["width"] <= width
        page.close()
    assert {key: w for key, w in widths.items() if w > key[1]} == {}


def test_the_section_nav_reaches_every_section_and_stays_on_screen(
    browser, live_server, client_manager, phone_world
):
    page = sign_in(browser, live_server, client_manager, 390)
    page.goto(live_server.url + phone_world.get_absolute_url())
    targets = page.locator(".section-nav a").evaluate_all("links => links.map(a => a.hash)")
    assert {"#scorecard", "#review", "#alerts", "#goals", "#terms"} <= set(targets)
    for target in targets:
        assert page.locator(target).count() == 1, target
    page.click(".section-nav a[href='#goals']")
    page.wait_for_url("**#goals")
    nav = page.locator(".section-nav").bounding_box()
    goals = page.locator("#goals").bounding_box()
    assert nav["y"] == 0  # stuck to the top
    assert nav["height"] <= goals["y"] < 900  # the section starts just below it
    page.close()


def test_a_proposal_is_the_first_thing_its_counterpart_admin_reads(
    browser, live_server, client_org, provider_org, provider_admin, client_manager
):
    proposed = EngagementFactory(
        client=client_org,
        provider=provider_org,
        name="Data platform",
        status="proposed",
        proposed_by=client_manager,
        proposed_by_side="client",
        start_date=date(2026, 3, 1),
    )
    for width in WIDTHS:
        page = sign_in(browser, live_server, provider_admin, width)
        page.goto(live_server.url + proposed.get_absolute_url())
        heading = page.locator("#proposal-heading")
        assert heading.inner_text() == "Proposal awaiting your acceptance"
        assert heading.bounding_box()["y"] < 500
        assert page.locator("#proposal button:has-text('Accept engagement')").is_visible()
        assert page.evaluate(DOCUMENT_WIDTH) <= width
        page.click("#proposal summary:has-text('Decline')")
        shot(page, f"proposal-{width}")
    # Declined from the last page, with a reason both sides then read.
    page.fill("#decline_reason", "We cannot staff it before June.")
    page.click("#proposal button:has-text('Decline proposal')")
    page.wait_for_load_state()
    assert "We cannot staff it before June." in page.locator("#decline-reason").inner_text()
    page.close()


def test_the_status_line_follows_a_queued_run_to_its_end(
    browser, live_server, client_manager, phone_world
):
    run = ScorecardRun.objects.create(trigger="on_demand", engagement=phone_world)
    page = sign_in(browser, live_server, client_manager, 390)
    page.goto(f"{live_server.url}{phone_world.get_absolute_url()}?run={run.pk}")
    status = page.locator("#run-status")
    assert status.inner_text().startswith("Recompute queued…")
    ScorecardRun.objects.filter(pk=run.pk).update(status=ScorecardRun.Status.SUCCEEDED)
    page.wait_for_selector("#run-status a:has-text('Show it')")
    assert status.inner_text() == "Recompute finished: the new scorecard is ready. Show it"
    assert "queued" not in page.locator("main").inner_text().lower()
    page.close()
