"""A member's notice settings and inbox through the API."""

import pytest

from notices.models import Notice, Preference
from notices.services import notice_raise
from tests.factories import EngagementFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/me/notice-preferences/"


def test_read_and_set_time_zone_and_channels(client, engagement, client_manager):
    client.force_login(client_manager)
    assert client.get(URL).json() == {"time_zone": "UTC", "preferences": []}
    response = client.patch(
        URL,
        {
            "time_zone": "Europe/Berlin",
            "preferences": [
                {"engagement": None, "kind": "survey", "channel": "daily"},
                {"engagement": engagement.pk, "kind": "alert", "channel": "inbox"},
            ],
        },
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json() == {
        "time_zone": "Europe/Berlin",
        "preferences": [
            {"engagement": None, "kind": "survey", "channel": "daily"},
            {"engagement": engagement.pk, "kind": "alert", "channel": "inbox"},
        ],
    }
    # A null channel removes the engagement's own choice.
    client.patch(
        URL,
        {"preferences": [{"engagement": engagement.pk, "kind": "alert", "channel": None}]},
        content_type="application/json",
    )
    assert list(Preference.objects.values_list("kind", flat=True)) == ["survey"]


@pytest.mark.parametrize(
    "body,field",
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"preferences": [{"engagement": None, "kind": "gossip", "channel": "daily"}]}, "kind"),
        ({"preferences": [{"engagement": None, "kind": "alert", "channel": "fax"}]}, "channel"),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(client, client_manager, body, field):
    client.force_login(client_manager)
    response = client.patch(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert any(field in key for key in response.json()["errors"])
    assert not Preference.objects.exists()


def test_an_engagement_of_others_is_refused(client, client_manager, outsider_org):
    foreign = EngagementFactory(client=outsider_org)
    client.force_login(client_manager)
    response = client.patch(
        URL,
        {"preferences": [{"engagement": foreign.pk, "kind": "alert", "channel": "daily"}]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "preferences[0].engagement" in response.json()["errors"]


def test_the_inbox_lists_own_notices_and_marks_them_read(
    client, engagement, client_manager, client_viewer, django_assert_max_num_queries
):
    for n in range(5):
        notice_raise(
            kind="alert", engagement=engagement, key=f"k{n}", subject=f"Alert {n}", link="/"
        )
    client.force_login(client_manager)
    with django_assert_max_num_queries(8):
        listed = client.get("/api/v1/me/notices/").json()
    assert listed["count"] == 5 and {n["read"] for n in listed["results"]} == {False}
    mine = listed["results"][0]["id"]
    assert client.post(f"/api/v1/me/notices/{mine}/read/").json()["read"] is True
    theirs = Notice.objects.get(user=client_viewer, key="k0").pk
    assert client.post(f"/api/v1/me/notices/{theirs}/read/").status_code == 404
    assert client.get("/api/v1/me/notices/?colour=red").status_code == 400


def test_marking_read_a_notice_id_that_is_not_a_number_is_a_404(client, client_manager):
    # Found by schemathesis: it was a 500.
    client.force_login(client_manager)
    assert client.post("/api/v1/me/notices/null/read/").status_code == 404
