from datetime import UTC, datetime
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from scorecards import services
from scorecards.models import ScorecardReview, ScorecardRun
from tests.dashboard.conftest import page_text
from tests.factories import EngagementFactory


def review_url(engagement):
    return reverse("scorecard-review", args=[engagement.pk, engagement.scorecards.first().pk])


def test_manager_signs_off_and_both_sides_see_it(
    client, provider_manager, client_viewer, scored_engagement
):
    client.force_login(provider_manager)
    response = client.post(
        review_url(scored_engagement), {"decision": "signed", "comment": "Agreed."}
    )
    assert response.status_code == 302
    review = ScorecardReview.objects.get()
    assert (review.side, review.decision, review.comment) == ("provider", "signed", "Agreed.")
    client.force_login(client_viewer)
    html = client.get(reverse("engagement-detail", args=[scored_engagement.pk])).content.decode()
    assert "Signed</span> by provider-manager" in html
    assert "Agreed." in html


def test_dispute_without_reason_shows_field_error_keeps_input_and_saves_nothing(
    client, client_manager, scored_engagement
):
    client.force_login(client_manager)
    response = client.post(review_url(scored_engagement), {"decision": "disputed", "comment": " "})
    assert response.status_code == 400
    assert "Give a reason when you dispute" in response.content.decode()
    assert response.context["review_form"]["decision"].value() == "disputed"
    assert not ScorecardReview.objects.exists()


def test_review_with_unknown_decision_is_400(client, client_manager, scored_engagement):
    client.force_login(client_manager)
    response = client.post(review_url(scored_engagement), {"decision": "maybe"})
    assert response.status_code == 400
    assert response.context["review_form"].errors["decision"]


def test_both_sides_signing_freezes_the_period(
    client, client_manager, provider_manager, scored_engagement
):
    for user in (client_manager, provider_manager):
        client.force_login(user)
        client.post(review_url(scored_engagement), {"decision": "signed"})
    html = client.get(reverse("engagement-detail", args=[scored_engagement.pk])).content.decode()
    assert "Frozen: both sides signed" in html
    assert "Submit review" not in html


def test_changed_since_sign_off_is_shown(client, client_manager, scored_engagement):
    scored_engagement.scorecards.filter(pk=scored_engagement.scorecards.first().pk).update(
        frozen_at=timezone.now(), changed_since_signoff_at=timezone.now()
    )
    client.force_login(client_manager)
    html = client.get(reverse("engagement-detail", args=[scored_engagement.pk])).content.decode()
    assert "Changed since sign-off" in html


def test_manager_acknowledges_alert(client, provider_manager, scored_engagement):
    alert = scored_engagement.alerts.get()
    client.force_login(provider_manager)
    response = client.post(reverse("alert-acknowledge", args=[alert.pk]))
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == provider_manager


def test_acknowledge_ignores_next_urls_off_site(client, provider_manager, scored_engagement):
    alert = scored_engagement.alerts.get()
    client.force_login(provider_manager)
    response = client.post(
        reverse("alert-acknowledge", args=[alert.pk]), {"next": "https://evil.example/"}
    )
    assert response.url.startswith(reverse("engagement-detail", args=[scored_engagement.pk]))


def test_recompute_says_once_how_the_run_went(
    client, provider_manager, engagement, django_capture_on_commit_callbacks
):
    """Tasks run eagerly here, as in development: the run has finished when the page shows.
    The page says so, once, and neither says "queued" nor polls any more."""
    client.force_login(provider_manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("engagement-recompute", args=[engagement.pk]))
    run = ScorecardRun.objects.get(engagement=engagement)
    assert response.status_code == 302
    assert response.url.endswith(f"?run={run.pk}#scorecard")
    text = page_text(client.get(response.url.split("#")[0]))
    assert run.status == ScorecardRun.Status.SUCCEEDED
    assert text.count("Recompute finished: the new scorecard is ready.") == 1
    assert "queued" not in text.lower()
    assert "data-run-url" not in client.get(response.url.split("#")[0]).content.decode()


@pytest.mark.parametrize("status", ["queued", "running"])
def test_a_run_in_progress_is_polled_and_its_status_worded_by_the_server(
    client, provider_manager, engagement, status
):
    run = ScorecardRun.objects.create(trigger="on_demand", engagement=engagement, status=status)
    client.force_login(provider_manager)
    page = client.get(f"{engagement.get_absolute_url()}?run={run.pk}")
    assert f'data-run-url="{reverse("run-status", args=[run.pk])}"' in page.content.decode()
    assert f"Recompute {status}…" in page_text(page)
    answer = client.get(reverse("run-status", args=[run.pk])).json()
    assert (answer["id"], answer["finished"]) == (run.pk, False)
    assert answer["message"] == f"Recompute {status}…"
    run.status, run.error = ScorecardRun.Status.FAILED, "Broker unavailable"
    run.save()
    answer = client.get(reverse("run-status", args=[run.pk])).json()
    assert answer["finished"] is True
    assert answer["message"] == "The recompute failed: Broker unavailable."
    assert (
        "data-run-url"
        not in client.get(f"{engagement.get_absolute_url()}?run={run.pk}").content.decode()
    )


def test_recompute_with_broker_down_says_so_and_page_still_works(
    client, provider_manager, engagement
):
    client.force_login(provider_manager)
    with mock.patch.object(services, "request_recompute", side_effect=services.BrokerUnavailable):
        response = client.post(reverse("engagement-recompute", args=[engagement.pk]))
    assert response.status_code == 503
    assert "job queue is unreachable" in response.content.decode()


def test_run_status_of_another_organisation_is_404(client, outsider, engagement):
    run = ScorecardRun.objects.create(trigger="on_demand", engagement=engagement)
    client.force_login(outsider)
    assert client.get(reverse("run-status", args=[run.pk])).status_code == 404


def test_posts_without_csrf_token_are_refused(provider_manager, scored_engagement):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(provider_manager)
    alert = scored_engagement.alerts.get()
    assert browser.post(reverse("alert-acknowledge", args=[alert.pk])).status_code == 403
    assert browser.post(review_url(scored_engagement), {"decision": "signed"}).status_code == 403
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_no_write_controls_on_an_archived_engagement(client, client_manager, client_org):
    archived = EngagementFactory(client=client_org, status="archived")
    client.force_login(client_manager)
    html = client.get(reverse("engagement-detail", args=[archived.pk])).content.decode()
    assert "Recompute now" not in html
    assert client.post(reverse("engagement-recompute", args=[archived.pk])).status_code == 403


@pytest.mark.parametrize("method", ["get", "put"])
def test_actions_accept_only_post(client, provider_manager, scored_engagement, method):
    client.force_login(provider_manager)
    url = reverse("engagement-recompute", args=[scored_engagement.pk])
    assert getattr(client, method)(url).status_code == 405


def test_alerts_page_lists_open_first_filters_and_acknowledges(
    client, provider_manager, provider_viewer, scored_engagement, django_assert_max_num_queries
):
    from tests.dashboard.conftest import make_alert

    make_alert(scored_engagement, kind="contact_gap", resolved_at=datetime(2026, 4, 2, tzinfo=UTC))
    client.force_login(provider_manager)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("alert-list"), {"state": "all"})
    alerts = list(response.context["page"])
    assert [a.is_open for a in alerts] == [True, False]
    assert alerts[0].can_acknowledge
    only_gap = client.get(reverse("alert-list"), {"state": "all", "kind": "contact_gap"})
    assert [a.kind for a in only_gap.context["page"]] == ["contact_gap"]
    assert len(client.get(reverse("alert-list")).context["page"]) == 1
    client.force_login(provider_viewer)
    html = client.get(reverse("alert-list")).content.decode()
    assert "Acknowledge" not in html


def test_alerts_page_shows_only_the_users_engagements(client, outsider, scored_engagement):
    client.force_login(outsider)
    assert len(client.get(reverse("alert-list")).context["page"]) == 0
