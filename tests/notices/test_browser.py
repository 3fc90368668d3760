"""The profile page and the inbox in Chromium, at a phone's width and a laptop's: nothing
scrolls sideways; the unread count, marking read, and a choice saved on the profile.
Screenshots go to $SCREENSHOT_DIR (or tests/screenshots/widths/)."""

import pytest
from django.conf import settings
from django.urls import reverse

from notices.models import Kind, Preference
from notices.services import notice_raise
from tests.dashboard.test_phone_width import DOCUMENT_WIDTH, WIDTHS, shot, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS)),
]


@pytest.fixture
def inbox_world(engagement, client_manager):
    engagement.name = "Service desk for the Northern European retail stores"
    engagement.save()
    subjects = [
        f"{engagement.name}: No check-in on {engagement.name} since 2 November 2026.",
        f"{engagement.name}: November 2026 is closed, band watch; awaiting your side's review",
        f"{engagement.name}: the provider asks to change SLA “First response time”",
    ]
    for n, (kind, subject) in enumerate(
        zip([Kind.ALERT, Kind.REVIEW, Kind.CHANGE_REQUEST], subjects, strict=True)
    ):
        notice_raise(
            kind=kind,
            engagement=engagement,
            key=f"demo:{n}",
            subject=subject,
            body="Sign it off or dispute it for your side." if kind == Kind.REVIEW else "",
            link=engagement.get_absolute_url(),
            recipients=[client_manager.pk],
        )
    return engagement


def test_profile_and_inbox_at_phone_and_laptop_width(
    browser, live_server, client_manager, inbox_world
):
    widths = {}
    for width in WIDTHS:
        page = sign_in(browser, live_server, client_manager, width)
        assert page.locator("#unread-count").inner_text().startswith("3" if width == 390 else "2")
        page.goto(live_server.url + reverse("notice-inbox"))
        widths["inbox", width] = page.evaluate(DOCUMENT_WIDTH)
        shot(page, f"notices-inbox-{width}")
        if width == 390:
            page.locator("#notice-list button:has-text('Mark read')").first.click()
            page.wait_for_load_state()
            assert page.locator("#unread-count").inner_text().startswith("2")
        page.goto(live_server.url + reverse("notice-profile"))
        widths["profile", width] = page.evaluate(DOCUMENT_WIDTH)
        shot(page, f"notices-profile-{width}")
        page.close()
    assert {key: w for key, w in widths.items() if w > key[1]} == {}


def test_a_choice_saved_on_the_profile_page(browser, live_server, client_manager, engagement):
    page = sign_in(browser, live_server, client_manager, 390)
    page.goto(live_server.url + reverse("notice-profile"))
    page.select_option("#id_time_zone", "Asia/Kolkata")
    page.select_option("#id_kind_survey", "daily")
    page.click("form.notice-settings button[type=submit]")
    page.wait_for_load_state()
    assert "saved" in page.locator(".messages").inner_text()
    assert page.locator("#id_kind_survey").input_value() == "daily"
    assert page.locator("#id_time_zone").input_value() == "Asia/Kolkata"
    assert Preference.objects.get(user=client_manager).channel == "daily"
    page.close()
