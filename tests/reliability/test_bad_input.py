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

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse

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
# The persona that may write everywhere the catalogue writes.
WRITER = "client_admin"


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
    ]
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
    client = client_as(world, WRITER)
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
    if about in ("engagement", "goal")
    and rows["POST"].split()[3] == "302"
    and name not in ("engagement-recompute",)
)


@pytest.mark.parametrize("name", FORM_PAGES)
def test_dashboard_form_refuses_bad_input_and_changes_nothing(world, row_counts, name):
    about = PAGE_TABLE[name][0]
    url = reverse(name, kwargs=PAGE_KWARGS[about](world))
    client = client_as(world, WRITER, Client)
    valid = page_bodies(world).get(name)
    if not valid or name == "measurement-upload":
        pytest.skip("no typed fields (or an upload, catalogued below)")
    problems = []
    for field, value in valid.items():
        if field in ("kind", "owner_side", "side", "role", "severity", "responsible_side"):
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
        for answer in ("0", "6", "3.5"):
            problems += _check(
                world,
                row_counts,
                lambda answer=answer: client.post(url, {**valid, "hear_often": answer}),
                f"Likert {answer}",
                "hear_often",
            )
    problems += _check(world, row_counts, lambda: client.post(url, {}), "empty form", "")
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
    }
    problems = []
    for what, content in files.items():
        problems += _check(world, row_counts, lambda c=content: _upload(world, c), what, "")
    assert problems == []
