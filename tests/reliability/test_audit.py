"""Every API write leaves an audit entry naming its actor.

The writes are the tenancy matrix's: every POST, PUT, PATCH and DELETE of the
schema, sent by a persona the matrix expects to succeed. The audit entry is a
django-simple-history row whose history_user is that persona; for bulk
measurement writes an ImportBatch whose actor is that persona; for the records
that exist to say who did something (an alert's acknowledgement, a requested
scorecard run or portfolio pack, a change request asked or decided and its comments, a dispute
opened or resolved) the record itself, naming that persona.
"""

import pytest
from django.apps import apps

from packs.models import PortfolioPack
from relationships.models import (
    ChangeRequest,
    ChangeRequestComment,
    ImportBatch,
    MeasurementDispute,
)
from scorecards.models import Alert, ScorecardRun
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

WRITES = [f"{m} {p}" for m, p in OPERATIONS if m != "GET"]

# Writes deliberately outside the audit trail, and why.
UNAUDITED = {
    # Survey answers are anonymous: shown to nobody but the respondent, not even in
    # the audit trail (feedback.models.PulseResponse).
    "POST /api/v1/pulse-responses/",
    # Reads sent as POST (a body of weights or a target): they write nothing at all.
    "POST /api/v1/engagements/{id}/what-if/",
    "POST /api/v1/slas/{id}/target-backtest/",
    # A member's own notice settings and read marks (notices): about nobody else, and
    # each row already names the member it belongs to.
    "PATCH /api/v1/me/notice-preferences/",
    "POST /api/v1/me/notices/{id}/read/",
}


def audit_entries_by(user) -> int:
    entries = (
        ImportBatch.objects.filter(actor=user).count()
        + Alert.objects.filter(acknowledged_by=user).count()
        + ScorecardRun.objects.filter(requested_by=user).count()
        + PortfolioPack.objects.filter(requested_by=user).count()
        + ChangeRequest.objects.filter(requested_by=user).count()
        + ChangeRequest.objects.filter(decided_by=user).count()
        + ChangeRequestComment.objects.filter(author=user).count()
        + MeasurementDispute.objects.filter(disputed_by=user).count()
        + MeasurementDispute.objects.filter(resolved_by=user).count()
    )
    for model in apps.get_models():
        if model.__name__.startswith("Historical") and hasattr(model, "history_user"):
            entries += model.objects.filter(history_user=user).count()
    return entries


def succeeding_persona(operation: str) -> str:
    """A persona the matrix expects this write to succeed for, admins first."""
    statuses = expected_statuses(API_TABLE[operation], operation)
    for persona in reversed(PERSONAS):
        if statuses[persona].startswith("2"):
            return persona
    raise AssertionError(f"no persona succeeds at {operation}")


@pytest.mark.parametrize(
    "operation",
    WRITES,
)
def test_every_api_write_is_audited_with_its_actor(world, operation):
    persona = succeeding_persona(operation)
    actor = world[persona]
    method, path = operation.split(" ", 1)
    before = audit_entries_by(actor)
    response = send_request(
        client_as(world, persona), method, api_url(world, path), api_bodies(world).get(operation)
    )
    assert response.status_code < 300, response.content[:300]
    TALLY["audited_writes"] += 1
    if operation in UNAUDITED:
        assert audit_entries_by(actor) == before
    else:
        assert audit_entries_by(actor) > before, f"{operation} by {persona} left no audit entry"


def test_bulk_writes_are_one_import_batch(world):
    sla = world["slas"]
    rows = [
        {
            "sla": sla.pk,
            "period_start": f"2026-0{month}-01",
            "period_end": f"2026-0{month}-28",
            "value": "99",
        }
        for month in range(4, 10)
    ]
    response = client_as(world, "provider_manager").post(
        "/api/v1/measurements/bulk/", {"rows": rows}, format="json"
    )
    assert response.status_code == 201
    batch = ImportBatch.objects.get(pk=response.json()["import_batch"])
    assert batch.actor == world["provider_manager"]
    assert batch.measurements.count() == len(rows)
