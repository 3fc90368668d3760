"""Tenancy matrix: every API operation and every dashboard URL, as every persona.

The tables of who gets which status are in tenancy.py; every route must have a row there and
every row a route. Every cell runs on a fresh database.
"""

import re
from datetime import date

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers
from rest_framework.test import APIClient

from tests.reliability.conftest import PERSONAS, PULSE_ANSWERS, TALLY
from tests.reliability.tenancy import (
    API_TABLE,
    OPERATIONS,
    PAGE_KWARGS,
    PAGE_NAMES,
    PAGE_TABLE,
    ROUTES,
    api_bodies,
    api_url,
    client_as,
    expected_statuses,
    outcome,
    page_bodies,
    send_request,
)

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------ coverage
def test_every_api_operation_has_a_row_and_every_row_an_operation():
    discovered = {f"{method} {path}" for method, path in OPERATIONS}
    assert sorted(discovered - set(API_TABLE)) == [], "API operations without a matrix row"
    assert sorted(set(API_TABLE) - discovered) == [], "matrix rows without an API operation"


def test_every_page_has_a_row_and_every_row_a_page():
    assert sorted(set(PAGE_NAMES) - set(PAGE_TABLE)) == [], "pages without a matrix row"
    assert sorted(set(PAGE_TABLE) - set(PAGE_NAMES)) == [], "matrix rows without a page"


def test_every_api_route_of_the_url_conf_is_in_the_schema():
    """The schema is the API's inventory: no route may hide from it (and from the matrix)."""
    templates = [
        re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$") for _m, path in OPERATIONS
    ]
    hidden = []
    for route, name in ROUTES:
        if not route.startswith("api/v1/") or "format" in route or name == "api-root":
            continue
        # Not reverse(): dashboard pages reuse some of the router's names.
        url = "/" + re.sub(r"\(\?P<\w+>[^)]*\)", "1", route).replace("^", "").replace("$", "")
        if not any(template.match(url) for template in templates):
            hidden.append(name)
    assert hidden == []


# ------------------------------------------------------------------ cells
def run_cells(world, statuses: str, what: str, send, client_class=APIClient) -> list:
    """Each persona's request in its own rolled-back transaction: every cell starts afresh."""
    expected = expected_statuses(statuses, what)
    mismatches, actual = [], []
    for persona in PERSONAS:
        with transaction.atomic():
            response = send(client_as(world, persona, client_class), persona)
            transaction.set_rollback(True)
        TALLY["matrix_cells"] += 1
        actual.append(outcome(response))
        if actual[-1] != expected[persona]:
            mismatches.append((persona, actual[-1], response.content[:200]))
    assert mismatches == [], f"{what}: got {' '.join(actual)!r}"
    return actual


@pytest.mark.parametrize("operation", [f"{m} {p}" for m, p in OPERATIONS])
def test_api_operation_for_every_persona(world, operation):
    assert operation in API_TABLE, f"{operation} has no row in API_TABLE"
    method, path = operation.split(" ", 1)
    url, body = api_url(world, path), api_bodies(world).get(operation)

    def send(client, persona):
        response = send_request(client, method, url, body)
        if persona == "outsider" and method == "GET" and response.status_code == 200:
            assert_nothing_of(world, response)
        return response

    run_cells(world, API_TABLE[operation], operation, send)


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_page_for_every_persona(world, name):
    assert name in PAGE_TABLE, f"page {name} has no row in PAGE_TABLE"
    about, rows = PAGE_TABLE[name]
    url = reverse(name, kwargs=PAGE_KWARGS[about](world))
    for method, statuses in rows.items():

        def send(client, persona, method=method):
            # Fresh each time: an uploaded file is read once.
            response = send_request(client, method, url, page_bodies(world).get(name))
            if persona == "outsider" and response.status_code == 200:
                assert world["engagement"].name not in response.content.decode()
            return response

        run_cells(world, statuses, f"{method} {name}", send, Client)


# ------------------------------------------------------------------ runs of many engagements
@pytest.mark.parametrize("trigger", ["periodic", "command"])
def test_runs_of_many_engagements_for_every_persona(world, trigger):
    """A run of many engagements (the schedule's, compute_scorecards') answers like a run of
    the engagement: members of an engagement it covered poll it and list it, anyone else
    gets 404 and does not list it, and no persona reads its counts or its error."""
    from scorecards.models import ScorecardRun
    from scorecards.runs import create_runs

    covered = [world["engagement"].pk, world["sibling"]["engagement"].pk]
    (run,) = create_runs({("month", date(2026, 3, 1)): covered}, trigger=trigger, dispatch=False)
    ScorecardRun.objects.filter(pk=run.pk).update(
        status="failed", scorecards_written=40, alerts_raised=7, error="Foreign: IntegrityError"
    )
    hidden = {"scorecards_written": None, "alerts_raised": None}

    def poll(client, persona):
        response = client.get(f"/api/v1/runs/{run.pk}/")
        listed = client.get("/api/v1/runs/")
        if persona != "anonymous":
            ids = [row["id"] for row in listed.json()["results"]]
            assert (run.pk in ids) == (response.status_code == 200), persona
        if response.status_code == 200:
            body = response.json()
            assert {name: body[name] for name in hidden} == hidden
            assert body["error"] == ScorecardRun.SHARED_RUN_ERROR
        return response

    run_cells(world, API_TABLE["GET /api/v1/runs/{id}/"], f"{trigger} run", poll)

    def status_page(client, persona):
        response = client.get(reverse("run-status", args=[run.pk]))
        if response.status_code == 200:
            assert response.json()["scorecards_written"] is None
            assert "Foreign" not in response.content.decode()
        return response

    page_row = PAGE_TABLE["run-status"][1]["GET"]
    run_cells(world, page_row, f"run-status of a {trigger} run", status_page, Client)


def assert_nothing_of(w, response):
    """An outsider's list shows nothing of the engagement or its parties."""
    body = response.content.decode()
    if not response["Content-Type"].startswith("application/json"):
        return
    data = response.json()
    rows = data.get("results", data) if isinstance(data, dict) else data
    if not isinstance(rows, list):
        return
    for row in rows:
        assert row.get("engagement") not in (w["engagement"].pk, w["proposed"].pk), row
        assert w["engagement"].name not in body


# ------------------------------------------------------------------ foreign references
def _request_serializer(view, path, regex, method):
    view.request = None
    view.schema.path, view.schema.method, view.schema.path_regex = path, method, regex
    found = view.schema.get_request_serializer()
    return found() if isinstance(found, type) else found


def _reference_fields(serializer, prefix="") -> list[str]:
    """Writable fields that name another object by id, nested lists included."""
    names = []
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        if isinstance(field, serializers.RelatedField | serializers.ManyRelatedField):
            names.append(prefix + name)
        elif name in ID_FIELDS:
            names.append(prefix + name)
        elif isinstance(field, serializers.ListSerializer):
            names += _reference_fields(field.child, f"{prefix}{name}[].")
    return names


# Plain integer fields that are ids (parsed by the services, not by DRF relations).
ID_FIELDS = {"owner", "sla"}


def _api_references() -> list[tuple[str, str]]:
    generator = SchemaGenerator()
    generator._initialise_endpoints()
    found = []
    for path, regex, method, view in generator._get_paths_and_endpoints():
        if method not in ("POST", "PUT", "PATCH"):
            continue
        serializer = _request_serializer(view, path, regex, method)
        if isinstance(serializer, dict):  # the bulk endpoint documents its JSON rows
            serializer = serializer["application/json"]()
        if isinstance(serializer, serializers.BaseSerializer):
            found += [(f"{method} {path}", name) for name in _reference_fields(serializer)]
    return sorted(found)


API_REFERENCES = _api_references()
REFERENCED = {
    "engagement": "engagement",
    "organization": "organization",
    "sla": "sla",
    "measurement": "measurement",
    "goal": "goal",
    "issue": "issue",
    "review": "review",
    "checkin": "checkin",
    "counterpart": "organization",
    "client_contact": "client_contact",
    "provider_contact": "provider_contact",
    "attendee_contacts": "client_contact",
    "attendee_users": "user",
    "owner": "user",
    "user": "user",
}


FOLLOW_UP = {"owner_side": "client", "description": "Follow up", "due_date": "2026-03-01"}
# The field that decides which engagement a new record joins: naming one of the
# user's other engagements there is legitimate. So is proposing to the other party of
# one of them.
ANCHORS = {
    "engagement",
    "organization",
    "goal-progress goal",
    "reviews issue",
    "measurements sla",
    "measurement-disputes measurement",
    "engagements counterpart",
}


def _with_reference(body: dict, field: str, value) -> dict:
    """The body with `field` (maybe `list[].field`) pointing at `value`."""
    body = dict(body)
    if "[]." in field:
        outer, inner = field.split("[].")
        template = (body.get(outer) or [FOLLOW_UP])[0]
        body[outer] = [{**template, inner: value}]
    else:
        body[field] = value
    return body


def test_reference_fields_are_discovered():
    """The discovery finds the fields this proof is about (a guard against finding none)."""
    names = {f"{operation} {field}" for operation, field in API_REFERENCES}
    assert {
        "POST /api/v1/feedback/ sla",
        "POST /api/v1/feedback/ goal",
        "POST /api/v1/goals/ client_contact",
        "POST /api/v1/reviews/ issue",
        "POST /api/v1/action-items/ checkin",
        "POST /api/v1/checkins/ attendee_contacts",
        "POST /api/v1/measurements/bulk/ rows[].sla",
        "POST /api/v1/engagements/ counterpart",
    } <= names


@pytest.mark.parametrize("owner", ["foreign", "sibling"])
@pytest.mark.parametrize("operation,field", API_REFERENCES)
def test_api_refuses_objects_of_another_engagement(world, row_counts, operation, field, owner):
    """A manager names another engagement's object by id: a 400 naming the field, or 404."""
    method, path = operation.split(" ", 1)
    leaf = field.split(".")[-1]
    if owner == "sibling" and {leaf, f"{path.split('/')[3]} {leaf}"} & ANCHORS:
        pytest.skip("naming one of the user's own engagements (or its SLA, goal, issue) is fine")
    target = world[owner][REFERENCED[leaf]]
    value = [target.pk] if leaf.startswith("attendee") else target.pk
    body = _with_reference(api_bodies(world).get(operation, {}), field, value)
    before = row_counts()
    response = send_request(client_as(world, "client_manager"), method, api_url(world, path), body)
    TALLY["foreign_references"] += 1
    assert response.status_code in (400, 404), (operation, field, response.content[:300])
    if response.status_code == 400:
        errors = response.json()["errors"]
        assert any(key.split("[")[0].split(".")[0] == field.split("[")[0] for key in errors) or any(
            key.startswith(field.split("[]")[0]) for key in errors
        ), errors
    assert row_counts() == before


PAGE_REFERENCES = [
    ("feedback-create", "sla", "sla"),
    ("feedback-create", "goal", "goal"),
    ("checkin-create", "attendee_users", "user"),
    ("checkin-create", "attendee_contacts", "client_contact"),
    ("checkin-plan", "attendee_contacts", "client_contact"),
    ("action-item-create", "owner", "user"),
    ("action-item-create", "checkin", "checkin"),
    ("action-item-create", "review", "review"),
    ("measurement-create", "sla", "sla"),
    *(
        (name, f"{side}_contact", f"{side}_contact")
        for name in ("goal-propose", "goal-change")
        for side in ("client", "provider")
    ),
]


def test_page_references_cover_every_choice_of_an_object():
    """Every form field that picks an object by id is in PAGE_REFERENCES."""
    from django import forms

    from relationships.pages import EngagementFormView

    listed = {(name, field) for name, field, _ in PAGE_REFERENCES}
    found = set()
    for pattern_name, view_class, form_class in _form_views():
        if not issubclass(view_class, EngagementFormView) or form_class is None:
            continue
        for field_name, field in form_class.base_fields.items():
            if isinstance(field, forms.ModelChoiceField):
                found.add((pattern_name, field_name))
    assert found <= listed, sorted(found - listed)


def _form_views():
    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns)
            elif hasattr(pattern.callback, "view_class"):
                view = pattern.callback
                # A page may be a base view given its form in as_view(form_class=...).
                default = getattr(view.view_class, "form_class", None)
                form_class = view.view_initkwargs.get("form_class", default)
                yield pattern.name, view.view_class, form_class

    return list(walk(get_resolver().url_patterns))


@pytest.mark.parametrize("owner", ["foreign", "sibling"])
@pytest.mark.parametrize("name,field,kind", PAGE_REFERENCES)
def test_forms_refuse_objects_of_another_engagement(world, row_counts, name, field, kind, owner):
    target = world[owner][kind]
    body = {**page_bodies(world)[name], field: target.pk}
    url = reverse(name, kwargs=PAGE_KWARGS[PAGE_TABLE[name][0]](world))
    before = row_counts()
    response = client_as(world, "client_manager", Client).post(url, body)
    TALLY["foreign_references"] += 1
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert row_counts() == before


# ------------------------------------------------------------------ survey answers
def _pulse_responses_in(context) -> list:
    from feedback.models import PulseResponse

    found = []
    for layer in context or []:
        for value in (layer.flatten() if hasattr(layer, "flatten") else layer).values():
            values = value if isinstance(value, list | tuple) else [value]
            found += [item for item in values if isinstance(item, PulseResponse)]
    return found


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p not in ("anonymous",)])
def test_nobody_lists_another_persons_survey_answers(world, persona):
    listing = client_as(world, persona).get("/api/v1/pulse-responses/").json()
    mine = persona == "client_manager"
    assert listing["count"] == (1 if mine else 0)


def test_aggregates_below_the_threshold_show_no_figures(world):
    from feedback.services import pulse_submit

    pulse_submit(
        engagement=world["engagement"],
        user=world["client_viewer"],
        answers=dict.fromkeys(PULSE_ANSWERS, 2),
    )
    period = world["engagement"].current_period()
    url = f"/api/v1/engagements/{world['engagement'].pk}/pulse-aggregates/"
    body = client_as(world, "provider_manager").get(url, {"period_start": period.start}).json()
    assert body["threshold"] == 3 and body["client"]["respondents"] is None
    assert body["client"]["published"] is False and body["client"]["overall"] is None
    assert set(body["client"]["means"].values()) == {None}
    url = f"/api/v1/engagements/{world['engagement'].pk}/survey-report/"
    report = client_as(world, "provider_manager").get(url, {"period_start": period.start}).json()
    assert report["client"] == {
        "published": False,
        "respondents": None,
        "statements": [],
        "rnps": None,
        "texts": {},
        "mirror": [],
    }


@pytest.mark.parametrize("name", ["engagement-detail", "pulse-survey", "portfolio"])
@pytest.mark.parametrize("persona", ["client_viewer", "provider_manager", "client_admin"])
def test_pages_show_nobody_elses_survey_answers(world, name, persona):
    url = reverse(name, kwargs={} if name == "portfolio" else {"pk": world["engagement"].pk})
    response = client_as(world, persona, Client).get(url)
    assert response.status_code == 200
    assert [
        r for r in _pulse_responses_in(response.context) if r.respondent != world[persona]
    ] == []


def test_the_admin_has_no_page_for_survey_answers(world, admin_client):
    from django.contrib import admin

    from feedback.models import PulseResponse

    assert PulseResponse not in admin.site._registry
    for model_admin in admin.site._registry.values():
        inlines = [inline.model for inline in getattr(model_admin, "inlines", [])]
        assert PulseResponse not in inlines
    assert b"pulse" not in admin_client.get("/admin/").content.lower()
