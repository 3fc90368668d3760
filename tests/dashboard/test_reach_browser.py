"""In headless Chromium on a live server (PostgreSQL): an engagement's admin connects a
Slack channel (a receiver on 127.0.0.1) from the dashboard and sends the test message, which
arrives; the engagement page proposes check-in slots in both sides' local times, and the
plan page sends the invitation. Nothing scrolls sideways at 390 or 1280 px; screenshots go
to tests/screenshots/reach/ (or to $SCREENSHOT_DIR) as reach-*.png.
"""

import time as clock

import orjson
import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from feedback.models import CheckInInvitation
from scorecards.models import WebhookDelivery, WebhookSubscription
from tests.dashboard.browser import DOCUMENT_WIDTH, shooter, sign_in
from tests.scorecards.conftest import Receiver

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS)),
]

shot = shooter("reach", prefix="reach-")


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True  # the receiver listens on loopback
    receiver = Receiver()
    yield receiver
    receiver.close()


def wait_for(condition, seconds=10):
    deadline = clock.monotonic() + seconds
    while not condition() and clock.monotonic() < deadline:
        clock.sleep(0.05)
    return condition()


def test_an_admin_connects_slack_and_the_test_message_arrives(
    browser, live_server, client_admin, engagement, contacts, receiver
):
    page = sign_in(browser, live_server, client_admin, 1280)
    page.goto(live_server.url + engagement.get_absolute_url())
    page.click("#integrations-link")
    page.wait_for_url(live_server.url + reverse("engagement-integrations", args=[engagement.pk]))
    page.check("input[name=format][value=slack]")
    page.fill("input[name=url]", receiver.url)
    page.check("input[name=events][value='change_request.opened']")
    page.click("button:has-text('Connect')")
    page.wait_for_selector(".message-success, .messages")
    channel = WebhookSubscription.objects.get()
    assert (channel.format, channel.engagement_id) == ("slack", engagement.pk)
    assert set(channel.events) == {"alert.raised", "scorecard.computed", "change_request.opened"}

    page.click("button:has-text('Send a test message')")
    page.wait_for_selector(".delivery-succeeded")
    assert wait_for(lambda: len(receiver.requests) == 1)
    [request] = receiver.requests
    assert request["path"] == "/hook"
    body = orjson.loads(request["body"])
    assert body["blocks"][0]["text"]["text"] == "Test message: Service desk"
    assert WebhookDelivery.objects.get().status == "succeeded"

    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.reload()
        assert page.evaluate(DOCUMENT_WIDTH) <= width
        shot(page, f"integrations-{width}")
    page.close()


def test_the_engagement_page_proposes_slots_and_the_plan_sends_the_invitation(
    browser, live_server, client_manager, engagement, contacts
):
    page = sign_in(browser, live_server, client_manager, 1280)
    page.goto(live_server.url + engagement.get_absolute_url() + "#checkins")
    slots = page.locator("#next-checkin .slot")
    assert slots.count() == 3
    first = slots.first.inner_text()
    assert "Europe/Berlin" in first and "Asia/Kolkata" in first
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate(DOCUMENT_WIDTH) <= width
        shot(page, f"engagement-slots-{width}", "#checkins")

    page.set_viewport_size({"width": 1280, "height": 900})
    slots.first.locator("a:has-text('Invite')").click()
    page.wait_for_selector("#checkin-plan")
    assert page.locator("input[name=starts_at]:checked").count() == 1
    assert page.locator("input[name=attendee_contacts]:checked").count() == 2
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate(DOCUMENT_WIDTH) <= width
        shot(page, f"checkin-plan-{width}")
    page.click("button:has-text('Send invitation')")
    page.wait_for_selector("text=Invitation on its way to 2 attendees")
    invitation = CheckInInvitation.objects.get()
    assert wait_for(lambda: len(mail.outbox) == 2)
    assert invitation.attendee_contacts.count() == 2
    page.close()
