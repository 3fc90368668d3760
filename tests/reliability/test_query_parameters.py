"""Query parameters and request bodies on every API operation (discovered from the schema
and the routers, as the tenancy matrix discovers them): an unknown query parameter is a
400 naming it, every parameter the schema declares is read, every date filter follows
the one naming scheme, and a body that is not JSON is a 415."""

from datetime import date, timedelta
from urllib.parse import urlencode

import pytest
from django.db import transaction
from django_filters import DateFilter
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accord import api_urls, integration_urls
from core.api.base import UNKNOWN_QUERY_PARAMETER
from tests.reliability.conftest import PERSONAS, TALLY
from tests.reliability.tenancy import (
    API_TABLE,
    OPERATIONS,
    api_bodies,
    api_url,
    client_as,
    expected_statuses,
    send_request,
)

pytestmark = pytest.mark.django_db

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
UNKNOWN = "colour"


def allowed(operation: str) -> tuple[str, str]:
    """A persona the operation succeeds for (the one seeing most), and its status."""
    statuses = expected_statuses(API_TABLE[operation], operation)
    persona = next(p for p in reversed(PERSONAS) if statuses[p].startswith("2"))
    return persona, statuses[persona]


def send(world, persona, method, url, body, row_counts, **extra):
    """The request in a rolled-back transaction, and whether it changed any row."""
    with transaction.atomic():
        before = row_counts()
        if extra:
            response = client_as(world, persona).generic(method, url, **extra)
        else:
            response = send_request(client_as(world, persona), method, url, body)
        changed = row_counts() != before
        transaction.set_rollback(True)
    TALLY["bad_inputs"] += 1
    return response, changed


# ------------------------------------------------------------------ unknown parameters
@pytest.mark.parametrize("operation", [f"{m} {p}" for m, p in OPERATIONS])
def test_every_operation_refuses_an_unknown_query_parameter(world, row_counts, operation):
    """A misspelt or renamed filter used to be ignored: the whole list came back as if
    filtered, and a write went ahead. Now it is a 400 naming it, and nothing changes."""
    method, path = operation.split(" ", 1)
    persona, status = allowed(operation)
    url, body = api_url(world, path), api_bodies(world).get(operation)

    refused, changed = send(world, persona, method, f"{url}?{UNKNOWN}=blue", body, row_counts)
    assert refused.status_code == 400, (operation, refused.status_code, refused.content[:300])
    errors = refused.json()["errors"]
    assert list(errors) == [UNKNOWN] and errors[UNKNOWN][0].startswith(UNKNOWN_QUERY_PARAMETER)
    assert not changed
    # The parameter alone made the difference.
    plain, _ = send(world, persona, method, url, body, row_counts)
    assert str(plain.status_code) == status, (operation, plain.content[:300])


def _declared_query_parameters(method: str, path: str) -> dict[str, dict]:
    operation = SCHEMA["paths"][path][method.lower()]
    return {p["name"]: p["schema"] for p in operation.get("parameters", []) if p["in"] == "query"}


def _example(schema: dict, row: dict, name: str, day: date) -> str:
    """A value the parameter takes: the listed record's own (an id of this world), else
    one of its kind."""
    if isinstance(row.get(name), bool):
        return str(row[name]).lower()
    if isinstance(row.get(name), str | int):
        # A timestamp's day filter takes its day.
        return str(row[name])[:10] if schema.get("format") == "date" else str(row[name])
    if "enum" in schema or "items" in schema:
        return str((schema.get("items") or schema)["enum"][0])
    return {"date": day.isoformat(), "integer": "1", "boolean": "true"}.get(
        schema.get("format") or schema.get("type"), "x"
    )


WITH_PARAMETERS = [
    f"{m} {p}" for m, p in OPERATIONS if m == "GET" and _declared_query_parameters(m, p)
]


@pytest.mark.parametrize("operation", WITH_PARAMETERS)
def test_every_query_parameter_the_schema_declares_is_read(world, row_counts, operation):
    """The schema and the check agree: all the declared parameters at once answer as the
    plain request does (none is refused as unknown), and keep the listed record."""
    method, path = operation.split(" ", 1)
    persona, status = allowed(operation)
    url = api_url(world, path)
    plain = send(world, persona, method, url, None, row_counts)[0].json()
    rows = plain.get("results", []) if isinstance(plain, dict) else []
    row = rows[0] if rows else {}
    day = world["scorecards"].period_start
    declared = _declared_query_parameters(method, path)
    query = urlencode({name: _example(schema, row, name, day) for name, schema in declared.items()})
    response, _ = send(world, persona, method, f"{url}?{query}", None, row_counts)
    assert str(response.status_code) == status, (operation, query, response.content[:500])


def test_the_answer_names_the_parameter_that_was_meant(world, row_counts):
    """A name of the former scheme points to its successor."""
    url = "/api/v1/scorecards/?period_after=2026-03-01"
    response, _ = send(world, "client_manager", "GET", url, None, row_counts)
    message = response.json()["errors"]["period_after"][0]
    assert "Did you mean period_start_after?" in message
    assert "period_start_before" in message  # and lists what the list reads


# ------------------------------------------------------------------ date filters
def list_filtersets() -> dict[str, type]:
    """The filterset of every list of the API's routers, by URL prefix."""
    found = {}
    for router in (api_urls.router, integration_urls.router):
        for prefix, viewset, _basename in router.registry:
            if not hasattr(viewset, "list"):
                continue
            view = viewset(action="list", format_kwarg=None)
            model = view.get_serializer_class().Meta.model
            for backend in view.filter_backends:
                if issubclass(backend, DjangoFilterBackend):
                    filterset = backend().get_filterset_class(view, model.objects.none())
                    if filterset is not None:
                        found[prefix] = filterset
    return found


FILTERSETS = list_filtersets()


def date_fields(filterset) -> dict[str, dict[str, tuple[str, str]]]:
    """{field: {parameter: lookup}} of the filterset's date filters on a field, by the
    field's name in the list's rows (a filter with a method, such as contacts' current_on,
    is a condition, not a field's filter; a timestamp is filtered by its day)."""
    fields = {}
    for name, item in filterset.base_filters.items():
        if isinstance(item, DateFilter) and item.method is None:
            field = name.removesuffix(f"_{LOOKUP_SUFFIXES.get(item.lookup_expr, '')}")
            fields.setdefault(field, {})[name] = item.lookup_expr
    return fields


LOOKUP_SUFFIXES = {"gte": "after", "lte": "before"}


def _day(value: str) -> date:
    """The day of a date or of a timestamp (UTC, as the API writes them)."""
    return date.fromisoformat(value[:10])


DATED_LISTS = [
    (prefix, field)
    for prefix, filterset in sorted(FILTERSETS.items())
    for field in date_fields(filterset)
]


def test_the_lists_with_date_filters_are_found():
    # The discovery found the lists it is meant to (a guard on the discovery itself).
    prefixes = {prefix for prefix, _field in DATED_LISTS}
    assert {"scorecards", "alerts", "measurements", "checkins", "engagements"} <= prefixes
    assert len(DATED_LISTS) >= 12


@pytest.mark.parametrize("prefix", sorted(FILTERSETS))
def test_every_date_filter_is_named_after_its_field(prefix):
    """One scheme: `<field>` (that day), `<field>_after`, `<field>_before` (inclusive)."""
    for field, parameters in date_fields(FILTERSETS[prefix]).items():
        assert parameters == {
            field: "exact",
            f"{field}_after": "gte",
            f"{field}_before": "lte",
        }, (prefix, field)


@pytest.mark.parametrize(("prefix", "field"), DATED_LISTS)
def test_every_date_filter_selects_what_its_name_says(world, prefix, field):
    """Through the API: the field is in the list's rows, and each of its three filters
    keeps the rows it names and drops the others, the bounds included."""
    client = APIClient()
    client.force_login(world["client_manager"])
    url = f"/api/v1/{prefix}/"
    rows = client.get(url, {"page_size": 500}).json()["results"]
    dated = [row for row in rows if row.get(field)]
    assert dated, f"{prefix}: no row with a {field} to filter by"
    row = dated[0]
    day = _day(row[field])
    one_day = timedelta(days=1)

    def ids(parameter, value):
        response = client.get(url, {parameter: value.isoformat(), "page_size": 500})
        assert response.status_code == 200, (prefix, parameter, response.content[:300])
        found = response.json()["results"]
        return {r["id"] for r in found}, {_day(r[field]) for r in found}

    kept, days = ids(field, day)
    assert row["id"] in kept and days == {day}
    assert row["id"] not in ids(field, day + one_day)[0]
    kept, days = ids(f"{field}_after", day)
    assert row["id"] in kept and min(days) >= day
    assert row["id"] not in ids(f"{field}_after", day + one_day)[0]
    kept, days = ids(f"{field}_before", day)
    assert row["id"] in kept and max(days) <= day
    assert row["id"] not in ids(f"{field}_before", day - one_day)[0]


# ------------------------------------------------------------------ request bodies
WITH_BODIES = [f"{m} {p}" for m, p in OPERATIONS if "requestBody" in SCHEMA["paths"][p][m.lower()]]


@pytest.mark.parametrize("operation", WITH_BODIES)
@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=BoUnD"]
)
def test_a_body_that_is_not_json_is_a_415(world, row_counts, operation, content_type):
    """DRF read form and multipart bodies too, which the schema then declared beside JSON
    (and generated clients tripped over). Only JSON is read now (and CSV by the bulk
    endpoint); any other body is a 415 that changes nothing."""
    method, path = operation.split(" ", 1)
    persona, _status = allowed(operation)
    flat = {
        name: value
        for name, value in (api_bodies(world).get(operation) or {}).items()
        if isinstance(value, str | int)
    } or {"name": "x"}  # a body with something in it (an empty one needs no parser)
    if content_type.startswith("multipart"):
        body = (
            "".join(
                f'--BoUnD\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                for name, value in flat.items()
            )
            + "--BoUnD--\r\n"
        )
    else:
        body = urlencode(flat)
    response, changed = send(
        world,
        persona,
        method,
        api_url(world, path),
        None,
        row_counts,
        data=body.encode(),
        content_type=content_type,
    )
    assert response.status_code == 415, (operation, response.status_code, response.content[:300])
    assert response.json()["code"] == "unsupported_media_type"
    assert not changed
