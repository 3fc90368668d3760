"""Disputed values through the API (PRODUCT.md §7): either side records for any SLA, a value
recorded by the side that does not own the SLA is marked, the owner disputes it, the
recorder's side accepts the proposed correction or the owner withdraws."""

from decimal import Decimal

import pytest

from relationships.models import Measurement, MeasurementDispute
from scorecards.models import OutboxEvent
from tests.factories import SLAFactory

pytestmark = pytest.mark.django_db

MEASUREMENTS = "/api/v1/measurements/"
BULK = "/api/v1/measurements/bulk/"
DISPUTES = "/api/v1/measurement-disputes/"


@pytest.fixture
def sla(engagement):
    return SLAFactory(engagement=engagement, owner_side="provider", name="P1 response")


def record(api, user, sla, value="97.5", start="2026-03-02"):
    response = api(user).post(
        MEASUREMENTS,
        {"sla": sla.pk, "period_start": start, "period_end": start, "value": value},
        format="json",
    )
    assert response.status_code in (200, 201), response.json()
    return response.json()


@pytest.fixture
def by_client(api, client_manager, sla):
    """A value of the provider's SLA recorded by the client side."""
    return record(api, client_manager, sla)


def dispute(api, user, measurement_id, **body):
    return api(user).post(
        DISPUTES,
        {"measurement": measurement_id, "reason": "Our monitoring says 99.8", **body},
        format="json",
    )


def test_either_side_records_for_any_sla_and_the_other_sides_value_is_marked(
    api, client_manager, provider_manager, engagement, sla
):
    client_sla = SLAFactory(engagement=engagement, owner_side="client", name="Approvals")
    by_client = record(api, client_manager, sla)
    by_owner = record(api, provider_manager, sla, start="2026-03-03")
    bulk = api(provider_manager).post(
        BULK,
        {
            "rows": [
                {
                    "sla": client_sla.pk,
                    "period_start": "2026-03-02",
                    "period_end": "2026-03-02",
                    "value": "3",
                }
            ]
        },
        format="json",
    )
    assert bulk.status_code == 201
    assert (by_client["recorded_by_side"], by_client["recorded_by_owner"]) == ("client", False)
    assert (by_owner["recorded_by_side"], by_owner["recorded_by_owner"]) == ("provider", True)
    listed = api(client_manager).get(MEASUREMENTS, {"sla": client_sla.pk}).json()["results"]
    assert [(m["recorded_by_side"], m["recorded_by_owner"]) for m in listed] == [
        ("provider", False)
    ]
    assert by_client["open_dispute"] is None


def test_the_owning_side_disputes_and_both_sides_hear_of_it(
    api, provider_manager, client_manager, by_client, engagement
):
    response = dispute(api, provider_manager, by_client["id"], corrected_value="99.8")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["side"], body["recorded_by_side"], body["value"]) == (
        "open",
        "provider",
        "client",
        "97.500000",
    )
    assert body["corrected_value"] == "99.800000"
    (event,) = OutboxEvent.objects.filter(kind="measurement.disputed")
    assert event.engagement == engagement
    assert event.payload["event"] == "measurement.disputed"
    assert event.payload["dispute"]["id"] == body["id"]
    assert event.payload["dispute"]["reason"] == "Our monitoring says 99.8"
    measurement = api(client_manager).get(f"{MEASUREMENTS}{by_client['id']}/").json()
    assert measurement["open_dispute"] == body["id"]


@pytest.mark.parametrize(
    "who, code",
    [
        ("client_manager", 403),  # the recorder's side does not own the SLA
        ("provider_viewer", 403),
        ("outsider", 400),  # a value it cannot see: "does not exist"
    ],
)
def test_only_a_writer_of_the_owning_side_disputes(api, by_client, request, who, code):
    response = dispute(api, request.getfixturevalue(who), by_client["id"])
    assert response.status_code == code, response.json()
    assert not MeasurementDispute.objects.exists()


def test_a_value_the_owner_recorded_cannot_be_disputed(api, provider_manager, sla):
    own = record(api, provider_manager, sla)
    response = dispute(api, provider_manager, own["id"])
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "measurement": ["Only a value recorded by the other side can be disputed."]
    }
    assert not MeasurementDispute.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"reason": ""},
        {"reason": "   "},
        {"reason": "x" * 2001},
        {"corrected_value": "abc"},
        {"corrected_value": "1e13"},
        {"corrected_value": "97.5"},  # the disputed value itself
        {"status": "corrected"},  # not writable
    ],
)
def test_bad_input_is_a_400_and_changes_nothing(api, provider_manager, by_client, body):
    response = dispute(api, provider_manager, by_client["id"], **body)
    assert response.status_code == 400, response.json()
    assert not MeasurementDispute.objects.exists()


def test_one_open_dispute_per_value(api, provider_manager, provider_admin, by_client):
    assert dispute(api, provider_manager, by_client["id"]).status_code == 201
    second = dispute(api, provider_admin, by_client["id"])
    assert second.status_code == 400
    assert "already disputed" in str(second.json())
    assert MeasurementDispute.objects.count() == 1


def test_the_recorders_side_accepts_the_correction(
    api, provider_manager, client_manager, client_admin, by_client
):
    opened = dispute(api, provider_manager, by_client["id"], corrected_value="99.8").json()
    url = f"{DISPUTES}{opened['id']}/accept-correction/"
    assert api(provider_manager).post(url).status_code == 403  # not the disputing side
    response = api(client_admin).post(url)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "corrected"
    assert response.json()["resolved_by"] == client_admin.pk
    current = Measurement.objects.current().get(sla_id=by_client["sla"])
    assert current.value == Decimal("99.8")
    assert current.supersedes_id == by_client["id"]  # the disputed value stays in the history
    again = api(client_admin).post(url)
    assert again.status_code == 400
    assert api(client_manager).get(f"{MEASUREMENTS}{current.pk}/").json()["open_dispute"] is None


def test_a_correction_recorded_by_the_recorders_side_ends_the_dispute(
    api, provider_manager, client_manager, sla, by_client
):
    opened = dispute(api, provider_manager, by_client["id"]).json()
    record(api, client_manager, sla, value="99.9")
    assert api(client_manager).get(f"{DISPUTES}{opened['id']}/").json()["status"] == "corrected"


def test_without_a_proposed_value_there_is_nothing_to_accept(
    api, provider_manager, client_manager, by_client
):
    opened = dispute(api, provider_manager, by_client["id"]).json()
    response = api(client_manager).post(f"{DISPUTES}{opened['id']}/accept-correction/")
    assert response.status_code == 400
    assert MeasurementDispute.objects.get().status == "open"
    assert Measurement.objects.count() == 1


def test_the_disputing_side_withdraws(
    api, provider_manager, provider_admin, client_admin, by_client
):
    opened = dispute(api, provider_manager, by_client["id"]).json()
    url = f"{DISPUTES}{opened['id']}/withdraw/"
    assert api(client_admin).post(url).status_code == 403
    response = api(provider_admin).post(url)
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    assert api(provider_admin).post(url).status_code == 400  # already ended
    assert Measurement.objects.get().value == Decimal("97.5")  # the value stands


def test_outsiders_see_no_dispute(api, outsider, provider_manager, by_client):
    opened = dispute(api, provider_manager, by_client["id"]).json()
    assert api(outsider).get(DISPUTES).json()["results"] == []
    for path in ("", "withdraw/", "accept-correction/"):
        method = "get" if not path else "post"
        response = getattr(api(outsider), method)(f"{DISPUTES}{opened['id']}/{path}")
        assert response.status_code == 404
    assert MeasurementDispute.objects.get().status == "open"


def test_list_filters(api, provider_manager, client_manager, engagement, sla, by_client):
    other = SLAFactory(engagement=engagement, owner_side="provider", name="P2 response")
    second = record(api, client_manager, other)
    first_id = dispute(api, provider_manager, by_client["id"]).json()["id"]
    second_id = dispute(api, provider_manager, second["id"]).json()["id"]
    api(provider_manager).post(f"{DISPUTES}{second_id}/withdraw/")

    def ids(**query):
        return [d["id"] for d in api(client_manager).get(DISPUTES, query).json()["results"]]

    assert sorted(ids(engagement=engagement.pk)) == sorted([first_id, second_id])
    assert ids(status="open") == [first_id]
    assert ids(sla=other.pk) == [second_id]
    assert api(client_manager).get(DISPUTES, {"status": "nope"}).status_code == 400
