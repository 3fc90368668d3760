"""One error format, and bad input is a 400 with field errors that changes nothing."""

import json

import pytest

from relationships.models import SLA, ChangeRequest, SharedGoal

pytestmark = pytest.mark.django_db


def sla_body(engagement, /, **changes):
    body = {
        "engagement": engagement.pk,
        "owner_side": "provider",
        "name": "Availability",
        "unit": "%",
        "direction": "higher_is_better",
        "target": "99.5",
    }
    body.update(changes)
    return body


def assert_error_shape(body):
    assert set(body) == {"detail", "code", "errors"}
    assert isinstance(body["detail"], str) and body["detail"]
    assert all(isinstance(messages, list) for messages in body["errors"].values())


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"target": "not a number"}, "target"),
        ({"target": "NaN"}, "target"),
        ({"target": "Infinity"}, "target"),
        ({"target": "1e40"}, "target"),
        ({"weight": "0"}, "weight"),
        ({"name": "x" * 201}, "name"),
        ({"description": "x" * 20_001}, "description"),
        ({"direction": "sideways"}, "direction"),
        ({"engagement": "one"}, "engagement"),
        ({"engagement": 999_999}, "engagement"),
        ({"active": [1, 2]}, "active"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_sla_input_is_a_400_naming_the_field(api, engagement, client_manager, changes, field):
    response = api(client_manager).post(
        "/api/v1/slas/", sla_body(engagement, **changes), format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert_error_shape(body)
    assert body["code"] == "invalid"
    assert field in body["errors"]
    assert not SLA.objects.exists()


def test_nan_in_raw_json_is_refused(api, engagement, client_manager):
    raw = json.dumps(sla_body(engagement)).replace('"99.5"', "NaN")
    response = api(client_manager).post("/api/v1/slas/", raw, content_type="application/json")
    assert response.status_code == 400
    assert_error_shape(response.json())
    assert response.json()["code"] == "parse_error"


def test_malformed_json_and_a_list_body(api, engagement, client_manager):
    client = api(client_manager)
    response = client.post("/api/v1/slas/", "{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"
    response = client.post("/api/v1/slas/", [1, 2], format="json")
    assert response.status_code == 400 and "non_field_errors" in response.json()["errors"]


def test_dates_out_of_order_are_refused(api, engagement, client_manager):
    body = {
        "engagement": engagement.pk,
        "title": "Backwards",
        "start_date": "2026-06-01",
        "due_date": "2026-01-01",
    }
    response = api(client_manager).post("/api/v1/goals/", body, format="json")
    assert response.status_code == 400
    assert_error_shape(response.json())
    assert not SharedGoal.objects.exists()
    issue = {
        "engagement": engagement.pk,
        "title": "Time travel",
        "severity": "low",
        "responsible_side": "provider",
        "detected_at": "2026-02-02T10:00:00Z",
        "raised_at": "2026-02-01T10:00:00Z",
    }
    response = api(client_manager).post("/api/v1/issues/", issue, format="json")
    assert response.status_code == 400 and "raised_at" in response.json()["errors"]


def test_duplicate_sla_name_is_a_400_not_a_500(api, engagement, client_manager):
    SLA.objects.create(**{**sla_body(engagement), "engagement": engagement})
    response = api(client_manager).post("/api/v1/slas/", sla_body(engagement), format="json")
    assert response.status_code == 400
    assert SLA.objects.count() == 1 and not ChangeRequest.objects.exists()


def test_nested_errors_name_the_row_and_field(api, engagement, client_manager):
    body = {
        "engagement": engagement.pk,
        "occurred_at": "2026-02-02T10:00:00Z",
        "action_items": [
            {"owner_side": "client", "description": "ok", "due_date": "2026-02-10"},
            {"owner_side": "nobody", "description": "bad", "due_date": "2026-02-10"},
        ],
    }
    response = api(client_manager).post("/api/v1/checkins/", body, format="json")
    assert response.status_code == 400
    assert "action_items[1].owner_side" in response.json()["errors"]


def test_permission_not_found_and_authentication_errors_share_the_format(
    api, engagement, client_viewer, outsider
):
    forbidden = api(client_viewer).post("/api/v1/slas/", sla_body(engagement), format="json")
    assert forbidden.status_code == 403
    assert_error_shape(forbidden.json())
    assert forbidden.json()["code"] == "permission_denied"
    missing = api(outsider).get(f"/api/v1/engagements/{engagement.pk}/")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert api(outsider).get("/api/v1/engagements/abc/").status_code == 404
    anonymous = api(None).get("/api/v1/slas/")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_authenticated"
    wrong_method = api(client_viewer).put("/api/v1/scorecards/", {}, format="json")
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "method_not_allowed"


def test_bad_filters_and_pagination(api, engagement, client_viewer):
    client = api(client_viewer)
    response = client.get("/api/v1/slas/?engagement=abc")
    assert response.status_code == 400 and "engagement" in response.json()["errors"]
    assert client.get("/api/v1/slas/?page=99").status_code == 404
    assert client.get("/api/v1/slas/?page_size=100000").status_code == 200
