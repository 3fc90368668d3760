"""A person is shown one way everywhere (their name), and lists of people from both sides
say which side each is on."""

from django.urls import reverse
from django.utils import timezone

from scorecards.models import ScorecardReview
from tests.dashboard.conftest import make_alert, page_text, signed_in


def named(user, first, last):
    user.first_name, user.last_name = first, last
    user.save()
    return user


def test_live_and_stale_signatures_and_acknowledgements_show_the_persons_name(
    scored_engagement, client_manager, provider_manager
):
    named(client_manager, "Dana", "Client")
    named(provider_manager, "Pat", "Provider")
    scorecard = scored_engagement.scorecards.order_by("-period_start").first()
    ScorecardReview.objects.create(
        scorecard=scorecard,
        side="provider",
        user=provider_manager,
        decision="signed",
        stale_at=timezone.now(),
    )
    ScorecardReview.objects.create(
        scorecard=scorecard, side="client", user=client_manager, decision="signed"
    )
    alert = scored_engagement.alerts.get()
    alert.acknowledged_by, alert.acknowledged_at = provider_manager, timezone.now()
    alert.save()
    browser = signed_in(client_manager)
    period_page = page_text(
        browser.get(
            reverse("engagement-period", args=[scored_engagement.pk, scorecard.period_start])
        )
    )
    assert "Signed by Dana Client" in period_page
    assert "signed by Pat Provider" in period_page  # the stale one
    assert "provider-manager" not in period_page
    alerts_page = page_text(browser.get(reverse("alert-list") + "?state=all"))
    assert "acknowledged by Pat Provider" in alerts_page
    assert "provider-manager" not in alerts_page


def test_a_deleted_account_is_a_former_member(scored_engagement, client_manager, provider_manager):
    scorecard = scored_engagement.scorecards.order_by("-period_start").first()
    ScorecardReview.objects.create(
        scorecard=scorecard, side="provider", user=None, decision="signed", stale_at=timezone.now()
    )
    make_alert(scored_engagement, kind="contact_gap", acknowledged_at=timezone.now())
    browser = signed_in(client_manager)
    period_page = page_text(
        browser.get(
            reverse("engagement-period", args=[scored_engagement.pk, scorecard.period_start])
        )
    )
    assert "signed by a former member" in period_page
    alerts_page = page_text(browser.get(reverse("alert-list") + "?state=all"))
    assert "acknowledged by a former member" in alerts_page


def test_attendee_and_owner_choices_say_each_persons_side(
    engagement, client_manager, provider_manager, provider_viewer, outsider
):
    named(client_manager, "Dana", "Client")
    client = signed_in(client_manager)
    # The two forms as the engagement page loads them into its Record section.
    for url_name, name, field in (
        ("checkin-create", "checkin", "attendee_users"),
        ("action-item-create", "action_item", "owner"),
    ):
        part = reverse(url_name, args=[engagement.pk]) + f"?form={name}"
        html = client.get(part).content.decode()
        select = html.split(f'id="{name}_{field}"')[1].split("</select>")[0]
        assert ">Dana Client, client side</option>" in select
        assert ">provider-manager, provider side</option>" in select
        assert ">provider-viewer, provider side</option>" in select
        assert "outsider" not in select
