"""Measurements API: single and bulk writes, correction history, tenancy, bad input."""

import csv
import io
from datetime import date, timedelta

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from relationships.models import ImportBatch, Measurement
from tests.factories import EngagementFactory, SLAFactory

LIST = "/api/v1/measurements/"
BULK = "/api/v1/measurements/bulk/"


@pytest.fixture
def sla(engagement):
    return SLAFactory(engagement=engagement, owner_side="provider", name="P1 response")


@pytest.fixture
def slas(engagement):
    return [SLAFactory(engagement=engagement, name=f"SLA {n}") for n in range(10)]


@pytest.fixture
def outsider_sla(outsider_org, client_org):
    """An SLA of an engagement the provider organisation is no party to."""
    other = EngagementFactory(client=client_org, provider=outsider_org, name="Elsewhere")
    return SLAFactory(engagement=other, name="Not yours")


@pytest.fixture
def as_user(client):
    """The test client, signed in as the given user: as_user(client_admin).get(...)."""

    def login(user):
        client.force_login(user)
        return client

    return login


def row(sla_id, n=0, value="99.5", **changes):
    start = date(2025, 1, 1) + timedelta(days=n)
    data = {
        "sla": sla_id,
        "period_start": start.isoformat(),
        "period_end": start.isoformat(),
        "value": value,
        "source": "monitoring",
    }
    data.update(changes)
    return data


def many_rows(slas, count, value="99.5", first_day=0):
    return [row(slas[i % len(slas)].pk, first_day + i // len(slas), value) for i in range(count)]


def post_bulk(client, payload):
    return client.post(BULK, orjson.dumps(payload), content_type="application/json")


def post_csv(client, text):
    return client.post(BULK, text.encode(), content_type="text/csv")


def errors_of(response):
    return response.json()["errors"]


# ---------------------------------------------------------------- single
def test_recording_a_value_creates_a_current_measurement(as_user, provider_manager, sla):
    response = as_user(provider_manager).post(LIST, row(sla.pk), content_type="application/json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["value"] == "99.500000" and body["is_current"] is True
    assert body["side"] == "provider" and body["engagement"] == sla.engagement_id
    assert body["recorded_by"] == provider_manager.pk


def test_different_value_corrects_and_keeps_history(as_user, provider_manager, sla):
    client = as_user(provider_manager)
    first = client.post(LIST, row(sla.pk, value="90"), content_type="application/json").json()
    second = client.post(LIST, row(sla.pk, value="95"), content_type="application/json").json()
    assert second["supersedes"] == first["id"]
    result = post_bulk(client, {"rows": [row(sla.pk, value="97")]}).json()
    assert result["corrected"] == 1 and result["created"] == 0

    current = client.get(LIST, {"sla": sla.pk}).json()["results"]
    assert [m["value"] for m in current] == ["97.000000"]
    detail = client.get(f"{LIST}{first['id']}/").json()
    assert detail["is_current"] is False
    assert [m["value"] for m in detail["history"]] == ["90.000000", "95.000000", "97.000000"]
    everything = client.get(LIST, {"sla": sla.pk, "include_superseded": "true"}).json()
    assert everything["count"] == 3


def test_same_value_again_is_unchanged(as_user, provider_manager, sla):
    client = as_user(provider_manager)
    post_bulk(client, [row(sla.pk)])
    assert client.post(LIST, row(sla.pk), content_type="application/json").status_code == 200
    result = post_bulk(client, [row(sla.pk)]).json()
    assert (result["created"], result["corrected"], result["unchanged"]) == (0, 0, 1)
    assert Measurement.objects.count() == 1


def test_list_filters_by_side_and_period(as_user, provider_manager, slas):
    client = as_user(provider_manager)
    post_bulk(client, many_rows(slas, 30))
    response = client.get(
        LIST, {"period_start_after": "2025-01-02", "period_start_before": "2025-01-02"}
    )
    assert response.json()["count"] == 10
    assert client.get(LIST, {"side": "client"}).json()["count"] == 0


def test_list_queries_do_not_grow_with_rows(as_user, provider_manager, slas):
    client = as_user(provider_manager)
    counts = []
    for size in (5, 50):
        post_bulk(client, many_rows(slas, size, value=str(size)))
        with CaptureQueriesContext(connection) as queries:
            assert len(client.get(LIST).json()["results"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


# ---------------------------------------------------------------- bulk
def test_bulk_counts_and_import_batch(as_user, provider_manager, slas):
    client = as_user(provider_manager)
    post_bulk(client, many_rows(slas, 20))
    rows = many_rows(slas, 30)
    rows[0]["value"] = "12.5"
    response = post_bulk(client, {"rows": rows})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["created"], body["corrected"], body["unchanged"]) == (10, 1, 19)
    batch = ImportBatch.objects.get(pk=body["import_batch"])
    assert (batch.actor, batch.row_count, batch.corrected_count) == (provider_manager, 30, 1)
    assert Measurement.objects.filter(import_batch=batch).count() == 11


def test_one_bad_row_among_10000_writes_nothing(as_user, provider_manager, slas):
    client = as_user(provider_manager)
    post_bulk(client, many_rows(slas, 10))
    rows = many_rows(slas, 10_000, value="50")
    rows[9876]["value"] = "not a number"
    response = post_bulk(client, {"rows": rows})
    assert response.status_code == 400
    assert list(errors_of(response)) == ["rows[9876].value"]
    assert Measurement.objects.count() == 10
    assert set(Measurement.objects.values_list("value", flat=True)) == {99.5}
    assert ImportBatch.objects.count() == 1


def test_bulk_query_count_is_the_same_for_100_and_10000_rows(as_user, provider_manager, slas):
    client = as_user(provider_manager)
    counts = []
    for size, first_day in ((100, 0), (10_000, 10)):
        with CaptureQueriesContext(connection) as queries:
            response = post_bulk(client, many_rows(slas, size, first_day=first_day))
        assert response.status_code == 201
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert response.json()["created"] == 10_000


def test_bulk_csv_imports_like_json(as_user, provider_manager, slas):
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=["sla", "period_start", "period_end", "value", "source"]
    )
    writer.writeheader()
    writer.writerows(many_rows(slas, 25))
    response = post_csv(as_user(provider_manager), out.getvalue())
    assert response.status_code == 201, response.json()
    assert response.json()["created"] == 25
    assert Measurement.objects.filter(source="monitoring").count() == 25


def test_csv_without_source_column_uses_the_batch_source(as_user, provider_manager, sla):
    text = f"sla,period_start,period_end,value\n{sla.pk},2025-02-01,2025-02-28,98\n"
    assert post_csv(as_user(provider_manager), text).status_code == 201
    assert Measurement.objects.get().source == "API bulk (CSV)"


@pytest.mark.parametrize(
    "text",
    [
        "sla,period_start,period_end,value\n{sla},2025-01-01,2025-01-01\n",
        "sla,start,end,value\n{sla},2025-01-01,2025-01-01,1\n",
        "",
        'sla,period_start,period_end,value\n{sla},"2025-01-01,2025-01-01,1\n',
    ],
    ids=["short-line", "wrong-header", "empty", "unterminated-quote"],
)
def test_malformed_csv_is_a_400(as_user, provider_manager, sla, text):
    response = post_csv(as_user(provider_manager), text.format(sla=sla.pk))
    assert response.status_code == 400
    assert response.json()["detail"]
    assert Measurement.objects.count() == 0


def test_csv_row_errors_name_the_row(as_user, provider_manager, sla):
    text = f"sla,period_start,period_end,value\n{sla.pk},2025-01-01,2025-01-01,1\n{sla.pk},x,y,2\n"
    response = post_csv(as_user(provider_manager), text)
    assert response.status_code == 400
    assert set(errors_of(response)) == {"rows[1].period_start", "rows[1].period_end"}


@pytest.mark.parametrize(
    "payload",
    [b"{not json", b'{"rows": "x"}', b'{"rows": [], "extra": 1}', b"[]", b"42"],
    ids=["malformed", "rows-not-list", "unknown-key", "empty", "scalar"],
)
def test_bad_bulk_json_is_a_400(as_user, provider_manager, payload):
    response = as_user(provider_manager).post(BULK, payload, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"]


def test_errors_of_a_batch_wrong_throughout_are_capped(as_user, provider_manager, slas):
    response = post_bulk(as_user(provider_manager), many_rows(slas, 3000, value="x"))
    errors = errors_of(response)
    assert response.status_code == 400 and len(errors) == 1001
    assert errors["rows"] == ["2000 more errors are not listed."]
    assert "rows[999].value" in errors


def test_more_than_10000_rows_is_refused(as_user, provider_manager, slas):
    response = post_bulk(as_user(provider_manager), many_rows(slas, 10_001))
    assert response.status_code == 400
    assert "10000" in errors_of(response)["rows"][0]
    assert Measurement.objects.count() == 0


def test_oversized_body_is_a_413(as_user, provider_manager, sla):
    body = orjson.dumps([row(sla.pk, source="x" * 100)] * 25_000)
    response = as_user(provider_manager).post(BULK, body, content_type="application/json")
    assert response.status_code == 413
    assert "MB" in response.json()["detail"]


def test_duplicate_rows_in_a_batch_are_refused(as_user, provider_manager, sla):
    response = post_bulk(as_user(provider_manager), [row(sla.pk), row(sla.pk, value="3")])
    assert response.status_code == 400
    assert "rows[1].period_start" in errors_of(response)


def test_other_media_types_are_a_415(as_user, provider_manager):
    response = as_user(provider_manager).post(BULK, b"<rows/>", content_type="application/xml")
    assert response.status_code == 415


# ---------------------------------------------------------------- bad input, both endpoints
FAR_FUTURE = (date.today() + timedelta(days=800)).isoformat()
BAD_INPUT = [
    ("sla-text", {"sla": "abc"}, "sla"),
    ("sla-bool", {"sla": True}, "sla"),
    ("sla-unknown", {"sla": 987654}, "sla"),
    ("sla-outsider", {"sla": "OUTSIDER"}, "sla"),
    ("sla-missing", {"sla": None}, "sla"),
    ("start-not-a-date", {"period_start": "2025-13-01"}, "period_start"),
    ("start-number", {"period_start": 20250101}, "period_start"),
    ("end-before-start", {"period_start": "2025-01-10", "period_end": "2025-01-09"}, "period_end"),
    ("end-far-future", {"period_start": FAR_FUTURE, "period_end": FAR_FUTURE}, "period_end"),
    ("value-nan", {"value": "NaN"}, "value"),
    ("value-infinity", {"value": "Infinity"}, "value"),
    ("value-too-large", {"value": "1e12"}, "value"),
    ("value-too-small", {"value": "-1000000000000"}, "value"),
    ("value-7-decimals", {"value": "1.1234567"}, "value"),
    ("value-text", {"value": "ninety"}, "value"),
    ("value-null", {"value": None}, "value"),
    ("value-bool", {"value": True}, "value"),
    ("source-too-long", {"source": "s" * 101}, "source"),
    ("source-number", {"source": 5}, "source"),
    ("source-nul", {"source": "a\x00b"}, "source"),
    ("unknown-field", {"recorded_by": 1}, "recorded_by"),
]


def bad_row(sla, outsider_sla, changes):
    data = row(sla.pk, **changes)
    if data["sla"] == "OUTSIDER":
        data["sla"] = outsider_sla.pk
    if data["sla"] is None:
        del data["sla"]
    return data


@pytest.mark.parametrize("endpoint", ["single", "bulk"])
@pytest.mark.parametrize(
    "changes, field", [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT]
)
def test_bad_input_is_a_400_naming_the_field(
    as_user, provider_manager, sla, outsider_sla, endpoint, changes, field
):
    client = as_user(provider_manager)
    data = bad_row(sla, outsider_sla, changes)
    if endpoint == "single":
        response = client.post(LIST, data, content_type="application/json")
        expected = field
    else:
        response = post_bulk(client, {"rows": [row(sla.pk, n=400), data]})
        expected = f"rows[1].{field}"
    assert response.status_code == 400, response.json()
    assert expected in errors_of(response), errors_of(response)
    assert Measurement.objects.count() == 0


@pytest.mark.parametrize("value", [99, 99.25, "0.000001", "-5", 0])
def test_good_values_are_accepted_by_both(as_user, provider_manager, sla, value):
    client = as_user(provider_manager)
    single = client.post(LIST, row(sla.pk, value=value), content_type="application/json")
    assert single.status_code == 201, single.json()
    assert post_bulk(client, [row(sla.pk, n=1, value=value)]).status_code == 201


# ---------------------------------------------------------------- tenancy
def test_outsider_sees_no_measurements_and_gets_404(as_user, provider_manager, outsider, sla):
    measurement = (
        as_user(provider_manager).post(LIST, row(sla.pk), content_type="application/json").json()
    )
    client = as_user(outsider)
    assert client.get(LIST).json()["count"] == 0
    assert client.get(f"{LIST}{measurement['id']}/").status_code == 404


def test_outsider_cannot_learn_that_an_sla_exists(as_user, outsider, sla):
    response = post_bulk(as_user(outsider), [row(sla.pk)])
    assert response.status_code == 400
    assert "does not exist" in errors_of(response)["rows[0].sla"][0]


@pytest.mark.parametrize("endpoint", ["single", "bulk"])
def test_viewers_cannot_record(as_user, provider_viewer, client_viewer, sla, endpoint):
    for viewer in (provider_viewer, client_viewer):
        client = as_user(viewer)
        if endpoint == "single":
            response = client.post(LIST, row(sla.pk), content_type="application/json")
        else:
            response = post_bulk(client, [row(sla.pk)])
        assert response.status_code == 403
    assert Measurement.objects.count() == 0


def test_the_other_side_may_record_on_a_providers_sla(as_user, client_manager, sla):
    # SLAs are bilateral: either party's managers record values (the side is the SLA's owner).
    assert post_bulk(as_user(client_manager), [row(sla.pk)]).status_code == 201


def test_proposed_engagement_takes_no_values(as_user, provider_manager, sla):
    sla.engagement.status = "proposed"
    sla.engagement.save()
    assert post_bulk(as_user(provider_manager), [row(sla.pk)]).status_code == 403


def test_anonymous_gets_401(client, sla):
    assert client.get(LIST).status_code in (401, 403)
    assert post_bulk(client, [row(sla.pk)]).status_code in (401, 403)


def test_sources_with_quotes_commas_and_unicode_are_kept(as_user, provider_manager, sla):
    sources = ['ticket "A", queue \\ 7', "{braces}", "Überwachung, NULL", ""]
    rows = [row(sla.pk, n=n, source=source) for n, source in enumerate(sources)]
    assert post_bulk(as_user(provider_manager), rows).status_code == 201
    stored = Measurement.objects.order_by("period_start").values_list("source", flat=True)
    assert list(stored) == [*sources[:3], "API bulk (JSON)"]
