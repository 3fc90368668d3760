"""The issue's flow in headless Chromium on a live server (PostgreSQL): a client manager
proposes a provider SLA's new target; a provider manager sees it in Agreement and accepts
it; the SLA shows the new target and the audit entry old → new. Then the Agreement section
and each page that changes a term at a laptop's and a phone's width, with screenshots in
$SCREENSHOT_DIR (default tests/screenshots/agreement/)."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from relationships.change_requests import (
    change_request_comment,
    change_request_decline,
    terms_change,
)
from relationships.models import SLA, ChangeRequest
from tests.dashboard.browser import DOCUMENT_WIDTH, shooter, sign_in
from tests.factories import KeyContactFactory, SharedGoalFactory, SLAFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS)),
]

shot = shooter("agreement")


def test_client_proposes_a_provider_sla_target_and_the_provider_accepts(
    browser, live_server, engagement, client_manager, provider_manager
):
    sla = SLAFactory(engagement=engagement, name="Availability", target=Decimal("99.5"))
    engagement_url = live_server.url + engagement.get_absolute_url()

    page = sign_in(browser, live_server, client_manager)
    page.goto(engagement_url)
    change = reverse("sla-change", args=[engagement.pk, sla.pk])
    page.click(f"#side-provider a[href='{change}']")
    page.wait_for_url("**" + change)
    assert "for agreement" in page.locator("main").inner_text()
    page.fill("#id_target", "99.9")
    page.click("button:has-text('Propose this change')")
    page.wait_for_url(engagement_url + "#change-request-*")
    assert "Change request sent to" in page.locator(".messages").inner_text()
    request = page.locator("#agreement .change-request").first
    assert "99.9" in request.inner_text()
    assert SLA.objects.get(pk=sla.pk).target == Decimal("99.5")
    page.close()

    page = sign_in(browser, live_server, provider_manager)
    page.goto(engagement_url)
    request = page.locator("#agreement .change-request").first
    assert "Target" in request.inner_text()
    request.locator("button:has-text('Accept')").click()
    page.wait_for_url(engagement_url + "#change-request-*")
    assert "Change accepted" in page.locator(".messages").inner_text()
    assert "≥ 99.9 %" in page.locator("#side-provider table").inner_text()
    entry = page.locator("#agreement .change-request-log li").first
    text = entry.inner_text()
    assert "Accepted" in text and "provider-manager" in text and "client-manager" in text
    assert "99.5" in text and "99.9" in text and "applies from" in text
    assert SLA.objects.get(pk=sla.pk).target == Decimal("99.9")
    assert ChangeRequest.objects.get().status == "accepted"
    page.close()


def test_agreement_and_term_pages_at_laptop_and_phone_width(
    browser, live_server, engagement, client_manager, client_admin, provider_manager
):
    slas = [
        SLAFactory(engagement=engagement, name="Availability of the customer portal"),
        SLAFactory(engagement=engagement, name="First response to priority-one incidents"),
    ]
    goal = SharedGoalFactory(engagement=engagement, title="Move the service desk to the new tool")
    KeyContactFactory(engagement=engagement, side="client", name="Alexandra Konstantinopoulou")
    open_request = terms_change(
        engagement=engagement,
        user=client_manager,
        subject="sla",
        sla=slas[0],
        values={"target": "99.95", "weight": "2"},
    ).change_request
    change_request_comment(
        change_request=open_request,
        user=provider_manager,
        body="We can reach 99.95 once the second data centre is live in the spring.",
    )
    terms_change(
        engagement=engagement,
        user=client_admin,
        subject="scoring_config",
        values={"survey_threshold": 5},
    )
    declined = terms_change(
        engagement=engagement,
        user=client_manager,
        subject="goal",
        goal=goal,
        values={"due_date": "2026-06-30"},
    ).change_request
    change_request_decline(
        change_request=declined, user=provider_manager, reason="The tool arrives in July."
    )
    pages = {
        "sla-propose": reverse("sla-propose", args=[engagement.pk]),
        "sla-change": reverse("sla-change", args=[engagement.pk, slas[1].pk]),
        "goal-propose": reverse("goal-propose", args=[engagement.pk]),
        "goal-change": reverse("goal-change", args=[engagement.pk, goal.pk]),
        "engagement-terms-change": reverse("engagement-terms-change", args=[engagement.pk]),
    }
    widths = {}
    for width in (1280, 390):
        page = sign_in(browser, live_server, provider_manager, width)
        page.goto(live_server.url + engagement.get_absolute_url() + "#agreement")
        assert page.locator("#agreement .change-request").count() == 2
        assert page.locator("#agreement .change-request-log li").count() == 1
        page.locator("#agreement summary:has-text('Decline…')").first.click()
        widths["engagement", width] = page.evaluate(DOCUMENT_WIDTH)
        shot(page, f"agreement-{width}", "#agreement")
        for name, path in pages.items():
            page.goto(live_server.url + path)
            widths[name, width] = page.evaluate(DOCUMENT_WIDTH)
            shot(page, f"{name}-{width}")
        page.close()
        page = sign_in(browser, live_server, client_admin, width)
        page.goto(live_server.url + reverse("scoring-config-update", args=[engagement.pk]))
        widths["scoring", width] = page.evaluate(DOCUMENT_WIDTH)
        shot(page, f"scoring-config-update-{width}")
        page.close()
    assert {key: w for key, w in widths.items() if w > key[1]} == {}
