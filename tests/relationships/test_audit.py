"""Audit trail: who changed what and when, per row; bulk imports as one ImportBatch."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from relationships.measurements import MeasurementRow, measurements_import
from relationships.models import SLA, ImportBatch, KeyContact, Measurement
from tests.factories import PASSWORD, SLAFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    return UserFactory(username="operator", is_staff=True, is_superuser=True)


def test_a_create_through_the_admin_records_the_request_user(client, operator, engagement):
    client.login(username=operator.username, password=PASSWORD)
    response = client.post(
        "/admin/relationships/keycontact/add/",
        {
            "engagement": engagement.pk,
            "side": "client",
            "name": "Ada Lovelace",
            "email": "ada@client.example",
            "role": "executive_sponsor",
            "start_date": "2026-01-01",
        },
    )
    assert response.status_code == 302, response.content
    entry = KeyContact.history.get(name="Ada Lovelace")
    assert entry.history_type == "+"
    assert entry.history_user == operator
    assert timezone.now() - entry.history_date < timedelta(minutes=1)


def test_an_update_records_actor_time_and_changed_fields(engagement, provider_manager):
    sla = SLAFactory(engagement=engagement, target=Decimal("99.5"), weight=Decimal("1"))
    sla.target = Decimal("99.9")
    sla.weight = Decimal("2")
    sla._history_user = provider_manager
    sla.save()

    latest, created = sla.history.all()[:2]
    delta = latest.diff_against(created)
    assert latest.history_type == "~"
    assert latest.history_user == provider_manager
    assert latest.history_date >= created.history_date
    assert sorted(delta.changed_fields) == ["target", "weight"]
    changes = {change.field: (change.old, change.new) for change in delta.changes}
    assert changes["target"] == (Decimal("99.5"), Decimal("99.9"))


def test_a_delete_is_recorded_with_the_actor(engagement, client_admin):
    sla = SLAFactory(engagement=engagement, name="Approvals within 2 days")
    pk = sla.pk
    sla._history_user = client_admin
    sla.delete()

    assert not SLA.objects.filter(pk=pk).exists()
    entry = SLA.history.filter(id=pk).latest("history_date")
    assert (entry.history_type, entry.history_user, entry.name) == (
        "-",
        client_admin,
        "Approvals within 2 days",
    )


def _import(sla, actor, months, value):
    rows = [
        MeasurementRow(sla.pk, date(2026, month, 1), date(2026, month, 28), Decimal(value))
        for month in months
    ]
    return measurements_import(rows=rows, actor=actor, source="api")


def _import_queries(sla, actor, months, value):
    with CaptureQueriesContext(connection) as queries:
        _import(sla, actor, months, value)
    return [query["sql"] for query in queries.captured_queries]


def test_a_bulk_import_is_audited_as_one_batch_without_per_row_queries(
    engagement, provider_manager
):
    small_sla = SLAFactory(engagement=engagement)
    large_sla = SLAFactory(engagement=engagement)

    small = _import_queries(small_sla, provider_manager, range(1, 3), "99")
    large = _import_queries(large_sla, provider_manager, range(1, 13), "99")

    assert len(large) == len(small)
    assert not any("historical" in sql.lower() for sql in large)
    batch = ImportBatch.objects.latest("pk")
    assert (batch.actor, batch.source, batch.row_count, batch.created_count) == (
        provider_manager,
        "api",
        12,
        12,
    )
    batches = Measurement.objects.filter(sla=large_sla).values_list("import_batch", flat=True)
    assert set(batches) == {batch.pk}


def test_a_bulk_correction_is_one_more_batch_with_counts(engagement, provider_manager):
    sla = SLAFactory(engagement=engagement)
    _import(sla, provider_manager, range(1, 5), "99")
    result = _import(sla, provider_manager, range(3, 7), "98")

    assert ImportBatch.objects.count() == 2
    assert (result.created, result.corrected, result.unchanged) == (2, 2, 0)
    assert (result.batch.created_count, result.batch.corrected_count) == (2, 2)
    assert Measurement.objects.filter(sla=sla).count() == 8
    assert Measurement.objects.current().filter(sla=sla).count() == 6
