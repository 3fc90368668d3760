"""Bad input catalogue: every write endpoint, API and dashboard form, gets bad values.

Each write starts from the valid body of the tenancy matrix and spoils one thing
at a time: a field of the wrong type, missing fields, NaN and Infinity, huge
numbers, 1 MB strings, dates out of order or in the year 9999, Likert answers
outside 1-5, an SLA of another engagement, unknown fields; plus oversized bulk
batches and malformed CSV. Every one must answer a 4xx naming the problem and
change nothing (all of Accord's tables, audit tables included, keep their row counts).
"""

import json
import re
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from relationships.scoring_config import DIMENSIONS
from tests.reliability.conftest import PULSE_ANSWERS, TALLY
from tests.reliability.tenancy import (
    OPERATIONS,
    PAGE_KWARGS,
    PAGE_TABLE,
    api_bodies,
    api_url,
    client_as,
    page_bodies,
)

pytestmark = pytest.mark.django_db

MEGABYTE = "x" * (1024 * 1024)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
# The persona that may write everywhere the catalogue writes, but where only one side may.
WRITER = "client_admin"
# Disputing a value is the SLA's owner's (the provider's; the client recorded the value).
WRITERS = {
    "POST /api/v1/measurement-disputes/": "provider_manager",
    "measurement-dispute": "provider_manager",
    "portfolio-packs": "client_admin",
    # Pages about other objects than those FORM_PAGES lists, or for admins only.
    "key-contact-hours": WRITER,
    "engagement-integrations": WRITER,
    # A member's own settings (notices): any member.
    "notice-profile": "client_admin",
    "notice-profile-engagement": "client_admin",
}


SURVEY_V2_BAD_ANSWERS = (
    ("mirror_hear_often", 0),
    ("mirror_trust_overall", 6),
    ("mirror_same_goals", 2.5),
    ("nps", -1),
    ("nps", 11),
    ("nps", 7.5),
    ("start_doing", "x" * 2001),
)


def spoiled_values(name: str, value) -> list[tuple[str, object]]:
    """Bad values for one field, chosen by the kind of its valid value."""
    bad = [("an object", {"nested": 1}), ("a list of objects", [{"nested": 1}])]
    if isinstance(value, bool):
        return [*bad, ("a word", "perhaps")]
    if isinstance(value, str) and DATE.match(value):
        return [*bad, ("not a date", "31/02/2026"), ("the year 99999", "99999-01-01")]
    if isinstance(value, str) and MOMENT.match(value):
        return [*bad, ("not a time", "yesterday"), ("month 13", "2026-13-01T10:00:00Z")]
    if isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"-?[\d.]+", value)):
        return [
            *bad,
            ("NaN", "NaN"),
            ("Infinity", "Infinity"),
            ("-Infinity", "-Infinity"),
            ("1e300", 1e300),
            ("10**40", 10**40),
            ("not a number", "twelve"),
        ]
    if isinstance(value, str):
        return [*bad, ("a 1 MB string", MEGABYTE)]
    if isinstance(value, list):
        return [("an object", {"nested": 1}), ("a list of words", ["x"])]
    return bad


FAR_FUTURE_DATES = {
    # Dates a person records about what happened: never in the year 9999.
    "POST /api/v1/checkins/": ({"occurred_at": "9999-12-31T10:00:00Z"}, "occurred_at"),
    "POST /api/v1/issues/": ({"detected_at": "9999-12-31T10:00:00Z"}, "detected_at"),
    "POST /api/v1/goal-progress/": ({"date": "9999-12-31"}, "date"),
    "POST /api/v1/measurements/": (
        {"period_start": "9999-12-01", "period_end": "9999-12-31"},
        "period_",
    ),
}

OUT_OF_ORDER = {
    "PATCH /api/v1/contacts/{id}/": {"work_starts": "18:00", "work_ends": "10:00"},
    "POST /api/v1/goals/": {"start_date": "2026-12-31", "due_date": "2026-01-01"},
    "POST /api/v1/measurements/": {"period_start": "2026-04-30", "period_end": "2026-04-01"},
    "POST /api/v1/engagements/": {"start_date": "2026-04-01", "end_date": "2026-03-01"},
    "POST /api/v1/issues/": {
        "detected_at": "2026-02-01T09:00:00Z",
        "raised_at": "2026-01-01T09:00:00Z",
    },
}


def api_cases(world) -> list[tuple[str, str, dict, str]]:
    """(operation, what, body, the field the answer must name) for every write with a body."""
    cases = []
    for operation, body in api_bodies(world).items():
        if not body or operation.endswith("/bulk/"):
            continue
        cases.append((operation, "unknown field", {**body, "surprise": 1}, "surprise"))
        required = next(iter(body))
        # Completing and resolving take an optional moment: an empty body means now; a
        # recompute an optional period: the period in progress.
        optional = ("/complete/", "/resolve/", "/recompute/")
        if operation.startswith("POST") and not operation.endswith(optional):
            cases.append((operation, "missing fields", {}, required))
        for name, value in body.items():
            for what, bad in spoiled_values(name, value):
                cases.append((operation, f"{name}: {what}", {**body, name: bad}, name))
        if operation in FAR_FUTURE_DATES:
            far, name = FAR_FUTURE_DATES[operation]
            cases.append((operation, "a date in 9999", {**body, **far}, name))
        if operation in OUT_OF_ORDER:
            cases.append((operation, "dates out of order", {**body, **OUT_OF_ORDER[operation]}, ""))
    pulse = api_bodies(world)["POST /api/v1/pulse-responses/"]
    for answer in (0, 6, -1, 3.5):
        for field in PULSE_ANSWERS[:2]:
            spoiled = {**pulse, field: answer}
            cases.append(("POST /api/v1/pulse-responses/", f"Likert {answer}", spoiled, field))
    # Survey v2's optional answers: a mirror 1-5, the recommendation 0-10, texts to 2,000.
    for field, answer in SURVEY_V2_BAD_ANSWERS:
        spoiled = {**pulse, field: answer}
        cases.append(("POST /api/v1/pulse-responses/", f"{field} {answer!s:.12}", spoiled, field))
    foreign_sla = world["foreign"]["sla"].pk
    measurement = api_bodies(world)["POST /api/v1/measurements/"]
    cases.append(
        (
            "POST /api/v1/measurements/",
            "SLA of another engagement",
            {**measurement, "sla": foreign_sla},
            "sla",
        )
    )
    return cases


def csv_lines_of_issue_16(sla: int) -> list[tuple[str, str]]:
    """CSV lines with one column in other digits or out of the range of dates."""
    valid = {
        "sla": str(sla),
        "period_start": "2026-04-01",
        "period_end": "2026-04-30",
        "value": "99",
    }
    lines = []
    for column, value in valid.items():
        kind = "number" if column in ("sla", "value") else "date"
        spoilt = other_digits(kind, value)
        if kind == "date":
            spoilt += [(date, date) for date in EXTREME_DATES]
        for what, bad in spoilt:
            row = {**valid, column: bad}
            if column == "period_start" and bad > valid["period_end"]:
                row["period_end"] = bad  # only the range is wrong, not the order
            lines.append((f"{column}: {what}", ",".join(row.values()) + "\n"))
    return lines


def bulk_cases(world) -> list[tuple[str, str, bytes, str, str]]:
    """(what, content type, body, the text the answer must contain) for the bulk endpoint."""
    row = api_bodies(world)["POST /api/v1/measurements/bulk/"]["rows"][0]
    sla = world["slas"].pk
    header = "sla,period_start,period_end,value\n"
    good_line = f"{sla},2026-04-01,2026-04-30,99\n"
    cases = [
        ("10,001 rows", "application/json", {"rows": [row] * 10_001}, "rows"),
        ("no rows", "application/json", {"rows": []}, "rows"),
        ("unknown top-level field", "application/json", {"rows": [row], "extra": 1}, "extra"),
        ("unknown row field", "application/json", {"rows": [{**row, "colour": "red"}]}, "colour"),
        (
            "SLA of another engagement",
            "application/json",
            {"rows": [{**row, "sla": world["foreign"]["sla"].pk}]},
            "rows[0].sla",
        ),
        ("a string body", "application/json", "rows", "rows"),
        ("invalid JSON", "application/json", b'{"rows": [', "JSON"),
        (
            "NaN value",
            "application/json",
            b'{"rows": [{"sla": %d, "period_start": "2026-04-01", '
            b'"period_end": "2026-04-30", "value": NaN}]}' % sla,
            "",
        ),
        ("too big", "application/json", b" " * (5 * 1024 * 1024), ""),
        ("CSV wrong header", "text/csv", b"service,start,end,amount\n1,2,3,4\n", "header"),
        ("CSV wrong column count", "text/csv", (header + f"{sla},2026-04-01\n").encode(), "fields"),
        ("CSV not UTF-8", "text/csv", (header + good_line).encode() + b"\xff\xfe\xfa", "UTF-8"),
        ("CSV binary", "text/csv", bytes(range(256)) * 64, ""),
        ("CSV 10,001 rows", "text/csv", (header + good_line * 10_001).encode(), "rows"),
        ("CSV too big", "text/csv", (header + good_line * 200_000).encode(), ""),
        ("CSV header only", "text/csv", header.encode(), "rows"),
        (
            "CSV with a quote left open",
            "text/csv",
            (header + good_line + f'{sla},2026-05-01,2026-05-31,"98\n').encode(),
            "quote",
        ),
    ]
    for what, line in csv_lines_of_issue_16(sla):
        cases.append((f"CSV {what}", "text/csv", (header + line).encode(), "rows[0]."))
    for name, value in row.items():
        for what, bad in spoiled_values(name, value):
            cases.append(
                (
                    f"row {name}: {what}",
                    "application/json",
                    {"rows": [{**row, name: bad}]},
                    f"rows[0].{name}",
                )
            )
    return cases


def _post_raw(client, url, body, content_type):
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    return client.generic("POST", url, body, content_type=content_type)


def _check(world, row_counts, send, what, must_name) -> list:
    """Send in a rolled-back transaction; the problems found, if any."""
    before = row_counts()
    with transaction.atomic():
        response = send()
        after = row_counts()
        transaction.set_rollback(True)
    TALLY["bad_inputs"] += 1
    problems = []
    if not 400 <= response.status_code < 500 or response.status_code in (401, 403):
        problems.append((what, response.status_code, response.content[:200]))
    elif must_name and must_name.encode() not in response.content:
        problems.append((what, "does not name", must_name, response.content[:200]))
    if after != before:
        changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
        problems.append((what, "changed", changed))
    return problems


WRITE_OPERATIONS = sorted(
    {f"{m} {p}" for m, p in OPERATIONS if m in ("POST", "PUT", "PATCH")}
    - {"POST /api/v1/measurements/bulk/"}
)


@pytest.mark.parametrize("operation", WRITE_OPERATIONS)
def test_api_write_refuses_bad_input_and_changes_nothing(world, row_counts, operation):
    cases = [case for case in api_cases(world) if case[0] == operation]
    if not cases:
        pytest.skip(f"{operation} takes no input (an action on the record in its URL)")
    method, path = operation.split(" ", 1)
    url = api_url(world, path)
    client = client_as(world, WRITERS.get(operation, WRITER))
    problems = []
    for _operation, what, body, must_name in cases:

        def send(body=body):
            return client.generic(
                method, url, json.dumps(body).encode(), content_type="application/json"
            )

        problems += _check(world, row_counts, send, what, must_name)
    assert problems == []


def test_bulk_measurements_refuse_bad_batches_and_change_nothing(world, row_counts):
    client = client_as(world, WRITER)
    problems = []
    for what, content_type, body, must_name in bulk_cases(world):
        problems += _check(
            world,
            row_counts,
            lambda body=body, content_type=content_type: _post_raw(
                client, "/api/v1/measurements/bulk/", body, content_type
            ),
            what,
            must_name,
        )
    assert problems == []


# ------------------------------------------------------------------ dashboard forms
def form_values(name: str, value) -> list[tuple[str, object]]:
    text = str(value)
    if DATE.match(text):
        return [("not a date", "31/02/2026"), ("year 99999", "99999-01-01"), ("empty", "")]
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text):
        return [("not a time", "yesterday"), ("empty", "")]
    if re.fullmatch(r"-?[\d.]+", text):
        return [
            ("NaN", "NaN"),
            ("Infinity", "Infinity"),
            ("1e300", "1e300"),
            ("10**40", str(10**40)),
            ("not a number", "twelve"),
        ]
    return [("a 1 MB string", MEGABYTE)]


FORM_PAGES = sorted(
    name
    for name, (about, rows) in PAGE_TABLE.items()
    if (
        about in ("engagement", "goal", "engagement_goal", "sla", "change_request")
        and rows["POST"].split()[3] == "302"
        and name not in ("engagement-recompute",)
    )
    or name in WRITERS
)


@pytest.mark.parametrize("name", FORM_PAGES)
def test_dashboard_form_refuses_bad_input_and_changes_nothing(world, row_counts, name):
    about = PAGE_TABLE[name][0]
    url = reverse(name, kwargs=PAGE_KWARGS[about](world))
    client = client_as(world, WRITERS.get(name, WRITER), Client)
    valid = page_bodies(world).get(name)
    if not valid or name == "measurement-upload":
        pytest.skip("no typed fields (or an upload, catalogued below)")
    problems = []
    for field, value in valid.items():
        choices = ("kind", "owner_side", "side", "role", "severity", "responsible_side", "tier")
        if field in (*choices, "direction", "scorecard_period"):
            candidates = [("not a choice", "nonsense")]
        else:
            candidates = form_values(field, value)
        for what, bad in candidates:
            problems += _check(
                world,
                row_counts,
                lambda body={**valid, field: bad}: client.post(url, body),
                f"{field}: {what}",
                field,
            )
    if name == "pulse-survey":
        spoiled = [("hear_often", answer) for answer in ("0", "6", "3.5")]
        spoiled += [(field, str(answer)) for field, answer in SURVEY_V2_BAD_ANSWERS]
        for field, answer in spoiled:
            problems += _check(
                world,
                row_counts,
                lambda field=field, answer=answer: client.post(url, {**valid, field: answer}),
                f"{field} {answer:.12}",
                field,
            )
    problems += _check(world, row_counts, lambda: client.post(url, {}), "empty form", "")
    assert problems == []


# Dashboard forms sent by GET (they show something and write nothing): page name → a valid
# query (or a function of the world giving it). Each field spoilt in turn must answer 400
# with the field's error and change nothing.
GET_FORMS = {
    "compare": lambda w: {"engagement": w["engagement"].pk},
    "what-if": {
        "healthy_at": 80,
        "watch_at": 55,
        "min_coverage": 0.4,
        **{f"weight_{name}": 10 for name in DIMENSIONS},
    },
}


@pytest.mark.parametrize("name", sorted(GET_FORMS))
def test_dashboard_get_form_refuses_bad_input_and_changes_nothing(world, row_counts, name):
    url = reverse(name, kwargs=PAGE_KWARGS[PAGE_TABLE[name][0]](world))
    client = client_as(world, WRITER, Client)
    valid = GET_FORMS[name](world) if callable(GET_FORMS[name]) else GET_FORMS[name]
    assert client.get(url, valid).status_code == 200
    problems = []
    for field, value in valid.items():
        bad_values = [*form_values(field, value), *other_digits("number", value), ("empty", "")]
        for what, bad in bad_values:
            problems += _check(
                world,
                row_counts,
                lambda body={**valid, field: bad}: client.get(url, body),
                f"{field}: {what}",
                f'id="id_{field}_error"',
            )
    if name == "what-if":
        problems += _check(
            world,
            row_counts,
            lambda: client.get(url, {**valid, "watch_at": 90}),
            "watch above healthy",
            'id="id_watch_at_error"',
        )
    assert problems == []


def _upload(world, content: bytes):
    url = reverse("measurement-upload", kwargs={"pk": world["engagement"].pk})
    client = client_as(world, WRITER, Client)
    upload = SimpleUploadedFile("values.csv", content, content_type="text/csv")
    return client.post(url, {"file": upload})


def test_dashboard_upload_refuses_bad_files_and_changes_nothing(world, row_counts):
    sla = world["slas"].pk
    header = b"sla,period_start,period_end,value\n"
    line = f"{sla},2026-04-01,2026-04-30,99\n".encode()
    files = {
        "wrong header": b"service,start,end,amount\n1,2,3,4\n",
        "wrong column count": header + f"{sla},2026-04-01\n".encode(),
        "not UTF-8": header + line + b"\xff\xfe\xfa",
        "binary": bytes(range(256)) * 64,
        "10,001 rows": header + line * 10_001,
        "too big": header + line * 200_000,
        "empty": b"",
        "SLA of another engagement": header
        + f"{world['foreign']['sla'].pk},2026-04-01,2026-04-30,99\n".encode(),
        "NaN value": header + f"{sla},2026-04-01,2026-04-30,NaN\n".encode(),
        "dates out of order": header + f"{sla},2026-04-30,2026-04-01,99\n".encode(),
        "year 9999": header + f"{sla},9999-04-01,9999-04-30,99\n".encode(),
        # The quote swallowed the rest of the file as one value, which was then stored.
        "a quote left open": header + line + f'{sla},2026-05-01,2026-05-31,"98\n'.encode(),
        **{what: header + text.encode() for what, text in csv_lines_of_issue_16(sla)},
    }
    problems = []
    for what, content in files.items():
        problems += _check(world, row_counts, lambda c=content: _upload(world, c), what, "")
    assert problems == []


# ------------------------------------------------------------------ the proposal's counterpart
def counterpart_cases(world) -> list[tuple[str, dict, str]]:
    """(what, the counterpart part of a proposal, the field the answer must name): a
    counterpart by id outside the addressable set, or a new one with a bad name or e-mail."""
    taken = world["engagement"].provider.name
    new = {"counterpart_name": "Tailspin Toys", "counterpart_admin_email": "boss@tailspin.test"}
    cases = [
        ("an organisation the proposer does not work with", {"counterpart": "foreign"}, ""),
        ("an id that does not exist", {"counterpart": 10**6}, "counterpart"),
        ("an id as a word", {"counterpart": "Contoso Services"}, "counterpart"),
        ("no counterpart at all", {}, "counterpart"),
        ("an id and a new name", {"counterpart": "own", **new}, "counterpart_name"),
    ]
    for what, name in [
        ("a taken name in capitals", taken.upper()),
        ("a taken name with a zero-width joiner", taken.replace(" ", " \u200d")),
        ("a taken name in fullwidth letters", taken.translate(FULLWIDTH)),
        ("a taken name with double spaces", taken.replace(" ", "  ")),
        ("a right-to-left override", "Tailspin \u202eToys"),
        ("mixed alphabets in a word", "T\u0430ilspin Toys"),
        ("only invisible characters", "\u200b\u200d\u2060"),
        ("a control character", "Tailspin\x07Toys"),
        ("a NUL character", "Tailspin\x00Toys"),
        ("a 1 MB string", MEGABYTE),
    ]:
        cases.append(
            (f"counterpart_name: {what}", {**new, "counterpart_name": name}, "counterpart_name")
        )
    for what, email in [
        ("not an e-mail", "tailspin"),
        ("a 1 MB e-mail", MEGABYTE + "@tailspin.test"),
        ("missing", ""),
    ]:
        cases.append(
            (
                f"counterpart_admin_email: {what}",
                {**new, "counterpart_admin_email": email},
                "counterpart_admin_email",
            )
        )
    return cases


FULLWIDTH = {code: code + 0xFEE0 for code in range(0x21, 0x7F)}


def _with_counterpart(world, body: dict, counterpart: dict, id_field: str) -> dict:
    body = {key: value for key, value in body.items() if key != id_field}
    ids = {"foreign": world["foreign"]["organization"].pk, "own": world["engagement"].provider.pk}
    return {**body, **{key: ids.get(value, value) for key, value in counterpart.items()}}


def test_api_proposal_refuses_bad_counterparts_and_changes_nothing(world, row_counts, mailoutbox):
    client = client_as(world, WRITER)
    valid = api_bodies(world)["POST /api/v1/engagements/"]
    problems = []
    for what, counterpart, must_name in counterpart_cases(world):
        body = _with_counterpart(world, valid, counterpart, "counterpart")
        problems += _check(
            world,
            row_counts,
            lambda body=body: client.generic(
                "POST", "/api/v1/engagements/", json.dumps(body).encode(), "application/json"
            ),
            what,
            must_name or "counterpart",
        )
    assert problems == [] and mailoutbox == []


def test_dashboard_proposal_refuses_bad_input_and_changes_nothing(world, row_counts, mailoutbox):
    client = client_as(world, WRITER, Client)
    url = reverse("engagement-propose")
    valid = page_bodies(world)["engagement-propose"]
    problems = []
    for what, counterpart, must_name in counterpart_cases(world):
        body = _with_counterpart(world, valid, counterpart, "counterpart")
        body = {key: value for key, value in body.items() if value is not None}
        problems += _check(
            world,
            row_counts,
            lambda body=body: client.post(url, body),
            what,
            must_name or "counterpart",
        )
    for field, value in valid.items():
        if field in ("own_side", "phase", "scorecard_period", "own_organization", "counterpart"):
            candidates = [("not a choice", "nonsense")]
        else:
            candidates = form_values(field, value)
        for what, bad in candidates:
            problems += _check(
                world,
                row_counts,
                lambda body={**valid, field: bad}: client.post(url, body),
                f"{field}: {what}",
                field,
            )
    assert problems == [] and mailoutbox == []


# ------------------------------------------------------------------ classes of issue 16
# Non-ASCII digits, extreme dates in time zones far from UTC and deep nesting, tried on
# every field of their kind. The API's fields and their kinds are read from the OpenAPI
# schema (drf-spectacular's rendering of the serializers), the dashboard's from the forms
# the pages render, so a field added later is tried too.
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH_DIGITS = {code: FULLWIDTH[code] for code in range(ord("0"), ord("9") + 1)}
# A zone 14 hours ahead of UTC and one 11 hours behind.
FAR_ZONES = ("Pacific/Kiritimati", "Pacific/Pago_Pago")
SAMPLE = {"number": "3", "date": "2026-04-01", "moment": "2026-02-02T10:00:00Z", "time": "10:00"}


def other_digits(kind: str, valid) -> list[tuple[str, str]]:
    """The valid value (or a sample of its kind) written with digits Python also reads."""
    text = str(valid) if valid is not None and not isinstance(valid, bool) else SAMPLE[kind]
    spelled = [
        ("Arabic-Indic digits", text.translate(ARABIC_INDIC)),
        ("full-width digits", text.translate(FULLWIDTH_DIGITS)),
    ]
    return (
        [("superscript two", "²"), ("superscript three", "³"), *spelled]
        if kind == "number"
        else spelled
    )


def extreme_times(zone: str) -> list[str]:
    """Times whose date is out of range in UTC, in the zone, or beyond datetime's years.

    The API reads a time without an offset as UTC, as DRF does.
    """
    at_the_edges = [
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59",
        "9999-12-31T23:59:59-01:00",
        "1999-12-31T23:00:00Z",
        "2100-01-01T01:00:00Z",
    ]
    # In range in UTC, not in the zone.
    if zone == "Pacific/Kiritimati":
        return [*at_the_edges, "2099-12-31T12:00:00Z"]
    return [*at_the_edges, "2000-01-01T05:00:00Z", "2000-01-01T10:59:00+00:00"]


EXTREME_DATES = ["0001-01-01", "9999-12-31", "1999-12-31", "2100-01-01"]

_SCHEMA = SchemaGenerator().get_schema(request=None, public=True)


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = _SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _kind(schema: dict) -> str | None:
    schema = _resolve(schema)
    if schema.get("type") in ("integer", "number") or schema.get("format") == "decimal":
        return "number"
    return {"date": "date", "date-time": "moment", "time": "time"}.get(schema.get("format"))


def typed_fields(operation: str) -> list[tuple[str, str | None, str, str]]:
    """(field, item field, shape, kind) of every typed input of the operation's JSON body.

    shape: "value"; "list" (a list of such values); "map" (an object of such values);
    "rows" (a list of objects, whose `item field` is typed).
    """
    method, path = operation.split(" ", 1)
    body = _SCHEMA["paths"][path][method.lower()].get("requestBody")
    if body is None:
        return []
    found = []
    for name, schema in _resolve(body["content"]["application/json"]["schema"])[
        "properties"
    ].items():
        schema = _resolve(schema)
        if schema.get("readOnly"):
            continue
        if kind := _kind(schema):
            found.append((name, None, "value", kind))
        elif schema.get("type") == "array" and (kind := _kind(schema["items"])):
            found.append((name, None, "list", kind))
        elif schema.get("type") == "object" and (
            kind := _kind(schema.get("additionalProperties") or {})
        ):
            found.append((name, None, "map", kind))
        elif schema.get("type") == "array" and "properties" in _resolve(schema["items"]):
            for item, item_schema in _resolve(schema["items"])["properties"].items():
                if kind := _kind(item_schema):
                    found.append((name, item, "rows", kind))
    return found


def _valid_items(world) -> dict:
    """A valid object for each list-of-objects field (its item fields get spoilt)."""
    item = api_bodies(world)["POST /api/v1/action-items/"]
    return {
        "action_items": {key: item[key] for key in ("owner_side", "description", "due_date")},
        "rows": api_bodies(world)["POST /api/v1/measurements/bulk/"]["rows"][0],
    }


# A valid key for each object-of-numbers field.
MAP_KEYS = {"weights": "reliance", "band_limits": "healthy_at"}


def _place(body: dict, field: str, item: str | None, shape: str, bad, items: dict) -> dict:
    """The valid body with one typed input replaced by `bad`."""
    value = {
        "value": bad,
        "list": [bad],
        "map": {MAP_KEYS.get(field, field): bad},
        "rows": [{**items.get(field, {}), item: bad}],
    }[shape]
    return {**body, field: value}


def typed_cases(world, operation: str, values) -> list[tuple[str, dict, str]]:
    """(what, body, the field to name) for each typed input of the operation and each bad
    value `values(kind, valid value)` gives."""
    body = dict(api_bodies(world).get(operation) or {})
    items = _valid_items(world)
    cases = []
    for field, item, shape, kind in typed_fields(operation):
        valid = (items.get(field, {}) if shape == "rows" else body).get(item or field)
        for what, bad in values(kind, valid):
            name = f"{field}[0].{item}" if shape == "rows" else field
            cases.append((f"{name}: {what}", _place(body, field, item, shape, bad, items), field))
    return cases


TYPED_OPERATIONS = sorted(
    f"{method} {path}"
    for method, path in OPERATIONS
    if method in ("POST", "PUT", "PATCH") and typed_fields(f"{method} {path}")
)


def _send_json(client, operation: str, url: str, body):
    method = operation.split(" ", 1)[0]
    return client.generic(method, url, json.dumps(body).encode(), content_type="application/json")


@pytest.mark.parametrize("operation", TYPED_OPERATIONS)
def test_api_refuses_non_ascii_digits_in_every_typed_field(world, row_counts, operation):
    """Ids, numbers, dates and times in digits other than 0-9: int("٣") is 3 and int("²")
    raises, so without the rule "٣" named record 3 and "²" was a 500. Sent as JSON (the
    API reads no other body: test_query_parameters.py)."""
    url = api_url(world, operation.split(" ", 1)[1])
    client = client_as(world, WRITER)
    problems = []
    for what, body, field in typed_cases(world, operation, other_digits):
        problems += _check(
            world, row_counts, lambda b=body: _send_json(client, operation, url, b), what, field
        )
    assert problems == []


DATED_OPERATIONS = [
    operation
    for operation in TYPED_OPERATIONS
    if any(kind in ("date", "moment") for *_, kind in typed_fields(operation))
]


@pytest.mark.parametrize("zone", FAR_ZONES)
@pytest.mark.parametrize("operation", DATED_OPERATIONS)
def test_api_refuses_dates_out_of_range_in_far_time_zones(world, row_counts, operation, zone):
    """One range of dates (core.inputs) for every date and time field; a time is checked in
    UTC and in the engagement's zone. Near the years 1 and 9999 the conversion overflowed
    (a 500); dates out of the range were stored."""
    engagement = world["engagement"]
    engagement.time_zone = zone
    engagement.save(update_fields=["time_zone"])
    url = api_url(world, operation.split(" ", 1)[1])
    client = client_as(world, WRITER)

    def extremes(kind, valid):
        values = {"date": EXTREME_DATES, "moment": extreme_times(zone)}.get(kind, [])
        return [(value, value) for value in values]

    problems = []
    for what, body, field in typed_cases(world, operation, extremes):
        problems += _check(
            world, row_counts, lambda b=body: _send_json(client, operation, url, b), what, field
        )
    assert problems == []


def with_deep_value(body: dict, field: str, depth: int) -> bytes:
    """The body as JSON with the field's value nested `depth` lists deep (written as text:
    json.dumps itself recurses)."""
    return json.dumps({**body, field: "DEEP"}).replace('"DEEP"', "[" * depth + "]" * depth).encode()


BODY_OPERATIONS = sorted(
    f"{method} {path}"
    for method, path in OPERATIONS
    if method in ("POST", "PUT", "PATCH")
    and "requestBody" in _SCHEMA["paths"][path][method.lower()]
)


@pytest.mark.parametrize("operation", BODY_OPERATIONS)
def test_api_refuses_deep_nesting_in_every_body_and_field(world, row_counts, operation):
    """JSON 10,000 levels deep was a RecursionError (a 500) outside the bulk endpoint; now
    every JSON body is read by one parser with one depth limit. A value 1,000 deep
    (which JSON parsers take) in any field is refused too: code that walks it recursing
    (repr, json.dumps, copy) would fail the same way."""
    url = api_url(world, operation.split(" ", 1)[1])
    client = client_as(world, WRITER)
    deep = 10_000
    bodies = [
        ("10,000 levels of lists", b"[" * deep + b"]" * deep),
        ("10,000 levels of objects", b'{"a":' * deep + b"1" + b"}" * deep),
    ]
    valid = api_bodies(world).get(operation) or {}
    fields = {*valid, *(field for field, *_ in typed_fields(operation))}
    bodies += [
        (f"{field}: 1,000 levels", with_deep_value(valid, field, 1000)) for field in sorted(fields)
    ]
    problems = []
    for what, body in bodies:
        problems += _check(
            world,
            row_counts,
            lambda b=body: _send_json_bytes(client, operation, url, b),
            what,
            "nested",
        )
    assert problems == []


def _send_json_bytes(client, operation: str, url: str, body: bytes):
    return client.generic(operation.split(" ", 1)[0], url, body, content_type="application/json")


@pytest.mark.parametrize(
    "token",
    ["accord_\xe9\xe9", "\xe9\xe9", "accord_\xff\xfe\xfd", "accord_\xb2", "accord_\x00", "\x80"],
)
def test_every_api_operation_answers_401_to_a_token_of_invalid_bytes(world, row_counts, token):
    """The header's bytes (latin-1 on the wire) were decoded as UTF-8: a 500 on every URL."""
    client = APIClient()
    problems = []
    for method, path in OPERATIONS:
        operation = f"{method} {path}"
        with transaction.atomic():
            before = row_counts()
            response = client.generic(
                method,
                api_url(world, path),
                json.dumps(api_bodies(world).get(operation) or {}).encode(),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Token {token}",
            )
            changed = row_counts() != before
            transaction.set_rollback(True)
        TALLY["bad_inputs"] += 1
        if response.status_code != 401 or changed:
            problems.append((operation, response.status_code, changed, response.content[:100]))
    assert problems == []


BAD_BYTES = "\xe9\xe9\xff\xb2\x80"
# Headers Django, DRF and Accord read, each with bytes that are not UTF-8 (the server
# hands them on as latin-1 text). Content-Length is left to the server (gunicorn refuses
# one that is not a number with a 400 before Django sees it).
BAD_HEADERS = {
    "HTTP_AUTHORIZATION": f"Basic {BAD_BYTES}",
    "HTTP_ACCEPT": f"{BAD_BYTES}/{BAD_BYTES}",
    "HTTP_ACCEPT_LANGUAGE": BAD_BYTES,
    "HTTP_COOKIE": f"sessionid={BAD_BYTES}; csrftoken={BAD_BYTES}",
    "HTTP_X_CSRFTOKEN": BAD_BYTES,
    "HTTP_REFERER": f"https://{BAD_BYTES}/",
    "HTTP_ORIGIN": f"https://{BAD_BYTES}",
    "HTTP_HOST": BAD_BYTES,
    "HTTP_X_FORWARDED_FOR": BAD_BYTES,
    "HTTP_X_FORWARDED_PROTO": BAD_BYTES,
    "HTTP_IF_NONE_MATCH": BAD_BYTES,
    "HTTP_IF_MODIFIED_SINCE": BAD_BYTES,
    "HTTP_USER_AGENT": BAD_BYTES,
    "CONTENT_TYPE": f"application/json; charset={BAD_BYTES}",
}


@pytest.mark.parametrize("header", sorted(BAD_HEADERS))
def test_no_request_fails_on_a_header_of_invalid_bytes(world, header):
    """Every API operation and every page, signed in, with a valid body and one header of
    bytes that are not UTF-8: an answer, never a 500."""
    api, pages = client_as(world, WRITER), client_as(world, WRITER, Client)
    requests = [
        (
            api,
            method,
            api_url(world, path),
            json.dumps(api_bodies(world).get(f"{method} {path}") or {}),
            "application/json",
        )
        for method, path in OPERATIONS
    ]
    for name, (about, rows) in PAGE_TABLE.items():
        url = reverse(name, kwargs=PAGE_KWARGS[about](world))
        body = urlencode(
            {
                k: v
                for k, v in (page_bodies(world).get(name) or {}).items()
                if isinstance(v, str | int)
            }
        )
        requests += [
            (pages, method, url, body, "application/x-www-form-urlencoded") for method in rows
        ]
    failures = []
    for client, method, url, body, content_type in requests:
        extra = {header: BAD_HEADERS[header]}
        if header == "CONTENT_TYPE":
            content_type, extra = BAD_HEADERS[header], {}
        with transaction.atomic():
            response = client.generic(
                method, url, body.encode(), content_type=content_type, **extra
            )
            transaction.set_rollback(True)
        TALLY["bad_inputs"] += 1
        if response.status_code >= 500:
            failures.append((method, url, response.status_code))
    assert failures == []


class _FormFields(HTMLParser):
    """The fields of the page's POST forms: {name: (input type or "select", values)}."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, tuple[str, list[str]]] = {}
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name:
            kind, values = self.fields.get(name, (attrs.get("type", "text"), []))
            self.fields[name] = (kind, [*values, attrs.get("value") or ""])
        elif tag == "select" and name:
            self._select = name
            self.fields[name] = ("select", [])
        elif tag == "option" and self._select:
            self.fields[self._select][1].append(attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def page_fields(client, url: str) -> dict[str, tuple[str, list[str]]]:
    parser = _FormFields()
    parser.feed(client.get(url).content.decode())
    return parser.fields


def form_kind(kind: str, values: list[str]) -> str | None:
    """The kind of a rendered field: a number, an id (a choice among records), a date or
    a time; None for text and choices of words."""
    if kind == "number":
        return "number"
    if kind == "date":
        return "date"
    if kind == "datetime-local":
        return "moment"
    if kind == "time":
        return "time"
    choices = [value for value in values if value]
    choosing = ("select", "radio", "checkbox")
    if kind in choosing and choices and all(value.isdigit() for value in choices):
        return "number"
    return None


# Pages with a form that records something, as the writer sees them (GET 200).
DASHBOARD_FORMS = sorted(
    name
    for name, (about, rows) in PAGE_TABLE.items()
    if rows["GET"].split()[-1] == "200"
    and rows["POST"].split()[-1] in ("302", "200")
    and about not in ("reset",)
)
# A follow-up row is validated once any of its fields is filled: its other fields get
# these valid values, so the spoilt one is the row's only fault.
FOLLOW_UP_ROW = re.compile(r"^(?P<prefix>action_items-\d+-)(?P<field>\w+)$")


def dashboard_cases(world, name: str, url: str, client, values):
    """(what, posted data, the id of the field's error) for each typed field of the page's
    form and each bad value `values(kind)` gives."""
    fields = page_fields(client, url)
    valid = {
        key: value
        for key, value in (page_bodies(world).get(name) or {}).items()
        if not hasattr(value, "read")
    }
    hidden = {key: values_[0] for key, (kind, values_) in fields.items() if kind == "hidden"}
    hidden.pop("csrfmiddlewaretoken", None)
    row = page_bodies(world)["action-item-create"]
    cases = []
    for field, (kind, choices) in fields.items():
        kind = form_kind(kind, choices)
        if kind is None:
            continue
        base = {**hidden, **valid}
        if match := FOLLOW_UP_ROW.match(field):
            base |= {f"{match['prefix']}{key}": value for key, value in row.items()}
        for what, bad in values(kind):
            cases.append((f"{field}: {what}", {**base, field: bad}, f'id="id_{field}_error"'))
    return cases


def _dashboard_check(world, row_counts, name: str, values) -> list:
    about = PAGE_TABLE[name][0]
    url = reverse(name, kwargs=PAGE_KWARGS[about](world))
    client = client_as(world, WRITER, Client)
    cases = dashboard_cases(world, name, url, client, values)
    if not cases:
        pytest.skip("no field of these kinds")
    problems = []
    for what, data, error_id in cases:
        problems += _check(world, row_counts, lambda d=data: client.post(url, d), what, error_id)
    return problems


@pytest.mark.parametrize("name", DASHBOARD_FORMS)
def test_dashboard_forms_refuse_non_ascii_digits_in_every_typed_field(world, row_counts, name):
    """The same rule as the API's: "٣" chose record 3 and counted as 3."""

    def values(kind):
        # A date-time picker sends "2026-02-02T10:00".
        return [(what, text.removesuffix(":00Z")) for what, text in other_digits(kind, None)]

    assert _dashboard_check(world, row_counts, name, values) == []


@pytest.mark.parametrize("zone", FAR_ZONES)
@pytest.mark.parametrize("name", DASHBOARD_FORMS)
def test_dashboard_forms_refuse_dates_out_of_range_in_far_time_zones(world, row_counts, name, zone):
    """The API's range, in the engagement's time zone, where the dashboard reads times:
    a check-in or issue near the year 1 or 9999 was a 500, a measurement in 0001 stored."""
    engagement = world["engagement"]
    engagement.time_zone = zone
    engagement.save(update_fields=["time_zone"])
    # Typed in the zone's local time; each is out of range in the zone or in UTC.
    local_times = [
        "0001-01-01T00:00",
        "9999-12-31T23:59",
        "1999-12-31T23:00",
        "2100-01-01T00:30",
        "2000-01-01T05:00" if zone == "Pacific/Kiritimati" else "2099-12-31T20:00",
    ]

    def values(kind):
        return [
            (value, value) for value in {"date": EXTREME_DATES, "moment": local_times}.get(kind, [])
        ]

    assert _dashboard_check(world, row_counts, name, values) == []


QUERY_VALUES = ["²", "٣", "３", "9" * 30, "-1", "0001-01-01", "9999-12-31", "\x80\xff"]


def test_api_query_parameters_never_fail(world):
    """Every query parameter of every API read, with other digits, an id beyond any the
    database stores and extreme dates: an answer (a filter 200 or 400, a page past the
    last 404), never a 500 (an id of 30 digits overflowed SQLite's integer)."""
    engagement = world["engagement"]
    engagement.time_zone = FAR_ZONES[0]
    engagement.save(update_fields=["time_zone"])
    client = client_as(world, WRITER)
    failures = []
    for path, operations in _SCHEMA["paths"].items():
        read = operations.get("get")
        if read is None:
            continue
        url = api_url(world, path)
        for parameter in read.get("parameters", []):
            if parameter["in"] != "query":
                continue
            for value in QUERY_VALUES:
                response = client.get(url, {parameter["name"]: value})
                TALLY["bad_inputs"] += 1
                if response.status_code >= 500:
                    failures.append((path, parameter["name"], value, response.status_code))
    assert failures == []


def test_the_range_of_dates_is_the_same_in_the_api_and_the_dashboard(world, row_counts):
    """2000-01-01 to 2099-12-31, both days included, for a goal through the API and a key
    contact through the dashboard (the API took 1999 for goals; the dashboard took 0001)."""
    api, pages = client_as(world, WRITER), client_as(world, WRITER, Client)
    goal = api_bodies(world)["POST /api/v1/goals/"]
    contact = page_bodies(world)["key-contact-change"]
    contact_url = reverse("key-contact-change", kwargs={"pk": world["engagement"].pk})
    assert (
        api.post(
            "/api/v1/goals/",
            {**goal, "start_date": "2000-01-01", "due_date": "2099-12-31"},
            format="json",
        ).status_code
        == 202  # valid: asked for, the engagement being active (a change request)
    )
    assert pages.post(contact_url, {**contact, "start_date": "2000-01-01"}).status_code == 302
    problems = _check(
        world,
        row_counts,
        lambda: api.post("/api/v1/goals/", {**goal, "start_date": "1999-12-31"}, format="json"),
        "a goal from 1999-12-31",
        "2000-01-01 to 2099-12-31",
    )
    problems += _check(
        world,
        row_counts,
        lambda: api.post("/api/v1/goals/", {**goal, "due_date": "2100-01-01"}, format="json"),
        "a goal due 2100-01-01",
        "2000-01-01 to 2099-12-31",
    )
    problems += _check(
        world,
        row_counts,
        lambda: pages.post(contact_url, {**contact, "start_date": "1999-12-31"}),
        "a contact from 1999-12-31",
        "2000-01-01 to 2099-12-31",
    )
    assert problems == []


# ------------------------------------------------------------------ members and invitations
def test_members_forms_refuse_bad_input_and_change_nothing(world, row_counts, mailoutbox):
    """The members page's role form gets a bad role or none; removing the last admin,
    resending or revoking an invitation already revoked or accepted: a 400 naming the
    problem on the page, nothing changed (and no mail sent)."""
    from relationships.models import Membership

    client = client_as(world, WRITER, Client)
    viewer = world["memberships"]
    admin = Membership.objects.get(user=world["client_admin"])
    role_url = reverse("membership-role-change", kwargs={"pk": viewer.pk})
    problems = []
    for what, body in (
        ("not a choice", {"role": "nonsense"}),
        ("a 1 MB string", {"role": MEGABYTE}),
        ("empty form", {}),
    ):
        problems += _check(
            world, row_counts, lambda body=body: client.post(role_url, body), what, "Role"
        )
    last_admin = "at least one admin"
    for what, url, body in (
        ("the last admin a viewer", "membership-role-change", {"role": "viewer"}),
        ("the last admin removed", "membership-remove", {}),
    ):
        problems += _check(
            world,
            row_counts,
            lambda url=url, body=body: client.post(reverse(url, kwargs={"pk": admin.pk}), body),
            what,
            last_admin,
        )
    invitation, api = world["invitations"], client_as(world, WRITER)
    for state, fields in (
        ("revoked", {"revoked_at": "2026-02-01T00:00:00Z"}),
        ("accepted", {"accepted_at": "2026-02-01T00:00:00Z"}),
    ):
        type(invitation).objects.filter(pk=invitation.pk).update(**fields)
        for action in ("invitation-resend", "invitation-revoke"):
            url = reverse(action, kwargs={"pk": invitation.pk})
            problems += _check(
                world,
                row_counts,
                lambda url=url: client.post(url),
                f"{action} of an invitation {state}",
                state,
            )
        problems += _check(
            world,
            row_counts,
            lambda: api.post(f"/api/v1/invitations/{invitation.pk}/resend/", format="json"),
            f"API resend of an invitation {state}",
            state,
        )
        type(invitation).objects.filter(pk=invitation.pk).update(revoked_at=None, accepted_at=None)
    assert problems == []
    assert mailoutbox == []
