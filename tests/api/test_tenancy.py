"""Every engagement-scoped endpoint for anonymous, outsider, viewer, managers and admins."""

import pytest

from tests.api.conftest import new_record_payloads

pytestmark = pytest.mark.django_db

PREFIXES = [
    "contacts",
    "slas",
    "goals",
    "goal-progress",
    "checkins",
    "feedback",
    "issues",
    "reviews",
    "action-items",
]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_anonymous_gets_401_on_list_detail_and_create(api, records, prefix):
    client = api(None)
    record = records[prefix]
    assert client.get(f"/api/v1/{prefix}/").status_code == 401
    assert client.get(f"/api/v1/{prefix}/{record.pk}/").status_code == 401
    assert client.post(f"/api/v1/{prefix}/", {}, format="json").status_code == 401


@pytest.mark.parametrize("prefix", PREFIXES)
def test_outsider_sees_nothing_and_gets_404(api, records, outsider, engagement, prefix):
    client = api(outsider)
    record = records[prefix]
    listing = client.get(f"/api/v1/{prefix}/")
    assert listing.status_code == 200 and listing.json()["count"] == 0
    response = client.get(f"/api/v1/{prefix}/{record.pk}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("prefix", PREFIXES)
def test_outsider_cannot_create_in_someone_elses_engagement(
    api, records, outsider, engagement, prefix
):
    body = new_record_payloads(engagement, records)[prefix]
    response = api(outsider).post(f"/api/v1/{prefix}/", body, format="json")
    # The engagement (or goal, issue) is not among theirs: it "does not exist".
    assert response.status_code == 400
    assert set(response.json()["errors"]) & {"engagement", "goal", "issue"}


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("persona", ["client_viewer", "provider_viewer"])
def test_viewers_read_but_cannot_write(api, records, engagement, prefix, persona, request):
    client = api(request.getfixturevalue(persona))
    record = records[prefix]
    listing = client.get(f"/api/v1/{prefix}/")
    assert listing.status_code == 200 and listing.json()["count"] >= 1
    assert client.get(f"/api/v1/{prefix}/{record.pk}/").status_code == 200
    body = new_record_payloads(engagement, records)[prefix]
    response = client.post(f"/api/v1/{prefix}/", body, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


TERMS = ("slas", "goals")


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize(
    "persona", ["client_manager", "provider_manager", "client_admin", "provider_admin"]
)
def test_managers_and_admins_of_each_side_create(
    api, records, engagement, prefix, persona, request
):
    client = api(request.getfixturevalue(persona))
    body = new_record_payloads(engagement, records)[prefix]
    response = client.post(f"/api/v1/{prefix}/", body, format="json")
    # A new SLA or goal of an active engagement is a term: a change request (202).
    resource = "change-requests" if prefix in TERMS else prefix
    assert response.status_code == (202 if prefix in TERMS else 201), response.json()
    created = client.get(f"/api/v1/{resource}/{response.json()['id']}/")
    assert created.status_code == 200


def test_side_comes_from_the_author_not_the_input(api, engagement, provider_manager):
    body = {
        "engagement": engagement.pk,
        "kind": "appreciation",
        "text": "Great handover.",
        "from_side": "client",
    }
    response = api(provider_manager).post("/api/v1/feedback/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"from_side": ["Unknown or read-only field."]}
    del body["from_side"]
    response = api(provider_manager).post("/api/v1/feedback/", body, format="json")
    assert response.status_code == 201
    assert response.json()["from_side"] == "provider"


def test_issue_is_raised_by_the_authors_side(api, engagement, records, client_manager):
    body = new_record_payloads(engagement, records)["issues"]
    response = api(client_manager).post("/api/v1/issues/", body, format="json")
    assert response.json()["raised_by_side"] == "client"


def test_referenced_objects_must_belong_to_the_same_engagement(
    api, engagement, client_manager, client_org
):
    from tests.factories import EngagementFactory, SLAFactory

    other = EngagementFactory(client=client_org, name="Other engagement")
    foreign_sla = SLAFactory(engagement=other)
    body = {
        "engagement": engagement.pk,
        "kind": "appreciation",
        "text": "Thanks",
        "sla": foreign_sla.pk,
    }
    response = api(client_manager).post("/api/v1/feedback/", body, format="json")
    assert response.status_code == 400
    assert "sla" in response.json()["errors"]


def test_viewer_cannot_change_an_sla_and_manager_can(api, records, client_viewer, client_manager):
    sla = records["slas"]
    url = f"/api/v1/slas/{sla.pk}/"
    assert api(client_viewer).patch(url, {"active": False}, format="json").status_code == 403
    # Deactivating an SLA of an active engagement is a change request to the other side.
    response = api(client_manager).patch(url, {"active": False}, format="json")
    assert response.status_code == 202 and response.json()["proposed"] == {"active": False}
    sla.refresh_from_db()
    assert sla.active


def test_action_item_complete_and_cancel(api, records, provider_manager, client_viewer):
    item = records["action-items"]
    url = f"/api/v1/action-items/{item.pk}/complete/"
    assert api(client_viewer).post(url, {}, format="json").status_code == 403
    response = api(provider_manager).post(url, {}, format="json")
    assert response.status_code == 200 and response.json()["completed_at"]
    again = api(provider_manager).post(f"/api/v1/action-items/{item.pk}/cancel/", {}, format="json")
    assert again.status_code == 400


def test_issue_resolve(api, records, provider_manager):
    issue = records["issues"]
    response = api(provider_manager).post(f"/api/v1/issues/{issue.pk}/resolve/", {}, format="json")
    assert response.status_code == 200 and response.json()["resolved_at"]


def test_people_referenced_must_belong_to_a_party(api, engagement, client_manager, outsider):
    client = api(client_manager)
    checkin = {
        "engagement": engagement.pk,
        "occurred_at": "2026-02-02T10:00:00Z",
        "attendee_users": [client_manager.pk, outsider.pk],
        "action_items": [
            {
                "owner_side": "client",
                "description": "Follow up",
                "due_date": "2026-02-10",
                "owner": outsider.pk,
            }
        ],
    }
    response = client.post("/api/v1/checkins/", checkin, format="json")
    assert response.status_code == 400
    assert {"attendee_users", "action_items[0].owner"} <= set(response.json()["errors"])
    checkin["attendee_users"] = [client_manager.pk]
    checkin["action_items"][0]["owner"] = client_manager.pk
    assert client.post("/api/v1/checkins/", checkin, format="json").status_code == 201
    contact = {
        "engagement": engagement.pk,
        "side": "client",
        "role": "executive_sponsor",
        "name": "Someone Else",
        "user": outsider.pk,
    }
    response = client.post("/api/v1/contacts/", contact, format="json")
    assert response.status_code == 400 and "user" in response.json()["errors"]
