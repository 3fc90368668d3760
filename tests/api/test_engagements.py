"""Engagements: proposal and acceptance, changes, archive instead of delete, engagement actions."""

from datetime import date
from unittest import mock

import pytest

from relationships.models import Engagement
from tests.api.conftest import make_scorecard

pytestmark = pytest.mark.django_db


def proposal(client_org, counterpart=None, **extra):
    """A proposal from client_org to `counterpart` (by id), or to a new organisation."""
    return {
        "organization": client_org.pk,
        "side": "client",
        **({"counterpart": counterpart.pk} if counterpart else {}),
        "name": "Data platform",
        "start_date": "2026-03-01",
        **extra,
    }


def test_proposal_is_inert_until_the_counterparts_admin_accepts(
    api,
    engagement,
    client_org,
    provider_org,
    client_admin,
    provider_admin,
    provider_manager,
    client_manager,
):
    body = proposal(client_org, provider_org)
    response = api(client_admin).post("/api/v1/engagements/", body, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "proposed"
    assert body["your_side"] == "client"
    assert body["provider"] == {"id": provider_org.pk, "name": "Contoso Services"}
    engagement = Engagement.objects.get(pk=body["id"])
    sla_body = {
        "engagement": engagement.pk,
        "owner_side": "provider",
        "name": "Availability",
        "unit": "%",
        "direction": "higher_is_better",
        "target": "99.5",
    }
    # Before acceptance the proposing side sets the terms (the counterpart's acceptance
    # accepts them); the counterpart does not edit them.
    for user in (provider_admin, provider_manager):
        refused = api(user).post("/api/v1/slas/", sla_body, format="json")
        assert refused.status_code == 403, user
        assert "proposed" in refused.json()["detail"]
    assert api(client_manager).post("/api/v1/slas/", sla_body, format="json").status_code == 201
    issue = {
        "engagement": engagement.pk,
        "title": "Late start",
        "severity": "low",
        "responsible_side": "client",
        "detected_at": "2026-02-01T09:00:00Z",
    }
    assert api(provider_manager).post("/api/v1/issues/", issue, format="json").status_code == 403

    # The proposer's side cannot accept its own proposal; a provider manager cannot either.
    accept_url = f"/api/v1/engagements/{engagement.pk}/accept/"
    assert api(client_admin).post(accept_url).status_code == 403
    assert api(provider_manager).post(accept_url).status_code == 403
    accepted = api(provider_admin).post(accept_url)
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "active"
    assert accepted.json()["your_side"] == "provider"
    # Accepting twice is a clear 400.
    assert api(provider_admin).post(accept_url).status_code == 400

    # Once active, a new SLA is a change request the other side accepts.
    asked = api(provider_manager).post(
        "/api/v1/slas/", {**sla_body, "name": "Response time"}, format="json"
    )
    assert asked.status_code == 202
    assert list(engagement.slas.values_list("name", flat=True)) == ["Availability"]


def test_outsider_cannot_see_or_accept_a_proposal(
    api, engagement, client_org, provider_org, client_admin, outsider
):
    engagement_id = (
        api(client_admin)
        .post("/api/v1/engagements/", proposal(client_org, provider_org), format="json")
        .json()["id"]
    )
    assert api(outsider).get(f"/api/v1/engagements/{engagement_id}/").status_code == 404
    assert api(outsider).post(f"/api/v1/engagements/{engagement_id}/accept/").status_code == 404


def test_proposal_from_an_organisation_you_do_not_belong_to_is_refused(
    api, engagement, outsider_org, provider_org, client_admin, client_viewer, client_org
):
    body = proposal(outsider_org, provider_org)
    response = api(client_admin).post("/api/v1/engagements/", body, format="json")
    assert response.status_code == 400
    assert "organization" in response.json()["errors"]
    body = proposal(client_org, provider_org)
    assert api(client_viewer).post("/api/v1/engagements/", body, format="json").status_code == 403


def test_proposal_naming_a_new_counterpart_needs_an_admin_email(api, client_org, client_admin):
    body = proposal(client_org, counterpart_name="Brand New Ltd")
    response = api(client_admin).post("/api/v1/engagements/", body, format="json")
    assert response.status_code == 400
    assert "counterpart_admin_email" in response.json()["errors"]
    body["counterpart_admin_email"] = "boss@brandnew.example"
    assert api(client_admin).post("/api/v1/engagements/", body, format="json").status_code == 201


def test_proposal_with_dates_out_of_order_is_refused(
    api, engagement, client_org, provider_org, client_admin
):
    body = proposal(client_org, provider_org, end_date="2026-01-01")
    response = api(client_admin).post("/api/v1/engagements/", body, format="json")
    assert response.status_code == 400
    assert "end_date" in response.json()["errors"]
    assert not Engagement.objects.filter(name="Data platform").exists()


def test_managers_change_an_engagement_and_viewers_cannot(
    api, engagement, client_manager, provider_viewer
):
    url = f"/api/v1/engagements/{engagement.pk}/"
    assert api(provider_viewer).patch(url, {"phase": "expanding"}, format="json").status_code == 403
    response = api(client_manager).patch(url, {"phase": "expanding"}, format="json")
    assert response.status_code == 200 and response.json()["phase"] == "expanding"
    bad = api(client_manager).patch(url, {"end_date": "2025-01-01"}, format="json")
    assert bad.status_code == 400 and "end_date" in bad.json()["errors"]
    status_change = api(client_manager).patch(url, {"status": "archived"}, format="json")
    assert status_change.status_code == 400
    engagement.refresh_from_db()
    assert engagement.status == "active" and engagement.end_date is None


def test_delete_archives_and_keeps_the_engagement(api, engagement, client_manager, provider_admin):
    url = f"/api/v1/engagements/{engagement.pk}/"
    assert api(client_manager).delete(url).status_code == 403
    assert api(provider_admin).delete(url).status_code == 204
    engagement.refresh_from_db()
    assert engagement.status == "archived"
    assert api(provider_admin).get(url).json()["status"] == "archived"


def test_archive_action(api, engagement, client_admin):
    response = api(client_admin).post(f"/api/v1/engagements/{engagement.pk}/archive/")
    assert response.status_code == 200 and response.json()["status"] == "archived"


def test_engagement_list_shows_the_latest_scorecard(api, engagement, client_viewer):
    make_scorecard(engagement, date(2026, 1, 1), overall="60.0", band="watch")
    make_scorecard(engagement, date(2026, 2, 1), overall="82.5", band="healthy")
    body = api(client_viewer).get("/api/v1/engagements/").json()
    (row,) = body["results"]
    assert row["latest_period_start"] == "2026-02-01"
    assert row["latest_overall"] == "82.5"
    assert row["latest_band"] == "healthy"


def test_engagement_list_filters(api, engagement, client_viewer, client_org):
    from tests.factories import EngagementFactory

    EngagementFactory(client=client_org, name="Pilot", status="proposed")
    client = api(client_viewer)
    assert client.get("/api/v1/engagements/?status=proposed").json()["count"] == 1
    assert client.get("/api/v1/engagements/?status=active").json()["count"] == 1
    assert client.get("/api/v1/engagements/?status=bogus").status_code == 400


# ---------------------------------------------------------------- engagement actions
def test_recompute_answers_202_with_a_run_to_poll(
    api, engagement, client_manager, client_viewer, outsider, django_capture_on_commit_callbacks
):
    url = f"/api/v1/engagements/{engagement.pk}/recompute/"
    assert api(outsider).post(url).status_code == 404
    assert api(client_viewer).post(url).status_code == 403
    with mock.patch("scorecards.tasks.compute_period_task.apply_async") as queued:
        with django_capture_on_commit_callbacks(execute=True):
            response = api(client_manager).post(url)
    assert response.status_code == 202, response.json()
    body = response.json()
    assert queued.called
    assert body["poll_url"].endswith(f"/api/v1/runs/{body['run']}/")
    poll = api(client_viewer).get(body["poll_url"])
    assert poll.status_code == 200 and poll.json()["engagement"] == engagement.pk
    assert api(outsider).get(body["poll_url"]).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_recompute_answers_503_when_the_broker_is_down(api, engagement, client_manager):
    # Transactional: outside a test transaction the task is sent at once, as in production.
    from kombu.exceptions import OperationalError

    from scorecards.models import ScorecardRun

    url = f"/api/v1/engagements/{engagement.pk}/recompute/"
    with mock.patch(
        "scorecards.tasks.compute_period_task.apply_async",
        side_effect=OperationalError("connection refused"),
    ):
        response = api(client_manager).post(url)
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert "queue" in response.json()["detail"]
    assert ScorecardRun.objects.get().status == "failed"


def test_scorecard_history_and_csv_export(api, engagement, provider_viewer, outsider):
    make_scorecard(engagement, date(2026, 1, 1), overall="60.0", band="watch")
    make_scorecard(engagement, date(2026, 2, 1))
    history = api(provider_viewer).get(f"/api/v1/engagements/{engagement.pk}/scorecards/")
    assert history.status_code == 200
    assert [row["period_start"] for row in history.json()["results"]] == [
        "2026-02-01",
        "2026-01-01",
    ]
    export_url = f"/api/v1/engagements/{engagement.pk}/scorecards/export/"
    export = api(provider_viewer).get(export_url)
    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/csv")
    lines = export.content.decode().strip().splitlines()
    # The same columns as the dashboard's export.
    assert lines[0] == (
        "period_kind,period_start,period_end,as_of,status,band,overall,coverage,reliance,contact,"
        "transparency,dedication,alignment,sentiment,client_score,provider_score,perception_gap,"
        "trend,model_version,computed_at,frozen_at,changed_since_signoff_at"
    )
    assert lines[2].startswith("month,2026-01-01,2026-01-31") and ",60.0," in lines[2]
    assert api(outsider).get(export_url).status_code == 404


def test_scoring_config_read_by_members_changed_by_admins(
    api, engagement, client_viewer, client_manager, provider_admin, client_admin
):
    url = f"/api/v1/engagements/{engagement.pk}/scoring-config/"
    defaults = api(client_viewer).get(url).json()
    assert defaults["weights"]["reliance"] == 30.0 and defaults["survey_threshold"] == 3
    change = {"survey_threshold": 4, "weights": {"reliance": 40}}
    assert api(client_viewer).patch(url, change, format="json").status_code == 403
    assert api(client_manager).patch(url, change, format="json").status_code == 403
    asked = api(provider_admin).patch(url, change, format="json")
    assert asked.status_code == 202
    assert api(client_viewer).get(url).json() == defaults  # nothing changes until agreed
    accepted = api(client_admin).post(f"/api/v1/change-requests/{asked.json()['id']}/accept/")
    assert accepted.status_code == 200
    changed = api(client_viewer).get(url)
    assert changed.json()["survey_threshold"] == 4
    assert changed.json()["weights"]["reliance"] == 40.0
    assert changed.json()["updated_by"] == client_admin.pk
    bad = api(provider_admin).patch(url, {"weights": {"luck": 5}}, format="json")
    assert bad.status_code == 400 and "weights" in bad.json()["errors"]
    unknown = api(provider_admin).patch(url, {"colour": "red"}, format="json")
    assert unknown.status_code == 400 and "colour" in unknown.json()["errors"]


def test_counterpart_admin_declines_a_proposal_with_a_reason_through_the_api(
    api,
    engagement,
    client_org,
    provider_org,
    client_admin,
    client_manager,
    provider_manager,
    provider_admin,
):
    engagement_id = (
        api(client_admin)
        .post("/api/v1/engagements/", proposal(client_org, provider_org), format="json")
        .json()["id"]
    )
    url = f"/api/v1/engagements/{engagement_id}/decline/"
    body = {"reason": "Not this year."}
    # The proposing side and a manager of the counterpart cannot; the reason is required.
    for user in (client_admin, client_manager, provider_manager):
        assert api(user).post(url, body, format="json").status_code == 403, user
    for bad in ({}, {"reason": "  "}, {"reason": "x" * 2001}, {"reason": "No", "why": "x"}):
        refused = api(provider_admin).post(url, bad, format="json")
        assert refused.status_code == 400, bad
    assert "reason" in api(provider_admin).post(url, {}, format="json").json()["errors"]
    assert Engagement.objects.get(pk=engagement_id).status == "proposed"

    declined = api(provider_admin).post(url, body, format="json")
    assert declined.status_code == 200
    assert (declined.json()["status"], declined.json()["decline_reason"]) == (
        "declined",
        "Not this year.",
    )
    assert declined.json()["declined_at"]
    # Both sides read it; it can be neither declined again nor accepted.
    seen = api(client_manager).get(f"/api/v1/engagements/{engagement_id}/").json()
    assert (seen["status"], seen["decline_reason"]) == ("declined", "Not this year.")
    assert api(provider_admin).post(url, body, format="json").status_code == 400
    accept = api(provider_admin).post(f"/api/v1/engagements/{engagement_id}/accept/")
    assert accept.status_code == 400
