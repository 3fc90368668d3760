"""Bulk import at scale: constant SQL whatever the batch size, exact (SLA, period) matching,
and imports of the same values at the same time (PostgreSQL).

Speed itself is measured by benchmarks/ (run.py, ingest_parts.py), never here.
"""

import gc
import threading
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal

import orjson
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from relationships import bulk_api, measurements
from relationships.measurements import MeasurementRow, measurements_import
from relationships.models import ImportBatch, Measurement
from tests.factories import SLAFactory

BULK = "/api/v1/measurements/bulk/"
DAY = date(2026, 3, 2)
FIRST_DAY = date(2023, 1, 2)  # 10,000 rows of 10 SLAs span 1,000 days, all in the past
# available_apps makes the flush after each test TRUNCATE ... CASCADE (see tests/scorecards).
transactional = pytest.mark.django_db(transaction=True, available_apps=settings.INSTALLED_APPS)


@pytest.fixture
def slas(engagement):
    return [SLAFactory(engagement=engagement, name=f"SLA {n}") for n in range(10)]


def payload(slas, count, value="99.5", first_day=0):
    """count rows: every SLA on one day, then every SLA on the next, and so on."""
    days = [FIRST_DAY + timedelta(days=first_day + i // len(slas)) for i in range(count)]
    return orjson.dumps(
        [
            {
                "sla": slas[i % len(slas)].pk,
                "period_start": str(day),
                "period_end": str(day),
                "value": value,
                "source": "monitoring",
            }
            for i, day in enumerate(days)
        ]  # fmt: skip
    )


def post(client, body):
    return client.post(BULK, body, content_type="application/json")


@contextmanager
def statements():
    """(SQL, number of parameters) of each statement sent meanwhile."""
    sent = []

    def record(execute, sql, params, many, context):
        sent.append((sql, len(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield sent


@pytest.mark.parametrize("recorded", [None, "95", "90"], ids=["new", "unchanged", "corrected"])
def test_statements_and_their_parameters_do_not_grow_with_the_batch(
    require_postgres, api, provider_manager, slas, recorded
):
    """Arrays, not one parameter per row: 10,000 literals cost more to send and plan. No
    statement fails either (PostgreSQL would log it, with its 10,000 values)."""
    client = api(provider_manager)
    outcome = {None: "created", "95": "unchanged", "90": "corrected"}[recorded]
    shapes = []
    for size, first_day in ((100, 0), (10_000, 10)):
        if recorded:
            assert post(client, payload(slas, size, recorded, first_day)).status_code == 201
        with statements() as sent:
            response = post(client, payload(slas, size, "95", first_day))
        assert response.status_code == 201, response.json()
        assert response.json()[outcome] == size
        assert not [sql for sql, _ in sent if sql.startswith("ROLLBACK")]
        shapes.append((len(sent), max(count for _, count in sent)))
    assert shapes[0] == shapes[1]


def test_only_the_batchs_own_sla_and_period_pairs_count_as_existing(api, provider_manager, slas):
    first, second = slas[:2]
    client = api(provider_manager)
    rows = [
        {"sla": first.pk, "period_start": "2026-03-02", "period_end": "2026-03-02", "value": "1"},
        {"sla": second.pk, "period_start": "2026-03-03", "period_end": "2026-03-03", "value": "2"},
    ]
    assert post(client, orjson.dumps(rows)).status_code == 201
    crossed = [
        {"sla": first.pk, "period_start": "2026-03-03", "period_end": "2026-03-03", "value": "3"},
        {"sla": second.pk, "period_start": "2026-03-02", "period_end": "2026-03-02", "value": "4"},
        {"sla": first.pk, "period_start": "2026-03-02", "period_end": "2026-03-02", "value": "1"},
        {"sla": second.pk, "period_start": "2026-03-03", "period_end": "2026-03-03", "value": "5"},
    ]
    body = post(client, orjson.dumps(crossed)).json()
    assert (body["created"], body["corrected"], body["unchanged"]) == (2, 1, 1)
    batch = ImportBatch.objects.get(pk=body["import_batch"])
    assert (batch.created_count, batch.corrected_count, batch.unchanged_count) == (2, 1, 1)
    current = Measurement.objects.current().order_by("sla_id", "period_start")
    assert [(m.sla_id, str(m.period_start), m.value) for m in current] == [
        (first.pk, "2026-03-02", 1),
        (first.pk, "2026-03-03", 3),
        (second.pk, "2026-03-02", 4),
        (second.pk, "2026-03-03", 5),
    ]
    corrected = Measurement.objects.get(sla=second, period_start="2026-03-03", value=5)
    assert corrected.supersedes.value == 2 and corrected.supersedes.superseded_at is not None


def test_the_collector_pauses_for_a_batch_and_runs_again_after_it(
    api, provider_manager, slas, monkeypatch
):
    """Cyclic garbage collection waits while a batch is imported (see bulk_api)."""
    collecting = []

    def record(**kwargs):
        collecting.append(gc.isenabled())
        return measurements_import(**kwargs)

    monkeypatch.setattr(bulk_api, "measurements_import", record)
    client = api(provider_manager)
    assert post(client, payload(slas, 20)).status_code == 201
    assert collecting == [False] and gc.isenabled()
    assert post(client, b'{"rows": [{"sla": "one"}]}').status_code == 400
    assert gc.isenabled()


# ---------------------------------------------------------------- at the same time
def row(sla, value, day=DAY):
    return MeasurementRow(sla.pk, day, day, Decimal(value), "")


def wait_for_a_lock_wait(timeout=10.0):
    """Until a session of this database waits for a row or index entry another holds."""
    with connection.cursor() as cursor:
        for _ in range(int(timeout / 0.05)):
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # else one view per transaction
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            threading.Event().wait(0.05)
    raise AssertionError("no session waited for a lock")


def in_thread(target, *args, name=None):
    outcome = {}

    def run():
        try:
            outcome["result"] = target(*args)
        except Exception as exc:  # reported by the caller: a thread's exception is otherwise lost
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread, outcome


def import_and_hold(rows, user, imported: threading.Event, release: threading.Event):
    """Import the rows, then keep the transaction open until released."""
    with transaction.atomic():
        measurements_import(rows=rows, actor=user, source="first")
        imported.set()
        release.wait(timeout=10)


@transactional
def test_a_value_recorded_meanwhile_for_a_new_period_is_corrected_not_refused(
    require_postgres, engagement, provider_manager
):
    sla = SLAFactory(engagement=engagement)
    imported, release = threading.Event(), threading.Event()
    first, first_outcome = in_thread(
        import_and_hold, [row(sla, "1")], provider_manager, imported, release
    )
    assert imported.wait(timeout=10)
    second, second_outcome = in_thread(
        lambda: measurements_import(rows=[row(sla, "2")], actor=provider_manager, source="second")
    )
    wait_for_a_lock_wait()  # the second import waits for the first one's uncommitted value
    release.set()
    first.join(timeout=10)
    second.join(timeout=10)

    assert "error" not in first_outcome and "error" not in second_outcome, second_outcome
    result = second_outcome["result"]
    assert (result.created, result.corrected, result.unchanged) == (0, 1, 0)
    current = Measurement.objects.current().get(sla=sla)
    assert current.value == 2 and current.supersedes.value == 1


@transactional
def test_corrections_of_other_periods_of_one_sla_do_not_wait_for_each_other(
    require_postgres, engagement, provider_manager
):
    """Reading the values to correct locks those values, not their SLA."""
    sla = SLAFactory(engagement=engagement)
    later = DAY + timedelta(days=1)
    measurements_import(
        rows=[row(sla, "1"), row(sla, "1", later)], actor=provider_manager, source="setup"
    )
    imported, release = threading.Event(), threading.Event()
    first, first_outcome = in_thread(
        import_and_hold, [row(sla, "2")], provider_manager, imported, release
    )
    assert imported.wait(timeout=10)
    second, second_outcome = in_thread(
        lambda: measurements_import(
            rows=[row(sla, "3", later)], actor=provider_manager, source="second"
        )
    )
    second.join(timeout=5)
    finished_meanwhile = not second.is_alive()
    release.set()
    first.join(timeout=10)
    second.join(timeout=10)

    assert finished_meanwhile
    assert "error" not in first_outcome and "error" not in second_outcome, second_outcome
    assert second_outcome["result"].corrected == 1
    assert Measurement.objects.current().get(sla=sla, period_start=later).value == 3


@transactional
def test_a_value_superseded_between_insert_and_read_asks_for_a_retry(
    require_postgres, engagement, provider_manager, monkeypatch
):
    """The second import skips the pair (it has a value), then another import corrects
    that value before the second one reads it: nothing of the second batch is written."""
    sla = SLAFactory(engagement=engagement)
    measurements_import(rows=[row(sla, "1")], actor=provider_manager, source="setup")
    inserted, corrected = threading.Event(), threading.Event()
    read = measurements._current_values

    def read_after_the_correction(*args, **kwargs):
        if threading.current_thread().name == "second":
            inserted.set()
            corrected.wait(timeout=10)
        return read(*args, **kwargs)

    monkeypatch.setattr(measurements, "_current_values", read_after_the_correction)
    second, outcome = in_thread(
        lambda: measurements_import(rows=[row(sla, "3")], actor=provider_manager, source="second"),
        name="second",
    )
    assert inserted.wait(timeout=10)
    with transaction.atomic():
        measurements_import(rows=[row(sla, "2")], actor=provider_manager, source="first")
        corrected.set()
        wait_for_a_lock_wait()  # the second import's read waits for the corrected row
    second.join(timeout=10)

    assert isinstance(outcome.get("error"), ValidationError), outcome
    assert "retry" in str(outcome["error"].message_dict["rows"])
    assert Measurement.objects.current().get(sla=sla).value == 2
    assert not ImportBatch.objects.filter(source="second").exists()
